//! The platform admin API (`/admin/v1`) and the OpenAPI document, over HTTP against
//! the real server: provisioning, tokens, verification, throughput, the template
//! queue, webhooks, usage and invoices, and that every input error is a clear v1 error.

use serde_json::{Value, json};

use crate::support::*;

const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// Calls the admin API with (or without) the admin token.
struct AdminApi {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl AdminApi {
    fn new(server: &TestServer) -> AdminApi {
        AdminApi {
            base: server.base.clone(),
            http: reqwest::Client::new(),
            token: Some(ADMIN_TOKEN.to_owned()),
        }
    }

    fn with_token(&self, token: Option<&str>) -> AdminApi {
        AdminApi {
            base: self.base.clone(),
            http: self.http.clone(),
            token: token.map(str::to_owned),
        }
    }

    async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("the server answers")
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let resp = self.raw(method, path, body).await;
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("a body");
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON from {path}: {text}"));
        (status, v)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Creates a business and returns its waba_id.
    async fn business(&self, name: &str, phone: &str) -> String {
        let (status, v) = self
            .post(
                "/admin/v1/businesses",
                json!({"name": name, "phone": phone}),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        v["waba_id"].as_str().expect("a waba_id").to_owned()
    }
}

/// Asserts a v1 error with this status and code.
fn check_error((status, body): (u16, Value), want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

fn is_numeric_id(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit()))
}

#[tokio::test]
async fn businesses_are_created_once_and_shown() {
    let server = TestServer::start().await;
    let api = AdminApi::new(&server);
    let body = json!({"name": "Acme Air", "phone": "+4930123456789", "vertical": "travel"});

    // No token, a wrong token: 401 before anything else is looked at.
    check_error(
        api.with_token(None)
            .post("/admin/v1/businesses", body.clone())
            .await,
        401,
        "unauthorized",
    );
    check_error(
        api.with_token(Some("wrong-token-wrong-token"))
            .get("/admin/v1/businesses")
            .await,
        401,
        "unauthorized",
    );

    // Input errors.
    let bad: &[(Value, &str)] = &[
        (
            json!({"name": "Acme", "phone": "030 123456"}),
            "invalid_phone",
        ),
        (json!({"name": "Acme", "phone": "+12"}), "invalid_phone"),
        (
            json!({"name": "  ", "phone": "+4930123456789"}),
            "invalid_request",
        ),
        (
            json!({"name": "x".repeat(101), "phone": "+4930123456789"}),
            "invalid_request",
        ),
        (
            json!({"name": "Acme", "phone": "+4930123456789", "vertical": "SPACE"}),
            "invalid_vertical",
        ),
        (json!({"phone": "+4930123456789"}), "invalid_request"),
        (
            json!({"name": "Acme", "phone": "+4930123456789", "vertcal": "RETAIL"}),
            "invalid_request",
        ),
    ];
    for (b, code) in bad {
        check_error(api.post("/admin/v1/businesses", b.clone()).await, 400, code);
    }

    let (status, created) = api.post("/admin/v1/businesses", body.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert!(is_numeric_id(&created["waba_id"]), "{created}");
    assert!(is_numeric_id(&created["phone_number_id"]), "{created}");
    assert_eq!(created["user_id"], "4930123456789");
    let waba = created["waba_id"].as_str().unwrap().to_owned();

    // The same phone again (any spelling): 409.
    let again = json!({"name": "Acme Two", "phone": "+49 30 123456789"});
    check_error(
        api.post("/admin/v1/businesses", again).await,
        409,
        "conflict",
    );

    let (status, b) = api.get(&format!("/admin/v1/businesses/{waba}")).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["name"], "Acme Air");
    assert_eq!(b["vertical"], "TRAVEL");
    assert_eq!(b["phone"], "+4930123456789");
    assert_eq!(b["phone_number_id"], created["phone_number_id"]);
    assert_eq!(b["verification"], "unverified");
    assert_eq!(b["throughput_mps"], 80);
    assert_eq!(b["quality_rating"], "GREEN");
    assert!(
        b["messaging_limit_tier"]
            .as_str()
            .is_some_and(|t| t.starts_with("TIER_")),
        "{b}"
    );
    assert_eq!(b["webhook"], Value::Null);
    assert_eq!(b["reached_7d"], 0);

    let (status, list) = api.get("/admin/v1/businesses").await;
    assert_eq!(status, 200);
    let data = list["data"].as_array().expect("data");
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["waba_id"], waba.as_str());

