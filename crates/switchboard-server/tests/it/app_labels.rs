//! Labels through the real server: create, rename, recolour and delete (admins),
//! the limits (20 per business, unique names regardless of case, the palette),
//! labels on conversations and single messages, the filter, and a deleted label
//! disappearing everywhere.

use serde_json::json;

use crate::app_inbox::{customer_says, member};
use crate::appkit::{App, eventually, shop, user};
use crate::support::TestServer;

#[tokio::test]
async fn labels_are_created_checked_and_limited() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100080001", "Label Shop").await;
    let anna = member(&server, &app, &s, "+4915100080002", "agent", json!({})).await;
    let labels = format!("/v1/biz/{}/labels", s.waba_id);

    let (status, vip) = app
        .post(&s.owner, &labels, json!({"name": "VIP", "colour": "Gold"}))
        .await;
    assert_eq!(
        (status, vip["error"]["code"].as_str()),
        (400, Some("invalid_colour"))
    );
    let (status, vip) = app
        .post(
            &s.owner,
            &labels,
            json!({"name": " VIP ", "colour": "Amber"}),
        )
        .await;
    assert_eq!(status, 201, "{vip}");
    assert_eq!(
        (vip["name"].as_str(), vip["colour"].as_str()),
        (Some("VIP"), Some("amber"))
    );
    let vip_id = vip["id"].as_str().expect("id").to_owned();
    for (body, status, code) in [
        (json!({"name": "vip", "colour": "red"}), 409, "label_exists"),
        (json!({"name": "", "colour": "red"}), 400, "invalid_length"),
        (
            json!({"name": "x".repeat(31), "colour": "red"}),
            400,
            "invalid_length",
        ),
        (
            json!({"name": "x", "colour": "red", "icon": "*"}),
            400,
            "invalid_request",
        ),
    ] {
        let (got, resp) = app.post(&s.owner, &labels, body.clone()).await;
        assert_eq!(
            (got, resp["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {resp}"
        );
    }
    // Agents read, admins write.
    let (status, _) = app
        .post(&anna, &labels, json!({"name": "Mine", "colour": "red"}))
        .await;
    assert_eq!(status, 403);
    let (status, listed) = app.get(&anna, &labels).await;
    assert_eq!(status, 200);
    assert_eq!(listed["labels"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["palette"].as_array().map(Vec::len), Some(20));

    // Rename and recolour; the old name is free again, a taken one is not.
    let (status, renamed) = app
        .patch(
            &s.owner,
            &format!("{labels}/{vip_id}"),
            json!({"name": "Stammkunde", "colour": "teal"}),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (renamed["name"].as_str(), renamed["colour"].as_str()),
        (Some("Stammkunde"), Some("teal"))
    );
    let (status, _) = app
        .post(&s.owner, &labels, json!({"name": "VIP", "colour": "red"}))
        .await;
    assert_eq!(status, 201);
    let (status, resp) = app
        .patch(
            &s.owner,
            &format!("{labels}/{vip_id}"),
            json!({"name": "vip"}),
        )
        .await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (409, Some("label_exists"))
    );
    let (status, _) = app
        .patch(
            &s.owner,
            &format!("{labels}/lb0000000000000000"),
            json!({"name": "y"}),
        )
        .await;
    assert_eq!(status, 404);

    // Twenty at most.
    for i in 3..=20 {
        let (status, resp) = app
            .post(
                &s.owner,
                &labels,
                json!({"name": format!("L{i}"), "colour": "blue"}),
            )
            .await;
        assert_eq!(status, 201, "{resp}");
    }
    let (status, resp) = app
        .post(&s.owner, &labels, json!({"name": "L21", "colour": "blue"}))
        .await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (422, Some("too_many_labels"))
    );
    let (status, _) = app.delete(&anna, &format!("{labels}/{vip_id}")).await;
    assert_eq!(status, 403);
    let (status, _) = app.delete(&s.owner, &format!("{labels}/{vip_id}")).await;
    assert_eq!(status, 204);
    let (status, _) = app
        .post(&s.owner, &labels, json!({"name": "L21", "colour": "blue"}))
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn conversations_and_messages_are_labelled_filtered_and_unlabelled() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100090001", "Tagged Shop").await;
    let anna = member(&server, &app, &s, "+4915100090002", "agent", json!({})).await;
    let c1 = user(&server, "+4915100090011").await;
    let c2 = user(&server, "+4915100090012").await;
    let chat1 = customer_says(&server, &c1, &s, "Big order for a wedding").await;
    customer_says(&server, &c2, &s, "Hello").await;
    let conversations = format!("/v1/biz/{}/conversations", s.waba_id);
    eventually("two conversations", || async {
        let (_, l) = app.get(&anna, &conversations).await;
        (l["conversations"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    let (_, vip) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/labels", s.waba_id),
            json!({"name": "Wedding", "colour": "pink"}),
        )
        .await;
    let label_id = vip["id"].as_str().expect("id").to_owned();

    // On a conversation (agents may), and the filter finds it.
    let conv_label = format!("{conversations}/{}/labels/{label_id}", c1.user_id);
    let (status, resp) = app.put(&anna, &conv_label, json!(null)).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["labels"][0]["name"], "Wedding");
    let (status, _) = app
        .put(
            &anna,
            &format!("{conversations}/{}/labels/lb0000000000000000", c1.user_id),
            json!(null),
        )
        .await;
    assert_eq!(status, 404);
    let (_, filtered) = app
        .get(&anna, &format!("{conversations}?label={label_id}"))
        .await;
    let who: Vec<&str> = filtered["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["customer"].as_str())
        .collect();
    assert_eq!(who, [c1.user_id.as_str()]);

    // On a message of that chat; not on a message of another chat.
    let message_id = format!("{chat1}.1");
    let msg_label = format!(
        "{conversations}/{}/messages/{message_id}/labels/{label_id}",
        c1.user_id
    );
    let (status, resp) = app.put(&anna, &msg_label, json!(null)).await;
    assert_eq!(status, 200, "{resp}");
    let (status, _) = app
        .put(
            &anna,
            &format!(
                "{conversations}/{}/messages/{message_id}/labels/{label_id}",
                c2.user_id
            ),
            json!(null),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .put(
            &anna,
            &format!(
                "{conversations}/{}/messages/{chat1}.99/labels/{label_id}",
                c1.user_id
            ),
            json!(null),
        )
        .await;
    assert_eq!(status, 404);
    let labelled = format!("/v1/biz/{}/labels/{label_id}/messages", s.waba_id);
    let (_, msgs) = app.get(&anna, &labelled).await;
    assert_eq!(msgs["messages"][0]["id"], message_id.as_str());
    assert_eq!(
        msgs["messages"][0]["body"]["text"],
        "Big order for a wedding"
    );
    let (_, conv) = app
        .get(&anna, &format!("{conversations}/{}", c1.user_id))
        .await;
    assert_eq!(conv["messages"][0]["labels"], json!([label_id]), "{conv}");

    // Removed from the message and the conversation.
    let (status, _) = app.delete(&anna, &msg_label).await;
    assert_eq!(status, 204);
    let (_, msgs) = app.get(&anna, &labelled).await;
    assert_eq!(msgs["messages"].as_array().map(Vec::len), Some(0));
    let (status, resp) = app.delete(&anna, &conv_label).await;
    assert_eq!(
        (status, resp["labels"].as_array().map(Vec::len)),
        (200, Some(0))
    );

    // A deleted label disappears everywhere.
    app.put(&anna, &conv_label, json!(null)).await;
    app.put(&anna, &msg_label, json!(null)).await;
    let (status, _) = app
        .delete(
            &s.owner,
            &format!("/v1/biz/{}/labels/{label_id}", s.waba_id),
        )
        .await;
    assert_eq!(status, 204);
    let (_, conv) = app
        .get(&anna, &format!("{conversations}/{}", c1.user_id))
        .await;
    assert_eq!(conv["labels"], json!([]));
    let (_, filtered) = app
        .get(&anna, &format!("{conversations}?label={label_id}"))
        .await;
    assert_eq!(filtered["conversations"].as_array().map(Vec::len), Some(0));
    let (status, _) = app.get(&anna, &labelled).await;
    assert_eq!(status, 404);
}
