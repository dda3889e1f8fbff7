//! The lease scripts. Each runs atomically in Redis, so "is it mine, then renew" can never
//! interleave with another node's take.

use redis::Script;
use std::sync::LazyLock;

/// KEYS[1] the lease, ARGV[1] the new value, ARGV[2] its life in ms. Sets it if free and
/// returns nil; otherwise returns the holder's value.
pub static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return nil end
          return redis.call('GET', KEYS[1])",
    )
});

/// KEYS[1] the lease, ARGV[1] our value, ARGV[2] its life in ms. Extends it if it is ours, or
/// takes it back if it is gone (Redis restarted empty; the database fence still guards every
/// write) and returns 1; returns 0 if another holder has it.
pub static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local holder = redis.call('GET', KEYS[1])
          if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
          if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
          return 0",
    )
});

/// KEYS[1] the lease, ARGV[1] a value. Deletes the lease only if it still holds that value;
/// returns 1 if it did.
pub static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
          return 0",
    )
});
