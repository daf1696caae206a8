//! The head's optimiser: the penalised multinomial log-likelihood with its
//! gradient, computed in fixed row blocks on all cores (so the result does
//! not depend on the thread count), and limited-memory BFGS over it.

use ndarray::parallel::prelude::*;
use ndarray::ArrayView2;

use super::link::softmax;
use crate::progress::{Cancel, Cancelled};

/// Mean negative log-likelihood and gradient of the penalised objective.
fn objective(z: ArrayView2<f32>, y: &[usize], lambda: f64, theta: &[f64]) -> (f64, Vec<f64>) {
    let d = z.ncols();
    let n = z.nrows() as f64;
    // The weights by class: three contiguous columns, so that each row's
    // logits are three dot products and its gradient three axpys. (A GEMM
    // with three columns spends most of its time packing the rows.)
    let w: [Vec<f64>; 3] = std::array::from_fn(|c| (0..d).map(|j| theta[j * 3 + c]).collect());
    let b = &theta[d * 3..];
    let z = z.as_standard_layout();
    // Row blocks on all cores; each gives its loss and gradient, summed in
    // block order so that the result does not depend on the thread count.
    const BLOCK: usize = 2048;
    let parts: Vec<(f64, [Vec<f64>; 2], [f64; 3])> = (0..z.nrows())
        .step_by(BLOCK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|start| {
            let end = (start + BLOCK).min(z.nrows());
            // Class 2's gradient is minus the others' (the residuals of a
            // row sum to zero), so two axpys per row suffice.
            let mut g: [Vec<f64>; 2] = std::array::from_fn(|_| vec![0.0; d]);
            let mut sums = [0.0; 3];
            let mut loss = 0.0;
            for (i, row) in z.slice(ndarray::s![start..end, ..]).outer_iter().enumerate() {
                let row = row.to_slice().expect("standard layout");
                let logit = |c: usize| dot(row, &w[c]) + b[c];
                let p = softmax([logit(0), logit(1), logit(2)]);
                let yi = y[start + i];
                loss -= p[yi].max(1e-300).ln();
                let r: [f64; 3] = std::array::from_fn(|c| p[c] - if c == yi { 1.0 } else { 0.0 });
                for c in 0..3 {
                    sums[c] += r[c];
                }
                let [g0, g1] = &mut g;
                for ((g0, g1), &x) in g0.iter_mut().zip(g1.iter_mut()).zip(row) {
                    *g0 += r[0] * f64::from(x);
                    *g1 += r[1] * f64::from(x);
                }
            }
            (loss, g, sums)
        })
        .collect();
    let mut loss = 0.0;
    let mut gw = vec![0.0; d * 3];
    let mut gb = [0.0; 3];
    for (l, g, s) in parts {
        loss += l;
        for c in 0..3 {
            gb[c] += s[c];
        }
        for (j, (g0, g1)) in g[0].iter().zip(&g[1]).enumerate() {
            gw[j * 3] += g0;
            gw[j * 3 + 1] += g1;
            gw[j * 3 + 2] -= g0 + g1;
        }
    }
    let mut grad: Vec<f64> = gw.into_iter().map(|g| g / n).collect();
    let mut penalty = 0.0;
    for (g, t) in grad.iter_mut().zip(&theta[..d * 3]) {
        *g += lambda * t;
        penalty += t * t;
    }
    grad.extend(gb.iter().map(|s| s / n));
    (loss / n + 0.5 * lambda * penalty, grad)
}

/// Dot product of a feature row and weights, in f64, in eight independent
/// lanes so that it vectorises (a plain sum is one sequential chain).
fn dot(a: &[f32], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(&x, y)| f64::from(x) * y).sum();
    let mut lanes = [0.0; 8];
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += f64::from(x[l]) * y[l];
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Limited-memory BFGS with a backtracking Armijo line search.
/// Starts from `theta` (weights then biases) and returns the solution;
/// `cancel` is checked before every iteration.
pub(super) fn lbfgs_fit(
    z: ArrayView2<f32>,
    y: &[usize],
    lambda: f64,
    max_iter: usize,
    mut theta: Vec<f64>,
    cancel: &Cancel,
) -> Result<Vec<f64>, Cancelled> {
    let (mut f, mut g) = objective(z, y, lambda, &theta);
    let memory = 10;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let dotv = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for _ in 0..max_iter {
        cancel.check()?;
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
    Ok(theta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SplitMix;
    use ndarray::Array2;

    /// The objective's gradient against central finite differences, at a
    /// random point, for every weight and bias.
    #[test]
    fn gradient_matches_finite_differences() {
        let (n, d, lambda) = (60, 4, 0.3);
        let mut rng = SplitMix::new(5);
        let z = Array2::from_shape_fn((n, d), |_| rng.normal() as f32);
        let y: Vec<usize> = (0..n).map(|_| rng.below(3)).collect();
        let theta: Vec<f64> = (0..d * 3 + 3).map(|_| 0.5 * rng.normal()).collect();
        let (_, grad) = objective(z.view(), &y, lambda, &theta);
        assert_eq!(grad.len(), theta.len());
        let h = 1e-5;
        for k in 0..theta.len() {
            let mut up = theta.clone();
            let mut down = theta.clone();
            up[k] += h;
            down[k] -= h;
            let numeric = (objective(z.view(), &y, lambda, &up).0 - objective(z.view(), &y, lambda, &down).0)
                / (2.0 * h);
            assert!((numeric - grad[k]).abs() < 1e-7, "entry {k}: analytic {} numeric {numeric}", grad[k]);
        }
        // The biases are not penalised: the penalty is ½λ‖w‖² over weights only.
        let (f0, _) = objective(z.view(), &y, 0.0, &theta);
        let (f1, _) = objective(z.view(), &y, lambda, &theta);
        let w2: f64 = theta[..d * 3].iter().map(|t| t * t).sum();
        assert!((f1 - f0 - 0.5 * lambda * w2).abs() < 1e-12);
    }
}
