//! Automatic persisted queries (Apollo's APQ): a client sends only a
//! query's SHA-256; the server answers `PersistedQueryNotFound` until the
//! client sends the query with its hash once, which registers it. The
//! registry is bounded (oldest out first) and holds only queries of a
//! modest size, so anonymous clients cannot grow it without end.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// How many queries are remembered.
pub const CAPACITY: usize = 1_000;
/// The largest query that is registered (larger ones run, unregistered).
pub const MAX_QUERY_BYTES: usize = 20_000;

#[derive(Default)]
pub struct PersistedQueries {
    inner: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    by_hash: HashMap<String, String>,
    order: VecDeque<String>,
}

/// What a request's query is, once APQ had its say.
#[derive(Debug, PartialEq, Eq)]
pub enum Persisted {
    Query(String),
    /// A hash only, not registered (yet).
    NotFound,
    /// The extension is malformed, or the hash is not the query's.
    Refused(String),
    /// Neither a query nor a hash.
    Missing,
}

impl PersistedQueries {
    pub const EXTENSION: &'static str = "persistedQuery";

    pub fn resolve(
        &self,
        query: Option<String>,
        extensions: Option<&Map<String, Value>>,
    ) -> Persisted {
        let Some(ext) = extensions.and_then(|e| e.get(Self::EXTENSION)) else {
            return query.map_or(Persisted::Missing, Persisted::Query);
        };
        let version = ext.get("version").and_then(Value::as_i64);
        let hash = ext.get("sha256Hash").and_then(Value::as_str);
        let (Some(1), Some(hash)) = (version, hash) else {
            return Persisted::Refused(
                "extensions.persistedQuery needs version 1 and a sha256Hash".into(),
            );
        };
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Persisted::Refused("sha256Hash must be 64 hexadecimal digits".into());
        }
        let mut reg = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match query {
            None => match reg.by_hash.get(&hash) {
                Some(q) => Persisted::Query(q.clone()),
                None => Persisted::NotFound,
            },
            Some(q) => {
                let actual = format!("{:x}", Sha256::digest(q.as_bytes()));
                if actual != hash {
                    return Persisted::Refused("provided sha does not match query".into());
                }
                if q.len() <= MAX_QUERY_BYTES && !reg.by_hash.contains_key(&hash) {
                    if reg.order.len() >= CAPACITY
                        && let Some(old) = reg.order.pop_front()
                    {
                        reg.by_hash.remove(&old);
                    }
                    reg.order.push_back(hash.clone());
                    reg.by_hash.insert(hash, q.clone());
                }
                Persisted::Query(q)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ext(hash: &str) -> Map<String, Value> {
        json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
            .as_object()
            .cloned()
            .expect("map")
    }

    #[test]
    fn a_hash_is_unknown_until_its_query_is_sent_once() {
        let apq = PersistedQueries::default();
        let q = "{ __typename }";
        let hash = format!("{:x}", Sha256::digest(q.as_bytes()));
        assert_eq!(apq.resolve(None, Some(&ext(&hash))), Persisted::NotFound);
        assert_eq!(
            apq.resolve(Some(q.into()), Some(&ext(&hash))),
            Persisted::Query(q.into())
        );
        assert_eq!(
            apq.resolve(None, Some(&ext(&hash))),
            Persisted::Query(q.into())
        );
        // A query that is not the hash's is refused, not registered.
        let other = format!("{:x}", Sha256::digest(b"{ me { id } }"));
        assert!(matches!(
            apq.resolve(Some(q.into()), Some(&ext(&other))),
            Persisted::Refused(_)
        ));
        assert_eq!(apq.resolve(None, Some(&ext(&other))), Persisted::NotFound);
        assert!(matches!(
            apq.resolve(None, Some(&ext("xyz"))),
            Persisted::Refused(_)
        ));
        assert_eq!(apq.resolve(None, None), Persisted::Missing);
    }

    #[test]
    fn the_registry_is_bounded() {
        let apq = PersistedQueries::default();
        let first = "{ a0: __typename }".to_owned();
        let first_hash = format!("{:x}", Sha256::digest(first.as_bytes()));
        for i in 0..=CAPACITY {
            let q = format!("{{ a{i}: __typename }}");
            let h = format!("{:x}", Sha256::digest(q.as_bytes()));
            apq.resolve(Some(q), Some(&ext(&h)));
        }
        assert_eq!(apq.inner.lock().expect("lock").by_hash.len(), CAPACITY);
        assert_eq!(
            apq.resolve(None, Some(&ext(&first_hash))),
            Persisted::NotFound
        );
    }
}
