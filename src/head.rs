//! The light head: L2-regularised multinomial logistic regression, fitted on
//! battles and their A/B swaps, plus temperature scaling as its own step.
//!
//! Shaped like linfa: `HeadParams` → `check` → `fit` → `FittedHead::predict_proba`,
//! then `Temperature::fit` on out-of-fold probabilities. Prediction averages
//! p(x) and the swapped p(swap x), so p_A(x) = p_B(swap x) holds exactly.

use ndarray::parallel::prelude::*;
use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::data::Label;

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("invalid head parameter {name} = {value}: {why}")]
    BadParam { name: &'static str, value: f64, why: &'static str },
    #[error("cannot fit the head on {rows} rows: {why}")]
    BadData { rows: usize, why: &'static str },
}

/// Hyperparameters of the head.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadParams {
    /// L2 penalty on the standardised weights.
    pub lambda: f64,
    /// Multiplier of the standardised embedding-difference block (columns from
    /// `scalar_len` on); smaller means more shrinkage of that block, 0 drops it.
    pub emb_scale: f64,
    pub scalar_len: usize,
    pub max_iter: usize,
}

impl HeadParams {
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

    /// Fit on features `x`, their swaps `xs` (same rows, A/B exchanged) and labels.
    pub fn fit(&self, x: ArrayView2<f64>, xs: ArrayView2<f64>, y: &[Label]) -> Result<FittedHead, HeadError> {
        let mut heads = self.fit_path(&[self.lambda], x, xs, y)?;
        Ok(heads.pop().expect("one head per lambda"))
    }

    /// One head per penalty in `lambdas`, returned in that order. The
    /// standardisation is shared, and the fits run from the strongest
    /// penalty down, each starting from the previous solution (a
    /// warm-started regularisation path), which needs far fewer iterations
    /// than fitting each penalty from zero.
    pub fn fit_path(
        &self,
        lambdas: &[f64],
        x: ArrayView2<f64>,
        xs: ArrayView2<f64>,
        y: &[Label],
    ) -> Result<Vec<FittedHead>, HeadError> {
        for &lambda in lambdas {
            HeadParams { lambda, ..*self }.check()?;
        }
        let n = x.nrows();
        if n == 0 || xs.nrows() != n || y.len() != n {
            return Err(HeadError::BadData {
                rows: n,
                why: "features, swapped features and labels must have the same non-zero length",
            });
        }
        let d = x.ncols();
        let mut z = ndarray::concatenate(Axis(0), &[x, xs]).map_err(|_| HeadError::BadData {
            rows: n,
            why: "features and swapped features differ in width",
        })?;
        let mean = z.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
        let mut scale = z.std_axis(Axis(0), 0.0).mapv(|s| if s > 1e-12 { 1.0 / s } else { 0.0 });
        for j in self.scalar_len..d {
            scale[j] *= self.emb_scale;
        }
        standardise(&mut z, &mean, &scale);
        let labels: Vec<usize> =
            y.iter().map(|l| l.index()).chain(y.iter().map(|l| l.swapped().index())).collect();
        let mut order: Vec<usize> = (0..lambdas.len()).collect();
        order.sort_by(|&a, &b| lambdas[b].total_cmp(&lambdas[a]));
        let mut theta = vec![0.0; d * 3 + 3];
        let mut heads = vec![None; lambdas.len()];
        for i in order {
            theta = lbfgs_fit(z.view(), &labels, lambdas[i], self.max_iter, theta);
            heads[i] = Some(FittedHead {
                mean: mean.to_vec(),
                scale: scale.to_vec(),
                weights: theta[..d * 3].to_vec(),
                bias: [theta[d * 3], theta[d * 3 + 1], theta[d * 3 + 2]],
            });
        }
        Ok(heads.into_iter().map(|h| h.expect("every lambda is fitted")).collect())
    }
}

fn standardise(z: &mut Array2<f64>, mean: &Array1<f64>, scale: &Array1<f64>) {
    z.axis_iter_mut(Axis(0)).into_par_iter().for_each(|mut row| {
        row -= mean;
        row *= scale;
    });
}

