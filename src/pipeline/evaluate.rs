//! Cross-validated evaluation with baselines in the same folds.
//!
//! Embeddings are computed once (they are unsupervised, so this leaks no
//! labels); everything supervised — neighbour indexes, cross-fitted features,
//! head selection and temperature — is refitted inside each outer fold.

use std::path::PathBuf;

use super::curve::Curve;
use super::encoding::Encoding;
use super::error::PipelineError;
use super::options::require_labels;
use super::outputs::{check_writable, embed_inputs, refuse_overwrites};
use super::report::{write_report, REPORT_FILES};
use super::scores::{EvalReport, ModelScore, Reliability, SegmentScore};
use super::submission::{normalised, write_oof};
use crate::data::{read_battles, Battle, Label, Labels};
use crate::embed::CheckedEmbed;
use crate::features::{EncodedBattles, FeatureSet};
use crate::fsio::Role;
use crate::metrics::{
    accuracy, ece, log_loss, mean, paired_bootstrap, reliability, row_losses, segments_of, std_dev, SEGMENTS,
};
use crate::model::{prior_of, CheckedParams, HeadChoice, Model, ParamsError};
use crate::progress::{Cancel, Progress};
use crate::rand::{fold_assignment, fold_split};

/// What `evaluate` needs.
pub struct EvaluateConfig {
    /// Labelled file (CSV or Parquet).
    pub train: PathBuf,
    /// Outer folds.
    pub folds: usize,
    /// Repeat the K-fold split this many times, with fold seeds seed, seed+1, …
    pub repeats: usize,
    /// Where to write knnpref's out-of-fold predictions (first repeat), if anywhere.
    pub oof: Option<PathBuf>,
    /// Folder for report.html and metrics.json, if wanted.
    pub report: Option<PathBuf>,
    /// How to embed.
    pub embed: CheckedEmbed,
    /// How to fit knnpref (the baselines derive from it). Its seed seeds
    /// the first repeat's folds too; repeat r uses seed + r.
    pub params: CheckedParams,
    /// Also refit every non-prior model on 1/8, 1/4 and 1/2 of each
    /// training fold (learning curves).
    pub learning_curve: bool,
    /// Where progress and notes go, and the call's cancel token.
    pub progress: Progress,
}

/// The reference of the paired differences: the 27 text statistics.
const TEXT_ONLY: &str = "text-only";

/// The model variants compared, in report order: the class prior, lengths
/// alone, the 27 text statistics with the logistic head and with boosted
/// trees, knnpref without neighbour votes, knnpref.
pub fn variants(base: &CheckedParams) -> Vec<(&'static str, Option<CheckedParams>)> {
    let with = |features: FeatureSet, head: HeadChoice| base.with_features(features, head);
    vec![
        ("prior", None),
        ("length-only", Some(with(FeatureSet::LENGTH_ONLY, HeadChoice::Linear))),
        (TEXT_ONLY, Some(with(FeatureSet::TEXT_ONLY, HeadChoice::Linear))),
        ("text-boosted", Some(with(FeatureSet::TEXT_ONLY, HeadChoice::Boosted))),
        ("no-knn", Some(with(FeatureSet { knn: false, ..base.features }, base.head))),
        ("knnpref", Some(with(base.features, base.head))),
    ]
}

