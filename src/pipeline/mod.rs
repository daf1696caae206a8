//! The commands as library calls: index, predict, similar and evaluate.
//!
//! Each takes a plain, already-validated config (built by the CLI) and
//! returns data; printing is the binary's business. Errors from every stage
//! meet here in one enum that also knows whether the user (bad data or
//! arguments) or knnpref itself is at fault, which sets the exit code.

pub mod encode;
pub mod evaluate;
mod inspect;
pub mod metrics;
pub mod model;
mod report;
pub(crate) mod submission;

use std::path::{Path, PathBuf};

use crate::data::{read_battles, DataError, Label, Labels};
use crate::embed::{
    default_model_dir, model_info, Device, EmbedConfig, EmbedError, EmbedStats, Embedder, ModelInfo,
};
use crate::head::HeadError;
use crate::index::{BattleMeta, IndexError, IndexFolder, Manifest, FORMAT_VERSION};
use encode::Encoded;
pub use inspect::{
    errors, similar, ErrorCase, ErrorsConfig, Query, SimilarConfig, SimilarHit, SimilarResult,
};
use model::{Model, ModelParams};
pub use report::ReportError;
pub use submission::{check_writable, write_submission, SubmissionError};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Head(#[from] HeadError),
    #[error(transparent)]
    Submission(#[from] SubmissionError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("cannot read {path} as CSV")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{path}: row {row}: {why}")]
    BadOof { path: PathBuf, row: usize, why: String },
    #[error("{path}: every training row needs winner columns")]
    Unlabelled { path: PathBuf },
    #[error("{dir} was built with --max-tokens {built}; predicting with {given} would mix embeddings of different texts (drop --max-tokens, or rebuild the index)")]
    MaxTokensMismatch { dir: PathBuf, built: usize, given: usize },
    #[error("no training battle has id `{id}` in {index}")]
    UnknownId { id: String, index: PathBuf },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl PipelineError {
    /// True when the input or the arguments are at fault (exit code 1),
    /// false for an internal failure (exit code 2).
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            PipelineError::Embed(EmbedError::Run { .. } | EmbedError::Session { .. })
                | PipelineError::Head(_)
        )
    }
}

/// How to embed, shared by every command.
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// `None`: the model the index was built with, or the default model.
    pub model_dir: Option<PathBuf>,
    pub quantized: bool,
    pub threads: usize,
    pub sessions: usize,
    pub batch_size: usize,
    /// `None`: the model's default, or what the index was built with.
    pub max_tokens: Option<usize>,
    pub device: Device,
    pub use_cache: bool,
    pub progress: bool,
}

impl EmbedOptions {
    fn config(&self, fallback: Option<&ModelInfo>) -> EmbedConfig {
        let model_dir = match (&self.model_dir, fallback) {
            (Some(d), _) => d.clone(),
            // An explicit --quantized wins, so a mismatch with the index is reported.
            (None, Some(built)) if !self.quantized => {
                crate::embed::knnpref_home().join("models").join(&built.id)
            }
            (None, _) => default_model_dir(self.quantized),
        };
        EmbedConfig {
            model_dir,
            threads: self.threads,
            sessions: self.sessions,
            batch_size: self.batch_size,
            max_tokens: self.max_tokens.or(fallback.map(|built| built.max_tokens)),
            device: self.device,
            use_cache: self.use_cache,
            progress: self.progress,
        }
    }
}

pub struct IndexConfig {
    pub train: PathBuf,
    pub out: PathBuf,
    pub embed: EmbedOptions,
    pub params: ModelParams,
}

/// What `index` reports back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IndexSummary {
    pub rows: usize,
    pub cv_log_loss: f64,
    pub cv_log_loss_calibrated: f64,
    pub lambda: f64,
    pub emb_scale: f64,
    pub temperature: f64,
    pub embedding: EmbedStats,
    pub seconds: StageSeconds,
    pub warnings: Vec<String>,
}

/// Wall seconds per stage of `index`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StageSeconds {
    /// Reading and checking the train file.
    pub read: f64,
    /// Truncation, cache look-ups and the model (see [`EmbedStats`]).
    pub embed: f64,
    /// Neighbour features, head selection, temperature.
    pub fit: f64,
    /// Writing the index folder.
    pub save: f64,
}

fn sha256_file(path: &Path) -> Result<String, PipelineError> {
    let bytes = std::fs::read(path).map_err(|source| PipelineError::Io { path: path.to_owned(), source })?;
    Ok(crate::embed::sha256_hex(&bytes))
}

fn start_of(turns: &[String], n: usize) -> String {
    let text = turns.last().map(String::as_str).unwrap_or("");
    text.chars().take(n).collect()
}

