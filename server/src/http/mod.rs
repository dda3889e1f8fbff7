//! The plain HTTP side of `/api/axe/`, the widget's files and the health checks.
//!
//! - [`assets`]: the loader `/axe/embed.js` and the build's files under `/axe/b/`.
//! - [`metrics`]: `/metrics`, and who may observe the server; [`dashboard`]: `/dashboard`.
//! - [`events`]: `POST /api/axe/events`, widgets' telemetry.
//! - [`error`]: how every refusal is answered (status, JSON body, headers).
//! - [`origin`]: the origin check and CORS in front of `/api/axe/`.
//! - [`access`]: the caller's token, session ownership, rate-limit keys.
//! - [`session_path`]: the checked `{session_id}` path parameter.
//! - [`sessions`]: creating sessions and tokens, checking access.
//! - [`export`]: everything stored about a session, for its owner.
//! - [`health`]: `/healthz` and `/readyz`.

pub mod access;
pub mod assets;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod export;
pub mod health;
pub mod metrics;
pub mod origin;
pub mod session_path;
pub mod sessions;
