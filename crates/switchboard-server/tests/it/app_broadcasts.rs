//! Broadcasts and scheduled sends over HTTP: only opted-in customers who did not
//! block the business receive a broadcast, scheduled sends wait for the (injected)
//! clock, cancel works until sending starts, large lists go out in chunks exactly
//! once, and bad input or a too-low role is refused.

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::appkit::{App, Shop, User, eventually, shop, user};
use crate::support::{TestClock, TestServer};

/// The messages a customer has in their chat with the business (none when the
/// chat does not exist yet).
async fn received(app: &App, customer: &User, s: &Shop) -> Vec<Value> {
    let chat = switchboard_core::ids::direct_chat_id(&customer.user_id, &s.user_id);
    let (status, body) = app
        .get(customer, &format!("/v1/chats/{chat}/messages?limit=100"))
        .await;
    if status == 404 {
        return Vec::new();
    }
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().cloned().unwrap_or_default()
}

fn texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| m["body"]["text"].as_str().map(str::to_owned))
        .collect()
}

async fn opt_in(app: &App, customer: &User, s: &Shop, yes: bool) {
    let (status, body) = app
        .put(
            customer,
            &format!("/v1/businesses/{}/broadcasts", s.user_id),
            json!({"opt_in": yes}),
        )
        .await;
    assert_eq!((status, &body["opted_in"]), (200, &json!(yes)), "{body}");
}

