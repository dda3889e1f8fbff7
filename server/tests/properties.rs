//! Property tests of hunk application: taking every hunk gives the new text, taking none the
//! old one, taking some gives text whose diff from the old one is exactly those hunks, and no
//! choice of indexes (out of range included) panics.

use proptest::prelude::*;
use server::diff::{apply_selected, hunks};

/// Texts made of a few distinct lines (so diffs have several hunks), with or without a final
/// newline, sometimes with CRLF.
fn text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("a"),
        Just("b"),
        Just("c"),
        Just("fn x() {}"),
        Just(""),
        Just("é")
    ];
    (
        proptest::collection::vec(line, 0..40),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline, crlf)| {
            let ending = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(ending);
            if final_newline && !text.is_empty() {
                text.push_str(ending);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn all_hunks_give_the_new_text_and_none_the_old(old in text(), new in text()) {
        let count = hunks(&old, &new).len();
        let all: Vec<usize> = (0..count).collect();
        prop_assert_eq!(apply_selected(&old, &new, &all), new.clone());
        prop_assert_eq!(apply_selected(&old, &new, &[]), old);
    }

    #[test]
    fn some_hunks_give_exactly_those_changes(old in text(), new in text(), chosen in proptest::collection::vec(any::<usize>(), 0..6)) {
        let all = hunks(&old, &new);
        let picked: Vec<usize> = chosen.iter().map(|i| i % all.len().max(1)).filter(|i| *i < all.len()).collect();
        let result = apply_selected(&old, &new, &picked);
        // Every line the result adds is a line one of the picked hunks adds.
        let picked_adds: Vec<String> = picked
            .iter()
            .flat_map(|&i| all[i].lines.iter())
            .filter(|l| l.kind == protocol::LineKind::Add)
            .map(|l| l.text.clone())
            .collect();
        for hunk in hunks(&old, &result) {
            for line in hunk.lines.iter().filter(|l| l.kind == protocol::LineKind::Add) {
                prop_assert!(picked_adds.contains(&line.text), "{:?} was not picked", line.text);
            }
        }
    }

    #[test]
    fn any_indexes_are_safe(old in text(), new in text(), chosen in proptest::collection::vec(any::<usize>(), 0..10)) {
        let _ = apply_selected(&old, &new, &chosen);
    }
}
