//! `knnpref synth`: deterministic synthetic battles, written whole or not at all.
mod common;

use common::*;

#[test]
fn the_same_seed_writes_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    for out in [&a, &b] {
        run_ok(&["synth", "--rows", "50", "--seed", "4", "--out", out.to_str().unwrap()]);
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let rows = csv::Reader::from_path(&a).unwrap().records().count();
    assert_eq!(rows, 50);
}

#[test]
fn a_missing_folder_is_the_users_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-folder").join("s.csv");
    let (code, err) = run_err(&["synth", "--rows", "10", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not exist") && !err.contains("internal"), "{err}");
    assert!(!dir.path().join("no-such-folder").exists());
}
