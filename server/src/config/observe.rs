//! Observability settings: who may read `/metrics` and `/dashboard`, telemetry retention and
//! rate, the alert thresholds, and the node's name.

use super::vars::Vars;
use crate::error::Result;
use std::time::Duration;

/// How the server reports on itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ObserveConfig {
    /// Bearer token for `/metrics` and `/dashboard` from anywhere but loopback
    /// (`AXE_METRICS_TOKEN`; unset: loopback only).
    pub metrics_token: Option<String>,
    /// How long telemetry events are kept (`AXE_TELEMETRY_RETENTION_DAYS`; 30).
    pub telemetry_retention: Duration,
    /// Event batches one subject may send per minute (`AXE_RATE_EVENTS_PER_MIN`; 30).
    pub events_per_min: u32,
    /// Reconnects per minute above which the dashboard alerts (`AXE_ALERT_RECONNECTS_PER_MIN`;
    /// 30).
    pub alert_reconnects_per_min: u64,
    /// Ack p99 in milliseconds above which the dashboard alerts (`AXE_ALERT_ACK_P99_MS`; 500).
    pub alert_ack_p99_ms: u64,
    /// This server's name in shared measurements (`AXE_NODE_ID`; host name and port).
    pub node_id: String,
}

impl ObserveConfig {
    /// The defaults, for a server listening on `port`.
    pub fn defaults(port: u16) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        Self {
            metrics_token: None,
            telemetry_retention: Duration::from_secs(30 * 24 * 3600),
            events_per_min: 30,
            alert_reconnects_per_min: 30,
            alert_ack_p99_ms: 500,
            node_id: format!("{host}:{port}"),
        }
    }
}

/// Reads the settings, for a server listening on `port`.
pub fn read(vars: &Vars<impl Fn(&str) -> Option<String>>, port: u16) -> Result<ObserveConfig> {
    let defaults = ObserveConfig::defaults(port);
    let days = vars.count(
        "AXE_TELEMETRY_RETENTION_DAYS",
        (defaults.telemetry_retention.as_secs() / 86_400) as usize,
    )?;
    Ok(ObserveConfig {
        metrics_token: vars.text("AXE_METRICS_TOKEN").filter(|t| !t.is_empty()),
        telemetry_retention: Duration::from_secs(days as u64 * 86_400),
        events_per_min: vars.count_u32("AXE_RATE_EVENTS_PER_MIN", defaults.events_per_min)?,
        alert_reconnects_per_min: vars.count(
            "AXE_ALERT_RECONNECTS_PER_MIN",
            defaults.alert_reconnects_per_min as usize,
        )? as u64,
        alert_ack_p99_ms: vars.count("AXE_ALERT_ACK_P99_MS", defaults.alert_ack_p99_ms as usize)?
            as u64,
        node_id: vars.text("AXE_NODE_ID").unwrap_or(defaults.node_id),
    })
}
