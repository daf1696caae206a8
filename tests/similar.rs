//! `knnpref similar`: neighbours of a training battle or of a text.
mod common;

use common::*;

#[test]
fn by_id_lists_neighbours_with_votes_and_prediction() {
    let b = shared_index();
    let mut r = csv::Reader::from_path(&b.train).unwrap();
    let first_id = r.records().next().unwrap().unwrap()[0].to_string();
    let out =
        run_ok(&["similar", "--index", b.index.to_str().unwrap(), "--id", &first_id, "-n", "4", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 4);
    assert!(hits.iter().all(|h| h["id"] != first_id.as_str()), "the query battle itself is excluded");
    let sims: Vec<f64> = hits.iter().map(|h| h["similarity"].as_f64().unwrap()).collect();
    assert!(sims.windows(2).all(|w| w[0] >= w[1]));
    assert!(["model_a", "model_b", "tie"].contains(&v["truth"].as_str().unwrap()));
    let p: Vec<f64> = v["prediction"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-5);
    let text = run_ok(&["similar", "--index", b.index.to_str().unwrap(), "--id", &first_id, "-n", "1"]);
    assert!(text.contains("in-sample out-of-fold prediction"), "{text}");
    assert!(text.starts_with("query (start of the battle's last prompt turn"), "{text}");
}

#[test]
fn by_text_and_plain_output() {
    let b = shared_index();
    let out = run_ok(&[
        "similar",
        "--index",
        b.index.to_str().unwrap(),
        "--text",
        "Write a poem about the sea",
        "-n",
        "3",
    ]);
    assert!(out.starts_with("query: Write a poem about the sea"));
    assert_eq!(out.matches("\n#").count(), 3, "{out}");
    assert!(out.contains("vote "));
}

#[test]
fn unknown_id_is_a_user_error() {
    let b = shared_index();
    let (code, err) = run_err(&["similar", "--index", b.index.to_str().unwrap(), "--id", "no-such-id"]);
    assert_eq!(code, 1);
    assert!(err.contains("no training battle has id `no-such-id`"), "{err}");
}

#[test]
fn closed_stdout_pipe_exits_quietly() {
    let b = shared_index();
    let mut child = knnpref_process()
        .args(["similar", "--index", b.index.to_str().unwrap(), "--text", "hello there", "-n", "200"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once, like `| head -0`.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
}

#[test]
fn a_folder_without_manifest_is_not_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = run_err(&["similar", "--index", dir.path().to_str().unwrap(), "--id", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a knnpref index (no manifest.json)"), "{err}");
}
