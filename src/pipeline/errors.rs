//! `knnpref errors`: the out-of-fold predictions that cost the most log loss
//! (or the most confidently wrong ones), each with its loss, the models'
//! names, the features that pushed the prediction, its texts and the
//! training battles with the nearest prompts.
//!
//! The index keeps only the start of each text and no model names, so those
//! come from the training file (`--train`), checked against the sha256 the
//! index recorded; without it the command shows the stored starts.

use std::path::{Path, PathBuf};

use super::error::PipelineError;
use super::explain::{attribute, Attribution};
use super::inspect::{whole, Inspector, SimilarHit};
use crate::data::{read_battles, Dataset, Label, Labels};
use crate::fsio::sha256_file;
use crate::metrics::{argmax, row_losses};

/// How `errors` orders the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rank {
    /// Every row by its log loss, highest first.
    Loss,
    /// Wrong predictions by the probability of the predicted class, highest first.
    Confidence,
}

/// What `errors` needs.
pub struct ErrorsConfig {
    /// Index folder built from the same training file.
    pub index: PathBuf,
    /// OOF file written by `evaluate --oof`.
    pub oof: PathBuf,
    /// The training file the index was built from: model names, whole
    /// texts and feature attributions come from it.
    pub train: Option<PathBuf>,
    /// How to order the rows.
    pub by: Rank,
    /// How many rows to show.
    pub show: usize,
    /// Neighbours shown per row.
    pub neighbours: usize,
}

/// Probabilities of the three classes, by name.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Probabilities {
    /// Response A wins.
    pub model_a: f64,
    /// Response B wins.
    pub model_b: f64,
    /// A tie.
    pub tie: f64,
}

impl From<[f64; 3]> for Probabilities {
    fn from(p: [f64; 3]) -> Self {
        Probabilities { model_a: p[0], model_b: p[1], tie: p[2] }
    }
}

/// The two models of a battle, from the training file's `model_a` and `model_b`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Models {
    /// The model behind response A.
    pub model_a: String,
    /// The model behind response B.
    pub model_b: String,
}

/// A battle's whole texts, turn by turn.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Texts {
    /// The user's turns.
    pub prompt: Vec<String>,
    /// Response A's turns.
    pub response_a: Vec<String>,
    /// Response B's turns.
    pub response_b: Vec<String>,
}

/// One costly out-of-fold prediction.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ErrorCase {
    /// 1 for the first row shown.
    pub rank: usize,
    /// The battle's id.
    pub id: String,
    /// The row's log loss (Kaggle's clipping rule).
    pub loss: f64,
    /// Its vote.
    pub truth: &'static str,
    /// The out-of-fold probabilities.
    pub prediction: Probabilities,
    /// The most probable class.
    pub predicted: &'static str,
    /// Its probability.
    pub confidence: f64,
    /// The two models, when the training file names them.
    pub models: Option<Models>,
    /// Start of the prompt's last turn (300 characters at most).
    pub prompt_start: String,
    /// Start of response A's last turn.
    pub response_a_start: String,
    /// Characters of response A (all turns).
    pub response_a_chars: u64,
    /// Start of response B's last turn.
    pub response_b_start: String,
    /// Characters of response B (all turns).
    pub response_b_chars: u64,
    /// The whole texts, with `--train`.
    pub texts: Option<Texts>,
    /// What pushed the prediction towards the predicted class, with `--train`.
    pub attribution: Option<Attribution>,
    /// The training battles with the nearest prompts.
    pub neighbours: Vec<SimilarHit>,
}

/// What `errors` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ErrorsReport {
    /// How the rows are ordered.
    pub by: Rank,
    /// Rows in the OOF file.
    pub oof_rows: usize,
    /// Whether the training file was read (model names, texts, attributions).
    pub with_train: bool,
    /// The rows, in order.
    pub cases: Vec<ErrorCase>,
}

/// One OOF row: id, probabilities, true class.
type OofRow = (String, [f64; 3], usize);

/// Read an OOF file: ids, probabilities and true classes.
fn read_oof(path: &Path) -> Result<Vec<OofRow>, PipelineError> {
    let bad =
        |row: usize, why: &str| PipelineError::BadOof { path: path.to_owned(), row, why: why.to_string() };
    let csv_err = |source| PipelineError::Csv { path: path.to_owned(), source };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let header: Vec<String> = reader.headers().map_err(csv_err)?.iter().map(String::from).collect();
    // A column's position by name; its name travels with it into messages.
    let col = |name: &'static str| {
        let at = header.iter().position(|h| h == name);
        at.map(|at| (name, at)).ok_or_else(|| {
            bad(0, &format!("missing column `{name}` (write it with `knnpref evaluate --oof`)"))
        })
    };
    let id = col("id")?.1;
    let probs = [col("winner_model_a")?, col("winner_model_b")?, col("winner_tie")?];
    let truths = [col("label_model_a")?, col("label_model_b")?, col("label_tie")?];
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(csv_err)?;
        let num = |(name, at): (&str, usize)| -> Result<f64, PipelineError> {
            rec.get(at)
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| bad(i + 1, &format!("`{name}` is not a number")))
        };
        let p = [num(probs[0])?, num(probs[1])?, num(probs[2])?];
        let y = [num(truths[0])?, num(truths[1])?, num(truths[2])?];
        let truth = (0..3).find(|&c| y[c] == 1.0).ok_or_else(|| bad(i + 1, "no label column holds 1"))?;
        rows.push((rec.get(id).unwrap_or_default().to_string(), p, truth));
    }
    Ok(rows)
}

