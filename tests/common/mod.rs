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

thread_local! {
    /// This test's own embedding cache: libtest runs each test on its own
    /// thread, so every test starts with an empty cache and leaves nothing
    /// behind for the next (the provisioned model is shared, read-only).
    static TEST_CACHE: tempfile::TempDir = tempfile::tempdir().unwrap();
}

/// The running test's own, initially empty, embedding cache folder.
pub fn test_cache() -> PathBuf {
    TEST_CACHE.with(|d| d.path().to_owned())
}

/// The knnpref binary with this test's cache, printing everything.
pub fn knnpref_loud() -> Command {
    let mut c = Command::cargo_bin("knnpref").unwrap();
    c.env("KNNPREF_CACHE", test_cache());
    c
}

/// The knnpref binary as a plain process (to spawn, signal, wait), with
/// this test's cache.
pub fn knnpref_process() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("knnpref"));
    c.env("KNNPREF_CACHE", test_cache());
    c
}

/// The knnpref binary with this test's cache and `--quiet`.
pub fn knnpref() -> Command {
    let mut c = knnpref_loud();
    c.arg("--quiet");
    c
}

/// Run and require success, returning stdout.
pub fn run_ok(args: &[&str]) -> String {
    run_ok_in(&test_cache(), args)
}

/// Run with the embedding cache `cache` and require success, returning stdout.
pub fn run_ok_in(cache: &Path, args: &[&str]) -> String {
    let out = knnpref().env("KNNPREF_CACHE", cache).args(args).output().unwrap();
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

/// The token budget of the shared index (and of runs compared with it): its
/// cache starts empty, and 64 tokens embed about four times faster than 256.
pub const FIXTURE_TOKENS: &str = "64";

/// A small index over real rows 0..240 with the transformer at [`FIXTURE_TOKENS`], built once per
/// test binary with an embedding cache of its own (which only this fixture's
/// builds share).
pub struct Built {
    pub dir: tempfile::TempDir,
    pub index: PathBuf,
    pub train: PathBuf,
    pub cache: PathBuf,
}

pub fn shared_index() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let train = train_subset(dir.path(), "train.csv", 0..240);
        let index = dir.path().join("idx");
        let cache = dir.path().join("cache");
        let mut args = vec!["index", "--train", train.to_str().unwrap(), "--out", index.to_str().unwrap()];
        args.extend(["--seed", "3", "--max-tokens", FIXTURE_TOKENS, "--transformer"]);
        run_ok_in(&cache, &args);
        Built { dir, index, train, cache }
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

/// Copy an index folder's files to `to`; returns `to`.
pub fn copy_index(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    to.to_owned()
}

/// Rewrite an index folder's manifest.json through `edit`.
pub fn edit_manifest(index: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = index.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
}

/// Write a CSV with `header` and `rows` (each cell quoted as needed).
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> PathBuf {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    path.to_owned()
}

/// A JSON-list cell from turns (`None` is a JSON null).
pub fn turns(t: &[Option<&str>]) -> String {
    serde_json::to_string(t).unwrap()
}

/// A one-turn battle row: id, prompt, response_a, response_b.
pub fn row(id: &str, p: &str, a: &str, b: &str) -> Vec<String> {
    vec![id.into(), turns(&[Some(p)]), turns(&[Some(a)]), turns(&[Some(b)])]
}

pub const TEST_HEADER: [&str; 4] = ["id", "prompt", "response_a", "response_b"];

/// Predict `test` with `index` into `out`; returns (exit code, stderr).
pub fn predict_with(index: &Path, test: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["predict", "--index", index.to_str().unwrap(), "--test", test.to_str().unwrap()];
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = knnpref().args(&args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Predict with the shared index; returns (exit code, stderr).
pub fn predict_file(test: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    predict_with(&shared_index().index, test, out, extra)
}

/// Predict with the shared index, requiring success; returns the submission.
pub fn predict_ok(test: &Path, out: &Path, extra: &[&str]) -> (Vec<String>, Vec<[f64; 3]>) {
    let (code, err) = predict_file(test, out, extra);
    assert_eq!(code, 0, "predict failed: {err}");
    read_submission(out)
}
