//! Rate limits as token buckets: one bucket per thing limited (a connection), or a map of them
//! by key (sessions, client addresses, subjects) that forgets idle keys so it stays small.
//!
//! A bucket holds up to `burst` tokens and refills at `per_second`; each event takes one. A
//! refusal says how long until a token is back, which becomes `retry_after_ms` or `Retry-After`.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// How fast a bucket refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Most tokens held: how many events may come at once after a quiet spell.
    pub burst: f64,
}

impl Rate {
    /// `count` events a minute, with a burst of `count`.
    pub fn per_minute(count: u32) -> Self {
        Self {
            per_second: f64::from(count) / 60.0,
            burst: f64::from(count),
        }
    }

    /// `count` events a second, with a burst of `burst`.
    pub fn per_second(count: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(count),
            burst: f64::from(burst),
        }
    }
}

/// One token bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
    /// After a refusal nothing is allowed until then, so events that arrive during the wait are
    /// all refused and a client that resends them in order keeps their order.
    closed_until: Option<Instant>,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: Rate, now: Instant) -> Self {
        Self {
            rate,
            tokens: rate.burst,
            updated: now,
            closed_until: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        self.updated = now;
    }

    /// Takes a token for an event at `now`; `Err(wait)` if there is none (or the bucket is
    /// closed after a refusal): try again after `wait`.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        if let Some(until) = self.closed_until {
            if now < until {
                return Err(until - now);
            }
            self.closed_until = None;
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - self.tokens;
        let wait = if self.rate.per_second > 0.0 {
            Duration::from_secs_f64(missing / self.rate.per_second)
        } else {
            Duration::from_secs(3600)
        };
        // Rounded up to whole milliseconds, so a resend exactly on time finds its token.
        let wait = Duration::from_millis(wait.as_millis() as u64 + 1);
        self.closed_until = Some(now + wait);
        Err(wait)
    }

    /// Whether the bucket is full at `now` (its key can be forgotten without changing anything).
    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.closed_until.is_none_or(|until| until <= now) && self.tokens >= self.rate.burst
    }
}

/// Buckets by key. Cheap to clone.
#[derive(Debug, Clone)]
pub struct KeyedBuckets<K> {
    rate: Rate,
    // A std mutex: every critical section is a map operation, never held across an `.await`.
    buckets: Arc<Mutex<HashMap<K, Bucket>>>,
}

/// Past this many keys, full (idle) buckets are forgotten before a new key is added.
const PRUNE_AT: usize = 4096;

impl<K: Eq + Hash + Clone> KeyedBuckets<K> {
    /// Buckets of `rate`, none yet.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Arc::default(),
        }
    }

    /// Takes a token from `key`'s bucket at `now`.
    pub fn take_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !buckets.contains_key(key) && buckets.len() >= PRUNE_AT {
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        buckets
            .entry(key.clone())
            .or_insert_with(|| Bucket::new(self.rate, now))
            .take(now)
    }

    /// Takes a token from `key`'s bucket now.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate_and_a_refusal_says_when() {
        let start = Instant::now();
        let mut bucket = Bucket::new(Rate::per_minute(10), start);
        for _ in 0..10 {
            assert!(bucket.take(start).is_ok());
        }
        let wait = bucket.take(start).unwrap_err();
        assert!(
            wait > Duration::from_millis(5_900) && wait < Duration::from_millis(6_100),
            "{wait:?}"
        );
        // Closed until then, even though a token would not be back sooner anyway.
        assert!(bucket.take(start + wait / 2).is_err());
        assert!(bucket.take(start + wait).is_ok());
    }

    #[test]
    fn the_bucket_stays_closed_after_a_refusal_so_order_survives() {
        let start = Instant::now();
        let mut bucket = Bucket::new(Rate::per_second(20, 2), start);
        assert!(bucket.take(start).is_ok());
        assert!(bucket.take(start).is_ok());
        let wait = bucket.take(start).unwrap_err();
        // A token comes back after 50 ms, but the bucket opens only when the refused event may
        // be resent, so a later event cannot overtake it.
        assert!(wait >= Duration::from_millis(50));
        assert!(bucket.take(start + Duration::from_millis(49)).is_err());
        assert!(bucket.take(start + wait).is_ok());
    }

    #[test]
    fn keys_have_their_own_buckets_and_idle_ones_are_forgotten() {
        let start = Instant::now();
        let buckets = KeyedBuckets::new(Rate::per_minute(1));
        assert!(buckets.take_at(&"a".to_owned(), start).is_ok());
        assert!(buckets.take_at(&"a".to_owned(), start).is_err());
        assert!(buckets.take_at(&"b".to_owned(), start).is_ok());
        for key in 0..PRUNE_AT {
            let _ = buckets.take_at(&key.to_string(), start);
        }
        assert_eq!(buckets.len(), PRUNE_AT + 2);
        // Two minutes on, every bucket is full again: adding a key forgets them all.
        let later = start + Duration::from_secs(120);
        assert!(buckets.take_at(&"c".to_owned(), later).is_ok());
        assert_eq!(buckets.len(), 1);
    }
}
