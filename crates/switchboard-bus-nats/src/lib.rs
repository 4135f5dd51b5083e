//! The NATS implementation of [`Bus`]: live delivery to a user's devices whichever node
//! they are connected to.
//!
//! **Design.** One core-NATS subject per user (`sb.u.<user_id>`). A node subscribes to
//! a user's subject when the first local connection of that user subscribes, and
//! unsubscribes when the last one goes (or is dropped for being slow), so NATS
//! interest always mirrors who is online where. Within a node, envelopes fan out
//! exactly as in [`LocalBus`](switchboard_bus::LocalBus): a bounded queue per
//! connection, and a full queue drops that subscriber (its connection closes and the
//! client resyncs from its cursor) instead of blocking anyone.
//!
//! A publish is delivered to this node's own subscribers at once, and sent to NATS
//! for the other nodes; the connection is made with `no_echo`, so the server never
//! hands a node its own publishes back (no duplicates, no extra hop for users on the
//! same node). [`Bus::publish`] never blocks: the envelope goes through a bounded
//! queue to one publisher task, which keeps the order of publishes (and NATS keeps
//! the order per publisher and subject). If that queue is full the envelope is not
//! sent to other nodes (metric `switchboard_bus_publish_dropped_total`).
//!
//! **Why core NATS and not JetStream.** The store is the durable source of truth:
//! every envelope carrying an `inbox_seq` is committed before it is published, and a
//! connection that misses one (NATS down, a subscription not yet active, a dropped
//! publish) sees a gap in `inbox_seq` or reconnects, and fills it from the store.
//! Persisting the same entries a second time in a stream would double the write path
//! for no delivery guarantee the store does not already give; at-most-once, in-order,
//! low-latency fan-out is exactly what core NATS provides.
//!
//! **Window to know about.** `subscribe` is synchronous, so the NATS subscription
//! becomes active one round trip to the NATS server after it returns; an entry
//! committed on another node inside that window reaches the connection through the
//! store (at its next gap-fill or sync), not live.
//!
//! **Wire format** (one NATS message per envelope, big-endian):
//! `version: u8 = 1 | flags: u8 (1 = inbox_seq, 2 = origin_device, 4 = ack)
//!  | [inbox_seq: u64] | [origin_len: u16, origin bytes] | frame_len: u32, frame bytes
//!  | [ack bytes: the rest]`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use switchboard_bus::{Bus, Envelope, Registry, Subscription};
use tokio::sync::{mpsc, oneshot};

/// The subject prefix of per-user subjects.
pub const DEFAULT_SUBJECT_PREFIX: &str = "sb.u";
const WIRE_VERSION: u8 = 1;
const FLAG_SEQ: u8 = 1;
const FLAG_ORIGIN: u8 = 2;
const FLAG_ACK: u8 = 4;

/// Why the bus could not be set up or used.
#[derive(Debug, thiserror::Error)]
pub enum NatsBusError {
    #[error("cannot connect to nats at {url}: {why}")]
    Connect { url: String, why: String },
    #[error("nats flush failed: {0}")]
    Flush(String),
    #[error("the nats bus has stopped")]
    Stopped,
}

/// Tunables of a [`NatsBus`].
#[derive(Debug, Clone)]
pub struct NatsBusOptions {
    /// Envelopes a connection may have queued before it counts as slow.
    pub capacity: usize,
    /// Envelopes waiting for the publisher task, at most.
    pub publish_queue: usize,
    /// Per-user subjects are `<prefix>.<user_id>`.
    pub subject_prefix: String,
    /// Name of the NATS connection (shown by the server's monitoring).
    pub name: String,
}

impl Default for NatsBusOptions {
    fn default() -> Self {
        NatsBusOptions {
            capacity: 1024,
            publish_queue: 65_536,
            subject_prefix: DEFAULT_SUBJECT_PREFIX.to_string(),
            name: "switchboard".to_string(),
        }
    }
}

