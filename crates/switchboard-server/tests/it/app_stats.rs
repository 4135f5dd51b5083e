//! Statistics: the app worker counts messages both ways and the customers'
//! receipts under the business's local day; the report and its CSV export.

use serde_json::{Value, json};

use crate::appkit::{App, Shop, eventually, shop, user};
use crate::support::{RawWs, TestClock, TestServer};

const OWNER: &str = "+4915100007101";
const CUSTOMER: &str = "+4915100007102";
const HOUR: i64 = 3_600_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
        .unwrap_or(0)
}

/// Moves the server's clock so that it reads `utc_ms` now.
fn set_clock(clock: &TestClock, utc_ms: i64) {
    let current = now_ms() + clock.offset.load(std::sync::atomic::Ordering::SeqCst);
    clock.advance(utc_ms - current);
}

/// 2027-04-14T10:00:00Z.
const WEDNESDAY_10_UTC: i64 = 1_807_696_800_000;

async fn day(app: &App, s: &Shop, date: &str) -> Value {
    let (status, body) = app
        .get(
            &s.owner,
            &format!("/v1/biz/{}/stats?from={date}&to={date}", s.waba_id),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["days"][0].clone()
}

/// Waits until `date` shows `want` for every listed figure.
async fn wait_day(app: &App, s: &Shop, date: &str, want: Value) -> Value {
    eventually(&format!("{date} = {want}"), || async {
        let d = day(app, s, date).await;
        let all = want
            .as_object()
            .into_iter()
            .flatten()
            .all(|(k, v)| d[k] == *v);
        all.then_some(d)
    })
    .await
}

#[tokio::test]
async fn messages_and_receipts_are_counted_on_local_days() {
    let clock = TestClock::default();
    set_clock(&clock, WEDNESDAY_10_UTC);
    let server = TestServer::start_with_clock(&clock).await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    let (status, body) = app
        .patch(
            &s.owner,
            &format!("/v1/biz/{}/profile", s.waba_id),
            json!({"hours": {"timezone": "Europe/Berlin"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let customer = user(&server, CUSTOMER).await;
    let (_, chat) = app
        .post(
            &customer,
            "/v1/chats",
            json!({"kind": "direct", "with": format!("+{}", s.user_id)}),
        )
        .await;
    let chat_id = chat["chat_id"].as_str().expect("chat_id").to_owned();
    let mut cws = RawWs::connect(&server, &customer.token).await;
    let mut ows = RawWs::connect(&server, &s.owner.token).await;
    for i in 0..2 {
        let (ack, _) = cws.send_text_msg(&format!("c{i}"), &chat_id, "Hi").await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    let mut last = 0;
    for i in 0..3 {
        let (ack, _) = ows.send_text_msg(&format!("o{i}"), &chat_id, "Hello").await;
        last = ack["seq"].as_u64().expect("seq");
    }
    assert_eq!(last, 5);
    // Delivered up to the business's second message, then read everything: read
    // implies delivered, and nothing is counted twice.
    cws.send(json!({"type": "receipt", "chat_id": chat_id, "up_to_seq": 4, "status": "delivered"}))
        .await;
    wait_day(&app, &s, "2027-04-14", json!({"delivered": 2})).await;
    cws.send(json!({"type": "receipt", "chat_id": chat_id, "up_to_seq": 5, "status": "read"}))
        .await;
    cws.send(json!({"type": "receipt", "chat_id": chat_id, "up_to_seq": 5, "status": "delivered"}))
        .await;
    let d = wait_day(
        &app,
        &s,
        "2027-04-14",
        json!({"sent": 3, "received": 2, "delivered": 3, "read": 3}),
    )
    .await;
    // (First responses are the inbox's to count; their average is an integer.)
    assert!(d["avg_first_response_ms"].is_null() || d["avg_first_response_ms"].is_i64());

    // 23:30 UTC is already the next day in Berlin.
    set_clock(&clock, WEDNESDAY_10_UTC + 13 * HOUR + HOUR / 2);
    let (ack, _) = cws.send_text_msg("c9", &chat_id, "Late").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    wait_day(&app, &s, "2027-04-15", json!({"received": 1})).await;
    let d = day(&app, &s, "2027-04-14").await;
    assert_eq!(
        (d["received"].as_i64(), d["sent"].as_i64()),
        (Some(2), Some(3))
    );

    // The range report: missing days as zeros, totals, series.
    let (status, r) = app
        .get(
            &s.owner,
            &format!("/v1/biz/{}/stats?from=2027-04-13&to=2027-04-15", s.waba_id),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let dates: Vec<&str> = r["days"]
        .as_array()
        .expect("days")
        .iter()
        .filter_map(|d| d["date"].as_str())
        .collect();
    assert_eq!(dates, ["2027-04-13", "2027-04-14", "2027-04-15"]);
    assert_eq!(r["days"][0]["sent"], 0);
    assert_eq!(r["totals"]["received"], 3);
    assert_eq!(r["totals"]["read"], 3);
    let received = r["series"]
        .as_array()
        .expect("series")
        .iter()
        .find(|s| s["metric"] == "received")
        .expect("received series");
    assert_eq!(
        received["points"],
        json!([["2027-04-13", 0], ["2027-04-14", 2], ["2027-04-15", 1]])
    );

    // The default range is the last 30 days, up to the business's today.
    let (_, r) = app
        .get(&s.owner, &format!("/v1/biz/{}/stats", s.waba_id))
        .await;
    let days = r["days"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    assert_eq!(
        days.last().map(|d| d["date"].clone()),
        Some(json!("2027-04-15"))
    );

    // CSV.
    let resp = app
        .http
        .get(format!(
            "{}/v1/biz/{}/stats.csv?from=2027-04-14&to=2027-04-15",
            app.base, s.waba_id
        ))
        .bearer_auth(&s.owner.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let csv = resp.text().await.expect("body");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert_eq!(
        lines[0],
        "date,sent,delivered,read,received,first_responses,avg_first_response_ms,resolutions,avg_resolution_ms"
    );
    assert!(lines[1].starts_with("2027-04-14,3,3,3,2,"), "{csv}");
    assert!(lines[2].starts_with("2027-04-15,0,0,0,1,"), "{csv}");
    assert_eq!(lines[2].split(',').count(), 9, "{csv}");
}

#[tokio::test]
async fn bad_ranges_and_strangers_are_refused() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    for (query, code) in [
        ("from=2026-11-10&to=2026-11-01", "invalid_range"),
        ("from=2025-01-01&to=2026-02-04", "range_too_long"),
        ("from=2026-11-31", "invalid_date"),
        ("from=2026-11-01&days=3", "invalid_request"),
    ] {
        for path in ["stats", "stats.csv"] {
            let (status, body) = app
                .get(&s.owner, &format!("/v1/biz/{}/{path}?{query}", s.waba_id))
                .await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (400, Some(code)),
                "{path}?{query}: {body}"
            );
        }
    }
    let stranger = user(&server, CUSTOMER).await;
    let (status, _) = app
        .get(&stranger, &format!("/v1/biz/{}/stats", s.waba_id))
        .await;
    assert_eq!(status, 404);
}
