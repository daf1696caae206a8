//! The fitted knnpref model: neighbour indexes over training battles, the
//! cross-fitted head and its temperature.
//!
//! Training rows get neighbour features from other folds only, so that no row
//! sees its own vote; test rows see every training battle. The head's L2
//! strength and the weight of the embedding-difference block are chosen by
//! cross-validation on those features, never by hand.

use ndarray::parallel::prelude::*;
use ndarray::Array2;
use rayon::iter::ParallelExtend;

use crate::data::Label;
use crate::features::{battle_features, FeatureSet, KnnParams, KnnValues, Votes};
use crate::head::{log_loss, FittedHead, HeadError, HeadParams, Temperature};
use crate::index::ann::{Hit, HnswParams, Search, VectorIndex};
use crate::pipeline::encode::Encoded;
use crate::rand::fold_assignment;

/// Everything that shapes a fit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelParams {
    pub features: FeatureSet,
    pub knn: KnnParams,
    pub folds: usize,
    pub seed: u64,
    pub search: Search,
    pub hnsw: HnswParams,
    pub lambdas: Vec<f64>,
    pub emb_scales: Vec<f64>,
    pub max_iter: usize,
    /// Above this many rows, the head's hyperparameters are chosen by CV on
    /// a seeded sample of this many rows; the chosen head is then
    /// cross-fitted on every row (for the temperature and out-of-fold
    /// predictions) and fitted on all of them.
    #[serde(default = "default_select_rows")]
    pub select_rows: usize,
}

fn default_select_rows() -> usize {
    10_000
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
        }
    }
}

/// What the fit learned, persisted in the index folder as head.json.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Learned {
    pub params: ModelParams,
    pub head_params: HeadParams,
    pub head: FittedHead,
    pub temperature: Temperature,
    pub prior: [f64; 3],
    /// Cross-validated log loss of the chosen head on the training rows,
    /// before and after temperature scaling.
    pub cv_log_loss: f64,
    pub cv_log_loss_calibrated: f64,
    pub feature_names: Vec<String>,
}

pub struct Model {
    pub learned: Learned,
    pub labels: Vec<Label>,
    prompt_ann: VectorIndex,
    resp_ann: VectorIndex,
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

fn interleave(a: &[f32], b: &[f32], dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(a.len() * 2);
    for (x, y) in a.chunks_exact(dim).zip(b.chunks_exact(dim)) {
        out.extend_from_slice(x);
        out.extend_from_slice(y);
    }
    out
}

impl Model {
    /// Rebuild the neighbour indexes around learned parameters.
    pub fn assemble(learned: Learned, train: &Encoded, labels: Vec<Label>) -> Model {
        let p = &learned.params;
        let prompt_ann = VectorIndex::build(train.prompt.clone(), train.dim, p.search, p.hnsw);
        let resp_ann =
            VectorIndex::build(interleave(&train.a, &train.b, train.dim), train.dim, p.search, p.hnsw);
        Model { learned, labels, prompt_ann, resp_ann }
    }

