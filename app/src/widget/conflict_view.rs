//! The conflict view: an edit that could not be merged, shown with both sides and a draft the
//! person edits into the file's content, then resolves. Nothing of either side is lost until
//! the person decides.

use crate::store::AxeStore;
use leptos::prelude::*;
use protocol::Conflict;

/// The oldest open conflict of the editor's file, if any.
#[component]
pub fn ConflictOverlay() -> impl IntoView {
    let store = AxeStore::expect();
    let current = move || {
        let file = store.file.with(|f| f.id.clone());
        store
            .conflicts
            .with(|c| c.iter().find(|k| k.file_id == file).cloned())
    };
    move || current().map(|conflict| view! { <ConflictReview conflict/> })
}

/// One conflict: the person's side, the other side, and the draft to resolve it with.
#[component]
fn ConflictReview(conflict: Conflict) -> impl IntoView {
    let store = AxeStore::expect();
    // The person's side is what the editor holds now: any typing after the edit that collided
    // is there too.
    let mine = store.file.with_untracked(|f| f.content.clone());
    let draft = RwSignal::new(if mine == conflict.mine {
        conflict.draft.clone()
    } else {
        format!(
            "<<<<<<< your edit\n{mine}=======\n{}>>>>>>> the other edit\n",
            conflict.theirs
        )
    });
    let conflict_id = StoredValue::new(conflict.conflict_id.clone());
    let resolve = move |content: String| store.send_resolution(conflict_id.get_value(), content);
    let theirs = StoredValue::new(conflict.theirs.clone());
    let mine_kept = StoredValue::new(mine.clone());
    view! {
        <div class="conflict-overlay" role="dialog" aria-label=format!("Conflict in {}", conflict.file_name)>
            <header>
                <strong>"Your edit of " {conflict.file_name.clone()} " collided with another edit"</strong>
            </header>
            <p class="hint">"Both are kept. Edit the draft into what the file should hold, then resolve."</p>
            <div class="conflict-sides">
                <section aria-label="Your edit">
                    <h3>"Your edit"</h3>
                    <pre tabindex="0">{mine}</pre>
                </section>
                <section aria-label="The other edit">
                    <h3>"The other edit"</h3>
                    <pre tabindex="0">{conflict.theirs.clone()}</pre>
                </section>
            </div>
            <label class="conflict-draft">
                "Draft"
                <textarea aria-label="Merged draft" rows="12"
                    prop:value=move || draft.get()
                    on:input=move |event| draft.set(event_target_value(&event))></textarea>
            </label>
            <div class="conflict-actions">
                <button type="button" class="apply" on:click=move |_| resolve(draft.get_untracked())>
                    "Resolve with the draft"
                </button>
                <button type="button" on:click=move |_| resolve(mine_kept.get_value())>"Keep mine"</button>
                <button type="button" on:click=move |_| resolve(theirs.get_value())>"Keep theirs"</button>
            </div>
        </div>
    }
}
