//! The durability promise, tested the hard way: the real binary is SIGKILLed in the
//! middle of a stream of pipelined sends, restarted on the same data directory, and
//! every acknowledged message must be there exactly once, in a gapless chat, with the
//! receiver resyncing from its cursor without gaps or duplicates.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard_client::Client;

use crate::support::{ServerProcess, record_stream, resume};
use tokio_tungstenite::tungstenite::Message;

async fn login(server: &ServerProcess, phone: &str) -> (Client, String) {
    let c = server.client();
    let reg = c.register(phone).await.expect("register");
    let v = c
        .verify(
            &reg.registration_id,
            &reg.dev_code.expect("dev code"),
            Some("crash-test"),
        )
        .await
        .expect("verify");
    (c.with_token(v.token.clone()), v.token)
}

async fn full_history(
    client: &Client,
    chat_id: &str,
) -> Vec<switchboard_client::proto::frames::Message> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = client
            .messages(chat_id, before, Some(500))
            .await
            .expect("history");
        let Some(last) = page.messages.last() else {
            break;
        };
        before = Some(last.seq);
        all.extend(page.messages);
    }
    all.reverse();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acked_message() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let mut server = ServerProcess::start(&data).await;
    let (ada, ada_token) = login(&server, "+4915100000201").await;
    let (_ben, ben_token) = login(&server, "+4915100000202").await;
    let chat = ada
        .create_direct_chat("+4915100000202")
        .await
        .expect("chat")
        .chat_id;

    // Ben is online and records every message frame until the connection dies.
    let ben_task = record_stream(server.ws_url(&ben_token)).await;

    // Ada pipelines sends; the server is killed once enough are acked.
    let (ada_ws, _) = tokio_tungstenite::connect_async(server.ws_url(&ada_token))
        .await
        .expect("ada ws");
    let (mut tx, mut rx) = ada_ws.split();
    let total = 20_000usize;
    let mut acked: HashMap<String, (String, u64)> = HashMap::new();
    let mut sent = 0usize;
    let window = 64usize;
    let kill_after = 3_000usize;
    let mut killed = false;
    loop {
        while sent < total && sent - acked.len().min(sent) < window {
            let frame = json!({"type":"send","client_id":format!("c{sent}"),"chat_id":chat,"body":{"text":format!("message {sent}")}});
            if tx
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
            sent += 1;
        }
        if !killed && acked.len() >= kill_after {
            server.sigkill();
            killed = true;
        }
        match tokio::time::timeout(Duration::from_secs(10), rx.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let f: Value = serde_json::from_str(&t).expect("json");
                if f["type"] == "ack" {
                    acked.insert(
                        f["client_id"].as_str().unwrap().to_owned(),
                        (
                            f["id"].as_str().unwrap().to_owned(),
                            f["seq"].as_u64().unwrap(),
                        ),
                    );
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    assert!(killed, "the server was killed mid-stream");
    assert!(acked.len() >= kill_after);
    let ben_seen = ben_task.await.expect("ben task");

    // Restart on the same data directory.
    let server = ServerProcess::start(&data).await;
    let ada = server.client().with_token(ada_token.clone());
    let history = full_history(&ada, &chat).await;
    let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=history.len() as u64).collect::<Vec<_>>(),
        "gapless seqs"
    );
    let by_client: HashMap<String, (String, u64)> = history
        .iter()
        .map(|m| {
            (
                m.client_id.clone().expect("own client ids"),
                (m.id.clone(), m.seq),
            )
        })
        .collect();
    assert_eq!(
        by_client.len(),
        history.len(),
        "every client id stored once"
    );
    for (cid, first) in &acked {
        assert_eq!(
            by_client.get(cid),
            Some(first),
            "acked {cid} survived the crash unchanged"
        );
    }

    // Ada re-sends everything that was not acked, with the same client ids: those the
    // crash stored are answered with their first ack, the rest are stored now.
    let (ada_ws, _) = tokio_tungstenite::connect_async(server.ws_url(&ada_token))
        .await
        .expect("ada ws");
    let (mut tx, mut rx) = ada_ws.split();
    let unacked: Vec<usize> = (0..sent)
        .filter(|i| !acked.contains_key(&format!("c{i}")))
        .collect();
    for i in &unacked {
        let frame = json!({"type":"send","client_id":format!("c{i}"),"chat_id":chat,"body":{"text":format!("message {i}")}});
        tx.send(Message::Text(frame.to_string().into()))
            .await
            .expect("resend");
    }
    let mut reacked = 0;
    while reacked < unacked.len() {
        let t = match rx.next().await {
            Some(Ok(Message::Text(t))) => t,
            other => panic!("connection ended early: {other:?}"),
        };
        let f: Value = serde_json::from_str(&t).expect("json");
        assert_ne!(f["type"], "error", "{f}");
        if f["type"] == "ack" {
            let cid = f["client_id"].as_str().unwrap();
            if let Some((id, seq)) = by_client.get(cid) {
                assert_eq!(
                    (f["id"].as_str().unwrap(), f["seq"].as_u64().unwrap()),
                    (id.as_str(), *seq)
                );
            }
            reacked += 1;
        }
    }
    let history = full_history(&ada, &chat).await;
    assert_eq!(history.len(), sent, "each sent client id exactly once");
    let distinct: HashSet<&str> = history
        .iter()
        .filter_map(|m| m.client_id.as_deref())
        .collect();
    assert_eq!(distinct.len(), sent);

    // Ben resyncs from his cursor: together with what he saw live, every message once.
    let all = resume(server.ws_url(&ben_token), ben_seen).await;
    assert_eq!(
        all.keys().copied().collect::<Vec<_>>(),
        (1..=sent as u64).collect::<Vec<_>>()
    );
    let ids: HashSet<&String> = all.values().collect();
    assert_eq!(ids.len(), sent);
}