/// Requests for the task that owns the NATS subscriptions, in the order the local
/// registry changed.
enum Control {
    /// A local subscriber of this user appeared: subscribe at the server unless
    /// already done, and answer once the server has applied it.
    Start(String, oneshot::Sender<()>),
    /// The last local subscriber of this user went.
    Stop(String),
    /// Answer once every earlier subscription is active at the server.
    Flush(oneshot::Sender<Result<(), String>>),
}

/// What the bus and its tasks share.
struct Inner {
    /// This node's subscribers; its gone-hook stops the user's NATS subscription.
    registry: Registry,
    control: mpsc::UnboundedSender<Control>,
    /// Users whose NATS subscription is running (kept by the subscriptions task).
    remote: Arc<AtomicUsize>,
}

/// The NATS [`Bus`]. One per node.
pub struct NatsBus {
    inner: Arc<Inner>,
    /// (subject, encoded envelope) for the publisher task.
    out: mpsc::Sender<(String, Bytes)>,
    prefix: String,
}

impl NatsBus {
    /// Connects with default options (per-connection queue of 1024 envelopes).
    pub async fn connect(url: &str) -> Result<NatsBus, NatsBusError> {
        Self::connect_with(url, NatsBusOptions::default()).await
    }

    /// Connects and starts the publisher and subscription tasks.
    pub async fn connect_with(url: &str, options: NatsBusOptions) -> Result<NatsBus, NatsBusError> {
        let client = async_nats::ConnectOptions::new()
            .no_echo()
            .name(&options.name)
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| NatsBusError::Connect {
                url: url.to_string(),
                why: e.to_string(),
            })?;
        let (control, control_rx) = mpsc::unbounded_channel();
        let remote = Arc::new(AtomicUsize::new(0));
        let stop = control.clone();
        let registry = Registry::new(
            options.capacity,
            // The last local subscriber of a user went: stop hearing about it.
            Some(Box::new(move |user: &str| {
                let _ = stop.send(Control::Stop(user.to_owned()));
            })),
        );
        let inner = Arc::new(Inner {
            registry,
            control,
            remote: remote.clone(),
        });
        let (out, out_rx) = mpsc::channel(options.publish_queue.max(1));
        tokio::spawn(publisher(client.clone(), out_rx));
        tokio::spawn(subscriptions(
            client,
            Arc::downgrade(&inner),
            control_rx,
            options.subject_prefix.clone(),
            remote,
        ));
        Ok(NatsBus {
            inner,
            out,
            prefix: options.subject_prefix,
        })
    }

    /// How many users this node holds a NATS subscription for (those with at least
    /// one local subscriber), as of the last change the subscriptions task applied.
    pub fn remote_subscriptions(&self) -> usize {
        self.inner.remote.load(Ordering::Relaxed)
    }

    /// Waits until every subscription change made so far has been handed to the NATS
    /// client and written to its socket. This is not a round trip: another
    /// connection may still publish before the server has applied it.
    pub async fn flush(&self) -> Result<(), NatsBusError> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .control
            .send(Control::Flush(tx))
            .map_err(|_| NatsBusError::Stopped)?;
        rx.await
            .map_err(|_| NatsBusError::Stopped)?
            .map_err(NatsBusError::Flush)
    }
}

