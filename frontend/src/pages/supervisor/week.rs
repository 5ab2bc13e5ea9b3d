//! Calling hours per weekday, as typed in a form: a campaign's window and
//! the organization's own hours share this table.

use leptos::prelude::*;
use serde_json::{Value, json};

pub const DAYS: [(&str, &str); 7] = [
    ("MONDAY", "Mon"),
    ("TUESDAY", "Tue"),
    ("WEDNESDAY", "Wed"),
    ("THURSDAY", "Thu"),
    ("FRIDAY", "Fri"),
    ("SATURDAY", "Sat"),
    ("SUNDAY", "Sun"),
];

/// One day's hours as the API reads them.
#[derive(serde::Deserialize, Clone, Debug, PartialEq)]
pub struct DayHours {
    pub day: String,
    pub start: String,
    pub end: String,
}

/// Each day: open, from, until (a closed day keeps its hours as typed).
#[derive(Clone, Debug, PartialEq)]
pub struct Week {
    pub days: [bool; 7],
    pub starts: [String; 7],
    pub ends: [String; 7],
}

impl Default for Week {
    /// Every day 08:00–21:00.
    fn default() -> Self {
        Week {
            days: [true; 7],
            starts: std::array::from_fn(|_| "08:00".into()),
            ends: std::array::from_fn(|_| "21:00".into()),
        }
    }
}

impl Week {
    /// The week `hours` lists (days not listed closed).
    pub fn from_hours(hours: &[DayHours]) -> Week {
        let mut w = Week::default();
        for (i, (d, _)) in DAYS.iter().enumerate() {
            match hours.iter().find(|h| h.day == *d) {
                Some(h) => {
                    w.starts[i] = h.start.clone();
                    w.ends[i] = h.end.clone();
                }
                None => w.days[i] = false,
            }
        }
        w
    }

    /// The open days as API input: `[{day, start, end}]`.
    pub fn to_input(&self) -> Vec<Value> {
        DAYS.iter()
            .enumerate()
            .filter(|(i, _)| self.days[*i])
            .map(|(i, (d, _))| json!({"day": d, "start": self.starts[i], "end": self.ends[i]}))
            .collect()
    }
}

/// The table of a form's week: a row per day with its checkbox and times,
/// ids `{prefix}-day-N`, `{prefix}-start-N`, `{prefix}-end-N`.
pub fn week_table<F: Send + Sync + 'static>(
    prefix: &'static str,
    form: RwSignal<F>,
    week: fn(&F) -> &Week,
    week_mut: fn(&mut F) -> &mut Week,
) -> impl IntoView {
    view! {
        <table class="week-hours">
            <thead><tr><th>"Day"</th><th>"From"</th><th>"Until"</th></tr></thead>
            <tbody>
            {DAYS.iter().enumerate().map(|(i, (_, short))| view! {
                <tr>
                    <td><label><input type="checkbox" id=format!("{prefix}-day-{i}") prop:checked=move || form.with(|f| week(f).days[i])
                        on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| week_mut(f).days[i] = on); }/>{*short}</label></td>
                    <td><input type="time" id=format!("{prefix}-start-{i}") aria-label=format!("{short} from")
                        prop:disabled=move || form.with(|f| !week(f).days[i])
                        prop:value=move || form.with(|f| week(f).starts[i].clone())
                        on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| week_mut(f).starts[i] = v); }/></td>
                    <td><input type="time" id=format!("{prefix}-end-{i}") aria-label=format!("{short} until")
                        prop:disabled=move || form.with(|f| !week(f).days[i])
                        prop:value=move || form.with(|f| week(f).ends[i].clone())
                        on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| week_mut(f).ends[i] = v); }/></td>
                </tr>
            }).collect_view()}
            </tbody>
        </table>
    }
}
