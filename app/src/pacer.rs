//! When each message of the outbox goes on the wire: in order, one at a time (the next goes
//! when the one before is acknowledged, so an edit can name the version its predecessor made),
//! spaced out, again if it is not acknowledged in time, and not at all while the server has
//! asked the widget to wait. So a long offline queue (hundreds of edits) drains after a reconnect within
//! the server's rate limits instead of tripping them, and a message the server refused for a
//! rate limit goes out again — before anything made after it — once the wait is over; one
//! refused because a reply was still running goes out again as soon as that reply ends.
//!
//! Pure bookkeeping over ids and times (milliseconds), so it is tested natively; the connection
//! asks it what to send and when to ask again.

use std::collections::HashMap;

/// At most this many messages are on the wire unacknowledged at once.
pub const WINDOW: usize = 1;
/// At least this long between two sends (10 a second: half the server's default rate).
pub const MIN_GAP_MS: f64 = 100.0;
/// A message unacknowledged for this long is sent again, with the same id.
pub const RESEND_AFTER_MS: f64 = 10_000.0;

/// The outbox's sending state for one connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pacer {
    /// When each message on the wire was last sent.
    in_flight: HashMap<String, f64>,
    /// When the last message was sent.
    last_sent: Option<f64>,
    /// Nothing is sent before this (a rate limit's `retry_after_ms`).
    paused_until: Option<f64>,
    /// Nothing is sent before the running reply ends, or at the latest at this time (a message
    /// was refused as `busy`; the end of the reply is the moment it can be taken).
    reply_wait_until: Option<f64>,
}

/// What the pacer decided at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The ids to send now, in order.
    pub send: Vec<String>,
    /// When to ask again (nothing to wait for: `None`).
    pub next_at: Option<f64>,
}

impl Pacer {
    /// A new connection: nothing is on the wire; a pause the server asked for still holds.
    pub fn reconnected(&mut self) {
        self.in_flight.clear();
        self.last_sent = None;
        // The reply may have ended while the link was down: the server says so if it has not.
        self.reply_wait_until = None;
    }

    /// The message `id` was acknowledged (or refused for good).
    pub fn settled(&mut self, id: &str) {
        self.in_flight.remove(id);
    }

    /// Whether `id` is on the wire (sent and not yet acknowledged).
    pub fn is_in_flight(&self, id: &str) -> bool {
        self.in_flight.contains_key(id)
    }

    /// The server refused `id` for a rate limit: it and everything after it in `pending` are
    /// taken off the wire, and nothing goes out for `wait_ms`.
    pub fn rate_limited(&mut self, id: &str, pending: &[String], wait_ms: f64, now: f64) {
        self.take_off_wire(id, pending);
        let until = now + wait_ms;
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }

    /// The server refused `id` because a reply is still running: it and everything after it
    /// in `pending` are taken off the wire and wait for [`Pacer::reply_ended`]; if that never
    /// comes, they go out again after [`RESEND_AFTER_MS`], as an unacknowledged message would.
    pub fn busy(&mut self, id: &str, pending: &[String], now: f64) {
        self.take_off_wire(id, pending);
        self.reply_wait_until = Some(now + RESEND_AFTER_MS);
    }

    /// A reply ended; returns whether messages were waiting for that (then they are due now).
    pub fn reply_ended(&mut self) -> bool {
        self.reply_wait_until.take().is_some()
    }

    /// `id` and what comes after it in `pending` are no longer on the wire.
    fn take_off_wire(&mut self, id: &str, pending: &[String]) {
        if let Some(at) = pending.iter().position(|p| p == id) {
            for later in &pending[at..] {
                self.in_flight.remove(later);
            }
        }
    }

    /// Until when sending is paused, if it is at `now`.
    pub fn paused_until(&self, now: f64) -> Option<f64> {
        self.paused_until.filter(|until| *until > now)
    }

