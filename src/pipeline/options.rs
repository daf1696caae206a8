//! What every command shares: opening an index with the vectors it was
//! built from, labels, and a spinner for stages without a count.

use std::path::Path;

use super::encoding::Encoding;
use super::error::PipelineError;
use crate::data::{Dataset, Label};
use crate::embed::CheckedEmbed;
use crate::index::IndexFolder;
use crate::progress::{Progress, Stage};

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

/// Open the index and the vectors of its battles' source: its model
/// (refusing a different model or token budget) or vectors of its
/// producer. The model's files are hashed once, by the embedder, and
/// checked against the manifest read once here.
pub(crate) fn open_index(
    dir: &Path,
    embed: &CheckedEmbed,
    progress: &Progress,
) -> Result<(IndexFolder, Encoding), PipelineError> {
    let manifest = IndexFolder::read_manifest(dir)?;
    let encoding = Encoding::for_index(&manifest, dir, embed, progress)?;
    let folder = IndexFolder::load_with(dir, manifest)?;
    // A save may have replaced the index since its manifest was first read.
    encoding.check(&folder.manifest, dir)?;
    Ok((folder, encoding))
}

/// Labels of a dataset, or an error naming the file.
pub(crate) fn require_labels(data: &Dataset) -> Result<Vec<Label>, PipelineError> {
    data.labels().ok_or_else(|| PipelineError::Unlabelled { path: data.path.clone() })
}
