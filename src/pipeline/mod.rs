//! The commands as library calls: index, predict, embed, similar, errors
//! and evaluate.
//!
//! Each takes a plain, already-validated config (built by the CLI) and
//! returns data; printing is the binary's business. One file per command,
//! plus what they share (`options`, `error`, `outputs`, `submission`); this file only
//! names them.

mod build;
mod curve;
mod embed_vectors;
mod encoding;
mod error;
mod errors;
mod evaluate;
mod explain;
mod grow;
mod inspect;
mod options;
mod outputs;
mod predict;
mod report;
mod scores;
mod submission;

#[cfg(test)]
mod fault_walk;

pub use crate::fault::{environment_failure, Fault};
pub use build::{build_index, IndexConfig, IndexSummary, StageSeconds};
pub use embed_vectors::{embed_vectors, vectors_of, BattleEmbedder, EmbedConfig, EmbedSummary};
pub use error::PipelineError;
pub use errors::{errors, ErrorCase, ErrorsConfig, ErrorsReport, Models, Probabilities, Rank, Texts};
pub use evaluate::{evaluate, variants, EvaluateConfig};
pub use explain::{Attribution, Contribution};
pub use grow::{Base, Existing};
pub use inspect::{similar, Query, SimilarConfig, SimilarHit, SimilarResult};
pub use outputs::check_writable;
pub use predict::{index_manifest, predict, predict_rows, PredictConfig, PredictSummary, Predictor};
pub use report::ReportError;
pub use scores::{CurvePoint, EvalReport, ModelScore, Reliability, SegmentScore};
pub use submission::{write_predictions, write_submission, Destination, Predictions, SubmissionError};
