//! Broadcasts: lists of customers (members added by phone number), a send to a list
//! now or at a time, each send's status with a progress bar, and cancel while it is
//! still scheduled. Only customers who opted in are reached (the API decides).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Flash, act, api_base, back_error, back_ok, business_name, page_url, poster, refusal, tr,
};
use crate::WebState;
use crate::i18n::Tr;
use crate::pages::{Peer, encode, html, phone, signed_in};
use crate::session;

pub struct ListView {
    pub id: String,
    pub name: String,
    pub members: u64,
}

pub struct SendView {
    pub id: String,
    pub list: String,
    pub text: String,
    pub status: String,
    pub status_text: String,
    pub when: String,
    pub total: u64,
    pub done: u64,
    pub sent: u64,
    pub skipped: u64,
    pub cancellable: bool,
    /// The progress bar: `max` (at least 1) and `value` (full once done).
    pub bar_max: u64,
    pub bar_value: u64,
}

#[derive(Template)]
#[template(path = "shop_broadcasts.html")]
struct BroadcastsPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    notice: Option<String>,
    error: Option<String>,
    lists: Vec<ListView>,
    sends: Vec<SendView>,
}

/// `YYYY-MM-DD HH:MM UTC` of a millisecond timestamp.
pub fn utc_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {} UTC", crate::pages::clock(ms))
}

/// (year, month, day) of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A `datetime-local` value (`2026-11-25T18:30`, read as UTC) in milliseconds.
pub fn parse_utc(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once('T')?;
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    let mut tp = time.split(':');
    let hh: i64 = tp.next()?.parse().ok()?;
    let mm: i64 = tp.next()?.parse().ok()?;
    let valid = (1..=12).contains(&m) && (1..=31).contains(&d) && hh < 24 && mm < 60;
    if !valid || dp.next().is_some() {
        return None;
    }
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60) * 1000)
}

fn status_text(t: &Tr, s: &str) -> String {
    match s {
        "scheduled" | "sending" | "done" | "cancelled" => t.t(&format!("shop-send-{s}")),
        other => other.to_owned(),
    }
}

fn send_view(t: &Tr, v: &Value, lists: &[ListView]) -> SendView {
    let p = &v["progress"];
    let n = |k: &str| p[k].as_u64().unwrap_or(0);
    let status = v["status"].as_str().unwrap_or_default().to_owned();
    let list_id = v["list_id"].as_str().unwrap_or_default();
    let text = match v["body"]["text"].as_str() {
        Some(s) => s.to_owned(),
        None => v["body"]["caption"].as_str().unwrap_or_default().to_owned(),
    };
    let total = n("total").max(n("sent") + n("skipped"));
    let done = n("sent") + n("skipped");
    let bar_max = total.max(1);
    SendView {
        bar_value: if status == "done" {
            bar_max
        } else {
            done.min(bar_max)
        },
        bar_max,
        id: v["id"].as_str().unwrap_or_default().to_owned(),
        list: lists
            .iter()
            .find(|l| l.id == list_id)
            .map_or_else(|| list_id.to_owned(), |l| l.name.clone()),
        text,
        status_text: status_text(t, &status),
        cancellable: status == "scheduled",
        when: utc_time(v["send_at"].as_i64().unwrap_or(0)),
        total,
        done,
        sent: n("sent"),
        skipped: n("skipped"),
        status,
    }
}

/// `GET /app/biz/{waba_id}/broadcasts`
pub async fn page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let s = signed_in(&web, &headers, &peer, &page_url(&waba, "broadcasts")).await?;
    let t = tr(&headers);
    let page = async {
        let business = business_name(&web, &s, &waba).await?;
        let base = api_base(&waba);
        let l = web
            .api
            .ok(
                &s.caller,
                Method::GET,
                &format!("{base}/broadcast-lists"),
                None,
            )
            .await?;
        let lists: Vec<ListView> = l["lists"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| ListView {
                id: l["id"].as_str().unwrap_or_default().to_owned(),
                name: l["name"].as_str().unwrap_or_default().to_owned(),
                members: l["members"].as_u64().unwrap_or(0),
            })
            .collect();
        let b = web
            .api
            .ok(&s.caller, Method::GET, &format!("{base}/broadcasts"), None)
            .await?;
        let sends = b["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| send_view(&t, v, &lists))
            .collect();
        let (notice, error) = flash.texts(&t);
        let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
        html(
            &BroadcastsPage {
                t,
                csrf,
                signed_in: true,
                waba_id: waba.clone(),
                business,
                notice,
                error,
                lists,
                sends,
            },
            cookie,
        )
    };
    page.await.map_err(IntoResponse::into_response)
}