/// Build an index folder from a labelled training file.
pub fn build_index(cfg: &IndexConfig) -> Result<IndexSummary, PipelineError> {
    let clock = std::time::Instant::now();
    let data = read_battles(&cfg.train, Labels::Required)?;
    let labels = require_labels(&data)?;
    let read_s = clock.elapsed().as_secs_f64();
    let mut embedder = Embedder::open(&cfg.embed.config(None))?;
    let train = Encoded::encode(&mut embedder, &data.battles, "train")?;
    let encoded_s = clock.elapsed().as_secs_f64();
    let spinner =
        stage_spinner(cfg.embed.progress, "fitting: neighbour features, head selection by CV, temperature");
    let (model, oof) = Model::fit(&cfg.params, &train, &labels)?;
    spinner.finish_and_clear();
    let fitted_s = clock.elapsed().as_secs_f64();
    let meta = data
        .battles
        .iter()
        .zip(&train.stats)
        .zip(&oof)
        .map(|((b, s), o)| BattleMeta {
            prompt_start: start_of(&b.prompt, 300),
            a_start: start_of(&b.response_a, 300),
            b_start: start_of(&b.response_b, 300),
            a_chars: s.a.chars,
            b_chars: s.b.chars,
            oof: *o,
        })
        .collect();
    let learned = model.learned;
    let summary = IndexSummary {
        rows: labels.len(),
        cv_log_loss: learned.cv_log_loss,
        cv_log_loss_calibrated: learned.cv_log_loss_calibrated,
        lambda: learned.head_params.lambda,
        emb_scale: learned.head_params.emb_scale,
        temperature: learned.temperature.t,
        embedding: embedder.stats(),
        seconds: StageSeconds::default(),
        warnings: data.warnings,
    };
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        knnpref_version: env!("CARGO_PKG_VERSION").to_string(),
        model: embedder.info().clone(),
        hnsw: cfg.params.hnsw,
        search: cfg.params.search,
        seed: cfg.params.seed,
        folds: cfg.params.folds,
        train_file: cfg.train.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        train_sha256: sha256_file(&cfg.train)?,
        rows: labels.len(),
        files: Default::default(),
    };
    IndexFolder { manifest, train, labels, meta, learned }.save(&cfg.out)?;
    let seconds = StageSeconds {
        read: read_s,
        embed: encoded_s - read_s,
        fit: fitted_s - encoded_s,
        save: clock.elapsed().as_secs_f64() - fitted_s,
    };
    Ok(IndexSummary { seconds, ..summary })
}

/// A spinner on stderr for a stage without a natural count (hidden when quiet).
pub(crate) fn stage_spinner(show: bool, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Open the index and the embedder it was built with, refusing a mismatch.
pub(crate) fn open_index(
    dir: &Path,
    embed: &EmbedOptions,
) -> Result<(IndexFolder, EmbedConfig), PipelineError> {
    let manifest = IndexFolder::read_manifest(dir)?;
    let cfg = embed.config(Some(&manifest.model));
    let given = model_info(&cfg.model_dir)?;
    IndexFolder::check_model(&manifest, dir, &given)?;
    if let Some(given) = embed.max_tokens.filter(|&t| t != manifest.model.max_tokens) {
        return Err(PipelineError::MaxTokensMismatch {
            dir: dir.to_owned(),
            built: manifest.model.max_tokens,
            given,
        });
    }
    Ok((IndexFolder::load(dir)?, cfg))
}

pub struct PredictConfig {
    pub index: PathBuf,
    pub test: PathBuf,
    pub out: PathBuf,
    pub embed: EmbedOptions,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PredictSummary {
    pub rows: usize,
    pub embedding: EmbedStats,
    pub warnings: Vec<String>,
}

/// Predict a test file and write the submission atomically.
pub fn predict(cfg: &PredictConfig) -> Result<PredictSummary, PipelineError> {
    check_writable(&cfg.out)?;
    let data = read_battles(&cfg.test, Labels::Optional)?;
    let (folder, ecfg) = open_index(&cfg.index, &cfg.embed)?;
    let mut embedder = Embedder::open(&ecfg)?;
    let test = Encoded::encode(&mut embedder, &data.battles, "test")?;
    let model = Model::assemble(folder.learned, &folder.train, folder.labels);
    let probs = model.predict(&test);
    write_submission(&cfg.out, &test.ids, &probs)?;
    Ok(PredictSummary { rows: test.len(), embedding: embedder.stats(), warnings: data.warnings })
}

/// Labels of a dataset, or an error naming the file.
fn require_labels(data: &crate::data::Dataset) -> Result<Vec<Label>, PipelineError> {
    data.labels().ok_or_else(|| PipelineError::Unlabelled { path: data.path.clone() })
}
