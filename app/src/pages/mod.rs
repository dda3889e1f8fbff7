//! AXE's own pages, rendered on the server and never hydrated: the start page, the widget test
//! page (a host page like any other) and the canvas. Each embeds the widget through the loader
//! script, exactly as a third-party site does.

pub mod canvas;
pub mod landing;
pub mod widget_test;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

/// The pages' own styles, small enough to travel inside each page.
const PAGE_STYLES: &str = include_str!("../../../style/pages.css");

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // `cargo leptos watch` reloads the page (and so the widget) after each build.
                <AutoReload options/>
                <style inner_html=PAGE_STYLES></style>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="AXE assistant"/>
        <Router>
            <Routes fallback=|| view! { <p>"Page not found."</p> }>
                <Route path=StaticSegment("") view=landing::LandingPage/>
                <Route path=StaticSegment("widget-test") view=widget_test::WidgetTestPage/>
                <Route path=StaticSegment("canvas") view=canvas::CanvasPage/>
            </Routes>
        </Router>
    }
}

/// The loader script tag, as a host page writes it; `view` is the form the widget starts in,
/// `telemetry` `"off"` opts out.
#[component]
pub fn EmbedScript(
    #[prop(optional, into)] view: Option<&'static str>,
    #[prop(optional, into)] telemetry: Option<&'static str>,
) -> impl IntoView {
    view! { <script src="/axe/embed.js" async data-view=view data-telemetry=telemetry></script> }
}
