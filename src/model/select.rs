//! Choosing the head's hyperparameters by cross-validation: a grid of
//! embedding-block scales × L2 penalties, each (scale, fold) fitted as one
//! warm-started λ path, scored by out-of-fold log loss.

use ndarray::parallel::prelude::*;
use ndarray::{s, Array2, Axis};

use super::head::{BoostedParams, HeadError, HeadParams};
use super::params::Oof;
use crate::data::Label;
use crate::metrics::log_loss;
use crate::progress::Cancel;
use crate::rand::fold_split;

/// The training rows of one selection: features of each battle and of its
/// swap, votes, the fold of each row (`0..folds`), and the token that
/// cancels the fits (checked by every optimiser iteration and boosting round).
pub(super) struct Folded<'a> {
    pub x: &'a Array2<f64>,
    pub x_swapped: &'a Array2<f64>,
    pub labels: &'a [Label],
    pub fold_of: &'a [usize],
    pub folds: usize,
    pub cancel: &'a Cancel,
}

impl Folded<'_> {
    /// Fit `head` on every fold but `f` and predict fold `f`'s rows with each
    /// λ of `lambdas`; returns the held-out rows and one prediction per λ.
    fn fit_fold(&self, head: &HeadParams, lambdas: &[f64], f: usize) -> Result<FoldPath, HeadError> {
        let (train, test) = fold_split(self.fold_of, f);
        let pick = |m: &Array2<f64>, rows: &[usize]| m.select(Axis(0), rows);
        let y: Vec<Label> = train.iter().map(|&i| self.labels[i]).collect();
        let heads =
            head.fit_path_rows(lambdas, self.x.view(), self.x_swapped.view(), &train, &y, self.cancel)?;
        let (xt, xst) = (pick(self.x, &test), pick(self.x_swapped, &test));
        let preds = heads.iter().map(|h| h.predict_proba(xt.view(), xst.view())).collect();
        Ok((test, preds))
    }
}

/// Held-out rows of one fold and, per λ, their predictions.
type FoldPath = (Vec<usize>, Vec<Vec<[f64; 3]>>);

/// The grid point (embedding scale × λ) with the lowest out-of-fold log
/// loss, with that loss and its out-of-fold probabilities. Each (scale,
/// fold) pair fits one warm-started λ path; ties go to the earlier point.
pub(super) fn select_head(
    base: &HeadParams,
    scales: &[f64],
    lambdas: &[f64],
    data: &Folded<'_>,
) -> Result<(f64, HeadParams, Oof), HeadError> {
    let k = data.folds;
    let tasks: Vec<(usize, usize)> = (0..scales.len()).flat_map(|s| (0..k).map(move |f| (s, f))).collect();
    let paths: Vec<FoldPath> = tasks
        .par_iter()
        .map(|&(s, f)| data.fit_fold(&HeadParams { emb_scale: scales[s], ..*base }, lambdas, f))
        .collect::<Result<_, HeadError>>()?;
    let n = data.labels.len();
    let mut best: Option<(f64, HeadParams, Oof)> = None;
    for (s, &emb_scale) in scales.iter().enumerate() {
        for (l, &lambda) in lambdas.iter().enumerate() {
            let mut oof = vec![[0.0; 3]; n];
            for (test, preds) in &paths[s * k..(s + 1) * k] {
                for (&i, p) in test.iter().zip(&preds[l]) {
                    oof[i] = *p;
                }
            }
            let loss = log_loss(&oof, data.labels);
            if best.as_ref().is_none_or(|b| loss < b.0) {
                best = Some((loss, HeadParams { lambda, emb_scale, ..*base }, oof));
            }
        }
    }
    best.ok_or(HeadError::BadData { rows: n, why: "the hyperparameter grid is empty" })
}

/// Out-of-fold (uncalibrated) probabilities of one head configuration.
pub(super) fn cv_oof(head: &HeadParams, data: &Folded<'_>) -> Result<Oof, HeadError> {
    let mut oof = vec![[0.0; 3]; data.labels.len()];
    for f in 0..data.folds {
        let (test, mut preds) = data.fit_fold(head, &[head.lambda], f)?;
        for (&i, p) in test.iter().zip(preds.swap_remove(0)) {
            oof[i] = p;
        }
    }
    Ok(oof)
}

/// Held-out rows of one fold and, per checkpoint of rounds, their predictions.
type StagedFold = (Vec<usize>, Vec<Vec<[f64; 3]>>);

/// Checkpoints of the boosted head's rounds: every this many rounds.
const ROUND_STEP: usize = 5;

/// The boosted head's number of rounds (a multiple of [`ROUND_STEP`], or
/// all) with the lowest out-of-fold log loss, and those out-of-fold
/// probabilities. One fit of the most rounds per fold, read at every
/// checkpoint.
pub(super) fn boosted_oof(params: &BoostedParams, data: &Folded<'_>) -> Result<(usize, Oof), HeadError> {
    let fits: Vec<StagedFold> = (0..data.folds)
        .into_par_iter()
        .map(|f| {
            let (train, test) = fold_split(data.fold_of, f);
            // The boosted head reads the first `cols` columns only.
            let pick = |m: &Array2<f64>, rows: &[usize]| m.slice(s![.., ..params.cols]).select(Axis(0), rows);
            let y: Vec<Label> = train.iter().map(|&i| data.labels[i]).collect();
            let (xs, xss) = (pick(data.x, &train), pick(data.x_swapped, &train));
            let fitted = params.fit(xs.view(), xss.view(), &y, data.cancel)?;
            let (xt, xst) = (pick(data.x, &test), pick(data.x_swapped, &test));
            Ok((test, fitted.staged_proba(xt.view(), xst.view(), ROUND_STEP)))
        })
        .collect::<Result<_, HeadError>>()?;
    let stages = fits.first().map_or(0, |(_, s)| s.len());
    let mut best: Option<(f64, usize, Oof)> = None;
    for s in 0..stages {
        let mut oof = vec![[0.0; 3]; data.labels.len()];
        for (test, staged) in &fits {
            for (&i, p) in test.iter().zip(&staged[s]) {
                oof[i] = *p;
            }
        }
        let loss = log_loss(&oof, data.labels);
        if best.as_ref().is_none_or(|b| loss < b.0) {
            let rounds = ((s + 1) * ROUND_STEP).min(params.trees.rounds);
            best = Some((loss, rounds, oof));
        }
    }
    let (_, rounds, oof) =
        best.ok_or(HeadError::BadData { rows: data.labels.len(), why: "no boosting rounds" })?;
    Ok((rounds, oof))
}

/// `w`·linear + (1 − w)·boosted, row by row.
pub(super) fn blend(linear: &[[f64; 3]], boosted: &[[f64; 3]], w: f64) -> Vec<[f64; 3]> {
    linear.iter().zip(boosted).map(|(l, b)| std::array::from_fn(|c| w * l[c] + (1.0 - w) * b[c])).collect()
}

/// The linear weight among `weights` whose blend has the lowest log loss on
/// out-of-fold predictions (ties go to the earlier weight).
pub(super) fn select_blend(
    linear: &[[f64; 3]],
    boosted: &[[f64; 3]],
    labels: &[Label],
    weights: &[f64],
) -> f64 {
    let mut best = (f64::INFINITY, 1.0);
    for &w in weights {
        let loss = log_loss(&blend(linear, boosted, w), labels);
        if loss < best.0 {
            best = (loss, w);
        }
    }
    best.1
}
