//! The trust boundary against the real router and a real WebSocket client: tokens (401, the
//! subprotocol, never the query string), session ownership (403), the origin check and CORS,
//! the rate limits (429 and `rate_limited` with a resend that succeeds), the abuse limits
//! (503, sessions per subject), the 4401 close of an expired token, the model slots' queue,
//! and jwt mode with each key type.

mod common;

use common::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use server::{
    auth::{AuthMode, JwtKey, JwtSettings},
    config::Config,
};
use std::time::{Duration, Instant};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{self, client::IntoClientRequest, http::HeaderValue},
};

const SECRET: &str = "a test secret that is long enough for HS256!";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token signed with `key` by `algorithm` carrying `claims`.
fn sign(algorithm: Algorithm, key: &EncodingKey, claims: Value) -> String {
    encode(&Header::new(algorithm), &claims, key).unwrap()
}

/// An anonymous-mode token as the server would mint it with [`SECRET`], for `sub`, expiring
/// at `exp`.
fn anonymous_token_for(sub: &str, exp: u64) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    sign(
        Algorithm::HS256,
        &key,
        json!({"sub": sub, "exp": exp, "iss": "axe"}),
    )
}

fn with_secret(config: &mut Config) {
    config.auth.secret = Some(SECRET.into());
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The HTTP status a refused upgrade answered, with its headers.
async fn refused_upgrade(
    request: tungstenite::handshake::client::Request,
) -> tungstenite::http::Response<Option<Vec<u8>>> {
    match connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => *response,
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, the socket opened"),
    }
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_are_401_before_any_socket() {
    let server = TestServer::start(with_secret).await;
    let url = server.ws_url("guarded");
    let expired = anonymous_token_for("someone", now() - 3600);
    let forged = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"not the server's secret, but long enough").unwrap(),
        json!({"sub": "someone", "exp": now() + 3600, "iss": "axe"}),
    );
    let cases = [
        ("no token", url.clone().into_client_request().unwrap()),
        ("malformed", ws_request(&url, "not-a-jwt")),
        ("bad signature", ws_request(&url, &forged)),
        ("expired", ws_request(&url, &expired)),
        ("oversized", ws_request(&url, &"a".repeat(10_000))),
    ];
    for (case, request) in cases {
        let response = refused_upgrade(request).await;
        assert_eq!(response.status(), 401, "{case}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{case}: {challenge}");
    }
    // A token in the query string is not a token.
    let good = server.token.clone();
    let in_query = format!("{url}?token={good}&access_token={good}");
    let response = refused_upgrade(in_query.into_client_request().unwrap()).await;
    assert_eq!(response.status(), 401);
    // The export says why, as JSON.
    let response = server
        .request(
            "GET",
            "/api/axe/sessions/guarded/export",
            &[("Authorization", &bearer(&expired))],
            None,
        )
        .await;
    assert_eq!(response.status, 401);
    assert_eq!(response.json()["code"], "unauthorized");
    assert!(response.json()["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_browser_offers_its_token_as_a_subprotocol_and_gets_axe_v1_back() {
    let server = TestServer::start(|_| {}).await;
    let mut request = server.ws_url("browser").into_client_request().unwrap();
    let offered = format!("axe.v1, axe.bearer.{}", server.token);
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(&offered).unwrap(),
    );
    let (mut client, response) = connect_async(request).await.expect("opens");
    assert_eq!(response.headers()["sec-websocket-protocol"], "axe.v1");
    ping(&mut client, 1).await;
    // The token entry alone, without axe.v1, is not accepted.
    let mut alone = server.ws_url("browser").into_client_request().unwrap();
    alone.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(&format!("axe.bearer.{}", server.token)).unwrap(),
    );
    assert_eq!(refused_upgrade(alone).await.status(), 401);
    server.shutdown().await;
}

