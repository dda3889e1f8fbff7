//! The model slots: at most `AXE_LLM_CONCURRENCY` replies talk to the model at once; the rest
//! wait in line, first come first served, and know their place in it.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex, PoisonError,
};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// The slots and the line of replies waiting for one. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Slots {
    /// Fair (FIFO), so the line below is also the order in which slots are handed out.
    semaphore: Arc<Semaphore>,
    /// Tickets of the replies waiting, first in line first.
    line: Arc<Mutex<Vec<u64>>>,
    /// Bumped whenever the line changes, so waiters can tell their new place.
    changed: Arc<watch::Sender<u64>>,
    next_ticket: Arc<AtomicU64>,
}

/// A slot: the reply may talk to the model while it holds this.
pub type Slot = OwnedSemaphorePermit;

/// A place in the line; leaving it (dropped) tells the others.
#[derive(Debug)]
pub struct Ticket {
    number: u64,
    slots: Slots,
    changes: watch::Receiver<u64>,
}

impl Slots {
    /// `count` slots (at least one).
    pub fn new(count: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(count.max(1))),
            line: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
            next_ticket: Arc::default(),
        }
    }

    fn line(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
        self.line.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot at once, if one is free.
    pub fn try_take(&self) -> Option<Slot> {
        self.semaphore.clone().try_acquire_owned().ok()
    }

    /// Joins the end of the line.
    pub fn line_up(&self) -> Ticket {
        let number = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        self.line().push(number);
        Ticket {
            number,
            slots: self.clone(),
            changes: self.changed.subscribe(),
        }
    }

    /// Waits for a slot (in turn). `None` only if the slots were closed, which never happens.
    pub async fn take(&self) -> Option<Slot> {
        self.semaphore.clone().acquire_owned().await.ok()
    }

    /// How many wait.
    pub fn waiting(&self) -> usize {
        self.line().len()
    }
}

impl Ticket {
    /// The place in line: 1 is next.
    pub fn place(&self) -> u32 {
        let line = self.slots.line();
        let index = line.iter().position(|n| *n == self.number).unwrap_or(0);
        u32::try_from(index + 1).unwrap_or(u32::MAX)
    }

    /// Resolves when the line has changed since the last call.
    pub async fn changed(&mut self) {
        // The sender lives in `slots`, which this ticket holds: it cannot be dropped.
        let _ = self.changes.changed().await;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.slots.line().retain(|n| *n != self.number);
        self.slots.changed.send_modify(|version| *version += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_are_served_in_order_and_know_their_place() {
        let slots = Slots::new(1);
        let busy = slots.try_take().expect("a free slot");
        assert!(slots.try_take().is_none());
        let first = slots.line_up();
        let mut second = slots.line_up();
        assert_eq!((first.place(), second.place()), (1, 2));
        drop(first);
        second.changed().await;
        assert_eq!(second.place(), 1);
        drop(busy);
        let slot = slots.take().await;
        assert!(slot.is_some());
        drop(second);
        assert_eq!(slots.waiting(), 0);
    }
}
