//! Static (model2vec-style) sentence embeddings: a text's vector is the mean
//! of per-token rows looked up in a table, with no neural network at run time.
//!
//! It exists because the transformer is knnpref's slowest stage; a table
//! distilled from it ([`super::distill`]) embeds orders of magnitude faster at
//! some cost in quality. Folders use model2vec's layout (`model.safetensors`
//! with an `embeddings` tensor, optional `weights` and `mapping`;
//! `tokenizer.json`; `config.json`), so published model2vec models load too.
//!
//! Why not the `model2vec-rs` crate (0.4, read before deciding): its encoder
//! takes one string per text and cuts it by characters (`max_length` ×
//! median token length) and then to the first `max_length` tokens, so the
//! turn-aware budget of [`super::fit_turns`] would need the text fitted,
//! joined and tokenised a second time; its fast tokenisers, the reason it is
//! quick, are private to that encoder. It also brings `anyhow` errors, a
//! second `safetensors` version and, by default, hf-hub and ureq. Pooling a
//! table is a few lines, so it is done here: each turn is tokenised once with
//! `encode_fast` (no offsets), the budget is applied to the token ids
//! themselves, and the rows are summed in token order. Like model2vec, the
//! unknown token is left out of the mean and the output is L2-normalised.

mod format;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use super::chars::{char_cap, prefix_chars, suffix_chars};
use crate::fault::Fault;
use rayon::prelude::*;
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};

pub(crate) use format::f32_safetensors;
pub use format::{DtypeError, Model2VecConfig};

/// The table file of a model2vec folder (its presence marks a static model).
pub const SAFETENSORS: &str = "model.safetensors";
/// The tokenizer file of a model2vec folder.
pub const TOKENIZER: &str = "tokenizer.json";
/// The config file of a model2vec folder.
pub const CONFIG: &str = "config.json";

/// Characters per token of a first, smaller window (English prose averages
/// about 4-5), and the spare tokens it must yield to be trusted.
const MIN_CHARS_PER_TOKEN: usize = 6;
const WINDOW_MARGIN: usize = 16;

