//! Crash safety of `knnpref index` replacing an existing index: killed
//! (SIGKILL) or interrupted (Ctrl-C, SIGINT) at every stage of the save, the
//! folder still predicts exactly as the old index or as the new one.
mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

use common::*;

/// Every pause point of a save, in order (see src/index/save.rs).
const STAGES: [&str; 7] = [
    "save-begin",
    "embeddings-temp",
    "battles-temp",
    "head-temp",
    "manifest-temp",
    "committed",
    "gc-partial",
];

/// Whether the new manifest is in place once the save reached `stage`.
fn new_index_committed(stage: &str) -> bool {
    matches!(stage, "committed" | "gc-partial")
}

fn index_args(train: &Path, out: &Path) -> Vec<String> {
    ["index", "--train", train.to_str().unwrap(), "--out", out.to_str().unwrap(), "--static", "--seed", "1"]
        .map(String::from)
        .to_vec()
}

/// Predict the fixed test file with `index`; the submission's bytes.
fn submission(index: &Path, test: &Path, out: &Path) -> Vec<u8> {
    let (code, err) = predict_with(index, test, out, &[]);
    assert_eq!(code, 0, "predict on {} failed: {err}", index.display());
    std::fs::read(out).unwrap()
}

/// Start `index` paused at `stage`, and wait until it says it is there.
/// Returns the process and the rest of its stderr, to be drained later (so
/// that its last words, e.g. the Ctrl-C message, find the pipe open).
fn start_paused(args: &[String], stage: &str) -> (Child, BufReader<ChildStderr>) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("knnpref"))
        .arg("--quiet")
        .args(args)
        .env("KNNPREF_TEST_PAUSE_AT", stage)
        .env("KNNPREF_TEST_PAUSE_SECS", "600")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let marker = format!("knnpref test pause: {stage}");
    let mut seen = String::new();
    let reached = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break false;
        }
        if line.trim_end() == marker {
            break true;
        }
        seen.push_str(&line);
    };
    assert!(reached, "index ended ({:?}) before stage {stage}:\n{seen}", child.try_wait());
    (child, stderr)
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect()
}

struct Setup {
    dir: tempfile::TempDir,
    train_a: PathBuf,
    test: PathBuf,
    /// Index B, copied before each kill: the index being replaced.
    index_b: PathBuf,
    sub_a: Vec<u8>,
    sub_b: Vec<u8>,
}

/// Indexes A (rows 0..120) and B (rows 120..240) of the static model, and
/// their submissions for one test file.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train_a = train_subset(d, "a.csv", 0..120);
    let train_b = train_subset(d, "b.csv", 120..240);
    let test = test_subset(d, "test.csv", 400..430, false);
    let (index_a, index_b) = (d.join("idx-a"), d.join("idx-b"));
    for (train, index) in [(&train_a, &index_a), (&train_b, &index_b)] {
        let args = index_args(train, index);
        run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let sub_a = submission(&index_a, &test, &d.join("sub-a.csv"));
    let sub_b = submission(&index_b, &test, &d.join("sub-b.csv"));
    assert_ne!(sub_a, sub_b, "the two indexes must predict differently for the test to mean anything");
    Setup { dir, train_a, test, index_b, sub_a, sub_b }
}

/// Replace a copy of index B by index A, stop the save at `stage` with
/// `signal`, and check the folder predicts as B before the commit and as A after.
fn stop_at(s: &Setup, stage: &str, signal: &str) -> PathBuf {
    let index = copy_index(&s.index_b, &s.dir.path().join(format!("idx-{stage}-{signal}")));
    let (mut child, mut stderr) = start_paused(&index_args(&s.train_a, &index), stage);
    let sent = Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    match signal {
        "KILL" => assert_eq!(status.signal(), Some(9), "{stage}: {status:?} {rest}"),
        _ => {
            assert_eq!(status.code(), Some(130), "{stage}: {status:?} {rest}");
            assert!(rest.contains("interrupted"), "{rest}");
            assert_eq!(temporaries(&index), Vec::<String>::new(), "Ctrl-C at {stage} left temporary files");
        }
    }
    let sub = submission(&index, &s.test, &s.dir.path().join(format!("sub-{stage}-{signal}.csv")));
    let (want, which) = if new_index_committed(stage) { (&s.sub_a, "new") } else { (&s.sub_b, "old") };
    assert!(sub == *want, "after {signal} at {stage} the index does not predict as the {which} one");
    index
}

#[test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test-hooks feature (scripts/test.sh)")]
fn a_killed_or_interrupted_save_leaves_the_old_or_the_new_index() {
    let s = setup();
    let mut killed = Vec::new();
    for stage in STAGES {
        killed.push(stop_at(&s, stage, "KILL"));
    }
    for stage in ["embeddings-temp", "manifest-temp", "committed"] {
        stop_at(&s, stage, "INT");
    }
    // The next save over a killed one removes what the killed run left behind.
    let leftover = &killed[STAGES.iter().position(|&st| st == "manifest-temp").unwrap()];
    assert!(!temporaries(leftover).is_empty(), "SIGKILL leaves the manifest's temporary file");
    let args = index_args(&s.train_a, leftover);
    run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(leftover.join("manifest.json")).unwrap()).unwrap();
    let mut want: Vec<String> = ["embeddings", "battles", "head"]
        .iter()
        .map(|r| manifest["files"][r]["file"].as_str().unwrap().into())
        .collect();
    want.extend([".lock".into(), "manifest.json".into()]);
    want.sort();
    let mut found: Vec<String> = std::fs::read_dir(leftover)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, want, "old files and temporaries removed");
    let sub = submission(leftover, &s.test, &s.dir.path().join("sub-after.csv"));
    assert!(sub == s.sub_a);
}

#[test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test-hooks feature (scripts/test.sh)")]
fn a_killed_growth_into_its_own_base_folder_leaves_the_old_or_the_grown_index() {
    let s = setup();
    let d = s.dir.path();
    let with_base = |base: &Path, out: &Path| {
        let mut args = index_args(&s.train_a, out);
        args.extend(["--base".to_string(), base.to_str().unwrap().to_string()]);
        args
    };
    let reference = d.join("grown-reference");
    let args = with_base(&s.index_b, &reference);
    run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let grown = submission(&reference, &s.test, &d.join("sub-grown.csv"));
    assert!(grown != s.sub_b, "growing must change the predictions for the test to mean anything");
    for stage in STAGES {
        let index = copy_index(&s.index_b, &d.join(format!("grow-{stage}")));
        let (mut child, _stderr) = start_paused(&with_base(&index, &index), stage);
        assert!(Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap().success());
        assert_eq!(child.wait().unwrap().signal(), Some(9));
        let sub = submission(&index, &s.test, &d.join(format!("sub-grow-{stage}.csv")));
        let (want, which) = if new_index_committed(stage) { (&grown, "grown") } else { (&s.sub_b, "base") };
        assert!(sub == *want, "after SIGKILL at {stage} the folder does not predict as the {which} index");
    }
}
