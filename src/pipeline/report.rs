//! The evaluation report: `metrics.json` and a self-contained `report.html`
//! with SVG plots drawn by poloto (reliability per class, log loss by
//! segment next to the baselines, the predicted-probability histogram, and
//! the learning curves when measured).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use poloto::build;

use super::scores::EvalReport;
use crate::fsio::write_atomic;

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Creating the folder or writing a file failed.
    #[error("cannot write report {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A chart could not be rendered.
    #[error("cannot draw the {chart} chart")]
    Draw {
        /// Which chart.
        chart: &'static str,
        /// The formatter's error.
        #[source]
        source: std::fmt::Error,
    },
}

/// Write `metrics.json` and `report.html` into `dir` (created if needed),
/// each through a temporary file and a rename.
pub(crate) fn write_report(dir: &Path, r: &EvalReport) -> Result<(), ReportError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut json = serde_json::to_string_pretty(r).expect("report serialises");
    json.push('\n');
    let path = dir.join("metrics.json");
    write_atomic(&path, |w| w.write_all(json.as_bytes())).map_err(io(&path))?;
    let html = render_html(r)?;
    let path = dir.join("report.html");
    write_atomic(&path, |w| w.write_all(html.as_bytes())).map_err(io(&path))?;
    Ok(())
}

type Series = (String, Kind, Vec<[f64; 2]>);

enum Kind {
    Line,
    Scatter,
}

/// One poloto chart as an SVG string; `bounds` pins the axes' ranges.
fn chart(
    name: &'static str,
    labels: (&str, &str, &str),
    series: Vec<Series>,
    bounds: ([f64; 2], [f64; 2]),
) -> Result<String, ReportError> {
    let plots: Vec<_> = series
        .into_iter()
        .map(|(n, kind, pts)| {
            let p = build::plot(n);
            match kind {
                Kind::Line => p.line(pts),
                Kind::Scatter => p.scatter(pts),
            }
        })
        .collect();
    let marks = build::markers(bounds.0, bounds.1);
    poloto::frame_build()
        .data(poloto::plots!(marks, plots))
        .build_and_label(labels)
        .append_to(poloto::header().light_theme())
        .render_string()
        .map_err(|source| ReportError::Draw { chart: name, source })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn render_html(r: &EvalReport) -> Result<String, ReportError> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>knnpref evaluation</title><style>\
         body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}\
         th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}\
         .grid{{display:grid;grid-template-columns:1fr 1fr;gap:1em}}svg{{width:100%;height:auto}}\
         .best{{font-weight:bold}}</style></head><body>\
         <h1>knnpref evaluation</h1><p>{} rows, {}-fold cross-validation × {} repeat(s), seed {}. \
         Every model ran in the same folds. Lower log loss is better; uniform guessing scores 1.0986.</p>",
        r.rows, r.folds, r.repeats, r.seed
    );
    let best = r.models.iter().map(|m| m.log_loss).fold(f64::INFINITY, f64::min);
    h.push_str("<h2>Models</h2><table><tr><th>model</th><th>log loss</th><th>± std (folds)</th><th>accuracy</th><th>ECE</th><th>Δ vs text-only [95% CI]</th></tr>");
    for m in &r.models {
        let diff = m
            .vs_text_only
            .map_or("—".to_string(), |d| format!("{:+.4} [{:+.4}, {:+.4}]", d.mean, d.low, d.high));
        let class = if m.log_loss == best { " class=\"best\"" } else { "" };
        let _ = write!(
            h,
            "<tr{class}><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{diff}</td></tr>",
            esc(&m.name),
            m.log_loss,
            m.log_loss_std,
            m.accuracy,
            m.ece
        );
    }
    h.push_str("</table>");

    h.push_str(&curve_section(r)?);

    h.push_str("<h2>Log loss by segment</h2><table><tr><th>segment</th><th>rows</th>");
    for m in &r.models {
        let _ = write!(h, "<th>{}</th>", esc(&m.name));
    }
    h.push_str("</tr>");
    for s in &r.segments {
        let _ = write!(h, "<tr><td>{}: {}</td><td>{}</td>", esc(&s.family), esc(&s.segment), s.rows);
        for l in &s.log_loss {
            let _ = write!(h, "<td>{l:.4}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h.push_str(&segment_chart(r)?);

    h.push_str("<h2>Reliability (out-of-fold)</h2><p>Mean predicted probability against the observed frequency, 10 bins per class; the diagonal is perfect calibration.</p><div class=\"grid\">");
    for class in ["model_a", "model_b", "tie"] {
        let mut series: Vec<Series> = vec![("perfect".into(), Kind::Line, vec![[0.0, 0.0], [1.0, 1.0]])];
        for rel in r.reliability.iter().filter(|x| x.class == class) {
            let pts = rel.bins.iter().map(|b| [b.predicted, b.observed]).collect();
            series.push((rel.model.clone(), Kind::Line, pts));
        }
        let title = format!("P({class})");
        h.push_str(&chart(
            "reliability",
            (&title, "predicted", "observed"),
            series,
            ([0.0, 1.0], [0.0, 1.0]),
        )?);
    }
    h.push_str(&histogram_chart(r)?);
    h.push_str("</div></body></html>\n");
    Ok(h)
}

/// The learning curves: a table and a line chart with a log-2 x axis.
fn curve_section(r: &EvalReport) -> Result<String, ReportError> {
    let points = &r.learning_curve;
    let Some(first) = points.first() else { return Ok(String::new()) };
    let sizes = points.iter().filter(|p| p.model == first.model).count();
    let mut h = String::from(
        "<h2>Learning curves</h2><p>Every model refitted on nested shares (prefixes of a seeded          shuffle) of each outer training fold and scored on the same test folds.</p>\
         <table><tr><th>model</th>",
    );
    for p in &points[..sizes] {
        let _ = write!(h, "<th>{:.0} rows ({:.3})</th>", p.train_rows, p.fraction);
    }
    h.push_str("</tr>");
    let mut series: Vec<Series> = Vec::new();
    for chunk in points.chunks(sizes) {
        let _ = write!(h, "<tr><td>{}</td>", esc(&chunk[0].model));
        for p in chunk {
            let _ = write!(h, "<td>{:.4}</td>", p.log_loss);
        }
        h.push_str("</tr>");
        let pts = chunk.iter().map(|p| [p.train_rows.max(1.0).log2(), p.log_loss]).collect();
        series.push((chunk[0].model.clone(), Kind::Line, pts));
    }
    h.push_str("</table>");
    let xs = points.iter().map(|p| p.train_rows.max(1.0).log2());
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), x| (l.min(x), u.max(x)));
    let ys = points.iter().map(|p| p.log_loss);
    let (y_lo, y_hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), y| (l.min(y), u.max(y)));
    h.push_str(&chart(
        "learning curve",
        ("log loss by training size", "log2(training rows per fold)", "log loss"),
        series,
        ([x_lo - 0.25, x_hi + 0.25], [(y_lo - 0.01).max(0.0), y_hi + 0.01]),
    )?);
    Ok(h)
}

