//! The dashboard's measurements, summed per clock minute in memory: connects and reconnects,
//! closes by code, rate-limit refusals, ack and first-token latencies as histogram bucket
//! counts, and the open connections. A finished minute is written to the database as rows of
//! `(minute, node, series, value)`, which the dashboard's queries sum over any time bucket; the
//! minute in progress is shown from memory. Also the alert rules, over the minute in progress
//! and the one before it.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

/// Upper bounds of the ack latency buckets, in milliseconds (the last bucket is open).
pub const ACK_MS: &[u64] = &[1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000];
/// Upper bounds of the first-token latency buckets, in milliseconds.
pub const FIRST_TOKEN_MS: &[u64] = &[50, 100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000];

/// A session whose connection ended less than this long ago reconnects when it connects.
pub const RECONNECT_WINDOW: Duration = Duration::from_secs(60);

/// Most sessions remembered for reconnect detection.
const MAX_REMEMBERED_ENDS: usize = 100_000;

/// One minute's sums.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minute {
    /// The minute's start, Unix milliseconds (a multiple of 60 000).
    pub start: i64,
    /// Connections accepted.
    pub connects: u64,
    /// Of those, reconnects.
    pub reconnects: u64,
    /// Connections ended, by close code.
    pub closes: BTreeMap<u16, u64>,
    /// Refusals by any rate limit.
    pub rate_limited: u64,
    /// Acks by latency bucket ([`ACK_MS`], plus one open bucket).
    pub ack_ms: Vec<u64>,
    /// First tokens by latency bucket ([`FIRST_TOKEN_MS`], plus one open bucket).
    pub first_token_ms: Vec<u64>,
    /// Open connections at the minute's last change.
    pub open: i64,
}

impl Minute {
    fn new(start: i64, open: i64) -> Self {
        Self {
            start,
            ack_ms: vec![0; ACK_MS.len() + 1],
            first_token_ms: vec![0; FIRST_TOKEN_MS.len() + 1],
            open,
            ..Self::default()
        }
    }

    /// The minute as `(series, value)` rows.
    pub fn rows(&self) -> Vec<(String, i64)> {
        let mut rows = vec![
            ("connects".to_owned(), self.connects as i64),
            ("reconnects".to_owned(), self.reconnects as i64),
            ("rate_limited".to_owned(), self.rate_limited as i64),
            ("open_connections".to_owned(), self.open),
        ];
        for (code, count) in &self.closes {
            rows.push((format!("close:{code}"), *count as i64));
        }
        for (series, bounds, counts) in [
            ("ack_ms", ACK_MS, &self.ack_ms),
            ("first_token_ms", FIRST_TOKEN_MS, &self.first_token_ms),
        ] {
            for (index, count) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                let bound = bounds.get(index).map_or("inf".to_owned(), u64::to_string);
                rows.push((format!("{series}:{bound}"), *count as i64));
            }
        }
        rows
    }
}

/// The quantile `q` (0..1) of a histogram with bucket upper `bounds` (and one open bucket),
/// interpolated within its bucket; `None` when it is empty.
pub fn quantile(bounds: &[u64], counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (index, count) in counts.iter().enumerate() {
        let lower = if index == 0 {
            0.0
        } else {
            bounds[index - 1] as f64
        };
        let Some(&upper) = bounds.get(index) else {
            // The open bucket: all that is known is that it is past the last bound.
            return Some(lower);
        };
        if (below + count) as f64 >= rank && *count > 0 {
            let within = (rank - below as f64) / *count as f64;
            return Some(lower + (upper as f64 - lower) * within.clamp(0.0, 1.0));
        }
        below += count;
    }
    bounds.last().map(|b| *b as f64)
}

fn bucket(bounds: &[u64], value_ms: u64) -> usize {
    bounds
        .iter()
        .position(|b| value_ms <= *b)
        .unwrap_or(bounds.len())
}

fn minute_of(unix_ms: i64) -> i64 {
    unix_ms - unix_ms.rem_euclid(60_000)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[derive(Debug, Default)]
struct State {
    current: Minute,
    /// Finished minutes not yet written.
    finished: Vec<Minute>,
    /// The last finished minute, for the alert rules.
    previous: Option<Minute>,
}

/// The minutes in memory.
#[derive(Debug, Default)]
pub struct Minutes {
    state: Mutex<State>,
    ended: Mutex<HashMap<String, Instant>>,
}

/// What the alert rules find.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Alerts {
    /// Reconnects per minute, when over the limit.
    pub reconnects: Option<u64>,
    /// Ack latency p99 in milliseconds, when over the limit.
    pub ack_p99_ms: Option<f64>,
}

