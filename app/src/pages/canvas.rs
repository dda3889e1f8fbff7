//! `/canvas`: the canvas on its own, full screen.

use super::EmbedScript;
use leptos::prelude::*;

/// The canvas page.
#[component]
pub fn CanvasPage() -> impl IntoView {
    view! { <EmbedScript view="canvas"/> }
}
