//! The numbers this process's engines are calling, across its contact
//! centers. A center reads a number's history from the database after
//! its own writes are in, but another center's call to the same number
//! may still be on its way to its writer: the pre-dial check also asks
//! here, so two centers of one organization never call a number at once.
//! (Across instances, the database's rows are what each sees.)

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct Numbers {
    /// (organization, phone) → the live calls to it.
    calls: Mutex<HashMap<(String, String), Vec<String>>>,
}

impl Numbers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<String>>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A call to the number is live (from its creation to its end).
    pub(crate) fn begin(&self, organization_id: &str, phone: &str, call_id: &str) {
        self.lock()
            .entry((organization_id.to_owned(), phone.to_owned()))
            .or_default()
            .push(call_id.to_owned());
    }

    pub(crate) fn end(&self, organization_id: &str, phone: &str, call_id: &str) {
        let mut calls = self.lock();
        let key = (organization_id.to_owned(), phone.to_owned());
        if let Some(ids) = calls.get_mut(&key) {
            ids.retain(|c| c != call_id);
            if ids.is_empty() {
                calls.remove(&key);
            }
        }
    }

    /// Another live call (than `except`) is to the number.
    pub(crate) fn busy(&self, organization_id: &str, phone: &str, except: Option<&str>) -> bool {
        self.lock()
            .get(&(organization_id.to_owned(), phone.to_owned()))
            .is_some_and(|ids| ids.iter().any(|c| Some(c.as_str()) != except))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_busy_while_another_call_to_it_lives() {
        let n = Numbers::default();
        n.begin("org", "+1", "a");
        assert!(!n.busy("org", "+1", Some("a")), "its own call");
        assert!(n.busy("org", "+1", Some("b")));
        assert!(n.busy("org", "+1", None));
        assert!(!n.busy("other", "+1", None), "per organization");
        n.end("org", "+1", "a");
        assert!(!n.busy("org", "+1", None));
        assert!(n.calls.lock().expect("lock").is_empty());
    }
}
