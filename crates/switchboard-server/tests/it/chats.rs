//! Chats, groups, members and history (protocol v1 section 2).

use crate::support::*;

#[tokio::test]
async fn direct_chats_are_one_per_pair() {
    let server = TestServer::start().await;
    let (ada, _) = server.user(ADA).await;
    let (ben, _) = server.user(BEN).await;
    let a = ada.create_direct_chat(BEN).await.unwrap();
    let b = ben.create_direct_chat(ADA).await.unwrap();
    assert_eq!(a.chat_id, b.chat_id);
    assert_eq!(a.members.len(), 2);
    let err = ada.create_direct_chat(ADA).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    let err = ada.create_direct_chat("+4915199999999").await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some("unknown_user"))
    );
    server.stop().await;
}

#[tokio::test]
async fn groups_admins_and_members() {
    let server = TestServer::start().await;
    let (ada, _) = server.user(ADA).await;
    let (ben, _) = server.user(BEN).await;
    let (cat, _) = server.user(CAT).await;
    server.user(DAN).await;
    let g = ada
        .create_group("Brunch", &[BEN.to_string(), CAT.to_string()])
        .await
        .unwrap();
    assert_eq!(g.members.len(), 3);
    // Only admins change members.
    let err = ben.add_member(&g.chat_id, DAN).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("not_admin")));
    ada.add_member(&g.chat_id, DAN).await.unwrap();
    // A non-member learns nothing: 404, not 403.
    let outsider = server.user("+4915100000109").await.0;
    let err = outsider.messages(&g.chat_id, None, None).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = outsider.add_member(&g.chat_id, DAN).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    // Leaving and removing.
    cat.remove_member(&g.chat_id, &uid(CAT)).await.unwrap();
    let err = cat.messages(&g.chat_id, None, None).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    ada.remove_member(&g.chat_id, &uid(DAN)).await.unwrap();
    // The membership events are in the history as system messages.
    let history = ada.messages(&g.chat_id, None, Some(50)).await.unwrap();
    let events: Vec<String> = history
        .messages
        .iter()
        .rev()
        .map(|m| {
            let body: serde_json::Value = serde_json::from_str(m.body.get()).unwrap();
            body["system"]["event"].as_str().unwrap_or("").to_owned()
        })
        .collect();
    assert_eq!(
        events,
        [
            "group_created",
            "member_added",
            "member_left",
            "member_removed"
        ]
    );
    // Unknown members and bad names are refused.
    let err = ada
        .create_group("x", &["+4915199999999".to_string()])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("unknown_user"));
    let err = ada.create_group("", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_request"));
    server.stop().await;
}

#[tokio::test]
async fn history_pages_newest_first_and_limits_are_checked() {
    let server = TestServer::start().await;
    let (ada, token) = server.user(ADA).await;
    server.user(BEN).await;
    let chat = ada.create_direct_chat(BEN).await.unwrap();
    let mut ws = RawWs::connect(&server, &token).await;
    ws.sync(0).await;
    for i in 1..=7 {
        ws.send_text_msg(&format!("c{i}"), &chat.chat_id, &format!("m{i}"))
            .await;
    }
    let page = ada.messages(&chat.chat_id, None, Some(3)).await.unwrap();
    let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [7, 6, 5]);
    let page = ada
        .messages(&chat.chat_id, Some(5), Some(10))
        .await
        .unwrap();
    let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [4, 3, 2, 1]);
    for bad in [0, 501] {
        let err = ada
            .messages(&chat.chat_id, None, Some(bad))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(400), Some("invalid_request"))
        );
    }
    let list = ada.chats().await.unwrap();
    assert_eq!(list.chats.len(), 1);
    assert_eq!(list.chats[0].last_seq, 7);
    assert_eq!(list.chats[0].last_message.as_ref().unwrap().seq, 7);
    server.stop().await;
}
