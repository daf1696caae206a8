//! Cross-validated evaluation with baselines in the same folds.
//!
//! Embeddings are computed once (they are unsupervised, so this leaks no
//! labels); everything supervised — neighbour indexes, cross-fitted features,
//! head selection and temperature — is refitted inside each outer fold.

use std::path::PathBuf;

use crate::data::{read_battles, Label, Labels};
use crate::embed::Embedder;
use crate::features::FeatureSet;
use crate::head::{accuracy, log_loss};
use crate::pipeline::encode::Encoded;
use crate::pipeline::model::{prior_of, Model, ModelParams};
use crate::pipeline::submission::write_oof;
use crate::pipeline::{check_writable, require_labels, EmbedOptions, PipelineError};
use crate::rand::fold_assignment;

pub struct EvaluateConfig {
    pub train: PathBuf,
    pub folds: usize,
    pub seed: u64,
    /// Where to write knnpref's out-of-fold predictions, if anywhere.
    pub oof: Option<PathBuf>,
    pub embed: EmbedOptions,
    pub params: ModelParams,
}

/// One model's scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelScore {
    pub name: String,
    /// Mean and standard deviation of the per-fold log loss.
    pub log_loss: f64,
    pub log_loss_std: f64,
    pub accuracy: f64,
    pub fold_log_loss: Vec<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalReport {
    pub rows: usize,
    pub folds: usize,
    pub seed: u64,
    pub models: Vec<ModelScore>,
    /// Out-of-fold probabilities per model, row-aligned with `ids`.
    #[serde(skip)]
    pub oof: Vec<Vec<[f64; 3]>>,
    #[serde(skip)]
    pub ids: Vec<String>,
    #[serde(skip)]
    pub labels: Vec<Label>,
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

pub fn evaluate(cfg: &EvaluateConfig) -> Result<EvalReport, PipelineError> {
    if let Some(path) = &cfg.oof {
        check_writable(path)?;
    }
    let data = read_battles(&cfg.train, Labels::Required)?;
    let labels = require_labels(&data)?;
    let mut embedder = Embedder::open(&cfg.embed.config(None))?;
    let all = Encoded::encode(&mut embedder, &data.battles, "train")?;
    let n = labels.len();
    let folds = fold_assignment(n, cfg.folds, cfg.seed);
    let variants = variants(&cfg.params);
    let mut oof = vec![vec![[0.0; 3]; n]; variants.len()];
    let mut fold_losses = vec![Vec::new(); variants.len()];
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
                    let inner = ModelParams { seed: cfg.seed.wrapping_add(1 + f as u64), ..p.clone() };
                    let (model, _) = Model::fit(&inner, &train, &y_train)?;
                    model.predict(&test)
                }
            };
            fold_losses[v].push(log_loss(&probs, &y_test));
            for (&i, p) in test_rows.iter().zip(probs) {
                oof[v][i] = p;
            }
        }
        eprintln!(
            "fold {}/{}: {}",
            f + 1,
            cfg.folds,
            variants
                .iter()
                .zip(&fold_losses)
                .map(|((name, _), l)| format!("{name} {:.4}", l[f]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let models = variants
        .iter()
        .enumerate()
        .map(|(v, (name, _))| {
            let l = &fold_losses[v];
            let mean = l.iter().sum::<f64>() / l.len() as f64;
            let var = l.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (l.len().max(2) - 1) as f64;
            ModelScore {
                name: name.to_string(),
                log_loss: mean,
                log_loss_std: var.sqrt(),
                accuracy: accuracy(&oof[v], &labels),
                fold_log_loss: l.clone(),
            }
        })
        .collect();
    if let Some(path) = &cfg.oof {
        let knn = oof.len() - 1;
        write_oof(path, &all.ids, &oof[knn], &labels)?;
    }
    Ok(EvalReport {
        rows: n,
        folds: cfg.folds,
        seed: cfg.seed,
        models,
        oof,
        ids: all.ids.clone(),
        labels,
        warnings: data.warnings,
    })
}
