//! Invariants of `knnpref predict` on real rows: order, threads, interruption.

use std::time::Duration;

use crate::common::*;

#[test]
fn permuting_test_rows_permutes_the_submission() {
    let d = tempfile::tempdir().unwrap();
    let forward = test_subset(d.path(), "f.csv", 300..340, false);
    // The same rows in reverse order.
    let text = std::fs::read_to_string(&forward).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    rows.reverse();
    let backward = write_csv(&d.path().join("b.csv"), &TEST_HEADER, &rows);
    let (o1, o2) = (d.path().join("s1.csv"), d.path().join("s2.csv"));
    let (ids1, p1) = predict_ok(&forward, &o1, &["--no-cache"]);
    let (mut ids2, mut p2) = predict_ok(&backward, &o2, &["--no-cache"]);
    // The same input twice gives a byte-identical submission.
    let o3 = d.path().join("s3.csv");
    predict_ok(&forward, &o3, &["--no-cache"]);
    assert_eq!(std::fs::read(&o1).unwrap(), std::fs::read(&o3).unwrap());
    ids2.reverse();
    p2.reverse();
    assert_eq!(ids1, ids2);
    assert_eq!(p1, p2);
}

#[test]
fn thread_count_does_not_change_predictions() {
    let d = tempfile::tempdir().unwrap();
    let test = test_subset(d.path(), "t.csv", 340..380, false);
    let (o1, o2) = (d.path().join("s1.csv"), d.path().join("s2.csv"));
    let (_, p1) = predict_ok(&test, &o1, &["--no-cache", "--threads", "1"]);
    let (_, p2) = predict_ok(&test, &o2, &["--no-cache", "--threads", "2"]);
    for (a, b) in p1.iter().zip(&p2) {
        for c in 0..3 {
            assert!((a[c] - b[c]).abs() <= 1e-6, "{a:?} vs {b:?}");
        }
    }
}

#[test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs the test-hooks feature (scripts/test.sh)")]
fn interrupting_predict_keeps_the_old_file_and_leaves_no_temp() {
    let b = shared_index();
    let d = tempfile::tempdir().unwrap();
    let test = test_subset(d.path(), "t.csv", 380..390, false);
    let out = d.path().join("submission.csv");
    std::fs::write(&out, "the old submission").unwrap();
    let mut child = knnpref_process()
        .args(["--quiet", "predict", "--index", b.index.to_str().unwrap(), "--test", test.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .env("KNNPREF_TEST_PAUSE_AT", "before-rename")
        .env("KNNPREF_TEST_PAUSE_SECS", "30")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the temporary file is complete and the process is paused.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let temps = std::fs::read_dir(d.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".tmp"))
            .count();
        if temps > 0 {
            std::thread::sleep(Duration::from_millis(300));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "predict never reached the write");
        assert!(child.try_wait().unwrap().is_none(), "predict exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    send_sigint(child.id());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the old submission");
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".tmp")), "temporary file left: {names:?}");
}

/// Send SIGINT with the system's `kill`, as a user's Ctrl-C would.
fn send_sigint(pid: u32) {
    let ok = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(ok.success());
}
