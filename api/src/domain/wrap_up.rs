//! Wrap-up rules: how long a submitted wrap-up may be corrected.

use chrono::{DateTime, Duration, Utc};

/// The default edit window.
pub const EDIT_WINDOW: Duration = Duration::minutes(5);

/// Whether a wrap-up submitted at `submitted` may still be corrected at
/// `now`; `Err` says when the window closed.
pub fn correction_open(
    submitted: DateTime<Utc>,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(), DateTime<Utc>> {
    let closes = submitted + window;
    if now > closes { Err(closes) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_includes_its_last_instant_and_nothing_after() {
        let t0: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().expect("time");
        assert_eq!(correction_open(t0, t0, EDIT_WINDOW), Ok(()));
        assert_eq!(correction_open(t0, t0 + EDIT_WINDOW, EDIT_WINDOW), Ok(()));
        assert_eq!(
            correction_open(t0, t0 + EDIT_WINDOW + Duration::seconds(1), EDIT_WINDOW),
            Err(t0 + EDIT_WINDOW)
        );
    }
}