/// A fitted head, serialisable into the index folder.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FittedHead {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    /// Row-major d × 3 weights.
    pub weights: Vec<f64>,
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

    /// Symmetric probabilities: the mean of p(x) and the swap of p(swap x).
    pub fn predict_proba(&self, x: ArrayView2<f64>, xs: ArrayView2<f64>) -> Vec<[f64; 3]> {
        let p = self.raw_proba(x);
        let q = self.raw_proba(xs);
        p.iter()
            .zip(&q)
            .map(|(p, q)| [0.5 * (p[0] + q[1]), 0.5 * (p[1] + q[0]), 0.5 * (p[2] + q[2])])
            .collect()
    }
}

pub fn softmax(z: [f64; 3]) -> [f64; 3] {
    let m = z[0].max(z[1]).max(z[2]);
    let e = [(z[0] - m).exp(), (z[1] - m).exp(), (z[2] - m).exp()];
    let s = e[0] + e[1] + e[2];
    [e[0] / s, e[1] / s, e[2] / s]
}

/// Mean negative log-likelihood and gradient of the penalised objective.
fn objective(z: ArrayView2<f64>, y: &[usize], lambda: f64, theta: &[f64]) -> (f64, Vec<f64>) {
    let d = z.ncols();
    let n = z.nrows() as f64;
    let w = ArrayView2::from_shape((d, 3), &theta[..d * 3]).expect("theta has d*3+3 entries");
    let b = &theta[d * 3..];
    // Row blocks on all cores; each gives its loss and gradient, summed in
    // block order so that the result does not depend on the thread count.
    const BLOCK: usize = 2048;
    let parts: Vec<(f64, Array2<f64>, [f64; 3])> = (0..z.nrows())
        .step_by(BLOCK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|start| {
            let end = (start + BLOCK).min(z.nrows());
            let zb = z.slice(ndarray::s![start..end, ..]);
            let logits = zb.dot(&w);
            let mut resid = Array2::<f64>::zeros((end - start, 3));
            let mut loss = 0.0;
            for (i, (lrow, mut rrow)) in logits.outer_iter().zip(resid.outer_iter_mut()).enumerate() {
                let p = softmax([lrow[0] + b[0], lrow[1] + b[1], lrow[2] + b[2]]);
                let yi = y[start + i];
                loss -= p[yi].max(1e-300).ln();
                for c in 0..3 {
                    rrow[c] = p[c] - if c == yi { 1.0 } else { 0.0 };
                }
            }
            let sums = resid.sum_axis(Axis(0));
            (loss, zb.t().dot(&resid), [sums[0], sums[1], sums[2]])
        })
        .collect();
    let mut loss = 0.0;
    let mut gw = Array2::<f64>::zeros((d, 3));
    let mut gb = [0.0; 3];
    for (l, g, s) in parts {
        loss += l;
        gw += &g;
        for c in 0..3 {
            gb[c] += s[c];
        }
    }
    let mut grad: Vec<f64> = gw.iter().map(|g| g / n).collect();
    let mut penalty = 0.0;
    for (g, t) in grad.iter_mut().zip(&theta[..d * 3]) {
        *g += lambda * t;
        penalty += t * t;
    }
    grad.extend(gb.iter().map(|s| s / n));
    (loss / n + 0.5 * lambda * penalty, grad)
}

