//! The diff overlay: the oldest pending diff with numbered lines, removed in red and added in
//! green, and Apply / Reject.

use crate::{markdown::code_view, store::AxeStore};
use leptos::prelude::*;
use protocol::{DiffProposal, LineKind};

/// One rendered row: old and new line numbers, kind and text.
struct Row {
    old: Option<u32>,
    new: Option<u32>,
    kind: LineKind,
    text: String,
}

fn rows(diff: &DiffProposal) -> Vec<Vec<Row>> {
    diff.hunks
        .iter()
        .map(|hunk| {
            let (mut old, mut new) = (hunk.old_start, hunk.new_start);
            hunk.lines
                .iter()
                .map(|line| {
                    let (o, n) = match line.kind {
                        LineKind::Context => (Some(old), Some(new)),
                        LineKind::Remove => (Some(old), None),
                        LineKind::Add => (None, Some(new)),
                    };
                    if o.is_some() {
                        old += 1;
                    }
                    if n.is_some() {
                        new += 1;
                    }
                    Row {
                        old: o,
                        new: n,
                        kind: line.kind,
                        text: line.text.clone(),
                    }
                })
                .collect()
        })
        .collect()
}

/// The overlay, shown while a diff waits for a decision.
#[component]
pub fn DiffOverlay() -> impl IntoView {
    let store = AxeStore::expect();
    let current = move || store.diffs.with(|d| d.first().cloned());
    move || {
        current().map(|diff| {
            let id_apply = diff.diff_id.clone();
            let id_reject = diff.diff_id.clone();
            let decide = move |diff_id: &str| {
                let diff_id = diff_id.to_owned();
                store.diffs.update(|d| d.retain(|p| p.diff_id != diff_id));
            };
            let language = diff.language.clone();
            let hunks = rows(&diff)
                .into_iter()
                .map(|hunk_rows| {
                    let language = language.clone();
                    view! {
                        <tbody class="hunk">
                            {hunk_rows.into_iter().map(|row| {
                                let (class, sign) = match row.kind {
                                    LineKind::Context => ("ctx", " "),
                                    LineKind::Add => ("add", "+"),
                                    LineKind::Remove => ("del", "-"),
                                };
                                view! {
                                    <tr class=class>
                                        <td class="ln">{row.old.map(|n| n.to_string())}</td>
                                        <td class="ln">{row.new.map(|n| n.to_string())}</td>
                                        <td class="sign">{sign}</td>
                                        <td class="text"><code>{code_view(&row.text, &language)}</code></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    }
                })
                .collect_view();
            view! {
                <div class="diff-overlay" role="dialog" aria-label=format!("Proposed change to {}", diff.file_name)>
                    <header>
                        <strong>"Proposed change to " {diff.file_name.clone()}</strong>
                        <span class="spacer"></span>
                        <button type="button" class="apply" on:click=move |_| {
                            store.send_diff_applied(id_apply.clone());
                            decide(&id_apply);
                        }>"Apply"</button>
                        <button type="button" class="reject" on:click=move |_| {
                            store.send_diff_rejected(id_reject.clone());
                            decide(&id_reject);
                        }>"Reject"</button>
                    </header>
                    <table class="diff-table">{hunks}</table>
                </div>
            }
        })
    }
}
