//! The evaluation report: `metrics.json` and a self-contained `report.html`
//! (inline SVG, no scripts, no network) with tables and charts: log loss
//! by segment next to the baselines, reliability per class with bin sizes,
//! knnpref's predicted-probability histograms, and the learning curves when
//! measured. Each model keeps one colour in every chart and table; the
//! same report renders to the same bytes.

mod charts;
mod svg;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::scores::EvalReport;
use crate::fault::Fault;
use crate::fsio::write_atomic;
use svg::{esc, model_colour};

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
}

impl ReportError {
    /// Whose fault: the user's, who chose the folder (a refusal of the
    /// system anywhere in the chain is found first by the caller).
    pub fn fault(&self) -> Fault {
        match self {
            ReportError::Io { .. } => Fault::User,
        }
    }
}

/// The files [`write_report`] writes into its folder.
pub(crate) const REPORT_FILES: [&str; 2] = ["metrics.json", "report.html"];

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
    let path = dir.join(REPORT_FILES[0]);
    write_atomic(&path, |w| w.write_all(json.as_bytes())).map_err(io(&path))?;
    let html = render_html(r);
    let path = dir.join(REPORT_FILES[1]);
    write_atomic(&path, |w| w.write_all(html.as_bytes())).map_err(io(&path))?;
    Ok(())
}

/// The page's style: one type size for body text, ticks and legends.
const STYLE: &str = "body{font-family:sans-serif;font-size:15px;max-width:1040px;margin:2em auto;color:#222}\
    table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}\
    th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
    .grid3{display:grid;grid-template-columns:repeat(3,1fr);gap:0.5em}svg{max-width:100%;height:auto;display:block}\
    .best{font-weight:bold}.caption{color:#444;font-size:13px}\
    .sw{display:inline-block;width:0.8em;height:0.8em;border-radius:50%;margin-right:0.4em;vertical-align:baseline}";

/// A model's name with its colour swatch, for tables.
fn named(model: &str) -> String {
    format!("<span class=\"sw\" style=\"background:{}\"></span>{}", model_colour(model), esc(model))
}

/// The whole page.
fn render_html(r: &EvalReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>knnpref evaluation</title><style>{STYLE}</style></head><body>\
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
            named(&m.name),
            m.log_loss,
            m.log_loss_std,
            m.accuracy,
            m.ece
        );
    }
    h.push_str("</table>");

    h.push_str(&curve_section(r));

    h.push_str("<h2>Log loss by segment</h2>");
    h.push_str(&charts::segment_chart(r));
    h.push_str("<table><tr><th>segment</th><th>rows</th>");
    for m in &r.models {
        let _ = write!(h, "<th>{}</th>", named(&m.name));
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

    h.push_str(&charts::reliability_section(r));
    h.push_str("<h2>Predicted probabilities</h2>");
    h.push_str(&charts::histogram_chart(r));
    h.push_str("</body></html>\n");
    h
}

/// The learning curves: a line chart with a log-scaled axis labelled in
/// rows, and the table behind it.
fn curve_section(r: &EvalReport) -> String {
    let points = &r.learning_curve;
    let Some(first) = points.first() else { return String::new() };
    let sizes = points.iter().filter(|p| p.model == first.model).count();
    let mut h = String::from(
        "<h2>Learning curves</h2><p>Every model refitted on nested shares (prefixes of a seeded shuffle) of \
         each outer training fold and scored on the same test folds.</p>",
    );
    h.push_str(&charts::curve_chart(r, sizes));
    h.push_str("<table><tr><th>model</th>");
    for p in &points[..sizes] {
        let _ = write!(h, "<th>{:.0} rows ({:.3})</th>", p.train_rows, p.fraction);
    }
    h.push_str("</tr>");
    for chunk in points.chunks(sizes) {
        let _ = write!(h, "<tr><td>{}</td>", named(&chunk[0].model));
        for p in chunk {
            let _ = write!(h, "<td>{:.4}</td>", p.log_loss);
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h
}