#[tokio::test]
async fn a_session_belongs_to_its_first_subject_and_strangers_get_403() {
    let server = TestServer::start(|_| {}).await;
    let mut owner = server.connect("mine").await;
    upload_file(&mut owner, "f", "secret code\n").await;
    ping(&mut owner, 1).await;

    let stranger = anonymous_token(server.addr).await;
    let response = refused_upgrade(ws_request(&server.ws_url("mine"), &stranger)).await;
    assert_eq!(response.status(), 403);
    let export = server
        .request(
            "GET",
            "/api/axe/sessions/mine/export",
            &[("Authorization", &bearer(&stranger))],
            None,
        )
        .await;
    assert_eq!(export.status, 403);
    assert_eq!(export.json()["code"], "not_owner");
    assert!(!export.body.contains("secret code"));
    let check = server
        .request(
            "GET",
            "/api/axe/sessions/mine",
            &[("Authorization", &bearer(&stranger))],
            None,
        )
        .await;
    assert_eq!(check.status, 403);

    // The owner was not taken over and still works; its export has the file.
    ping(&mut owner, 2).await;
    assert!(server.export("mine").await["file_versions"]
        .to_string()
        .contains("secret code"));
    server.shutdown().await;
}

#[tokio::test]
async fn the_sessions_api_hands_out_sessions_and_fresh_tokens_to_owners_only() {
    let server = TestServer::start(|_| {}).await;
    let grant = anonymous_grant(server.addr).await;
    let session = grant["session_id"].as_str().unwrap().to_owned();
    let token = grant["token"].as_str().unwrap().to_owned();
    let days = (grant["expires_at"].as_u64().unwrap() - now()) as f64 / 86_400.0;
    assert!((29.9..=30.0).contains(&days), "{days}");
    assert!(
        session.starts_with("s-") && session.len() == 26,
        "{session}"
    );

    let path = format!("/api/axe/sessions/{session}/token");
    let fresh = server
        .request("POST", &path, &[("Authorization", &bearer(&token))], None)
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    let fresh_token = fresh.json()["token"].as_str().unwrap().to_owned();
    let mut client = connect_with_token(&server.ws_url(&session), &fresh_token).await;
    ping(&mut client, 1).await;

    let stranger = anonymous_token(server.addr).await;
    let refused = server
        .request(
            "POST",
            &path,
            &[("Authorization", &bearer(&stranger))],
            None,
        )
        .await;
    assert_eq!(refused.status, 403);
    let no_token = server.request("POST", &path, &[], None).await;
    assert_eq!(no_token.status, 401);
    assert!(no_token.header("www-authenticate").is_some());
    server.shutdown().await;
}

