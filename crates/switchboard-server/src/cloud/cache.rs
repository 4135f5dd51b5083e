//! Small time-bounded caches for the business API's hot path: a template send asks
//! the same questions again and again (does this customer exist, is this template
//! approved, did the customer block the business), and each answer from the store
//! costs a round trip to a blocking thread. Entries live for a few seconds and are
//! dropped at once when this node changes the underlying record; another node's
//! change is seen after at most the entry's age (documented per use).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use crate::state::lock;

/// A map whose entries expire `ttl_ms` after insertion. Bounded: when full, it is
/// cleared (the hot set refills in one round of lookups; no LRU bookkeeping on
/// every hit).
pub struct TtlCache<K, V> {
    ttl_ms: i64,
    capacity: usize,
    map: Mutex<HashMap<K, (i64, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl_ms: i64, capacity: usize) -> Self {
        TtlCache {
            ttl_ms,
            capacity,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K, now: i64) -> Option<V> {
        let map = lock(&self.map);
        match map.get(key) {
            Some((at, v)) if now - at < self.ttl_ms => Some(v.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: K, value: V, now: i64) {
        let mut map = lock(&self.map);
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key, (now, value));
    }

    /// Changes a live entry in place (keeping its age); nothing if there is none.
    pub fn update(&self, key: &K, f: impl FnOnce(&mut V)) {
        if let Some((_, v)) = lock(&self.map).get_mut(key) {
            f(v);
        }
    }

    pub fn remove(&self, key: &K) {
        lock(&self.map).remove(key);
    }
}

/// The business API's caches, one set per server.
pub struct Caches {
    /// Users that exist (users are never deleted, so only positive answers are kept).
    pub users: TtlCache<String, ()>,
    /// Chats that exist (never deleted either).
    pub chats: TtlCache<String, ()>,
    /// `(waba_id, name, language)` → template; 2 s, dropped on local edits and reviews.
    pub templates: TtlCache<(String, String, String), Option<switchboard_store::Template>>,
    /// `(waba_id, customer)` → flags; 2 s, dropped when this node changes them.
    pub flags: TtlCache<(String, String), switchboard_store::CustomerFlags>,
    /// `(waba_id, customer)` → when the business last reached the customer outside a
    /// window (positive answers only: valid for 24 h from that time).
    pub reached: TtlCache<(String, String), i64>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            users: TtlCache::new(10 * 60_000, 1_000_000),
            chats: TtlCache::new(10 * 60_000, 1_000_000),
            templates: TtlCache::new(2_000, 100_000),
            flags: TtlCache::new(2_000, 1_000_000),
            reached: TtlCache::new(switchboard_business::policy::SERVICE_WINDOW_MS, 1_000_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_capacity_bounds_memory() {
        let c: TtlCache<u32, &str> = TtlCache::new(100, 2);
        c.put(1, "a", 0);
        assert_eq!(c.get(&1, 99), Some("a"));
        assert_eq!(c.get(&1, 100), None);
        c.put(2, "b", 0);
        c.put(3, "c", 0);
        assert!(
            c.get(&1, 0).is_none() || c.get(&2, 0).is_none(),
            "cleared when full"
        );
        assert_eq!(c.get(&3, 0), Some("c"));
        c.remove(&3);
        assert_eq!(c.get(&3, 0), None);
    }
}
