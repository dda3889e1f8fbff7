//! Observability against the real router: `/metrics` parsed as Prometheus text moves by
//! exactly the traffic driven; who may read it; the telemetry endpoint's acceptances, refusals,
//! limits and rate; no personal data in the database file; the dashboard's plots and alert.

mod common;

use common::*;
use serde_json::{json, Value};
use server::telemetry::anonymize::PERSONAL_DATA_SAMPLES;
use std::collections::HashMap;
use tokio_tungstenite::tungstenite::{
    protocol::{frame::coding::CloseCode, CloseFrame},
    Message,
};

/// The exposition's samples by name and labels, e.g. `axe_errors_total{code=invalid_json}`.
async fn scrape(server: &TestServer) -> HashMap<String, f64> {
    let (status, body) = server.http_get("/metrics").await;
    assert_eq!(status, 200, "{body}");
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    scrape
        .samples
        .into_iter()
        .map(|sample| {
            let mut labels: Vec<String> = sample
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            labels.sort();
            let key = if labels.is_empty() {
                sample.metric
            } else {
                format!("{}{{{}}}", sample.metric, labels.join(","))
            };
            let value = match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                prometheus_parse::Value::Summary(_) => 0.0,
            };
            (key, value)
        })
        .collect()
}

fn delta(before: &HashMap<String, f64>, after: &HashMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

async fn close_normally(client: &mut Client) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    };
    use futures_util::SinkExt;
    client
        .send(Message::Close(Some(frame)))
        .await
        .expect("close");
}

