//! The node's channel: other nodes publish a session's id on it to ask this node to let that
//! session go. The subscription is re-made whenever Redis drops it (a restart); a request
//! missed meanwhile is published again by the asking node, which keeps asking until it gets
//! the lease.

use super::Cluster;
use futures_util::StreamExt;
use protocol::SessionId;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel of `node`.
pub fn channel(node: &str) -> String {
    format!("axe:node:{node}")
}

/// Subscribes to this node's channel and hands each requested session to the returned
/// receiver, for as long as the receiver lives.
pub fn listen(cluster: &Cluster) -> mpsc::UnboundedReceiver<SessionId> {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = cluster.client().clone();
    let name = channel(cluster.node());
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(100);
        while !tx.is_closed() {
            match subscribe(&client, &name, &tx).await {
                Ok(()) => wait = Duration::from_millis(100),
                Err(error) => {
                    tracing::debug!(%error, "the node's channel is down; subscribing again");
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
            }
            tokio::time::sleep(wait).await;
        }
    });
    rx
}

/// One subscription, until Redis drops it.
async fn subscribe(
    client: &redis::Client,
    name: &str,
    tx: &mpsc::UnboundedSender<SessionId>,
) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(name).await?;
    let mut messages = pubsub.into_on_message();
    while let Some(message) = messages.next().await {
        let Ok(payload) = message.get_payload::<String>() else {
            continue;
        };
        if let Ok(session) = SessionId::parse(&payload) {
            if tx.send(session).is_err() {
                break;
            }
        }
    }
    Ok(())
}
