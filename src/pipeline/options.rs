//! What every command shares: which model folder a [`ModelChoice`] names
//! (possibly the one an index was built with), opening an index with the
//! embedder it was built with, and a spinner for stages without a count.

use std::path::{Path, PathBuf};

use super::error::PipelineError;
use crate::data::{Dataset, Label};
use crate::embed::{
    default_model_dir, knnpref_home, static_model_dir, CheckedEmbed, Embedder, ModelChoice, ModelInfo,
};
use crate::index::IndexFolder;
use crate::progress::{Progress, Stage};

/// The model folder `choice` names; `built` is the model of the index in
/// use, if any, which an unspecified choice follows.
pub(crate) fn model_dir(choice: &ModelChoice, built: Option<&ModelInfo>) -> PathBuf {
    let provisioned = |name: &str| knnpref_home().join("models").join(name);
    match (choice, built) {
        (ModelChoice::Folder(dir), _) if dir.components().count() == 1 && !dir.exists() => {
            provisioned(&dir.to_string_lossy())
        }
        (ModelChoice::Folder(dir), _) => dir.clone(),
        (ModelChoice::Default, Some(built)) => provisioned(&built.id),
        (ModelChoice::Default | ModelChoice::Transformer, _) => default_model_dir(false),
        (ModelChoice::Quantized, _) => default_model_dir(true),
        (ModelChoice::Static, _) => static_model_dir(),
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

/// Open the index and an embedder of the model it was built with, refusing
/// a different model or token budget. The model's files are hashed once,
/// by the embedder, and checked against the manifest read once here.
pub(crate) fn open_index(
    dir: &Path,
    embed: &CheckedEmbed,
    progress: &Progress,
) -> Result<(IndexFolder, Embedder), PipelineError> {
    let manifest = IndexFolder::read_manifest(dir)?;
    let built = &manifest.model;
    if let Some(given) = embed.max_tokens.filter(|&t| t != built.max_tokens) {
        return Err(PipelineError::MaxTokensMismatch { dir: dir.to_owned(), built: built.max_tokens, given });
    }
    let model = model_dir(&embed.model, Some(built));
    let embedder = Embedder::open(&model, &embed.with_max_tokens(Some(built.max_tokens)), progress)?;
    IndexFolder::check_model(&manifest, dir, embedder.info())?;
    let folder = IndexFolder::load_with(dir, manifest)?;
    // A save may have replaced the index since its manifest was first read.
    IndexFolder::check_model(&folder.manifest, dir, embedder.info())?;
    Ok((folder, embedder))
}

/// Labels of a dataset, or an error naming the file.
pub(crate) fn require_labels(data: &Dataset) -> Result<Vec<Label>, PipelineError> {
    data.labels().ok_or_else(|| PipelineError::Unlabelled { path: data.path.clone() })
}
