//! Nothing lost, nothing doubled: acknowledgements, de-duplication by id, numbered history and
//! its replay after a reconnect or a restart, each on SQLite and on PostgreSQL.

mod common;

use common::{db::TestDb, *};
use serde_json::{json, Value};
use std::time::Duration;

/// Reads frames until the `pong` for `ts`, returning everything before it. The server answers
/// a ping only after whatever it queued earlier, so this collects exactly what was pending.
async fn drain_until_pong(client: &mut Client, ts: u64) -> Vec<Value> {
    send(client, json!({"type": "ping", "payload": {"ts": ts}})).await;
    let mut before = Vec::new();
    loop {
        let message = recv_raw(client).await;
        if message["type"] == "pong" && message["payload"]["ts"] == ts {
            return before;
        }
        before.push(message);
    }
}

/// The history frames (those with a `seq`) among `frames`.
fn history(frames: &[Value]) -> Vec<Value> {
    frames
        .iter()
        .filter(|f| f.get("seq").is_some())
        .cloned()
        .collect()
}

fn chat(id: &str, file_id: &str, content: &str) -> Value {
    json!({"type": "chat", "id": id, "payload": {
        "message": "write a function",
        "context": {"active_file": {"id": file_id, "name": "main.rs", "language": "rust",
                                    "content": content}}
    }})
}

/// Reads until the reply's `chat_response` and the diffs it announces; returns every frame.
async fn read_reply(client: &mut Client) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let message = recv_raw(client).await;
        assert_ne!(message["type"], "error", "{message}");
        frames.push(message.clone());
        if message["type"] == "chat_response" {
            let diffs = message["payload"]["metadata"]["diff_count"]
                .as_u64()
                .unwrap();
            for _ in 0..diffs {
                frames.push(recv_raw(client).await);
            }
            return frames;
        }
    }
}

