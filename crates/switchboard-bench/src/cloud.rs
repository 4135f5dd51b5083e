//! `bench cloud`: the business API under load. A business (provisioned through the
//! admin API, throughput unlimited) sends template notifications to many distinct
//! customers, one HTTP request each, keep-alive, K in flight. A webhook receiver in
//! this process checks every event's signature and counts `sent` and `delivered`
//! statuses; a subset of the customers is online and acknowledges delivery.
//!
//! Reports: accepted/s and request latency; delivered/s; webhook events/s and how
//! long the webhooks took to catch up after the last send.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_client::proto::frames::{ReceiptStatus, ServerFrame};

use crate::report::{self, Latency};
use crate::users::{CommonArgs, ensure_users};

const APP_SECRET: &str = "bench-app-secret";

#[derive(clap::Args, Clone, Debug)]
pub struct CloudArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The server's platform admin token.
    #[arg(long, env = "SWITCHBOARD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: String,
    /// Template messages to send.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: usize,
    /// Distinct customers (message i goes to customer i mod this).
    #[arg(long, default_value_t = 100_000)]
    pub customers: usize,
    /// Customers connected over WebSocket that acknowledge delivery.
    #[arg(long, default_value_t = 1_000)]
    pub online: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 256)]
    pub in_flight: usize,
    /// Stop sending after this long.
    #[arg(long, default_value_t = 300)]
    pub max_seconds: u64,
    /// Keep registered customers here between runs (registration takes a while).
    #[arg(long)]
    pub token_file: Option<std::path::PathBuf>,
}

#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    delivered: AtomicU64,
    other: AtomicU64,
    bad_signature: AtomicU64,
    /// Microseconds since the start when the last event arrived.
    last_event_us: AtomicU64,
}

struct Receiver {
    counts: Counts,
    started: Instant,
}

async fn handshake(Query(q): Query<std::collections::HashMap<String, String>>) -> String {
    q.get("hub.challenge").cloned().unwrap_or_default()
}

async fn event(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    use hmac::{KeyInit, Mac};
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|s| hex::decode(s).ok())
        .unwrap_or_default();
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()) else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    mac.update(&body);
    if mac.verify_slice(&sig).is_err() {
        r.counts.bad_signature.fetch_add(1, Ordering::Relaxed);
        return StatusCode::FORBIDDEN;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let status = &v["entry"][0]["changes"][0]["value"]["statuses"][0]["status"];
    let c = &r.counts;
    match status.as_str() {
        Some("sent") => c.sent.fetch_add(1, Ordering::Relaxed),
        Some("delivered") => c.delivered.fetch_add(1, Ordering::Relaxed),
        _ => c.other.fetch_add(1, Ordering::Relaxed),
    };
    c.last_event_us
        .fetch_max(r.started.elapsed().as_micros() as u64, Ordering::Relaxed);
    StatusCode::OK
}

async fn admin(
    http: &reqwest::Client,
    args: &CloudArgs,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let r = http
        .request(method, format!("{}{path}", args.common.server))
        .bearer_auth(&args.admin_token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("admin call {path}"))?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("admin call {path} answered {status}: {v}");
    }
    Ok(v)
}

#[derive(Serialize)]
struct CloudReport {
    messages_sent: u64,
    errors: u64,
    seconds: f64,
    accepted_per_sec: f64,
    request_latency: Latency,
    webhook_sent: u64,
    webhook_delivered: u64,
    webhook_events_per_sec: f64,
    delivered_per_sec: f64,
    webhook_drain_seconds: f64,
    bad_signatures: u64,
}

