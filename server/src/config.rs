//! Configuration from environment variables, each with a documented default (see the README).

use crate::{
    error::{Error, Result},
    llm::{openai::OpenAiConfig, prompt::PromptBudget},
};
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
        let llm = match lookup("AXE_LLM_BASE_URL").filter(|url| !url.trim().is_empty()) {
            None => None,
            Some(base_url) => {
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(Error::InvalidSetting {
                        name: "AXE_LLM_BASE_URL",
                        value: base_url,
                        reason:
                            "expected an http:// or https:// URL, e.g. http://127.0.0.1:8080/v1"
                                .into(),
                    });
                }
                let temperature = match lookup("AXE_LLM_TEMPERATURE") {
                    None => 0.2,
                    Some(raw) => match raw.trim().parse::<f32>() {
                        Ok(t) if (0.0..=2.0).contains(&t) => t,
                        _ => {
                            return Err(Error::InvalidSetting {
                                name: "AXE_LLM_TEMPERATURE",
                                value: raw,
                                reason: "expected a number from 0 to 2".into(),
                            })
                        }
                    },
                };
                Some(OpenAiConfig {
                    base_url,
                    model: lookup("AXE_LLM_MODEL").unwrap_or_else(|| "default".into()),
                    api_key: lookup("AXE_LLM_API_KEY").filter(|k| !k.is_empty()),
                    temperature,
                    max_tokens: count("AXE_LLM_MAX_TOKENS", 1024)? as u32,
                    connect_timeout: seconds(
                        "AXE_LLM_CONNECT_TIMEOUT_SECS",
                        Duration::from_secs(10),
                    )?,
                    idle_timeout: seconds("AXE_LLM_TIMEOUT_SECS", Duration::from_secs(60))?,
                })
            }
        };
        let offline_delay = match lookup("AXE_OFFLINE_DELAY_MS") {
            None => defaults.offline_delay,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(ms) => Duration::from_millis(ms),
                Err(_) => {
                    return Err(Error::InvalidSetting {
                        name: "AXE_OFFLINE_DELAY_MS",
                        value: raw,
                        reason: "expected a whole number of milliseconds".into(),
                    })
                }
            },
        };
        let database_url = match lookup("AXE_DATABASE_URL").filter(|url| !url.trim().is_empty()) {
            None => defaults.database_url,
            Some(url) => {
                let url = url.trim().to_owned();
                let known = ["sqlite:", "postgres://", "postgresql://"];
                if !known.iter().any(|scheme| url.starts_with(scheme)) {
                    return Err(Error::InvalidSetting {
                        name: "AXE_DATABASE_URL",
                        value: url,
                        reason: "expected sqlite:PATH or postgres://USER@HOST:PORT/DB".into(),
                    });
                }
                url
            }
        };
        Ok(Self {
            database_url,
            llm,
            prompt_budget: PromptBudget {
                file_chars: count("AXE_LLM_FILE_CHARS", defaults.prompt_budget.file_chars)?,
                history_turns: count(
                    "AXE_LLM_HISTORY_TURNS",
                    defaults.prompt_budget.history_turns,
                )?,
            },
            offline_delay,
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

impl Config {
    /// Where sessions are kept, for people: the SQLite file, or just "PostgreSQL" (its URL may
    /// carry a password).
    pub fn storage_description(&self) -> String {
        match self.database_url.strip_prefix("sqlite:") {
            Some(path) => format!("SQLite ({})", path.trim_start_matches("//")),
            None => "PostgreSQL".into(),
        }
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
        assert!(from(&[("AXE_LLM_BASE_URL", "localhost:8080")]).is_err());
        assert!(from(&[("AXE_DATABASE_URL", "mysql://x")]).is_err());
        assert!(from(&[
            ("AXE_LLM_BASE_URL", "http://x/v1"),
            ("AXE_LLM_TEMPERATURE", "hot")
        ])
        .is_err());
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
}
