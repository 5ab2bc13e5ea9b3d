//! Times for people: elapsed clocks, and moments shown in a given zone
//! (the lead's or the agent's own), through the browser's `Intl`.

use js_sys::{Date, Object, Reflect};
use wasm_bindgen::JsValue;

/// Milliseconds since the epoch of an RFC 3339 time (NaN-safe: `None`).
pub fn parse_ms(rfc3339: &str) -> Option<f64> {
    let ms = Date::parse(rfc3339);
    (!ms.is_nan()).then_some(ms)
}

pub fn now_ms() -> f64 {
    Date::now()
}

/// "0:07", "12:34", "1:02:03".
pub fn clock(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Whole seconds from `since` to now.
pub fn seconds_since(since: &str, now: f64) -> i64 {
    parse_ms(since).map_or(0, |t| ((now - t) / 1000.0).floor() as i64)
}

/// "Tue, Dec 3, 2:30 PM" in `zone` (the browser's own when `None`).
pub fn in_zone(ms: f64, zone: Option<&str>) -> String {
    let opts = Object::new();
    let set = |k: &str, v: &str| {
        let _ = Reflect::set(&opts, &JsValue::from_str(k), &JsValue::from_str(v));
    };
    set("weekday", "short");
    set("month", "short");
    set("day", "numeric");
    set("hour", "numeric");
    set("minute", "2-digit");
    if let Some(z) = zone {
        set("timeZone", z);
        set("timeZoneName", "short");
    }
    Date::new(&JsValue::from_f64(ms))
        .to_locale_string("en-US", &opts)
        .as_string()
        .unwrap_or_default()
}

/// A `datetime-local` input's value (the agent's own time) as an instant.
pub fn local_input_ms(value: &str) -> Option<f64> {
    if value.is_empty() {
        return None;
    }
    let ms = Date::new(&JsValue::from_str(value)).get_time();
    (!ms.is_nan()).then_some(ms)
}

/// RFC 3339 UTC for the API.
pub fn iso(ms: f64) -> String {
    Date::new(&JsValue::from_f64(ms))
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}
