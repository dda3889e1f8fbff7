//! Test harness: the real router on `127.0.0.1:0` and a real WebSocket client (tokio-tungstenite).

#![allow(dead_code)] // each test file uses a different part of the harness

pub mod binary;
pub mod db;
pub mod replay;
pub mod sim;

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
    tungstenite::{client::IntoClientRequest, http::HeaderValue, protocol::CloseFrame, Message},
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
    /// An anonymous token from `POST /api/axe/sessions`: the subject every `connect` and
    /// `export` of this server acts as, unless a test says otherwise.
    pub token: String,
    /// The running server's sessions, to look inside (only they: a whole `AppState` would
    /// hold a connection's place and keep shutdown waiting).
    pub sessions: server::session::SessionStore,
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
        // Every test connects from 127.0.0.1, usually as one subject, many times a minute;
        // the tests of these limits set them back.
        config.limits.connects_per_min = 1_000_000;
        config.limits.max_sessions_per_subject = 1_000_000;
        tweak(&mut config);
        let anonymous = config.auth.mode == server::auth::AuthMode::Anonymous;
        let options = LeptosOptions::builder().output_name("axe").build();
        let (stop, stopped) = oneshot::channel::<()>();
        let (state_tx, state_rx) = oneshot::channel();
        let task = tokio::spawn(server::serve_watched(
            listener,
            config,
            options,
            async move {
                let _ = stopped.await;
            },
            move |state| {
                let _ = state_tx.send(state.sessions.clone());
            },
        ));
        let sessions = state_rx.await.expect("the server starts");
        // In jwt mode the host mints tokens: the tests sign their own.
        let token = match (&db.token, anonymous) {
            (Some(token), _) => token.clone(),
            (None, true) => anonymous_token(addr).await,
            (None, false) => String::new(),
        };
        Self {
            addr,
            stop: Some(stop),
            task,
            db: Some(db),
            token,
            sessions,
        }
    }

    /// The WebSocket URL of `session`.
    pub fn ws_url(&self, session: &str) -> String {
        format!("ws://{}/api/axe/ws/{session}", self.addr)
    }

    /// Opens a connection for `session` saying it has the history up to `last_seq`.
    pub async fn connect_after(&self, session: &str, last_seq: u64) -> Client {
        let url = format!("{}?last_seq={last_seq}", self.ws_url(session));
        connect_with_token(&url, &self.token).await
    }

    /// Everything the server stored about `session` (its export endpoint).
    pub async fn export(&self, session: &str) -> Value {
        let response = self
            .request(
                "GET",
                &format!("/api/axe/sessions/{session}/export"),
                &[("Authorization", &format!("Bearer {}", self.token))],
                None,
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        serde_json::from_str(&response.body).expect("export is JSON")
    }

    /// Opens a connection for `session`.
    pub async fn connect(&self, session: &str) -> Client {
        connect_with_token(&self.ws_url(session), &self.token).await
    }

    /// Sends an HTTP/1.1 request with `headers` and `body`.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> HttpResponse {
        http_request(self.addr, method, path, headers, body).await
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
        let mut db = self.db.take().expect("the database");
        db.token = Some(self.token.clone());
        db
    }

    /// Sends a plain HTTP/1.1 GET and returns the status code and body.
    pub async fn http_get(&self, path: &str) -> (u16, String) {
        http_get(self.addr, path).await
    }
}

/// Sends a plain HTTP/1.1 GET to `addr` and returns the status code and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = http_request(addr, "GET", path, &[], None).await;
    (response.status, response.body)
}

/// An HTTP response, read whole.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (chunked bodies are joined).
    pub body: String,
}

impl HttpResponse {
    /// The value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends an HTTP/1.1 request to `addr` and reads the whole response.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> HttpResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(EVENT_TIMEOUT, stream.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .expect("read");
    let response = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        unchunk(rest)
    } else {
        rest.to_owned()
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// Joins a chunked body.
fn unchunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// A fresh anonymous session and token from `POST /api/axe/sessions` on `addr`.
pub async fn anonymous_grant(addr: SocketAddr) -> Value {
    let response = http_request(addr, "POST", "/api/axe/sessions", &[], None).await;
    assert_eq!(response.status, 201, "{}", response.body);
    response.json()
}

/// A fresh anonymous subject's token from `addr`.
pub async fn anonymous_token(addr: SocketAddr) -> String {
    anonymous_grant(addr).await["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// Opens the WebSocket `url` with `token` as a bearer header.
pub async fn connect_with_token(url: &str, token: &str) -> Client {
    let request = ws_request(url, token);
    let (client, _) = tokio::time::timeout(EVENT_TIMEOUT, connect_async(request))
        .await
        .expect("connect in time")
        .expect("handshake");
    client
}

/// The upgrade request for `url` carrying `token` as `Authorization: Bearer`.
pub fn ws_request(
    url: &str,
    token: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("a ws URL");
    request.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("a header value"),
    );
    request
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
/// features need not see: `ack`s, the echoed `user_message`, a reply's place in the line for a
/// model slot (`chat_queued`), the `snapshot` a fresh connection starts with, and the `seq` of
/// history frames.
/// The persistence tests read everything with [`recv_raw`].
pub async fn recv(client: &mut Client) -> Value {
    loop {
        let mut value = recv_raw(client).await;
        if matches!(
            value["type"].as_str(),
            Some("ack" | "user_message" | "chat_queued" | "snapshot")
        ) {
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
