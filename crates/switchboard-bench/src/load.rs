//! The `direct` and `group` scenarios: senders keep K sends in flight (or send at a
//! fixed total rate), every member counts what it receives, and latency is measured
//! from the moment of sending (stamped into the text) to the ack and to the delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;
use switchboard_client::{ServerFrame, Session, SessionConfig, Target};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::report::{self, Latency};
use crate::users::{self, CommonArgs, User};

/// Options of `bench direct`.
#[derive(clap::Args, Debug)]
pub struct DirectArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Sender/receiver pairs (each a direct chat).
    #[arg(long, default_value_t = 10)]
    pairs: usize,
    #[command(flatten)]
    load: LoadArgs,
}

/// Options of `bench group`.
#[derive(clap::Args, Debug)]
pub struct GroupArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Members of the group (at most 1024).
    #[arg(long, default_value_t = 100)]
    members: usize,
    /// Members that send (the first S).
    #[arg(long, default_value_t = 1)]
    senders: usize,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(clap::Args, Debug, Clone)]
struct LoadArgs {
    /// Sends each sender keeps waiting for their ack.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Stop after this many messages in total.
    #[arg(long)]
    messages: Option<u64>,
    /// Pace all senders together to this many messages per second.
    #[arg(long)]
    rate: Option<f64>,
    /// After sending stops, wait at most this long for acks and deliveries.
    #[arg(long, default_value_t = 10)]
    drain: u64,
}

/// What every task adds up, readable while the run goes on.
#[derive(Default)]
struct Shared {
    acked: AtomicU64,
    delivered: AtomicU64,
    senders_done: AtomicUsize,
}

/// One session's results.
struct Tally {
    sent: u64,
    acked: u64,
    refused: u64,
    delivered: u64,
    stale: u64,
    skipped_ticks: u64,
    unacked_at_end: u64,
    failed: Option<String>,
    /// The server's reason for the first refused send.
    first_refusal: Option<String>,
    ack: Histogram<u64>,
    delivery: Histogram<u64>,
    last_ack: Option<Instant>,
    last_delivery: Option<Instant>,
}

/// What a sending session does.
struct SendPlan {
    target: Target,
    cap: u64,
    in_flight: usize,
    interval: Option<Duration>,
    deadline: Instant,
}

/// The whole run's clock and identity, stamped into every text as `run:micros`.
#[derive(Clone)]
struct Clock {
    run: Arc<str>,
    base: Instant,
}

impl Clock {
    fn stamp(&self) -> String {
        format!("{}:{}", self.run, self.base.elapsed().as_micros())
    }

    /// Time since the stamp was made, or `None` for a text from another run.
    fn since(&self, text: &str) -> Option<Duration> {
        let (run, micros) = text.split_once(':')?;
        if run != &*self.run {
            return None;
        }
        let sent = Duration::from_micros(micros.parse().ok()?);
        Some(self.base.elapsed().saturating_sub(sent))
    }
}

