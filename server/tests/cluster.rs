//! Several real server processes over one Redis and one PostgreSQL (cluster mode): a session
//! moves between nodes with the old socket closed 4001 within a second, and 60 widget-like
//! clients behind HAProxy lose and double nothing while one node is killed with SIGKILL,
//! another drained with SIGTERM, and Redis restarted empty.
//!
//! The README's test command starts Redis (`scripts/test-redis.sh`), HAProxy in front of the
//! ports 17101–17103 (`scripts/test-haproxy.sh`) and PostgreSQL once per run, and says where
//! with `AXE_TEST_REDIS_URL`, `AXE_TEST_LB` and `AXE_TEST_POSTGRES_URL`; without them these
//! tests are skipped (failed instead under `AXE_REQUIRE_CLUSTER=1`, as the command sets).

mod common;

use common::{
    anonymous_token, binary::spawn_logged_to, connect_with_token, db::TestDb, http_request,
    recv_raw, send, sim::Sim,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tokio::sync::{watch, Mutex};
use tokio_tungstenite::tungstenite::Message;

/// The two tests share Redis and restart it: one at a time.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// Where the run's shared services are.
struct Services {
    redis_url: String,
    /// HAProxy's address, then the three node addresses it balances.
    balancer: SocketAddr,
    node_addrs: Vec<SocketAddr>,
    db: TestDb,
}

async fn services() -> Option<Services> {
    let (Ok(redis_url), Ok(lb)) = (
        std::env::var("AXE_TEST_REDIS_URL"),
        std::env::var("AXE_TEST_LB"),
    ) else {
        assert!(
            std::env::var("AXE_REQUIRE_CLUSTER").is_err(),
            "AXE_REQUIRE_CLUSTER is set but AXE_TEST_REDIS_URL or AXE_TEST_LB is not"
        );
        eprintln!("skipped: AXE_TEST_REDIS_URL and AXE_TEST_LB are not set");
        return None;
    };
    let db = TestDb::postgres().await?;
    let mut addrs = lb
        .split_whitespace()
        .map(|a| a.parse().expect("AXE_TEST_LB: addresses"));
    let balancer = addrs.next().expect("the balancer's address");
    Some(Services {
        redis_url,
        balancer,
        node_addrs: addrs.collect(),
        db,
    })
}

/// A name no earlier run used (Redis outlives test processes within a run).
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A node process, killed when dropped. Its log goes to `axe-cluster-NODE.log` in the
/// temporary folder as it runs.
struct Node {
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts node `node` on `addr`; returns once it listens.
fn start_node(services: &Services, addr: SocketAddr, node: &str, delay_ms: u64) -> Node {
    let log = std::env::temp_dir().join(format!("axe-cluster-{node}.log"));
    let (child, _) = spawn_logged_to(
        Command::new(env!("CARGO_BIN_EXE_server"))
            .env("LEPTOS_OUTPUT_NAME", "axe")
            .env("AXE_ADDR", addr.to_string())
            .env("AXE_DATABASE_URL", &services.db.url)
            .env("AXE_REDIS_URL", &services.redis_url)
            .env("AXE_NODE_ID", node)
            .env("AXE_DRAIN_SECS", "2")
            .env("AXE_OFFLINE_DELAY_MS", delay_ms.to_string())
            // Sixty clients on one address reconnecting at once.
            .env("AXE_RATE_CONNECTS_PER_MIN", "100000")
            .env("AXE_LLM_CONCURRENCY", "64")
            .env("AXE_LOG", "info,server=debug")
            .env("NO_COLOR", "1")
            .env_remove("AXE_LLM_BASE_URL")
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
        Some(log),
    );
    Node { child }
}

/// Stops `child` with SIGTERM and waits for it to exit.
fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "SIGTERM sent");
    child.wait().expect("the node exits");
}

/// Waits until `target` acknowledgements have arrived in all.
async fn wait_for_acks(acked: &mut watch::Receiver<u64>, target: u64) {
    let arrived = tokio::time::timeout(Duration::from_secs(90), acked.wait_for(|n| *n >= target))
        .await
        .map(|result| result.is_ok());
    assert!(
        arrived.unwrap_or(false),
        "stuck at {} acks, waiting for {target}",
        *acked.borrow()
    );
}

/// Runs `scripts/test-redis.sh what` on the shared Redis: `restart` (empty: every lease and
/// heartbeat gone) or `down`.
fn redis(what: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/test-redis.sh");
    let status = Command::new(script)
        .arg(what)
        .stdout(Stdio::null())
        .status()
        .expect("the script runs");
    assert!(status.success(), "test-redis.sh {what}");
}

