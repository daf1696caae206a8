//! Exit codes and output modes every command shares: a refusal of the
//! system exits 3 whichever command met it, reading or writing said
//! rightly; `-` is standard output for the submission and refused for
//! binary outputs; a reader that closes the pipe early is no failure.

use std::io::Read;
use std::process::Stdio;

use crate::common::{knnpref, knnpref_process};
use crate::fixture::{files, s, ReadOnlyDir};

#[test]
fn a_read_only_folder_exits_3_for_predict_embed_and_index_alike() {
    let f = files();
    let ro = ReadOnlyDir::new(f.dir.path().join("ro"));
    let (idx, test, model) = (s(&f.index), s(&f.test), s(&f.model));
    let sub = ro.0.join("sub.csv");
    let vectors = ro.0.join("v.parquet");
    let index = ro.0.join("idx");
    let calls: [Vec<&str>; 3] = [
        vec!["predict", "--index", idx, "--test", test, "--out", s(&sub)],
        vec!["embed", "--in", test, "--out", s(&vectors), "--model", model],
        vec!["index", "--train", s(&f.train), "--out", s(&index), "--model", model],
    ];
    for args in &calls {
        let out = knnpref().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("The system refused"), "{args:?}: {err}");
        assert!(!err.contains("cannot read"), "a write is not a read: {err}");
    }
    assert_eq!(std::fs::read_dir(&ro.0).unwrap().count(), 0, "nothing written");
}

#[test]
fn a_full_disk_while_writing_vectors_is_said_to_be_a_write() {
    let f = files();
    let out_path = f.dir.path().join("full-vectors.parquet");
    let out = knnpref()
        .args(["embed", "--in", s(&f.test), "--out", s(&out_path), "--model", s(&f.model)])
        .env("KNNPREF_TEST_FULL_DISK", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("cannot write {}", s(&out_path))), "{err}");
    assert!(!out_path.exists());
}

#[test]
fn a_dash_sends_the_submission_to_standard_output_and_the_summary_to_stderr() {
    let f = files();
    let work = tempfile::tempdir().unwrap();
    let out = knnpref_process()
        .current_dir(work.path())
        .args(["predict", "--index", s(&f.index), "--test", s(&f.test), "--out", "-"])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("id,winner_model_a,winner_model_b,winner_tie"));
    assert_eq!(lines.count(), 2000, "one row per test battle");
    assert!(stderr.contains("wrote 2000 predictions to standard output"), "{stderr}");
    assert!(!work.path().join("-").exists(), "no file named -");
    // The same rows as a submission file.
    let file = work.path().join("sub.csv");
    let args = ["predict", "--index", s(&f.index), "--test", s(&f.test), "--out", s(&file)];
    assert!(knnpref().args(args).output().unwrap().status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
}

#[test]
fn a_dash_is_refused_for_vectors_and_index_folders() {
    let f = files();
    let work = tempfile::tempdir().unwrap();
    let calls: [(Vec<&str>, &str); 2] = [
        (vec!["embed", "--in", s(&f.test), "--out", "-", "--model", s(&f.model)], "the vectors file"),
        (vec!["index", "--train", s(&f.train), "--out", "-", "--model", s(&f.model)], "the index folder"),
    ];
    for (args, what) in &calls {
        let out = knnpref_process().current_dir(work.path()).arg("--quiet").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&format!("{what} cannot be written to standard output")), "{err}");
        assert!(!work.path().join("-").exists());
    }
}

/// Run `args`, read `keep` bytes of its standard output, close the pipe,
/// and return the exit code and stderr.
fn closed_early(args: &[&str], keep: usize) -> (Option<i32>, String) {
    let mut child = knnpref_process()
        .arg("--quiet")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; keep];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_closed_pipe_exits_0_quietly_in_json_text_and_csv_modes() {
    let f = files();
    let (idx, text) = (s(&f.index), "how do I sort a list in python");
    let similar = ["similar", "--index", idx, "--text", text, "-n", "200"];
    let json: Vec<&str> = similar.iter().copied().chain(["--json"]).collect();
    let csv = ["predict", "--index", idx, "--test", s(&f.test), "--out", "-"];
    for args in [&similar[..], &json[..], &csv[..]] {
        let (code, err) = closed_early(args, 100);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?} printed: {err}");
    }
}
