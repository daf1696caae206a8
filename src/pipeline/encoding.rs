//! Where a command's battle vectors come from: a model knnpref runs (found
//! from the user's choice, or from the folder an index's manifest records),
//! or a vectors file computed elsewhere. Every command that embeds goes
//! through [`Encoding`], so the checks against an index are made once.

use std::path::{Path, PathBuf};

use super::error::PipelineError;
use crate::data::Battle;
use crate::embed::{
    default_model_dir, knnpref_home, static_model_dir, CheckedEmbed, Device, EmbedStats, Embedder,
    ModelChoice, ModelInfo,
};
use crate::features::EncodedBattles;
use crate::index::{IndexError, IndexFolder, Manifest, ModelFolder, VectorSource};
use crate::progress::Progress;
use crate::vectors::BattleVectors;

/// A command's source of vectors.
pub(crate) enum Encoding {
    /// A model, and where it was loaded from.
    Model { embedder: Box<Embedder>, folder: ModelFolder },
    /// Vectors read from a file or folder.
    Vectors(BattleVectors),
}

impl Encoding {
    /// The vectors `embed` names, for a new index or an evaluation.
    pub(crate) fn open(embed: &CheckedEmbed, progress: &Progress) -> Result<Encoding, PipelineError> {
        match &embed.model {
            ModelChoice::Vectors(path) => Ok(Encoding::Vectors(BattleVectors::read(path)?)),
            _ => Self::open_model(&model_dir(embed), embed, progress),
        }
    }

    fn open_model(dir: &Path, embed: &CheckedEmbed, progress: &Progress) -> Result<Encoding, PipelineError> {
        let embedder = Box::new(Embedder::open(dir, embed, progress)?);
        Ok(Encoding::Model { embedder, folder: model_folder(dir) })
    }

    /// The vectors for battles scored by the index `dir` (whose manifest is
    /// `manifest`): its own model, found again from the folder it recorded
    /// unless `embed` names one, or vectors of its producer. Anything else
    /// is refused, naming what the index was built with.
    pub(crate) fn for_index(
        manifest: &Manifest,
        dir: &Path,
        embed: &CheckedEmbed,
        progress: &Progress,
    ) -> Result<Encoding, PipelineError> {
        if let ModelChoice::Vectors(path) = &embed.model {
            let vectors = BattleVectors::read(path)?;
            IndexFolder::check_vectors(manifest, dir, &vectors.producer, vectors.dim)?;
            return Ok(Encoding::Vectors(vectors));
        }
        let (built, folder) = match &manifest.source {
            VectorSource::Model { model, folder } => (model, folder),
            VectorSource::Vectors { producer, .. } => {
                return Err(
                    IndexError::NeedsVectors { dir: dir.to_owned(), producer: producer.clone() }.into()
                )
            }
        };
        if let Some(given) = embed.max_tokens.filter(|&t| t != built.max_tokens) {
            return Err(PipelineError::MaxTokensMismatch {
                dir: dir.to_owned(),
                built: built.max_tokens,
                given,
            });
        }
        let model = match &embed.model {
            ModelChoice::Default => recorded_dir(folder, built, dir)?,
            _ => model_dir(embed),
        };
        let encoding = Self::open_model(&model, &embed.with_max_tokens(Some(built.max_tokens)), progress)?;
        encoding.check(manifest, dir)?;
        Ok(encoding)
    }

    /// Refuse an index built from other vectors than these.
    pub(crate) fn check(&self, manifest: &Manifest, dir: &Path) -> Result<(), PipelineError> {
        match self {
            Encoding::Model { embedder, .. } => IndexFolder::check_model(manifest, dir, embedder.info())?,
            Encoding::Vectors(v) => IndexFolder::check_vectors(manifest, dir, &v.producer, v.dim)?,
        }
        Ok(())
    }

