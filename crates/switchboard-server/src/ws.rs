//! The live connection, `GET /v1/ws` (protocol v1 section 3).
//!
//! One task per connection runs a `select!` over the socket, the commits it is waiting
//! for, its bus subscription and the shutdown signal. Sends are pipelined: up to
//! `MAX_IN_FLIGHT_PER_CONNECTION` wait for their group commit at once, acked in the
//! order they were sent. Frames produced in one wake-up are written with one flush.
//!
//! Stream rules kept here:
//! - nothing addressed to the user flows before the first `sync`;
//! - after `sync {after}` the connection sends every entry with `inbox_seq > after` in
//!   order, then `synced`, then live entries, skipping what it already sent and
//!   filling any gap from the store, so nothing is skipped or repeated;
//! - a connection whose subscription overflowed (a slow consumer) is closed; its
//!   client resyncs from its cursor.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{FuturesOrdered, SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use switchboard_bus::{Envelope, Subscription};
use switchboard_core::body::Body;
use switchboard_core::limits::{
    MAX_CLIENT_ID_BYTES, MAX_FRAME_BYTES, MAX_IN_FLIGHT_PER_CONNECTION,
};
use switchboard_core::{ids, phone};
use switchboard_proto::ClientFrame;
use switchboard_proto::frames::ServerFrame;
use switchboard_store::{Appended, NewMessage, NewReceipt, StoreError};

use crate::auth::{self, Authed};
use crate::error::ApiError;
use crate::render;
use crate::state::SharedState;

/// Entries read from the store per page during catch-up.
const SYNC_PAGE: usize = 512;
/// Consecutive malformed frames before the connection is closed with 1008.
const MAX_BAD_FRAMES: u32 = 20;
/// Ready events handled per wake-up before flushing.
const DRAIN_BATCH: usize = 256;
/// Messages larger than this break the connection at the WebSocket layer; between
/// `MAX_FRAME_BYTES` and this they get a `bad_frame` error and the connection lives.
const HARD_MESSAGE_LIMIT: usize = 2 * MAX_FRAME_BYTES;

#[derive(Deserialize)]
pub struct WsQuery {
    access_token: Option<String>,
}

pub async fn upgrade(
    State(state): State<SharedState>,
    Query(q): Query<WsQuery>,
    parts: Parts,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    // The web app's pages connect with their session cookie (same origin only).
    let cookie = switchboard_web::websocket_token(&parts.headers);
    let token = auth::bearer(&parts)
        .or(q.access_token.as_deref())
        .or(cookie.as_deref());
    let authed = match auth::authenticate(&state, token).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            return ApiError::bad_request("not_a_websocket", e.body_text().to_lowercase())
                .into_response();
        }
    };
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        return ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            "this server holds its maximum of connections; retry on another node or later",
        )
        .into_response();
    };
    // Small buffers: an idle connection should cost a few KiB, not the 128 KiB
    // tungstenite reserves by default. The write buffer lets frames queued in one
    // wake-up go out in one `send` (with 0, every frame was its own syscall: 28 % of
    // the server's CPU under load); it only grows on a connection that is written to.
    ws.read_buffer_size(1024)
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(16 * 1024 * 1024)
        .max_message_size(HARD_MESSAGE_LIMIT)
        .max_frame_size(HARD_MESSAGE_LIMIT)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("switchboard_ws_connections").increment(1.0);
            let (sink, stream) = socket.split();
            let conn = Connection {
                device_id: Arc::from(authed.device_id.as_str()),
                authed,
                state,
                sink,
                out: Vec::new(),
                sub: None,
                cursor: 0,
                inflight: FuturesOrdered::new(),
                bad_frames: 0,
                last_typing: None,
            };
            conn.run(stream).await;
            metrics::gauge!("switchboard_ws_connections").decrement(1.0);
            drop(permit);
        })
}

type Pending = Pin<Box<dyn Future<Output = Done> + Send>>;