    /// Fit on labelled, encoded battles. Returns the model and its
    /// out-of-fold calibrated probabilities for the training rows.
    pub fn fit(params: &ModelParams, train: &Encoded, labels: &[Label]) -> Result<(Model, Oof), HeadError> {
        let n = labels.len();
        if params.folds < 2 || n < params.folds * 2 {
            return Err(HeadError::BadData {
                rows: n,
                why: "need at least 2 folds and 2 labelled rows per fold",
            });
        }
        let prior = prior_of(labels);
        let placeholder = Learned {
            params: params.clone(),
            head_params: HeadParams {
                lambda: 1.0,
                emb_scale: 1.0,
                scalar_len: params.features.scalar_len(),
                max_iter: params.max_iter,
            },
            head: FittedHead { mean: vec![], scale: vec![], weights: vec![], bias: [0.0; 3] },
            temperature: Temperature::IDENTITY,
            prior,
            cv_log_loss: f64::NAN,
            cv_log_loss_calibrated: f64::NAN,
            feature_names: crate::features::feature_names(&params.features, train.dim),
        };
        let mut model = Model::assemble(placeholder, train, labels.to_vec());
        let folds = fold_assignment(n, params.folds, params.seed);
        let knn = model.knn_values(train, Some(&folds));
        let (x, xs) = model.feature_matrices(train, &knn);

        // Choose the head's hyperparameters by cross-validation, on a seeded
        // sample of rows when there are many.
        let scales: Vec<f64> = if params.features.embedding { params.emb_scales.clone() } else { vec![1.0] };
        let base = HeadParams {
            lambda: 1.0,
            emb_scale: 1.0,
            scalar_len: params.features.scalar_len(),
            max_iter: params.max_iter,
        };
        let (best, best_oof) = if n > params.select_rows.max(params.folds * 2) {
            let mut rows: Vec<usize> = (0..n).collect();
            crate::rand::SplitMix::new(params.seed ^ 0x5e1e_c7ed).shuffle(&mut rows);
            rows.truncate(params.select_rows);
            rows.sort_unstable();
            let pick = |m: &Array2<f64>| m.select(ndarray::Axis(0), &rows);
            let y: Vec<Label> = rows.iter().map(|&i| labels[i]).collect();
            let f: Vec<usize> = rows.iter().map(|&i| folds[i]).collect();
            let (_, best, _) =
                select_head(&base, &scales, &params.lambdas, &pick(&x), &pick(&xs), &y, &f, params.folds)?;
            (best, cv_oof(&best, &x, &xs, labels, &folds, params.folds)?)
        } else {
            let (_, best, oof) =
                select_head(&base, &scales, &params.lambdas, &x, &xs, labels, &folds, params.folds)?;
            (best, oof)
        };
        let best_loss = log_loss(&best_oof, labels);
        let temperature = Temperature::fit(&best_oof, labels);
        let oof = temperature.apply(&best_oof);
        let head = best.fit(x.view(), xs.view(), labels)?;
        model.learned.head_params = best;
        model.learned.head = head;
        model.learned.temperature = temperature;
        model.learned.cv_log_loss = best_loss;
        model.learned.cv_log_loss_calibrated = log_loss(&oof, labels);
        Ok((model, oof))
    }

    /// Calibrated, swap-symmetric probabilities for encoded battles.
    pub fn predict(&self, q: &Encoded) -> Vec<[f64; 3]> {
        let knn = self.knn_values(q, None);
        let (x, xs) = self.feature_matrices(q, &knn);
        let raw = self.learned.head.predict_proba(x.view(), xs.view());
        self.learned.temperature.apply(&raw)
    }

    /// Nearest training battles by prompt embedding.
    pub fn similar_prompts(&self, prompt: &[f32], k: usize) -> Vec<Hit> {
        self.prompt_ann.search(prompt, k)
    }

    /// Neighbour values for each battle of `q`. With `folds`, `q` is the
    /// training set itself and neighbours from a row's own fold are skipped.
    fn knn_values(&self, q: &Encoded, folds: Option<&[usize]>) -> Vec<KnnValues> {
        let p = &self.learned.params.knn;
        if !self.learned.params.features.knn {
            return vec![KnnValues::default(); q.len()];
        }
        let fetch = match folds {
            Some(_) => p.k * 2 + 2,
            None => p.k,
        };
        let votes = Votes { labels: &self.labels, prior: self.learned.prior };
        let dim = q.dim;
        // Search in blocks of rows: exact search runs as a matrix product per
        // block, and the hit lists held at once stay bounded.
        const BLOCK: usize = 8192;
        let mut out = Vec::with_capacity(q.len());
        for start in (0..q.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(q.len());
            let span = start * dim..end * dim;
            let hits_p = self.prompt_ann.search_many(&q.prompt[span.clone()], fetch);
            let hits_a = self.resp_ann.search_many(&q.a[span.clone()], fetch);
            let hits_b = self.resp_ann.search_many(&q.b[span], fetch);
            out.par_extend((start..end).into_par_iter().map(|i| {
                let keep = |battle: usize| folds.is_none_or(|f| f[battle] != f[i]);
                let j = i - start;
                let hits_p: Vec<Hit> = hits_p[j].iter().copied().filter(|h| keep(h.row)).collect();
                let side = |hits: &[Hit]| {
                    let hits: Vec<Hit> = hits.iter().copied().filter(|h| keep(h.row / 2)).collect();
                    votes.response(p, &hits)
                };
                let (prompt_tie, prompt_weight) = votes.prompt(p, &hits_p);
                let (sa, ta, wa) = side(&hits_a[j]);
                let (sb, tb, wb) = side(&hits_b[j]);
                KnnValues { prompt_tie, prompt_weight, score: [sa, sb], tie: [ta, tb], weight: [wa, wb] }
            }));
        }
        out
    }

