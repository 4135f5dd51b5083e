//! Business accounts in the app: a user turns their account into a business, lists
//! the businesses they work for, and nobody else sees them.

use serde_json::json;

use crate::appkit::{App, shop, user};
use crate::support::TestServer;

#[tokio::test]
async fn a_user_turns_their_account_into_a_business() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100000001", "Bruno's Bakery").await;
    assert_eq!(s.user_id, s.owner.user_id);

    let (status, body) = app.get(&s.owner, "/v1/me/businesses").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["businesses"][0]["waba_id"], s.waba_id.as_str());
    assert_eq!(body["businesses"][0]["role"], "owner");
    assert_eq!(body["businesses"][0]["name"], "Bruno's Bakery");

    // Once only.
    let (status, body) = app
        .post(&s.owner, "/v1/biz", json!({"name": "Again"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("already_business"))
    );

    // Customers see it as a business (protocol section 5).
    let customer = user(&server, "+4915100000002").await;
    let (status, body) = app
        .get(&customer, &format!("/v1/businesses/{}", s.user_id))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Bruno's Bakery");
    assert_eq!(body["verified"], false);

    // A stranger learns nothing about the business's team side.
    let (status, body) = app.get(&customer, &format!("/v1/biz/{}", s.waba_id)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = app.get(&customer, "/v1/biz/not-a-number").await;
    assert_eq!(status, 404);
    let (status, body) = app.get(&customer, "/v1/me/businesses").await;
    assert_eq!(
        (status, body["businesses"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}

#[tokio::test]
async fn bad_business_input_is_refused() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let u = user(&server, "+4915100000003").await;
    for (body, code) in [
        (json!({"name": ""}), "invalid_request"),
        (json!({"name": "x".repeat(101)}), "invalid_request"),
        (
            json!({"name": "Shop", "vertical": "SPACESHIPS"}),
            "invalid_vertical",
        ),
        (json!({"name": "Shop", "surprise": 1}), "invalid_request"),
    ] {
        let (status, resp) = app.post(&u, "/v1/biz", body.clone()).await;
        assert_eq!(status, 400, "{body} → {resp}");
        assert_eq!(resp["error"]["code"], code, "{body} → {resp}");
    }
    let (status, _) = app
        .call(
            None,
            reqwest::Method::POST,
            "/v1/biz",
            Some(json!({"name": "Shop"})),
        )
        .await;
    assert_eq!(status, 401);
}
