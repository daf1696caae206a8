//! Errors from every stage meet here in one enum that also knows whether the
//! user (bad data or arguments) or knnpref itself is at fault, which sets the
//! exit code.

use std::path::PathBuf;

use super::report::ReportError;
use super::submission::SubmissionError;
use crate::data::DataError;
use crate::embed::distill::DistillError;
use crate::embed::EmbedError;
use crate::index::IndexError;
use crate::model::head::HeadError;

/// Why a command failed.
#[allow(missing_docs)] // each variant's message is its documentation
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Distill(#[from] DistillError),
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
    #[error(
        "{train} is not the training file {index} was built from ({built_from}: its sha256 differs); \
         pass that file to --train, or rebuild the index from this one"
    )]
    TrainMismatch { train: PathBuf, index: PathBuf, built_from: String },
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
                | PipelineError::Index(IndexError::NonFinite { .. })
        )
    }
}
