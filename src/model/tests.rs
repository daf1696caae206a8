//! Unit tests of the model: fitting, sampling for selection, determinism and symmetry.
use super::*;
use crate::features::{BattleStats, KnnParams, TextStats};
use crate::rand::SplitMix;

/// Synthetic encoded battles: random unit vectors, lengths that drive the vote.
fn synthetic(n: usize, dim: usize, seed: u64) -> EncodedBattles {
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
            ..Default::default()
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
    EncodedBattles { dim, ids: (0..n).map(|i| i.to_string()).collect(), prompt, a, b, stats, labels }
}

fn small_model_params(seed: u64) -> ModelParams {
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

fn small_params(seed: u64) -> CheckedParams {
    small_model_params(seed).check().unwrap()
}

#[test]
fn many_rows_choose_the_head_on_a_sample_and_still_cross_fit_every_row() {
    let train = synthetic(300, 8, 4);
    let labels = train.known_labels().unwrap();
    let sampled =
        ModelParams { select_rows: 120, lambdas: vec![0.03, 1.0], ..small_model_params(2) }.check().unwrap();
    let (model, oof) = Model::fit(&sampled, &train, &labels, &Cancel::default()).unwrap();
    assert_eq!(oof.len(), 300);
    assert!(oof.iter().all(|p| (p.iter().sum::<f64>() - 1.0).abs() < 1e-9));
    assert!(log_loss(&oof, &labels) < 1.08, "{}", log_loss(&oof, &labels));
    assert!([0.03, 1.0].contains(&model.state.head_params.lambda));
    // The reported CV loss is that of the out-of-fold predictions over all rows.
    let raw_cv = model.state.cv_log_loss;
    assert!((model.state.cv_log_loss_calibrated - log_loss(&oof, &labels)).abs() < 1e-12);
    assert!(raw_cv.is_finite());
    // Same seed, same everything.
    let (again, oof2) = Model::fit(&sampled, &train, &labels, &Cancel::default()).unwrap();
    assert_eq!(oof, oof2);
    assert_eq!(again.state.head_params, model.state.head_params);
}

#[test]
fn a_timed_fit_announces_its_parts_in_order_and_times_within_the_whole() {
    let train = synthetic(300, 8, 4);
    let labels = train.known_labels().unwrap();
    let phases = |p: ModelParams| {
        let seen = std::cell::RefCell::new(Vec::new());
        let on_phase = |phase: FitPhase| seen.borrow_mut().push(phase);
        let clock = std::time::Instant::now();
        let (_, oof, s) =
            Model::fit_timed(&p.check().unwrap(), &train, &labels, &Cancel::default(), &on_phase).unwrap();
        let whole = clock.elapsed().as_secs_f64();
        let parts = [s.graph, s.neighbours, s.select, s.cross_fit, s.boosted, s.last];
        assert!(parts.iter().all(|&t| t >= 0.0) && parts.iter().sum::<f64>() <= whole, "{s:?}");
        assert!(s.select > 0.0 && s.last > 0.0, "{s:?}");
        (seen.into_inner(), s, oof)
    };
    use FitPhase::*;
    // On a sample of rows, the boosted head blended in: every part.
    let sampled = ModelParams { select_rows: 120, ..small_model_params(2) };
    let (seen, s, oof) = phases(sampled.clone());
    assert_eq!(seen, [Graph, Neighbours, Select, CrossFit, Boosted, Final]);
    assert!(s.cross_fit > 0.0 && s.boosted > 0.0, "{s:?}");
    // Timing changes nothing of the result.
    assert_eq!(oof, Model::fit(&sampled.check().unwrap(), &train, &labels, &Cancel::default()).unwrap().1);
    // Every row in the choice and the logistic head alone: neither of those parts.
    let (seen, s, _) = phases(ModelParams { head: HeadChoice::Linear, ..small_model_params(2) });
    assert_eq!(seen, [Graph, Neighbours, Select, Final]);
    assert_eq!((s.cross_fit, s.boosted), (0.0, 0.0));
}

#[test]
fn fit_learns_length_signal() {
    let train = synthetic(300, 8, 1);
    let labels = train.known_labels().unwrap();
    let (model, oof) = Model::fit(&small_params(0), &train, &labels, &Cancel::default()).unwrap();
    assert!(log_loss(&oof, &labels) < 1.05, "{}", log_loss(&oof, &labels));
    // The temperature is chosen on the out-of-fold rows: it can only lower their loss.
    let (raw, calibrated) = (model.state.cv_log_loss, model.state.cv_log_loss_calibrated);
    assert!(calibrated <= raw + 1e-12, "calibration raised the loss: {raw} -> {calibrated}");
    assert!(
        (log_loss(&oof, &labels) - calibrated).abs() < 1e-12,
        "the returned rows are the calibrated ones"
    );
}

#[test]
fn same_seed_same_model() {
    let train = synthetic(120, 8, 2);
    let labels = train.known_labels().unwrap();
    let (m1, o1) = Model::fit(&small_params(5), &train, &labels, &Cancel::default()).unwrap();
    let (m2, o2) = Model::fit(&small_params(5), &train, &labels, &Cancel::default()).unwrap();
    assert_eq!(m1.state, m2.state);
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
        let (model, _) = Model::fit(&small_params(seed), &train, &labels, &Cancel::default()).unwrap();
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

/// Leakage canary. With the votes shuffled there is nothing to learn, so a
/// model whose neighbour features are cross-fitted must not beat the class
/// prior: neither out of fold (each row scored by a head that never saw it)
/// nor on battles held out of the fit altogether.
///
/// Checked to fail when a leak is planted: with `Neighbours::values` keeping
/// hits from a row's own fold (its `keep` returning true), each training
/// row's votes include its own, and the out-of-fold log loss fell to 0.0026
/// against the prior's 1.0813 (without the leak: 1.0881 out of fold, 1.0914
/// held out against the prior's 1.0834). The test below it failed too.
#[test]
fn shuffled_votes_do_not_beat_the_prior() {
    let all = synthetic(900, 8, 21);
    let mut labels = all.known_labels().unwrap();
    SplitMix::new(77).shuffle(&mut labels);
    let train_rows: Vec<usize> = (0..600).collect();
    let test_rows: Vec<usize> = (600..900).collect();
    let (train, test) = (all.subset(&train_rows), all.subset(&test_rows));
    let (y_train, y_test) = (&labels[..600], &labels[600..]);
    let params =
        ModelParams { features: crate::features::FeatureSet::FULL, ..small_model_params(4) }.check().unwrap();
    assert!(params.features.knn);
    let (model, oof) = Model::fit(&params, &train, y_train, &Cancel::default()).unwrap();
    let prior = prior_of(y_train);
    let prior_oof = log_loss(&vec![prior; y_train.len()], y_train);
    let fitted_oof = log_loss(&oof, y_train);
    assert!(fitted_oof > prior_oof - 0.005, "out of fold: {fitted_oof} against the prior's {prior_oof}");
    let prior_test = log_loss(&vec![prior; y_test.len()], y_test);
    let fitted_test = log_loss(&model.predict(&test), y_test);
    assert!(fitted_test > prior_test - 0.005, "held out: {fitted_test} against the prior's {prior_test}");
}

/// Battle 0 lies alone: its prompt and responses are the first three axes,
/// and every other battle lives in the other three, orthogonal to it, so
/// the only near neighbour of battle 0's texts is battle 0 itself.
fn lonely_battle(n: usize) -> EncodedBattles {
    let dim = 6;
    let mut rng = SplitMix::new(8);
    let mut vecs = |axis: usize| {
        let mut out = Vec::with_capacity(n * dim);
        for i in 0..n {
            let mut v = vec![0f32; dim];
            if i == 0 {
                v[axis] = 1.0;
            } else {
                let w: Vec<f32> = (0..3).map(|_| rng.normal() as f32).collect();
                let norm = w.iter().map(|x| x * x).sum::<f32>().sqrt();
                v[3..].iter_mut().zip(&w).for_each(|(x, y)| *x = y / norm);
            }
            out.extend(v);
        }
        out
    };
    let (prompt, a, b) = (vecs(0), vecs(1), vecs(2));
    let labels = (0..n).map(|i| Some(Label::ALL[i % 3])).collect();
    let ids = (0..n).map(|i| i.to_string()).collect();
    EncodedBattles { dim, ids, prompt, a, b, stats: vec![BattleStats::default(); n], labels }
}

#[test]
fn a_battle_whose_only_near_neighbour_is_itself_gets_no_vote_from_itself() {
    use crate::search::{HnswParams, Search};
    let train = lonely_battle(30);
    let p = KnnParams { k: 5, tau: 0.1, alpha: 0.1 };
    let prior = [0.35, 0.35, 0.3];
    let fold_of = crate::rand::fold_assignment(30, 3, 1);
    let values = |own: Label, cross_fitted: bool| {
        let mut labels = train.known_labels().unwrap();
        labels[0] = own;
        let nb = Neighbours::build(&train, labels, Search::Exact, HnswParams::default(), 1, 0);
        nb.values(&train, cross_fitted.then_some(fold_of.as_slice()), &p, prior, &Cancel::default()).unwrap()
            [0]
    };
    // Cross-fitted, battle 0's values do not depend on its own vote, and
    // carry (almost) no weight: only orthogonal battles are left.
    let base = values(Label::A, true);
    for own in [Label::B, Label::Tie] {
        assert_eq!(values(own, true), base, "battle 0's own vote moved its features");
    }
    assert!(base.weight[0] < 1e-3 && base.weight[1] < 1e-3 && base.prompt_weight < 1e-3, "{base:?}");
    assert!((base.score[0] - 0.5).abs() < 1e-3 && (base.prompt_tie - prior[2]).abs() < 1e-3, "{base:?}");
    // Not cross-fitted (as for a query), battle 0 finds itself: the check
    // above would see a leak.
    assert!(values(Label::A, false).score[0] > 0.9);
    assert!(values(Label::B, false).score[0] < 0.1);
}

#[test]
fn training_features_are_the_rows_the_head_was_fitted_on() {
    let train = synthetic(120, 6, 9);
    let labels = train.known_labels().unwrap();
    let (model, _) = Model::fit(&small_params(4), &train, &labels, &Cancel::default()).unwrap();
    let x = model.training_features(&train).expect("stats are present");
    let xs = model.training_features(&train.swapped()).expect("stats are present");
    assert_eq!(x.dim(), (120, model.state.feature_names.len()));
    // Refitting the chosen head on them gives the saved head exactly.
    let refit = model.state.head_params.fit(x.view(), xs.view(), &labels).unwrap();
    assert_eq!(refit, model.state.head);
    // An index folder loads without text statistics: no rows then.
    let bare = EncodedBattles { stats: Vec::new(), ..train };
    assert!(model.training_features(&bare).is_none());
}

#[test]
fn a_cancelled_token_stops_the_fit_and_each_of_its_loops() {
    let train = synthetic(120, 8, 3);
    let labels = train.known_labels().unwrap();
    let (cancelled, fresh) = (Cancel::default(), Cancel::default());
    cancelled.cancel();
    let cut = |r: Result<_, HeadError>| matches!(r, Err(HeadError::Cancelled(_)));
    assert!(cut(Model::fit(&small_params(1), &train, &labels, &cancelled).map(|_| ())));
    // Another call's token is untouched by this one's cancel.
    let (model, _) = Model::fit(&small_params(1), &train, &labels, &fresh).unwrap();
    // The loops inside the fit check the token too, not only its entry.
    let fold_of = crate::rand::fold_assignment(labels.len(), 3, 1);
    assert!(model.knn_values(&train, Some(&fold_of), &cancelled).is_err());
    let x = model.training_features(&train).unwrap();
    let x_swapped = x.mapv(|v| -v);
    let data = Folded {
        x: &x,
        x_swapped: &x_swapped,
        labels: &labels,
        fold_of: &fold_of,
        folds: 3,
        cancel: &cancelled,
    };
    let base = HeadParams { lambda: 1.0, emb_scale: 1.0, scalar_len: x.ncols(), max_iter: 50 };
    assert!(cut(select_head(&base, &[1.0], &[0.1], &data).map(|_| ())));
    let boost = BoostedParams { cols: 4, ..BoostedParams::default() };
    assert!(cut(boosted_oof(&boost, &data).map(|_| ())));
    let live = Folded { cancel: &fresh, ..data };
    assert!(select_head(&base, &[1.0], &[0.1], &live).is_ok() && boosted_oof(&boost, &live).is_ok());
}

#[test]
fn hnsw_finds_the_exact_neighbours_of_real_sample_vectors() {
    use crate::data::{read_battles, Labels};
    use crate::embed::{static_model_dir, EmbedOptions, Embedder, ModelChoice};
    use crate::search::{HnswParams, Search, VectorIndex};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/arena-sample/train.csv");
    let data = read_battles(&path, Labels::Required).expect("the tests need the real sample in ../shared");
    let opts = EmbedOptions { model: ModelChoice::Static, ..EmbedOptions::new(2) }.check().unwrap();
    let progress = crate::progress::Progress::hidden();
    let mut model =
        Embedder::open(&static_model_dir(), &opts, &progress).expect("scripts/setup.sh provisions it");
    let e = EncodedBattles::encode(&mut model, &data.battles, "train").unwrap();
    let responses: Vec<f32> =
        e.a.chunks_exact(e.dim)
            .zip(e.b.chunks_exact(e.dim))
            .flat_map(|(a, b)| a.iter().chain(b))
            .copied()
            .collect();
    for (name, vectors) in [("prompts", e.prompt.clone()), ("responses", responses)] {
        let n = vectors.len() / e.dim;
        let build = |search| VectorIndex::build(vectors.clone(), e.dim, search, HnswParams::default(), n, 0);
        let (hnsw, exact) = (build(Search::Hnsw), build(Search::Exact));
        assert!(hnsw.is_hnsw() && !exact.is_hnsw());
        let (found, truth) = (hnsw.search_self(20), exact.search_self(20));
        // Sets of rows: many real prompts are the same text, whose equal
        // similarities either search may order by row differently.
        let hits: usize = found
            .iter()
            .zip(&truth)
            .map(|(f, t)| {
                let floor = t.last().map_or(f32::MIN, |h| h.sim) - 1e-6;
                f.iter().filter(|h| h.sim >= floor && t.iter().any(|x| (x.sim - h.sim).abs() < 1e-5)).count()
            })
            .sum();
        let recall = hits as f64 / (20 * n) as f64;
        assert!(recall >= 0.95, "{name}: recall@20 {recall:.4} against exact search");
    }
}
