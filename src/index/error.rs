//! Why an index folder cannot be written or used; each message says what to do.

use std::path::PathBuf;

use super::source::VectorSource;
use crate::embed::ModelInfo;
use crate::fault::Fault;
use crate::table::TableError;

/// Why an index folder cannot be written or used; each says what to do.
#[allow(missing_docs)] // each variant's message is its documentation
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{dir} is not a knnpref index (no manifest.json); build one with `knnpref index`")]
    NoManifest { dir: PathBuf },
    #[error("{path} is corrupt or incomplete; rebuild the index with `knnpref index`")]
    BadManifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} has no `format_version` (not written by knnpref, or damaged); \
         rebuild the index with `knnpref index`"
    )]
    NoFormatVersion { path: PathBuf },
    #[error(
        "{dir} was written by an older knnpref (index format {found}; this one reads format {reads}); \
         rebuild it with `knnpref index`"
    )]
    OlderFormat { dir: PathBuf, found: u64, reads: u32 },
    #[error(
        "{dir} was written by index format {found}, newer than this knnpref understands ({reads}); \
         upgrade knnpref or rebuild the index"
    )]
    NewerFormat { dir: PathBuf, found: u64, reads: u32 },
    #[error("{path} {why}; the index is incomplete or was edited: rebuild it with `knnpref index`")]
    ManifestFiles { path: PathBuf, why: String },
    #[error(
        "{dir} was built with {}, but the model given is the {} model {} (sha256 {}) \
         (the sha256 covers every file and setting that shapes the vectors: weights, tokenizer, \
         configs, pooling, prompt); pass --model with the model it was built with, or rebuild the index",
        built.describe(), given.kind.name(), given.id, given.sha256
    )]
    ModelMismatch { dir: PathBuf, built: Box<VectorSource>, given: Box<ModelInfo> },
    #[error(
        "{dir} was built from vectors of producer `{producer}`, not by a model knnpref runs; \
         pass --vectors with that producer's vectors of these battles"
    )]
    NeedsVectors { dir: PathBuf, producer: String },
    #[error(
        "{dir} was built with {}, but the vectors given come from producer `{producer}` \
         (dimension {dim}); pass vectors of the index's producer, or rebuild the index from these"
    , built.describe())]
    ProducerMismatch { dir: PathBuf, built: Box<VectorSource>, producer: String, dim: usize },
    #[error(
        "{path} does not match the checksum in manifest.json (truncated or modified?); \
         rebuild the index with `knnpref index`"
    )]
    Checksum { path: PathBuf },
    #[error("{path} is listed in manifest.json but missing; rebuild the index with `knnpref index`")]
    DataMissing { path: PathBuf },
    #[error("{path}: expected {expected} rows of dimension {dim}, found {found} values")]
    Shape { path: PathBuf, expected: usize, dim: usize, found: usize },
    #[error("{dir} exists and is not a knnpref index; refusing to replace it")]
    NotAnIndex { dir: PathBuf },
    #[error(
        "internal error: {what} holds a non-finite number ({at}); nothing was written to {dir}. \
         Please report this"
    )]
    NonFinite { dir: PathBuf, what: &'static str, at: String },
    #[error("index folder {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{path}: invalid head file")]
    BadHead {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl IndexError {
    /// Whose fault: the user's for a folder that is not an index, damaged,
    /// edited, of another format or built with another model; knnpref's for
    /// numbers it computed that cannot be saved.
    pub fn fault(&self) -> Fault {
        use IndexError as I;
        match self {
            I::NoManifest { .. }
            | I::BadManifest { .. }
            | I::NoFormatVersion { .. }
            | I::OlderFormat { .. }
            | I::NewerFormat { .. }
            | I::ManifestFiles { .. }
            | I::ModelMismatch { .. }
            | I::NeedsVectors { .. }
            | I::ProducerMismatch { .. }
            | I::Checksum { .. }
            | I::DataMissing { .. }
            | I::Shape { .. }
            | I::NotAnIndex { .. }
            | I::Io { .. }
            | I::BadHead { .. } => Fault::User,
            I::Table(e) => e.fault(),
            I::NonFinite { .. } => Fault::Internal,
        }
    }
}
