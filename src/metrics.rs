//! Scores: the one log loss every stage uses (Kaggle's clipping rule), and
//! what lets a competitor tell a real gain from noise — accuracy,
//! calibration error, reliability bins, paired bootstrap intervals and
//! segment labels.

use crate::data::{Battle, Label};
use crate::rand::SplitMix;

/// Kaggle's clipping: each probability is clipped to [EPS, 1 − EPS] and the
/// row renormalised before the log is taken.
const EPS: f64 = 1e-15;

/// One row's log loss under Kaggle's clipping rule.
fn row_log_loss(p: &[f64; 3], y: Label) -> f64 {
    let s: f64 = p.iter().map(|v| v.clamp(EPS, 1.0 - EPS)).sum();
    -(p[y.index()].clamp(EPS, 1.0 - EPS) / s).ln()
}

/// Per-row log loss, for paired comparisons and segments.
pub(crate) fn row_losses(probs: &[[f64; 3]], y: &[Label]) -> Vec<f64> {
    probs.iter().zip(y).map(|(p, &l)| row_log_loss(p, l)).collect()
}

/// Mean multi-class log loss, as Kaggle scores a submission.
pub fn log_loss(probs: &[[f64; 3]], y: &[Label]) -> f64 {
    let total: f64 = probs.iter().zip(y).map(|(p, &l)| row_log_loss(p, l)).sum();
    total / y.len().max(1) as f64
}

/// Share of rows whose most probable class is the true one.
pub fn accuracy(probs: &[[f64; 3]], y: &[Label]) -> f64 {
    let hits = probs.iter().zip(y).filter(|(p, l)| argmax(p) == l.index()).count();
    hits as f64 / y.len().max(1) as f64
}

/// Index of the most probable class (the first one on ties).
pub fn argmax(p: &[f64; 3]) -> usize {
    (0..3).fold(0, |best, c| if p[c] > p[best] { c } else { best })
}

/// Arithmetic mean (0 for no values).
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Sample standard deviation (0 for fewer than two values).
pub fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// Top-label expected calibration error over `bins` equal-width bins.
pub fn ece(probs: &[[f64; 3]], y: &[Label], bins: usize) -> f64 {
    let mut count = vec![0.0; bins];
    let mut conf = vec![0.0; bins];
    let mut hit = vec![0.0; bins];
    for (p, l) in probs.iter().zip(y) {
        let c = argmax(p);
        let b = ((p[c] * bins as f64) as usize).min(bins - 1);
        count[b] += 1.0;
        conf[b] += p[c];
        hit[b] += (c == l.index()) as u8 as f64;
    }
    let n = probs.len().max(1) as f64;
    (0..bins).filter(|&b| count[b] > 0.0).map(|b| (conf[b] - hit[b]).abs() / n).sum()
}

/// One reliability-diagram point: mean predicted probability of a class in a
/// bin, the observed frequency of that class, and the bin's size.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ReliabilityBin {
    /// Mean predicted probability of the class in the bin.
    pub predicted: f64,
    /// Share of the bin's rows whose true class it is.
    pub observed: f64,
    /// Rows in the bin.
    pub count: usize,
}

/// Reliability diagram of one class over `bins` equal-width bins (empty bins left out).
pub fn reliability(probs: &[[f64; 3]], y: &[Label], class: usize, bins: usize) -> Vec<ReliabilityBin> {
    let mut acc = vec![(0.0, 0.0, 0usize); bins];
    for (p, l) in probs.iter().zip(y) {
        let b = ((p[class] * bins as f64) as usize).min(bins - 1);
        acc[b].0 += p[class];
        acc[b].1 += (l.index() == class) as u8 as f64;
        acc[b].2 += 1;
    }
    acc.into_iter()
        .filter(|a| a.2 > 0)
        .map(|(p, o, c)| ReliabilityBin { predicted: p / c as f64, observed: o / c as f64, count: c })
        .collect()
}

