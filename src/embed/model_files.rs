//! A model folder's files and identity: what the manifest records and the
//! cache is keyed by, read without starting ONNX Runtime.

use std::path::Path;

use super::error::EmbedError;
use super::pooling::Pooling;
use super::runtime::SETUP_HINT;
use super::static_model::{files_identity, SAFETENSORS};

/// What kind of model a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A sentence transformer run through ONNX Runtime (`model.onnx`).
    #[default]
    Transformer,
    /// A static token table in model2vec's layout (`model.safetensors`): no
    /// neural runtime at all.
    Static,
}

impl ModelKind {
    /// The kind of the model in `dir`: static when it has a model2vec table
    /// and no ONNX graph.
    pub fn of(dir: &Path) -> ModelKind {
        if !dir.join("model.onnx").is_file() && dir.join(SAFETENSORS).is_file() {
            ModelKind::Static
        } else {
            ModelKind::Transformer
        }
    }

    /// The kind in words, for messages.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Transformer => "transformer",
            ModelKind::Static => "static",
        }
    }
}

/// Version of knnpref's embedding code (fitting turns into the budget,
/// tokenising, pooling): bumped whenever a change gives other vectors for the
/// same text and model, so that cached vectors of the old code are not reused.
pub const EMBED_CODE_VERSION: u32 = 1;

/// The files of a transformer folder that shape its vectors, all hashed into
/// its identity: the graph, the tokenizer, and the configs fastembed reads
/// (`sentence_bert_config.json` only sets the default token budget, which is
/// recorded on its own).
pub const TRANSFORMER_FILES: [&str; 5] =
    ["model.onnx", "tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"];

/// The settings of a folder without sentence-transformers options beyond
/// mean pooling, hashed into its identity: the bytes of the identities
/// knnpref gave before it read those options, so they stay the same.
pub(super) const MEAN_POOLING: &[u8] = b"mean";

/// Tokens per text of a static model unless `--max-tokens` says otherwise.
pub const STATIC_MAX_TOKENS: usize = 512;

/// Identity of a model: what the manifest records and the cache is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelInfo {
    /// The model folder's name, e.g. `all-MiniLM-L6-v2`.
    pub id: String,
    /// sha256 over every file that shapes the vectors: for a transformer
    /// `model.onnx`, the tokenizer and its configs ([`TRANSFORMER_FILES`])
    /// and the pooling; for a static model the table, tokenizer and config.
    pub sha256: String,
    /// Embedding dimension.
    pub dim: usize,
    /// Tokens per text, special tokens included.
    pub max_tokens: usize,
    /// Transformer or static.
    pub kind: ModelKind,
    /// How token vectors become one vector (a static model means its rows).
    pub pooling: Pooling,
}

impl ModelInfo {
    /// The producer name `knnpref embed` writes into a vectors file of this
    /// model: its name, the start of its identity and its token budget, so
    /// that vectors of another model or budget are told apart.
    pub fn producer(&self) -> String {
        format!("{}@{}:{}", self.id, &self.sha256[..16.min(self.sha256.len())], self.max_tokens)
    }

    /// The embedding cache file of this model, token budget and version of
    /// knnpref's embedding code: vectors from any other never mix in.
    pub(super) fn cache_file(&self) -> String {
        format!(
            "{}-{}-{}-d{}-e{EMBED_CODE_VERSION}.bin",
            self.id,
            &self.sha256[..16.min(self.sha256.len())],
            self.max_tokens,
            self.dim
        )
    }
}

/// A model file's bytes, or an error naming the file and how to provision it.
pub(super) fn read(dir: &Path, file: &'static str) -> Result<Vec<u8>, EmbedError> {
    let path = dir.join(file);
    if !path.is_file() {
        return Err(EmbedError::ModelMissing { dir: dir.to_owned(), file, hint: SETUP_HINT });
    }
    std::fs::read(&path).map_err(|source| EmbedError::Io { path, source })
}

/// The identity of a transformer folder: sha256 over every file of
/// [`TRANSFORMER_FILES`] (name, length, bytes) and the `settings` that
/// shape its vectors (pooling, prompt, casing).
pub(super) fn transformer_identity(dir: &Path, settings: &[u8]) -> Result<String, EmbedError> {
    let mut files = Vec::with_capacity(TRANSFORMER_FILES.len());
    for name in TRANSFORMER_FILES {
        files.push((name, read(dir, name)?));
    }
    let mut parts: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    parts.push(("pooling", settings));
    Ok(files_identity(&parts))
}

/// A whole-number field of a JSON file in the model folder, if present.
fn json_number(dir: &Path, file: &str, key: &str) -> Option<usize> {
    std::fs::read(dir.join(file))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v[key].as_u64())
        .map(|n| n as usize)
}

/// `hidden_size` from config.json, if it is there.
pub(super) fn hidden_size(dir: &Path) -> Option<usize> {
    json_number(dir, "config.json", "hidden_size")
}

/// `max_position_embeddings` from config.json, default 512.
pub(super) fn position_limit(dir: &Path) -> usize {
    json_number(dir, "config.json", "max_position_embeddings").unwrap_or(512)
}

pub(super) fn model_id(dir: &Path) -> String {
    dir.file_name().map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned())
}
