//! The embedding options every Python call takes (the CLI's `EmbedArgs`),
//! and `embed`: a battles file's vectors as the bytes of a vectors file.

use std::path::PathBuf;
use std::sync::Arc;

use knnpref::embed::{CheckedEmbed, Device, EmbedOptions, ModelChoice, ModelFlags};
use knnpref::pipeline;
use knnpref::progress::{Cancel, Progress};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::{interruptible, to_json, to_py, Call};

/// How every function embeds: the CLI's `EmbedArgs` defaults.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct Embed {
    model: Option<PathBuf>,
    quantized: bool,
    static_model: bool,
    transformer: bool,
    /// A vectors file or folder instead of a model.
    vectors: Option<PathBuf>,
    max_tokens: Option<usize>,
    /// `"cpu"`, `"cuda"` or `"auto"`, as the CLI's `--device`.
    device: String,
    threads: Option<usize>,
    use_cache: bool,
    /// `None`: no progress; else `callable(stage, position, total, finished)`.
    progress: Option<Py<PyAny>>,
}

impl Embed {
    /// The library's checked options, the call's progress (to the queue,
    /// with the call's cancel token) and the call they belong to.
    pub(crate) fn options(&self, py: Python<'_>) -> PyResult<(CheckedEmbed, Progress, Call)> {
        let flags = ModelFlags {
            folder: self.model.clone(),
            quantized: self.quantized,
            static_table: self.static_model,
            transformer: self.transformer,
            vectors: self.vectors.clone(),
        };
        let model = ModelChoice::from_flags(flags).map_err(|e| to_py(e.into()))?;
        let threads =
            self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let device = match self.device.as_str() {
            "cpu" => Device::Cpu,
            "cuda" => Device::Cuda,
            "auto" => Device::Auto,
            other => {
                let msg = format!("device: expected \"cpu\", \"cuda\" or \"auto\", got {other:?}");
                return Err(pyo3::exceptions::PyValueError::new_err(msg));
            }
        };
        let options = EmbedOptions {
            model,
            device,
            max_tokens: self.max_tokens,
            use_cache: self.use_cache,
            ..EmbedOptions::new(threads)
        };
        let options = options.check().map_err(|e| to_py(e.into()))?;
        let call = Call {
            cancel: Cancel::default(),
            queue: Arc::default(),
            callback: self.progress.as_ref().map(|c| c.clone_ref(py)),
        };
        // Always the queue: notes reach Python as warnings with or without a callable.
        let progress = Progress::to_sink(call.queue.clone());
        Ok((options, progress.with_cancel(call.cancel.clone()), call))
    }
}

/// The vectors of a battles file as the bytes of a vectors file (Parquet),
/// and the summary as JSON.
#[pyfunction]
#[pyo3(signature = (data, producer, embed))]
pub(crate) fn embed_vectors(
    py: Python<'_>,
    data: PathBuf,
    producer: Option<String>,
    embed: Embed,
) -> PyResult<(Py<PyBytes>, String)> {
    let (options, progress, call) = embed.options(py)?;
    let cfg = pipeline::EmbedConfig { input: data, out: PathBuf::new(), embed: options, producer, progress };
    let (bytes, summary) = interruptible(py, call, move || pipeline::vectors_of(&cfg))?;
    Ok((PyBytes::new(py, &bytes).unbind(), to_json(&summary)))
}
