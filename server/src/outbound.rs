//! A connection's outgoing queue: encoded frames from its producers (its own reader, the
//! session's fan-out, a streaming reply) to its writer task. Bounded, so a client that stops
//! reading is noticed rather than buffered without end; and small, because every open
//! connection holds one for as long as it lives: a few words until frames flow, then room for
//! as many as it holds at once. (tokio's `mpsc` channel allocates 1.3 KiB up front, a quarter
//! of what an idle connection may cost in all.)

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
};
use tokio::sync::Notify;

/// Slots an emptied queue keeps: enough for an idle connection's pongs.
const IDLE_SLOTS: usize = 4;

/// A new queue holding at most `capacity` frames.
pub fn channel(capacity: usize) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            frames: VecDeque::new(),
            receiver_gone: false,
        }),
        capacity: capacity.max(1),
        senders: AtomicUsize::new(1),
        readable: Notify::new(),
        writable: Notify::new(),
    });
    (Sender(shared.clone()), Receiver(shared))
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    /// Live [`Sender`]s; at 0 the receiver ends once the queue is drained.
    senders: AtomicUsize,
    /// A frame was queued or the last sender went away.
    readable: Notify,
    /// A frame was taken or the receiver went away.
    writable: Notify,
}

struct State {
    frames: VecDeque<String>,
    receiver_gone: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Each critical section is a single queue operation, so a poisoned lock is consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why [`Sender::try_send`] did not queue a frame; the frame comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError {
    /// The queue holds `capacity` frames already.
    Full(String),
    /// The writer is gone.
    Closed(String),
}

/// The writer is gone; the frame comes back.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed(pub String);

/// The producing side; clones share the queue.
pub struct Sender(Arc<Shared>);

impl Sender {
    /// Queues `frame` if there is room, without waiting.
    pub fn try_send(&self, frame: String) -> Result<(), TrySendError> {
        let mut state = self.0.lock();
        if state.receiver_gone {
            return Err(TrySendError::Closed(frame));
        }
        if state.frames.len() >= self.0.capacity {
            return Err(TrySendError::Full(frame));
        }
        state.frames.push_back(frame);
        drop(state);
        self.0.readable.notify_one();
        Ok(())
    }

    /// Queues `frame`, waiting for room; `Err` if the writer is gone. Cancel-safe: dropped
    /// before it completes, the frame was not queued.
    pub async fn send(&self, frame: String) -> Result<(), Closed> {
        let mut frame = frame;
        loop {
            // Registered before looking, so room made in between is not missed.
            let room = self.0.writable.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_send(frame) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(frame)) => return Err(Closed(frame)),
                Err(TrySendError::Full(back)) => frame = back,
            }
            room.await;
        }
    }
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.0.senders.fetch_add(1, Ordering::Relaxed);
        Self(self.0.clone())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if self.0.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The receiver may be waiting: it now ends once the queue is drained.
            self.0.readable.notify_one();
        }
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("queued", &self.0.lock().frames.len())
            .field("capacity", &self.0.capacity)
            .finish()
    }
}

/// The writer's side.
pub struct Receiver(Arc<Shared>);

impl Receiver {
    /// The next frame, waiting for one; `None` once every sender is gone and the queue is
    /// empty. Cancel-safe.
    pub async fn recv(&mut self) -> Option<String> {
        let shared = &*self.0;
        loop {
            let queued = shared.readable.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            if let Some(frame) = shared.take() {
                return Some(frame);
            }
            if shared.senders.load(Ordering::Acquire) == 0 {
                // A frame queued just before the last sender left is still delivered.
                return shared.take();
            }
            queued.await;
        }
    }

    /// The next frame if one is queued.
    pub fn try_recv(&mut self) -> Option<String> {
        self.0.take()
    }
}

impl Shared {
    /// Takes the oldest frame, making room for a waiting sender.
    fn take(&self) -> Option<String> {
        let mut state = self.lock();
        let frame = state.frames.pop_front();
        if state.frames.is_empty() && state.frames.capacity() > IDLE_SLOTS {
            // A burst (a replay, a reply) grew the buffer; an idle connection gives it back.
            state.frames.shrink_to(IDLE_SLOTS);
        }
        drop(state);
        if frame.is_some() {
            self.writable.notify_waiters();
        }
        frame
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.receiver_gone = true;
        // Nobody will send what is queued.
        state.frames.clear();
        drop(state);
        self.0.writable.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn frames_arrive_in_order_and_a_full_queue_refuses_without_waiting() {
        let (tx, mut rx) = channel(2);
        tx.try_send("a".into()).unwrap();
        tx.clone().try_send("b".into()).unwrap();
        assert_eq!(tx.try_send("c".into()), Err(TrySendError::Full("c".into())));
        assert_eq!(rx.recv().await.as_deref(), Some("a"));
        tx.try_send("c".into()).unwrap();
        assert_eq!(rx.recv().await.as_deref(), Some("b"));
        assert_eq!(rx.recv().await.as_deref(), Some("c"));
        assert_eq!(rx.try_recv(), None);
    }

    #[tokio::test]
    async fn a_waiting_sender_goes_on_when_the_writer_takes_a_frame() {
        let (tx, mut rx) = channel(1);
        tx.try_send("first".into()).unwrap();
        let waiting = tokio::spawn(async move { tx.send("second".into()).await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "no room yet");
        assert_eq!(rx.recv().await.as_deref(), Some("first"));
        assert_eq!(waiting.await.unwrap(), Ok(()));
        assert_eq!(rx.recv().await.as_deref(), Some("second"));
        // Every sender gone, the queue drained: the receiver ends.
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn senders_learn_when_the_writer_is_gone_even_while_waiting() {
        let (tx, rx) = channel(1);
        tx.try_send("queued".into()).unwrap();
        let other = tx.clone();
        let waiting = tokio::spawn(async move { other.send("blocked".into()).await });
        tokio::task::yield_now().await;
        drop(rx);
        let outcome = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert_eq!(outcome.unwrap().unwrap(), Err(Closed("blocked".into())));
        assert_eq!(
            tx.try_send("late".into()),
            Err(TrySendError::Closed("late".into()))
        );
    }

    #[tokio::test]
    async fn the_receiver_ends_after_what_the_last_sender_queued() {
        let (tx, mut rx) = channel(4);
        let reading = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(frame) = rx.recv().await {
                got.push(frame);
            }
            got
        });
        tx.try_send("one".into()).unwrap();
        tx.try_send("two".into()).unwrap();
        drop(tx);
        let got = tokio::time::timeout(Duration::from_secs(5), reading).await;
        assert_eq!(got.unwrap().unwrap(), ["one", "two"]);
    }
}
