//! Command-line arguments (clap derive), turned once into validated configs.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use knnpref::embed::Device;
use knnpref::features::{FeatureSet, KnnParams};
use knnpref::index::ann::{HnswParams, Search};
use knnpref::pipeline::evaluate::EvaluateConfig;
use knnpref::pipeline::model::ModelParams;
use knnpref::pipeline::{EmbedOptions, ErrorsConfig, IndexConfig, PredictConfig, Query, SimilarConfig};

#[derive(Debug, Parser)]
#[command(
    name = "knnpref",
    version,
    about = "Predict which of two chatbot answers a person prefers (Chatbot Arena / Kaggle LMSYS format)",
    long_about = "Predict which of two chatbot answers a person prefers.\n\n\
        knnpref embeds prompts and responses with a sentence model (ONNX Runtime, offline), \
        indexes the training battles for nearest-neighbour look-ups, and combines neighbour \
        votes, embedding geometry and text statistics in a calibrated, A/B-symmetric head.\n\n\
        Run scripts/setup.sh once to install the runtime and model into $KNNPREF_HOME \
        (default ~/.cache/knnpref).\n\nExit codes: 0 success, 1 bad data or arguments, 2 internal failure."
)]
pub struct Cli {
    /// Hide progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an index folder from a labelled train file (CSV or Parquet).
    Index(IndexArgs),
    /// Predict a test file and write a Kaggle submission CSV.
    Predict(PredictArgs),
    /// Show the training battles most similar to one battle or to a text.
    Similar(SimilarArgs),
    /// Cross-validate knnpref and baselines in the same folds.
    Evaluate(EvaluateArgs),
    /// Show the most confidently wrong out-of-fold predictions and their neighbours.
    Errors(ErrorsArgs),
    /// Write synthetic Kaggle-format battles, for speed and scale tests only (never accuracy).
    Synth(SynthArgs),
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Sentence-transformers-style ONNX model folder (model.onnx + tokenizer files).
    /// Default: $KNNPREF_HOME/models/all-MiniLM-L6-v2, or the model an index was built with.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Use the int8 model ($KNNPREF_HOME/models/all-MiniLM-L6-v2-int8).
    #[arg(long, conflicts_with = "model")]
    pub quantized: bool,
    /// Worker threads for ONNX Runtime and feature work (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// ONNX Runtime sessions embedding batches side by side (the threads are
    /// shared out among them).
    #[arg(long, default_value_t = knnpref::embed::DEFAULT_SESSIONS, value_name = "N")]
    pub sessions: usize,
    /// Tokens per text, special tokens included (default: the model's 256).
    /// Fewer is faster; `predict` and `similar` use the index's value.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<usize>,
    /// Texts per inference batch.
    #[arg(long, default_value_t = knnpref::embed::DEFAULT_BATCH_SIZE, value_name = "N")]
    pub batch_size: usize,
    /// Execution provider.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
    /// Do not read or write the embedding cache in $KNNPREF_HOME/cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Seed for fold assignment (every random step derives from it).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Neighbours per look-up.
    #[arg(short = 'k', long = "neighbours", default_value_t = 20, value_name = "N")]
    pub k: usize,
    /// Nearest-neighbour search: under auto, exact below 200,000 vectors per index, HNSW above.
    #[arg(long, value_enum, default_value_t = Search::Auto)]
    pub search: Search,
    /// Drop the nearest-neighbour features (ablation).
    #[arg(long)]
    pub no_knn: bool,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Kaggle-format train file (.csv or .parquet).
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,
    /// Index folder to write (replaced atomically if it holds an index).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Folds used to cross-fit the training features and choose the head.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    #[command(flatten)]
    pub fit: FitArgs,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Index folder built by `knnpref index`.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Kaggle-format test file (.csv or .parquet).
    #[arg(long, value_name = "FILE")]
    pub test: PathBuf,
    /// Submission CSV to write.
    #[arg(long, value_name = "FILE", default_value = "submission.csv")]
    pub out: PathBuf,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("query").required(true).args(["id", "text"])))]
