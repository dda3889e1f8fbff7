//! Nothing lost, part 2: each fault a review found, reproduced against the real router and kept
//! fixed — ids that collided, a history frame too large to send, diffs that undid edits made
//! while a reply streamed, a fence inside a file, a session left in memory, a replay that held
//! the session's lock, a reply whose storing failed, a model server's error page.

mod common;

use common::{replay::*, *};
use serde_json::{json, Value};
use sqlx::Connection;
use std::time::{Duration, Instant};

fn chat_with_id(id: &str, message: &str) -> Value {
    json!({"type": "chat", "id": id, "payload": {"message": message}})
}

#[tokio::test]
async fn client_ids_shaped_like_reply_ids_never_collide_with_them() {
    for db in db::TestDb::all().await {
        let backend = db.backend();
        let server = TestServer::start_on(db, |_| {}).await;
        let mut client = server.connect("ids").await;
        // The server names replies m-1, m-2…; the client picks the same names for its chats.
        for id in ["m-2", "m-1", "m-3"] {
            send(&mut client, chat_with_id(id, "hello")).await;
            let reply = recv_reply(&mut client).await;
            assert_eq!(reply["type"], "chat_response", "{backend}: {reply}");
        }
        let export = server.export("ids").await;
        let messages = export["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 6, "{backend}: {export}");
        let users: Vec<&str> = messages
            .iter()
            .filter(|m| m["role"] == "user")
            .map(|m| m["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(users, ["m-2", "m-1", "m-3"], "{backend}");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_change_too_large_to_send_is_not_offered_and_the_session_stays_usable() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("huge").await;
    // One line of 500 KB: its diff carries the line three times, over the 1 MiB frame limit.
    let line = format!("// {}\n", "x".repeat(500 * 1024));
    upload_file(&mut client, "f", &line).await;
    send(
        &mut client,
        json!({"type": "chat", "payload": {"message": "add a function",
            "context": {"active_file": {"id": "f", "name": "main.rs", "language": "rust"}}}}),
    )
    .await;
    let reply = loop {
        let message = recv(&mut client).await;
        if message["type"] == "chat_response" {
            break message;
        }
    };
    assert_eq!(reply["payload"]["metadata"]["diff_count"], 0);
    let text = reply["payload"]["message"].as_str().unwrap();
    assert!(
        text.contains("too large to review as a diff"),
        "{}",
        &text[text.len() - 300..]
    );
    ping(&mut client, 1).await;
    // Every stored frame can be replayed: a fresh connection gets its snapshot, an old one
    // its replay, and both keep working.
    drop(client);
    let mut fresh = server.connect("huge").await;
    let snapshot = recv_raw(&mut fresh).await;
    assert_eq!(snapshot["type"], "snapshot");
    let file = recv_raw(&mut fresh).await;
    assert_eq!(file["type"], "file_update", "the file follows the snapshot");
    assert_eq!(file["payload"]["content"], line.as_str());
    ping(&mut fresh, 2).await;
    drop(fresh);
    let mut old = server.connect_after("huge", 1).await;
    let replayed = recv_raw(&mut old).await;
    assert_eq!(replayed["type"], "chat_response");
    ping(&mut old, 3).await;
    server.shutdown().await;
}

#[tokio::test]
async fn edits_made_while_a_reply_streams_are_merged_not_reverted() {
    let server = TestServer::start(|c| c.offline_delay = Duration::from_millis(20)).await;
    let mut client = server.connect("merge").await;
    let original = "fn main() {\n    println!(\"hi\");\n}\n";
    send_acked(
        &mut client,
        "e-1",
        json!({"type": "file_updated", "payload": {"file_id": "f", "content": original,
            "name": "main.rs", "language": "rust"}}),
    )
    .await;
    send(
        &mut client,
        json!({"type": "chat", "payload": {"message": "write a function",
            "context": {"active_file": {"id": "f", "name": "main.rs", "language": "rust"}}}}),
    )
    .await;
    // While the reply streams, the person edits the body of `main`.
    let first = loop {
        let message = recv(&mut client).await;
        if message["type"] == "chat_delta" {
            break message;
        }
    };
    let edited = original.replace("println!(\"hi\")", "println!(\"the person's own edit\")");
    send(
        &mut client,
        json!({"type": "file_updated", "id": "e-2",
            "payload": {"file_id": "f", "content": edited, "base_version": 1}}),
    )
    .await;
    let mut text = first["payload"]["delta"].as_str().unwrap().to_owned();
    let mut acked = false;
    let reply = loop {
        let message = recv_raw(&mut client).await;
        match message["type"].as_str() {
            Some("chat_delta") => text.push_str(message["payload"]["delta"].as_str().unwrap()),
            Some("ack") => acked = message["payload"]["id"] == "e-2",
            Some("chat_response") => break message,
            _ => panic!("unexpected {message}"),
        }
    };
    assert!(acked, "the edit was stored while the reply streamed");
    assert_eq!(reply["payload"]["message"], text.as_str());
    assert_eq!(reply["payload"]["metadata"]["diff_count"], 1);
    let diff = recv(&mut client).await;
    assert_eq!(
        diff["payload"]["original"],
        edited.as_str(),
        "made against the file as it is now"
    );
    let modified = diff["payload"]["modified"].as_str().unwrap();
    assert!(modified.contains("the person's own edit"), "{modified}");
    assert!(modified.contains("pub fn add"), "{modified}");
    // Apply all keeps both.
    send(
        &mut client,
        json!({"type": "diff_applied", "payload": {"diff_id": diff["payload"]["diff_id"]}}),
    )
    .await;
    let update = recv(&mut client).await;
    let content = update["payload"]["content"].as_str().unwrap();
    assert!(content.contains("the person's own edit") && content.contains("pub fn add"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_line_of_backticks_in_a_file_does_not_cut_its_diff() {
    let server = TestServer::start(|_| {}).await;
    let mut client = server.connect("fence").await;
    let original =
        "/// Example:\n/// ```\n/// run();\n/// ```\nfn run() {}\n```\nfn after_the_fence() {}\n";
    upload_file(&mut client, "f", original).await;
    let (_, diff) = ask_for_code(&mut client, "f").await;
    let modified = diff["payload"]["modified"].as_str().unwrap();
    assert!(modified.contains("fn after_the_fence() {}"), "{modified}");
    assert!(diff["payload"]["warning"].is_null(), "{diff}");
    let removed = diff["payload"]["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["lines"].as_array().unwrap())
        .filter(|l| l["kind"] == "remove")
        .count();
    assert_eq!(removed, 0, "the code is added, nothing of the file removed");
    server.shutdown().await;
}

#[tokio::test]
async fn a_reply_that_ends_after_its_client_left_does_not_stay_in_memory() {
    let server = TestServer::start(|c| c.offline_delay = Duration::from_millis(10)).await;
    let mut client = server.connect("gone").await;
    send(&mut client, chat_with_id("c-1", "tell me about Rust")).await;
    loop {
        if recv(&mut client).await["type"] == "chat_delta" {
            break;
        }
    }
    drop(client);
    // The reply goes on, is stored, and then nothing keeps the session in memory.
    tokio::time::timeout(EVENT_TIMEOUT, async {
        loop {
            let export = server.export("gone").await;
            if export["messages"][1]["status"] == "complete" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the reply ends");
    assert_eq!(server.sessions.cached_sessions(), 0);
    // An idle connection holds no session memory either.
    let mut idle = server.connect("gone").await;
    recv_raw(&mut idle).await;
    ping(&mut idle, 1).await;
    assert_eq!(server.sessions.cached_sessions(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_slow_replay_holds_up_nobody_else() {
    let server = TestServer::start(|c| {
        c.limits.chats_per_min = 100_000;
        c.limits.frames_per_sec = 100_000;
        c.outbound_queue = 4;
    })
    .await;
    let mut writer = server.connect("busy").await;
    send_acked(
        &mut writer,
        "e-0",
        json!({"type": "file_updated", "payload": {"file_id": "f", "content": "fn main() {}\n",
            "name": "main.rs", "language": "rust"}}),
    )
    .await;
    // Some 300 history frames.
    for n in 0..100 {
        send_acked(
            &mut writer,
            &format!("c-{n}"),
            json!({"type": "chat", "payload": {"message": "hello"}}),
        )
        .await;
        recv_reply(&mut writer).await;
    }
    drop(writer);
    // A client that asks for the replay from seq 1 and does not read it.
    let stalled = server.connect_after("busy", 1).await;
    // Meanwhile the session can still change: the owner's other tab edits and is acknowledged.
    let started = Instant::now();
    let second = server.connect("busy").await;
    drop(second);
    let mut third = server.connect("busy").await;
    let snapshot = recv_raw(&mut third).await;
    assert_eq!(snapshot["type"], "snapshot");
    send_acked(
        &mut third,
        "e-after",
        json!({"type": "file_updated", "payload": {"file_id": "f", "content": "fn main() { 1 }\n"}}),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stalled replay held the session for {:?}",
        started.elapsed()
    );
    drop(stalled);
    server.shutdown().await;
}

#[tokio::test]
async fn a_reply_whose_storing_fails_is_stored_once_the_database_recovers() {
    let server = TestServer::start(|c| c.offline_delay = Duration::from_millis(5)).await;
    let url = server.db.as_ref().unwrap().url.clone();
    let mut db = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
    // The database refuses to end any reply: a failure injected into the real database.
    sqlx::raw_sql(
        "CREATE TRIGGER refuse_endings BEFORE UPDATE OF status ON axe_messages \
         WHEN NEW.status != 'streaming' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let mut client = server.connect("flaky").await;
    send(&mut client, chat_with_id("c-1", "tell me about Rust")).await;
    let mut text = String::new();
    let notice = loop {
        let message = recv(&mut client).await;
        match message["type"].as_str() {
            Some("chat_delta") => text.push_str(message["payload"]["delta"].as_str().unwrap()),
            Some("error") => break message,
            _ => panic!("unexpected {message}"),
        }
    };
    assert_eq!(notice["payload"]["code"], "internal", "{notice}");
    // A new chat waits: the session is busy until the reply is stored.
    send(&mut client, chat_with_id("c-2", "again")).await;
    assert_eq!(
        expect_error(&mut client, "busy").await["payload"]["id"],
        "c-2"
    );
    // The text was kept as it streamed.
    let export = server.export("flaky").await;
    assert!(!export["messages"][1]["content"]
        .as_str()
        .unwrap()
        .is_empty());
    sqlx::raw_sql("DROP TRIGGER refuse_endings")
        .execute(&mut db)
        .await
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(20), recv(&mut client))
        .await
        .expect("stored once the database recovers");
    assert_eq!(response["type"], "chat_response");
    assert_eq!(response["payload"]["message"], text.as_str());
    server.shutdown().await;
}

#[tokio::test]
async fn a_model_servers_endless_error_page_is_cut_short_and_kept_from_the_person() {
    let stand_in = ReplayServer::start(Scenario::EndlessError { status: 500 }).await;
    let base_url = stand_in.base_url.clone();
    let server = TestServer::start(move |c| {
        c.llm = Some(server::llm::openai::OpenAiConfig {
            base_url,
            model: "stand-in".into(),
            api_key: None,
            temperature: 0.0,
            max_tokens: 16,
            connect_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(60),
        })
    })
    .await;
    let mut client = server.connect("endless").await;
    let started = Instant::now();
    send(&mut client, chat_with_id("c-1", "hello")).await;
    let error = expect_error(&mut client, "model_error").await;
    let message = error["payload"]["message"].as_str().unwrap();
    assert!(message.contains("500"), "{message}");
    assert!(
        !message.contains("10.0.0.7") && !message.contains("internal details"),
        "{message}"
    );
    assert!(
        !message.contains("127.0.0.1"),
        "the model server's address stays private: {message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let reply = recv(&mut client).await;
    assert_eq!(reply["payload"]["metadata"]["finish_reason"], "error");
    server.shutdown().await;
}

/// Sends `value` with `id`; returns the file version its `ack` names.
async fn acked_version(client: &mut Client, id: &str, value: Value) -> i64 {
    let mut value = value;
    value["id"] = Value::String(id.to_owned());
    send(client, value).await;
    loop {
        let message = recv_raw(client).await;
        assert_ne!(message["type"], "error", "{message}");
        if message["type"] == "ack" && message["payload"]["id"] == id {
            return message["payload"]["version"].as_i64().unwrap_or(-1);
        }
    }
}

fn edit_of(content: &str, base_version: i64) -> Value {
    json!({"type": "file_updated",
        "payload": {"file_id": "f", "content": content, "base_version": base_version}})
}

/// `content` with its first line replaced by `line`.
fn first_line(content: &str, line: &str) -> String {
    let rest = content.split_once('\n').map_or("", |(_, rest)| rest);
    format!("{line}\n{rest}")
}

#[tokio::test]
async fn old_file_versions_go_except_the_newest_and_those_diffs_and_conflicts_need() {
    for db in db::TestDb::all().await {
        let backend = db.backend();
        let server = TestServer::start_on(db, |c| c.file_versions_kept = 3).await;
        let mut client = server.connect("kept").await;
        let created = acked_version(
            &mut client,
            "e-0",
            json!({"type": "file_updated", "payload": {"file_id": "f",
                "content": "// start\nfn main() {}\n", "name": "main.rs", "language": "rust"}}),
        )
        .await;
        assert_eq!(created, 1, "{backend}");
        let (_, diff) = ask_for_code(&mut client, "f").await;
        let diff_id = diff["payload"]["diff_id"].as_str().unwrap().to_owned();
        let applied = acked_version(
            &mut client,
            "d-1",
            json!({"type": "diff_applied", "payload": {"diff_id": diff_id}}),
        )
        .await;
        assert_eq!(applied, 2, "{backend}");
        let mut content = diff["payload"]["modified"].as_str().unwrap().to_owned();
        let mut version = applied;
        let mut contents = vec![(version, content.clone())];
        for n in 1..=5 {
            content = first_line(&content, &format!("// edit {n}"));
            version =
                acked_version(&mut client, &format!("e-{n}"), edit_of(&content, version)).await;
            contents.push((version, content.clone()));
        }
        assert_eq!(version, 7, "{backend}");
        // Versions 5, 6 and 7 are the newest three. An edit made on version 6 that changes the
        // line changed since: an open conflict, which needs version 6 to be merged later.
        let (_, at_six) = contents.iter().find(|(v, _)| *v == 6).unwrap();
        send(
            &mut client,
            json!({"type": "file_updated", "id": "e-late",
                "payload": {"file_id": "f", "content": first_line(at_six, "// mine"), "base_version": 6}}),
        )
        .await;
        loop {
            let message = recv(&mut client).await;
            assert_ne!(message["type"], "error", "{backend}: {message}");
            if message["type"] == "file_conflict" {
                assert_eq!(message["payload"]["base_version"], 6, "{backend}");
                let draft = message["payload"]["draft"].as_str().unwrap();
                // Merged on its base: only the first line is in conflict, the rest is once.
                assert!(
                    draft.starts_with(
                        "<<<<<<< your edit\n// mine\n=======\n// edit 5\n>>>>>>> the other edit\n"
                    ),
                    "{draft}"
                );
                assert_eq!(draft.matches("fn main").count(), 1, "{draft}");
                break;
            }
        }
        for n in 6..=8 {
            content = first_line(&content, &format!("// edit {n}"));
            version =
                acked_version(&mut client, &format!("e-{n}"), edit_of(&content, version)).await;
        }
        assert_eq!(version, 10, "{backend}");
        let export = server.export("kept").await;
        let kept: Vec<(i64, String)> = export["file_versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["version"].as_i64().unwrap(),
                    v["cause"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let versions: Vec<i64> = kept.iter().map(|(v, _)| *v).collect();
        // The newest 3, the diff's (2) and the open conflict's base (6); the rest are gone.
        assert_eq!(versions, [2, 6, 8, 9, 10], "{backend}: {kept:?}");
        assert_eq!(kept[0].1, diff_id, "{backend}");
        assert_eq!(
            export["file_versions"][4]["content"],
            content.as_str(),
            "{backend}"
        );
        server.shutdown().await;
    }
}
