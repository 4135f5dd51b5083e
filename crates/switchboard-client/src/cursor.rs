//! Tracking of the resume cursor: the highest *contiguous* `inbox_seq` processed.
//!
//! Frames carrying an `inbox_seq` (messages, receipts, and acks that occupy a position
//! in the user's stream) may reach the client slightly out of order (an ack travels on
//! a different path from the fan-out) and may repeat after a resync. Resuming from a
//! position past a gap would lose the frame in the gap, so the cursor only moves over
//! contiguous runs; positions seen beyond a gap wait in a small set until the gap fills.

use std::collections::BTreeSet;

/// How many positions beyond a gap are remembered before the gap is given up on
/// (bounded memory; a gap this long means the server will never fill it).
pub const MAX_PENDING: usize = 65_536;

/// The resume cursor of one stream, plus the positions seen beyond it.
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    /// Every position `<= contiguous` has been processed.
    contiguous: u64,
    /// Positions `> contiguous + 1` that were processed before the gap below them filled.
    ahead: BTreeSet<u64>,
}

impl Cursor {
    /// A cursor resuming after `after` (0 for a device that never synced).
    pub fn new(after: u64) -> Self {
        Cursor {
            contiguous: after,
            ahead: BTreeSet::new(),
        }
    }

    /// The value to send as `{"type":"sync","after":N}`.
    pub fn get(&self) -> u64 {
        self.contiguous
    }

    /// Whether `seq` was already processed (a duplicate to drop).
    pub fn seen(&self, seq: u64) -> bool {
        seq <= self.contiguous || self.ahead.contains(&seq)
    }

    /// Records that the frame at `seq` was processed. Returns `false` for a duplicate.
    pub fn observe(&mut self, seq: u64) -> bool {
        if self.seen(seq) {
            return false;
        }
        if seq == self.contiguous + 1 {
            self.contiguous = seq;
            self.drain_ahead();
        } else {
            self.ahead.insert(seq);
            if self.ahead.len() > MAX_PENDING {
                // Give up on the lowest gap: jump to the first position seen beyond it.
                if let Some(first) = self.ahead.pop_first() {
                    self.contiguous = first;
                    self.drain_ahead();
                }
            }
        }
        true
    }

    /// `synced {inbox_seq}`: the server has sent everything up to `inbox_seq`, so the
    /// cursor moves there (never backwards).
    pub fn synced(&mut self, inbox_seq: u64) {
        if inbox_seq > self.contiguous {
            self.contiguous = inbox_seq;
            self.ahead = self.ahead.split_off(&(inbox_seq + 1));
            self.drain_ahead();
        }
    }

    /// How many positions wait beyond a gap (for diagnostics).
    pub fn pending(&self) -> usize {
        self.ahead.len()
    }

    fn drain_ahead(&mut self) {
        while self.ahead.first() == Some(&(self.contiguous + 1)) {
            self.ahead.pop_first();
            self.contiguous += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `seqs` one by one and checks (accepted?, cursor after) at each step.
    fn check(start: u64, seqs: &[u64], expect: &[(bool, u64)]) {
        let mut c = Cursor::new(start);
        let got: Vec<(bool, u64)> = seqs
            .iter()
            .map(|&s| {
                let fresh = c.observe(s);
                (fresh, c.get())
            })
            .collect();
        assert_eq!(got, expect, "seqs {seqs:?} from {start}");
    }

    #[test]
    fn in_order() {
        check(0, &[1, 2, 3], &[(true, 1), (true, 2), (true, 3)]);
        check(10, &[11, 12], &[(true, 11), (true, 12)]);
    }

    #[test]
    fn duplicates_are_refused() {
        check(
            5,
            &[5, 3, 6, 6],
            &[(false, 5), (false, 5), (true, 6), (false, 6)],
        );
        // A duplicate of a position waiting beyond a gap is refused too.
        check(
            0,
            &[2, 2, 1, 2],
            &[(true, 0), (false, 0), (true, 2), (false, 2)],
        );
    }

    #[test]
    fn out_of_order_ack_waits_for_the_gap() {
        // The ack at 3 arrives before the messages at 1 and 2.
        check(
            0,
            &[3, 1, 2, 4],
            &[(true, 0), (true, 1), (true, 3), (true, 4)],
        );
        check(
            0,
            &[4, 3, 2, 1],
            &[(true, 0), (true, 0), (true, 0), (true, 4)],
        );
    }

    #[test]
    fn synced_jumps_and_keeps_what_lies_beyond() {
        let mut c = Cursor::new(0);
        assert!(c.observe(5));
        assert!(c.observe(7));
        c.synced(4);
        assert_eq!(c.get(), 5, "4 reached, then the waiting 5 follows");
        assert_eq!(c.pending(), 1);
        c.synced(3);
        assert_eq!(c.get(), 5, "never backwards");
        c.synced(9);
        assert_eq!((c.get(), c.pending()), (9, 0));
        assert!(!c.observe(8));
        assert!(c.observe(10));
        assert_eq!(c.get(), 10);
    }

    #[test]
    fn a_gap_that_never_fills_is_given_up_when_too_many_wait() {
        let mut c = Cursor::new(0);
        for s in 2..=(MAX_PENDING as u64 + 2) {
            c.observe(s);
        }
        assert_eq!(c.get(), MAX_PENDING as u64 + 2);
        assert_eq!(c.pending(), 0);
    }
}
