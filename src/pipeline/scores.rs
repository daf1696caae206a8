//! What `evaluate` measures, as plain data: the report behind the printed
//! table, `metrics.json` and `report.html`.

use crate::data::Label;
use crate::metrics::{PairedDiff, ReliabilityBin};

/// One model's scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelScore {
    /// The model's name in the report.
    pub name: String,
    /// Log loss pooled over all out-of-fold rows (mean over repeats).
    pub log_loss: f64,
    /// Standard deviation of the per-fold log loss, over folds and repeats.
    pub log_loss_std: f64,
    /// Share of rows whose most probable class is the true one.
    pub accuracy: f64,
    /// Top-label expected calibration error, 10 bins.
    pub ece: f64,
    /// This model's per-row log loss minus text-only's, with a bootstrap
    /// 95% interval over rows (negative: better than text-only).
    pub vs_text_only: Option<PairedDiff>,
    /// Log loss of each fold, repeats one after the other.
    pub fold_log_loss: Vec<f64>,
    /// knnpref's per-row log loss minus this model's, with a bootstrap 95%
    /// interval (negative: knnpref is better); none for knnpref itself.
    pub knnpref_vs: Option<PairedDiff>,
}

/// Log loss of every model on one segment of the rows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SegmentScore {
    /// What the rows are grouped by (turns, length ratio, …).
    pub family: String,
    /// The group.
    pub segment: String,
    /// Rows in the group.
    pub rows: usize,
    /// Aligned with `EvalReport::models`.
    pub log_loss: Vec<f64>,
}

/// One model's reliability diagram for one class, over all repeats.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reliability {
    /// The model.
    pub model: String,
    /// The class (`model_a`, `model_b`, `tie`).
    pub class: &'static str,
    /// Non-empty bins of predicted probability.
    pub bins: Vec<ReliabilityBin>,
}

/// One point of a learning curve: a model refitted on a share of each
/// outer training fold and scored on the same test folds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CurvePoint {
    /// The model.
    pub model: String,
    /// Share of each outer training fold fitted on (1/8, 1/4, 1/2 or 1).
    pub fraction: f64,
    /// Training rows per outer fold, on average.
    pub train_rows: f64,
    /// Log loss pooled over all out-of-fold rows (mean over repeats).
    pub log_loss: f64,
}

/// Everything `evaluate` measured (written as `metrics.json`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalReport {
    /// Labelled rows.
    pub rows: usize,
    /// Outer folds.
    pub folds: usize,
    /// Repeats of the fold split.
    pub repeats: usize,
    /// The seed of the first repeat.
    pub seed: u64,
    /// Scores per model, in report order.
    pub models: Vec<ModelScore>,
    /// Log loss per segment.
    pub segments: Vec<SegmentScore>,
    /// Reliability diagrams per model and class.
    pub reliability: Vec<Reliability>,
    /// Log loss by training size per non-prior model, smallest share first
    /// (empty unless asked for with `--learning-curve`).
    pub learning_curve: Vec<CurvePoint>,
    /// knnpref's log loss on the first repeat alone: what the --oof file gives.
    pub oof_log_loss: f64,
    /// First-repeat out-of-fold probabilities per model, row-aligned with `ids`.
    #[serde(skip)]
    pub oof: Vec<Vec<[f64; 3]>>,
    /// Battle ids, by row.
    #[serde(skip)]
    pub ids: Vec<String>,
    /// True votes, by row.
    #[serde(skip)]
    pub labels: Vec<Label>,
    /// Problems met reading the file.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Files written (the OOF file, metrics.json, report.html), in order.
    #[serde(skip)]
    pub written: Vec<std::path::PathBuf>,
}
