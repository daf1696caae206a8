//! What a running command shows of its progress, and how its caller stops it.
//!
//! The caller chooses, per call, where progress goes ([`Progress`]): nowhere,
//! to the terminal as the CLI's indicatif bars, or to a [`Sink`] of its own
//! (the Python module forwards events to a Python callable). Each long stage
//! reports [`Event`]s: its name, its position, its total if it has one, and
//! whether it finished. A stage that stops on an error or a cancel reports
//! no `finished` event.
//!
//! The same handle carries the call's [`Cancel`] token: embedding batches,
//! neighbour look-ups, head fits and evaluation folds check it at their
//! loop boundaries and stop with [`Cancelled`]. A token belongs to one call,
//! so cancelling one call (or one test) never stops another.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// One progress report of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The stage, e.g. `embedding train`, `fitting`, `evaluating`.
    pub stage: &'a str,
    /// Work done so far, in the stage's own unit (tokens, fits, …).
    pub position: u64,
    /// Work in all, when the stage knows it.
    pub total: Option<u64>,
    /// The stage completed (its last event; `position` is final).
    pub finished: bool,
}

/// Where a caller's progress events go. Called from the thread doing the
/// work, possibly often (each embedded text): keep it cheap, throttle there.
pub trait Sink: Send + Sync {
    /// Take one event.
    fn event(&self, event: &Event<'_>);

    /// Take a note the library has for the user (a fallback it took, say);
    /// the CLI prints these as `note:` lines. Ignored unless overridden.
    fn note(&self, _text: &str) {}
}

/// The error of a cancelled call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// A call's cancel flag: clones share it; a new one is not cancelled.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Ask the call holding this token to stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Clear the flag, for the next call of an object that outlives calls
    /// (Python's held `Embedder` and `Predictor`: a Ctrl-C stops one call,
    /// not the object).
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled: the check at a loop boundary.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Where progress is shown.
#[derive(Clone, Default)]
enum Shown {
    #[default]
    Hidden,
    Terminal,
    Sink(Arc<dyn Sink>),
}

/// How a call reports progress, and its [`Cancel`] token. The default is
/// hidden, with a token nobody else holds.
#[derive(Clone, Default)]
pub struct Progress {
    shown: Shown,
    cancel: Cancel,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = match self.shown {
            Shown::Hidden => "hidden",
            Shown::Terminal => "terminal",
            Shown::Sink(_) => "sink",
        };
        f.debug_struct("Progress").field("shown", &shown).field("cancel", &self.cancel).finish()
    }
}

impl Progress {
    /// Show nothing (the CLI's `--quiet`).
    pub fn hidden() -> Progress {
        Progress::default()
    }

    /// Draw indicatif bars on stderr (when it is a terminal), as the CLI does.
    pub fn terminal() -> Progress {
        Progress { shown: Shown::Terminal, ..Progress::default() }
    }

    /// Send events to `sink`.
    pub fn to_sink(sink: Arc<dyn Sink>) -> Progress {
        Progress { shown: Shown::Sink(sink), ..Progress::default() }
    }

    /// The same display, stopped by `cancel`.
    pub fn with_cancel(self, cancel: Cancel) -> Progress {
        Progress { cancel, ..self }
    }

    /// Whether progress is shown at all (notes follow it too).
    pub fn is_shown(&self) -> bool {
        !matches!(self.shown, Shown::Hidden)
    }

    /// Tell the user something that changes nothing of the result (the
    /// CPU used because no GPU was found, say): a `note:` line on the
    /// terminal, [`Sink::note`] for a sink, nothing when hidden.
    pub fn note(&self, text: &str) {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Terminal => eprintln!("note: {text}"),
            Shown::Sink(sink) => sink.note(text),
        }
    }

    /// This call's cancel token.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// Start a stage of `total` units (`None`: no count). `bar` builds the
    /// terminal's styled bar and is only called for [`Progress::terminal`].
    /// A sink gets a first event at position 0 now.
    pub(crate) fn stage(
        &self,
        name: &str,
        total: Option<u64>,
        bar: impl FnOnce() -> indicatif::ProgressBar,
    ) -> Stage {
        let (bar, sink) = match &self.shown {
            Shown::Hidden => (indicatif::ProgressBar::hidden(), None),
            Shown::Terminal => (bar(), None),
            Shown::Sink(sink) => (indicatif::ProgressBar::hidden(), Some(Arc::clone(sink))),
        };
        // A log file gets no bar: its steps become lines instead.
        let logged = matches!(self.shown, Shown::Terminal) && !std::io::stderr().is_terminal();
        let started = logged.then(std::time::Instant::now);
        let stage = Stage { bar, sink, name: name.to_string(), total, position: AtomicU64::new(0), started };
        stage.send(0, false);
        stage
    }
}

