//! A client that behaves like the widget, for the fault tests (SIGKILL, several nodes): it keeps
//! what is not yet acknowledged, reconnects with its `last_seq` when the socket drops (retrying
//! while the server is down or the session is moving), resends the unacknowledged messages in
//! order, and checks that the history it receives has no gap and that any frame replayed twice
//! is identical. Its rounds edit a file, ask for code, and apply or reject the diff.

use super::{http_request, ws_request, Client};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{collections::HashSet, net::SocketAddr, time::Duration};
use tokio::sync::watch;
use tokio_tungstenite::{connect_async, tungstenite::Message};

/// How long any one expected frame may take, reconnects included.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One session's client.
pub struct Sim {
    pub session: String,
    pub addr: SocketAddr,
    /// Its own subject's token, which survives the restart (the secret is kept beside the
    /// database).
    pub token: String,
    pub socket: Option<Client>,
    /// The history frames received, `history[i]` having `seq` i + 1.
    pub history: Vec<Value>,
    /// Sent and not yet acknowledged, in order: (id, frame).
    pub unacked: Vec<(String, String)>,
    /// Every id this client sent.
    pub sent: Vec<String>,
    pub next_id: u64,
    pub reconnects: u32,
    pub acks: watch::Sender<u64>,
}

impl Sim {
    /// A client of `session` at `addr`, acting with `token`, counting acks into `acks`.
    pub fn new(session: String, addr: SocketAddr, token: String, acks: watch::Sender<u64>) -> Self {
        Self {
            session,
            addr,
            token,
            socket: None,
            history: Vec::new(),
            unacked: Vec::new(),
            sent: Vec::new(),
            next_id: 0,
            reconnects: 0,
            acks,
        }
    }

    /// The newest `seq` it holds.
    pub fn last_seq(&self) -> u64 {
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

    /// Runs `rounds` rounds, then waits until everything sent is acknowledged.
    pub async fn run(mut self, rounds: usize) -> Self {
        for round in 0..rounds {
            self.round(round).await;
        }
        while !self.unacked.is_empty() {
            self.next_frame().await;
        }
        self
    }

    /// Checks this client's books against the server's export (read through `addr`): the same
    /// history, every id sent stored exactly once, `rounds` chats each answered once, no reply
    /// left streaming, no file version caused twice. Returns how many replies were cut off
    /// (stored as failed). `label` names the run in messages.
    pub async fn check_against_export(
        &self,
        addr: SocketAddr,
        rounds: usize,
        label: &str,
    ) -> usize {
        let backend = label;
        let response = http_request(
            addr,
            "GET",
            &format!("/api/axe/sessions/{}/export", self.session),
            &[("Authorization", &format!("Bearer {}", self.token))],
            None,
        )
        .await;
        assert_eq!(response.status, 200, "{}", response.body);
        let export = response.json();
        let session = &self.session;

        // The client ends with exactly the server's history.
        assert_eq!(
            export["events"].as_array().unwrap(),
            &self.history,
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
        let sent: HashSet<&str> = self.sent.iter().map(String::as_str).collect();
        assert_eq!(
            unique, sent,
            "{backend} {session}: stored ids differ from sent ids"
        );
        // One user_message per chat, one reply per chat.
        let chats: Vec<&Value> = self
            .history
            .iter()
            .filter(|f| f["type"] == "user_message")
            .collect();
        assert_eq!(chats.len(), rounds, "{backend} {session}");
        let replies = self
            .history
            .iter()
            .filter(|f| f["type"] == "chat_response")
            .count();
        assert_eq!(replies, rounds, "{backend} {session}");
        let messages = export["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2 * rounds, "{backend} {session}");
        assert!(
            messages.iter().all(|m| m["status"] != "streaming"),
            "{backend} {session}: no reply is left streaming"
        );
        // Each file version has its own cause: no edit or diff was applied twice.
        let causes: Vec<&str> = export["file_versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["cause"].as_str().unwrap())
            .collect();
        let unique_causes: HashSet<&str> = causes.iter().copied().collect();
        assert_eq!(unique_causes.len(), causes.len(), "{backend} {session}");
        messages.iter().filter(|m| m["status"] == "failed").count()
    }
}
