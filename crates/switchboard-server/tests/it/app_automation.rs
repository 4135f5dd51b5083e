//! Profile and opening hours, greeting and away messages, quick replies: the
//! business's set-up as its team edits it, and what the app worker answers
//! customers with (time-dependent rules run on the injected clock).

use serde_json::{Value, json};

use crate::appkit::{App, Shop, User, eventually, shop, user};
use crate::support::{RawWs, TestClock, TestServer};

const OWNER: &str = "+4915100007001";
const CUSTOMER: &str = "+4915100007002";
const AGENT: &str = "+4915100007003";
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
        .unwrap_or(0)
}

/// Moves the server's clock so that it reads `utc_ms` now.
fn set_clock(clock: &TestClock, utc_ms: i64) {
    let current = now_ms() + clock.offset.load(std::sync::atomic::Ordering::SeqCst);
    clock.advance(utc_ms - current);
}

/// A customer in a direct chat with the shop, connected over the WebSocket.
struct Customer {
    user: User,
    ws: RawWs,
    chat_id: String,
    sent: usize,
}

impl Customer {
    async fn new(server: &TestServer, app: &App, s: &Shop) -> Customer {
        let u = user(server, CUSTOMER).await;
        let (status, chat) = app
            .post(
                &u,
                "/v1/chats",
                json!({"kind": "direct", "with": format!("+{}", s.user_id)}),
            )
            .await;
        assert!(status == 200 || status == 201, "{chat}");
        let ws = RawWs::connect(server, &u.token).await;
        Customer {
            user: u,
            ws,
            chat_id: chat["chat_id"].as_str().expect("chat_id").to_owned(),
            sent: 0,
        }
    }

    async fn say(&mut self, text: &str) {
        self.sent += 1;
        let (ack, _) = self
            .ws
            .send_text_msg(&format!("c{}", self.sent), &self.chat_id, text)
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
}

/// The business's texts in the chat, oldest first.
async fn business_texts(app: &App, c: &Customer, s: &Shop) -> Vec<String> {
    let (status, body) = app
        .get(
            &c.user,
            &format!("/v1/chats/{}/messages?limit=500", c.chat_id),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut out: Vec<String> = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["from"] == s.user_id.as_str())
        .filter_map(|m| m["body"]["text"].as_str().map(str::to_owned))
        .collect();
    out.reverse();
    out
}

/// Uploads a small PNG as `who`; its media id. (app_catalog.rs has the same helper;
/// it could move to appkit.)
async fn upload_png(server: &TestServer, who: &User) -> String {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(4, 4, |x, y| {
        image::Rgb([(x * 60) as u8, (y * 60) as u8, 7])
    }));
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
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

fn count(texts: &[String], text: &str) -> usize {
    texts.iter().filter(|t| *t == text).count()
}

/// Waits until the app worker has handled `n` customer messages (its statistics are
/// written with its cursor, after the automation ran). The clocked tests run in 2027.
async fn handled(app: &App, s: &Shop, n: i64) {
    let path = format!("/v1/biz/{}/stats?from=2027-01-01&to=2027-12-31", s.waba_id);
    eventually(&format!("{n} messages handled"), || async {
        let (_, body) = app.get(&s.owner, &path).await;
        (body["totals"]["received"].as_i64() == Some(n)).then_some(())
    })
    .await;
}

/// The owner answers from their own phone (a human: ends a burst).
async fn owner_replies(server: &TestServer, s: &Shop, c: &Customer, id: &str) {
    let mut ws = RawWs::connect(server, &s.owner.token).await;
    let (ack, _) = ws.send_text_msg(id, &c.chat_id, "A person here").await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

fn utc(s: &str) -> i64 {
    // "YYYY-MM-DDTHH:MM" in UTC, without a date library in the tests.
    let n = |r: std::ops::Range<usize>| {
        s.get(r)
            .and_then(|x| x.parse::<i64>().ok())
            .expect("digits")
    };
    let (y, m, d, h, mi) = (n(0..4), n(5..7), n(8..10), n(11..13), n(14..16));
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * DAY + h * HOUR + mi * MIN
}

#[tokio::test]
async fn greeting_on_first_contact_and_after_two_quiet_weeks() {
    let clock = TestClock::default();
    set_clock(&clock, utc("2027-02-01T10:00"));
    let server = TestServer::start_with_clock(&clock).await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    let greeting = "Welcome to Bruno's! We bake from 7.";
    let (status, body) = app
        .put(
            &s.owner,
            &format!("/v1/biz/{}/automation/greeting", s.waba_id),
            json!({"enabled": true, "text": greeting}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"enabled": true, "text": greeting}));

    let mut c = Customer::new(&server, &app, &s).await;
    c.say("Hello, do you have rye bread?").await;
    handled(&app, &s, 1).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, greeting), 1);

    c.say("And pretzels?").await;
    handled(&app, &s, 2).await;
    assert_eq!(
        count(&business_texts(&app, &c, &s).await, greeting),
        1,
        "not on the second"
    );

    clock.advance(13 * DAY);
    c.say("Still there?").await;
    handled(&app, &s, 3).await;
    assert_eq!(
        count(&business_texts(&app, &c, &s).await, greeting),
        1,
        "13 days is not quiet"
    );

    clock.advance(14 * DAY + MIN);
    c.say("Back again").await;
    handled(&app, &s, 4).await;
    let texts = business_texts(&app, &c, &s).await;
    assert_eq!(
        count(&texts, greeting),
        2,
        "again after 14 quiet days: {texts:?}"
    );

    // Disabled: nothing.
    let (status, _) = app
        .put(
            &s.owner,
            &format!("/v1/biz/{}/automation/greeting", s.waba_id),
            json!({"enabled": false, "text": greeting}),
        )
        .await;
    assert_eq!(status, 200);
    clock.advance(15 * DAY);
    c.say("Hello?").await;
    handled(&app, &s, 5).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, greeting), 2);
}

