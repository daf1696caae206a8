//! Cross-validated evaluation with baselines in the same folds.
//!
//! Embeddings are computed once (they are unsupervised, so this leaks no
//! labels); everything supervised — neighbour indexes, cross-fitted features,
//! head selection and temperature — is refitted inside each outer fold.

use std::path::PathBuf;

use crate::data::{read_battles, Battle, Label, Labels};
use crate::embed::Embedder;
use crate::features::FeatureSet;
use crate::head::{accuracy, log_loss};
use crate::pipeline::encode::Encoded;
use crate::pipeline::metrics::{
    ece, mean, paired_bootstrap, reliability, row_losses, segments_of, std_dev, PairedDiff, ReliabilityBin,
    SEGMENT_FAMILIES,
};
use crate::pipeline::model::{prior_of, Model, ModelParams};
use crate::pipeline::submission::{normalised, write_oof};
use crate::pipeline::{check_writable, require_labels, EmbedOptions, PipelineError};
use crate::rand::fold_assignment;

pub struct EvaluateConfig {
    pub train: PathBuf,
    pub folds: usize,
    pub seed: u64,
    /// Repeat the K-fold split this many times, with fold seeds seed, seed+1, …
    pub repeats: usize,
    /// Where to write knnpref's out-of-fold predictions (first repeat), if anywhere.
    pub oof: Option<PathBuf>,
    /// Folder for report.html and metrics.json, if wanted.
    pub report: Option<PathBuf>,
    pub embed: EmbedOptions,
    pub params: ModelParams,
}

/// One model's scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelScore {
    pub name: String,
    /// Log loss pooled over all out-of-fold rows (mean over repeats).
    pub log_loss: f64,
    /// Standard deviation of the per-fold log loss, over folds and repeats.
    pub log_loss_std: f64,
    pub accuracy: f64,
    /// Top-label expected calibration error, 10 bins.
    pub ece: f64,
    /// This model's per-row log loss minus length-only's, with a bootstrap
    /// 95% interval over rows (negative: better than length-only).
    pub vs_length_only: Option<PairedDiff>,
    pub fold_log_loss: Vec<f64>,
}

