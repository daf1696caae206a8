//! The light head: L2-regularised multinomial logistic regression, fitted on
//! battles and their A/B swaps, plus temperature scaling as its own step.
//!
//! Shaped like linfa: `HeadParams` → `check` → `fit` → `FittedHead::predict_proba`,
//! then `Temperature::fit` on out-of-fold probabilities. Prediction averages
//! p(x) and the swapped p(swap x), so p_A(x) = p_B(swap x) holds exactly.
//! The optimiser lives in `lbfgs`, the calibration step in `temperature`.

mod boosted;
mod error;
mod lbfgs;
mod link;
mod temperature;
mod trees;

use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, Axis};

use crate::data::Label;
use crate::progress::Cancel;
pub use boosted::{BoostedParams, FittedBoosted};
pub use error::HeadError;
use lbfgs::lbfgs_fit;
use link::softmax;
pub use temperature::Temperature;
pub use trees::TreeParams;

/// Hyperparameters of the head.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadParams {
    /// L2 penalty on the standardised weights.
    pub lambda: f64,
    /// Multiplier of the standardised embedding-difference block (columns from
    /// `scalar_len` on); smaller means more shrinkage of that block, 0 drops it.
    pub emb_scale: f64,
    /// Number of scalar feature columns; the embedding-difference block follows.
    pub scalar_len: usize,
    /// L-BFGS iterations at most, per penalty.
    pub max_iter: usize,
}

impl HeadParams {
    /// Refuse a non-positive λ or a negative embedding scale.
    pub fn check(&self) -> Result<(), HeadError> {
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return Err(HeadError::BadParam {
                name: "lambda",
                value: self.lambda,
                why: "must be a positive number",
            });
        }
        if !(self.emb_scale.is_finite() && self.emb_scale >= 0.0) {
            return Err(HeadError::BadParam {
                name: "emb_scale",
                value: self.emb_scale,
                why: "must be zero or positive",
            });
        }
        Ok(())
    }

    /// Fit on features `x`, their swaps `x_swapped` (same rows, A/B
    /// exchanged) and labels.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        x_swapped: ArrayView2<f64>,
        y: &[Label],
    ) -> Result<FittedHead, HeadError> {
        let mut heads = self.fit_path(&[self.lambda], x, x_swapped, y, &Cancel::default())?;
        Ok(heads.pop().expect("one head per lambda"))
    }

    /// One head per penalty in `lambdas`, returned in that order. The
    /// standardisation is shared, and the fits run from the strongest
    /// penalty down, each starting from the previous solution (a
    /// warm-started regularisation path), which needs far fewer iterations
    /// than fitting each penalty from zero. Stops with
    /// [`HeadError::Cancelled`] at the first optimiser iteration after
    /// `cancel` is cancelled.
    pub fn fit_path(
        &self,
        lambdas: &[f64],
        x: ArrayView2<f64>,
        x_swapped: ArrayView2<f64>,
        y: &[Label],
        cancel: &Cancel,
    ) -> Result<Vec<FittedHead>, HeadError> {
        let all: Vec<usize> = (0..x.nrows()).collect();
        self.fit_path_rows(lambdas, x, x_swapped, &all, y, cancel)
    }

    /// [`HeadParams::fit_path`] on the rows `rows` of `x` and `x_swapped`
    /// (`y` holds their labels, in that order), without copying those rows
    /// out first: the stacked, standardised matrix the optimiser needs is
    /// built straight from the row indices.
    pub fn fit_path_rows(
        &self,
        lambdas: &[f64],
        x: ArrayView2<f64>,
        x_swapped: ArrayView2<f64>,
        rows: &[usize],
        y: &[Label],
        cancel: &Cancel,
    ) -> Result<Vec<FittedHead>, HeadError> {
        for &lambda in lambdas {
            HeadParams { lambda, ..*self }.check()?;
        }
        let n = rows.len();
        let fits = |r: &usize| *r < x.nrows() && *r < x_swapped.nrows();
        if n == 0 || y.len() != n || !rows.iter().all(fits) {
            return Err(HeadError::BadData {
                rows: n,
                why: "features, swapped features and labels must have the same non-zero length",
            });
        }
        if x_swapped.ncols() != x.ncols() {
            return Err(HeadError::BadData { rows: n, why: "features and swapped features differ in width" });
        }
        let d = x.ncols();
        // The rows, then the same rows swapped, standardised, in f32: the
        // largest matrix of a fit, and the optimiser reads it every iteration.
        let (mean, mut scale) = column_moments(x, x_swapped, rows);
        scale.iter_mut().skip(self.scalar_len).for_each(|s| *s *= self.emb_scale);
        // Columns scaled to zero (constant, or the embedding block at scale
        // 0) are all zeros: their weights stay exactly 0 under the L2
        // penalty, so the optimiser leaves them out.
        let live: Vec<usize> = (0..d).filter(|&j| scale[j] != 0.0).collect();
        let mut z = Array2::<f32>::zeros((2 * n, live.len()));
        z.axis_iter_mut(Axis(0)).into_par_iter().enumerate().for_each(|(k, mut out)| {
            let row = if k < n { x.row(rows[k]) } else { x_swapped.row(rows[k - n]) };
            for (o, &j) in out.iter_mut().zip(&live) {
                *o = ((row[j] - mean[j]) * scale[j]) as f32;
            }
        });
        let labels: Vec<usize> =
            y.iter().map(|l| l.index()).chain(y.iter().map(|l| l.swapped().index())).collect();
        let mut order: Vec<usize> = (0..lambdas.len()).collect();
        order.sort_by(|&a, &b| lambdas[b].total_cmp(&lambdas[a]));
        let m = live.len();
        let mut theta = vec![0.0; m * 3 + 3];
        let mut heads = vec![None; lambdas.len()];
        for i in order {
            theta = lbfgs_fit(z.view(), &labels, lambdas[i], self.max_iter, theta, cancel)?;
            let mut weights = vec![0.0; d * 3];
            for (k, &j) in live.iter().enumerate() {
                weights[j * 3..j * 3 + 3].copy_from_slice(&theta[k * 3..k * 3 + 3]);
            }
            heads[i] = Some(FittedHead {
                mean: mean.to_vec(),
                scale: scale.to_vec(),
                weights,
                bias: [theta[m * 3], theta[m * 3 + 1], theta[m * 3 + 2]],
            });
        }
        Ok(heads.into_iter().map(|h| h.expect("every lambda is fitted")).collect())
    }
}

