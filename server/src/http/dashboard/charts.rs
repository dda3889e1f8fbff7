//! One plot as an SVG line chart, drawn by `plotters` on the server (no script in the page).

use super::data::Plot;
use plotters::prelude::*;

/// Chart size in pixels.
const SIZE: (u32, u32) = (560, 260);

/// Line colours, in the order of a plot's lines (readable on white, and apart for most kinds
/// of colour blindness).
const COLOURS: [RGBColor; 6] = [
    RGBColor(0x00, 0x5a, 0xb5),
    RGBColor(0xdc, 0x32, 0x20),
    RGBColor(0x1a, 0x7f, 0x37),
    RGBColor(0x9a, 0x67, 0x00),
    RGBColor(0x6f, 0x42, 0xc1),
    RGBColor(0x57, 0x60, 0x6a),
];

/// `plot` as an SVG document, its x axis in minutes before `now` (Unix milliseconds).
pub fn svg(plot: &Plot, now: i64, span_ms: i64) -> String {
    let mut out = String::new();
    if let Err(error) = draw(&mut out, plot, now, span_ms) {
        tracing::warn!(%error, plot = plot.title, "cannot draw a plot");
        return format!("<p>The plot could not be drawn: {error}</p>");
    }
    out
}

fn draw(
    out: &mut String,
    plot: &Plot,
    now: i64,
    span_ms: i64,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let highest = plot
        .lines
        .iter()
        .flat_map(|line| line.points.iter().map(|(_, y)| *y))
        .fold(0.0f64, f64::max);
    let top = if highest > 0.0 { highest * 1.15 } else { 1.0 };
    let minutes = |at: i64| (at - now) as f64 / 60_000.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{} ({})", plot.title, plot.unit),
            ("sans-serif", 16),
        )
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(minutes(now - span_ms)..0.0, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("minutes ago")
        .x_label_formatter(&|x| format!("{:.0}", -x))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;
    for (index, line) in plot.lines.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                line.points.iter().map(|(at, y)| (minutes(*at), *y)),
                colour.stroke_width(2),
            ))?
            .label(line.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
    }
    if !plot.lines.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0xd0, 0xd7, 0xde))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
