//! Unit tests of the head: the fit, the λ path, symmetry and calibration.
use super::*;
use crate::metrics::log_loss;
use crate::rand::SplitMix;

/// Data where feature 0 (an A−B difference) drives the winner.
fn toy(n: usize, seed: u64) -> (Array2<f64>, Array2<f64>, Vec<Label>) {
    let mut rng = SplitMix::new(seed);
    let mut x = Array2::zeros((n, 2));
    let mut xs = Array2::zeros((n, 2));
    let mut y = Vec::new();
    for i in 0..n {
        let diff = rng.normal();
        let noise = rng.normal();
        x[[i, 0]] = diff;
        x[[i, 1]] = noise;
        xs[[i, 0]] = -diff;
        xs[[i, 1]] = noise;
        let u = rng.uniform();
        let pa = 1.0 / (1.0 + (-2.0 * diff).exp());
        y.push(if u < 0.2 {
            Label::Tie
        } else if rng.uniform() < pa {
            Label::A
        } else {
            Label::B
        });
    }
    (x, xs, y)
}

fn params(lambda: f64) -> HeadParams {
    HeadParams { lambda, emb_scale: 1.0, scalar_len: 2, max_iter: 200 }
}

#[test]
fn warm_started_path_matches_separate_fits() {
    let (x, xs, y) = toy(400, 11);
    let lambdas = [0.01, 1.0, 0.1];
    let path = params(1.0).fit_path(&lambdas, x.view(), xs.view(), &y, &Cancel::default()).unwrap();
    assert_eq!(path.len(), 3);
    for (head, &lambda) in path.iter().zip(&lambdas) {
        let alone = params(lambda).fit(x.view(), xs.view(), &y).unwrap();
        let (p, q) = (head.predict_proba(x.view(), xs.view()), alone.predict_proba(x.view(), xs.view()));
        for (a, b) in p.iter().zip(&q) {
            for c in 0..3 {
                assert!((a[c] - b[c]).abs() < 1e-3, "lambda {lambda}: {a:?} vs {b:?}");
            }
        }
    }
    // Stronger penalties give smaller weights.
    let norm = |h: &FittedHead| h.weights.iter().map(|w| w * w).sum::<f64>();
    assert!(norm(&path[1]) < norm(&path[2]) && norm(&path[2]) < norm(&path[0]));
    assert!(params(1.0).fit_path(&[0.1, -1.0], x.view(), xs.view(), &y, &Cancel::default()).is_err());
}

