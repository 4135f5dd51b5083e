//! Verification applications and look-alike names over HTTP: the owner applies, a
//! platform admin works the queue (reject with a reason, approve), customers see
//! the badge; a name imitating a verified business is held until an admin decides;
//! reports by customers reach the admin's quality inputs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::appkit::{App, Shop, eventually, shop, user};
use crate::support::TestServer;

const ADMIN: &str = "test-admin-token-0123456789";

async fn admin(app: &App, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    app.call(Some(ADMIN), method, path, body).await
}

fn application() -> Value {
    json!({
        "legal_name": "Bruno Backwaren GmbH",
        "registration_number": "HRB 12345",
        "country": "DE",
        "address": "Hauptstraße 1, 10115 Berlin",
        "website": "https://bruno.example",
        "document_media_ids": ["doc1"],
    })
}

async fn apply(app: &App, s: &Shop) -> (u16, Value) {
    app.post(
        &s.owner,
        &format!("/v1/biz/{}/verification", s.waba_id),
        application(),
    )
    .await
}

async fn decide(app: &App, s: &Shop, status: &str, reason: Option<&str>) {
    let (code, body) = admin(
        app,
        Method::POST,
        &format!("/admin/v1/businesses/{}/verification", s.waba_id),
        Some(json!({"status": status, "reason": reason})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test]
async fn apply_reject_reapply_approve_and_customers_see_the_badge() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915400000001", "Bruno's Bakery").await;
    let customer = user(&server, "+4915400000002").await;

    let (status, body) = apply(&app, &s).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["verification"], "pending");
    let (status, body) = apply(&app, &s).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("already_pending"))
    );

    let (status, queue) = admin(
        &app,
        Method::GET,
        "/admin/v1/verifications?status=pending",
        None,
    )
    .await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(queue["data"][0]["waba_id"], s.waba_id.as_str());
    assert_eq!(
        queue["data"][0]["application"]["legal_name"],
        "Bruno Backwaren GmbH"
    );

    decide(
        &app,
        &s,
        "rejected",
        Some("the register extract is unreadable"),
    )
    .await;
    let (_, body) = app
        .get(&s.owner, &format!("/v1/biz/{}/verification", s.waba_id))
        .await;
    assert_eq!(body["verification"], "rejected");
    assert_eq!(body["reason"], "the register extract is unreadable");
    assert_eq!(body["application"]["status"], "rejected");
    assert_eq!(
        body["application"]["reason"],
        "the register extract is unreadable"
    );
    let (_, queue) = admin(&app, Method::GET, "/admin/v1/verifications", None).await;
    assert_eq!(queue["data"], json!([]));

    let (status, body) = apply(&app, &s).await;
    assert_eq!(status, 201, "{body}");
    decide(&app, &s, "verified", None).await;
    let (_, body) = app
        .get(&s.owner, &format!("/v1/biz/{}/verification", s.waba_id))
        .await;
    assert_eq!(
        (&body["verification"], &body["application"]["status"]),
        (&json!("verified"), &json!("approved"))
    );
    let (status, body) = apply(&app, &s).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("already_verified"))
    );

    let (_, profile) = app
        .get(&customer, &format!("/v1/businesses/{}", s.user_id))
        .await;
    assert_eq!(profile["verified"], true, "{profile}");
    // Its messages carry the badge.
    let now = switchboard_server::state::system_clock()();
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/scheduled", s.waba_id),
            json!({"to": customer.user_id, "text": "thanks!", "send_at": now}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let chat = switchboard_core::ids::direct_chat_id(&customer.user_id, &s.user_id);
    let msg = eventually("the message", || async {
        let (_, body) = app
            .get(&customer, &format!("/v1/chats/{chat}/messages"))
            .await;
        body["messages"].get(0).cloned()
    })
    .await;
    assert_eq!(
        msg["from_business"],
        json!({"name": "Bruno's Bakery", "verified": true})
    );

    // A verified business's rename is always reviewed; the old name stays.
    let (status, body) = app
        .put(
            &s.owner,
            &format!("/v1/biz/{}/name", s.waba_id),
            json!({"name": "Bruno's Backstube"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["name"], "Bruno's Bakery");
    assert_eq!(body["review"]["status"], "held");
    assert_eq!(body["review"]["similar_to"], Value::Null);
}

#[tokio::test]
async fn a_look_alike_of_a_verified_name_is_held_until_an_admin_decides() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let real = shop(&server, &app, "+4915400000011", "Bruno's Bakery").await;
    apply(&app, &real).await;
    decide(&app, &real, "verified", None).await;
    let customer = user(&server, "+4915400000013").await;

    // "Вruno's Bakery" with a Cyrillic В.
    let fake = shop(&server, &app, "+4915400000012", "\u{412}runo's Bakery").await;
    let (_, body) = app
        .get(&fake.owner, &format!("/v1/biz/{}/name", fake.waba_id))
        .await;
    assert_eq!(body["name"], "+4915400000012", "{body}");
    assert_eq!(body["review"]["status"], "held");
    assert_eq!(body["review"]["requested"], "\u{412}runo's Bakery");
    assert_eq!(
        body["review"]["similar_to"]["waba_id"],
        real.waba_id.as_str()
    );
    let (_, profile) = app
        .get(&customer, &format!("/v1/businesses/{}", fake.user_id))
        .await;
    assert_eq!(profile["name"], "+4915400000012");

    let (status, queue) = admin(&app, Method::GET, "/admin/v1/names?status=held", None).await;
    assert_eq!(status, 200, "{queue}");
    let held: Vec<&Value> = queue["data"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    assert_eq!(held.len(), 1, "{queue}");
    assert_eq!(held[0]["waba_id"], fake.waba_id.as_str());

    let review = format!("/admin/v1/businesses/{}/name-review", fake.waba_id);
    let (status, body) = admin(
        &app,
        Method::POST,
        &review,
        Some(json!({"decision": "reject", "reason": "imitates a verified bakery"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "+4915400000012");
    assert_eq!(body["name_review"]["status"], "rejected");
    let (status, body) = admin(
        &app,
        Method::POST,
        &review,
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_held"))
    );

    // Renaming to another look-alike is held again; an admin may approve it.
    let (status, body) = app
        .put(
            &fake.owner,
            &format!("/v1/biz/{}/name", fake.waba_id),
            json!({"name": "Brunos Bakery"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = admin(
        &app,
        Method::POST,
        &review,
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Brunos Bakery");
    let (_, profile) = app
        .get(&customer, &format!("/v1/businesses/{}", fake.user_id))
        .await;
    assert_eq!(profile["name"], "Brunos Bakery");

    // A name like no verified one applies at once.
    let (status, body) = app
        .put(
            &fake.owner,
            &format!("/v1/biz/{}/name", fake.waba_id),
            json!({"name": "Corner Butchery"}),
        )
        .await;
    assert_eq!((status, &body["name"]), (200, &json!("Corner Butchery")));
    let (_, queue) = admin(&app, Method::GET, "/admin/v1/names", None).await;
    assert_eq!(queue["data"], json!([]));
}

#[tokio::test]
async fn only_the_owner_applies_and_bad_input_is_refused() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915400000021", "Bruno's Bakery").await;
    let helper = user(&server, "+4915400000022").await;
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/team", s.waba_id),
            json!({"phone": "+4915400000022", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let path = format!("/v1/biz/{}/verification", s.waba_id);
    let (status, body) = app.post(&helper, &path, application()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = app
        .put(
            &helper,
            &format!("/v1/biz/{}/name", s.waba_id),
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(status, 403);
    let stranger = user(&server, "+4915400000023").await;
    let (status, _) = app.post(&stranger, &path, application()).await;
    assert_eq!(status, 404);

    let edit = |k: &str, v: Value| {
        let mut a = application();
        a[k] = v;
        a
    };
    for (body, code) in [
        (edit("country", json!("XX")), "invalid_country"),
        (edit("country", json!("Germany")), "invalid_country"),
        (edit("legal_name", json!("")), "invalid_length"),
        (edit("registration_number", json!("")), "invalid_length"),
        (edit("address", json!("x".repeat(501))), "invalid_length"),
        (
            edit("website", json!("javascript:alert(1)")),
            "invalid_website",
        ),
        (
            edit("document_media_ids", json!(["a", "b", "c", "d", "e", "f"])),
            "too_many_documents",
        ),
        (
            edit("document_media_ids", json!(["../etc"])),
            "invalid_document",
        ),
        (edit("surprise", json!(1)), "invalid_request"),
        (json!({"legal_name": "Bruno GmbH"}), "invalid_request"),
    ] {
        let (status, resp) = app.post(&s.owner, &path, body.clone()).await;
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (400, Some(code)),
            "{body} → {resp}"
        );
    }
    for (body, code) in [
        (json!({"name": ""}), "invalid_length"),
        (json!({"name": "x".repeat(101)}), "invalid_length"),
        (json!({"name": "a", "b": 1}), "invalid_request"),
    ] {
        let (status, resp) = app
            .put(
                &s.owner,
                &format!("/v1/biz/{}/name", s.waba_id),
                body.clone(),
            )
            .await;
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (400, Some(code)),
            "{body} → {resp}"
        );
    }
    for (path, body) in [
        ("/admin/v1/verifications?status=maybe", None),
        ("/admin/v1/names?status=maybe", None),
        ("/admin/v1/names?limit=0", None),
    ] {
        let (status, resp) = admin(&app, Method::GET, path, body).await;
        assert_eq!(status, 400, "{path} → {resp}");
    }
    let (status, resp) = admin(
        &app,
        Method::POST,
        &format!("/admin/v1/businesses/{}/name-review", s.waba_id),
        Some(json!({"decision": "maybe"})),
    )
    .await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (400, Some("invalid_decision"))
    );
    let (status, _) = admin(
        &app,
        Method::POST,
        &format!("/admin/v1/businesses/{}/name-review", s.waba_id),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(None, Method::GET, "/admin/v1/verifications", None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_customer_report_shows_in_the_admin_quality_inputs() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915400000031", "Bruno's Bakery").await;
    let customer = user(&server, "+4915400000032").await;
    let (status, body) = app
        .post(
            &customer,
            &format!("/v1/businesses/{}/report", s.user_id),
            json!({"reason": "spam"}),
        )
        .await;
    assert_eq!((status, &body["reported"]), (200, &json!(true)), "{body}");
    let (status, body) = admin(
        &app,
        Method::GET,
        &format!("/admin/v1/businesses/{}", s.waba_id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reports_7d"], 1, "{body}");
    assert_eq!(body["blocks_7d"], 0, "{body}");
}
