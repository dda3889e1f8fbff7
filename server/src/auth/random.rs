//! Unguessable identifiers from the operating system's CSPRNG.

/// The operating system's random number generator failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(String);

/// `prefix` followed by `chars` random characters of `[a-z0-9]` (about 5.2 bits each).
pub fn id(prefix: &str, chars: usize) -> Result<String, RandomError> {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut id = String::with_capacity(prefix.len() + chars);
    id.push_str(prefix);
    let mut byte = [0u8; 1];
    while id.len() < prefix.len() + chars {
        fill(&mut byte)?;
        // 256 is not a multiple of 36: the top of the range is drawn again, so every
        // character is equally likely.
        if usize::from(byte[0]) < 252 {
            id.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(id)
}

/// `len` random bytes as lowercase hex.
pub fn hex(len: usize) -> Result<String, RandomError> {
    let mut bytes = vec![0u8; len];
    fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn fill(bytes: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(bytes).map_err(|e| RandomError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_prefix_the_length_and_differ() {
        let a = id("s-", 24).unwrap();
        let b = id("s-", 24).unwrap();
        assert_eq!(a.len(), 26);
        assert!(a.starts_with("s-"));
        assert!(a[2..]
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert_ne!(a, b);
        assert_eq!(hex(32).unwrap().len(), 64);
    }
}
