//! Click-to-chat links and their QR codes over HTTP: the team creates a link with a
//! prefilled text, anyone resolves it and fetches its QR code (a real PNG, an SVG),
//! a signed-in customer opens it into a chat with the business (counted), and a
//! deleted link is gone.

use serde_json::json;

use crate::appkit::{App, shop, user};
use crate::support::TestServer;

#[tokio::test]
async fn a_link_opens_a_chat_with_the_business() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, "+4915300000001", "Bruno's Bakery").await;
    let customer = user(&server, "+4915300000002").await;
    let stranger = user(&server, "+4915300000003").await;
    let links = format!("/v1/biz/{}/links", s.waba_id);

    let (status, link) = app
        .post(
            &s.owner,
            &links,
            json!({"text": "Hi! I'd like to order a cake"}),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let code = link["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 10);
    assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(
        link["url"].as_str(),
        Some(format!("{}/c/{code}", server.base).as_str())
    );

    for (body, code) in [
        (json!({"text": "x".repeat(141)}), "invalid_length"),
        (json!({"text": "hi", "utm": "x"}), "invalid_request"),
    ] {
        let (status, resp) = app.post(&s.owner, &links, body).await;
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (400, Some(code)),
            "{resp}"
        );
    }

    // Anyone resolves it, without signing in.
    let (status, body) = app
        .call(
            None,
            reqwest::Method::GET,
            &format!("/v1/links/{code}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["text"], "Hi! I'd like to order a cake");
    assert_eq!(body["business"]["user_id"], s.user_id.as_str());
    assert_eq!(body["business"]["name"], "Bruno's Bakery");
    assert_eq!(body["business"]["verified"], false);

    // QR codes: a PNG that decodes, and an SVG.
    let http = reqwest::Client::new();
    let png = http
        .get(format!("{}/v1/links/{code}/qr.png", server.base))
        .send()
        .await
        .expect("png");
    assert_eq!(png.status().as_u16(), 200);
    assert_eq!(
        png.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    let bytes = png.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let img = image::load_from_memory(&bytes).expect("the PNG decodes");
    assert!(img.width() >= 100 && img.width() == img.height());
    let svg = http
        .get(format!("{}/v1/links/{code}/qr.svg", server.base))
        .send()
        .await
        .expect("svg")
        .text()
        .await
        .expect("text");
    assert!(svg.contains("<svg"), "{svg}");
    let team_png = http
        .get(format!("{}{links}/{code}/qr.png", server.base))
        .bearer_auth(&s.owner.token)
        .send()
        .await
        .expect("png");
    assert_eq!(team_png.status().as_u16(), 200);

    // Opening it gives the chat with the business, and counts.
    let (status, body) = app
        .call(
            None,
            reqwest::Method::POST,
            &format!("/v1/links/{code}/open"),
            None,
        )
        .await;
    assert_eq!(status, 401, "{body}");
    let (status, opened) = app
        .post(&customer, &format!("/v1/links/{code}/open"), json!({}))
        .await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(
        opened["chat_id"].as_str(),
        Some(switchboard_core::ids::direct_chat_id(&customer.user_id, &s.user_id).as_str())
    );
    assert_eq!(opened["text"], "Hi! I'd like to order a cake");
    let (status, _) = app
        .get(
            &customer,
            &format!(
                "/v1/chats/{}/messages",
                opened["chat_id"].as_str().unwrap_or("")
            ),
        )
        .await;
    assert_eq!(status, 200);
    app.post(&stranger, &format!("/v1/links/{code}/open"), json!({}))
        .await;
    let (status, body) = app.get(&s.owner, &links).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["links"][0]["code"], code.as_str());
    assert_eq!(body["links"][0]["opens"], 2);

    // A non-member learns nothing about the team side.
    let (status, _) = app.get(&stranger, &links).await;
    assert_eq!(status, 404);
    let (status, _) = app.delete(&stranger, &format!("{links}/{code}")).await;
    assert_eq!(status, 404);

    // A number link resolves the business by phone.
    let (status, body) = app
        .call(
            None,
            reqwest::Method::GET,
            &format!("/v1/links/phone/{}?text=Hello", s.user_id),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["business"]["name"].as_str(), body["text"].as_str()),
        (Some("Bruno's Bakery"), Some("Hello"))
    );
    let (status, _) = app
        .call(
            None,
            reqwest::Method::GET,
            &format!("/v1/links/phone/{}", customer.user_id),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Deleted: gone everywhere.
    let (status, _) = app.delete(&s.owner, &format!("{links}/{code}")).await;
    assert_eq!(status, 204);
    for path in [
        format!("/v1/links/{code}"),
        format!("/v1/links/{code}/qr.png"),
        format!("/v1/links/{code}/qr.svg"),
        "/v1/links/aaaaaaaaaa".to_owned(),
        "/v1/links/not-a-code".to_owned(),
    ] {
        let (status, _) = app.call(None, reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = app
        .post(&customer, &format!("/v1/links/{code}/open"), json!({}))
        .await;
    assert_eq!(status, 404);
    let (_, body) = app.get(&s.owner, &links).await;
    assert_eq!(body["links"].as_array().map(Vec::len), Some(0));
}
