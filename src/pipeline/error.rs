//! Errors from every stage meet here in one enum that also knows whose fault
//! a failure is (the user's: bad data or arguments; the environment's: a
//! full disk, a permission; or knnpref's own), which sets the exit code.

use std::path::PathBuf;

use super::report::ReportError;
use super::submission::SubmissionError;
use crate::data::DataError;
use crate::embed::distill::DistillError;
use crate::embed::EmbedError;
use crate::index::IndexError;
use crate::model::head::HeadError;
use crate::progress::Cancelled;

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
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// Whose fault a failure is; it sets the exit code README documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The data or the arguments (exit code 1).
    User,
    /// The system refused: no space, quota, read-only file system, permission,
    /// a device I/O error (exit code 3).
    Environment,
    /// knnpref itself: a bug or an unexpected failure (exit code 2).
    Internal,
}

impl Fault {
    /// The process exit code for this fault.
    pub fn exit_code(self) -> u8 {
        match self {
            Fault::User => 1,
            Fault::Internal => 2,
            Fault::Environment => 3,
        }
    }
}

/// The first I/O error in `err`'s chain (`err` itself included) that is the
/// environment's doing: no space or quota left, a file too large, a
/// read-only file system, permission denied, or a device I/O error (EIO).
pub fn environment_failure<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    use std::io::ErrorKind as K;
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            let refused = matches!(
                io.kind(),
                K::StorageFull
                    | K::QuotaExceeded
                    | K::FileTooLarge
                    | K::ReadOnlyFilesystem
                    | K::PermissionDenied
            );
            if refused || io.raw_os_error() == Some(EIO) {
                return Some(io);
            }
        }
        next = e.source();
    }
    None
}

/// errno 5 on Linux and macOS: an I/O error reported by the device.
const EIO: i32 = 5;

impl PipelineError {
    /// Whose fault this failure is. The environment's when the system refused
    /// (see [`environment_failure`]); the user's only for the failures listed
    /// here (bad data, arguments, a missing or mismatched model or index);
    /// anything not listed is knnpref's own, so a new kind of failure is
    /// reported as internal until it is classified.
    pub fn fault(&self) -> Fault {
        if environment_failure(self).is_some() {
            return Fault::Environment;
        }
        if self.is_user_error() {
            Fault::User
        } else {
            Fault::Internal
        }
    }

    /// True when the input or the arguments are at fault: the allow-list
    /// behind exit code 1.
    pub fn is_user_error(&self) -> bool {
        use PipelineError as P;
        match self {
            P::Data(_)
            | P::Csv { .. }
            | P::BadOof { .. }
            | P::Unlabelled { .. }
            | P::MaxTokensMismatch { .. }
            | P::TrainMismatch { .. }
            | P::UnknownId { .. }
            | P::Io { .. } => true,
            P::Embed(e) => user_embed_error(e),
            P::Distill(e) => match e {
                DistillError::Runtime { source } => user_embed_error(source),
                DistillError::Missing { .. }
                | DistillError::Io { .. }
                | DistillError::Tokenizer { .. }
                | DistillError::TokenizerJson { .. }
                | DistillError::Graph { .. }
                | DistillError::Invalid { .. }
                | DistillError::NotStatic { .. } => true,
                _ => false,
            },
            P::Index(e) => matches!(
                e,
                IndexError::NoManifest { .. }
                    | IndexError::BadManifest { .. }
                    | IndexError::NoFormatVersion { .. }
                    | IndexError::OlderFormat { .. }
                    | IndexError::NewerFormat { .. }
                    | IndexError::ManifestFiles { .. }
                    | IndexError::DataMissing { .. }
                    | IndexError::ModelMismatch { .. }
                    | IndexError::Checksum { .. }
                    | IndexError::Shape { .. }
                    | IndexError::NotAnIndex { .. }
                    | IndexError::Io { .. }
                    | IndexError::Table(_)
                    | IndexError::BadHead { .. }
            ),
            P::Submission(e) => matches!(e, SubmissionError::NotWritable { .. }),
            P::Head(_) | P::Report(_) | P::Cancelled(_) => false,
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

/// Embedding failures the user fixes: a missing or unloadable runtime or
/// model (run setup, pass --model), a bad model folder, an argument.
fn user_embed_error(e: &EmbedError) -> bool {
    matches!(
        e,
        EmbedError::RuntimeMissing { .. }
            | EmbedError::RuntimeOpen { .. }
            | EmbedError::RuntimeLoad { .. }
            | EmbedError::ModelMissing { .. }
            | EmbedError::Io { .. }
            | EmbedError::Tokenizer { .. }
            | EmbedError::MaxTokens { .. }
            | EmbedError::Dimension { .. }
            | EmbedError::DeviceUnavailable { .. }
            | EmbedError::StaticOnCuda { .. }
            | EmbedError::CudaStart { .. }
            | EmbedError::Static(_)
    )
}
