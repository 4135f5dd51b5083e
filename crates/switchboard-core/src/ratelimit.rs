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
    /// Bound on distinct keys tracked; expired entries are swept when it is reached.
    max_keys: usize,
}

impl WindowLimiter {
    pub fn new(max: u32, window_ms: i64) -> Self {
        WindowLimiter {
            max,
            window_ms,
            counts: HashMap::new(),
            max_keys: 100_000,
        }
    }

    /// Records one event for `key` at `now_ms`; `false` means it is over the limit
    /// (and is not counted).
    pub fn allow(&mut self, key: &str, now_ms: i64) -> bool {
        if self.counts.len() >= self.max_keys && !self.counts.contains_key(key) {
            let window = self.window_ms;
            self.counts.retain(|_, (start, _)| now_ms - *start < window);
            if self.counts.len() >= self.max_keys {
                return false;
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
}
