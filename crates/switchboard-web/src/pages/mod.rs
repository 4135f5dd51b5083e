//! The pages: each handler reads what it shows through the API (as the signed-in
//! device) and renders one askama template.

pub mod admin;
pub mod business;
pub mod chats;
pub mod inbox;
pub mod login;
pub mod media;
pub mod settings;
pub mod shop;

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::Value;

use crate::WebState;
use crate::api::Caller;
use crate::error::WebError;
use crate::session::{self, SESSION_COOKIE};

/// The browser's address, passed on to the API (which rate-limits by it).
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// A rendered template as an HTML answer, with an optional cookie to set.
pub fn html(page: &impl Template, cookie: Option<HeaderValue>) -> Result<Response, WebError> {
    let body = page.render()?;
    let mut resp = Html(body).into_response();
    if let Some(c) = cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// The signed-in user of a request.
pub struct Signed {
    pub caller: Caller,
    pub user_id: String,
}

/// The request's session, or a redirect to the sign-in page (coming back to
/// `back` afterwards).
pub async fn signed_in(
    web: &WebState,
    headers: &HeaderMap,
    peer: &Peer,
    back: &str,
) -> Result<Signed, Response> {
    let to_login = || Redirect::to(&format!("/app/login?next={}", encode(back))).into_response();
    let Some(token) = session::cookie(headers, SESSION_COOKIE) else {
        return Err(to_login());
    };
    let caller = Caller {
        token: Some(token),
        peer: peer.0,
    };
    match web.api.call(&caller, Method::GET, "/v1/me", None).await {
        Ok((s, me)) if s.is_success() => match me["user_id"].as_str() {
            Some(u) => Ok(Signed {
                user_id: u.to_owned(),
                caller,
            }),
            None => Err(WebError::Unexpected("GET /v1/me without user_id".into()).into_response()),
        },
        Ok((s, _)) if s.as_u16() == 401 => Err(to_login()),
        Ok((s, body)) => Err(crate::api::api_error(s, &body).into_response()),
        Err(e) => Err(e.into_response()),
    }
}

/// A path segment or query value, percent-encoded.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only local paths of the web app may be a `next` target (no open redirects).
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with("/app") || next.starts_with("/c/");
    if local && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/app".to_owned()
    }
}

/// `+49 151 …` for a user id (the digits of the phone number).
pub fn phone(user_id: &str) -> String {
    format!("+{user_id}")
}

/// What a message shows as text: its text, a caption, or what kind it is.
pub fn body_text(t: &crate::i18n::Tr, body: &Value) -> String {
    if let Some(s) = body["text"].as_str() {
        return s.to_owned();
    }
    if body.get("media_id").is_some() {
        return match body["caption"].as_str() {
            Some(c) if !c.is_empty() => c.to_owned(),
            _ => t.t("body-media"),
        };
    }
    if let Some(b) = body["template"]["body"].as_str() {
        return b.to_owned();
    }
    if let Some(b) = body["interactive"]["body"].as_str() {
        return b.to_owned();
    }
    if let Some(o) = body.get("order") {
        return format!(
            "🛒 {}: {} × · {}",
            t.t("body-order"),
            o["item_count"].as_u64().unwrap_or(0),
            o["total"]["display"].as_str().unwrap_or_default()
        );
    }
    if let Some(o) = body.get("order_status") {
        let status = o["status"].as_str().unwrap_or_default();
        return format!(
            "📦 {}: {}",
            t.t("body-order-status"),
            order_status_text(t, status)
        );
    }
    if let Some(p) = body.get("product") {
        return format!(
            "🛍 {} · {}",
            p["name"].as_str().unwrap_or_default(),
            p["price"]["display"].as_str().unwrap_or_default()
        );
    }
    let kinds = [
        ("location", "body-location"),
        ("order", "body-order"),
        ("order_status", "body-order-status"),
        ("product", "body-product"),
        ("catalog", "body-catalog"),
        ("ciphertext", "body-encrypted"),
    ];
    for (field, key) in kinds {
        if body.get(field).is_some() {
            return t.t(key);
        }
    }
    t.t("body-other")
}

