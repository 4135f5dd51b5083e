//! Two `NatsBus` instances on the local NATS server play two nodes: envelopes
//! published on one reach subscribers on the other in order, NATS interest follows
//! local subscriptions, and a slow subscriber is dropped. Without NATS (and without
//! `CI`) each test prints `skipped: no NATS`; under `CI` they fail.

use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use switchboard_bus::{Bus, Envelope};
use switchboard_bus_nats::{NatsBus, NatsBusOptions};

fn url() -> String {
    std::env::var("SWITCHBOARD_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A node on its own subject prefix (so parallel tests do not see each other), or
/// `None` when NATS is unreachable outside CI.
async fn node(prefix: &str, capacity: usize) -> Option<NatsBus> {
    let options = NatsBusOptions {
        capacity,
        subject_prefix: prefix.to_string(),
        ..NatsBusOptions::default()
    };
    match NatsBus::connect_with(&url(), options).await {
        Ok(bus) => Some(bus),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: no NATS ({e})");
            None
        }
        Err(e) => panic!("NATS is unreachable under CI: {e}"),
    }
}

fn prefix(test: &str) -> String {
    format!("sbtest.{test}.{}", std::process::id())
}

fn env(seq: u64) -> Envelope {
    Envelope {
        inbox_seq: Some(seq),
        origin_device: Some(Arc::from("dev-a")),
        frame: Bytes::from(format!(r#"{{"type":"message","n":{seq}}}"#)),
        ack: seq
            .is_multiple_of(2)
            .then(|| Bytes::from(format!(r#"{{"type":"ack","n":{seq}}}"#))),
    }
}

/// Waits until the NATS server applied every subscription `b` made so far, seen from
/// `a`: `b` subscribes to a probe user last (the server applies one connection's
/// subscriptions in order) and `a` publishes to it until it arrives.
async fn until_active(a: &NatsBus, b: &NatsBus) {
    let mut probe = b.subscribe("probe");
    for _ in 0..1000 {
        a.publish("probe", env(0));
        if tokio::time::timeout(Duration::from_millis(10), probe.recv())
            .await
            .is_ok()
        {
            return;
        }
    }
    panic!("the subscriptions never became active at the NATS server");
}

async fn recv(sub: &mut switchboard_bus::Subscription) -> Option<Envelope> {
    tokio::time::timeout(Duration::from_secs(10), sub.recv())
        .await
        .expect("an envelope within 10 s")
}

#[tokio::test]
async fn envelopes_cross_nodes_in_order() {
    let p = prefix("order");
    let (Some(a), Some(b)) = (node(&p, 1024).await, node(&p, 1024).await) else {
        return;
    };
    let mut on_b = b.subscribe("491");
    let mut on_b2 = b.subscribe("491");
    let mut on_a = a.subscribe("491");
    let mut other = b.subscribe("492");
    until_active(&a, &b).await;
    b.flush().await.expect("flush");
    assert_eq!(b.remote_subscriptions(), 2);
    for seq in 1..=200 {
        a.publish("491", env(seq));
    }
    for sub in [&mut on_b, &mut on_b2, &mut on_a] {
        for seq in 1..=200 {
            let got = recv(sub).await.expect("subscribed");
            assert_eq!(got.inbox_seq, Some(seq));
            assert_eq!(got.frame, env(seq).frame);
            assert_eq!(got.ack, env(seq).ack);
            assert_eq!(got.origin_device.as_deref(), Some("dev-a"));
        }
    }
    // No echo: A's own subscriber got each envelope once, not again through NATS.
    a.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(on_a.try_recv().err(), Some(false));
    assert_eq!(other.try_recv().err(), Some(false));
    // And the other way round.
    b.publish("491", env(7));
    assert_eq!(recv(&mut on_a).await.map(|e| e.inbox_seq), Some(Some(7)));
}

#[tokio::test]
async fn the_last_local_unsubscribe_ends_nats_interest() {
    let p = prefix("unsub");
    let (Some(a), Some(b)) = (node(&p, 1024).await, node(&p, 1024).await) else {
        return;
    };
    let first = b.subscribe("491");
    let second = b.subscribe("491");
    b.flush().await.expect("flush");
    assert_eq!(
        b.remote_subscriptions(),
        1,
        "one NATS subscription per user"
    );
    drop(first);
    b.flush().await.expect("flush");
    assert_eq!(b.remote_subscriptions(), 1, "one local subscriber is left");
    drop(second);
    b.flush().await.expect("flush");
    assert_eq!(b.remote_subscriptions(), 0);
    // Subscribing again works.
    let mut again = b.subscribe("491");
    until_active(&a, &b).await;
    b.flush().await.expect("flush");
    assert_eq!(b.remote_subscriptions(), 1);
    a.publish("491", env(1));
    assert_eq!(recv(&mut again).await.map(|e| e.inbox_seq), Some(Some(1)));
}

#[tokio::test]
async fn a_slow_subscriber_is_dropped() {
    let p = prefix("slow");
    let (Some(a), Some(b)) = (node(&p, 1024).await, node(&p, 2).await) else {
        return;
    };
    let mut slow = b.subscribe("491");
    until_active(&a, &b).await;
    for seq in 1..=5 {
        a.publish("491", env(seq));
    }
    // It keeps what it had queued, then ends.
    assert_eq!(recv(&mut slow).await.map(|e| e.inbox_seq), Some(Some(1)));
    assert_eq!(recv(&mut slow).await.map(|e| e.inbox_seq), Some(Some(2)));
    assert!(recv(&mut slow).await.is_none(), "dropped for being slow");
    b.flush().await.expect("flush");
    assert_eq!(
        b.remote_subscriptions(),
        0,
        "its NATS interest went with it"
    );
}
