//! Test harness: the real router on `127.0.0.1:0` and a real WebSocket client (tokio-tungstenite).

#![allow(dead_code)] // each test file uses a different part of the harness

pub mod binary;
pub mod db;
pub mod replay;

use futures_util::{SinkExt, StreamExt};
use leptos::config::LeptosOptions;
use serde_json::{json, Value};
use server::config::Config;
use std::{
    net::SocketAddr,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{protocol::CloseFrame, Message},
    MaybeTlsStream, WebSocketStream,
};

/// How long any single expected event may take before the test fails.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client socket.
pub type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A running server and the means to stop it.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<server::error::Result<()>>,
    /// The database, removed when the server is dropped unless a test took it.
    pub db: Option<db::TestDb>,
}

impl TestServer {
    /// Starts the real app on a fresh SQLite file, with default settings changed by `tweak`.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(db::TestDb::sqlite(), tweak).await
    }

    /// Starts the real app on `db`, with default settings changed by `tweak`.
    pub async fn start_on(db: db::TestDb, tweak: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let mut config = Config::with_addr(addr);
        // Replies stream as fast as they can unless a test wants time to press Stop.
        config.offline_delay = Duration::ZERO;
        config.database_url = db.url.clone();
        tweak(&mut config);
        let options = LeptosOptions::builder().output_name("axe").build();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, config, options, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
            db: Some(db),
        }
    }

    /// The WebSocket URL of `session`.
    pub fn ws_url(&self, session: &str) -> String {
        format!("ws://{}/api/axe/ws/{session}", self.addr)
    }

    /// Opens a connection for `session` saying it has the history up to `last_seq`.
    pub async fn connect_after(&self, session: &str, last_seq: u64) -> Client {
        let url = format!("{}?last_seq={last_seq}", self.ws_url(session));
        let (client, _) = tokio::time::timeout(EVENT_TIMEOUT, connect_async(url))
            .await
            .expect("connect in time")
            .expect("handshake");
        client
    }

    /// Everything the server stored about `session` (its export endpoint).
    pub async fn export(&self, session: &str) -> Value {
        let (status, body) = self
            .http_get(&format!("/api/axe/sessions/{session}/export"))
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("export is JSON")
    }

    /// Opens a connection for `session`.
    pub async fn connect(&self, session: &str) -> Client {
        let (client, _) = tokio::time::timeout(EVENT_TIMEOUT, connect_async(self.ws_url(session)))
            .await
            .expect("connect in time")
            .expect("handshake");
        client
    }

    /// Signals shutdown (as SIGTERM would), waits for `serve` to return, and hands back the
    /// database so a test can start another server on it.
    pub async fn shutdown(mut self) -> db::TestDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(EVENT_TIMEOUT, &mut self.task)
            .await
            .expect("server stops in time")
            .expect("server task")
            .expect("server result");
        self.db.take().expect("the database")
    }

    /// Sends a plain HTTP/1.1 GET and returns the status code and body.
    pub async fn http_get(&self, path: &str) -> (u16, String) {
        http_get(self.addr, path).await
    }
}

/// Sends a plain HTTP/1.1 GET to `addr` and returns the status code and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    tokio::time::timeout(EVENT_TIMEOUT, stream.read_to_string(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The message types that change state and so need a frame id.
const NEEDS_ID: [&str; 4] = ["chat", "diff_applied", "diff_rejected", "file_updated"];

