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
        when: crate::pages::utc_time(v["send_at"].as_i64().unwrap_or(0)),
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
        match crate::pages::parse_datetime_local(&f.send_at) {
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
    fn phone_numbers_from_a_text_area() {
        assert_eq!(
            phones("+49 151 000 1\n+4915100002, 4915100003;\n\n"),
            vec!["+491510001", "+4915100002", "4915100003"]
        );
    }
}
