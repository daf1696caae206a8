//! Shared harness for the integration tests: real rows from ../shared, temp
//! folders, and running the knnpref binary on them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use assert_cmd::Command;

/// The real 1,493-row sample, which lives beside the project, never in it.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/arena-sample")
}

pub fn sample_train() -> PathBuf {
    let p = sample_dir().join("train.csv");
    assert!(p.is_file(), "tests need the real sample at {}", p.display());
    p
}

/// Real train rows `range` written to a fresh CSV in `dir` (exact Kaggle format).
pub fn train_subset(dir: &Path, name: &str, range: std::ops::Range<usize>) -> PathBuf {
    let mut reader = csv::Reader::from_path(sample_train()).unwrap();
    let out = dir.join(name);
    let mut writer = csv::Writer::from_path(&out).unwrap();
    writer.write_record(reader.headers().unwrap()).unwrap();
    for rec in reader.records().skip(range.start).take(range.len()) {
        writer.write_record(&rec.unwrap()).unwrap();
    }
    writer.flush().unwrap();
    out
}

/// Rows as a test file: id, prompt, response_a, response_b only; with
/// `swap`, the two responses exchanged.
pub fn test_subset(dir: &Path, name: &str, range: std::ops::Range<usize>, swap: bool) -> PathBuf {
    let mut reader = csv::Reader::from_path(sample_train()).unwrap();
    let h = reader.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (id, p, a, b) = (col("id"), col("prompt"), col("response_a"), col("response_b"));
    let out = dir.join(name);
    let mut writer = csv::Writer::from_path(&out).unwrap();
    writer.write_record(["id", "prompt", "response_a", "response_b"]).unwrap();
    for rec in reader.records().skip(range.start).take(range.len()) {
        let r = rec.unwrap();
        let (ra, rb) = if swap { (&r[b], &r[a]) } else { (&r[a], &r[b]) };
        writer.write_record([&r[id], &r[p], ra, rb]).unwrap();
    }
    writer.flush().unwrap();
    out
}

pub fn knnpref() -> Command {
    let mut c = Command::cargo_bin("knnpref").unwrap();
    c.arg("--quiet");
    c
}

/// Run and require success, returning stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = knnpref().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "knnpref {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Run expecting failure; returns (exit code, stderr).
pub fn run_err(args: &[&str]) -> (i32, String) {
    let out: Output = knnpref().args(args).output().unwrap();
    assert!(!out.status.success(), "knnpref {args:?} unexpectedly succeeded");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A small index over real rows 0..240, built once per test binary.
pub struct Built {
    pub dir: tempfile::TempDir,
    pub index: PathBuf,
    pub train: PathBuf,
}

pub fn shared_index() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let train = train_subset(dir.path(), "train.csv", 0..240);
        let index = dir.path().join("idx");
        run_ok(&[
            "index",
            "--train",
            train.to_str().unwrap(),
            "--out",
            index.to_str().unwrap(),
            "--seed",
            "3",
        ]);
        Built { dir, index, train }
    })
}

/// Parse a submission into (ids, probability rows), checking its invariants.
pub fn read_submission(path: &Path) -> (Vec<String>, Vec<[f64; 3]>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "winner_model_a", "winner_model_b", "winner_tie"]
    );
    let mut ids = Vec::new();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        ids.push(rec[0].to_string());
        let p: Vec<f64> = (1..4).map(|i| rec[i].parse().unwrap()).collect();
        for v in &p {
            assert!(*v > 0.0 && *v < 1.0, "probability {v} outside (0,1)");
        }
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6, "row sums to {}", p.iter().sum::<f64>());
        rows.push([p[0], p[1], p[2]]);
    }
    (ids, rows)
}