#[tokio::test]
async fn away_outside_opening_hours_once_per_burst() {
    let clock = TestClock::default();
    // Wednesday 2027-01-13, 20:00 in Berlin (UTC+1).
    set_clock(&clock, utc("2027-01-13T19:00"));
    let server = TestServer::start_with_clock(&clock).await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    let day = json!([{"open": "09:00", "close": "17:00"}]);
    let (status, body) = app
        .patch(
            &s.owner,
            &format!("/v1/biz/{}/profile", s.waba_id),
            json!({"hours": {"timezone": "Europe/Berlin", "weekly": {
                "mon": day, "tue": day, "wed": day, "thu": day, "fri": day}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let away = "We are closed; back at 9.";
    let (status, body) = app
        .put(
            &s.owner,
            &format!("/v1/biz/{}/automation/away", s.waba_id),
            json!({"enabled": true, "text": away, "schedule": "outside_hours"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let mut c = Customer::new(&server, &app, &s).await;
    for t in ["Hi", "Are you open?", "Hello??"] {
        c.say(t).await;
    }
    handled(&app, &s, 3).await;
    assert_eq!(
        count(&business_texts(&app, &c, &s).await, away),
        1,
        "once per burst"
    );

    // A person answering ends the burst.
    owner_replies(&server, &s, &c, "o1").await;
    c.say("Thanks, and tomorrow?").await;
    handled(&app, &s, 4).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, away), 2);

    // So does an hour without customer messages.
    clock.advance(HOUR + MIN);
    c.say("One more thing").await;
    handled(&app, &s, 5).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, away), 3);

    // Sunday noon: closed all day.
    set_clock(&clock, utc("2027-01-17T11:00"));
    c.say("Sunday rolls?").await;
    c.say("Please").await;
    handled(&app, &s, 7).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, away), 4);

    // Monday 10:00 local: open, no away message.
    set_clock(&clock, utc("2027-01-18T09:00"));
    c.say("Good morning").await;
    handled(&app, &s, 8).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, away), 4);

    // Customers see the hours (protocol section 5).
    let (status, body) = app
        .get(&c.user, &format!("/v1/businesses/{}", s.user_id))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hours"]["timezone"], "Europe/Berlin");
    assert_eq!(body["hours"]["weekly"]["mon"][0]["open"], "09:00");
}

