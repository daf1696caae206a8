//! What an index's training vectors came from, as its manifest records it:
//! a model knnpref ran (its identity and the folder it was loaded from, so
//! that later commands find it again without `--model`), or vectors
//! computed elsewhere and handed over with `--vectors` (their producer).

use std::path::PathBuf;

use crate::embed::ModelInfo;

/// Where a model was loaded from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelFolder {
    /// The folder, absolute.
    pub path: PathBuf,
    /// Its name under `$KNNPREF_HOME/models` when it was loaded from there,
    /// so that an index copied to a machine with another `KNNPREF_HOME`
    /// (a Kaggle notebook's input folder) still finds its model.
    pub provisioned: Option<String>,
}

/// The source of an index's vectors.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum VectorSource {
    /// A model knnpref ran.
    Model {
        /// Its identity, dimension and token budget.
        model: ModelInfo,
        /// The folder it was loaded from.
        folder: ModelFolder,
    },
    /// Vectors computed elsewhere.
    Vectors {
        /// The producer the vectors file names (`knnpref.producer`).
        producer: String,
        /// Their dimension.
        dim: usize,
    },
}

impl VectorSource {
    /// Dimension of the vectors.
    pub fn dim(&self) -> usize {
        match self {
            VectorSource::Model { model, .. } => model.dim,
            VectorSource::Vectors { dim, .. } => *dim,
        }
    }

    /// The model, when knnpref ran one.
    pub fn model(&self) -> Option<&ModelInfo> {
        match self {
            VectorSource::Model { model, .. } => Some(model),
            VectorSource::Vectors { .. } => None,
        }
    }

    /// The producer name vectors of this source carry: the vectors' own, or
    /// for a model the name `knnpref embed` writes for it.
    pub fn producer(&self) -> String {
        match self {
            VectorSource::Model { model, .. } => model.producer(),
            VectorSource::Vectors { producer, .. } => producer.clone(),
        }
    }

    /// The source in words, for messages.
    pub fn describe(&self) -> String {
        match self {
            VectorSource::Model { model, folder } => format!(
                "the {} model {} (sha256 {}) from {}",
                model.kind.name(),
                model.id,
                model.sha256,
                folder.path.display()
            ),
            VectorSource::Vectors { producer, dim } => {
                format!("vectors of dimension {dim} from producer `{producer}`")
            }
        }
    }
}
