//! [`Session`]: one live WebSocket to `GET /v1/ws` that survives reconnects.
//!
//! A session owns its socket and is driven by its owner: [`Session::next`] reads the
//! next frame (reconnecting when needed) and the `send…` methods write. There is no
//! background task, so dropping the session closes everything it holds.
//!
//! What it guarantees to its owner:
//! - frames carrying an `inbox_seq` are handed out at most once, even across resyncs;
//! - [`Session::cursor`] is the highest contiguous `inbox_seq` handed out (or the last
//!   `synced`), which is what to persist and pass to the next session;
//! - a `send` is remembered until its `ack` (or an `error` naming its `client_id`, or a
//!   `message` frame carrying its `client_id`) arrives, and is re-sent with the same
//!   `client_id` after every reconnect, so a lost ack never stores a message twice.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use switchboard_proto::frames::{Message, ReceiptStatus};
use switchboard_proto::{ClientFrame, ServerFrame};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header::AUTHORIZATION};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::backoff::Backoff;
use crate::cursor::Cursor;
use crate::error::{Error, Result};

/// Where a `send` goes: an existing chat, or a person by phone (the direct chat is
/// made on first use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `chat_id` of an existing chat.
    Chat(String),
    /// E.164 phone number of a person.
    Phone(String),
}

/// How a [`Session`] connects and reconnects.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Reconnect (and resync) when the connection drops; when `false`, [`Session::next`]
    /// returns [`Error::Closed`] instead.
    pub reconnect: bool,
    /// Give up after this many failed reconnect attempts in a row (`None`: never).
    pub max_reconnect_attempts: Option<u32>,
    /// The delay schedule between reconnect attempts.
    pub backoff: Backoff,
    /// Time allowed for TCP connect plus the WebSocket handshake.
    pub connect_timeout: Duration,
    /// The WebSocket read buffer. Kept small by default: load tests hold thousands of
    /// mostly idle sessions in one process, and frames are small.
    pub read_buffer_size: usize,
    /// Source address for the TCP connection (spreads loopback load tests over
    /// 127.x.y.z, each with its own ephemeral port range).
    pub local_addr: Option<IpAddr>,
    /// Send `sync` on every (re)connect. Without it the connection receives nothing
    /// addressed to its user and acks carry no `inbox_seq`: right for a one-shot sender
    /// that must not drain the stream another client resumes from.
    pub sync_on_connect: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            reconnect: true,
            max_reconnect_attempts: None,
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(10),
            read_buffer_size: 8 * 1024,
            local_addr: None,
            sync_on_connect: true,
        }
    }
}

/// A send not yet acknowledged, kept serialised so a re-send is byte-identical.
#[derive(Debug)]
struct Unacked {
    client_id: String,
    frame: String,
}

/// Distinguishes sessions created in the same nanosecond in one process.
static SESSION_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A live connection to `/v1/ws` with resume and re-send. See the module docs.
#[derive(Debug)]
pub struct Session {
    url: String,
    token: String,
    config: SessionConfig,
    /// `None` while disconnected; [`Session::next`] reconnects.
    ws: Option<WebSocketStream<TcpStream>>,
    cursor: Cursor,
    /// Sends awaiting their ack, oldest first (acks usually arrive in order, so removal
    /// is cheap at the front).
    unacked: Vec<Unacked>,
    /// Makes `client_id`s unique per device across sessions and process runs.
    id_prefix: String,
    next_id: u64,
    next_nonce: u64,
    reconnects: u64,
    /// Set by [`Session::close`] or when reconnecting gave up; nothing works after it.
    closed: bool,
    /// Why the last connection ended, for [`Error::Closed`].
    last_error: Option<String>,
}

