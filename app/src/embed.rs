//! Mounting the widget into a page. The loader (`/axe/embed.js`) and the npm package create a
//! shadow root and call [`mount`] with the host's settings; the [`Widget`] they get back is what
//! `AXE.open()`, `AXE.setActiveFile(…)` and the rest of the host's API act on. Browser only.

use crate::{
    host::{self, Bridge, HostEvent},
    store::{AxeStore, ConnectionStatus, WidgetView},
    telemetry,
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
    /// Whether telemetry is sent (the host may opt out).
    pub telemetry: bool,
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
    telemetry::enable(options.telemetry);
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
            report_views(store);
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
    Effect::new(move |before: Option<ConnectionStatus>| {
        let now = store.status.get();
        let session = store.session();
        match now {
            ConnectionStatus::Connected => {
                let since_load = web_sys::window()
                    .and_then(|w| w.performance())
                    .map_or(0.0, |p| p.now());
                telemetry::connected(since_load, session);
            }
            ConnectionStatus::Offline if before == Some(ConnectionStatus::Connected) => {
                telemetry::connection_lost(session);
            }
            ConnectionStatus::TakenOver => {
                telemetry::record(telemetry::Event::new(
                    "session_taken_over",
                    session,
                    Vec::new(),
                ));
            }
            _ => {}
        }
        let status = match now {
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Offline => "offline",
            ConnectionStatus::TakenOver => "taken_over",
            ConnectionStatus::SignInExpired => "sign_in_expired",
            ConnectionStatus::Forbidden => "forbidden",
        };
        host::emit(HostEvent::Connection { status });
        now
    });
}

/// Tells telemetry when the person opens, closes or switches the widget.
fn report_views(store: AxeStore) {
    Effect::new(move |before: Option<WidgetView>| {
        let now = store.view.get();
        let name = |view| match view {
            WidgetView::Minimized => "minimized",
            WidgetView::Expanded => "panel",
            WidgetView::Canvas => "canvas",
        };
        let event = match (before, now) {
            (None, WidgetView::Minimized) => None,
            (None | Some(WidgetView::Minimized), _) => Some("widget_opened"),
            (Some(_), WidgetView::Minimized) => Some("widget_closed"),
            (Some(before), now) if before != now => Some("view_changed"),
            _ => None,
        };
        if let Some(event) = event {
            let props = vec![("view", telemetry::Prop::Text(name(now).into()))];
            telemetry::record(telemetry::Event::new(event, store.session(), props));
        }
        now
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
