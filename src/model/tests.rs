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
    assert!([0.03, 1.0].contains(&model.state.head_params.lambda));
    // The reported CV loss is that of the out-of-fold predictions over all rows.
    let raw_cv = model.state.cv_log_loss;
    assert!((model.state.cv_log_loss_calibrated - log_loss(&oof, &labels)).abs() < 1e-12);
    assert!(raw_cv.is_finite());
    // Same seed, same everything.
    let (again, oof2) = Model::fit(&sampled, &train, &labels).unwrap();
    assert_eq!(oof, oof2);
    assert_eq!(again.state.head_params, model.state.head_params);
}

#[test]
fn fit_learns_length_signal() {
    let train = synthetic(300, 8, 1);
    let labels = train.known_labels().unwrap();
    let (model, oof) = Model::fit(&small_params(0), &train, &labels).unwrap();
    assert!(log_loss(&oof, &labels) < 1.05, "{}", log_loss(&oof, &labels));
    assert!(model.state.temperature.t > 0.1 && model.state.temperature.t < 10.0);
}

#[test]
fn same_seed_same_model() {
    let train = synthetic(120, 8, 2);
    let labels = train.known_labels().unwrap();
    let (m1, o1) = Model::fit(&small_params(5), &train, &labels).unwrap();
    let (m2, o2) = Model::fit(&small_params(5), &train, &labels).unwrap();
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
