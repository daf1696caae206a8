//! Sentence embeddings through ONNX Runtime (fastembed + ort), offline.
//!
//! This is the expensive stage, so it owns everything that makes it cheaper:
//! deduplicating texts, a content-addressed cache, sorting by token length
//! before batching (little padding), and truncation that keeps the last turn
//! of a conversation whole. The runtime library and the model come from
//! `$KNNPREF_HOME`, provisioned by `scripts/setup.sh`; nothing is downloaded.

mod cache;
mod fit;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::Instant;

use fastembed::{InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub use cache::{Cache, CacheError};
pub use fit::fit_turns;

/// The ONNX Runtime version whose shared library knnpref loads.
pub const ORT_VERSION: &str = "1.31.1";
/// The default model folder name under `$KNNPREF_HOME/models`.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";
/// Sessions and batch size chosen by `benches/throughput.rs` on 2 cores.
pub const DEFAULT_SESSIONS: usize = 2;
pub const DEFAULT_BATCH_SIZE: usize = 4;
/// The int8 variant selected by `--quantized`.
pub const QUANTIZED_MODEL: &str = "all-MiniLM-L6-v2-int8";

const SETUP_HINT: &str = "run scripts/setup.sh (it installs into $KNNPREF_HOME, default ~/.cache/knnpref)";

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("ONNX Runtime library not found at {path}; {hint}")]
    RuntimeMissing { path: PathBuf, hint: &'static str },
    #[error("cannot load ONNX Runtime from {path} (it must be version {ORT_VERSION}); {hint}")]
    RuntimeOpen {
        path: PathBuf,
        hint: &'static str,
        #[source]
        source: ort::LoadDynamicError,
    },
    #[error("cannot start ONNX Runtime from {path}; {hint}")]
    RuntimeLoad {
        path: PathBuf,
        hint: &'static str,
        #[source]
        source: ort::Error,
    },
    #[error("model folder {dir} lacks {file}; {hint}")]
    ModelMissing { dir: PathBuf, file: &'static str, hint: &'static str },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid tokenizer")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot create the ONNX Runtime session for {dir}")]
    Session {
        dir: PathBuf,
        #[source]
        source: fastembed::Error,
    },
    #[error("embedding a batch failed")]
    Run {
        #[source]
        source: fastembed::Error,
    },
    #[error("--max-tokens {given} is outside 8..={limit}, the range model {dir} takes")]
    MaxTokens { given: usize, limit: usize, dir: PathBuf },
    #[error("model {dir} outputs {output}-dimensional vectors but its config.json says hidden_size {config}; knnpref takes mean-pooled models without a projection head")]
    Dimension { dir: PathBuf, config: usize, output: usize },
    #[error("execution provider `{0}` is not available in this build; use --device cpu")]
    DeviceUnavailable(&'static str),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Where inference runs. Only the CPU provider is built today; the choice is
/// kept explicit so that a CUDA build can add itself here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Device {
    #[default]
    Cpu,
    Cuda,
}

