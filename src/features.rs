//! Turning a battle plus its neighbours into a feature vector for the head.
//!
//! Three kinds of signal: what happened in training battles with similar
//! prompts (tie tendency) and with similar responses (how such answers
//! fared), the geometry of the embeddings (cosines, the A−B difference), and
//! cheap text statistics that users know matter (length, lists, headers,
//! code, refusals). Features are always built for a battle and for its A/B
//! swap by the same code, which is what makes the head's symmetry exact.

use crate::data::{Battle, Label};
use crate::index::ann::{dot, Hit};

/// Cheap statistics of one response (all turns of one side).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TextStats {
    pub chars: f32,
    pub words: f32,
    pub lines: f32,
    pub list_items: f32,
    pub headers: f32,
    pub code_blocks: f32,
    pub bold: f32,
    pub refusal: f32,
}

const REFUSALS: [&str; 8] = [
    "i'm sorry",
    "i am sorry",
    "i cannot",
    "i can't",
    "as an ai",
    "i apologize",
    "i'm not able to",
    "i am not able to",
];

impl TextStats {
    pub const NAMES: [&'static str; 8] =
        ["chars", "words", "lines", "lists", "headers", "code", "bold", "refusal"];

    pub fn of_turns(turns: &[String]) -> TextStats {
        let mut s = TextStats::default();
        for t in turns {
            s.chars += t.chars().count() as f32;
            s.words += t.split_whitespace().count() as f32;
            s.code_blocks += (t.matches("```").count() / 2) as f32;
            s.bold += (t.matches("**").count() / 2) as f32;
            for line in t.lines() {
                s.lines += 1.0;
                let l = line.trim_start();
                let numbered = l.split_once(". ").is_some_and(|(n, _)| {
                    !n.is_empty() && n.len() <= 3 && n.bytes().all(|c| c.is_ascii_digit())
                });
                if l.starts_with("- ") || l.starts_with("* ") || l.starts_with("+ ") || numbered {
                    s.list_items += 1.0;
                }
                if l.starts_with('#') {
                    s.headers += 1.0;
                }
            }
            let head: String = t.chars().take(200).collect::<String>().to_lowercase();
            if REFUSALS.iter().any(|r| head.contains(r)) {
                s.refusal = 1.0;
            }
        }
        s
    }

    /// log1p of the counts, the refusal flag as is.
    pub fn values(&self) -> [f64; 8] {
        let l = |x: f32| (x as f64).ln_1p();
        [
            l(self.chars),
            l(self.words),
            l(self.lines),
            l(self.list_items),
            l(self.headers),
            l(self.code_blocks),
            l(self.bold),
            self.refusal as f64,
        ]
    }
}

/// Per-battle statistics used by the features.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BattleStats {
    pub prompt_chars: f32,
    pub turns: f32,
    pub a: TextStats,
    pub b: TextStats,
}

impl BattleStats {
    pub fn of(b: &Battle) -> BattleStats {
        BattleStats {
            prompt_chars: b.prompt.iter().map(|t| t.chars().count()).sum::<usize>() as f32,
            turns: b.prompt.len().max(1) as f32,
            a: TextStats::of_turns(&b.response_a),
            b: TextStats::of_turns(&b.response_b),
        }
    }

    pub fn swapped(&self) -> BattleStats {
        BattleStats { a: self.b, b: self.a, ..*self }
    }
}

/// How neighbour votes are turned into smoothed rates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KnnParams {
    /// Neighbours used per query.
    pub k: usize,
    /// Softness of the similarity weighting: weight = exp((sim − 1) / tau).
    pub tau: f64,
    /// Pseudo-count of the prior in the smoothed rates.
    pub alpha: f64,
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams { k: 20, tau: 0.1, alpha: 2.0 }
    }
}

/// Neighbour-derived values of one battle, per side where it applies.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KnnValues {
    /// Smoothed tie rate among battles with similar prompts.
    pub prompt_tie: f64,
    /// log(1 + total weight) of those prompt neighbours.
    pub prompt_weight: f64,
    /// Smoothed win score (win 1, tie ½, loss 0) of similar responses, A then B.
    pub score: [f64; 2],
    /// Smoothed tie rate of battles containing similar responses.
    pub tie: [f64; 2],
    pub weight: [f64; 2],
}

impl KnnValues {
    pub fn swapped(&self) -> KnnValues {
        KnnValues {
            score: [self.score[1], self.score[0]],
            tie: [self.tie[1], self.tie[0]],
            weight: [self.weight[1], self.weight[0]],
            ..*self
        }
    }
}

