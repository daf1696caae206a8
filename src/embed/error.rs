//! Why embedding fails. One enum for the whole stage, so that callers see
//! one error type whatever part of the model, runtime or cache failed.

use std::path::PathBuf;

use super::cache::CacheError;
use super::st_folder::FolderError;
use super::static_model::StaticError;
use crate::fault::Fault;

/// Why a model cannot be loaded or run; each message says what to do.
#[allow(missing_docs)] // each variant's message is its documentation
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("ONNX Runtime library not found at {path}; {hint}")]
    RuntimeMissing { path: PathBuf, hint: &'static str },
    #[error("cannot load ONNX Runtime from {path} (it must be version {version}); {hint}")]
    RuntimeOpen {
        path: PathBuf,
        version: &'static str,
        hint: &'static str,
        #[source]
        source: ort::LoadDynamicError,
    },
    #[error("cannot start ONNX Runtime from {path}; {hint}")]
    RuntimeLoad {
        path: PathBuf,
        hint: &'static str,
        #[source]
        source: ort::Error,
    },
    #[error("model folder {dir} lacks {file}; {hint}")]
    ModelMissing { dir: PathBuf, file: &'static str, hint: &'static str },
    #[error("no model folder or provisioned model named {name}: {models} {held}")]
    NoModel { name: String, models: PathBuf, held: String },
    #[error("model folder {dir} {why}")]
    NotAFolder { dir: PathBuf, why: &'static str },
    #[error("model folder {dir}: model.onnx {problem}; its inputs are {inputs} and its outputs {outputs}, and knnpref needs {}", super::graph::NEEDS)]
    Graph { dir: PathBuf, problem: String, inputs: String, outputs: String },
    #[error("{path} is not an ONNX model ({why}); a model folder's model.onnx must be an ONNX graph (scripts/export_onnx.py exports one)")]
    NotOnnx { path: PathBuf, why: &'static str },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid tokenizer")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{path} {why}, which knnpref needs to pad and truncate the model's batches")]
    TokenizerConfig { path: PathBuf, why: &'static str },
    #[error(
        "cannot create the ONNX Runtime session for model folder {dir} (its model.onnx and tokenizer files)"
    )]
    Session {
        dir: PathBuf,
        #[source]
        source: fastembed::Error,
    },
    #[error("model folder {dir}: ONNX Runtime failed running model.onnx on a batch{}", run_hint(.provisioned))]
    Run {
        dir: PathBuf,
        /// A model `scripts/setup.sh` provisioned, whose failure is knnpref's.
        provisioned: bool,
        #[source]
        source: fastembed::Error,
    },
    #[error("embedding cancelled")]
    Cancelled,
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error("model folder {dir}: model.onnx gave an output of shape {shape:?} for a batch; knnpref needs token vectors [batch, tokens, dim] or sentence vectors [batch, dim]")]
    OutputShape { dir: PathBuf, shape: Vec<usize> },
    #[error("invalid {name} {value}: {why}")]
    BadOption { name: &'static str, value: String, why: &'static str },
    #[error("--max-tokens {given} is outside 8..={limit}, the range model {dir} takes")]
    MaxTokens { given: usize, limit: usize, dir: PathBuf },
    #[error("model {dir} outputs {output}-dimensional vectors but its config.json says hidden_size {config}; knnpref takes mean-pooled models without a projection head")]
    Dimension { dir: PathBuf, config: usize, output: usize },
    #[error("--device {device}: the ONNX Runtime at {runtime} has no {provider}; {hint}")]
    DeviceUnavailable { device: &'static str, provider: &'static str, runtime: PathBuf, hint: &'static str },
    #[error("--device cuda: {dir} is a static model, a token table pooled on the CPU without ONNX Runtime; use --device cpu or auto")]
    StaticOnCuda { dir: PathBuf },
    #[error("--device cuda: ONNX Runtime could not start the CUDA execution provider for model {dir} (is a CUDA 13 GPU and driver present, and were `scripts/setup.sh --gpu`'s libraries installed?); use --device cpu or auto")]
    CudaStart {
        dir: PathBuf,
        #[source]
        source: fastembed::Error,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Static(#[from] StaticError),
}

/// What to check when a graph fails while running: nothing for a model
/// `scripts/setup.sh` provisioned (knnpref's failure), else the usual
/// mismatches of a folder's graph and tokenizer.
fn run_hint(provisioned: &bool) -> &'static str {
    match provisioned {
        true => "",
        false => {
            "; check that the graph runs on ONNX Runtime with the token ids of the folder's tokenizer.json \
                  (its vocabulary must fit the graph's embedding table, and the token budget its positions)"
        }
    }
}

impl EmbedError {
    /// Whose fault: the user's for the runtime and model they provisioned
    /// or pointed at (a graph that fails while running included), the
    /// arguments and the cache folder; knnpref's when a model that
    /// `scripts/setup.sh` provisioned fails while running.
    pub fn fault(&self) -> Fault {
        use EmbedError as E;
        match self {
            E::RuntimeMissing { .. }
            | E::RuntimeOpen { .. }
            | E::RuntimeLoad { .. }
            | E::ModelMissing { .. }
            | E::NoModel { .. }
            | E::NotAFolder { .. }
            | E::Graph { .. }
            | E::NotOnnx { .. }
            | E::TokenizerConfig { .. }
            | E::Io { .. }
            | E::Tokenizer { .. }
            | E::Session { .. }
            | E::BadOption { .. }
            | E::MaxTokens { .. }
            | E::Dimension { .. }
            | E::DeviceUnavailable { .. }
            | E::StaticOnCuda { .. }
            | E::CudaStart { .. }
            | E::Cancelled => Fault::User,
            E::Run { provisioned: true, .. } => Fault::Internal,
            E::Run { provisioned: false, .. } | E::OutputShape { .. } => Fault::User,
            E::Folder(e) => e.fault(),
            E::Cache(e) => e.fault(),
            E::Static(e) => e.fault(),
        }
    }
}
