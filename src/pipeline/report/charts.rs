//! The report's charts as inline SVG: log loss per segment as a dot plot
//! with the segment names on the axis, reliability diagrams whose points
//! show their bin's size, knnpref's predicted-probability histograms and
//! the learning curves. Each model's marks sit in a `<g data-model=…>`
//! group coloured by [`model_colour`], the same in every chart.

use std::fmt::Write as _;

use super::svg::{esc, legend, model_colour, open, title, Frame, Key, Mark, Scale, NEUTRAL};
use crate::pipeline::scores::EvalReport;

/// Bins with fewer rows than this are drawn as grey rings and not joined
/// to the model's line: their observed frequency is mostly noise.
pub(super) const MIN_BIN_ROWS: usize = 20;

/// Opening of one model's group of marks, in its colour.
fn group(model: &str) -> String {
    let c = model_colour(model);
    format!("<g data-model=\"{}\" stroke=\"{c}\" fill=\"{c}\">", esc(model))
}

/// One legend key per model, in report order.
fn model_keys(r: &EvalReport, mark: Mark) -> Vec<Key<'_>> {
    r.models.iter().map(|m| Key { name: &m.name, colour: model_colour(&m.name), mark }).collect()
}

/// Log loss per segment: one row per segment, grouped under its family,
/// with one dot per model (nudged apart vertically so none hides another).
pub(super) fn segment_chart(r: &EvalReport) -> String {
    const ROW: f64 = 24.0;
    let all = r.segments.iter().flat_map(|s| s.log_loss.iter().copied());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), v| (l.min(v), u.max(v)));
    if !lo.is_finite() {
        return String::new();
    }
    let families = r.segments.windows(2).filter(|w| w[0].family != w[1].family).count() + 1;
    let body = ROW * (r.segments.len() + families) as f64;
    let (w, h) = (1000.0, 30.0 + body + 48.0);
    let f = Frame {
        x0: 250.0,
        x1: 970.0,
        y0: 30.0,
        y1: 30.0 + body,
        x: Scale::nice(lo, hi),
        y: Scale::fixed(0.0, 1.0, vec![]),
    };
    let mut s = open(w, h, "log loss by segment, one dot per model");
    let mut keys = model_keys(r, Mark::Dot);
    let few = format!("segment under {MIN_BIN_ROWS} rows");
    keys.push(Key { name: &few, colour: NEUTRAL, mark: Mark::Ring });
    legend(&mut s, f.x0, 12.0, &keys);
    f.axes(&mut s, "log loss (lower is better)", None, false);
    // Row positions, family headings and segment labels.
    let mut rows = Vec::with_capacity(r.segments.len());
    let mut y = f.y0;
    let mut family = None;
    s.push_str("<g fill=\"#222222\">");
    for seg in &r.segments {
        if family != Some(&seg.family) {
            family = Some(&seg.family);
            y += ROW;
            let _ = write!(
                s,
                "<text x=\"10\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
                y - 8.0,
                esc(&seg.family)
            );
        }
        y += ROW;
        let mid = y - ROW / 2.0;
        rows.push(mid);
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" y1=\"{mid:.1}\" x2=\"{:.1}\" y2=\"{mid:.1}\" stroke=\"#d9d9d9\"/>\
             <text x=\"22\" y=\"{:.1}\" class=\"segment\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#595959\">{} rows</text>",
            f.x0,
            f.x1,
            mid + 4.0,
            esc(&seg.segment),
            f.x0 - 10.0,
            mid + 4.0,
            seg.rows
        );
    }
    s.push_str("</g>");
    let n = r.models.len() as f64;
    for (v, m) in r.models.iter().enumerate() {
        s.push_str(&group(&m.name));
        let nudge = (v as f64 - (n - 1.0) / 2.0) * 3.0;
        for (seg, mid) in r.segments.iter().zip(&rows) {
            let l = seg.log_loss[v];
            // Too few rows to compare models: an open ring in the model's colour.
            let look = if seg.rows < MIN_BIN_ROWS {
                "r=\"4\" fill=\"#ffffff\" stroke-width=\"1.5\""
            } else {
                "r=\"5\" stroke=\"#ffffff\" stroke-width=\"1\""
            };
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" {look}><title>{}, {}: {}: {l:.4}</title></circle>",
                f.px(l),
                mid + nudge,
                esc(&m.name),
                esc(&seg.family),
                esc(&seg.segment)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    let _ = write!(
        s,
        "<p class=\"caption\">One dot per model and segment; lower is better. Segments with fewer than \
         {MIN_BIN_ROWS} rows are drawn as open rings: too few rows to tell models apart.</p>"
    );
    s
}

/// The reliability diagrams: a shared legend, one panel per class, and a
/// caption on what the point sizes and grey rings mean.
pub(super) fn reliability_section(r: &EvalReport) -> String {
    let biggest = r.reliability.iter().flat_map(|x| x.bins.iter().map(|b| b.count)).max().unwrap_or(1).max(1);
    let mut h = String::from("<h2>Reliability (out-of-fold)</h2>");
    let mut keys = model_keys(r, Mark::Line);
    keys.push(Key { name: "perfect calibration", colour: NEUTRAL, mark: Mark::Line });
    let ring = format!("bin under {MIN_BIN_ROWS} rows");
    keys.push(Key { name: &ring, colour: NEUTRAL, mark: Mark::Ring });
    let mut s = open(1000.0, 24.0, "legend");
    legend(&mut s, 10.0, 12.0, &keys);
    s.push_str("</svg>");
    h.push_str(&s);
    h.push_str("<div class=\"grid3\">");
    for class in ["model_a", "model_b", "tie"] {
        h.push_str(&reliability_panel(r, class, biggest));
    }
    let _ = write!(
        h,
        "</div><p class=\"caption\">Mean predicted probability against the observed frequency, 10 bins per \
         class. A point's area grows with the rows in its bin (largest: {biggest} rows; hover a point for its \
         count). Bins with fewer than {MIN_BIN_ROWS} rows are drawn as small grey rings and left off the \
         lines: with so few rows their observed frequency is mostly noise.</p>"
    );
    h
}

/// One class's reliability diagram.
fn reliability_panel(r: &EvalReport, class: &str, biggest: usize) -> String {
    let (x, y) = (Scale::nice(0.0, 1.0), Scale::nice(0.0, 1.0));
    let f = Frame { x0: 58.0, x1: 345.0, y0: 36.0, y1: 318.0, x, y };
    let mut s = open(360.0, 362.0, &format!("reliability of P({class})"));
    title(&mut s, 10.0, 20.0, &format!("P({class})"));
    f.axes(&mut s, "predicted", Some("observed"), true);
    let _ = write!(
        s,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{NEUTRAL}\" stroke-width=\"1.5\"/>",
        f.px(0.0),
        f.py(0.0),
        f.px(1.0),
        f.py(1.0)
    );
    for rel in r.reliability.iter().filter(|x| x.class == class) {
        s.push_str(&group(&rel.model));
        let line: Vec<String> = rel
            .bins
            .iter()
            .filter(|b| b.count >= MIN_BIN_ROWS)
            .map(|b| format!("{:.1},{:.1}", f.px(b.predicted), f.py(b.observed)))
            .collect();
        if line.len() > 1 {
            let _ = write!(s, "<polyline points=\"{}\" fill=\"none\" stroke-width=\"1.8\"/>", line.join(" "));
        }
        for b in &rel.bins {
            let (cx, cy) = (f.px(b.predicted), f.py(b.observed));
            let tip = format!(
                "<title>{}: {} rows, predicted {:.3}, observed {:.3}</title>",
                esc(&rel.model),
                b.count,
                b.predicted,
                b.observed
            );
            if b.count >= MIN_BIN_ROWS {
                let radius = 2.5 + 7.5 * (b.count as f64 / biggest as f64).sqrt();
                let _ = write!(
                    s,
                    "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{radius:.1}\" data-count=\"{}\" fill-opacity=\"0.8\" \
                     stroke=\"#ffffff\" stroke-width=\"0.8\">{tip}</circle>",
                    b.count
                );
            } else {
                let _ = write!(
                    s,
                    "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3\" data-count=\"{}\" fill=\"#ffffff\" \
                     stroke=\"{NEUTRAL}\" stroke-width=\"1.2\">{tip}</circle>",
                    b.count
                );
            }
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// Histograms of the last model's (knnpref's) out-of-fold probabilities,
/// one small panel per class on a shared row axis, in that model's colour.
pub(super) fn histogram_chart(r: &EvalReport) -> String {
    let (Some(model), Some(oof)) = (r.models.last(), r.oof.last()) else { return String::new() };
    const BINS: usize = 20;
    let counts: Vec<Vec<usize>> = (0..3)
        .map(|c| {
            let mut n = vec![0; BINS];
            for p in oof {
                n[((p[c] * BINS as f64) as usize).min(BINS - 1)] += 1;
            }
            n
        })
        .collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
    let y = Scale::nice(0.0, top as f64);
    let mut s = open(1000.0, 270.0, &format!("{} predicted probabilities", model.name));
    title(&mut s, 10.0, 20.0, &format!("{} out-of-fold predicted probabilities (first repeat)", model.name));
    for (c, class) in ["model_a", "model_b", "tie"].iter().enumerate() {
        let x0 = 70.0 + c as f64 * 315.0;
        let ticks = [0.0, 0.25, 0.5, 0.75, 1.0].map(|v| (v, format!("{v}"))).to_vec();
        let f =
            Frame { x0, x1: x0 + 270.0, y0: 50.0, y1: 220.0, x: Scale::fixed(0.0, 1.0, ticks), y: y.clone() };
        let _ = write!(s, "<text x=\"{x0:.1}\" y=\"40\" fill=\"#222222\">P({class})</text>");
        f.axes(&mut s, "probability", (c == 0).then_some("rows"), true);
        s.push_str(&group(&model.name));
        let width = (f.x1 - f.x0) / BINS as f64;
        for (b, &n) in counts[c].iter().enumerate() {
            let top = f.py(n as f64);
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" stroke=\"#ffffff\" stroke-width=\"0.5\">\
                 <title>{n} rows with P({class}) in [{:.2}, {:.2})</title></rect>",
                f.x0 + b as f64 * width,
                width,
                f.y1 - top,
                b as f64 / BINS as f64,
                (b + 1) as f64 / BINS as f64
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// Log loss against training rows per fold (log-scaled axis labelled in
/// rows), one line per model; `sizes` points per model.
pub(super) fn curve_chart(r: &EvalReport, sizes: usize) -> String {
    let points = &r.learning_curve;
    let xs: Vec<f64> = points[..sizes].iter().map(|p| p.train_rows.max(1.0).log2()).collect();
    let (x_lo, x_hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), &x| (l.min(x), u.max(x)));
    let ticks = points[..sizes].iter().zip(&xs).map(|(p, &x)| (x, format!("{:.0}", p.train_rows))).collect();
    let ys = points.iter().map(|p| p.log_loss);
    let (y_lo, y_hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), y| (l.min(y), u.max(y)));
    let x = Scale::fixed(x_lo - 0.3, x_hi + 0.3, ticks);
    let f = Frame { x0: 80.0, x1: 970.0, y0: 60.0, y1: 300.0, x, y: Scale::nice(y_lo, y_hi) };
    let mut s = open(1000.0, 350.0, "learning curves");
    title(&mut s, 10.0, 20.0, "Log loss by training size");
    let keys: Vec<Key<'_>> = points
        .chunks(sizes)
        .map(|c| Key { name: &c[0].model, colour: model_colour(&c[0].model), mark: Mark::Line })
        .collect();
    legend(&mut s, f.x0, 42.0, &keys);
    f.axes(&mut s, "training rows per fold (log scale)", Some("log loss"), true);
    for chunk in points.chunks(sizes) {
        s.push_str(&group(&chunk[0].model));
        let line: Vec<String> = chunk
            .iter()
            .map(|p| format!("{:.1},{:.1}", f.px(p.train_rows.max(1.0).log2()), f.py(p.log_loss)))
            .collect();
        let _ = write!(s, "<polyline points=\"{}\" fill=\"none\" stroke-width=\"2\"/>", line.join(" "));
        for p in chunk {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\"><title>{}: {:.0} rows, log loss {:.4}</title></circle>",
                f.px(p.train_rows.max(1.0).log2()),
                f.py(p.log_loss),
                esc(&p.model),
                p.train_rows,
                p.log_loss
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}
