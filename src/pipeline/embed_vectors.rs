//! `knnpref embed`: the vectors of a battles file, written as a vectors
//! file (`knnpref::vectors`) that `index`, `predict` and `evaluate` take
//! with `--vectors`, so that embedding can run once, elsewhere, or in parts.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::encoding::Encoding;
use super::error::PipelineError;
use super::outputs::{check_writable, embed_inputs, refuse_overwrites, refuse_stdout};
use crate::data::{read_battles, Labels};
use crate::embed::{CheckedEmbed, EmbedError, EmbedStats, ModelChoice};
use crate::fsio::{write_atomic, Role};
use crate::progress::Progress;
use crate::vectors::vectors_bytes;

/// What `embed` needs.
pub struct EmbedConfig {
    /// Battles file (CSV or Parquet); winner columns are not read.
    pub input: PathBuf,
    /// Vectors file to write (Parquet).
    pub out: PathBuf,
    /// The model.
    pub embed: CheckedEmbed,
    /// The producer name to record; `None`: the model's identity.
    pub producer: Option<String>,
    /// Where progress and notes go, and the call's cancel token.
    pub progress: Progress,
}

/// What `embed` reports back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmbedSummary {
    /// Battles embedded.
    pub rows: usize,
    /// Their dimension.
    pub dim: usize,
    /// The producer recorded.
    pub producer: String,
    /// What embedding cost.
    pub embedding: EmbedStats,
    /// Problems met reading the file.
    pub warnings: Vec<String>,
}

/// Embed a battles file and write its vectors atomically.
pub fn embed_vectors(cfg: &EmbedConfig) -> Result<EmbedSummary, PipelineError> {
    refuse_stdout("the vectors file", &cfg.out)?;
    let mut inputs = vec![Role::file("the battles file", &cfg.input)];
    inputs.extend(embed_inputs(&cfg.embed, None));
    refuse_overwrites(&[Role::file("the vectors file", &cfg.out)], &inputs)?;
    check_writable(&cfg.out)?;
    let (bytes, summary) = vectors_of(cfg)?;
    cfg.progress.cancel().check()?;
    write_atomic(&cfg.out, |w: &mut dyn Write| w.write_all(&bytes))
        .map_err(|source| PipelineError::Write { path: cfg.out.clone(), source })?;
    Ok(summary)
}

/// The bytes of the vectors file `embed` would write (`cfg.out` unused).
pub fn vectors_of(cfg: &EmbedConfig) -> Result<(Vec<u8>, EmbedSummary), PipelineError> {
    BattleEmbedder::open(&cfg.embed, cfg.producer.clone(), &cfg.progress)?.vectors_of(&cfg.input)
}

/// A model held open to embed one battles file after another without
/// loading it again: what each worker of a cluster job holds
/// (`knnpref.ray`). The vectors are those `knnpref embed` writes.
pub struct BattleEmbedder {
    encoding: Encoding,
    producer: Option<String>,
}

impl BattleEmbedder {
    /// Load the model `embed` names; `producer` is the name to record
    /// (`None`: the model's identity).
    pub fn open(
        embed: &CheckedEmbed,
        producer: Option<String>,
        progress: &Progress,
    ) -> Result<BattleEmbedder, PipelineError> {
        if let ModelChoice::Vectors(_) = embed.model {
            let why = "embed computes vectors: choose a model, not vectors";
            return Err(EmbedError::BadOption { name: "vectors", value: "given".into(), why }.into());
        }
        Ok(BattleEmbedder { encoding: Encoding::open(embed, progress)?, producer })
    }

    /// The vectors of the battles in `input`, as the bytes of a vectors
    /// file; the summary's embedding costs are those of every call so far.
    pub fn vectors_of(&mut self, input: &Path) -> Result<(Vec<u8>, EmbedSummary), PipelineError> {
        let data = read_battles(input, Labels::Ignored)?;
        let encoded = self.encoding.encode(&data.battles, "battles")?;
        let producer = match &self.producer {
            Some(name) => name.clone(),
            None => self.encoding.source().producer(),
        };
        let (rows, dim) = (encoded.len(), encoded.dim);
        let bytes = vectors_bytes(&producer, dim, encoded.ids, [encoded.prompt, encoded.a, encoded.b])
            .map_err(PipelineError::EncodeVectors)?;
        let embedding = self.encoding.stats();
        Ok((bytes, EmbedSummary { rows, dim, producer, embedding, warnings: data.warnings }))
    }
}
