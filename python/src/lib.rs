//! `knnpref._native`: the library's pipeline calls, exposed to Python.
//!
//! Every function takes paths and plain options, runs the library's
//! `pipeline` function on a worker thread with the GIL released, and returns
//! plain data (JSON text or columns); `knnpref/__init__.py` turns those into
//! `Index`, dicts and DataFrames.
//!
//! The worker never touches Python. Its progress events go to a queue
//! (throttled there: a stage's first and last event, and at most one other
//! per [`MIN_GAP`]), and the calling thread, which polls the worker every
//! 50 ms with the GIL released in between, hands them to the Python
//! callable itself, so no thread ever waits for the GIL while another waits
//! for it. An exception from the callable is reported once through
//! `sys.unraisablehook` and the callable is not called again in that call;
//! the run carries on. A `KeyboardInterrupt` from it, or Ctrl-C while
//! polling, cancels the call's token (embedding and fitting stop at their
//! next check), refuses any rename into place, waits for the worker,
//! removes temporary files and raises `KeyboardInterrupt`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use knnpref::fault::Fault;
use knnpref::features::KnnParams;
use knnpref::model::{CheckedParams, ModelParams};
use knnpref::pipeline::{self, PipelineError};
use knnpref::progress::{Cancel, Event, Sink};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyRuntimeError, PyRuntimeWarning, PyValueError};
use pyo3::prelude::*;

mod embed;
mod held;
use embed::Embed;

create_exception!(
    knnpref,
    DataError,
    PyValueError,
    "Bad input data or arguments; the message is the CLI's (without `error: `)."
);
create_exception!(
    knnpref,
    IndexRefused,
    PyValueError,
    "An index folder that cannot be used as asked: not an index, modified, newer, or built with another model or token budget."
);

/// Least time between two events of one stage that reach Python (a
/// stage's first and its finishing event always do): 5 a second.
const MIN_GAP: Duration = Duration::from_millis(200);

/// One progress event, owned.
struct Owned {
    stage: String,
    position: u64,
    total: Option<u64>,
    finished: bool,
}

/// Progress events waiting for the calling thread, throttled per stage.
#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    events: Vec<Owned>,
    /// The library's notes, raised as `RuntimeWarning`s by the calling thread.
    notes: Vec<String>,
    /// When each running stage last queued an event.
    last: HashMap<String, Instant>,
}

impl Sink for Queue {
    fn event(&self, e: &Event<'_>) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let due = match state.last.get(e.stage) {
            None => true,
            Some(t) => e.finished || now.duration_since(*t) >= MIN_GAP,
        };
        if !due {
            return;
        }
        if e.finished {
            state.last.remove(e.stage);
        } else {
            state.last.insert(e.stage.to_string(), now);
        }
        let owned =
            Owned { stage: e.stage.to_string(), position: e.position, total: e.total, finished: e.finished };
        state.events.push(owned);
    }

    fn note(&self, text: &str) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).notes.push(text.to_string());
    }
}

/// What the calling thread holds of one call: the worker's cancel token and
/// the progress events queued for the Python callable.
pub(crate) struct Call {
    cancel: Cancel,
    queue: Arc<Queue>,
    callback: Option<Py<PyAny>>,
}

impl Call {
    /// Hand the queued events to the callable. An exception from it is
    /// reported once (`sys.unraisablehook`) and the callable dropped for the
    /// rest of the call; a `KeyboardInterrupt` (or any `BaseException` that
    /// is not an `Exception`) is returned, to cancel the call.
    fn deliver(&mut self, py: Python<'_>) -> PyResult<()> {
        let (events, notes) = {
            let mut state = self.queue.state.lock().unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut state.events), std::mem::take(&mut state.notes))
        };
        for note in notes {
            let text = std::ffi::CString::new(note.replace('\0', " ")).expect("no NUL left");
            PyErr::warn(py, &py.get_type::<PyRuntimeWarning>(), &text, 1)?;
        }
        for e in events {
            let Some(callback) = &self.callback else { return Ok(()) };
            if let Err(err) = callback.call1(py, (e.stage, e.position, e.total, e.finished)) {
                if !err.is_instance_of::<PyException>(py) {
                    return Err(err);
                }
                let callback = self.callback.take().map(|c| c.into_bound(py));
                err.write_unraisable(py, callback.as_ref());
            }
        }
        Ok(())
    }
}

