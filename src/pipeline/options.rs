//! What every command shares: how to embed (turned into an embedder config,
//! possibly from an index's manifest), opening an index with the embedder it
//! was built with, and a spinner for stages without a count.

use std::path::{Path, PathBuf};

use super::error::PipelineError;
use crate::data::{Dataset, Label};
use crate::embed::{
    default_model_dir, knnpref_home, model_info, static_model_dir, Device, EmbedConfig, ModelInfo,
};
use crate::index::IndexFolder;
use crate::progress::{Progress, Stage};

/// How to embed, shared by every command.
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// `None`: the model the index was built with, or the default model.
    pub model_dir: Option<PathBuf>,
    /// Use the int8 model (when no folder is given).
    pub quantized: bool,
    /// Use the provisioned static model (when no folder is given).
    pub static_model: bool,
    /// Cores for ONNX Runtime.
    pub threads: usize,
    /// ONNX Runtime sessions side by side.
    pub sessions: usize,
    /// Texts per inference batch.
    pub batch_size: usize,
    /// `None`: the model's default, or what the index was built with.
    pub max_tokens: Option<usize>,
    /// Execution provider.
    pub device: Device,
    /// Read and write the embedding cache.
    pub use_cache: bool,
    /// Where progress goes, and the call's cancel token (embedding and
    /// fitting stop at their next check once it is cancelled).
    pub progress: Progress,
}

impl EmbedOptions {
    /// The embedder config; `built` is the model of the index in use, if any.
    pub(crate) fn config(&self, built: Option<&ModelInfo>) -> EmbedConfig {
        let model_dir = match (&self.model_dir, built) {
            (Some(d), _) => d.clone(),
            // An explicit --quantized wins, so a mismatch with the index is reported.
            (None, Some(built)) if !self.quantized && !self.static_model => {
                knnpref_home().join("models").join(&built.id)
            }
            (None, _) if self.static_model => static_model_dir(),
            (None, _) => default_model_dir(self.quantized),
        };
        EmbedConfig {
            model_dir,
            threads: self.threads,
            sessions: self.sessions,
            batch_size: self.batch_size,
            max_tokens: self.max_tokens.or(built.map(|built| built.max_tokens)),
            device: self.device,
            use_cache: self.use_cache,
            progress: self.progress.clone(),
        }
    }
}

/// Stage `name` without a natural count; on the terminal, a spinner that
/// says `what`.
pub(crate) fn stage_spinner(progress: &Progress, name: &str, what: &str) -> Stage {
    progress.stage(name, None, || {
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    })
}

/// Open the index and the embedder config it was built with, refusing a
/// different model or token budget.
pub(crate) fn open_index(
    dir: &Path,
    embed: &EmbedOptions,
) -> Result<(IndexFolder, EmbedConfig), PipelineError> {
    let manifest = IndexFolder::read_manifest(dir)?;
    let cfg = embed.config(Some(&manifest.model));
    let given = model_info(&cfg.model_dir)?;
    IndexFolder::check_model(&manifest, dir, &given)?;
    if let Some(given) = embed.max_tokens.filter(|&t| t != manifest.model.max_tokens) {
        return Err(PipelineError::MaxTokensMismatch {
            dir: dir.to_owned(),
            built: manifest.model.max_tokens,
            given,
        });
    }
    let folder = IndexFolder::load(dir)?;
    // A save may have replaced the index since its manifest was first read.
    if folder.manifest != manifest {
        IndexFolder::check_model(&folder.manifest, dir, &given)?;
    }
    Ok((folder, cfg))
}

/// Labels of a dataset, or an error naming the file.
pub(crate) fn require_labels(data: &Dataset) -> Result<Vec<Label>, PipelineError> {
    data.labels().ok_or_else(|| PipelineError::Unlabelled { path: data.path.clone() })
}
