//! The fitted knnpref model: neighbour indexes over training battles, the
//! cross-fitted head and its temperature.
//!
//! Training rows get neighbour features from other folds only, so that no row
//! sees its own vote; test rows see every training battle. The head's L2
//! strength and the weight of the embedding-difference block are chosen by
//! cross-validation on those features (`select`), never by hand.

mod check;
pub mod head;
mod neighbours;
mod params;
mod phases;
mod select;

use ndarray::Array2;

use crate::data::Label;
use crate::features::{feature_names, matrices, EncodedBattles, KnnValues};
use crate::fsio::pause_at;
use crate::metrics::log_loss;
use crate::progress::{Cancel, Cancelled};
use crate::rand::{fold_assignment, SplitMix};
use crate::search::Hit;
pub use check::{CheckedParams, ParamsError};
use head::{BoostedParams, HeadError, HeadParams, Temperature, TreeParams};
use neighbours::Neighbours;
pub use params::{prior_of, HeadChoice, ModelParams, ModelState, Oof};
use phases::Clock;
pub use phases::{FitPhase, FitSeconds};
use select::{blend, boosted_oof, cv_oof, select_blend, select_head, Folded};

/// A model ready to predict: its learned state and the neighbour indexes
/// over the training battles it was fitted on.
pub struct Model {
    /// What the fit learned.
    pub state: ModelState,
    neighbours: Neighbours,
}

impl Model {
    /// Rebuild the neighbour indexes around a learned state, for look-ups
    /// about `queries` battles (`Search::Auto` builds no HNSW graph for a few).
    pub fn assemble(state: ModelState, train: &EncodedBattles, labels: Vec<Label>, queries: usize) -> Model {
        let p = &state.params;
        let neighbours = Neighbours::build(train, labels, p.search, p.hnsw, queries, p.seed);
        Model { state, neighbours }
    }

    /// Training votes, by battle.
    pub fn labels(&self) -> &[Label] {
        &self.neighbours.labels
    }

    /// Fit on labelled, encoded battles. Returns the model and its
    /// out-of-fold calibrated probabilities for the training rows.
    ///
    /// Stops with [`HeadError::Cancelled`] soon after `cancel` is cancelled:
    /// it is checked before each block of neighbour look-ups, each CV fold's
    /// fit, each optimiser iteration and each boosting round. Test pauses
    /// (`fsio::pause_at`): `fit-select` (neighbour features done, before the
    /// head selection) and `fit-done` (the fit complete, before it returns).
    pub fn fit(
        params: &CheckedParams,
        train: &EncodedBattles,
        labels: &[Label],
        cancel: &Cancel,
    ) -> Result<(Model, Oof), HeadError> {
        Model::fit_timed(params, train, labels, cancel, &|_| {}).map(|(model, oof, _)| (model, oof))
    }

