//! The parts of a fit and the wall time of each. At hundreds of thousands
//! of battles a fit runs for an hour, and its parts scale differently (the
//! HNSW graph is built on one core, the look-ups and heads on all), so the
//! caller is told which part is running and how long each took.

use std::time::Instant;

/// One part of [`super::Model::fit_timed`], in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitPhase {
    /// Building the neighbour indexes (an HNSW graph when the search uses one).
    Graph,
    /// Cross-fitted neighbour look-ups for every training battle.
    Neighbours,
    /// Choosing the head's hyperparameters by cross-validation.
    Select,
    /// Cross-fitting the chosen head on every row (when the choice was made
    /// on a sample of rows).
    CrossFit,
    /// The boosted head: its cross-validated rounds and its fit.
    Boosted,
    /// Temperature and the logistic head fitted on every row.
    Final,
}

impl std::fmt::Display for FitPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FitPhase::Graph => "building the neighbour indexes",
            FitPhase::Neighbours => "cross-fitted neighbour look-ups",
            FitPhase::Select => "choosing the head by cross-validation",
            FitPhase::CrossFit => "cross-fitting the chosen head on every row",
            FitPhase::Boosted => "boosted head",
            FitPhase::Final => "temperature and the final head",
        })
    }
}

/// Wall seconds of each part of a fit (0 for a part that did not run).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct FitSeconds {
    /// See [`FitPhase::Graph`].
    pub graph: f64,
    /// See [`FitPhase::Neighbours`].
    pub neighbours: f64,
    /// See [`FitPhase::Select`].
    pub select: f64,
    /// See [`FitPhase::CrossFit`].
    pub cross_fit: f64,
    /// See [`FitPhase::Boosted`].
    pub boosted: f64,
    /// See [`FitPhase::Final`].
    pub last: f64,
}

impl FitSeconds {
    fn slot(&mut self, phase: FitPhase) -> &mut f64 {
        match phase {
            FitPhase::Graph => &mut self.graph,
            FitPhase::Neighbours => &mut self.neighbours,
            FitPhase::Select => &mut self.select,
            FitPhase::CrossFit => &mut self.cross_fit,
            FitPhase::Boosted => &mut self.boosted,
            FitPhase::Final => &mut self.last,
        }
    }
}

/// Times the running phase and tells the caller of each new one.
pub(super) struct Clock<'a> {
    on_phase: &'a dyn Fn(FitPhase),
    running: Option<(FitPhase, Instant)>,
    seconds: FitSeconds,
}

impl<'a> Clock<'a> {
    pub(super) fn new(on_phase: &'a dyn Fn(FitPhase)) -> Self {
        Clock { on_phase, running: None, seconds: FitSeconds::default() }
    }

    /// End the running phase and start `phase`.
    pub(super) fn start(&mut self, phase: FitPhase) {
        self.stop();
        (self.on_phase)(phase);
        self.running = Some((phase, Instant::now()));
    }

    fn stop(&mut self) {
        if let Some((phase, since)) = self.running.take() {
            *self.seconds.slot(phase) += since.elapsed().as_secs_f64();
        }
    }

    /// End the running phase; the seconds of every phase.
    pub(super) fn finish(mut self) -> FitSeconds {
        self.stop();
        self.seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn each_phase_is_announced_and_timed_into_its_own_slot() {
        let seen = RefCell::new(Vec::new());
        let on_phase = |p: FitPhase| seen.borrow_mut().push(p);
        let mut clock = Clock::new(&on_phase);
        clock.start(FitPhase::Graph);
        std::thread::sleep(std::time::Duration::from_millis(20));
        clock.start(FitPhase::Final);
        let s = clock.finish();
        assert_eq!(*seen.borrow(), [FitPhase::Graph, FitPhase::Final]);
        assert!(s.graph >= 0.02, "{s:?}");
        assert_eq!((s.neighbours, s.select, s.cross_fit, s.boosted), (0.0, 0.0, 0.0, 0.0));
    }
}