/// Training votes that neighbour look-ups turn into rates.
pub struct Votes<'a> {
    pub labels: &'a [Label],
    /// Class prior of the training labels (A, B, tie).
    pub prior: [f64; 3],
}

impl Votes<'_> {
    fn weight(p: &KnnParams, sim: f32) -> f64 {
        ((sim as f64 - 1.0) / p.tau).exp()
    }

    /// Tie rate and weight from prompt neighbours (rows are battles).
    pub fn prompt(&self, p: &KnnParams, hits: &[Hit]) -> (f64, f64) {
        let (mut w_sum, mut tie) = (0.0, 0.0);
        for h in hits.iter().take(p.k) {
            let w = Self::weight(p, h.sim);
            w_sum += w;
            if self.labels[h.row] == Label::Tie {
                tie += w;
            }
        }
        ((tie + p.alpha * self.prior[2]) / (w_sum + p.alpha), w_sum.ln_1p())
    }

    /// Win score, tie rate and weight from response neighbours; response row
    /// `2i` is battle i's response A, `2i + 1` its response B.
    pub fn response(&self, p: &KnnParams, hits: &[Hit]) -> (f64, f64, f64) {
        let (mut w_sum, mut score, mut tie) = (0.0, 0.0, 0.0);
        for h in hits.iter().take(p.k) {
            let w = Self::weight(p, h.sim);
            let label = self.labels[h.row / 2];
            let side = if h.row % 2 == 0 { Label::A } else { Label::B };
            w_sum += w;
            score += w * match label {
                Label::Tie => 0.5,
                l if l == side => 1.0,
                _ => 0.0,
            };
            if label == Label::Tie {
                tie += w;
            }
        }
        (
            (score + p.alpha * 0.5) / (w_sum + p.alpha),
            (tie + p.alpha * self.prior[2]) / (w_sum + p.alpha),
            w_sum.ln_1p(),
        )
    }
}

/// Which feature groups to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeatureSet {
    pub knn: bool,
    pub embedding: bool,
    pub text: bool,
}

impl FeatureSet {
    pub const FULL: FeatureSet = FeatureSet { knn: true, embedding: true, text: true };
    pub const LENGTH_ONLY: FeatureSet = FeatureSet { knn: false, embedding: false, text: true };
    pub const NO_KNN: FeatureSet = FeatureSet { knn: false, embedding: true, text: true };

    /// Number of scalar (non-embedding-difference) features.
    pub fn scalar_len(&self) -> usize {
        let mut n = 0;
        if self.text {
            n += 2 + 8 * 3 + 1;
        }
        if self.embedding {
            n += 3 + 1;
        }
        if self.knn {
            n += 2 + 3 * 3;
        }
        n
    }

    pub fn len(&self, dim: usize) -> usize {
        self.scalar_len() + if self.embedding { dim } else { 0 }
    }
}

/// The embedding vectors of one battle.
pub struct Vectors<'a> {
    pub prompt: &'a [f32],
    pub a: &'a [f32],
    pub b: &'a [f32],
}

/// Write one battle's features into `out` (length `set.len(dim)`). The last
/// `dim` entries, when present, are the A−B embedding difference.
pub fn battle_features(
    set: &FeatureSet,
    stats: &BattleStats,
    v: &Vectors<'_>,
    knn: &KnnValues,
    out: &mut [f64],
) {
    let mut i = 0;
    let mut push = |x: f64| {
        out[i] = x;
        i += 1;
    };
    if set.text {
        push((stats.prompt_chars as f64).ln_1p());
        push((stats.turns as f64).ln());
        let (a, b) = (stats.a.values(), stats.b.values());
        for j in 0..8 {
            push(a[j]);
            push(b[j]);
            push(a[j] - b[j]);
        }
        push((a[0] - b[0]).abs());
    }
    if set.embedding {
        let (pa, pb) = (dot(v.prompt, v.a) as f64, dot(v.prompt, v.b) as f64);
        push(pa);
        push(pb);
        push(pa - pb);
        push(dot(v.a, v.b) as f64);
    }
    if set.knn {
        push(knn.prompt_tie);
        push(knn.prompt_weight);
        for side in 0..2 {
            push(knn.score[side]);
            push(knn.tie[side]);
            push(knn.weight[side]);
        }
        push(knn.score[0] - knn.score[1]);
        push(knn.tie[0] - knn.tie[1]);
        push(knn.weight[0] - knn.weight[1]);
    }
    if set.embedding {
        for (slot, (x, y)) in out[i..].iter_mut().zip(v.a.iter().zip(v.b)) {
            *slot = (*x - *y) as f64;
        }
    }
}