/// `$KNNPREF_HOME`, default `~/.cache/knnpref`.
pub fn knnpref_home() -> PathBuf {
    if let Some(h) = std::env::var_os("KNNPREF_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("knnpref")
}

/// The default model folder, or the int8 one.
pub fn default_model_dir(quantized: bool) -> PathBuf {
    let name = if quantized { QUANTIZED_MODEL } else { DEFAULT_MODEL };
    knnpref_home().join("models").join(name)
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH` if set, else the provisioned one.
pub fn runtime_library() -> PathBuf {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    knnpref_home().join("lib").join(format!("libonnxruntime.so.{ORT_VERSION}"))
}

static ENVIRONMENT: OnceLock<ort::environment::Environment> = OnceLock::new();

/// The process's ONNX Runtime environment, loading the library on first use
/// (shared by knnpref's sessions and by benches that run ONNX Runtime raw).
pub fn environment() -> Result<ort::environment::Environment, EmbedError> {
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env.clone());
    }
    let path = runtime_library();
    if !path.is_file() {
        return Err(EmbedError::RuntimeMissing { path, hint: SETUP_HINT });
    }
    let load_err =
        |source: ort::Error| EmbedError::RuntimeLoad { path: path.clone(), hint: SETUP_HINT, source };
    let builder = ort::init_from(&path).map_err(|source| EmbedError::RuntimeOpen {
        path: path.clone(),
        hint: SETUP_HINT,
        source,
    })?;
    let env = builder.with_name("knnpref").build().map_err(load_err)?;
    Ok(ENVIRONMENT.get_or_init(|| env).clone())
}

/// Identity of a model: what the manifest records and the cache is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelInfo {
    /// The model folder's name, e.g. `all-MiniLM-L6-v2`.
    pub id: String,
    /// sha256 of `model.onnx`.
    pub sha256: String,
    pub dim: usize,
    /// Tokens per text, special tokens included.
    pub max_tokens: usize,
}

/// How to embed.
#[derive(Debug, Clone)]
pub struct EmbedConfig {
    pub model_dir: PathBuf,
    /// Cores given to ONNX Runtime, shared out among the sessions.
    pub threads: usize,
    /// ONNX Runtime sessions running batches side by side, each with
    /// `threads / sessions` intra-op threads. While one session runs the
    /// model, another tokenises its next batch.
    pub sessions: usize,
    pub batch_size: usize,
    /// Tokens per text, special tokens included; `None`: the model's own
    /// `max_seq_length`. Fewer tokens embed faster and see less of each text.
    pub max_tokens: Option<usize>,
    pub device: Device,
    pub use_cache: bool,
    pub progress: bool,
}

/// What embedding has cost so far: the numbers behind the padding and
/// throughput targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct EmbedStats {
    /// Texts run through the model (cache hits and duplicates excluded).
    pub texts: usize,
    /// Real tokens fed to the model, special tokens included.
    pub tokens: u64,
    /// Token slots the model computed: batch size × longest text, summed.
    pub slots: u64,
    /// Texts answered from the cache.
    pub cached: usize,
    /// Wall seconds spent in the model loop.
    pub seconds: f64,
    /// Wall seconds spent fitting texts into the token budget.
    pub truncate_seconds: f64,
}

impl EmbedStats {
    /// Share of computed slots that were padding.
    pub fn padding_waste(&self) -> f64 {
        if self.slots == 0 {
            0.0
        } else {
            1.0 - self.tokens as f64 / self.slots as f64
        }
    }

    /// Real tokens per second of the model loop.
    pub fn tokens_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.tokens as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// What it takes to start the sessions when they are first needed.
struct SessionPlan {
    dir: PathBuf,
    files: TokenizerFiles,
    threads: usize,
    sessions: usize,
}

/// A loaded model with its tokenizer and cache.
pub struct Embedder {
    /// Empty until something has to be embedded.
    sessions: Vec<TextEmbedding>,
    plan: SessionPlan,
    tokenizer: tokenizers::Tokenizer,
    info: ModelInfo,
    cache: Option<Cache>,
    batch_size: usize,
    progress: bool,
    stats: EmbedStats,
}

fn read(dir: &Path, file: &'static str) -> Result<Vec<u8>, EmbedError> {
    let path = dir.join(file);
    if !path.is_file() {
        return Err(EmbedError::ModelMissing { dir: dir.to_owned(), file, hint: SETUP_HINT });
    }
    std::fs::read(&path).map_err(|source| EmbedError::Io { path, source })
}

/// sha256 of a byte slice as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Read a model folder's identity without starting ONNX Runtime.
pub fn model_info(dir: &Path) -> Result<ModelInfo, EmbedError> {
    let onnx = read(dir, "model.onnx")?;
    Ok(ModelInfo { id: model_id(dir), sha256: sha256_hex(&onnx), dim: 0, max_tokens: max_tokens(dir) })
}

/// A whole-number field of a JSON file in the model folder, if present.
fn json_number(dir: &Path, file: &str, key: &str) -> Option<usize> {
    std::fs::read(dir.join(file))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v[key].as_u64())
        .map(|n| n as usize)
}

/// `hidden_size` from config.json, or 0 when it is not there.
fn hidden_size(dir: &Path) -> usize {
    json_number(dir, "config.json", "hidden_size").unwrap_or(0)
}

/// `max_position_embeddings` from config.json, default 512.
fn position_limit(dir: &Path) -> usize {
    json_number(dir, "config.json", "max_position_embeddings").unwrap_or(512)
}

fn model_id(dir: &Path) -> String {
    dir.file_name().map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned())
}

/// `max_seq_length` from sentence_bert_config.json, default 256.
fn max_tokens(dir: &Path) -> usize {
    json_number(dir, "sentence_bert_config.json", "max_seq_length").unwrap_or(256)
}

impl Embedder {
    pub fn open(cfg: &EmbedConfig) -> Result<Embedder, EmbedError> {
        let dir = &cfg.model_dir;
        if cfg.device == Device::Cuda {
            return Err(EmbedError::DeviceUnavailable("cuda"));
        }
        let onnx = read(dir, "model.onnx")?;
        let tok_bytes = read(dir, "tokenizer.json")?;
        let files = TokenizerFiles {
            tokenizer_file: tok_bytes.clone(),
            config_file: read(dir, "config.json")?,
            special_tokens_map_file: read(dir, "special_tokens_map.json")?,
            tokenizer_config_file: read(dir, "tokenizer_config.json")?,
        };
        let limit = position_limit(dir);
        let max_tokens = match cfg.max_tokens {
            Some(given) if !(8..=limit).contains(&given) => {
                return Err(EmbedError::MaxTokens { given, limit, dir: dir.clone() })
            }
            Some(given) => given,
            None => max_tokens(dir).min(limit),
        };
        let sha256 = sha256_hex(&onnx);
        drop(onnx);
        // Load the runtime now, so that a missing library is reported before any work.
        environment()?;
        let mut tokenizer = tokenizers::Tokenizer::from_bytes(&tok_bytes)
            .map_err(|source| EmbedError::Tokenizer { path: dir.join("tokenizer.json"), source })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|source| EmbedError::Tokenizer { path: dir.join("tokenizer.json"), source })?;
        let info = ModelInfo { id: model_id(dir), sha256, dim: hidden_size(dir), max_tokens };
        let mut embedder = Embedder {
            sessions: Vec::new(),
            plan: SessionPlan {
                dir: dir.clone(),
                files,
                threads: cfg.threads.max(1),
                sessions: cfg.sessions.clamp(1, cfg.threads.max(1)),
            },
            tokenizer,
            info,
            cache: None,
            batch_size: cfg.batch_size.max(1),
            progress: cfg.progress,
            stats: EmbedStats::default(),
        };
        if embedder.info.dim == 0 {
            // No hidden_size in config.json: ask the model.
            embedder.start_sessions()?;
        }
        if cfg.use_cache {
            embedder.cache = Some(Cache::open(&knnpref_home().join("cache"), &embedder.info)?);
        }
        Ok(embedder)
    }

    /// Create the ONNX Runtime sessions, on first need only: a run whose
    /// texts are all cached never pays for them. The first session's output
    /// width is checked against the dimension the cache and manifest use.
    fn start_sessions(&mut self) -> Result<(), EmbedError> {
        if !self.sessions.is_empty() {
            return Ok(());
        }
        let plan = &self.plan;
        let onnx = read(&plan.dir, "model.onnx")?;
        let env = environment()?;
        for s in 0..plan.sessions {
            // Share the cores out: 3 threads over 2 sessions gives 2 + 1.
            let threads = (plan.threads + plan.sessions - 1 - s) / plan.sessions;
            let user_model =
                UserDefinedEmbeddingModel::new(onnx.clone(), plan.files.clone()).with_pooling(Pooling::Mean);
            let options = InitOptionsUserDefined::new()
                .with_environment(env.clone())
                .with_max_length(self.info.max_tokens)
                .with_intra_threads(threads);
            self.sessions.push(
                TextEmbedding::try_new_from_user_defined(user_model, options)
                    .map_err(|source| EmbedError::Session { dir: plan.dir.clone(), source })?,
            );
        }
        let probe =
            self.sessions[0].embed(["dimension probe"], None).map_err(|source| EmbedError::Run { source })?;
        let dim = probe[0].len();
        if self.info.dim == 0 {
            self.info.dim = dim;
        } else if dim != self.info.dim {
            return Err(EmbedError::Dimension { dir: plan.dir.clone(), config: self.info.dim, output: dim });
        }
        Ok(())
    }

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

    /// [`Embedder::fit`] over many texts, on all worker threads.
    pub fn fit_many(&mut self, texts: &[&[String]]) -> Vec<String> {
        let started = Instant::now();
        let (tokenizer, budget) = (&self.tokenizer, self.info.max_tokens.saturating_sub(2));
        let fitted = texts.par_iter().map(|turns| fit_turns(tokenizer, turns, budget)).collect();
        self.stats.truncate_seconds += started.elapsed().as_secs_f64();
        fitted
    }

    /// Embed texts; returns row-major L2-normalised vectors, one per text.
    pub fn embed(&mut self, texts: &[String], what: &str) -> Result<Vec<f32>, EmbedError> {
        let dim = self.info.dim;
        // Deduplicate: identical texts are embedded once.
        let mut unique: Vec<&str> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let slots: Vec<usize> = texts
            .iter()
            .map(|t| {
                *slot_of.entry(t.as_str()).or_insert_with(|| {
                    unique.push(t.as_str());
                    unique.len() - 1
                })
            })
            .collect();
        let keys: Vec<[u8; 32]> = unique.par_iter().map(|t| Cache::key(t)).collect();
        let mut vectors = vec![0f32; unique.len() * dim];
        let mut todo = Vec::new();
        for (u, key) in keys.iter().enumerate() {
            match self.cache.as_ref().and_then(|c| c.get(key)) {
                Some(v) => vectors[u * dim..(u + 1) * dim].copy_from_slice(v),
                None => todo.push(u),
            }
        }
        if !todo.is_empty() {
            self.start_sessions()?;
        }
        // Sort the remaining texts by token count so batches pad little.
        let (tokenizer, max) = (&self.tokenizer, self.info.max_tokens);
        let lengths: Vec<usize> = todo.par_iter().map(|&u| token_count(tokenizer, unique[u], max)).collect();
        // Order by (length, text) so that batch composition, and with it every
        // floating-point result, depends only on the set of texts.
        let mut order: Vec<usize> = (0..todo.len()).collect();
        order.sort_by(|&i, &j| (lengths[i], unique[todo[i]]).cmp(&(lengths[j], unique[todo[j]])));
        let batches: Vec<&[usize]> = order.chunks(self.batch_size).collect();
        let total_tokens: u64 = lengths.iter().map(|&l| l as u64).sum();
        let bar = progress_bar(self.progress && !todo.is_empty(), total_tokens, what);
        bar.set_message(format!(
            "{} texts ({} cached, {} duplicates)",
            todo.len(),
            unique.len() - todo.len(),
            texts.len() - unique.len()
        ));
        let started = Instant::now();
        // Each session takes the next batch from a shared counter; results
        // come back here, where they are stored, cached and counted.
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel::<Result<(usize, Vec<Vec<f32>>), EmbedError>>();
        let cache = &mut self.cache;
        let run = std::thread::scope(|scope| -> Result<(), EmbedError> {
            for session in self.sessions.iter_mut() {
                let (tx, next, batches, unique, todo) = (tx.clone(), &next, &batches, &unique, &todo);
                scope.spawn(move || loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    let Some(batch) = batches.get(b) else { break };
                    let inputs: Vec<&str> = batch.iter().map(|&i| unique[todo[i]]).collect();
                    let out = session
                        .embed(&inputs, Some(inputs.len()))
                        .map(|v| (b, v))
                        .map_err(|source| EmbedError::Run { source });
                    let failed = out.is_err();
                    if tx.send(out).is_err() || failed {
                        break;
                    }
                });
            }
            drop(tx);
            for message in rx {
                let (b, out) = message?;
                let chunk = batches[b];
                let mut fresh = Vec::with_capacity(chunk.len());
                let longest = chunk.iter().map(|&i| lengths[i]).max().unwrap_or(0);
                self.stats.slots += (longest * chunk.len()) as u64;
                for (&i, v) in chunk.iter().zip(&out) {
                    let u = todo[i];
                    vectors[u * dim..(u + 1) * dim].copy_from_slice(v);
                    fresh.push((keys[u], v.as_slice()));
                    bar.inc(lengths[i] as u64);
                }
                if let Some(cache) = cache.as_mut() {
                    cache.put_batch(&fresh)?;
                }
            }
            Ok(())
        });
        bar.finish_and_clear();
        run?;
        self.stats.texts += todo.len();
        self.stats.tokens += total_tokens;
        self.stats.cached += unique.len() - todo.len();
        self.stats.seconds += started.elapsed().as_secs_f64();
        let mut result = vec![0f32; texts.len() * dim];
        for (row, &u) in slots.iter().enumerate() {
            result[row * dim..(row + 1) * dim].copy_from_slice(&vectors[u * dim..(u + 1) * dim]);
        }
        Ok(result)
    }
}

fn token_count(tokenizer: &tokenizers::Tokenizer, text: &str, max: usize) -> usize {
    tokenizer.encode(text, true).map_or(text.len() / 4, |e| e.len()).min(max)
}

/// A token-throughput progress bar on stderr (hidden when not wanted).
fn progress_bar(show: bool, total: u64, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(&format!(
        "embedding {what:<10} [{{bar:30}}] {{percent:>3}}% {{per_sec}} tok, eta {{eta}}  {{msg}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedder(batch_size: usize) -> Embedder {
        embedder_with(batch_size, 1, None).expect("the model is provisioned by scripts/setup.sh")
    }

    fn embedder_with(
        batch_size: usize,
        sessions: usize,
        max_tokens: Option<usize>,
    ) -> Result<Embedder, EmbedError> {
        Embedder::open(&EmbedConfig {
            model_dir: default_model_dir(false),
            threads: 2,
            sessions,
            batch_size,
            max_tokens,
            device: Device::Cpu,
            use_cache: false,
            progress: false,
        })
    }

    fn sentences() -> Vec<String> {
        (0..23)
            .map(|i| format!("sentence {i} {}", "about preference data and answers ".repeat(i % 7)))
            .collect()
    }

    #[test]
    fn sessions_share_the_work_without_changing_vectors() {
        let texts = sentences();
        let mut one = embedder_with(4, 1, None).unwrap();
        let mut two = embedder_with(4, 2, None).unwrap();
        let (a, b) = (one.embed(&texts, "t").unwrap(), two.embed(&texts, "t").unwrap());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
        assert_eq!(one.stats().tokens, two.stats().tokens);
        assert_eq!(two.stats().texts, 23);
    }

    #[test]
    fn stats_count_tokens_and_padding() {
        let texts = sentences();
        let mut single = embedder_with(1, 1, None).unwrap();
        single.embed(&texts, "t").unwrap();
        let s = single.stats();
        assert_eq!(s.slots, s.tokens, "batches of one text have no padding");
        let want: u64 = texts.iter().map(|t| single.token_count(t) as u64).sum();
        assert_eq!(s.tokens, want);
        let mut batched = embedder_with(8, 1, None).unwrap();
        batched.embed(&texts, "t").unwrap();
        let b = batched.stats();
        assert_eq!(b.tokens, s.tokens);
        assert!(b.slots > b.tokens && b.padding_waste() < 0.5, "{b:?}");
        // A second call with the same texts embeds them again (no cache here).
        batched.embed(&texts[..3], "t").unwrap();
        assert_eq!(batched.stats().texts, 26);
    }

    #[test]
    fn max_tokens_truncates_and_is_range_checked() {
        let mut short = embedder_with(8, 1, Some(16)).unwrap();
        assert_eq!(short.info().max_tokens, 16);
        let long = "word ".repeat(100);
        let fitted = short.fit(std::slice::from_ref(&long));
        assert_eq!(short.token_count(&fitted), 16, "fit leaves room for the two special tokens");
        short.embed(&[fitted], "t").unwrap();
        for bad in [4, 4096] {
            let err = embedder_with(8, 1, Some(bad)).err().expect("out of range");
            assert!(err.to_string().contains(&format!("--max-tokens {bad} is outside 8..=512")), "{err}");
        }
    }

    /// Reference values from the same ONNX graph run by Python onnxruntime
    /// with the Hugging Face tokenizer (they also match sentence-transformers'
    /// published all-MiniLM-L6-v2 output for the first sentence).
    #[test]
    fn golden_embeddings() {
        let mut e = embedder(8);
        assert_eq!(e.info().dim, 384);
        let texts = vec!["This is an example sentence".to_string(), "Each sentence is converted".to_string()];
        let v = e.embed(&texts, "golden").unwrap();
        let golden: [(&[f32], &[f32]); 2] = [
            (&[0.067657, 0.063496, 0.048713, 0.079305, 0.037448, 0.002653], &[0.038071, 0.059965, -0.042229]),
            (
                &[0.086439, 0.102763, 0.005395, 0.002044, -0.009963, 0.025386],
                &[0.070285, 0.074931, -0.084178],
            ),
        ];
        for (row, (head, tail)) in golden.iter().enumerate() {
            let got = &v[row * 384..(row + 1) * 384];
            for (g, w) in got.iter().zip(head.iter()) {
                assert!((g - w).abs() < 2e-4, "row {row}: {g} vs {w}");
            }
            for (g, w) in got[381..].iter().zip(tail.iter()) {
                assert!((g - w).abs() < 2e-4, "row {row}: {g} vs {w}");
            }
            let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn batching_and_duplicates_do_not_change_vectors() {
        let texts: Vec<String> =
            ["short", "a somewhat longer sentence about cats", "short", "mid length text"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let one = embedder(1).embed(&texts, "t").unwrap();
        let many = embedder(16).embed(&texts, "t").unwrap();
        for (a, b) in one.iter().zip(&many) {
            assert!((a - b).abs() < 1e-5);
        }
        assert_eq!(&one[..384], &one[2 * 384..3 * 384], "duplicates share one vector");
    }

    #[test]
    fn missing_model_folder_points_to_setup() {
        let err = model_info(Path::new("/nonexistent/model")).unwrap_err();
        assert!(err.to_string().contains("scripts/setup.sh"), "{err}");
    }
}
