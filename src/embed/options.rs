//! How to embed, as every front-end asks for it ([`EmbedOptions`]), and the
//! one place its rules are checked ([`EmbedOptions::check`]), so that the
//! CLI and the Python module refuse the same values with the same message.

use std::path::PathBuf;

use super::error::EmbedError;
use super::runtime::Device;

/// Sessions chosen by `benches/throughput.rs` on 2 cores.
pub const DEFAULT_SESSIONS: usize = 2;
/// Texts per batch chosen by `benches/throughput.rs` on 2 cores.
pub const DEFAULT_BATCH_SIZE: usize = 4;

/// Which model to embed with, as the user chose it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModelChoice {
    /// No choice: the model an index was built with, or else the default:
    /// the static table on the CPU, the fp32 transformer with `--device cuda`.
    #[default]
    Default,
    /// The provisioned fp32 transformer (all-MiniLM-L6-v2).
    Transformer,
    /// The provisioned int8 transformer.
    Quantized,
    /// The provisioned static token table.
    Static,
    /// A model folder, or the name of a folder under `$KNNPREF_HOME/models`.
    Folder(PathBuf),
    /// No model: vectors computed elsewhere, in this Parquet file or
    /// folder of parts (see `knnpref::vectors`).
    Vectors(PathBuf),
}

impl ModelChoice {
    /// The choice made by a front-end's model flags (a folder, the int8
    /// model, the static table, the transformer, vectors), refusing more
    /// than one.
    pub fn from_flags(flags: ModelFlags) -> Result<ModelChoice, EmbedError> {
        let ModelFlags { folder, quantized, static_table, transformer, vectors } = flags;
        let chosen = [folder.is_some(), quantized, static_table, transformer, vectors.is_some()];
        if chosen.iter().filter(|&&c| c).count() > 1 {
            return Err(EmbedError::BadOption {
                name: "model",
                value: "more than one of a model folder, quantized, static, transformer and vectors".into(),
                why: "choose one model, or vectors",
            });
        }
        Ok(match (folder, vectors) {
            (Some(dir), _) => ModelChoice::Folder(dir),
            (_, Some(path)) => ModelChoice::Vectors(path),
            _ if quantized => ModelChoice::Quantized,
            _ if static_table => ModelChoice::Static,
            _ if transformer => ModelChoice::Transformer,
            _ => ModelChoice::Default,
        })
    }
}

/// A front-end's model flags, as given (at most one may be set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelFlags {
    /// `--model DIR`.
    pub folder: Option<PathBuf>,
    /// `--quantized`.
    pub quantized: bool,
    /// `--static`.
    pub static_table: bool,
    /// `--transformer`.
    pub transformer: bool,
    /// `--vectors FILE|FOLDER`.
    pub vectors: Option<PathBuf>,
}

/// How to embed: what the CLI's embedding flags and the Python keywords
/// set. Check it with [`EmbedOptions::check`] before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedOptions {
    /// The model.
    pub model: ModelChoice,
    /// Cores given to ONNX Runtime, shared out among the sessions.
    pub threads: usize,
    /// ONNX Runtime sessions running batches side by side, each with
    /// `threads / sessions` intra-op threads: while one runs the model,
    /// another tokenises its next batch.
    pub sessions: usize,
    /// Texts per inference batch.
    pub batch_size: usize,
    /// Tokens per text, special tokens included; `None`: the model's own
    /// default, or what the index was built with.
    pub max_tokens: Option<usize>,
    /// Execution provider.
    pub device: Device,
    /// Read and write the embedding cache.
    pub use_cache: bool,
    /// The model's prompt to put before every text, by name (its
    /// `config_sentence_transformers.json` prompts); `None`: the model's
    /// default prompt, if it has one.
    pub prompt_name: Option<String>,
}

impl EmbedOptions {
    /// The defaults on `threads` cores: the default model, the measured
    /// sessions and batch size, the CPU, the cache on.
    pub fn new(threads: usize) -> EmbedOptions {
        EmbedOptions {
            model: ModelChoice::Default,
            threads,
            sessions: DEFAULT_SESSIONS,
            batch_size: DEFAULT_BATCH_SIZE,
            max_tokens: None,
            device: Device::Cpu,
            use_cache: true,
            prompt_name: None,
        }
    }

    /// Refuse values no model can use: zero threads, sessions or batch
    /// size, a token budget under 8, a model folder that is not a folder.
    /// (A budget above what a model reads is refused when it is opened.)
    pub fn check(self) -> Result<CheckedEmbed, EmbedError> {
        let bad = |name: &'static str, value: String, why: &'static str| {
            Err(EmbedError::BadOption { name, value, why })
        };
        for (name, value) in
            [("threads", self.threads), ("sessions", self.sessions), ("batch size", self.batch_size)]
        {
            if value == 0 {
                return bad(name, value.to_string(), "must be at least 1");
            }
        }
        if let Some(t) = self.max_tokens.filter(|&t| t < MIN_TOKENS) {
            return bad("max tokens", t.to_string(), "must be at least 8");
        }
        if let ModelChoice::Folder(dir) = &self.model {
            // A bare name is looked up among the provisioned models later.
            let named = dir.components().count() == 1 && !dir.exists();
            if !named && !dir.is_dir() {
                return bad("model", dir.display().to_string(), "is not a folder");
            }
        }
        if let ModelChoice::Vectors(path) = &self.model {
            if !path.exists() {
                return bad("vectors", path.display().to_string(), "does not exist");
            }
        }
        Ok(CheckedEmbed(self))
    }
}

/// The fewest tokens per text any model is asked to read.
pub(crate) const MIN_TOKENS: usize = 8;

/// [`EmbedOptions`] that passed [`EmbedOptions::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEmbed(EmbedOptions);

impl std::ops::Deref for CheckedEmbed {
    type Target = EmbedOptions;

    fn deref(&self) -> &EmbedOptions {
        &self.0
    }
}

impl CheckedEmbed {
    /// The same options with another token budget (the index's).
    pub(crate) fn with_max_tokens(&self, max_tokens: Option<usize>) -> CheckedEmbed {
        CheckedEmbed(EmbedOptions { max_tokens, ..self.0.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_counts_and_tiny_budgets_are_refused_by_name() {
        let ok = EmbedOptions::new(2);
        assert!(ok.clone().check().is_ok());
        let refused = |o: EmbedOptions| o.check().unwrap_err().to_string();
        assert!(refused(EmbedOptions { threads: 0, ..ok.clone() }).contains("threads"));
        assert!(refused(EmbedOptions { sessions: 0, ..ok.clone() }).contains("sessions"));
        assert!(refused(EmbedOptions { batch_size: 0, ..ok.clone() }).contains("batch size"));
        assert!(refused(EmbedOptions { max_tokens: Some(7), ..ok.clone() }).contains("max tokens"));
        let file = tempfile::NamedTempFile::new().unwrap();
        let model = ModelChoice::Folder(file.path().to_owned());
        assert!(refused(EmbedOptions { model, ..ok.clone() }).contains("is not a folder"));
        let named = ModelChoice::Folder("all-mpnet-base-v2".into());
        assert!(EmbedOptions { model: named, ..ok }.check().is_ok(), "a bare name is resolved later");
    }
}
