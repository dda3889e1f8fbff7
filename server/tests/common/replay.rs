//! A stand-in model server for tests: a real HTTP server on `127.0.0.1:0` that answers
//! `POST /v1/chat/completions` by replaying saved server-sent-event frames, failing with a
//! status, breaking off mid-stream, or never answering, and reports whether the client hung up
//! before the stream was over.

use axum::{
    body::Body,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use futures_util::StreamExt;
use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::watch;

/// How the stand-in answers.
#[derive(Debug, Clone)]
pub enum Scenario {
    /// Streams `frames` (each a whole `data: ...\n\n` event), `gap` apart.
    Replay { frames: Vec<String>, gap: Duration },
    /// Streams `frames`, then breaks the connection without finishing.
    BreakAfter { frames: Vec<String> },
    /// Answers with `status` and `body`.
    Status { status: u16, body: String },
    /// Accepts the request and never answers.
    Silent,
    /// Answers with `status` and an error page that never ends (a piece every 50 ms).
    EndlessError { status: u16 },
}

/// What the stand-in observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hangup {
    /// The stream is still being sent.
    Streaming,
    /// Every frame was sent.
    Finished,
    /// The client dropped the response before the last frame.
    ClientLeftEarly,
}

#[derive(Clone)]
struct Shared {
    scenario: Scenario,
    hangup: watch::Sender<Hangup>,
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
}

/// A running stand-in.
pub struct ReplayServer {
    /// `http://127.0.0.1:PORT/v1`, for `AXE_LLM_BASE_URL`.
    pub base_url: String,
    hangup: watch::Receiver<Hangup>,
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl ReplayServer {
    /// Starts a stand-in that answers every request with `scenario`.
    pub async fn start(scenario: Scenario) -> Self {
        let (hangup, hangup_rx) = watch::channel(Hangup::Streaming);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            scenario,
            hangup,
            requests: requests.clone(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{addr}/v1"),
            hangup: hangup_rx,
            requests,
        }
    }

    /// Waits until the stream ended one way or the other, and says which.
    pub async fn ended(&mut self) -> Hangup {
        let outcome = tokio::time::timeout(
            super::EVENT_TIMEOUT,
            self.hangup.wait_for(|h| *h != Hangup::Streaming),
        )
        .await
        .expect("the stream ends in time")
        .expect("the stand-in is running");
        *outcome
    }

    /// The JSON bodies of the requests received so far.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reports how the body stream ended when it is dropped.
struct HangupGuard {
    hangup: watch::Sender<Hangup>,
    finished: bool,
}

impl Drop for HangupGuard {
    fn drop(&mut self) {
        let outcome = if self.finished {
            Hangup::Finished
        } else {
            Hangup::ClientLeftEarly
        };
        self.hangup.send_replace(outcome);
    }
}

async fn answer(State(shared): State<Shared>, body: String) -> Response {
    if let Ok(json) = serde_json::from_str(&body) {
        shared.requests.lock().unwrap().push(json);
    }
    match shared.scenario {
        Scenario::Status { status, body } => {
            (StatusCode::from_u16(status).unwrap(), body).into_response()
        }
        Scenario::Silent => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Scenario::EndlessError { status } => {
            let pieces = futures_util::stream::repeat(()).then(|()| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, Infallible>(
                    "<p>internal details: http://10.0.0.7:9000/secret-path</p>\n".repeat(100),
                )
            });
            Response::builder()
                .status(status)
                .body(Body::from_stream(pieces))
                .unwrap()
        }
        Scenario::Replay { frames, gap } => {
            let guard = HangupGuard {
                hangup: shared.hangup,
                finished: false,
            };
            let count = frames.len();
            let stream = futures_util::stream::iter(frames.into_iter().enumerate())
                .then(move |(i, frame)| async move {
                    if i > 0 {
                        tokio::time::sleep(gap).await;
                    }
                    (i, frame)
                })
                .scan(guard, move |guard, (i, frame)| {
                    if i + 1 == count {
                        guard.finished = true;
                    }
                    std::future::ready(Some(Ok::<_, Infallible>(frame)))
                });
            sse_response(Body::from_stream(stream))
        }
        Scenario::BreakAfter { frames } => {
            // Each piece goes out on its own (a pause lets hyper flush it) before the break, as
            // when a model server crashes part-way.
            let stream = futures_util::stream::iter(
                frames
                    .into_iter()
                    .map(Ok::<_, std::io::Error>)
                    .chain(std::iter::once(Err(std::io::Error::other("boom")))),
            )
            .then(|item| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                item
            });
            sse_response(Body::from_stream(stream))
        }
    }
}

fn sse_response(body: Body) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(body)
        .unwrap()
}

/// Splits a saved stream (events separated by blank lines) into whole frames.
pub fn frames_of(recorded: &str) -> Vec<String> {
    recorded
        .split("\n\n")
        .filter(|event| !event.trim().is_empty())
        .map(|event| format!("{}\n\n", event.trim_start_matches('\n')))
        .collect()
}