/// Per-column mean and 1/std (0 for a constant column) over the rows `rows`
/// of `x` and of `x_swapped` together, in two passes.
fn column_moments(x: ArrayView2<f64>, x_swapped: ArrayView2<f64>, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let d = x.ncols();
    let count = (2 * rows.len()) as f64;
    let stacked = || rows.iter().flat_map(|&r| [x.row(r), x_swapped.row(r)]);
    let mut mean = vec![0.0; d];
    for row in stacked() {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m /= count);
    let mut var = vec![0.0; d];
    for row in stacked() {
        var.iter_mut().zip(row).zip(&mean).for_each(|((s, v), m)| *s += (v - m) * (v - m));
    }
    let scale =
        var.iter().map(|s| (s / count).sqrt()).map(|s| if s > 1e-12 { 1.0 / s } else { 0.0 }).collect();
    (mean, scale)
}

/// A fitted head, serialisable into the index folder.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FittedHead {
    /// Per-column mean subtracted before scaling.
    pub mean: Vec<f64>,
    /// Per-column multiplier after centring (1/std, times the embedding scale
    /// for the embedding block; 0 for constant columns).
    pub scale: Vec<f64>,
    /// Row-major d × 3 weights.
    pub weights: Vec<f64>,
    /// Per-class intercepts (A, B, tie).
    pub bias: [f64; 3],
}

impl FittedHead {
    fn raw_proba(&self, x: ArrayView2<f64>) -> Vec<[f64; 3]> {
        let d = self.mean.len();
        x.axis_iter(Axis(0))
            .into_par_iter()
            .map(|row| {
                let mut z = self.bias;
                for j in 0..d {
                    let v = (row[j] - self.mean[j]) * self.scale[j];
                    if v != 0.0 {
                        for (c, zc) in z.iter_mut().enumerate() {
                            *zc += v * self.weights[j * 3 + c];
                        }
                    }
                }
                softmax(z)
            })
            .collect()
    }

    /// Each feature's pull towards `class` on one row `x`, in logits:
    /// standardised value × (its weight for `class` − the mean of its
    /// weights over the three classes). With the intercept's share,
    /// `bias[class] − mean(bias)`, they sum to `ln p_class − mean_c ln p_c`
    /// of p(x), the head on `x` alone; the swap half of [`Self::predict_proba`]
    /// is not in it.
    pub fn contributions(&self, x: &[f64], class: usize) -> Vec<f64> {
        (0..self.mean.len())
            .map(|j| {
                let v = (x[j] - self.mean[j]) * self.scale[j];
                let w = &self.weights[j * 3..j * 3 + 3];
                v * (w[class] - (w[0] + w[1] + w[2]) / 3.0)
            })
            .collect()
    }

    /// Symmetric probabilities: the mean of p(x) and the swap of p(swap x).
    pub fn predict_proba(&self, x: ArrayView2<f64>, x_swapped: ArrayView2<f64>) -> Vec<[f64; 3]> {
        let p = self.raw_proba(x);
        let q = self.raw_proba(x_swapped);
        p.iter()
            .zip(&q)
            .map(|(p, q)| [0.5 * (p[0] + q[1]), 0.5 * (p[1] + q[0]), 0.5 * (p[2] + q[2])])
            .collect()
    }
}

#[cfg(test)]
mod tests;
