//! `knnpref evaluate`: CV with baselines in the same folds, OOF output.
mod common;

use common::*;

#[test]
fn reports_models_and_writes_recomputable_oof() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..240);
    let oof = dir.path().join("oof.csv");
    let out = run_ok(&[
        "evaluate",
        "--train",
        train.to_str().unwrap(),
        "--folds",
        "3",
        "--seed",
        "1",
        "--oof",
        oof.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> =
        v["models"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prior", "length-only", "no-knn", "knnpref"]);
    for m in v["models"].as_array().unwrap() {
        let l = m["log_loss"].as_f64().unwrap();
        assert!(l.is_finite() && l > 0.5 && l < 1.5, "{m}");
        assert_eq!(m["fold_log_loss"].as_array().unwrap().len(), 3);
    }
    // Recompute knnpref's log loss from the OOF file.
    let mut r = csv::Reader::from_path(&oof).unwrap();
    let mut total = 0.0;
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let p: Vec<f64> = (1..4).map(|i| rec[i].parse().unwrap()).collect();
        let y: Vec<f64> = (4..7).map(|i| rec[i].parse().unwrap()).collect();
        let c = y.iter().position(|&x| x == 1.0).unwrap();
        total -= p[c].ln();
        n += 1;
    }
    assert_eq!(n, 240);
    let knn = v["models"][3]["fold_log_loss"].as_array().unwrap();
    assert!(knn.len() == 3);
    let recomputed = total / n as f64;
    // Folds differ in size by at most one row, so the mean of fold losses is
    // close to, though not exactly, the pooled OOF loss.
    let mean = v["models"][3]["log_loss"].as_f64().unwrap();
    assert!((recomputed - mean).abs() < 0.02, "{recomputed} vs {mean}");
}

#[test]
fn folds_below_two_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..30);
    let (code, err) = run_err(&["evaluate", "--train", train.to_str().unwrap(), "--folds", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("--folds"), "{err}");
}
