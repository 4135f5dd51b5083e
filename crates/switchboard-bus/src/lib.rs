//! Fan-out between the commit path and the connections of each user.
//!
//! The commit path publishes one [`Envelope`] per user per stream entry; every
//! connection of that user that has synced holds a [`Subscription`]. Today the bus is
//! in-process ([`LocalBus`]); with scale-out a NATS implementation carries the same
//! envelopes between nodes, which is why the server sees only the [`Bus`] trait.
//!
//! **Slow consumers never block anyone.** Each subscription has a bounded queue; a
//! publish that finds it full drops that subscription (its receiver then ends), and
//! the connection closes so its client resyncs from its cursor. Nothing is lost: the
//! stream is durable before it is published.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

/// One frame for one user's connections, rendered once and shared by all of them.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The entry's position in the user's stream; `None` for ephemeral signals
    /// (typing) that are never stored.
    pub inbox_seq: Option<u64>,
    /// The device whose own action this entry records; that device gets `ack`
    /// instead of `frame` (an echo of its own send would be noise).
    pub origin_device: Option<Arc<str>>,
    /// The JSON text frame for every other device.
    pub frame: Bytes,
    /// The JSON `ack` frame for `origin_device`, when the entry is its own send.
    pub ack: Option<Bytes>,
}

/// Where committed entries and signals are published and subscribed to.
pub trait Bus: Send + Sync + 'static {
    /// Subscribes one connection to everything published for `user_id`.
    fn subscribe(&self, user_id: &str) -> Subscription;
    /// Publishes to every current subscriber of `user_id`; never blocks.
    fn publish(&self, user_id: &str, envelope: Envelope);
}

/// A connection's queue of envelopes. Dropping it unsubscribes.
pub struct Subscription {
    rx: mpsc::Receiver<Envelope>,
    _guard: Option<Box<dyn Send + Sync>>,
    /// Completes once publishes from every node reach this subscription (a bus that
    /// spans nodes confirms its interest with its broker first).
    ready: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Subscription {
    /// Builds a subscription from a receiver and a value whose drop unsubscribes.
    pub fn new(rx: mpsc::Receiver<Envelope>, guard: Box<dyn Send + Sync>) -> Self {
        Subscription {
            rx,
            _guard: Some(guard),
            ready: None,
        }
    }

    /// Marks the subscription as live only once `ready` fires (or its sender goes).
    pub fn with_ready(mut self, ready: tokio::sync::oneshot::Receiver<()>) -> Self {
        self.ready = Some(ready);
        self
    }

    /// Waits until entries published anywhere reach this subscription. Sync reads
    /// the store once more after this, so nothing committed meanwhile is missed.
    pub async fn ready(&mut self) {
        if let Some(ready) = self.ready.take() {
            let _ = ready.await;
        }
    }

    /// The next envelope; `None` once the bus dropped this subscriber for being slow.
    pub async fn recv(&mut self) -> Option<Envelope> {
        self.rx.recv().await
    }

    /// An envelope if one is ready, without waiting. `Err(true)` when closed.
    pub fn try_recv(&mut self) -> Result<Envelope, bool> {
        match self.rx.try_recv() {
            Ok(e) => Ok(e),
            Err(mpsc::error::TryRecvError::Empty) => Err(false),
            Err(mpsc::error::TryRecvError::Disconnected) => Err(true),
        }
    }
}

const SHARDS: usize = 64;

type Subscribers = HashMap<String, Vec<(u64, mpsc::Sender<Envelope>)>>;

/// Called when a user's last local subscriber goes, under the user's shard lock, so
/// it stays in order with [`Registry::subscribe_with`]'s callback for that user.
pub type GoneHook = Box<dyn Fn(&str) + Send + Sync>;

/// This node's map of user → bounded subscriber queues, sharded to keep lock hold
/// times short. [`LocalBus`] is exactly this; a bus that spans nodes keeps one too
/// and follows which users it must hear about through `subscribe_with` and the
/// [`GoneHook`].
#[derive(Clone)]
pub struct Registry {
    inner: Arc<RegistryInner>,
}

struct RegistryInner {
    shards: Vec<Mutex<Subscribers>>,
    next_id: AtomicU64,
    /// Envelopes a subscriber may have queued before it counts as slow.
    capacity: usize,
    hasher: std::collections::hash_map::RandomState,
    gone: Option<GoneHook>,
}

impl RegistryInner {
    fn shard(&self, user_id: &str) -> &Mutex<Subscribers> {
        &self.shards[(self.hasher.hash_one(user_id) as usize) % SHARDS]
    }