/// Why a static model folder could not be loaded.
#[allow(missing_docs)] // each variant's message is its documentation
#[derive(Debug, thiserror::Error)]
pub enum StaticError {
    #[error("static model folder {dir} lacks {file}")]
    Missing { dir: PathBuf, file: &'static str },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid safetensors file")]
    Safetensors {
        path: PathBuf,
        #[source]
        source: safetensors::SafeTensorError,
    },
    #[error("{path} has no `embeddings` tensor (found: {found})")]
    NoEmbeddings { path: PathBuf, found: String },
    #[error("{path}: unsupported tensor")]
    Dtype {
        path: PathBuf,
        #[source]
        source: DtypeError,
    },
    #[error("{path}: {why}")]
    Shape { path: PathBuf, why: String },
    #[error("{path}: invalid tokenizer")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{path}: invalid model2vec config")]
    Config {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl StaticError {
    /// Whose fault: the user's, whose model folder it is (a missing or
    /// damaged file: provision or fix it).
    pub fn fault(&self) -> Fault {
        use StaticError as S;
        match self {
            S::Missing { .. }
            | S::Io { .. }
            | S::Safetensors { .. }
            | S::NoEmbeddings { .. }
            | S::Dtype { .. }
            | S::Shape { .. }
            | S::Tokenizer { .. }
            | S::Config { .. } => Fault::User,
        }
    }
}

/// A loaded static embedding model.
pub struct StaticModel {
    tokenizer: tokenizers::Tokenizer,
    /// Row-major `[rows, dim]`.
    table: Vec<f32>,
    dim: usize,
    /// Per-token-id scale (model2vec's `weights`), if the file has one.
    weights: Option<Vec<f32>>,
    /// Token id → table row (model2vec's `mapping`), if the file has one.
    mapping: Option<Vec<usize>>,
    /// Left out of the mean, as model2vec does.
    unk: Option<u32>,
    config: Model2VecConfig,
    sha256: String,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StaticError + '_ {
    move |source| StaticError::Io { path: path.to_owned(), source }
}

fn read(dir: &Path, file: &'static str) -> Result<Vec<u8>, StaticError> {
    let path = dir.join(file);
    if !path.is_file() {
        return Err(StaticError::Missing { dir: dir.to_owned(), file });
    }
    std::fs::read(&path).map_err(io_err(&path))
}

/// The identity of the files that decide the vectors: sha256 over each file's
/// name, length and bytes, in a fixed order.
pub(crate) fn files_identity(files: &[(&str, &[u8])]) -> String {
    let mut h = Sha256::new();
    for (name, bytes) in files {
        h.update(name.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    hex::encode(h.finalize())
}

/// The id of the tokenizer model's unknown token, if it has one.
fn unk_id(tokenizer: &tokenizers::Tokenizer) -> Option<u32> {
    use tokenizers::models::ModelWrapper;
    let name = match tokenizer.get_model() {
        ModelWrapper::WordPiece(m) => Some(m.unk_token.clone()),
        ModelWrapper::WordLevel(m) => Some(m.unk_token.clone()),
        ModelWrapper::BPE(m) => m.unk_token.clone(),
        ModelWrapper::Unigram(_) => None,
    };
    name.and_then(|n| tokenizer.token_to_id(&n))
}

impl StaticModel {
    /// Load a model2vec-layout folder.
    pub fn load(dir: &Path) -> Result<StaticModel, StaticError> {
        let st_bytes = read(dir, SAFETENSORS)?;
        let tok_bytes = read(dir, TOKENIZER)?;
        let cfg_bytes = read(dir, CONFIG)?;
        let (st_path, tok_path, cfg_path) = (dir.join(SAFETENSORS), dir.join(TOKENIZER), dir.join(CONFIG));
        let config: Model2VecConfig = serde_json::from_slice(&cfg_bytes)
            .map_err(|source| StaticError::Config { path: cfg_path.clone(), source })?;
        let tok_err = |source| StaticError::Tokenizer { path: tok_path.clone(), source };
        let mut tokenizer = tokenizers::Tokenizer::from_bytes(&tok_bytes).map_err(tok_err)?;
        tokenizer.with_truncation(None).map_err(tok_err)?;
        tokenizer.with_padding(None);

        let st = SafeTensors::deserialize(&st_bytes)
            .map_err(|source| StaticError::Safetensors { path: st_path.clone(), source })?;
        let dtype_err = |source| StaticError::Dtype { path: st_path.clone(), source };
        let shape_err = |why: String| StaticError::Shape { path: st_path.clone(), why };
        // model2vec writes `embeddings`; older and sentence-transformers exports use these.
        let (name, view) = ["embeddings", "embedding.weight", "0"]
            .iter()
            .find_map(|&n| st.tensor(n).ok().map(|v| (n, v)))
            .ok_or_else(|| {
                let mut found: Vec<&str> = st.names();
                found.sort_unstable();
                StaticError::NoEmbeddings { path: st_path.clone(), found: found.join(", ") }
            })?;
        let &[rows, dim] = view.shape() else {
            return Err(shape_err(format!(
                "tensor `{name}` has shape {:?}, expected [vocab, dim]",
                view.shape()
            )));
        };
        if dim == 0 {
            return Err(shape_err(format!("tensor `{name}` has no columns")));
        }
        if let Some(hidden) = config.hidden_dim.filter(|&h| h != dim) {
            return Err(shape_err(format!(
                "config.json says hidden_dim {hidden}, the table has {dim} columns"
            )));
        }
        let table = format::floats(name, &view).map_err(dtype_err)?;
        let weights = match st.tensor("weights") {
            Ok(v) => Some(format::floats("weights", &v).map_err(dtype_err)?),
            Err(_) => None,
        };
        let mapping = match st.tensor("mapping") {
            Ok(v) => Some(format::indices("mapping", &v).map_err(dtype_err)?),
            Err(_) => None,
        };
        if let Some(bad) = mapping.as_ref().and_then(|m| m.iter().find(|&&r| r >= rows)) {
            return Err(shape_err(format!("`mapping` points at row {bad} of a {rows}-row table")));
        }
        let unk = unk_id(&tokenizer);
        let sha256 =
            files_identity(&[(SAFETENSORS, &st_bytes), (TOKENIZER, &tok_bytes), (CONFIG, &cfg_bytes)]);
        Ok(StaticModel { tokenizer, table, dim, weights, mapping, unk, config, sha256 })
    }

    /// Width of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows in the embedding table.
    pub fn rows(&self) -> usize {
        self.table.len() / self.dim
    }

    /// sha256 identity of `model.safetensors`, `tokenizer.json` and
    /// `config.json` together: the files that change the vectors.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The folder's `config.json`.
    pub fn config(&self) -> &Model2VecConfig {
        &self.config
    }

    /// The tokenizer (truncation and padding off).
    pub fn tokenizer(&self) -> &tokenizers::Tokenizer {
        &self.tokenizer
    }

    /// The table row of token `id`, or `None` for a token without one.
    pub fn row(&self, id: u32) -> Option<&[f32]> {
        let id = id as usize;
        let r = match &self.mapping {
            Some(m) => *m.get(id)?,
            None => id,
        };
        self.table.get(r * self.dim..(r + 1) * self.dim)
    }

    /// The token ids of a text (a list of turns) within `max_tokens`, in text
    /// order, without special tokens. As for the transformer (`fit_turns`),
    /// the last turn is kept from its start first and earlier turns fill what
    /// is left, nearest first, each from its end; huge turns are pre-cut by
    /// characters. The budget is applied to the ids directly, so each turn is
    /// tokenised once.
    pub fn fit_ids(&self, turns: &[String], max_tokens: usize) -> Vec<u32> {
        let char_cap = char_cap(max_tokens);
        let mut parts: Vec<(tokenizers::Encoding, std::ops::Range<usize>)> = Vec::new();
        let mut left = max_tokens;
        for (pos, turn) in turns.iter().enumerate().rev() {
            if left == 0 {
                break;
            }
            let is_last = pos + 1 == turns.len();
            let Some(enc) = self.encode_window(turn, is_last, left, char_cap) else {
                continue;
            };
            let n = enc.len();
            let range = if n <= left {
                0..n
            } else if is_last {
                0..left
            } else {
                n - left..n
            };
            left -= range.len();
            parts.push((enc, range));
        }
        parts.iter().rev().flat_map(|(enc, r)| enc.get_ids()[r.clone()].iter().copied()).collect()
    }

    /// Tokenise the part of `turn` that can matter for `left` tokens: its
    /// start (`from_start`) or its end. A window of `MIN_CHARS_PER_TOKEN` per
    /// token is tried first (enough for most text, and much less work than
    /// the `cap` window on long turns); it is kept only when it yields
    /// `WINDOW_MARGIN` tokens beyond those needed, so the word cut at its edge
    /// lies past the kept tokens. Otherwise the `cap` window is tokenised.
    fn encode_window(
        &self,
        turn: &str,
        from_start: bool,
        left: usize,
        cap: usize,
    ) -> Option<tokenizers::Encoding> {
        let cut = |max| if from_start { prefix_chars(turn, max) } else { suffix_chars(turn, max) };
        let small = left.saturating_mul(MIN_CHARS_PER_TOKEN).max(64);
        if small < cap {
            let window = cut(small);
            let enc = self.tokenizer.encode_fast(window, false).ok()?;
            if window.len() == turn.len() || enc.len() >= left.saturating_add(WINDOW_MARGIN) {
                return Some(enc);
            }
        }
        self.tokenizer.encode_fast(cut(cap), false).ok()
    }

    /// Mean of the rows of `ids` (unknown and table-less tokens left out,
    /// model2vec `weights` applied), L2-normalised, written into `out`
    /// (`dim` zeros). Sums in token order, so the result never depends on
    /// threads. Nothing to average leaves `out` zero.
    fn pool_into(&self, ids: &[u32], out: &mut [f32]) {
        let mut count = 0usize;
        for &id in ids {
            if Some(id) == self.unk {
                continue;
            }
            let Some(row) = self.row(id) else { continue };
            match self.weights.as_ref().and_then(|w| w.get(id as usize)) {
                Some(&w) => out.iter_mut().zip(row).for_each(|(o, &x)| *o += w * x),
                None => out.iter_mut().zip(row).for_each(|(o, &x)| *o += x),
            }
            count += 1;
        }
        if count == 0 {
            return;
        }
        let inv = 1.0 / count as f32;
        out.iter_mut().for_each(|o| *o *= inv);
        let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|o| *o /= norm);
        }
    }

    /// Embed texts (each a list of turns) within `max_tokens` tokens each;
    /// returns row-major L2-normalised vectors, one per text (a text without
    /// known tokens gets a zero vector). Runs on rayon's threads; the result
    /// is bit-identical whatever their number.
    pub fn encode_turns(&self, turns: &[&[String]], max_tokens: usize) -> Vec<f32> {
        self.encode_counted(turns, max_tokens).0
    }

    /// [`StaticModel::encode_turns`], with the number of tokens pooled.
    pub fn encode_counted(&self, turns: &[&[String]], max_tokens: usize) -> (Vec<f32>, u64) {
        let mut out = vec![0f32; turns.len() * self.dim];
        let tokens = out
            .par_chunks_mut(self.dim)
            .zip(turns.par_iter())
            .map(|(row, text)| {
                let ids = self.fit_ids(text, max_tokens);
                self.pool_into(&ids, row);
                ids.len() as u64
            })
            .sum();
        (out, tokens)
    }
}
