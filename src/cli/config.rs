//! From parsed arguments to the library's configs: every check that clap
//! cannot express happens here, once, before any work.

use std::path::Path;

use knnpref::embed::{CheckedEmbed, EmbedOptions, ModelChoice};
use knnpref::features::{FeatureSet, KnnParams};
use knnpref::model::{CheckedParams, ModelParams};
use knnpref::pipeline::{
    Base, Destination, ErrorsConfig, EvaluateConfig, Existing, IndexConfig, PipelineError, PredictConfig,
    Query, SimilarConfig,
};
use knnpref::progress::Progress;
use knnpref::search::HnswParams;

use knnpref::synth::SynthParams;

use super::{
    EmbedArgs, ErrorsArgs, EvaluateArgs, FitArgs, IndexArgs, PredictArgs, SimilarArgs, SynthArgs, WordGroup,
};

/// An argument combination that parses but makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("invalid argument {flag}: {why}")]
pub struct ArgError {
    pub flag: &'static str,
    pub why: String,
}

pub(super) fn arg_err(flag: &'static str, why: impl Into<String>) -> ArgError {
    ArgError { flag, why: why.into() }
}

impl EmbedArgs {
    /// The library's embedding options, checked by the library.
    pub fn options(&self) -> Result<CheckedEmbed, PipelineError> {
        let model = ModelChoice::from_flags(self.flags())?;
        let options = EmbedOptions {
            model,
            threads: self.threads.unwrap_or_else(default_threads),
            sessions: self.sessions,
            batch_size: self.batch_size,
            max_tokens: self.max_tokens,
            device: self.device.into(),
            use_cache: !self.no_cache,
            prompt_name: self.prompt_name.clone(),
        };
        Ok(options.check()?)
    }
}

/// The CLI's progress: indicatif bars and notes on stderr, or nothing.
pub(super) fn progress(quiet: bool) -> Progress {
    if quiet {
        Progress::hidden()
    } else {
        Progress::terminal()
    }
}

/// Every core the process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl FitArgs {
    /// The library's fit parameters, checked by the library.
    fn params(&self, folds: usize) -> Result<CheckedParams, PipelineError> {
        let base = if self.no_knn { FeatureSet::NO_KNN } else { FeatureSet::FULL };
        let features = FeatureSet {
            repeat: self.words.contains(&WordGroup::Repeat),
            uniq: self.words.contains(&WordGroup::Uniq),
            overlap: self.words.contains(&WordGroup::Overlap),
            ..base
        };
        let params = ModelParams {
            features,
            knn: KnnParams { k: self.neighbours, ..KnnParams::default() },
            folds,
            seed: self.seed,
            search: self.search.into(),
            hnsw: HnswParams::default(),
            head: self.head.into(),
            ..ModelParams::default()
        };
        Ok(params.check()?)
    }
}

pub(super) fn existing_file(flag: &'static str, path: &Path) -> Result<(), ArgError> {
    if !path.is_file() {
        return Err(arg_err(flag, format!("{} is not a file", path.display())));
    }
    Ok(())
}

impl IndexArgs {
    pub fn config(&self, quiet: bool) -> anyhow::Result<IndexConfig> {
        existing_file("--train", &self.train)?;
        Ok(IndexConfig {
            train: self.train.clone(),
            out: self.out.clone(),
            embed: self.embed.options()?,
            params: self.fit.params(self.folds)?,
            base: self.base.as_ref().map(|dir| Base {
                dir: dir.clone(),
                existing: if self.skip_existing { Existing::Skip } else { Existing::Refuse },
            }),
            progress: progress(quiet),
        })
    }
}

impl PredictArgs {
    pub fn config(&self, quiet: bool) -> anyhow::Result<PredictConfig> {
        existing_file("--test", &self.test)?;
        Ok(PredictConfig {
            index: self.index.clone(),
            test: self.test.clone(),
            out: Some(Destination::from_arg(&self.out)),
            embed: self.embed.options()?,
            progress: progress(quiet),
        })
    }
}

impl SimilarArgs {
    pub fn config(&self) -> anyhow::Result<SimilarConfig> {
        let query = match (&self.id, &self.text) {
            (Some(id), _) => Query::Id(id.clone()),
            (None, Some(text)) => Query::Text(text.clone()),
            (None, None) => return Err(arg_err("--id/--text", "give one of them").into()),
        };
        Ok(SimilarConfig {
            index: self.index.clone(),
            query,
            show: self.show,
            embed: self.embed.options()?,
            progress: Progress::hidden(),
        })
    }
}

impl EvaluateArgs {
    pub fn config(&self, quiet: bool) -> anyhow::Result<EvaluateConfig> {
        existing_file("--train", &self.train)?;
        Ok(EvaluateConfig {
            train: self.train.clone(),
            folds: self.folds,
            repeats: self.repeats,
            oof: self.oof.clone(),
            report: self.report.clone(),
            embed: self.embed.options()?,
            params: self.fit.params(self.folds)?,
            learning_curve: self.learning_curve,
            progress: progress(quiet),
        })
    }
}

impl ErrorsArgs {
    pub fn config(&self) -> Result<ErrorsConfig, ArgError> {
        existing_file("--oof", &self.oof)?;
        if let Some(train) = &self.train {
            existing_file("--train", train)?;
        }
        Ok(ErrorsConfig {
            index: self.index.clone(),
            oof: self.oof.clone(),
            train: self.train.clone(),
            by: self.by.into(),
            show: self.show,
            neighbours: self.neighbours,
        })
    }
}

impl SynthArgs {
    pub fn params(&self) -> Result<SynthParams, ArgError> {
        if !(0.0..=1.0).contains(&self.multi_turn) {
            return Err(arg_err("--multi-turn", "must be between 0 and 1"));
        }
        Ok(SynthParams { rows: self.rows, seed: self.seed, multi_turn: self.multi_turn })
    }
}
