//! Sentence embeddings through ONNX Runtime (fastembed + ort), offline.
//!
//! This is the expensive stage, so it owns everything that makes it cheaper:
//! deduplicating texts, a content-addressed cache, sorting by token length
//! before batching (little padding), and truncation that keeps the last turn
//! of a conversation whole. The runtime library and the model come from
//! `$KNNPREF_HOME`, provisioned by `scripts/setup.sh`; nothing is downloaded.
//!
//! Laid out like fastembed-rs: the types here, opening in `init`, the batch
//! scheduler in `batches`, and one file per helper (model files, runtime,
//! cache, truncation, cost counters).

mod batches;
mod cache;
pub mod distill;
mod error;
mod fit;
mod init;
mod model_files;
mod pca;
mod runtime;
pub mod static_model;
mod stats;

use std::path::PathBuf;
use std::time::Instant;

use fastembed::{TextEmbedding, TokenizerFiles};
use rayon::prelude::*;

use crate::progress::Progress;

pub use cache::{Cache, CacheError};
pub use error::EmbedError;
pub use fit::fit_turns;
pub use model_files::{
    model_info, ModelInfo, ModelKind, EMBED_CODE_VERSION, STATIC_MAX_TOKENS, TRANSFORMER_FILES,
};
pub use runtime::{
    cache_dir, default_model_dir, environment, gpu_runtime_dir, knnpref_home, runtime_library,
    static_model_dir, Device, DEFAULT_MODEL, ORT_VERSION, QUANTIZED_MODEL, STATIC_MODEL,
};
pub use stats::{thousands, EmbedStats};

/// Sessions chosen by `benches/throughput.rs` on 2 cores.
pub const DEFAULT_SESSIONS: usize = 2;
/// Texts per batch chosen by `benches/throughput.rs` on 2 cores.
pub const DEFAULT_BATCH_SIZE: usize = 4;

/// How to embed.
#[derive(Debug, Clone)]
pub struct EmbedConfig {
    /// The model folder (model.onnx and tokenizer files).
    pub model_dir: PathBuf,
    /// Cores given to ONNX Runtime, shared out among the sessions.
    pub threads: usize,
    /// ONNX Runtime sessions running batches side by side, each with
    /// `threads / sessions` intra-op threads. While one session runs the
    /// model, another tokenises its next batch.
    pub sessions: usize,
    /// Texts per inference batch.
    pub batch_size: usize,
    /// Tokens per text, special tokens included; `None`: the model's own
    /// `max_seq_length`. Fewer tokens embed faster and see less of each text.
    pub max_tokens: Option<usize>,
    /// Execution provider.
    pub device: Device,
    /// Read and write the embedding cache in [`cache_dir`].
    pub use_cache: bool,
    /// Where progress goes (hidden, the terminal, a sink), and the call's
    /// cancel token, checked between batches.
    pub progress: Progress,
}

/// What it takes to start the sessions when they are first needed.
struct SessionPlan {
    dir: PathBuf,
    files: TokenizerFiles,
    threads: usize,
    sessions: usize,
    /// Register ONNX Runtime's CUDA provider (failing if it cannot start).
    cuda: bool,
    /// `--device auto`: if the CUDA provider fails to start, use the CPU
    /// (with a note, when `notes`) instead of failing.
    fallback: bool,
    /// Print notes on stderr.
    notes: bool,
}

/// A loaded model with its tokenizer and cache: a transformer whose ONNX
/// Runtime sessions start on first need, or a static token table.
pub struct Embedder {
    /// Empty until something has to be embedded (always, for a static model).
    sessions: Vec<TextEmbedding>,
    /// How to start the sessions (`None` for a static model).
    plan: Option<SessionPlan>,
    /// The static model, when the folder holds one.
    table: Option<static_model::StaticModel>,
    tokenizer: tokenizers::Tokenizer,
    info: ModelInfo,
    cache: Option<Cache>,
    batch_size: usize,
    progress: Progress,
    stats: EmbedStats,
}

impl Embedder {
    /// The model's identity, dimension and token budget.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// What embedding has cost since this embedder was opened.
    pub fn stats(&self) -> EmbedStats {
        self.stats
    }

    /// Token count of a text as the model sees it (special tokens included,
    /// capped at the model's budget).
    pub fn token_count(&self, text: &str) -> usize {
        token_count(&self.tokenizer, text, self.info.max_tokens)
    }

    /// Join turns into one model input, truncated to the model's token budget
    /// so that the last turn is kept whole in preference to earlier ones.
    pub fn fit(&self, turns: &[String]) -> String {
        fit_turns(&self.tokenizer, turns, self.info.max_tokens.saturating_sub(2))
    }

    /// Embed texts given as turns, each fitted into the model's token budget
    /// (last turn kept whole first); returns row-major L2-normalised vectors.
    /// A static model pools its table directly (no cache: that is faster
    /// than reading one); a transformer fits, dedupes, caches and batches.
    pub fn embed_turns(&mut self, turns: &[&[String]], what: &str) -> Result<Vec<f32>, EmbedError> {
        if self.table.is_none() {
            let texts = self.fit_many(turns);
            return self.embed(&texts, what);
        }
        Ok(self.pool_static(turns, self.info.max_tokens))
    }

    /// Pool texts through the static table within `max_tokens` each,
    /// counting them in the stats (no padding: slots equal tokens).
    /// Empty vectors when the model is a transformer.
    fn pool_static(&mut self, turns: &[&[String]], max_tokens: usize) -> Vec<f32> {
        let Some(table) = &self.table else { return Vec::new() };
        let started = Instant::now();
        let (vectors, tokens) = table.encode_counted(turns, max_tokens);
        self.stats.texts += turns.len();
        self.stats.tokens += tokens;
        self.stats.slots += tokens;
        self.stats.seconds += started.elapsed().as_secs_f64();
        vectors
    }

    /// [`Embedder::fit`] over many texts, on all worker threads.
    pub fn fit_many(&mut self, texts: &[&[String]]) -> Vec<String> {
        let started = Instant::now();
        let (tokenizer, budget) = (&self.tokenizer, self.info.max_tokens.saturating_sub(2));
        let fitted = texts.par_iter().map(|turns| fit_turns(tokenizer, turns, budget)).collect();
        self.stats.truncate_seconds += started.elapsed().as_secs_f64();
        fitted
    }
}

/// Tokens of `text` with special tokens, capped at `max`.
fn token_count(tokenizer: &tokenizers::Tokenizer, text: &str, max: usize) -> usize {
    tokenizer.encode(text, true).map_or(text.len() / 4, |e| e.len()).min(max)
}

#[cfg(test)]
mod tests;