impl Minutes {
    /// Runs `change` on the minute in progress at `now` (finishing the one before if it is over).
    fn update(&self, now: i64, change: impl FnOnce(&mut Minute)) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let minute = minute_of(now);
        if state.current.start != minute {
            let open = state.current.open;
            let done = std::mem::replace(&mut state.current, Minute::new(minute, open));
            if done.start != 0 {
                state.previous = Some(done.clone());
                state.finished.push(done);
            }
        }
        change(&mut state.current);
    }

    pub(super) fn connected(&self, reconnect: bool, open: i64) {
        self.update(now_ms(), |m| {
            m.connects += 1;
            m.reconnects += u64::from(reconnect);
            m.open = open;
        });
    }

    pub(super) fn closed(&self, code: u16, open: i64) {
        self.update(now_ms(), |m| {
            *m.closes.entry(code).or_default() += 1;
            m.open = open;
        });
    }

    pub(super) fn rate_limited(&self) {
        self.update(now_ms(), |m| m.rate_limited += 1);
    }

    pub(super) fn acked(&self, took: Duration) {
        let index = bucket(ACK_MS, took.as_millis() as u64);
        self.update(now_ms(), |m| m.ack_ms[index] += 1);
    }

    pub(super) fn first_token(&self, took: Duration) {
        let index = bucket(FIRST_TOKEN_MS, took.as_millis() as u64);
        self.update(now_ms(), |m| m.first_token_ms[index] += 1);
    }

    /// Whether a connection of `session` now is a reconnect; remembers nothing.
    pub fn is_reconnect(&self, session: &str) -> bool {
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(session)
            .is_some_and(|at| at.elapsed() < RECONNECT_WINDOW)
    }

    /// A connection of `session` ended now.
    pub fn connection_ended(&self, session: &str) {
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        if ended.len() >= MAX_REMEMBERED_ENDS {
            ended.retain(|_, at| at.elapsed() < RECONNECT_WINDOW);
            if ended.len() >= MAX_REMEMBERED_ENDS {
                // Still full of recent ones: forget them rather than grow.
                ended.clear();
            }
        }
        ended.insert(session.to_owned(), Instant::now());
    }

    /// The finished minutes not yet written (finishing the current one if its minute is over).
    pub fn take_finished(&self) -> Vec<Minute> {
        self.update(now_ms(), |_| {});
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut state.finished)
    }

    /// The minute in progress.
    pub fn current(&self) -> Minute {
        self.update(now_ms(), |_| {});
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .current
            .clone()
    }

    /// The alert rules over the minute in progress and the last finished one: reconnects over
    /// `max_reconnects` in either, or the ack p99 of either over `max_ack_p99_ms`.
    pub fn alerts(&self, max_reconnects: u64, max_ack_p99_ms: f64) -> Alerts {
        self.update(now_ms(), |_| {});
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let minutes = [Some(&state.current), state.previous.as_ref()];
        let mut alerts = Alerts::default();
        for minute in minutes.into_iter().flatten() {
            if minute.reconnects > max_reconnects {
                alerts.reconnects = alerts.reconnects.max(Some(minute.reconnects));
            }
            if let Some(p99) = quantile(ACK_MS, &minute.ack_ms, 0.99) {
                if p99 > max_ack_p99_ms {
                    alerts.ack_p99_ms = Some(alerts.ack_p99_ms.map_or(p99, |a: f64| a.max(p99)));
                }
            }
        }
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_their_bucket() {
        // 100 values: 90 in (0, 1], 9 in (5, 10], 1 past 5000.
        let mut counts = vec![0; ACK_MS.len() + 1];
        counts[0] = 90;
        counts[3] = 9;
        counts[ACK_MS.len()] = 1;
        assert_eq!(quantile(ACK_MS, &counts, 0.5), Some(0.5 * 1.0 / 0.9));
        let p95 = quantile(ACK_MS, &counts, 0.95).unwrap();
        assert!(p95 > 5.0 && p95 <= 10.0, "{p95}");
        assert_eq!(quantile(ACK_MS, &counts, 1.0), Some(5_000.0));
        assert_eq!(quantile(ACK_MS, &vec![0; ACK_MS.len() + 1], 0.5), None);
    }

    #[test]
    fn a_minute_becomes_rows_and_a_new_minute_starts_from_the_open_count() {
        let minutes = Minutes::default();
        minutes.update(120_000, |m| {
            m.connects = 3;
            m.reconnects = 1;
            m.open = 2;
        });
        minutes.update(125_000, |m| *m.closes.entry(4001).or_default() += 1);
        minutes.update(130_000, |m| m.ack_ms[2] += 4);
        minutes.update(180_000, |m| m.connects += 1);
        let finished = std::mem::take(&mut minutes.state.lock().unwrap().finished);
        assert_eq!(finished.len(), 1);
        let rows = finished[0].rows();
        assert!(rows.contains(&("connects".into(), 3)));
        assert!(rows.contains(&("close:4001".into(), 1)));
        assert!(rows.contains(&("ack_ms:5".into(), 4)));
        assert!(rows.contains(&("open_connections".into(), 2)));
        assert_eq!(minutes.state.lock().unwrap().current.open, 2);
    }

    #[test]
    fn reconnects_over_the_limit_raise_an_alert() {
        let minutes = Minutes::default();
        for _ in 0..4 {
            minutes.connected(true, 1);
        }
        assert_eq!(minutes.alerts(3, 500.0).reconnects, Some(4));
        assert_eq!(minutes.alerts(4, 500.0).reconnects, None);
        minutes.acked(Duration::from_millis(900));
        assert!(minutes.alerts(100, 500.0).ack_p99_ms.is_some());
    }

    #[test]
    fn a_session_that_left_moments_ago_reconnects() {
        let minutes = Minutes::default();
        assert!(!minutes.is_reconnect("s-1"));
        minutes.connection_ended("s-1");
        assert!(minutes.is_reconnect("s-1"));
        assert!(!minutes.is_reconnect("s-2"));
    }
}
