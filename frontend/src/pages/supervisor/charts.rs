//! Charts drawn as SVG by hand (no charting library): grouped bars over
//! time, horizontal bars, a line against a limit, stacked shares. Each
//! scales to its container; every chart has a title and a text summary
//! for screen readers (`role="img"` with `aria-label`).

use leptos::prelude::*;

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;

/// Series colours, in order (also used by the legends).
pub const COLORS: [&str; 4] = ["#2563eb", "#16a34a", "#d97706", "#9aa3b2"];

/// A round axis maximum at or above `max`, and its step for 4 grid lines.
fn axis(max: f64) -> (f64, f64) {
    if max <= 0.0 {
        return (1.0, 0.25);
    }
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (step * 4.0, step)
}

fn fmt_tick(v: f64, percent: bool) -> String {
    if percent {
        format!("{:.1}%", v * 100.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The y grid and its labels.
fn grid(top: f64, step: f64, percent: bool) -> impl IntoView {
    let plot_h = H - BOTTOM - TOP;
    (0..=4)
        .map(|i| {
            let v = step * i as f64;
            let y = H - BOTTOM - plot_h * v / top;
            view! {
                <line x1=LEFT x2=W y1=y y2=y class="grid"/>
                <text x=LEFT - 6.0 y=y + 4.0 text-anchor="end" class="tick">{fmt_tick(v, percent)}</text>
            }
        })
        .collect_view()
}

/// Every `n`th x label so that at most ~12 show.
fn x_labels(labels: &[String], band: f64) -> impl IntoView {
    let every = labels.len().div_ceil(12).max(1);
    labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, l)| {
            let x = LEFT + band * (i as f64 + 0.5);
            view! { <text x=x y=H - 8.0 text-anchor="middle" class="tick">{l.clone()}</text> }
        })
        .collect_view()
}

fn legend(names: &[&str]) -> impl IntoView {
    view! {
        <ul class="legend">
            {names.iter().enumerate().map(|(i, n)| view! {
                <li><span class="swatch" style=format!("background:{}", COLORS[i % COLORS.len()])></span>{n.to_string()}</li>
            }).collect_view()}
        </ul>
    }
}

/// Grouped vertical bars: one group per label, one bar per series.
pub fn bars(
    id: &'static str,
    summary: String,
    labels: Vec<String>,
    series: Vec<(&'static str, Vec<f64>)>,
) -> AnyView {
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0, f64::max);
    let (top, step) = axis(max);
    let n = labels.len().max(1);
    let band = (W - LEFT) / n as f64;
    let k = series.len().max(1) as f64;
    let bar = (band * 0.8 / k).max(1.0);
    let plot_h = H - BOTTOM - TOP;
    let names: Vec<&str> = series.iter().map(|(n, _)| *n).collect();
    let rects = series
        .iter()
        .enumerate()
        .flat_map(|(s, (_, values))| {
            values.iter().enumerate().map(move |(i, v)| {
                let h = plot_h * v / top;
                let x = LEFT + band * i as f64 + band * 0.1 + bar * s as f64;
                view! { <rect x=x y=H - BOTTOM - h width=bar height=h fill=COLORS[s % COLORS.len()]><title>{format!("{v}")}</title></rect> }
            })
        })
        .collect_view();
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary>
                {grid(top, step, false)}
                {rects}
                {x_labels(&labels, band)}
            </svg>
            {legend(&names)}
        </figure>
    }
    .into_any()
}

/// A line of rates over time with a dashed limit line.
pub fn line_with_limit(
    id: &'static str,
    summary: String,
    labels: Vec<String>,
    values: Vec<f64>,
    limit: f64,
) -> AnyView {
    let max = values.iter().copied().fold(limit * 1.25, f64::max);
    let (top, step) = axis(max);
    let n = labels.len().max(1);
    let band = (W - LEFT) / n as f64;
    let plot_h = H - BOTTOM - TOP;
    let y = |v: f64| H - BOTTOM - plot_h * v / top;
    let points: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", LEFT + band * (i as f64 + 0.5), y(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    let over = values.iter().any(|v| *v > limit);
    view! {
        <figure class="chart" id=id data-over=over.then_some("true")>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary>
                {grid(top, step, true)}
                <line x1=LEFT x2=W y1=y(limit) y2=y(limit) class="limit"/>
                <text x=W - 4.0 y=y(limit) - 5.0 text-anchor="end" class="tick limit-label">{format!("limit {:.1}%", limit * 100.0)}</text>
                <polyline points=points fill="none" stroke=COLORS[0] stroke-width="2.5"/>
                {values.iter().enumerate().map(|(i, v)| view! {
                    <circle cx=LEFT + band * (i as f64 + 0.5) cy=y(*v) r="3" fill={if *v > limit { "#dc2626" } else { COLORS[0] }}/>
                }).collect_view()}
                {x_labels(&labels, band)}
            </svg>
            {legend(&["Abandoned ÷ live answers, cumulative", "Limit"])}
        </figure>
    }
    .into_any()
}

/// Horizontal bars, one per item (largest first).
pub fn hbars(id: &'static str, summary: String, mut items: Vec<(String, f64)>) -> AnyView {
    items.sort_by(|a, b| b.1.total_cmp(&a.1));
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let row = 26.0;
    let h = row * items.len().max(1) as f64 + 8.0;
    let label_w = 170.0;
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {W} {h}") role="img" aria-label=summary>
                {items.into_iter().enumerate().map(|(i, (label, v))| {
                    let y = 4.0 + row * i as f64;
                    let w = (W - label_w - 50.0) * v / max;
                    view! {
                        <text x=label_w - 8.0 y=y + 16.0 text-anchor="end" class="tick">{label}</text>
                        <rect x=label_w y=y + 3.0 width=w height=row - 8.0 fill=COLORS[0]/>
                        <text x=label_w + w + 6.0 y=y + 16.0 class="tick">{format!("{v}")}</text>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
    .into_any()
}

/// One bar per row split into shares of its total (talk/hold/wrap/idle).
pub fn stacked(
    id: &'static str,
    summary: String,
    parts: &'static [&'static str],
    rows: Vec<(String, Vec<f64>)>,
) -> AnyView {
    let row = 26.0;
    let h = row * rows.len().max(1) as f64 + 8.0;
    let label_w = 170.0;
    let span = W - label_w - 10.0;
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {W} {h}") role="img" aria-label=summary>
                {rows.into_iter().enumerate().map(|(i, (label, values))| {
                    let y = 4.0 + row * i as f64;
                    let total: f64 = values.iter().sum();
                    let mut x = label_w;
                    let segs = values.iter().enumerate().map(|(s, v)| {
                        let w = if total > 0.0 { span * v / total } else { 0.0 };
                        let seg = view! { <rect x=x y=y + 3.0 width=w height=row - 8.0 fill=COLORS[s % COLORS.len()]>
                            <title>{format!("{}: {:.0} %", parts[s % parts.len()], if total > 0.0 { 100.0 * v / total } else { 0.0 })}</title></rect> };
                        x += w;
                        seg
                    }).collect_view();
                    view! {
                        <text x=label_w - 8.0 y=y + 16.0 text-anchor="end" class="tick">{label}</text>
                        {segs}
                    }
                }).collect_view()}
            </svg>
            {legend(parts)}
        </figure>
    }
    .into_any()
}
