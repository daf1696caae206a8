//! The boosted head: gradient-boosted trees (`trees`) on the scalar
//! feature columns, its number of rounds chosen from staged out-of-fold
//! predictions.
//!
//! Why not a crate: `perpetual` 3.0.0-rc.2 (pure Rust, serde trees, one
//! `budget` knob) was wired in first and scored 1.0675 log loss on the
//! shared sample's text statistics in `evaluate` (5 folds, seed 0), against
//! 1.0288 for the logistic head — its self-tuning is made for large data,
//! and every fit queried system memory and built a thread pool. LightGBM
//! and XGBoost bindings need a C++ build or a downloaded library. A small
//! booster of our own (depth-3 trees, shrinkage 0.05, L2 leaves, at least
//! 20 rows a leaf, rounds by CV — the settings a Python study on the sample
//! found best) is deterministic, fast at this size, and serialises with
//! serde into `head.json`.
//!
//! Three classes become two binary boosters that respect the A/B swap by
//! construction: `tie` learns P(tie) from every battle and its swap (same
//! target), `a_wins` learns P(A | not a tie) from decisive battles and their
//! swaps (opposite targets). Prediction averages each over the battle and its
//! swap, so swapping the responses swaps p_A and p_B exactly.

use ndarray::{s, ArrayView2};

use super::error::HeadError;
use super::trees::{probability, Booster, TreeParams};
use crate::data::Label;
use crate::progress::Cancel;

/// Hyperparameters of the boosted head.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoostedParams {
    /// Tree and boosting settings (`rounds` is the most tried).
    pub trees: TreeParams,
    /// Number of leading (scalar) feature columns the trees see.
    pub cols: usize,
}

impl Default for BoostedParams {
    fn default() -> Self {
        BoostedParams {
            trees: TreeParams { rounds: 150, learning_rate: 0.05, depth: 3, min_leaf: 20, l2: 1.0, bins: 64 },
            cols: 0,
        }
    }
}

/// A fitted boosted head.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FittedBoosted {
    /// Columns of the feature matrix used (the leading ones).
    pub cols: usize,
    tie: Booster,
    a_wins: Booster,
}

/// Columns `..cols` of the rows `rows` of `x` then of `x_swapped`,
/// column-major.
fn stacked_columns(
    x: ArrayView2<f64>,
    x_swapped: ArrayView2<f64>,
    cols: usize,
    rows: &[usize],
) -> Vec<Vec<f64>> {
    let (a, b) = (x.slice(s![.., ..cols]), x_swapped.slice(s![.., ..cols]));
    (0..cols)
        .map(|c| rows.iter().map(|&i| a[[i, c]]).chain(rows.iter().map(|&i| b[[i, c]])).collect())
        .collect()
}

impl BoostedParams {
    /// Refuse settings no booster can use.
    pub fn check(&self) -> Result<(), HeadError> {
        let t = &self.trees;
        let bad = |name, value: f64, why| Err(HeadError::BadParam { name, value, why });
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            return bad("learning_rate", t.learning_rate, "must be a positive number");
        }
        if !(t.l2.is_finite() && t.l2 > 0.0) {
            return bad("l2", t.l2, "must be a positive number");
        }
        if t.rounds == 0 || t.depth == 0 || t.min_leaf == 0 || self.cols == 0 {
            return bad("rounds/depth/min_leaf/cols", 0.0, "must all be at least 1");
        }
        Ok(())
    }

    /// Fit on features `x`, their swaps `x_swapped` and labels, with
    /// `trees.rounds` rounds. A class missing from the labels (small folds)
    /// is allowed: the smoothed base keeps its probability above zero.
    /// Stops with [`HeadError::Cancelled`] at the first round after `cancel`
    /// is cancelled.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        x_swapped: ArrayView2<f64>,
        labels: &[Label],
        cancel: &Cancel,
    ) -> Result<FittedBoosted, HeadError> {
        self.check()?;
        let n = labels.len();
        let decisive: Vec<usize> = (0..n).filter(|&i| labels[i] != Label::Tie).collect();
        if n == 0 || self.cols > x.ncols() || x_swapped.nrows() != n || x_swapped.ncols() != x.ncols() {
            return Err(HeadError::BadData {
                rows: n,
                why: "need rows, and as many scalar columns in both matrices",
            });
        }
        let all: Vec<usize> = (0..n).collect();
        let tie_y: Vec<f64> =
            (0..2).flat_map(|_| labels.iter().map(|&l| f64::from(l == Label::Tie))).collect();
        let tie = self.trees.fit(&stacked_columns(x, x_swapped, self.cols, &all), &tie_y, cancel)?;
        let won: Vec<f64> = decisive.iter().map(|&i| f64::from(labels[i] == Label::A)).collect();
        let ab_y: Vec<f64> = won.iter().copied().chain(won.iter().map(|w| 1.0 - w)).collect();
        let a_wins = self.trees.fit(&stacked_columns(x, x_swapped, self.cols, &decisive), &ab_y, cancel)?;
        Ok(FittedBoosted { cols: self.cols, tie, a_wins })
    }
}

impl FittedBoosted {
    /// Swap-symmetric probabilities (A, B, tie) after every `every` rounds
    /// (stage s holds the first `(s + 1)·every` trees, the last stage all).
    pub fn staged_proba(
        &self,
        x: ArrayView2<f64>,
        x_swapped: ArrayView2<f64>,
        every: usize,
    ) -> Vec<Vec<[f64; 3]>> {
        let n = x.nrows();
        let row = |i: usize, f: usize| if i < n { x[[i, f]] } else { x_swapped[[i - n, f]] };
        let tie = self.tie.staged_margins(2 * n, &row, every);
        let a = self.a_wins.staged_margins(2 * n, &row, every);
        tie.iter().zip(&a).map(|(t, a)| combine(t, a, n)).collect()
    }

    /// Swap-symmetric probabilities (A, B, tie) of each row: the last stage,
    /// every tree.
    pub fn predict_proba(&self, x: ArrayView2<f64>, x_swapped: ArrayView2<f64>) -> Vec<[f64; 3]> {
        let mut stages = self.staged_proba(x, x_swapped, self.rounds().max(1));
        stages.pop().unwrap_or_default()
    }

    /// Keep the first `rounds` rounds of both boosters.
    pub fn truncate(&mut self, rounds: usize) {
        self.tie.truncate(rounds);
        self.a_wins.truncate(rounds);
    }

    /// Rounds (trees per booster).
    pub fn rounds(&self) -> usize {
        self.tie.trees.len()
    }
}

/// Probabilities from the margins of rows `0..n` (battles) and `n..2n`
/// (their swaps).
fn combine(tie: &[f64], a_wins: &[f64], n: usize) -> Vec<[f64; 3]> {
    (0..n)
        .map(|i| {
            let t = 0.5 * (probability(tie[i]) + probability(tie[n + i]));
            // The same expression for A and for B, so that swapping the rows
            // swaps the two bit for bit (1 − pa would differ in the last bit).
            let (u, v) = (probability(a_wins[i]), probability(a_wins[n + i]));
            let (pa, pb) = (0.5 * (u + (1.0 - v)), 0.5 * (v + (1.0 - u)));
            [(1.0 - t) * pa, (1.0 - t) * pb, t]
        })
        .collect()
}