impl Session {
    /// Connects to `url` (`ws://host:port/v1/ws`) with `token` and sends
    /// `{"type":"sync","after":cursor}` (unless [`SessionConfig::sync_on_connect`] is
    /// off). The first connection is not retried: an error here is returned as is.
    pub async fn connect(
        url: impl Into<String>,
        token: impl Into<String>,
        cursor: u64,
        config: SessionConfig,
    ) -> Result<Session> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let n = SESSION_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut session = Session {
            url: url.into(),
            token: token.into(),
            config,
            ws: None,
            cursor: Cursor::new(cursor),
            unacked: Vec::new(),
            id_prefix: format!("{nanos:x}{:x}{n:x}", std::process::id()),
            next_id: 0,
            next_nonce: 0,
            reconnects: 0,
            closed: false,
            last_error: None,
        };
        let ws = session.open().await?;
        session.ws = Some(ws);
        Ok(session)
    }

    /// The resume cursor: persist it and pass it to the next [`Session::connect`].
    pub fn cursor(&self) -> u64 {
        self.cursor.get()
    }

    /// How many sends await their ack.
    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// How many times this session has reconnected.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// Whether a socket is open right now.
    pub fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// The next frame from the server, reconnecting and resyncing as needed.
    ///
    /// Duplicates (an `inbox_seq` already handed out) are dropped here; frames of types
    /// this SDK does not know are skipped (their `inbox_seq` still counts). Cancel-safe:
    /// dropping the future loses no frame (a reconnect in progress starts over).
    pub async fn next(&mut self) -> Result<ServerFrame> {
        loop {
            if self.closed {
                return Err(self.closed_error());
            }
            let Some(ws) = self.ws.as_mut() else {
                self.reconnect().await?;
                continue;
            };
            match ws.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    if let Some(frame) = self.accept(text.as_str()) {
                        return Ok(frame);
                    }
                }
                Some(Ok(WsMessage::Close(close))) => {
                    let reason = match close {
                        Some(c) => {
                            format!("server closed the connection ({}: {})", c.code, c.reason)
                        }
                        None => "server closed the connection".to_string(),
                    };
                    self.disconnected(reason);
                }
                // Pings are answered by tungstenite itself; nothing else is expected.
                Some(Ok(_)) => {}
                Some(Err(e)) => self.disconnected(e.to_string()),
                None => self.disconnected("connection ended".to_string()),
            }
        }
    }

    /// Sends `{"text": text}` and returns the generated `client_id`.
    pub async fn send_text(&mut self, target: Target, text: &str) -> Result<String> {
        #[derive(serde::Serialize)]
        struct TextBody<'a> {
            text: &'a str,
        }
        let body = serde_json::value::to_raw_value(&TextBody { text })?;
        self.send(target, body, None).await
    }

    /// Sends any message body and returns the generated `client_id`.
    ///
    /// The send is remembered until acknowledged; if the socket is down it is sent on
    /// reconnect, so this returns `Ok` unless the session is closed.
    pub async fn send(
        &mut self,
        target: Target,
        body: Box<RawValue>,
        reply_to: Option<String>,
    ) -> Result<String> {
        if self.closed {
            return Err(self.closed_error());
        }
        self.next_id += 1;
        let client_id = format!("{}-{}", self.id_prefix, self.next_id);
        let (chat_id, to) = match target {
            Target::Chat(c) => (Some(c), None),
            Target::Phone(p) => (None, Some(p)),
        };
        let frame = serde_json::to_string(&ClientFrame::Send {
            client_id: client_id.clone(),
            chat_id,
            to,
            body,
            reply_to,
        })?;
        self.unacked.push(Unacked {
            client_id: client_id.clone(),
            frame: frame.clone(),
        });
        self.write(frame).await;
        Ok(client_id)
    }

    /// Sends a cumulative `receipt`. Dropped silently while disconnected (receipts are
    /// cumulative: the next one covers it).
    pub async fn receipt(
        &mut self,
        chat_id: &str,
        up_to_seq: u64,
        status: ReceiptStatus,
    ) -> Result<()> {
        self.send_frame(&ClientFrame::Receipt {
            chat_id: chat_id.to_string(),
            up_to_seq,
            status,
        })
        .await
    }

    /// Sends a `typing` signal (ephemeral; dropped while disconnected).
    pub async fn typing(&mut self, chat_id: &str) -> Result<()> {
        self.send_frame(&ClientFrame::Typing {
            chat_id: chat_id.to_string(),
        })
        .await
    }

    /// Sends `{"type":"ping","nonce":N}` and returns N; the answer arrives from
    /// [`Session::next`] as `ServerFrame::Pong` with the same nonce. Dropped while
    /// disconnected.
    pub async fn ping(&mut self) -> Result<u64> {
        self.next_nonce += 1;
        let nonce = self.next_nonce;
        self.send_frame(&ClientFrame::Ping {
            nonce: nonce.into(),
        })
        .await?;
        Ok(nonce)
    }

    /// Sends `ping` and waits for its `pong`, returning the round trip. Frames arriving
    /// meanwhile are handed to `other` so nothing is lost.
    pub async fn ping_rtt(&mut self, mut other: impl FnMut(ServerFrame)) -> Result<Duration> {
        let started = std::time::Instant::now();
        let nonce = self.ping().await?;
        loop {
            match self.next().await? {
                ServerFrame::Pong { nonce: n } if n.as_u64() == Some(nonce) => {
                    return Ok(started.elapsed());
                }
                frame => other(frame),
            }
        }
    }

    /// Closes the connection politely; the session is unusable afterwards.
    pub async fn close(&mut self) {
        self.closed = true;
        self.last_error = Some("closed by the client".to_string());
        if let Some(mut ws) = self.ws.take() {
            // Best effort: the peer may already be gone.
            let _ = ws.close(None).await;
        }
    }

    async fn send_frame(&mut self, frame: &ClientFrame) -> Result<()> {
        if self.closed {
            return Err(self.closed_error());
        }
        let text = serde_json::to_string(frame)?;
        self.write(text).await;
        Ok(())
    }

    /// Writes one text frame; a failure only marks the session disconnected (the next
    /// [`Session::next`] reconnects and re-sends what is unacked).
    async fn write(&mut self, text: String) {
        if let Some(ws) = self.ws.as_mut()
            && let Err(e) = ws.send(WsMessage::text(text)).await
        {
            self.disconnected(e.to_string());
        }
    }

    /// Applies a frame to the session state; `None` when it must not be handed out.
    fn accept(&mut self, text: &str) -> Option<ServerFrame> {
        let frame: ServerFrame = match parse_server_frame(text) {
            Ok(frame) => frame,
            Err(e) => {
                // A frame type added after this SDK: skip it, but keep its stream position.
                #[derive(Deserialize)]
                struct Position {
                    inbox_seq: Option<u64>,
                }
                if let Ok(Position {
                    inbox_seq: Some(seq),
                }) = serde_json::from_str::<Position>(text)
                {
                    self.cursor.observe(seq);
                }
                tracing::debug!(error = %e, "skipping a frame this sdk does not understand");
                return None;
            }
        };
        match &frame {
            ServerFrame::Ack {
                client_id,
                inbox_seq,
                ..
            } => {
                let was_pending = self.remove_unacked(client_id);
                if let Some(seq) = inbox_seq
                    && !self.cursor.observe(*seq)
                    && !was_pending
                {
                    return None;
                }
            }
            ServerFrame::Message(m) => {
                if let Some(cid) = &m.client_id {
                    // Our own message seen on the stream: it is stored, whatever
                    // happened to its ack.
                    self.remove_unacked(cid);
                }
                if let Some(seq) = m.inbox_seq
                    && !self.cursor.observe(seq)
                {
                    return None;
                }
            }
            ServerFrame::Receipt(r) if !self.cursor.observe(r.inbox_seq) => return None,
            ServerFrame::Synced { inbox_seq } => {
                self.cursor.synced(*inbox_seq);
                self.config.backoff.reset();
            }
            ServerFrame::Error {
                client_id: Some(cid),
                ..
            } => {
                // The server refused this send; re-sending would be refused again.
                self.remove_unacked(cid);
            }
            _ => {}
        }
        Some(frame)
    }

    fn remove_unacked(&mut self, client_id: &str) -> bool {
        match self.unacked.iter().position(|u| u.client_id == client_id) {
            Some(i) => {
                self.unacked.remove(i);
                true
            }
            None => false,
        }
    }

    fn disconnected(&mut self, reason: String) {
        tracing::debug!(%reason, "websocket disconnected");
        self.ws = None;
        self.last_error = Some(reason);
    }

    fn closed_error(&self) -> Error {
        Error::Closed {
            reason: self.last_error.clone(),
        }
    }

    /// Reconnects with backoff until it succeeds or the configured limit is hit.
    async fn reconnect(&mut self) -> Result<()> {
        if !self.config.reconnect {
            self.closed = true;
            return Err(self.closed_error());
        }
        loop {
            if let Some(max) = self.config.max_reconnect_attempts
                && self.config.backoff.attempts() >= max
            {
                self.closed = true;
                return Err(self.closed_error());
            }
            let delay = self.config.backoff.next_delay();
            tokio::time::sleep(delay).await;
            match self.open().await {
                Ok(ws) => {
                    self.ws = Some(ws);
                    self.reconnects += 1;
                    tracing::debug!(cursor = self.cursor(), "websocket reconnected");
                    return Ok(());
                }
                Err(e) => {
                    tracing::debug!(error = %e, "reconnect failed");
                    self.last_error = Some(e.to_string());
                }
            }
        }
    }

    /// Opens a socket, sends `sync` from the cursor and re-sends every unacked send.
    /// The socket is only stored by the caller once all of that was written, so a
    /// cancelled open leaves the session cleanly disconnected.
    async fn open(&self) -> Result<WebSocketStream<TcpStream>> {
        let handshake = async {
            let mut request = self.url.as_str().into_client_request()?;
            let bearer =
                HeaderValue::from_str(&format!("Bearer {}", self.token)).map_err(|_| {
                    Error::Closed {
                        reason: Some(
                            "the token contains characters not allowed in a header".into(),
                        ),
                    }
                })?;
            request.headers_mut().insert(AUTHORIZATION, bearer);
            let host = request.uri().host().unwrap_or("127.0.0.1").to_string();
            let port = request.uri().port_u16().unwrap_or(80);
            let addr = tokio::net::lookup_host((host.as_str(), port))
                .await?
                .next()
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no address for {host:?}"),
                    )
                })?;
            let stream = tcp_connect(addr, self.config.local_addr).await?;
            stream.set_nodelay(true)?;
            let ws_config = WebSocketConfig::default()
                .read_buffer_size(self.config.read_buffer_size)
                .write_buffer_size(0);
            let (ws, _response) =
                tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config))
                    .await?;
            Ok::<_, Error>(ws)
        };
        let mut ws = tokio::time::timeout(self.config.connect_timeout, handshake)
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting to {} timed out", self.url),
                )
            })??;
        if self.config.sync_on_connect {
            let sync = serde_json::to_string(&ClientFrame::Sync {
                after: self.cursor.get(),
            })?;
            ws.feed(WsMessage::text(sync)).await?;
        }
        for u in &self.unacked {
            ws.feed(WsMessage::text(u.frame.clone())).await?;
        }
        ws.flush().await?;
        Ok(ws)
    }
}

