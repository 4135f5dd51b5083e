//! Registration, verification, tokens and the profile (protocol v1 section 1).

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn register_verify_and_profile() {
    let server = TestServer::start().await;
    let (ada, _) = server.device(ADA, "laptop").await;
    let me = ada.me().await.unwrap();
    assert_eq!(me.user_id, uid(ADA));
    assert_eq!(me.phone, ADA);
    assert_eq!(me.devices.len(), 1);
    assert_eq!(me.devices[0].name, "laptop");
    // A second device of the same user gets its own token and is listed.
    let (phone, _) = server.device(ADA, "phone").await;
    assert_eq!(phone.me().await.unwrap().devices.len(), 2);
    let me = ada.update_profile(Some("Ada")).await.unwrap();
    assert_eq!(me.display_name.as_deref(), Some("Ada"));
    let too_long = "x".repeat(300);
    let err = ada.update_profile(Some(&too_long)).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("invalid_request"))
    );
    server.stop().await;
}

#[tokio::test]
async fn wrong_codes_burn_the_registration() {
    let server = TestServer::start().await;
    let c = server.client();
    let reg = c.register(BEN).await.unwrap();
    let code = reg.dev_code.unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let err = c
            .verify(&reg.registration_id, wrong, None)
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(400), Some("invalid_code"))
        );
    }
    // Burnt: even the right code no longer works.
    let err = c
        .verify(&reg.registration_id, &code, None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("invalid_registration"))
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    // (method, path, body, expected status, expected code)
    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        (
            "POST",
            "/v1/accounts/register",
            Some(r#"{"phone":"12345"}"#),
            400,
            "invalid_phone",
        ),
        (
            "POST",
            "/v1/accounts/register",
            Some(r#"{"phone":"+49abc"}"#),
            400,
            "invalid_phone",
        ),
        (
            "POST",
            "/v1/accounts/register",
            Some(r#"{"phone":5}"#),
            422,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/accounts/register",
            Some("not json"),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/accounts/verify",
            Some(r#"{"registration_id":"nope","code":"1"}"#),
            400,
            "invalid_registration",
        ),
        ("GET", "/v1/me", None, 401, "unauthorized"),
        ("GET", "/v1/chats", None, 401, "unauthorized"),
        ("GET", "/v1/nothing-here", None, 404, "not_found"),
    ];
    for (method, path, body, status, code) in cases {
        let mut req = http.request(method.parse().unwrap(), format!("{}{path}", server.base));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), *status, "{method} {path} {body:?}");
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["code"], *code, "{method} {path}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // A made-up token is refused.
    let resp = http
        .get(format!("{}/v1/me", server.base))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    server.stop().await;
}

#[tokio::test]
async fn registration_is_rate_limited_per_phone() {
    let server = TestServer::start_with(|c| c.registrations_per_phone_per_hour = 2).await;
    let c = server.client();
    c.register(CAT).await.unwrap();
    c.register(CAT).await.unwrap();
    let err = c.register(CAT).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(429), Some("rate_limited"))
    );
    // Another number is not affected.
    c.register(DAN).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn without_dev_mode_codes_are_not_returned_and_need_a_hook() {
    let server = TestServer::start_with(|c| c.dev = false).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/accounts/register", server.base))
        .json(&json!({"phone": ADA}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "code_delivery_unavailable");
    server.stop().await;
}

/// A device signs itself out (or another of the user's devices) for good: its token
/// stops working at once; nobody can revoke someone else's device.
#[tokio::test]
async fn devices_are_revoked() {
    let server = crate::support::TestServer::start().await;
    let (_, phone_token) = server.device("+4915100000071", "phone").await;
    let (_, web_token) = server.device("+4915100000071", "web").await;
    let (_, other_token) = server.user("+4915100000072").await;
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, token: &str| {
        http.request(method, format!("{}{path}", server.base))
            .bearer_auth(token)
            .send()
    };
    let me: serde_json::Value = call(reqwest::Method::GET, "/v1/me", &phone_token)
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let devices = me["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 2, "{me}");
    let phone_id = devices
        .iter()
        .find(|d| d["name"] == "phone")
        .and_then(|d| d["device_id"].as_str())
        .expect("the phone's id")
        .to_owned();
    // Someone else cannot sign the phone out.
    let r = call(
        reqwest::Method::DELETE,
        &format!("/v1/me/devices/{phone_id}"),
        &other_token,
    )
    .await
    .expect("delete");
    assert_eq!(r.status(), 404);
    // The web device signs itself out.
    let r = call(
        reqwest::Method::DELETE,
        "/v1/me/devices/current",
        &web_token,
    )
    .await
    .expect("delete");
    assert_eq!(r.status(), 204);
    let r = call(reqwest::Method::GET, "/v1/me", &web_token)
        .await
        .expect("me");
    assert_eq!(r.status(), 401, "a revoked token is refused");
    // The phone still works and no longer lists the web device; then it signs the
    // web device out again: gone already.
    let me: serde_json::Value = call(reqwest::Method::GET, "/v1/me", &phone_token)
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["devices"].as_array().map(Vec::len), Some(1), "{me}");
    let r = call(
        reqwest::Method::DELETE,
        "/v1/me/devices/current",
        &phone_token,
    )
    .await
    .expect("delete");
    assert_eq!(r.status(), 204);
    let r = call(
        reqwest::Method::DELETE,
        "/v1/me/devices/current",
        &phone_token,
    )
    .await
    .expect("delete");
    assert_eq!(r.status(), 401);
}
