//! The dashboard page, a Leptos view rendered on the server: the alert banner, the current
//! figures, and the plots. It reloads itself every 10 s; no script, no wasm.

use leptos::prelude::*;

/// What the page shows.
pub struct DashboardView {
    /// `hour` or `day`.
    pub range: &'static str,
    /// Alert messages; empty when all is well.
    pub alerts: Vec<String>,
    /// `(label, value)` figures for the minute in progress.
    pub figures: Vec<(&'static str, String)>,
    /// Each plot's title and SVG.
    pub charts: Vec<(&'static str, String)>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1rem 2rem;color:#1f2328}\
    .alert{background:#ffebe9;border:1px solid #cf222e;color:#82071e;padding:.5rem 1rem;border-radius:6px}\
    .figures{display:flex;gap:1.5rem;flex-wrap:wrap;padding:0;list-style:none}\
    .figures li{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .8rem}\
    .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1rem}\
    figure{margin:0}nav a{margin-right:1rem}";

/// The whole document.
pub fn render(view: DashboardView) -> String {
    let DashboardView {
        range,
        alerts,
        figures,
        charts,
    } = view;
    let banner = (!alerts.is_empty()).then(|| {
        view! {
            <div class="alert" role="alert">
                <strong>"Alert: "</strong>
                {alerts.join("; ")}
            </div>
        }
    });
    let body = view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta http-equiv="refresh" content="10"/>
                <title>"AXE dashboard"</title>
                <style inner_html=STYLE></style>
            </head>
            <body>
                <h1>"AXE dashboard"</h1>
                <nav aria-label="Time range">
                    <a href="/dashboard?range=hour" aria-current=(range == "hour").then_some("page")>"Last hour"</a>
                    <a href="/dashboard?range=day" aria-current=(range == "day").then_some("page")>"Last day"</a>
                </nav>
                {banner}
                <ul class="figures" aria-label="This minute">
                    {figures.into_iter().map(|(label, value)| view! { <li>{label}": "<strong>{value}</strong></li> }).collect_view()}
                </ul>
                <div class="charts">
                    {charts.into_iter().map(|(title, svg)| view! {
                        <figure aria-label=title inner_html=svg></figure>
                    }).collect_view()}
                </div>
            </body>
        </html>
    };
    body.to_html()
}
