//! Configuration from environment variables, each with a documented default (see the README).
//!
//! # Layout
//! - this file: [`Config`] and reading it.
//! - [`vars`]: one parser per kind of value, with errors that name the variable.
//! - [`security`]: authentication, allowed origins, rate and abuse limits.
//! - [`observe`]: metrics access, telemetry retention, alert thresholds, the node's name.
//! - [`cluster`]: Redis, leases and draining, for several nodes.

pub mod cluster;
pub mod observe;
pub mod security;
pub mod vars;

pub use cluster::ClusterConfig;
pub use observe::ObserveConfig;
pub use security::{AbuseLimits, AuthConfig};

use crate::{
    auth::AuthMode,
    error::{Error, Result},
    llm::{openai::OpenAiConfig, prompt::PromptBudget},
};
use std::{net::SocketAddr, time::Duration};
use vars::Vars;

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
    /// The OpenAI-compatible model server (`AXE_LLM_*`); `None` uses the offline responder.
    pub llm: Option<OpenAiConfig>,
    /// How much of the file and conversation goes into a prompt (`AXE_LLM_FILE_CHARS`; 12000,
    /// `AXE_LLM_HISTORY_TURNS`; 10).
    pub prompt_budget: PromptBudget,
    /// The offline responder's pause between streamed pieces (`AXE_OFFLINE_DELAY_MS`; 25).
    pub offline_delay: Duration,
    /// Where sessions are stored (`AXE_DATABASE_URL`; `sqlite:axe-data/axe.db`): `sqlite:PATH`
    /// for a SQLite file, created if missing, or `postgres://…` for PostgreSQL.
    pub database_url: String,
    /// How many of a file's newest versions are kept (`AXE_FILE_VERSIONS_KEPT`; 50), besides
    /// those an open conflict started from.
    pub file_versions_kept: usize,
    /// Who mints tokens and how they are checked (`AXE_AUTH`, `AXE_SECRET`, `AXE_JWT_*`).
    pub auth: AuthConfig,
    /// Web origins allowed to call `/api/axe/` from a browser (`AXE_ALLOWED_ORIGINS`; the
    /// server's own, as `127.0.0.1` and `localhost`).
    pub allowed_origins: Vec<String>,
    /// Rate and abuse limits (`AXE_RATE_*`, `AXE_MAX_*`, `AXE_LLM_CONCURRENCY`).
    pub limits: AbuseLimits,
    /// Metrics access, telemetry, alerts (`AXE_METRICS_TOKEN`, `AXE_TELEMETRY_*`, `AXE_ALERT_*`,
    /// `AXE_NODE_ID`).
    pub observe: ObserveConfig,
    /// Several nodes over Redis and PostgreSQL (`AXE_REDIS_URL`, `AXE_LEASE_SECS`,
    /// `AXE_DRAIN_SECS`).
    pub cluster: ClusterConfig,
}

