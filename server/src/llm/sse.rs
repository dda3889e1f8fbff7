//! An incremental parser for server-sent events, as the Chat Completions API streams them.
//!
//! Bytes arrive in arbitrary pieces (a line, or a UTF-8 character, may be split between two);
//! the parser keeps the unfinished part and yields each event's `data` once its blank line
//! arrives. Comments (`: keep-alive`) and other fields are skipped.

/// Accumulates bytes and yields the data of complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line not yet ended.
    partial: Vec<u8>,
    /// `data` lines of the event being read.
    data: Vec<String>,
}

impl SseParser {
    /// Feeds a piece of the stream; returns the data of every event it completed, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut events = Vec::new();
        for &byte in bytes {
            if byte != b'\n' {
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
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
        }
        events
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
            let mut events = parser.feed(&bytes[..split]);
            events.extend(parser.feed(&bytes[split..]));
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
        let events = parser.feed(b"event: x\r\nid: 3\r\ndata: one\r\ndata:two\r\n\r\n");
        assert_eq!(events, vec!["one\ntwo"]);
    }

    #[test]
    fn an_unterminated_last_event_is_recovered_at_the_end() {
        let mut parser = SseParser::default();
        assert!(parser.feed(b"data: [DONE]").is_empty());
        assert_eq!(parser.finish().as_deref(), Some("[DONE]"));
        assert_eq!(parser.finish(), None);
    }
}