    /// Vectors of every battle, row-aligned with `battles`.
    pub(crate) fn encode(&mut self, battles: &[Battle], what: &str) -> Result<EncodedBattles, PipelineError> {
        match self {
            Encoding::Model { embedder, .. } => Ok(EncodedBattles::encode(embedder, battles, what)?),
            Encoding::Vectors(vectors) => {
                let ids: Vec<String> = battles.iter().map(|b| b.id.clone()).collect();
                let [prompt, a, b] = vectors.gather(&ids)?;
                Ok(EncodedBattles::with_vectors(battles, vectors.dim, prompt, a, b))
            }
        }
    }

    /// The model, when knnpref runs one.
    pub(crate) fn embedder(&mut self) -> Option<&mut Embedder> {
        match self {
            Encoding::Model { embedder, .. } => Some(embedder),
            Encoding::Vectors(_) => None,
        }
    }

    /// What embedding has cost (nothing for vectors read from a file).
    pub(crate) fn stats(&self) -> EmbedStats {
        match self {
            Encoding::Model { embedder, .. } => embedder.stats(),
            Encoding::Vectors(_) => EmbedStats::default(),
        }
    }

    /// What the manifest of an index built from these vectors records.
    pub(crate) fn source(&self) -> VectorSource {
        match self {
            Encoding::Model { embedder, folder } => {
                VectorSource::Model { model: embedder.info().clone(), folder: folder.clone() }
            }
            Encoding::Vectors(v) => VectorSource::Vectors { producer: v.producer.clone(), dim: v.dim },
        }
    }
}

/// The model folder the options name (a bare name is a provisioned model).
/// With no choice, the static table on the CPU (as good as the transformer
/// on held-out battles, and about 100x faster; README's encoder table) and
/// the fp32 transformer with `--device cuda` (a static table runs on the
/// CPU only, and a GPU makes the transformer cheap).
pub(crate) fn model_dir(embed: &CheckedEmbed) -> PathBuf {
    match &embed.model {
        ModelChoice::Default if embed.device == Device::Cuda => default_model_dir(false),
        ModelChoice::Default => static_model_dir(),
        ModelChoice::Folder(dir) if dir.components().count() == 1 && !dir.exists() => {
            knnpref_home().join("models").join(dir)
        }
        ModelChoice::Folder(dir) => dir.clone(),
        ModelChoice::Transformer | ModelChoice::Vectors(_) => default_model_dir(false),
        ModelChoice::Quantized => default_model_dir(true),
        ModelChoice::Static => static_model_dir(),
    }
}

/// Where `dir` was loaded from, as a manifest records it: absolute, and by
/// name when it is a provisioned model.
fn model_folder(dir: &Path) -> ModelFolder {
    let path =
        std::fs::canonicalize(dir).unwrap_or_else(|_| std::path::absolute(dir).unwrap_or(dir.to_owned()));
    let models = std::fs::canonicalize(knnpref_home().join("models")).ok();
    let provisioned = models
        .and_then(|m| path.strip_prefix(m).ok().map(Path::to_owned))
        .filter(|rest| rest.components().count() == 1)
        .map(|rest| rest.to_string_lossy().into_owned());
    ModelFolder { path, provisioned }
}

/// The folder of an index's model: where it was loaded from, else (an index
/// moved to a machine with another `KNNPREF_HOME`) the provisioned model of
/// that name; else an error naming the model and what to pass.
pub(crate) fn recorded_dir(
    folder: &ModelFolder,
    built: &ModelInfo,
    index: &Path,
) -> Result<PathBuf, PipelineError> {
    if folder.path.is_dir() {
        return Ok(folder.path.clone());
    }
    if let Some(name) = &folder.provisioned {
        let here = knnpref_home().join("models").join(name);
        if here.is_dir() {
            return Ok(here);
        }
    }
    Err(PipelineError::ModelGone {
        index: index.to_owned(),
        folder: folder.path.clone(),
        kind: built.kind.name(),
        id: built.id.clone(),
        sha256: built.sha256.clone(),
    })
}
