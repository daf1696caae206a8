//! Opening an embedder: model files, token budget, runtime check, cache;
//! and starting ONNX Runtime sessions on first need.

use fastembed::{InitOptionsUserDefined, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};

use std::path::Path;

use super::graph::Graph;
use super::model_files::{
    check_folder, check_tokenizer_configs, files_identity_of, hidden_size, model_id, position_limit, read,
    read_transformer_files, MEAN_POOLING,
};
use super::options::MIN_TOKENS;
use super::pooling::Pooling;
use super::run::{run_batch, PoolPlan};
use super::runtime::{environment_for, runtime_library_for};
use super::st_folder;
use super::static_model::StaticModel;
use super::{
    cache_dir, environment, Cache, CheckedEmbed, Device, EmbedError, EmbedStats, Embedder, Encoder,
    ModelInfo, ModelKind, SessionPlan, Transformer, STATIC_MAX_TOKENS,
};
use crate::progress::Progress;

/// Tokens per text of a transformer whose folder sets no `max_seq_length`.
const DEFAULT_MAX_TOKENS: usize = 256;

/// The most tokens a static model may be asked to pool per text.
const STATIC_TOKEN_LIMIT: usize = 1 << 16;

impl Embedder {
    /// Open the model in `dir`: its tokenizer and identity (every file that
    /// shapes a vector hashed once, here), the runtime checked and the cache
    /// opened for a transformer; ONNX Runtime sessions start only when
    /// something must be embedded. Notes (the `--device auto` fallback) go
    /// to `progress`.
    pub fn open(dir: &Path, opts: &CheckedEmbed, progress: &Progress) -> Result<Embedder, EmbedError> {
        check_folder(dir)?;
        if ModelKind::of(dir) == ModelKind::Static {
            if opts.device == Device::Cuda {
                return Err(EmbedError::StaticOnCuda { dir: dir.to_owned() });
            }
            return Self::open_static(dir, opts, progress);
        }
        let folder = st_folder::read(dir)?;
        let prompt = folder.prompt(opts.prompt_name.as_deref())?.map(str::to_string);
        let default_settings = folder.pooling == Pooling::Mean && prompt.is_none() && !folder.do_lower_case;
        let settings = match default_settings {
            true => MEAN_POOLING.to_vec(),
            false => folder.identity_bytes(prompt.as_deref()),
        };
        let files = read_transformer_files(dir)?;
        // The graph is checked now, not when the first batch fails.
        let graph_dim = check_graph(dir, &files[0])?;
        check_tokenizer_configs(dir, &files)?;
        let sha256 = files_identity_of(&files, &settings);
        let [_, tok_bytes, config_file, special_tokens_map_file, tokenizer_config_file] =
            <[Vec<u8>; 5]>::try_from(files).expect("one entry per transformer file");
        let files = TokenizerFiles {
            tokenizer_file: tok_bytes.clone(),
            config_file,
            special_tokens_map_file,
            tokenizer_config_file,
        };
        let limit = position_limit(dir);
        let max_tokens = match opts.max_tokens {
            Some(given) if !(MIN_TOKENS..=limit).contains(&given) => {
                return Err(EmbedError::MaxTokens { given, limit, dir: dir.to_owned() })
            }
            Some(given) => given,
            None => folder.max_seq_length.unwrap_or(DEFAULT_MAX_TOKENS).min(limit),
        };
        // Load the runtime now, so that a missing library or provider is
        // reported before any work.
        environment_for(opts.device)?;
        let device = resolve_device(opts.device, progress)?;
        let mut tokenizer = tokenizers::Tokenizer::from_bytes(&tok_bytes)
            .map_err(|source| EmbedError::Tokenizer { path: dir.join("tokenizer.json"), source })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|source| EmbedError::Tokenizer { path: dir.join("tokenizer.json"), source })?;
        let plan = SessionPlan {
            dir: dir.to_owned(),
            files,
            threads: opts.threads,
            cuda: device == Device::Cuda,
            fallback: opts.device == Device::Auto,
            sessions: opts.sessions.min(opts.threads),
        };
        let count = |special: bool| {
            let text = prompt.as_deref().unwrap_or("");
            tokenizer.encode(text, special).map_or(0, |e| e.len())
        };
        // sentence-transformers leaves the prompt out of the pooling by
        // masking its tokens after [CLS], [CLS] included.
        let skip = match (&prompt, folder.include_prompt) {
            (Some(_), false) => count(true).saturating_sub(1),
            _ => 0,
        };
        let prompt_tokens = if prompt.is_some() { count(false) } else { 0 };
        let pool = PoolPlan { pooling: folder.pooling, prompt, skip, lower_case: folder.do_lower_case };
        let mut transformer = Transformer {
            sessions: Vec::new(),
            plan,
            tokenizer,
            cache: None,
            batch_size: opts.batch_size,
            pool,
            prompt_tokens,
        };
        // The width the graph fixes, else config.json's hidden_size, else
        // the graph's answer to a probe; the two must agree when both are given.
        let dim = match (graph_dim, hidden_size(dir)) {
            (Some(output), Some(config)) if output != config => {
                return Err(EmbedError::Dimension { dir: dir.to_owned(), config, output })
            }
            (Some(dim), _) | (None, Some(dim)) => dim,
            (None, None) => transformer.start_sessions(max_tokens, None, progress)?,
        };
        let info = ModelInfo {
            id: model_id(dir),
            sha256,
            dim,
            max_tokens,
            kind: ModelKind::Transformer,
            pooling: folder.pooling,
        };
        if opts.use_cache {
            transformer.cache = Some(Cache::open(&cache_dir(), &info.cache_file(), dim)?);
        }
        let encoder = Encoder::Transformer(Box::new(transformer));
        Ok(Embedder { encoder, info, progress: progress.clone(), stats: EmbedStats::default() })
    }

    /// Open a static model: its table, tokenizer and identity; no runtime,
    /// no sessions, no cache.
    fn open_static(dir: &Path, opts: &CheckedEmbed, progress: &Progress) -> Result<Embedder, EmbedError> {
        let table = StaticModel::load(dir)?;
        let max_tokens = match opts.max_tokens {
            Some(given) if !(MIN_TOKENS..=STATIC_TOKEN_LIMIT).contains(&given) => {
                return Err(EmbedError::MaxTokens { given, limit: STATIC_TOKEN_LIMIT, dir: dir.to_owned() })
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
            pooling: Pooling::Mean,
        };
        let encoder = Encoder::Static(Box::new(table));
        Ok(Embedder { encoder, info, progress: progress.clone(), stats: EmbedStats::default() })
    }
}

