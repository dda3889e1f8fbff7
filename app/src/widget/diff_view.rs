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

/// The overlay, shown while a diff waits for a decision: each hunk can be accepted or not,
/// then "Apply selected"; or "Apply all" / "Reject all" at once.
#[component]
pub fn DiffOverlay() -> impl IntoView {
    let store = AxeStore::expect();
    let current = move || store.diffs.with(|d| d.first().cloned());
    move || current().map(|diff| view! { <DiffReview diff/> })
}

/// The review of one diff.
#[component]
fn DiffReview(diff: DiffProposal) -> impl IntoView {
    let store = AxeStore::expect();
    let count = diff.hunks.len();
    // Every hunk starts accepted, so "Apply selected" with no changes is "Apply all".
    let accepted = RwSignal::new(vec![true; count]);
    let diff_id = StoredValue::new(diff.diff_id.clone());
    let proposal = StoredValue::new(diff.clone());
    let close = move || {
        let id = diff_id.get_value();
        store.diffs.update(|d| d.retain(|p| p.diff_id != id));
    };
    let apply_all = move |_| {
        proposal.with_value(|p| store.send_diff_applied(p, None));
        close();
    };
    let reject_all = move |_| {
        store.send_diff_rejected(diff_id.get_value());
        close();
    };
    let apply_selected = move |_| {
        let chosen: Vec<u32> = accepted.with(|a| {
            a.iter()
                .enumerate()
                .filter(|(_, yes)| **yes)
                .map(|(i, _)| i as u32)
                .collect()
        });
        if chosen.is_empty() {
            store.send_diff_rejected(diff_id.get_value());
        } else if chosen.len() == count {
            proposal.with_value(|p| store.send_diff_applied(p, None));
        } else {
            proposal.with_value(|p| store.send_diff_applied(p, Some(chosen)));
        }
        close();
    };
    let language = diff.language.clone();
    let hunks = rows(&diff)
        .into_iter()
        .enumerate()
        .map(|(index, hunk_rows)| {
            let language = language.clone();
            let header = diff.hunks[index].header();
            let label = format!("Accept change {} of {count}", index + 1);
            view! {
                <tbody class="hunk" class:rejected=move || !accepted.with(|a| a[index])>
                    <tr class="hunk-head">
                        <td colspan="4">
                            <label>
                                <input type="checkbox" aria-label=label
                                    prop:checked=move || accepted.with(|a| a[index])
                                    on:change=move |event| {
                                        let on = event_target_checked(&event);
                                        accepted.update(|a| a[index] = on);
                                    }/>
                                " " {header}
                            </label>
                        </td>
                    </tr>
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
                <button type="button" class="apply" on:click=apply_selected>"Apply selected"</button>
                <button type="button" class="apply" on:click=apply_all>"Apply all"</button>
                <button type="button" class="reject" on:click=reject_all>"Reject all"</button>
            </header>
            {diff.warning.clone().map(|warning| view! { <p class="diff-warning" role="alert">{warning}</p> })}
            <table class="diff-table">{hunks}</table>
        </div>
    }
}