/// The subject of a user: `<prefix>.<user_id>`, with ids that are not a plain
/// subject token (dots, spaces, wildcards, non-ASCII) hex-encoded behind an `x`.
pub fn user_subject(prefix: &str, user_id: &str) -> String {
    let plain = !user_id.is_empty()
        && !user_id.starts_with('x')
        && user_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("{prefix}.{user_id}")
    } else {
        let mut s = String::with_capacity(prefix.len() + 2 + 2 * user_id.len());
        s.push_str(prefix);
        s.push_str(".x");
        for b in user_id.bytes() {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// An envelope as one NATS payload (see the crate docs for the layout).
pub fn encode(envelope: &Envelope) -> Bytes {
    let origin = envelope.origin_device.as_deref().map(str::as_bytes);
    let mut flags = 0;
    let mut len = 2 + 4 + envelope.frame.len();
    if envelope.inbox_seq.is_some() {
        flags |= FLAG_SEQ;
        len += 8;
    }
    if let Some(o) = origin {
        flags |= FLAG_ORIGIN;
        len += 2 + o.len().min(u16::MAX as usize);
    }
    if let Some(ack) = &envelope.ack {
        flags |= FLAG_ACK;
        len += ack.len();
    }
    let mut buf = BytesMut::with_capacity(len);
    buf.put_u8(WIRE_VERSION);
    buf.put_u8(flags);
    if let Some(seq) = envelope.inbox_seq {
        buf.put_u64(seq);
    }
    if let Some(o) = origin {
        let o = &o[..o.len().min(u16::MAX as usize)];
        buf.put_u16(o.len() as u16);
        buf.put_slice(o);
    }
    buf.put_u32(envelope.frame.len() as u32);
    buf.put_slice(&envelope.frame);
    if let Some(ack) = &envelope.ack {
        buf.put_slice(ack);
    }
    buf.freeze()
}

/// The envelope in a NATS payload; `None` if it is not one this version reads.
/// Frame and ack share the payload's buffer (no copy).
pub fn decode(mut payload: Bytes) -> Option<Envelope> {
    if payload.remaining() < 2 || payload.get_u8() != WIRE_VERSION {
        return None;
    }
    let flags = payload.get_u8();
    let inbox_seq = if flags & FLAG_SEQ != 0 {
        if payload.remaining() < 8 {
            return None;
        }
        Some(payload.get_u64())
    } else {
        None
    };
    let origin_device = if flags & FLAG_ORIGIN != 0 {
        if payload.remaining() < 2 {
            return None;
        }
        let n = payload.get_u16() as usize;
        if payload.remaining() < n {
            return None;
        }
        let raw = payload.split_to(n);
        Some(Arc::<str>::from(std::str::from_utf8(&raw).ok()?))
    } else {
        None
    };
    if payload.remaining() < 4 {
        return None;
    }
    let n = payload.get_u32() as usize;
    if payload.remaining() < n {
        return None;
    }
    let frame = payload.split_to(n);
    let ack = if flags & FLAG_ACK != 0 {
        Some(payload)
    } else if payload.is_empty() {
        None
    } else {
        return None;
    };
    Some(Envelope {
        inbox_seq,
        origin_device,
        frame,
        ack,
    })
}

/// Sends queued envelopes to NATS in order, until the bus is dropped.
async fn publisher(client: async_nats::Client, mut rx: mpsc::Receiver<(String, Bytes)>) {
    let mut buf = Vec::with_capacity(256);
    while rx.recv_many(&mut buf, 256).await > 0 {
        for (subject, payload) in buf.drain(..) {
            if let Err(e) = client.publish(subject, payload).await {
                metrics::counter!("switchboard_bus_publish_failed_total").increment(1);
                tracing::warn!(error = %e, "nats publish failed");
            }
        }
    }
}

/// Owns the per-user NATS subscriptions: starts and stops them as the local registry
/// asks, one reader task per subscribed user.
async fn subscriptions(
    client: async_nats::Client,
    inner: Weak<Inner>,
    mut rx: mpsc::UnboundedReceiver<Control>,
    prefix: String,
    remote: Arc<AtomicUsize>,
) {
    let mut running: HashMap<String, oneshot::Sender<()>> = HashMap::new();
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Control::Start(user, ready) => {
                if running.contains_key(&user) {
                    // Applied at the server already: commands are handled in order.
                    let _ = ready.send(());
                    continue;
                }
                match client.subscribe(user_subject(&prefix, &user)).await {
                    Ok(sub) => {
                        let (stop, stopped) = oneshot::channel();
                        running.insert(user.clone(), stop);
                        remote.store(running.len(), Ordering::Relaxed);
                        tokio::spawn(reader(sub, user, inner.clone(), stopped));
                        // A round trip on the same connection: the server handles a
                        // connection's operations in order, so once it answers this
                        // request (with "no responders") it has applied the SUB, and
                        // every later publish on any node reaches us.
                        let probe = format!("{prefix}._applied");
                        let _ = tokio::time::timeout(
                            std::time::Duration::from_secs(2),
                            client.request(probe, bytes::Bytes::new()),
                        )
                        .await;
                    }
                    Err(e) => {
                        metrics::counter!("switchboard_bus_subscribe_failed_total").increment(1);
                        tracing::warn!(error = %e, user = %user, "nats subscribe failed; live delivery from other nodes is off for this user");
                    }
                }
                let _ = ready.send(());
            }
            Control::Stop(user) => {
                if let Some(stop) = running.remove(&user) {
                    let _ = stop.send(());
                }
                remote.store(running.len(), Ordering::Relaxed);
            }
            Control::Flush(reply) => {
                let _ = reply.send(client.flush().await.map_err(|e| e.to_string()));
            }
        }
    }
    for (_, stop) in running {
        let _ = stop.send(());
    }
}