/// The rows to show, in order, each with its loss: by loss, every row
/// (highest first); by confidence, the wrong predictions (most confident
/// first). Ties go by id.
fn rank(rows: &[OofRow], by: Rank) -> Vec<(&OofRow, f64)> {
    let probs: Vec<[f64; 3]> = rows.iter().map(|r| r.1).collect();
    let labels: Vec<Label> = rows.iter().map(|r| Label::from_index(r.2)).collect();
    let mut ranked: Vec<(&OofRow, f64)> = rows.iter().zip(row_losses(&probs, &labels)).collect();
    let confidence = |r: &OofRow| r.1[argmax(&r.1)];
    match by {
        Rank::Loss => ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0 .0.cmp(&b.0 .0))),
        Rank::Confidence => {
            ranked.retain(|(r, _)| argmax(&r.1) != r.2);
            ranked.sort_by(|a, b| {
                confidence(b.0).total_cmp(&confidence(a.0)).then_with(|| a.0 .0.cmp(&b.0 .0))
            });
        }
    }
    ranked
}

/// Read the training file and check that it holds the index's battles: the
/// one file the index was built from (by sha256), or, for an index grown
/// from several (`index --base`), the same battles in the same order (by id
/// and content).
fn read_train(path: &Path, ins: &Inspector, index: &Path) -> Result<Dataset, PipelineError> {
    let sha = sha256_file(path).map_err(|source| PipelineError::Io { path: path.to_owned(), source })?;
    let m = &ins.manifest;
    let mismatch = || PipelineError::TrainMismatch {
        train: path.to_owned(),
        index: index.to_owned(),
        built_from: m.train_names(),
    };
    if let [only] = m.train.as_slice() {
        if only.sha256 != sha {
            return Err(mismatch());
        }
        return Ok(read_battles(path, Labels::Required)?);
    }
    let data = read_battles(path, Labels::Required)?;
    let same_battles = data.battles.len() == ins.meta.len()
        && data
            .battles
            .iter()
            .zip(&ins.meta)
            .zip(&ins.train.ids)
            .all(|((b, meta), id)| &b.id == id && b.content_hash() == meta.content_hash);
    if !same_battles {
        return Err(mismatch());
    }
    Ok(data)
}

/// The costliest (or most confidently wrong) out-of-fold predictions, with
/// neighbours, and with `--train` the models, texts and attributions.
pub fn errors(cfg: &ErrorsConfig) -> Result<ErrorsReport, PipelineError> {
    let rows = read_oof(&cfg.oof)?;
    // With --train every training battle's features are computed; else
    // only the shown cases look their neighbours up.
    let queries = if cfg.train.is_some() { None } else { Some(cfg.show) };
    let ins = Inspector::open(&cfg.index, queries)?;
    let data = cfg.train.as_deref().map(|t| read_train(t, &ins, &cfg.index)).transpose()?;
    let features = match &data {
        // The index stores the statistics; the file gives the texts shown.
        Some(_) => ins.model.training_features(&ins.train),
        None => None,
    };
    let cases = rank(&rows, cfg.by)
        .into_iter()
        .take(cfg.show)
        .enumerate()
        .map(|(i, ((id, p, y), loss))| {
            let row = ins.row_of(id, &cfg.index)?;
            let m = &ins.meta[row];
            let c = argmax(p);
            let battle = data.as_ref().map(|d| &d.battles[row]);
            let models = data
                .as_ref()
                .and_then(|d| d.models.as_ref())
                .map(|ms| Models { model_a: ms[row][0].clone(), model_b: ms[row][1].clone() });
            Ok(ErrorCase {
                rank: i + 1,
                id: id.clone(),
                loss,
                truth: Label::ALL[*y].name(),
                prediction: (*p).into(),
                predicted: Label::ALL[c].name(),
                confidence: p[c],
                models,
                prompt_start: m.prompt_start.clone(),
                response_a_start: m.a_start.clone(),
                response_a_chars: whole(m.a_chars),
                response_b_start: m.b_start.clone(),
                response_b_chars: whole(m.b_chars),
                texts: battle.map(|b| Texts {
                    prompt: b.prompt.clone(),
                    response_a: b.response_a.clone(),
                    response_b: b.response_b.clone(),
                }),
                attribution: features.as_ref().map(|x| attribute(&ins.model.state, x.row(row), c)),
                neighbours: ins.hits(ins.prompt_of(row), Some(row), cfg.neighbours),
            })
        })
        .collect::<Result<Vec<_>, PipelineError>>()?;
    Ok(ErrorsReport { by: cfg.by, oof_rows: rows.len(), with_train: data.is_some(), cases })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, p: [f64; 3], y: usize) -> OofRow {
        (id.to_string(), p, y)
    }

    #[test]
    fn loss_ranks_every_row_and_confidence_only_wrong_ones() {
        let rows = vec![
            row("b", [0.5, 0.3, 0.2], 1),   // wrong, loss 1.20
            row("a", [0.5, 0.3, 0.2], 1),   // the same: ties go by id
            row("c", [0.9, 0.05, 0.05], 2), // wrong and confident, loss 3.00
            row("d", [0.4, 0.35, 0.25], 0), // right, loss 0.92
            row("e", [0.2, 0.45, 0.35], 0), // wrong, loss 1.61, least confident
        ];
        let ids = |r: Vec<(&OofRow, f64)>| r.iter().map(|(x, _)| x.0.clone()).collect::<Vec<_>>();
        let by_loss = rank(&rows, Rank::Loss);
        assert!((by_loss[0].1 - (-(0.05f64).ln())).abs() < 1e-9);
        assert_eq!(ids(by_loss), ["c", "e", "a", "b", "d"]);
        assert_eq!(ids(rank(&rows, Rank::Confidence)), ["c", "a", "b", "e"]);
    }
}
