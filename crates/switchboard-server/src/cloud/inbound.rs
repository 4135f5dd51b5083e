//! When each customer last wrote to each business, kept in memory so a send need not
//! read the chat's history to decide the 24-hour service window.
//!
//! Fed by the fan-out, which sees every committed message: a message whose recipient
//! is a business (and not its sender) is an inbound message. An entry is created by
//! the first history read for a pair and kept current from then on. This is exact
//! only when one node commits everything (the embedded store); in a cluster another
//! node's commits never reach this node's fan-out, so the tracker is off there and
//! every send reads history. Between a commit and the fan-out there is a short lag;
//! a send that the tracker would refuse (free-form outside a window) is confirmed by
//! a history read first, so the lag can only affect a template's pricing, never
//! refuse a message that should pass.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::state::lock;

/// Pairs remembered; when full the map is cleared and refills from history reads.
const CAPACITY: usize = 2_000_000;

pub struct InboundTracker {
    enabled: bool,
    /// `(business user, customer)` → the customer's last message time, or `None`
    /// for "never, as of the history read".
    last: Mutex<HashMap<(String, String), Option<i64>>>,
}

impl InboundTracker {
    pub fn new(enabled: bool) -> Self {
        InboundTracker {
            enabled,
            last: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// What is known for the pair: `Some(last)` if tracked (`last` may be `None`).
    pub fn get(&self, business: &str, customer: &str) -> Option<Option<i64>> {
        if !self.enabled {
            return None;
        }
        lock(&self.last)
            .get(&(business.to_owned(), customer.to_owned()))
            .copied()
    }

    /// Records a history read's answer, keeping a newer time the fan-out saw meanwhile.
    pub fn learned(&self, business: &str, customer: &str, last: Option<i64>) {
        if !self.enabled {
            return;
        }
        let mut map = lock(&self.last);
        if map.len() >= CAPACITY {
            map.clear();
        }
        let e = map
            .entry((business.to_owned(), customer.to_owned()))
            .or_insert(last);
        *e = (*e).max(last);
    }

    /// A committed message from `customer` to `business` (called by the fan-out).
    /// Only pairs already tracked are updated: an untracked pair is read from
    /// history on its first send, which sees this message too.
    pub fn inbound(&self, business: &str, customer: &str, ts: i64) {
        if !self.enabled {
            return;
        }
        if let Some(e) = lock(&self.last).get_mut(&(business.to_owned(), customer.to_owned())) {
            *e = (*e).max(Some(ts));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_and_follows_inbound_messages() {
        let t = InboundTracker::new(true);
        assert_eq!(t.get("b", "c"), None);
        t.inbound("b", "c", 5);
        assert_eq!(
            t.get("b", "c"),
            None,
            "untracked pairs wait for a history read"
        );
        t.learned("b", "c", None);
        assert_eq!(t.get("b", "c"), Some(None));
        t.inbound("b", "c", 7);
        assert_eq!(t.get("b", "c"), Some(Some(7)));
        t.learned("b", "c", Some(3));
        assert_eq!(
            t.get("b", "c"),
            Some(Some(7)),
            "a stale read does not go back"
        );
        let off = InboundTracker::new(false);
        off.learned("b", "c", Some(1));
        assert_eq!(off.get("b", "c"), None);
    }
}
