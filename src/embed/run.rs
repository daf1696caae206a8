//! One inference batch: the session's token vectors pooled the way the
//! model folder says (`st_folder`), with its prompt and lower-casing, then
//! L2-normalised. fastembed runs the graph and tokenises; the pooling is
//! knnpref's own (`pooling`), so that every sentence-transformers mode works.

use fastembed::{OutputKey, SingleBatchOutput, TextEmbedding};

use std::path::Path;

use super::graph::OUTPUT_NAMES;
use super::model_files::is_provisioned;
use super::pooling::{normalize, pool, Pooling};
use super::EmbedError;

/// Which output of the graph holds the token vectors, in order of
/// preference (fastembed's own order for text models), as `graph` checks
/// at open that one is there.
const OUTPUTS: &[OutputKey] = &[
    OutputKey::OnlyOne,
    OutputKey::ByName(OUTPUT_NAMES[0]),
    OutputKey::ByName(OUTPUT_NAMES[1]),
    OutputKey::ByName(OUTPUT_NAMES[2]),
];

/// How a folder turns a text into a sentence vector, beyond the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PoolPlan {
    /// The pooling mode.
    pub pooling: Pooling,
    /// Text put before every input (the model's prompt), if any.
    pub prompt: Option<String>,
    /// Leading tokens left out of the pooling (`[CLS]` and the prompt when
    /// the folder's `include_prompt` is false), else 0.
    pub skip: usize,
    /// Lower-case texts first (`do_lower_case`).
    pub lower_case: bool,
}

/// Embed one batch of fitted texts with the model of folder `dir`: one
/// unit-length vector per text.
pub(super) fn run_batch(
    session: &mut TextEmbedding,
    texts: &[&str],
    plan: &PoolPlan,
    dir: &Path,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let inputs: Vec<String> = texts
        .iter()
        .map(|t| {
            let text = if plan.lower_case { t.to_lowercase() } else { t.to_string() };
            match &plan.prompt {
                Some(prompt) => format!("{prompt}{text}"),
                None => text,
            }
        })
        .collect();
    let output = session.transform(&inputs, Some(inputs.len())).map_err(|e| failed(dir, e))?;
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in output.into_raw() {
        vectors.extend(pool_batch(&batch, plan, dir)?);
    }
    Ok(vectors)
}

/// A run of the model in `dir` that failed. The graph and the tokenizer
/// are the folder's, checked at open: what fails now is theirs, or
/// knnpref's for a model it provisioned.
fn failed(dir: &Path, source: fastembed::Error) -> EmbedError {
    EmbedError::Run { dir: dir.to_owned(), provisioned: is_provisioned(dir), source }
}

/// Pool every row of one session output of the model in `dir`.
fn pool_batch(batch: &SingleBatchOutput, plan: &PoolPlan, dir: &Path) -> Result<Vec<Vec<f32>>, EmbedError> {
    let tensor = batch.select_output(&OUTPUTS).map_err(|e| failed(dir, e))?;
    let mask = batch.attention_mask_array.as_standard_layout();
    let shape = tensor.shape().to_vec();
    let bad_shape = || EmbedError::OutputShape { dir: dir.to_owned(), shape: shape.clone() };
    // ONNX Runtime's outputs are row-major already: no copy then.
    let tensor = tensor.as_standard_layout();
    let values = tensor.as_slice().ok_or_else(bad_shape)?;
    let mut out = Vec::with_capacity(mask.nrows());
    match *shape.as_slice() {
        // Token vectors [batch, seq, dim]: pool them.
        [rows, seq, dim] if rows == mask.nrows() && seq == mask.ncols() => {
            let masks = mask.as_slice().ok_or_else(bad_shape)?;
            for (hidden, row_mask) in values.chunks_exact(seq * dim).zip(masks.chunks_exact(seq)) {
                let mut v = pool(plan.pooling, hidden, row_mask, dim, plan.skip);
                normalize(&mut v);
                out.push(v);
            }
        }
        // A graph that pools itself [batch, dim]: take its vectors.
        [rows, dim] if rows == mask.nrows() => {
            for r in 0..rows {
                let mut v = values[r * dim..(r + 1) * dim].to_vec();
                normalize(&mut v);
                out.push(v);
            }
        }
        _ => return Err(bad_shape()),
    }
    Ok(out)
}
