//! Message templates through the team API (`/v1/biz/{waba_id}/templates`): admins
//! create (PENDING, the Graph API's checks and v1 errors), agents read, outsiders
//! learn nothing.

use serde_json::json;

use crate::app_inbox::member;
use crate::appkit::{App, shop, user};
use crate::support::TestServer;

#[tokio::test]
async fn templates_are_created_for_review_and_listed() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100090001", "Template Shop").await;
    let anna = member(&server, &app, &s, "+4915100090002", "agent", json!({})).await;
    let stranger = user(&server, "+4915100090003").await;
    let path = format!("/v1/biz/{}/templates", s.waba_id);

    let (status, empty) = app.get(&anna, &path).await;
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["templates"], json!([]));

    let body = json!({
        "name": "pickup_ready",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hello {{1}}, your order is ready.",
                        "example": {"body_text": [["Ada"]]}}],
    });
    let (status, created) = app.post(&s.owner, &path, body.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["name"], "pickup_ready");
    assert_eq!(created["category"], "UTILITY");
    assert!(created["id"].as_str().is_some_and(|id| !id.is_empty()));

    // The same name and language again: a conflict, as in the Graph API.
    let (status, again) = app.post(&s.owner, &path, body.clone()).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("template_exists")),
        "{again}"
    );
    // Invalid: the Graph API's message, a v1 error.
    let (status, bad) = app
        .post(
            &s.owner,
            &path,
            json!({"name": "Bad Name", "language": "en_US", "category": "UTILITY",
                   "components": [{"type": "BODY", "text": "x"}]}),
        )
        .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_template")),
        "{bad}"
    );
    assert!(
        bad["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("name")),
        "{bad}"
    );

    // Agents read but cannot create; strangers get 404.
    let (status, listed) = app.get(&anna, &path).await;
    assert_eq!(status, 200);
    assert_eq!(listed["templates"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["templates"][0]["status"], "PENDING");
    let other = json!({"name": "other", "language": "de", "category": "MARKETING",
                       "components": [{"type": "BODY", "text": "Hallo"}]});
    let (status, denied) = app.post(&anna, &path, other.clone()).await;
    assert_eq!(status, 403, "{denied}");
    let (status, _) = app.get(&stranger, &path).await;
    assert_eq!(status, 404);
    let (status, _) = app.post(&stranger, &path, other).await;
    assert_eq!(status, 404);
}
