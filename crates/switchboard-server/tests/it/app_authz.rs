//! The authorization matrix of the team app: every `/v1/biz/{waba_id}/…` endpoint
//! that exists, called by the owner, an admin and an agent of business A, an agent
//! of business B, a customer and nobody. Strangers (B's agent, customers) get 404 and
//! learn nothing, no token is 401, a role too low is 403, enough role is let
//! through. And what the team writes about a customer (notes, labels, assignment)
//! never reaches the customer.

use reqwest::Method;
use serde_json::{Value, json};

use crate::app_inbox::{customer_says, member};
use crate::appkit::{App, User, eventually, shop, user};
use crate::support::{RawWs, TestServer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Least {
    Agent,
    Admin,
    Owner,
}

/// One endpoint: method, path (`{A}` the business, `{cust}` a customer, `{agent}`,
/// `{admin}`, `{label}` and `{msg}` existing ids), body and the least role.
struct Row(Method, &'static str, Option<Value>, Least);

fn rows() -> Vec<Row> {
    use Least::*;
    let get = |p| Row(Method::GET, p, None, Agent);
    vec![
        get("/v1/biz/{A}"),
        // The team.
        get("/v1/biz/{A}/team"),
        Row(
            Method::POST,
            "/v1/biz/{A}/team",
            Some(json!({"phone": "+4915100990099", "role": "agent"})),
            Admin,
        ),
        Row(
            Method::POST,
            "/v1/biz/{A}/team",
            Some(json!({"phone": "+4915100990099", "role": "admin"})),
            Owner,
        ),
        Row(
            Method::PATCH,
            "/v1/biz/{A}/team/{agent}",
            Some(json!({"capacity": 5})),
            Admin,
        ),
        Row(
            Method::DELETE,
            "/v1/biz/{A}/team/4915100990098",
            None,
            Admin,
        ),
        // The inbox.
        Row(Method::GET, "/v1/biz/{A}/inbox/settings", None, Admin),
        Row(
            Method::PUT,
            "/v1/biz/{A}/inbox/settings",
            Some(json!({"auto_assign": true})),
            Admin,
        ),
        get("/v1/biz/{A}/conversations"),
        get("/v1/biz/{A}/conversations/{cust}"),
        Row(
            Method::PATCH,
            "/v1/biz/{A}/conversations/{cust}",
            Some(json!({"status": "open"})),
            Agent,
        ),
        Row(
            Method::POST,
            "/v1/biz/{A}/conversations/{cust}/messages",
            Some(json!({"client_id": "authz", "text": "Hello"})),
            Agent,
        ),
        Row(
            Method::POST,
            "/v1/biz/{A}/conversations/{cust}/typing",
            None,
            Agent,
        ),
        get("/v1/biz/{A}/conversations/{cust}/notes"),
        Row(
            Method::POST,
            "/v1/biz/{A}/conversations/{cust}/notes",
            Some(json!({"text": "a note"})),
            Agent,
        ),
        get("/v1/biz/{A}/mentions"),
        // Labels.
        get("/v1/biz/{A}/labels"),
        Row(
            Method::POST,
            "/v1/biz/{A}/labels",
            Some(json!({"name": "Authz", "colour": "red"})),
            Admin,
        ),
        Row(
            Method::PATCH,
            "/v1/biz/{A}/labels/{label}",
            Some(json!({"colour": "blue"})),
            Admin,
        ),
        Row(
            Method::DELETE,
            "/v1/biz/{A}/labels/lb0000000000000000",
            None,
            Admin,
        ),
        get("/v1/biz/{A}/labels/{label}/messages"),
        Row(
            Method::PUT,
            "/v1/biz/{A}/conversations/{cust}/labels/{label}",
            None,
            Agent,
        ),
        Row(
            Method::DELETE,
            "/v1/biz/{A}/conversations/{cust}/labels/{label}",
            None,
            Agent,
        ),
        Row(
            Method::PUT,
            "/v1/biz/{A}/conversations/{cust}/messages/{msg}/labels/{label}",
            None,
            Agent,
        ),
        Row(
            Method::DELETE,
            "/v1/biz/{A}/conversations/{cust}/messages/{msg}/labels/{label}",
            None,
            Agent,
        ),
        // The other features (included when they exist).
        get("/v1/biz/{A}/automation/greeting"),
        get("/v1/biz/{A}/automation/away"),
        get("/v1/biz/{A}/catalog/products"),
        get("/v1/biz/{A}/catalog/collections"),
        Row(
            Method::DELETE,
            "/v1/biz/{A}/catalog/products/nope",
            None,
            Admin,
        ),
        Row(
            Method::DELETE,
            "/v1/biz/{A}/catalog/collections/nope",
            None,
            Admin,
        ),
        get("/v1/biz/{A}/links"),
        Row(Method::DELETE, "/v1/biz/{A}/links/nope", None, Admin),
        get("/v1/biz/{A}/orders"),
        get("/v1/biz/{A}/orders/nope"),
        Row(
            Method::POST,
            "/v1/biz/{A}/orders/nope/status",
            Some(json!({"status": "shipped"})),
            Agent,
        ),
        get("/v1/biz/{A}/profile"),
        Row(
            Method::PATCH,
            "/v1/biz/{A}/profile",
            Some(json!({"about": "Fresh bread daily"})),
            Admin,
        ),
        get("/v1/biz/{A}/replies"),
        Row(
            Method::POST,
            "/v1/biz/{A}/replies",
            Some(json!({"shortcut": "/authz", "text": "Hi"})),
            Admin,
        ),
        Row(Method::DELETE, "/v1/biz/{A}/replies/nope", None, Admin),
        get("/v1/biz/{A}/stats"),
        get("/v1/biz/{A}/stats.csv"),
        get("/v1/biz/{A}/verification"),
        get("/v1/biz/{A}/name"),
        Row(
            Method::PUT,
            "/v1/biz/{A}/name",
            Some(json!({"name": "Authz Bakery"})),
            Owner,
        ),
        get("/v1/biz/{A}/optins"),
        get("/v1/biz/{A}/broadcast-lists"),
        Row(
            Method::DELETE,
            "/v1/biz/{A}/broadcast-lists/nope",
            None,
            Admin,
        ),
        get("/v1/biz/{A}/broadcasts"),
        get("/v1/biz/{A}/scheduled"),
        // Last: it demotes the admin.
        Row(
            Method::PATCH,
            "/v1/biz/{A}/team/{admin}",
            Some(json!({"role": "agent"})),
            Owner,
        ),
    ]
}

#[tokio::test]
async fn every_endpoint_answers_each_actor_as_its_role_allows() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let a = shop(&server, &app, "+4915100100001", "Shop A").await;
    let b = shop(&server, &app, "+4915100100002", "Shop B").await;
    let admin = member(&server, &app, &a, "+4915100100003", "admin", json!({})).await;
    let agent = member(&server, &app, &a, "+4915100100004", "agent", json!({})).await;
    let agent_b = member(&server, &app, &b, "+4915100100005", "agent", json!({})).await;
    let customer = user(&server, "+4915100100006").await;
    let chat_id = customer_says(&server, &customer, &a, "Hello shop").await;
    let conv = format!("/v1/biz/{}/conversations/{}", a.waba_id, customer.user_id);
    eventually("the conversation", || async {
        (app.get(&a.owner, &conv).await.0 == 200).then_some(())
    })
    .await;
    let (_, label) = app
        .post(
            &a.owner,
            &format!("/v1/biz/{}/labels", a.waba_id),
            json!({"name": "Matrix", "colour": "green"}),
        )
        .await;
    let label_id = label["id"].as_str().expect("a label").to_owned();

    let fill = |p: &str| {
        p.replace("{A}", &a.waba_id)
            .replace("{cust}", &customer.user_id)
            .replace("{agent}", &agent.user_id)
            .replace("{admin}", &admin.user_id)
            .replace("{label}", &label_id)
            .replace("{msg}", &format!("{chat_id}.1"))
    };
    let business_404 = format!("business {} not found", a.waba_id);
    let actors: [(&str, Option<&User>, Option<Least>); 6] = [
        ("nobody", None, None),
        ("a customer", Some(&customer), None),
        ("B's agent", Some(&agent_b), None),
        ("A's agent", Some(&agent), Some(Least::Agent)),
        ("A's admin", Some(&admin), Some(Least::Admin)),
        ("A's owner", Some(&a.owner), Some(Least::Owner)),
    ];
    let mut checked = 0;
    let mut missing = Vec::new();
    for Row(method, path, body, least) in rows() {
        let path = fill(path);
        let (probe, _) = app.call(None, method.clone(), &path, body.clone()).await;
        if probe != 401 {
            // Not built (yet): an unknown route answers 404 or 405 before any auth.
            missing.push(format!("{method} {path}"));
            continue;
        }
        for (who, user, role) in &actors {
            let token = user.map(|u| u.token.as_str());
            let (status, resp) = app.call(token, method.clone(), &path, body.clone()).await;
            let what = format!("{method} {path} by {who}: {status} {resp}");
            match (user, role) {
                (None, _) => assert_eq!(status, 401, "{what}"),
                (Some(_), None) => {
                    assert_eq!(status, 404, "{what}");
                    assert_eq!(resp["error"]["message"], business_404.as_str(), "{what}");
                }
                (Some(_), Some(r)) if *r < least => assert_eq!(status, 403, "{what}"),
                (Some(_), Some(_)) => {
                    assert!(status != 401 && status != 403, "{what}");
                    assert!(resp["error"]["message"] != business_404.as_str(), "{what}");
                    assert!(status < 500, "{what}");
                }
            }
            checked += 1;
        }
    }
    eprintln!("authz matrix: {checked} calls checked; not present: {missing:?}");
    assert!(checked >= 25 * 6, "{checked}");
}

#[tokio::test]
async fn customers_never_see_notes_labels_or_assignments() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100110001", "Discreet Shop").await;
    let agent = member(&server, &app, &s, "+4915100110002", "agent", json!({})).await;
    let customer = user(&server, "+4915100110003").await;
    let chat_id = customer_says(&server, &customer, &s, "Is my order ready?").await;
    let conv = format!("/v1/biz/{}/conversations/{}", s.waba_id, customer.user_id);
    eventually("the conversation", || async {
        (app.get(&agent, &conv).await.0 == 200).then_some(())
    })
    .await;
    let (status, _) = app
        .post(
            &agent,
            &format!("{conv}/notes"),
            json!({"text": "SECRET-NOTE-123"}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, label) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/labels", s.waba_id),
            json!({"name": "VIP-LABEL", "colour": "rose"}),
        )
        .await;
    let label_id = label["id"].as_str().expect("label");
    let (status, _) = app
        .put(&agent, &format!("{conv}/labels/{label_id}"), json!(null))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .put(
            &agent,
            &format!("{conv}/messages/{chat_id}.1/labels/{label_id}"),
            json!(null),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .patch(&s.owner, &conv, json!({"assignee": agent.user_id}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post(
            &agent,
            &format!("{conv}/messages"),
            json!({"client_id": "x", "text": "Almost!"}),
        )
        .await;
    assert_eq!(status, 201);

    let mut seen = Vec::new();
    for path in [
        format!("/v1/chats/{chat_id}/messages"),
        format!("/v1/chats/{chat_id}"),
        "/v1/chats".to_owned(),
        format!("/v1/businesses/{}", s.user_id),
    ] {
        let (status, body) = app.get(&customer, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body.to_string());
    }
    let mut ws = RawWs::connect(&server, &customer.token).await;
    let (_, frames) = ws.sync(0).await;
    seen.extend(frames.iter().map(Value::to_string));
    let all = seen.join("\n");
    assert!(all.contains("Almost!"), "the reply itself arrives: {all}");
    for secret in [
        "SECRET-NOTE-123",
        "VIP-LABEL",
        label_id,
        agent.user_id.as_str(),
        "assignee",
    ] {
        assert!(
            !all.contains(secret),
            "{secret} leaked to the customer: {all}"
        );
    }
}