#[tokio::test]
async fn metrics_move_by_exactly_the_traffic_driven() {
    let server = TestServer::start(|_| {}).await;
    let before = scrape(&server).await;
    let mut clients = Vec::new();
    for (i, session) in ["m-a", "m-b", "m-c"].iter().enumerate() {
        let mut client = server.connect(session).await;
        ping(&mut client, i as u64).await;
        clients.push(client);
    }
    // One chat: acked, a reply with a first token, stored.
    send(
        &mut clients[0],
        json!({"type": "chat", "id": "c-1", "payload": {"message": "hi"}}),
    )
    .await;
    recv_reply(&mut clients[0]).await;
    // One edit: acked. One frame that is not JSON: an error.
    send_acked(
        &mut clients[1],
        "e-1",
        json!({"type": "file_updated", "payload": {"file_id": "f", "content": "x",
            "name": "f.rs", "language": "rust"}}),
    )
    .await;
    send_text(&mut clients[1], "{").await;
    expect_error(&mut clients[1], "invalid_json").await;
    for client in &mut clients {
        close_normally(client).await;
    }
    // The closes are counted as the server handles them.
    let after = tokio::time::timeout(EVENT_TIMEOUT, async {
        loop {
            let now = scrape(&server).await;
            if delta(&before, &now, "axe_ws_closes_total{code=1000}") >= 3.0 {
                return now;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the closes are counted");
    let moved = |key: &str| delta(&before, &after, key);
    assert_eq!(moved("axe_ws_connects_total"), 3.0);
    assert_eq!(moved("axe_ws_closes_total{code=1000}"), 3.0);
    assert_eq!(moved("axe_ws_connections_open"), 0.0);
    assert_eq!(moved("axe_client_messages_total{type=ping}"), 3.0);
    assert_eq!(moved("axe_client_messages_total{type=chat}"), 1.0);
    assert_eq!(moved("axe_client_messages_total{type=file_updated}"), 1.0);
    assert_eq!(moved("axe_client_messages_total{type=invalid}"), 1.0);
    assert_eq!(moved("axe_errors_total{code=invalid_json}"), 1.0);
    assert_eq!(
        moved("axe_ack_seconds_count"),
        2.0,
        "the chat's and the edit's"
    );
    // The chat, the reply's end, the edit: one transaction each.
    assert_eq!(moved("axe_db_commit_seconds_count"), 3.0);
    assert_eq!(moved("axe_llm_first_token_seconds_count"), 1.0);
    assert_eq!(moved("axe_llm_reply_seconds_count"), 1.0);
    assert!(moved("axe_llm_tokens_total") >= 1.0);
    server.shutdown().await;
}

#[tokio::test]
async fn only_this_machine_or_the_token_may_read_the_metrics() {
    let open = TestServer::start(|_| {}).await;
    let forwarded = [("X-Forwarded-For", "203.0.113.9")];
    let refused = open.request("GET", "/metrics", &forwarded, None).await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.body.contains("AXE_METRICS_TOKEN"),
        "{}",
        refused.body
    );
    assert_eq!(
        open.request("GET", "/dashboard", &forwarded, None)
            .await
            .status,
        401
    );
    open.shutdown().await;

    let guarded =
        TestServer::start(|c| c.observe.metrics_token = Some("s3cret-token".into())).await;
    assert_eq!(guarded.http_get("/metrics").await.0, 200, "loopback");
    let with = |auth: &'static str| [("X-Forwarded-For", "203.0.113.9"), ("Authorization", auth)];
    assert_eq!(
        guarded
            .request("GET", "/metrics", &with("Bearer wrong"), None)
            .await
            .status,
        401
    );
    let right = guarded
        .request("GET", "/metrics", &with("Bearer s3cret-token"), None)
        .await;
    assert_eq!(right.status, 200);
    assert!(right.body.contains("axe_ws_connects_total"));
    // HTTP Basic, for a browser: any user, the token as password ("axe:s3cret-token").
    let basic = with("Basic YXhlOnMzY3JldC10b2tlbg==");
    assert_eq!(
        guarded
            .request("GET", "/dashboard", &basic, None)
            .await
            .status,
        200
    );
    guarded.shutdown().await;
}

fn batch(events: &[Value]) -> String {
    json!({ "events": events }).to_string()
}

fn event(name: &str) -> Value {
    json!({"name": name, "ts": 1_795_958_844_459_i64, "props": {"view": "panel", "ms": 12}})
}

#[tokio::test]
async fn telemetry_batches_are_accepted_refused_limited_and_counted() {
    let server = TestServer::start(|c| c.observe.events_per_min = 4).await;
    let auth = format!("Bearer {}", server.token);
    let post = |body: String, headers: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            server
                .request("POST", "/api/axe/events", &headers, Some(&body))
                .await
        }
    };
    let before = scrape(&server).await;
    // No token: 401. A foreign page: 403.
    let good = batch(&[
        event("widget_opened"),
        event("message_sent"),
        event("message_sent"),
    ]);
    assert_eq!(post(good.clone(), vec![]).await.status, 401);
    let foreign = vec![
        ("Authorization", auth.clone()),
        ("Origin", "https://evil.example".into()),
    ];
    assert_eq!(post(good.clone(), foreign).await.status, 403);
    // Accepted.
    let accepted = post(good, vec![("Authorization", auth.clone())]).await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    assert_eq!(accepted.json(), json!({"accepted": 3}));
    let after = scrape(&server).await;
    assert_eq!(
        delta(
            &before,
            &after,
            "axe_telemetry_events_total{name=message_sent}"
        ),
        2.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            "axe_telemetry_events_total{name=widget_opened}"
        ),
        1.0
    );
    // Refused, naming the first bad event.
    let unknown = post(
        batch(&[event("widget_opened"), event("launch_missiles")]),
        vec![("Authorization", auth.clone())],
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["code"], "invalid_events");
    assert!(unknown.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("event 1:"));
    let too_many: Vec<Value> = (0..101).map(|_| event("widget_opened")).collect();
    assert_eq!(
        post(batch(&too_many), vec![("Authorization", auth.clone())])
            .await
            .status,
        400
    );
    let huge = json!({"events": [], "pad": "x".repeat(70 * 1024)}).to_string();
    assert_eq!(
        post(huge, vec![("Authorization", auth.clone())])
            .await
            .status,
        413
    );
    // Four batches a minute: the fifth is refused with a wait.
    let limited = post(
        batch(&[event("widget_closed")]),
        vec![("Authorization", auth.clone())],
    )
    .await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").is_some());
    server.shutdown().await;
}

