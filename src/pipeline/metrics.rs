//! Scores that let a competitor tell a real gain from noise: calibration
//! error, reliability bins, paired bootstrap intervals and segment labels.

use crate::data::{Battle, Label};
use crate::head::argmax;
use crate::rand::SplitMix;

/// Per-row log loss (probabilities as given; callers normalise first).
pub fn row_losses(probs: &[[f64; 3]], y: &[Label]) -> Vec<f64> {
    probs.iter().zip(y).map(|(p, l)| -p[l.index()].clamp(1e-15, 1.0).ln()).collect()
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Sample standard deviation.
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
    pub predicted: f64,
    pub observed: f64,
    pub count: usize,
}

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
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

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

/// The segment families a report breaks results down by.
pub const SEGMENT_FAMILIES: [&str; 4] = ["turns", "length ratio", "truth", "script"];

/// Segment labels of one battle, one per family in [`SEGMENT_FAMILIES`].
pub fn segments_of(b: &Battle, a_chars: f32, b_chars: f32) -> [String; 4] {
    let turns = if b.prompt.len() > 1 { "multi-turn" } else { "single-turn" };
    let (lo, hi) = (a_chars.min(b_chars) as f64 + 1.0, a_chars.max(b_chars) as f64 + 1.0);
    let ratio = hi / lo;
    let bucket = if ratio < 1.25 {
        "ratio <1.25"
    } else if ratio < 2.0 {
        "ratio 1.25-2"
    } else if ratio < 4.0 {
        "ratio 2-4"
    } else {
        "ratio >4"
    };
    let truth = match b.label {
        Some(Label::Tie) => "true tie",
        _ => "true non-tie",
    };
    let (mut letters, mut ascii) = (0usize, 0usize);
    for t in &b.prompt {
        for c in t.chars().filter(|c| c.is_alphabetic()) {
            letters += 1;
            ascii += c.is_ascii() as usize;
        }
    }
    let script = if letters == 0 || ascii * 10 >= letters * 9 { "latin script" } else { "other scripts" };
    [turns.into(), bucket.into(), truth.into(), script.into()]
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
        assert_eq!(s, ["multi-turn", "ratio >4", "true tie", "other scripts"].map(String::from));
    }

    #[test]
    fn reliability_counts_rows() {
        let probs = [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]];
        let bins = reliability(&probs, &[Label::A, Label::A], 0, 10);
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 2);
    }
}