    fn gone(&self, user_id: &str) {
        if let Some(hook) = &self.gone {
            hook(user_id);
        }
    }
}

impl Registry {
    pub fn new(capacity: usize, gone: Option<GoneHook>) -> Self {
        Registry {
            inner: Arc::new(RegistryInner {
                shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
                next_id: AtomicU64::new(1),
                capacity: capacity.max(1),
                hasher: Default::default(),
                gone,
            }),
        }
    }

    /// Adds a local subscriber of `user_id`.
    pub fn subscribe(&self, user_id: &str) -> Subscription {
        self.subscribe_with(user_id, || {})
    }

    /// Adds a local subscriber and runs `added` under the user's shard lock (in order
    /// with the [`GoneHook`] for the same user).
    pub fn subscribe_with(&self, user_id: &str, added: impl FnOnce()) -> Subscription {
        let (tx, rx) = mpsc::channel(self.inner.capacity);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut map = lock(self.inner.shard(user_id));
            map.entry(user_id.to_owned()).or_default().push((id, tx));
            added();
        }
        Subscription::new(
            rx,
            Box::new(Unsubscribe {
                inner: self.inner.clone(),
                user_id: user_id.to_owned(),
                id,
            }),
        )
    }

    /// Queues `envelope` for every local subscriber of `user_id`; never blocks. A
    /// subscriber whose queue is full is dropped (its receiver then ends).
    pub fn fanout(&self, user_id: &str, envelope: &Envelope) {
        let mut map = lock(self.inner.shard(user_id));
        let Some(list) = map.get_mut(user_id) else {
            return;
        };
        list.retain(|(_, tx)| match tx.try_send(envelope.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("switchboard_slow_consumers_dropped_total").increment(1);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if list.is_empty() {
            map.remove(user_id);
            self.inner.gone(user_id);
        }
    }

    /// Users with at least one local subscriber.
    pub fn users(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).len()).sum()
    }
}

/// The in-process bus: a [`Registry`] and nothing else.
pub struct LocalBus {
    registry: Registry,
}

impl LocalBus {
    pub fn new(capacity: usize) -> Self {
        LocalBus {
            registry: Registry::new(capacity, None),
        }
    }
}

struct Unsubscribe {
    inner: Arc<RegistryInner>,
    user_id: String,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let mut map = lock(self.inner.shard(&self.user_id));
        if let Some(list) = map.get_mut(&self.user_id) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                map.remove(&self.user_id);
                self.inner.gone(&self.user_id);
            }
        }
    }
}

fn lock(m: &Mutex<Subscribers>) -> std::sync::MutexGuard<'_, Subscribers> {
    // A panic while holding the lock leaves a consistent map (every operation is a
    // single insert/retain), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Bus for LocalBus {
    fn subscribe(&self, user_id: &str) -> Subscription {
        self.registry.subscribe(user_id)
    }

    fn publish(&self, user_id: &str, envelope: Envelope) {
        self.registry.fanout(user_id, &envelope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(seq: u64) -> Envelope {
        Envelope {
            inbox_seq: Some(seq),
            origin_device: None,
            frame: Bytes::from(format!("{seq}")),
            ack: None,
        }
    }

    #[tokio::test]
    async fn delivers_in_order_to_every_subscriber_of_the_user() {
        let bus = LocalBus::new(8);
        let mut a = bus.subscribe("1");
        let mut b = bus.subscribe("1");
        let mut other = bus.subscribe("2");
        for s in 1..=3 {
            bus.publish("1", env(s));
        }
        for sub in [&mut a, &mut b] {
            for s in 1..=3 {
                assert_eq!(sub.recv().await.unwrap().inbox_seq, Some(s));
            }
        }
        assert_eq!(other.try_recv().err(), Some(false));
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_dropped_and_others_continue() {
        let bus = LocalBus::new(2);
        let mut slow = bus.subscribe("1");
        let mut fast = bus.subscribe("1");
        for s in 1..=2 {
            bus.publish("1", env(s));
        }
        assert_eq!(fast.recv().await.unwrap().inbox_seq, Some(1));
        assert_eq!(fast.recv().await.unwrap().inbox_seq, Some(2));
        bus.publish("1", env(3));
        assert_eq!(fast.recv().await.unwrap().inbox_seq, Some(3));
        // The slow one still drains what it had, then ends.
        assert_eq!(slow.recv().await.unwrap().inbox_seq, Some(1));
        assert_eq!(slow.recv().await.unwrap().inbox_seq, Some(2));
        assert!(slow.recv().await.is_none());
    }

    #[tokio::test]
    async fn dropping_a_subscription_unsubscribes() {
        let bus = LocalBus::new(2);
        let sub = bus.subscribe("1");
        assert_eq!(bus.registry.users(), 1);
        drop(sub);
        assert_eq!(bus.registry.users(), 0);
    }
}