    /// [`Model::fit`], calling `on_phase` as each part of the fit starts and
    /// returning how long each took: at hundreds of thousands of battles a
    /// fit runs for long, and its parts scale differently.
    pub fn fit_timed(
        params: &CheckedParams,
        train: &EncodedBattles,
        labels: &[Label],
        cancel: &Cancel,
        on_phase: &dyn Fn(FitPhase),
    ) -> Result<(Model, Oof, FitSeconds), HeadError> {
        cancel.check()?;
        let mut clock = Clock::new(on_phase);
        let n = labels.len();
        if params.check_rows(n).is_err() {
            // Callers check the row count first (it is the user's to fix).
            return Err(HeadError::BadData { rows: n, why: "need at least 2 labelled rows per fold" });
        }
        // Cross-fitting looks up every training battle.
        clock.start(FitPhase::Graph);
        let neighbours =
            Neighbours::build(train, labels.to_vec(), params.search, params.hnsw, n, params.seed);
        let prior = prior_of(labels);
        let fold_of = fold_assignment(n, params.folds, params.seed);
        clock.start(FitPhase::Neighbours);
        let knn = knn_values(&neighbours, params, prior, train, Some(&fold_of), cancel)?;
        let (x, x_swapped) = matrices(&params.features, train, &knn);
        pause_at("fit-select");
        clock.start(FitPhase::Select);

        // Choose the head's hyperparameters by cross-validation, on a seeded
        // sample of rows when there are many.
        let base = HeadParams {
            lambda: 1.0,
            emb_scale: 1.0,
            scalar_len: params.features.scalar_len(),
            max_iter: params.max_iter,
        };
        let scales: Vec<f64> = if params.features.embedding { params.emb_scales.clone() } else { vec![1.0] };
        let folds = params.folds;
        let all = Folded { x: &x, x_swapped: &x_swapped, labels, fold_of: &fold_of, folds, cancel };
        let (best, best_oof) = if n > params.select_rows.max(params.folds * 2) {
            let mut rows: Vec<usize> = (0..n).collect();
            SplitMix::new(params.seed ^ 0x5e1e_c7ed).shuffle(&mut rows);
            rows.truncate(params.select_rows);
            rows.sort_unstable();
            let pick = |m: &Array2<f64>| m.select(ndarray::Axis(0), &rows);
            let (xs, xss) = (pick(&x), pick(&x_swapped));
            let y: Vec<Label> = rows.iter().map(|&i| labels[i]).collect();
            let f: Vec<usize> = rows.iter().map(|&i| fold_of[i]).collect();
            let sample = Folded { x: &xs, x_swapped: &xss, labels: &y, fold_of: &f, folds, cancel };
            let (_, best, _) = select_head(&base, &scales, &params.lambdas, &sample)?;
            clock.start(FitPhase::CrossFit);
            (best, cv_oof(&best, &all)?)
        } else {
            let (_, best, oof) = select_head(&base, &scales, &params.lambdas, &all)?;
            (best, oof)
        };
        // The boosted head, and the blend weight chosen on out-of-fold rows.
        let boost = BoostedParams { trees: params.trees, cols: params.features.scalar_len() };
        let choice = if boost.cols == 0 { HeadChoice::Linear } else { params.head };
        let (linear_weight, rounds, best_oof) = match choice {
            HeadChoice::Linear => (1.0, 0, best_oof),
            HeadChoice::Boosted | HeadChoice::Auto => {
                clock.start(FitPhase::Boosted);
                let (rounds, boosted) = boosted_oof(&boost, &all)?;
                let w = match choice {
                    HeadChoice::Auto => select_blend(&best_oof, &boosted, labels, &params.blend_weights),
                    _ => 0.0,
                };
                (w, rounds, blend(&best_oof, &boosted, w))
            }
        };
        let boosted = match linear_weight < 1.0 {
            true => {
                let trees = TreeParams { rounds, ..boost.trees };
                Some(BoostedParams { trees, ..boost }.fit(x.view(), x_swapped.view(), labels, cancel)?)
            }
            false => None,
        };
        clock.start(FitPhase::Final);
        let best_loss = log_loss(&best_oof, labels);
        let temperature = Temperature::fit(&best_oof, labels);
        let oof = temperature.apply(&best_oof);
        let head = best.fit_path(&[best.lambda], x.view(), x_swapped.view(), labels, cancel)?.remove(0);
        let state = ModelState {
            params: ModelParams::clone(params),
            head_params: best,
            head,
            boosted,
            linear_weight,
            temperature,
            prior,
            cv_log_loss: best_loss,
            cv_log_loss_calibrated: log_loss(&oof, labels),
            feature_names: feature_names(&params.features, train.dim),
        };
        pause_at("fit-done");
        Ok((Model { state, neighbours }, oof, clock.finish()))
    }

    /// Calibrated, swap-symmetric probabilities for encoded battles.
    pub fn predict(&self, q: &EncodedBattles) -> Vec<[f64; 3]> {
        let knn = self.knn_values(q, None, &Cancel::default()).expect(UNCANCELLED);
        let (x, x_swapped) = matrices(&self.state.params.features, q, &knn);
        let linear = self.state.head.predict_proba(x.view(), x_swapped.view());
        let raw = match &self.state.boosted {
            Some(b) => blend(&linear, &b.predict_proba(x.view(), x_swapped.view()), self.state.linear_weight),
            None => linear,
        };
        self.state.temperature.apply(&raw)
    }

    /// Feature rows of the training battles `train` (the ones this model was
    /// fitted on, in index order) as the fit saw them: neighbour votes
    /// cross-fitted with the fit's own fold assignment, so that no row sees
    /// its own vote. `None` when `train` carries no text statistics for
    /// every row.
    pub fn training_features(&self, train: &EncodedBattles) -> Option<Array2<f64>> {
        let p = &self.state.params;
        if train.stats.len() != train.len() || train.len() != self.labels().len() {
            return None;
        }
        let fold_of = fold_assignment(train.len(), p.folds, p.seed);
        let knn = self.knn_values(train, Some(&fold_of), &Cancel::default()).expect(UNCANCELLED);
        Some(matrices(&p.features, train, &knn).0)
    }

    /// Nearest training battles by prompt embedding.
    pub fn similar_prompts(&self, prompt: &[f32], k: usize) -> Vec<Hit> {
        self.neighbours.similar_prompts(prompt, k)
    }

    /// Neighbour values of `q`'s battles (defaults when the model uses none).
    fn knn_values(
        &self,
        q: &EncodedBattles,
        fold_of: Option<&[usize]>,
        cancel: &Cancel,
    ) -> Result<Vec<KnnValues>, Cancelled> {
        knn_values(&self.neighbours, &self.state.params, self.state.prior, q, fold_of, cancel)
    }
}

/// Neighbour values of `q`'s battles under `params` (defaults when they use none).
fn knn_values(
    neighbours: &Neighbours,
    params: &ModelParams,
    prior: [f64; 3],
    q: &EncodedBattles,
    fold_of: Option<&[usize]>,
    cancel: &Cancel,
) -> Result<Vec<KnnValues>, Cancelled> {
    if !params.features.knn {
        return Ok(vec![KnnValues::default(); q.len()]);
    }
    neighbours.values(q, fold_of, &params.knn, prior, cancel)
}

/// Why a look-up with a token nobody else holds cannot fail.
const UNCANCELLED: &str = "a token nobody else holds is never cancelled";

#[cfg(test)]
mod tests;
