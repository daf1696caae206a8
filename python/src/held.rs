//! What a worker of a cluster job holds (`knnpref.ray`): a model held open
//! to embed one batch after another (`Embedder`), and an index held open
//! with its model to score them (`Predictor`), each loaded once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use knnpref::pipeline;
use knnpref::progress::Cancel;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::embed::Embed;
use crate::{interruptible, to_json, Call, Columns, Queue};

/// A model held open (`knnpref.Embedder`): each `vectors` call embeds one
/// battles file without loading the model again, as a Ray actor does.
#[pyclass(name = "Embedder", module = "knnpref._native")]
pub(crate) struct HeldEmbedder {
    inner: Arc<Mutex<pipeline::BattleEmbedder>>,
    cancel: Cancel,
    queue: Arc<Queue>,
}

#[pymethods]
impl HeldEmbedder {
    #[new]
    #[pyo3(signature = (producer, embed))]
    fn new(py: Python<'_>, producer: Option<String>, embed: Embed) -> PyResult<HeldEmbedder> {
        let (options, progress, call) = embed.options(py)?;
        let (cancel, queue) = (call.cancel.clone(), call.queue.clone());
        let opened =
            interruptible(py, call, move || pipeline::BattleEmbedder::open(&options, producer, &progress))?;
        Ok(HeldEmbedder { inner: Arc::new(Mutex::new(opened)), cancel, queue })
    }

    /// The vectors of a battles file as the bytes of a vectors file, and the summary as JSON.
    fn vectors(&self, py: Python<'_>, data: PathBuf) -> PyResult<(Py<PyBytes>, String)> {
        // The token the model was opened with: cleared, so that an earlier Ctrl-C stops only its call.
        self.cancel.reset();
        let call = Call { cancel: self.cancel.clone(), queue: self.queue.clone(), callback: None };
        let inner = self.inner.clone();
        let (bytes, summary) = interruptible(py, call, move || {
            // A panic in an earlier call leaves the lock poisoned: the model itself is still whole.
            let mut held = inner.lock().unwrap_or_else(PoisonError::into_inner);
            held.vectors_of(&data)
        })?;
        Ok((PyBytes::new(py, &bytes).unbind(), to_json(&summary)))
    }
}

/// An index held open with its model (`knnpref.Predictor`): each `predict`
/// call scores one test file without loading either again.
#[pyclass(name = "Predictor", module = "knnpref._native")]
pub(crate) struct HeldPredictor {
    inner: Arc<Mutex<pipeline::Predictor>>,
    cancel: Cancel,
    queue: Arc<Queue>,
}

#[pymethods]
impl HeldPredictor {
    #[new]
    #[pyo3(signature = (index, queries, embed))]
    fn new(py: Python<'_>, index: PathBuf, queries: usize, embed: Embed) -> PyResult<HeldPredictor> {
        let (options, progress, call) = embed.options(py)?;
        let (cancel, queue) = (call.cancel.clone(), call.queue.clone());
        let opened =
            interruptible(py, call, move || pipeline::Predictor::open(&index, &options, queries, &progress))?;
        Ok(HeldPredictor { inner: Arc::new(Mutex::new(opened)), cancel, queue })
    }

    /// The submission columns for a test file, and the summary as JSON.
    fn predict(&self, py: Python<'_>, test: PathBuf) -> PyResult<Columns> {
        // The token the model was opened with: cleared, so that an earlier Ctrl-C stops only its call.
        self.cancel.reset();
        let call = Call { cancel: self.cancel.clone(), queue: self.queue.clone(), callback: None };
        let inner = self.inner.clone();
        interruptible(py, call, move || {
            let mut held = inner.lock().unwrap_or_else(PoisonError::into_inner);
            let (rows, summary) = held.predict(&test)?;
            let column = |c: usize| rows.probs.iter().map(|p| p[c]).collect::<Vec<f64>>();
            Ok((rows.ids.clone(), column(0), column(1), column(2), to_json(&summary)))
        })
    }
}