    // The business is a messaging user named after it.
    let (status, user) = api.get("/v1/admin/users/4930123456789").await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["display_name"], "Acme Air");

    check_error(
        api.get("/admin/v1/businesses/123456789012345").await,
        404,
        "not_found",
    );
    check_error(
        api.get("/admin/v1/businesses/not-a-number").await,
        404,
        "not_found",
    );
    server.stop().await;
}

#[tokio::test]
async fn tokens_are_shown_once_and_differ() {
    let server = TestServer::start().await;
    let api = AdminApi::new(&server);
    let waba = api.business("Shop", "+4930123450001").await;
    let path = format!("/admin/v1/businesses/{waba}/tokens");

    let resp = api.raw(reqwest::Method::POST, &path, Some(json!({}))).await;
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let first: Value = resp.json().await.unwrap();
    let token = first["token"].as_str().expect("a token");
    assert!(token.starts_with("sbb_") && token.len() == 47, "{token}");
    assert_eq!(
        first["scopes"],
        json!([
            "whatsapp_business_messaging",
            "whatsapp_business_management"
        ])
    );
    assert_eq!(first["expires_at"], Value::Null);

    // An empty body takes the defaults too.
    let resp = api.raw(reqwest::Method::POST, &path, None).await;
    assert_eq!(resp.status().as_u16(), 201);
    let second: Value = resp.json().await.unwrap();
    assert_ne!(second["token"], first["token"]);

    let (status, scoped) = api
        .post(
            &path,
            json!({"scopes": ["WhatsApp_Business_Messaging"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(status, 201, "{scoped}");
    assert_eq!(scoped["scopes"], json!(["whatsapp_business_messaging"]));
    assert!(scoped["expires_at"].as_i64().is_some(), "{scoped}");

    check_error(
        api.post(&path, json!({"scopes": ["admin"]})).await,
        400,
        "invalid_scope",
    );
    check_error(
        api.post(&path, json!({"scopes": []})).await,
        400,
        "invalid_scope",
    );
    for days in [0, 3651] {
        check_error(
            api.post(&path, json!({"expires_in_days": days})).await,
            400,
            "invalid_request",
        );
    }
    check_error(
        api.post("/admin/v1/businesses/100000000000000/tokens", json!({}))
            .await,
        404,
        "not_found",
    );
    // The listing never shows a token.
    let (_, b) = api.get(&format!("/admin/v1/businesses/{waba}")).await;
    assert!(!b.to_string().contains(token));

    // The token is a Graph bearer token for the business's own phone number; a
    // wrong one is Graph's 401 (code 190).
    let phone_number_id = b["phone_number_id"].as_str().expect("a phone_number_id");
    let graph = |t: &str| api.with_token(Some(t));
    let (status, number) = graph(token)
        .get(&format!(
            "/v23.0/{phone_number_id}?fields=display_phone_number"
        ))
        .await;
    assert_eq!(status, 200, "{number}");
    assert_eq!(number["id"], phone_number_id);
    let (status, err) = graph("sbb_not-a-token")
        .get(&format!("/v23.0/{phone_number_id}"))
        .await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(err["error"]["code"], 190, "{err}");
    server.stop().await;
}

#[tokio::test]
async fn verification_and_throughput() {
    let server = TestServer::start().await;
    let api = AdminApi::new(&server);
    let waba = api.business("Bank", "+4930123450002").await;
    let verify = format!("/admin/v1/businesses/{waba}/verification");
    let throughput = format!("/admin/v1/businesses/{waba}/throughput");

    check_error(
        api.post(&verify, json!({"status": "rejected"})).await,
        400,
        "invalid_request",
    );
    check_error(
        api.post(&verify, json!({"status": "maybe"})).await,
        400,
        "invalid_request",
    );
    check_error(
        api.post(
            &verify,
            json!({"status": "rejected", "reason": "x".repeat(501)}),
        )
        .await,
        400,
        "invalid_request",
    );
    let (status, b) = api
        .post(
            &verify,
            json!({"status": "rejected", "reason": "documents unreadable"}),
        )
        .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["verification"], "rejected");
    assert_eq!(b["verification_reason"], "documents unreadable");
    let (status, b) = api.post(&verify, json!({"status": "Verified"})).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["verification"], "verified");
    assert_eq!(b["verification_reason"], Value::Null);

    let (status, b) = api.put(&throughput, json!({"mps": 250})).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["throughput_mps"], 250);
    let (status, b) = api.put(&throughput, json!({"mps": null})).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["throughput_mps"], Value::Null);
    for bad in [
        json!({}),
        json!({"mps": 0}),
        json!({"mps": 1_000_001}),
        json!({"mps": -1}),
        json!({"mps": "fast"}),
    ] {
        check_error(api.put(&throughput, bad).await, 400, "invalid_request");
    }
    let (_, b) = api.get(&format!("/admin/v1/businesses/{waba}")).await;
    assert_eq!(b["throughput_mps"], Value::Null, "unlimited stuck");
    assert_eq!(b["verification"], "verified");
    check_error(
        api.put(
            "/admin/v1/businesses/100000000000000/throughput",
            json!({"mps": 5}),
        )
        .await,
        404,
        "not_found",
    );
    server.stop().await;
}