async fn new_list(app: &App, s: &Shop, members: Vec<String>) -> String {
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/broadcast-lists", s.waba_id),
            json!({"name": "Regulars"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("list id").to_owned();
    for batch in members.chunks(1000) {
        let (status, body) = app
            .post(
                &s.owner,
                &format!("/v1/biz/{}/broadcast-lists/{id}/members", s.waba_id),
                json!({"add": batch}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    id
}

async fn broadcast(app: &App, s: &Shop, body: Value) -> Value {
    let (status, resp) = app
        .post(&s.owner, &format!("/v1/biz/{}/broadcasts", s.waba_id), body)
        .await;
    assert_eq!(status, 201, "{resp}");
    resp
}

/// Polls a send until its status is `want`.
async fn until_status(app: &App, s: &Shop, path: &str, id: &str, want: &str) -> Value {
    eventually(&format!("send {id} {want}"), || async {
        let (_, body) = app
            .get(&s.owner, &format!("/v1/biz/{}/{path}/{id}", s.waba_id))
            .await;
        (body["status"] == want).then_some(body)
    })
    .await
}

#[tokio::test]
async fn a_broadcast_reaches_only_opted_in_customers_who_did_not_block() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000001", "Bruno's Bakery").await;
    let anna = user(&server, "+4915200000011").await;
    let ben = user(&server, "+4915200000012").await;
    let cem = user(&server, "+4915200000013").await;
    let dora = user(&server, "+4915200000014").await;

    // Anna and Ben opt in; Ben then blocks the business; Cem never opts in; Dora's
    // consent the business recorded on paper, but she stopped marketing herself.
    opt_in(&app, &anna, &s, true).await;
    opt_in(&app, &ben, &s, true).await;
    let (status, _) = app
        .post(
            &ben,
            &format!("/v1/businesses/{}/block", s.user_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/optins", s.waba_id),
            json!({"customer": "+4915200000014", "evidence": "signed form, 3 March"}),
        )
        .await;
    assert_eq!(
        (status, &body["source"]),
        (201, &json!("business")),
        "{body}"
    );
    let (status, _) = app
        .put(
            &dora,
            &format!("/v1/businesses/{}/marketing", s.user_id),
            json!({"opt_out": true}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, body) = app
        .get(&cem, &format!("/v1/businesses/{}/broadcasts", s.user_id))
        .await;
    assert_eq!((status, &body["opted_in"]), (200, &json!(false)), "{body}");
    let (_, body) = app
        .get(&anna, &format!("/v1/businesses/{}/broadcasts", s.user_id))
        .await;
    assert_eq!(
        (&body["opted_in"], &body["source"]),
        (&json!(true), &json!("customer"))
    );

    // Members by phone or user id; an unregistered number is reported, not added.
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/broadcast-lists", s.waba_id),
            json!({"name": "Everyone"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let list = body["id"].as_str().expect("id").to_owned();
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/broadcast-lists/{list}/members", s.waba_id),
            json!({"add": ["+4915200000011", ben.user_id, "+49 152 0000 0013", "+4915200000014", "+4915200000099"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 4);
    assert_eq!(body["not_registered"], json!(["+4915200000099"]));
    assert_eq!(body["members"], 4);

    let sent = broadcast(
        &app,
        &s,
        json!({"list_id": list, "text": "Fresh Brezeln until noon!"}),
    )
    .await;
    let id = sent["id"].as_str().expect("id").to_owned();
    let done = until_status(&app, &s, "broadcasts", &id, "done").await;
    assert_eq!(
        done["progress"],
        json!({"total": 4, "sent": 1, "skipped": 3}),
        "{done}"
    );
    let got = eventually("anna's message", || async {
        let m = received(&app, &anna, &s).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(texts(&got), ["Fresh Brezeln until noon!"]);
    assert_eq!(got[0]["from"], s.user_id.as_str());
    for (who, name) in [(&ben, "ben"), (&cem, "cem"), (&dora, "dora")] {
        assert!(received(&app, who, &s).await.is_empty(), "{name} got it");
    }

    // The team sees it in the list; cancelling a finished send is a conflict.
    let (status, body) = app
        .get(&s.owner, &format!("/v1/biz/{}/broadcasts", s.waba_id))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["id"], id.as_str());
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/broadcasts/{id}/cancel", s.waba_id),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("already_started"))
    );

    // A customer's own "no" cannot be overruled by the business.
    opt_in(&app, &cem, &s, false).await;
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/optins", s.waba_id),
            json!({"customer": cem.user_id, "evidence": "said yes at the till"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("customer_opted_out"))
    );
}

#[tokio::test]
async fn scheduled_sends_wait_for_their_time_and_can_be_cancelled_before() {
    let clock = TestClock::default();
    let server = TestServer::start_with_clock(&clock).await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000002", "Bruno's Bakery").await;
    let anna = user(&server, "+4915200000021").await;
    opt_in(&app, &anna, &s, true).await;
    let list = new_list(&app, &s, vec![anna.user_id.clone()]).await;
    let now = switchboard_server::state::system_clock()();
    let hour = 3_600_000;

    let later = broadcast(
        &app,
        &s,
        json!({"list_id": list, "text": "in an hour", "send_at": now + hour}),
    )
    .await;
    assert_eq!(later["status"], "scheduled");
    let (status, note) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/scheduled", s.waba_id),
            json!({"to": "+4915200000021", "text": "your cake is ready", "send_at": now + hour}),
        )
        .await;
    assert_eq!(status, 201, "{note}");
    let cancelled = broadcast(
        &app,
        &s,
        json!({"list_id": list, "text": "never", "send_at": now + hour / 2}),
    )
    .await;
    let (status, body) = app
        .post(
            &s.owner,
            &format!(
                "/v1/biz/{}/broadcasts/{}/cancel",
                s.waba_id,
                cancelled["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("cancelled")),
        "{body}"
    );

    // A send due now goes out; the ones for later wait.
    let now_send = broadcast(&app, &s, json!({"list_id": list, "text": "now"})).await;
    until_status(
        &app,
        &s,
        "broadcasts",
        now_send["id"].as_str().expect("id"),
        "done",
    )
    .await;
    let (_, body) = app
        .get(
            &s.owner,
            &format!(
                "/v1/biz/{}/broadcasts/{}",
                s.waba_id,
                later["id"].as_str().expect("id")
            ),
        )
        .await;
    assert_eq!(body["status"], "scheduled");
    assert_eq!(texts(&received(&app, &anna, &s).await), ["now"]);

    clock.advance(hour + 1000);
    until_status(
        &app,
        &s,
        "broadcasts",
        later["id"].as_str().expect("id"),
        "done",
    )
    .await;
    until_status(
        &app,
        &s,
        "scheduled",
        note["id"].as_str().expect("id"),
        "done",
    )
    .await;
    let mut got = texts(&received(&app, &anna, &s).await);
    got.sort();
    assert_eq!(got, ["in an hour", "now", "your cake is ready"]);
    let (_, body) = app
        .get(&s.owner, &format!("/v1/biz/{}/scheduled", s.waba_id))
        .await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["data"][0]["to"], anna.user_id.as_str());
}

#[tokio::test]
async fn a_list_of_300_goes_out_in_chunks_exactly_once() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000003", "Bruno's Bakery").await;
    let customers: Vec<User> = futures_util::stream::iter(0..300)
        .map(|i| {
            let server = &server;
            async move { user(server, &format!("+491530000{i:04}")).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    // The business recorded their consent (a sign-up sheet).
    futures_util::stream::iter(&customers)
        .for_each_concurrent(16, |c| {
            let (app, s) = (&app, &s);
            async move {
                let (status, body) = app
                    .post(
                        &s.owner,
                        &format!("/v1/biz/{}/optins", s.waba_id),
                        json!({"customer": c.user_id, "evidence": "sign-up sheet"}),
                    )
                    .await;
                assert_eq!(status, 201, "{body}");
            }
        })
        .await;
    let list = new_list(
        &app,
        &s,
        customers.iter().map(|c| c.user_id.clone()).collect(),
    )
    .await;
    let sent = broadcast(&app, &s, json!({"list_id": list, "text": "Grand opening!"})).await;
    let done = until_status(
        &app,
        &s,
        "broadcasts",
        sent["id"].as_str().expect("id"),
        "done",
    )
    .await;
    assert_eq!(
        done["progress"],
        json!({"total": 300, "sent": 300, "skipped": 0})
    );
    let counts: Vec<usize> = futures_util::stream::iter(&customers)
        .map(|c| {
            let (app, s) = (&app, &s);
            async move { received(app, c, s).await.len() }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(counts.iter().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn bad_input_and_low_roles_are_refused() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000004", "Bruno's Bakery").await;
    let anna = user(&server, "+4915200000041").await;
    let list = new_list(&app, &s, vec![anna.user_id.clone()]).await;
    let now = switchboard_server::state::system_clock()();
    let base = format!("/v1/biz/{}", s.waba_id);
    let missing = "0".repeat(32);
    for (path, body, status, code) in [
        ("broadcasts", json!({"list_id": list}), 400, "invalid_body"),
        (
            "broadcasts",
            json!({"list_id": list, "text": ""}),
            400,
            "invalid_length",
        ),
        (
            "broadcasts",
            json!({"list_id": list, "text": "x".repeat(4097)}),
            400,
            "invalid_length",
        ),
        (
            "broadcasts",
            json!({"list_id": list, "text": "a", "media_id": "m"}),
            400,
            "invalid_body",
        ),
        (
            "broadcasts",
            json!({"list_id": list, "text": "a", "send_at": now - 120_000}),
            400,
            "invalid_send_at",
        ),
        (
            "broadcasts",
            json!({"list_id": list, "text": "a", "send_at": now + 91 * 86_400_000i64}),
            400,
            "invalid_send_at",
        ),
        (
            "broadcasts",
            json!({"list_id": list, "text": "a", "extra": 1}),
            400,
            "invalid_request",
        ),
        (
            "broadcasts",
            json!({"list_id": missing, "text": "a"}),
            404,
            "not_found",
        ),
        (
            "scheduled",
            json!({"to": "not a phone", "text": "a", "send_at": now}),
            400,
            "invalid_customer",
        ),
        (
            "scheduled",
            json!({"to": "+4915200000099", "text": "a", "send_at": now}),
            404,
            "not_found",
        ),
        (
            "scheduled",
            json!({"to": s.user_id, "text": "a", "send_at": now}),
            400,
            "invalid_customer",
        ),
        (
            "broadcast-lists",
            json!({"name": ""}),
            400,
            "invalid_length",
        ),
        (
            "broadcast-lists",
            json!({"name": "x".repeat(101)}),
            400,
            "invalid_length",
        ),
        (
            "optins",
            json!({"customer": anna.user_id, "evidence": ""}),
            400,
            "invalid_length",
        ),
        (
            "optins",
            json!({"customer": anna.user_id, "evidence": "x".repeat(501)}),
            400,
            "invalid_length",
        ),
        (
            &format!("broadcast-lists/{list}/members"),
            json!({"add": ["12"]}),
            400,
            "invalid_customer",
        ),
        (
            &format!("broadcast-lists/{list}/members"),
            json!({"add": vec!["+4915200000041"; 1001]}),
            400,
            "too_many_members",
        ),
    ] {
        let (got, resp) = app
            .post(&s.owner, &format!("{base}/{path}"), body.clone())
            .await;
        assert_eq!(
            (got, resp["error"]["code"].as_str()),
            (status, Some(code)),
            "{path} {body} → {resp}"
        );
    }
    let (status, _) = app
        .put(
            &anna,
            &format!("/v1/businesses/{}/broadcasts", s.user_id),
            json!({"opt_in": "yes"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = app.get(&anna, "/v1/businesses/4900000000/broadcasts").await;
    assert_eq!(status, 404);

    // An agent works conversations and may schedule a message, but not broadcast;
    // a stranger learns nothing.
    let agent = user(&server, "+4915200000042").await;
    let (status, body) = app
        .post(
            &s.owner,
            &format!("{base}/team"),
            json!({"phone": "+4915200000042", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post(
            &agent,
            &format!("{base}/broadcasts"),
            json!({"list_id": list, "text": "hi"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = app
        .post(
            &agent,
            &format!("{base}/broadcast-lists"),
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get(&agent, &format!("{base}/broadcasts")).await;
    assert_eq!(status, 200);
    let (status, body) = app
        .post(
            &agent,
            &format!("{base}/scheduled"),
            json!({"to": anna.user_id, "text": "see you", "send_at": now + 3_600_000}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = app.get(&anna, &format!("{base}/broadcasts")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn lists_are_renamed_paged_trimmed_and_deleted() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000005", "Bruno's Bakery").await;
    let anna = user(&server, "+4915200000051").await;
    let ben = user(&server, "+4915200000052").await;
    let list = new_list(&app, &s, vec![anna.user_id.clone(), ben.user_id.clone()]).await;
    let base = format!("/v1/biz/{}/broadcast-lists", s.waba_id);

    let (status, body) = app
        .patch(&s.owner, &format!("{base}/{list}"), json!({"name": "VIPs"}))
        .await;
    assert_eq!((status, &body["name"]), (200, &json!("VIPs")), "{body}");
    let (_, body) = app.get(&s.owner, &base).await;
    assert_eq!(body["lists"][0]["members"], 2, "{body}");

    let (_, page) = app
        .get(&s.owner, &format!("{base}/{list}/members?limit=1"))
        .await;
    assert_eq!(page["members"], json!([anna.user_id]), "{page}");
    let next = page["next"].as_str().expect("a next page");
    let (_, page) = app
        .get(
            &s.owner,
            &format!("{base}/{list}/members?limit=1&after={next}"),
        )
        .await;
    assert_eq!(page["members"], json!([ben.user_id]), "{page}");

    let (status, body) = app
        .post(
            &s.owner,
            &format!("{base}/{list}/members"),
            json!({"remove": ["+4915200000051"], "add": [ben.user_id]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["removed"], &body["already"], &body["members"]),
        (&json!(1), &json!(1), &json!(1))
    );

    let (status, _) = app.delete(&s.owner, &format!("{base}/{list}")).await;
    assert_eq!(status, 204);
    let (status, _) = app.get(&s.owner, &format!("{base}/{list}")).await;
    assert_eq!(status, 404);
    let (_, body) = app.get(&s.owner, &base).await;
    assert_eq!(body["lists"], json!([]));
    let (status, _) = app.get(&s.owner, &format!("{base}/not-an-id")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_media_broadcast_reaches_recipients_who_may_then_download_it() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000006", "Bruno's Bakery").await;
    let anna = user(&server, "+4915200000061").await;
    opt_in(&app, &anna, &s, true).await;
    let list = new_list(&app, &s, vec![anna.user_id.clone()]).await;
    let resp = app
        .http
        .post(format!("{}/v1/media", app.base))
        .bearer_auth(&s.owner.token)
        .header("content-type", "application/octet-stream")
        .body(b"a flyer, in plain bytes".to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 200);
    let uploaded: Value = resp.json().await.expect("json");
    let media_id = uploaded["media_id"].as_str().expect("media_id").to_owned();

    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/broadcasts", s.waba_id),
            json!({"list_id": list, "media_id": "nope", "caption": "flyer"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("media_not_found"))
    );
    let sent = broadcast(
        &app,
        &s,
        json!({"list_id": list, "media_id": media_id, "caption": "This week's flyer"}),
    )
    .await;
    until_status(
        &app,
        &s,
        "broadcasts",
        sent["id"].as_str().expect("id"),
        "done",
    )
    .await;
    let got = received(&app, &anna, &s).await;
    assert_eq!(
        got[0]["body"],
        json!({"media_id": media_id, "caption": "This week's flyer"})
    );
    let (status, _) = app.get(&anna, &format!("/v1/media/{media_id}/info")).await;
    assert_eq!(status, 200);
}
