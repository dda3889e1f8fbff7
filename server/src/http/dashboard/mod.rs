//! `GET /dashboard[?range=hour|day]`: live plots of the server — open connections, connects
//! and reconnects per minute, closes by code, ack latency p50/p95/p99, model first-token
//! latency p50/p95, rate-limit refusals, telemetry events by name — with an alert banner.
//! Protected like `/metrics`. The database sums finished minutes over the plot's time buckets
//! (a bounded number of rows: one per minute and series); the minute in progress comes from
//! memory, so a burst shows at once.
//!
//! - [`data`]: from sums to plotted lines.
//! - [`charts`]: a plot as SVG.
//! - [`page`]: the Leptos view around them.

pub mod charts;
pub mod data;
pub mod page;

use super::metrics::{may_observe, refusal};
use crate::{metrics::minutes::quantile, state::AppState};
use axum::{
    extract::{ConnectInfo, Query, State},
    http::HeaderMap,
    response::{Html, IntoResponse, Response},
};
use data::{Range, Sums};
use serde::Deserialize;
use std::net::SocketAddr;

/// The page's query.
#[derive(Debug, Deserialize)]
pub struct DashboardQuery {
    range: Option<String>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `GET /dashboard`.
pub async fn page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Response {
    if !may_observe(&state, peer, &headers) {
        return refusal(&state);
    }
    let range = Range::named(query.range.as_deref());
    let now = now_ms();
    let since = now - range.span_ms() - range.bucket_ms();
    let (sums, telemetry) = match tokio::try_join!(
        state.storage.minute_sums(since, range.bucket_ms()),
        state.storage.telemetry_counts(since, range.bucket_ms()),
    ) {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "cannot read the dashboard's data");
            return super::error::ApiError::internal("reading the dashboard's data")
                .into_response();
        }
    };
    let mut sums = Sums::from_rows(sums);
    let minute = state.metrics.minutes.current();
    sums.add_minute(&minute, range.bucket_ms());
    let buckets = data::buckets(range, now);
    let plots = data::plots(range, &buckets, &sums, &telemetry);
    let charts = plots
        .iter()
        .map(|plot| (plot.title, charts::svg(plot, now, range.span_ms())))
        .collect();
    let observe = &state.config.observe;
    let alerts = state.metrics.minutes.alerts(
        observe.alert_reconnects_per_min,
        observe.alert_ack_p99_ms as f64,
    );
    let mut messages = Vec::new();
    if let Some(count) = alerts.reconnects {
        messages.push(format!(
            "{count} reconnects in a minute (limit {})",
            observe.alert_reconnects_per_min
        ));
    }
    if let Some(p99) = alerts.ack_p99_ms {
        messages.push(format!(
            "ack p99 {p99:.0} ms (limit {} ms)",
            observe.alert_ack_p99_ms
        ));
    }
    let ack_p99 = quantile(crate::metrics::minutes::ACK_MS, &minute.ack_ms, 0.99)
        .map_or("–".to_owned(), |p| format!("{p:.0} ms"));
    let figures = vec![
        ("Open connections", minute.open.to_string()),
        ("Connects", minute.connects.to_string()),
        ("Reconnects", minute.reconnects.to_string()),
        ("Ack p99", ack_p99),
        ("Node", observe.node_id.clone()),
    ];
    let range_name = match range {
        Range::Hour => "hour",
        Range::Day => "day",
    };
    Html(page::render(page::DashboardView {
        range: range_name,
        alerts: messages,
        figures,
        charts,
    }))
    .into_response()
}
