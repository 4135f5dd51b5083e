//! The test harness: a real server on an ephemeral port, users registered through the
//! API with dev codes, and a raw WebSocket client for frame-exact assertions.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard_client::Client;
use switchboard_server::Config;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct TestServer {
    pub base: String,
    pub addr: std::net::SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), switchboard_server::ServerError>>>,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(edit: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("a temp dir");
        Self::start_in(dir, edit).await
    }

    pub async fn start_in(dir: tempfile::TempDir, edit: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_full(dir, edit, switchboard_server::state::system_clock()).await
    }

    /// A server whose clock the test controls (see [`TestClock`]).
    pub async fn start_with_clock(clock: &TestClock) -> TestServer {
        let dir = tempfile::tempdir().expect("a temp dir");
        let offset = clock.offset.clone();
        let system = switchboard_server::state::system_clock();
        let clock: switchboard_server::state::Clock = std::sync::Arc::new(move || {
            system() + offset.load(std::sync::atomic::Ordering::SeqCst)
        });
        Self::start_full(dir, |_| {}, clock).await
    }

    async fn start_full(
        dir: tempfile::TempDir,
        edit: impl FnOnce(&mut Config),
        clock: switchboard_server::state::Clock,
    ) -> TestServer {
        let mut config = Config::for_tests(dir.path());
        edit(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("a bound address");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(switchboard_server::run_with_clock(
            listener,
            config,
            clock,
            async move {
                let _ = rx.await;
            },
        ));
        let server = TestServer {
            base: format!("http://{addr}"),
            addr,
            shutdown: Some(tx),
            handle: Some(handle),
            dir,
        };
        // The listener is bound before run starts, so requests queue until it serves;
        // wait for readiness (the store is open) on events, not on time.
        let client = server.client();
        for _ in 0..200 {
            if client.healthz().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the server did not become healthy");
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base).expect("a valid base url")
    }

    /// Registers `phone` with the dev code and returns an authenticated client.
    pub async fn user(&self, phone: &str) -> (Client, String) {
        self.device(phone, "test").await
    }

    /// Another device of the same user (or the first one).
    pub async fn device(&self, phone: &str, name: &str) -> (Client, String) {
        let c = self.client();
        let reg = c.register(phone).await.expect("register");
        let code = reg.dev_code.expect("dev mode returns the code");
        let v = c
            .verify(&reg.registration_id, &code, Some(name))
            .await
            .expect("verify");
        (c.with_token(v.token.clone()), v.token)
    }

    /// Stops the server gracefully and returns its data directory for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("the server task").expect("a clean shutdown");
        }
        self.dir
    }
}

/// The real time plus an offset the test moves forward.
#[derive(Default)]
pub struct TestClock {
    pub offset: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl TestClock {
    pub fn advance(&self, ms: i64) {
        self.offset
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client that sends and receives JSON frames exactly as written.
pub struct RawWs {
    pub ws: Ws,
}

impl RawWs {
    pub async fn connect(server: &TestServer, token: &str) -> RawWs {
        let url = format!("ws://{}/v1/ws?access_token={token}", server.addr);
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("ws connect");
        RawWs { ws }
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("ws send");
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("ws send");
    }

    /// The next JSON frame, failing the test after 10 s.
    pub async fn recv(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s")
                .expect("the connection is open")
                .expect("a valid frame");
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).expect("JSON frame"),
                Message::Close(c) => panic!("closed by the server: {c:?}"),
                _ => continue,
            }
        }
    }

    /// Frames until one has `type == kind`; the others are returned too.
    pub async fn recv_until(&mut self, kind: &str) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let f = self.recv().await;
            if f["type"] == kind {
                return (f, before);
            }
            before.push(f);
        }
    }

    pub async fn sync(&mut self, after: u64) -> (u64, Vec<Value>) {
        self.send(json!({"type": "sync", "after": after})).await;
        let (synced, frames) = self.recv_until("synced").await;
        (
            synced["inbox_seq"].as_u64().expect("synced has inbox_seq"),
            frames,
        )
    }

    /// Sends a text and waits for its ack (other frames meanwhile are returned).
    pub async fn send_text_msg(
        &mut self,
        client_id: &str,
        chat_id: &str,
        text: &str,
    ) -> (Value, Vec<Value>) {
        self.send(json!({"type": "send", "client_id": client_id, "chat_id": chat_id, "body": {"text": text}}))
            .await;
        let mut others = Vec::new();
        loop {
            let f = self.recv().await;
            if (f["type"] == "ack" || f["type"] == "error") && f["client_id"] == client_id {
                return (f, others);
            }
            others.push(f);
        }
    }
}

pub const ADA: &str = "+4915100000101";
pub const BEN: &str = "+4915100000102";
pub const CAT: &str = "+4915100000103";
pub const DAN: &str = "+4915100000104";

pub fn uid(phone: &str) -> String {
    phone.trim_start_matches('+').to_owned()
}