/// A price as the API gives it (`{"amount_minor", "currency"}`) for people:
/// `€2.50`; nothing when it is not one.
pub fn money(v: &Value) -> String {
    match (v["amount_minor"].as_i64(), v["currency"].as_str()) {
        (Some(amount_minor), Some(currency)) => switchboard_app::catalog::Money {
            amount_minor,
            currency: currency.to_owned(),
        }
        .display(),
        _ => String::new(),
    }
}

/// An order status in the reader's language.
pub fn order_status_text(t: &crate::i18n::Tr, status: &str) -> String {
    match status {
        "received" | "confirmed" | "ready" | "delivered" | "cancelled" => {
            t.t(&format!("order-{status}"))
        }
        other => other.to_owned(),
    }
}

/// `YYYY-MM-DD HH:MM UTC` of a millisecond timestamp.
pub fn utc_time(ms: i64) -> String {
    let (y, m, d) = switchboard_core::civil::civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02} {} UTC", clock(ms))
}

/// A `datetime-local` form value (`2026-11-25T18:30`, read as UTC) in milliseconds.
pub fn parse_datetime_local(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once('T')?;
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    let mut tp = time.split(':');
    let hh: i64 = tp.next()?.parse().ok()?;
    let mm: i64 = tp.next()?.parse().ok()?;
    let valid = (1..=12).contains(&m)
        && (1..=31).contains(&d)
        && (0..24).contains(&hh)
        && (0..60).contains(&mm);
    if !valid || dp.next().is_some() {
        return None;
    }
    let days = switchboard_core::civil::days_from_civil(y, m, d);
    Some((days * 86_400 + hh * 3600 + mm * 60) * 1000)
}

/// Milliseconds as a `datetime-local` form value (UTC).
pub fn datetime_local(ms: i64) -> String {
    let (y, m, d) = switchboard_core::civil::civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}T{}", clock(ms))
}

/// `HH:MM` (UTC) of a millisecond timestamp; the page's script shows local time.
pub fn clock(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let day_secs = secs.rem_euclid(86_400);
    format!("{:02}:{:02}", day_secs / 3600, (day_secs % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_in_the_app() {
        assert_eq!(safe_next("/app/chats/x"), "/app/chats/x");
        assert_eq!(safe_next("https://evil.example/app"), "/app");
        assert_eq!(safe_next("//evil.example"), "/app");
        assert_eq!(safe_next("/admin"), "/app");
    }

    #[test]
    fn form_times_are_utc_milliseconds() {
        assert_eq!(parse_datetime_local("1970-01-01T00:00"), Some(0));
        let ms = parse_datetime_local("2026-11-25T16:00").expect("a time");
        assert_eq!(ms, 1_795_622_400_000);
        assert_eq!(datetime_local(1_795_622_400_000), "2026-11-25T16:00");
        assert_eq!(utc_time(ms), "2026-11-25 16:00 UTC");
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            datetime_local(parse_datetime_local("2024-02-29T23:59").unwrap_or(0)),
            "2024-02-29T23:59"
        );
        assert_eq!(
            parse_datetime_local("2024-02-29T23:59")
                .map(utc_time)
                .as_deref(),
            Some("2024-02-29 23:59 UTC")
        );
        assert_eq!(parse_datetime_local("2026-13-01T00:00"), None);
        assert_eq!(parse_datetime_local("soon"), None);
        assert_eq!(parse_datetime_local("tomorrow"), None);
    }

    #[test]
    fn clock_and_encoding() {
        assert_eq!(clock(0), "00:00");
        assert_eq!(clock(1_764_000_000_000), "16:00");
        assert_eq!(encode("/app/chats/d1-2?x"), "/app/chats/d1-2%3Fx");
    }
}
