//! `knnpref predict` never overwrites its inputs, refuses ids a submission
//! cannot carry, and ignores a test file's winner columns whatever they hold.

use crate::common::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A one-row test file in `dir`, and its bytes.
fn one_row_test(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let test = write_csv(&dir.join("t.csv"), &TEST_HEADER, &[row("1", "Hi?", "Hello.", "Hey there!")]);
    let bytes = std::fs::read(&test).unwrap();
    (test, bytes)
}

#[test]
fn out_equal_to_the_test_file_is_refused_and_the_file_kept() {
    let d = tmp();
    let (test, bytes) = one_row_test(d.path());
    let (code, err) = predict_file(&test, &test, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing to write") && err.contains("the test file"), "{err}");
    assert_eq!(std::fs::read(&test).unwrap(), bytes, "the test file is untouched");
    // The same file by another spelling of its path.
    let dotted = d.path().join(".").join("t.csv");
    assert_eq!(predict_file(&test, &dotted, &[]).0, 1);
    assert_eq!(std::fs::read(&test).unwrap(), bytes);
}

#[test]
fn out_linked_to_the_test_file_is_refused() {
    let d = tmp();
    let (test, bytes) = one_row_test(d.path());
    let hard = d.path().join("hard.csv");
    std::fs::hard_link(&test, &hard).unwrap();
    let soft = d.path().join("soft.csv");
    std::os::unix::fs::symlink(&test, &soft).unwrap();
    for out in [&hard, &soft] {
        let (code, err) = predict_file(&test, out, &[]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(&out.display().to_string()) && err.contains("the test file"), "{err}");
    }
    // Reading the test file through a link is fine; writing over it is not.
    let (code, err) = predict_file(&soft, &test, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read(&test).unwrap(), bytes);
}

#[test]
fn out_inside_the_index_folder_is_refused() {
    let b = shared_index();
    let d = tmp();
    let (test, _) = one_row_test(d.path());
    let manifest = b.index.join("manifest.json");
    let before = std::fs::read(&manifest).unwrap();
    let (code, err) = predict_file(&test, &manifest, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the index"), "{err}");
    assert_eq!(std::fs::read(&manifest).unwrap(), before);
}

#[test]
fn an_empty_id_is_refused_naming_the_row() {
    let d = tmp();
    let rows = [row("1", "p", "a", "b"), row("", "q", "a", "b"), row("3", "r", "a", "b")];
    let test = write_csv(&d.path().join("t.csv"), &TEST_HEADER, &rows);
    let out = d.path().join("s.csv");
    let (code, err) = predict_file(&test, &out, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("row 2: the `id` cell is empty"), "{err}");
    assert!(!out.exists());
}

#[test]
fn winner_columns_of_a_test_file_are_ignored_whatever_they_hold() {
    let d = tmp();
    let mut r = row("7", "hi", "hello", "hey");
    r.extend(["maybe".into(), "".into(), "2.5".into()]);
    let header =
        ["id", "prompt", "response_a", "response_b", "winner_model_a", "winner_model_b", "winner_tie"];
    let test = write_csv(&d.path().join("t.csv"), &header, &[r]);
    let out = d.path().join("s.csv");
    let (code, err) = predict_file(&test, &out, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("carries winner columns; they are ignored"), "{err}");
    assert_eq!(read_submission(&out).0, ["7"]);
}
