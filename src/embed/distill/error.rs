//! Why a distillation failed, and whose fault that is.

use std::path::PathBuf;

use crate::embed::error::EmbedError;
use crate::fault::Fault;
use crate::progress::Cancelled;

/// Why distillation failed.
#[allow(missing_docs)] // each variant's message is its documentation
#[derive(Debug, thiserror::Error)]
pub enum DistillError {
    #[error(transparent)]
    OutputIsInput(#[from] crate::fsio::OutputIsInput),
    #[error("cannot start ONNX Runtime")]
    Runtime {
        #[source]
        source: EmbedError,
    },
    #[error("model folder {dir} lacks {file}")]
    Missing { dir: PathBuf, file: &'static str },
    #[error("cannot access {path}")]
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
    #[error("{path}: tokenizer.json is not valid JSON")]
    TokenizerJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "ONNX Runtime cannot load {path}: it is not a model knnpref can run (a corrupt or unsupported graph)"
    )]
    Session {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    #[error(
        "running {path} on tokens {first}..{end} failed: its graph does not take knnpref's inputs \
         (input_ids, attention_mask, optional token_type_ids) or gives no token vectors"
    )]
    Run {
        path: PathBuf,
        first: usize,
        end: usize,
        #[source]
        source: ort::Error,
    },
    #[error("{path}: {why}")]
    Graph { path: PathBuf, why: String },
    #[error("invalid {what}: {why}")]
    Invalid { what: &'static str, why: String },
    #[error("{dir} exists and is not a static model folder; refusing to replace it")]
    NotStatic { dir: PathBuf },
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl DistillError {
    /// Whose fault: the user's, for the model folder (a graph ONNX Runtime
    /// cannot load or run is the folder's) and the arguments.
    pub fn fault(&self) -> Fault {
        use DistillError as D;
        match self {
            D::Runtime { source } => source.fault(),
            D::OutputIsInput(_)
            | D::Missing { .. }
            | D::Io { .. }
            | D::Tokenizer { .. }
            | D::TokenizerJson { .. }
            | D::Graph { .. }
            | D::Invalid { .. }
            | D::NotStatic { .. }
            | D::Session { .. }
            | D::Run { .. }
            | D::Cancelled(_) => Fault::User,
        }
    }
}
