//! `knnpref predict`: embed a test file with the index's model and write
//! the submission.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::encoding::Encoding;
use super::error::PipelineError;
use super::options::open_index;
use super::outputs::{check_writable, embed_inputs, refuse_overwrites};
use super::submission::{normalised, write_predictions, Destination, Predictions};
use crate::data::{read_battles, Battle, Labels};
use crate::embed::{CheckedEmbed, EmbedStats, ModelChoice};
use crate::fsio::Role;
use crate::index::{IndexFolder, VectorSource};
use crate::model::Model;
use crate::progress::Progress;

/// What `predict` needs.
pub struct PredictConfig {
    /// Index folder built by `index`.
    pub index: PathBuf,
    /// Test file (CSV or Parquet).
    pub test: PathBuf,
    /// Where to write the submission CSV, if anywhere.
    pub out: Option<Destination>,
    /// How to embed (checked against the index).
    pub embed: CheckedEmbed,
    /// Where progress and notes go, and the call's cancel token.
    pub progress: Progress,
}

/// What `predict` reports back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PredictSummary {
    /// Rows predicted.
    pub rows: usize,
    /// What embedding cost.
    pub embedding: EmbedStats,
    /// Problems met reading the file.
    pub warnings: Vec<String>,
}

/// Predict a test file and write the submission (atomically to a file);
/// the rows are returned too. A submission file that would overwrite an
/// input (the test file, the index, the model or vectors) or cannot be
/// written is refused before any work.
pub fn predict(cfg: &PredictConfig) -> Result<(Predictions, PredictSummary), PipelineError> {
    if let Some(out) = cfg.out.as_ref().and_then(Destination::file) {
        let mut inputs = vec![Role::file("the test file", &cfg.test), Role::folder("the index", &cfg.index)];
        inputs.extend(embed_inputs(&cfg.embed, Some(&cfg.index)));
        refuse_overwrites(&[Role::file("the submission", out)], &inputs)?;
        check_writable(out)?;
    }
    let (rows, summary) = predict_rows(&cfg.index, &cfg.test, &cfg.embed, &cfg.progress)?;
    if let Some(out) = &cfg.out {
        write_predictions(out, &rows)?;
    }
    Ok((rows, summary))
}

/// Predict a test file with the index folder `index` and return the rows
/// instead of writing them (`predict` writes exactly these).
pub fn predict_rows(
    index: &Path,
    test: &Path,
    embed: &CheckedEmbed,
    progress: &Progress,
) -> Result<(Predictions, PredictSummary), PipelineError> {
    let data = read_battles(test, Labels::Optional)?;
    let mut predictor = Predictor::open(index, embed, data.battles.len(), progress)?;
    predictor.predict_battles(data.battles, data.warnings)
}

/// An index held open with its model, to score one file after another
/// without loading either again: what each worker of a cluster job holds
/// (`knnpref.ray`).
pub struct Predictor {
    index: PathBuf,
    ids: HashSet<String>,
    hashes: HashSet<String>,
    model: Model,
    encoding: Encoding,
}

impl Predictor {
    /// Load the index and its model for a job of `queries` test battles in
    /// all: the neighbour search is chosen for that many (as one `predict`
    /// over them all would choose it), whatever the size of each call.
    pub fn open(
        index: &Path,
        embed: &CheckedEmbed,
        queries: usize,
        progress: &Progress,
    ) -> Result<Predictor, PipelineError> {
        let (folder, encoding) = open_index(index, embed, progress)?;
        let model = Model::assemble(folder.state, &folder.train, folder.labels, queries);
        // The model has what it needs of the training battles; their ids and
        // hashes move into the overlap check.
        let ids = folder.train.ids.into_iter().collect();
        let hashes = folder.meta.into_iter().map(|m| m.content_hash).filter(|h| !h.is_empty()).collect();
        Ok(Predictor { index: index.to_owned(), ids, hashes, model, encoding })
    }

    /// Predict the battles of a test file; the summary's embedding costs
    /// are those of every call so far.
    pub fn predict(&mut self, test: &Path) -> Result<(Predictions, PredictSummary), PipelineError> {
        let data = read_battles(test, Labels::Optional)?;
        self.predict_battles(data.battles, data.warnings)
    }

    fn predict_battles(
        &mut self,
        battles: Vec<Battle>,
        mut warnings: Vec<String>,
    ) -> Result<(Predictions, PredictSummary), PipelineError> {
        warnings.extend(self.overlap_warning(&battles));
        let encoded = self.encoding.encode(&battles, "test")?;
        let probs = self.model.predict(&encoded).iter().map(normalised).collect();
        let summary = PredictSummary { rows: encoded.len(), embedding: self.encoding.stats(), warnings };
        Ok((Predictions { ids: encoded.ids, probs }, summary))
    }

    /// A warning when test battles are in the index (same id, or same
    /// prompt and responses under another id): their predictions have seen
    /// their own votes, so a score computed on them says nothing about new
    /// battles.
    fn overlap_warning(&self, battles: &[Battle]) -> Option<String> {
        let held = |b: &Battle| self.ids.contains(&b.id) || self.hashes.contains(&b.content_hash());
        let n = battles.iter().filter(|b| held(b)).count();
        (n > 0).then(|| {
            format!(
                "{n} of {} test battles are already in the index {} (same id, or same prompt and responses); \
                 their predictions have seen their own votes, so any score computed on them is meaningless \
                 (use `knnpref evaluate` for an honest estimate)",
                battles.len(),
                self.index.display()
            )
        })
    }
}

/// The manifest of the index folder `dir`, as JSON, after checking that the
/// model `embed` selects is the one it was built with (what `predict` checks
/// first; the files themselves are verified when they are loaded). An index
/// built from vectors is checked against the vectors each call is given.
pub fn index_manifest(dir: &Path, embed: &CheckedEmbed) -> Result<serde_json::Value, PipelineError> {
    let manifest = IndexFolder::read_manifest(dir)?;
    let vectors_later = matches!(manifest.source, VectorSource::Vectors { .. })
        && !matches!(embed.model, ModelChoice::Vectors(_));
    if !vectors_later {
        Encoding::for_index(&manifest, dir, embed, &Progress::hidden())?;
    }
    Ok(serde_json::to_value(&manifest).expect("a manifest serialises"))
}
