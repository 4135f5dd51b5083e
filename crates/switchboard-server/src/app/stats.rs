//! Statistics: the worker hook that counts the business's traffic, and the report
//! (`GET /v1/biz/{waba_id}/stats`, `…/stats.csv`) over local days.
//!
//! Sent and received are counted per message. Delivered and read come as cumulative
//! receipts ("everything up to seq N"), so each customer has a watermark record
//! (kind `stats_progress`): a receipt counts the business's messages between the
//! old watermark and its `up_to_seq`, and a read receipt also counts as delivered
//! what was not yet. The watermark is written when the receipt is applied; counts
//! are written with the worker's cursor, so a crash between the two may lose a
//! receipt's counts but never doubles them.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use switchboard_app::Role;
use switchboard_app::hours::local_day;
use switchboard_app::kinds;
use switchboard_app::stats::{self, Counters, PROGRESS_KIND, Report, metric};
use switchboard_store::{Expect, ReceiptStatus, StoredReceipt};

use super::worker::{Event, Pass};
use super::{load, member, save};
use crate::admin::{UrlPath, UrlQuery};
use crate::auth::Authed;
use crate::error::{ApiJson, ApiResult};
use crate::state::SharedState;

/// History read per page while counting a receipt's messages.
const PAGE: usize = 500;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/biz/{waba_id}/stats", get(json_report))
        .route("/v1/biz/{waba_id}/stats.csv", get(csv_report))
}

/// Counts messages sent, delivered, read and received.
pub async fn on_event(pass: &mut Pass<'_>, ev: &Event<'_>) -> ApiResult<()> {
    match *ev {
        Event::Inbound { msg, .. } => pass.count(msg.ts, metric::RECEIVED, 1),
        Event::Outbound { msg, .. } => pass.count(msg.ts, metric::SENT, 1),
        Event::Receipt { receipt, customer } => return on_receipt(pass, receipt, customer).await,
    }
    Ok(())
}

/// How far a customer's receipts were counted (chat seqs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    delivered: u64,
    read: u64,
}

async fn on_receipt(pass: &mut Pass<'_>, r: &StoredReceipt, customer: &str) -> ApiResult<()> {
    let waba_id = &pass.business.waba_id;
    let old = load::<Progress>(pass.state, waba_id, PROGRESS_KIND, customer)
        .await?
        .map(|(p, _)| p)
        .unwrap_or_default();
    let mut new = old.clone();
    new.delivered = new.delivered.max(r.up_to_seq);
    if r.status == ReceiptStatus::Read {
        new.read = new.read.max(r.up_to_seq);
    }
    if new.delivered == old.delivered && new.read == old.read {
        return Ok(());
    }
    // Business messages in (lowest watermark, up_to_seq], newest first.
    let low = old.delivered.min(if r.status == ReceiptStatus::Read {
        old.read
    } else {
        old.delivered
    });
    let seqs = business_seqs(pass, &r.chat_id, low, r.up_to_seq).await?;
    let delivered = seqs.iter().filter(|s| **s > old.delivered).count();
    let read = seqs
        .iter()
        .filter(|s| **s > old.read && new.read > old.read)
        .count();
    pass.count(
        r.ts,
        metric::DELIVERED,
        i64::try_from(delivered).unwrap_or(0),
    );
    if read > 0 {
        pass.count(r.ts, metric::READ, i64::try_from(read).unwrap_or(0));
    }
    save(
        pass.state,
        waba_id,
        PROGRESS_KIND,
        customer,
        &new,
        Expect::Any,
    )
    .await?;
    Ok(())
}

/// The seqs of the business's messages in `(after, up_to]` of a chat.
async fn business_seqs(
    pass: &Pass<'_>,
    chat_id: &str,
    after: u64,
    up_to: u64,
) -> ApiResult<Vec<u64>> {
    let mut out = Vec::new();
    let mut before = up_to.saturating_add(1);
    while before > after.saturating_add(1) {
        let page = pass
            .state
            .store
            .history(chat_id, Some(before), PAGE)
            .await?;
        let Some(oldest) = page.last().map(|m| m.seq) else {
            break;
        };
        out.extend(
            page.iter()
                .filter(|m| m.seq > after && m.sender == pass.business.user_id)
                .map(|m| m.seq),
        );
        if page.len() < PAGE {
            break;
        }
        before = oldest;
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

async fn report(
    state: &SharedState,
    auth: &Authed,
    waba_id: &str,
    q: &RangeQuery,
) -> ApiResult<Report> {
    let m = member(state, auth, waba_id, Role::Agent).await?;
    let tz = super::automation::time_zone(state, &m.business).await?;
    let today = local_day(tz.as_deref(), state.now());
    let days = stats::range(q.from.as_deref(), q.to.as_deref(), today)?;
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(stats::report(&days, &BTreeMap::new()));
    };
    // Day keys sort as dates: page through the records from the first day on.
    let mut stored = BTreeMap::new();
    let last = last.to_string();
    let mut after = first.yesterday().map(|d| d.to_string()).ok();
    'pages: loop {
        let page = state
            .business
            .records(waba_id, kinds::STATS, "", after.as_deref(), PAGE)
            .await?;
        let n = page.len();
        for r in page {
            if r.key > last {
                break 'pages;
            }
            let counters: Counters = super::parse(kinds::STATS, &r.value)?;
            after = Some(r.key.clone());
            stored.insert(r.key, counters);
        }
        if n < PAGE {
            break;
        }
    }
    Ok(stats::report(&days, &stored))
}

async fn json_report(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<RangeQuery>,
) -> ApiResult<ApiJson<Report>> {
    Ok(ApiJson(report(&state, &auth, &waba_id, &q).await?))
}

async fn csv_report(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<RangeQuery>,
) -> ApiResult<impl IntoResponse> {
    let r = report(&state, &auth, &waba_id, &q).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        stats::csv(&r),
    ))
}
