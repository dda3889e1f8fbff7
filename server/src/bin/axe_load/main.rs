//! `axe-load`: the server's load benchmarks, run as their own process against a running server.
//! By default it opens N sessions, measures the server's resident memory per idle session, then
//! the ping round-trip time at that load, and prints the numbers. With `--churn-secs` it runs
//! the churn soak instead ([`churn`]).
//!
//! Usage: `axe-load --url ws://127.0.0.1:3000 --sessions 10000 --server-pid PID[,PID…]
//! [--pings 2000]` (several PIDs: the nodes of a cluster, their memory summed)
//! or `axe-load --url … --server-pid PID --churn-secs 3600 [--workers 8]
//! [--sessions-per-worker 50] [--report-secs 60]`

mod churn;

use futures_util::{SinkExt, StreamExt};
use std::{
    collections::HashMap,
    process::ExitCode,
    time::{Duration, Instant},
};
use tokio_tungstenite::{
    connect_async_with_config,
    tungstenite::{
        client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig, Message,
    },
    MaybeTlsStream, WebSocketStream,
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How many handshakes are in flight at once while opening sessions.
const CONNECT_CONCURRENCY: usize = 256;

struct Args {
    url: String,
    sessions: usize,
    /// The server processes whose memory is measured (one, or every node of a cluster).
    server_pids: Vec<u32>,
    pings: usize,
    churn_secs: Option<usize>,
    workers: usize,
    sessions_per_worker: usize,
    report_secs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut flags: HashMap<String, String> = HashMap::new();
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let value = raw.next().ok_or(format!("{flag} needs a value"))?;
        flags.insert(flag, value);
    }
    let number = |name: &str, default: usize| -> Result<usize, String> {
        flags
            .get(name)
            .map(|v| v.parse().map_err(|_| format!("{name} must be a number")))
            .unwrap_or(Ok(default))
    };
    Ok(Args {
        url: flags
            .get("--url")
            .cloned()
            .unwrap_or_else(|| "ws://127.0.0.1:3000".into()),
        sessions: number("--sessions", 10_000)?,
        server_pids: flags
            .get("--server-pid")
            .map(|v| {
                v.split(',')
                    .map(|pid| {
                        pid.trim()
                            .parse()
                            .map_err(|_| "--server-pid must be PID[,PID...]".to_string())
                    })
                    .collect::<Result<Vec<u32>, String>>()
            })
            .transpose()?
            .unwrap_or_default(),
        pings: number("--pings", 2_000)?,
        churn_secs: flags
            .contains_key("--churn-secs")
            .then(|| number("--churn-secs", 0))
            .transpose()?,
        workers: number("--workers", 8)?.max(1),
        sessions_per_worker: number("--sessions-per-worker", 50)?.max(1),
        report_secs: number("--report-secs", 60)?.max(1),
    })
}

/// The summed resident set size of `pids` in KiB; `None` without any, or when one is gone.
fn rss_of(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|pid| rss_kib(*pid)).sum()
}

/// The resident set size of process `pid`, in KiB, from `/proc`.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// An anonymous token from the server's sessions API (the WebSocket URL's host, over HTTP).
async fn token(url: &str) -> Result<String, String> {
    let http = url
        .replacen("ws://", "http://", 1)
        .replacen("wss://", "https://", 1);
    let grant: serde_json::Value = reqwest::Client::new()
        .post(format!("{http}/api/axe/sessions"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("cannot get a token: {e}"))?
        .json()
        .await
        .map_err(|e| format!("cannot read the token: {e}"))?;
    grant["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the sessions API gave no token".into())
}

async fn open(url: &str, token: &str, session: &str) -> Result<Socket, String> {
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 4096;
    config.write_buffer_size = 0;
    let mut request = format!("{url}/api/axe/ws/{session}")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
    request.headers_mut().insert("Authorization", bearer);
    let (socket, _) = connect_async_with_config(request, Some(config), false)
        .await
        .map_err(|e| format!("session {session}: {e}"))?;
    Ok(socket)
}

/// Sends one ping and waits for its pong; returns the round trip in microseconds.
async fn ping(socket: &mut Socket, ts: usize) -> Result<u128, String> {
    let started = Instant::now();
    let frame = format!(r#"{{"type":"ping","payload":{{"ts":{ts}}}}}"#);
    socket
        .send(Message::Text(frame.into()))
        .await
        .map_err(|e| e.to_string())?;
    while let Some(message) = socket.next().await {
        if let Message::Text(text) = message.map_err(|e| e.to_string())? {
            if text.contains("\"pong\"") {
                return Ok(started.elapsed().as_micros());
            }
        }
    }
    Err("connection closed before pong".into())
}

fn percentile(sorted: &[u128], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn run(args: Args) -> Result<(), String> {
    // One subject owns every session (the bench raises AXE_MAX_SESSIONS_PER_SUBJECT).
    let token = token(&args.url).await?;
    if let Some(secs) = args.churn_secs {
        return churn::run(churn::Churn {
            url: args.url,
            token,
            duration: Duration::from_secs(secs as u64),
            workers: args.workers,
            sessions_per_worker: args.sessions_per_worker,
            report_every: Duration::from_secs(args.report_secs as u64),
            server_pids: args.server_pids.clone(),
        })
        .await;
    }
    let before = rss_of(&args.server_pids);
    let started = Instant::now();
    let mut sockets = Vec::with_capacity(args.sessions);
    let mut pending = futures_util::stream::iter(0..args.sessions)
        .map(|i| {
            let (url, token) = (&args.url, &token);
            async move { open(url, token, &format!("load-{i}")).await }
        })
        .buffered(CONNECT_CONCURRENCY);
    while let Some(socket) = pending.next().await {
        sockets.push(socket?);
    }
    drop(pending);
    // One exchange on every session, so each server-side connection is fully set up.
    for (i, socket) in sockets.iter_mut().enumerate() {
        ping(socket, i).await?;
    }
    println!(
        "opened {} sessions and pinged each once in {:.1} s",
        sockets.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(before) = before {
        let after = rss_of(&args.server_pids).ok_or("cannot read the server's RSS")?;
        let per_session = (after.saturating_sub(before) as f64 * 1024.0) / args.sessions as f64;
        println!("server RSS: {before} KiB before, {after} KiB with the sessions open");
        println!(
            "server RSS per idle session: {:.0} bytes ({:.2} KiB)",
            per_session,
            per_session / 1024.0
        );
    }
    let mut samples = Vec::with_capacity(args.pings);
    for i in 0..args.pings {
        let index = (i * 7919) % sockets.len();
        samples.push(ping(&mut sockets[index], i).await?);
    }
    samples.sort_unstable();
    println!(
        "ping round trip over {} pings with {} sessions open: p50 {} us, p99 {} us, max {} us",
        samples.len(),
        sockets.len(),
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
        samples.last().copied().unwrap_or(0)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("axe-load: {error}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("axe-load: {error}");
            ExitCode::FAILURE
        }
    }
}
