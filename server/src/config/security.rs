//! The trust boundary's settings: who mints tokens and how they are checked, which web origins
//! may talk to AXE, and the rate and abuse limits.

use super::vars::Vars;
use crate::{
    auth::{AuthMode, JwtKey, JwtSettings},
    error::{Error, Result},
};
use std::{net::SocketAddr, time::Duration};

/// Shortest `AXE_SECRET` / `AXE_JWT_SECRET` accepted: 32 bytes is HS256's key size.
pub const MIN_SECRET_BYTES: usize = 32;

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Who mints tokens (`AXE_AUTH`: `anonymous`, the default, or `jwt`).
    pub mode: AuthMode,
    /// Anonymous mode's signing secret (`AXE_SECRET`); made and kept beside the database when
    /// unset.
    pub secret: Option<String>,
    /// Jwt mode's verification settings (`AXE_JWT_*`).
    pub jwt: Option<JwtSettings>,
    /// Clock skew allowed on a token's expiry (`AXE_JWT_LEEWAY_SECS`; 30), both modes.
    pub leeway: Duration,
}

/// Rate and abuse limits; a refusal never closes a connection.
#[derive(Debug, Clone, Copy)]
pub struct AbuseLimits {
    /// Chat messages per session per minute, burst the same (`AXE_RATE_CHAT_PER_MIN`; 10).
    pub chats_per_min: u32,
    /// Frames per connection per second, burst twice that (`AXE_RATE_FRAMES_PER_SEC`; 20).
    pub frames_per_sec: u32,
    /// WebSocket connects per client address and per subject per minute
    /// (`AXE_RATE_CONNECTS_PER_MIN`; 60).
    pub connects_per_min: u32,
    /// Open connections in all (`AXE_MAX_CONNECTIONS`; the open-file limit less a reserve).
    pub max_connections: usize,
    /// Sessions one subject may own (`AXE_MAX_SESSIONS_PER_SUBJECT`; 100).
    pub max_sessions_per_subject: usize,
    /// Files one session may hold (`AXE_MAX_FILES_PER_SESSION`; 64).
    pub max_files_per_session: usize,
    /// Model replies generated at once; more wait in line (`AXE_LLM_CONCURRENCY`; 4).
    pub llm_concurrency: usize,
}

impl AbuseLimits {
    /// The defaults.
    pub fn defaults() -> Self {
        Self {
            chats_per_min: 10,
            frames_per_sec: 20,
            connects_per_min: 60,
            max_connections: default_max_connections(),
            max_sessions_per_subject: 100,
            max_files_per_session: 64,
            llm_concurrency: 4,
        }
    }
}

/// The open-file limit less a reserve for the database, the listener and the model client: a
/// connection past it would fail for want of a file descriptor anyway, so it is better refused
/// with a clear 503.
fn default_max_connections() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<usize>().ok())
        })
        .unwrap_or(10_240);
    connections_within(soft)
}

/// Connections allowed under an open-file limit of `soft`: a reserve of a tenth, at least 256
/// and at most 512 (a database pool, log files and the model client need far fewer), and never
/// fewer than 64.
fn connections_within(soft: usize) -> usize {
    soft.saturating_sub((soft / 10).clamp(256, 512)).max(64)
}

/// The server's own origin, as `http://127.0.0.1:PORT` and `http://localhost:PORT` (and its
/// own address when it listens on another one).
pub fn own_origins(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let mut origins = vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ];
    let ip = addr.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        origins.push(match ip {
            std::net::IpAddr::V4(v4) => format!("http://{v4}:{port}"),
            std::net::IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
        });
    }
    origins
}

/// Parses `AXE_ALLOWED_ORIGINS`: comma-separated `scheme://host[:port]`, no path.
fn parse_origins(raw: &str) -> std::result::Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for origin in raw
        .split(',')
        .map(|o| o.trim().trim_end_matches('/'))
        .filter(|o| !o.is_empty())
    {
        let Some((scheme, rest)) = origin.split_once("://") else {
            return Err(format!(
                "{origin:?} is not an origin; expected e.g. https://app.example.com"
            ));
        };
        if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "{origin:?} is not an origin; expected scheme://host[:port] with no path"
            ));
        }
        origins.push(origin.to_ascii_lowercase());
    }
    if origins.is_empty() {
        return Err("expected at least one origin".into());
    }
    Ok(origins)
}

