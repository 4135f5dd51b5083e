//! The business API end to end: a business provisioned through the admin API sends
//! through Graph-style endpoints, a customer talks to it over protocol v1, and a
//! real webhook receiver checks every event's signature.

use reqwest::Method;
use serde_json::{Value, json};

use crate::biz::{self, Api, Receiver, inbound, statuses, value};
use crate::support::{ADA, BEN, RawWs, TestServer, uid};

const SHOP: &str = "+4930123456701";

fn flight_template() -> Value {
    json!({
        "name": "flight_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Flight {{1}}", "example": {"header_text": ["LY001"]}},
            {"type": "BODY", "text": "Hello {{1}}, flight {{2}} now departs at {{3}}.",
             "example": {"body_text": [["Ada", "LY001", "10:05"]]}},
            {"type": "FOOTER", "text": "Switchboard Air"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]}
        ]
    })
}

fn flight_send(to: &str, params: &[&str]) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": "flight_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "LY001"}]},
                {"type": "body", "parameters": params.iter().map(|p| json!({"type": "text", "text": p})).collect::<Vec<_>>()}
            ]
        }
    })
}

/// A customer's synced WebSocket and the direct chat with the business.
async fn customer(server: &TestServer, phone: &str, biz: &biz::Biz) -> (RawWs, String, String) {
    let (c, token) = server.user(phone).await;
    c.update_profile(Some("Ada Lovelace")).await.expect("name");
    let chat = c
        .create_direct_chat(&format!("+{}", biz.user_id))
        .await
        .expect("chat with the business");
    let mut ws = RawWs::connect(server, &token).await;
    ws.sync(0).await;
    (ws, chat.chat_id, token)
}

