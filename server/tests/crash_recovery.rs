//! The real server binary killed with SIGKILL while 50 sessions chat, edit and decide diffs,
//! then restarted on the same database: every acknowledged message is still there, nothing is
//! processed twice, and every client ends with exactly the server's history. Run on SQLite and
//! on PostgreSQL.
//!
//! Each session is a client that behaves like the widget ([`common::sim::Sim`]).

mod common;

use common::{
    anonymous_token, binary::spawn_listening, db::TestDb, http_request, sim::Sim, ws_request,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{
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
                let sim = Sim::new(format!("crash-{n}"), addr, token, acks.clone());
                tokio::spawn(sim.run(ROUNDS))
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
            failed_replies += sim.check_against_export(addr, ROUNDS, backend).await;
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
