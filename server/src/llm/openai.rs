//! The OpenAI-compatible Chat Completions client with streaming, for OpenAI, Ollama,
//! llama.cpp's `llama-server`, vLLM and LM Studio.
//!
//! Every failure — refused key, unknown model, rate limit, server error, timeout, refused
//! connection, malformed or truncated stream — becomes an [`LlmError`], never a hang or panic.
//! Dropping the returned stream drops the HTTP response, which closes the connection, so the
//! model server stops generating.

use super::{sse::SseParser, EventStream, LlmError, LlmEvent, LlmRequest, Provider};
use futures_util::{stream, StreamExt};
use protocol::{FinishReason, Usage};
use serde::Deserialize;
use serde_json::json;
use std::{collections::VecDeque, time::Duration};

/// How to reach the model server.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Base URL up to and including the API version, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Model name sent with each request.
    pub model: String,
    /// Bearer token, if the server wants one.
    pub api_key: Option<String>,
    /// Sampling temperature.
    pub temperature: f32,
    /// Most tokens one reply may have.
    pub max_tokens: u32,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for the response to start and between two pieces of the stream.
    pub idle_timeout: Duration,
}

/// The streaming Chat Completions client.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    config: OpenAiConfig,
    client: reqwest::Client,
}

impl OpenAiProvider {
    /// A client for `config`.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| LlmError::Connect(e.to_string()))?;
        Ok(Self { config, client })
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        )
    }
}

impl Provider for OpenAiProvider {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn stream(&self, request: LlmRequest) -> EventStream {
        let messages: Vec<_> = request
            .messages
            .iter()
            .map(|turn| json!({"role": turn.role.as_str(), "content": turn.content}))
            .collect();
        let body = json!({
            "model": self.config.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        });
        let mut builder = self.client.post(self.url()).json(&body);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let idle = self.config.idle_timeout;
        let response = async move {
            let response = tokio::time::timeout(idle, builder.send())
                .await
                .map_err(|_| LlmError::Timeout("no response".into()))?
                .map_err(request_error)?;
            check_status(response, idle).await
        };
        stream::once(response)
            .flat_map(move |result| match result {
                Ok(response) => events(response, idle),
                Err(error) => stream::once(async move { Err(error) }).boxed(),
            })
            .boxed()
    }
}

fn request_error(error: reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout(error.to_string())
    } else if error.is_connect() {
        LlmError::Connect(error.to_string())
    } else {
        LlmError::BadStream(error.to_string())
    }
}

/// How much of an error response's body is read (for the log): enough for a message, and
/// bounded so a server that sends an endless error page cannot make AXE wait or hold it.
const ERROR_BODY_BYTES: usize = 4096;

/// Maps an error status to its error, reading at most [`ERROR_BODY_BYTES`] of the body within
/// `idle` for the log.
async fn check_status(
    response: reqwest::Response,
    idle: Duration,
) -> Result<reqwest::Response, LlmError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    let reading = async {
        while let Some(Ok(piece)) = stream.next().await {
            bytes.extend_from_slice(&piece);
            if bytes.len() >= ERROR_BODY_BYTES {
                break;
            }
        }
    };
    // A body that does not arrive in time is simply not read.
    let _ = tokio::time::timeout(idle.min(Duration::from_secs(5)), reading).await;
    bytes.truncate(ERROR_BODY_BYTES);
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let status = status.as_u16();
    Err(match status {
        401 | 403 => LlmError::Unauthorized { status, body },
        404 => LlmError::UnknownModel(body),
        429 => LlmError::RateLimited(body),
        _ => LlmError::Http { status, body },
    })
}

/// One streamed chunk of a Chat Completions response.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// What the stream parser has seen so far.
#[derive(Debug, Default)]
pub struct ChunkDecoder {
    parser: SseParser,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    done: bool,
}

