//! What shapes a fit ([`ModelParams`]) and what a fit learned
//! ([`ModelState`], saved in an index folder as `head.json`). Plain data,
//! serialisable, with no behaviour beyond defaults.

use super::head::{BoostedParams, FittedBoosted, FittedHead, HeadParams, Temperature, TreeParams};
use crate::data::Label;
use crate::features::{FeatureSet, KnnParams};
use crate::search::{HnswParams, Search};

/// Everything that shapes a fit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelParams {
    /// Feature groups used.
    pub features: FeatureSet,
    /// How neighbour votes become rates.
    pub knn: KnnParams,
    /// Folds for cross-fitting the training rows' neighbour features and for
    /// choosing the head.
    pub folds: usize,
    /// Seed of the fold assignment and of every sample drawn by the fit.
    pub seed: u64,
    /// Exact or HNSW neighbour search.
    pub search: Search,
    /// HNSW parameters, when HNSW is used.
    pub hnsw: HnswParams,
    /// The L2 penalties tried.
    pub lambdas: Vec<f64>,
    /// The embedding-block scales tried (when the embedding group is on).
    pub emb_scales: Vec<f64>,
    /// L-BFGS iterations at most, per fit.
    pub max_iter: usize,
    /// Above this many rows, the head's hyperparameters are chosen by CV on
    /// a seeded sample of this many rows; the chosen head is then
    /// cross-fitted on every row (for the temperature and out-of-fold
    /// predictions) and fitted on all of them.
    #[serde(default = "default_select_rows")]
    pub select_rows: usize,
    /// Which heads the fit may use.
    #[serde(default)]
    pub head: HeadChoice,
    /// The boosted head's trees; `rounds` is the most tried, the number
    /// used is chosen by cross-validation.
    #[serde(default = "default_trees")]
    pub trees: TreeParams,
    /// Weights of the linear head tried when it is blended with the boosted
    /// one (`HeadChoice::Auto`); 1 is the linear head alone, 0 the boosted.
    #[serde(default = "default_blend_weights")]
    pub blend_weights: Vec<f64>,
}

/// Which heads a fit may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadChoice {
    /// The logistic head alone (what indexes saved before the boosted head use).
    #[default]
    Linear,
    /// Gradient-boosted trees on the scalar features alone.
    Boosted,
    /// A blend of the two, its weight chosen by cross-validation among
    /// `blend_weights` (which may pick either head alone).
    Auto,
}

fn default_select_rows() -> usize {
    10_000
}

fn default_trees() -> TreeParams {
    BoostedParams::default().trees
}

fn default_blend_weights() -> Vec<f64> {
    vec![1.0, 0.75, 0.5, 0.25, 0.0]
}

fn one() -> f64 {
    1.0
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            features: FeatureSet::FULL,
            knn: KnnParams::default(),
            folds: 5,
            seed: 0,
            search: Search::Auto,
            hnsw: HnswParams::default(),
            lambdas: vec![3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0],
            emb_scales: vec![0.0, 0.1, 0.3, 1.0],
            max_iter: 150,
            select_rows: default_select_rows(),
            head: HeadChoice::Auto,
            trees: default_trees(),
            blend_weights: default_blend_weights(),
        }
    }
}

/// What the fit learned, persisted in the index folder as head.json.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelState {
    /// The parameters the fit ran with.
    pub params: ModelParams,
    /// The head's chosen hyperparameters.
    pub head_params: HeadParams,
    /// The head fitted on every training row.
    pub head: FittedHead,
    /// The boosted head fitted on every training row, when the blend uses it
    /// (left out of the file when not: head.json holds no `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boosted: Option<FittedBoosted>,
    /// Weight of the linear head in the blend (1: the linear head alone).
    #[serde(default = "one")]
    pub linear_weight: f64,
    /// The calibration step, fitted on out-of-fold predictions.
    pub temperature: Temperature,
    /// Smoothed class frequencies of the training votes (A, B, tie).
    pub prior: [f64; 3],
    /// Cross-validated log loss of the chosen head on the training rows,
    /// before temperature scaling. The grid point was chosen on these same
    /// rows, so it is optimistic; `knnpref evaluate` gives the nested figure.
    pub cv_log_loss: f64,
    /// The same after temperature scaling (also fitted on these rows).
    pub cv_log_loss_calibrated: f64,
    /// Feature names, in column order.
    pub feature_names: Vec<String>,
}

/// Out-of-fold, temperature-scaled probabilities of the training rows.
pub type Oof = Vec<[f64; 3]>;

/// Add-one smoothed class frequencies (A, B, tie).
pub fn prior_of(labels: &[Label]) -> [f64; 3] {
    let mut c = [1.0; 3]; // add-one smoothing
    for l in labels {
        c[l.index()] += 1.0;
    }
    let s: f64 = c.iter().sum();
    [c[0] / s, c[1] / s, c[2] / s]
}
