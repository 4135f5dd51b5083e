//! The shared team inbox through the real server: the team, conversations opened by
//! customers' messages, round-robin auto-assignment within capacity with a queue,
//! agents' replies (signed, idempotent, "someone else is replying"), first-response
//! statistics, snoozes on the injected clock, and notes with mentions.

use serde_json::{Value, json};

use crate::appkit::{App, Shop, User, eventually, shop, user};
use crate::support::{RawWs, TestClock, TestServer};

/// A customer writes `text` to the business (over the WebSocket, as a phone does);
/// answers the chat id.
pub async fn customer_says(server: &TestServer, c: &User, shop: &Shop, text: &str) -> String {
    let client = server.client().with_token(c.token.clone());
    let chat = client
        .create_direct_chat(&format!("+{}", shop.user_id))
        .await
        .expect("a direct chat with the business");
    let mut ws = RawWs::connect(server, &c.token).await;
    let cid = format!(
        "c-{}",
        text.len() + text.chars().map(|ch| ch as usize).sum::<usize>()
    );
    let (ack, _) = ws.send_text_msg(&cid, &chat.chat_id, text).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    chat.chat_id
}

/// Adds `phone` (registered now) to the team with `role`.
pub async fn member(
    server: &TestServer,
    app: &App,
    s: &Shop,
    phone: &str,
    role: &str,
    extra: Value,
) -> User {
    let u = user(server, phone).await;
    let mut body = json!({"phone": phone, "role": role});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (status, resp) = app
        .post(&s.owner, &format!("/v1/biz/{}/team", s.waba_id), body)
        .await;
    assert_eq!(status, 201, "{resp}");
    u
}

/// The conversation once `ready` holds for it.
async fn conversation_when(
    app: &App,
    who: &User,
    s: &Shop,
    customer: &User,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let path = format!("/v1/biz/{}/conversations/{}", s.waba_id, customer.user_id);
    eventually(what, || async {
        let (status, c) = app.get(who, &path).await;
        (status == 200 && ready(&c)).then_some(c)
    })
    .await
}

