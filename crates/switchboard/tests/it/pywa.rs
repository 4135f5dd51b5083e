//! Cloud API compatibility with **unmodified pywa from PyPI**: the promise that an
//! existing WhatsApp Cloud API client works by changing only its base URL.
//!
//! The real binary serves; the admin API provisions a verified business, a token and
//! an approved template; `tests/compat/pywa_suite.py` (run by `.venv-test/bin/python`,
//! see `scripts/setup`) is the business, and this test is the customer over protocol
//! v1. The customer writes, pywa's own handler (signature validation on) receives it
//! and replies, the customer sees the reply `from_business` and acknowledges it, and
//! pywa's status handler sees `sent`, `delivered` and `read`. Both sides assert.
//!
//! The child speaks JSON lines: `{"event": ...}` on its stdout, `{"cmd": ...}` on its
//! stdin, diagnostics on stderr (passed through). Without the venv or pywa this test
//! says "skipped", unless `CI` is set: then it fails.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_client::proto::frames::{Message, ReceiptStatus};
use switchboard_client::{ServerFrame, Session, Target};
use tokio::sync::mpsc;

use crate::support::ServerProcess;

/// One step of either side; the whole suite stays well under a minute.
const STEP: Duration = Duration::from_secs(25);
const ADMIN_TOKEN: &str = "pywa-compat-admin-token-0123456789";
const API_VERSION: &str = "21.0";
const BUSINESS_NAME: &str = "Compat Air";
const BUSINESS_PHONE: &str = "+15550100001";
const CUSTOMER_PHONE: &str = "+15550100002";
const CUSTOMER_NAME: &str = "Dana Customer";
const APP_SECRET: &str = "compat-app-secret-5f1d";
const VERIFY_TOKEN: &str = "compat-verify-token";
const TEMPLATE: &str = "flight_update";
const TEMPLATE_LANG: &str = "en_US";
/// Non-ASCII on purpose: the webhook must escape it and pywa must decode it back.
const CUSTOMER_TEXT: &str = "hello from the customer: Gr\u{fc}\u{df}e \u{1f44b}";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `.venv-test/bin/python` if it can import pywa and flask; `None` (skip) otherwise,
/// except in CI.
fn python() -> Option<PathBuf> {
    let py = repo_root().join(".venv-test/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import pywa, flask"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "the pywa compatibility suite needs {} with pywa and flask in CI: run scripts/setup",
            py.display()
        );
    }
    eprintln!("skipped: no {} with pywa (run scripts/setup)", py.display());
    None
}

/// The pywa suite as a child process; killed on drop so a failing test leaves nothing.
struct PySuite {
    child: Child,
    stdin: Option<ChildStdin>,
    events: mpsc::UnboundedReceiver<Value>,
    /// The stdout reader; it ends when the child's stdout closes and is joined on drop.
    reader: Option<std::thread::JoinHandle<()>>,
    /// Every event seen so far, for failure messages.
    seen: Vec<String>,
}