#[tokio::test]
async fn no_personal_data_reaches_the_database_file() {
    let server = TestServer::start(|_| {}).await;
    let grant = anonymous_grant(server.addr).await;
    let token = grant["token"].as_str().unwrap().to_owned();
    let session = grant["session_id"].as_str().unwrap().to_owned();
    let subject = {
        use base64::Engine;
        let claims = token.split('.').nth(1).unwrap();
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap();
        serde_json::from_slice::<Value>(&claims).unwrap()["sub"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let long_secret = "SECRET-FILE-CONTENT";
    let mut events: Vec<Value> = PERSONAL_DATA_SAMPLES
        .iter()
        .map(|(text, _)| {
            json!({"name": "message_sent", "ts": 1, "session_id": session, "props": {"note": text}})
        })
        .collect();
    events.push(json!({"name": "message_sent", "ts": 1,
        "props": {"text": format!("{long_secret} {}", "x".repeat(300))}}));
    let response = server
        .request(
            "POST",
            "/api/axe/events",
            &[("Authorization", &format!("Bearer {token}"))],
            Some(&batch(&events)),
        )
        .await;
    assert_eq!(response.status, 202, "{}", response.body);
    let db = server.shutdown().await;
    let file = db.url.strip_prefix("sqlite:").unwrap().to_owned();
    // The rows are there …
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{file}"))
        .await
        .unwrap();
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM axe_telemetry")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, events.len());
    pool.close().await;
    // … and none of the personal strings is anywhere in the database's files.
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(content) = std::fs::read(format!("{file}{suffix}")) {
            bytes.extend(content);
        }
    }
    assert!(!bytes.is_empty());
    let found = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for (_, secret) in PERSONAL_DATA_SAMPLES {
        assert!(!found(secret), "{secret:?} is in the database file");
    }
    assert!(!found(long_secret), "a long string prop was stored");
    assert!(!found("127.0.0.1"), "the client's address is stored");
    // The subject and the session id are known to the database (the session's owner, its own
    // rows), but telemetry's rows hold only salted hashes of them.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{file}"))
        .await
        .unwrap();
    let (clear,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM axe_telemetry WHERE session = $1 OR subject = $2")
            .bind(&session)
            .bind(&subject)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(clear, 0);
    pool.close().await;
}

#[tokio::test]
async fn telemetry_past_its_retention_is_pruned() {
    let db = db::TestDb::sqlite();
    let storage = server::storage::Storage::open(&db.url).await.unwrap();
    let row = server::storage::telemetry::TelemetryRow {
        ts: 1,
        name: "widget_opened".into(),
        subject: "hash".into(),
        session: None,
        props: "{}".into(),
    };
    storage.store_telemetry(&[row.clone(), row]).await.unwrap();
    assert_eq!(
        storage.prune_telemetry(0).await.unwrap(),
        0,
        "nothing is that old"
    );
    let later = i64::MAX;
    assert_eq!(storage.prune_telemetry(later).await.unwrap(), 2);
    storage.close().await;
}

#[tokio::test]
async fn the_dashboard_plots_and_raises_the_reconnect_alert() {
    let server = TestServer::start(|c| c.observe.alert_reconnects_per_min = 2).await;
    let quiet = server.http_get("/dashboard").await;
    assert_eq!(quiet.0, 200);
    assert!(!quiet.1.contains("role=\"alert\""));
    // A burst: the same session connects, leaves and comes back four times.
    for i in 0..5 {
        let mut client = server.connect("flappy").await;
        ping(&mut client, i).await;
        close_normally(&mut client).await;
        expect_close(&mut client).await;
    }
    let page = tokio::time::timeout(EVENT_TIMEOUT, async {
        loop {
            let (status, body) = server.http_get("/dashboard").await;
            assert_eq!(status, 200);
            if body.contains("role=\"alert\"") {
                return body;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the alert shows");
    assert!(page.contains("reconnects in a minute"), "{page}");
    assert_eq!(page.matches("<svg").count(), 7, "seven plots");
    // The minute in progress is plotted: the connects line has a point above zero.
    assert!(page.contains("<polyline"), "lines are drawn");
    server.shutdown().await;
}
