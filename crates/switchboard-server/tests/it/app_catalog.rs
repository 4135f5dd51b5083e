//! The catalog and orders of the business app, end to end over HTTP: the team edits
//! products and collections (bad input refused with stable codes, agents read only),
//! customers browse the catalog in the protocol's shape and order, the server prices
//! orders exactly, and every order and status step shows up in the chat.

use std::io::Cursor;

use serde_json::{Value, json};
use switchboard_core::ids::direct_chat_id;

use crate::appkit::{App, Shop, User, shop, user};
use crate::support::TestServer;

fn eur(amount: i64) -> Value {
    json!({"amount_minor": amount, "currency": "EUR"})
}

async fn upload_png(server: &TestServer, who: &User) -> String {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([(x * 30) as u8, (y * 30) as u8, 90])
    }));
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("encode a png");
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/media", server.base))
        .bearer_auth(&who.token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.expect("json");
    body["media_id"].as_str().expect("media_id").to_owned()
}

async fn add_member(app: &App, s: &Shop, phone: &str, role: &str) {
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/team", s.waba_id),
            json!({"phone": phone, "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn product(app: &App, s: &Shop, body: Value) -> String {
    let (status, resp) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/catalog/products", s.waba_id),
            body,
        )
        .await;
    assert_eq!(status, 201, "{resp}");
    resp["id"].as_str().expect("id").to_owned()
}

/// The messages of a chat as `who` reads them, oldest first.
async fn history(app: &App, who: &User, chat_id: &str) -> Vec<Value> {
    let (status, body) = app
        .get(who, &format!("/v1/chats/{chat_id}/messages?limit=100"))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut m = body["messages"].as_array().expect("messages").clone();
    m.reverse();
    m
}

#[tokio::test]
async fn products_and_collections_are_edited_by_admins_and_checked() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000001", "Bruno's Bakery").await;
    let agent = user(&server, "+4915200000002").await;
    add_member(&app, &s, "+4915200000002", "agent").await;
    let media = upload_png(&server, &s.owner).await;
    let products = format!("/v1/biz/{}/catalog/products", s.waba_id);

    let pretzel = product(
        &app,
        &s,
        json!({"name": "Pretzel", "description": "Baked at 5", "price": eur(120),
               "image_media_ids": [media], "sku": "BR-1"}),
    )
    .await;
    assert!(pretzel.bytes().all(|b| b.is_ascii_alphanumeric()));

    let eleven: Vec<String> = (0..11).map(|_| media.clone()).collect();
    for (body, status, code) in [
        (
            json!({"name": "X", "price": {"amount_minor": 2.5, "currency": "EUR"}}),
            400,
            "invalid_price",
        ),
        (
            json!({"name": "X", "price": {"amount_minor": "250", "currency": "EUR"}}),
            400,
            "invalid_price",
        ),
        (
            json!({"name": "X", "price": {"amount_minor": -1, "currency": "EUR"}}),
            400,
            "invalid_price",
        ),
        (
            json!({"name": "X", "price": {"amount_minor": 1, "currency": "EURO"}}),
            400,
            "invalid_currency",
        ),
        (
            json!({"name": "x".repeat(201), "price": eur(1)}),
            400,
            "invalid_length",
        ),
        (
            json!({"name": "X", "price": eur(1), "description": "d".repeat(1001)}),
            400,
            "invalid_length",
        ),
        (
            json!({"name": "X", "price": eur(1), "image_media_ids": eleven}),
            400,
            "too_many_images",
        ),
        (
            json!({"name": "X", "price": eur(1), "image_media_ids": ["nope"]}),
            400,
            "unknown_media",
        ),
        (
            json!({"name": "X", "price": eur(1), "sku": "BR-1"}),
            409,
            "duplicate_sku",
        ),
        (
            json!({"name": "X", "price": eur(1), "colour": "red"}),
            400,
            "invalid_request",
        ),
        (json!({"name": "X"}), 400, "invalid_request"),
    ] {
        let (got, resp) = app.post(&s.owner, &products, body.clone()).await;
        assert_eq!(
            (got, resp["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} → {resp}"
        );
    }

    // Edit, read back.
    let (status, body) = app
        .patch(
            &s.owner,
            &format!("{products}/{pretzel}"),
            json!({"available": false, "price": eur(130)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["available"], false);
    assert_eq!(body["price"], eur(130));
    assert_eq!(body["sku"], "BR-1");
    assert_eq!(body["image_media_id"], media.as_str());

    // Collections, with their products in order.
    let coffee = product(&app, &s, json!({"name": "Coffee", "price": eur(250)})).await;
    let collections = format!("/v1/biz/{}/catalog/collections", s.waba_id);
    let (status, c) = app
        .post(
            &s.owner,
            &collections,
            json!({"name": "Breakfast", "product_ids": [coffee, pretzel]}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["product_ids"], json!([coffee, pretzel]));
    let (status, body) = app
        .post(
            &s.owner,
            &collections,
            json!({"name": "Bad", "product_ids": ["pnope"]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("unknown_product"))
    );
    let cid = c["id"].as_str().expect("id");
    let (status, body) = app
        .patch(
            &s.owner,
            &format!("{collections}/{cid}"),
            json!({"name": "Morning"}),
        )
        .await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Morning")));

    // An agent reads but does not edit.
    let (status, body) = app.get(&agent, &products).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["products"].as_array().map(Vec::len), Some(2));
    let (status, body) = app.get(&agent, &collections).await;
    assert_eq!(
        (status, body["collections"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (status, body) = app
        .post(&agent, &products, json!({"name": "Mine", "price": eur(1)}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = app
        .patch(
            &agent,
            &format!("{products}/{pretzel}"),
            json!({"available": true}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.delete(&agent, &format!("{collections}/{cid}")).await;
    assert_eq!(status, 403);

    // Another business's owner learns nothing.
    let other = shop(&server, &app, "+4915200000003", "Other Shop").await;
    let (status, _) = app.get(&other.owner, &products).await;
    assert_eq!(status, 404);

    // Deleting a product frees its SKU.
    let (status, _) = app.delete(&s.owner, &format!("{products}/{pretzel}")).await;
    assert_eq!(status, 204);
    let (status, _) = app.get(&s.owner, &format!("{products}/{pretzel}")).await;
    assert_eq!(status, 404);
    product(
        &app,
        &s,
        json!({"name": "Pretzel 2", "price": eur(140), "sku": "BR-1"}),
    )
    .await;
    let (status, _) = app.delete(&s.owner, &format!("{collections}/{cid}")).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn customers_browse_order_and_follow_their_order_in_the_chat() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915200000011", "Bruno's Bakery").await;
    let agent = user(&server, "+4915200000012").await;
    add_member(&app, &s, "+4915200000012", "agent").await;
    let alice = user(&server, "+4915200000013").await;
    let bob = user(&server, "+4915200000014").await;

    // No products yet: no catalog_url.
    let profile = format!("/v1/businesses/{}", s.user_id);
    let (_, body) = app.get(&alice, &profile).await;
    assert!(body.get("catalog_url").is_none(), "{body}");

    let pretzel = product(&app, &s, json!({"name": "Pretzel", "price": eur(120)})).await;
    let photo = upload_png(&server, &s.owner).await;
    let coffee = product(
        &app,
        &s,
        json!({"name": "Coffee", "description": "Filter", "price": eur(250), "image_media_ids": [photo]}),
    )
    .await;
    let cake = product(
        &app,
        &s,
        json!({"name": "Cake", "price": eur(400), "available": false}),
    )
    .await;
    let bagel = product(
        &app,
        &s,
        json!({"name": "Bagel", "price": {"amount_minor": 300, "currency": "USD"}}),
    )
    .await;

    // The customer browses in the protocol's shape.
    let (_, body) = app.get(&alice, &profile).await;
    assert!(
        body["catalog_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/catalog")),
        "{body}"
    );
    let (status, body) = app.get(&alice, &format!("{profile}/catalog")).await;
    assert_eq!(status, 200, "{body}");
    let listed = body["products"].as_array().expect("products");
    assert_eq!(listed.len(), 4);
    let by_id = |id: &str| {
        listed
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
            .expect("listed")
    };
    let first = by_id(&pretzel);
    for key in ["id", "name", "description", "price", "available"] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
    assert_eq!(first["price"], eur(120));
    assert_eq!(by_id(&cake)["available"], false);
    // The image of a product is fetchable by the customer through its signed URL.
    let coffee_listed = by_id(&coffee);
    assert_eq!(coffee_listed["image_media_id"], photo.as_str());
    let url = coffee_listed["image_url"].as_str().expect("image_url");
    let (status, _) = app.call(None, reqwest::Method::GET, url, None).await;
    assert_eq!(status, 200);

    // Order 2 pretzels and a coffee: 2 × 1.20 + 2.50 = 4.90, exactly.
    let orders = format!("{profile}/orders");
    let (status, order) = app
        .post(
            &alice,
            &orders,
            json!({"items": [{"product_id": pretzel, "quantity": 2}, {"product_id": coffee, "quantity": 1}],
                   "note": "to pick up at 8"}),
        )
        .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["total"], eur(490));
    assert_eq!(order["status"], "received");
    assert_eq!(order["items"][0]["line_total"], eur(240));
    let oid = order["id"].as_str().expect("id").to_owned();

    for (items, code) in [
        (
            json!([{"product_id": cake, "quantity": 1}]),
            "product_unavailable",
        ),
        (
            json!([{"product_id": pretzel, "quantity": 1}, {"product_id": bagel, "quantity": 1}]),
            "mixed_currencies",
        ),
        (
            json!([{"product_id": pretzel, "quantity": 0}]),
            "invalid_quantity",
        ),
        (
            json!([{"product_id": pretzel, "quantity": 1000}]),
            "invalid_quantity",
        ),
        (
            json!([{"product_id": "pnope", "quantity": 1}]),
            "unknown_product",
        ),
        (json!([]), "invalid_items"),
        (
            json!([{"product_id": pretzel, "quantity": 1}, {"product_id": pretzel, "quantity": 1}]),
            "duplicate_product",
        ),
    ] {
        let (status, body) = app.post(&alice, &orders, json!({"items": items})).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some(code)),
            "{items} → {body}"
        );
    }
    let (status, _) = app
        .post(
            &alice,
            &orders,
            json!({"items": [{"product_id": pretzel, "quantity": 1.5}]}),
        )
        .await;
    assert_eq!(status, 400);

    // The team sees the order, and the order message from the customer in the chat.
    let team_orders = format!("/v1/biz/{}/orders", s.waba_id);
    let (status, body) = app.get(&agent, &team_orders).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["orders"][0]["customer"], alice.user_id.as_str());
    let (_, body) = app
        .get(&agent, &format!("{team_orders}?status=ready"))
        .await;
    assert_eq!(body["orders"].as_array().map(Vec::len), Some(0));
    let (_, body) = app
        .get(&agent, &format!("{team_orders}?customer={}", bob.user_id))
        .await;
    assert_eq!(body["orders"].as_array().map(Vec::len), Some(0));
    let chat = direct_chat_id(&s.user_id, &alice.user_id);
    let msgs = history(&app, &s.owner, &chat).await;
    let placed = msgs.last().expect("the order message");
    assert_eq!(placed["from"], alice.user_id.as_str());
    assert_eq!(placed["body"]["order"]["order_id"], oid.as_str());
    assert_eq!(placed["body"]["order"]["total"]["display"], "€4.90");

    // Status steps; each shows up in the customer's chat.
    let step = |status: &str| json!({"status": status});
    let path = format!("{team_orders}/{oid}/status");
    let (status, body) = app.post(&agent, &path, step("ready")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    for st in ["confirmed", "ready", "delivered"] {
        let (status, body) = app.post(&agent, &path, step(st)).await;
        assert_eq!((status, body["status"].as_str()), (200, Some(st)), "{body}");
    }
    // A retried step changes nothing and stores its message once.
    let (status, body) = app.post(&agent, &path, step("delivered")).await;
    assert_eq!(
        (status, body["history"].as_array().map(Vec::len)),
        (200, Some(4))
    );
    let (status, body) = app.post(&agent, &path, step("cancelled")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    let (status, body) = app.post(&agent, &path, step("shipped")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_status"))
    );
    let (_, body) = app.get(&agent, &format!("{team_orders}/{oid}")).await;
    let history_steps: Vec<&str> = body["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["status"].as_str())
        .collect();
    assert_eq!(
        history_steps,
        ["received", "confirmed", "ready", "delivered"]
    );
    assert_eq!(body["history"][1]["by"], agent.user_id.as_str());

    let seen: Vec<String> = history(&app, &alice, &chat)
        .await
        .iter()
        .filter_map(|m| {
            m["body"]["order_status"]["status"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(seen, ["confirmed", "ready", "delivered"]);

    // Each customer sees only their own orders.
    let (_, body) = app.get(&alice, &orders).await;
    assert_eq!(body["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["orders"][0]["status"], "delivered");
    let (status, body) = app.get(&bob, &orders).await;
    assert_eq!(
        (status, body["orders"].as_array().map(Vec::len)),
        (200, Some(0))
    );

    // Another business's agent gets 404.
    let other = shop(&server, &app, "+4915200000015", "Other Shop").await;
    let (status, _) = app.get(&other.owner, &team_orders).await;
    assert_eq!(status, 404);
    let (status, _) = app.post(&other.owner, &path, step("cancelled")).await;
    assert_eq!(status, 404);

    // The team sends a product and the whole catalog into the chat.
    let send = format!("/v1/biz/{}/catalog/send", s.waba_id);
    let (status, body) = app
        .post(
            &agent,
            &send,
            json!({"to": alice.user_id, "product_id": coffee, "text": "Fresh!"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = app.post(&agent, &send, json!({"to": alice.user_id})).await;
    assert_eq!(status, 201);
    let (status, body) = app
        .post(
            &agent,
            &send,
            json!({"to": alice.user_id, "product_id": "pnope"}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // The customer may fetch the product's image the message shows.
    let (status, _) = app.get(&alice, &format!("/v1/media/{photo}")).await;
    assert_eq!(status, 200);
    let msgs = history(&app, &alice, &chat).await;
    let n = msgs.len();
    assert_eq!(msgs[n - 2]["body"]["product"]["name"], "Coffee");
    assert_eq!(msgs[n - 2]["body"]["product"]["text"], "Fresh!");
    assert_eq!(msgs[n - 1]["body"]["catalog"]["count"], 4);
}

#[tokio::test]
async fn an_order_reaches_a_cloud_api_webhook_in_metas_shape() {
    use crate::biz::{APP_SECRET, Api, Receiver, VERIFY_TOKEN, inbound};
    let server = TestServer::start().await;
    let app = App::new(&server);
    let hook = Receiver::start().await;
    let s = shop(&server, &app, "+4915200000021", "Bruno's Bakery").await;
    let (status, body) = Api::new(&server)
        .admin(
            reqwest::Method::PUT,
            &format!("/admin/v1/businesses/{}/webhook", s.waba_id),
            Some(json!({"url": hook.url, "verify_token": VERIFY_TOKEN, "app_secret": APP_SECRET})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let pretzel = product(
        &app,
        &s,
        json!({"name": "Pretzel", "price": eur(250), "sku": "BR-1"}),
    )
    .await;
    let alice = user(&server, "+4915200000022").await;
    let (status, body) = app
        .post(
            &alice,
            &format!("/v1/businesses/{}/orders", s.user_id),
            json!({"items": [{"product_id": pretzel, "quantity": 2}], "note": "at 8"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let events = hook
        .wait_for("the order", |e| {
            inbound(e).iter().any(|m| m["type"] == "order")
        })
        .await;
    let order = inbound(&events)
        .into_iter()
        .find(|m| m["type"] == "order")
        .cloned()
        .expect("an order");
    assert_eq!(order["from"], alice.user_id.as_str());
    assert_eq!(
        order["order"],
        json!({"catalog_id": s.waba_id, "text": "at 8", "product_items": [
            {"product_retailer_id": "BR-1", "quantity": 2, "item_price": 2.5, "currency": "EUR"}]})
    );
}

/// A retried order (same `client_id`, even from another device) is placed once and
/// appears once in the chat.
#[tokio::test]
async fn a_retried_order_is_placed_once() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915100000881", "Retry Bakery").await;
    let pretzel = product(&app, &s, json!({"name": "Brezel", "price": eur(120)})).await;
    let customer = user(&server, "+4915100000882").await;
    let (_, second_device) = server.device("+4915100000882", "tablet").await;
    let tablet = User {
        token: second_device,
        user_id: customer.user_id.clone(),
    };
    let path = format!("/v1/businesses/{}/orders", s.user_id);
    let body = json!({"items": [{"product_id": pretzel, "quantity": 2}], "client_id": "cart-7"});
    let (status, first) = app.post(&customer, &path, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = app.post(&tablet, &path, body).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        first["id"], again["id"],
        "the retry answers the first order"
    );
    let (_, mine) = app.get(&customer, &path).await;
    assert_eq!(mine["orders"].as_array().map(Vec::len), Some(1), "{mine}");
    let (a, b) = if s.user_id < customer.user_id {
        (&s.user_id, &customer.user_id)
    } else {
        (&customer.user_id, &s.user_id)
    };
    let chat = format!("d{a}-{b}");
    let orders_in_chat = history(&app, &customer, &chat)
        .await
        .into_iter()
        .filter(|m| m["body"].get("order").is_some())
        .count();
    assert_eq!(orders_in_chat, 1);
    // Another client id is another order; a bad one is refused.
    let (status, _) = app
        .post(
            &customer,
            &path,
            json!({"items": [{"product_id": pretzel, "quantity": 1}], "client_id": "cart-8"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, bad) = app
        .post(
            &customer,
            &path,
            json!({"items": [{"product_id": pretzel, "quantity": 1}], "client_id": "a/b"}),
        )
        .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_client_id"))
    );
}