impl ChunkDecoder {
    /// Feeds bytes; returns the events they complete. `Err` ends the stream.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<LlmEvent>, LlmError> {
        let mut events = Vec::new();
        let pieces = self
            .parser
            .feed(bytes)
            .map_err(|e| LlmError::BadStream(e.to_string()))?;
        for data in pieces {
            self.on_data(&data, &mut events)?;
        }
        Ok(events)
    }

    /// Called when the byte stream ends; returns the closing event, or why the stream was
    /// incomplete.
    pub fn finish(&mut self) -> Result<Vec<LlmEvent>, LlmError> {
        let mut events = Vec::new();
        if let Some(data) = self.parser.finish() {
            self.on_data(&data, &mut events)?;
        }
        if !self.done {
            if let Some(reason) = self.finish_reason.take() {
                // Some servers end without `[DONE]` once they have given a finish reason.
                events.push(LlmEvent::Finished {
                    finish_reason: reason,
                    usage: self.usage.take(),
                });
                self.done = true;
            } else {
                return Err(LlmError::BadStream(
                    "the stream ended before the reply was complete".into(),
                ));
            }
        }
        Ok(events)
    }

    /// Whether the reply is complete.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn on_data(&mut self, data: &str, events: &mut Vec<LlmEvent>) -> Result<(), LlmError> {
        if self.done {
            return Ok(());
        }
        if data.trim() == "[DONE]" {
            events.push(LlmEvent::Finished {
                finish_reason: self.finish_reason.take().unwrap_or(FinishReason::Stop),
                usage: self.usage.take(),
            });
            self.done = true;
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|e| LlmError::BadStream(format!("unreadable chunk ({e}): {data:.200}")))?;
        if let Some(error) = chunk.error {
            return Err(LlmError::BadStream(format!("error in the stream: {error}")));
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                events.push(LlmEvent::Delta(text));
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(model_finish_reason(&reason));
            }
        }
        Ok(())
    }
}

/// What a model's `finish_reason` means for the reply: `length` is a reply cut by the token
/// limit; every other reason (`stop`, `eos`, `content_filter`, `tool_calls`…) ends a reply
/// the model considers finished.
fn model_finish_reason(reason: &str) -> FinishReason {
    if reason == "length" {
        FinishReason::Length
    } else {
        FinishReason::Stop
    }
}

/// The events of a successful streaming response.
fn events(response: reqwest::Response, idle: Duration) -> EventStream {
    struct State {
        bytes: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        decoder: ChunkDecoder,
        ready: VecDeque<Result<LlmEvent, LlmError>>,
        ended: bool,
    }
    let state = State {
        bytes: response.bytes_stream().boxed(),
        decoder: ChunkDecoder::default(),
        ready: VecDeque::new(),
        ended: false,
    };
    stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(event) = state.ready.pop_front() {
                if event.is_err() {
                    state.ended = true;
                    state.ready.clear();
                }
                return Some((event, state));
            }
            if state.ended || state.decoder.is_done() {
                return None;
            }
            let outcome = match tokio::time::timeout(idle, state.bytes.next()).await {
                Err(_) => Err(LlmError::Timeout("the stream stalled".into())),
                Ok(Some(Ok(bytes))) => state.decoder.feed(&bytes),
                Ok(Some(Err(error))) => Err(LlmError::BadStream(error.to_string())),
                Ok(None) => {
                    state.ended = true;
                    state.decoder.finish()
                }
            };
            match outcome {
                Ok(events) => state.ready.extend(events.into_iter().map(Ok)),
                Err(error) => state.ready.push_back(Err(error)),
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(stream: &str) -> (Vec<LlmEvent>, Result<(), LlmError>) {
        let mut decoder = ChunkDecoder::default();
        let mut events = Vec::new();
        let result = decoder
            .feed(stream.as_bytes())
            .and_then(|e| {
                events.extend(e);
                decoder.finish()
            })
            .map(|e| events.extend(e));
        (events, result)
    }

    #[test]
    fn deltas_then_finish_with_usage() {
        let stream = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
            "data: [DONE]\n\n",
        );
        let (events, result) = decode(stream);
        assert_eq!(result, Ok(()));
        assert_eq!(
            events,
            vec![
                LlmEvent::Delta("Hel".into()),
                LlmEvent::Delta("lo".into()),
                LlmEvent::Finished {
                    finish_reason: FinishReason::Stop,
                    usage: Some(Usage {
                        prompt_tokens: 5,
                        completion_tokens: 2
                    })
                }
            ]
        );
    }

    #[test]
    fn a_truncated_stream_is_an_error() {
        let (events, result) =
            decode("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n");
        assert_eq!(events, vec![LlmEvent::Delta("Hel".into())]);
        assert!(matches!(result, Err(LlmError::BadStream(_))));
    }

    #[test]
    fn malformed_chunks_and_error_objects_are_errors() {
        assert!(matches!(
            decode("data: {oops\n\n").1,
            Err(LlmError::BadStream(_))
        ));
        assert!(matches!(
            decode("data: {\"error\":{\"message\":\"overloaded\"}}\n\n").1,
            Err(LlmError::BadStream(m)) if m.contains("overloaded")
        ));
    }
}
