//! The widget's wasm entry point: [`mount`], called by the loader (`/axe/embed.js`) or the npm
//! package once the person opens the widget, with an element inside the host's shadow root and
//! the host's settings; and the [`Widget`] handle the host's `AXE` API acts on.

use app::{
    embed::{self, HostFile, Options},
    host::Bridge,
    store::WidgetView,
};
use js_sys::{Function, Reflect};
use wasm_bindgen::{prelude::*, JsCast};

/// A mounted widget, as JavaScript sees it.
#[wasm_bindgen]
pub struct Widget(embed::Widget);

fn string(options: &JsValue, key: &str) -> Option<String> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}

fn function(options: &JsValue, key: &str) -> Option<Function> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.dyn_into::<Function>().ok())
}

fn view_named(name: &str) -> Option<WidgetView> {
    match name {
        "minimized" | "button" => Some(WidgetView::Minimized),
        "panel" | "expanded" => Some(WidgetView::Expanded),
        "canvas" => Some(WidgetView::Canvas),
        _ => None,
    }
}

/// `{id, name, language, content}` from the host; `None` unless all four are strings.
fn host_file(file: &JsValue) -> Option<HostFile> {
    Some(HostFile {
        id: string(file, "id")?,
        name: string(file, "name")?,
        language: string(file, "language")?,
        content: string(file, "content")?,
    })
}

/// Mounts the widget in `parent`. `options`: `{server, assets, view, draft, activeFile,
/// emit(name, detail), importModule(url), getToken()}`, every one optional.
#[wasm_bindgen]
pub fn mount(parent: web_sys::HtmlElement, options: JsValue) -> Widget {
    let bridge = Bridge {
        server: string(&options, "server").unwrap_or_default(),
        assets: string(&options, "assets").unwrap_or_default(),
        emit: function(&options, "emit"),
        import: function(&options, "importModule"),
        get_token: function(&options, "getToken"),
    };
    let view = string(&options, "view")
        .as_deref()
        .and_then(view_named)
        .unwrap_or(WidgetView::Minimized);
    let file = Reflect::get(&options, &JsValue::from_str("activeFile"))
        .ok()
        .as_ref()
        .and_then(host_file);
    Widget(embed::mount(
        parent,
        Options {
            view,
            draft: string(&options, "draft").unwrap_or_default(),
            file,
            bridge,
            // On unless the host says `telemetry: false` (the loader's data-telemetry="off").
            telemetry: Reflect::get(&options, &JsValue::from_str("telemetry"))
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
        },
    ))
}

#[wasm_bindgen]
impl Widget {
    /// Shows the widget as `"minimized"`, `"panel"` or `"canvas"`; `false` for another name.
    #[wasm_bindgen(js_name = setView)]
    pub fn set_view(&self, name: &str) -> bool {
        view_named(name).map(|view| self.0.set_view(view)).is_some()
    }

    /// Shows the host's file `{id, name, language, content}` in the editor and makes it the
    /// chat's context; `false` if one of the four is missing.
    #[wasm_bindgen(js_name = setActiveFile)]
    pub fn set_active_file(&self, file: JsValue) -> bool {
        host_file(&file)
            .map(|f| self.0.set_active_file(f))
            .is_some()
    }

    /// Changes how the widget gets tokens: `getToken()` returning a token or a promise of one.
    pub fn configure(&self, options: JsValue) {
        if let Some(get_token) = function(&options, "getToken") {
            app::host::configure(|bridge| bridge.get_token = Some(get_token));
        }
    }

    /// Unmounts the widget and closes its connection.
    pub fn destroy(&mut self) {
        self.0.destroy();
    }
}