/// The terminal's progress bar with an ETA over every model fit of the
/// evaluation (fold results print above it).
fn fit_bar(fits: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(fits), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("evaluating [{bar:30}] {pos}/{len} fits, eta {eta}  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bar
}

/// Fit `p` (with fit seed `seed`) on `train` and predict `test`, rows
/// normalised to sum to 1.
fn fit_predict(
    p: &CheckedParams,
    seed: u64,
    train: &EncodedBattles,
    y: &[Label],
    test: &EncodedBattles,
    cancel: &Cancel,
) -> Result<Vec<[f64; 3]>, PipelineError> {
    let (model, _) = Model::fit(&p.with_seed(seed), train, y, cancel)?;
    Ok(model.predict(test).iter().map(normalised).collect())
}

/// Cross-validate knnpref and its baselines in the same folds; writes the
/// OOF file and the report when asked.
pub fn evaluate(cfg: &EvaluateConfig) -> Result<EvalReport, PipelineError> {
    if cfg.folds < 2 {
        let source =
            ParamsError::Invalid { name: "folds", value: cfg.folds.to_string(), why: "must be at least 2" };
        return Err(source.into());
    }
    if cfg.repeats == 0 {
        let source = ParamsError::Invalid { name: "repeats", value: "0".into(), why: "must be at least 1" };
        return Err(source.into());
    }
    let report_files: Vec<PathBuf> =
        cfg.report.iter().flat_map(|d| REPORT_FILES.map(|f| d.join(f))).collect();
    let mut outputs: Vec<Role> = cfg.oof.iter().map(|p| Role::file("the out-of-fold file", p)).collect();
    outputs.extend(report_files.iter().map(|p| Role::file("the report", p)));
    let mut inputs = vec![Role::file("the training file", &cfg.train)];
    inputs.extend(embed_inputs(&cfg.embed, None));
    refuse_overwrites(&outputs, &inputs)?;
    for path in cfg.oof.iter() {
        check_writable(path)?;
    }
    let data = read_battles(&cfg.train, Labels::Required)?;
    let labels = require_labels(&data)?;
    // The smallest outer training fold is cross-fitted in its turn.
    let smallest = labels.len() - labels.len().div_ceil(cfg.folds);
    let rows_err = |source| PipelineError::Rows { path: cfg.train.clone(), source };
    cfg.params.check_rows(labels.len().min(smallest)).map_err(rows_err)?;
    let all = Encoding::open(&cfg.embed, &cfg.progress)?.encode(&data.battles, "train")?;
    let n = labels.len();
    let variants = variants(&cfg.params);
    let repeats = cfg.repeats.max(1);
    // Per model: per-row loss summed over repeats, first-repeat OOF, fold losses.
    let mut loss_sum = vec![vec![0.0; n]; variants.len()];
    let mut first_oof = vec![vec![[0.0; 3]; n]; variants.len()];
    let mut all_oof = vec![Vec::with_capacity(n * repeats); variants.len()];
    let mut fold_losses = vec![Vec::new(); variants.len()];
    let mut warnings = data.warnings;
    let mut curve = cfg.learning_curve.then(|| {
        let min_train = n - n.div_ceil(cfg.folds.max(1));
        Curve::plan(n, min_train, cfg.params.folds, variants.len(), &mut warnings)
    });
    let fits_per_fold = variants.len() + usize::from(curve.is_some());
    let fits = (repeats * cfg.folds * fits_per_fold) as u64;
    let cancel = cfg.progress.cancel();
    let bar = cfg.progress.stage("evaluating", Some(fits), || fit_bar(fits));
    for r in 0..repeats {
        let fold_seed = cfg.params.seed.wrapping_add(r as u64);
        let folds = fold_assignment(n, cfg.folds, fold_seed);
        let mut oof = vec![vec![[0.0; 3]; n]; variants.len()];
        for f in 0..cfg.folds {
            let (train_rows, test_rows) = fold_split(&folds, f);
            let train = all.subset(&train_rows);
            let test = all.subset(&test_rows);
            let y_train: Vec<Label> = train_rows.iter().map(|&i| labels[i]).collect();
            let y_test: Vec<Label> = test_rows.iter().map(|&i| labels[i]).collect();
            let inner_seed = fold_seed.wrapping_mul(31).wrapping_add(1 + f as u64);
            for (v, (name, params)) in variants.iter().enumerate() {
                bar.set_message(format!("repeat {}/{repeats}, fold {}/{}: {name}", r + 1, f + 1, cfg.folds));
                let probs = match params {
                    None => vec![normalised(&prior_of(&y_train)); test_rows.len()],
                    Some(p) => fit_predict(p, inner_seed, &train, &y_train, &test, cancel)?,
                };
                fold_losses[v].push(log_loss(&probs, &y_test));
                for (&i, p) in test_rows.iter().zip(probs) {
                    oof[v][i] = p;
                }
                bar.inc(1);
            }
            if let Some(c) = curve.as_mut() {
                bar.set_message(format!(
                    "repeat {}/{repeats}, fold {}/{}: learning curve",
                    r + 1,
                    f + 1,
                    cfg.folds
                ));
                c.add_fold(
                    &variants,
                    &|p, seed, train, y, test| fit_predict(p, seed, train, y, test, cancel),
                    inner_seed,
                    &train,
                    &y_train,
                    &test,
                    &test_rows,
                    &y_test,
                )?;
            }
            if curve.is_some() {
                bar.inc(1);
            }
            bar.println(format!(
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
            ));
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
    bar.finish();
    let row_loss: Vec<Vec<f64>> =
        loss_sum.iter().map(|v| v.iter().map(|s| s / repeats as f64).collect()).collect();
    let all_labels: Vec<Label> = (0..repeats).flat_map(|_| labels.iter().copied()).collect();
    let text_only = variants.iter().position(|(name, _)| *name == TEXT_ONLY);
    let knn = variants.len() - 1;
    let boot =
        |a: usize, b: usize| paired_bootstrap(&row_loss[a], &row_loss[b], 2000, cfg.params.seed ^ 0xB007);
    let models: Vec<ModelScore> = variants
        .iter()
        .enumerate()
        .map(|(v, (name, _))| ModelScore {
            name: name.to_string(),
            log_loss: mean(&row_loss[v]),
            log_loss_std: std_dev(&fold_losses[v]),
            accuracy: accuracy(&all_oof[v], &all_labels),
            ece: ece(&all_oof[v], &all_labels, 10),
            vs_text_only: text_only.filter(|&b| b != v).map(|b| boot(v, b)),
            fold_log_loss: fold_losses[v].clone(),
            knnpref_vs: (v != knn).then(|| boot(knn, v)),
        })
        .collect();
    let learning_curve = match &curve {
        Some(c) => c.points(&variants, &models.iter().map(|m| m.log_loss).collect::<Vec<_>>(), repeats),
        None => Vec::new(),
    };
    let segments = segment_scores(&data.battles, &all, &row_loss);
    let reliability = variants
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| *name != "prior")
        .flat_map(|(v, (name, _))| {
            let (oof, y) = (&all_oof[v], &all_labels);
            (0..3).map(move |c| Reliability {
                model: name.to_string(),
                class: Label::ALL[c].name(),
                bins: reliability(oof, y, c, 10),
            })
        })
        .collect();
    let oof_log_loss = log_loss(&first_oof[knn], &labels);
    let mut written = Vec::new();
    if let Some(path) = &cfg.oof {
        write_oof(path, &all.ids, &first_oof[knn], &labels)?;
        written.push(path.clone());
    }
    let mut report = EvalReport {
        rows: n,
        folds: cfg.folds,
        repeats,
        seed: cfg.params.seed,
        models,
        segments,
        reliability,
        learning_curve,
        oof_log_loss,
        oof: first_oof,
        ids: all.ids.clone(),
        labels,
        warnings,
        written: Vec::new(),
    };
    if let Some(dir) = &cfg.report {
        write_report(dir, &report)?;
        written.extend(report_files);
    }
    report.written = written;
    Ok(report)
}

fn segment_scores(battles: &[Battle], all: &EncodedBattles, row_loss: &[Vec<f64>]) -> Vec<SegmentScore> {
    let of: Vec<[usize; 4]> =
        battles.iter().zip(&all.stats).map(|(b, s)| segments_of(b, s.a.chars, s.b.chars)).collect();
    let mut out = Vec::new();
    for (f, (family, names)) in SEGMENTS.iter().enumerate() {
        for (k, name) in names.iter().enumerate() {
            let rows: Vec<usize> = (0..battles.len()).filter(|&i| of[i][f] == k).collect();
            if rows.is_empty() {
                continue;
            }
            out.push(SegmentScore {
                family: family.to_string(),
                segment: name.to_string(),
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