#[tokio::test]
async fn template_queue_and_review_errors() {
    let server = TestServer::start().await;
    let api = AdminApi::new(&server);
    api.business("Shop", "+4930123450003").await;
    let (status, queue) = api.get("/admin/v1/templates?status=pending").await;
    assert_eq!(status, 200, "{queue}");
    assert!(
        queue["data"].as_array().is_some_and(|d| d.is_empty()),
        "{queue}"
    );
    assert_eq!(queue["has_more"], false);
    let (status, _) = api.get("/admin/v1/templates").await;
    assert_eq!(status, 200);
    check_error(
        api.get("/admin/v1/templates?status=SHINY").await,
        400,
        "invalid_request",
    );
    check_error(
        api.get("/admin/v1/templates?limit=0").await,
        400,
        "invalid_request",
    );
    check_error(
        api.post(
            "/admin/v1/templates/123456789012345/review",
            json!({"status": "APPROVED"}),
        )
        .await,
        404,
        "not_found",
    );
    check_error(
        api.post(
            "/admin/v1/templates/123456789012345/review",
            json!({"status": "PENDING"}),
        )
        .await,
        400,
        "invalid_request",
    );
    check_error(
        api.with_token(None).get("/admin/v1/templates").await,
        401,
        "unauthorized",
    );
    server.stop().await;
}

