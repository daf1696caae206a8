//! Why a vectors file is refused: each message names the file, and the
//! battle and column where one is at fault.

use std::path::PathBuf;

use crate::fault::Fault;

/// What can be wrong with a vectors file: the user's, a file that is not
/// what `--vectors` needs (a refusal of the system under `Io` is found
/// first by the caller, as for every other file).
#[derive(Debug, thiserror::Error)]
pub enum VectorsError {
    /// The file or folder could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not Parquet, or not readable as such.
    #[error("{path}: not a readable Parquet file")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// No vectors at all: a folder without any `.parquet` file, or no rows.
    #[error("{path} holds no vectors (no .parquet file, or no rows)")]
    Empty {
        /// The folder.
        path: PathBuf,
    },
    /// No producer in the metadata.
    #[error(
        "{path} does not name its producer: set the Parquet metadata key `knnpref.producer` \
         (for example with pyarrow: table.replace_schema_metadata({{\"knnpref.producer\": \"my-encoder\"}}))"
    )]
    NoProducer {
        /// The file.
        path: PathBuf,
    },
    /// Parts of one folder from different producers.
    #[error("{path} is from producer `{found}`, but earlier parts are from `{first}`")]
    MixedProducers {
        /// The part.
        path: PathBuf,
        /// The first part's producer.
        first: String,
        /// This part's.
        found: String,
    },
    /// A column missing or not of the type needed.
    #[error("{path}: column `{column}` {why}")]
    Column {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A vector of the wrong length.
    #[error(
        "{path}: battle `{id}` has a `{column}` vector of dimension {found}, expected {expected}{}",
        expected_from.map_or(String::new(), |w| format!(" ({w})"))
    )]
    Dimension {
        /// The file.
        path: PathBuf,
        /// The battle.
        id: String,
        /// The column.
        column: &'static str,
        /// Its length.
        found: usize,
        /// The length expected.
        expected: usize,
        /// Where the expectation comes from, when not the first vector.
        expected_from: Option<&'static str>,
    },
    /// A NaN, an infinity, a null or an empty vector.
    #[error("{path}: battle `{id}` has a `{column}` vector that is {what}")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The battle.
        id: String,
        /// The column.
        column: &'static str,
        /// `not finite (NaN or infinite)`, `null` or `empty`.
        what: &'static str,
    },
    /// A finite value too large for the f32 that vectors are kept in
    /// (a float64 column's value beyond ±3.4e38).
    #[error(
        "{path}: battle `{id}` has a `{column}` vector with the value {value:e}, outside f32's range \
         (±3.4e38), which knnpref keeps vectors in; scale the vector down (only its direction counts)"
    )]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// The battle.
        id: String,
        /// The column.
        column: &'static str,
        /// The first value out of range.
        value: f64,
    },
    /// One battle twice.
    #[error("{path}: battle `{id}` appears twice")]
    DuplicateId {
        /// The file.
        path: PathBuf,
        /// The battle.
        id: String,
    },
    /// A battle of the data that the vectors lack.
    #[error("{path} has no vectors for battle `{id}` (column `id`), the first of {count} battles of the data it lacks")]
    Missing {
        /// The vectors file or folder.
        path: PathBuf,
        /// The first battle missing.
        id: String,
        /// How many are missing.
        count: usize,
    },
}

impl VectorsError {
    /// Whose fault: the user's, who gave the file.
    pub fn fault(&self) -> Fault {
        use VectorsError as V;
        match self {
            V::Io { .. }
            | V::Parquet { .. }
            | V::Empty { .. }
            | V::NoProducer { .. }
            | V::MixedProducers { .. }
            | V::Column { .. }
            | V::Dimension { .. }
            | V::BadValue { .. }
            | V::OutOfRange { .. }
            | V::DuplicateId { .. }
            | V::Missing { .. } => Fault::User,
        }
    }
}
