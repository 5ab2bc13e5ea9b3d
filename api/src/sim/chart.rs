//! An SVG chart of a simulated day: occupancy per ten-minute slice above,
//! abandonment so far below (with the limit), one line per pacer.

use std::fmt::Write;

use super::Report;
use super::run::{PacerKind, SLICE_SECS};

fn colour(p: PacerKind) -> &'static str {
    match p {
        PacerKind::Pinline => "#1f6feb",
        PacerKind::Vicidial => "#d1242f",
        PacerKind::Progressive => "#6e7781",
        PacerKind::Clairvoyant => "#2da44e",
    }
}

pub fn svg(r: &Report) -> String {
    let (w, h, left, top, panel, gap) = (820.0, 520.0, 60.0, 40.0, 190.0, 60.0);
    let right = w - 170.0;
    let hours = r.scenario.hours;
    let x = |i: usize| left + (i as f64 + 0.5) * SLICE_SECS / 3600.0 / hours * (right - left);
    let ab_max = r
        .pacers
        .iter()
        .flat_map(|p| p.slices.iter().map(|s| s.1))
        .fold(r.scenario.max_abandon_rate * 2.0, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="#fff"/>
<text x="{left}" y="22" font-size="15" font-weight="bold">{name}: {desc} ({n} seeds)</text>
"##,
        name = esc(&r.scenario.name),
        desc = esc(&r.scenario.description),
        n = r.seeds.len()
    );
    for (k, (title, max, pick)) in [
        ("Agent occupancy (per 10 min)", 1.0, 0usize),
        ("Abandonment so far", ab_max, 1usize),
    ]
    .into_iter()
    .enumerate()
    {
        let y0 = top + k as f64 * (panel + gap);
        let y = |v: f64| y0 + panel - (v / max).clamp(0.0, 1.0) * panel;
        let _ = write!(
            s,
            r##"<text x="{left}" y="{t}" font-weight="bold">{title}</text>
<rect x="{left}" y="{y0}" width="{pw}" height="{panel}" fill="none" stroke="#d0d7de"/>
"##,
            t = y0 - 6.0,
            pw = right - left
        );
        for q in 0..=4 {
            let v = max * f64::from(q) / 4.0;
            let _ = writeln!(
                s,
                r##"<text x="{tx}" y="{ty}" text-anchor="end">{:.1} %</text><line x1="{left}" x2="{right}" y1="{ly}" y2="{ly}" stroke="#eaeef2"/>"##,
                v * 100.0,
                tx = left - 6.0,
                ty = y(v) + 4.0,
                ly = y(v)
            );
        }
        for hr in 0..=(hours.floor() as u32) {
            let hx = left + f64::from(hr) / hours * (right - left);
            let _ = writeln!(
                s,
                r##"<text x="{hx}" y="{ty}" text-anchor="middle">{hr} h</text>"##,
                ty = y0 + panel + 16.0
            );
        }
        if pick == 1 {
            let ly = y(r.scenario.max_abandon_rate);
            let _ = writeln!(
                s,
                r##"<line x1="{left}" x2="{right}" y1="{ly}" y2="{ly}" stroke="#000" stroke-dasharray="6 4"/><text x="{tx}" y="{ty}">limit {:.1} %</text>"##,
                r.scenario.max_abandon_rate * 100.0,
                tx = right + 6.0,
                ty = ly + 4.0
            );
        }
        for p in &r.pacers {
            let pts: Vec<String> = p
                .slices
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(if pick == 0 { v.0 } else { v.1 })))
                .collect();
            let _ = writeln!(
                s,
                r##"<polyline fill="none" stroke="{c}" stroke-width="2" points="{pts}"><title>{n}</title></polyline>"##,
                c = colour(p.pacer),
                n = p.pacer.name(),
                pts = pts.join(" ")
            );
        }
    }
    for (i, p) in r.pacers.iter().enumerate() {
        let ly = top + 20.0 + i as f64 * 20.0;
        let _ = writeln!(
            s,
            r##"<line x1="{a}" x2="{b}" y1="{ly}" y2="{ly}" stroke="{c}" stroke-width="3"/><text x="{t}" y="{ty}">{n}</text>"##,
            a = right + 10.0,
            b = right + 30.0,
            t = right + 36.0,
            ty = ly + 4.0,
            c = colour(p.pacer),
            n = p.pacer.name()
        );
    }
    s.push_str("</svg>\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
