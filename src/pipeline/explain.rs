//! Why the head leaned towards a class on one battle: each feature's
//! standardised value times its weight for that class, less the mean of its
//! weights over the classes (a logit share), the largest shown by name.

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
