//! Neighbour votes turned into smoothed rates: how battles with similar
//! prompts ended (tie tendency) and how similar responses fared in their own
//! battles. The look-ups themselves happen in the model, which knows which
//! rows a battle may see.

use crate::data::Label;
use crate::search::Hit;

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
pub(crate) struct KnnValues {
    /// Smoothed tie rate among battles with similar prompts.
    pub prompt_tie: f64,
    /// log(1 + total weight) of those prompt neighbours.
    pub prompt_weight: f64,
    /// Smoothed win score (win 1, tie ½, loss 0) of similar responses, A then B.
    pub score: [f64; 2],
    /// Smoothed tie rate of battles containing similar responses.
    pub tie: [f64; 2],
    /// log(1 + total weight) of the response neighbours, A then B.
    pub weight: [f64; 2],
}

impl KnnValues {
    /// The same values with A and B exchanged.
    pub(crate) fn swapped(&self) -> KnnValues {
        KnnValues {
            score: [self.score[1], self.score[0]],
            tie: [self.tie[1], self.tie[0]],
            weight: [self.weight[1], self.weight[0]],
            ..*self
        }
    }
}

/// Training votes that neighbour look-ups turn into rates.
pub(crate) struct Votes<'a> {
    /// Votes of the training battles, by row.
    pub labels: &'a [Label],
    /// Class prior of the training labels (A, B, tie).
    pub prior: [f64; 3],
}

impl Votes<'_> {
    fn weight(p: &KnnParams, sim: f32) -> f64 {
        ((sim as f64 - 1.0) / p.tau).exp()
    }

    /// Tie rate and weight from prompt neighbours (rows are battles).
    pub(crate) fn prompt(&self, p: &KnnParams, hits: &[Hit]) -> (f64, f64) {
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
    pub(crate) fn response(&self, p: &KnnParams, hits: &[Hit]) -> (f64, f64, f64) {
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