#[tokio::test]
async fn the_team_is_managed_and_sees_the_business() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100010001", "Bruno's Bakery").await;
    let team = format!("/v1/biz/{}/team", s.waba_id);
    let anna = member(
        &server,
        &app,
        &s,
        "+4915100010002",
        "agent",
        json!({"capacity": 3, "signature": "Anna"}),
    )
    .await;

    let (status, body) = app.get(&anna, &team).await;
    assert_eq!(status, 200, "{body}");
    let roles: Vec<(&str, &str)> = body["team"]
        .as_array()
        .expect("team")
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap_or(""),
                m["role"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            (s.user_id.as_str(), "owner"),
            (anna.user_id.as_str(), "agent")
        ]
    );

    // The agent sees the business among theirs, with their role.
    let (_, mine) = app.get(&anna, "/v1/me/businesses").await;
    assert_eq!(mine["businesses"][0]["waba_id"], s.waba_id.as_str());
    assert_eq!(mine["businesses"][0]["role"], "agent");

    // Refusals: twice, unknown users, bad input, the owner is fixed.
    for (body, status, code) in [
        (
            json!({"phone": "+4915100010002", "role": "agent"}),
            409,
            "already_member",
        ),
        (
            json!({"phone": "+4915100019999", "role": "agent"}),
            404,
            "unknown_user",
        ),
        (
            json!({"phone": "+4915100010001", "role": "agent"}),
            409,
            "already_member",
        ),
        (
            json!({"phone": "not a phone", "role": "agent"}),
            400,
            "invalid_phone",
        ),
        (
            json!({"phone": "+4915100010002", "role": "boss"}),
            400,
            "invalid_role",
        ),
        (
            json!({"phone": "+4915100010002", "role": "owner"}),
            400,
            "invalid_role",
        ),
        (
            json!({"phone": "+4915100010002", "role": "agent", "signature": "x".repeat(41)}),
            400,
            "invalid_length",
        ),
    ] {
        let (got, resp) = app.post(&s.owner, &team, body.clone()).await;
        assert_eq!(
            (got, resp["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {resp}"
        );
    }
    let (status, resp) = app
        .patch(
            &s.owner,
            &format!("{team}/{}", s.user_id),
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (409, Some("owner_is_fixed"))
    );
    let (status, _) = app.delete(&s.owner, &format!("{team}/{}", s.user_id)).await;
    assert_eq!(status, 409);

    // An agent changes their own availability, not someone else's or their capacity.
    let (status, resp) = app
        .patch(
            &anna,
            &format!("{team}/{}", anna.user_id),
            json!({"available": false, "signature": null}),
        )
        .await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(
        (resp["available"].as_bool(), resp["signature"].is_null()),
        (Some(false), true)
    );
    let (status, _) = app
        .patch(
            &anna,
            &format!("{team}/{}", anna.user_id),
            json!({"capacity": 99}),
        )
        .await;
    assert_eq!(status, 403);

    // Removed: the business is gone from the agent's list and its API.
    let (status, _) = app
        .delete(&s.owner, &format!("{team}/{}", anna.user_id))
        .await;
    assert_eq!(status, 204);
    let (_, mine) = app.get(&anna, "/v1/me/businesses").await;
    assert_eq!(mine["businesses"].as_array().map(Vec::len), Some(0));
    let (status, _) = app.get(&anna, &team).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn customers_are_assigned_round_robin_and_queue_when_everyone_is_full() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100020001", "Corner Shop").await;
    let anna = member(
        &server,
        &app,
        &s,
        "+4915100020002",
        "agent",
        json!({"capacity": 1}),
    )
    .await;
    let ben = member(
        &server,
        &app,
        &s,
        "+4915100020003",
        "agent",
        json!({"capacity": 1}),
    )
    .await;
    let c1 = user(&server, "+4915100020011").await;
    let c2 = user(&server, "+4915100020012").await;
    let c3 = user(&server, "+4915100020013").await;

    customer_says(&server, &c1, &s, "Do you have rye bread?").await;
    let conv = conversation_when(&app, &anna, &s, &c1, "c1 assigned", |c| {
        c["assignee"].is_string()
    })
    .await;
    assert_eq!(conv["status"], "open");
    assert_eq!(conv["assignee"], anna.user_id.as_str());
    assert!(conv["waiting_since"].is_i64(), "{conv}");
    assert_eq!(conv["unread"], 1);
    assert_eq!(conv["preview"], "Do you have rye bread?");
    assert_eq!(
        conv["messages"][0]["body"]["text"],
        "Do you have rye bread?"
    );

    customer_says(&server, &c2, &s, "Open on Sunday?").await;
    let conv = conversation_when(&app, &anna, &s, &c2, "c2 assigned", |c| {
        c["assignee"].is_string()
    })
    .await;
    assert_eq!(conv["assignee"], ben.user_id.as_str());

    // Everyone is full: the third waits, open and unassigned.
    customer_says(&server, &c3, &s, "Hello?").await;
    conversation_when(&app, &anna, &s, &c3, "c3 open", |c| c["status"] == "open").await;
    let list = format!("/v1/biz/{}/conversations", s.waba_id);
    let (_, queued) = app.get(&anna, &format!("{list}?assignee=none")).await;
    let queued: Vec<&str> = queued["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["customer"].as_str())
        .collect();
    assert_eq!(queued, [c3.user_id.as_str()]);
    let (_, mine) = app.get(&anna, &format!("{list}?assignee=me")).await;
    assert_eq!(mine["conversations"][0]["customer"], c1.user_id.as_str());
    let (_, all) = app.get(&anna, &format!("{list}?limit=2")).await;
    assert_eq!(all["conversations"].as_array().map(Vec::len), Some(2));
    let next = all["next"].as_str().expect("a next page");
    let (_, rest) = app
        .get(&anna, &format!("{list}?limit=2&after={next}"))
        .await;
    assert_eq!(rest["conversations"].as_array().map(Vec::len), Some(1));
    assert!(rest["next"].is_null());

    // Anna resolves hers: the queued conversation is hers now.
    let (status, resolved) = app
        .patch(
            &anna,
            &format!("{list}/{}", c1.user_id),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    let conv = conversation_when(&app, &anna, &s, &c3, "c3 assigned", |c| {
        c["assignee"].is_string()
    })
    .await;
    assert_eq!(conv["assignee"], anna.user_id.as_str());
    let (_, stats) = app
        .get(&s.owner, &format!("/v1/biz/{}/stats", s.waba_id))
        .await;
    assert_eq!(stats["totals"]["resolutions"], 1, "{stats}");

    // Assigning: an agent only to themself (or lets go of their own), an admin
    // anyone; members only.
    let path = format!("{list}/{}", c2.user_id);
    let (status, _) = app
        .patch(&anna, &path, json!({"assignee": ben.user_id}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.patch(&anna, &path, json!({"assignee": null})).await;
    assert_eq!(status, 403, "not hers to let go");
    let (status, resp) = app
        .patch(&s.owner, &path, json!({"assignee": "4915100029999"}))
        .await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (400, Some("not_a_member"))
    );
    let (status, resp) = app
        .patch(&s.owner, &path, json!({"assignee": anna.user_id}))
        .await;
    assert_eq!(
        (status, resp["assignee"].as_str()),
        (200, Some(anna.user_id.as_str()))
    );
    let (status, resp) = app.patch(&anna, &path, json!({"status": "closed"})).await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (400, Some("invalid_status"))
    );
}

#[tokio::test]
async fn agents_reply_signed_once_and_see_each_other() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100030001", "Flower Shop").await;
    let anna = member(
        &server,
        &app,
        &s,
        "+4915100030002",
        "agent",
        json!({"signature": "Anna"}),
    )
    .await;
    let ben = member(&server, &app, &s, "+4915100030003", "agent", json!({})).await;
    let c = user(&server, "+4915100030011").await;
    let chat_id = customer_says(&server, &c, &s, "Roses for Friday?").await;
    let conv_path = format!("/v1/biz/{}/conversations/{}", s.waba_id, c.user_id);
    conversation_when(&app, &anna, &s, &c, "the conversation", |_| true).await;

    // Ben starts typing; Anna sees it, and her send carries the notice.
    let (status, _) = app
        .post(&ben, &format!("{conv_path}/typing"), json!(null))
        .await;
    assert_eq!(status, 200);
    let (_, conv) = app.get(&anna, &conv_path).await;
    assert_eq!(conv["replying"], json!([ben.user_id]));
    let send = json!({"client_id": "r1", "text": "Yes, we have red ones.", "signature": true});
    let (status, first) = app
        .post(&anna, &format!("{conv_path}/messages"), send.clone())
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["notice"], "someone_else_replying");
    assert_eq!(first["message"]["chat_id"], chat_id.as_str());

    // The same client_id again: the same message, stored once.
    let (status, again) = app
        .post(&anna, &format!("{conv_path}/messages"), send)
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["message"]["id"], first["message"]["id"]);

    // Ben replied too recently for Anna? No: Anna just replied, so Ben gets the notice.
    let (status, ben_send) = app
        .post(
            &ben,
            &format!("{conv_path}/messages"),
            json!({"client_id": "b1", "text": "And white ones."}),
        )
        .await;
    assert_eq!(status, 201, "{ben_send}");
    assert_eq!(ben_send["notice"], "someone_else_replying");

    // The customer sees the signed text from the business, once.
    let (status, raw) = app.get(&c, &format!("/v1/chats/{chat_id}/messages")).await;
    assert_eq!(status, 200);
    assert_eq!(raw["messages"].as_array().map(Vec::len), Some(3), "{raw}");
    let signed = &raw["messages"][1];
    assert_eq!(
        signed["body"]["text"], "Yes, we have red ones.\n— Anna",
        "{raw}"
    );
    assert_eq!(signed["from"], s.user_id.as_str());
    assert!(signed["from_business"].is_object(), "{signed}");

    // The first human reply ended the wait, counted once.
    let conv = conversation_when(&app, &anna, &s, &c, "the wait ends", |c| {
        c["waiting_since"].is_null()
    })
    .await;
    assert_eq!(conv["unread"], 0);
    assert_eq!(conv["messages"][1]["agent"], anna.user_id.as_str());
    let stats = eventually("first response counted", || async {
        let (_, st) = app
            .get(&anna, &format!("/v1/biz/{}/stats", s.waba_id))
            .await;
        (st["totals"]["first_responses"] == 1).then_some(st)
    })
    .await;
    assert!(stats["totals"]["avg_first_response_ms"].is_i64(), "{stats}");

    // Input checks.
    for (body, code) in [
        (json!({"text": "no id"}), "invalid_request"),
        (json!({"client_id": "x"}), "invalid_request"),
        (
            json!({"client_id": "x", "text": "a", "quick_reply": "/hi"}),
            "invalid_request",
        ),
        (
            json!({"client_id": "x".repeat(65), "text": "a"}),
            "invalid_length",
        ),
        (json!({"client_id": "x", "text": ""}), "invalid_length"),
    ] {
        let (status, resp) = app
            .post(&anna, &format!("{conv_path}/messages"), body.clone())
            .await;
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}: {resp}"
        );
    }
    let (status, resp) = app
        .post(
            &anna,
            &format!("{conv_path}/messages"),
            json!({"client_id": "q", "quick_reply": "/nothing"}),
        )
        .await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (404, Some("unknown_quick_reply"))
    );
    let (status, _) = app
        .post(
            &anna,
            &format!("/v1/biz/{}/conversations/4915100039999/messages", s.waba_id),
            json!({"client_id": "n", "text": "hi"}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn quick_replies_expand_in_a_reply() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100060001", "Quick Shop").await;
    let c = user(&server, "+4915100060011").await;
    let chat_id = customer_says(&server, &c, &s, "Hours?").await;
    conversation_when(&app, &s.owner, &s, &c, "the conversation", |_| true).await;
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/replies", s.waba_id),
            json!({"shortcut": "/hours", "text": "We open at 7."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, sent) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/conversations/{}/messages", s.waba_id, c.user_id),
            json!({"client_id": "qr", "quick_reply": "/hours"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let (_, raw) = app.get(&c, &format!("/v1/chats/{chat_id}/messages")).await;
    assert_eq!(raw["messages"][0]["body"]["text"], "We open at 7.");
}

#[tokio::test]
async fn snoozed_conversations_reopen_when_their_time_comes() {
    let clock = TestClock::default();
    let server = TestServer::start_with_clock(&clock).await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100040001", "Snooze Shop").await;
    let c = user(&server, "+4915100040011").await;
    customer_says(&server, &c, &s, "Call me next week").await;
    let conv = conversation_when(&app, &s.owner, &s, &c, "the conversation", |_| true).await;
    let now = conv["last_activity"].as_i64().expect("ts");
    let path = format!("/v1/biz/{}/conversations/{}", s.waba_id, c.user_id);
    let (status, resp) = app
        .patch(&s.owner, &path, json!({"snoozed_until": now - 1}))
        .await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (400, Some("invalid_snooze"))
    );
    let until = now + 3_600_000;
    let (status, resp) = app
        .patch(
            &s.owner,
            &path,
            json!({"status": "snoozed", "snoozed_until": until}),
        )
        .await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["status"], "snoozed");
    let (_, list) = app
        .get(
            &s.owner,
            &format!("/v1/biz/{}/conversations?status=snoozed", s.waba_id),
        )
        .await;
    assert_eq!(list["conversations"].as_array().map(Vec::len), Some(1));

    clock.advance(3_600_000 + 1_000);
    let conv = conversation_when(&app, &s.owner, &s, &c, "the snooze ends", |c| {
        c["status"] == "open"
    })
    .await;
    assert!(conv["snoozed_until"].is_null());
}

#[tokio::test]
async fn notes_mention_team_members_and_stay_in_the_team() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100050001", "Note Shop").await;
    let anna = member(&server, &app, &s, "+4915100050002", "agent", json!({})).await;
    let ben = member(&server, &app, &s, "+4915100050003", "agent", json!({})).await;
    let c = user(&server, "+4915100050011").await;
    customer_says(&server, &c, &s, "Where is my cake?").await;
    conversation_when(&app, &anna, &s, &c, "the conversation", |_| true).await;
    let notes = format!("/v1/biz/{}/conversations/{}/notes", s.waba_id, c.user_id);
    let (status, note) = app
        .post(
            &anna,
            &notes,
            json!({"text": "@4915100050003 can you check the oven? cc @4915100059999"}),
        )
        .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["mentions"], json!([ben.user_id]));
    let (status, _) = app.post(&anna, &notes, json!({"text": ""})).await;
    assert_eq!(status, 400);
    let (status, _) = app
        .post(&anna, &notes, json!({"text": "x".repeat(4097)}))
        .await;
    assert_eq!(status, 400);

    let (_, listed) = app.get(&ben, &notes).await;
    assert_eq!(listed["notes"].as_array().map(Vec::len), Some(1));
    let mentions = format!("/v1/biz/{}/mentions", s.waba_id);
    let (_, for_ben) = app.get(&ben, &mentions).await;
    assert_eq!(for_ben["mentions"][0]["id"], note["id"]);
    assert_eq!(for_ben["mentions"][0]["customer"], c.user_id.as_str());
    let (_, for_anna) = app.get(&anna, &mentions).await;
    assert_eq!(for_anna["mentions"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn settings_turn_auto_assignment_off() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100070001", "Manual Shop").await;
    let anna = member(&server, &app, &s, "+4915100070002", "agent", json!({})).await;
    let path = format!("/v1/biz/{}/inbox/settings", s.waba_id);
    let (_, got) = app.get(&s.owner, &path).await;
    assert_eq!(got, json!({"auto_assign": true}));
    let (status, _) = app.put(&anna, &path, json!({"auto_assign": false})).await;
    assert_eq!(status, 403);
    let (status, _) = app.put(&s.owner, &path, json!({"auto_assign": "no"})).await;
    assert_eq!(status, 400);
    let (status, _) = app
        .put(&s.owner, &path, json!({"auto_assign": false}))
        .await;
    assert_eq!(status, 200);
    let c = user(&server, "+4915100070011").await;
    customer_says(&server, &c, &s, "Hi").await;
    let conv = conversation_when(&app, &anna, &s, &c, "the conversation", |_| true).await;
    assert!(conv["assignee"].is_null(), "{conv}");
    // The agent takes it.
    let (status, resp) = app
        .patch(
            &anna,
            &format!("/v1/biz/{}/conversations/{}", s.waba_id, c.user_id),
            json!({"assignee": anna.user_id}),
        )
        .await;
    assert_eq!(
        (status, resp["assignee"].as_str()),
        (200, Some(anna.user_id.as_str()))
    );
}
