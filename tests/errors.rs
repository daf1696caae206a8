//! `knnpref errors`: the most confidently wrong out-of-fold predictions.
mod common;

use common::*;

#[test]
fn lists_confident_mistakes_with_neighbours() {
    let b = shared_index();
    let oof = b.dir.path().join("oof-errors.csv");
    run_ok(&[
        "evaluate",
        "--train",
        b.train.to_str().unwrap(),
        "--folds",
        "3",
        "--seed",
        "3",
        "--oof",
        oof.to_str().unwrap(),
    ]);
    let out = run_ok(&[
        "errors",
        "--index",
        b.index.to_str().unwrap(),
        "--oof",
        oof.to_str().unwrap(),
        "-n",
        "4",
        "-k",
        "2",
        "--json",
    ]);
    let cases: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(cases.len(), 4);
    let mut last = f64::INFINITY;
    for c in &cases {
        assert_ne!(c["truth"], c["predicted"], "only wrong predictions");
        let conf = c["confidence"].as_f64().unwrap();
        assert!(conf <= last, "sorted by confidence");
        last = conf;
        let hits = c["neighbours"].as_array().unwrap();
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|h| h["id"] != c["id"]));
        assert!(c["response_a_chars"].as_f64().is_some());
    }
    let text =
        run_ok(&["errors", "--index", b.index.to_str().unwrap(), "--oof", oof.to_str().unwrap(), "-n", "2"]);
    assert!(text.starts_with("#1 id "), "{text}");
    assert!(text.contains("near "));
}

#[test]
fn oof_without_labels_is_refused() {
    let b = shared_index();
    let sub = b.dir.path().join("not-oof.csv");
    std::fs::write(&sub, "id,winner_model_a,winner_model_b,winner_tie\n1,0.3,0.3,0.4\n").unwrap();
    let (code, err) =
        run_err(&["errors", "--index", b.index.to_str().unwrap(), "--oof", sub.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("missing column `label_model_a`"), "{err}");
}
