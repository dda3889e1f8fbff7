//! The real server binary killed with SIGKILL while 50 sessions chat, edit and decide diffs,
//! then restarted on the same database: every acknowledged message is still there, nothing is
//! processed twice, and every client ends with exactly the server's history. Run on SQLite and
//! on PostgreSQL.
//!
//! Each session is a client that behaves like the widget: it keeps what is not yet
//! acknowledged, reconnects with its `last_seq` when the socket drops (retrying while the
//! server is down), resends the unacknowledged messages in order, and checks that the history
//! it receives has no gap and that any frame replayed twice is identical.

mod common;

use common::{
    anonymous_token, binary::spawn_listening, db::TestDb, http_request, ws_request, Client,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{
    collections::HashSet,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};
use tokio::sync::watch;
use tokio_tungstenite::{connect_async, tungstenite::Message};

const SESSIONS: usize = 50;
const ROUNDS: usize = 3;
/// Acknowledgements (across all sessions) to wait for before the kill: about a quarter of the
/// SESSIONS * ROUNDS * 3 state changes, so the kill lands while every kind is in flight.
const ACKS_BEFORE_KILL: u64 = 110;
/// How long any one expected frame may take, reconnects included.
const PATIENCE: Duration = Duration::from_secs(30);

/// Starts the server binary on `addr` over `database_url`; returns once it listens.
fn start_server(addr: SocketAddr, database_url: &str) -> Child {
    start_server_pacing(addr, database_url, 10)
}

/// [`start_server`] with the offline responder pausing `delay_ms` between words.
fn start_server_pacing(addr: SocketAddr, database_url: &str, delay_ms: u64) -> Child {
    spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_server"))
            .env("LEPTOS_OUTPUT_NAME", "axe")
            .env("AXE_ADDR", addr.to_string())
            .env("AXE_DATABASE_URL", database_url)
            .env("AXE_OFFLINE_DELAY_MS", delay_ms.to_string())
            // Fifty clients on one address reconnecting at once.
            .env("AXE_RATE_CONNECTS_PER_MIN", "100000")
            // Every session's reply streams at once, as before model slots existed, so the kill
            // cuts many of them.
            .env("AXE_LLM_CONCURRENCY", "64")
            .env("AXE_LOG", "info")
            .env_remove("AXE_LLM_BASE_URL")
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// One session's client.
struct Sim {
    session: String,
    addr: SocketAddr,
    /// Its own subject's token, which survives the restart (the secret is kept beside the
    /// database).
    token: String,
    socket: Option<Client>,
    /// The history frames received, `history[i]` having `seq` i + 1.
    history: Vec<Value>,
    /// Sent and not yet acknowledged, in order: (id, frame).
    unacked: Vec<(String, String)>,
    /// Every id this client sent.
    sent: Vec<String>,
    next_id: u64,
    reconnects: u32,
    acks: watch::Sender<u64>,
}

impl Sim {
    fn last_seq(&self) -> u64 {
        self.history.len() as u64
    }

    /// Connects, retrying while the server is down, then resends what is unacknowledged.
    async fn connect(&mut self) {
        loop {
            let url = format!(
                "ws://{}/api/axe/ws/{}?last_seq={}",
                self.addr,
                self.session,
                self.last_seq()
            );
            if let Ok(Ok((mut socket, _))) =
                tokio::time::timeout(PATIENCE, connect_async(ws_request(&url, &self.token))).await
            {
                let mut resent = true;
                for (_, frame) in &self.unacked {
                    if socket
                        .send(Message::Text(frame.clone().into()))
                        .await
                        .is_err()
                    {
                        resent = false;
                        break;
                    }
                }
                if resent {
                    self.socket = Some(socket);
                    return;
                }
            }
            // The server is down (being restarted): retry as the widget would, a little later.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends a state-changing message with a fresh id, keeping it until acknowledged.
    async fn submit(&mut self, mut frame: Value) -> String {
        self.next_id += 1;
        let id = format!("{}-{}", self.session, self.next_id);
        frame["id"] = Value::String(id.clone());
        let text = frame.to_string();
        self.unacked.push((id.clone(), text.clone()));
        self.sent.push(id.clone());
        if let Some(socket) = &mut self.socket {
            if socket.send(Message::Text(text.into())).await.is_err() {
                self.socket = None;
            }
        }
        id
    }

    /// The next frame, reconnecting as often as needed; keeps the books on acks and history.
    async fn next_frame(&mut self) -> Value {
        loop {
            if self.socket.is_none() {
                self.connect().await;
            }
            let socket = self.socket.as_mut().expect("connected");
            let frame = tokio::time::timeout(PATIENCE, socket.next())
                .await
                .unwrap_or_else(|_| panic!("{}: nothing arrived in time", self.session));
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    self.socket = None;
                    self.reconnects += 1;
                    continue;
                }
                Some(Ok(_)) => continue,
            };
            let value: Value = serde_json::from_str(&text).expect("JSON");
            match value["type"].as_str() {
                Some("ack") => {
                    let id = value["payload"]["id"].as_str().unwrap();
                    self.unacked.retain(|(pending, _)| pending != id);
                    self.acks.send_modify(|n| *n += 1);
                }
                Some("error") => {
                    assert!(
                        value["payload"]["id"].is_null() && value["payload"]["code"] == "internal",
                        "{}: a message was refused: {value}",
                        self.session
                    );
                }
                _ => {}
            }
            if let Some(seq) = value["seq"].as_u64() {
                if seq <= self.last_seq() {
                    assert_eq!(
                        self.history[seq as usize - 1],
                        value,
                        "{}: seq {seq} came twice, differently",
                        self.session
                    );
                    continue;
                }
                assert_eq!(
                    seq,
                    self.last_seq() + 1,
                    "{}: a gap in the history",
                    self.session
                );
                self.history.push(value.clone());
            }
            return value;
        }
    }

    /// Reads frames until `done` holds for the history.
    async fn wait_for(&mut self, done: impl Fn(&[Value]) -> bool) {
        while !done(&self.history) {
            self.next_frame().await;
        }
    }

    /// One round: edit the file, ask for code, then apply or reject the diff it proposes.
    async fn round(&mut self, round: usize) {
        let content = format!("// {} round {round}\nfn main() {{}}\n", self.session);
        self.submit(json!({"type": "file_updated", "payload": {
            "file_id": "f", "content": content, "name": "main.rs", "language": "rust"}}))
            .await;
        let chat_id = self
            .submit(json!({"type": "chat", "payload": {
                "message": "write a function",
                "context": {"active_file": {"id": "f", "name": "main.rs", "language": "rust"}}}}))
            .await;
        // The reply to this chat is the first chat_response after its user_message; a crash
        // mid-reply makes it a failed one (finish_reason `error`), written at restart.
        let reply_at = |history: &[Value]| -> Option<usize> {
            let asked = history
                .iter()
                .position(|f| f["type"] == "user_message" && f["payload"]["id"] == chat_id)?;
            history[asked..]
                .iter()
                .position(|f| f["type"] == "chat_response")
                .map(|i| asked + i)
        };
        self.wait_for(|h| reply_at(h).is_some()).await;
        let at = reply_at(&self.history).expect("a reply");
        let diffs = self.history[at]["payload"]["metadata"]["diff_count"]
            .as_u64()
            .unwrap() as usize;
        self.wait_for(|h| h.len() > at + diffs).await;
        for index in at + 1..=at + diffs {
            let diff = self.history[index].clone();
            assert_eq!(diff["type"], "diff", "{}", self.session);
            let diff_id = diff["payload"]["diff_id"].clone();
            let kind = if round.is_multiple_of(2) {
                "diff_applied"
            } else {
                "diff_rejected"
            };
            self.submit(json!({"type": kind, "payload": {"diff_id": diff_id}}))
                .await;
            self.wait_for(|h| {
                h.iter()
                    .any(|f| f["type"] == "diff_resolved" && f["payload"]["diff_id"] == diff_id)
            })
            .await;
        }
    }

    /// Runs every round, then waits until everything sent is acknowledged.
    async fn run(mut self) -> Self {
        for round in 0..ROUNDS {
            self.round(round).await;
        }
        while !self.unacked.is_empty() {
            self.next_frame().await;
        }
        self
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_fifty_busy_sessions_loses_and_doubles_nothing() {
    for db in TestDb::all().await {
        let backend = db.backend();
        let addr = free_addr();
        let mut server = start_server(addr, &db.url);
        let (acks, mut acked) = watch::channel(0u64);
        let mut tokens = Vec::new();
        for _ in 0..SESSIONS {
            tokens.push(anonymous_token(addr).await);
        }
        let clients: Vec<_> = tokens
            .into_iter()
            .enumerate()
            .map(|(n, token)| {
                let sim = Sim {
                    session: format!("crash-{n}"),
                    addr,
                    token,
                    socket: None,
                    history: Vec::new(),
                    unacked: Vec::new(),
                    sent: Vec::new(),
                    next_id: 0,
                    reconnects: 0,
                    acks: acks.clone(),
                };
                tokio::spawn(sim.run())
            })
            .collect();

        acked
            .wait_for(|n| *n >= ACKS_BEFORE_KILL)
            .await
            .expect("acks arrive");
        server.kill().expect("SIGKILL");
        server.wait().expect("reaped");
        let acked_before_kill = *acked.borrow();
        let mut server = start_server(addr, &db.url);

        let mut sims = Vec::new();
        for client in clients {
            sims.push(client.await.expect("client finished"));
        }

        let mut failed_replies = 0;
        let mut reconnects = 0;
        for sim in &sims {
            let response = http_request(
                addr,
                "GET",
                &format!("/api/axe/sessions/{}/export", sim.session),
                &[("Authorization", &format!("Bearer {}", sim.token))],
                None,
            )
            .await;
            assert_eq!(response.status, 200, "{}", response.body);
            let export = response.json();
            let session = &sim.session;

            // The client ends with exactly the server's history.
            assert_eq!(
                export["events"].as_array().unwrap(),
                &sim.history,
                "{backend} {session}: client and server histories differ"
            );
            // Everything sent was acknowledged, so it is stored, each exactly once.
            let processed: Vec<&str> = export["processed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap())
                .collect();
            let unique: HashSet<&str> = processed.iter().copied().collect();
            assert_eq!(unique.len(), processed.len(), "{backend} {session}");
            let sent: HashSet<&str> = sim.sent.iter().map(String::as_str).collect();
            assert_eq!(
                unique, sent,
                "{backend} {session}: stored ids differ from sent ids"
            );
            // One user_message per chat, one reply per chat.
            let chats: Vec<&Value> = sim
                .history
                .iter()
                .filter(|f| f["type"] == "user_message")
                .collect();
            assert_eq!(chats.len(), ROUNDS, "{backend} {session}");
            let replies = sim
                .history
                .iter()
                .filter(|f| f["type"] == "chat_response")
                .count();
            assert_eq!(replies, ROUNDS, "{backend} {session}");
            let messages = export["messages"].as_array().unwrap();
            assert_eq!(messages.len(), 2 * ROUNDS, "{backend} {session}");
            assert!(
                messages.iter().all(|m| m["status"] != "streaming"),
                "{backend} {session}: no reply is left streaming"
            );
            failed_replies += messages.iter().filter(|m| m["status"] == "failed").count();
            // Each file version has its own cause: no edit or diff was applied twice.
            let causes: Vec<&str> = export["file_versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["cause"].as_str().unwrap())
                .collect();
            let unique_causes: HashSet<&str> = causes.iter().copied().collect();
            assert_eq!(unique_causes.len(), causes.len(), "{backend} {session}");
            reconnects += sim.reconnects;
        }
        let total_acks = *acked.borrow();
        // The kill cut through the work: clients were mid-way and had to reconnect.
        assert!(reconnects > 0, "{backend}: no client noticed the kill");
        assert!(total_acks > acked_before_kill, "{backend}");
        eprintln!(
            "{backend}: killed after {acked_before_kill} acks; {total_acks} acks in all; \
             {reconnects} reconnects; {failed_replies} replies cut off by the kill"
        );
        server.kill().ok();
        server.wait().ok();
    }
}

#[tokio::test]
async fn a_reply_cut_by_sigkill_keeps_all_but_its_last_second() {
    for db in TestDb::all().await {
        let backend = db.backend();
        let addr = free_addr();
        // 60 ms a word: the offline reply takes several seconds.
        let mut server = start_server_pacing(addr, &db.url, 60);
        let token = anonymous_token(addr).await;
        let url = format!("ws://{addr}/api/axe/ws/cut");
        let (mut socket, _) = connect_async(ws_request(&url, &token)).await.unwrap();
        let chat =
            json!({"type": "chat", "id": "c-1", "payload": {"message": "tell me about Rust"}});
        socket
            .send(Message::Text(chat.to_string().into()))
            .await
            .unwrap();
        // (when, text so far) for every piece received.
        let mut received: Vec<(std::time::Instant, String)> = Vec::new();
        let mut text = String::new();
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(2_500) {
            let Some(Ok(Message::Text(frame))) = socket.next().await else {
                panic!("{backend}: the stream ended early");
            };
            let frame: Value = serde_json::from_str(&frame).unwrap();
            if frame["type"] == "chat_delta" {
                text.push_str(frame["payload"]["delta"].as_str().unwrap());
                received.push((std::time::Instant::now(), text.clone()));
            }
            assert_ne!(
                frame["type"], "chat_response",
                "{backend}: the reply ended before the kill"
            );
        }
        server.kill().expect("SIGKILL");
        let killed = std::time::Instant::now();
        server.wait().expect("reaped");
        drop(socket);
        let mut server = start_server(addr, &db.url);
        let response = http_request(
            addr,
            "GET",
            "/api/axe/sessions/cut/export",
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )
        .await;
        let export = response.json();
        let reply = &export["messages"][1];
        assert_eq!(reply["status"], "failed", "{backend}: {export}");
        let kept = reply["content"].as_str().unwrap();
        // Everything received more than a second (and a little slack) before the kill is kept.
        let second_before = killed - Duration::from_millis(1_300);
        let owed = received
            .iter()
            .rev()
            .find(|(at, _)| *at <= second_before)
            .map_or("", |(_, text)| text.as_str());
        assert!(!owed.is_empty(), "{backend}: the test streamed too little");
        assert!(
            kept.len() >= owed.len() && text.starts_with(kept),
            "{backend}: kept {} bytes, {} were streamed a second before the kill",
            kept.len(),
            owed.len()
        );
        eprintln!(
            "{backend}: streamed {} bytes before the kill, {} kept",
            text.len(),
            kept.len()
        );
        server.kill().ok();
        server.wait().ok();
    }
}
