//! Why the head leaned towards a class on one battle: each feature's
//! standardised value times its weight for that class, less the mean of its
//! weights over the classes (a logit share), the largest shown by name.
//! Only the logistic head is attributed; where the fit blends in boosted
//! trees (`ModelState::linear_weight` < 1), their share is not.

use ndarray::ArrayView1;

use crate::data::Label;
use crate::model::ModelState;

/// How many features an attribution lists.
pub(crate) const TOP_FEATURES: usize = 5;

/// One feature's pull towards the predicted class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Contribution {
    /// The feature's name, from the head file; the embedding difference is
    /// one entry, `emb_diff (N dims)`, the sum over its dimensions.
    pub feature: String,
    /// The feature's value on this battle (none for the embedding block).
    pub value: Option<f64>,
    /// Its share of the class's centred logit; positive pushes towards the class.
    pub contribution: f64,
}

/// What pushed the index's head towards a class on one training battle.
///
/// It is the head saved in the index (fitted on every training row, this
/// one included) on the battle's features with neighbour votes from other
/// folds, not the fold model of `evaluate` that made the OOF prediction;
/// it explains the same kind of model, not that exact number.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attribution {
    /// The class explained (the OOF prediction's most probable class).
    pub class: &'static str,
    /// The intercept's share: its bias less the mean bias.
    pub intercept: f64,
    /// The intercept plus every feature's contribution: the class's log
    /// probability less the mean log probability, for the head on the
    /// battle as given (without its A/B swap).
    pub total: f64,
    /// The features with the largest contributions by absolute value, largest first.
    pub top: Vec<Contribution>,
}

/// Attribute the head's leaning towards `class` on the feature row `x`.
pub(crate) fn attribute(state: &ModelState, x: ArrayView1<f64>, class: usize) -> Attribution {
    let head = &state.head;
    // The head predicts the mean of p(x) and swap(p(swap x)). The swap half is
    // the same weights on the mirrored features, so it would repeat each
    // feature's story with A and B exchanged; we attribute p(x), the battle as
    // it was shown, alone.
    let x: Vec<f64> = x.to_vec();
    let all = head.contributions(&x, class);
    let scalars = state.head_params.scalar_len.min(all.len());
    let mut entries: Vec<Contribution> = all[..scalars]
        .iter()
        .zip(&x)
        .zip(&state.feature_names)
        .map(|((&contribution, &value), name)| Contribution {
            feature: name.clone(),
            value: Some(value),
            contribution,
        })
        .collect();
    if all.len() > scalars {
        entries.push(Contribution {
            feature: format!("emb_diff ({} dims)", all.len() - scalars),
            value: None,
            contribution: all[scalars..].iter().sum(),
        });
    }
    let intercept = head.bias[class] - head.bias.iter().sum::<f64>() / 3.0;
    let total = intercept + all.iter().sum::<f64>();
    entries.sort_by(|a, b| {
        b.contribution.abs().total_cmp(&a.contribution.abs()).then_with(|| a.feature.cmp(&b.feature))
    });
    entries.truncate(TOP_FEATURES);
    Attribution { class: Label::ALL[class].name(), intercept, total, top: entries }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::head::{FittedHead, HeadParams, Temperature};
    use crate::model::ModelParams;

    /// A head over 4 scalar features and a 2-dim embedding block, by hand.
    fn state() -> ModelState {
        // Weights per feature for (A, B, tie); the tie column is 0.
        let w = [[1.0, -1.0], [0.5, 0.0], [0.0, 0.0], [-2.0, 2.0], [0.3, 0.0], [0.3, 0.0]];
        ModelState {
            params: ModelParams::default(),
            head_params: HeadParams { lambda: 1.0, emb_scale: 1.0, scalar_len: 4, max_iter: 1 },
            head: FittedHead {
                mean: vec![1.0; 6],
                scale: vec![0.5; 6],
                weights: w.iter().flat_map(|r| [r[0], r[1], 0.0]).collect(),
                bias: [0.4, 0.1, -0.5],
            },
            boosted: None,
            linear_weight: 1.0,
            temperature: Temperature::IDENTITY,
            prior: [1.0 / 3.0; 3],
            cv_log_loss: 0.0,
            cv_log_loss_calibrated: 0.0,
            feature_names: ["f0", "f1", "f2", "f3", "emb_diff_0", "emb_diff_1"].map(String::from).to_vec(),
        }
    }

    #[test]
    fn attribution_names_the_largest_pulls_and_sums_the_embedding_block() {
        let x = ndarray::arr1(&[3.0, 3.0, 7.0, 0.0, 5.0, 5.0]);
        let a = attribute(&state(), x.view(), Label::A.index());
        assert_eq!(a.class, "model_a");
        // Standardised values 1, 1, 3, -0.5, 2, 2; A weight less the mean weight:
        // 1, 1/3, 0, -2, 0.2, 0.2.
        let got: Vec<(&str, f64)> = a.top.iter().map(|c| (c.feature.as_str(), c.contribution)).collect();
        let want = [("f0", 1.0), ("f3", 1.0), ("emb_diff (2 dims)", 0.8), ("f1", 1.0 / 3.0), ("f2", 0.0)];
        assert_eq!(got.len(), TOP_FEATURES);
        for ((g, gc), (w, wc)) in got.iter().zip(want) {
            assert_eq!(*g, w);
            assert!((gc - wc).abs() < 1e-12, "{g}: {gc} vs {wc}");
        }
        assert_eq!(a.top[0].value, Some(3.0));
        assert_eq!(a.top[2].value, None);
        assert!((a.intercept - 0.4).abs() < 1e-12);
        assert!((a.total - (0.4 + 1.0 + 1.0 / 3.0 + 1.0 + 0.8)).abs() < 1e-12);
    }
}