/// What `/readyz` of `addr` says.
async fn readiness(addr: SocketAddr) -> String {
    http_request(addr, "GET", "/readyz", &[], None).await.body
}

/// Sends a chat with id `id` and reads until its reply has ended.
async fn chat_and_wait(client: &mut common::Client, id: &str) {
    send(
        client,
        json!({"type": "chat", "id": id, "payload": {"message": "hello"}}),
    )
    .await;
    let mut acked = false;
    loop {
        let frame = recv_raw(client).await;
        acked |= frame["type"] == "ack" && frame["payload"]["id"] == id;
        if acked && frame["type"] == "chat_response" {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_moves_between_nodes_within_a_second_and_its_reply_is_kept() {
    let _serial = SERIAL.lock().await;
    let Some(services) = services().await else {
        return;
    };
    let (a, b) = (free_addr(), free_addr());
    // 60 ms a word: the reply is still streaming when the session moves.
    let node_a = start_node(&services, a, &unique("node-a"), 60);
    let node_b = start_node(&services, b, &unique("node-b"), 60);
    let token = anonymous_token(a).await;
    let session = unique("moving");
    let url = |addr: SocketAddr| format!("ws://{addr}/api/axe/ws/{session}");

    let mut on_a = connect_with_token(&url(a), &token).await;
    send(
        &mut on_a,
        json!({"type": "chat", "id": "c-1", "payload": {"message": "tell me about Rust"}}),
    )
    .await;
    let mut streamed = String::new();
    while streamed.len() < 20 {
        let frame = recv_raw(&mut on_a).await;
        if frame["type"] == "chat_delta" {
            streamed.push_str(frame["payload"]["delta"].as_str().unwrap());
        }
    }

    // The person opens the session on node B: A's socket must close with 4001 within a second.
    let asked = Instant::now();
    let (b_url, b_token) = (url(b), token.clone());
    let opening = tokio::spawn(async move { connect_with_token(&b_url, &b_token).await });
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), on_a.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("node A's socket ended without a close frame: {other:?}"),
        }
    };
    let closed_after = asked.elapsed();
    assert_eq!(close.map(|f| u16::from(f.code)), Some(4001), "taken over");
    assert!(
        closed_after < Duration::from_secs(1),
        "A closed its socket {closed_after:?} after B was asked"
    );
    let mut on_b = opening.await.expect("B opened");
    eprintln!("node A closed the socket {closed_after:?} after the client went to node B");

    // The reply A was streaming is stored as stopped, with what it had; B goes on from there.
    send(
        &mut on_b,
        json!({"type": "chat", "id": "c-2", "payload": {"message": "and now?"}}),
    )
    .await;
    loop {
        let frame = recv_raw(&mut on_b).await;
        if frame["type"] == "chat_response"
            && frame["payload"]["metadata"]["finish_reason"] == "stop"
        {
            break;
        }
    }
    let export = http_request(
        b,
        "GET",
        &format!("/api/axe/sessions/{session}/export"),
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    )
    .await
    .json();
    let messages = export["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "{export}");
    assert_eq!(messages[1]["status"], "stopped", "{export}");
    let kept = messages[1]["content"].as_str().unwrap();
    assert!(
        kept.starts_with(&streamed) || streamed.starts_with(kept),
        "{export}"
    );
    assert!(!kept.is_empty(), "the text A had is kept: {export}");
    assert_eq!(messages[3]["status"], "complete", "{export}");
    let seqs: Vec<u64> = export["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    let processed: Vec<&Value> = export["processed"].as_array().unwrap().iter().collect();
    assert_eq!(processed, [&json!("c-1"), &json!("c-2")]);

    drop((node_a, node_b));
}

/// Clients behind the balancer.
const SESSIONS: usize = 60;
/// Rounds per client; each makes three acknowledged changes (an edit, a chat, a decision).
const ROUNDS: usize = 5;
/// The offline responder's pause between words: a reply streams for about a second, so the
/// faults land mid-reply.
const WORD_MS: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_clients_lose_and_double_nothing_through_a_kill_a_drain_and_a_redis_restart() {
    let _serial = SERIAL.lock().await;
    let Some(services) = services().await else {
        return;
    };
    let names: Vec<String> = (1..=3).map(|n| unique(&format!("node{n}"))).collect();
    let mut nodes: Vec<Node> = services
        .node_addrs
        .iter()
        .zip(&names)
        .map(|(addr, name)| start_node(&services, *addr, name, WORD_MS))
        .collect();
    let lb = services.balancer;
    // The balancer sees every node up (two good checks, 500 ms apart), so the clients spread.
    wait_until_up(lb, 3).await;

    let (acks, mut acked) = watch::channel(0u64);
    let prefix = unique("busy");
    let mut tokens = Vec::new();
    for _ in 0..SESSIONS {
        tokens.push(anonymous_token(lb).await);
    }
    let clients: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(n, token)| {
            let sim = Sim::new(format!("{prefix}-{n}"), lb, token, acks.clone());
            tokio::spawn(sim.run(ROUNDS))
        })
        .collect();
    // Every change is acknowledged at least once: the faults land at a sixth, about half and
    // about three quarters of the way.
    let total = (SESSIONS * ROUNDS * 3) as u64;

    wait_for_acks(&mut acked, total / 6).await;
    nodes[0].child.kill().expect("SIGKILL node 1");
    nodes[0].child.wait().expect("reaped");
    let killed_at = *acked.borrow();
    eprintln!("node 1 killed after {killed_at} acks");

    wait_for_acks(&mut acked, total / 2).await;
    let draining = Instant::now();
    terminate(&mut nodes[1].child);
    eprintln!(
        "node 2 drained and stopped in {:?}, at {} acks",
        draining.elapsed(),
        *acked.borrow()
    );
    nodes[0] = start_node(&services, services.node_addrs[0], &names[0], WORD_MS);

    wait_for_acks(&mut acked, total * 3 / 4).await;
    redis("restart");
    eprintln!("redis restarted at {} acks", *acked.borrow());
    nodes[1] = start_node(&services, services.node_addrs[1], &names[1], WORD_MS);

    let mut sims = Vec::new();
    for client in clients {
        let finished = tokio::time::timeout(Duration::from_secs(120), client).await;
        sims.push(
            finished
                .expect("the client finished in time")
                .expect("client finished"),
        );
    }
    let mut failed_replies = 0;
    let mut reconnects = 0;
    for sim in &sims {
        failed_replies += sim.check_against_export(lb, ROUNDS, "cluster").await;
        reconnects += sim.reconnects;
    }
    assert!(reconnects > 0, "no client noticed the kill or the drain");
    eprintln!(
        "{} acks in all; {reconnects} reconnects; {failed_replies} replies cut off",
        *acked.borrow()
    );
    drop(nodes);
}

/// Waits until the balancer sees `count` nodes up (its status page, at the balancer's port
/// + 99 as `scripts/test-haproxy.sh` sets it up).
async fn wait_until_up(lb: SocketAddr, count: usize) {
    let stats = SocketAddr::new(lb.ip(), lb.port() + 99);
    let started = Instant::now();
    loop {
        let table = http_request(stats, "GET", "/stats;csv", &[], None)
            .await
            .body;
        // Both backends (sockets by session, everything else) list every node.
        let up = |backend: &str| {
            table
                .lines()
                .filter(|line| {
                    line.starts_with(&format!("{backend},node-"))
                        && line.split(',').nth(17) == Some("UP")
                })
                .count()
        };
        let up = up("nodes").min(up("sockets"));
        if up >= count {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the balancer sees {up} nodes up, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_away_held_sessions_go_on_new_ones_wait_and_readyz_says_degraded() {
    let _serial = SERIAL.lock().await;
    let Some(services) = services().await else {
        return;
    };
    let addr = free_addr();
    let node = start_node(&services, addr, &unique("lonely"), 1);
    let token = anonymous_token(addr).await;
    let held = unique("held");
    let mut client = connect_with_token(&format!("ws://{addr}/api/axe/ws/{held}"), &token).await;
    chat_and_wait(&mut client, "c-1").await;
    assert_eq!(readiness(addr).await, "ready");

    redis("down");
    // The node notices at its next heartbeat (every second).
    let started = Instant::now();
    while !readiness(addr).await.starts_with("degraded") {
        assert!(started.elapsed() < Duration::from_secs(5), "never degraded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The session it holds is still served: the database's fence is all a commit needs.
    chat_and_wait(&mut client, "c-2").await;
    // A session it does not hold waits for Redis...
    let waiting = unique("waiting");
    let url = format!("ws://{addr}/api/axe/ws/{waiting}");
    let (url_copy, token_copy) = (url.clone(), token.clone());
    let opening = tokio::spawn(async move { connect_with_token(&url_copy, &token_copy).await });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        !opening.is_finished(),
        "a new session opened without a lease"
    );
    // ...and opens once Redis is back (empty, as after a restart without persistence).
    redis("restart");
    let mut newcomer = tokio::time::timeout(Duration::from_secs(10), opening)
        .await
        .expect("the waiting session opened once Redis was back")
        .expect("connected");
    chat_and_wait(&mut newcomer, "n-1").await;
    chat_and_wait(&mut client, "c-3").await;
    let started = Instant::now();
    while readiness(addr).await != "ready" {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never ready again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(node);
}
