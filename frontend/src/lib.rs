//! The wasm entry point: one function that hydrates the server-rendered page.

/// Called by the hydration script cargo-leptos injects into every page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
