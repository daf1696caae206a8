//! `knnpref errors`: the costliest out-of-fold predictions, by loss or by
//! confidence, with labelled probabilities, model names, attributions and
//! whole texts.
mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

/// Out-of-fold predictions over the shared index's training rows, written once.
fn oof() -> &'static PathBuf {
    static OOF: OnceLock<PathBuf> = OnceLock::new();
    OOF.get_or_init(|| {
        let b = shared_index();
        let oof = b.dir.path().join("oof-errors.csv");
        let train = b.train.to_str().unwrap();
        run_ok_in(
            &b.cache,
            &[
                "evaluate",
                "--train",
                train,
                "--folds",
                "3",
                "--seed",
                "3",
                "--max-tokens",
                FIXTURE_TOKENS,
                "--oof",
                oof.to_str().unwrap(),
            ],
        );
        oof
    })
}

/// Run `errors` on the shared index and OOF file with `extra` arguments.
fn errors(extra: &[&str]) -> String {
    let b = shared_index();
    let mut args = vec!["errors", "--index", b.index.to_str().unwrap(), "--oof", oof().to_str().unwrap()];
    args.extend_from_slice(extra);
    run_ok(&args)
}

fn errors_json(extra: &[&str]) -> Vec<Value> {
    let mut args = extra.to_vec();
    args.push("--json");
    let report: Value = serde_json::from_str(&errors(&args)).unwrap();
    report["cases"].as_array().unwrap().clone()
}

/// Each OOF row's loss, recomputed from the file: -ln p(true class).
fn oof_losses() -> HashMap<String, f64> {
    let mut r = csv::Reader::from_path(oof()).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (id, p, y) = (col("id"), col("winner_model_a"), col("label_model_a"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let truth = (0..3).find(|&c| rec[y + c].parse::<f64>().unwrap() == 1.0).unwrap();
            (rec[id].to_string(), -rec[p + truth].parse::<f64>().unwrap().ln())
        })
        .collect()
}

/// The training rows by id: model names and the turns of each text.
fn train_rows() -> HashMap<String, ([String; 2], [Vec<String>; 3])> {
    let mut r = csv::Reader::from_path(&shared_index().train).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let turns = |cell: &str| -> Vec<String> {
        let t: Vec<Option<String>> = serde_json::from_str(cell).unwrap();
        t.into_iter().map(Option::unwrap_or_default).collect()
    };
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let models = [rec[col("model_a")].to_string(), rec[col("model_b")].to_string()];
            let texts =
                [turns(&rec[col("prompt")]), turns(&rec[col("response_a")]), turns(&rec[col("response_b")])];
            (rec[col("id")].to_string(), (models, texts))
        })
        .collect()
}

#[test]
fn rows_are_ranked_by_loss_with_labelled_probabilities_and_integer_counts() {
    let cases = errors_json(&["-n", "6", "-k", "2"]);
    assert_eq!(cases.len(), 6);
    let losses = oof_losses();
    let worst = losses.values().cloned().fold(f64::NEG_INFINITY, f64::max);
    assert!((cases[0]["loss"].as_f64().unwrap() - worst).abs() < 1e-5, "the costliest row comes first");
    let mut last = f64::INFINITY;
    for c in &cases {
        let loss = c["loss"].as_f64().unwrap();
        assert!(loss <= last, "sorted by loss, non-increasing: {loss} after {last}");
        last = loss;
        assert!((loss - losses[c["id"].as_str().unwrap()]).abs() < 1e-5, "{c}");
        let p = &c["prediction"];
        let probs: Vec<f64> = ["model_a", "model_b", "tie"].iter().map(|k| p[k].as_f64().unwrap()).collect();
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{p}");
        let truth = c["truth"].as_str().unwrap();
        assert!((loss + p[truth].as_f64().unwrap().ln()).abs() < 1e-5, "loss is -ln p(truth)");
        assert!(c["response_a_chars"].is_u64() && c["response_b_chars"].is_u64(), "{c}");
        let hits = c["neighbours"].as_array().unwrap();
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|h| h["id"] != c["id"] && h["response_a_chars"].is_u64()));
        assert!(c["models"].is_null() && c["attribution"].is_null(), "no --train, no names");
    }
    let text = errors(&["-n", "2"]);
    assert!(text.contains("#1 id ") && text.contains("loss "), "{text}");
    assert!(text.contains("only the first 300 characters"), "says that only starts are stored");
    assert!(text.contains("near "));
}

