//! The rules of a fit's parameters, written once: [`ModelParams::check`]
//! turns parameters into [`CheckedParams`], the only thing
//! `Model::fit` takes, so that the CLI, the Python
//! module and any other caller refuse the same values with the same words.

use super::params::ModelParams;
use crate::fault::Fault;

/// Why parameters cannot shape a fit; each names the parameter.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// A parameter outside its range.
    #[error("invalid {name} {value}: {why}")]
    Invalid {
        /// The parameter, as the CLI and Python spell it.
        name: &'static str,
        /// The value given.
        value: String,
        /// The range it must lie in.
        why: &'static str,
    },
    /// Too few battles for the folds: each needs two at least.
    #[error(
        "{rows} labelled battles are too few for {folds} folds (each fold needs at least 2, so at least \
         {need}); use fewer folds or more battles"
    )]
    TooFewRows {
        /// Battles given.
        rows: usize,
        /// Folds asked for.
        folds: usize,
        /// The fewest battles those folds take.
        need: usize,
    },
}

impl ParamsError {
    /// Whose fault: the user's, who chose the parameters and the data.
    pub fn fault(&self) -> Fault {
        match self {
            ParamsError::Invalid { .. } | ParamsError::TooFewRows { .. } => Fault::User,
        }
    }
}

/// [`ModelParams`] that passed [`ModelParams::check`]; read them through
/// `Deref`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedParams(ModelParams);

impl std::ops::Deref for CheckedParams {
    type Target = ModelParams;

    fn deref(&self) -> &ModelParams {
        &self.0
    }
}

impl CheckedParams {
    /// The same parameters with another seed (a seed has no range).
    pub fn with_seed(&self, seed: u64) -> CheckedParams {
        CheckedParams(ModelParams { seed, ..self.0.clone() })
    }

    /// The same parameters with other feature groups and head choice (the
    /// baselines of `evaluate`; neither has a range).
    pub fn with_features(
        &self,
        features: crate::features::FeatureSet,
        head: super::params::HeadChoice,
    ) -> CheckedParams {
        CheckedParams(ModelParams { features, head, ..self.0.clone() })
    }

    /// Refuse `rows` battles when they are too few for the folds.
    pub fn check_rows(&self, rows: usize) -> Result<(), ParamsError> {
        let need = self.folds * 2;
        if rows < need {
            return Err(ParamsError::TooFewRows { rows, folds: self.folds, need });
        }
        Ok(())
    }
}

fn invalid(name: &'static str, value: impl std::fmt::Display, why: &'static str) -> ParamsError {
    ParamsError::Invalid { name, value: value.to_string(), why }
}

impl ModelParams {
    /// Check every parameter against its range.
    pub fn check(self) -> Result<CheckedParams, ParamsError> {
        let p = &self;
        if p.folds < 2 {
            return Err(invalid("folds", p.folds, "must be at least 2"));
        }
        if p.knn.k == 0 {
            return Err(invalid("neighbours", p.knn.k, "must be at least 1"));
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(p.knn.tau) {
            return Err(invalid("knn tau", p.knn.tau, "must be a positive number"));
        }
        if !(p.knn.alpha.is_finite() && p.knn.alpha >= 0.0) {
            return Err(invalid("knn alpha", p.knn.alpha, "must be zero or positive"));
        }
        if p.lambdas.is_empty() || !p.lambdas.iter().all(|&l| positive(l)) {
            return Err(invalid(
                "lambdas",
                format!("{:?}", p.lambdas),
                "must be positive numbers, at least one",
            ));
        }
        if p.emb_scales.is_empty() || !p.emb_scales.iter().all(|&s| s.is_finite() && s >= 0.0) {
            let value = format!("{:?}", p.emb_scales);
            return Err(invalid("embedding scales", value, "must be numbers ≥ 0, at least one"));
        }
        if p.blend_weights.is_empty() || !p.blend_weights.iter().all(|w| (0.0..=1.0).contains(w)) {
            let value = format!("{:?}", p.blend_weights);
            return Err(invalid("blend weights", value, "must lie in [0, 1], at least one"));
        }
        if p.max_iter == 0 {
            return Err(invalid("max iterations", p.max_iter, "must be at least 1"));
        }
        if p.select_rows < 2 * p.folds {
            return Err(invalid("selection rows", p.select_rows, "must be at least twice the folds"));
        }
        let t = &p.trees;
        if t.rounds == 0 || t.depth == 0 || t.min_leaf == 0 {
            return Err(invalid("trees", format!("{t:?}"), "rounds, depth and min_leaf must be at least 1"));
        }
        if !(t.learning_rate > 0.0 && t.learning_rate <= 1.0 && t.l2.is_finite() && t.l2 >= 0.0) {
            return Err(invalid("trees", format!("{t:?}"), "learning_rate must lie in (0, 1] and l2 be ≥ 0"));
        }
        if !(2..=256).contains(&t.bins) {
            return Err(invalid("trees bins", t.bins, "must lie in 2..=256"));
        }
        let h = &p.hnsw;
        if h.m < 2 || h.ef_construction == 0 || h.ef_search == 0 {
            return Err(invalid("hnsw", format!("{h:?}"), "m must be at least 2, ef values at least 1"));
        }
        Ok(CheckedParams(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::KnnParams;

    #[test]
    fn the_defaults_pass_and_each_rule_names_its_parameter() {
        let ok = ModelParams::default();
        assert!(ok.clone().check().is_ok());
        let refused = |p: ModelParams| p.check().unwrap_err().to_string();
        assert!(refused(ModelParams { folds: 1, ..ok.clone() }).starts_with("invalid folds 1"));
        let knn = KnnParams { k: 0, ..KnnParams::default() };
        assert!(refused(ModelParams { knn, ..ok.clone() }).starts_with("invalid neighbours 0"));
        assert!(refused(ModelParams { lambdas: vec![], ..ok.clone() }).contains("lambdas"));
        assert!(refused(ModelParams { lambdas: vec![0.1, -1.0], ..ok.clone() }).contains("lambdas"));
        assert!(
            refused(ModelParams { emb_scales: vec![f64::NAN], ..ok.clone() }).contains("embedding scales")
        );
        assert!(refused(ModelParams { blend_weights: vec![1.5], ..ok.clone() }).contains("blend weights"));
        assert!(refused(ModelParams { max_iter: 0, ..ok.clone() }).contains("max iterations"));
        assert!(refused(ModelParams { select_rows: 3, ..ok }).contains("selection rows"));
    }

    #[test]
    fn too_few_rows_for_the_folds_are_refused_with_the_count_needed() {
        let p = ModelParams::default().check().unwrap();
        assert!(p.check_rows(10).is_ok());
        let err = p.check_rows(6).unwrap_err();
        assert!(matches!(err, ParamsError::TooFewRows { rows: 6, folds: 5, need: 10 }), "{err}");
        assert_eq!(err.fault(), Fault::User);
    }
}
