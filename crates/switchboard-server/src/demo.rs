//! Demo data for `serve --demo`: a few people, a direct chat and a group with some
//! history, seeded idempotently (fixed client ids) so restarts do not duplicate it.

use switchboard_core::ids;
use switchboard_store::{
    Business, BusinessStore, BusinessToken, NewGroup, NewMessage, Store, StoreError, Template,
};

/// The demo bakery's business account, phone number id and API token (dev only).
pub const DEMO_WABA_ID: &str = "100000000000001";
pub const DEMO_PHONE_NUMBER_ID: &str = "100000000000002";
pub const DEMO_BUSINESS_TOKEN: &str = "demo-bakery-token";

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

/// Makes Bruno's bakery a verified business with an approved template and a known
/// API token, so the business API can be tried at once (`serve --demo` only).
pub async fn seed_business(business: &dyn BusinessStore, now: i64) -> Result<(), StoreError> {
    let (bruno, _) = DEMO_USERS[1];
    if business.business(DEMO_WABA_ID).await?.is_none() {
        business
            .create_business(&Business {
                waba_id: DEMO_WABA_ID.into(),
                phone_number_id: DEMO_PHONE_NUMBER_ID.into(),
                user_id: bruno.into(),
                name: "Bäckerei Bruno".into(),
                vertical: "RESTAURANT".into(),
                verification: "verified".into(),
                verification_reason: None,
                profile: serde_json::json!({
                    "about": "Fresh bread since 1962",
                    "address": "Hauptstraße 1, 10115 Berlin",
                    "description": "Bread, pretzels and cakes, baked every morning.",
                    "websites": ["https://baeckerei-bruno.example"],
                    "vertical": "RESTAURANT",
                })
                .to_string(),
                throughput_mps: Some(80),
                messaging_tier: None,
                created_at: now,
            })
            .await?;
        business
            .add_business_token(&BusinessToken {
                token_hash: switchboard_core::secret::token_hash(DEMO_BUSINESS_TOKEN),
                waba_id: DEMO_WABA_ID.into(),
                scopes: vec![
                    "whatsapp_business_messaging".into(),
                    "whatsapp_business_management".into(),
                ],
                created_at: now,
                expires_at: None,
            })
            .await?;
        business
            .create_template(&Template {
                template_id: "100000000000003".into(),
                waba_id: DEMO_WABA_ID.into(),
                name: "order_ready".into(),
                language: "en".into(),
                category: "UTILITY".into(),
                parameter_format: "POSITIONAL".into(),
                components: serde_json::json!([
                    {"type": "BODY", "text": "Hello {{1}}, your order {{2}} is ready for pickup.",
                     "example": {"body_text": [["Ada", "B-17"]]}}
                ])
                .to_string(),
                status: "APPROVED".into(),
                reason: None,
                created_at: now,
                updated_at: now,
            })
            .await?;
    }
    Ok(())
}
