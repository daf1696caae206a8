//! Opening an embedder: model files, token budget, runtime check, cache;
//! and starting ONNX Runtime sessions on first need.

use fastembed::{InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};

use super::model_files::{hidden_size, max_tokens, model_id, position_limit, read};
use super::static_model::StaticModel;
use super::{
    cache_dir, environment, Cache, Device, EmbedConfig, EmbedError, EmbedStats, Embedder, ModelInfo,
    ModelKind, SessionPlan, STATIC_MAX_TOKENS,
};
use crate::fsio::sha256_hex;

/// The most tokens a static model may be asked to pool per text.
const STATIC_TOKEN_LIMIT: usize = 1 << 16;

impl Embedder {
    /// Load a model's tokenizer and identity, check the runtime, and open the
    /// cache; ONNX Runtime sessions start only when something must be embedded.
    pub fn open(cfg: &EmbedConfig) -> Result<Embedder, EmbedError> {
        let dir = &cfg.model_dir;
        if cfg.device == Device::Cuda {
            return Err(EmbedError::DeviceUnavailable("cuda"));
        }
        if ModelKind::of(dir) == ModelKind::Static {
            return Self::open_static(cfg);
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
        let info = ModelInfo {
            id: model_id(dir),
            sha256,
            dim: hidden_size(dir),
            max_tokens,
            kind: ModelKind::Transformer,
        };
        let mut embedder = Embedder {
            sessions: Vec::new(),
            plan: Some(SessionPlan {
                dir: dir.clone(),
                files,
                threads: cfg.threads.max(1),
                sessions: cfg.sessions.clamp(1, cfg.threads.max(1)),
            }),
            table: None,
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
            let (name, dim) = (embedder.info.cache_file(), embedder.info.dim);
            embedder.cache = Some(Cache::open(&cache_dir(), &name, dim)?);
        }
        Ok(embedder)
    }

    /// Create the ONNX Runtime sessions, on first need only: a run whose
    /// texts are all cached never pays for them. The first session's output
    /// width is checked against the dimension the cache and manifest use.
    pub(super) fn start_sessions(&mut self) -> Result<(), EmbedError> {
        let Some(plan) = self.plan.as_ref().filter(|_| self.sessions.is_empty()) else {
            return Ok(());
        };
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

    /// Open a static model: its table, tokenizer and identity; no runtime,
    /// no sessions, no cache.
    fn open_static(cfg: &EmbedConfig) -> Result<Embedder, EmbedError> {
        let dir = &cfg.model_dir;
        let table = StaticModel::load(dir)?;
        let max_tokens = match cfg.max_tokens {
            Some(given) if !(8..=STATIC_TOKEN_LIMIT).contains(&given) => {
                return Err(EmbedError::MaxTokens { given, limit: STATIC_TOKEN_LIMIT, dir: dir.clone() })
            }
            Some(given) => given,
            None => STATIC_MAX_TOKENS,
        };
        let info = ModelInfo {
            id: model_id(dir),
            sha256: table.sha256().to_string(),
            dim: table.dim(),
            max_tokens,
            kind: ModelKind::Static,
        };
        Ok(Embedder {
            sessions: Vec::new(),
            plan: None,
            tokenizer: table.tokenizer().clone(),
            table: Some(table),
            info,
            cache: None,
            batch_size: cfg.batch_size.max(1),
            progress: cfg.progress,
            stats: EmbedStats::default(),
        })
    }
}