#[tokio::test]
async fn usage_and_invoices_of_a_new_business_are_zero() {
    let server = TestServer::start().await;
    let api = AdminApi::new(&server);
    let waba = api.business("Acme, \"The\" Shop", "+4930123450004").await;

    let (status, u) = api.get(&format!("/admin/v1/businesses/{waba}/usage")).await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["waba_id"], waba.as_str());
    assert_eq!(u["total_micros"], 0);
    assert_eq!(u["total"], "0.0000");
    assert_eq!(u["lines"], json!([]));
    assert!(u["currency"].as_str().is_some_and(|c| c.len() == 3), "{u}");
    let from = u["from"].as_str().expect("from");
    assert!(
        from.len() == 10 && from.ends_with("-01"),
        "the current month: {u}"
    );

    let (status, u) = api
        .get(&format!(
            "/admin/v1/businesses/{waba}/usage?from=2026-01-01&to=2026-02-01"
        ))
        .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(
        (u["from"].as_str(), u["to"].as_str()),
        (Some("2026-01-01"), Some("2026-02-01"))
    );
    for q in [
        "from=2026-13-01",
        "to=yesterday",
        "from=2026-02-01&to=2026-01-01",
        "from=2024-01-01&to=2026-01-01",
    ] {
        check_error(
            api.get(&format!("/admin/v1/businesses/{waba}/usage?{q}"))
                .await,
            400,
            "invalid_date",
        );
    }
    check_error(
        api.get("/admin/v1/businesses/100000000000000/usage").await,
        404,
        "not_found",
    );

    let (status, inv) = api
        .get(&format!("/admin/v1/businesses/{waba}/invoices/2026-10"))
        .await;
    assert_eq!(status, 200, "{inv}");
    assert_eq!(inv["business_name"], "Acme, \"The\" Shop");
    assert_eq!(inv["waba_id"], waba.as_str());
    assert_eq!(inv["period"], "2026-10");
    assert_eq!(
        (inv["from"].as_str(), inv["to"].as_str()),
        (Some("2026-10-01"), Some("2026-11-01"))
    );
    assert_eq!(inv["lines"], json!([]));
    assert_eq!(inv["total"], "0.0000");

    let resp = api
        .raw(
            reqwest::Method::GET,
            &format!("/admin/v1/businesses/{waba}/invoices/2026-10?format=csv"),
            None,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        header("content-type").starts_with("text/csv"),
        "{}",
        header("content-type")
    );
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=invoice-{waba}-2026-10.csv")
    );
    let csv = resp.text().await.unwrap();
    let rows: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        rows[0],
        "business_name,waba_id,period,category,country,messages,unit_price,amount,currency"
    );
    assert!(
        rows[1].starts_with(&format!(
            "\"Acme, \"\"The\"\" Shop\",{waba},2026-10,total,,0,,0.0000,"
        )),
        "{csv}"
    );

    for (path, code) in [
        (
            format!("/admin/v1/businesses/{waba}/invoices/2026-13"),
            "invalid_date",
        ),
        (
            format!("/admin/v1/businesses/{waba}/invoices/october"),
            "invalid_date",
        ),
        (
            format!("/admin/v1/businesses/{waba}/invoices/2026-10?format=pdf"),
            "invalid_request",
        ),
    ] {
        check_error(api.get(&path).await, 400, code);
    }
    server.stop().await;
}

