//! Configuration from environment variables, each with a documented default (see the README).

use crate::error::{Error, Result};
use std::{net::SocketAddr, time::Duration};

/// Everything the server can be told at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`AXE_ADDR`; default: Leptos's site address, `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// The `tracing` filter (`AXE_LOG`; default `info`).
    pub log_filter: String,
    /// A connection with no traffic for this long is closed (`AXE_IDLE_TIMEOUT_SECS`; 90).
    pub idle_timeout: Duration,
    /// Largest WebSocket message or frame accepted (`AXE_MAX_MESSAGE_BYTES`; 1 MiB); larger
    /// closes the connection with 1009.
    pub max_message_bytes: usize,
    /// Largest file content or chat text the server keeps (`AXE_MAX_FILE_BYTES`; 512 KiB);
    /// larger is refused with `error message_too_large` and the connection stays open.
    pub max_file_bytes: usize,
    /// Messages queued for one connection before it counts as a slow consumer and is closed
    /// (`AXE_OUTBOUND_QUEUE`; 64).
    pub outbound_queue: usize,
    /// How long shutdown waits for connections to close (`AXE_SHUTDOWN_GRACE_SECS`; 5).
    pub shutdown_grace: Duration,
}

impl Config {
    /// Defaults for everything, listening on `addr`.
    pub fn with_addr(addr: SocketAddr) -> Self {
        Self {
            addr,
            log_filter: "info".into(),
            idle_timeout: Duration::from_secs(90),
            max_message_bytes: 1024 * 1024,
            max_file_bytes: 512 * 1024,
            outbound_queue: 64,
            shutdown_grace: Duration::from_secs(5),
        }
    }

    /// Reads the `AXE_*` variables through `lookup`, falling back to the defaults.
    ///
    /// Taking a lookup function instead of reading the process environment keeps tests free of
    /// global state.
    pub fn from_lookup(
        default_addr: SocketAddr,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let defaults = Self::with_addr(default_addr);
        let seconds = |name: &'static str, default: Duration| -> Result<Duration> {
            Ok(match lookup(name) {
                None => default,
                Some(raw) => Duration::from_secs(parse_positive(name, &raw)? as u64),
            })
        };
        let count = |name: &'static str, default: usize| -> Result<usize> {
            match lookup(name) {
                None => Ok(default),
                Some(raw) => parse_positive(name, &raw),
            }
        };
        let addr = match lookup("AXE_ADDR") {
            None => defaults.addr,
            Some(raw) => raw.trim().parse().map_err(|_| Error::InvalidSetting {
                name: "AXE_ADDR",
                value: raw.clone(),
                reason: "expected IP:PORT, e.g. 127.0.0.1:3000".into(),
            })?,
        };
        Ok(Self {
            addr,
            log_filter: lookup("AXE_LOG").unwrap_or(defaults.log_filter),
            idle_timeout: seconds("AXE_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
            max_message_bytes: count("AXE_MAX_MESSAGE_BYTES", defaults.max_message_bytes)?,
            max_file_bytes: count("AXE_MAX_FILE_BYTES", defaults.max_file_bytes)?,
            outbound_queue: count("AXE_OUTBOUND_QUEUE", defaults.outbound_queue)?,
            shutdown_grace: seconds("AXE_SHUTDOWN_GRACE_SECS", defaults.shutdown_grace)?,
        })
    }
}

fn parse_positive(name: &'static str, raw: &str) -> Result<usize> {
    match raw.trim().parse::<usize>() {
        Ok(value) if value > 0 => Ok(value),
        _ => Err(Error::InvalidSetting {
            name,
            value: raw.to_owned(),
            reason: "expected a whole number greater than 0".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup("127.0.0.1:3000".parse().unwrap(), |name| {
            map.get(name).cloned()
        })
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = from(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.idle_timeout, Duration::from_secs(90));
        assert_eq!(config.outbound_queue, 64);
    }

    #[test]
    fn settings_override_defaults() {
        let config = from(&[("AXE_ADDR", "0.0.0.0:8080"), ("AXE_IDLE_TIMEOUT_SECS", "5")]).unwrap();
        assert_eq!(config.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(config.idle_timeout, Duration::from_secs(5));
    }

    #[test]
    fn invalid_settings_name_the_variable() {
        let error = from(&[("AXE_IDLE_TIMEOUT_SECS", "soon")]).unwrap_err();
        assert!(
            error.to_string().contains("AXE_IDLE_TIMEOUT_SECS"),
            "{error}"
        );
        assert!(from(&[("AXE_OUTBOUND_QUEUE", "0")]).is_err());
        assert!(from(&[("AXE_ADDR", "localhost")]).is_err());
    }
}