/// Hands what arrives on one user's subject to that user's local subscribers.
async fn reader(
    mut sub: async_nats::Subscriber,
    user: String,
    inner: Weak<Inner>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            msg = sub.next() => {
                let Some(msg) = msg else { return };
                let Some(inner) = inner.upgrade() else { break };
                match decode(msg.payload) {
                    Some(envelope) => inner.registry.fanout(&user, &envelope),
                    None => {
                        metrics::counter!("switchboard_bus_undecodable_total").increment(1);
                        tracing::warn!(user = %user, "dropped an undecodable nats envelope");
                    }
                }
            }
            _ = &mut stop => break,
        }
    }
    if let Err(e) = sub.unsubscribe().await {
        tracing::debug!(error = %e, user = %user, "nats unsubscribe");
    }
}

impl Bus for NatsBus {
    fn subscribe(&self, user_id: &str) -> Subscription {
        let (ready_tx, ready_rx) = oneshot::channel();
        // Sent for every subscriber, not only the first: the answer tells this one
        // when the (possibly earlier) subscription is live at the server.
        self.inner
            .registry
            .subscribe_with(user_id, || {
                let _ = self
                    .inner
                    .control
                    .send(Control::Start(user_id.to_owned(), ready_tx));
            })
            .with_ready(ready_rx)
    }

    fn publish(&self, user_id: &str, envelope: Envelope) {
        let payload = encode(&envelope);
        self.inner.registry.fanout(user_id, &envelope);
        match self
            .out
            .try_send((user_subject(&self.prefix, user_id), payload))
        {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("switchboard_bus_publish_dropped_total").increment(1);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_through_the_wire_format() {
        let cases = [
            Envelope {
                inbox_seq: Some(42),
                origin_device: Some(Arc::from("dev-1")),
                frame: Bytes::from_static(br#"{"type":"message"}"#),
                ack: Some(Bytes::from_static(br#"{"type":"ack"}"#)),
            },
            Envelope {
                inbox_seq: None,
                origin_device: None,
                frame: Bytes::from_static(b"typing"),
                ack: None,
            },
            Envelope {
                inbox_seq: Some(u64::MAX),
                origin_device: Some(Arc::from("")),
                frame: Bytes::new(),
                ack: Some(Bytes::new()),
            },
        ];
        for e in cases {
            let d = decode(encode(&e)).expect("decodes");
            assert_eq!(
                (d.inbox_seq, d.origin_device, d.frame, d.ack),
                (e.inbox_seq, e.origin_device, e.frame, e.ack)
            );
        }
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            &b""[..],
            b"\x02\x00\x00\x00\x00\x00",
            b"\x01\x01\x00",
            b"\x01\x00\x00\x00\x00\x05ab",
            b"\x01\x00\x00\x00\x00\x01abc",
        ] {
            assert!(decode(Bytes::copy_from_slice(bad)).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn subjects_are_single_tokens() {
        assert_eq!(user_subject("sb.u", "4915100000001"), "sb.u.4915100000001");
        assert_eq!(user_subject("sb.u", "a.b"), "sb.u.x612e62");
        assert_eq!(user_subject("sb.u", "x1"), "sb.u.x7831");
        assert_eq!(user_subject("sb.u", ""), "sb.u.x");
    }
}
