//! What every request handler shares: the configuration, the store (which also keeps
//! the rate limits, shared by every node), the bus, the connection cap and the
//! shutdown signal. Built once per server; two
//! servers in one process never share state (no globals, save the metrics recorder).

use std::sync::{Arc, Mutex};

use switchboard_bus::Bus;
use switchboard_store::{BusinessStore, Store};
use tokio::sync::{Semaphore, watch};

use crate::config::Config;

/// Milliseconds since the Unix epoch; injected so tests can move time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    })
}

pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    /// Businesses, templates, webhooks, usage (the same backend as `store`).
    pub business: Arc<dyn BusinessStore>,
    /// Which users are businesses, for `from_business` on rendered messages.
    pub directory: Arc<crate::businesses::Directory>,
    /// The webhook dispatcher's wake-ups and HTTP client.
    pub webhooks: crate::webhooks::Webhooks,
    /// The business app's workers (greeting/away, inbox state, stats, schedules).
    pub app_workers: crate::leased::Workers,
    /// Businesses' quality, tier and reach, cached briefly.
    pub reach: crate::cloud::reach::ReachCache,
    /// Hot-path lookups of the business API, cached briefly.
    pub caches: crate::cloud::cache::Caches,
    /// When customers last wrote to businesses (single node only).
    pub inbound: std::sync::Arc<crate::cloud::inbound::InboundTracker>,
    pub bus: Arc<dyn Bus>,
    /// Media uploads, blobs and their index (`media.rs`).
    pub media: Arc<switchboard_media::MediaService>,
    pub clock: Clock,
    /// One permit per WebSocket connection; shutdown waits for all to come back.
    pub connections: Arc<Semaphore>,
    /// Flips to true when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Outbound HTTP (the SMS code hook).
    pub http: reqwest::Client,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn now(&self) -> i64 {
        (self.clock)()
    }
}

/// Locks a limiter; its state stays consistent even if a holder panicked.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
