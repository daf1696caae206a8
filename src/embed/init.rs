//! Opening an embedder: model files, token budget, runtime check, cache;
//! and starting ONNX Runtime sessions on first need.

use fastembed::{InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};

use super::model_files::{hidden_size, max_tokens, model_id, position_limit, read, transformer_identity};
use super::runtime::{environment_for, runtime_library_for};
use super::static_model::StaticModel;
use super::{
    cache_dir, environment, Cache, Device, EmbedConfig, EmbedError, EmbedStats, Embedder, ModelInfo,
    ModelKind, SessionPlan, STATIC_MAX_TOKENS,
};

/// The most tokens a static model may be asked to pool per text.
const STATIC_TOKEN_LIMIT: usize = 1 << 16;

impl Embedder {
    /// Load a model's tokenizer and identity, check the runtime, and open the
    /// cache; ONNX Runtime sessions start only when something must be embedded.
    pub fn open(cfg: &EmbedConfig) -> Result<Embedder, EmbedError> {
        let dir = &cfg.model_dir;
        if ModelKind::of(dir) == ModelKind::Static {
            if cfg.device == Device::Cuda {
                return Err(EmbedError::StaticOnCuda { dir: dir.clone() });
            }
            return Self::open_static(cfg);
        }
        let sha256 = transformer_identity(dir)?;
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
        // Load the runtime now, so that a missing library or provider is
        // reported before any work.
        environment_for(cfg.device)?;
        let device = resolve_device(cfg.device, cfg.progress.is_shown())?;
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
                cuda: device == Device::Cuda,
                fallback: cfg.device == Device::Auto,
                notes: cfg.progress.is_shown(),
                sessions: cfg.sessions.clamp(1, cfg.threads.max(1)),
            }),
            table: None,
            tokenizer,
            info,
            cache: None,
            batch_size: cfg.batch_size.max(1),
            progress: cfg.progress.clone(),
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
        let Some(plan) = self.plan.as_mut().filter(|_| self.sessions.is_empty()) else {
            return Ok(());
        };
        let onnx = read(&plan.dir, "model.onnx")?;
        let env = environment()?;
        for s in 0..plan.sessions {
            // Share the cores out: 3 threads over 2 sessions gives 2 + 1.
            let threads = (plan.threads + plan.sessions - 1 - s) / plan.sessions;
            let user_model =
                UserDefinedEmbeddingModel::new(onnx.clone(), plan.files.clone()).with_pooling(Pooling::Mean);
            let options = |cuda: bool| {
                let o = InitOptionsUserDefined::new()
                    .with_environment(env.clone())
                    .with_max_length(self.info.max_tokens)
                    .with_intra_threads(threads);
                match cuda {
                    true => {
                        o.with_execution_providers(vec![ort::ep::CUDA::default().build().error_on_failure()])
                    }
                    false => o,
                }
            };
            let session = match TextEmbedding::try_new_from_user_defined(user_model.clone(), options(plan.cuda)) {
                Err(source) if plan.cuda && !plan.fallback => {
                    return Err(EmbedError::CudaStart { dir: plan.dir.clone(), source })
                }
                Err(source) if plan.cuda => {
                    if plan.notes {
                        let why = source.to_string();
                        let why = why.trim_end();
                        eprintln!("note: --device auto: the CUDA provider did not start ({why}); embedding on the CPU");
                    }
                    plan.cuda = false;
                    TextEmbedding::try_new_from_user_defined(user_model, options(false))
                }
                other => other,
            }
            .map_err(|source| EmbedError::Session { dir: plan.dir.clone(), source })?;
            self.sessions.push(session);
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
            progress: cfg.progress.clone(),
            stats: EmbedStats::default(),
        })
    }
}

/// What to tell a user whose runtime lacks the CUDA provider.
const GPU_HINT: &str = "run scripts/setup.sh --gpu (the GPU build of ONNX Runtime and its CUDA 13 libraries), or use --device cpu";

/// The device sessions will use. `Cuda` needs the loaded runtime to offer
/// the CUDA provider; `Auto` takes it when offered, else the CPU, saying so
/// on stderr unless `notes` is off.
fn resolve_device(asked: Device, notes: bool) -> Result<Device, EmbedError> {
    use ort::ep::ExecutionProvider;
    if asked == Device::Cpu {
        return Ok(Device::Cpu);
    }
    // An error asking the runtime counts as "not offered".
    let offered = ort::ep::CUDA::is_available().unwrap_or(false);
    match (asked, offered) {
        (_, true) => Ok(Device::Cuda),
        (Device::Cuda, false) => Err(EmbedError::DeviceUnavailable {
            device: "cuda",
            provider: "CUDA execution provider",
            runtime: runtime_library_for(Device::Cuda),
            hint: GPU_HINT,
        }),
        _ => {
            if notes {
                eprintln!(
                    "note: --device auto: the ONNX Runtime at {} has no CUDA execution provider; embedding on the CPU",
                    runtime_library_for(Device::Auto).display()
                );
            }
            Ok(Device::Cpu)
        }
    }
}
