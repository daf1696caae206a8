//! Why a distillation failed, and whose fault that is.

use std::path::PathBuf;

use crate::embed::error::EmbedError;
use crate::fault::Fault;
use crate::progress::Cancelled;

/// Why distillation failed.
#[allow(missing_docs)] // each variant's message is its documentation
#[derive(Debug, thiserror::Error)]
pub enum DistillError {
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
    #[error("cannot create an ONNX Runtime session for {path}")]
    Session {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    #[error("running the model on tokens {first}..{end} failed")]
    Run {
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
    /// Whose fault: the user's for the model folder and the arguments;
    /// knnpref's when a session or a run fails on a graph it accepted.
    pub fn fault(&self) -> Fault {
        use DistillError as D;
        match self {
            D::Runtime { source } => source.fault(),
            D::Missing { .. }
            | D::Io { .. }
            | D::Tokenizer { .. }
            | D::TokenizerJson { .. }
            | D::Graph { .. }
            | D::Invalid { .. }
            | D::NotStatic { .. }
            | D::Cancelled(_) => Fault::User,
            D::Session { .. } | D::Run { .. } => Fault::Internal,
        }
    }
}