/// Names of the features, in order, for the head file and reports.
pub fn feature_names(set: &FeatureSet, dim: usize) -> Vec<String> {
    let mut n: Vec<String> = Vec::new();
    if set.text {
        n.push("prompt_chars".into());
        n.push("turns".into());
        for s in TextStats::NAMES {
            n.push(format!("a_{s}"));
            n.push(format!("b_{s}"));
            n.push(format!("diff_{s}"));
        }
        n.push("abs_diff_chars".into());
    }
    if set.embedding {
        for s in ["cos_prompt_a", "cos_prompt_b", "diff_cos_prompt", "cos_a_b"] {
            n.push(s.into());
        }
    }
    if set.knn {
        n.push("knn_prompt_tie".into());
        n.push("knn_prompt_weight".into());
        for side in ["a", "b"] {
            for s in ["score", "tie", "weight"] {
                n.push(format!("knn_{side}_{s}"));
            }
        }
        for s in ["score", "tie", "weight"] {
            n.push(format!("knn_diff_{s}"));
        }
    }
    if set.embedding {
        n.extend((0..dim).map(|d| format!("emb_diff_{d}")));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stats_count_structure() {
        let t = vec!["# Title\n- one\n- two\n1. three\n```rust\nx\n```\n**b**".to_string()];
        let s = TextStats::of_turns(&t);
        assert_eq!(s.headers, 1.0);
        assert_eq!(s.list_items, 3.0);
        assert_eq!(s.code_blocks, 1.0);
        assert_eq!(s.bold, 1.0);
        assert_eq!(s.lines, 8.0);
        assert_eq!(TextStats::of_turns(&["I'm sorry, but no.".into()]).refusal, 1.0);
    }

    #[test]
    fn names_match_lengths() {
        for set in [FeatureSet::FULL, FeatureSet::LENGTH_ONLY, FeatureSet::NO_KNN] {
            assert_eq!(feature_names(&set, 7).len(), set.len(7));
        }
    }

    #[test]
    fn response_votes_credit_the_right_side() {
        let labels = [Label::A, Label::B];
        let votes = Votes { labels: &labels, prior: [0.35, 0.35, 0.3] };
        let p = KnnParams { k: 1, tau: 0.1, alpha: 0.0 };
        // Row 0 is battle 0's response A, which won.
        assert_eq!(votes.response(&p, &[Hit { row: 0, sim: 1.0 }]).0, 1.0);
        // Row 1 is battle 0's response B, which lost.
        assert_eq!(votes.response(&p, &[Hit { row: 1, sim: 1.0 }]).0, 0.0);
        // Row 3 is battle 1's response B, which won.
        assert_eq!(votes.response(&p, &[Hit { row: 3, sim: 1.0 }]).0, 1.0);
    }

    #[test]
    fn swapping_swaps_the_feature_sides() {
        let set = FeatureSet::FULL;
        let stats = BattleStats {
            prompt_chars: 10.0,
            turns: 1.0,
            a: TextStats { chars: 100.0, ..Default::default() },
            b: TextStats { chars: 5.0, refusal: 1.0, ..Default::default() },
        };
        let (p, a, b) = ([1.0f32, 0.0], [0.6f32, 0.8], [0.0f32, 1.0]);
        let knn = KnnValues {
            prompt_tie: 0.3,
            prompt_weight: 1.0,
            score: [0.7, 0.2],
            tie: [0.1, 0.4],
            weight: [2.0, 3.0],
        };
        let mut x = vec![0.0; set.len(2)];
        let mut y = vec![0.0; set.len(2)];
        battle_features(&set, &stats, &Vectors { prompt: &p, a: &a, b: &b }, &knn, &mut x);
        battle_features(
            &set,
            &stats.swapped(),
            &Vectors { prompt: &p, a: &b, b: &a },
            &knn.swapped(),
            &mut y,
        );
        let names = feature_names(&set, 2);
        for (i, name) in names.iter().enumerate() {
            if let Some(rest) = name.strip_prefix("a_") {
                let j = names.iter().position(|n| n == &format!("b_{rest}")).unwrap();
                assert_eq!(x[i], y[j], "{name}");
            }
            if name.starts_with("diff_") || name.starts_with("knn_diff") || name.starts_with("emb_diff") {
                assert_eq!(x[i], -y[i], "{name}");
            }
        }
    }
}
