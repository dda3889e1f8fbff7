//! Locks the wire format: every saved example decodes and re-encodes to the same JSON.

use protocol::{
    decode_client_frame, decode_server_frame, encode_client_frame, encode_server_frame,
    ClientMessage, ServerMessage,
};
use serde_json::Value;
use std::{fs, path::PathBuf};

fn examples(side: &str) -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/examples")
        .join(side);
    let mut found: Vec<_> = fs::read_dir(&dir)
        .expect("examples folder")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let text = fs::read_to_string(&path).expect("readable example");
            let value = serde_json::from_str(&text).expect("example is JSON");
            (path.display().to_string(), value)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[test]
fn every_client_message_round_trips_through_its_saved_example() {
    let saved = examples("client");
    let mut seen_types: Vec<&str> = Vec::new();
    for (path, value) in &saved {
        let frame = decode_client_frame(&value.to_string())
            .unwrap_or_else(|e| panic!("{path} does not decode: {e}"));
        seen_types.push(frame.message.type_name());
        let again: Value =
            serde_json::from_str(&encode_client_frame(frame.id.as_ref(), &frame.message)).unwrap();
        assert_eq!(&again, value, "{path} changed in a round trip");
    }
    for kind in ClientMessage::TYPES {
        assert!(seen_types.contains(kind), "no saved example for {kind}");
    }
}

#[test]
fn every_server_message_round_trips_through_its_saved_example() {
    let saved = examples("server");
    let mut seen_types: Vec<String> = Vec::new();
    for (path, value) in &saved {
        let frame = decode_server_frame(&value.to_string())
            .unwrap_or_else(|e| panic!("{path} does not decode: {e}"));
        assert_eq!(
            frame.seq.is_some(),
            frame.message.is_history(),
            "{path}: exactly the history messages carry a seq"
        );
        let again: Value =
            serde_json::from_str(&encode_server_frame(frame.seq, &frame.message)).unwrap();
        assert_eq!(&again, value, "{path} changed in a round trip");
        assert_eq!(frame.message.type_name(), value["type"], "{path}");
        seen_types.push(value["type"].as_str().unwrap().to_owned());
    }
    for kind in ServerMessage::TYPES {
        assert!(
            seen_types.iter().any(|t| t == kind),
            "no saved example for {kind}"
        );
    }
}
