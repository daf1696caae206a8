//! The index folder: training embeddings, battle metadata, the fitted head,
//! and a `manifest.json` that says what built them.
//!
//! It is the storage layer: it knows files, not how they were computed.
//! Modelled on tantivy's `meta.json`: the data files are immutable and named
//! by their content (`embeddings-<sha256 prefix>.parquet`, …), and the small
//! `manifest.json`, replaced atomically and last, is the one commit point.
//! At every instant the folder loads as the old index or the new one; files
//! no manifest refers to any more are removed after the commit, and the
//! leftovers of an interrupted save on the next one. The manifest pins the
//! format version, model, HNSW parameters, training data hash and seed, and
//! names every data file with its sha256; loading refuses a manifest that
//! lacks any of them, lists another, or disagrees with a file's bytes.

mod error;
mod load;
mod save;
mod source;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;

pub use error::IndexError;
pub use source::{ModelFolder, VectorSource};

use crate::data::Label;
use crate::embed::ModelInfo;
use crate::features::EncodedBattles;
use crate::model::ModelState;

/// Bumped whenever the folder layout or a file's meaning changes. 3: data
/// files named by content and listed as `{file, sha256}` by role, and model
/// identities that cover the tokenizer and configs. 4: the fit's settings
/// (seed, folds, search, HNSW) only in the head file's `params`, where they
/// are read back, no longer repeated in the manifest. 5: the manifest's
/// `source` says what the vectors came from (a model with the folder it was
/// loaded from, or vectors handed over, by producer) instead of `model`.
/// 6: the battles file holds each battle's text statistics, and the
/// manifest lists every training file (`train`), so that an index can grow
/// (`index --base`) without the old texts. Earlier formats are refused with
/// a request to rebuild.
pub const FORMAT_VERSION: u32 = 6;

const MANIFEST: &str = "manifest.json";

/// The data files of an index folder, by what they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Training embeddings (Parquet).
    Embeddings,
    /// Votes, text starts, out-of-fold predictions (Parquet).
    Battles,
    /// The fitted head (JSON).
    Head,
}

/// Every data file the format defines, in the order they are written.
const ROLES: [Role; 3] = [Role::Embeddings, Role::Battles, Role::Head];

/// Names of format 1 and 2 data files, removed when a new save replaces them.
const LEGACY_FILES: [&str; 3] = ["embeddings.parquet", "battles.parquet", "head.json"];

impl Role {
    /// The key of the file in the manifest's `files`.
    fn name(self) -> &'static str {
        match self {
            Role::Embeddings => "embeddings",
            Role::Battles => "battles",
            Role::Head => "head",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Role::Head => "json",
            Role::Embeddings | Role::Battles => "parquet",
        }
    }

    /// The file's name for contents of this sha256: `<role>-<16 hex>.<ext>`.
    fn file_name(self, sha256: &str) -> String {
        format!("{}-{}.{}", self.name(), sha256.get(..16).unwrap_or(sha256), self.extension())
    }

    /// Whether `name` is a file name of this role for some contents.
    fn owns(self, name: &str) -> bool {
        name.strip_prefix(self.name())
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(self.extension()))
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

/// One data file of the folder.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataFile {
    /// Its name in the folder, derived from its contents.
    pub file: String,
    /// sha256 of its bytes.
    pub sha256: String,
}

/// One training file an index was built from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainFile {
    /// Its file name.
    pub file: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// The battles it gave the index (rows it held that the base already
    /// had, with `--skip-existing`, are not counted).
    pub rows: usize,
}

impl Manifest {
    /// The training files' names, for messages.
    pub fn train_names(&self) -> String {
        self.train.iter().map(|t| t.file.as_str()).collect::<Vec<_>>().join(" + ")
    }
}

/// What built the index.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Layout version of the folder ([`FORMAT_VERSION`] when written).
    pub format_version: u32,
    /// The knnpref version that wrote it.
    pub knnpref_version: String,
    /// What the training vectors came from.
    pub source: VectorSource,
    /// The training files, in the order their battles are stored: one, or
    /// a base index's files followed by those `index --base` added.
    pub train: Vec<TrainFile>,
    /// Training battles.
    pub rows: usize,
    /// Every data file, by role (`embeddings`, `battles`, `head`); filled in
    /// by [`IndexFolder::save`].
    pub files: BTreeMap<String, DataFile>,
}

/// Per-battle metadata kept for `similar` and `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct BattleMeta {
    /// [`crate::data::Battle::content_hash`] of the battle.
    pub content_hash: String,
    /// The start of the prompt's last turn.
    pub prompt_start: String,
    /// The start of response A's last turn.
    pub a_start: String,
    /// The start of response B's last turn.
    pub b_start: String,
    /// Characters of response A (all turns).
    pub a_chars: f32,
    /// Characters of response B (all turns).
    pub b_chars: f32,
    /// Out-of-fold probability of the training row.
    pub oof: [f64; 3],
}

/// A loaded index folder.
pub struct IndexFolder {
    /// What built the folder.
    pub manifest: Manifest,
    /// Training embeddings (without text statistics).
    pub train: EncodedBattles,
    /// Training votes.
    pub labels: Vec<Label>,
    /// Per-battle metadata, by row.
    pub meta: Vec<BattleMeta>,
    /// The fitted model's state.
    pub state: ModelState,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io { path: path.to_owned(), source }
}

impl IndexFolder {
    /// Refuse to use the index with a model other than the one it was built with.
    pub fn check_model(manifest: &Manifest, dir: &Path, given: &ModelInfo) -> Result<(), IndexError> {
        match &manifest.source {
            VectorSource::Model { model, .. } if model.sha256 == given.sha256 => Ok(()),
            VectorSource::Model { .. } => Err(IndexError::ModelMismatch {
                dir: dir.to_owned(),
                built: Box::new(manifest.source.clone()),
                given: Box::new(given.clone()),
            }),
            VectorSource::Vectors { producer, .. } => {
                Err(IndexError::NeedsVectors { dir: dir.to_owned(), producer: producer.clone() })
            }
        }
    }

    /// Refuse vectors of another producer or dimension than the index's.
    pub fn check_vectors(
        manifest: &Manifest,
        dir: &Path,
        producer: &str,
        dim: usize,
    ) -> Result<(), IndexError> {
        if manifest.source.producer() != producer || manifest.source.dim() != dim {
            return Err(IndexError::ProducerMismatch {
                dir: dir.to_owned(),
                built: Box::new(manifest.source.clone()),
                producer: producer.to_string(),
                dim,
            });
        }
        Ok(())
    }
}
