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

/// The bakery as a small shop runs it in the business app (`serve --demo` only):
/// opening hours, a catalog, a greeting and an away message, quick replies, labels,
/// a click-to-chat link, and Chiara on the team. Made through the app's own API,
/// as Bruno, so the demo data passes every check real data does; skipped when the
/// catalog already has products (a restart).
pub async fn seed_app(state: &crate::state::SharedState, api: axum::Router) -> Result<(), String> {
    use axum::http::Method;
    use serde_json::json;
    use switchboard_web::api::{Api, Caller};

    let (bruno, _) = DEMO_USERS[1];
    let (chiara, _) = DEMO_USERS[2];
    let token = crate::accounts::new_token();
    let now = state.now();
    state
        .store
        .create_device(
            &switchboard_store::Device {
                device_id: format!("demo-{}", uuid::Uuid::now_v7()),
                user_id: bruno.into(),
                name: "demo seed".into(),
                created_at: now,
            },
            &switchboard_core::secret::token_hash(&token),
        )
        .await
        .map_err(|e| e.to_string())?;
    let api = Api::new(api);
    let caller = Caller {
        token: Some(token),
        peer: None,
    };
    let biz = format!("/v1/biz/{DEMO_WABA_ID}");
    let call = |method: Method, path: String, body: serde_json::Value| {
        let (api, caller) = (api.clone(), caller.clone());
        async move {
            api.ok(&caller, method, &path, Some(&body))
                .await
                .map_err(|e| format!("{path}: {e}"))
        }
    };
    let products = api
        .ok(
            &caller,
            Method::GET,
            &format!("{biz}/catalog/products"),
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    if products["products"]
        .as_array()
        .is_some_and(|p| !p.is_empty())
    {
        return Ok(());
    }
    let week = |open: &str, close: &str| json!([{"open": open, "close": close}]);
    call(
        Method::PATCH,
        format!("{biz}/profile"),
        json!({"hours": {"timezone": "Europe/Berlin", "weekly": {
            "mon": week("07:00", "18:00"), "tue": week("07:00", "18:00"),
            "wed": week("07:00", "18:00"), "thu": week("07:00", "18:00"),
            "fri": week("07:00", "18:00"), "sat": week("08:00", "13:00"), "sun": []}}}),
    )
    .await?;
    for (name, description, cents) in [
        ("Brezel", "Fresh from the oven, with coarse salt", 120),
        ("Croissant", "Butter croissant", 180),
        ("Sourdough loaf", "1 kg rye sourdough", 520),
    ] {
        call(
            Method::POST,
            format!("{biz}/catalog/products"),
            json!({"name": name, "description": description,
                   "price": {"amount_minor": cents, "currency": "EUR"}}),
        )
        .await?;
    }
    call(
        Method::PUT,
        format!("{biz}/automation/greeting"),
        json!({"enabled": true, "text": "Welcome to Bäckerei Bruno! Order from our catalog and we will have it ready."}),
    )
    .await?;
    call(
        Method::PUT,
        format!("{biz}/automation/away"),
        json!({"enabled": true, "text": "We are closed right now; we will answer when we open at 7.",
               "schedule": "outside_hours"}),
    )
    .await?;
    for (shortcut, text) in [
        ("/ready", "Your order is ready for pickup!"),
        ("/hours", "We are open Mon–Fri 7–18 and Sat 8–13."),
    ] {
        call(
            Method::POST,
            format!("{biz}/replies"),
            json!({"shortcut": shortcut, "text": text}),
        )
        .await?;
    }
    for (name, colour) in [("New order", "green"), ("Paid", "blue")] {
        call(
            Method::POST,
            format!("{biz}/labels"),
            json!({"name": name, "colour": colour}),
        )
        .await?;
    }
    call(
        Method::POST,
        format!("{biz}/team"),
        json!({"phone": format!("+{chiara}"), "role": "agent", "signature": "Chiara"}),
    )
    .await?;
    let link = call(
        Method::POST,
        format!("{biz}/links"),
        json!({"text": "Hello, I would like to order"}),
    )
    .await?;
    tracing::info!(
        link = link["url"].as_str().unwrap_or_default(),
        "demo: the bakery's click-to-chat link"
    );
    Ok(())
}
