//! The model2vec folder format: reading its safetensors tensors into plain
//! vectors and writing them back byte for byte the same every time.
//!
//! Reading goes through the `safetensors` crate (it validates the header,
//! offsets and sizes). Writing is done here by hand because the format is
//! tiny (an 8-byte little-endian header length, a JSON header, the raw data)
//! and a hand-written header has a fixed key order and padding, so equal
//! inputs give equal files whatever the crate version does.

use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

/// A tensor whose element type knnpref cannot read as floats or ids.
#[derive(Debug, thiserror::Error)]
#[error("tensor `{tensor}` has element type {dtype}, expected {expected}")]
pub struct DtypeError {
    /// The tensor's name.
    pub tensor: String,
    /// Its element type.
    pub dtype: String,
    /// The types that would do.
    pub expected: &'static str,
}

fn dtype_error(tensor: &str, view: &TensorView<'_>, expected: &'static str) -> DtypeError {
    DtypeError { tensor: tensor.to_string(), dtype: view.dtype().to_string(), expected }
}

/// Little-endian elements of `N` bytes, decoded one by one.
fn chunks<const N: usize, T>(raw: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    raw.chunks_exact(N).map(|c| f(c.try_into().expect("chunks_exact gives N bytes"))).collect()
}

/// A float (or int8, as model2vec's quantised tables are stored) tensor as f32.
pub(crate) fn floats(tensor: &str, view: &TensorView<'_>) -> Result<Vec<f32>, DtypeError> {
    let raw = view.data();
    Ok(match view.dtype() {
        Dtype::F32 => chunks::<4, _>(raw, f32::from_le_bytes),
        Dtype::F16 => chunks::<2, _>(raw, |b| half::f16::from_le_bytes(b).to_f32()),
        Dtype::BF16 => chunks::<2, _>(raw, |b| half::bf16::from_le_bytes(b).to_f32()),
        Dtype::F64 => chunks::<8, _>(raw, |b| f64::from_le_bytes(b) as f32),
        Dtype::I8 => raw.iter().map(|&b| b as i8 as f32).collect(),
        _ => return Err(dtype_error(tensor, view, "F32, F16, BF16, F64 or I8")),
    })
}

/// An integer tensor (model2vec's token → row `mapping`) as row indices.
/// Negative entries become `usize::MAX`, which no table has, so they are caught
/// by the caller's range check.
pub(crate) fn indices(tensor: &str, view: &TensorView<'_>) -> Result<Vec<usize>, DtypeError> {
    let raw = view.data();
    let to_index = |v: i64| usize::try_from(v).unwrap_or(usize::MAX);
    Ok(match view.dtype() {
        Dtype::I64 => chunks::<8, _>(raw, |b| to_index(i64::from_le_bytes(b))),
        Dtype::I32 => chunks::<4, _>(raw, |b| to_index(i32::from_le_bytes(b).into())),
        _ => return Err(dtype_error(tensor, view, "I64 or I32")),
    })
}

/// The safetensors bytes of one F32 tensor named `name` with shape
/// `[rows, cols]`: header padded with spaces to a multiple of 8 bytes, as the
/// format recommends, then the data in little-endian order.
pub(crate) fn f32_safetensors(name: &str, rows: usize, cols: usize, data: &[f32]) -> Vec<u8> {
    assert_eq!(data.len(), rows * cols, "tensor data matches its shape");
    let bytes = data.len() * 4;
    let name = serde_json::to_string(name).expect("a string serialises");
    let mut header =
        format!(r#"{{{name}:{{"dtype":"F32","shape":[{rows},{cols}],"data_offsets":[0,{bytes}]}}}}"#)
            .into_bytes();
    while (8 + header.len()) % 8 != 0 {
        header.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + bytes);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// model2vec's `config.json`, the fields knnpref writes and reads. Fields are
/// serialised in declaration order, so the file is the same on every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model2VecConfig {
    /// `model2vec` for a static model.
    pub model_type: String,
    /// Informational (`StaticModel`).
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The model the tokenizer came from.
    pub tokenizer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Dimensions kept by the PCA at distillation.
    pub apply_pca: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Whether Zipf-estimated SIF weights were applied.
    pub apply_zipf: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The SIF coefficient used.
    pub sif_coefficient: Option<f64>,
    #[serde(default)]
    /// Width of the table (checked against the tensor).
    pub hidden_dim: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Tokens per text the model was meant for, if stated.
    pub seq_length: Option<usize>,
    #[serde(default = "yes")]
    /// Whether outputs are L2-normalised (knnpref always normalises).
    pub normalize: bool,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::SafeTensors;

    #[test]
    fn written_tensors_read_back_through_the_crate() {
        let data: Vec<f32> = (0..6).map(|i| i as f32 * 0.5 - 1.0).collect();
        let bytes = f32_safetensors("embeddings", 3, 2, &data);
        assert_eq!(u64::from_le_bytes(bytes[..8].try_into().unwrap()) % 8, 0);
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let view = st.tensor("embeddings").unwrap();
        assert_eq!(view.shape(), &[3, 2]);
        assert_eq!(floats("embeddings", &view).unwrap(), data);
        assert!(indices("embeddings", &view).unwrap_err().to_string().contains("I64 or I32"));
        assert_eq!(bytes, f32_safetensors("embeddings", 3, 2, &data), "same input, same bytes");
    }

    #[test]
    fn config_defaults_normalise() {
        let c: Model2VecConfig =
            serde_json::from_str(r#"{"model_type":"model2vec","hidden_dim":8}"#).unwrap();
        assert!(c.normalize);
        assert_eq!(c.hidden_dim, Some(8));
    }
}