#[tokio::test]
async fn acknowledged_messages_are_stored_once_and_replayed_after_a_restart() {
    for db in TestDb::all().await {
        let backend = db.backend();
        let server = TestServer::start_on(db, |_| {}).await;
        let mut client = server.connect("keep").await;
        // A client with nothing starts from a snapshot: of a new session, empty.
        let empty = recv_raw(&mut client).await;
        assert_eq!(empty["type"], "snapshot", "{backend}");
        assert_eq!(empty["payload"]["seq"], 0, "{backend}");
        assert_eq!(empty["payload"]["messages"], json!([]), "{backend}");

        // A state change is acknowledged; the same id again is acknowledged and not redone.
        let edit = json!({"type": "file_updated", "payload": {
            "file_id": "f", "content": "fn main() {}\n", "name": "main.rs", "language": "rust"}});
        send_acked(&mut client, "e-1", edit.clone()).await;
        send_acked(&mut client, "e-1", edit).await;

        send(&mut client, chat("c-1", "f", "fn main() {}\n")).await;
        let mut seen = read_reply(&mut client).await;
        assert_eq!(
            seen[0],
            json!({"type": "ack", "payload": {"id": "c-1", "version": 1}}),
            "{backend}"
        );
        assert_eq!(seen[1]["type"], "user_message", "{backend}");
        let diff = seen.last().unwrap().clone();
        assert_eq!(diff["type"], "diff", "{backend}: {diff}");
        let apply = json!({"type": "diff_applied", "id": "a-1",
                           "payload": {"diff_id": diff["payload"]["diff_id"]}});
        send(&mut client, apply.clone()).await;
        seen.extend(drain_until_pong(&mut client, 1).await);
        // The same chat and decision again: acknowledged only.
        send(&mut client, chat("c-1", "f", "fn main() {}\n")).await;
        send(&mut client, apply).await;
        assert_eq!(
            drain_until_pong(&mut client, 2).await,
            vec![
                json!({"type": "ack", "payload": {"id": "c-1"}}),
                json!({"type": "ack", "payload": {"id": "a-1"}})
            ],
            "{backend}: a repeated id is acknowledged, not processed"
        );

        let live = history(&seen);
        let seqs: Vec<u64> = live.iter().map(|f| f["seq"].as_u64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=live.len() as u64).collect::<Vec<_>>(),
            "{backend}"
        );
        let kinds: Vec<&str> = live.iter().map(|f| f["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "user_message",
                "chat_response",
                "diff",
                "file_update",
                "diff_resolved"
            ],
            "{backend}"
        );
        drop(client);

        // Restart on the same database: a client that has seq 1 gets the rest of the history,
        // identical.
        let db = server.shutdown().await;
        let server = TestServer::start_on(db, |_| {}).await;
        let mut returning = server.connect_after("keep", 1).await;
        let replayed = drain_until_pong(&mut returning, 3).await;
        assert_eq!(
            replayed,
            live[1..].to_vec(),
            "{backend}: replay after a restart"
        );
        drop(returning);
        // A client with nothing gets the session as it stands, not its history.
        let mut fresh = server.connect("keep").await;
        let frames = drain_until_pong(&mut fresh, 4).await;
        assert_eq!(frames[0]["type"], "snapshot", "{backend}");
        let snapshot = &frames[0]["payload"];
        assert_eq!(snapshot["seq"], live.len(), "{backend}");
        // Then each file on its own, without seq; no diff (it was decided).
        let applied = diff["payload"]["modified"].clone();
        assert_eq!(
            frames[1..],
            [
                json!({"type": "file_update", "payload": {"file_id": "f", "content": applied, "version": 2}})
            ],
            "{backend}"
        );
        let roles: Vec<&str> = snapshot["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant"], "{backend}");
        assert_eq!(snapshot["messages"][0]["id"], "c-1", "{backend}");
        assert_eq!(snapshot["has_earlier"], false, "{backend}");
        drop(fresh);

        // A client that has seq 3 gets exactly 4 and 5, and no file snapshot.
        let mut behind = server.connect_after("keep", 3).await;
        assert_eq!(
            drain_until_pong(&mut behind, 4).await,
            live[3..].to_vec(),
            "{backend}"
        );

        let export = server.export("keep").await;
        assert_eq!(export["events"], Value::Array(live.clone()), "{backend}");
        assert_eq!(export["next_after_seq"], Value::Null, "{backend}");
        // The history frames page: two after seq 1, and where the next page starts.
        let paged = server
            .request(
                "GET",
                "/api/axe/sessions/keep/export?after_seq=1&limit=2",
                &[("Authorization", &format!("Bearer {}", server.token))],
                None,
            )
            .await
            .json();
        assert_eq!(
            paged["events"],
            Value::Array(live[1..3].to_vec()),
            "{backend}"
        );
        assert_eq!(paged["next_after_seq"], 3, "{backend}");
        assert_eq!(
            paged["messages"], export["messages"],
            "{backend}: other sections whole"
        );
        assert_eq!(
            export["processed"].as_array().unwrap().len(),
            3,
            "{backend}: {export}"
        );
        let versions = export["file_versions"].as_array().unwrap();
        assert_eq!(
            versions.len(),
            2,
            "{backend}: the edit, then the applied diff"
        );
        assert_eq!(versions[0]["cause"], "e-1");
        assert_eq!(versions[1]["cause"], diff["payload"]["diff_id"]);
        let messages = export["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2, "{backend}: {export}");
        assert_eq!(messages[0]["role"], "user");
        assert_eq!(messages[0]["message_id"], "c-1");
        assert_eq!(messages[1]["status"], "complete");
        assert_eq!(export["diffs"][0]["status"], "applied");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_client_that_drops_mid_stream_gets_exactly_what_it_missed() {
    for db in TestDb::all().await {
        let backend = db.backend();
        let server =
            TestServer::start_on(db, |c| c.offline_delay = Duration::from_millis(20)).await;
        let mut client = server.connect("drop").await;
        assert_eq!(recv_raw(&mut client).await["type"], "snapshot");
        send(
            &mut client,
            json!({"type": "chat", "id": "c-1", "payload": {"message": "tell me about Rust"}}),
        )
        .await;
        assert_eq!(recv_raw(&mut client).await["type"], "ack");
        let user_message = recv_raw(&mut client).await;
        assert_eq!(user_message["seq"], 1, "{backend}: {user_message}");
        let mut text = String::new();
        for _ in 0..3 {
            let delta = recv_raw(&mut client).await;
            assert_eq!(delta["type"], "chat_delta", "{backend}: {delta}");
            assert_eq!(delta["payload"]["offset"], text.len(), "{backend}");
            text.push_str(delta["payload"]["delta"].as_str().unwrap());
        }
        drop(client);

        let mut again = server.connect_after("drop", 1).await;
        // Whatever arrives applies by offset: cut to `offset`, append `delta`.
        let mut frames = Vec::new();
        let response = loop {
            let message = recv_raw(&mut again).await;
            frames.push(message.clone());
            match message["type"].as_str() {
                Some("chat_delta") => {
                    let offset = message["payload"]["offset"].as_u64().unwrap() as usize;
                    assert!(offset <= text.len(), "{backend}: a gap at {offset}");
                    text.truncate(offset);
                    text.push_str(message["payload"]["delta"].as_str().unwrap());
                }
                Some("chat_response") => break message,
                _ => panic!("{backend}: unexpected {message}"),
            }
        };
        assert_eq!(
            response["seq"], 2,
            "{backend}: nothing before seq 2 is replayed"
        );
        assert_eq!(response["payload"]["metadata"]["finish_reason"], "stop");
        let full = response["payload"]["message"].as_str().unwrap();
        // The reply (dozens of words at 20 ms each) was still streaming at the reconnect, so
        // it continued: first a catch-up with all the text so far, then the rest.
        assert!(
            frames.len() > 1,
            "{backend}: the reply did not continue: {frames:?}"
        );
        assert_eq!(frames[0]["type"], "chat_delta", "{backend}: {}", frames[0]);
        assert_eq!(
            frames[0]["payload"]["offset"], 0,
            "{backend}: {}",
            frames[0]
        );
        assert_eq!(
            text, full,
            "{backend}: the streamed text adds up to the reply"
        );
        assert!(
            drain_until_pong(&mut again, 1).await.is_empty(),
            "{backend}"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn state_changes_without_an_id_are_refused_and_bad_last_seq_is_400() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("strict").await;
    send_text(&mut client, r#"{"type":"chat","payload":{"message":"hi"}}"#).await;
    let error = expect_error(&mut client, "invalid_payload").await;
    assert!(
        error["payload"]["message"].as_str().unwrap().contains("id"),
        "{error}"
    );
    // A refusal names the message it refuses, so the client stops resending it.
    send_text(
        &mut client,
        r#"{"type":"diff_rejected","id":"r-1","payload":{"diff_id":"d-404"}}"#,
    )
    .await;
    let refusal = expect_error(&mut client, "unknown_diff").await;
    assert_eq!(refusal["payload"]["id"], "r-1");
    let (status, _) = server
        .http_get("/api/axe/ws/strict?last_seq=minus-one")
        .await;
    assert_eq!(status, 400);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_a_streaming_reply_and_stores_it_as_interrupted() {
    for db in TestDb::all().await {
        let backend = db.backend();
        // Slow enough that the reply is still streaming when the server stops.
        let server =
            TestServer::start_on(db, |c| c.offline_delay = Duration::from_millis(50)).await;
        let mut client = server.connect("halt").await;
        send(
            &mut client,
            json!({"type": "chat", "id": "c-1", "payload": {"message": "tell me about Rust"}}),
        )
        .await;
        let mut text = String::new();
        while text.split_whitespace().count() < 3 {
            let message = recv_raw(&mut client).await;
            if message["type"] == "chat_delta" {
                text.push_str(message["payload"]["delta"].as_str().unwrap());
            }
        }
        let db = server.shutdown().await;

        // Stored by the shutdown itself, before the database closed: the next start finds
        // nothing left streaming, so its recovery adds nothing.
        let server = TestServer::start_on(db, |_| {}).await;
        let export = server.export("halt").await;
        let reply = &export["messages"][1];
        assert_eq!(reply["status"], "failed", "{backend}: {export}");
        let kept = reply["content"].as_str().unwrap();
        assert!(
            kept.starts_with(&text),
            "{backend}: the text streamed before the stop is kept: {kept:?} vs {text:?}"
        );
        let responses: Vec<&Value> = export["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "chat_response")
            .collect();
        assert_eq!(responses.len(), 1, "{backend}: {export}");
        assert_eq!(
            responses[0]["payload"]["metadata"]["finish_reason"], "interrupted",
            "{backend}"
        );
        assert_eq!(responses[0]["payload"]["message"], kept, "{backend}");
        server.shutdown().await;
    }
}