/// The CLI's message: the error and its causes, joined by ": ".
fn message(err: &PipelineError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub(crate) fn to_py(err: PipelineError) -> PyErr {
    let text = message(&err);
    match err {
        e if e.is_cancelled() => PyKeyboardInterrupt::new_err(text),
        PipelineError::Index(_)
        | PipelineError::MaxTokensMismatch { .. }
        | PipelineError::ModelGone { .. }
        | PipelineError::BaseOptions { .. } => IndexRefused::new_err(text),
        e if e.fault() == Fault::User => DataError::new_err(text),
        _ => PyRuntimeError::new_err(text),
    }
}

/// Run `work` on its own thread with the GIL released, handing its
/// progress to the callable between polls; on a signal that raises
/// (Ctrl-C), or a `KeyboardInterrupt` from the callable, cancel it, wait for
/// it, clean up and raise.
pub(crate) fn interruptible<T: Send + 'static>(
    py: Python<'_>,
    mut call: Call,
    work: impl FnOnce() -> Result<T, PipelineError> + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    let mut rx = rx;
    loop {
        // The receiver is Send but not Sync: move it through the GIL-free section.
        let (back, got) = py.detach(move || {
            let got = rx.recv_timeout(Duration::from_millis(50));
            (rx, got)
        });
        rx = back;
        let done = match got {
            Ok(done) => Some(done),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = worker.join();
                return Err(PyRuntimeError::new_err(
                    "knnpref failed unexpectedly (a worker thread panicked)",
                ));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => None,
        };
        // The last events (a stage's finish) reach the callable before the call returns.
        if let Err(interrupt) = call.deliver(py).and_then(|()| py.check_signals()) {
            return Err(cancel(py, &call.cancel, worker, interrupt));
        }
        if let Some(done) = done {
            let _ = worker.join();
            return done.map_err(to_py);
        }
    }
}

/// Stop the worker: cancel its token and refuse renames into place until it
/// has returned, then remove its temporary files; returns `interrupt`. The
/// process-wide refusal (`fsio::request_cancel`) is lifted before this
/// returns, so the next call starts without it; the token was this call's
/// alone.
fn cancel(py: Python<'_>, token: &Cancel, worker: std::thread::JoinHandle<()>, interrupt: PyErr) -> PyErr {
    token.cancel();
    knnpref::fsio::request_cancel();
    py.detach(|| {
        let _ = worker.join();
    });
    knnpref::fsio::remove_pending();
    knnpref::fsio::clear_cancel();
    interrupt
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("library results serialise")
}

/// Build an index folder; returns the summary as JSON.
#[pyfunction]
#[pyo3(signature = (train, out, seed, folds, neighbours, embed, base=None, skip_existing=false))]
#[allow(clippy::too_many_arguments)] // one per keyword of the Python function
fn build_index(
    py: Python<'_>,
    train: PathBuf,
    out: PathBuf,
    seed: u64,
    folds: usize,
    neighbours: usize,
    embed: Embed,
    base: Option<PathBuf>,
    skip_existing: bool,
) -> PyResult<String> {
    let params = fit_params(seed, folds, neighbours)?;
    let (options, progress, call) = embed.options(py)?;
    let existing = if skip_existing { pipeline::Existing::Skip } else { pipeline::Existing::Refuse };
    let base = base.map(|dir| pipeline::Base { dir, existing });
    let cfg = pipeline::IndexConfig { train, out, embed: options, params, base, progress };
    interruptible(py, call, move || pipeline::build_index(&cfg).map(|s| to_json(&s)))
}

/// The library's checked fit parameters: the same rules and messages as the CLI's.
fn fit_params(seed: u64, folds: usize, neighbours: usize) -> PyResult<CheckedParams> {
    let params = ModelParams {
        folds,
        seed,
        knn: KnnParams { k: neighbours, ..KnnParams::default() },
        ..ModelParams::default()
    };
    params.check().map_err(|e| to_py(e.into()))
}

