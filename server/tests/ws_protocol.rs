//! The session WebSocket against a real client: ping, errors, diffs, take-over, limits, shutdown.

mod common;

use common::*;
use futures_util::SinkExt;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message};

#[tokio::test]
async fn ping_is_answered_with_a_pong_echoing_ts() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("ping-session").await;
    ping(&mut client, 1_764_150_000_000).await;
    send_text(&mut client, r#"{"type":"ping"}"#).await;
    assert_eq!(
        recv(&mut client).await,
        json!({"type": "pong", "payload": {}})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn every_error_code_is_sent_and_the_connection_stays_open() {
    let server = TestServer::start(|config| config.max_file_bytes = 1024).await;
    let mut client = server.connect("errors").await;

    send_text(&mut client, "{not json").await;
    expect_error(&mut client, "invalid_json").await;
    send_text(&mut client, r#"{"type":"launch_rockets","payload":{}}"#).await;
    expect_error(&mut client, "unknown_type").await;
    send_text(&mut client, r#"{"type":"chat","payload":{"text":"hi"}}"#).await;
    expect_error(&mut client, "invalid_payload").await;
    client
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    expect_error(&mut client, "unsupported_frame").await;
    send(
        &mut client,
        json!({"type": "chat", "payload": {"message": "x".repeat(2048)}}),
    )
    .await;
    expect_error(&mut client, "message_too_large").await;
    send(
        &mut client,
        json!({"type": "diff_applied", "payload": {"diff_id": "d-404"}}),
    )
    .await;
    expect_error(&mut client, "unknown_diff").await;
    send(
        &mut client,
        json!({"type": "file_updated", "payload": {"file_id": "nameless", "content": "x"}}),
    )
    .await;
    expect_error(&mut client, "unknown_file").await;

    // After all that, the connection still works.
    ping(&mut client, 7).await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_invalid_session_id_is_refused_before_the_upgrade() {
    let server = TestServer::start(|_| {}).await;
    for bad in ["has%20space", &"x".repeat(65), "semi;colon"] {
        let error = tokio_tungstenite::connect_async(server.ws_url(bad))
            .await
            .expect_err("refused");
        match error {
            tungstenite::Error::Http(response) => assert_eq!(response.status(), 400),
            other => panic!("expected HTTP 400, got {other}"),
        }
    }
    let (status, body) = server.http_get("/api/axe/ws/bad%20id").await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid session id"), "{body}");
    server.shutdown().await;
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let server = TestServer::start(|_| {}).await;
    assert_eq!(server.http_get("/healthz").await, (200, "ok".into()));
    assert_eq!(server.http_get("/readyz").await, (200, "ready".into()));
    server.shutdown().await;
}

#[tokio::test]
async fn a_rejected_diff_leaves_the_file_and_an_applied_one_changes_it() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("diffs").await;
    let original = "fn main() {\n    println!(\"hi\");\n}\n";
    upload_file(&mut client, "f-main", original).await;

    let (reply, diff) = ask_for_code(&mut client, "f-main").await;
    assert_eq!(reply["payload"]["metadata"]["model"], "offline-demo");
    assert_eq!(diff["payload"]["original"], original);
    let first_id = diff["payload"]["diff_id"].as_str().unwrap().to_owned();
    send(
        &mut client,
        json!({"type": "diff_rejected", "payload": {"diff_id": first_id}}),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!({"type": "diff_resolved", "payload": {"diff_id": first_id, "outcome": "rejected"}})
    );

    // The rejection left the server's copy as it was: the next diff starts from the original.
    let (_, diff) = ask_for_code(&mut client, "f-main").await;
    assert_eq!(diff["payload"]["original"], original);
    let modified = diff["payload"]["modified"].as_str().unwrap().to_owned();
    let hunks = diff["payload"]["hunks"].as_array().unwrap();
    assert!(!hunks.is_empty());
    assert!(hunks[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|line| line["kind"] == "add"));
    let second_id = diff["payload"]["diff_id"].as_str().unwrap().to_owned();
    assert_ne!(first_id, second_id);

    send(
        &mut client,
        json!({"type": "diff_applied", "payload": {"diff_id": second_id}}),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!({"type": "file_update", "payload": {"file_id": "f-main", "content": modified, "version": 2}})
    );
    assert_eq!(
        recv(&mut client).await,
        json!({"type": "diff_resolved", "payload": {"diff_id": second_id, "outcome": "applied"}})
    );

    // The server kept the applied content: a new diff starts from it.
    let (_, diff) = ask_for_code(&mut client, "f-main").await;
    assert_eq!(diff["payload"]["original"], modified.as_str());
    server.shutdown().await;
}

#[tokio::test]
async fn a_diff_made_before_an_edit_is_refused_as_stale() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("stale").await;
    upload_file(&mut client, "f", "a\n").await;
    let (_, diff) = ask_for_code(&mut client, "f").await;
    upload_file(&mut client, "f", "edited by hand\n").await;
    let diff_id = diff["payload"]["diff_id"].clone();
    send(
        &mut client,
        json!({"type": "diff_applied", "payload": {"diff_id": diff_id}}),
    )
    .await;
    expect_error(&mut client, "stale_diff").await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_second_connection_takes_the_session_over() {
    let server = TestServer::start(|_| {}).await;
    let mut first = server.connect("shared").await;
    upload_file(&mut first, "f", "kept\n").await;
    ping(&mut first, 1).await;

    let mut second = server.connect("shared").await;
    assert_eq!(
        expect_close(&mut first).await,
        (4001, "session_taken_over".into())
    );
    // The newer connection works and sees the session's state: a snapshot, then the file, as
    // a client with no history (no `last_seq`) gets them.
    let snapshot = recv_raw(&mut second).await;
    assert_eq!(snapshot["type"], "snapshot");
    let file = recv_raw(&mut second).await;
    assert_eq!(file["type"], "file_update", "{file}");
    assert_eq!(file["payload"]["content"], "kept\n");
    ping(&mut second, 2).await;
    let (_, diff) = ask_for_code(&mut second, "f").await;
    assert_eq!(diff["payload"]["original"], "kept\n");
    server.shutdown().await;
}

#[tokio::test]
async fn an_oversized_message_closes_only_its_connection_with_1009() {
    let server = TestServer::start(|config| config.max_message_bytes = 64 * 1024).await;
    let mut bystander = server.connect("bystander").await;
    let mut offender = server.connect("offender").await;
    let huge = format!(
        r#"{{"type":"chat","payload":{{"message":"{}"}}}}"#,
        "x".repeat(100 * 1024)
    );
    send_text(&mut offender, &huge).await;
    assert_eq!(expect_close(&mut offender).await.0, 1009);
    ping(&mut bystander, 3).await;
    // The offender may come back and carry on.
    let mut again = server.connect("offender").await;
    ping(&mut again, 4).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_limit() {
    let server = TestServer::start(|config| config.idle_timeout = Duration::from_secs(1)).await;
    let mut client = server.connect("quiet").await;
    assert_eq!(
        expect_close(&mut client).await,
        (4003, "idle_timeout".into())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_others_carry_on() {
    let server = TestServer::start(|config| {
        config.outbound_queue = 4;
        config.max_message_bytes = 4 * 1024 * 1024;
        // Replies come as fast as they can: the offline responder's reply repeats the file
        // word by word and ends in a diff carrying it twice, megabytes for this file.
        config.offline_delay = Duration::ZERO;
        // This test is about a client that does not read, not about the rate limits.
        config.limits.frames_per_sec = 100_000;
        config.limits.chats_per_min = 100_000;
    })
    .await;
    let mut bystander = server.connect("reader").await;
    let mut slow = server.connect("not-reading").await;
    // Each diff carries the file twice; 300 KiB files fill the socket buffers quickly.
    let content = "let x = 1;\n".repeat(300 * 1024 / 11);
    upload_file(&mut slow, "big", &content).await;
    // Keep asking without reading until the server gives up on us (a send then fails). Chats
    // sent while a reply streams are refused as busy; each one that is taken ends in a diff.
    // The deadline only bounds a failing run.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sent = 0;
    while Instant::now() < deadline {
        let ask = json!({"type": "chat", "id": format!("c-{sent}"), "payload": {
            "message": "write a function",
            "context": {"active_file": {"id": "big", "name": "main.rs", "language": "rust"}}
        }});
        if slow
            .send(Message::Text(ask.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
        sent += 1;
        // Pace the writes with a round trip on another session, which must keep working.
        ping(&mut bystander, sent).await;
    }
    assert!(sent > 0);
    // Reading now drains the backlog and ends in a close or a dropped socket, never hangs.
    let mut ended = false;
    while !ended {
        match next(&mut slow).await {
            Received::Json(_) => continue,
            Received::Closed(frame) => {
                if let Some((code, _)) = frame {
                    assert_eq!(code, 4002);
                }
                ended = true;
            }
        }
    }
    ping(&mut bystander, 5).await;
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001() {
    let server = TestServer::start(|_| {}).await;
    let mut clients = Vec::new();
    for i in 0..5 {
        let mut client = server.connect(&format!("closing-{i}")).await;
        ping(&mut client, i).await;
        clients.push(client);
    }
    let stopping = tokio::spawn(server.shutdown());
    for client in &mut clients {
        assert_eq!(
            expect_close(client).await,
            (1001, "server_shutting_down".into())
        );
    }
    stopping.await.unwrap();
}