    /// Feature matrices for battles and for their A/B swaps.
    fn feature_matrices(&self, q: &Encoded, knn: &[KnnValues]) -> (Array2<f64>, Array2<f64>) {
        let set = &self.learned.params.features;
        let d = set.len(q.dim);
        let mut x = Array2::<f64>::zeros((q.len(), d));
        let mut xs = Array2::<f64>::zeros((q.len(), d));
        x.outer_iter_mut().into_par_iter().zip(xs.outer_iter_mut().into_par_iter()).enumerate().for_each(
            |(i, (mut row, mut srow))| {
                let v = q.vectors(i);
                let out = row.as_slice_mut().expect("rows are contiguous");
                battle_features(set, &q.stats[i], &v, &knn[i], out);
                let sv = crate::features::Vectors { prompt: v.prompt, a: v.b, b: v.a };
                let sout = srow.as_slice_mut().expect("rows are contiguous");
                battle_features(set, &q.stats[i].swapped(), &sv, &knn[i].swapped(), sout);
            },
        );
        (x, xs)
    }
}

/// The grid point (embedding scale × λ) with the lowest out-of-fold log
/// loss, with that loss and its out-of-fold probabilities. Each (scale,
/// fold) pair fits one warm-started λ path; ties go to the earlier point.
#[allow(clippy::too_many_arguments)]
fn select_head(
    base: &HeadParams,
    scales: &[f64],
    lambdas: &[f64],
    x: &Array2<f64>,
    xs: &Array2<f64>,
    labels: &[Label],
    folds: &[usize],
    k: usize,
) -> Result<(f64, HeadParams, Oof), HeadError> {
    let tasks: Vec<(usize, usize)> = (0..scales.len()).flat_map(|s| (0..k).map(move |f| (s, f))).collect();
    // Per (scale, fold): the held-out rows and one prediction per λ.
    type Path = (Vec<usize>, Vec<Vec<[f64; 3]>>);
    let paths: Vec<Path> = tasks
        .par_iter()
        .map(|&(s, f)| {
            let train: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] != f).collect();
            let test: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] == f).collect();
            let pick = |m: &Array2<f64>, rows: &[usize]| m.select(ndarray::Axis(0), rows);
            let y: Vec<Label> = train.iter().map(|&i| labels[i]).collect();
            let hp = HeadParams { emb_scale: scales[s], ..*base };
            let heads = hp.fit_path(lambdas, pick(x, &train).view(), pick(xs, &train).view(), &y)?;
            let (xt, xst) = (pick(x, &test), pick(xs, &test));
            let preds = heads.iter().map(|h| h.predict_proba(xt.view(), xst.view())).collect();
            Ok((test, preds))
        })
        .collect::<Result<_, HeadError>>()?;
    let mut best: Option<(f64, HeadParams, Oof)> = None;
    for (s, &emb_scale) in scales.iter().enumerate() {
        for (l, &lambda) in lambdas.iter().enumerate() {
            let mut oof = vec![[0.0; 3]; labels.len()];
            for (test, preds) in &paths[s * k..(s + 1) * k] {
                for (&i, p) in test.iter().zip(&preds[l]) {
                    oof[i] = *p;
                }
            }
            let loss = log_loss(&oof, labels);
            if best.as_ref().is_none_or(|b| loss < b.0) {
                best = Some((loss, HeadParams { lambda, emb_scale, ..*base }, oof));
            }
        }
    }
    best.ok_or(HeadError::BadData { rows: labels.len(), why: "the hyperparameter grid is empty" })
}

