//! A small gradient-boosted tree learner for one binary log-loss target:
//! quantile-binned columns, depth-limited trees grown level by level from
//! gradient histograms, L2-regularised leaves and shrinkage. No sampling,
//! so a fit is a pure function of its inputs.
//!
//! Boosting round t never depends on later rounds, so a model cut to its
//! first r trees is the model fitted with r rounds; the caller picks r from
//! staged out-of-fold predictions.

use crate::progress::{Cancel, Cancelled};

/// Shape of the trees and of the boosting.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TreeParams {
    /// Boosting rounds at most (one tree each).
    pub rounds: usize,
    /// Shrinkage applied to every leaf.
    pub learning_rate: f64,
    /// Depth of each tree (splits on a root-to-leaf path).
    pub depth: usize,
    /// Rows a leaf must hold at least.
    pub min_leaf: usize,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Quantile bins per column at most (≤ 256).
    pub bins: usize,
}

/// One node: a split (`x[feature] <= threshold` goes left) or a leaf.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Node {
    /// An internal node; children are indexes into the tree's nodes.
    Split {
        /// Column tested.
        f: u32,
        /// Rows with a value at most this go left.
        t: f64,
        /// Left child.
        l: u32,
        /// Right child.
        r: u32,
    },
    /// A leaf's margin (learning rate included).
    Leaf(f64),
}

/// A fitted booster: a base margin and trees whose leaves add to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Booster {
    /// Log-odds of the training mean (add-one smoothed).
    pub base: f64,
    /// Trees in boosting order (node 0 is the root).
    pub trees: Vec<Vec<Node>>,
}

/// Cut points of one column: values at quantiles of the training rows, so
/// that `bin(v) = #cuts below v` and `bin(v) <= b  ⇔  v <= cuts[b]`.
fn cut_points(column: &[f64], bins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = column.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    if v.len() <= bins {
        v.pop();
        return v;
    }
    let mut cuts: Vec<f64> = (1..bins).map(|i| v[i * v.len() / bins]).collect();
    cuts.dedup();
    cuts
}

fn bin_of(cuts: &[f64], value: f64) -> u8 {
    cuts.partition_point(|&c| c < value) as u8
}

#[derive(Clone, Copy, Default)]
struct Stat {
    g: f64,
    h: f64,
    n: usize,
}

/// The best split of `rows` as (column, bin), or None when no split gains.
fn best_split(
    binned: &[Vec<u8>],
    cuts: &[Vec<f64>],
    rows: &[usize],
    gh: &[(f64, f64)],
    p: &TreeParams,
) -> Option<(usize, usize)> {
    let total =
        rows.iter().fold(Stat::default(), |s, &i| Stat { g: s.g + gh[i].0, h: s.h + gh[i].1, n: s.n + 1 });
    let score = |s: &Stat| s.g * s.g / (s.h + p.l2);
    let parent = score(&total);
    let mut best: Option<(f64, usize, usize)> = None;
    for (f, col) in binned.iter().enumerate() {
        let mut hist = vec![Stat::default(); cuts[f].len() + 1];
        for &i in rows {
            let s = &mut hist[col[i] as usize];
            s.g += gh[i].0;
            s.h += gh[i].1;
            s.n += 1;
        }
        let mut left = Stat::default();
        for (b, s) in hist.iter().enumerate().take(cuts[f].len()) {
            left = Stat { g: left.g + s.g, h: left.h + s.h, n: left.n + s.n };
            let right = Stat { g: total.g - left.g, h: total.h - left.h, n: total.n - left.n };
            if left.n < p.min_leaf || right.n < p.min_leaf {
                continue;
            }
            let gain = score(&left) + score(&right) - parent;
            if gain > 1e-12 && best.is_none_or(|(g, _, _)| gain > g) {
                best = Some((gain, f, b));
            }
        }
    }
    best.map(|(_, f, b)| (f, b))
}

