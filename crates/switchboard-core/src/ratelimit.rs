//! Fixed-window rate limits keyed by any string (a phone number, a client address).
//! Time is passed in, so the rules are testable without sleeping.

use std::collections::HashMap;

/// At most `max` events per `window_ms` per key.
#[derive(Debug)]
pub struct WindowLimiter {
    max: u32,
    window_ms: i64,
    /// key -> (window start, events in that window)
    counts: HashMap<String, (i64, u32)>,
    /// Bound on distinct keys tracked; expired entries are swept when it is reached,
    /// then, if it is still full, a tenth of the keys are forgotten (they start a
    /// fresh window). Failing open for a few keys under a flood of distinct keys is
    /// better than refusing every new key: a business writing to its 100,001st
    /// customer, or the next person registering, must not be turned away.
    max_keys: usize,
}

impl WindowLimiter {
    pub fn new(max: u32, window_ms: i64) -> Self {
        Self::with_max_keys(max, window_ms, 1_000_000)
    }

    /// A limiter that tracks at most `max_keys` distinct keys.
    pub fn with_max_keys(max: u32, window_ms: i64, max_keys: usize) -> Self {
        WindowLimiter {
            max,
            window_ms,
            counts: HashMap::new(),
            max_keys: max_keys.max(1),
        }
    }

    /// Records one event for `key` at `now_ms`; `false` means it is over the limit
    /// (and is not counted).
    pub fn allow(&mut self, key: &str, now_ms: i64) -> bool {
        if self.counts.len() >= self.max_keys && !self.counts.contains_key(key) {
            let window = self.window_ms;
            self.counts.retain(|_, (start, _)| now_ms - *start < window);
            if self.counts.len() >= self.max_keys {
                let drop: Vec<String> = self
                    .counts
                    .keys()
                    .take(self.max_keys.div_ceil(10))
                    .cloned()
                    .collect();
                for k in drop {
                    self.counts.remove(&k);
                }
            }
        }
        let entry = self.counts.entry(key.to_owned()).or_insert((now_ms, 0));
        if now_ms - entry.0 >= self.window_ms {
            *entry = (now_ms, 0);
        }
        if entry.1 >= self.max {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_resets() {
        let mut l = WindowLimiter::new(2, 1000);
        assert!(l.allow("a", 0));
        assert!(l.allow("a", 10));
        assert!(!l.allow("a", 20));
        assert!(l.allow("b", 20));
        assert!(l.allow("a", 1000));
    }

    #[test]
    fn a_flood_of_keys_never_locks_out_new_ones() {
        let mut l = WindowLimiter::with_max_keys(1, 1000, 10);
        for i in 0..10 {
            assert!(l.allow(&format!("k{i}"), 0));
        }
        // Full of live windows: a new key is still served (a tenth is forgotten).
        assert!(l.allow("new", 1));
        assert!(!l.allow("new", 2), "and then limited as usual");
        assert!(l.counts.len() <= 10);
    }
}