#[tokio::test]
async fn away_always_and_in_a_custom_window() {
    let clock = TestClock::default();
    set_clock(&clock, utc("2027-03-01T10:00"));
    let server = TestServer::start_with_clock(&clock).await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    let path = format!("/v1/biz/{}/automation/away", s.waba_id);
    let (status, body) = app.get(&s.owner, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["enabled"], false);

    let away = "On holiday!";
    let (status, body) = app
        .put(
            &s.owner,
            &path,
            json!({"enabled": true, "text": away, "schedule": "always"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app
        .put(
            &s.owner,
            &format!("/v1/biz/{}/automation/greeting", s.waba_id),
            json!({"enabled": true, "text": "Welcome!"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut c = Customer::new(&server, &app, &s).await;
    c.say("Hi").await;
    c.say("Hi again").await;
    handled(&app, &s, 2).await;
    assert_eq!(
        business_texts(&app, &c, &s).await,
        ["Welcome!", away],
        "both, the greeting first, once"
    );

    let start = now_ms() + clock.offset.load(std::sync::atomic::Ordering::SeqCst) + HOUR;
    let (status, body) = app
        .put(
            &s.owner,
            &path,
            json!({"enabled": true, "text": away,
                   "schedule": {"custom": {"from": start, "until": start + HOUR}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["schedule"]["custom"]["from"], start);
    owner_replies(&server, &s, &c, "o1").await;
    c.say("Before the window").await;
    handled(&app, &s, 3).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, away), 1);

    clock.advance(HOUR + 10 * MIN);
    c.say("In the window").await;
    handled(&app, &s, 4).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, away), 2);

    clock.advance(HOUR);
    c.say("After the window").await;
    handled(&app, &s, 5).await;
    assert_eq!(count(&business_texts(&app, &c, &s).await, away), 2);
}

#[tokio::test]
async fn bad_settings_are_refused() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    let profile = format!("/v1/biz/{}/profile", s.waba_id);
    let greeting = format!("/v1/biz/{}/automation/greeting", s.waba_id);
    let away = format!("/v1/biz/{}/automation/away", s.waba_id);
    let hours = |weekly: Value| json!({"hours": {"timezone": "Europe/Berlin", "weekly": weekly}});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            &profile,
            json!({"hours": {"timezone": "Mars/Olympus"}}),
            "invalid_timezone",
        ),
        (
            &profile,
            hours(json!({"mon": [{"open": "09:00", "close": "25:00"}]})),
            "invalid_time",
        ),
        (
            &profile,
            hours(json!({"mon": [{"open": "9", "close": "10:00"}]})),
            "invalid_time",
        ),
        (
            &profile,
            hours(json!({"mon": [{"open": "12:00", "close": "10:00"}]})),
            "invalid_interval",
        ),
        (
            &profile,
            hours(
                json!({"mon": [{"open": "08:00", "close": "12:00"}, {"open": "11:00", "close": "13:00"}]}),
            ),
            "overlapping_intervals",
        ),
        (&profile, hours(json!({"someday": []})), "invalid_hours"),
        (
            &profile,
            json!({"hours": {"timezone": "Europe/Berlin", "closed_dates": ["2026-02-30"]}}),
            "invalid_date",
        ),
        (
            &profile,
            json!({"about": "x".repeat(140)}),
            "invalid_profile",
        ),
        (
            &profile,
            json!({"email": "not-an-email"}),
            "invalid_profile",
        ),
        (
            &profile,
            json!({"websites": ["ftp://x.example"]}),
            "invalid_profile",
        ),
        (
            &profile,
            json!({"websites": ["https://a.example", "https://b.example", "https://c.example"]}),
            "invalid_profile",
        ),
        (
            &profile,
            json!({"vertical": "SPACESHIPS"}),
            "invalid_profile",
        ),
        (&profile, json!({"photo_media_id": "nope"}), "invalid_media"),
        (&profile, json!({"name": "Renamed"}), "invalid_request"),
        (
            &greeting,
            json!({"enabled": true, "text": "x".repeat(1025)}),
            "invalid_length",
        ),
        (
            &greeting,
            json!({"enabled": true, "text": ""}),
            "invalid_length",
        ),
        (
            &greeting,
            json!({"enabled": true, "text": "Hi", "color": "red"}),
            "invalid_request",
        ),
        (
            &away,
            json!({"enabled": true, "text": "Closed", "schedule": "outside_hours"}),
            "hours_not_set",
        ),
        (
            &away,
            json!({"enabled": true, "text": "Closed", "schedule": "sometimes"}),
            "invalid_request",
        ),
        (
            &away,
            json!({"enabled": true, "text": "Closed", "schedule": {"custom": {"from": 5, "until": 1}}}),
            "invalid_schedule",
        ),
    ];
    for (path, body, code) in cases {
        let method = if path == profile {
            reqwest::Method::PATCH
        } else {
            reqwest::Method::PUT
        };
        let (status, answer) = app
            .call(Some(&s.owner.token), method, path, Some(body.clone()))
            .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{path} {body}: {answer}"
        );
    }
}

#[tokio::test]
async fn the_profile_is_edited_by_admins_and_seen_by_customers() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    let agent = user(&server, AGENT).await;
    let (status, body) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/team", s.waba_id),
            json!({"phone": AGENT, "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let profile = format!("/v1/biz/{}/profile", s.waba_id);
    let (status, body) = app
        .patch(
            &s.owner,
            &profile,
            json!({"about": "Fresh every morning", "description": "Family bakery since 1952",
                   "address": "Hauptstr. 1, Berlin", "email": "hallo@bruno.example",
                   "websites": ["https://bruno.example"], "vertical": "restaurant",
                   "category": "Bakery",
                   "hours": {"timezone": "Europe/Berlin", "weekly": {"sat": [{"open": "07:00", "close": "24:00"}]},
                             "closed_dates": ["2026-12-25"]}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["vertical"], "RESTAURANT");
    let photo = upload_png(&server, &s.owner).await;
    let (status, body) = app
        .patch(&s.owner, &profile, json!({"photo_media_id": photo}))
        .await;
    assert_eq!(
        (status, &body["photo_media_id"]),
        (200, &json!(photo)),
        "{body}"
    );
    assert_eq!(body["about"], "Fresh every morning", "other fields stay");
    let (status, seen) = app.get(&agent, &profile).await;
    assert_eq!((status, &seen), (200, &body));

    // Agents read but do not change the set-up.
    for (method, path, b) in [
        (
            reqwest::Method::PATCH,
            profile.clone(),
            json!({"about": "Mine now"}),
        ),
        (
            reqwest::Method::PUT,
            format!("/v1/biz/{}/automation/greeting", s.waba_id),
            json!({"enabled": true, "text": "Yo"}),
        ),
        (
            reqwest::Method::PUT,
            format!("/v1/biz/{}/automation/away", s.waba_id),
            json!({"enabled": true, "text": "Gone", "schedule": "always"}),
        ),
    ] {
        let (status, answer) = app.call(Some(&agent.token), method, &path, Some(b)).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}: {answer}"
        );
    }
    let (status, _) = app
        .get(
            &agent,
            &format!("/v1/biz/{}/automation/greeting", s.waba_id),
        )
        .await;
    assert_eq!(status, 200);

    let customer = user(&server, CUSTOMER).await;
    let (status, public) = app
        .get(&customer, &format!("/v1/businesses/{}", s.user_id))
        .await;
    assert_eq!(status, 200, "{public}");
    assert_eq!(public["about"], "Fresh every morning");
    assert_eq!(public["category"], "Bakery");
    assert_eq!(public["websites"], json!(["https://bruno.example"]));
    assert_eq!(public["hours"]["closed_dates"], json!(["2026-12-25"]));
    assert_eq!(
        public["name"], "Bruno's Bakery",
        "the name is not edited here"
    );

    // "" clears a field, null clears the hours.
    let (status, body) = app
        .patch(&s.owner, &profile, json!({"about": "", "hours": null}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["about"], &body["hours"]), (&json!(""), &Value::Null));
    assert_eq!(body["address"], "Hauptstr. 1, Berlin");
    // A stranger sees nothing of it.
    let (status, _) = app.get(&customer, &profile).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn quick_replies_crud_and_completion() {
    let server = TestServer::start().await;
    let app = App::new(&server);
    let s = shop(&server, &app, OWNER, "Bruno's Bakery").await;
    let agent = user(&server, AGENT).await;
    let (status, _) = app
        .post(
            &s.owner,
            &format!("/v1/biz/{}/team", s.waba_id),
            json!({"phone": AGENT, "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201);
    let base = format!("/v1/biz/{}/replies", s.waba_id);

    let (status, body) = app
        .post(
            &s.owner,
            &base,
            json!({"shortcut": "/Hours", "text": "We open at 7."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, json!({"shortcut": "/hours", "text": "We open at 7."}));
    let menu = upload_png(&server, &s.owner).await;
    let (status, body) = app
        .post(
            &s.owner,
            &base,
            json!({"shortcut": "/menu", "text": "Our menu", "media_id": menu}),
        )
        .await;
    assert_eq!((status, &body["media_id"]), (201, &json!(menu)), "{body}");
    let (status, _) = app.delete(&s.owner, &format!("{base}/menu")).await;
    assert_eq!(status, 204);
    for (sc, text) in [
        ("/holiday", "Closed on Dec 25."),
        ("/prices", "See our catalog."),
    ] {
        let (status, body) = app
            .post(&s.owner, &base, json!({"shortcut": sc, "text": text}))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = app
        .post(
            &s.owner,
            &base,
            json!({"shortcut": "/HOURS", "text": "dupe"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("shortcut_taken"))
    );

    // "/" completion, for agents too.
    let (status, body) = app.get(&agent, &format!("{base}?prefix=/ho")).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["replies"]
        .as_array()
        .expect("replies")
        .iter()
        .filter_map(|r| r["shortcut"].as_str())
        .collect();
    assert_eq!(names, ["/holiday", "/hours"]);
    let (_, body) = app.get(&agent, &base).await;
    assert_eq!(body["replies"].as_array().map(Vec::len), Some(3));
    let (status, body) = app.get(&agent, &format!("{base}/hours")).await;
    assert_eq!((status, &body["text"]), (200, &json!("We open at 7.")));

    // Update and delete; agents may not.
    let (status, body) = app
        .put(
            &s.owner,
            &format!("{base}/hours"),
            json!({"text": "We open at 6."}),
        )
        .await;
    assert_eq!(
        (status, &body["text"]),
        (200, &json!("We open at 6.")),
        "{body}"
    );
    let (status, _) = app
        .put(&agent, &format!("{base}/hours"), json!({"text": "No"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post(&agent, &base, json!({"shortcut": "/x", "text": "No"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.delete(&agent, &format!("{base}/prices")).await;
    assert_eq!(status, 403);
    let (status, _) = app.delete(&s.owner, &format!("{base}/prices")).await;
    assert_eq!(status, 204);
    let (status, _) = app.delete(&s.owner, &format!("{base}/prices")).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .put(&s.owner, &format!("{base}/nothing"), json!({"text": "x"}))
        .await;
    assert_eq!(status, 404);

    // 50 at most.
    for i in 2..50 {
        let (status, body) = app
            .post(
                &s.owner,
                &base,
                json!({"shortcut": format!("/r{i}"), "text": "x"}),
            )
            .await;
        assert_eq!(status, 201, "{i}: {body}");
    }
    let (status, body) = app
        .post(&s.owner, &base, json!({"shortcut": "/r50", "text": "x"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("limit_reached")),
        "{body}"
    );

    // Validation.
    let cases = [
        (json!({"shortcut": "/", "text": "x"}), "invalid_shortcut"),
        (
            json!({"shortcut": "/has space", "text": "x"}),
            "invalid_shortcut",
        ),
        (
            json!({"shortcut": format!("/{}", "a".repeat(26)), "text": "x"}),
            "invalid_shortcut",
        ),
        (json!({"shortcut": "/ok", "text": ""}), "invalid_length"),
        (
            json!({"shortcut": "/ok", "text": "x".repeat(4097)}),
            "invalid_length",
        ),
        (
            json!({"shortcut": "/ok", "text": "x", "media_id": "missing"}),
            "invalid_media",
        ),
        (
            json!({"shortcut": "/ok", "text": "x", "extra": 1}),
            "invalid_request",
        ),
    ];
    let (status, _) = app.delete(&s.owner, &format!("{base}/r49")).await;
    assert_eq!(status, 204);
    for (body, code) in cases {
        let (status, answer) = app.post(&s.owner, &base, body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}: {answer}"
        );
    }
    let (status, body) = app.get(&agent, &format!("{base}?prefix=bad prefix")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_shortcut"))
    );
}