/// Log loss per segment, models side by side (segments on the x axis).
fn segment_chart(r: &EvalReport) -> Result<String, ReportError> {
    let series: Vec<Series> = r
        .models
        .iter()
        .enumerate()
        .map(|(v, m)| {
            let pts = r.segments.iter().enumerate().map(|(i, s)| [i as f64 + 1.0, s.log_loss[v]]).collect();
            (m.name.clone(), Kind::Scatter, pts)
        })
        .collect();
    let lo = r.segments.iter().flat_map(|s| s.log_loss.iter().copied()).fold(f64::INFINITY, f64::min);
    let hi = r.segments.iter().flat_map(|s| s.log_loss.iter().copied()).fold(0.0, f64::max);
    let legend: Vec<String> =
        r.segments.iter().enumerate().map(|(i, s)| format!("{}={}", i + 1, esc(&s.segment))).collect();
    let svg = chart(
        "segments",
        ("log loss by segment", "segment", "log loss"),
        series,
        ([0.0, r.segments.len() as f64 + 1.0], [(lo - 0.02).max(0.0), hi + 0.02]),
    )?;
    Ok(format!("{svg}<p><small>segments: {}</small></p>", legend.join(", ")))
}

/// Histogram of knnpref's out-of-fold probabilities per class, drawn as
/// one line per class so that no class hides another.
fn histogram_chart(r: &EvalReport) -> Result<String, ReportError> {
    let knn = r.oof.len() - 1;
    let bins = 20;
    let series: Vec<Series> = ["model_a", "model_b", "tie"]
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let mut counts = vec![0.0; bins];
            for p in &r.oof[knn] {
                counts[((p[c] * bins as f64) as usize).min(bins - 1)] += 1.0;
            }
            let pts = counts.iter().enumerate().map(|(b, &n)| [b as f64 / bins as f64, n]).collect();
            (format!("P({name})"), Kind::Line, pts)
        })
        .collect();
    let top = series.iter().flat_map(|s| s.2.iter().map(|p| p[1])).fold(1.0, f64::max);
    chart(
        "histogram",
        ("knnpref predicted probabilities", "probability", "rows"),
        series,
        ([0.0, 1.0], [0.0, top * 1.05]),
    )
}
