//! Distilling a static (model2vec-layout) model from a sentence transformer.
//!
//! Every vocabulary token is run through the transformer alone, as
//! `[CLS] token [SEP]` (the tokenizer's own special tokens), and its output
//! is mean-pooled over those positions; PCA then shrinks the rows to `dims`
//! and SIF weighting (Zipf-estimated token probabilities by vocabulary rank,
//! as model2vec does) damps frequent tokens. The result embeds text without
//! a network at run time ([`super::static_model`]). The folder is written
//! into a temporary folder beside the target and renamed into place, so a
//! failed or interrupted run leaves nothing half-written; the same input
//! gives byte-identical files.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{s, Array2, Axis};
use ort::session::{Session, SessionInputValue};

use super::model_files::hidden_size;
mod error;

use super::pca::{sif_weights, Pca};
use super::runtime::environment;
use super::static_model::{f32_safetensors, Model2VecConfig, CONFIG, SAFETENSORS, TOKENIZER};
use crate::fsio::{refuse_overlap, replace_dir, write_atomic, Role};
use crate::progress::Progress;
pub use error::DistillError;

/// What to distill, and how.
#[derive(Debug, Clone)]
pub struct DistillParams {
    /// Sentence-transformers-style folder: `model.onnx` and `tokenizer.json`.
    pub model_dir: PathBuf,
    /// Folder to write (replaced if it already holds a static model).
    pub out: PathBuf,
    /// Output width after PCA (at most the model's hidden size).
    pub dims: usize,
    /// SIF coefficient `a` in `a / (a + p)`.
    pub sif: f64,
    /// Tokens per model run.
    pub batch_size: usize,
    /// ONNX Runtime intra-op threads.
    pub threads: usize,
    /// Embed only the first N vocabulary ids (the rest get zero rows); for tests.
    pub limit: Option<usize>,
    /// Where progress goes, and the cancel token checked between batches.
    pub progress: Progress,
}

impl DistillParams {
    /// Defaults: 256 dims, SIF 1e-4, batches of 1,024 tokens, all cores.
    pub fn new(model_dir: PathBuf, out: PathBuf) -> DistillParams {
        DistillParams {
            model_dir,
            out,
            dims: 256,
            sif: 1e-4,
            batch_size: 1024,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            limit: None,
            progress: Progress::hidden(),
        }
    }
}

/// What distillation produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DistillReport {
    /// The folder written.
    pub out: PathBuf,
    /// Rows of the table (the tokenizer's vocabulary, added tokens included).
    pub vocab: usize,
    /// Tokens run through the model (less than `vocab` under `limit`).
    pub embedded: usize,
    /// The transformer's output width.
    pub hidden: usize,
    /// Output width after PCA.
    pub dims: usize,
    /// Share of the token embeddings' variance kept by the PCA.
    pub explained_variance: f64,
    /// Wall seconds in the model.
    pub embed_seconds: f64,
    /// Wall seconds in total.
    pub seconds: f64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DistillError + '_ {
    move |source| DistillError::Io { path: path.to_owned(), source }
}

fn invalid(what: &'static str, why: impl Into<String>) -> DistillError {
    DistillError::Invalid { what, why: why.into() }
}

