//! The app worker: one per business, holding a lease (`app:{waba_id}`) so exactly
//! one node runs it. It follows the business user's stream with its own cursor and
//! hands each entry, as an [`Event`], to the features that react to traffic:
//! automation (greeting and away messages), the team inbox (conversation state,
//! assignment) and statistics. Between windows it lets the features run what is due
//! at the current time ([`tick`]: snoozes ending, scheduled sends).
//!
//! **Exactly-once effects from at-least-once processing.** The cursor moves only
//! after a window's effects are done. The window's statistics are written in the same
//! atomic batch as the cursor, so counts are never lost or doubled. Messages the
//! hooks send use a `client_id` derived from the triggering entry, so a window
//! replayed after a crash stores them once. State records the hooks keep (per
//! conversation, per customer) remember the last `seq` they applied and skip
//! repeats.

use std::collections::BTreeMap;
use std::time::Duration;

use switchboard_app::kinds;
use switchboard_store::{
    Business, Expect, InboxEntry, RecordWrite, StoreError, StoredMessage, StoredReceipt,
};

use super::{AGENT_DEVICE_PREFIX, AUTO_DEVICE, BROADCAST_DEVICE, COMMERCE_DEVICE, customer_of};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// Stream entries per window.
const WINDOW: usize = 256;
/// How long a worker's lease lasts; renewed every pass.
const LEASE_MS: i64 = 15_000;
/// How often an idle worker looks for due work.
const TICK: Duration = Duration::from_millis(250);

/// Who sent a business message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender<'a> {
    /// A team member, from the app (`agent:{user_id}`).
    Agent(&'a str),
    /// A greeting or away message.
    Automation,
    /// A broadcast or scheduled send.
    Broadcast,
    /// An order status or catalog message.
    Commerce,
    /// The Cloud API.
    Api,
    /// One of the business user's own devices (the owner's phone).
    Device(&'a str),
}

impl<'a> Sender<'a> {
    pub fn of(device: &'a str) -> Sender<'a> {
        if let Some(agent) = device.strip_prefix(AGENT_DEVICE_PREFIX) {
            return Sender::Agent(agent);
        }
        match device {
            AUTO_DEVICE => Sender::Automation,
            BROADCAST_DEVICE => Sender::Broadcast,
            COMMERCE_DEVICE => Sender::Commerce,
            crate::cloud::messages::API_DEVICE => Sender::Api,
            other => Sender::Device(other),
        }
    }

    /// A person answered (an agent or the owner's device), as opposed to a machine.
    pub fn is_human(&self) -> bool {
        matches!(self, Sender::Agent(_) | Sender::Device(_))
    }
}

/// One entry of the business's stream, as the features see it.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A customer wrote to the business.
    Inbound {
        msg: &'a StoredMessage,
        customer: &'a str,
    },
    /// The business wrote to a customer.
    Outbound {
        msg: &'a StoredMessage,
        customer: &'a str,
        by: Sender<'a>,
    },
    /// A customer's device received or read the business's messages up to a seq.
    Receipt {
        receipt: &'a StoredReceipt,
        customer: &'a str,
    },
}

/// What a pass knows and collects.
pub struct Pass<'a> {
    pub state: &'a SharedState,
    pub business: &'a Business,
    /// The time of this pass (the server clock, injectable in tests).
    pub now: i64,
    /// The business's time zone (IANA name) for local days, if it set one.
    pub time_zone: Option<String>,
    /// Statistics counted in this window: local day → metric → amount.
    stats: BTreeMap<String, BTreeMap<String, i64>>,
}

impl Pass<'_> {
    /// Adds `n` to `metric` of the local day of `ts`; written with the cursor.
    pub fn count(&mut self, ts: i64, metric: &str, n: i64) {
        let day = switchboard_app::hours::local_date(self.time_zone.as_deref(), ts);
        *self
            .stats
            .entry(day)
            .or_default()
            .entry(metric.to_owned())
            .or_insert(0) += n;
    }
}

/// The app workers' lease and timing (`crate::leased`).
pub fn workers() -> crate::leased::Workers {
    crate::leased::Workers::new("app", LEASE_MS, TICK, |failures| {
        Duration::from_millis(250u64 << failures.min(7))
    })
}

/// Starts the supervisor: one leased worker per business.
pub fn spawn(state: SharedState) -> tokio::task::JoinHandle<()> {
    crate::leased::spawn(
        state,
        |s| &s.app_workers,
        |state, waba_id, _lease| async move { pass(&state, &waba_id).await },
    )
}

/// The worker's cursor record.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Cursor {
    inbox_seq: u64,
}