#[test]
fn by_confidence_lists_wrong_predictions_most_confident_first() {
    let cases = errors_json(&["--by", "confidence", "-n", "5", "-k", "1"]);
    assert_eq!(cases.len(), 5);
    let mut last = f64::INFINITY;
    for c in &cases {
        assert_ne!(c["truth"], c["predicted"], "only wrong predictions");
        let conf = c["confidence"].as_f64().unwrap();
        assert!(conf <= last, "sorted by confidence");
        let p = &c["prediction"];
        assert_eq!(conf, p[c["predicted"].as_str().unwrap()].as_f64().unwrap());
        last = conf;
    }
}

#[test]
fn train_adds_model_names_attributions_and_whole_texts() {
    let train = shared_index().train.to_str().unwrap();
    let rows = train_rows();
    let cases = errors_json(&["--train", train, "-n", "4", "-k", "0"]);
    for c in &cases {
        let (models, texts) = &rows[c["id"].as_str().unwrap()];
        assert_eq!(c["models"]["model_a"], models[0].as_str());
        assert_eq!(c["models"]["model_b"], models[1].as_str());
        assert_eq!(c["texts"]["response_b"], serde_json::json!(texts[2]));
        let a = &c["attribution"];
        assert_eq!(a["class"], c["predicted"], "explains the predicted class");
        let top = a["top"].as_array().unwrap();
        assert_eq!(top.len(), 5, "{a}");
        let sizes: Vec<f64> = top.iter().map(|f| f["contribution"].as_f64().unwrap().abs()).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first: {sizes:?}");
        assert!(top.iter().all(|f| !f["feature"].as_str().unwrap().is_empty()));
    }
    let text = errors(&["--train", train, "-n", "2"]);
    let first = &cases[0]["models"];
    let line =
        format!("models: A {}, B {}", first["model_a"].as_str().unwrap(), first["model_b"].as_str().unwrap());
    assert!(text.contains(&line), "{text}");
    assert!(text.contains(&format!("why {}: ", cases[0]["predicted"].as_str().unwrap())), "{text}");
}

#[test]
fn full_prints_a_whole_text_beyond_the_stored_start() {
    let train = shared_index().train.to_str().unwrap();
    let rows = train_rows();
    let full = errors(&["--train", train, "-n", "5", "-k", "0", "--full"]);
    let short = errors(&["--train", train, "-n", "5", "-k", "0"]);
    // A line of a shown battle's text that starts after its first 300 characters.
    let cases = errors_json(&["--train", train, "-n", "5", "-k", "0"]);
    let late_line = cases
        .iter()
        .flat_map(|c| rows[c["id"].as_str().unwrap()].1.iter().flatten())
        .filter(|turn| turn.chars().count() > 300)
        .find_map(|turn| {
            let last = turn.lines().rev().find(|l| l.trim().chars().count() > 20)?;
            let starts_at = turn[..turn.rfind(last)?].chars().count();
            (starts_at > 300).then(|| last.to_string())
        })
        .expect("one of the shown battles has a text longer than the stored start");
    assert!(full.contains(&format!("    {late_line}")), "--full prints the whole text:\n{late_line}");
    assert!(!short.contains(late_line.trim()), "without --full only starts are shown");
}

#[test]
fn full_needs_the_train_file_and_a_different_train_file_is_refused() {
    let b = shared_index();
    let (index, oof) = (b.index.to_str().unwrap(), oof().to_str().unwrap());
    let (code, err) = run_err(&["errors", "--index", index, "--oof", oof, "--full"]);
    assert_eq!(code, 1);
    assert!(err.contains("--train"), "{err}");
    let other = train_subset(b.dir.path(), "other.csv", 0..200);
    let (code, err) =
        run_err(&["errors", "--index", index, "--oof", oof, "--train", other.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("is not the training file"), "{err}");
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
