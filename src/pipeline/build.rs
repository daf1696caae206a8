//! `knnpref index`: read a labelled file, embed it, fit the model with
//! cross-fitted neighbour features, and save the index folder (after the
//! battles of a base index, with `--base`).

use std::path::PathBuf;

use super::encoding::Encoding;
use super::error::PipelineError;
use super::grow::{drop_existing, open_base, Base};
use super::options::{require_labels, stage_spinner};
use super::outputs::{embed_inputs, refuse_overwrites, refuse_stdout};
use crate::data::{read_battles, Battle, Labels};
use crate::embed::{CheckedEmbed, EmbedStats};
use crate::fsio::{same_file, sha256_file, Role};
use crate::index::{BattleMeta, IndexFolder, Manifest, TrainFile, FORMAT_VERSION};
use crate::model::{CheckedParams, FitPhase, FitSeconds, Model};
use crate::progress::Progress;

/// What `index` needs.
pub struct IndexConfig {
    /// Labelled training file (CSV or Parquet).
    pub train: PathBuf,
    /// Index folder to write.
    pub out: PathBuf,
    /// How to embed.
    pub embed: CheckedEmbed,
    /// How to fit.
    pub params: CheckedParams,
    /// An index whose battles come first, not embedded again (`--base`).
    pub base: Option<Base>,
    /// Where progress and notes go, and the call's cancel token.
    pub progress: Progress,
}

/// What `index` reports back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IndexSummary {
    /// Training battles indexed.
    pub rows: usize,
    /// Of those, battles that came from the base index (0 without one).
    pub base_rows: usize,
    /// Battles of the training file left out because the base held them
    /// (`--skip-existing`).
    pub skipped: usize,
    /// Out-of-fold log loss of the chosen head, before temperature scaling.
    /// The head was chosen on these rows, so this is optimistic; `evaluate`
    /// gives the nested figure.
    pub cv_log_loss: f64,
    /// The same after temperature scaling (fitted on the same rows).
    pub cv_log_loss_calibrated: f64,
    /// The chosen L2 penalty.
    pub lambda: f64,
    /// The chosen embedding-block scale.
    pub emb_scale: f64,
    /// Weight of the logistic head in the blend (1: it alone).
    pub linear_weight: f64,
    /// Boosting rounds of the boosted head (0 when the blend leaves it out).
    pub boosted_rounds: usize,
    /// The fitted temperature.
    pub temperature: f64,
    /// What embedding cost.
    pub embedding: EmbedStats,
    /// Wall seconds per stage.
    pub seconds: StageSeconds,
    /// Problems met reading the file.
    pub warnings: Vec<String>,
}

/// Wall seconds per stage of `index`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StageSeconds {
    /// Reading and checking the train file.
    pub read: f64,
    /// Truncation, cache look-ups and the model (see [`EmbedStats`]).
    pub embed: f64,
    /// Neighbour features, head selection, temperature.
    pub fit: f64,
    /// The fit's parts.
    pub fit_parts: FitSeconds,
    /// Writing the index folder.
    pub save: f64,
}

/// The first `n` characters of the last turn (what `similar` and `errors` show).
fn last_turn_start(turns: &[String], n: usize) -> String {
    let text = turns.last().map(String::as_str).unwrap_or("");
    text.chars().take(n).collect()
}

