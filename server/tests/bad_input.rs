//! A corpus of bad input replayed against the real server: malformed and deeply nested JSON,
//! invalid UTF-8, huge numbers, impossible `last_seq`s, hunk indexes out of range, message types
//! only the server sends, ten thousand files in one session, oversized tokens and headers. Each
//! gets its error, the connection that sent it survives where the protocol allows, nothing
//! panics, and a bystander session is unaffected throughout.

mod common;

use common::*;
use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::{
    protocol::frame::{coding::Data, coding::OpCode, Frame},
    Message,
};

#[tokio::test]
async fn a_corpus_of_bad_frames_gets_errors_and_leaves_everyone_else_alone() {
    let server = TestServer::start(|config| {
        config.max_file_bytes = 4096;
        config.limits.frames_per_sec = 100_000;
    })
    .await;
    let mut bystander = server.connect("bystander").await;
    upload_file(&mut bystander, "b", "fn b() {}\n").await;
    ping(&mut bystander, 0).await;
    let mut client = server.connect("attacker").await;

    let nested_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested_payload = format!(
        r#"{{"type":"chat","id":"n-1","payload":{{"message":"hi","context":{}{}}}}}"#,
        "{\"a\":".repeat(5_000),
        "1}".repeat(5_000)
    );
    let corpus: Vec<(&str, String, &str)> = vec![
        ("truncated", "{\"type\":\"ping\"".into(), "invalid_json"),
        ("empty", String::new(), "invalid_json"),
        ("array", "[1,2,3]".into(), "invalid_json"),
        ("null", "null".into(), "invalid_json"),
        ("nested arrays", nested_array, "invalid_json"),
        ("nested objects", nested_payload, "invalid_json"),
        ("type not a string", r#"{"type":{"a":1}}"#.into(), "invalid_payload"),
        ("unknown type", r#"{"type":"drop_tables"}"#.into(), "unknown_type"),
        ("a server message", r#"{"type":"chat_delta","payload":{"message_id":"m-1","delta":"x","offset":999999}}"#.into(), "unknown_type"),
        // Well-formed JSON (the grammar has no range): the envelope decodes, the ping's `ts` does not.
        ("huge number", r#"{"type":"ping","payload":{"ts":1e400}}"#.into(), "invalid_payload"),
        ("huge hunk index", r#"{"type":"diff_applied","id":"h-1","payload":{"diff_id":"d-1","hunks":[99999999999999999999]}}"#.into(), "invalid_payload"),
        ("negative hunk index", r#"{"type":"diff_applied","id":"h-2","payload":{"diff_id":"d-1","hunks":[-1]}}"#.into(), "invalid_payload"),
        ("id too long", format!(r#"{{"type":"chat","id":"{}","payload":{{"message":"x"}}}}"#, "i".repeat(65)), "invalid_payload"),
        ("id not a string", r#"{"type":"chat","id":7,"payload":{"message":"x"}}"#.into(), "invalid_payload"),
        ("no id", r#"{"type":"file_updated","payload":{"file_id":"f","content":"x"}}"#.into(), "invalid_payload"),
        ("payload wrong shape", r#"{"type":"chat","id":"p-1","payload":"hello"}"#.into(), "invalid_payload"),
        ("nul", "{\"type\":\"chat\",\"id\":\"z-1\",\"payload\":{\"message\":\"a\\u0000b\"}}".into(), "invalid_payload"),
        ("nul in a key", "{\"type\":\"ping\",\"payload\":{\"t\\u0000s\":1}}".into(), "invalid_payload"),
        ("control characters", "{\"type\":\"chat\",\"id\":\"z-2\",\"payload\":{\"message\":\"bell\\u0007 escape\\u001b\"}}".into(), ""),
        ("oversized content", json!({"type":"file_updated","id":"big-1","payload":{"file_id":"f","content":"x".repeat(5000),"name":"a.rs","language":"rust"}}).to_string(), "message_too_large"),
        ("unknown diff", r#"{"type":"diff_rejected","id":"r-1","payload":{"diff_id":"d-404"}}"#.into(), "unknown_diff"),
    ];
    for (case, text, code) in &corpus {
        send_text(&mut client, text).await;
        let mut answer = recv(&mut client).await;
        if code.is_empty() {
            // Accepted (control characters are text like any other): its reply follows.
            while answer["type"] != "chat_response" {
                answer = recv(&mut client).await;
            }
            continue;
        }
        assert_eq!(answer["type"], "error", "{case}: {answer}");
        assert_eq!(answer["payload"]["code"], *code, "{case}: {answer}");
    }

    // A diff of the attacker's own, with one hunk: index 1 is out of range.
    upload_file(&mut client, "f", "fn main() {}\n").await;
    let (_, diff) = ask_for_code(&mut client, "f").await;
    let count = diff["payload"]["hunks"].as_array().unwrap().len();
    send(&mut client, json!({"type": "diff_applied", "payload": {"diff_id": diff["payload"]["diff_id"], "hunks": [count]}})).await;
    expect_error(&mut client, "invalid_payload").await;

    // Ten thousand files: the session keeps its limit's worth and refuses the rest, one error
    // each, without growing. Sent in batches, each answer read, as a client that reads does.
    let mut refused = 0;
    let mut acked = 0;
    for batch in 0..(10_000 / 25) {
        for n in batch * 25..(batch + 1) * 25 {
            let file = json!({"type": "file_updated", "id": format!("many-{n}"), "payload": {
                "file_id": format!("file-{n}"), "content": "x", "name": format!("f{n}.rs"), "language": "rust"}});
            send_text(&mut client, &file.to_string()).await;
        }
        let mut answered = 0;
        while answered < 25 {
            let message = recv_raw(&mut client).await;
            match message["type"].as_str() {
                Some("ack") => acked += 1,
                Some("error") => {
                    assert_eq!(message["payload"]["code"], "message_too_large", "{message}");
                    refused += 1;
                }
                _ => continue,
            }
            answered += 1;
        }
    }
    assert_eq!(refused + acked, 10_000);
    // The attacker's session already held "f": 63 new ones fit.
    assert_eq!(acked, 63);
    ping(&mut client, 1).await;

    // Invalid UTF-8 in a text frame breaks the WebSocket protocol: only this connection ends,
    // with 1007.
    let raw = Frame::message(vec![0x7b, 0xff, 0xfe, 0x7d], OpCode::Data(Data::Text), true);
    client.send(Message::Frame(raw)).await.unwrap();
    assert_eq!(expect_close(&mut client).await.0, 1007);

    ping(&mut bystander, 2).await;
    let export = server.export("bystander").await;
    assert_eq!(export["file_versions"].as_array().unwrap().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn impossible_last_seqs_and_oversized_tokens_and_headers_are_refused() {
    let server = TestServer::start(|_| {}).await;
    let mut bystander = server.connect("calm").await;
    let bearer = format!("Bearer {}", server.token);
    for last_seq in ["-1", "99999999999999999999999", "1.5", "0x10", ""] {
        let path = format!("/api/axe/ws/odd?last_seq={last_seq}");
        let upgrade = [
            ("Authorization", bearer.as_str()),
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        let response = server.request("GET", &path, &upgrade, None).await;
        assert_eq!(
            response.status, 400,
            "last_seq={last_seq}: {}",
            response.body
        );
        assert_eq!(response.json()["code"], "invalid_last_seq");
    }
    // The largest u64 is a valid seq: nothing comes after it.
    let mut far = server.connect_after("odd", u64::MAX).await;
    ping(&mut far, 1).await;

    let huge_token = format!("Bearer {}", "a".repeat(20_000));
    let response = server
        .request(
            "GET",
            "/api/axe/sessions/odd/export",
            &[("Authorization", &huge_token)],
            None,
        )
        .await;
    assert_eq!(response.status, 401);
    // A header far over the server's limit: refused or cut off, never a crash.
    let monster = "b".repeat(2 * 1024 * 1024);
    let attempt = tokio::time::timeout(
        EVENT_TIMEOUT,
        tokio::spawn({
            let addr = server.addr;
            async move { http_request(addr, "GET", "/healthz", &[("X-Junk", &monster)], None).await }
        }),
    )
    .await
    .expect("answered or closed in time");
    if let Ok(response) = attempt {
        assert!(
            response.status == 431 || response.status >= 400,
            "{}",
            response.status
        );
    }
    ping(&mut bystander, 2).await;
    assert_eq!(server.http_get("/healthz").await.0, 200);
    server.shutdown().await;
}
