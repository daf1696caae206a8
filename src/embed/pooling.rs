//! Turns one text's token vectors into a single sentence vector.
//!
//! knnpref runs the transformer itself, so it must pool the way sentence-transformers' `Pooling`
//! module does for the folder's configured mode (see `st_folder`). Mean pooling must stay
//! byte-identical with the fastembed path knnpref used before, so its float operations are fixed.

/// How token vectors become one sentence vector (sentence-transformers' Pooling modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// The first token that is pooled (the CLS token unless padding or an excluded prompt precedes it).
    Cls,
    /// The mean of the pooled tokens.
    Mean,
    /// The per-dimension maximum over the pooled tokens.
    Max,
    /// The sum of the pooled tokens divided by the square root of their count.
    MeanSqrtLen,
    /// The mean weighted by each token's 1-based position in the sequence (SGPT).
    WeightedMean,
    /// The last token that is pooled.
    LastToken,
}

impl Pooling {
    /// Every mode, in sentence-transformers' concatenation order.
    pub const ALL: [Pooling; 6] = [
        Pooling::Cls,
        Pooling::Max,
        Pooling::Mean,
        Pooling::MeanSqrtLen,
        Pooling::WeightedMean,
        Pooling::LastToken,
    ];

    /// The mode's name as sentence-transformers spells it (`pooling_mode` in a Pooling config.json).
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Cls => "cls",
            Pooling::Mean => "mean",
            Pooling::Max => "max",
            Pooling::MeanSqrtLen => "mean_sqrt_len_tokens",
            Pooling::WeightedMean => "weightedmean",
            Pooling::LastToken => "lasttoken",
        }
    }

    /// The mode whose sentence-transformers name is `name` (case-insensitive), if any.
    pub(crate) fn from_name(name: &str) -> Option<Pooling> {
        Pooling::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// What sentence-transformers 5.x writes over masked positions before taking the max.
const MAX_FILL: f32 = -1e9;

/// The smallest token count (or weight sum) sentence-transformers divides by.
const MIN_COUNT: f32 = 1e-9;

/// Pools one text: `hidden` is its token vectors, row-major `[seq × dim]` with `seq = mask.len()`,
/// `mask` its attention mask (non-zero for real tokens), and `skip` how many tokens after any left
/// padding to leave out, as sentence-transformers does for a prompt when `include_prompt` is false.
/// Rows of `hidden` beyond `mask.len()` are ignored; a short `hidden` counts only its full rows.
pub(crate) fn pool(pooling: Pooling, hidden: &[f32], mask: &[i64], dim: usize, skip: usize) -> Vec<f32> {
    if dim == 0 {
        return Vec::new();
    }
    let mask = pooled_mask(mask, skip);
    let rows: Vec<&[f32]> = hidden.chunks_exact(dim).take(mask.len()).collect();
    let mask = &mask[..rows.len()];
    match pooling {
        Pooling::Cls => {
            // argmax of the mask: the first pooled token, or token 0 when none is.
            let first = mask.iter().position(|&m| m != 0).unwrap_or(0);
            rows.get(first).map_or_else(|| vec![0.0; dim], |r| r.to_vec())
        }
        Pooling::Max => {
            let mut out = vec![f32::NEG_INFINITY; dim];
            if rows.is_empty() {
                return vec![0.0; dim];
            }
            for (row, &m) in rows.iter().zip(mask) {
                for (o, &x) in out.iter_mut().zip(row.iter()) {
                    let x = if m == 0 { MAX_FILL } else { x };
                    if x > *o || x.is_nan() {
                        *o = x;
                    }
                }
            }
            out
        }
        Pooling::Mean | Pooling::MeanSqrtLen => {
            let mut sum = vec![0.0f32; dim];
            let mut count = 0.0f32;
            for (row, &m) in rows.iter().zip(mask) {
                let w = m as f32;
                for (s, &x) in sum.iter_mut().zip(row.iter()) {
                    *s += w * x;
                }
                count += w;
            }
            let div = if pooling == Pooling::Mean {
                // fastembed's rule; equals ST's clamp(min=1e-9) since the sum is 0 whenever count is.
                if count == 0.0 {
                    1.0
                } else {
                    count
                }
            } else {
                count.max(MIN_COUNT).sqrt()
            };
            sum.iter().map(|s| s / div).collect()
        }
        Pooling::WeightedMean => {
            let mut sum = vec![0.0f32; dim];
            let mut total = 0.0f32;
            for (t, (row, &m)) in rows.iter().zip(mask).enumerate() {
                let w = m as f32 * (t + 1) as f32;
                for (s, &x) in sum.iter_mut().zip(row.iter()) {
                    *s += x * w;
                }
                total += w;
            }
            let total = total.max(MIN_COUNT);
            sum.iter().map(|s| s / total).collect()
        }
        Pooling::LastToken => {
            // The last pooled token; with none, ST gathers the last row times its zero mask.
            let (last, w) = match mask.iter().rposition(|&m| m != 0) {
                Some(t) => (t, mask[t] as f32),
                None => (rows.len().saturating_sub(1), 0.0),
            };
            rows.get(last).map_or_else(|| vec![0.0; dim], |r| r.iter().map(|&x| x * w).collect())
        }
    }
}

/// The attention mask with the `skip` tokens after any left padding zeroed (ST's prompt exclusion).
fn pooled_mask(mask: &[i64], skip: usize) -> Vec<i64> {
    let mut out = mask.to_vec();
    if skip > 0 {
        let start = mask.iter().position(|&m| m != 0).unwrap_or(0);
        let end = start.saturating_add(skip).min(out.len());
        out[..end].iter_mut().for_each(|m| *m = 0);
    }
    out
}

/// Scales `v` to unit length the way fastembed and knnpref always have (`x / (norm + 1e-12)`).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = (v.iter().map(|x| x * x).sum::<f32>()).sqrt();
    for x in v.iter_mut() {
        *x /= norm + 1e-12;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four tokens of dim 2, the last one padding with garbage values.
    const H: [f32; 8] = [1.0, 2.0, 3.0, -4.0, 5.0, 0.5, 99.0, 99.0];
    /// The mask for `H`.
    const M: [i64; 4] = [1, 1, 1, 0];

    #[test]
    fn cls_takes_first_pooled_token() {
        assert_eq!(pool(Pooling::Cls, &H, &M, 2, 0), vec![1.0, 2.0]);
        assert_eq!(pool(Pooling::Cls, &H, &M, 2, 1), vec![3.0, -4.0]);
        // Left padding: the first real token.
        assert_eq!(pool(Pooling::Cls, &H, &[0, 1, 1, 1], 2, 0), vec![3.0, -4.0]);
    }

    #[test]
    fn mean_averages_real_tokens() {
        assert_eq!(pool(Pooling::Mean, &H, &M, 2, 0), vec![3.0, -0.5]);
        assert_eq!(pool(Pooling::Mean, &H, &M, 2, 1), vec![4.0, -1.75]);
    }

    #[test]
    fn max_ignores_padding() {
        assert_eq!(pool(Pooling::Max, &H, &M, 2, 0), vec![5.0, 2.0]);
        assert_eq!(pool(Pooling::Max, &H, &M, 2, 1), vec![5.0, 0.5]);
        let neg = [-1.0, -2.0, -3.0, -0.5];
        assert_eq!(pool(Pooling::Max, &neg, &[1, 1], 2, 0), vec![-1.0, -0.5]);
        assert_eq!(pool(Pooling::Max, &neg, &[0, 0], 2, 0), vec![MAX_FILL, MAX_FILL]);
    }

    #[test]
    fn mean_sqrt_len_divides_by_root_count() {
        let r = 3f32.sqrt();
        assert_eq!(pool(Pooling::MeanSqrtLen, &H, &M, 2, 0), vec![9.0 / r, -1.5 / r]);
        let r = 2f32.sqrt();
        assert_eq!(pool(Pooling::MeanSqrtLen, &H, &M, 2, 1), vec![8.0 / r, -3.5 / r]);
    }

    #[test]
    fn weighted_mean_uses_one_based_positions() {
        // (1*1 + 2*3 + 3*5) / 6 and (1*2 + 2*-4 + 3*0.5) / 6.
        assert_eq!(pool(Pooling::WeightedMean, &H, &M, 2, 0), vec![22.0 / 6.0, -4.5 / 6.0]);
        // Skipping token 0 keeps the absolute positions: (2*3 + 3*5) / 5.
        assert_eq!(pool(Pooling::WeightedMean, &H, &M, 2, 1), vec![21.0 / 5.0, -6.5 / 5.0]);
        // Left padding shifts the weights, as in ST: (2*3 + 3*5 + 4*99) / 9.
        let left = pool(Pooling::WeightedMean, &H, &[0, 1, 1, 1], 2, 0);
        assert_eq!(left, vec![417.0 / 9.0, (-8.0 + 1.5 + 396.0) / 9.0]);
    }

    #[test]
    fn last_token_takes_last_real_token() {
        assert_eq!(pool(Pooling::LastToken, &H, &M, 2, 0), vec![5.0, 0.5]);
        assert_eq!(pool(Pooling::LastToken, &H, &M, 2, 2), vec![5.0, 0.5]);
        assert_eq!(pool(Pooling::LastToken, &H, &[0, 1, 1, 1], 2, 0), vec![99.0, 99.0]);
        assert_eq!(pool(Pooling::LastToken, &H, &M, 2, 3), vec![0.0, 0.0]);
    }

    #[test]
    fn skip_counts_after_left_padding() {
        assert_eq!(pooled_mask(&[0, 1, 1, 1], 1), vec![0, 0, 1, 1]);
        assert_eq!(pooled_mask(&[1, 1, 0], 5), vec![0, 0, 0]);
        assert_eq!(pooled_mask(&[1, 1, 0], 0), vec![1, 1, 0]);
    }

    #[test]
    fn padding_rows_never_change_the_result() {
        let mut padded = H[..6].to_vec();
        padded.extend_from_slice(&[-7.0, 1e6, f32::MAX, -3.0]);
        for p in Pooling::ALL {
            for skip in 0..3 {
                let short = pool(p, &H[..6], &M[..3], 2, skip);
                assert_eq!(pool(p, &padded, &[1, 1, 1, 0, 0], 2, skip), short, "{p:?} skip {skip}");
            }
        }
    }

    #[test]
    fn normalize_gives_unit_norm() {
        let mut v = vec![3.0, 4.0, 12.0];
        normalize(&mut v);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6);
        let mut zero = vec![0.0; 3];
        normalize(&mut zero);
        assert_eq!(zero, vec![0.0; 3]);
    }

    #[test]
    fn all_masked_mean_is_finite() {
        for p in [Pooling::Mean, Pooling::MeanSqrtLen, Pooling::WeightedMean] {
            assert_eq!(pool(p, &H, &[0, 0, 0, 0], 2, 0), vec![0.0, 0.0]);
            assert_eq!(pool(p, &H, &M, 2, 10), vec![0.0, 0.0]);
        }
        assert_eq!(pool(Pooling::Mean, &[], &[], 2, 0), vec![0.0, 0.0]);
    }

    #[test]
    fn names_round_trip() {
        for p in Pooling::ALL {
            assert_eq!(Pooling::from_name(p.name()), Some(p));
        }
        assert_eq!(Pooling::from_name("MEAN"), Some(Pooling::Mean));
        assert_eq!(Pooling::from_name("sum"), None);
    }
}