#[tokio::test]
async fn conversation_with_statuses_pricing_and_badge() {
    let server = TestServer::start().await;
    let hook = Receiver::start().await;
    let api = Api::new(&server);
    let biz = api
        .business("Switchboard Air", SHOP, true, Some(&hook))
        .await;
    let (mut ws, chat_id, _) = customer(&server, ADA, &biz).await;

    // Outside a service window only templates may be sent.
    let (s, e) = api
        .send(&biz, json!({"messaging_product": "whatsapp", "to": ADA, "type": "text", "text": {"body": "hi"}}))
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["error"]["code"], 131047);
    assert_eq!(e["error"]["type"], "OAuthException");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("(#131047)")
    );
    assert!(e["error"]["fbtrace_id"].is_string());

    // The customer writes: the business hears it, signed, and the window opens.
    ws.send_text_msg("c1", &chat_id, "Is my flight on time? ✈️")
        .await;
    let events = hook
        .wait_for("the inbound message", |e| !inbound(e).is_empty())
        .await;
    let m = inbound(&events)[0].clone();
    assert_eq!(m["type"], "text");
    assert_eq!(m["text"]["body"], "Is my flight on time? ✈️");
    assert_eq!(m["from"], uid(ADA));
    assert!(m["timestamp"].is_string());
    assert!(m["id"].as_str().unwrap().starts_with("wamid."));
    let v = value(&events[0]);
    assert_eq!(v["metadata"]["phone_number_id"], biz.phone_number_id);
    assert_eq!(v["contacts"][0]["wa_id"], uid(ADA));
    assert_eq!(v["contacts"][0]["profile"]["name"], "Ada Lovelace");
    assert_eq!(events[0].body["entry"][0]["id"], biz.waba_id);
    assert!(
        String::from_utf8_lossy(&events[0].raw).contains("\\u2708"),
        "non-ASCII is escaped"
    );

    // The business replies in context; the customer sees the verified business.
    let (s, sent) = api
        .send(
            &biz,
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": ADA, "type": "text",
                   "context": {"message_id": m["id"]}, "biz_opaque_callback_data": "ticket-7",
                   "text": {"body": "Yes, on time.", "preview_url": false}}),
        )
        .await;
    assert_eq!(s, 200, "{sent}");
    assert_eq!(sent["messaging_product"], "whatsapp");
    assert_eq!(sent["contacts"][0]["input"], ADA);
    assert_eq!(sent["contacts"][0]["wa_id"], uid(ADA));
    let wamid = sent["messages"][0]["id"].as_str().unwrap().to_owned();
    let (frame, _) = ws.recv_until("message").await;
    assert_eq!(frame["body"]["text"], "Yes, on time.");
    assert_eq!(frame["from"], biz.user_id);
    assert_eq!(frame["from_business"]["name"], "Switchboard Air");
    assert_eq!(frame["from_business"]["verified"], true);
    assert!(frame["reply_to"].is_string());

    // sent → delivered → read, each with pricing; a service reply is free.
    let seq = frame["seq"].as_u64().unwrap();
    ws.send(
        json!({"type": "receipt", "chat_id": chat_id, "up_to_seq": seq, "status": "delivered"}),
    )
    .await;
    ws.send(json!({"type": "receipt", "chat_id": chat_id, "up_to_seq": seq, "status": "read"}))
        .await;
    let events = hook
        .wait_for("sent, delivered and read", |e| {
            !statuses(e, "read").is_empty()
        })
        .await;
    for kind in ["sent", "delivered", "read"] {
        let st = statuses(&events, kind);
        assert_eq!(st.len(), 1, "{kind}: {st:?}");
        assert_eq!(st[0]["id"], wamid.as_str());
        assert_eq!(st[0]["recipient_id"], uid(ADA));
        assert_eq!(st[0]["biz_opaque_callback_data"], "ticket-7");
        assert_eq!(st[0]["pricing"]["billable"], false);
        assert_eq!(st[0]["pricing"]["category"], "service");
        assert_eq!(st[0]["pricing"]["pricing_model"], "PMP");
    }
    let order: Vec<&str> = events
        .iter()
        .flat_map(|e| value(e)["statuses"].as_array().into_iter().flatten())
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["sent", "delivered", "read"],
        "one conversation's events arrive in order"
    );
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "every event has its own id");

    // The business marks the customer's message read: the customer's devices see it.
    let (s, r) = api
        .send(&biz, json!({"messaging_product": "whatsapp", "status": "read", "message_id": m["id"], "typing_indicator": {"type": "text"}}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["success"], true);
    // The receipt (stored, then fanned out) and the typing signal (live only) may
    // arrive in either order.
    let (mut typing, mut receipt) = (None, None);
    while typing.is_none() || receipt.is_none() {
        let f = ws.recv().await;
        match f["type"].as_str() {
            Some("typing") => typing = Some(f),
            Some("receipt") => receipt = Some(f),
            _ => {}
        }
    }
    let (typing, receipt) = (typing.unwrap(), receipt.unwrap());
    assert_eq!(typing["user_id"], biz.user_id);
    assert_eq!(receipt["user_id"], biz.user_id);
    assert_eq!(receipt["status"], "read");
    assert_eq!(
        hook.state
            .bad_signatures
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn templates_are_reviewed_rendered_metered_and_invoiced() {
    let server = TestServer::start().await;
    let hook = Receiver::start().await;
    let api = Api::new(&server);
    let biz = api
        .business("Switchboard Air", SHOP, false, Some(&hook))
        .await;
    let (mut ws, chat_id, _) = customer(&server, BEN, &biz).await;

    let (s, t) = api
        .graph(
            &biz.token,
            Method::POST,
            &format!("/{}/message_templates", biz.waba_id),
            Some(flight_template()),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "PENDING");
    assert_eq!(t["category"], "UTILITY");
    let template_id = t["id"].as_str().unwrap().to_owned();

    // Not approved yet.
    let (s, e) = api
        .send(&biz, flight_send(BEN, &["Ben", "LY001", "10:05"]))
        .await;
    assert_eq!((s, e["error"]["code"].clone()), (404, json!(132001)), "{e}");
    // The same name and language again is refused.
    let (s, e) = api
        .graph(
            &biz.token,
            Method::POST,
            &format!("/{}/message_templates", biz.waba_id),
            Some(flight_template()),
        )
        .await;
    assert_eq!(s, 400, "{e}");

    let (s, r) = api
        .admin(
            Method::POST,
            &format!("/admin/v1/templates/{template_id}/review"),
            Some(json!({"status": "APPROVED"})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let events = hook
        .wait_for("the template status update", |e| {
            e.iter().any(|x| {
                x.body["entry"][0]["changes"][0]["field"] == "message_template_status_update"
            })
        })
        .await;
    let upd = events
        .iter()
        .find(|x| x.body["entry"][0]["changes"][0]["field"] == "message_template_status_update")
        .unwrap();
    assert_eq!(value(upd)["event"], "APPROVED");
    assert_eq!(value(upd)["message_template_name"], "flight_update");
    assert!(value(upd)["message_template_id"].is_u64(), "a JSON number");

    let (s, got) = api
        .graph(
            &biz.token,
            Method::GET,
            &format!("/{template_id}?fields=status"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(got, json!({"id": template_id, "status": "APPROVED"}));
    let (s, list) = api
        .graph(
            &biz.token,
            Method::GET,
            &format!("/{}/message_templates?status=approved", biz.waba_id),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // Wrong parameter count; then the real send, rendered for the customer.
    let (s, e) = api.send(&biz, flight_send(BEN, &["Ben", "LY001"])).await;
    assert_eq!((s, e["error"]["code"].clone()), (400, json!(132000)), "{e}");
    let (s, sent) = api
        .send(&biz, flight_send(BEN, &["Ben", "LY001", "10:05"]))
        .await;
    assert_eq!(s, 200, "{sent}");
    assert_eq!(sent["messages"][0]["message_status"], "accepted");
    let (frame, _) = ws.recv_until("message").await;
    let tpl = &frame["body"]["template"];
    assert_eq!(tpl["body"], "Hello Ben, flight LY001 now departs at 10:05.");
    assert_eq!(tpl["header"]["text"], "Flight LY001");
    assert_eq!(tpl["footer"], "Switchboard Air");
    assert_eq!(tpl["buttons"][0]["type"], "quick_reply");
    assert_eq!(frame["from_business"]["verified"], false);

    // Delivered: billed once, as utility outside a window, at Germany's rate.
    let seq = frame["seq"].as_u64().unwrap();
    ws.send(
        json!({"type": "receipt", "chat_id": chat_id, "up_to_seq": seq, "status": "delivered"}),
    )
    .await;
    ws.send(json!({"type": "receipt", "chat_id": chat_id, "up_to_seq": seq, "status": "read"}))
        .await;
    let events = hook
        .wait_for("read", |e| !statuses(e, "read").is_empty())
        .await;
    let d = statuses(&events, "delivered");
    assert_eq!(
        d[0]["pricing"],
        json!({"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"})
    );

    // The customer taps the quick reply: the business gets a `button` message.
    ws.send(
        json!({"type": "send", "client_id": "c-b", "chat_id": chat_id, "reply_to": frame["id"],
                   "body": {"button_reply": {"id": "Thanks", "title": "Thanks"}}}),
    )
    .await;
    let events = hook
        .wait_for("the button reply", |e| !inbound(e).is_empty())
        .await;
    let b = inbound(&events)[0];
    assert_eq!(b["type"], "button");
    assert_eq!(b["button"]["text"], "Thanks");
    assert_eq!(b["context"]["id"], sent["messages"][0]["id"]);

    let (s, usage) = api
        .admin(
            Method::GET,
            &format!("/admin/v1/businesses/{}/usage", biz.waba_id),
            None,
        )
        .await;
    assert_eq!(s, 200, "{usage}");
    let lines = usage["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{usage}");
    assert_eq!(lines[0]["category"], "utility");
    assert_eq!(lines[0]["country"], "49");
    assert_eq!(lines[0]["messages"], 1);
    assert!(usage["total_micros"].as_i64().unwrap() > 0);
    server.stop().await;
}

#[tokio::test]
async fn blocks_opt_outs_and_consumer_view() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let biz = api.business("Bakery Müller", SHOP, true, None).await;
    api.approved_template(
        &biz,
        json!({"name": "offer", "language": "de", "category": "MARKETING",
               "components": [{"type": "BODY", "text": "Heute frische Brezeln!"}]}),
    )
    .await;
    api.approved_template(
        &biz,
        json!({"name": "order_ready", "language": "de", "category": "UTILITY",
               "components": [{"type": "BODY", "text": "Ihre Bestellung ist fertig."}]}),
    )
    .await;
    let (_c, ada_token) = server.user(ADA).await;
    let http = reqwest::Client::new();
    let me = |m: Method, path: &str| {
        http.request(m, format!("{}{path}", server.base))
            .bearer_auth(&ada_token)
    };
    let send = |name: &str| {
        json!({"messaging_product": "whatsapp", "to": ADA, "type": "template",
               "template": {"name": name, "language": {"code": "de"}}})
    };

    let view: Value = me(Method::GET, &format!("/v1/businesses/{}", biz.user_id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["name"], "Bakery Müller");
    assert_eq!(view["verified"], true);
    assert_eq!(view["blocked"], false);
    let r = me(Method::GET, &format!("/v1/businesses/{}", uid(BEN)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    assert_eq!(api.send(&biz, send("offer")).await.0, 200);
    let r: Value = me(
        Method::PUT,
        &format!("/v1/businesses/{}/marketing", biz.user_id),
    )
    .json(&json!({"opt_out": true}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(r["marketing_opt_out"], true);
    let (s, e) = api.send(&biz, send("offer")).await;
    assert_eq!((s, e["error"]["code"].clone()), (400, json!(131050)), "{e}");
    assert_eq!(
        api.send(&biz, send("order_ready")).await.0,
        200,
        "utility still arrives"
    );

    let r = me(
        Method::POST,
        &format!("/v1/businesses/{}/block", biz.user_id),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let (s, e) = api.send(&biz, send("order_ready")).await;
    assert_eq!((s, e["error"]["code"].clone()), (400, json!(131026)), "{e}");
    let r = me(
        Method::DELETE,
        &format!("/v1/businesses/{}/block", biz.user_id),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(api.send(&biz, send("order_ready")).await.0, 200);

    let r: Value = me(
        Method::POST,
        &format!("/v1/businesses/{}/report", biz.user_id),
    )
    .json(&json!({"reason": "spam", "block": true}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(r, json!({"reported": true, "blocked": true}));
    let (s, n) = api
        .graph(
            &biz.token,
            Method::GET,
            &format!(
                "/{}?fields=quality_rating,whatsapp_business_manager_messaging_limit",
                biz.phone_number_id
            ),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(n["id"], biz.phone_number_id);
    assert!(["GREEN", "YELLOW", "RED"].contains(&n["quality_rating"].as_str().unwrap()));
    assert!(
        n["whatsapp_business_manager_messaging_limit"]
            .as_str()
            .unwrap()
            .starts_with("TIER_")
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_graph_errors() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let biz = api.business("Shop", SHOP, false, None).await;
    let other = api.business("Other", "+4930123456702", false, None).await;
    server.user(ADA).await;
    let pn = &biz.phone_number_id;

    // Authentication.
    let r = api
        .http
        .post(format!("{}/v21.0/{pn}/messages", server.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], 190);
    let (s, e) = api
        .graph("not-a-token", Method::GET, &format!("/{pn}"), None)
        .await;
    assert_eq!((s, e["error"]["code"].clone()), (401, json!(190)));
    // Another business's objects do not exist for this token.
    let (s, e) = api
        .graph(
            &biz.token,
            Method::GET,
            &format!("/{}", other.phone_number_id),
            None,
        )
        .await;
    assert_eq!((s, e["error"]["code"].clone()), (400, json!(100)), "{e}");
    // access_token in the query works; unversioned paths too.
    let r = api
        .http
        .get(format!("{}/{pn}?access_token={}", server.base, biz.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let cases: Vec<(Value, u16, i64)> = vec![
        (json!("not an object"), 400, 100),
        (
            json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}),
            400,
            131008,
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "not a phone", "type": "text", "text": {"body": "x"}}),
            400,
            100,
        ),
        (
            json!({"messaging_product": "whatsapp", "to": ADA, "type": "text", "text": {"body": ""}}),
            400,
            131009,
        ),
        (
            json!({"messaging_product": "whatsapp", "to": ADA, "type": "text", "text": {"body": "x".repeat(4097)}}),
            400,
            131009,
        ),
        (
            json!({"messaging_product": "whatsapp", "to": ADA, "type": "hologram"}),
            400,
            100,
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "+4915199999999", "type": "template", "template": {"name": "x", "language": {"code": "en"}}}),
            400,
            131026,
        ),
        (
            json!({"messaging_product": "whatsapp", "to": SHOP, "type": "template", "template": {"name": "x", "language": {"code": "en"}}}),
            400,
            131021,
        ),
        (
            json!({"messaging_product": "whatsapp", "to": ADA, "type": "template", "template": {"name": "nope", "language": {"code": "en"}}}),
            404,
            132001,
        ),
        (
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.bogus"}),
            400,
            131009,
        ),
    ];
    for (body, status, code) in cases {
        let (s, e) = api.send(&biz, body.clone()).await;
        assert_eq!(
            (s, e["error"]["code"].as_i64()),
            (status, Some(code)),
            "{body} → {e}"
        );
        assert_eq!(e["error"]["error_data"]["messaging_product"], "whatsapp");
    }
    // Malformed JSON.
    let r = api
        .http
        .post(format!("{}/v21.0/{pn}/messages", server.base))
        .bearer_auth(&biz.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], 100);
    // Unknown edges and objects.
    let (s, e) = api
        .graph(&biz.token, Method::GET, &format!("/{pn}/nonsense"), None)
        .await;
    assert_eq!((s, e["error"]["code"].clone()), (400, json!(100)));
    // Bad template definitions.
    for spec in [
        json!({"name": "Bad Name", "language": "en", "category": "UTILITY", "components": [{"type": "BODY", "text": "x"}]}),
        json!({"name": "ok", "language": "en", "category": "SOMETHING", "components": [{"type": "BODY", "text": "x"}]}),
        json!({"name": "ok", "language": "en", "category": "UTILITY", "components": []}),
        json!({"name": "ok", "language": "en", "category": "UTILITY", "components": [{"type": "BODY", "text": "{{1}} starts with a variable"}]}),
    ] {
        let (s, e) = api
            .graph(
                &biz.token,
                Method::POST,
                &format!("/{}/message_templates", biz.waba_id),
                Some(spec.clone()),
            )
            .await;
        assert_eq!(s, 400, "{spec} → {e}");
        assert!(e["error"]["code"].is_number());
    }
    server.stop().await;
}

#[tokio::test]
async fn idempotency_key_and_throughput() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let biz = api.business("Shop", SHOP, true, None).await;
    api.approved_template(&biz, json!({"name": "hello", "language": "en", "category": "UTILITY", "components": [{"type": "BODY", "text": "Hello there"}]})).await;
    let (c, token) = server.user(ADA).await;
    let body = json!({"messaging_product": "whatsapp", "to": ADA, "type": "template", "template": {"name": "hello", "language": {"code": "en"}}});
    let post = |key: &str, body: &Value| {
        api.http
            .post(format!(
                "{}/v21.0/{}/messages",
                server.base, biz.phone_number_id
            ))
            .bearer_auth(&biz.token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
    };
    let a = post("order-1", &body).await.unwrap();
    assert_eq!(a.status(), 200);
    let a: Value = a.json().await.unwrap();
    let b = post("order-1", &body).await.unwrap();
    assert_eq!(b.status(), 200);
    assert_eq!(b.headers().get("idempotent-replayed").unwrap(), "true");
    let b: Value = b.json().await.unwrap();
    assert_eq!(a, b, "the first answer is replayed");
    let mut other = body.clone();
    other["to"] = json!(BEN);
    assert_eq!(
        post("order-1", &other).await.unwrap().status(),
        400,
        "same key, different request"
    );
    let mut ws = RawWs::connect(&server, &token).await;
    let (_, frames) = ws.sync(0).await;
    let messages = frames.iter().filter(|f| f["type"] == "message").count();
    assert_eq!(messages, 1, "the retried request sent nothing twice");
    drop(c);

    // Throughput: at 1 message per second, ten quick sends cannot all pass.
    let (s, r) = api
        .admin(
            Method::PUT,
            &format!("/admin/v1/businesses/{}/throughput", biz.waba_id),
            Some(json!({"mps": 1})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let mut throttled = 0;
    for _ in 0..10 {
        let (s, e) = api.send(&biz, body.clone()).await;
        if s == 400 && e["error"]["code"] == 130429 {
            throttled += 1;
        }
    }
    assert!(throttled > 0, "the per-number throughput limit applies");
    server.stop().await;
}

#[tokio::test]
async fn webhook_retries_until_the_receiver_recovers() {
    let server = TestServer::start().await;
    let hook = Receiver::start().await;
    let api = Api::new(&server);
    let biz = api.business("Shop", SHOP, true, Some(&hook)).await;
    let (mut ws, chat_id, _) = customer(&server, ADA, &biz).await;
    hook.state
        .fail_next
        .store(3, std::sync::atomic::Ordering::SeqCst);
    for i in 0..5 {
        ws.send_text_msg(&format!("c{i}"), &chat_id, &format!("message {i}"))
            .await;
    }
    let events = hook
        .wait_for("five messages", |e| inbound(e).len() >= 5)
        .await;
    let texts: Vec<&str> = inbound(&events)
        .iter()
        .map(|m| m["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "message 0",
            "message 1",
            "message 2",
            "message 3",
            "message 4"
        ]
    );
    assert!(
        hook.state
            .attempts
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 8,
        "failed attempts were retried"
    );
    server.stop().await;
}

#[tokio::test]
async fn webhook_urls_on_private_networks_are_refused_outside_dev_mode() {
    let server = TestServer::start_with(|c| c.allow_private_webhooks = false).await;
    let hook = Receiver::start().await;
    let api = Api::new(&server);
    let biz = api.business("Shop", SHOP, false, None).await;
    let (s, e) = api
        .admin(
            Method::PUT,
            &format!("/admin/v1/businesses/{}/webhook", biz.waba_id),
            Some(json!({"url": hook.url, "verify_token": biz::VERIFY_TOKEN, "app_secret": biz::APP_SECRET})),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        hook.state
            .attempts
            .load(std::sync::atomic::Ordering::SeqCst)
            == 0
    );
    server.stop().await;
}

#[tokio::test]
async fn media_upload_download_and_send() {
    let server = TestServer::start().await;
    let hook = Receiver::start().await;
    let api = Api::new(&server);
    let biz = api.business("Shop", SHOP, true, Some(&hook)).await;
    let (mut ws, chat_id, token) = customer(&server, ADA, &biz).await;
    ws.send_text_msg("c1", &chat_id, "send me the menu").await;
    hook.wait_for("the customer's message", |e| !inbound(e).is_empty())
        .await;

    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", "application/pdf")
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf.clone())
                .file_name("menu.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = api
        .http
        .post(format!(
            "{}/v21.0/{}/media",
            server.base, biz.phone_number_id
        ))
        .bearer_auth(&biz.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let up: Value = r.json().await.unwrap();
    let media_id = up["id"].as_str().unwrap().to_owned();
    assert!(
        media_id.bytes().all(|b| b.is_ascii_digit()),
        "Graph media ids are numeric"
    );

    let (s, info) = api
        .graph(&biz.token, Method::GET, &format!("/{media_id}"), None)
        .await;
    assert_eq!(s, 200, "{info}");
    assert_eq!(info["mime_type"], "application/pdf");
    assert_eq!(info["file_size"], pdf.len());
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("http://"), "an absolute URL");
    let bytes = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.to_vec(), pdf, "the signed URL works without a token");

    let (s, sent) = api
        .send(&biz, json!({"messaging_product": "whatsapp", "to": ADA, "type": "document",
                           "document": {"id": media_id, "caption": "Our menu", "filename": "menu.pdf"}}))
        .await;
    assert_eq!(s, 200, "{sent}");
    let (frame, _) = ws.recv_until("message").await;
    let our_media = frame["body"]["media_id"].as_str().unwrap().to_owned();
    assert_eq!(frame["body"]["caption"], "Our menu");
    let r = reqwest::Client::new()
        .get(format!("{}/v1/media/{our_media}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the customer may fetch media sent to them");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    server.stop().await;
}

#[tokio::test]
async fn authentication_codes_not_delivered_in_time_fail_and_are_not_billed() {
    let clock = crate::support::TestClock::default();
    let server = TestServer::start_with_clock(&clock).await;
    let hook = Receiver::start().await;
    let api = Api::new(&server);
    let biz = api.business("Bank", SHOP, true, Some(&hook)).await;
    api.approved_template(
        &biz,
        json!({"name": "login_code", "language": "en", "category": "AUTHENTICATION",
               "components": [{"type": "BODY", "add_security_recommendation": true},
                              {"type": "FOOTER", "code_expiration_minutes": 10},
                              {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]}]}),
    )
    .await;
    // The customer is offline.
    let (_c, token) = server.user(ADA).await;
    let (s, sent) = api
        .send(&biz, json!({"messaging_product": "whatsapp", "to": ADA, "type": "template",
                           "template": {"name": "login_code", "language": {"code": "en"},
                                        "components": [{"type": "body", "parameters": [{"type": "text", "text": "482913"}]}]}}))
        .await;
    assert_eq!(s, 200, "{sent}");
    let wamid = sent["messages"][0]["id"].as_str().unwrap().to_owned();
    hook.wait_for("sent", |e| !statuses(e, "sent").is_empty())
        .await;

    clock.advance(11 * 60 * 1000);
    let events = hook
        .wait_for("failed", |e| !statuses(e, "failed").is_empty())
        .await;
    let failed = statuses(&events, "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["id"], wamid.as_str());
    assert_eq!(failed[0]["errors"][0]["code"], 131026);
    assert_eq!(failed[0]["pricing"]["billable"], false);

    // The phone comes online later: the code is delivered but not billed.
    let mut ws = RawWs::connect(&server, &token).await;
    let (_, frames) = ws.sync(0).await;
    let m = frames
        .iter()
        .find(|f| f["type"] == "message")
        .expect("the stored message");
    assert!(
        m["body"]["template"]["body"]
            .as_str()
            .unwrap()
            .contains("482913")
    );
    ws.send(json!({"type": "receipt", "chat_id": m["chat_id"], "up_to_seq": m["seq"], "status": "delivered"}))
        .await;
    hook.wait_for("delivered", |e| !statuses(e, "delivered").is_empty())
        .await;
    let (s, usage) = api
        .admin(
            Method::GET,
            &format!("/admin/v1/businesses/{}/usage", biz.waba_id),
            None,
        )
        .await;
    assert_eq!(s, 200, "{usage}");
    assert_eq!(usage["lines"], json!([]), "an expired code is not billed");
    server.stop().await;
}

#[tokio::test]
async fn a_failing_receiver_does_not_hold_up_other_businesses() {
    let server = TestServer::start().await;
    let down = Receiver::start().await;
    let up = Receiver::start().await;
    let api = Api::new(&server);
    let a = api.business("Down Inc", SHOP, true, Some(&down)).await;
    let b = api
        .business("Up Inc", "+4930123456702", true, Some(&up))
        .await;
    down.state
        .fail_next
        .store(u32::MAX, std::sync::atomic::Ordering::SeqCst);
    let (mut ws_a, chat_a, _) = customer(&server, ADA, &a).await;
    for i in 0..5 {
        ws_a.send_text_msg(&format!("a{i}"), &chat_a, "to the failing one")
            .await;
    }
    let (c, token) = server.user(BEN).await;
    let chat_b = c
        .create_direct_chat(&format!("+{}", b.user_id))
        .await
        .expect("chat");
    let mut ws_b = RawWs::connect(&server, &token).await;
    ws_b.sync(0).await;
    for i in 0..5 {
        ws_b.send_text_msg(&format!("b{i}"), &chat_b.chat_id, "to the healthy one")
            .await;
    }
    up.wait_for("the healthy business's events", |e| inbound(e).len() == 5)
        .await;
    assert!(
        down.state
            .attempts
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1,
        "the failing endpoint is being retried meanwhile"
    );
    assert!(down.state.events.lock().await.is_empty());
    server.stop().await;
}
