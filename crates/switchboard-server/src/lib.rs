//! The Switchboard server: protocol v1 over HTTP and WebSocket.
//!
//! [`run`] is handed its listener, its configuration and a shutdown future (so tests
//! bind port 0 and stop it deterministically). It opens the store and the bus, serves
//! until shutdown, then stops accepting, closes every live connection, and closes the
//! store so everything acknowledged is on disk.
//!
//! **Invariant:** only this crate's start-up code (`run`) knows which store and bus
//! backend is in use (embedded or PostgreSQL, in-process or NATS, from the config);
//! handlers see `dyn Store` and `dyn Bus`.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod auth;
pub mod businesses;
pub mod chats;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod demo;
pub mod error;
pub mod fanout;
pub mod leased;
pub mod media;
pub mod openapi;
pub mod ops;
pub mod render;
pub mod state;
pub mod webhooks;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use switchboard_bus::{Bus, LocalBus};
use switchboard_bus_nats::{NatsBus, NatsBusError, NatsBusOptions};
use switchboard_store::{BusinessStore, Store, StoreError};
use switchboard_store_embedded::EmbeddedStore;
use switchboard_store_postgres::PgStore;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

pub use config::Config;
use state::{AppState, SharedState};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot open media storage: {0}")]
    Media(#[from] switchboard_media::MediaError),
    #[error("cannot connect the bus: {0}")]
    Bus(#[from] NatsBusError),
    #[error("server i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// The whole HTTP surface; every feature contributes its own router.
pub fn app(state: SharedState) -> Router {
    // Cookies are `Secure` when the server is reached over HTTPS (its public URL).
    let web = switchboard_web::WebConfig {
        secure_cookies: state
            .config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
    };
    let api = Router::new()
        .merge(accounts::router())
        .merge(chats::router())
        .merge(ops::router())
        .merge(media::router())
        .merge(admin::router())
        .merge(openapi::router())
        .merge(businesses::router())
        .merge(app::router())
        .route("/v1/ws", get(ws::upgrade))
        // Graph-style business API paths (`/v21.0/{id}/messages`) and the v1 404.
        .fallback(cloud::fallback)
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state);
    // The web app calls the API above in process, as a client (`switchboard-web`).
    switchboard_web::router(api.clone(), web).merge(api)
}

/// Serves until `shutdown` completes, then drains and closes the store.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    run_with_clock(listener, config, state::system_clock(), shutdown).await
}

/// [`run`] with the clock the server reads time from (tests move it forward).
pub async fn run_with_clock(
    listener: TcpListener,
    config: Config,
    clock: state::Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let bus: Arc<dyn Bus> = match &config.bus {
        None => Arc::new(LocalBus::new(config.outbox_frames)),
        Some(url) => Arc::new(
            NatsBus::connect_with(
                url,
                NatsBusOptions {
                    capacity: config.outbox_frames,
                    subject_prefix: config.bus_subject_prefix.clone(),
                    ..NatsBusOptions::default()
                },
            )
            .await?,
        ),
    };
    let directory = Arc::new(businesses::Directory::default());
    // Exact only when this node commits everything (see cloud::inbound).
    let inbound = Arc::new(cloud::inbound::InboundTracker::new(
        config.database.is_none() && config.bus.is_none(),
    ));
    let (sink, fanout_task) = fanout::start(bus.clone(), directory.clone(), inbound.clone());
    // On PostgreSQL the media index and URL secret live there too (shared by nodes).
    let mut shared_media = None;
    let (store, business): (Arc<dyn Store>, Arc<dyn BusinessStore>) = match &config.database {
        Some(dsn) => {
            let pg = Arc::new(PgStore::connect(dsn, sink).await?);
            shared_media = Some(switchboard_media::PgIndex::new(pg.pool()));
            (pg.clone(), pg)
        }
        None => {
            let dir = config.data_dir.clone();
            let store = tokio::task::spawn_blocking(move || EmbeddedStore::open(&dir, sink))
                .await
                .map_err(|e| StoreError::Backend(format!("store open task failed: {e}")))??;
            let store = Arc::new(store);
            (store.clone(), store)
        }
    };
    directory.load(business.as_ref()).await?;
    if config.demo {
        demo::seed(store.as_ref(), clock()).await?;
        demo::seed_business(business.as_ref(), clock()).await?;
    }
    let clustered = shared_media.is_some();
    let media = Arc::new(media::open_node(&config, shared_media).await?);
    if !clustered {
        // Only one node uses this staging directory: nothing can be in progress. In a
        // cluster it may be shared; the GC's age-based sweep removes leftovers there.
        media.clear_staging()?;
    }
    let media_gc_task = media::spawn_gc(media.clone(), clock.clone());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let max_connections = config.max_connections;
    let state: SharedState = Arc::new(AppState {
        connections: Arc::new(Semaphore::new(max_connections)),
        shutdown: shutdown_rx,
        http: reqwest::Client::new(),
        metrics: ops::prometheus(),
        config,
        store: store.clone(),
        business,
        directory,
        webhooks: webhooks::Webhooks::new(),
        app_workers: app::worker::workers(),
        reach: cloud::reach::ReachCache::default(),
        caches: cloud::cache::Caches::default(),
        inbound,
        media,
        bus,
        clock,
    });
    let webhook_task = webhooks::spawn(state.clone());
    let app_task = app::worker::spawn(state.clone());
    let directory_task = businesses::spawn_refresh(state.clone());
    tracing::info!(addr = %listener.local_addr()?, "serving");
    // Frames are small and latency matters: Nagle's algorithm would hold an ack
    // until the client's next packet acknowledges the previous one (measured: acks
    // 10 ms late at a paced 100 msgs/s per connection).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let router = app(state.clone());
    if state.config.demo
        && let Err(e) = demo::seed_app(&state, router.clone()).await
    {
        tracing::warn!(error = %e, "demo: the business app data was not seeded");
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = shutdown_tx.send(true);
    })
    .await?;
    tracing::info!("draining live connections");
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(10), state.connections.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close within 10 s");
    }
    webhook_task.abort();
    app_task.abort();
    directory_task.abort();
    store.close().await?;
    fanout_task.abort();
    media_gc_task.abort();
    tracing::info!("stopped");
    Ok(())
}
