//! A business's standing — quality rating, messaging limit tier and the unique
//! customers it reached outside a service window in the last 24 h — computed from
//! the store and cached for a few seconds per business, so a burst of template
//! sends costs one count query, not one per message. On one node the 24-hour count
//! is exact (sends increment it); across nodes each node's copy lags by at most the
//! cache age, so a cluster may overshoot a tier by what it sends in that time.

use switchboard_business::policy::{self, Quality, Tier};
use switchboard_store::{Business, StoreError};

use super::cache::TtlCache;
use crate::state::SharedState;

const FRESH_MS: i64 = 5_000;
const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy)]
pub struct Standing {
    pub tier: Tier,
    pub quality: Quality,
    pub reached_24h: u64,
    pub reached_7d: u64,
    pub blocks_7d: u64,
    pub reports_7d: u64,
}

/// A business's standing from its counts: quality from the last 7 days' feedback,
/// the tier the admin set or else the one policy gives for the days before today.
pub fn assess(
    b: &Business,
    reached_24h: u64,
    reached_7d: u64,
    blocks_7d: u64,
    reports_7d: u64,
) -> Standing {
    let quality = policy::quality(blocks_7d, reports_7d, reached_7d);
    let tier = b
        .messaging_tier
        .as_deref()
        .and_then(Tier::from_graph)
        .unwrap_or_else(|| {
            policy::tier(
                b.verification == "verified",
                quality,
                reached_7d.saturating_sub(reached_24h),
            )
        });
    Standing {
        tier,
        quality,
        reached_24h,
        reached_7d,
        blocks_7d,
        reports_7d,
    }
}

pub struct ReachCache {
    inner: TtlCache<String, Standing>,
}

impl Default for ReachCache {
    fn default() -> Self {
        ReachCache {
            inner: TtlCache::new(FRESH_MS, 1_000_000),
        }
    }
}

impl ReachCache {
    pub async fn standing(
        &self,
        state: &SharedState,
        b: &Business,
        now: i64,
    ) -> Result<Standing, StoreError> {
        if let Some(s) = self.inner.get(&b.waba_id, now) {
            return Ok(s);
        }
        let reached_24h = state
            .business
            .reached_since(&b.waba_id, now - policy::SERVICE_WINDOW_MS)
            .await?;
        let reached_7d = state
            .business
            .reached_since(&b.waba_id, now - WEEK_MS)
            .await?;
        let (blocks, reports) = state
            .business
            .feedback_since(&b.waba_id, now - WEEK_MS)
            .await?;
        let s = assess(b, reached_24h, reached_7d, blocks, reports);
        self.inner.put(b.waba_id.clone(), s, now);
        Ok(s)
    }

    /// A new customer was reached outside a window.
    pub fn counted(&self, waba_id: &str, _customer: &str) {
        self.inner.update(&waba_id.to_owned(), |s| {
            s.reached_24h += 1;
            s.reached_7d += 1;
        });
    }

    /// Drops the cached standing (verification or feedback changed).
    pub fn forget(&self, waba_id: &str) {
        self.inner.remove(&waba_id.to_owned());
    }
}