/// A running stage: a terminal bar, events to a sink, or nothing.
pub(crate) struct Stage {
    bar: indicatif::ProgressBar,
    sink: Option<Arc<dyn Sink>>,
    name: String,
    total: Option<u64>,
    position: AtomicU64,
    /// When the CLI's stderr is not a terminal (a log file): the stage's start.
    started: Option<std::time::Instant>,
}

impl Stage {
    fn send(&self, position: u64, finished: bool) {
        if let Some(sink) = &self.sink {
            sink.event(&Event { stage: &self.name, position, total: self.total, finished });
        }
    }

    /// Advance by `n` units.
    pub(crate) fn inc(&self, n: u64) {
        self.bar.inc(n);
        let position = self.position.fetch_add(n, Ordering::Relaxed) + n;
        self.send(position, false);
    }

    /// The terminal bar's message (not sent to a sink).
    pub(crate) fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// A step of a long stage: the bar's message on a terminal, and a line
    /// with the seconds since the stage began when stderr is a log file
    /// (an hour-long fit run under nohup says which part it is in).
    pub(crate) fn step(&self, message: String) {
        if let Some(started) = self.started {
            eprintln!("{message} (at {:.1} s)", started.elapsed().as_secs_f64());
        }
        self.bar.set_message(message);
    }

    /// A line printed above the terminal bar (not sent to a sink).
    pub(crate) fn println(&self, line: String) {
        self.bar.println(line);
    }

    /// The stage completed: clear the bar, tell the sink.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
        self.send(self.position.load(Ordering::Relaxed), true);
    }

    /// The stage stopped (an error, a cancel): clear the bar, tell the sink
    /// nothing. A stage merely dropped leaves its bar's last frame instead,
    /// as an indicatif bar does.
    pub(crate) fn clear(self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An event as owned values.
    type Owned = (String, u64, Option<u64>, bool);

    #[derive(Default)]
    struct Record(Mutex<Vec<Owned>>);

    impl Sink for Record {
        fn event(&self, e: &Event<'_>) {
            self.0.lock().unwrap().push((e.stage.to_string(), e.position, e.total, e.finished));
        }

        fn note(&self, text: &str) {
            self.0.lock().unwrap().push((format!("note: {text}"), 0, None, true));
        }
    }

    #[test]
    fn notes_reach_a_sink_and_hidden_progress_drops_them() {
        let record = Arc::new(Record::default());
        Progress::to_sink(record.clone()).note("embedding on the CPU");
        Progress::hidden().note("never seen");
        let events = record.0.lock().unwrap().clone();
        assert_eq!(events, [("note: embedding on the CPU".to_string(), 0, None, true)]);
    }

    #[test]
    fn a_sink_gets_start_positions_and_finish() {
        let record = Arc::new(Record::default());
        let progress = Progress::to_sink(record.clone());
        let stage = progress.stage("embedding train", Some(5), || panic!("no terminal bar for a sink"));
        stage.inc(2);
        stage.inc(3);
        stage.finish();
        let cut = progress.stage("fitting", None, indicatif::ProgressBar::hidden);
        drop(cut);
        let events = record.0.lock().unwrap().clone();
        let e = |s: &str, p, t, f| (s.to_string(), p, t, f);
        assert_eq!(
            events,
            [
                e("embedding train", 0, Some(5), false),
                e("embedding train", 2, Some(5), false),
                e("embedding train", 5, Some(5), false),
                e("embedding train", 5, Some(5), true),
                e("fitting", 0, None, false),
            ],
            "a dropped, unfinished stage sends no finish"
        );
    }

    #[test]
    fn cancel_tokens_are_per_call_and_shared_by_clones() {
        let (a, b) = (Progress::hidden(), Progress::terminal());
        let held = a.clone();
        assert_eq!(a.cancel().check(), Ok(()));
        held.cancel().cancel();
        assert_eq!(a.cancel().check(), Err(Cancelled));
        assert!(!b.cancel().is_cancelled(), "another call's token is untouched");
        let c = Cancel::default();
        let d = Progress::hidden().with_cancel(c.clone());
        c.cancel();
        assert!(d.cancel().is_cancelled() && !d.is_shown() && b.is_shown());
    }
}