/// Out-of-fold (uncalibrated) probabilities of one head configuration.
fn cv_oof(
    hp: &HeadParams,
    x: &Array2<f64>,
    xs: &Array2<f64>,
    labels: &[Label],
    folds: &[usize],
    k: usize,
) -> Result<Oof, HeadError> {
    let mut oof = vec![[0.0; 3]; labels.len()];
    for f in 0..k {
        let train: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] != f).collect();
        let test: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] == f).collect();
        let pick = |m: &Array2<f64>, rows: &[usize]| m.select(ndarray::Axis(0), rows);
        let y: Vec<Label> = train.iter().map(|&i| labels[i]).collect();
        let head = hp.fit(pick(x, &train).view(), pick(xs, &train).view(), &y)?;
        let p = head.predict_proba(pick(x, &test).view(), pick(xs, &test).view());
        for (&i, pi) in test.iter().zip(p) {
            oof[i] = pi;
        }
    }
    Ok(oof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{BattleStats, TextStats};
    use crate::rand::SplitMix;

    /// Synthetic encoded battles: random unit vectors, lengths that drive the vote.
    fn synthetic(n: usize, dim: usize, seed: u64) -> Encoded {
        let mut rng = SplitMix::new(seed);
        let unit = |rng: &mut SplitMix| {
            let v: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / norm).collect::<Vec<f32>>()
        };
        let (mut prompt, mut a, mut b, mut stats, mut labels) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            prompt.extend(unit(&mut rng));
            a.extend(unit(&mut rng));
            b.extend(unit(&mut rng));
            let (la, lb) = (rng.uniform() * 2000.0, rng.uniform() * 2000.0);
            stats.push(BattleStats {
                prompt_chars: (rng.uniform() * 300.0) as f32,
                turns: 1.0,
                a: TextStats { chars: la as f32, words: (la / 5.0) as f32, ..Default::default() },
                b: TextStats { chars: lb as f32, words: (lb / 5.0) as f32, ..Default::default() },
            });
            let u = rng.uniform();
            labels.push(Some(if u < 0.25 {
                Label::Tie
            } else if (la > lb) ^ (u < 0.4) {
                Label::A
            } else {
                Label::B
            }));
        }
        Encoded { dim, ids: (0..n).map(|i| i.to_string()).collect(), prompt, a, b, stats, labels }
    }

    fn small_params(seed: u64) -> ModelParams {
        ModelParams {
            knn: KnnParams { k: 5, ..KnnParams::default() },
            folds: 3,
            seed,
            lambdas: vec![0.1],
            emb_scales: vec![0.3],
            max_iter: 50,
            ..ModelParams::default()
        }
    }

    #[test]
    fn many_rows_choose_the_head_on_a_sample_and_still_cross_fit_every_row() {
        let train = synthetic(300, 8, 4);
        let labels = train.known_labels().unwrap();
        let sampled = ModelParams { select_rows: 120, lambdas: vec![0.03, 1.0], ..small_params(2) };
        let (model, oof) = Model::fit(&sampled, &train, &labels).unwrap();
        assert_eq!(oof.len(), 300);
        assert!(oof.iter().all(|p| (p.iter().sum::<f64>() - 1.0).abs() < 1e-9));
        assert!(log_loss(&oof, &labels) < 1.08, "{}", log_loss(&oof, &labels));
        assert!([0.03, 1.0].contains(&model.learned.head_params.lambda));
        // The reported CV loss is that of the out-of-fold predictions over all rows.
        let raw_cv = model.learned.cv_log_loss;
        assert!((model.learned.cv_log_loss_calibrated - log_loss(&oof, &labels)).abs() < 1e-12);
        assert!(raw_cv.is_finite());
        // Same seed, same everything.
        let (again, oof2) = Model::fit(&sampled, &train, &labels).unwrap();
        assert_eq!(oof, oof2);
        assert_eq!(again.learned.head_params, model.learned.head_params);
    }

    #[test]
    fn fit_learns_length_signal() {
        let train = synthetic(300, 8, 1);
        let labels = train.known_labels().unwrap();
        let (model, oof) = Model::fit(&small_params(0), &train, &labels).unwrap();
        assert!(log_loss(&oof, &labels) < 1.05, "{}", log_loss(&oof, &labels));
        assert!(model.learned.temperature.t > 0.1 && model.learned.temperature.t < 10.0);
    }

    #[test]
    fn same_seed_same_model() {
        let train = synthetic(120, 8, 2);
        let labels = train.known_labels().unwrap();
        let (m1, o1) = Model::fit(&small_params(5), &train, &labels).unwrap();
        let (m2, o2) = Model::fit(&small_params(5), &train, &labels).unwrap();
        assert_eq!(m1.learned, m2.learned);
        assert_eq!(o1, o2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(6))]

        /// Swapping A and B swaps the predicted A and B probabilities exactly,
        /// and permuting the queries permutes the predictions.
        #[test]
        fn predictions_are_swap_and_permutation_equivariant(seed in 0u64..1000, rot in 1usize..39) {
            let train = synthetic(90, 6, seed);
            let labels = train.known_labels().unwrap();
            let (model, _) = Model::fit(&small_params(seed), &train, &labels).unwrap();
            let q = synthetic(40, 6, seed + 7);
            let p = model.predict(&q);
            let ps = model.predict(&q.swapped());
            for (x, y) in p.iter().zip(&ps) {
                proptest::prop_assert_eq!(x[0], y[1]);
                proptest::prop_assert_eq!(x[1], y[0]);
                proptest::prop_assert_eq!(x[2], y[2]);
            }
            let perm: Vec<usize> = (0..40).map(|i| (i + rot) % 40).collect();
            let pp = model.predict(&q.subset(&perm));
            for (i, &j) in perm.iter().enumerate() {
                proptest::prop_assert_eq!(pp[i], p[j]);
            }
        }
    }
}