/// A frame id no other message of this test process uses.
pub fn fresh_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("t-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Sends one JSON value as a text frame, giving a state-changing message a fresh `id` when it
/// has none (tests that care about ids set their own).
pub async fn send(client: &mut Client, mut value: Value) {
    let needs_id = value["type"]
        .as_str()
        .is_some_and(|kind| NEEDS_ID.contains(&kind));
    if needs_id && value.get("id").is_none() {
        value["id"] = Value::String(fresh_id());
    }
    client
        .send(Message::Text(value.to_string().into()))
        .await
        .expect("send");
}

/// Sends raw text as a text frame.
pub async fn send_text(client: &mut Client, text: &str) {
    client
        .send(Message::Text(text.to_owned().into()))
        .await
        .expect("send");
}

/// What the next frame from the server was.
#[derive(Debug)]
pub enum Received {
    /// A JSON message.
    Json(Value),
    /// A close frame (code, reason), or `None` for a close without a frame or a dropped socket.
    Closed(Option<(u16, String)>),
}

/// Waits for the next message or close, skipping WebSocket-level pings.
pub async fn next(client: &mut Client) -> Received {
    loop {
        let frame = tokio::time::timeout(EVENT_TIMEOUT, client.next())
            .await
            .expect("a frame in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Received::Json(serde_json::from_str(&text).expect("server sends JSON"))
            }
            Some(Ok(Message::Close(frame))) => {
                return Received::Closed(
                    frame.map(|CloseFrame { code, reason }| (u16::from(code), reason.to_string())),
                )
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Received::Closed(None),
        }
    }
}

/// Waits for the next JSON message, whatever it is; fails the test on a close.
pub async fn recv_raw(client: &mut Client) -> Value {
    match next(client).await {
        Received::Json(value) => value,
        Received::Closed(frame) => panic!("expected a message, the socket closed: {frame:?}"),
    }
}

/// Waits for the next reply to what the test did, skipping the bookkeeping the tests of other
/// features need not see: `ack`s, the echoed `user_message`, and the `seq` of history frames.
/// The persistence tests read everything with [`recv_raw`].
pub async fn recv(client: &mut Client) -> Value {
    loop {
        let mut value = recv_raw(client).await;
        if matches!(value["type"].as_str(), Some("ack" | "user_message")) {
            continue;
        }
        if let Some(object) = value.as_object_mut() {
            object.remove("seq");
        }
        return value;
    }
}

/// Waits for a close frame and returns its code and reason; fails on a message.
pub async fn expect_close(client: &mut Client) -> (u16, String) {
    loop {
        match next(client).await {
            Received::Closed(Some(frame)) => return frame,
            Received::Closed(None) => panic!("socket ended without a close frame"),
            Received::Json(_) => continue,
        }
    }
}

/// Sends `value` with frame id `id` and waits for its `ack`, skipping anything else.
pub async fn send_acked(client: &mut Client, id: &str, mut value: Value) {
    value["id"] = Value::String(id.to_owned());
    send(client, value).await;
    loop {
        let message = recv_raw(client).await;
        if message["type"] == "ack" {
            assert_eq!(message["payload"]["id"], id, "{message}");
            return;
        }
        assert_ne!(message["type"], "error", "{message}");
    }
}

/// Waits for the next message and checks it is an `error` with `code`.
pub async fn expect_error(client: &mut Client, code: &str) -> Value {
    let message = recv(client).await;
    assert_eq!(
        message["type"], "error",
        "expected error {code}, got {message}"
    );
    assert_eq!(message["payload"]["code"], code, "{message}");
    message
}

/// A ping round trip: sends `ts` and checks the pong echoes it.
pub async fn ping(client: &mut Client, ts: u64) {
    send(client, json!({"type": "ping", "payload": {"ts": ts}})).await;
    let pong = recv(client).await;
    assert_eq!(pong, json!({"type": "pong", "payload": {"ts": ts}}));
}

/// Tells the server about a file.
pub async fn upload_file(client: &mut Client, file_id: &str, content: &str) {
    send(
        client,
        json!({"type": "file_updated", "payload": {
            "file_id": file_id, "content": content, "name": "main.rs", "language": "rust"
        }}),
    )
    .await;
}

/// Reads a streamed reply: its `chat_delta` messages, then the `chat_response`. Checks the
/// deltas all name the reply and add up to its text; returns the `chat_response`.
pub async fn recv_reply(client: &mut Client) -> Value {
    let mut streamed = String::new();
    let mut message_id: Option<String> = None;
    loop {
        let message = recv(client).await;
        match message["type"].as_str() {
            Some("chat_delta") => {
                let id = message["payload"]["message_id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                if let Some(known) = &message_id {
                    assert_eq!(known, &id, "deltas of one reply share its id");
                }
                message_id = Some(id);
                streamed.push_str(message["payload"]["delta"].as_str().unwrap());
            }
            Some("chat_response") => {
                if let Some(id) = message_id {
                    assert_eq!(message["payload"]["metadata"]["message_id"], id.as_str());
                    assert_eq!(message["payload"]["message"], streamed.as_str());
                }
                return message;
            }
            _ => panic!("expected chat_delta or chat_response, got {message}"),
        }
    }
}

/// Reads the rest of a reply whose first `chat_delta` was `first`: checks the deltas add up to
/// the final text and returns the `chat_response`. Other messages in between fail the test.
pub async fn recv_reply_after(client: &mut Client, first: Value) -> Value {
    assert_eq!(first["type"], "chat_delta", "{first}");
    let mut text = first["payload"]["delta"].as_str().unwrap().to_owned();
    loop {
        let message = recv(client).await;
        match message["type"].as_str() {
            Some("chat_delta") => text.push_str(message["payload"]["delta"].as_str().unwrap()),
            Some("chat_response") => {
                assert_eq!(message["payload"]["message"], text.as_str());
                return message;
            }
            _ => panic!("unexpected {message}"),
        }
    }
}

/// Asks for code about `file_id`; returns the `chat_response` and the `diff`.
pub async fn ask_for_code(client: &mut Client, file_id: &str) -> (Value, Value) {
    send(
        client,
        json!({"type": "chat", "payload": {
            "message": "write a function",
            "context": {"active_file": {"id": file_id, "name": "main.rs", "language": "rust"}}
        }}),
    )
    .await;
    let reply = recv_reply(client).await;
    assert_eq!(reply["type"], "chat_response", "{reply}");
    let diff = recv(client).await;
    assert_eq!(diff["type"], "diff", "{diff}");
    (reply, diff)
}
