//! The session WebSocket: the upgrade endpoint and one connection's reader and writer.

pub mod connection;
pub mod upgrade;
