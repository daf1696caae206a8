//! Errors from every stage meet here in one enum that also knows whose fault
//! a failure is (the user's: bad data or arguments; the environment's: a
//! full disk, a permission; or knnpref's own), which sets the exit code.

use std::path::PathBuf;

use super::report::ReportError;
use super::submission::SubmissionError;
use crate::data::DataError;
use crate::embed::distill::DistillError;
use crate::embed::EmbedError;
use crate::fault::{environment_failure, Fault};
use crate::fsio::OutputIsInput;
use crate::index::IndexError;
use crate::model::head::HeadError;
use crate::model::ParamsError;
use crate::progress::Cancelled;
use crate::synth::SynthError;
use crate::vectors::VectorsError;

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
    Params(#[from] ParamsError),
    #[error("{path}")]
    Rows {
        path: PathBuf,
        #[source]
        source: ParamsError,
    },
    #[error(transparent)]
    Submission(#[from] SubmissionError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Synth(#[from] SynthError),
    #[error(transparent)]
    Vectors(#[from] VectorsError),
    #[error(
        "{index} was built with the {kind} model {id} (sha256 {sha256}) from {folder}, which is gone; \
         pass --model with the folder that model is in now (or provision it with scripts/setup.sh)"
    )]
    ModelGone { index: PathBuf, folder: PathBuf, kind: &'static str, id: String, sha256: String },
    #[error("`similar` with a text query needs a model, but {index} was built from vectors of producer `{producer}`; query by --id instead")]
    QueryNeedsModel { index: PathBuf, producer: String },
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
    #[error("{dir} was built with --max-tokens {built}; --max-tokens {given} would mix embeddings of different texts (drop --max-tokens, or rebuild the index)")]
    MaxTokensMismatch { dir: PathBuf, built: usize, given: usize },
    #[error(
        "{train} is not the training file {index} was built from ({built_from}: its sha256 differs, \
         or for an index grown with --base, its battles in order); pass that file (for a grown index, \
         its files joined in order, less the rows --skip-existing left out) to --train, or rebuild \
         the index from this one"
    )]
    TrainMismatch { train: PathBuf, index: PathBuf, built_from: String },
    #[error(
        "{count} battles of {train} are already in the base index {base} (same id or same content; \
         the first is `{first}`); leave them out of the file, or pass --skip-existing to skip them"
    )]
    AlreadyInBase { train: PathBuf, base: PathBuf, count: usize, first: String },
    #[error(
        "{train} has no `id` column, so its battles cannot be told from the base index's (whose \
         rows would share the generated ids 0, 1, ...); add ids, or build one index from all the files"
    )]
    BaseNeedsIds { train: PathBuf },
    #[error(
        "the base index {base} was fitted with other options ({differs}); pass the options it was \
         built with, or build a new index from all the training files without --base"
    )]
    BaseOptions { base: PathBuf, differs: String },
    #[error("no training battle has id `{id}` in {index}")]
    UnknownId { id: String, index: PathBuf },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    OutputIsInput(#[from] OutputIsInput),
    #[error("{what} cannot be written to standard output (`-`); give a path")]
    NotToStdout { what: &'static str },
    #[error("encoding the vectors as Parquet failed")]
    EncodeVectors(#[source] parquet::errors::ParquetError),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl PipelineError {
    /// Whose fault this failure is: the environment's when the system
    /// refused anywhere in the chain ([`environment_failure`]), else what
    /// the error itself says (each error type classifies its own variants).
    pub fn fault(&self) -> Fault {
        if environment_failure(self).is_some() {
            return Fault::Environment;
        }
        use PipelineError as P;
        match self {
            P::Data(e) => e.fault(),
            P::Embed(e) => e.fault(),
            P::Distill(e) => e.fault(),
            P::Index(e) => e.fault(),
            P::Head(e) => e.fault(),
            P::Params(e) | P::Rows { source: e, .. } => e.fault(),
            P::Submission(e) => e.fault(),
            P::Report(e) => e.fault(),
            P::Synth(e) => e.fault(),
            P::Vectors(e) => e.fault(),
            P::Csv { .. }
            | P::BadOof { .. }
            | P::Unlabelled { .. }
            | P::ModelGone { .. }
            | P::QueryNeedsModel { .. }
            | P::MaxTokensMismatch { .. }
            | P::TrainMismatch { .. }
            | P::AlreadyInBase { .. }
            | P::BaseOptions { .. }
            | P::BaseNeedsIds { .. }
            | P::UnknownId { .. }
            | P::OutputIsInput(_)
            | P::NotToStdout { .. }
            | P::Cancelled(_) => Fault::User,
            P::Io { source, .. } | P::Write { source, .. } => Fault::of_io(source),
            P::EncodeVectors(_) => Fault::Internal,
        }
    }

    /// True when the call stopped because its caller cancelled it (its
    /// [`Cancel`](crate::progress::Cancel) token, or the host's
    /// [`request_cancel`](crate::fsio::request_cancel) refusing a rename).
    pub fn is_cancelled(&self) -> bool {
        use PipelineError as P;
        if matches!(
            self,
            P::Cancelled(_)
                | P::Embed(EmbedError::Cancelled)
                | P::Head(HeadError::Cancelled(_))
                | P::Distill(DistillError::Cancelled(_))
        ) {
            return true;
        }
        // The refused rename: fsio's `Interrupted` error, wherever it is wrapped.
        let mut next = std::error::Error::source(self);
        while let Some(e) = next {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::Interrupted)
            {
                return true;
            }
            next = e.source();
        }
        false
    }
}
