//! Chat over the WebSocket with the offline responder: streamed replies, Stop, one reply at a
//! time, and per-hunk application of the diff a reply proposes.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

fn chat(message: &str) -> serde_json::Value {
    json!({"type": "chat", "payload": {"message": message}})
}

#[tokio::test]
async fn a_reply_streams_in_pieces_then_arrives_whole() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("stream").await;
    send(&mut client, chat("hello there")).await;
    let first = recv(&mut client).await;
    assert_eq!(first["type"], "chat_delta");
    let mut pieces = 1;
    let mut text = first["payload"]["delta"].as_str().unwrap().to_owned();
    let response = loop {
        let message = recv(&mut client).await;
        if message["type"] == "chat_response" {
            break message;
        }
        assert_eq!(
            message["payload"]["message_id"],
            first["payload"]["message_id"]
        );
        text.push_str(message["payload"]["delta"].as_str().unwrap());
        pieces += 1;
    };
    assert!(pieces > 10, "the reply came in {pieces} pieces");
    assert_eq!(response["payload"]["message"], text.as_str());
    let metadata = &response["payload"]["metadata"];
    assert_eq!(metadata["finish_reason"], "stop");
    assert_eq!(metadata["model"], "offline-demo");
    assert_eq!(metadata["message_id"], first["payload"]["message_id"]);
    server.shutdown().await;
}

#[tokio::test]
async fn stop_ends_the_reply_early_keeping_the_partial_text() {
    let server = TestServer::start(|config| config.offline_delay = Duration::from_millis(20)).await;
    let mut client = server.connect("stopper").await;
    upload_file(&mut client, "f", "fn main() {}\n").await;
    let ask = json!({"type": "chat", "payload": {
        "message": "write a function",
        "context": {"active_file": {"id": "f", "name": "main.rs", "language": "rust"}}
    }});

    // The whole reply, for comparison.
    send(&mut client, ask.clone()).await;
    let full = recv_reply(&mut client).await["payload"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    let diff = recv(&mut client).await;
    assert_eq!(diff["type"], "diff");
    send(
        &mut client,
        json!({"type": "diff_rejected", "payload": {"diff_id": diff["payload"]["diff_id"]}}),
    )
    .await;
    assert_eq!(recv(&mut client).await["type"], "diff_resolved");

    send(&mut client, ask).await;
    let first = recv(&mut client).await;
    assert_eq!(first["type"], "chat_delta");
    send(&mut client, json!({"type": "stop", "payload": {}})).await;
    let stopped = recv_reply_after(&mut client, first).await;
    let partial = stopped["payload"]["message"].as_str().unwrap();
    assert_eq!(stopped["payload"]["metadata"]["finish_reason"], "stopped");
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{partial:?}"
    );
    assert!(full.starts_with(partial));
    // A stopped reply proposes nothing, and nothing more arrives for it.
    assert_eq!(stopped["payload"]["metadata"]["diff_count"], 0);
    ping(&mut client, 9).await;
    send(&mut client, json!({"type": "stop", "payload": {}})).await;
    expect_error(&mut client, "nothing_to_stop").await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_second_chat_while_one_streams_is_refused_as_busy() {
    let server = TestServer::start(|config| config.offline_delay = Duration::from_millis(20)).await;
    let mut client = server.connect("busy").await;
    send(&mut client, chat("hello")).await;
    let first = recv(&mut client).await;
    assert_eq!(first["type"], "chat_delta");
    send(&mut client, chat("hello again")).await;
    // The refusal arrives among the remaining deltas of the first reply, which goes on whole.
    let mut text = first["payload"]["delta"].as_str().unwrap().to_owned();
    let mut refused = false;
    let done = loop {
        let message = recv(&mut client).await;
        match message["type"].as_str() {
            Some("error") => {
                assert_eq!(message["payload"]["code"], "busy");
                refused = true;
            }
            Some("chat_delta") => text.push_str(message["payload"]["delta"].as_str().unwrap()),
            Some("chat_response") => break message,
            _ => panic!("unexpected {message}"),
        }
    };
    assert!(refused);
    assert_eq!(done["payload"]["message"], text.as_str());
    assert_eq!(done["payload"]["metadata"]["finish_reason"], "stop");
    server.shutdown().await;
}

#[tokio::test]
async fn accepting_one_of_two_hunks_applies_exactly_that_one() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("hunks").await;
    let original: String = (1..=12).map(|n| format!("// line {n}\n")).collect();
    upload_file(&mut client, "f", &original).await;
    let (_, diff) = ask_for_code(&mut client, "f").await;
    let hunks = diff["payload"]["hunks"].as_array().unwrap();
    assert_eq!(
        hunks.len(),
        2,
        "a note at the top and a function at the end"
    );
    let diff_id = diff["payload"]["diff_id"].clone();
    send(
        &mut client,
        json!({"type": "diff_applied", "payload": {"diff_id": diff_id, "hunks": [1]}}),
    )
    .await;
    let update = recv(&mut client).await;
    let content = update["payload"]["content"].as_str().unwrap();
    assert!(content.starts_with(&original), "the note was not taken");
    assert!(content.contains("pub fn add"), "the function was taken");
    assert_eq!(recv(&mut client).await["type"], "diff_resolved");
    server.shutdown().await;
}
