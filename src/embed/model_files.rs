//! A model folder's files and identity: what the manifest records and the
//! cache is keyed by, read without starting ONNX Runtime.

use std::path::Path;

use super::error::EmbedError;
use super::pooling::Pooling;
use super::runtime::{knnpref_home, SETUP_HINT};
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

/// What a user's own model folder that lacks a file is told.
const FOLDER_HINT: &str = "a sentence-transformers folder for knnpref holds model.onnx (its ONNX graph), \
     tokenizer.json, config.json, special_tokens_map.json and tokenizer_config.json, with modules.json and \
     1_Pooling/config.json saying how to pool (scripts/export_onnx.py writes one from a folder that ships only \
     safetensors)";

/// True when `dir` is (or would be) a provisioned model: a folder of
/// `$KNNPREF_HOME/models`, which `scripts/setup.sh` fills.
pub(crate) fn is_provisioned(dir: &Path) -> bool {
    let resolved = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_owned()))
    };
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => resolved(parent) == resolved(&knnpref_home().join("models")),
        None => false,
    }
}

/// Refuse a model folder that is not there: a bare name that is neither a
/// folder nor a provisioned model (listing the provisioned ones), a path
/// that does not exist or is not a folder.
pub(super) fn check_folder(dir: &Path) -> Result<(), EmbedError> {
    if dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(EmbedError::NotAFolder { dir: dir.to_owned(), why: "is not a folder" });
    }
    if !is_provisioned(dir) {
        return Err(EmbedError::NotAFolder { dir: dir.to_owned(), why: "does not exist" });
    }
    let models = knnpref_home().join("models");
    let held = match provisioned_names(&models) {
        None => format!("does not exist; {SETUP_HINT}, or pass --model with a model folder's path"),
        Some(names) if names.is_empty() => {
            format!("holds no models; {SETUP_HINT}, or pass --model with a model folder's path")
        }
        Some(names) => format!(
            "holds the models {}; pass one of those names, or --model with a model folder's path",
            names.join(", ")
        ),
    };
    Err(EmbedError::NoModel { name: model_id(dir), models, held })
}

/// The model folders in `models` (those with an ONNX graph or a static
/// table), sorted; `None` when `models` cannot be listed.
fn provisioned_names(models: &Path) -> Option<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(models)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| ["model.onnx", SAFETENSORS].iter().any(|f| e.path().join(f).is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names)
}

/// A model file's bytes, or an error naming the file and what to do: run
/// `scripts/setup.sh` for a provisioned model, else what a folder needs.
pub(super) fn read(dir: &Path, file: &'static str) -> Result<Vec<u8>, EmbedError> {
    let path = dir.join(file);
    if !path.is_file() {
        let hint = if is_provisioned(dir) { SETUP_HINT } else { FOLDER_HINT };
        return Err(EmbedError::ModelMissing { dir: dir.to_owned(), file, hint });
    }
    std::fs::read(&path).map_err(|source| EmbedError::Io { path, source })
}

/// Every file of [`TRANSFORMER_FILES`] in `dir`, in that order, read once.
pub(super) fn read_transformer_files(dir: &Path) -> Result<Vec<Vec<u8>>, EmbedError> {
    TRANSFORMER_FILES.iter().map(|name| read(dir, name)).collect()
}

/// Check the tokenizer configs among `files` (the bytes of `dir`'s
/// [`TRANSFORMER_FILES`]) for what fastembed needs of them when a session
/// starts, so that a folder lacking it is refused at open, not at the
/// first batch.
pub(super) fn check_tokenizer_configs(dir: &Path, files: &[Vec<u8>]) -> Result<(), EmbedError> {
    let json = |i: usize| serde_json::from_slice::<serde_json::Value>(&files[i]).ok();
    let bad = |i: usize, why| Err(EmbedError::TokenizerConfig { path: dir.join(TRANSFORMER_FILES[i]), why });
    if let Some(i) = (2..5).find(|&i| json(i).is_none()) {
        return bad(i, "is not valid JSON");
    }
    let config = json(4).unwrap_or_default();
    if !config["model_max_length"].is_number() {
        return bad(4, "has no numeric model_max_length");
    }
    let pad = &config["pad_token"];
    if pad.as_str().or(pad["content"].as_str()).is_none() {
        return bad(4, "has no pad_token (a string, or an object with a content string)");
    }
    Ok(())
}

/// The identity of a transformer folder whose [`TRANSFORMER_FILES`] hold
/// `files`: sha256 over each (name, length, bytes) and the `settings` that
/// shape its vectors (pooling, prompt, casing).
pub(super) fn files_identity_of(files: &[Vec<u8>], settings: &[u8]) -> String {
    let mut parts: Vec<(&str, &[u8])> =
        TRANSFORMER_FILES.iter().copied().zip(files.iter().map(Vec::as_slice)).collect();
    parts.push(("pooling", settings));
    files_identity(&parts)
}

/// The identity of the transformer folder `dir` ([`files_identity_of`] its files).
#[cfg(test)]
pub(super) fn transformer_identity(dir: &Path, settings: &[u8]) -> Result<String, EmbedError> {
    Ok(files_identity_of(&read_transformer_files(dir)?, settings))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The five files of a folder with these tokenizer configs.
    fn files(config: &str, special: &str, tokenizer_config: &str) -> Vec<Vec<u8>> {
        [b"onnx".as_slice(), b"{}", config.as_bytes(), special.as_bytes(), tokenizer_config.as_bytes()]
            .map(<[u8]>::to_vec)
            .to_vec()
    }

    #[test]
    fn tokenizer_configs_need_what_fastembed_reads() {
        let dir = Path::new("/m");
        let check = |c: &str, s: &str, t: &str| {
            check_tokenizer_configs(dir, &files(c, s, t)).map_err(|e| e.to_string())
        };
        let good = r#"{"model_max_length": 512, "pad_token": "[PAD]"}"#;
        assert_eq!(check("{}", "{}", good), Ok(()));
        let object = r#"{"model_max_length": 1e30, "pad_token": {"content": "<pad>"}}"#;
        assert_eq!(check("{}", "{}", object), Ok(()));
        let err = check("{", "{}", good).unwrap_err();
        assert!(err.starts_with("/m/config.json is not valid JSON"), "{err}");
        let err = check("{}", "", good).unwrap_err();
        assert!(err.starts_with("/m/special_tokens_map.json is not valid JSON"), "{err}");
        let err = check("{}", "{}", r#"{"pad_token": "[PAD]"}"#).unwrap_err();
        assert!(err.starts_with("/m/tokenizer_config.json has no numeric model_max_length"), "{err}");
        let err = check("{}", "{}", r#"{"model_max_length": 8, "pad_token": 0}"#).unwrap_err();
        assert!(err.starts_with("/m/tokenizer_config.json has no pad_token"), "{err}");
    }
}
