//! `knnpref index --base`: growing an index gives the index a rebuild from
//! the files together gives (byte-identical submissions), embeds only the
//! new battles, and refuses battles the base holds and a base that does not
//! match the options.
mod common;

use std::path::{Path, PathBuf};

use common::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn manifest(index: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(index.join("manifest.json")).unwrap()).unwrap()
}

/// The data files by role: what the index holds, whatever files built it.
fn data_files(index: &Path) -> Vec<String> {
    let m = manifest(index);
    ["embeddings", "battles", "head"]
        .iter()
        .map(|r| m["files"][r]["sha256"].as_str().unwrap().into())
        .collect()
}

fn submission(index: &Path, test: &Path, out: &Path) -> Vec<u8> {
    let (code, err) = predict_with(index, test, out, &[]);
    assert_eq!(code, 0, "{err}");
    std::fs::read(out).unwrap()
}

/// A static index of the sample's rows 0..60 in `d/base`, to grow.
fn static_base(d: &Path) -> PathBuf {
    let base = d.join("base");
    run_ok(&["index", "--static", "--train", s(&train_subset(d, "first.csv", 0..60)), "--out", s(&base)]);
    base
}

#[test]
fn growing_rows_0_to_999_by_1000_to_1492_gives_the_index_of_all_1493() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (first, rest, all) =
        (train_subset(d, "first.csv", 0..1000), train_subset(d, "rest.csv", 1000..1493), sample_train());
    let test = test_subset(d, "test.csv", 0..1493, false);
    let (grown, full) = (d.join("grown"), d.join("full"));
    run_ok(&["index", "--static", "--train", s(&first), "--out", s(&grown)]);
    // The daily case: the base is the output folder.
    let out = run_ok(&["index", "--static", "--base", s(&grown), "--train", s(&rest), "--out", s(&grown)]);
    assert!(
        out.contains("base: 1,000 battles with their vectors from the base index (not embedded), 493 new"),
        "{out}"
    );
    run_ok(&["index", "--static", "--train", s(&all), "--out", s(&full)]);
    assert_eq!(data_files(&grown), data_files(&full), "the same embeddings, battles and head");
    let (a, b) = (submission(&grown, &test, &d.join("a.csv")), submission(&full, &test, &d.join("b.csv")));
    assert!(a == b, "the grown index predicts differently from the rebuilt one");
    let m = manifest(&grown);
    let parts: Vec<(&str, u64)> = m["train"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["file"].as_str().unwrap(), t["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(parts, vec![("first.csv", 1000), ("rest.csv", 493)]);
    assert_eq!(m["rows"], 1493);
}

#[test]
fn a_base_grown_with_no_cache_embeds_only_the_new_battles() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (first, rest) = (train_subset(d, "first.csv", 0..60), train_subset(d, "rest.csv", 60..90));
    let all = train_subset(d, "all.csv", 0..90);
    let test = test_subset(d, "test.csv", 300..330, false);
    let t = ["--transformer", "--max-tokens", FIXTURE_TOKENS, "--no-cache"];
    let (grown, full) = (d.join("grown"), d.join("full"));
    let index = |train: &Path, out: &Path, base: Option<&Path>| {
        let mut cmd = knnpref_loud();
        cmd.env("KNNPREF_CACHE", d.join("empty-cache")).args(["index", "--train", s(train), "--out", s(out)]);
        if let Some(b) = base {
            cmd.args(["--base", s(b)]);
        }
        let o = cmd.args(t).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    index(&first, &grown, None);
    let grew = index(&rest, &grown, Some(&grown));
    // What embedding the new file alone costs: the same texts, no more.
    let alone = knnpref_loud()
        .env("KNNPREF_CACHE", d.join("empty-cache"))
        .args(["embed", "--in", s(&rest), "--out", s(&d.join("rest.parquet"))])
        .args(t)
        .output()
        .unwrap();
    let alone = String::from_utf8_lossy(&alone.stderr).into_owned();
    let texts = |log: &str| -> String {
        let line = log.lines().find(|l| l.starts_with("embedding: ")).unwrap_or_else(|| panic!("{log}"));
        line.split(" tokens").next().unwrap().to_string()
    };
    assert_eq!(texts(&grew), texts(&alone), "\n{grew}\n{alone}");
    let count: usize = texts(&grew)["embedding: ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(count > 0 && count <= 90, "30 new battles are at most 90 texts: {grew}");
    assert!(!std::fs::read_dir(d.join("empty-cache")).map(|mut r| r.next().is_some()).unwrap_or(false));
    index(&all, &full, None);
    assert_eq!(data_files(&grown), data_files(&full), "the transformer's index grows to the rebuilt one too");
    assert!(submission(&grown, &test, &d.join("a.csv")) == submission(&full, &test, &d.join("b.csv")));
}

#[test]
fn battles_the_base_holds_are_refused_with_their_count_or_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = static_base(d);
    let before = std::fs::read(base.join("manifest.json")).unwrap();
    let overlap = train_subset(d, "overlap.csv", 50..80);
    let (code, err) =
        run_err(&["index", "--static", "--base", s(&base), "--train", s(&overlap), "--out", s(&base)]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("10 battles of") && err.contains("already in the base index"), "{err}");
    assert!(err.contains("--skip-existing"), "{err}");
    assert_eq!(std::fs::read(base.join("manifest.json")).unwrap(), before, "nothing written");
    // The same content under a new id is the same battle.
    let mut reader = csv::Reader::from_path(&overlap).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut renamed: Vec<String> =
        reader.records().next().unwrap().unwrap().iter().map(String::from).collect();
    renamed[0] = "999999999".into();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let copy = write_csv(&d.join("copy.csv"), &header, &[renamed]);
    let (code, err) =
        run_err(&["index", "--static", "--base", s(&base), "--train", s(&copy), "--out", s(&base)]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("1 battles of") && err.contains("999999999"), "{err}");
    // A file without ids: its generated ids 0, 1, ... would collide with any other file's.
    let mut reader = csv::Reader::from_path(&overlap).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().skip(1).map(String::from).collect();
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().skip(1).map(String::from).collect()).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let idless = write_csv(&d.join("idless.csv"), &header, &rows);
    let (code, err) =
        run_err(&["index", "--static", "--base", s(&base), "--train", s(&idless), "--out", s(&base)]);
    assert!(code == 1 && err.contains("has no `id` column"), "{err}");
    let args = [
        "index",
        "--static",
        "--base",
        s(&base),
        "--train",
        s(&overlap),
        "--out",
        s(&base),
        "--skip-existing",
    ];
    let out = run_ok(&args);
    assert!(out.contains("10 battles of the training file skipped"), "{out}");
    let m = manifest(&base);
    assert_eq!((m["rows"].as_u64(), m["train"][1]["rows"].as_u64()), (Some(80), Some(20)));
}