/// Limited-memory BFGS with a backtracking Armijo line search.
/// Starts from `theta` (weights then biases) and returns the solution.
fn lbfgs_fit(z: ArrayView2<f64>, y: &[usize], lambda: f64, max_iter: usize, mut theta: Vec<f64>) -> Vec<f64> {
    let (mut f, mut g) = objective(z, y, lambda, &theta);
    let memory = 10;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let dotv = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for _ in 0..max_iter {
        // Two-loop recursion for the search direction.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, yv) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dotv(yv, s);
            let a = rho * dotv(s, &q);
            q.iter_mut().zip(yv).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push((a, rho));
        }
        if let (Some(s), Some(yv)) = (s_hist.last(), y_hist.last()) {
            let gamma = dotv(s, yv) / dotv(yv, yv);
            q.iter_mut().for_each(|qi| *qi *= gamma);
        }
        for ((s, yv), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let beta = rho * dotv(yv, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - beta) * si);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dotv(&dir, &g);
        if slope >= 0.0 {
            dir = g.iter().map(|v| -v).collect();
            slope = dotv(&dir, &g);
            s_hist.clear();
            y_hist.clear();
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let cand: Vec<f64> = theta.iter().zip(&dir).map(|(t, d)| t + step * d).collect();
            let (fc, gc) = objective(z, y, lambda, &cand);
            if fc <= f + 1e-4 * step * slope {
                accepted = Some((cand, fc, gc));
                break;
            }
            step *= 0.5;
        }
        let Some((cand, fc, gc)) = accepted else { break };
        let s: Vec<f64> = cand.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = gc.iter().zip(&g).map(|(a, b)| a - b).collect();
        let improvement = f - fc;
        theta = cand;
        f = fc;
        g = gc;
        if dotv(&s, &yv) > 1e-12 {
            s_hist.push(s);
            y_hist.push(yv);
            if s_hist.len() > memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        let gnorm = dotv(&g, &g).sqrt();
        if gnorm < 1e-6 || improvement.abs() < 1e-10 * f.abs().max(1.0) {
            break;
        }
    }
    theta
}

/// Temperature scaling: p_T ∝ p^(1/T), with T fitted on out-of-fold predictions.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Temperature {
    pub t: f64,
}

impl Temperature {
    pub const IDENTITY: Temperature = Temperature { t: 1.0 };

    /// Minimise log loss over T in [0.1, 10] by golden-section search on log T.
    pub fn fit(probs: &[[f64; 3]], y: &[Label]) -> Temperature {
        let loss = |log_t: f64| {
            let t = Temperature { t: log_t.exp() };
            log_loss(&t.apply(probs), y)
        };
        let (mut lo, mut hi) = ((0.1f64).ln(), (10.0f64).ln());
        let phi = (5f64.sqrt() - 1.0) / 2.0;
        let mut c = hi - phi * (hi - lo);
        let mut d = lo + phi * (hi - lo);
        let (mut fc, mut fd) = (loss(c), loss(d));
        for _ in 0..60 {
            if fc < fd {
                hi = d;
                d = c;
                fd = fc;
                c = hi - phi * (hi - lo);
                fc = loss(c);
            } else {
                lo = c;
                c = d;
                fc = fd;
                d = lo + phi * (hi - lo);
                fd = loss(d);
            }
        }
        Temperature { t: ((lo + hi) / 2.0).exp() }
    }

    pub fn apply(&self, probs: &[[f64; 3]]) -> Vec<[f64; 3]> {
        probs
            .iter()
            .map(|p| {
                softmax([
                    p[0].max(1e-300).ln() / self.t,
                    p[1].max(1e-300).ln() / self.t,
                    p[2].max(1e-300).ln() / self.t,
                ])
            })
            .collect()
    }
}

/// Mean multi-class log loss, with probabilities clipped as Kaggle does.
pub fn log_loss(probs: &[[f64; 3]], y: &[Label]) -> f64 {
    let eps = 1e-15;
    let total: f64 = probs
        .iter()
        .zip(y)
        .map(|(p, l)| {
            let s: f64 = p.iter().map(|v| v.clamp(eps, 1.0 - eps)).sum();
            -(p[l.index()].clamp(eps, 1.0 - eps) / s).ln()
        })
        .sum();
    total / y.len().max(1) as f64
}

pub fn accuracy(probs: &[[f64; 3]], y: &[Label]) -> f64 {
    let hits = probs.iter().zip(y).filter(|(p, l)| argmax(p) == l.index()).count();
    hits as f64 / y.len().max(1) as f64
}

