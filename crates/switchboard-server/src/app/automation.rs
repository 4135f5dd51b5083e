//! Greeting and away messages: their settings (`/v1/biz/{waba_id}/automation/…`)
//! and the worker hook that sends them. The decisions (first contact, quiet for 14
//! days, away schedule, once per burst) are `switchboard_app::automation`'s; this
//! module loads the settings and the per-customer state, sends, and remembers.
//!
//! Idempotent under replay: the messages use `client_id`s derived from the
//! customer's message (`greeting:{id}`, `away:{id}`), and the per-customer state
//! (kind `auto_state`) records the last chat `seq` applied, written after the sends.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use switchboard_app::Role;
use switchboard_app::automation::{
    self, AWAY, Away, CustomerState, GREETING, Greeting, STATE_KIND, Schedule, Settings,
};
use switchboard_app::kinds;
use switchboard_core::body::Body;
use switchboard_store::{Business, Expect, StoredMessage};

use super::worker::{Event, Pass, Sender};
use super::{AUTO_DEVICE, load, member, save, send_as_business};
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::error::{ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/v1/biz/{waba_id}/automation/greeting",
            get(show_greeting).put(put_greeting),
        )
        .route(
            "/v1/biz/{waba_id}/automation/away",
            get(show_away).put(put_away),
        )
}

/// The business's time zone (IANA name), if its opening hours name one.
pub async fn time_zone(_state: &SharedState, business: &Business) -> ApiResult<Option<String>> {
    Ok(super::profile::hours_of(business).map(|h| h.timezone))
}

fn default_greeting() -> Greeting {
    Greeting {
        enabled: false,
        text: String::new(),
    }
}

fn default_away() -> Away {
    Away {
        enabled: false,
        text: String::new(),
        schedule: Schedule::Always,
    }
}

async fn setting<T: DeserializeOwned>(
    state: &SharedState,
    waba_id: &str,
    key: &str,
) -> ApiResult<Option<T>> {
    Ok(load::<T>(state, waba_id, kinds::SETTINGS, key)
        .await?
        .map(|(v, _)| v))
}

async fn put_setting<T: Serialize>(
    state: &SharedState,
    waba_id: &str,
    key: &str,
    value: T,
) -> ApiResult<ApiJson<T>> {
    save(state, waba_id, kinds::SETTINGS, key, &value, Expect::Any).await?;
    Ok(ApiJson(value))
}

async fn show_greeting(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Greeting>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let g = setting(&state, &waba_id, GREETING).await?;
    Ok(ApiJson(g.unwrap_or_else(default_greeting)))
}

async fn put_greeting(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<Greeting>,
) -> ApiResult<ApiJson<Greeting>> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let g = automation::check_greeting(req)?;
    put_setting(&state, &waba_id, GREETING, g).await
}

async fn show_away(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Away>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let a = setting(&state, &waba_id, AWAY).await?;
    Ok(ApiJson(a.unwrap_or_else(default_away)))
}

async fn put_away(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<Away>,
) -> ApiResult<ApiJson<Away>> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let has_hours = super::profile::hours_of(&m.business).is_some();
    let a = automation::check_away(req, has_hours)?;
    put_setting(&state, &waba_id, AWAY, a).await
}

/// Greeting and away messages.
pub async fn on_event(pass: &mut Pass<'_>, ev: &Event<'_>) -> ApiResult<()> {
    match *ev {
        Event::Inbound { msg, customer } => inbound(pass, msg, customer).await,
        // Automation's own messages neither count as activity nor trigger anything.
        Event::Outbound {
            by: Sender::Automation,
            ..
        } => Ok(()),
        Event::Outbound { msg, customer, by } => {
            // A machine's message (Cloud API, broadcast, commerce) to a customer
            // without state changes nothing worth a write: the customer's next
            // message finds the last activity in the chat's history. This keeps
            // the worker to one read per message on Cloud API volumes.
            if !by.is_human()
                && load::<CustomerState>(pass.state, &pass.business.waba_id, STATE_KIND, customer)
                    .await?
                    .is_none()
            {
                return Ok(());
            }
            let (mut st, fresh) = customer_state(pass, msg, customer).await?;
            if !fresh {
                return Ok(());
            }
            st.outbound(msg.ts, by.is_human());
            remember(pass, customer, st, msg.seq).await
        }
        Event::Receipt { .. } => Ok(()),
    }
}

async fn inbound(pass: &mut Pass<'_>, msg: &StoredMessage, customer: &str) -> ApiResult<()> {
    let (mut st, fresh) = customer_state(pass, msg, customer).await?;
    if !fresh {
        return Ok(());
    }
    let waba_id = &pass.business.waba_id;
    let greeting: Option<Greeting> = setting(pass.state, waba_id, GREETING).await?;
    let away: Option<Away> = setting(pass.state, waba_id, AWAY).await?;
    let hours = super::profile::hours_of(pass.business);
    let reaction = st.inbound(
        msg.ts,
        Settings {
            greeting: greeting.as_ref(),
            away: away.as_ref(),
            hours: hours.as_ref(),
        },
    );
    if let (true, Some(g)) = (reaction.greeting, &greeting) {
        send(pass, customer, &format!("greeting:{}", msg.id), &g.text).await?;
    }
    if let (true, Some(a)) = (reaction.away, &away) {
        send(pass, customer, &format!("away:{}", msg.id), &a.text).await?;
    }
    remember(pass, customer, st, msg.seq).await
}

/// The customer's automation state, and whether `msg` is new to it (not applied
/// before a replay). Without a record (the automation never saw this customer), the
/// chat's history tells whether there was contact before.
async fn customer_state(
    pass: &Pass<'_>,
    msg: &StoredMessage,
    customer: &str,
) -> ApiResult<(CustomerState, bool)> {
    let waba_id = &pass.business.waba_id;
    if let Some((st, _)) = load::<CustomerState>(pass.state, waba_id, STATE_KIND, customer).await? {
        let fresh = msg.seq > st.last_seq;
        return Ok((st, fresh));
    }
    let earlier = pass
        .state
        .store
        .history(&msg.chat_id, Some(msg.seq), 50)
        .await?;
    let last_activity = earlier
        .iter()
        .find(|m| m.sender_device != AUTO_DEVICE)
        .map(|m| m.ts);
    Ok((
        CustomerState {
            last_activity,
            ..CustomerState::default()
        },
        true,
    ))
}

async fn remember(
    pass: &Pass<'_>,
    customer: &str,
    mut st: CustomerState,
    seq: u64,
) -> ApiResult<()> {
    st.last_seq = seq;
    save(
        pass.state,
        &pass.business.waba_id,
        STATE_KIND,
        customer,
        &st,
        Expect::Any,
    )
    .await?;
    Ok(())
}

async fn send(pass: &Pass<'_>, customer: &str, client_id: &str, text: &str) -> ApiResult<()> {
    let body = Body::parse(&json!({ "text": text }).to_string())?.to_json();
    send_as_business(
        pass.state,
        pass.business,
        customer,
        AUTO_DEVICE,
        client_id,
        body,
        None,
    )
    .await?;
    Ok(())
}