/// The database used when `AXE_DATABASE_URL` is not set: a SQLite file beside the working
/// directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:axe-data/axe.db";

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
            llm: None,
            prompt_budget: PromptBudget {
                file_chars: 12_000,
                history_turns: 10,
            },
            offline_delay: Duration::from_millis(25),
            database_url: DEFAULT_DATABASE_URL.into(),
            file_versions_kept: crate::storage::DEFAULT_VERSIONS_KEPT,
            auth: AuthConfig {
                mode: AuthMode::Anonymous,
                secret: None,
                jwt: None,
                leeway: Duration::from_secs(30),
            },
            allowed_origins: security::own_origins(addr),
            limits: AbuseLimits::defaults(),
            observe: ObserveConfig::defaults(addr.port()),
            cluster: ClusterConfig::single(),
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
        let vars = Vars(lookup);
        let addr = vars.parsed("AXE_ADDR", default_addr, |raw| {
            raw.parse()
                .map_err(|_| "expected IP:PORT, e.g. 127.0.0.1:3000".to_owned())
        })?;
        let defaults = Self::with_addr(addr);
        let (auth, allowed_origins, limits) = security::read(&vars, addr)?;
        Self {
            addr,
            log_filter: vars.text("AXE_LOG").unwrap_or(defaults.log_filter),
            idle_timeout: vars.seconds("AXE_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
            max_message_bytes: vars.count("AXE_MAX_MESSAGE_BYTES", defaults.max_message_bytes)?,
            max_file_bytes: vars.count("AXE_MAX_FILE_BYTES", defaults.max_file_bytes)?,
            outbound_queue: vars.count("AXE_OUTBOUND_QUEUE", defaults.outbound_queue)?,
            shutdown_grace: vars.seconds("AXE_SHUTDOWN_GRACE_SECS", defaults.shutdown_grace)?,
            llm: llm(&vars)?,
            prompt_budget: PromptBudget {
                file_chars: vars.count("AXE_LLM_FILE_CHARS", defaults.prompt_budget.file_chars)?,
                history_turns: vars.count(
                    "AXE_LLM_HISTORY_TURNS",
                    defaults.prompt_budget.history_turns,
                )?,
            },
            offline_delay: vars.millis("AXE_OFFLINE_DELAY_MS", defaults.offline_delay)?,
            database_url: vars.parsed("AXE_DATABASE_URL", defaults.database_url, |url| {
                let known = ["sqlite:", "postgres://", "postgresql://"];
                if known.iter().any(|scheme| url.starts_with(scheme)) {
                    Ok(url.to_owned())
                } else {
                    Err("expected sqlite:PATH or postgres://USER@HOST:PORT/DB".into())
                }
            })?,
            file_versions_kept: vars
                .count("AXE_FILE_VERSIONS_KEPT", defaults.file_versions_kept)?,
            auth,
            allowed_origins,
            limits,
            observe: observe::read(&vars, addr.port())?,
            cluster: ClusterConfig::single(),
        }
        .with_cluster(&vars)
    }

    /// Reads the cluster settings, which depend on the database chosen.
    fn with_cluster(mut self, vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Self> {
        self.cluster = cluster::read(vars, &self.database_url)?;
        Ok(self)
    }

    /// Where sessions are kept, for people: the SQLite file, or just "PostgreSQL" (its URL may
    /// carry a password).
    pub fn storage_description(&self) -> String {
        match self.database_url.strip_prefix("sqlite:") {
            Some(path) => format!("SQLite ({})", path.trim_start_matches("//")),
            None => "PostgreSQL".into(),
        }
    }
}

