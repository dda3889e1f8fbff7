//! The server's background chores while it runs: every few seconds, the finished minutes of
//! measurements go to the database and the alert rules are looked at (one warning per episode,
//! not per minute); every minute, the heap's free pages go back to the system; every hour,
//! telemetry past its retention and measurements older than two days are deleted. Stops when
//! the server shuts down.

use crate::{memory, metrics::minutes::Alerts, state::AppState};
use std::time::Duration;

/// How often minutes are written and alerts looked at.
const TICK: Duration = Duration::from_secs(5);

/// How often old rows are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How long measurements are kept: the dashboard shows a day at most.
const MINUTES_KEPT: Duration = Duration::from_secs(2 * 24 * 3600);

/// Starts the chores for `state`.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        let mut tick = tokio::time::interval(TICK);
        let mut last_prune: Option<tokio::time::Instant> = None;
        let mut last_give_back = tokio::time::Instant::now();
        let mut alerting = Alerts::default();
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = tick.tick() => {}
            }
            write_minutes(&state).await;
            alerting = watch_alerts(&state, alerting);
            if last_give_back.elapsed() >= memory::GIVE_BACK_EVERY {
                last_give_back = tokio::time::Instant::now();
                // Off the async workers: the walk over the free lists takes a moment.
                let _ = tokio::task::spawn_blocking(memory::give_back_free_pages).await;
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(tokio::time::Instant::now());
                prune(&state).await;
            }
        }
        // What the last minute held so far is kept too.
        write_minutes(&state).await;
    });
}

async fn write_minutes(state: &AppState) {
    let node = &state.config.observe.node_id;
    for minute in state.metrics.minutes.take_finished() {
        if let Err(error) = state
            .storage
            .store_minute(minute.start, node, &minute.rows())
            .await
        {
            // A minute missing from the plots is all that is lost.
            tracing::warn!(%error, "cannot store a minute of measurements");
        }
    }
}

/// Logs when an alert starts and when it ends; returns what holds now.
fn watch_alerts(state: &AppState, before: Alerts) -> Alerts {
    let observe = &state.config.observe;
    let now = state.metrics.minutes.alerts(
        observe.alert_reconnects_per_min,
        observe.alert_ack_p99_ms as f64,
    );
    match (before.reconnects, now.reconnects) {
        (None, Some(count)) => tracing::warn!(
            reconnects_per_min = count,
            limit = observe.alert_reconnects_per_min,
            "alert: clients are reconnecting often"
        ),
        (Some(_), None) => tracing::info!("alert over: reconnects are back under the limit"),
        _ => {}
    }
    match (before.ack_p99_ms, now.ack_p99_ms) {
        (None, Some(p99)) => tracing::warn!(
            ack_p99_ms = p99,
            limit = observe.alert_ack_p99_ms,
            "alert: acknowledgements are slow"
        ),
        (Some(_), None) => tracing::info!("alert over: acknowledgements are fast again"),
        _ => {}
    }
    now
}

async fn prune(state: &AppState) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let retention = state.config.observe.telemetry_retention.as_millis() as i64;
    match state.storage.prune_telemetry(now - retention).await {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "pruned telemetry past its retention"),
        Err(error) => tracing::warn!(%error, "cannot prune telemetry"),
    }
    if let Err(error) = state
        .storage
        .prune_minutes(now - MINUTES_KEPT.as_millis() as i64)
        .await
    {
        tracing::warn!(%error, "cannot prune old measurements");
    }
}
