//! `knnpref predict`: embed a test file with the index's model and write
//! the submission.

use std::path::PathBuf;

use super::error::PipelineError;
use super::options::{open_index, EmbedOptions};
use super::submission::{check_writable, write_submission};
use crate::data::{read_battles, Labels};
use crate::embed::{EmbedStats, Embedder};
use crate::features::EncodedBattles;
use crate::model::Model;

/// What `predict` needs.
pub struct PredictConfig {
    /// Index folder built by `index`.
    pub index: PathBuf,
    /// Test file (CSV or Parquet).
    pub test: PathBuf,
    /// Submission CSV to write.
    pub out: PathBuf,
    /// How to embed (checked against the index).
    pub embed: EmbedOptions,
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

/// Predict a test file and write the submission atomically.
pub fn predict(cfg: &PredictConfig) -> Result<PredictSummary, PipelineError> {
    check_writable(&cfg.out)?;
    let data = read_battles(&cfg.test, Labels::Optional)?;
    let (folder, ecfg) = open_index(&cfg.index, &cfg.embed)?;
    let mut embedder = Embedder::open(&ecfg)?;
    let test = EncodedBattles::encode(&mut embedder, &data.battles, "test")?;
    let model = Model::assemble(folder.state, &folder.train, folder.labels);
    let probs = model.predict(&test);
    write_submission(&cfg.out, &test.ids, &probs)?;
    Ok(PredictSummary { rows: test.len(), embedding: embedder.stats(), warnings: data.warnings })
}
