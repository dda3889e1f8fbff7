//! Personal data out of telemetry before anything is stored: every string property loses
//! e-mail addresses, IP addresses (v4 and v6), bearer tokens and JWT-shaped strings, URLs'
//! query strings and fragments, and runs of six or more digits; a string over 200 characters is
//! dropped whole (no chat text or file content can reach telemetry that way). Identifiers that
//! must stay countable (the subject, the session) become salted hashes.

use regex::{Captures, Regex};
use sha2::{Digest, Sha256};
use std::{
    net::{Ipv4Addr, Ipv6Addr},
    sync::LazyLock,
};

/// Longest string property kept, in characters.
pub const MAX_STRING_PROP: usize = 200;

fn pattern(source: &str) -> Regex {
    // The patterns are literals of this file, checked by its tests.
    Regex::new(source).unwrap_or_else(|e| panic!("bad pattern {source}: {e}"))
}

static URL_TAIL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b((?:https?|wss?|ftp)://[^\s?#]*)[?#]\S*"));
static QUERY_PAIRS: LazyLock<Regex> = LazyLock::new(|| pattern(r"[?&][\w.~%-]+=[^\s&#]*"));
static BEARER: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"));
static JWT: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"));
static IPV6_CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\[?[0-9a-f:]*:[0-9a-f:]*:[0-9a-f:.]*(?:%\w+)?\]?"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"));
static LONG_NUMBER: LazyLock<Regex> = LazyLock::new(|| pattern(r"\d{6,}"));

/// `text` with every piece of personal data replaced by a marker; `None` when it is too long
/// to keep at all.
pub fn scrub(text: &str) -> Option<String> {
    if text.chars().count() > MAX_STRING_PROP {
        return None;
    }
    let text = URL_TAIL.replace_all(text, "$1");
    let text = QUERY_PAIRS.replace_all(&text, "");
    let text = BEARER.replace_all(&text, "[token]");
    let text = JWT.replace_all(&text, "[token]");
    let text = EMAIL.replace_all(&text, "[email]");
    let text = IPV6_CANDIDATE.replace_all(&text, |found: &Captures| {
        let candidate = &found[0];
        let bare = candidate.trim_matches(|c| c == '[' || c == ']');
        let address = bare.split('%').next().unwrap_or(bare);
        if address.parse::<Ipv6Addr>().is_ok() {
            "[ip]".to_owned()
        } else {
            candidate.to_owned()
        }
    });
    let text = IPV4.replace_all(&text, |found: &Captures| {
        if found[0].parse::<Ipv4Addr>().is_ok() {
            "[ip]".to_owned()
        } else {
            found[0].to_owned()
        }
    });
    let text = LONG_NUMBER.replace_all(&text, "[number]");
    Some(text.into_owned())
}

/// A salted hash of `value` (hex, 128 bits): the same value gives the same hash on this
/// deployment, and without the salt nobody can tell which value it was.
pub fn salted_hash(salt: &[u8], value: &str) -> String {
    let digest = Sha256::new()
        .chain_update(salt)
        .chain_update([0])
        .chain_update(value.as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Personal data as it turns up in what widgets report, each paired with the part that must not
/// survive: the samples the tests (unit and against the database file) hold the scrubber to.
pub const PERSONAL_DATA_SAMPLES: &[(&str, &str)] = &[
    (
        "mail jane.doe+axe@example.co.uk now",
        "jane.doe+axe@example.co.uk",
    ),
    ("from 192.168.17.42 again", "192.168.17.42"),
    (
        "v6 2001:db8:85a3::8a2e:370:7334 here",
        "2001:db8:85a3::8a2e:370:7334",
    ),
    (
        "bracketed [fe80::1ff:fe23:4567:890a%eth0]:443",
        "fe80::1ff:fe23:4567:890a",
    ),
    ("loopback ::1 too", "::1"),
    (
        "Authorization: Bearer abc.DEF-123_xyz~tok",
        "abc.DEF-123_xyz~tok",
    ),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm9uLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVz ok",
        "eyJzdWIiOiJhbm9uLTEyMyJ9",
    ),
    (
        "open https://app.example.com/p?session=s-123&token=secret#frag",
        "token=secret",
    ),
    ("relative /editor?user=jane", "user=jane"),
    (
        "card 4111111111111111 and phone 0301234567",
        "4111111111111111",
    ),
    ("phone 0301234567", "0301234567"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_personal_string_of_the_corpus_survives() {
        for (text, secret) in PERSONAL_DATA_SAMPLES {
            let scrubbed = scrub(text).expect("short strings are kept");
            assert!(
                !scrubbed.contains(secret),
                "{text:?} → {scrubbed:?} still holds {secret:?}"
            );
        }
    }

    #[test]
    fn ordinary_text_stays_as_it_was() {
        for text in [
            "panel",
            "canvas opened at 12:30:45",
            "took 523 ms",
            "view=canvas",
            "v1.2.3",
        ] {
            assert_eq!(scrub(text).as_deref(), Some(text), "{text:?}");
        }
        assert_eq!(
            scrub("https://axe.example.com/widget?x=1").as_deref(),
            Some("https://axe.example.com/widget")
        );
    }

    #[test]
    fn long_strings_are_dropped_whole() {
        assert_eq!(scrub(&"a".repeat(MAX_STRING_PROP + 1)), None);
        assert!(scrub(&"a".repeat(MAX_STRING_PROP)).is_some());
    }

    #[test]
    fn hashes_are_stable_salted_and_opaque() {
        let one = salted_hash(b"salt", "anon-123");
        assert_eq!(one, salted_hash(b"salt", "anon-123"));
        assert_ne!(one, salted_hash(b"other salt", "anon-123"));
        assert_eq!(one.len(), 32);
        assert!(!one.contains("anon"));
    }
}
