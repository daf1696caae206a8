//! PCA and SIF weighting for distilling static embeddings (see `distill.rs`).
//!
//! The covariance is small (hidden × hidden, 384² for MiniLM), so a cyclic
//! Jacobi eigensolver written here is fast enough (seconds), exact to f64
//! rounding, and spares a linear-algebra dependency. Everything is
//! sequential or a fixed-shape matrix product, so the same input gives the
//! same bits on every run; component signs are fixed so that each
//! component's largest-magnitude entry is positive.

use ndarray::{Array2, ArrayView2, Axis};

/// A fitted projection onto the top principal components.
pub(crate) struct Pca {
    /// Column means of the fitted rows.
    pub mean: Vec<f64>,
    /// `[hidden, k]`: the components as columns, largest variance first.
    pub components: Array2<f64>,
    /// All eigenvalues of the covariance, descending.
    pub eigenvalues: Vec<f64>,
}

impl Pca {
    /// Fit on `x` (`[rows, hidden]`) keeping `k` components.
    pub fn fit(x: ArrayView2<'_, f32>, k: usize) -> Pca {
        let (n, d) = x.dim();
        assert!(n >= 2 && (1..=d).contains(&k), "PCA needs 2+ rows and 1..=hidden components");
        let mut centered = x.mapv(f64::from);
        let mean = centered.mean_axis(Axis(0)).expect("rows exist");
        for mut row in centered.rows_mut() {
            row -= &mean;
        }
        let cov = centered.t().dot(&centered) / (n - 1) as f64;
        let (values, vectors) = jacobi_eigen(cov.iter().copied().collect(), d);
        let mut order: Vec<usize> = (0..d).collect();
        // Descending by eigenvalue; equal values keep index order (stable sort).
        order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
        let mut components = Array2::<f64>::zeros((d, k));
        for (c, &src) in order.iter().take(k).enumerate() {
            let col: Vec<f64> = (0..d).map(|r| vectors[r * d + src]).collect();
            let sign = sign_of_largest(&col);
            for (r, v) in col.iter().enumerate() {
                components[[r, c]] = v * sign;
            }
        }
        Pca {
            mean: mean.to_vec(),
            components,
            eigenvalues: order.iter().map(|&i| values[i].max(0.0)).collect(),
        }
    }

    /// Share of the total variance the kept components explain.
    pub fn explained(&self) -> f64 {
        let total: f64 = self.eigenvalues.iter().sum();
        let kept: f64 = self.eigenvalues.iter().take(self.components.ncols()).sum();
        if total > 0.0 {
            kept / total
        } else {
            0.0
        }
    }

    /// Project rows (`[rows, hidden]`) onto the components: `[rows, k]`.
    pub fn project(&self, x: ArrayView2<'_, f32>) -> Array2<f64> {
        let mut xc = x.mapv(f64::from);
        for mut row in xc.rows_mut() {
            row.iter_mut().zip(&self.mean).for_each(|(v, m)| *v -= m);
        }
        xc.dot(&self.components)
    }
}

/// +1 or -1 such that the vector's largest-magnitude entry (first on ties)
/// becomes positive.
fn sign_of_largest(v: &[f64]) -> f64 {
    let mut best = 0usize;
    for (i, x) in v.iter().enumerate() {
        if x.abs() > v[best].abs() {
            best = i;
        }
    }
    if v.get(best).is_some_and(|&x| x < 0.0) {
        -1.0
    } else {
        1.0
    }
}

/// Eigenvalues and eigenvectors (columns of a row-major `n × n` matrix) of
/// the symmetric row-major matrix `a`, by cyclic Jacobi rotations.
pub(crate) fn jacobi_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(a.len(), n * n);
    let mut v = vec![0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 =
            (0..n).flat_map(|p| (p + 1..n).map(move |q| (p, q))).map(|(p, q)| a[p * n + q].powi(2)).sum();
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A ← Jᵀ A J, with J the rotation in the (p, q) plane.
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// model2vec's SIF weights: token probabilities estimated from vocabulary
/// rank by Zipf's law, p_i ∝ 1/(i + 2), and weight a / (a + p_i).
pub(crate) fn sif_weights(vocab: usize, a: f64) -> Vec<f64> {
    let inv: Vec<f64> = (0..vocab).map(|i| 1.0 / (i as f64 + 2.0)).collect();
    let total: f64 = inv.iter().sum();
    inv.iter().map(|x| a / (a + x / total)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_known_matrix() {
        // Eigenvalues of [[2,1,0],[1,2,0],[0,0,5]] are 1, 3, 5.
        let (mut vals, vecs) = jacobi_eigen(vec![2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 5.0], 3);
        let a = [[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 5.0]];
        for (j, &lambda) in vals.iter().enumerate() {
            for (r, row) in a.iter().enumerate() {
                let av: f64 = (0..3).map(|c| row[c] * vecs[c * 3 + j]).sum();
                assert!((av - lambda * vecs[r * 3 + j]).abs() < 1e-12);
            }
        }
        vals.sort_by(f64::total_cmp);
        for (v, w) in vals.iter().zip([1.0, 3.0, 5.0]) {
            assert!((v - w).abs() < 1e-12, "{v} vs {w}");
        }
    }

    #[test]
    fn pca_finds_the_dominant_direction_with_a_fixed_sign() {
        // Points along (-3, -4)/5 with a little spread across it.
        let rows: Vec<f32> = (0..50)
            .flat_map(|i| {
                let t = i as f32 - 25.0;
                let e = if i % 2 == 0 { 0.1 } else { -0.1 };
                [-0.6 * t + 0.8 * e, -0.8 * t - 0.6 * e]
            })
            .collect();
        let x = Array2::from_shape_vec((50, 2), rows).unwrap();
        let pca = Pca::fit(x.view(), 1);
        let c = pca.components.column(0);
        // (The alternating spread correlates a little with position, hence 1e-3.)
        assert!((c[0] - 0.6).abs() < 1e-3 && (c[1] - 0.8).abs() < 1e-3, "{c}");
        assert!(pca.explained() > 0.999);
        let y = pca.project(x.view());
        assert_eq!(y.dim(), (50, 1));
        // The first point sits 24.5 along the component from the mean.
        assert!((y[[0, 0]] - 24.5).abs() < 0.01, "{}", y[[0, 0]]);
    }

    #[test]
    fn sif_weights_grow_with_rank() {
        let w = sif_weights(1000, 1e-3);
        assert!(w.windows(2).all(|p| p[0] < p[1]));
        let total: f64 = (0..1000).map(|i| 1.0 / (i as f64 + 2.0)).sum();
        let p0 = 0.5 / total;
        assert!((w[0] - 1e-3 / (1e-3 + p0)).abs() < 1e-15);
    }
}