#[test]
fn a_base_that_does_not_match_the_options_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = static_base(d);
    let more = train_subset(d, "more.csv", 60..80);
    let out = d.join("out");
    let grow = |extra: &[&str]| {
        let mut args = vec!["index", "--base", s(&base), "--train", s(&more), "--out", s(&out)];
        args.extend(extra);
        run_err(&args)
    };
    let cases: [(&[&str], &str); 4] = [
        (&["--transformer"], "pass --model with the model it was built with"),
        (&["--static", "--seed", "3"], "seed: 0 in the base, 3 here"),
        (&["--static", "--folds", "4"], "folds: 5 in the base, 4 here"),
        (&["--static", "--max-tokens", "100"], "was built with --max-tokens 512"),
    ];
    for (extra, want) in cases {
        let (code, err) = grow(extra);
        assert_eq!(code, 1, "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
    }
    assert!(!d.join("out").exists(), "nothing written");
    // With no model option the base's own model is used, as predict uses it.
    run_ok(&["index", "--base", s(&base), "--train", s(&more), "--out", s(&d.join("out"))]);
    edit_manifest(&base, |m| m["format_version"] = 5.into());
    let (code, err) = grow(&["--static"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("older knnpref (index format 5"), "{err}");
    let (code, err) =
        run_err(&["index", "--static", "--train", s(&more), "--out", s(&d.join("x")), "--skip-existing"]);
    assert!(code == 1 && err.contains("--base <DIR>"), "--skip-existing needs --base: {err}");
}
