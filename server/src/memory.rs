//! Gives the heap's free pages back to the operating system now and then.
//!
//! Why: glibc's malloc gives each busy thread an arena (tokio's workers, the thread of every
//! SQLite connection) and keeps the pages freed inside an arena for later. Under hours of
//! connect/chat/leave churn the live heap stayed at about 3 MB (heaptrack: 2.1 MB allocated in
//! six minutes and still live, 1.8 MB of it SQLite's bounded page cache), while the RSS grew by
//! about 11 MB an hour: memory freed and kept, spread over the arenas (`malloc_stats`: one
//! arena at 16 MB with 1.3 MB in use). So the server uses at most [`ARENAS`] arenas, which
//! share their free memory instead of each keeping its own, and every minute `malloc_trim(0)`
//! hands every whole free page of every arena back (glibc ≥ 2.8). mimalloc was measured too,
//! and grew more (README). Elsewhere (musl, other systems) this does nothing.

use std::time::Duration;

/// How often free pages are given back: rarely enough that the cost (a walk over the free
/// lists, and page faults when the memory is used again) does not matter.
pub const GIVE_BACK_EVERY: Duration = Duration::from_secs(60);

/// At most this many malloc arenas: the async workers and the SQLite threads share them, which
/// costs nothing measurable on the ack path and keeps the freed memory in few places.
pub const ARENAS: i32 = 2;

/// Limits malloc to [`ARENAS`] arenas; call first thing, before other threads start.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt changes a malloc setting; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Gives the free pages of every malloc arena back to the operating system.
pub fn give_back_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only reorganises malloc's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// This process's resident memory in KiB.
    fn rss_kib() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
        let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4
    }

    #[test]
    fn freed_pages_between_live_chunks_go_back_only_when_given_back() {
        // 64 MiB in small chunks, one in 64 kept: the freed ones leave holes between live
        // chunks, which malloc does not return by itself (it trims only the heap's top).
        let mut chunks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![i as u8; 4_096]).collect();
        let before_free = rss_kib();
        let mut index = 0;
        chunks.retain(|_| {
            index += 1;
            index % 64 == 0
        });
        let after_free = rss_kib();
        give_back_free_pages();
        let after_give_back = rss_kib();
        assert_eq!(chunks.len(), 256);
        assert!(
            after_free > before_free - 16 * 1024,
            "freeing alone returns little: {before_free} → {after_free} KiB"
        );
        assert!(
            after_give_back < after_free - 40 * 1024,
            "giving back returns most of the 63 MiB freed: {after_free} → {after_give_back} KiB"
        );
    }
}
