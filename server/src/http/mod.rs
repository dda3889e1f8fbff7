//! The plain HTTP endpoints beside the WebSocket: health checks, the session export, and the
//! session id path parameter they share with the upgrade.

pub mod export;
pub mod health;
pub mod session_path;