#[test]
fn learns_the_signal_and_beats_uniform() {
    let (x, xs, y) = toy(2000, 1);
    let head = params(1e-3).fit(x.view(), xs.view(), &y).unwrap();
    let p = head.predict_proba(x.view(), xs.view());
    assert!(log_loss(&p, &y) < 0.95, "{}", log_loss(&p, &y));
    for row in &p {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn prediction_is_exactly_swap_symmetric() {
    let (x, xs, y) = toy(300, 2);
    let head = params(1e-2).fit(x.view(), xs.view(), &y).unwrap();
    let p = head.predict_proba(x.view(), xs.view());
    let q = head.predict_proba(xs.view(), x.view());
    for (a, b) in p.iter().zip(&q) {
        assert_eq!(a[0], b[1]);
        assert_eq!(a[1], b[0]);
        assert_eq!(a[2], b[2]);
    }
}

#[test]
fn rejects_bad_params() {
    assert!(params(0.0).check().is_err());
    assert!(params(f64::NAN).check().is_err());
}

#[test]
fn temperature_fixes_overconfidence() {
    let (x, xs, y) = toy(2000, 3);
    let head = params(1e-3).fit(x.view(), xs.view(), &y).unwrap();
    // Make the predictions overconfident, then recalibrate.
    let sharp = Temperature { t: 0.3 }.apply(&head.predict_proba(x.view(), xs.view()));
    let t = Temperature::fit(&sharp, &y);
    assert!(t.t > 2.0, "temperature {}", t.t);
    assert!(log_loss(&t.apply(&sharp), &y) < log_loss(&sharp, &y));
}

#[test]
fn contributions_and_intercept_sum_to_the_centred_log_probability() {
    let (x, xs, y) = toy(300, 5);
    let head = params(0.1).fit(x.view(), xs.view(), &y).unwrap();
    let raw = head.raw_proba(x.view());
    for i in [0, 7, 123] {
        let row = x.row(i).to_vec();
        let lp: Vec<f64> = raw[i].iter().map(|p| p.ln()).collect();
        for class in 0..3 {
            let contrib = head.contributions(&row, class);
            assert_eq!(contrib.len(), 2);
            let bias = head.bias[class] - head.bias.iter().sum::<f64>() / 3.0;
            let total = contrib.iter().sum::<f64>() + bias;
            let want = lp[class] - lp.iter().sum::<f64>() / 3.0;
            assert!((total - want).abs() < 1e-9, "row {i} class {class}: {total} vs {want}");
        }
    }
    // Feature 0 drives the winner: on a row where it is large, it pulls towards A.
    let i = (0..300).max_by(|&a, &b| x[[a, 0]].total_cmp(&x[[b, 0]])).unwrap();
    let c = head.contributions(&x.row(i).to_vec(), Label::A.index());
    assert!(c[0] > 0.0 && c[0].abs() > c[1].abs(), "{c:?}");
}

fn boosted(cols: usize) -> BoostedParams {
    BoostedParams { cols, ..BoostedParams::default() }
}

#[test]
fn boosted_head_learns_is_swap_symmetric_deterministic_and_round_trips() {
    let (x, xs, y) = toy(1200, 5);
    let fitted = boosted(2).fit(x.view(), xs.view(), &y, &Cancel::default()).unwrap();
    assert_eq!(fitted.rounds(), 150);
    let p = fitted.predict_proba(x.view(), xs.view());
    let uniform = vec![[1.0 / 3.0; 3]; y.len()];
    assert!(log_loss(&p, &y) < log_loss(&uniform, &y) - 0.05);
    // Swapping A and B swaps p_A and p_B exactly.
    let q = fitted.predict_proba(xs.view(), x.view());
    for (a, b) in p.iter().zip(&q) {
        assert_eq!([a[0], a[1], a[2]], [b[1], b[0], b[2]]);
        assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // The last stage is the full prediction; a model cut to 20 rounds
    // predicts what the fourth stage (every 5 rounds) did.
    let staged = fitted.staged_proba(x.view(), xs.view(), 5);
    assert_eq!(staged.len(), 30);
    assert_eq!(staged[29], p);
    let mut cut = fitted.clone();
    cut.truncate(20);
    assert_eq!(cut.predict_proba(x.view(), xs.view()), staged[3]);
    let twenty = BoostedParams { trees: TreeParams { rounds: 20, ..boosted(2).trees }, ..boosted(2) };
    assert_eq!(twenty.fit(x.view(), xs.view(), &y, &Cancel::default()).unwrap(), cut);
    // Same data, same trees; and a JSON round trip predicts the same.
    assert_eq!(fitted, boosted(2).fit(x.view(), xs.view(), &y, &Cancel::default()).unwrap());
    let back: FittedBoosted = serde_json::from_str(&serde_json::to_string(&fitted).unwrap()).unwrap();
    assert_eq!(back.predict_proba(x.view(), xs.view()), p);
}

#[test]
fn boosted_head_refuses_bad_parameters_and_copes_with_one_class() {
    let (x, xs, y) = toy(100, 2);
    let zero_rate =
        BoostedParams { trees: TreeParams { learning_rate: 0.0, ..boosted(2).trees }, ..boosted(2) };
    assert!(matches!(
        zero_rate.fit(x.view(), xs.view(), &y, &Cancel::default()),
        Err(HeadError::BadParam { .. })
    ));
    assert!(matches!(
        boosted(3).fit(x.view(), xs.view(), &y, &Cancel::default()),
        Err(HeadError::BadData { .. })
    ));
    // Only ties: no decisive battle for the A-vs-B booster, yet the
    // probabilities stay finite, sum to 1 and favour a tie.
    let ties = vec![Label::Tie; y.len()];
    let p = boosted(2)
        .fit(x.view(), xs.view(), &ties, &Cancel::default())
        .unwrap()
        .predict_proba(x.view(), xs.view());
    for r in &p {
        assert!(r.iter().all(|v| v.is_finite() && *v > 0.0) && (r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(r[2] > 0.5 && (r[0] - r[1]).abs() < 1e-12, "{r:?}");
    }
}

#[test]
fn a_cancelled_token_stops_the_optimiser_and_the_boosting_rounds() {
    let (x, xs, y) = toy(200, 11);
    let cancel = Cancel::default();
    cancel.cancel();
    let r = params(0.1).fit_path(&[0.1], x.view(), xs.view(), &y, &cancel);
    assert!(matches!(r, Err(HeadError::Cancelled(_))));
    assert!(matches!(boosted(2).fit(x.view(), xs.view(), &y, &cancel), Err(HeadError::Cancelled(_))));
    let columns = vec![vec![0.0, 1.0, 2.0]];
    assert!(TreeParams { rounds: 3, ..boosted(2).trees }.fit(&columns, &[0.0, 1.0, 1.0], &cancel).is_err());
}

#[test]
fn zero_scaled_columns_get_zero_weights_and_change_nothing_else() {
    // Column 1 plays the embedding block; at scale 0 it is left out of the
    // optimiser, and a constant column is left out at any scale.
    let (x, xs, y) = toy(500, 3);
    let head = |emb_scale: f64, x: &Array2<f64>, xs: &Array2<f64>| {
        let p = HeadParams { lambda: 0.1, emb_scale, scalar_len: 1, max_iter: 200 };
        p.fit(x.view(), xs.view(), &y).unwrap()
    };
    let off = head(0.0, &x, &xs);
    assert_eq!(&off.weights[3..6], &[0.0; 3], "the scale-0 column's weights");
    assert!(off.weights[..3].iter().any(|w| *w != 0.0), "the live column is fitted");
    // The same fit on column 0 alone.
    let (x0, xs0) = (x.slice(ndarray::s![.., ..1]).to_owned(), xs.slice(ndarray::s![.., ..1]).to_owned());
    let alone = head(1.0, &x0, &xs0);
    assert_eq!(alone.weights.len(), 3);
    for (a, b) in off.weights[..3].iter().zip(&alone.weights) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    // A constant column is dropped whatever the scale.
    let mut xc = x.clone();
    let mut xsc = xs.clone();
    xc.column_mut(1).fill(7.0);
    xsc.column_mut(1).fill(7.0);
    let constant = head(1.0, &xc, &xsc);
    assert_eq!(&constant.weights[3..6], &[0.0; 3]);
    assert_eq!(constant.scale[1], 0.0);
}
