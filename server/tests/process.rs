//! The real server binary as a process: clear start-up errors, and SIGTERM closing sockets with
//! 1001 before a clean exit.

mod common;

use common::{
    anonymous_grant, anonymous_token,
    binary::{spawn_listening, spawn_logged},
    connect_with_token, expect_close, http_request, ping, send, Client,
};
use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
};

fn server_command() -> Command {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    // A database of its own for each server: the tests run at once.
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let db = std::env::temp_dir().join(format!("axe-process-{}-{n}", std::process::id()));
    // cargo-leptos bakes this in at build time; a plain `cargo test` build does not.
    command
        .env("LEPTOS_OUTPUT_NAME", "axe")
        .env(
            "AXE_DATABASE_URL",
            format!("sqlite:{}/axe.db", db.display()),
        )
        .env_remove("AXE_ADDR")
        .env_remove("AXE_IDLE_TIMEOUT_SECS")
        .env("AXE_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs the server expecting it to fail at once; returns its exit code and stderr.
fn run_to_failure(command: &mut Command) -> (Option<i32>, String) {
    let output = command.output().expect("server runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_port_in_use_is_a_one_line_error_and_a_failing_exit() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (code, stderr) = run_to_failure(server_command().env("AXE_ADDR", addr.to_string()));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_invalid_setting_names_the_variable() {
    let (code, stderr) = run_to_failure(server_command().env("AXE_IDLE_TIMEOUT_SECS", "ninety"));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("AXE_IDLE_TIMEOUT_SECS=\"ninety\""),
        "{stderr}"
    );
}

/// A free loopback address to start the binary on.
fn free_addr() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Starts the binary on a free port and waits for its "listening" log line.
fn start_server() -> (Child, String) {
    let addr = free_addr();
    let child = spawn_listening(server_command().env("AXE_ADDR", &addr));
    (child, addr)
}

async fn connect(addr: &str, session: &str) -> Client {
    let token = anonymous_token(addr.parse().unwrap()).await;
    connect_with_token(&format!("ws://{addr}/api/axe/ws/{session}"), &token).await
}

#[tokio::test]
async fn sigterm_closes_every_socket_with_1001_and_exits_cleanly() {
    let (mut child, addr) = start_server();
    let mut clients = Vec::new();
    for i in 0..3 {
        let mut client = connect(&addr, &format!("term-{i}")).await;
        ping(&mut client, i).await;
        clients.push(client);
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for client in &mut clients {
        assert_eq!(expect_close(client).await.0, 1001);
    }
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn tokens_never_reach_the_log_even_at_trace_level() {
    let addr = free_addr();
    let (mut child, log) = spawn_logged(
        server_command()
            .env("AXE_ADDR", &addr)
            .env("AXE_LOG", "trace"),
    );
    let socket_addr = addr.parse().unwrap();
    let grant = anonymous_grant(socket_addr).await;
    let token = grant["token"].as_str().unwrap().to_owned();
    let session = grant["session_id"].as_str().unwrap().to_owned();
    let mut client = connect_with_token(&format!("ws://{addr}/api/axe/ws/{session}"), &token).await;
    send(
        &mut client,
        serde_json::json!({"type": "chat", "payload": {"message": "hello"}}),
    )
    .await;
    ping(&mut client, 1).await;
    let bearer = format!("Bearer {token}");
    let refreshed = http_request(
        socket_addr,
        "POST",
        &format!("/api/axe/sessions/{session}/token"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    let fresh = refreshed.json()["token"].as_str().unwrap().to_owned();
    let forged = format!("{token}x");
    let refused = http_request(
        socket_addr,
        "GET",
        &format!("/api/axe/sessions/{session}/export"),
        &[("Authorization", &format!("Bearer {forged}"))],
        None,
    )
    .await;
    assert_eq!(refused.status, 401);
    drop(client);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let lines = log.lock().unwrap().clone();
    assert!(
        lines.len() > 10,
        "trace logging wrote {} lines",
        lines.len()
    );
    // The signature part of each JWT is what makes it a credential.
    for secret in [&token, &fresh, &forged] {
        let signature = secret.rsplit('.').next().unwrap();
        assert!(
            lines.iter().all(|line| !line.contains(signature)),
            "a token reached the log"
        );
    }
}