    /// Which of `pending` (the outbox, oldest first) to send at `now`, marking them sent.
    pub fn due(&mut self, pending: &[String], now: f64) -> Due {
        self.in_flight.retain(|id, _| pending.contains(id));
        // A rate limit's pause or a busy refusal's wait for the running reply: while either
        // holds, nothing goes out. Those that are over are forgotten.
        self.paused_until = self.paused_until(now);
        self.reply_wait_until = self.reply_wait_until.filter(|until| *until > now);
        if let Some(until) = self
            .paused_until
            .into_iter()
            .chain(self.reply_wait_until)
            .reduce(f64::max)
        {
            return Due {
                send: Vec::new(),
                next_at: Some(until),
            };
        }
        let mut send = Vec::new();
        let mut next_at: Option<f64> = None;
        let mut soonest = |at: f64| next_at = Some(next_at.map_or(at, |n: f64| n.min(at)));
        let on_wire = self.in_flight.len();
        for id in pending {
            if let Some(sent) = self.in_flight.get(id).copied() {
                let overdue_at = sent + RESEND_AFTER_MS;
                if now < overdue_at {
                    soonest(overdue_at);
                    continue;
                }
                // Unacknowledged for too long: resent (it is already counted on the wire).
            } else if on_wire >= WINDOW {
                break;
            }
            if let Some(last) = self.last_sent {
                if now < last + MIN_GAP_MS {
                    soonest(last + MIN_GAP_MS);
                    break;
                }
            }
            self.in_flight.insert(id.clone(), now);
            self.last_sent = Some(now);
            send.push(id.clone());
            // One at a time: the next one waits for the gap.
            soonest(now + MIN_GAP_MS);
            break;
        }
        Due { send, next_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c-{i}")).collect()
    }

    /// Runs the pacer over `pending` from time 0, acknowledging each message `ack_after` ms
    /// after it is sent, until everything is acknowledged; returns (id, time) of each send.
    fn drain(pending: &mut Vec<String>, ack_after: f64) -> Vec<(String, f64)> {
        let mut pacer = Pacer::default();
        let mut sends = Vec::new();
        let mut acks: Vec<(f64, String)> = Vec::new();
        let mut now = 0.0;
        while !pending.is_empty() {
            acks.sort_by(|a, b| a.0.total_cmp(&b.0));
            while acks.first().is_some_and(|(at, _)| *at <= now) {
                let (_, id) = acks.remove(0);
                pacer.settled(&id);
                pending.retain(|p| *p != id);
            }
            if pending.is_empty() {
                break;
            }
            let due = pacer.due(pending, now);
            for id in due.send {
                acks.push((now + ack_after, id.clone()));
                sends.push((id, now));
            }
            let next_ack = acks.first().map(|(at, _)| *at);
            now = [due.next_at, next_ack]
                .into_iter()
                .flatten()
                .fold(f64::INFINITY, f64::min)
                .max(now + 1.0);
            assert!(now < 1e7, "stuck with {} pending", pending.len());
        }
        sends
    }

    #[test]
    fn two_hundred_edits_drain_in_order_within_the_servers_default_rate() {
        let mut pending = ids(200);
        let sends = drain(&mut pending, 30.0);
        let order: Vec<&str> = sends.iter().map(|(id, _)| id.as_str()).collect();
        let expected: Vec<String> = ids(200);
        assert_eq!(
            order,
            expected.iter().map(String::as_str).collect::<Vec<_>>()
        );
        // The server allows 20 a second with a burst of 40: count every one-second window.
        for (i, (_, start)) in sends.iter().enumerate() {
            let in_window = sends[i..]
                .iter()
                .take_while(|(_, t)| *t < start + 1000.0)
                .count();
            assert!(
                in_window <= 20,
                "{in_window} sends in the second after {start} ms"
            );
        }
    }

    #[test]
    fn no_more_than_the_window_waits_unacknowledged() {
        let mut pacer = Pacer::default();
        let pending = ids(20);
        let mut now = 0.0;
        let mut sent = 0;
        while now < 5_000.0 {
            sent += pacer.due(&pending, now).send.len();
            now += MIN_GAP_MS;
        }
        assert_eq!(
            sent, WINDOW,
            "nothing acknowledged: only the window goes out"
        );
    }

    #[test]
    fn a_rate_limited_message_and_those_after_it_wait_then_go_in_order() {
        let mut pacer = Pacer::default();
        let pending = ids(3);
        assert_eq!(pacer.due(&pending, 0.0).send, ["c-0"]);
        assert!(pacer.due(&pending, 100.0).send.is_empty(), "one at a time");
        pacer.settled("c-0");
        let rest = &pending[1..];
        assert_eq!(pacer.due(rest, 200.0).send, ["c-1"]);
        pacer.rate_limited("c-1", rest, 4_000.0, 250.0);
        assert_eq!(pacer.paused_until(300.0), Some(4_250.0));
        let waiting = pacer.due(rest, 300.0);
        assert!(waiting.send.is_empty());
        assert_eq!(waiting.next_at, Some(4_250.0));
        assert_eq!(pacer.due(rest, 4_250.0).send, ["c-1"]);
        pacer.settled("c-1");
        assert_eq!(pacer.due(&rest[1..], 4_350.0).send, ["c-2"]);
    }

    #[test]
    fn a_message_refused_as_busy_goes_out_again_when_the_reply_ends_before_those_after_it() {
        let mut pacer = Pacer::default();
        let pending = ids(2);
        assert_eq!(pacer.due(&pending, 0.0).send, ["c-0"]);
        pacer.busy("c-0", &pending, 50.0);
        let waiting = pacer.due(&pending, 200.0);
        assert!(
            waiting.send.is_empty(),
            "nothing overtakes the refused message"
        );
        assert_eq!(waiting.next_at, Some(50.0 + RESEND_AFTER_MS));
        assert!(pacer.reply_ended());
        assert!(!pacer.reply_ended(), "told once");
        assert_eq!(pacer.due(&pending, 300.0).send, ["c-0"]);
        pacer.settled("c-0");
        assert_eq!(pacer.due(&pending[1..], 400.0).send, ["c-1"]);
    }

    #[test]
    fn a_busy_wait_ends_on_its_own_or_with_a_reconnect_when_no_reply_end_comes() {
        let mut pacer = Pacer::default();
        let pending = ids(1);
        assert_eq!(pacer.due(&pending, 0.0).send, ["c-0"]);
        pacer.busy("c-0", &pending, 0.0);
        assert!(pacer.due(&pending, RESEND_AFTER_MS - 1.0).send.is_empty());
        assert_eq!(pacer.due(&pending, RESEND_AFTER_MS).send, ["c-0"]);
        assert!(!pacer.reply_ended(), "the wait is over already");
        pacer.busy("c-0", &pending, RESEND_AFTER_MS + 10.0);
        pacer.reconnected();
        assert_eq!(pacer.due(&pending, RESEND_AFTER_MS + 20.0).send, ["c-0"]);
    }

    #[test]
    fn an_unacknowledged_message_is_resent_and_a_reconnect_resends_all() {
        let mut pacer = Pacer::default();
        let pending = ids(1);
        assert_eq!(pacer.due(&pending, 0.0).send, ["c-0"]);
        let quiet = pacer.due(&pending, 5_000.0);
        assert!(quiet.send.is_empty());
        assert_eq!(quiet.next_at, Some(RESEND_AFTER_MS));
        assert_eq!(pacer.due(&pending, RESEND_AFTER_MS).send, ["c-0"]);
        pacer.reconnected();
        assert_eq!(pacer.due(&pending, RESEND_AFTER_MS + 1.0).send, ["c-0"]);
    }
}