/// What a pipelined operation reports back to its connection.
enum Done {
    Sent {
        client_id: String,
        /// The connection was subscribed when the send arrived, so the ack will come
        /// through the stream in order (unless this is a duplicate).
        via_stream: bool,
        started: Instant,
        result: Result<Appended, FrameError>,
    },
    Other(Result<(), FrameError>),
}

/// An error answering one frame; the connection stays open.
struct FrameError {
    code: &'static str,
    message: String,
}

impl From<StoreError> for FrameError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Backend(_) | StoreError::Format(_) => {
                tracing::error!(error = %e, "storage error on the live connection");
                FrameError {
                    code: "internal",
                    message: "internal error".into(),
                }
            }
            // An unknown chat and a chat one is not in look the same from outside.
            StoreError::NotMember(_) | StoreError::NotFound(_) => FrameError {
                code: "not_a_member",
                message: "not a member of this chat".into(),
            },
            other => FrameError {
                code: other.code(),
                message: other.to_string(),
            },
        }
    }
}

impl From<ApiError> for FrameError {
    fn from(e: ApiError) -> Self {
        FrameError {
            code: e.code,
            message: e.message,
        }
    }
}

impl From<switchboard_core::CoreError> for FrameError {
    fn from(e: switchboard_core::CoreError) -> Self {
        FrameError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

enum Flow {
    Continue,
    Close(u16, &'static str),
}

struct Connection {
    state: SharedState,
    authed: Authed,
    device_id: Arc<str>,
    sink: SplitSink<WebSocket, WsMessage>,
    /// Frames produced since the last flush.
    out: Vec<WsMessage>,
    /// Present once the client has synced.
    sub: Option<Subscription>,
    /// The highest `inbox_seq` sent to this connection.
    cursor: u64,
    inflight: FuturesOrdered<Pending>,
    bad_frames: u32,
    /// The last typing signal forwarded, to throttle repeats.
    last_typing: Option<(String, Instant)>,
}

async fn next_envelope(sub: &mut Option<Subscription>) -> Option<Envelope> {
    match sub {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

impl Connection {
    async fn run(mut self, mut stream: SplitStream<WebSocket>) {
        let mut shutdown = self.state.shutdown.clone();
        let flow = loop {
            if *shutdown.borrow() {
                break Flow::Close(1001, "server shutting down");
            }
            let flow = tokio::select! {
                _ = shutdown.changed() => Flow::Close(1001, "server shutting down"),
                env = next_envelope(&mut self.sub), if self.sub.is_some() => match env {
                    Some(env) => self.on_envelope(env).await,
                    None => {
                        metrics::counter!("switchboard_ws_slow_consumer_closed_total").increment(1);
                        Flow::Close(1013, "too slow: resync from your cursor")
                    }
                },
                Some(done) = self.inflight.next(), if !self.inflight.is_empty() => self.on_done(done),
                msg = stream.next(), if self.inflight.len() < MAX_IN_FLIGHT_PER_CONNECTION => match msg {
                    Some(Ok(msg)) => self.on_ws_message(msg).await,
                    _ => break Flow::Continue,
                },
            };
            if let Flow::Close(..) = flow {
                break flow;
            }
            // Take whatever else is ready without waiting (stream entries, finished
            // commits, further frames from the client), then write it all with one
            // flush: under load a wake-up carries many frames, and one `send` per
            // frame was the largest single cost of the server.
            let mut ending = None;
            for _ in 0..DRAIN_BATCH {
                let mut progressed = false;
                if let Some(sub) = self.sub.as_mut()
                    && let Ok(env) = sub.try_recv()
                {
                    progressed = true;
                    if let f @ Flow::Close(..) = self.on_envelope(env).await {
                        ending = Some(f);
                        break;
                    }
                }
                if !self.inflight.is_empty()
                    && let Some(Some(done)) = self.inflight.next().now_or_never()
                {
                    progressed = true;
                    self.on_done(done);
                }
                if self.inflight.len() < MAX_IN_FLIGHT_PER_CONNECTION {
                    match stream.next().now_or_never() {
                        Some(Some(Ok(msg))) => {
                            progressed = true;
                            if let f @ Flow::Close(..) = self.on_ws_message(msg).await {
                                ending = Some(f);
                                break;
                            }
                        }
                        // The client went away.
                        Some(_) => {
                            ending = Some(Flow::Continue);
                            break;
                        }
                        None => {}
                    }
                }
                if !progressed {
                    break;
                }
            }
            if self.flush().await.is_err() {
                break Flow::Continue;
            }
            if let Some(f) = ending {
                break f;
            }
        };
        if let Flow::Close(code, reason) = flow {
            let _ = self.flush().await;
            let _ = self
                .sink
                .send(WsMessage::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })))
                .await;
        }
        let _ = self.sink.close().await;
    }

    async fn flush(&mut self) -> Result<(), axum::Error> {
        if self.out.is_empty() {
            return Ok(());
        }
        metrics::counter!("switchboard_frames_out_total").increment(self.out.len() as u64);
        for msg in self.out.drain(..) {
            self.sink.feed(msg).await?;
        }
        self.sink.flush().await
    }

    fn push(&mut self, json: String) {
        self.out.push(WsMessage::Text(Utf8Bytes::from(json)));
    }

    fn push_bytes(&mut self, json: &bytes::Bytes) {
        // Frames are rendered once per user and shared by its devices; the bytes are
        // UTF-8 JSON by construction.
        match Utf8Bytes::try_from(json.clone()) {
            Ok(text) => self.out.push(WsMessage::Text(text)),
            Err(_) => tracing::error!("a rendered frame was not UTF-8"),
        }
    }

    fn push_error(&mut self, client_id: Option<String>, e: FrameError) {
        self.push(render::error_frame(client_id, e.code, e.message));
    }

    fn bad_frame(&mut self, message: impl Into<String>) -> Flow {
        self.bad_frames += 1;
        self.push(render::error_frame(None, "bad_frame", message));
        if self.bad_frames >= MAX_BAD_FRAMES {
            return Flow::Close(1008, "too many malformed frames");
        }
        Flow::Continue
    }

    async fn on_ws_message(&mut self, msg: WsMessage) -> Flow {
        let text = match msg {
            WsMessage::Text(t) => t,
            WsMessage::Binary(_) => return self.bad_frame("frames are JSON text, not binary"),
            WsMessage::Close(_) => return Flow::Close(1000, "bye"),
            // Pings are answered by the WebSocket layer.
            WsMessage::Ping(_) | WsMessage::Pong(_) => return Flow::Continue,
        };
        if text.len() > MAX_FRAME_BYTES {
            return self.bad_frame(format!(
                "frame is {} bytes; the limit is {MAX_FRAME_BYTES}",
                text.len()
            ));
        }
        let frame: ClientFrame = match serde_json::from_str(text.as_str()) {
            Ok(f) => f,
            Err(e) => return self.unparsable(text.as_str(), e),
        };
        self.bad_frames = 0;
        metrics::counter!("switchboard_frames_in_total").increment(1);
        match frame {
            ClientFrame::Send {
                client_id,
                chat_id,
                to,
                body,
                reply_to,
            } => self.on_send(client_id, chat_id, to, body.get(), reply_to),
            ClientFrame::Receipt {
                chat_id,
                up_to_seq,
                status,
            } => {
                if !ids::valid_chat_id(&chat_id) || up_to_seq == 0 {
                    self.push_error(
                        None,
                        FrameError {
                            code: "invalid_request",
                            message: "receipt needs a chat_id and up_to_seq >= 1".into(),
                        },
                    );
                    return Flow::Continue;
                }
                let store = self.state.store.clone();
                let receipt = NewReceipt {
                    chat_id,
                    user_id: self.authed.user_id.clone(),
                    device_id: self.authed.device_id.clone(),
                    up_to_seq,
                    status,
                    ts: self.state.now(),
                };
                self.inflight.push_back(Box::pin(async move {
                    Done::Other(store.receipt(receipt).await.map(|_| ()).map_err(Into::into))
                }));
            }
            ClientFrame::Sync { after } => return self.on_sync(after).await,
            ClientFrame::Typing { chat_id } => self.on_typing(chat_id),
            ClientFrame::Ping { nonce } => {
                self.push(render::to_json(&ServerFrame::Pong { nonce }));
            }
        }
        Flow::Continue
    }

    /// A frame that did not parse: `bad_frame` unless it was a known type with wrong
    /// fields, which answers `invalid_request` (with its `client_id` where it had one).
    fn unparsable(&mut self, text: &str, err: serde_json::Error) -> Flow {
        #[derive(Deserialize)]
        struct Peek {
            #[serde(rename = "type")]
            kind: Option<String>,
            client_id: Option<String>,
        }
        const KNOWN: [&str; 5] = ["send", "receipt", "sync", "typing", "ping"];
        match serde_json::from_str::<Peek>(text) {
            Ok(Peek {
                kind: Some(kind),
                client_id,
            }) if KNOWN.contains(&kind.as_str()) => {
                self.bad_frames = 0;
                self.push_error(
                    client_id,
                    FrameError {
                        code: "invalid_request",
                        message: format!("invalid {kind} frame: {err}"),
                    },
                );
                Flow::Continue
            }
            Ok(Peek {
                kind: Some(kind), ..
            }) => {
                let kind: String = kind.chars().take(40).collect();
                self.bad_frame(format!("unknown frame type {kind:?}"))
            }
            _ => self.bad_frame(format!("not a JSON object with a \"type\": {err}")),
        }
    }

    fn on_send(
        &mut self,
        client_id: String,
        chat_id: Option<String>,
        to: Option<String>,
        body: &str,
        reply_to: Option<String>,
    ) {
        if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID_BYTES {
            self.push_error(
                Some(client_id.chars().take(MAX_CLIENT_ID_BYTES).collect()),
                FrameError {
                    code: "invalid_request",
                    message: format!("client_id must be 1 to {MAX_CLIENT_ID_BYTES} bytes"),
                },
            );
            return;
        }
        let body = match Body::parse(body) {
            Ok(b) => b,
            Err(e) => return self.push_error(Some(client_id), e.into()),
        };
        let media_id = match &body {
            Body::Media { media_id, .. } => Some(media_id.clone()),
            _ => None,
        };
        if let Some(r) = &reply_to
            && ids::parse_message_id(r).is_none()
        {
            return self.push_error(
                Some(client_id),
                FrameError {
                    code: "invalid_reply",
                    message: format!(
                        "reply_to {:?} is not a message id",
                        r.chars().take(100).collect::<String>()
                    ),
                },
            );
        }
        enum Target {
            Chat(String),
            Person(String),
        }
        let target = match (chat_id, to) {
            (Some(c), None) if ids::valid_chat_id(&c) => Target::Chat(c),
            (Some(_), None) => {
                return self.push_error(
                    Some(client_id),
                    FrameError {
                        code: "not_a_member",
                        message: "chat not found".into(),
                    },
                );
            }
            (None, Some(to)) => match phone::user_id_from_phone(&to) {
                Ok(u) if u == self.authed.user_id => {
                    return self.push_error(
                        Some(client_id),
                        FrameError {
                            code: "invalid_request",
                            message: "to must be another person".into(),
                        },
                    );
                }
                Ok(u) => Target::Person(u),
                Err(e) => return self.push_error(Some(client_id), e.into()),
            },
            _ => {
                return self.push_error(
                    Some(client_id),
                    FrameError {
                        code: "invalid_request",
                        message: "send needs exactly one of chat_id and to".into(),
                    },
                );
            }
        };
        // A reaction names a message of the chat it is sent in.
        if let Body::Reaction { reaction } = &body {
            let chat = match &target {
                Target::Chat(c) => c.clone(),
                Target::Person(u) => ids::direct_chat_id(&self.authed.user_id, u),
            };
            if ids::parse_message_id(&reaction.message_id).is_none_or(|(c, _)| c != chat) {
                return self.push_error(
                    Some(client_id),
                    FrameError {
                        code: "invalid_body",
                        message: "reaction.message_id must name a message of this chat".into(),
                    },
                );
            }
        }
        metrics::counter!("switchboard_messages_in_total").increment(1);
        let state = self.state.clone();
        let sender = self.authed.user_id.clone();
        let device = self.authed.device_id.clone();
        let via_stream = self.sub.is_some();
        let started = Instant::now();
        let body = body.to_json();
        self.inflight.push_back(Box::pin(async move {
            let result = async {
                let chat_id = match target {
                    Target::Chat(c) => c,
                    Target::Person(other) => {
                        if state.store.user(&other).await?.is_none() {
                            return Err(FrameError {
                                code: "unknown_user",
                                message: format!(
                                    "{} is not on Switchboard",
                                    phone::phone_of(&other)
                                ),
                            });
                        }
                        state
                            .store
                            .direct_chat(&sender, &other, state.now())
                            .await?
                            .chat_id
                    }
                };
                if let Some(media_id) = &media_id {
                    // Checked and referenced before the append (media.rs).
                    crate::media::authorize_send(&state, &sender, &chat_id, media_id).await?;
                }
                Ok(state
                    .store
                    .append(NewMessage {
                        chat_id,
                        sender,
                        sender_device: device,
                        client_id: client_id.clone(),
                        body,
                        reply_to,
                        ts: state.now(),
                    })
                    .await?)
            }
            .await;
            Done::Sent {
                client_id,
                via_stream,
                started,
                result,
            }
        }));
    }

    fn on_done(&mut self, done: Done) -> Flow {
        match done {
            Done::Sent {
                client_id,
                via_stream,
                started,
                result,
            } => match result {
                Ok(a) => {
                    metrics::histogram!("switchboard_send_ack_seconds")
                        .record(started.elapsed().as_secs_f64());
                    if !via_stream || a.duplicate {
                        self.push(render::to_json(&ServerFrame::Ack {
                            client_id,
                            id: a.id,
                            chat_id: a.chat_id,
                            seq: a.seq,
                            ts: a.ts,
                            inbox_seq: None,
                        }));
                    }
                }
                Err(e) => self.push_error(Some(client_id), e),
            },
            Done::Other(Err(e)) => self.push_error(None, e),
            Done::Other(Ok(())) => {}
        }
        Flow::Continue
    }

    fn on_typing(&mut self, chat_id: String) {
        if self.sub.is_none() || !ids::valid_chat_id(&chat_id) {
            return;
        }
        if let Some((last, at)) = &self.last_typing
            && *last == chat_id
            && at.elapsed().as_millis() < 1000
        {
            return;
        }
        self.last_typing = Some((chat_id.clone(), Instant::now()));
        let state = self.state.clone();
        let user_id = self.authed.user_id.clone();
        self.inflight.push_back(Box::pin(async move {
            let chat = match state.store.chat(&chat_id).await {
                Ok(Some(chat)) if chat.is_member(&user_id) => chat,
                Ok(_) => {
                    return Done::Other(Err(FrameError {
                        code: "not_a_member",
                        message: "chat not found".into(),
                    }));
                }
                Err(e) => return Done::Other(Err(e.into())),
            };
            let frame = bytes::Bytes::from(render::to_json(&ServerFrame::Typing {
                chat_id: chat.chat_id.clone(),
                user_id: user_id.clone(),
            }));
            for m in chat.members.iter().filter(|m| m.user_id != user_id) {
                state.bus.publish(
                    &m.user_id,
                    Envelope {
                        inbox_seq: None,
                        origin_device: None,
                        frame: frame.clone(),
                        ack: None,
                    },
                );
            }
            Done::Other(Ok(()))
        }));
    }

    /// Sends stream entries after `self.cursor` from the store until none are left.
    async fn catch_up(&mut self) -> Result<(), StoreError> {
        loop {
            let items = self
                .state
                .store
                .inbox(&self.authed.user_id, self.cursor, SYNC_PAGE)
                .await?;
            let n = items.len();
            for item in &items {
                if item.inbox_seq > self.cursor {
                    self.push(render::to_json(&render::inbox_frame(
                        item,
                        &self.authed.user_id,
                        &self.state.directory,
                    )));
                    self.cursor = item.inbox_seq;
                }
            }
            if n < SYNC_PAGE {
                return Ok(());
            }
            // Write each full page as it comes, so a long backlog is not held in memory.
            if self.flush().await.is_err() {
                return Err(StoreError::Closed);
            }
        }
    }

    async fn on_sync(&mut self, after: u64) -> Flow {
        // A cursor beyond the stream would silently skip future entries: refuse it.
        if after > 0 {
            match self
                .state
                .store
                .inbox(&self.authed.user_id, after - 1, 1)
                .await
            {
                Ok(items) if items.first().map(|i| i.inbox_seq) == Some(after) => {}
                Ok(_) => {
                    self.push_error(
                        None,
                        FrameError {
                            code: "invalid_cursor",
                            message: format!("after {after} is beyond this user's stream; sync from 0 or your last inbox_seq"),
                        },
                    );
                    return Flow::Continue;
                }
                Err(e) => {
                    self.push_error(None, e.into());
                    return Flow::Continue;
                }
            }
        }
        self.cursor = after;
        // Catch up before subscribing, so a long backlog cannot overflow the
        // subscription; then subscribe and read once more to close the window.
        if let Err(e) = self.catch_up().await {
            self.push_error(None, e.into());
            return Flow::Continue;
        }
        if self.sub.is_none() {
            let mut sub = self.state.bus.subscribe(&self.authed.user_id);
            sub.ready().await;
            self.sub = Some(sub);
        }
        if let Err(e) = self.catch_up().await {
            self.push_error(None, e.into());
            return Flow::Continue;
        }
        self.push(render::to_json(&ServerFrame::Synced {
            inbox_seq: self.cursor,
        }));
        Flow::Continue
    }

    async fn on_envelope(&mut self, env: Envelope) -> Flow {
        let Some(seq) = env.inbox_seq else {
            self.push_bytes(&env.frame);
            return Flow::Continue;
        };
        if seq <= self.cursor {
            return Flow::Continue;
        }
        if seq > self.cursor + 1 {
            // Entries published out of order (another node) or missed: fill from the
            // store, which already holds them (publishing follows the commit).
            let missing = (seq - self.cursor - 1) as usize;
            match self
                .state
                .store
                .inbox(
                    &self.authed.user_id,
                    self.cursor,
                    missing.min(SYNC_PAGE * 8),
                )
                .await
            {
                Ok(items) => {
                    for item in items.iter().filter(|i| i.inbox_seq < seq) {
                        if item.inbox_seq > self.cursor {
                            self.push(render::to_json(&render::inbox_frame(
                                item,
                                &self.authed.user_id,
                                &self.state.directory,
                            )));
                            self.cursor = item.inbox_seq;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "gap fill failed; closing so the client resyncs");
                    return Flow::Close(1011, "resync from your cursor");
                }
            }
            if self.cursor + 1 != seq {
                return Flow::Close(1011, "resync from your cursor");
            }
        }
        let own = env.origin_device.as_deref() == Some(&*self.device_id);
        match (&env.ack, own) {
            (Some(ack), true) => self.push_bytes(ack),
            _ => self.push_bytes(&env.frame),
        }
        self.cursor = seq;
        Flow::Continue
    }
}
