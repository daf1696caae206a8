//! What a worker of a cluster job holds (`knnpref.ray`): a model held open
//! to embed one batch after another (`Embedder`), and an index held open
//! with its model to score them (`Predictor`), each loaded once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use knnpref::embed::CheckedEmbed;
use knnpref::pipeline::{self, PipelineError};
use knnpref::progress::{Cancel, Progress};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::embed::Embed;
use crate::{columns, interruptible, to_json, Call, Columns, Queue};

/// Something loaded once and used by call after call: the loaded value, and
/// the cancel token and event queue it was opened with (the model keeps a
/// copy of that token, so every call runs under it).
struct Held<T> {
    inner: Arc<Mutex<T>>,
    cancel: Cancel,
    queue: Arc<Queue>,
}

impl<T: Send + 'static> Held<T> {
    /// Load with `embed`'s options, Ctrl-C-interruptible like every call.
    fn open(
        py: Python<'_>,
        embed: Embed,
        load: impl FnOnce(CheckedEmbed, Progress) -> Result<T, PipelineError> + Send + 'static,
    ) -> PyResult<Held<T>> {
        let (options, progress, call) = embed.options(py)?;
        let (cancel, queue) = (call.cancel.clone(), call.queue.clone());
        let opened = interruptible(py, call, move || load(options, progress))?;
        Ok(Held { inner: Arc::new(Mutex::new(opened)), cancel, queue })
    }

    /// Run `work` on the held value, interruptibly.
    fn call<R: Send + 'static>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&mut T) -> Result<R, PipelineError> + Send + 'static,
    ) -> PyResult<R> {
        // Cleared, so that an earlier Ctrl-C stops only its own call.
        self.cancel.reset();
        let call = Call { cancel: self.cancel.clone(), queue: self.queue.clone(), callback: None };
        let inner = self.inner.clone();
        interruptible(py, call, move || {
            // A panic in an earlier call leaves the lock poisoned: the value itself is still whole.
            work(&mut inner.lock().unwrap_or_else(PoisonError::into_inner))
        })
    }
}

/// A model held open (`knnpref.Embedder`): each `vectors` call embeds one
/// battles file without loading the model again, as a Ray actor does.
#[pyclass(name = "Embedder", module = "knnpref._native")]
pub(crate) struct HeldEmbedder(Held<pipeline::BattleEmbedder>);

#[pymethods]
impl HeldEmbedder {
    #[new]
    #[pyo3(signature = (producer, embed))]
    fn new(py: Python<'_>, producer: Option<String>, embed: Embed) -> PyResult<HeldEmbedder> {
        let held = Held::open(py, embed, move |options, progress| {
            pipeline::BattleEmbedder::open(&options, producer, &progress)
        })?;
        Ok(HeldEmbedder(held))
    }

    /// The vectors of a battles file as the bytes of a vectors file, and the summary as JSON.
    fn vectors(&self, py: Python<'_>, data: PathBuf) -> PyResult<(Py<PyBytes>, String)> {
        let (bytes, summary) = self.0.call(py, move |embedder| embedder.vectors_of(&data))?;
        Ok((PyBytes::new(py, &bytes).unbind(), to_json(&summary)))
    }
}

/// An index held open with its model (`knnpref.Predictor`): each `predict`
/// call scores one test file without loading either again.
#[pyclass(name = "Predictor", module = "knnpref._native")]
pub(crate) struct HeldPredictor(Held<pipeline::Predictor>);

#[pymethods]
impl HeldPredictor {
    #[new]
    #[pyo3(signature = (index, queries, embed))]
    fn new(py: Python<'_>, index: PathBuf, queries: usize, embed: Embed) -> PyResult<HeldPredictor> {
        let held = Held::open(py, embed, move |options, progress| {
            pipeline::Predictor::open(&index, &options, queries, &progress)
        })?;
        Ok(HeldPredictor(held))
    }

    /// The submission columns for a test file, and the summary as JSON.
    fn predict(&self, py: Python<'_>, test: PathBuf) -> PyResult<Columns> {
        self.0.call(py, move |predictor| {
            let (rows, summary) = predictor.predict(&test)?;
            Ok(columns(&rows, &summary))
        })
    }
}