pub struct SimilarArgs {
    /// Index folder built by `knnpref index`.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// A training battle's id.
    #[arg(long)]
    pub id: Option<String>,
    /// A prompt text.
    #[arg(long)]
    pub text: Option<String>,
    /// How many battles to show.
    #[arg(short = 'k', default_value_t = 5)]
    pub k: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Kaggle-format train file (.csv or .parquet).
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,
    /// Outer cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Repeat the K-fold split R times with fold seeds SEED, SEED+1, …
    #[arg(long, default_value_t = 1, value_name = "R")]
    pub repeats: usize,
    /// Write knnpref's out-of-fold predictions of the first repeat
    /// (submission format plus label_model_a, label_model_b, label_tie).
    #[arg(long, value_name = "FILE")]
    pub oof: Option<PathBuf>,
    /// Write report.html (plots) and metrics.json into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Print the scores as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub fit: FitArgs,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
pub struct ErrorsArgs {
    /// Index folder built from the same train file as the OOF predictions.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Out-of-fold predictions written by `knnpref evaluate --oof`.
    #[arg(long, value_name = "FILE")]
    pub oof: PathBuf,
    /// How many errors to show.
    #[arg(short = 'n', default_value_t = 10)]
    pub n: usize,
    /// Neighbours shown per error.
    #[arg(short = 'k', default_value_t = 3)]
    pub k: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl ErrorsArgs {
    pub fn config(&self) -> Result<ErrorsConfig, ArgError> {
        existing_file("--oof", &self.oof)?;
        Ok(ErrorsConfig { index: self.index.clone(), oof: self.oof.clone(), n: self.n, k: self.k })
    }
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of battles.
    #[arg(long, default_value_t = 5000)]
    pub rows: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Share of multi-turn battles.
    #[arg(long, default_value_t = 0.1)]
    pub multi_turn: f64,
    /// CSV file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

impl SynthArgs {
    pub fn params(&self) -> Result<knnpref::synth::SynthParams, ArgError> {
        if !(0.0..=1.0).contains(&self.multi_turn) {
            return Err(arg_err("--multi-turn", "must be between 0 and 1"));
        }
        Ok(knnpref::synth::SynthParams { rows: self.rows, seed: self.seed, multi_turn: self.multi_turn })
    }
}

/// An argument combination that parses but makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("invalid argument {flag}: {why}")]
pub struct ArgError {
    pub flag: &'static str,
    pub why: String,
}

fn arg_err(flag: &'static str, why: impl Into<String>) -> ArgError {
    ArgError { flag, why: why.into() }
}

impl EmbedArgs {
    pub fn options(&self, quiet: bool) -> Result<EmbedOptions, ArgError> {
        if self.batch_size == 0 {
            return Err(arg_err("--batch-size", "must be at least 1"));
        }
        if self.sessions == 0 {
            return Err(arg_err("--sessions", "must be at least 1"));
        }
        if self.threads == Some(0) {
            return Err(arg_err("--threads", "must be at least 1"));
        }
        if let Some(dir) = &self.model {
            if !dir.is_dir() {
                return Err(arg_err("--model", format!("{} is not a folder", dir.display())));
            }
        }
        Ok(EmbedOptions {
            model_dir: self.model.clone(),
            quantized: self.quantized,
            threads: self.threads.unwrap_or_else(default_threads),
            sessions: self.sessions,
            batch_size: self.batch_size,
            max_tokens: self.max_tokens,
            device: self.device,
            use_cache: !self.no_cache,
            progress: !quiet,
        })
    }
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl FitArgs {
    fn params(&self, folds: usize) -> Result<ModelParams, ArgError> {
        if folds < 2 {
            return Err(arg_err("--folds", "must be at least 2"));
        }
        if self.k == 0 {
            return Err(arg_err("--neighbours", "must be at least 1"));
        }
        let features = if self.no_knn { FeatureSet::NO_KNN } else { FeatureSet::FULL };
        Ok(ModelParams {
            features,
            knn: KnnParams { k: self.k, ..KnnParams::default() },
            folds,
            seed: self.seed,
            search: self.search,
            hnsw: HnswParams::default(),
            ..ModelParams::default()
        })
    }
}

fn existing_file(flag: &'static str, path: &Path) -> Result<(), ArgError> {
    if !path.is_file() {
        return Err(arg_err(flag, format!("{} is not a file", path.display())));
    }
    Ok(())
}

impl IndexArgs {
    pub fn config(&self, quiet: bool) -> Result<IndexConfig, ArgError> {
        existing_file("--train", &self.train)?;
        Ok(IndexConfig {
            train: self.train.clone(),
            out: self.out.clone(),
            embed: self.embed.options(quiet)?,
            params: self.fit.params(self.folds)?,
        })
    }
}

impl PredictArgs {
    pub fn config(&self, quiet: bool) -> Result<PredictConfig, ArgError> {
        existing_file("--test", &self.test)?;
        Ok(PredictConfig {
            index: self.index.clone(),
            test: self.test.clone(),
            out: self.out.clone(),
            embed: self.embed.options(quiet)?,
        })
    }
}

impl SimilarArgs {
    pub fn config(&self) -> Result<SimilarConfig, ArgError> {
        let query = match (&self.id, &self.text) {
            (Some(id), _) => Query::Id(id.clone()),
            (None, Some(text)) => Query::Text(text.clone()),
            (None, None) => return Err(arg_err("--id/--text", "give one of them")),
        };
        Ok(SimilarConfig { index: self.index.clone(), query, k: self.k, embed: self.embed.options(true)? })
    }
}

impl EvaluateArgs {
    pub fn config(&self, quiet: bool) -> Result<EvaluateConfig, ArgError> {
        existing_file("--train", &self.train)?;
        if self.repeats == 0 {
            return Err(arg_err("--repeats", "must be at least 1"));
        }
        Ok(EvaluateConfig {
            train: self.train.clone(),
            folds: self.folds,
            seed: self.fit.seed,
            repeats: self.repeats,
            oof: self.oof.clone(),
            report: self.report.clone(),
            embed: self.embed.options(quiet)?,
            params: self.fit.params(self.folds)?,
        })
    }
}
