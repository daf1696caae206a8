//! Turning a battle plus its neighbours into a feature vector for the head.
//!
//! Three kinds of signal: what happened in training battles with similar
//! prompts (tie tendency) and with similar responses (how such answers
//! fared), the geometry of the embeddings (cosines, the A−B difference), and
//! cheap text statistics that users know matter (length, lists, headers,
//! code, refusals, repeated phrases, word variety, overlap with the prompt).
//! Features are always built for a battle and for its A/B
//! swap by the same code, which is what makes the head's symmetry exact.
//!
//! The layout is written once, in `write_features`: the feature matrix,
//! the feature names and the feature counts all come from it, so they cannot
//! drift apart.

pub mod encoded;
mod knn;
mod text;

use ndarray::parallel::prelude::*;
use ndarray::Array2;

use crate::search::dot;
pub use encoded::EncodedBattles;
pub(crate) use encoded::Vectors;
pub use knn::KnnParams;
pub(crate) use knn::{KnnValues, Votes};
pub use text::{BattleStats, TextStats, WordStats};

/// Which feature groups to build. Groups added after the first index format
/// default to off, so head files written before them load unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeatureSet {
    /// Neighbour votes (prompt tie rate, response win and tie rates).
    pub knn: bool,
    /// Embedding cosines and the A−B embedding difference.
    pub embedding: bool,
    /// Text statistics of the prompt and both responses (27 features).
    pub text: bool,
    /// Lengths alone: characters and words of each side (log1p) and their
    /// differences. Ignored when `text` is on, which holds them already.
    #[serde(default)]
    pub length: bool,
    /// Share of repeated word 3-grams of each side and the difference.
    #[serde(default)]
    pub repeat: bool,
    /// Distinct words / words of each side and the difference.
    #[serde(default)]
    pub uniq: bool,
    /// Word-set Jaccard of each side with the prompt, the difference, and
    /// the Jaccard of the two sides.
    #[serde(default)]
    pub overlap: bool,
}

impl FeatureSet {
    /// No group at all.
    const NONE: FeatureSet = FeatureSet {
        knn: false,
        embedding: false,
        text: false,
        length: false,
        repeat: false,
        uniq: false,
        overlap: false,
    };
    /// knnpref's model: every group that paid on the shared sample (`uniq`
    /// did not, with `repeat` and `overlap` on; `length` is inside `text`).
    pub const FULL: FeatureSet = FeatureSet {
        knn: true,
        embedding: true,
        text: true,
        repeat: true,
        overlap: true,
        ..FeatureSet::NONE
    };
    /// The 27 text statistics alone (the "text-only" baseline).
    pub const TEXT_ONLY: FeatureSet = FeatureSet { text: true, ..FeatureSet::NONE };
    /// Characters and words of each side alone (the "length-only" baseline).
    pub const LENGTH_ONLY: FeatureSet = FeatureSet { length: true, ..FeatureSet::NONE };
    /// Everything but the neighbour votes (the ablation).
    pub const NO_KNN: FeatureSet = FeatureSet { knn: false, ..FeatureSet::FULL };

    /// Number of scalar (non-embedding-difference) features.
    pub fn scalar_len(&self) -> usize {
        let mut count = CountSink(0);
        write_features(self, &BattleStats::default(), &Vectors::EMPTY, &KnnValues::default(), &mut count);
        count.0
    }

    /// Number of features for embeddings of dimension `dim`.
    pub fn len(&self, dim: usize) -> usize {
        self.scalar_len() + if self.embedding { dim } else { 0 }
    }
}

/// Where [`write_features`] sends each feature: a matrix row, a name list or
/// a counter. A name is built only by the sinks that keep it.
trait Sink {
    fn put(&mut self, name: impl FnOnce() -> String, value: f64);
}

struct RowSink<'a> {
    out: &'a mut [f64],
    next: usize,
}

impl Sink for RowSink<'_> {
    fn put(&mut self, _name: impl FnOnce() -> String, value: f64) {
        self.out[self.next] = value;
        self.next += 1;
    }
}

struct NameSink(Vec<String>);

impl Sink for NameSink {
    fn put(&mut self, name: impl FnOnce() -> String, _value: f64) {
        self.0.push(name());
    }
}

struct CountSink(usize);

impl Sink for CountSink {
    fn put(&mut self, _name: impl FnOnce() -> String, _value: f64) {
        self.0 += 1;
    }
}

/// One value of a side's word statistics.
type WordValue = fn(&WordStats) -> f32;