#[tokio::test]
async fn foreign_origins_are_refused_and_allowed_ones_get_cors() {
    let server = TestServer::start(|config| {
        config.allowed_origins = vec!["https://host.example".into()];
    })
    .await;
    // A cross-origin upgrade from a page elsewhere: refused even with a valid token.
    let mut request = ws_request(&server.ws_url("origin"), &server.token);
    request
        .headers_mut()
        .insert("Origin", HeaderValue::from_static("https://evil.example"));
    assert_eq!(refused_upgrade(request).await.status(), 403);
    for (method, path) in [
        ("POST", "/api/axe/sessions"),
        ("GET", "/api/axe/sessions/origin/export"),
    ] {
        let response = server
            .request(method, path, &[("Origin", "https://evil.example")], None)
            .await;
        assert_eq!(response.status, 403, "{method} {path}");
        assert_eq!(response.json()["code"], "origin_not_allowed");
    }
    // The allowed origin: preflight and request get CORS headers.
    let preflight = server
        .request(
            "OPTIONS",
            "/api/axe/sessions",
            &[
                ("Origin", "https://host.example"),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://host.example")
    );
    assert!(preflight
        .header("access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    let created = server
        .request(
            "POST",
            "/api/axe/sessions",
            &[("Origin", "https://host.example")],
            None,
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.header("access-control-allow-origin"),
        Some("https://host.example")
    );
    let mut allowed = ws_request(&server.ws_url("origin"), &server.token);
    allowed
        .headers_mut()
        .insert("Origin", HeaderValue::from_static("https://host.example"));
    let (mut client, _) = connect_async(allowed).await.expect("opens");
    ping(&mut client, 1).await;
    server.shutdown().await;
}

#[tokio::test]
async fn chats_over_the_sessions_rate_are_refused_and_succeed_when_resent_after_the_wait() {
    // Six a minute: the seventh within seconds is refused, and the wait is under ten seconds.
    let server = TestServer::start(|config| config.limits.chats_per_min = 6).await;
    let mut client = server.connect("chatty").await;
    for n in 0..6 {
        send_acked(
            &mut client,
            &format!("c-{n}"),
            json!({"type": "chat", "payload": {"message": "hi"}}),
        )
        .await;
        recv_reply(&mut client).await;
    }
    let over = json!({"type": "chat", "id": "c-over", "payload": {"message": "one more"}});
    send(&mut client, over.clone()).await;
    let refusal = expect_error(&mut client, "rate_limited").await;
    assert_eq!(refusal["payload"]["id"], "c-over");
    let wait = refusal["payload"]["retry_after_ms"].as_u64().unwrap();
    assert!((1..=10_001).contains(&wait), "{wait}");
    // Not marked as seen: the same message, resent after the wait, is processed.
    tokio::time::sleep(Duration::from_millis(wait)).await;
    send_acked(&mut client, "c-over", over).await;
    recv_reply(&mut client).await;
    let export = server.export("chatty").await;
    assert!(export["processed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|id| id == "c-over"));
    server.shutdown().await;
}

#[tokio::test]
async fn frames_over_the_connections_rate_are_refused_by_id_and_order_survives() {
    let server = TestServer::start(|config| config.limits.frames_per_sec = 5).await;
    let mut client = server.connect("flood").await;
    let upload = json!({"type": "file_updated", "payload": {
        "file_id": "f", "content": "v0\n", "name": "main.rs", "language": "rust"}});
    send_acked(&mut client, "e-0", upload).await;
    // Burst 10: the first ten edits pass, the rest are refused, each naming its id.
    for n in 1..=15 {
        let edit = json!({"type": "file_updated", "id": format!("e-{n}"),
            "payload": {"file_id": "f", "content": format!("v{n}\n")}});
        send(&mut client, edit).await;
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    let mut wait = 0;
    while acked.len() + refused.len() < 15 {
        let message = recv_raw(&mut client).await;
        match message["type"].as_str() {
            Some("ack") => acked.push(message["payload"]["id"].as_str().unwrap().to_owned()),
            Some("error") => {
                assert_eq!(message["payload"]["code"], "rate_limited", "{message}");
                refused.push(message["payload"]["id"].as_str().unwrap().to_owned());
                wait = wait.max(message["payload"]["retry_after_ms"].as_u64().unwrap());
            }
            _ => {}
        }
    }
    // The upload took one token: e-1..e-9 pass, e-10..e-15 are refused — nothing after a
    // refusal gets through before the wait, so resending in order keeps the order.
    assert_eq!(acked, (1..=9).map(|n| format!("e-{n}")).collect::<Vec<_>>());
    assert_eq!(
        refused,
        (10..=15).map(|n| format!("e-{n}")).collect::<Vec<_>>()
    );
    tokio::time::sleep(Duration::from_millis(wait)).await;
    for n in 10..=15 {
        let edit = json!({"type": "file_updated", "payload": {"file_id": "f", "content": format!("v{n}\n")}});
        send_acked(&mut client, &format!("e-{n}"), edit).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let export = server.export("flood").await;
    let last = export["file_versions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["content"], "v15\n");
    server.shutdown().await;
}

#[tokio::test]
async fn connects_over_the_rate_get_429_with_retry_after() {
    let server = TestServer::start(|config| config.limits.connects_per_min = 3).await;
    // The token's own creation counted once for this address.
    let mut clients = Vec::new();
    for n in 0..2 {
        clients.push(server.connect(&format!("rate-{n}")).await);
    }
    let response = refused_upgrade(ws_request(&server.ws_url("rate-x"), &server.token)).await;
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    server.shutdown().await;
}

#[tokio::test]
async fn past_the_connection_limit_the_server_answers_503() {
    let server = TestServer::start(|config| config.limits.max_connections = 2).await;
    let mut first = server.connect("full-1").await;
    let _second = server.connect("full-2").await;
    let response = refused_upgrade(ws_request(&server.ws_url("full-3"), &server.token)).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    // A slot comes free when a connection ends.
    first.close(None).await.unwrap();
    drop(first);
    let reopened = tokio::time::timeout(EVENT_TIMEOUT, async {
        loop {
            if let Ok((client, _)) =
                connect_async(ws_request(&server.ws_url("full-3"), &server.token)).await
            {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(reopened.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn a_subject_owns_a_bounded_number_of_sessions() {
    // The server's token came with a session of its own: with own-1 and own-2 that is three.
    let server = TestServer::start(|config| config.limits.max_sessions_per_subject = 3).await;
    let _one = server.connect("own-1").await;
    let _two = server.connect("own-2").await;
    let response = refused_upgrade(ws_request(&server.ws_url("own-3"), &server.token)).await;
    assert_eq!(response.status(), 403);
    // The ones it has still open.
    let mut again = server.connect("own-1").await;
    ping(&mut again, 1).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_socket_is_closed_with_4401_when_its_token_expires() {
    let server = TestServer::start(|config| {
        with_secret(config);
        config.auth.leeway = Duration::ZERO;
    })
    .await;
    let short = anonymous_token_for("brief", now() + 2);
    let mut client = connect_with_token(&server.ws_url("brief"), &short).await;
    ping(&mut client, 1).await;
    let started = Instant::now();
    let (code, reason) = tokio::time::timeout(Duration::from_secs(5), expect_close(&mut client))
        .await
        .expect("closed in time");
    assert_eq!((code, reason.as_str()), (4401, "token_expired"));
    assert!(started.elapsed() <= Duration::from_secs(3));
    server.shutdown().await;
}

#[tokio::test]
async fn replies_beyond_the_model_slots_wait_in_line_and_are_told_their_place() {
    let server = TestServer::start(|config| {
        config.limits.llm_concurrency = 1;
        config.offline_delay = Duration::from_millis(20);
    })
    .await;
    let mut first = server.connect("slot-a").await;
    let mut second = server.connect("slot-b").await;
    let mut third = server.connect("slot-c").await;
    send(
        &mut first,
        json!({"type": "chat", "payload": {"message": "hello"}}),
    )
    .await;
    let delta = recv(&mut first).await;
    assert_eq!(delta["type"], "chat_delta");
    send(
        &mut second,
        json!({"type": "chat", "payload": {"message": "hello"}}),
    )
    .await;
    let queued = recv_raw_skipping(&mut second, &["snapshot", "ack", "user_message"]).await;
    assert_eq!(queued["type"], "chat_queued", "{queued}");
    assert_eq!(queued["payload"]["position"], 1);
    send(
        &mut third,
        json!({"type": "chat", "payload": {"message": "hello"}}),
    )
    .await;
    let queued = recv_raw_skipping(&mut third, &["snapshot", "ack", "user_message"]).await;
    assert_eq!(queued["payload"]["position"], 2);
    // Stop while waiting: the reply ends at once, stopped and empty; the line moves up.
    send(&mut third, json!({"type": "stop", "payload": {}})).await;
    let stopped = recv_raw_skipping(&mut third, &[]).await;
    assert_eq!(stopped["type"], "chat_response", "{stopped}");
    assert_eq!(stopped["payload"]["metadata"]["finish_reason"], "stopped");
    // The first finishes; the second then streams, whole.
    let done = recv_reply_after(&mut first, delta).await;
    assert_eq!(done["payload"]["metadata"]["finish_reason"], "stop");
    let reply = recv_reply(&mut second).await;
    assert_eq!(reply["payload"]["metadata"]["finish_reason"], "stop");
    server.shutdown().await;
}

/// Receives the next JSON message whose type is not in `skip`.
async fn recv_raw_skipping(client: &mut Client, skip: &[&str]) -> Value {
    loop {
        let message = recv_raw(client).await;
        if !skip.contains(&message["type"].as_str().unwrap_or_default()) {
            return message;
        }
    }
}

/// Starts a jwt-mode server verifying with `key`, requiring `aud` "axe".
async fn jwt_server(key: JwtKey) -> TestServer {
    TestServer::start(move |config| {
        config.auth.mode = AuthMode::Jwt;
        config.auth.jwt = Some(JwtSettings {
            key,
            audience: Some("axe".into()),
            issuer: Some("https://host.example".into()),
            leeway: Duration::from_secs(30),
        });
    })
    .await
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/jwt/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn host_claims(sub: &str) -> Value {
    json!({"sub": sub, "exp": now() + 600, "aud": "axe", "iss": "https://host.example"})
}

#[tokio::test]
async fn jwt_mode_verifies_the_hosts_tokens_with_each_key_type() {
    let cases = [
        (
            "HS256",
            JwtKey::Secret(SECRET.into()),
            Algorithm::HS256,
            EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        ),
        (
            "RS256",
            JwtKey::PublicKeyPem(fixture("rsa-public.pem")),
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap(),
        ),
        (
            "ES256",
            JwtKey::PublicKeyPem(fixture("ec-public.pem")),
            Algorithm::ES256,
            EncodingKey::from_ec_pem(&fixture("ec-private.pem")).unwrap(),
        ),
        (
            "EdDSA",
            JwtKey::PublicKeyPem(fixture("ed25519-public.pem")),
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&fixture("ed25519-private.pem")).unwrap(),
        ),
    ];
    for (name, key, algorithm, signing) in cases {
        let server = jwt_server(key).await;
        let alice = sign(algorithm, &signing, host_claims("alice"));
        // Without a token, jwt mode hands out nothing.
        let anonymous = server.request("POST", "/api/axe/sessions", &[], None).await;
        assert_eq!(anonymous.status, 401, "{name}");
        let created = server
            .request(
                "POST",
                "/api/axe/sessions",
                &[("Authorization", &bearer(&alice))],
                None,
            )
            .await;
        assert_eq!(created.status, 201, "{name}: {}", created.body);
        let grant = created.json();
        assert!(grant["token"].is_null(), "{name}: the host mints tokens");
        let session = grant["session_id"].as_str().unwrap();
        let mut client = connect_with_token(&server.ws_url(session), &alice).await;
        ping(&mut client, 1).await;
        let bob = sign(algorithm, &signing, host_claims("bob"));
        let stranger = refused_upgrade(ws_request(&server.ws_url(session), &bob)).await;
        assert_eq!(stranger.status(), 403, "{name}");
        let mut wrong_audience = host_claims("alice");
        wrong_audience["aud"] = json!("someone-else");
        let wrong = sign(algorithm, &signing, wrong_audience);
        let refused = refused_upgrade(ws_request(&server.ws_url(session), &wrong)).await;
        assert_eq!(refused.status(), 401, "{name}");
        let mut no_sub = host_claims("alice");
        no_sub.as_object_mut().unwrap().remove("sub");
        let refused = refused_upgrade(ws_request(
            &server.ws_url(session),
            &sign(algorithm, &signing, no_sub),
        ))
        .await;
        assert_eq!(refused.status(), 401, "{name}");
        let refresh = server
            .request(
                "POST",
                &format!("/api/axe/sessions/{session}/token"),
                &[("Authorization", &bearer(&alice))],
                None,
            )
            .await;
        assert_eq!(refresh.status, 400, "{name}: {}", refresh.body);
        server.shutdown().await;
    }
}