/// Build a static model from `params.model_dir` and write it to `params.out`.
pub fn distill(params: &DistillParams) -> Result<DistillReport, DistillError> {
    let started = Instant::now();
    if params.dims == 0 {
        return Err(invalid("dims", "must be at least 1"));
    }
    if !(params.sif.is_finite() && params.sif > 0.0) {
        return Err(invalid("sif", format!("{} is not a positive number", params.sif)));
    }
    let dir = &params.model_dir;
    let (out, teacher) =
        (Role::folder("the static model folder", &params.out), Role::folder("the model folder", dir));
    refuse_overlap(&[out], &[teacher])?;
    let onnx = dir.join("model.onnx");
    let tok_path = dir.join(TOKENIZER);
    for (path, file) in [(&onnx, "model.onnx"), (&tok_path, TOKENIZER)] {
        if !path.is_file() {
            return Err(DistillError::Missing { dir: dir.clone(), file });
        }
    }
    if let Some(hidden) = hidden_size(dir).filter(|&h| params.dims > h) {
        return Err(invalid(
            "dims",
            format!("{} exceeds the model's {hidden} hidden dimensions", params.dims),
        ));
    }
    check_target(&params.out)?;
    let tok_bytes = std::fs::read(&tok_path).map_err(io_err(&tok_path))?;
    let tok_err = |source| DistillError::Tokenizer { path: tok_path.clone(), source };
    let mut tokenizer = tokenizers::Tokenizer::from_bytes(&tok_bytes).map_err(tok_err)?;
    tokenizer.with_truncation(None).map_err(tok_err)?;
    tokenizer.with_padding(None);
    let vocab = tokenizer.get_vocab(true).values().max().map_or(0, |&m| m as usize + 1);
    let embedded = params.limit.map_or(vocab, |l| l.min(vocab));
    if embedded < 2 {
        return Err(invalid("limit", "PCA needs at least 2 tokens"));
    }
    let (prefix, suffix) = special_tokens(&tokenizer).map_err(tok_err)?;

    let embed_started = Instant::now();
    let tokens = embed_tokens(params, &onnx, embedded, &prefix, &suffix)?;
    let embed_seconds = embed_started.elapsed().as_secs_f64();
    let hidden = tokens.ncols();
    if params.dims > hidden {
        return Err(invalid(
            "dims",
            format!("{} exceeds the model's {hidden} hidden dimensions", params.dims),
        ));
    }

    let pca = Pca::fit(tokens.view(), params.dims);
    let projected = pca.project(tokens.view());
    drop(tokens);
    let weights = sif_weights(vocab, params.sif);
    let mut table = vec![0f32; vocab * params.dims];
    for (i, row) in projected.rows().into_iter().enumerate() {
        let out = &mut table[i * params.dims..(i + 1) * params.dims];
        for (o, v) in out.iter_mut().zip(row) {
            *o = (v * weights[i]) as f32;
        }
    }

    let mut tok_json: serde_json::Value = serde_json::from_slice(&tok_bytes)
        .map_err(|source| DistillError::TokenizerJson { path: tok_path.clone(), source })?;
    tok_json["truncation"] = serde_json::Value::Null;
    tok_json["padding"] = serde_json::Value::Null;
    let config = Model2VecConfig {
        model_type: "model2vec".into(),
        architectures: vec!["StaticModel".into()],
        tokenizer_name: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        apply_pca: Some(params.dims),
        apply_zipf: Some(true),
        sif_coefficient: Some(params.sif),
        hidden_dim: Some(params.dims),
        seq_length: Some(1_000_000),
        normalize: true,
    };
    let files: [(&str, Vec<u8>); 3] = [
        (SAFETENSORS, f32_safetensors("embeddings", vocab, params.dims, &table)),
        (TOKENIZER, serde_json::to_vec_pretty(&tok_json).expect("JSON serialises")),
        (CONFIG, serde_json::to_vec_pretty(&config).expect("config serialises")),
    ];
    write_folder(&params.out, &files)?;
    Ok(DistillReport {
        out: params.out.clone(),
        vocab,
        embedded,
        hidden,
        dims: params.dims,
        explained_variance: pca.explained(),
        embed_seconds,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The special-token ids the tokenizer puts before and after a single
/// sequence (`[CLS]` and `[SEP]` for BERT), read from one encoded probe.
#[allow(clippy::type_complexity)]
fn special_tokens(
    tok: &tokenizers::Tokenizer,
) -> Result<(Vec<i64>, Vec<i64>), Box<dyn std::error::Error + Send + Sync>> {
    let enc = tok.encode_fast("a", true)?;
    // Padding, should the tokenizer still add it, is not part of the sequence.
    let kept: Vec<(u32, u32)> = enc
        .get_ids()
        .iter()
        .zip(enc.get_special_tokens_mask())
        .zip(enc.get_attention_mask())
        .filter(|(_, &attend)| attend == 1)
        .map(|((&id, &special), _)| (id, special))
        .collect();
    let ids: Vec<u32> = kept.iter().map(|k| k.0).collect();
    let special: Vec<u32> = kept.iter().map(|k| k.1).collect();
    let first = special.iter().position(|&m| m == 0).unwrap_or(ids.len());
    let last = special.iter().rposition(|&m| m == 0).map_or(ids.len(), |p| p + 1);
    let to_i64 = |s: &[u32]| s.iter().map(|&i| i64::from(i)).collect();
    Ok((to_i64(&ids[..first]), to_i64(&ids[last.max(first)..])))
}

/// Mean-pooled transformer outputs of `prefix + [id] + suffix` for ids
/// `0..n`: `[n, hidden]`.
fn embed_tokens(
    params: &DistillParams,
    onnx: &Path,
    n: usize,
    prefix: &[i64],
    suffix: &[i64],
) -> Result<Array2<f32>, DistillError> {
    let env = environment().map_err(|source| DistillError::Runtime { source })?;
    let session_err = |source: ort::Error| DistillError::Session { path: onnx.to_owned(), source };
    let level = ort::session::builder::GraphOptimizationLevel::Level3;
    let builder_err = |e: ort::Error<_>| session_err(e.into());
    let mut builder = Session::builder(&env)
        .map_err(session_err)?
        .with_optimization_level(level)
        .map_err(builder_err)?
        .with_intra_threads(params.threads.max(1))
        .map_err(builder_err)?;
    let mut session = builder.commit_from_file(onnx).map_err(session_err)?;
    let graph_err = |why: String| DistillError::Graph { path: onnx.to_owned(), why };
    let input_names: Vec<String> = session.inputs().iter().map(|i| i.name().to_string()).collect();
    if let Some(odd) =
        input_names.iter().find(|n| !matches!(n.as_str(), "input_ids" | "attention_mask" | "token_type_ids"))
    {
        return Err(graph_err(format!("unexpected model input `{odd}`")));
    }
    let outputs: Vec<String> = session.outputs().iter().map(|o| o.name().to_string()).collect();
    let output = outputs
        .iter()
        .find(|o| o.as_str() == "last_hidden_state")
        .or(outputs.first())
        .cloned()
        .ok_or_else(|| graph_err("the model has no outputs".into()))?;

    let len = prefix.len() + 1 + suffix.len();
    let bar = params.progress.stage("distilling", Some(n as u64), || progress_bar(n as u64));
    let mut result: Option<Array2<f32>> = None;
    let batch = params.batch_size.max(1);
    for first in (0..n).step_by(batch) {
        params.progress.cancel().check()?;
        let end = (first + batch).min(n);
        let rows = end - first;
        let mut ids = Array2::<i64>::zeros((rows, len));
        for (r, mut row) in ids.rows_mut().into_iter().enumerate() {
            let seq = prefix.iter().copied().chain([(first + r) as i64]).chain(suffix.iter().copied());
            row.iter_mut().zip(seq).for_each(|(slot, id)| *slot = id);
        }
        let run_err = |source: ort::Error| DistillError::Run { path: onnx.to_owned(), first, end, source };
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = Vec::new();
        for name in &input_names {
            let value = match name.as_str() {
                "input_ids" => ids.clone(),
                "attention_mask" => Array2::<i64>::ones((rows, len)),
                _ => Array2::<i64>::zeros((rows, len)),
            };
            let tensor = ort::value::Tensor::from_array(value).map_err(run_err)?;
            inputs.push((Cow::Owned(name.clone()), tensor.into()));
        }
        let out = session.run(inputs).map_err(run_err)?;
        let view = out[output.as_str()].try_extract_array::<f32>().map_err(run_err)?;
        // [rows, len, hidden] is pooled over the positions (all attended);
        // [rows, hidden] is taken as it is.
        let pooled: Array2<f32> = match view.ndim() {
            3 => {
                let v = view.into_dimensionality::<ndarray::Ix3>().expect("3 dimensions");
                let mut sum = v.index_axis(Axis(1), 0).to_owned();
                for p in 1..v.shape()[1] {
                    sum += &v.index_axis(Axis(1), p);
                }
                sum / v.shape()[1] as f32
            }
            2 => view.into_dimensionality::<ndarray::Ix2>().expect("2 dimensions").to_owned(),
            d => return Err(graph_err(format!("output `{output}` has {d} dimensions, expected 2 or 3"))),
        };
        if pooled.nrows() != rows {
            return Err(graph_err(format!(
                "output `{output}` has {} rows for {rows} inputs",
                pooled.nrows()
            )));
        }
        let table = result.get_or_insert_with(|| Array2::zeros((n, pooled.ncols())));
        table.slice_mut(s![first..end, ..]).assign(&pooled);
        bar.inc(rows as u64);
    }
    bar.finish();
    result.ok_or_else(|| graph_err("no tokens to embed".into()))
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(
        "distilling [{bar:30}] {pos}/{len} tokens, {per_sec}, eta {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// A folder knnpref may replace: missing, empty, or a model2vec folder.
fn check_target(dir: &Path) -> Result<(), DistillError> {
    if !dir.exists() {
        return Ok(());
    }
    let is_static = std::fs::read(dir.join(CONFIG))
        .ok()
        .and_then(|b| serde_json::from_slice::<Model2VecConfig>(&b).ok())
        .is_some_and(|c| c.model_type == "model2vec");
    let empty = dir.is_dir() && std::fs::read_dir(dir).map_err(io_err(dir))?.next().is_none();
    if is_static || empty {
        Ok(())
    } else {
        Err(DistillError::NotStatic { dir: dir.to_owned() })
    }
}

/// Write `files` (each synced) as the folder `dir`, replacing an earlier one whole.
fn write_folder(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), DistillError> {
    let fill = |staging: &Path| {
        for (name, bytes) in files {
            let path = staging.join(name);
            write_atomic(&path, |w| w.write_all(bytes)).map_err(io_err(&path))?;
        }
        Ok(())
    };
    replace_dir(dir, ".knnpref-static-", fill, |path, source| DistillError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;
