//! The live connection end to end: three users, one on two devices; direct and group
//! messages; offline delivery through sync; receipts on both of the sender's devices;
//! retried client ids; frame errors.

use std::collections::HashSet;

use serde_json::{Value, json};
use switchboard_client::Target;
use switchboard_proto::ServerFrame;

use crate::support::*;

fn stream_seqs(frames: &[Value]) -> Vec<u64> {
    frames
        .iter()
        .filter_map(|f| f["inbox_seq"].as_u64())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_users_two_devices_end_to_end() {
    let server = TestServer::start().await;
    let (ada, ada_token) = server.device(ADA, "laptop").await;
    let (_ada_phone, ada_phone_token) = server.device(ADA, "phone").await;
    let (_ben, ben_token) = server.user(BEN).await;
    let (_cat, cat_token) = server.user(CAT).await;

    let mut ada_laptop = RawWs::connect(&server, &ada_token).await;
    let mut ada_phone = RawWs::connect(&server, &ada_phone_token).await;
    let mut ben = RawWs::connect(&server, &ben_token).await;
    assert_eq!(ada_laptop.sync(0).await.0, 0);
    assert_eq!(ada_phone.sync(0).await.0, 0);
    assert_eq!(ben.sync(0).await.0, 0);

    // Direct: Ada writes to Ben by phone number; the chat is made on first use.
    ada_laptop
        .send(json!({"type":"send","client_id":"d1","to":BEN,"body":{"text":"hi Ben"}}))
        .await;
    let ack = ada_laptop.recv().await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["client_id"], "d1");
    assert_eq!(ack["seq"], 1);
    assert!(ack["chat_id"].as_str().is_some_and(|c| c.starts_with('d')));
    let msg = ben.recv().await;
    assert_eq!(msg["type"], "message");
    assert_eq!(msg["from"], uid(ADA));
    assert_eq!(msg["body"]["text"], "hi Ben");
    assert_eq!(msg["id"], ack["id"]);
    assert_eq!(msg["inbox_seq"], 1);
    assert!(
        msg.get("client_id").is_none(),
        "other users do not see client ids"
    );
    // Ada's other device gets the message, not the ack.
    let echo = ada_phone.recv().await;
    assert_eq!(echo["type"], "message");
    assert_eq!(echo["id"], ack["id"]);
    assert_eq!(echo["client_id"], "d1");

    // A retried client_id is stored once and answered with the first ack.
    ada_laptop
        .send(json!({"type":"send","client_id":"d1","to":BEN,"body":{"text":"hi Ben"}}))
        .await;
    let again = ada_laptop.recv().await;
    assert_eq!(again["type"], "ack");
    assert_eq!(
        (again["id"].clone(), again["seq"].clone()),
        (ack["id"].clone(), ack["seq"].clone())
    );

    // Cat is offline while a group fills up.
    let group = ada
        .create_group("Trio", &[BEN.to_string(), CAT.to_string()])
        .await
        .unwrap();
    let mut sent_ids = Vec::new();
    for i in 0..20 {
        let (ack, _) = ada_laptop
            .send_text_msg(&format!("g{i}"), &group.chat_id, &format!("group {i}"))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        sent_ids.push(ack["id"].as_str().unwrap().to_owned());
    }
    ben.send(json!({"type":"send","client_id":"b1","chat_id":group.chat_id,"body":{"text":"from Ben"},"reply_to":sent_ids[0]}))
        .await;
    let (ben_ack, ben_frames) = ben.recv_until("ack").await;
    assert_eq!(ben_ack["client_id"], "b1");
    // Ben received the system message and all 20 in chat order before his own ack.
    let seqs: Vec<u64> = ben_frames
        .iter()
        .filter(|f| f["chat_id"] == group.chat_id.as_str())
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=21).collect::<Vec<_>>());

    // Cat comes online: sync from 0 delivers everything, in order, once.
    let mut cat = RawWs::connect(&server, &cat_token).await;
    let (synced, frames) = cat.sync(0).await;
    let seqs = stream_seqs(&frames);
    assert_eq!(seqs, (1..=synced).collect::<Vec<_>>(), "gapless inbox_seq");
    let group_msgs: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "message" && f["chat_id"] == group.chat_id.as_str())
        .collect();
    assert_eq!(group_msgs.len(), 22, "system + 20 from Ada + 1 from Ben");
    let last = group_msgs.last().unwrap();
    assert_eq!(last["reply_to"], sent_ids[0].as_str());
    let ids: HashSet<&str> = group_msgs
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 22, "no duplicates");

    // Cat reads everything: both of Ada's devices get the read receipt (Ada sent in range).
    let up_to = last["seq"].as_u64().unwrap();
    cat.send(json!({"type":"receipt","chat_id":group.chat_id,"up_to_seq":up_to,"status":"read"}))
        .await;
    for dev in [&mut ada_laptop, &mut ada_phone] {
        let (receipt, _) = dev.recv_until("receipt").await;
        assert_eq!(receipt["user_id"], uid(CAT));
        assert_eq!(receipt["status"], "read");
        assert_eq!(receipt["up_to_seq"], up_to);
        assert_eq!(receipt["chat_id"], group.chat_id.as_str());
    }

    // Typing reaches the other members, and is never stored.
    ben.send(json!({"type":"typing","chat_id":group.chat_id}))
        .await;
    let (typing, _) = cat.recv_until("typing").await;
    assert_eq!(typing["user_id"], uid(BEN));

    // Reconnect from a cursor: only what came after it.
    drop(cat);
    ada_laptop
        .send_text_msg("late", &group.chat_id, "you missed this")
        .await;
    let mut cat = RawWs::connect(&server, &cat_token).await;
    let (synced2, frames) = cat.sync(synced).await;
    assert!(synced2 > synced);
    assert_eq!(
        stream_seqs(&frames),
        (synced + 1..=synced2).collect::<Vec<_>>()
    );
    assert!(
        frames
            .iter()
            .any(|f| f["body"]["text"] == "you missed this")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_session_resyncs_without_gaps_or_duplicates() {
    let server = TestServer::start().await;
    let (ada, _) = server.user(ADA).await;
    let (ben, _) = server.user(BEN).await;
    let chat = ada.create_direct_chat(BEN).await.unwrap();
    let mut a = ada.connect(0).await.unwrap();
    let mut b = ben.connect(0).await.unwrap();
    // Wait until both are synced.
    for s in [&mut a, &mut b] {
        loop {
            if let ServerFrame::Synced { .. } = s.next().await.unwrap() {
                break;
            }
        }
    }
    let mut received = Vec::new();
    for i in 0..30 {
        a.send_text(Target::Chat(chat.chat_id.clone()), &format!("n{i}"))
            .await
            .unwrap();
        if i == 14 {
            // Ben's session goes away; the SDK resumes from its cursor.
            let cursor = b.cursor();
            b.close().await;
            b = ben.connect(cursor).await.unwrap();
        }
    }
    while received.len() < 30 {
        match b.next().await.unwrap() {
            ServerFrame::Message(m) => received.push(m.seq),
            _ => continue,
        }
    }
    assert_eq!(received, (1..=30).collect::<Vec<_>>());
    server.stop().await;
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_connection_stays_open() {
    let server = TestServer::start().await;
    let (ada, token) = server.user(ADA).await;
    server.user(BEN).await;
    let chat = ada.create_direct_chat(BEN).await.unwrap();
    let mut ws = RawWs::connect(&server, &token).await;
    ws.sync(0).await;
    let long_text = "a".repeat(65_537);
    // (frame, expected code, expected client_id)
    let cases: Vec<(String, &str, Value)> = vec![
        ("not json".into(), "bad_frame", Value::Null),
        (r#"{"type":"fly"}"#.into(), "bad_frame", Value::Null),
        (r#"{"no_type":1}"#.into(), "bad_frame", Value::Null),
        (json!({"type":"send","client_id":"e1","chat_id":chat.chat_id}).to_string(), "invalid_request", json!("e1")),
        (json!({"type":"send","client_id":"e2","chat_id":chat.chat_id,"body":{"text":long_text}}).to_string(), "text_too_long", json!("e2")),
        (json!({"type":"send","client_id":"e3","chat_id":chat.chat_id,"body":{"txt":"x"}}).to_string(), "invalid_body", json!("e3")),
        (json!({"type":"send","client_id":"e4","chat_id":"gdeadbeef","body":{"text":"x"}}).to_string(), "not_a_member", json!("e4")),
        (json!({"type":"send","client_id":"e5","to":"+4915199999999","body":{"text":"x"}}).to_string(), "unknown_user", json!("e5")),
        (json!({"type":"send","client_id":"e6","chat_id":chat.chat_id,"to":BEN,"body":{"text":"x"}}).to_string(), "invalid_request", json!("e6")),
        (json!({"type":"send","client_id":"e7","chat_id":chat.chat_id,"body":{"text":"x"},"reply_to":"nope"}).to_string(), "invalid_reply", json!("e7")),
        (json!({"type":"receipt","chat_id":chat.chat_id,"up_to_seq":99,"status":"read"}).to_string(), "invalid_seq", Value::Null),
        (json!({"type":"sync","after":999}).to_string(), "invalid_cursor", Value::Null),
        (format!(r#"{{"type":"send","client_id":"big","chat_id":"x","body":{{"text":"{}"}}}}"#, "b".repeat(1_100_000)), "bad_frame", Value::Null),
    ];
    for (frame, code, client_id) in cases {
        ws.send_text(frame.clone()).await;
        let (err, _) = ws.recv_until("error").await;
        assert_eq!(err["code"], code, "{}", &frame[..frame.len().min(120)]);
        assert_eq!(
            err["client_id"],
            client_id,
            "{}",
            &frame[..frame.len().min(120)]
        );
    }
    // Still open and working.
    ws.send(json!({"type":"ping","nonce":7})).await;
    let (pong, _) = ws.recv_until("pong").await;
    assert_eq!(pong["nonce"], 7);
    let (ack, _) = ws.send_text_msg("ok", &chat.chat_id, "still here").await;
    assert_eq!(ack["type"], "ack");
    server.stop().await;
}

#[tokio::test]
async fn websocket_needs_a_valid_token() {
    let server = TestServer::start().await;
    let url = format!("ws://{}/v1/ws?access_token=nope", server.addr);
    let err = tokio_tungstenite::connect_async(url).await.unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status().as_u16(), 401)
        }
        other => panic!("expected a 401, got {other}"),
    }
    server.stop().await;
}
