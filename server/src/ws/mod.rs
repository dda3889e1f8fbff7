//! The session WebSocket: the upgrade endpoint, one connection's tasks, and the registry.

pub mod connection;
pub mod registry;
pub mod upgrade;