impl PySuite {
    fn start(python: &Path, env: &[(&str, String)]) -> PySuite {
        let mut child = Command::new(python)
            .arg(repo_root().join("tests/compat/pywa_suite.py"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("PYTHONUNBUFFERED", "1")
            .env("SB_TIMEOUT", STEP.as_secs().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/compat/pywa_suite.py");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdin = child.stdin.take();
        let (tx, events) = mpsc::unbounded_channel();
        // A plain thread, not tokio::process: the workspace's tokio is built without the
        // `process` feature. The reader ends by itself when the child's stdout closes.
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event = serde_json::from_str::<Value>(&line)
                    .unwrap_or_else(|_| json!({"event": "noise", "line": line}));
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        PySuite {
            child,
            stdin,
            events,
            reader: Some(reader),
            seen: Vec::new(),
        }
    }

    /// Waits for the event `name`, skipping (and remembering) others; panics with
    /// pywa's message on `fail`, and on exit or timeout.
    async fn expect(&mut self, name: &str) -> Value {
        loop {
            let event = match tokio::time::timeout(STEP, self.events.recv()).await {
                Ok(Some(e)) => e,
                Ok(None) => {
                    let status = self.child.wait().ok();
                    panic!(
                        "pywa suite exited ({status:?}) while the test waited for {name:?}; \
                         events so far: {:?}",
                        self.seen
                    );
                }
                Err(_) => panic!(
                    "no {name:?} event from the pywa suite within {STEP:?}; events so far: {:?}",
                    self.seen
                ),
            };
            let kind = event["event"].as_str().unwrap_or("").to_owned();
            self.seen.push(event.to_string());
            if kind == "fail" {
                panic!(
                    "pywa suite failed: {}\n{}",
                    event["message"].as_str().unwrap_or("?"),
                    event["traceback"].as_str().unwrap_or("")
                );
            }
            if kind == name {
                return event;
            }
        }
    }

    fn command(&mut self, cmd: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{}", json!({ "cmd": cmd })).expect("write a command to pywa suite");
        stdin.flush().expect("flush a command to pywa suite");
    }

    /// Waits for the child to exit on its own (it does after `done`).
    async fn exit_status(&mut self) -> std::process::ExitStatus {
        self.stdin = None;
        for _ in 0..(STEP.as_millis() / 50) {
            if let Some(status) = self.child.try_wait().expect("poll pywa suite") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pywa suite did not exit within {STEP:?} after `done`");
    }
}

impl Drop for PySuite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Plain HTTP against the admin API and the Graph API.
struct Http {
    base: String,
    http: reqwest::Client,
}

impl Http {
    async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
        let res = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {path} {body}: HTTP {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {v}"))
}

/// The next frame on the customer's session, or a panic naming what was awaited.
async fn next_frame(session: &mut Session, what: &str) -> ServerFrame {
    match tokio::time::timeout(STEP, session.next()).await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => panic!("customer session failed while waiting for {what}: {e}"),
        Err(_) => panic!("customer: no {what} within {STEP:?}"),
    }
}

fn body_of(m: &Message) -> Value {
    serde_json::from_str(m.body.get()).expect("a message body is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmodified_pywa_runs_against_the_cloud_api() {
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    // The admin token: SWITCHBOARD_ADMIN_TOKEN if the environment has one (it wins
    // over the config file), else ours, through --config.
    let admin_token =
        std::env::var("SWITCHBOARD_ADMIN_TOKEN").unwrap_or_else(|_| ADMIN_TOKEN.to_owned());
    let config = tmp.path().join("switchboard.toml");
    std::fs::write(&config, format!("admin_token = {admin_token:?}\n")).expect("write config");
    let config = config.to_str().expect("utf-8 temp path").to_owned();
    let server = ServerProcess::start_with(&tmp.path().join("data"), &["--config", &config]).await;
    let base = format!("http://{}", server.addr);
    let http = Http {
        base: base.clone(),
        http: reqwest::Client::new(),
    };
    let admin = |m: reqwest::Method, p: String, b: Value| {
        let http = &http;
        let t = admin_token.clone();
        async move { http.call(m, &p, &t, b).await }
    };

    // The business: provisioned, verified, with a token and an approved template.
    let biz = admin(
        reqwest::Method::POST,
        "/admin/v1/businesses".into(),
        json!({"name": BUSINESS_NAME, "phone": BUSINESS_PHONE}),
    )
    .await;
    let waba = str_of(&biz, "waba_id").to_owned();
    let phone_id = str_of(&biz, "phone_number_id").to_owned();
    let biz_user = str_of(&biz, "user_id").to_owned();
    admin(
        reqwest::Method::POST,
        format!("/admin/v1/businesses/{waba}/verification"),
        json!({"status": "verified"}),
    )
    .await;
    let token = str_of(
        &admin(
            reqwest::Method::POST,
            format!("/admin/v1/businesses/{waba}/tokens"),
            json!({}),
        )
        .await,
        "token",
    )
    .to_owned();
    let created = http
        .call(
            reqwest::Method::POST,
            &format!("/v{API_VERSION}/{waba}/message_templates"),
            &token,
            json!({
                "name": TEMPLATE, "language": TEMPLATE_LANG, "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Flight {{1}} departs at {{2}}.",
                                "example": {"body_text": [["LY001", "10:05"]]}}]
            }),
        )
        .await;
    let template_id = str_of(&created, "id").to_owned();
    admin(
        reqwest::Method::POST,
        format!("/admin/v1/templates/{template_id}/review"),
        json!({"status": "APPROVED"}),
    )
    .await;

    // The customer, online before the business writes.
    let client = server.client();
    let reg = client.register(CUSTOMER_PHONE).await.expect("register");
    let me = client
        .verify(
            &reg.registration_id,
            &reg.dev_code.expect("dev mode returns the code"),
            Some("compat"),
        )
        .await
        .expect("verify");
    let client = client.with_token(me.token.clone());
    client
        .update_profile(Some(CUSTOMER_NAME))
        .await
        .expect("the customer sets its display name");
    let chat = client
        .create_direct_chat(BUSINESS_PHONE)
        .await
        .expect("the customer opens the chat with the business");
    let mut customer = client.connect(0).await.expect("customer connects");

    // The business: pywa.
    let mut py = PySuite::start(
        &python,
        &[
            ("SB_BASE_URL", base.clone()),
            ("SB_API_VERSION", API_VERSION.to_owned()),
            ("SB_PHONE_NUMBER_ID", phone_id.clone()),
            ("SB_WABA_ID", waba.clone()),
            ("SB_TOKEN", token.clone()),
            ("SB_APP_SECRET", APP_SECRET.to_owned()),
            ("SB_VERIFY_TOKEN", VERIFY_TOKEN.to_owned()),
            ("SB_BUSINESS_NAME", BUSINESS_NAME.to_owned()),
            ("SB_BUSINESS_PHONE", BUSINESS_PHONE.to_owned()),
            ("SB_CUSTOMER", me.user_id.clone()),
            ("SB_CUSTOMER_NAME", CUSTOMER_NAME.to_owned()),
            ("SB_TEMPLATE_NAME", TEMPLATE.to_owned()),
            ("SB_TEMPLATE_LANG", TEMPLATE_LANG.to_owned()),
        ],
    );
    py.expect("signature_validation_on").await;
    let listening = py.expect("listening").await;
    let url = str_of(&listening, "url").to_owned();
    // The platform side of the webhook: URL, verify token and app secret; the server
    // runs the hub.challenge handshake against pywa's route before it answers.
    admin(
        reqwest::Method::PUT,
        format!("/admin/v1/businesses/{waba}/webhook"),
        json!({"url": url, "verify_token": VERIFY_TOKEN, "app_secret": APP_SECRET}),
    )
    .await;
    py.command("webhook_configured");
    py.expect("webhook_registered_by_pywa").await;
    py.expect("phone_number").await;
    py.expect("business_profile").await;
    py.expect("window_enforced").await;
    let template_wamid = str_of(&py.expect("template_sent").await, "id").to_owned();
    py.expect("await_customer").await;

    // The customer sees the template, from the verified business.
    let from_business = json!({"name": BUSINESS_NAME, "verified": true});
    let mut business_msgs: Vec<Message> = Vec::new();
    while business_msgs.is_empty() {
        if let ServerFrame::Message(m) = next_frame(&mut customer, "the template message").await
            && m.from == biz_user
        {
            business_msgs.push(m);
        }
    }
    let template_msg = business_msgs[0].clone();
    assert_eq!(template_msg.chat_id, chat.chat_id, "the template's chat");
    assert_eq!(
        serde_json::to_value(&template_msg.from_business).expect("json"),
        from_business,
        "the template message carries from_business: {template_msg:?}"
    );

    // The customer writes; pywa's on_message gets it and replies from the handler.
    let client_id = customer
        .send_text(Target::Chat(chat.chat_id.clone()), CUSTOMER_TEXT)
        .await
        .expect("customer sends");
    let (my_id, my_seq) = loop {
        if let ServerFrame::Ack {
            client_id: c,
            id,
            seq,
            ..
        } = next_frame(&mut customer, "the ack of the customer's message").await
            && c == client_id
        {
            break (id, seq);
        }
    };
    let inbound = py.expect("inbound").await;
    assert_eq!(
        inbound["text"], CUSTOMER_TEXT,
        "pywa decoded the customer's text"
    );
    let sent = py.expect("sent").await;

    // The customer gets the reply (a reply to its message), the text, the document, the
    // image, the reaction, the location and the buttons, all from the business, and the
    // business's read receipt for its message.
    let mut read_by_business = false;
    while business_msgs.len() < 8 || !read_by_business {
        match next_frame(&mut customer, "the business's messages and read receipt").await {
            ServerFrame::Message(m) if m.from == biz_user => business_msgs.push(m),
            ServerFrame::Receipt(r)
                if r.user_id == biz_user
                    && r.up_to_seq >= my_seq
                    && r.status == ReceiptStatus::Read =>
            {
                read_by_business = true;
            }
            _ => {}
        }
    }
    for m in &business_msgs {
        assert_eq!(
            serde_json::to_value(&m.from_business).expect("json"),
            from_business,
            "every business message carries from_business: {m:?}"
        );
    }
    let bodies: Vec<Value> = business_msgs[1..].iter().map(body_of).collect();
    let reply = &business_msgs[1];
    assert_eq!(
        bodies[0],
        json!({"text": format!("echo: {CUSTOMER_TEXT}")}),
        "the handler's reply_text"
    );
    assert_eq!(
        reply.reply_to.as_deref(),
        Some(my_id.as_str()),
        "reply_text answers the customer's message"
    );
    assert_eq!(
        bodies[1]["text"], "Your gate is B7. \u{2708}",
        "send_message"
    );
    assert!(
        bodies[2]["media_id"].is_string() && bodies[2]["filename"] == "boarding-pass.pdf",
        "send_document by id: {}",
        bodies[2]
    );
    assert_eq!(
        bodies[2]["caption"], "Boarding pass",
        "the document's caption"
    );
    assert!(
        bodies[3]["media_id"].is_string() && bodies[3]["caption"] == "Seat map",
        "send_image by id: {}",
        bodies[3]
    );

    assert_eq!(
        bodies[4],
        json!({"reaction": {"message_id": my_id, "emoji": "\u{1f44d}"}}),
        "msg.react"
    );
    assert_eq!(
        bodies[5],
        json!({"location": {"latitude": 32.0114, "longitude": 34.8867,
                            "name": "Ben Gurion Airport", "address": "Terminal 3"}}),
        "send_location"
    );
    let interactive = &bodies[6]["interactive"];
    assert_eq!(
        interactive["type"], "button",
        "send_message with buttons: {}",
        bodies[6]
    );
    assert_eq!(
        interactive["body"], "Keep your window seat?",
        "the buttons' text"
    );
    assert_eq!(
        interactive["buttons"],
        json!([{"id": "keep-12A", "title": "Yes, keep it"}, {"id": "change-12A", "title": "Change"}]),
        "the buttons"
    );

    // The customer taps "Yes, keep it"; pywa's on_callback_button gets it.
    let tap = serde_json::value::to_raw_value(
        &json!({"button_reply": {"id": "keep-12A", "title": "Yes, keep it"}}),
    )
    .expect("json");
    customer
        .send(
            Target::Chat(chat.chat_id.clone()),
            tap,
            Some(business_msgs[7].id.clone()),
        )
        .await
        .expect("customer taps a button");
    py.expect("button").await;

    // The customer acknowledges everything: delivered, then read.
    let last = business_msgs.iter().map(|m| m.seq).max().expect("messages");
    customer
        .receipt(&chat.chat_id, last, ReceiptStatus::Delivered)
        .await
        .expect("delivered receipt");
    customer
        .receipt(&chat.chat_id, last, ReceiptStatus::Read)
        .await
        .expect("read receipt");

    // pywa's status handler saw sent, delivered, read for every business message.
    let statuses = py.expect("statuses").await;
    let seen: BTreeMap<String, Vec<String>> =
        serde_json::from_value(statuses["statuses"].clone()).expect("statuses map");
    for key in [
        "reply_id",
        "text_id",
        "document_id",
        "image_id",
        "location_id",
        "buttons_id",
    ] {
        let id = str_of(&sent, key);
        let got = seen.get(id).cloned().unwrap_or_default();
        for want in ["sent", "delivered", "read"] {
            assert!(
                got.iter().any(|s| s == want),
                "{key} {id}: statuses {got:?}"
            );
        }
    }
    assert!(
        seen.contains_key(&template_wamid),
        "the template's statuses: {seen:?}"
    );
    py.expect("done").await;
    let status = py.exit_status().await;
    assert!(status.success(), "pywa suite exited with {status}");
    customer.close().await;
}