impl Transformer {
    /// Create the ONNX Runtime sessions, on first need only: a run whose
    /// texts are all cached never pays for them. Returns the width of the
    /// first session's output, which must equal `dim` when it is known.
    pub(super) fn start_sessions(
        &mut self,
        max_tokens: usize,
        dim: Option<usize>,
        progress: &Progress,
    ) -> Result<usize, EmbedError> {
        let plan = &mut self.plan;
        let onnx = read(&plan.dir, "model.onnx")?;
        let env = environment()?;
        for s in 0..plan.sessions {
            // Share the cores out: 3 threads over 2 sessions gives 2 + 1.
            let threads = (plan.threads + plan.sessions - 1 - s) / plan.sessions;
            let user_model = UserDefinedEmbeddingModel::new(onnx.clone(), plan.files.clone());
            let options = |cuda: bool| {
                let o = InitOptionsUserDefined::new()
                    .with_environment(env.clone())
                    .with_max_length(max_tokens)
                    .with_intra_threads(threads);
                match cuda {
                    true => {
                        o.with_execution_providers(vec![ort::ep::CUDA::default().build().error_on_failure()])
                    }
                    false => o,
                }
            };
            let session =
                match TextEmbedding::try_new_from_user_defined(user_model.clone(), options(plan.cuda)) {
                    Err(source) if plan.cuda && !plan.fallback => {
                        return Err(EmbedError::CudaStart { dir: plan.dir.clone(), source })
                    }
                    Err(source) if plan.cuda => {
                        let why = source.to_string();
                        let why = why.trim_end();
                        progress.note(&format!(
                            "--device auto: the CUDA provider did not start ({why}); embedding on the CPU"
                        ));
                        plan.cuda = false;
                        TextEmbedding::try_new_from_user_defined(user_model, options(false))
                    }
                    other => other,
                }
                .map_err(|source| EmbedError::Session { dir: plan.dir.clone(), source })?;
            self.sessions.push(session);
        }
        let probe = run_batch(&mut self.sessions[0], &["dimension probe"], &self.pool, &self.plan.dir)?;
        let output = probe[0].len();
        match dim {
            Some(config) if config != output => {
                Err(EmbedError::Dimension { dir: self.plan.dir.clone(), config, output })
            }
            _ => Ok(output),
        }
    }
}

/// Check the graph in `onnx` (the bytes of `dir`'s model.onnx) against
/// what knnpref feeds and reads; returns its vector width when it fixes one.
fn check_graph(dir: &Path, onnx: &[u8]) -> Result<Option<usize>, EmbedError> {
    let graph =
        Graph::parse(onnx).map_err(|why| EmbedError::NotOnnx { path: dir.join("model.onnx"), why: why.0 })?;
    match graph.check() {
        Ok(dim) => Ok(dim),
        Err(problem) => Err(EmbedError::Graph {
            dir: dir.to_owned(),
            problem,
            inputs: graph.inputs_text(),
            outputs: graph.outputs_text(),
        }),
    }
}

/// What to tell a user whose runtime lacks the CUDA provider.
const GPU_HINT: &str = "run scripts/setup.sh --gpu (the GPU build of ONNX Runtime and its CUDA 13 libraries), or use --device cpu";

/// The device sessions will use. `Cuda` needs the loaded runtime to offer
/// the CUDA provider; `Auto` takes it when offered, else the CPU, with a
/// note to `progress`.
fn resolve_device(asked: Device, progress: &Progress) -> Result<Device, EmbedError> {
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
            progress.note(&format!(
                "--device auto: the ONNX Runtime at {} has no CUDA execution provider; embedding on the CPU",
                runtime_library_for(Device::Auto).display()
            ));
            Ok(Device::Cpu)
        }
    }
}
