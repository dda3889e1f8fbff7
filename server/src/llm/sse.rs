//! An incremental parser for server-sent events, as the Chat Completions API streams them.
//!
//! Bytes arrive in arbitrary pieces (a line, or a UTF-8 character, may be split between two);
//! the parser keeps the unfinished part and yields each event's `data` once its blank line
//! arrives. Comments (`: keep-alive`) and other fields are skipped.

/// The longest line or event accepted: a chunk of a streamed reply is a few hundred bytes, so
/// anything near this is a broken or hostile server, and it must not make AXE hold gigabytes.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The stream sent a line or an event longer than [`MAX_EVENT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stream sent an event longer than {MAX_EVENT_BYTES} bytes")]
pub struct TooLong;

/// Accumulates bytes and yields the data of complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line not yet ended.
    partial: Vec<u8>,
    /// `data` lines of the event being read.
    data: Vec<String>,
    /// Bytes in `data`.
    data_bytes: usize,
}

impl SseParser {
    /// Feeds a piece of the stream; returns the data of every event it completed, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, TooLong> {
        let mut events = Vec::new();
        for &byte in bytes {
            if byte != b'\n' {
                if self.partial.len() >= MAX_EVENT_BYTES {
                    return Err(TooLong);
                }
                self.partial.push(byte);
                continue;
            }
            let mut line = std::mem::take(&mut self.partial);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(self.data.join("\n"));
                    self.data.clear();
                    self.data_bytes = 0;
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                let value = value.strip_prefix(' ').unwrap_or(value);
                self.data_bytes += value.len();
                if self.data_bytes > MAX_EVENT_BYTES {
                    return Err(TooLong);
                }
                self.data.push(value.to_owned());
            }
        }
        Ok(events)
    }

    /// Data of an event that the stream ended without terminating (servers that omit the final
    /// blank line), if any.
    pub fn finish(&mut self) -> Option<String> {
        if !self.partial.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
            if let Some(value) = line.strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
        }
        if self.data.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.data).join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let stream = "data: {\"a\":\"grüße\"}\n\n: keep-alive\n\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        for split in 0..bytes.len() {
            let mut parser = SseParser::default();
            let mut events = parser.feed(&bytes[..split]).unwrap();
            events.extend(parser.feed(&bytes[split..]).unwrap());
            assert_eq!(
                events,
                vec!["{\"a\":\"grüße\"}", "[DONE]"],
                "split at {split}"
            );
        }
    }

    #[test]
    fn crlf_multi_line_data_and_other_fields() {
        let mut parser = SseParser::default();
        let events = parser
            .feed(b"event: x\r\nid: 3\r\ndata: one\r\ndata:two\r\n\r\n")
            .unwrap();
        assert_eq!(events, vec!["one\ntwo"]);
    }

    #[test]
    fn an_endless_line_or_event_is_refused_not_held() {
        let mut parser = SseParser::default();
        let chunk = vec![b'x'; 64 * 1024];
        let mut refused = false;
        for _ in 0..(MAX_EVENT_BYTES / chunk.len() + 2) {
            if parser.feed(&chunk).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused);
        assert!(parser.partial.len() <= MAX_EVENT_BYTES);
        let mut parser = SseParser::default();
        let line = format!("data: {}\n", "y".repeat(1000));
        let mut refused = false;
        for _ in 0..(MAX_EVENT_BYTES / 1000 + 2) {
            if parser.feed(line.as_bytes()).is_err() {
                refused = true;
                break;
            }
        }
        assert!(
            refused,
            "many data lines without a blank one are one endless event"
        );
    }

    #[test]
    fn an_unterminated_last_event_is_recovered_at_the_end() {
        let mut parser = SseParser::default();
        assert!(parser.feed(b"data: [DONE]").unwrap().is_empty());
        assert_eq!(parser.finish().as_deref(), Some("[DONE]"));
        assert_eq!(parser.finish(), None);
    }
}
