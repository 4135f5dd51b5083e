//! The bridge from the store's commit path to the bus: the store hands over every
//! committed batch (in commit order); one task renders each entry once per user and
//! publishes it. Rendering happens here, not on the storage writer's thread, which is
//! the bottleneck of the whole server.

use std::sync::Arc;

use bytes::Bytes;
use switchboard_bus::{Bus, Envelope};
use switchboard_store::{CommitSink, Delivery, InboxEntry};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::businesses::Directory;
use crate::cloud::inbound::InboundTracker;
use crate::render;

/// Batches queued between the writer and the fan-out task. When full, the writer
/// waits: backpressure rather than unbounded memory.
const QUEUE_BATCHES: usize = 4096;

pub struct FanoutSink {
    tx: mpsc::Sender<Vec<Delivery>>,
}

impl CommitSink for FanoutSink {
    fn committed(&self, deliveries: Vec<Delivery>) {
        if deliveries.is_empty() {
            return;
        }
        // The embedded store calls this from its writer thread (outside the runtime:
        // block, so a slow fan-out slows commits instead of growing memory); the
        // PostgreSQL store from a task (must not block: a full queue drops the live
        // copy, counted). Either way the entries are durable already: a connection
        // that misses one fills the gap from the store or resyncs. If the fan-out task
        // is gone the server is shutting down.
        let queued = if tokio::runtime::Handle::try_current().is_ok() {
            self.tx.try_send(deliveries).is_ok()
        } else {
            self.tx.blocking_send(deliveries).is_ok()
        };
        if !queued {
            metrics::counter!("switchboard_fanout_dropped_batches_total").increment(1);
        }
    }
}

/// Starts the fan-out task; it ends when the sink (and so the store) is dropped.
pub fn start(
    bus: Arc<dyn Bus>,
    dir: Arc<Directory>,
    inbound: Arc<InboundTracker>,
) -> (Arc<FanoutSink>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Vec<Delivery>>(QUEUE_BATCHES);
    let task = tokio::spawn(async move {
        while let Some(batch) = rx.recv().await {
            metrics::counter!("switchboard_deliveries_total").increment(batch.len() as u64);
            for d in batch {
                if let InboxEntry::Message(m) = &d.item.entry
                    && m.sender != d.user_id
                    && dir.is_business(&d.user_id)
                {
                    inbound.inbound(&d.user_id, &m.sender, m.ts);
                }
                publish(bus.as_ref(), &dir, d);
            }
        }
    });
    (Arc::new(FanoutSink { tx }), task)
}

fn publish(bus: &dyn Bus, dir: &Directory, d: Delivery) {
    let frame = Bytes::from(render::to_json(&render::inbox_frame(
        &d.item, &d.user_id, dir,
    )));
    let ack = match (&d.item.entry, &d.origin_device) {
        (InboxEntry::Message(m), Some(_)) => Some(Bytes::from(render::to_json(&render::ack(
            m,
            Some(d.item.inbox_seq),
        )))),
        _ => None,
    };
    bus.publish(
        &d.user_id,
        Envelope {
            inbox_seq: Some(d.item.inbox_seq),
            origin_device: d.origin_device.map(Arc::from),
            frame,
            ack,
        },
    );
}
