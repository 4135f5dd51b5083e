//! Demo data for `serve --demo`: a few people, a direct chat and a group with some
//! history, seeded idempotently (fixed client ids) so restarts do not duplicate it.

use switchboard_core::ids;
use switchboard_store::{NewGroup, NewMessage, Store, StoreError};

pub const DEMO_USERS: [(&str, &str); 3] = [
    ("4915100000001", "Ada"),
    ("4915100000002", "Bruno (Bäckerei)"),
    ("4915100000003", "Chiara"),
];

pub async fn seed(store: &dyn Store, now: i64) -> Result<(), StoreError> {
    for (id, name) in DEMO_USERS {
        store.ensure_user(id, now).await?;
        store.set_display_name(id, Some(name)).await?;
    }
    let [(ada, _), (bruno, _), (chiara, _)] = DEMO_USERS;
    let direct = store.direct_chat(ada, bruno, now).await?;
    let group_id = ids::group_chat_id(*b"demo-group-00001");
    if store.chat(&group_id).await?.is_none() {
        store
            .create_group(&NewGroup {
                chat_id: group_id.clone(),
                name: "Sunday brunch".into(),
                creator: ada.into(),
                members: vec![bruno.into(), chiara.into()],
                created_at: now,
            })
            .await?;
    }
    let script = [
        (
            &direct.chat_id,
            ada,
            "Good morning! Do you have pretzels today?",
        ),
        (&direct.chat_id, bruno, "Fresh from the oven at 7:30."),
        (&group_id, ada, "Brunch at mine on Sunday, 11:00?"),
        (&group_id, chiara, "I'll bring coffee."),
        (&group_id, bruno, "Pretzels are on me."),
    ];
    for (i, (chat, from, text)) in script.into_iter().enumerate() {
        store
            .append(NewMessage {
                chat_id: chat.clone(),
                sender: from.into(),
                sender_device: "demo".into(),
                client_id: format!("demo-{i}"),
                body: serde_json::json!({ "text": text }).to_string(),
                reply_to: None,
                ts: now,
            })
            .await?;
    }
    Ok(())
}
