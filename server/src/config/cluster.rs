//! Cluster settings: several nodes over one Redis and one PostgreSQL (`AXE_REDIS_URL`,
//! `AXE_LEASE_SECS`, `AXE_DRAIN_SECS`).

use super::vars::Vars;
use crate::error::{Error, Result};
use std::time::Duration;

/// How this node runs beside others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Redis, which holds the session leases and carries take-over requests between nodes
    /// (`AXE_REDIS_URL`; unset: a single node, no Redis).
    pub redis_url: Option<String>,
    /// How long a session's lease lives unless renewed (`AXE_LEASE_SECS`; 10): after a node
    /// dies, its sessions move elsewhere within about this long.
    pub lease: Duration,
    /// How long a node told to stop (SIGTERM) keeps serving while `/readyz` answers 503, so
    /// the balancer sends new connections elsewhere first (`AXE_DRAIN_SECS`; 5 in a cluster,
    /// 0 for a single node, which has nowhere to send them).
    pub drain: Duration,
}

impl ClusterConfig {
    /// A single node.
    pub fn single() -> Self {
        Self {
            redis_url: None,
            lease: Duration::from_secs(10),
            drain: Duration::ZERO,
        }
    }

    /// Whether several nodes share the sessions.
    pub fn is_cluster(&self) -> bool {
        self.redis_url.is_some()
    }
}

/// Reads the settings; a cluster needs PostgreSQL (`database_url`), since every node must see
/// every session's history.
pub fn read(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    database_url: &str,
) -> Result<ClusterConfig> {
    let single = ClusterConfig::single();
    let redis_url = vars.text("AXE_REDIS_URL");
    if let Some(url) = &redis_url {
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(Error::InvalidSetting {
                name: "AXE_REDIS_URL",
                value: url.clone(),
                reason: "expected redis://HOST:PORT".into(),
            });
        }
        if database_url.starts_with("sqlite:") {
            return Err(Error::InvalidSetting {
                name: "AXE_REDIS_URL",
                value: url.clone(),
                reason: "several nodes need one shared PostgreSQL database: set AXE_DATABASE_URL=postgres://…".into(),
            });
        }
    }
    let default_drain = if redis_url.is_some() {
        Duration::from_secs(5)
    } else {
        single.drain
    };
    Ok(ClusterConfig {
        lease: vars.seconds("AXE_LEASE_SECS", single.lease)?,
        drain: vars.seconds_or_zero("AXE_DRAIN_SECS", default_drain)?,
        redis_url,
    })
}
