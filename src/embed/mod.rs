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
mod chars;
pub mod distill;
mod error;
mod fit;
mod graph;
mod init;
mod model_files;
mod options;
mod pca;
mod pooling;
mod run;
mod runtime;
mod st_folder;
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
pub use model_files::{ModelInfo, ModelKind, EMBED_CODE_VERSION, STATIC_MAX_TOKENS, TRANSFORMER_FILES};
pub use options::{
    CheckedEmbed, EmbedOptions, ModelChoice, ModelFlags, DEFAULT_BATCH_SIZE, DEFAULT_SESSIONS,
};
pub use pooling::Pooling;
pub use runtime::{
    cache_dir, default_model_dir, environment, gpu_runtime_dir, knnpref_home, runtime_library,
    static_model_dir, Device, DEFAULT_MODEL, ORT_VERSION, QUANTIZED_MODEL, STATIC_MODEL,
};
pub use st_folder::FolderError;
pub use stats::{thousands, EmbedStats};

/// What it takes to start a transformer's sessions when first needed.
struct SessionPlan {
    dir: PathBuf,
    files: TokenizerFiles,
    threads: usize,
    sessions: usize,
    /// Register ONNX Runtime's CUDA provider (failing if it cannot start).
    cuda: bool,
    /// `--device auto`: if the CUDA provider fails to start, use the CPU
    /// (with a note) instead of failing.
    fallback: bool,
}

/// A sentence transformer run through ONNX Runtime, with its cache.
struct Transformer {
    /// Empty until something has to be embedded.
    sessions: Vec<TextEmbedding>,
    plan: SessionPlan,
    tokenizer: tokenizers::Tokenizer,
    cache: Option<Cache>,
    batch_size: usize,
    /// Pooling, prompt and casing, as the model folder says.
    pool: run::PoolPlan,
    /// Tokens of the prompt put before every text (0 without one), which
    /// the token budget leaves room for.
    prompt_tokens: usize,
}

/// The kinds of encoder an [`Embedder`] runs.
enum Encoder {
    /// ONNX Runtime sessions that start on first need.
    Transformer(Box<Transformer>),
    /// A static token table, pooled directly (no runtime, no cache: pooling
    /// is faster than reading one).
    Static(Box<static_model::StaticModel>),
}

/// A loaded model: its encoder, identity and cost counters.
pub struct Embedder {
    encoder: Encoder,
    info: ModelInfo,
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

    fn tokenizer(&self) -> &tokenizers::Tokenizer {
        match &self.encoder {
            Encoder::Transformer(t) => &t.tokenizer,
            Encoder::Static(table) => table.tokenizer(),
        }
    }

    /// Token count of a text as the model sees it (special tokens included,
    /// capped at the model's budget).
    pub fn token_count(&self, text: &str) -> usize {
        token_count(self.tokenizer(), text, self.info.max_tokens)
    }

    /// Tokens a text may have: the model's budget less the special tokens
    /// and the prompt.
    fn text_budget(&self) -> usize {
        let prompt = match &self.encoder {
            Encoder::Transformer(t) => t.prompt_tokens,
            Encoder::Static(_) => 0,
        };
        self.info.max_tokens.saturating_sub(2 + prompt)
    }

    /// Join turns into one model input, truncated to the model's token budget
    /// so that the last turn is kept whole in preference to earlier ones.
    pub fn fit(&self, turns: &[String]) -> String {
        fit_turns(self.tokenizer(), turns, self.text_budget())
    }

    /// Embed texts given as turns, each fitted into the model's token budget
    /// (last turn kept whole first); returns row-major L2-normalised vectors.
    /// A static model pools its table directly; a transformer fits, dedupes,
    /// caches and batches.
    pub fn embed_turns(&mut self, turns: &[&[String]], what: &str) -> Result<Vec<f32>, EmbedError> {
        match &self.encoder {
            Encoder::Transformer(_) => {
                let texts = self.fit_many(turns);
                self.embed(&texts, what)
            }
            Encoder::Static(table) => Ok(pool_static(table, &mut self.stats, turns, self.info.max_tokens)),
        }
    }

    /// Embed texts that are already fitted into the budget, whole.
    pub fn embed(&mut self, texts: &[String], what: &str) -> Result<Vec<f32>, EmbedError> {
        match &mut self.encoder {
            Encoder::Transformer(t) => t.embed(texts, what, &self.info, &self.progress, &mut self.stats),
            Encoder::Static(table) => {
                let turns: Vec<&[String]> = texts.iter().map(std::slice::from_ref).collect();
                Ok(pool_static(table, &mut self.stats, &turns, usize::MAX))
            }
        }
    }

    /// [`Embedder::fit`] over many texts, on all worker threads.
    pub fn fit_many(&mut self, texts: &[&[String]]) -> Vec<String> {
        let started = Instant::now();
        let (tokenizer, budget) = (self.tokenizer(), self.text_budget());
        let fitted = texts.par_iter().map(|turns| fit_turns(tokenizer, turns, budget)).collect();
        self.stats.truncate_seconds += started.elapsed().as_secs_f64();
        fitted
    }
}

/// Pool texts through a static table within `max_tokens` each, counting
/// them in `stats` (no padding: slots equal tokens).
fn pool_static(
    table: &static_model::StaticModel,
    stats: &mut EmbedStats,
    turns: &[&[String]],
    max_tokens: usize,
) -> Vec<f32> {
    let started = Instant::now();
    let (vectors, tokens) = table.encode_counted(turns, max_tokens);
    stats.texts += turns.len();
    stats.tokens += tokens;
    stats.slots += tokens;
    stats.seconds += started.elapsed().as_secs_f64();
    vectors
}

/// Tokens of `text` with special tokens, capped at `max`.
fn token_count(tokenizer: &tokenizers::Tokenizer, text: &str, max: usize) -> usize {
    tokenizer.encode(text, true).map_or(text.len() / 4, |e| e.len()).min(max)
}

#[cfg(test)]
mod tests;
