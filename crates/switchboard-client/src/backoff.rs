//! Capped exponential backoff with jitter, for reconnecting.
//!
//! The n-th retry waits `initial * 2^n`, capped at `max`, then scaled by a jitter factor
//! in `[0.5, 1.0]` so that many clients dropped at once do not return in lockstep. The
//! jitter source is a tiny seeded generator, so the schedule is deterministic in tests.

use std::time::Duration;

/// A reconnect schedule. Call [`Backoff::next_delay`] before each retry and
/// [`Backoff::reset`] once a connection succeeds.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    /// Retries since the last reset; the exponent.
    attempt: u32,
    /// State of the jitter generator (splitmix64); `None` disables jitter.
    jitter: Option<u64>,
}

impl Backoff {
    /// A schedule from `initial` doubling up to `max`, with jitter seeded from the clock.
    pub fn new(initial: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9);
        Backoff {
            initial,
            max,
            attempt: 0,
            jitter: Some(seed),
        }
    }

    /// The same schedule without jitter (exact delays; for tests and benchmarks).
    pub fn without_jitter(mut self) -> Self {
        self.jitter = None;
        self
    }

    /// The same schedule with jitter from a fixed seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.jitter = Some(seed);
        self
    }

    /// How many retries since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next retry; advances the schedule.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        let base = self.initial.saturating_mul(factor).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        match &mut self.jitter {
            None => base,
            Some(state) => {
                // splitmix64: good enough to spread reconnects, no dependency needed.
                *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = *state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
                base.mul_f64(0.5 + unit / 2.0)
            }
        }
    }

    /// Back to the initial delay (after a successful connection).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl Default for Backoff {
    /// 100 ms doubling up to 10 s.
    fn default() -> Self {
        Backoff::new(Duration::from_millis(100), Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(ms(100), ms(1000)).without_jitter();
        let got: Vec<_> = (0..6).map(|_| b.next_delay()).collect();
        assert_eq!(
            got,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert_eq!(b.next_delay(), ms(100));
    }

    #[test]
    fn many_attempts_do_not_overflow() {
        let mut b = Backoff::new(ms(100), Duration::from_secs(30)).without_jitter();
        for _ in 0..200 {
            assert!(b.next_delay() <= Duration::from_secs(30));
        }
    }

    #[test]
    fn jitter_stays_within_half_and_full_delay() {
        let mut b = Backoff::new(ms(100), ms(1600)).with_seed(42);
        let mut plain = Backoff::new(ms(100), ms(1600)).without_jitter();
        for _ in 0..50 {
            let (j, p) = (b.next_delay(), plain.next_delay());
            assert!(j >= p / 2 && j <= p, "{j:?} outside [{:?}, {p:?}]", p / 2);
        }
        // Deterministic for a given seed.
        let mut a = Backoff::new(ms(100), ms(1600)).with_seed(7);
        let mut c = Backoff::new(ms(100), ms(1600)).with_seed(7);
        assert_eq!(a.next_delay(), c.next_delay());
    }
}