/// Parses one server frame.
///
/// `message` frames are read as a plain [`Message`] struct: serde cannot deserialize the
/// `Box<RawValue>` body inside an internally tagged enum ("invalid type: newtype
/// struct"), so `serde_json::from_str::<ServerFrame>` alone fails on every message.
pub fn parse_server_frame(text: &str) -> serde_json::Result<ServerFrame> {
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(borrow, rename = "type")]
        kind: std::borrow::Cow<'a, str>,
    }
    let tag: Tag<'_> = serde_json::from_str(text)?;
    if tag.kind == "message" {
        Ok(ServerFrame::Message(serde_json::from_str::<Message>(text)?))
    } else {
        serde_json::from_str(text)
    }
}

async fn tcp_connect(addr: SocketAddr, local: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(local) = local else {
        return TcpStream::connect(addr).await;
    };
    let socket = if local.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session's state machine without a socket (connect is not called).
    fn offline(cursor: u64) -> Session {
        Session {
            url: "ws://127.0.0.1:9/v1/ws".into(),
            token: "t".into(),
            config: SessionConfig::default(),
            ws: None,
            cursor: Cursor::new(cursor),
            unacked: Vec::new(),
            id_prefix: "p".into(),
            next_id: 0,
            next_nonce: 0,
            reconnects: 0,
            closed: false,
            last_error: None,
        }
    }

    fn pending(s: &mut Session, cid: &str) {
        s.unacked.push(Unacked {
            client_id: cid.into(),
            frame: String::new(),
        });
    }

    #[test]
    fn frames_update_cursor_and_unacked() {
        let mut s = offline(0);
        pending(&mut s, "c-1");
        pending(&mut s, "c-2");
        let msg = r#"{"type":"message","inbox_seq":1,"id":"m1","chat_id":"ch","seq":1,"from":"49","ts":1,"body":{"text":"hi"}}"#;
        let Some(ServerFrame::Message(m)) = s.accept(msg) else {
            panic!("a message frame is handed out");
        };
        assert_eq!(m.body.get(), r#"{"text":"hi"}"#);
        assert!(s.accept(msg).is_none(), "duplicate dropped");
        // An ack at 3 before the receipt at 2: the cursor waits for the gap.
        let ack = r#"{"type":"ack","client_id":"c-1","id":"m2","chat_id":"ch","seq":2,"ts":2,"inbox_seq":3}"#;
        assert!(s.accept(ack).is_some());
        assert_eq!((s.cursor(), s.unacked()), (1, 1));
        let receipt = r#"{"type":"receipt","inbox_seq":2,"chat_id":"ch","user_id":"u","up_to_seq":1,"status":"read","ts":3}"#;
        assert!(s.accept(receipt).is_some());
        assert_eq!(s.cursor(), 3);
        // Our own message (lost ack) seen on the stream clears the pending send.
        let own = r#"{"type":"message","inbox_seq":4,"id":"m3","chat_id":"ch","seq":3,"from":"49","ts":1,"body":{"text":"x"},"client_id":"c-2"}"#;
        assert!(s.accept(own).is_some());
        assert_eq!((s.cursor(), s.unacked()), (4, 0));
        // An unknown frame type still counts its position; synced moves the cursor.
        assert!(
            s.accept(r#"{"type":"future_thing","inbox_seq":5}"#)
                .is_none()
        );
        assert_eq!(s.cursor(), 5);
        assert!(s.accept(r#"{"type":"synced","inbox_seq":9}"#).is_some());
        assert_eq!(s.cursor(), 9);
    }

    #[test]
    fn a_refused_send_is_not_resent() {
        let mut s = offline(0);
        pending(&mut s, "c-1");
        let err = r#"{"type":"error","client_id":"c-1","code":"not_a_member","message":"no"}"#;
        assert!(matches!(s.accept(err), Some(ServerFrame::Error { .. })));
        assert_eq!(s.unacked(), 0);
    }
}
