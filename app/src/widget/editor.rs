//! The canvas's code editor: CodeMirror 6 (line numbers, syntax highlighting, undo/redo, Tab
//! indentation), bundled as a separate ES module that is imported only when the canvas opens, so
//! the widget's own wasm does not carry it. Edits reach the server as `file_updated` after 2 s
//! without typing; the server's `file_update` replaces the text.

use crate::store::AxeStore;
use leptos::{html, prelude::*};

/// How far loading the editor module has got.
#[derive(Debug, Clone, PartialEq, Eq)]
// Only the browser build loads the module; the server renders `Loading`.
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
pub enum LoadState {
    /// The module is being fetched (also what the server renders).
    Loading,
    /// The editor is mounted.
    Ready,
    /// The module could not be loaded or mounted.
    Failed(String),
}

/// The editor.
#[component]
pub fn Editor() -> impl IntoView {
    let store = AxeStore::expect();
    let host: NodeRef<html::Div> = NodeRef::new();
    let state = RwSignal::new(LoadState::Loading);
    #[cfg(feature = "browser")]
    codemirror::attach(store, host, state);
    let file_name = move || store.file.with(|f| format!("{} ({})", f.name, f.language));
    let status = move || match state.get() {
        LoadState::Loading => Some("Loading the editor…".to_owned()),
        LoadState::Ready => None,
        LoadState::Failed(why) => Some(format!("The editor could not be loaded: {why}")),
    };
    view! {
        <div class="editor">
            <div class="editor-title">{file_name}</div>
            <p class="editor-status" aria-live="polite">{status}</p>
            // CodeMirror mounts inside; Leptos renders no children here, so hydration and
            // CodeMirror never touch the same nodes.
            <div class="editor-host" node_ref=host></div>
        </div>
    }
}

/// The language name the editor module understands: the canonical name of a language AXE
/// knows, or "" (plain text).
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
fn editor_language(language: &str) -> &'static str {
    protocol::Language::from_name(language).map_or("", protocol::Language::name)
}

#[cfg(feature = "browser")]
mod codemirror {
    use super::LoadState;
    use crate::host;
    use crate::store::AxeStore;
    use js_sys::{Function, Object, Reflect};
    use leptos::{html, prelude::*};
    use std::time::Duration;
    use wasm_bindgen::{prelude::*, JsCast};

    /// Quiet time after the last keystroke before the file is sent.
    const SYNC_DELAY: Duration = Duration::from_secs(2);

    /// The editor module's path among the widget's files (built from `frontend/editor/`).
    const EDITOR_MODULE: &str = "editor/axe-editor.js";

    /// The accessible name of the editing area.
    const EDITOR_LABEL: &str = "Code editor";

    /// The mounted editor and the callback it calls, kept alive together.
    struct Mounted {
        handle: JsValue,
        _on_change: Closure<dyn FnMut(String)>,
    }

    fn call(target: &JsValue, method: &str, arg: Option<&JsValue>) -> Result<(), JsValue> {
        let function: Function = Reflect::get(target, &method.into())?.dyn_into()?;
        match arg {
            Some(arg) => function.call1(target, arg)?,
            None => function.call0(target)?,
        };
        Ok(())
    }

    fn describe(error: &JsValue) -> String {
        error
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| error.as_string())
            .unwrap_or_else(|| "unknown error".into())
    }

    /// Loads the module once the host element exists, mounts the editor, and wires it both ways.
    pub fn attach(store: AxeStore, host: NodeRef<html::Div>, state: RwSignal<LoadState>) {
        let mounted = StoredValue::new_local(None::<Mounted>);
        let pending_sync = StoredValue::new(None::<TimeoutHandle>);
        let schedule_sync = move || {
            if let Some(previous) = pending_sync.get_value() {
                previous.clear();
            }
            let handle = set_timeout_with_handle(move || store.send_file_update(), SYNC_DELAY).ok();
            pending_sync.set_value(handle);
        };

        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            let Some(element) = host.get() else {
                return false;
            };
            leptos::task::spawn_local(async move {
                match mount(store, element.into(), schedule_sync).await {
                    Ok(ready) => {
                        mounted.set_value(Some(ready));
                        state.set(LoadState::Ready);
                    }
                    Err(error) => state.set(LoadState::Failed(describe(&error))),
                }
            });
            true
        });

        // The server's copy (or an applied diff, or the host's file) replaces the text; the
        // editor ignores no-ops.
        Effect::new(move || {
            let content = store.file.with(|f| f.content.clone());
            mounted.with_value(|m| {
                if let Some(m) = m {
                    let _ = call(&m.handle, "setDoc", Some(&content.into()));
                }
            });
        });
        // The host may open a file of another language.
        Effect::new(move || {
            let language = store.file.with(|f| super::editor_language(&f.language));
            mounted.with_value(|m| {
                if let Some(m) = m {
                    let _ = call(&m.handle, "setLanguage", Some(&language.into()));
                }
            });
        });

        on_cleanup(move || {
            if let Some(handle) = pending_sync.get_value() {
                handle.clear();
            }
            mounted.update_value(|m| {
                if let Some(m) = m.take() {
                    // Destroying twice or after the page went away is harmless.
                    let _ = call(&m.handle, "destroy", None);
                }
            });
        });
    }

    async fn mount(
        store: AxeStore,
        parent: JsValue,
        schedule_sync: impl Fn() + 'static,
    ) -> Result<Mounted, JsValue> {
        let url = host::asset_url(EDITOR_MODULE);
        let module = wasm_bindgen_futures::JsFuture::from(host::import_module(&url)?).await?;
        let mount: Function = Reflect::get(&module, &"mount".into())?.dyn_into()?;
        let on_change = Closure::<dyn FnMut(String)>::new(move |text: String| {
            store.file.update(|file| file.content = text);
            schedule_sync();
        });
        let file = store.file.get_untracked();
        let options = Object::new();
        Reflect::set(&options, &"doc".into(), &file.content.into())?;
        Reflect::set(
            &options,
            &"language".into(),
            &super::editor_language(&file.language).into(),
        )?;
        Reflect::set(&options, &"label".into(), &EDITOR_LABEL.into())?;
        Reflect::set(&options, &"onChange".into(), on_change.as_ref())?;
        let handle = mount.call2(&JsValue::NULL, &parent, &options)?;
        Ok(Mounted {
            handle,
            _on_change: on_change,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::editor_language;
    use protocol::Language;

    #[test]
    fn the_editor_module_knows_exactly_the_canonical_language_names() {
        let source = include_str!("../../../frontend/editor/src/axe-editor.js");
        let mut cases: Vec<&str> = source
            .lines()
            .filter_map(|line| line.trim().strip_prefix("case \""))
            .filter_map(|rest| rest.strip_suffix("\":"))
            .collect();
        cases.sort_unstable();
        let mut names: Vec<&str> = Language::ALL.iter().map(|l| l.name()).collect();
        names.sort_unstable();
        assert_eq!(cases, names);
        assert_eq!(editor_language("TSX"), "typescript");
        assert_eq!(editor_language("cobol"), "");
    }
}
