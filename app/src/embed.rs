//! Mounting the widget into a page. The loader (`/axe/embed.js`) and the npm package create a
//! shadow root and call [`mount`] with the host's settings; the [`Widget`] they get back is what
//! `AXE.open()`, `AXE.setActiveFile(…)` and the rest of the host's API act on. Browser only.

use crate::{
    host::{self, Bridge, HostEvent},
    store::{AxeStore, ConnectionStatus, WidgetView},
    widget::AxeWidget,
};
use leptos::{mount::mount_to, prelude::*};
use std::{cell::Cell, rc::Rc};

/// How the widget starts.
pub struct Options {
    /// Its first form.
    pub view: WidgetView,
    /// Text the person typed before the widget's code arrived.
    pub draft: String,
    /// The host's file, when it gave one before mounting.
    pub file: Option<HostFile>,
    /// Where the server and files are, and the host's callbacks.
    pub bridge: Bridge,
}

/// A file the host shows (`AXE.setActiveFile`).
pub struct HostFile {
    /// Its id, shared with the server.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Language name.
    pub language: String,
    /// Whole content.
    pub content: String,
}

/// A mounted widget.
pub struct Widget {
    store: AxeStore,
    unmount: Option<Box<dyn FnOnce()>>,
}

/// Mounts the widget in `parent` (inside the host's shadow root).
pub fn mount(parent: web_sys::HtmlElement, options: Options) -> Widget {
    host::configure(|bridge| *bridge = options.bridge);
    let made = Rc::new(Cell::new(None::<AxeStore>));
    let handle = mount_to(parent, {
        let made = made.clone();
        move || {
            let store = AxeStore::new(options.view);
            store.draft.set(options.draft);
            if let Some(file) = options.file {
                store.open_file(file.id, file.name, file.language, file.content);
            }
            report_connection(store);
            made.set(Some(store));
            view! { <AxeWidget store/> }
        }
    });
    let store = made
        .take()
        .expect("mount_to runs the view function before it returns");
    Widget {
        store,
        unmount: Some(Box::new(move || drop(handle))),
    }
}

/// Tells the host each change of the connection's state.
fn report_connection(store: AxeStore) {
    Effect::new(move || {
        let status = match store.status.get() {
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Offline => "offline",
            ConnectionStatus::TakenOver => "taken_over",
            ConnectionStatus::SignInExpired => "sign_in_expired",
            ConnectionStatus::Forbidden => "forbidden",
        };
        host::emit(HostEvent::Connection { status });
    });
}

impl Widget {
    fn alive(&self) -> Option<AxeStore> {
        self.unmount.as_ref().map(|_| self.store)
    }

    /// Shows the widget in `view`.
    pub fn set_view(&self, view: WidgetView) {
        if let Some(store) = self.alive() {
            store.view.set(view);
        }
    }

    /// Shows `file` in the editor and makes it the chat's context.
    pub fn set_active_file(&self, file: HostFile) {
        if let Some(store) = self.alive() {
            store.open_file(file.id, file.name, file.language, file.content);
        }
    }

    /// Unmounts the widget and closes its connection; further calls do nothing.
    pub fn destroy(&mut self) {
        if let Some(unmount) = self.unmount.take() {
            unmount();
        }
    }
}