/// One window of the stream, then what is due. `Ok(true)` if any entry was consumed.
async fn pass(state: &SharedState, waba_id: &str) -> ApiResult<bool> {
    let Some(business) = state.business.business(waba_id).await? else {
        return Ok(false);
    };
    let (cursor, cursor_version) =
        match super::load::<Cursor>(state, waba_id, kinds::CURSOR, kinds::WORKER_CURSOR).await? {
            Some((c, v)) => (c, Some(v)),
            None => (Cursor::default(), None),
        };
    let time_zone = super::automation::time_zone(state, &business).await?;
    let mut pass = Pass {
        state,
        business: &business,
        now: state.now(),
        time_zone,
        stats: BTreeMap::new(),
    };
    let items = state
        .store
        .inbox(&business.user_id, cursor.inbox_seq, WINDOW)
        .await?;
    let mut next = cursor.inbox_seq;
    for item in &items {
        match &item.entry {
            InboxEntry::Message(m) => {
                if let Some(customer) = customer_of(&m.chat_id, &business.user_id) {
                    let ev = if m.sender == business.user_id {
                        Event::Outbound {
                            msg: m,
                            customer: &customer,
                            by: Sender::of(&m.sender_device),
                        }
                    } else {
                        Event::Inbound {
                            msg: m,
                            customer: &customer,
                        }
                    };
                    dispatch(&mut pass, &ev).await?;
                }
            }
            InboxEntry::Receipt(r) => {
                if let Some(customer) = customer_of(&r.chat_id, &business.user_id)
                    && r.user_id == customer
                {
                    dispatch(
                        &mut pass,
                        &Event::Receipt {
                            receipt: r,
                            customer: &customer,
                        },
                    )
                    .await?;
                }
            }
        }
        next = item.inbox_seq;
    }
    if next != cursor.inbox_seq {
        let stats = std::mem::take(&mut pass.stats);
        commit(state, waba_id, next, cursor_version, stats).await?;
    }
    tick(&mut pass).await?;
    Ok(!items.is_empty())
}

async fn dispatch(pass: &mut Pass<'_>, ev: &Event<'_>) -> ApiResult<()> {
    super::stats::on_event(pass, ev).await?;
    super::inbox::on_event(pass, ev).await?;
    super::automation::on_event(pass, ev).await?;
    Ok(())
}

/// What is due now, after the window.
async fn tick(pass: &mut Pass<'_>) -> ApiResult<()> {
    super::inbox::tick(pass).await?;
    super::broadcasts::tick(pass).await?;
    Ok(())
}

/// Writes the window's statistics and the new cursor in one atomic batch. A
/// concurrent statistics write (an API action) makes it re-read and retry; a moved
/// cursor means the lease was lost, and the window is left to the new holder.
async fn commit(
    state: &SharedState,
    waba_id: &str,
    next: u64,
    cursor_version: Option<u64>,
    stats: BTreeMap<String, BTreeMap<String, i64>>,
) -> ApiResult<()> {
    let cursor_value = super::to_value(&Cursor { inbox_seq: next })?;
    for _ in 0..16 {
        let mut writes = Vec::with_capacity(stats.len() + 1);
        for (day, deltas) in &stats {
            let current = state.business.record(waba_id, kinds::STATS, day).await?;
            let (mut counters, expect): (BTreeMap<String, i64>, Expect) = match current {
                Some(r) => (
                    super::parse(kinds::STATS, &r.value)?,
                    Expect::Version(r.version),
                ),
                None => (BTreeMap::new(), Expect::Absent),
            };
            for (metric, n) in deltas {
                *counters.entry(metric.clone()).or_insert(0) += n;
            }
            writes.push(RecordWrite::put(
                waba_id,
                kinds::STATS,
                day,
                super::to_value(&counters)?,
                expect,
            ));
        }
        writes.push(RecordWrite::put(
            waba_id,
            kinds::CURSOR,
            kinds::WORKER_CURSOR,
            cursor_value.clone(),
            cursor_version.map_or(Expect::Absent, Expect::Version),
        ));
        match state.business.apply_records(&writes, state.now()).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => {
                let now_cursor = state
                    .business
                    .record(waba_id, kinds::CURSOR, kinds::WORKER_CURSOR)
                    .await?;
                if now_cursor.map(|r| r.version) != cursor_version {
                    return Err(ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "conflict",
                        "app worker: cursor moved by another node",
                    ));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "conflict",
        "app worker: statistics kept changing",
    ))
}

/// Adds to a day's statistics outside the worker (an API action such as resolving a
/// conversation), under optimistic concurrency.
pub async fn count_now(
    state: &SharedState,
    waba_id: &str,
    time_zone: Option<&str>,
    ts: i64,
    metric: &str,
    n: i64,
) -> ApiResult<()> {
    let day = switchboard_app::hours::local_date(time_zone, ts);
    super::update::<BTreeMap<String, i64>, _>(state, waba_id, kinds::STATS, &day, |cur| {
        let mut c = cur.unwrap_or_default();
        *c.entry(metric.to_owned()).or_insert(0) += n;
        Ok(Some(c))
    })
    .await?;
    Ok(())
}