/// Log loss of every model on one segment of the rows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SegmentScore {
    pub family: String,
    pub segment: String,
    pub rows: usize,
    /// Aligned with `EvalReport::models`.
    pub log_loss: Vec<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Reliability {
    pub model: String,
    pub class: &'static str,
    pub bins: Vec<ReliabilityBin>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalReport {
    pub rows: usize,
    pub folds: usize,
    pub repeats: usize,
    pub seed: u64,
    pub models: Vec<ModelScore>,
    pub segments: Vec<SegmentScore>,
    pub reliability: Vec<Reliability>,
    /// knnpref's log loss on the first repeat alone: what the --oof file gives.
    pub oof_log_loss: f64,
    /// First-repeat out-of-fold probabilities per model, row-aligned with `ids`.
    #[serde(skip)]
    pub oof: Vec<Vec<[f64; 3]>>,
    #[serde(skip)]
    pub ids: Vec<String>,
    #[serde(skip)]
    pub labels: Vec<Label>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The model variants compared, in report order.
pub fn variants(base: &ModelParams) -> Vec<(&'static str, Option<ModelParams>)> {
    let with = |features: FeatureSet| ModelParams { features, ..base.clone() };
    vec![
        ("prior", None),
        ("length-only", Some(with(FeatureSet::LENGTH_ONLY))),
        ("no-knn", Some(with(FeatureSet::NO_KNN))),
        ("knnpref", Some(with(base.features))),
    ]
}

const CLASSES: [&str; 3] = ["model_a", "model_b", "tie"];

pub fn evaluate(cfg: &EvaluateConfig) -> Result<EvalReport, PipelineError> {
    for path in cfg.oof.iter() {
        check_writable(path)?;
    }
    let data = read_battles(&cfg.train, Labels::Required)?;
    let labels = require_labels(&data)?;
    let mut embedder = Embedder::open(&cfg.embed.config(None))?;
    let all = Encoded::encode(&mut embedder, &data.battles, "train")?;
    let n = labels.len();
    let variants = variants(&cfg.params);
    let repeats = cfg.repeats.max(1);
    // Per model: per-row loss summed over repeats, first-repeat OOF, fold losses.
    let mut loss_sum = vec![vec![0.0; n]; variants.len()];
    let mut first_oof = vec![vec![[0.0; 3]; n]; variants.len()];
    let mut all_oof = vec![Vec::with_capacity(n * repeats); variants.len()];
    let mut fold_losses = vec![Vec::new(); variants.len()];
    for r in 0..repeats {
        let fold_seed = cfg.seed.wrapping_add(r as u64);
        let folds = fold_assignment(n, cfg.folds, fold_seed);
        let mut oof = vec![vec![[0.0; 3]; n]; variants.len()];
        for f in 0..cfg.folds {
            let train_rows: Vec<usize> = (0..n).filter(|&i| folds[i] != f).collect();
            let test_rows: Vec<usize> = (0..n).filter(|&i| folds[i] == f).collect();
            let train = all.subset(&train_rows);
            let test = all.subset(&test_rows);
            let y_train: Vec<Label> = train_rows.iter().map(|&i| labels[i]).collect();
            let y_test: Vec<Label> = test_rows.iter().map(|&i| labels[i]).collect();
            for (v, (_, params)) in variants.iter().enumerate() {
                let probs = match params {
                    None => vec![prior_of(&y_train); test_rows.len()],
                    Some(p) => {
                        let inner_seed = fold_seed.wrapping_mul(31).wrapping_add(1 + f as u64);
                        let (model, _) =
                            Model::fit(&ModelParams { seed: inner_seed, ..p.clone() }, &train, &y_train)?;
                        model.predict(&test)
                    }
                };
                let probs: Vec<[f64; 3]> = probs.iter().map(normalised).collect();
                fold_losses[v].push(log_loss(&probs, &y_test));
                for (&i, p) in test_rows.iter().zip(probs) {
                    oof[v][i] = p;
                }
            }
            if !cfg.embed.progress {
                continue;
            }
            eprintln!(
                "repeat {}/{repeats}, fold {}/{}: {}",
                r + 1,
                f + 1,
                cfg.folds,
                variants
                    .iter()
                    .zip(&fold_losses)
                    .map(|((name, _), l)| format!("{name} {:.4}", l[l.len() - 1]))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for v in 0..variants.len() {
            for (s, l) in loss_sum[v].iter_mut().zip(row_losses(&oof[v], &labels)) {
                *s += l;
            }
            all_oof[v].extend_from_slice(&oof[v]);
        }
        if r == 0 {
            first_oof = oof;
        }
    }
    let row_loss: Vec<Vec<f64>> =
        loss_sum.iter().map(|v| v.iter().map(|s| s / repeats as f64).collect()).collect();
    let all_labels: Vec<Label> = (0..repeats).flat_map(|_| labels.iter().copied()).collect();
    let length_only = variants.iter().position(|(name, _)| *name == "length-only");
    let models: Vec<ModelScore> = variants
        .iter()
        .enumerate()
        .map(|(v, (name, _))| ModelScore {
            name: name.to_string(),
            log_loss: mean(&row_loss[v]),
            log_loss_std: std_dev(&fold_losses[v]),
            accuracy: accuracy(&all_oof[v], &all_labels),
            ece: ece(&all_oof[v], &all_labels, 10),
            vs_length_only: length_only
                .filter(|&b| b != v)
                .map(|b| paired_bootstrap(&row_loss[v], &row_loss[b], 2000, cfg.seed ^ 0xB007)),
            fold_log_loss: fold_losses[v].clone(),
        })
        .collect();
    let segments = segment_scores(&data.battles, &all, &row_loss);
    let reliability = variants
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| *name != "prior")
        .flat_map(|(v, (name, _))| {
            let (oof, y) = (&all_oof[v], &all_labels);
            (0..3).map(move |c| Reliability {
                model: name.to_string(),
                class: CLASSES[c],
                bins: reliability(oof, y, c, 10),
            })
        })
        .collect();
    let knn = variants.len() - 1;
    let oof_log_loss = log_loss(&first_oof[knn], &labels);
    if let Some(path) = &cfg.oof {
        write_oof(path, &all.ids, &first_oof[knn], &labels)?;
    }
    let report = EvalReport {
        rows: n,
        folds: cfg.folds,
        repeats,
        seed: cfg.seed,
        models,
        segments,
        reliability,
        oof_log_loss,
        oof: first_oof,
        ids: all.ids.clone(),
        labels,
        warnings: data.warnings,
    };
    if let Some(dir) = &cfg.report {
        crate::pipeline::report::write_report(dir, &report)?;
    }
    Ok(report)
}

fn segment_scores(battles: &[Battle], all: &Encoded, row_loss: &[Vec<f64>]) -> Vec<SegmentScore> {
    let labels: Vec<[String; 4]> =
        battles.iter().zip(&all.stats).map(|(b, s)| segments_of(b, s.a.chars, s.b.chars)).collect();
    let mut out = Vec::new();
    for (f, family) in SEGMENT_FAMILIES.iter().enumerate() {
        let mut names: Vec<&String> = labels.iter().map(|l| &l[f]).collect();
        names.sort();
        names.dedup();
        for name in names {
            let rows: Vec<usize> = (0..battles.len()).filter(|&i| &labels[i][f] == name).collect();
            out.push(SegmentScore {
                family: family.to_string(),
                segment: name.clone(),
                rows: rows.len(),
                log_loss: row_loss
                    .iter()
                    .map(|l| rows.iter().map(|&i| l[i]).sum::<f64>() / rows.len() as f64)
                    .collect(),
            });
        }
    }
    out
}