#[derive(Deserialize)]
pub struct ListForm {
    csrf: String,
    name: String,
}

/// `POST /app/biz/{waba_id}/broadcasts/lists`
pub async fn create_list(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<ListForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "broadcasts");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let path = format!("{}/broadcast-lists", api_base(&waba));
    let body = json!({"name": f.name.trim()});
    Ok(act(&web, &s, &back, "created", (Method::POST, path, Some(body))).await)
}

#[derive(Deserialize)]
pub struct MembersForm {
    csrf: String,
    phones: String,
}

/// The phone numbers of a text area: one per line, or separated by commas,
/// semicolons or spaces inside a number kept together (`+49 151 …`).
fn phones(text: &str) -> Vec<String> {
    text.split(['\n', ',', ';'])
        .map(|p| {
            p.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect::<String>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// `POST /app/biz/{waba_id}/broadcasts/lists/{id}/members`
pub async fn add_members(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, id)): Path<(String, String)>,
    Form(f): Form<MembersForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "broadcasts");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let t = tr(&headers);
    let add = phones(&f.phones);
    if add.is_empty() {
        return Ok(back_error(&back, &t.t("shop-bc-phones-empty")));
    }
    let path = format!(
        "{}/broadcast-lists/{}/members",
        api_base(&waba),
        encode(&id)
    );
    let body = json!({ "add": add });
    let (status, answer) = web
        .api
        .call(&s.caller, Method::POST, &path, Some(&body))
        .await
        .map_err(IntoResponse::into_response)?;
    if status.is_client_error() {
        return Ok(back_error(&back, &refusal(&answer)));
    }
    if !status.is_success() {
        return Err(crate::api::api_error(status, &answer).into_response());
    }
    let missing: Vec<String> = answer["not_registered"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|p| {
            if p.starts_with('+') {
                p.to_owned()
            } else {
                phone(p)
            }
        })
        .collect();
    if missing.is_empty() {
        Ok(back_ok(&back, "added"))
    } else {
        let msg = t.t1("shop-bc-not-registered", "phones", missing.join(", "));
        Ok(back_error(&back, &msg))
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /app/biz/{waba_id}/broadcasts/lists/{id}/delete`
pub async fn delete_list(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, id)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "broadcasts");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let path = format!("{}/broadcast-lists/{}", api_base(&waba), encode(&id));
    Ok(act(&web, &s, &back, "deleted", (Method::DELETE, path, None)).await)
}

#[derive(Deserialize)]
pub struct SendForm {
    csrf: String,
    list_id: String,
    text: String,
    #[serde(default)]
    send_at: String,
}

/// `POST /app/biz/{waba_id}/broadcasts/send`: now, or at the time given (UTC).
pub async fn send(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<SendForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "broadcasts");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let mut body = json!({"list_id": f.list_id, "text": f.text.trim()});
    if !f.send_at.trim().is_empty() {
        match parse_utc(&f.send_at) {
            Some(ms) => body["send_at"] = json!(ms),
            None => return Ok(back_error(&back, &tr(&headers).t("shop-bc-time-invalid"))),
        }
    }
    let path = format!("{}/broadcasts", api_base(&waba));
    Ok(act(&web, &s, &back, "sent", (Method::POST, path, Some(body))).await)
}

/// `POST /app/biz/{waba_id}/broadcasts/{id}/cancel`
pub async fn cancel(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, id)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "broadcasts");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let path = format!("{}/broadcasts/{}/cancel", api_base(&waba), encode(&id));
    Ok(act(&web, &s, &back, "cancelled", (Method::POST, path, None)).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_and_shown_in_utc() {
        let ms = parse_utc("2026-11-25T16:00").expect("a time");
        assert_eq!(ms, 1_795_622_400_000);
        assert_eq!(utc_time(ms), "2026-11-25 16:00 UTC");
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(parse_utc("2026-13-01T00:00"), None);
        assert_eq!(parse_utc("tomorrow"), None);
        assert_eq!(
            parse_utc("2024-02-29T23:59").map(utc_time).as_deref(),
            Some("2024-02-29 23:59 UTC")
        );
    }

    #[test]
    fn phone_numbers_from_a_text_area() {
        assert_eq!(
            phones("+49 151 000 1\n+4915100002, 4915100003;\n\n"),
            vec!["+491510001", "+4915100002", "4915100003"]
        );
    }
}