pub fn argmax(p: &[f64; 3]) -> usize {
    (0..3).fold(0, |best, c| if p[c] > p[best] { c } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SplitMix;

    /// Data where feature 0 (an A−B difference) drives the winner.
    fn toy(n: usize, seed: u64) -> (Array2<f64>, Array2<f64>, Vec<Label>) {
        let mut rng = SplitMix::new(seed);
        let mut x = Array2::zeros((n, 2));
        let mut xs = Array2::zeros((n, 2));
        let mut y = Vec::new();
        for i in 0..n {
            let diff = rng.normal();
            let noise = rng.normal();
            x[[i, 0]] = diff;
            x[[i, 1]] = noise;
            xs[[i, 0]] = -diff;
            xs[[i, 1]] = noise;
            let u = rng.uniform();
            let pa = 1.0 / (1.0 + (-2.0 * diff).exp());
            y.push(if u < 0.2 {
                Label::Tie
            } else if rng.uniform() < pa {
                Label::A
            } else {
                Label::B
            });
        }
        (x, xs, y)
    }

    fn params(lambda: f64) -> HeadParams {
        HeadParams { lambda, emb_scale: 1.0, scalar_len: 2, max_iter: 200 }
    }

    #[test]
    fn warm_started_path_matches_separate_fits() {
        let (x, xs, y) = toy(400, 11);
        let lambdas = [0.01, 1.0, 0.1];
        let path = params(1.0).fit_path(&lambdas, x.view(), xs.view(), &y).unwrap();
        assert_eq!(path.len(), 3);
        for (head, &lambda) in path.iter().zip(&lambdas) {
            let alone = params(lambda).fit(x.view(), xs.view(), &y).unwrap();
            let (p, q) = (head.predict_proba(x.view(), xs.view()), alone.predict_proba(x.view(), xs.view()));
            for (a, b) in p.iter().zip(&q) {
                for c in 0..3 {
                    assert!((a[c] - b[c]).abs() < 1e-3, "lambda {lambda}: {a:?} vs {b:?}");
                }
            }
        }
        // Stronger penalties give smaller weights.
        let norm = |h: &FittedHead| h.weights.iter().map(|w| w * w).sum::<f64>();
        assert!(norm(&path[1]) < norm(&path[2]) && norm(&path[2]) < norm(&path[0]));
        assert!(params(1.0).fit_path(&[0.1, -1.0], x.view(), xs.view(), &y).is_err());
    }

    #[test]
    fn learns_the_signal_and_beats_uniform() {
        let (x, xs, y) = toy(2000, 1);
        let head = params(1e-3).fit(x.view(), xs.view(), &y).unwrap();
        let p = head.predict_proba(x.view(), xs.view());
        assert!(log_loss(&p, &y) < 0.95, "{}", log_loss(&p, &y));
        for row in &p {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn prediction_is_exactly_swap_symmetric() {
        let (x, xs, y) = toy(300, 2);
        let head = params(1e-2).fit(x.view(), xs.view(), &y).unwrap();
        let p = head.predict_proba(x.view(), xs.view());
        let q = head.predict_proba(xs.view(), x.view());
        for (a, b) in p.iter().zip(&q) {
            assert_eq!(a[0], b[1]);
            assert_eq!(a[1], b[0]);
            assert_eq!(a[2], b[2]);
        }
    }

    #[test]
    fn rejects_bad_params() {
        assert!(params(0.0).check().is_err());
        assert!(params(f64::NAN).check().is_err());
    }

    #[test]
    fn temperature_fixes_overconfidence() {
        let (x, xs, y) = toy(2000, 3);
        let head = params(1e-3).fit(x.view(), xs.view(), &y).unwrap();
        // Make the predictions overconfident, then recalibrate.
        let sharp = Temperature { t: 0.3 }.apply(&head.predict_proba(x.view(), xs.view()));
        let t = Temperature::fit(&sharp, &y);
        assert!(t.t > 2.0, "temperature {}", t.t);
        assert!(log_loss(&t.apply(&sharp), &y) < log_loss(&sharp, &y));
    }
}
