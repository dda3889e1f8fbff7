//! The churn soak: workers that each, over and over, connect to one of their sessions, ask for
//! code about a file, apply the diff, and leave — so sessions are loaded, changed, stored and
//! released again and again. The server's RSS is printed every report interval; a leak shows as
//! growth that does not level off (compare the figure at 5 minutes with the one at the end).

use super::{open, rss_of, Socket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio_tungstenite::tungstenite::Message;

/// How the soak runs.
pub struct Churn {
    /// Server to drive, `ws://host:port`.
    pub url: String,
    /// An anonymous token owning every session.
    pub token: String,
    /// How long to run.
    pub duration: Duration,
    /// Workers running at once.
    pub workers: usize,
    /// Sessions each worker cycles through.
    pub sessions_per_worker: usize,
    /// How often to print the server's RSS.
    pub report_every: Duration,
    /// The server's process id, for its RSS.
    pub server_pids: Vec<u32>,
}

async fn send(socket: &mut Socket, value: Value) -> Result<(), String> {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .map_err(|e| e.to_string())
}

/// The next text frame as JSON; an `error` frame is a failure.
async fn next_frame(socket: &mut Socket) -> Result<Value, String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .map_err(|_| "no frame for 60 s".to_owned())?
            .ok_or("connection closed")?
            .map_err(|e| e.to_string())?;
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if frame["type"] == "error" {
                return Err(format!("server refused: {frame}"));
            }
            return Ok(frame);
        }
    }
}

/// One visit: connect, chat about the file, apply the diff the reply proposes, leave.
async fn visit(url: &str, token: &str, session: &str, cycle: u64) -> Result<(), String> {
    let mut socket = open(url, token, session).await?;
    send(
        &mut socket,
        json!({"type": "chat", "id": format!("c-{cycle}"), "payload": {
            "message": "write a function",
            "context": {"active_file": {"id": "main", "name": "main.rs", "language": "rust",
                                        "content": format!("// visit {cycle}\nfn main() {{}}\n")}}
        }}),
    )
    .await?;
    let diff_id = loop {
        let frame = next_frame(&mut socket).await?;
        if frame["type"] == "diff" {
            break frame["payload"]["diff_id"].clone();
        }
    };
    let applied = format!("a-{cycle}");
    send(
        &mut socket,
        json!({"type": "diff_applied", "id": applied, "payload": {"diff_id": diff_id}}),
    )
    .await?;
    loop {
        let frame = next_frame(&mut socket).await?;
        if frame["type"] == "ack" && frame["payload"]["id"] == applied.as_str() {
            break;
        }
    }
    socket.close(None).await.map_err(|e| e.to_string())
}

/// Runs the soak and prints the server's RSS as it goes.
pub async fn run(churn: Churn) -> Result<(), String> {
    let visits = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + churn.duration;
    let churn = Arc::new(churn);
    let mut workers = Vec::new();
    for worker in 0..churn.workers {
        let (churn, visits) = (churn.clone(), visits.clone());
        workers.push(tokio::spawn(async move {
            let mut cycle = 0u64;
            while Instant::now() < deadline {
                let session = format!(
                    "churn-{worker}-{}",
                    cycle % churn.sessions_per_worker as u64
                );
                let id = visits.fetch_add(1, Ordering::Relaxed);
                visit(&churn.url, &churn.token, &session, id).await?;
                cycle += 1;
            }
            Ok::<(), String>(())
        }));
    }
    let started = Instant::now();
    println!("elapsed_s\tvisits\tserver_rss_kib");
    while Instant::now() < deadline {
        tokio::time::sleep(churn.report_every.min(deadline - Instant::now())).await;
        let rss = rss_of(&churn.server_pids).unwrap_or(0);
        println!(
            "{:.0}\t{}\t{rss}",
            started.elapsed().as_secs_f64(),
            visits.load(Ordering::Relaxed)
        );
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}