/// The model server's settings, when `AXE_LLM_BASE_URL` is set.
fn llm(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Option<OpenAiConfig>> {
    let Some(base_url) = vars.text("AXE_LLM_BASE_URL") else {
        return Ok(None);
    };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(Error::InvalidSetting {
            name: "AXE_LLM_BASE_URL",
            value: base_url,
            reason: "expected an http:// or https:// URL, e.g. http://127.0.0.1:8080/v1".into(),
        });
    }
    let temperature = vars.parsed("AXE_LLM_TEMPERATURE", 0.2, |raw| match raw.parse::<f32>() {
        Ok(t) if (0.0..=2.0).contains(&t) => Ok(t),
        _ => Err("expected a number from 0 to 2".into()),
    })?;
    Ok(Some(OpenAiConfig {
        base_url,
        model: vars
            .text("AXE_LLM_MODEL")
            .unwrap_or_else(|| "default".into()),
        api_key: vars.text("AXE_LLM_API_KEY"),
        temperature,
        max_tokens: vars.count_u32("AXE_LLM_MAX_TOKENS", 1024)?,
        connect_timeout: vars.seconds("AXE_LLM_CONNECT_TIMEOUT_SECS", Duration::from_secs(10))?,
        idle_timeout: vars.seconds("AXE_LLM_TIMEOUT_SECS", Duration::from_secs(60))?,
    }))
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
        assert_eq!(config.auth.mode, AuthMode::Anonymous);
        assert_eq!(config.limits.chats_per_min, 10);
        assert_eq!(config.limits.llm_concurrency, 4);
        assert_eq!(
            config.allowed_origins,
            ["http://127.0.0.1:3000", "http://localhost:3000"]
        );
    }

    #[test]
    fn settings_override_defaults() {
        let config = from(&[
            ("AXE_ADDR", "0.0.0.0:8080"),
            ("AXE_IDLE_TIMEOUT_SECS", "5"),
            ("AXE_RATE_CHAT_PER_MIN", "3"),
        ])
        .unwrap();
        assert_eq!(config.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(config.idle_timeout, Duration::from_secs(5));
        assert_eq!(config.limits.chats_per_min, 3);
        assert_eq!(config.allowed_origins[0], "http://127.0.0.1:8080");
    }

    #[test]
    fn a_cluster_needs_postgresql_and_drains_by_default() {
        let error = from(&[("AXE_REDIS_URL", "redis://127.0.0.1:6379")]).unwrap_err();
        assert!(error.to_string().contains("PostgreSQL"), "{error}");
        let config = from(&[
            ("AXE_REDIS_URL", "redis://127.0.0.1:6379"),
            ("AXE_DATABASE_URL", "postgres://axe@127.0.0.1/axe"),
        ])
        .unwrap();
        assert!(config.cluster.is_cluster());
        assert_eq!(config.cluster.lease, Duration::from_secs(10));
        assert_eq!(config.cluster.drain, Duration::from_secs(5));
        assert_eq!(from(&[]).unwrap().cluster.drain, Duration::ZERO);
        assert!(from(&[("AXE_REDIS_URL", "127.0.0.1:6379")]).is_err());
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
        assert!(from(&[("AXE_LLM_BASE_URL", "localhost:8080")]).is_err());
        assert!(from(&[("AXE_DATABASE_URL", "mysql://x")]).is_err());
        assert!(from(&[
            ("AXE_LLM_BASE_URL", "http://x/v1"),
            ("AXE_LLM_TEMPERATURE", "hot")
        ])
        .is_err());
        assert!(from(&[("AXE_AUTH", "magic")]).is_err());
        assert!(from(&[("AXE_SECRET", "short")]).is_err());
        let jwt_without_key = from(&[("AXE_AUTH", "jwt")]).unwrap_err();
        assert!(jwt_without_key.to_string().contains("AXE_JWT_SECRET"));
        assert!(from(&[
            ("AXE_AUTH", "jwt"),
            ("AXE_JWT_PUBLIC_KEY_FILE", "/nonexistent.pem")
        ])
        .is_err());
        assert!(from(&[("AXE_ALLOWED_ORIGINS", "example.com")]).is_err());
    }

    #[test]
    fn a_base_url_selects_the_model_server() {
        assert!(from(&[]).unwrap().llm.is_none());
        let config = from(&[
            ("AXE_LLM_BASE_URL", "http://127.0.0.1:8080/v1"),
            ("AXE_LLM_MODEL", "gemma"),
        ])
        .unwrap();
        let llm = config.llm.unwrap();
        assert_eq!(llm.model, "gemma");
        assert_eq!(llm.max_tokens, 1024);
        assert!(llm.api_key.is_none());
    }

    #[test]
    fn jwt_mode_takes_a_secret() {
        let config = from(&[
            ("AXE_AUTH", "jwt"),
            ("AXE_JWT_SECRET", "a host secret that is long enough!"),
            ("AXE_JWT_AUDIENCE", "axe"),
        ])
        .unwrap();
        let jwt = config.auth.jwt.unwrap();
        assert_eq!(jwt.audience.as_deref(), Some("axe"));
    }
}
