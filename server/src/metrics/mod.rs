//! What the server counts and times: exposed at `/metrics` in the Prometheus text format
//! (through the `prometheus` crate, one registry per server), and summed per minute for the
//! dashboard ([`minutes`]), whose plots the database aggregates over time buckets.
//!
//! Every recording goes through a method here, so the exposition and the dashboard always
//! count the same things.

pub mod minutes;

use minutes::Minutes;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use std::time::Duration;

/// Buckets of the ack latency histogram, in seconds.
const ACK_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Buckets of the database commit histogram, in seconds.
const COMMIT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];
/// Buckets of the model's first-token latency, in seconds.
const FIRST_TOKEN_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];
/// Buckets of a whole reply's duration, in seconds.
const REPLY_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    connections_open: IntGauge,
    connects: IntCounter,
    closes: IntCounterVec,
    client_messages: IntCounterVec,
    errors: IntCounterVec,
    rate_limited: IntCounterVec,
    ack_seconds: Histogram,
    db_commit_seconds: Histogram,
    llm_first_token_seconds: Histogram,
    llm_reply_seconds: Histogram,
    llm_tokens: IntCounter,
    telemetry_events: IntCounterVec,
    /// The same, summed per minute for the dashboard.
    pub minutes: Minutes,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> T {
    // Names are literals of this file and registered once each: failure is a programming
    // error caught by the tests.
    registry
        .register(Box::new(metric.clone()))
        .unwrap_or_else(|e| panic!("metric registration: {e}"));
    metric
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    register(
        registry,
        IntCounter::new(name, help).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}

fn counter_vec(registry: &Registry, name: &str, help: &str, label: &str) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), &[label])
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    register(registry, metric)
}

fn histogram(registry: &Registry, name: &str, help: &str, buckets: &[f64]) -> Histogram {
    let metric = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    register(registry, metric)
}

impl Metrics {
    /// A fresh set, all zero.
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        Self {
            connections_open: register(
                r,
                IntGauge::new("axe_ws_connections_open", "WebSocket connections open now")
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
            connects: counter(r, "axe_ws_connects_total", "WebSocket connections accepted"),
            closes: counter_vec(
                r,
                "axe_ws_closes_total",
                "WebSocket connections ended, by close code",
                "code",
            ),
            client_messages: counter_vec(
                r,
                "axe_client_messages_total",
                "Client frames received, by message type (invalid: not decodable)",
                "type",
            ),
            errors: counter_vec(r, "axe_errors_total", "error frames sent, by code", "code"),
            rate_limited: counter_vec(
                r,
                "axe_rate_limited_total",
                "Requests and frames refused by a rate limit, by rule",
                "rule",
            ),
            ack_seconds: histogram(
                r,
                "axe_ack_seconds",
                "A state-changing frame received until its ack is queued",
                ACK_BUCKETS,
            ),
            db_commit_seconds: histogram(
                r,
                "axe_db_commit_seconds",
                "One batch's database transaction",
                COMMIT_BUCKETS,
            ),
            llm_first_token_seconds: histogram(
                r,
                "axe_llm_first_token_seconds",
                "A reply's start until the model's first piece of text",
                FIRST_TOKEN_BUCKETS,
            ),
            llm_reply_seconds: histogram(
                r,
                "axe_llm_reply_seconds",
                "A reply's start until its end",
                REPLY_BUCKETS,
            ),
            llm_tokens: counter(
                r,
                "axe_llm_tokens_total",
                "Tokens the model generated (its usage report; else one per streamed piece)",
            ),
            telemetry_events: counter_vec(
                r,
                "axe_telemetry_events_total",
                "Telemetry events stored, by name",
                "name",
            ),
            minutes: Minutes::default(),
            registry,
        }
    }

    /// The exposition, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec only fails for malformed metric families, which register() rules
        // out.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// A WebSocket connection opened; `reconnect` when its session's last one ended moments ago.
    pub fn connected(&self, reconnect: bool) {
        self.connects.inc();
        self.connections_open.inc();
        self.minutes
            .connected(reconnect, self.connections_open.get());
    }

    /// A WebSocket connection ended with close `code` (the one sent, or the client's).
    pub fn closed(&self, code: u16) {
        self.closes.with_label_values(&[&code.to_string()]).inc();
        self.connections_open.dec();
        self.minutes.closed(code, self.connections_open.get());
    }

    /// A client frame of `kind` arrived (`invalid` when it could not be decoded).
    pub fn client_message(&self, kind: &str) {
        self.client_messages.with_label_values(&[kind]).inc();
    }

    /// An error frame with `code` was sent.
    pub fn error(&self, code: &str) {
        self.errors.with_label_values(&[code]).inc();
    }

    /// Something was refused by the rate limit `rule`.
    pub fn rate_limited(&self, rule: &str) {
        self.rate_limited.with_label_values(&[rule]).inc();
        self.minutes.rate_limited();
    }

    /// A state-changing frame was acknowledged `took` after it arrived.
    pub fn acked(&self, took: Duration) {
        self.ack_seconds.observe(took.as_secs_f64());
        self.minutes.acked(took);
    }

    /// A database transaction took `took`.
    pub fn committed(&self, took: Duration) {
        self.db_commit_seconds.observe(took.as_secs_f64());
    }

    /// The model's first piece of a reply came `took` after the reply started.
    pub fn first_token(&self, took: Duration) {
        self.llm_first_token_seconds.observe(took.as_secs_f64());
        self.minutes.first_token(took);
    }

    /// A reply ended `took` after it started, the model having produced `tokens`.
    pub fn reply_done(&self, took: Duration, tokens: u64) {
        self.llm_reply_seconds.observe(took.as_secs_f64());
        self.llm_tokens.inc_by(tokens);
    }

    /// A telemetry event `name` was stored.
    pub fn telemetry_event(&self, name: &str) {
        self.telemetry_events.with_label_values(&[name]).inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_name_is_exposed() {
        let metrics = Metrics::new();
        metrics.connected(false);
        metrics.closed(1000);
        metrics.client_message("chat");
        metrics.error("busy");
        metrics.rate_limited("chat");
        metrics.acked(Duration::from_millis(3));
        metrics.committed(Duration::from_millis(1));
        metrics.first_token(Duration::from_millis(200));
        metrics.reply_done(Duration::from_secs(2), 40);
        metrics.telemetry_event("widget_opened");
        let text = metrics.render();
        for name in [
            "axe_ws_connections_open",
            "axe_ws_connects_total",
            "axe_ws_closes_total{code=\"1000\"}",
            "axe_client_messages_total{type=\"chat\"}",
            "axe_errors_total{code=\"busy\"}",
            "axe_rate_limited_total{rule=\"chat\"}",
            "axe_ack_seconds_bucket",
            "axe_db_commit_seconds_count",
            "axe_llm_first_token_seconds_sum",
            "axe_llm_reply_seconds_count",
            "axe_llm_tokens_total 40",
            "axe_telemetry_events_total{name=\"widget_opened\"} 1",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}