pub async fn run(args: CloudArgs) -> anyhow::Result<()> {
    if args.online > args.customers {
        bail!("--online cannot exceed --customers");
    }
    let receiver = Arc::new(Receiver {
        counts: Counts::default(),
        started: Instant::now(),
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::get(handshake).post(event))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.in_flight)
        .tcp_nodelay(true)
        .build()?;
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 10_000_000)
        .unwrap_or(0);
    let phone = format!("+4930{tag:07}");
    let biz = admin(
        &http,
        &args,
        reqwest::Method::POST,
        "/admin/v1/businesses",
        json!({"name": "Bench Air", "phone": phone}),
    )
    .await?;
    let waba = biz["waba_id"].as_str().context("waba_id")?.to_owned();
    let pnid = biz["phone_number_id"]
        .as_str()
        .context("phone_number_id")?
        .to_owned();
    let token = admin(
        &http,
        &args,
        reqwest::Method::POST,
        &format!("/admin/v1/businesses/{waba}/tokens"),
        json!({}),
    )
    .await?["token"]
        .as_str()
        .context("token")?
        .to_owned();
    admin(
        &http,
        &args,
        reqwest::Method::POST,
        &format!("/admin/v1/businesses/{waba}/verification"),
        json!({"status": "verified"}),
    )
    .await?;
    admin(
        &http,
        &args,
        reqwest::Method::PUT,
        &format!("/admin/v1/businesses/{waba}/throughput"),
        json!({"mps": null}),
    )
    .await?;
    // A new business may reach 250 customers a day; an enterprise's volume is agreed.
    admin(
        &http,
        &args,
        reqwest::Method::PUT,
        &format!("/admin/v1/businesses/{waba}/tier"),
        json!({"tier": "TIER_UNLIMITED"}),
    )
    .await?;
    admin(
        &http,
        &args,
        reqwest::Method::PUT,
        &format!("/admin/v1/businesses/{waba}/webhook"),
        json!({"url": hook_url, "verify_token": "bench", "app_secret": APP_SECRET}),
    )
    .await?;
    let graph = |path: &str| format!("{}/v21.0{path}", args.common.server);
    let t: Value = http
        .post(graph(&format!("/{waba}/message_templates")))
        .bearer_auth(&token)
        .json(
            &json!({"name": "flight_update", "language": "en", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Flight {{1}} now departs at {{2}}.",
                            "example": {"body_text": [["LY001", "10:05"]]}}]}),
        )
        .send()
        .await?
        .json()
        .await?;
    let template_id = t["id"].as_str().context("template id")?.to_owned();
    admin(
        &http,
        &args,
        reqwest::Method::POST,
        &format!("/admin/v1/templates/{template_id}/review"),
        json!({"status": "APPROVED"}),
    )
    .await?;

    let customers = ensure_users(&args.common, args.customers, args.token_file.as_deref()).await?;
    let sessions = crate::load::connect_all(&args.common, &customers[..args.online]).await?;
    for mut s in sessions {
        tokio::spawn(async move {
            while let Ok(frame) = s.next().await {
                if let ServerFrame::Message(m) = frame {
                    let _ = s.receipt(&m.chat_id, m.seq, ReceiptStatus::Delivered).await;
                }
            }
        });
    }
    eprintln!(
        "business {waba}: sending {} templates to {} customers ({} online), {} in flight",
        args.messages, args.customers, args.online, args.in_flight
    );

    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.max_seconds);
    let url = graph(&format!("/{pnid}/messages"));
    let latencies: Vec<hdrhistogram::Histogram<u64>> = futures_util::stream::iter(0..args.messages)
        .take_while(|_| std::future::ready(Instant::now() < deadline))
        .map(|i| {
            let to = &customers[i % customers.len()].phone;
            let body = json!({"messaging_product": "whatsapp", "to": to, "type": "template",
                "template": {"name": "flight_update", "language": {"code": "en"},
                    "components": [{"type": "body", "parameters": [
                        {"type": "text", "text": format!("SB{}", i % 1000)},
                        {"type": "text", "text": "10:05"}]}]}});
            let (http, url, token, errors) = (&http, &url, &token, errors.clone());
            async move {
                let t0 = Instant::now();
                let ok = match http.post(url).bearer_auth(token).json(&body).send().await {
                    Ok(r) if r.status().is_success() => true,
                    Ok(r) => {
                        let status = r.status();
                        let text = r.text().await.unwrap_or_default();
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("send failed: {status} {text}");
                        }
                        false
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("send failed: {e}");
                        }
                        false
                    }
                };
                (ok, t0.elapsed())
            }
        })
        .buffer_unordered(args.in_flight)
        .chunks(4096)
        .map(|chunk| {
            let mut h = report::histogram();
            for (ok, d) in chunk {
                if ok {
                    report::record(&mut h, d);
                }
            }
            h
        })
        .collect()
        .await;
    let send_secs = started.elapsed().as_secs_f64();
    let mut hist = report::histogram();
    for h in &latencies {
        hist.add(h).ok();
    }
    let accepted = hist.len();
    let send_end_us = receiver.started.elapsed().as_micros() as u64;

    // Wait for the webhooks to catch up with every accepted message (bounded).
    let drain_deadline = Instant::now() + Duration::from_secs(120);
    while receiver.counts.sent.load(Ordering::Relaxed) < accepted && Instant::now() < drain_deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c = &receiver.counts;
    let (sent, delivered, other) = (
        c.sent.load(Ordering::Relaxed),
        c.delivered.load(Ordering::Relaxed),
        c.other.load(Ordering::Relaxed),
    );
    let last_us = c.last_event_us.load(Ordering::Relaxed);
    let span = (last_us as f64 / 1e6).max(send_secs);
    let result = CloudReport {
        messages_sent: accepted,
        errors: errors.load(Ordering::Relaxed),
        seconds: send_secs,
        accepted_per_sec: report::rate(accepted, Duration::from_secs_f64(send_secs)),
        request_latency: Latency::of(&hist),
        webhook_sent: sent,
        webhook_delivered: delivered,
        webhook_events_per_sec: (sent + delivered + other) as f64 / span,
        delivered_per_sec: delivered as f64 / span,
        webhook_drain_seconds: last_us.saturating_sub(send_end_us) as f64 / 1e6,
        bad_signatures: c.bad_signature.load(Ordering::Relaxed),
    };
    report::print_table(
        "bench cloud",
        &[
            (
                "accepted",
                format!("{} in {:.1} s", result.messages_sent, result.seconds),
            ),
            ("accepted/s", format!("{:.0}", result.accepted_per_sec)),
            ("errors", result.errors.to_string()),
            ("webhook sent", result.webhook_sent.to_string()),
            ("webhook delivered", result.webhook_delivered.to_string()),
            (
                "webhook events/s",
                format!("{:.0}", result.webhook_events_per_sec),
            ),
            ("delivered/s", format!("{:.0}", result.delivered_per_sec)),
            (
                "webhook drain after last send",
                format!("{:.1} s", result.webhook_drain_seconds),
            ),
            ("bad signatures", result.bad_signatures.to_string()),
        ],
    );
    report::print_latencies(&[("POST /messages", &result.request_latency)]);
    report::write_json(args.common.json_out.as_deref(), &result)
}
