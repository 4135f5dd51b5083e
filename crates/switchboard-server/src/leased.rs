//! Per-business background workers that exactly one node runs: the webhook
//! dispatcher and the business app's worker. A supervisor starts one task per
//! business as businesses appear; each task takes its business's lease in the store
//! (`{name}:{waba_id}`), runs passes while it holds it and they make progress, and
//! otherwise sleeps until a local wake-up, a bus delivery to the business's user,
//! or a poll. Nodes that do not hold the lease poll it at a third of its length, so
//! a dead holder is replaced within one lease.

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::state::{SharedState, lock};

/// How often the supervisor looks for new businesses (a local `wake` is immediate).
const SCAN_INTERVAL: Duration = Duration::from_secs(2);

/// One kind of worker: its lease, its timing, and which node runs it.
pub struct Workers {
    /// The lease name prefix and the log target (`webhooks`, `app`).
    name: &'static str,
    lease_ms: i64,
    /// How often an idle lease holder runs a pass anyway.
    idle_poll: Duration,
    /// How long to wait after the `n`th failed pass in a row.
    retry: fn(u32) -> Duration,
    pub node_id: String,
    workers: Mutex<HashMap<String, Arc<Notify>>>,
    scan: Notify,
}

impl Workers {
    pub fn new(
        name: &'static str,
        lease_ms: i64,
        idle_poll: Duration,
        retry: fn(u32) -> Duration,
    ) -> Self {
        Workers {
            name,
            lease_ms,
            idle_poll,
            retry,
            node_id: uuid::Uuid::now_v7().simple().to_string(),
            workers: Mutex::new(HashMap::new()),
            scan: Notify::new(),
        }
    }

    /// The lease a business's worker holds.
    pub fn lease(&self, waba_id: &str) -> String {
        format!("{}:{waba_id}", self.name)
    }

    pub fn lease_ms(&self) -> i64 {
        self.lease_ms
    }

    /// Makes a business's worker run a pass soon (or the supervisor look for a
    /// business it does not run yet).
    pub fn wake(&self, waba_id: &str) {
        match lock(&self.workers).get(waba_id) {
            Some(n) => n.notify_one(),
            None => self.scan.notify_one(),
        }
    }
}

/// Starts the supervisor of `which` workers. `pass(state, waba_id, lease)` does one
/// unit of work while the lease is held; `Ok(true)` means it consumed something
/// (run again at once).
pub fn spawn<W, P, F, E>(state: SharedState, which: W, pass: P) -> tokio::task::JoinHandle<()>
where
    W: Fn(&SharedState) -> &Workers + Copy + Send + Sync + 'static,
    P: Fn(SharedState, String, String) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<bool, E>> + Send + 'static,
    E: Display + Send + 'static,
{
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        loop {
            match state.business.businesses().await {
                Ok(all) => {
                    for b in all {
                        let fresh = {
                            let mut workers = lock(&which(&state).workers);
                            if workers.contains_key(&b.waba_id) {
                                None
                            } else {
                                let n = Arc::new(Notify::new());
                                workers.insert(b.waba_id.clone(), n.clone());
                                Some(n)
                            }
                        };
                        if let Some(n) = fresh {
                            tokio::spawn(worker(state.clone(), which, pass, b.waba_id, n));
                        }
                    }
                }
                Err(e) => tracing::warn!(
                    workers = which(&state).name,
                    error = %e,
                    "cannot list businesses"
                ),
            }
            tokio::select! {
                _ = which(&state).scan.notified() => {}
                _ = tokio::time::sleep(SCAN_INTERVAL) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

async fn worker<W, P, F, E>(
    state: SharedState,
    which: W,
    pass: P,
    waba_id: String,
    notify: Arc<Notify>,
) where
    W: Fn(&SharedState) -> &Workers,
    P: Fn(SharedState, String, String) -> F,
    F: Future<Output = Result<bool, E>>,
    E: Display + Send + 'static,
{
    let mut shutdown = state.shutdown.clone();
    let mut wakeups: Option<switchboard_bus::Subscription> = None;
    let w = which(&state);
    let lease = w.lease(&waba_id);
    let mut failures = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let held = state
            .business
            .try_lease(&lease, &w.node_id, state.now(), w.lease_ms)
            .await
            .unwrap_or(false);
        let mut progressed = false;
        if held {
            match pass(state.clone(), waba_id.clone(), lease.clone()).await {
                Ok(p) => {
                    progressed = p;
                    failures = 0;
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(workers = w.name, waba_id, error = %e, "pass failed");
                    tokio::select! {
                        _ = tokio::time::sleep((w.retry)(failures)) => {}
                        _ = shutdown.changed() => return,
                    }
                    continue;
                }
            }
        }
        if progressed {
            continue;
        }
        // Idle: wait for a local wake, a bus delivery to the business, or the poll.
        if held
            && wakeups.is_none()
            && let Ok(Some(b)) = state.business.business(&waba_id).await
        {
            wakeups = Some(state.bus.subscribe(&b.user_id));
        }
        let bus_wake = async {
            match wakeups.as_mut() {
                Some(sub) => sub.recv().await.is_some(),
                None => std::future::pending().await,
            }
        };
        let wait = if held {
            w.idle_poll
        } else {
            Duration::from_millis(w.lease_ms as u64 / 3)
        };
        tokio::select! {
            _ = notify.notified() => {}
            alive = bus_wake => if !alive { wakeups = None; },
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        // Drain further wake-ups that queued meanwhile; one pass covers them.
        if let Some(sub) = wakeups.as_mut() {
            loop {
                match sub.try_recv() {
                    Ok(_) => {}
                    Err(false) => break,
                    Err(true) => {
                        wakeups = None;
                        break;
                    }
                }
            }
        }
    }
}