/// The feature layout: every feature of one battle, in order, with its name.
/// The embedding difference, when present, comes last.
fn write_features(
    set: &FeatureSet,
    stats: &BattleStats,
    v: &Vectors<'_>,
    knn: &KnnValues,
    sink: &mut impl Sink,
) {
    if set.text {
        sink.put(|| "prompt_chars".into(), (stats.prompt_chars as f64).ln_1p());
        sink.put(|| "turns".into(), (stats.turns as f64).ln());
        let (a, b) = (stats.a.values(), stats.b.values());
        for (j, stem) in TextStats::NAMES.iter().enumerate() {
            sink.put(|| format!("a_{stem}"), a[j]);
            sink.put(|| format!("b_{stem}"), b[j]);
            sink.put(|| format!("diff_{stem}"), a[j] - b[j]);
        }
        sink.put(|| "abs_diff_chars".into(), (a[0] - b[0]).abs());
    } else if set.length {
        let (a, b) = (stats.a.values(), stats.b.values());
        for (j, stem) in TextStats::NAMES.iter().enumerate().take(2) {
            sink.put(|| format!("a_{stem}"), a[j]);
            sink.put(|| format!("b_{stem}"), b[j]);
            sink.put(|| format!("diff_{stem}"), a[j] - b[j]);
        }
    }
    let (wa, wb) = (&stats.a_words, &stats.b_words);
    let groups: [(bool, &str, WordValue); 3] = [
        (set.repeat, "repeat", |w| w.repeat),
        (set.uniq, "uniq", |w| w.uniq),
        (set.overlap, "overlap_prompt", |w| w.prompt_overlap),
    ];
    for (on, stem, value) in groups {
        if on {
            let (a, b) = (value(wa) as f64, value(wb) as f64);
            sink.put(|| format!("a_{stem}"), a);
            sink.put(|| format!("b_{stem}"), b);
            sink.put(|| format!("diff_{stem}"), a - b);
        }
    }
    if set.overlap {
        sink.put(|| "overlap_a_b".into(), stats.overlap_a_b as f64);
    }
    if set.embedding {
        let (pa, pb) = (dot(v.prompt, v.a) as f64, dot(v.prompt, v.b) as f64);
        sink.put(|| "cos_prompt_a".into(), pa);
        sink.put(|| "cos_prompt_b".into(), pb);
        sink.put(|| "diff_cos_prompt".into(), pa - pb);
        sink.put(|| "cos_a_b".into(), dot(v.a, v.b) as f64);
    }
    if set.knn {
        sink.put(|| "knn_prompt_tie".into(), knn.prompt_tie);
        sink.put(|| "knn_prompt_weight".into(), knn.prompt_weight);
        for (side, name) in ["a", "b"].iter().enumerate() {
            sink.put(|| format!("knn_{name}_score"), knn.score[side]);
            sink.put(|| format!("knn_{name}_tie"), knn.tie[side]);
            sink.put(|| format!("knn_{name}_weight"), knn.weight[side]);
        }
        sink.put(|| "knn_diff_score".into(), knn.score[0] - knn.score[1]);
        sink.put(|| "knn_diff_tie".into(), knn.tie[0] - knn.tie[1]);
        sink.put(|| "knn_diff_weight".into(), knn.weight[0] - knn.weight[1]);
    }
    if set.embedding {
        for (d, (x, y)) in v.a.iter().zip(v.b).enumerate() {
            sink.put(|| format!("emb_diff_{d}"), (*x - *y) as f64);
        }
    }
}

/// Write one battle's features into `out` (length `set.len(dim)`).
pub(crate) fn battle_features(
    set: &FeatureSet,
    stats: &BattleStats,
    v: &Vectors<'_>,
    knn: &KnnValues,
    out: &mut [f64],
) {
    let mut row = RowSink { out, next: 0 };
    write_features(set, stats, v, knn, &mut row);
    debug_assert_eq!(row.next, row.out.len(), "the row has room for every feature");
}

/// Names of the features, in order, for the head file and reports.
pub fn feature_names(set: &FeatureSet, dim: usize) -> Vec<String> {
    let zeros = vec![0f32; dim];
    let v = Vectors { prompt: &zeros, a: &zeros, b: &zeros };
    let mut names = NameSink(Vec::with_capacity(set.len(dim)));
    write_features(set, &BattleStats::default(), &v, &KnnValues::default(), &mut names);
    names.0
}

/// Feature matrices of encoded battles and of their A/B swaps (row `i` of
/// the second is battle `i` with A and B exchanged), one row per battle.
pub(crate) fn matrices(
    set: &FeatureSet,
    q: &EncodedBattles,
    knn: &[KnnValues],
) -> (Array2<f64>, Array2<f64>) {
    let d = set.len(q.dim);
    let mut x = Array2::<f64>::zeros((q.len(), d));
    let mut x_swapped = Array2::<f64>::zeros((q.len(), d));
    x.outer_iter_mut().into_par_iter().zip(x_swapped.outer_iter_mut().into_par_iter()).enumerate().for_each(
        |(i, (mut row, mut swapped_row))| {
            let v = q.vectors(i);
            let out = row.as_slice_mut().expect("rows are contiguous");
            battle_features(set, &q.stats[i], &v, &knn[i], out);
            let out = swapped_row.as_slice_mut().expect("rows are contiguous");
            battle_features(set, &q.stats[i].swapped(), &v.swapped(), &knn[i].swapped(), out);
        },
    );
    (x, x_swapped)
}

#[cfg(test)]
mod tests;