/// Mean of `a − b` over rows with a bootstrap 95% interval (percentile method).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PairedDiff {
    /// Mean of the per-row differences.
    pub mean: f64,
    /// 2.5th percentile of the bootstrap means.
    pub low: f64,
    /// 97.5th percentile of the bootstrap means.
    pub high: f64,
}

/// Paired difference of per-row losses `a − b`, with `resamples` seeded bootstrap draws.
pub fn paired_bootstrap(a: &[f64], b: &[f64], resamples: usize, seed: u64) -> PairedDiff {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len();
    let mut rng = SplitMix::new(seed);
    let mut means: Vec<f64> =
        (0..resamples).map(|_| (0..n).map(|_| d[rng.below(n)]).sum::<f64>() / n.max(1) as f64).collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * resamples as f64) as usize).min(resamples.saturating_sub(1))];
    PairedDiff { mean: mean(&d), low: at(0.025), high: at(0.975) }
}

/// The segment families a report breaks results down by, each with its
/// segments in their natural order (the order tables and charts use).
pub const SEGMENTS: [(&str, &[&str]); 4] = [
    ("turns", &["single-turn", "multi-turn"]),
    ("length ratio", &["<1.25", "1.25-2", "2-4", ">4"]),
    ("truth", &["not a tie", "tie"]),
    ("script", &["latin", "other"]),
];

/// The segment of one battle in each family of [`SEGMENTS`], as an index
/// into that family's segments. The length ratio is longer ÷ shorter
/// response in characters (+1 each).
pub fn segments_of(b: &Battle, a_chars: f32, b_chars: f32) -> [usize; 4] {
    let turns = usize::from(b.prompt.len() > 1);
    let (lo, hi) = (a_chars.min(b_chars) as f64 + 1.0, a_chars.max(b_chars) as f64 + 1.0);
    let ratio = hi / lo;
    let bucket = [1.25, 2.0, 4.0].iter().filter(|&&edge| ratio >= edge).count();
    let truth = usize::from(b.label == Some(Label::Tie));
    let (mut letters, mut ascii) = (0usize, 0usize);
    for t in &b.prompt {
        for c in t.chars().filter(|c| c.is_alphabetic()) {
            letters += 1;
            ascii += c.is_ascii() as usize;
        }
    }
    let script = usize::from(!(letters == 0 || ascii * 10 >= letters * 9));
    [turns, bucket, truth, script]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_calibrated_bins_have_zero_ece() {
        // Confidence 0.5 right half the time.
        let probs = vec![[0.5, 0.3, 0.2]; 4];
        let y = [Label::A, Label::B, Label::A, Label::Tie];
        assert!(ece(&probs, &y, 10) < 1e-12);
        let y_wrong = [Label::B; 4];
        assert!((ece(&probs, &y_wrong, 10) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_interval_brackets_the_mean_and_is_seeded() {
        let a: Vec<f64> = (0..200).map(|i| 1.0 + (i % 7) as f64 * 0.01).collect();
        let b: Vec<f64> = (0..200).map(|i| 1.0 + (i % 5) as f64 * 0.01).collect();
        let d = paired_bootstrap(&a, &b, 500, 3);
        assert!(d.low <= d.mean && d.mean <= d.high);
        assert_eq!(d, paired_bootstrap(&a, &b, 500, 3));
    }

    #[test]
    fn segments_follow_the_battle() {
        let b = Battle {
            id: "1".into(),
            prompt: vec!["Привет".into(), "ещё".into()],
            response_a: vec![],
            response_b: vec![],
            label: Some(Label::Tie),
        };
        let s = segments_of(&b, 100.0, 900.0);
        let names: Vec<&str> = s.iter().zip(SEGMENTS).map(|(&i, (_, names))| names[i]).collect();
        assert_eq!(names, ["multi-turn", ">4", "tie", "other"]);
        let even = segments_of(&Battle { prompt: vec!["hello".into()], label: None, ..b }, 100.0, 110.0);
        assert_eq!(even, [0, 0, 0, 0]);
    }

    #[test]
    fn reliability_counts_rows() {
        let probs = [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]];
        let bins = reliability(&probs, &[Label::A, Label::A], 0, 10);
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 2);
    }
}
