//! Health, readiness, metrics, the admin API and graceful restart.

use crate::support::*;

#[tokio::test]
async fn health_ready_metrics() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics"] {
        let resp = http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn admin_api_needs_the_admin_token() {
    let server = TestServer::start().await;
    server.user(ADA).await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/admin/users/{}", server.base, uid(ADA));
    let resp = http
        .get(&url)
        .bearer_auth("wrong-token-wrong-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = http
        .get(&url)
        .bearer_auth("test-admin-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["user_id"], uid(ADA));
    assert_eq!(v["devices"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn data_survives_a_graceful_restart() {
    let server = TestServer::start().await;
    let (ada, token) = server.user(ADA).await;
    server.user(BEN).await;
    let chat = ada.create_direct_chat(BEN).await.unwrap();
    let mut ws = RawWs::connect(&server, &token).await;
    ws.sync(0).await;
    let (ack, _) = ws
        .send_text_msg("c1", &chat.chat_id, "before restart")
        .await;
    assert_eq!(ack["seq"], 1);
    drop(ws);
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, |_| {}).await;
    // The token still works and the history is there; seqs continue.
    let ada = server.client().with_token(token.clone());
    let history = ada.messages(&chat.chat_id, None, None).await.unwrap();
    assert_eq!(history.messages.len(), 1);
    let mut ws = RawWs::connect(&server, &token).await;
    ws.sync(0).await;
    let (ack, _) = ws.send_text_msg("c2", &chat.chat_id, "after restart").await;
    assert_eq!(ack["seq"], 2);
    // The same client_id as before the restart is still recognised.
    let (ack, _) = ws
        .send_text_msg("c1", &chat.chat_id, "before restart")
        .await;
    assert_eq!(ack["seq"], 1);
    server.stop().await;
}