/// Reads the trust boundary's settings.
pub fn read(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    addr: SocketAddr,
) -> Result<(AuthConfig, Vec<String>, AbuseLimits)> {
    let leeway = vars.seconds_or_zero("AXE_JWT_LEEWAY_SECS", Duration::from_secs(30))?;
    let secret = |name: &'static str| -> Result<Option<String>> {
        vars.parsed(name, None, |raw| {
            if raw.len() < MIN_SECRET_BYTES {
                Err(format!("expected at least {MIN_SECRET_BYTES} characters"))
            } else {
                Ok(Some(raw.to_owned()))
            }
        })
    };
    let mode = vars.parsed("AXE_AUTH", AuthMode::Anonymous, |raw| match raw {
        "anonymous" => Ok(AuthMode::Anonymous),
        "jwt" => Ok(AuthMode::Jwt),
        _ => Err("expected anonymous or jwt".into()),
    })?;
    let jwt = match mode {
        AuthMode::Anonymous => None,
        AuthMode::Jwt => {
            let key = match (
                secret("AXE_JWT_SECRET")?,
                vars.text("AXE_JWT_PUBLIC_KEY_FILE"),
            ) {
                (Some(secret), None) => JwtKey::Secret(secret),
                (None, Some(path)) => {
                    let pem = std::fs::read(path.trim()).map_err(|e| Error::InvalidSetting {
                        name: "AXE_JWT_PUBLIC_KEY_FILE",
                        value: path.clone(),
                        reason: format!("cannot read it: {e}"),
                    })?;
                    JwtKey::PublicKeyPem(pem)
                }
                (Some(_), Some(path)) => {
                    return Err(Error::InvalidSetting {
                        name: "AXE_JWT_PUBLIC_KEY_FILE",
                        value: path,
                        reason: "set either AXE_JWT_SECRET or AXE_JWT_PUBLIC_KEY_FILE, not both"
                            .into(),
                    })
                }
                (None, None) => {
                    return Err(Error::InvalidSetting {
                        name: "AXE_AUTH",
                        value: "jwt".into(),
                        reason: "jwt mode needs AXE_JWT_SECRET (HS256) or AXE_JWT_PUBLIC_KEY_FILE \
                                 (RS256, ES256 or EdDSA)"
                            .into(),
                    })
                }
            };
            Some(JwtSettings {
                key,
                audience: vars.text("AXE_JWT_AUDIENCE"),
                issuer: vars.text("AXE_JWT_ISSUER"),
                leeway,
            })
        }
    };
    let auth = AuthConfig {
        mode,
        secret: secret("AXE_SECRET")?,
        jwt,
        leeway,
    };
    let origins = vars.parsed("AXE_ALLOWED_ORIGINS", own_origins(addr), parse_origins)?;
    let defaults = AbuseLimits::defaults();
    let limits = AbuseLimits {
        chats_per_min: vars.count_u32("AXE_RATE_CHAT_PER_MIN", defaults.chats_per_min)?,
        frames_per_sec: vars.count_u32("AXE_RATE_FRAMES_PER_SEC", defaults.frames_per_sec)?,
        connects_per_min: vars.count_u32("AXE_RATE_CONNECTS_PER_MIN", defaults.connects_per_min)?,
        max_connections: vars.count("AXE_MAX_CONNECTIONS", defaults.max_connections)?,
        max_sessions_per_subject: vars.count(
            "AXE_MAX_SESSIONS_PER_SUBJECT",
            defaults.max_sessions_per_subject,
        )?,
        max_files_per_session: vars
            .count("AXE_MAX_FILES_PER_SESSION", defaults.max_files_per_session)?,
        llm_concurrency: vars.count("AXE_LLM_CONCURRENCY", defaults.llm_concurrency)?,
    };
    Ok((auth, origins, limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_default_to_the_servers_own_and_must_be_origins() {
        let addr: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            own_origins(addr),
            ["http://127.0.0.1:3000", "http://localhost:3000"]
        );
        let public: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert!(own_origins(public).contains(&"http://10.1.2.3:80".to_owned()));
        assert_eq!(
            parse_origins("https://App.example.com, http://localhost:5173/").unwrap(),
            ["https://app.example.com", "http://localhost:5173"]
        );
        assert!(parse_origins("app.example.com").is_err());
        assert!(parse_origins("https://app.example.com/path").is_err());
        assert!(parse_origins(" , ").is_err());
    }

    #[test]
    fn the_default_connection_limit_stays_below_the_open_file_limit() {
        assert!(default_max_connections() >= 64);
        assert_eq!(connections_within(20_000), 19_488);
        assert_eq!(connections_within(4_096), 3_687);
        assert_eq!(connections_within(1_024), 768);
        assert_eq!(connections_within(100), 64);
    }
}
