//! `knnpref distill` and static models end to end: a distilled folder indexes
//! and predicts, and an index refuses a model of the other kind.
mod common;

use common::*;

/// A small static model (the first 1,100 vocabulary ids, 16 dims) distilled
/// into `dir/static`.
fn distill_small(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("static");
    let stdout = run_ok(&["distill", "--out", out.to_str().unwrap(), "--dims", "16", "--limit", "1100"]);
    assert!(stdout.contains("into 16 dims"), "{stdout}");
    out
}

#[test]
fn static_model_indexes_predicts_and_refuses_the_other_kind() {
    let dir = tempfile::tempdir().unwrap();
    let model = distill_small(dir.path());
    for f in ["model.safetensors", "tokenizer.json", "config.json"] {
        assert!(model.join(f).is_file(), "{f} missing");
    }
    let train = train_subset(dir.path(), "train.csv", 0..80);
    let index = dir.path().join("idx");
    run_ok(&[
        "index",
        "--train",
        train.to_str().unwrap(),
        "--out",
        index.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["source"]["model"]["kind"], "static");
    assert_eq!(manifest["source"]["model"]["dim"], 16);

    let test = test_subset(dir.path(), "test.csv", 80..100, false);
    let out = dir.path().join("sub.csv");
    let (code, err) = predict_with(&index, &test, &out, &["--model", model.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (ids, rows) = read_submission(&out);
    assert_eq!((ids.len(), rows.len()), (20, 20));

    // The static index refuses the transformer, and a transformer index the static model.
    let (code, err) = predict_with(
        &index,
        &test,
        &dir.path().join("x.csv"),
        &["--model", knnpref::embed::default_model_dir(false).to_str().unwrap()],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("was built with the static model"), "{err}");
    let (code, err) = predict_with(
        &shared_index().index,
        &test,
        &dir.path().join("y.csv"),
        &["--model", model.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("was built with the transformer model"), "{err}");
    assert!(!dir.path().join("x.csv").exists() && !dir.path().join("y.csv").exists());
}

#[test]
fn refuses_to_replace_a_folder_that_is_not_a_static_model() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let (code, err) =
        run_err(&["distill", "--out", dir.path().to_str().unwrap(), "--dims", "8", "--limit", "50"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a static model folder"), "{err}");
    assert!(dir.path().join("precious.txt").is_file());
}