/// Reads a session until told to stop, sending by `plan` when it has one.
async fn drive(
    mut session: Session,
    me: String,
    plan: Option<SendPlan>,
    clock: Clock,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    let mut t = Tally {
        sent: 0,
        acked: 0,
        refused: 0,
        delivered: 0,
        stale: 0,
        skipped_ticks: 0,
        unacked_at_end: 0,
        failed: None,
        first_refusal: None,
        ack: report::histogram(),
        delivery: report::histogram(),
        last_ack: None,
        last_delivery: None,
    };
    let mut waiting: std::collections::HashMap<String, Instant> = Default::default();
    let mut ticker = plan.as_ref().and_then(|p| p.interval).map(|d| {
        let mut i = tokio::time::interval(d);
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        i
    });
    let mut reported_done = plan.is_none();
    let far = Instant::now() + Duration::from_secs(365 * 86_400);
    loop {
        let open = plan
            .as_ref()
            .is_some_and(|p| Instant::now() < p.deadline && t.sent < p.cap);
        if let Some(p) = &plan {
            if open && ticker.is_none() {
                while waiting.len() < p.in_flight && t.sent < p.cap {
                    if let Err(e) = send(&mut session, p, &clock, &mut waiting, &mut t).await {
                        t.failed = Some(e);
                        break;
                    }
                }
            }
            if !open && waiting.is_empty() && !reported_done {
                reported_done = true;
                shared.senders_done.fetch_add(1, Ordering::Relaxed);
            }
        }
        if t.failed.is_some() {
            break;
        }
        let deadline = plan.as_ref().map(|p| p.deadline).unwrap_or(far);
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = session.next() => match frame {
                Ok(ServerFrame::Ack { client_id, .. }) => {
                    if let Some(at) = waiting.remove(&client_id) {
                        report::record(&mut t.ack, at.elapsed());
                        t.acked += 1;
                        t.last_ack = Some(Instant::now());
                        shared.acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(ServerFrame::Error { client_id: Some(c), code, message }) => {
                    if waiting.remove(&c).is_some() {
                        t.refused += 1;
                        t.first_refusal.get_or_insert_with(|| format!("{message} ({code})"));
                    }
                }
                Ok(ServerFrame::Message(m)) if m.from != me => {
                    #[derive(serde::Deserialize)]
                    struct Text<'a> {
                        #[serde(borrow)]
                        text: std::borrow::Cow<'a, str>,
                    }
                    match serde_json::from_str::<Text>(m.body.get()).ok().and_then(|b| clock.since(&b.text)) {
                        Some(d) => {
                            report::record(&mut t.delivery, d);
                            t.delivered += 1;
                            t.last_delivery = Some(Instant::now());
                            shared.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        None => t.stale += 1,
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    t.failed = Some(e.to_string());
                    break;
                }
            },
            _ = async {
                match ticker.as_mut() {
                    Some(tk) => { tk.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            }, if open => {
                if let Some(p) = &plan {
                    if waiting.len() < p.in_flight {
                        if let Err(e) = send(&mut session, p, &clock, &mut waiting, &mut t).await {
                            t.failed = Some(e);
                            break;
                        }
                    } else {
                        t.skipped_ticks += 1;
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline.into()), if open => {}
        }
    }
    if !reported_done {
        shared.senders_done.fetch_add(1, Ordering::Relaxed);
    }
    t.unacked_at_end = waiting.len() as u64;
    session.close().await;
    t
}

async fn send(
    session: &mut Session,
    plan: &SendPlan,
    clock: &Clock,
    waiting: &mut std::collections::HashMap<String, Instant>,
    t: &mut Tally,
) -> Result<(), String> {
    let at = Instant::now();
    let id = session
        .send_text(plan.target.clone(), &clock.stamp())
        .await
        .map_err(|e| e.to_string())?;
    waiting.insert(id, at);
    t.sent += 1;
    Ok(())
}

/// Connects every user (bounded concurrency) and waits for each `synced`.
pub(crate) async fn connect_all(
    common: &CommonArgs,
    users: &[User],
) -> anyhow::Result<Vec<Session>> {
    let url = switchboard_client::Client::new(&common.server)?.ws_url();
    let started = Instant::now();
    let results: Vec<anyhow::Result<(usize, Session)>> =
        futures_util::stream::iter(users.iter().enumerate())
            .map(|(i, u)| {
                let url = url.clone();
                let config = SessionConfig {
                    reconnect: false,
                    local_addr: common.connection_addr(i),
                    ..SessionConfig::default()
                };
                async move {
                    let mut s = Session::connect(url, u.token.clone(), 0, config)
                        .await
                        .with_context(|| format!("connecting as {}", u.phone))?;
                    loop {
                        if let ServerFrame::Synced { .. } = s.next().await? {
                            break;
                        }
                    }
                    Ok((i, s))
                }
            })
            .buffer_unordered(64)
            .collect()
            .await;
    let mut sessions: Vec<(usize, Session)> = results.into_iter().collect::<anyhow::Result<_>>()?;
    sessions.sort_by_key(|(i, _)| *i);
    eprintln!(
        "connected {} sessions in {:.1} s",
        sessions.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(sessions.into_iter().map(|(_, s)| s).collect())
}

/// Splits a total into per-sender caps.
fn share(total: Option<u64>, senders: usize, i: usize) -> u64 {
    match total {
        None => u64::MAX,
        Some(m) => m / senders as u64 + u64::from((i as u64) < m % senders as u64),
    }
}

#[derive(Serialize)]
struct Results {
    scenario: &'static str,
    server: String,
    senders: usize,
    receivers_per_message: usize,
    in_flight: usize,
    rate_target: Option<f64>,
    duration_s: u64,
    sent: u64,
    acked: u64,
    refused: u64,
    unacked: u64,
    delivered: u64,
    expected_deliveries: u64,
    stale: u64,
    skipped_ticks: u64,
    failed_sessions: usize,
    first_failure: Option<String>,
    first_refusal: Option<String>,
    acks_per_s: f64,
    deliveries_per_s: f64,
    ack_latency: Latency,
    delivery_latency: Latency,
}

/// Runs the sending phase over prepared sessions and reports.
async fn run_load(
    name: &'static str,
    common: &CommonArgs,
    load: &LoadArgs,
    sessions: Vec<(Session, String, Option<Target>)>,
    receivers_per_message: usize,
) -> anyhow::Result<()> {
    let senders = sessions.iter().filter(|(_, _, t)| t.is_some()).count();
    if senders == 0 {
        bail!("no senders");
    }
    let clock = Clock {
        run: format!("{:x}", nanos() ^ u64::from(std::process::id())).into(),
        base: Instant::now(),
    };
    let shared = Arc::new(Shared::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(load.duration);
    let interval = load
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(senders as f64 / r));
    let mut tasks = JoinSet::new();
    let mut sender_index = 0;
    for (session, me, target) in sessions {
        let plan = target.map(|target| {
            let p = SendPlan {
                target,
                cap: share(load.messages, senders, sender_index),
                in_flight: load.in_flight.max(1),
                interval,
                deadline,
            };
            sender_index += 1;
            p
        });
        tasks.spawn(drive(
            session,
            me,
            plan,
            clock.clone(),
            shared.clone(),
            stop_rx.clone(),
        ));
    }
    eprintln!("sending for up to {} s …", load.duration);
    // Wait for the senders, then for the deliveries, each bounded by the drain time.
    let drain_end = deadline + Duration::from_secs(load.drain);
    let poll = Duration::from_millis(20);
    while shared.senders_done.load(Ordering::Relaxed) < senders && Instant::now() < drain_end {
        tokio::time::sleep(poll).await;
    }
    let send_phase = start.elapsed();
    let delivery_end = Instant::now().max(deadline) + Duration::from_secs(load.drain);
    loop {
        let expected = shared.acked.load(Ordering::Relaxed) * receivers_per_message as u64;
        if shared.delivered.load(Ordering::Relaxed) >= expected || Instant::now() >= delivery_end {
            break;
        }
        tokio::time::sleep(poll).await;
    }
    // The receivers may all be waiting on the socket; a send error means nothing here.
    let _ = stop_tx.send(true);
    let mut ack = report::histogram();
    let mut delivery = report::histogram();
    let mut r = Results {
        scenario: name,
        server: common.server.clone(),
        senders,
        receivers_per_message,
        in_flight: load.in_flight,
        rate_target: load.rate,
        duration_s: load.duration,
        sent: 0,
        acked: 0,
        refused: 0,
        unacked: 0,
        delivered: 0,
        expected_deliveries: 0,
        stale: 0,
        skipped_ticks: 0,
        failed_sessions: 0,
        first_failure: None,
        first_refusal: None,
        acks_per_s: 0.0,
        deliveries_per_s: 0.0,
        ack_latency: Latency::of(&ack),
        delivery_latency: Latency::of(&delivery),
    };
    let (mut last_ack, mut last_delivery) = (start, start);
    while let Some(joined) = tasks.join_next().await {
        let t = joined.context("a session task panicked")?;
        r.sent += t.sent;
        r.acked += t.acked;
        r.refused += t.refused;
        r.unacked += t.unacked_at_end;
        r.delivered += t.delivered;
        r.stale += t.stale;
        r.skipped_ticks += t.skipped_ticks;
        if r.first_refusal.is_none() {
            r.first_refusal = t.first_refusal;
        }
        if let Some(f) = t.failed {
            r.failed_sessions += 1;
            r.first_failure.get_or_insert(f);
        }
        ack.add(&t.ack).context("merging histograms")?;
        delivery.add(&t.delivery).context("merging histograms")?;
        last_ack = last_ack.max(t.last_ack.unwrap_or(start));
        last_delivery = last_delivery.max(t.last_delivery.unwrap_or(start));
    }
    r.expected_deliveries = r.acked * receivers_per_message as u64;
    r.acks_per_s = report::rate(r.acked, last_ack - start);
    r.deliveries_per_s = report::rate(r.delivered, last_delivery - start);
    r.ack_latency = Latency::of(&ack);
    r.delivery_latency = Latency::of(&delivery);
    report::print_table(
        &format!(
            "bench {name}: {senders} senders, in-flight {}, {}",
            load.in_flight,
            load.rate
                .map(|x| format!("paced to {x} msg/s"))
                .unwrap_or_else(|| "unpaced".into())
        ),
        &[
            ("send phase", format!("{:.1} s", send_phase.as_secs_f64())),
            ("sent / acked", format!("{} / {}", r.sent, r.acked)),
            (
                "refused / unacked",
                match &r.first_refusal {
                    Some(f) => format!("{} / {} (first refusal: {f})", r.refused, r.unacked),
                    None => format!("{} / {}", r.refused, r.unacked),
                },
            ),
            (
                "delivered / expected",
                format!("{} / {}", r.delivered, r.expected_deliveries),
            ),
            ("acks/s", format!("{:.0}", r.acks_per_s)),
            ("deliveries/s", format!("{:.0}", r.deliveries_per_s)),
            ("skipped ticks", r.skipped_ticks.to_string()),
            (
                "failed sessions",
                match &r.first_failure {
                    Some(f) => format!("{} (first: {f})", r.failed_sessions),
                    None => "0".into(),
                },
            ),
        ],
    );
    report::print_latencies(&[
        ("send→ack", &r.ack_latency),
        ("send→receive", &r.delivery_latency),
    ]);
    report::write_json(common.json_out.as_deref(), &r)
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// `bench direct`.
pub async fn run_direct(args: DirectArgs) -> anyhow::Result<()> {
    if args.pairs == 0 || args.pairs > 50_000 {
        bail!("--pairs must be 1 to 50000, not {}", args.pairs);
    }
    let users = users::register_many(&args.common, 0, args.pairs * 2).await?;
    let (senders, receivers) = users.split_at(args.pairs);
    // Make each direct chat over HTTP first, so sends address it by chat_id.
    let chats: Vec<anyhow::Result<String>> =
        futures_util::stream::iter(senders.iter().zip(receivers))
            .map(|(s, r)| {
                let server = args.common.server.clone();
                async move {
                    let client =
                        switchboard_client::Client::new(&server)?.with_token(s.token.clone());
                    let chat = client
                        .create_direct_chat(&r.phone)
                        .await
                        .context("creating a direct chat")?;
                    Ok(chat.chat_id)
                }
            })
            .buffered(32)
            .collect()
            .await;
    let chats = chats.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let mut sessions = connect_all(&args.common, &users).await?.into_iter();
    let mut plan = Vec::with_capacity(users.len());
    for (i, u) in users.iter().enumerate() {
        let session = sessions.next().context("a session per user")?;
        let target = (i < args.pairs).then(|| Target::Chat(chats[i].clone()));
        plan.push((session, u.user_id.clone(), target));
    }
    run_load("direct", &args.common, &args.load, plan, 1).await
}

/// `bench group`.
pub async fn run_group(args: GroupArgs) -> anyhow::Result<()> {
    if args.members < 2 || args.members > 1024 {
        bail!(
            "--members must be 2 to 1024 (the group limit), not {}",
            args.members
        );
    }
    if args.senders == 0 || args.senders > args.members {
        bail!(
            "--senders must be 1 to --members ({}), not {}",
            args.members,
            args.senders
        );
    }
    let users = users::register_many(&args.common, 0, args.members).await?;
    let creator =
        switchboard_client::Client::new(&args.common.server)?.with_token(users[0].token.clone());
    let others: Vec<String> = users[1..].iter().map(|u| u.phone.clone()).collect();
    let chat = creator
        .create_group("bench", &others)
        .await
        .context("creating the group")?;
    eprintln!("group {} with {} members", chat.chat_id, chat.members.len());
    let sessions = connect_all(&args.common, &users).await?;
    let plan = sessions
        .into_iter()
        .zip(&users)
        .enumerate()
        .map(|(i, (s, u))| {
            let target = (i < args.senders).then(|| Target::Chat(chat.chat_id.clone()));
            (s, u.user_id.clone(), target)
        })
        .collect();
    run_load("group", &args.common, &args.load, plan, args.members - 1).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        let total: u64 = (0..7).map(|i| share(Some(100), 7, i)).sum();
        assert_eq!(total, 100);
        assert_eq!(share(None, 3, 0), u64::MAX);
    }

    #[test]
    fn stamps_round_trip_and_other_runs_are_stale() {
        let clock = Clock {
            run: "abc".into(),
            base: Instant::now(),
        };
        let stamp = clock.stamp();
        assert!(clock.since(&stamp).is_some());
        assert!(clock.since("zzz:12").is_none());
        assert!(clock.since("hello").is_none());
    }
}