/// Grow one tree on gradients `gh`; returns its nodes and adds its output
/// to `margin` for every training row.
fn grow(
    binned: &[Vec<u8>],
    cuts: &[Vec<f64>],
    gh: &[(f64, f64)],
    p: &TreeParams,
    margin: &mut [f64],
) -> Vec<Node> {
    let mut nodes = vec![Node::Leaf(0.0)];
    let mut frontier: Vec<(usize, Vec<usize>)> = vec![(0, (0..gh.len()).collect())];
    for level in 0..=p.depth {
        let mut next = Vec::new();
        for (id, rows) in frontier {
            let split = if level < p.depth { best_split(binned, cuts, &rows, gh, p) } else { None };
            match split {
                Some((f, b)) => {
                    let (l, r) = (nodes.len(), nodes.len() + 1);
                    nodes[id] = Node::Split { f: f as u32, t: cuts[f][b], l: l as u32, r: r as u32 };
                    nodes.push(Node::Leaf(0.0));
                    nodes.push(Node::Leaf(0.0));
                    let (lr, rr): (Vec<usize>, Vec<usize>) =
                        rows.iter().partition(|&&i| binned[f][i] as usize <= b);
                    next.push((l, lr));
                    next.push((r, rr));
                }
                None => {
                    let (g, h) = rows.iter().fold((0.0, 0.0), |(g, h), &i| (g + gh[i].0, h + gh[i].1));
                    let value = -p.learning_rate * g / (h + p.l2);
                    nodes[id] = Node::Leaf(value);
                    for &i in &rows {
                        margin[i] += value;
                    }
                }
            }
        }
        frontier = next;
    }
    nodes
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl TreeParams {
    /// Fit on `columns` (column-major: one slice per feature, all of the
    /// same length) and 0/1 targets `y`. No rows give `rounds` trees of one
    /// zero leaf each. `cancel` is checked before every round.
    pub fn fit(&self, columns: &[Vec<f64>], y: &[f64], cancel: &Cancel) -> Result<Booster, Cancelled> {
        let n = y.len();
        let cuts: Vec<Vec<f64>> = columns.iter().map(|c| cut_points(c, self.bins.clamp(2, 256))).collect();
        let binned: Vec<Vec<u8>> =
            columns.iter().zip(&cuts).map(|(c, k)| c.iter().map(|&v| bin_of(k, v)).collect()).collect();
        // Add-one smoothing keeps the base finite when one class is absent.
        let mean = (y.iter().sum::<f64>() + 1.0) / (n as f64 + 2.0);
        let base = (mean / (1.0 - mean)).ln();
        let mut margin = vec![base; n];
        let mut trees = Vec::with_capacity(self.rounds);
        for _ in 0..self.rounds {
            cancel.check()?;
            let gh: Vec<(f64, f64)> = margin
                .iter()
                .zip(y)
                .map(|(&m, &t)| {
                    let q = sigmoid(m);
                    (q - t, (q * (1.0 - q)).max(1e-12))
                })
                .collect();
            trees.push(grow(&binned, &cuts, &gh, self, &mut margin));
        }
        Ok(Booster { base, trees })
    }
}

impl Booster {
    fn tree_margin(tree: &[Node], row: &dyn Fn(usize) -> f64) -> f64 {
        let mut id = 0;
        loop {
            match tree[id] {
                Node::Leaf(v) => return v,
                Node::Split { f, t, l, r } => id = if row(f as usize) <= t { l as usize } else { r as usize },
            }
        }
    }

    /// Margins (log-odds) of each row after the first `every`, `2·every`, …
    /// trees (and after all of them); `row(i, f)` reads feature `f` of row `i`.
    pub fn staged_margins(
        &self,
        rows: usize,
        row: &dyn Fn(usize, usize) -> f64,
        every: usize,
    ) -> Vec<Vec<f64>> {
        let mut margin = vec![self.base; rows];
        let mut stages = Vec::new();
        for (t, tree) in self.trees.iter().enumerate() {
            for (i, m) in margin.iter_mut().enumerate() {
                *m += Self::tree_margin(tree, &|f| row(i, f));
            }
            if (t + 1) % every.max(1) == 0 || t + 1 == self.trees.len() {
                stages.push(margin.clone());
            }
        }
        if stages.is_empty() {
            stages.push(margin);
        }
        stages
    }

    /// Keep the first `rounds` trees.
    pub fn truncate(&mut self, rounds: usize) {
        self.trees.truncate(rounds);
    }
}

/// P(y = 1) of a margin.
pub fn probability(margin: f64) -> f64 {
    sigmoid(margin)
}