/// A webhook receiver answering the `hub.challenge` handshake with `answer_token`.
async fn receiver(expect_token: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::Query;
    use std::collections::HashMap;
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::get(move |Query(q): Query<HashMap<String, String>>| async move {
            let ok = q.get("hub.mode").map(String::as_str) == Some("subscribe")
                && q.get("hub.verify_token").map(String::as_str) == Some(expect_token);
            match (ok, q.get("hub.challenge")) {
                (true, Some(c)) => (axum::http::StatusCode::OK, c.clone()),
                _ => (axum::http::StatusCode::FORBIDDEN, "Forbidden".to_owned()),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test]
async fn webhooks_are_saved_only_after_the_handshake() {
    let server = TestServer::start().await;
    let api = AdminApi::new(&server);
    let waba = api.business("Hooked", "+4930123450005").await;
    let path = format!("/admin/v1/businesses/{waba}/webhook");
    let (url, task) = receiver("the-verify-token").await;

    for bad in [
        json!({"url": "ftp://x.example/", "verify_token": "t", "app_secret": "secret-123"}),
        json!({"url": url, "verify_token": "", "app_secret": "secret-123"}),
        json!({"url": url, "verify_token": "t", "app_secret": "short"}),
        json!({"url": url, "verify_token": "t"}),
    ] {
        check_error(api.put(&path, bad).await, 400, "invalid_request");
    }
    // The receiver refuses a wrong verify token: nothing is saved.
    check_error(
        api.put(
            &path,
            json!({"url": url, "verify_token": "wrong", "app_secret": "secret-123"}),
        )
        .await,
        400,
        "webhook_verification_failed",
    );
    let (_, b) = api.get(&format!("/admin/v1/businesses/{waba}")).await;
    assert_eq!(b["webhook"], Value::Null);

    let (status, saved) = api
        .put(
            &path,
            json!({"url": url, "verify_token": "the-verify-token", "app_secret": "secret-123"}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved, json!({"url": url, "verified": true}));
    let (_, b) = api.get(&format!("/admin/v1/businesses/{waba}")).await;
    assert_eq!(b["webhook"]["url"], url.as_str());
    let shown = b.to_string();
    assert!(
        !shown.contains("secret-123") && !shown.contains("the-verify-token"),
        "{shown}"
    );
    task.abort();
    server.stop().await;
}

#[tokio::test]
async fn openapi_document_is_served() {
    let server = TestServer::start().await;
    let resp = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"))
    );
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc, switchboard_server::openapi::document());
    server.stop().await;
}

/// Parses `switchboard admin …` arguments as the binary does.
#[derive(clap::Parser)]
struct AdminCli {
    #[command(flatten)]
    args: switchboard_server::cli::AdminArgs,
}

async fn cli(server: &TestServer, args: &[&str]) -> anyhow::Result<()> {
    use clap::Parser;
    let mut argv = vec![
        "admin",
        "--server",
        server.base.as_str(),
        "--admin-token",
        ADMIN_TOKEN,
    ];
    argv.extend_from_slice(args);
    let parsed = AdminCli::try_parse_from(argv)?;
    switchboard_server::cli::admin(parsed.args).await
}

#[tokio::test]
async fn cli_mirrors_the_admin_api() {
    let server = TestServer::start().await;
    let phone = "+4930123450006";
    cli(
        &server,
        &["business", "create", "--name", "Cli Shop", "--phone", phone],
    )
    .await
    .expect("create");
    let err = cli(
        &server,
        &["business", "create", "--name", "Again", "--phone", phone],
    )
    .await
    .expect_err("a second create conflicts");
    assert!(err.to_string().contains("409"), "{err:#}");
    cli(&server, &["business", "list"]).await.expect("list");

    let api = AdminApi::new(&server);
    let (_, list) = api.get("/admin/v1/businesses").await;
    let waba = list["data"][0]["waba_id"]
        .as_str()
        .expect("a waba")
        .to_owned();
    for args in [
        vec!["business", "show", &waba],
        vec![
            "business",
            "token",
            &waba,
            "--scope",
            "whatsapp_business_messaging",
        ],
        vec!["business", "verify", &waba, "--status", "verified"],
        vec!["business", "throughput", &waba, "--mps", "500"],
        vec![
            "business",
            "usage",
            &waba,
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-01",
        ],
        vec!["templates", "pending"],
    ] {
        cli(&server, &args)
            .await
            .unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    }
    let (_, b) = api.get(&format!("/admin/v1/businesses/{waba}")).await;
    assert_eq!(
        (b["verification"].as_str(), b["throughput_mps"].as_u64()),
        (Some("verified"), Some(500))
    );
    cli(&server, &["business", "throughput", &waba, "--unlimited"])
        .await
        .expect("unlimited");
    assert!(
        cli(&server, &["business", "throughput", &waba])
            .await
            .is_err(),
        "--mps or --unlimited is required"
    );

    let out = server.dir.path().join("invoice.csv");
    let out_s = out.to_str().expect("a UTF-8 temp path");
    cli(
        &server,
        &[
            "business", "invoice", &waba, "--month", "2026-10", "--format", "csv", "--out", out_s,
        ],
    )
    .await
    .expect("invoice");
    let csv = std::fs::read_to_string(&out).expect("the invoice file");
    assert!(csv.starts_with("business_name,waba_id,period,"), "{csv}");

    let err = cli(&server, &["business", "show", "100000000000000"])
        .await
        .expect_err("unknown business");
    assert!(err.to_string().contains("not_found"), "{err:#}");
    let err = cli(
        &server,
        &[
            "templates",
            "review",
            "100000000000000",
            "--status",
            "APPROVED",
        ],
    )
    .await
    .expect_err("unknown template");
    assert!(err.to_string().contains("404"), "{err:#}");
    server.stop().await;
}