/// Build an index folder from a labelled training file, after the battles
/// of a base index when one is given.
pub fn build_index(cfg: &IndexConfig) -> Result<IndexSummary, PipelineError> {
    let clock = std::time::Instant::now();
    refuse_stdout("the index folder", &cfg.out)?;
    let base = cfg.base.as_ref().map(|b| b.dir.as_path());
    let mut inputs = vec![Role::file("the training file", &cfg.train)];
    inputs.extend(embed_inputs(&cfg.embed, base));
    // The base may be the output folder itself (an index grown in place):
    // it is read whole before the save, which commits the new manifest
    // atomically. Any other overlap with it is refused.
    inputs.extend(base.filter(|b| !same_file(b, &cfg.out)).map(|b| Role::folder("the base index", b)));
    refuse_overwrites(&[Role::folder("the index folder", &cfg.out)], &inputs)?;
    let mut data = read_battles(&cfg.train, Labels::Required)?;
    // Hashed once: for the battles a base holds, and for the index's metadata.
    let mut hashes: Vec<String> = data.battles.iter().map(Battle::content_hash).collect();
    let progress = &cfg.progress;
    let (base, skipped) = match &cfg.base {
        None => (None, 0),
        Some(b) => {
            if data.ids_generated {
                return Err(PipelineError::BaseNeedsIds { train: cfg.train.clone() });
            }
            let (folder, encoding) = open_base(b, &cfg.embed, &cfg.params, progress)?;
            let skipped =
                drop_existing(&mut data.battles, &mut hashes, &folder, b.existing, &cfg.train, &b.dir)?;
            (Some((folder, encoding)), skipped)
        }
    };
    let new_labels = require_labels(&data)?;
    let base_rows = base.as_ref().map_or(0, |(f, _)| f.labels.len());
    cfg.params
        .check_rows(base_rows + new_labels.len())
        .map_err(|source| PipelineError::Rows { path: cfg.train.clone(), source })?;
    let read_s = clock.elapsed().as_secs_f64();
    let (base, mut encoding) = match base {
        Some((folder, encoding)) => (Some(folder), encoding),
        None => (None, Encoding::open(&cfg.embed, progress)?),
    };
    let new = encoding.encode(&data.battles, "train")?;
    let (embedding, source) = (encoding.stats(), encoding.source());
    // Neither the runtime nor the texts are needed by the fit: free them
    // first (at 57k battles they are hundreds of MiB of the peak).
    drop(encoding);
    let start = |turns: &[String]| last_turn_start(turns, 300);
    let new_starts: Vec<_> = (hashes.into_iter().zip(&data.battles))
        .map(|(hash, b)| (hash, start(&b.prompt), start(&b.response_a), start(&b.response_b)))
        .collect();
    drop(data.battles);
    let train_sha256 =
        sha256_file(&cfg.train).map_err(|source| PipelineError::Io { path: cfg.train.clone(), source })?;
    let part = TrainFile {
        file: cfg.train.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        sha256: train_sha256,
        rows: new.len(),
    };
    // The base's rows first, then the new ones: the order a rebuild from
    // the files together would read them in.
    let (train, labels, starts, parts) = match base {
        None => (new, new_labels, new_starts, vec![part]),
        Some(f) => {
            let mut train = f.train;
            train.append(new);
            let labels = f.labels.into_iter().chain(new_labels).collect::<Vec<_>>();
            let old = f.meta.into_iter().map(|m| (m.content_hash, m.prompt_start, m.a_start, m.b_start));
            let starts = old.chain(new_starts).collect::<Vec<_>>();
            let parts = f.manifest.train.into_iter().chain([part]).collect();
            (train, labels, starts, parts)
        }
    };
    let encoded_s = clock.elapsed().as_secs_f64();
    let spinner =
        stage_spinner(progress, "fitting", "fitting: neighbour features, head selection by CV, temperature");
    let on_phase = |phase: FitPhase| spinner.step(format!("fitting: {phase}"));
    let (model, oof, fit_parts) =
        Model::fit_timed(&cfg.params, &train, &labels, progress.cancel(), &on_phase)?;
    spinner.finish();
    let fitted_s = clock.elapsed().as_secs_f64();
    // Nothing of a cancelled call is written.
    progress.cancel().check()?;
    let meta = starts
        .into_iter()
        .zip(&train.stats)
        .zip(&oof)
        .map(|(((content_hash, prompt_start, a_start, b_start), s), o)| BattleMeta {
            content_hash,
            prompt_start,
            a_start,
            b_start,
            a_chars: s.a.chars,
            b_chars: s.b.chars,
            oof: *o,
        })
        .collect();
    let state = model.state;
    let summary = IndexSummary {
        rows: labels.len(),
        base_rows,
        skipped,
        cv_log_loss: state.cv_log_loss,
        cv_log_loss_calibrated: state.cv_log_loss_calibrated,
        lambda: state.head_params.lambda,
        emb_scale: state.head_params.emb_scale,
        linear_weight: state.linear_weight,
        boosted_rounds: state.boosted.as_ref().map_or(0, |b| b.rounds()),
        temperature: state.temperature.t,
        embedding,
        seconds: StageSeconds::default(),
        warnings: data.warnings,
    };
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        knnpref_version: env!("CARGO_PKG_VERSION").to_string(),
        source,
        train: parts,
        rows: labels.len(),
        files: Default::default(),
    };
    IndexFolder { manifest, train, labels, meta, state }.save(&cfg.out)?;
    let seconds = StageSeconds {
        read: read_s,
        embed: encoded_s - read_s,
        fit: fitted_s - encoded_s,
        fit_parts,
        save: clock.elapsed().as_secs_f64() - fitted_s,
    };
    Ok(IndexSummary { seconds, ..summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_turn_start_takes_characters_of_the_last_turn() {
        let turns = vec!["first".to_string(), "héllo world".to_string()];
        assert_eq!(last_turn_start(&turns, 5), "héllo");
        assert_eq!(last_turn_start(&[], 5), "");
    }
}
