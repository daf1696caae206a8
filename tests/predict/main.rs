//! `knnpref predict`: submission validity, swap symmetry, refusals.
#[path = "../common/mod.rs"]
mod common;
mod inputs;
mod invariants;
mod outputs;
mod tamper;

use common::*;

#[test]
fn official_test_file_gives_a_valid_submission() {
    let b = shared_index();
    let out = b.dir.path().join("official-sub.csv");
    let test = sample_dir().join("test.csv");
    assert_eq!(predict_with(&b.index, &test, &out, &[]).0, 0);
    let (ids, _) = read_submission(&out);
    let mut r = csv::Reader::from_path(&test).unwrap();
    let want: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
    assert_eq!(ids, want, "one row per test id, in input order");
}

#[test]
fn swapping_responses_swaps_a_and_b_exactly() {
    let b = shared_index();
    let d = b.dir.path();
    let plain = test_subset(d, "plain.csv", 240..300, false);
    let swapped = test_subset(d, "swapped.csv", 240..300, true);
    let (o1, o2) = (d.join("sub-plain.csv"), d.join("sub-swapped.csv"));
    let (ids1, p1) = predict_ok(&plain, &o1, &[]);
    let (ids2, p2) = predict_ok(&swapped, &o2, &["--no-cache"]);
    assert_eq!(ids1, ids2);
    assert_eq!(p1.len(), 60);
    for (a, s) in p1.iter().zip(&p2) {
        assert_eq!(a[0], s[1]);
        assert_eq!(a[1], s[0]);
        assert_eq!(a[2], s[2]);
    }
    // The predictions are not all the same: the model responds to its input.
    assert!(p1.iter().any(|p| (p[0] - p1[0][0]).abs() > 1e-3));
}

#[test]
fn mismatched_model_is_refused() {
    let b = shared_index();
    let copy = copy_index(&b.index, &b.dir.path().join("idx-other-model"));
    edit_manifest(&copy, |m| m["source"]["model"]["sha256"] = serde_json::json!("0".repeat(64)));
    let test = sample_dir().join("test.csv");
    let out = b.dir.path().join("never.csv");
    let (code, err) = predict_with(&copy, &test, &out, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("was built with the transformer model all-MiniLM-L6-v2"), "{err}");
    assert!(!out.exists());
}

#[test]
fn unwritable_out_fails_before_work() {
    let b = shared_index();
    let test = sample_dir().join("test.csv");
    let out = b.dir.path().join("no-such-dir/sub.csv");
    let (code, err) = predict_with(&b.index, &test, &out, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test-hooks feature (scripts/test.sh)")]
fn a_panic_exits_2_with_one_line_and_no_backtrace() {
    let b = shared_index();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sub.csv");
    let test = sample_dir().join("test.csv");
    let args = ["predict", "--index", b.index.to_str().unwrap(), "--test", test.to_str().unwrap()];
    let run = |backtrace: &str| {
        let o = knnpref()
            .args(args)
            .args(["--out", out.to_str().unwrap()])
            .env("KNNPREF_TEST_PANIC", "1")
            .env("RUST_BACKTRACE", backtrace)
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, err) = run("0");
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: internal failure") && err.contains("please report it"), "{err}");
    assert!(err.contains("deliberate panic") && !err.contains("backtrace"), "{err}");
    // RUST_BACKTRACE=1 still shows Rust's own report.
    let (code, err) = run("1");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("stack backtrace") && err.contains("please report it"), "{err}");
    assert!(!out.exists());
}

#[test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test-hooks feature (scripts/test.sh)")]
fn a_full_disk_exits_3_naming_the_file_and_keeps_the_old_submission() {
    let b = shared_index();
    let d = tempfile::tempdir().unwrap();
    let test = test_subset(d.path(), "t.csv", 390..395, false);
    let out = d.path().join("submission.csv");
    std::fs::write(&out, "the old submission").unwrap();
    // The test hook sends the submission's bytes to /dev/full.
    let o = knnpref()
        .args(["predict", "--index", b.index.to_str().unwrap(), "--test", test.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .env("KNNPREF_TEST_FULL_DISK", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains(&out.display().to_string()), "the path is named: {err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the old submission");
    let mut left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    left.sort();
    assert_eq!(left, ["submission.csv", "t.csv"], "nothing half-written is left");
    // Without the hook the same command writes the submission.
    assert_eq!(predict_with(&b.index, &test, &out, &[]).0, 0);
    assert_eq!(read_submission(&out).0.len(), 5);
}

#[test]
fn test_battles_already_in_the_index_are_counted_in_a_warning() {
    let b = shared_index();
    let d = b.dir.path();
    // Rows 230..250: ten are training battles of the shared index (0..240).
    let mixed = test_subset(d, "mixed.csv", 230..250, false);
    let (code, err) = predict_file(&mixed, &d.join("sub-mixed.csv"), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("10 of 20 test battles are already in the index"), "{err}");
    // The same texts under new ids are still recognised.
    let mut r = csv::Reader::from_path(&mixed).unwrap();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            let mut v: Vec<String> = rec.iter().map(String::from).collect();
            v[0] = format!("renamed-{}", v[0]);
            v
        })
        .collect();
    let renamed = write_csv(&d.join("renamed.csv"), &TEST_HEADER, &rows);
    let (code, err) = predict_file(&renamed, &d.join("sub-renamed.csv"), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("10 of 20 test battles are already in the index"), "{err}");
    // A disjoint test file gets no such warning.
    let disjoint = test_subset(d, "disjoint.csv", 300..310, false);
    let (code, err) = predict_file(&disjoint, &d.join("sub-disjoint.csv"), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("already in the index"), "{err}");
}