/// Predicted columns: ids, the three probabilities, and the summary as JSON.
pub(crate) type Columns = (Vec<String>, Vec<f64>, Vec<f64>, Vec<f64>, String);

/// Predict a test file with an index; writes the submission to `out` too
/// when given (checked against the inputs and for writability first, as
/// the CLI does).
#[pyfunction]
#[pyo3(signature = (index, test, out, embed))]
fn predict(
    py: Python<'_>,
    index: PathBuf,
    test: PathBuf,
    out: Option<PathBuf>,
    embed: Embed,
) -> PyResult<Columns> {
    let (options, progress, call) = embed.options(py)?;
    interruptible(py, call, move || {
        let out = out.map(pipeline::Destination::File);
        let cfg = pipeline::PredictConfig { index, test, out, embed: options, progress };
        let (rows, summary) = pipeline::predict(&cfg)?;
        Ok(columns(&rows, &summary))
    })
}

/// Predictions as the submission columns, and the summary as JSON.
pub(crate) fn columns(rows: &pipeline::Predictions, summary: &pipeline::PredictSummary) -> Columns {
    let column = |c: usize| rows.probs.iter().map(|p| p[c]).collect::<Vec<f64>>();
    (rows.ids.clone(), column(0), column(1), column(2), to_json(summary))
}

/// The nearest training battles to a text or a training id, as JSON.
#[pyfunction]
#[pyo3(signature = (index, text, id, k, embed))]
fn similar(
    py: Python<'_>,
    index: PathBuf,
    text: Option<String>,
    id: Option<String>,
    k: usize,
    embed: Embed,
) -> PyResult<String> {
    let query = match (text, id) {
        (Some(text), None) => pipeline::Query::Text(text),
        (None, Some(id)) => pipeline::Query::Id(id),
        _ => return Err(DataError::new_err("invalid argument text/id: give exactly one of them")),
    };
    let (options, progress, call) = embed.options(py)?;
    let cfg = pipeline::SimilarConfig { index, query, show: k, embed: options, progress };
    interruptible(py, call, move || pipeline::similar(&cfg).map(|r| to_json(&r)))
}

/// Nested cross-validation; returns the metrics.json content as JSON.
#[pyfunction]
#[pyo3(signature = (train, folds, seed, repeats, oof, report, learning_curve, neighbours, embed))]
#[allow(clippy::too_many_arguments)]
fn evaluate(
    py: Python<'_>,
    train: PathBuf,
    folds: usize,
    seed: u64,
    repeats: usize,
    oof: Option<PathBuf>,
    report: Option<PathBuf>,
    learning_curve: bool,
    neighbours: usize,
    embed: Embed,
) -> PyResult<String> {
    let (options, progress, call) = embed.options(py)?;
    let cfg = pipeline::EvaluateConfig {
        train,
        folds,
        repeats,
        oof,
        report,
        embed: options,
        params: fit_params(seed, folds, neighbours)?,
        learning_curve,
        progress,
    };
    interruptible(py, call, move || pipeline::evaluate(&cfg).map(|r| to_json(&r)))
}

/// An index's manifest as JSON, after checking its model (cheap: the files
/// are verified when `predict` or `similar` load them).
#[pyfunction]
#[pyo3(signature = (index, embed))]
fn manifest(py: Python<'_>, index: PathBuf, embed: Embed) -> PyResult<String> {
    let (options, _, call) = embed.options(py)?;
    interruptible(py, call, move || pipeline::index_manifest(&index, &options).map(|m| to_json(&m)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DataError", m.py().get_type::<DataError>())?;
    m.add("IndexRefused", m.py().get_type::<IndexRefused>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(build_index, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(similar, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(manifest, m)?)?;
    m.add_function(wrap_pyfunction!(embed::embed_vectors, m)?)?;
    m.add_class::<held::HeldEmbedder>()?;
    m.add_class::<held::HeldPredictor>()?;
    Ok(())
}
