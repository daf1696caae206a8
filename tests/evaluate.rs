//! `knnpref evaluate`: CV with baselines in the same folds, OOF file, report,
//! determinism.
mod common;

use common::*;

fn evaluate_into(
    dir: &std::path::Path,
    train: &std::path::Path,
    tag: &str,
    extra: &[&str],
) -> serde_json::Value {
    let oof = dir.join(format!("oof-{tag}.csv"));
    let rep = dir.join(format!("rep-{tag}"));
    let mut args = vec![
        "evaluate",
        "--train",
        train.to_str().unwrap(),
        "--folds",
        "3",
        "--repeats",
        "2",
        "--seed",
        "1",
        "--oof",
        oof.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
        "--json",
        // This test's cache starts empty: a short budget keeps cold runs cheap.
        "--max-tokens",
        "64",
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&run_ok(&args)).unwrap()
}

#[test]
fn reports_models_segments_and_recomputable_oof_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..240);
    // This test's cache starts empty: "a" embeds everything and fills it.
    let v = evaluate_into(dir.path(), &train, "a", &[]);
    let models = v["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prior", "length-only", "text-only", "text-boosted", "no-knn", "knnpref"]);
    for m in models {
        let l = m["log_loss"].as_f64().unwrap();
        assert!(l.is_finite() && l > 0.5 && l < 1.5, "{m}");
        assert_eq!(m["fold_log_loss"].as_array().unwrap().len(), 6, "3 folds x 2 repeats");
        let ece = m["ece"].as_f64().unwrap();
        assert!((0.0..0.5).contains(&ece));
        if m["name"] != "text-only" {
            let d = &m["vs_text_only"];
            assert!(d["low"].as_f64().unwrap() <= d["mean"].as_f64().unwrap());
            assert!(d["mean"].as_f64().unwrap() <= d["high"].as_f64().unwrap());
        }
    }
    let families: Vec<&str> =
        v["segments"].as_array().unwrap().iter().map(|s| s["family"].as_str().unwrap()).collect();
    for f in ["turns", "length ratio", "truth", "script"] {
        assert!(families.contains(&f), "{f} missing");
    }

    // An independent recomputation of the OOF log loss.
    let oof = dir.path().join("oof-a.csv");
    let mut r = csv::Reader::from_path(&oof).unwrap();
    let (mut total, mut n) = (0.0, 0);
    for rec in r.records() {
        let rec = rec.unwrap();
        let p: Vec<f64> = (1..4).map(|i| rec[i].parse().unwrap()).collect();
        let c = (4..7).position(|i| &rec[i] == "1").unwrap();
        total -= p[c].ln();
        n += 1;
    }
    assert_eq!(n, 240);
    let printed = v["oof_log_loss"].as_f64().unwrap();
    assert!((total / n as f64 - printed).abs() < 1e-6, "{} vs {printed}", total / n as f64);

    let html = std::fs::read_to_string(dir.path().join("rep-a/report.html")).unwrap();
    assert!(html.matches("<svg").count() >= 5, "report has its plots");
    assert!(!html.contains("<script") && !html.contains("https://"), "self-contained");
    assert!(html.contains("knnpref") && html.contains("text-only") && html.contains("length-only"));

    // Same inputs and seed: byte-identical metrics, report and OOF files,
    // from the warm cache ("b") and with no cache at all ("c").
    evaluate_into(dir.path(), &train, "b", &[]);
    evaluate_into(dir.path(), &train, "c", &["--no-cache"]);
    for tag in ["b", "c"] {
        for file in ["metrics.json", "report.html"] {
            assert_eq!(
                std::fs::read(dir.path().join("rep-a").join(file)).unwrap(),
                std::fs::read(dir.path().join(format!("rep-{tag}")).join(file)).unwrap(),
                "{file} differs between identical runs (run {tag})"
            );
        }
        let other = dir.path().join(format!("oof-{tag}.csv"));
        assert_eq!(std::fs::read(&oof).unwrap(), std::fs::read(other).unwrap(), "run {tag}");
    }
}

#[test]
fn folds_below_two_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..30);
    let (code, err) = run_err(&["evaluate", "--train", train.to_str().unwrap(), "--folds", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid folds 1: must be at least 2"), "{err}");
}

#[test]
fn an_oof_file_that_is_the_training_file_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..30);
    let before = std::fs::read(&train).unwrap();
    let (code, err) =
        run_err(&["evaluate", "--train", train.to_str().unwrap(), "--oof", train.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing to write") && err.contains("the training file"), "{err}");
    assert_eq!(std::fs::read(&train).unwrap(), before);
}

#[test]
fn learning_curve_skips_sizes_it_cannot_fit_on_a_tiny_file() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..40);
    let rep = dir.path().join("rep");
    let args = [
        "evaluate",
        "--train",
        train.to_str().unwrap(),
        "--folds",
        "5",
        "--learning-curve",
        "--report",
        rep.to_str().unwrap(),
        "--json",
    ];
    let out = knnpref().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // 32 training rows per fold: 1/8 (4 rows) and 1/4 (8 rows) leave fewer
    // than 2 rows in each of 5 inner folds; 1/2 (16 rows) does not.
    assert!(stderr.contains("skipped 1/8") && stderr.contains("skipped 1/4"), "{stderr}");
    assert!(!stderr.contains("skipped 1/2"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let curve = v["learning_curve"].as_array().unwrap();
    let models: Vec<&str> = curve.iter().map(|p| p["model"].as_str().unwrap()).collect();
    assert_eq!(
        models,
        [
            "length-only",
            "length-only",
            "text-only",
            "text-only",
            "text-boosted",
            "text-boosted",
            "no-knn",
            "no-knn",
            "knnpref",
            "knnpref"
        ]
    );
    for (i, p) in curve.iter().enumerate() {
        let l = p["log_loss"].as_f64().unwrap();
        assert!(l.is_finite() && l > 0.3 && l < 3.0, "{p}");
        let (fraction, rows) = (p["fraction"].as_f64().unwrap(), p["train_rows"].as_f64().unwrap());
        assert_eq!(fraction, if i % 2 == 0 { 0.5 } else { 1.0 }, "{p}");
        assert_eq!(rows, if i % 2 == 0 { 16.0 } else { 32.0 }, "{p}");
    }
    // The full-size point is the model's own cross-validated log loss.
    let knn = v["models"].as_array().unwrap().iter().find(|m| m["name"] == "knnpref").unwrap();
    assert_eq!(curve[9]["log_loss"], knn["log_loss"]);
    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    assert!(html.contains("Learning curves") && html.contains("training rows per fold (log scale)"));
}

/// knnpref on the whole shared sample (one 5-fold run): it must beat the
/// class prior by at least 0.03 and lose at most 0.01 to the text-only model.
/// With the static model: this test's cache starts empty, and embedding the
/// whole sample with the transformer would take minutes.
#[test]
fn knnpref_beats_the_prior_and_keeps_up_with_text_only_on_the_sample() {
    let train = sample_train();
    let train = train.to_str().unwrap();
    let out = run_ok(&["evaluate", "--train", train, "--folds", "5", "--seed", "0", "--static", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let loss = |name: &str| {
        let m = v["models"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap();
        m["log_loss"].as_f64().unwrap()
    };
    let (knn, prior, text) = (loss("knnpref"), loss("prior"), loss("text-only"));
    assert!(knn <= prior - 0.03, "knnpref {knn} against the prior's {prior}");
    assert!(knn <= text + 0.01, "knnpref {knn} against text-only's {text}");
}
