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
        // Called from the store's writer thread (never from async code). If the
        // fan-out task is gone the server is shutting down; entries stay in the store
        // and clients get them on their next sync.
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = self.tx.try_send(deliveries);
        } else {
            let _ = self.tx.blocking_send(deliveries);
        }
    }
}

/// Starts the fan-out task; it ends when the sink (and so the store) is dropped.
pub fn start(bus: Arc<dyn Bus>) -> (Arc<FanoutSink>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Vec<Delivery>>(QUEUE_BATCHES);
    let task = tokio::spawn(async move {
        while let Some(batch) = rx.recv().await {
            metrics::counter!("switchboard_deliveries_total").increment(batch.len() as u64);
            for d in batch {
                publish(bus.as_ref(), d);
            }
        }
    });
    (Arc::new(FanoutSink { tx }), task)
}

fn publish(bus: &dyn Bus, d: Delivery) {
    let frame = Bytes::from(render::to_json(&render::inbox_frame(&d.item, &d.user_id)));
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
