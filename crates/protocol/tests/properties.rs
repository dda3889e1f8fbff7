//! Property tests of the frame decoder: it never panics, whatever the text, and every message
//! it can encode comes back unchanged.

use proptest::prelude::*;
use protocol::{
    decode_client_frame, encode_client_frame, ActiveFile, ChatContext, ClientMessage, MessageId,
};

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, weighted towards the characters JSON cares about.
    prop_oneof![
        any::<String>(),
        proptest::string::string_regex("[\\{\\}\\[\\]\":,\\\\a-z0-9 \\n\\u{e9}\\u{1F600}]{0,64}")
            .unwrap(),
    ]
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    let file = (text(), text(), text(), proptest::option::of(text())).prop_map(
        |(id, name, language, content)| ActiveFile {
            base_version: None,
            id,
            name,
            language,
            content,
        },
    );
    let context = (proptest::option::of(text()), proptest::option::of(file))
        .prop_map(|(mode, active_file)| ChatContext { mode, active_file });
    prop_oneof![
        (text(), proptest::option::of(context))
            .prop_map(|(message, context)| ClientMessage::Chat { message, context }),
        (
            text(),
            proptest::option::of(proptest::collection::vec(any::<u32>(), 0..8))
        )
            .prop_map(|(diff_id, hunks)| ClientMessage::DiffApplied { diff_id, hunks }),
        text().prop_map(|diff_id| ClientMessage::DiffRejected { diff_id }),
        (
            text(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(any::<i64>())
        )
            .prop_map(|(file_id, content, name, language, base_version)| {
                ClientMessage::FileUpdated {
                    file_id,
                    content,
                    name,
                    language,
                    base_version,
                }
            }),
        (text(), text()).prop_map(|(conflict_id, content)| ClientMessage::ResolveConflict {
            conflict_id,
            content
        }),
        (any::<u64>(), proptest::option::of(any::<u32>()))
            .prop_map(|(before, limit)| ClientMessage::LoadHistory { before, limit }),
        proptest::option::of(text()).prop_map(|message_id| ClientMessage::Stop { message_id }),
        proptest::option::of(any::<i64>()).prop_map(|ts| ClientMessage::Ping {
            ts: ts.map(serde_json::Number::from)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decoding_any_text_never_panics(input in text()) {
        let _ = decode_client_frame(&input);
    }

    #[test]
    fn decoding_mutated_valid_frames_never_panics(message in client_message(), cut in any::<usize>(), byte in any::<char>()) {
        let id = MessageId::parse("c-1").unwrap();
        let mut frame = encode_client_frame(Some(&id), &message);
        let at = frame.char_indices().map(|(i, _)| i).nth(cut % frame.chars().count().max(1)).unwrap_or(0);
        frame.insert(at, byte);
        let _ = decode_client_frame(&frame);
        let _ = decode_client_frame(&frame[..at]);
    }

    #[test]
    fn every_message_round_trips(message in client_message()) {
        let id = MessageId::parse("c-1").unwrap();
        // Messages with a NUL or an over-long name are refused by design; every other one
        // comes back as it went.
        match decode_client_frame(&encode_client_frame(Some(&id), &message)) {
            Ok(frame) => {
                prop_assert_eq!(frame.message, message);
                prop_assert_eq!(frame.id, Some(id));
            }
            Err(error) => prop_assert_eq!(error.code, protocol::ErrorCode::InvalidPayload),
        }
    }
}
