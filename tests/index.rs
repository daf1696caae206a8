//! `knnpref index`: the folder it writes, determinism, and refusals.
mod common;

use common::*;

/// Without a model flag on the CPU, the static table (README's encoder table).
#[test]
fn the_default_on_a_cpu_is_the_static_table() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "train.csv", 0..60);
    let index = dir.path().join("idx");
    run_ok(&["index", "--train", train.to_str().unwrap(), "--out", index.to_str().unwrap(), "--folds", "3"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["source"]["model"]["kind"], "static");
    assert_eq!(manifest["source"]["model"]["id"], knnpref::embed::STATIC_MODEL);
    assert_eq!(manifest["source"]["folder"]["provisioned"], knnpref::embed::STATIC_MODEL);
}

#[test]
fn writes_manifest_and_tables() {
    let b = shared_index();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.index.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format_version"], 6);
    assert_eq!(manifest["source"]["model"]["id"], "all-MiniLM-L6-v2");
    assert_eq!(manifest["source"]["model"]["dim"], 384);
    assert_eq!(manifest["rows"], 240);
    // The fit's settings live once, in the head file, where they are read back.
    for repeated in ["seed", "folds", "hnsw", "search"] {
        assert!(manifest.get(repeated).is_none(), "{repeated} is repeated in the manifest");
    }
    let head_file = b.index.join(manifest["files"]["head"]["file"].as_str().unwrap());
    let head: serde_json::Value = serde_json::from_slice(&std::fs::read(head_file).unwrap()).unwrap();
    assert_eq!(head["params"]["seed"], 3);
    assert_eq!(head["params"]["hnsw"]["m"], 16);
    assert_eq!(manifest["source"]["model"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["train"].as_array().unwrap().len(), 1, "one training file");
    assert_eq!(manifest["train"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["train"][0]["rows"], 240);
    assert_eq!(manifest["files"].as_object().unwrap().len(), 3);
    for (role, ext) in [("embeddings", "parquet"), ("battles", "parquet"), ("head", "json")] {
        let sha = manifest["files"][role]["sha256"].as_str().unwrap();
        let file = manifest["files"][role]["file"].as_str().unwrap();
        assert_eq!(file, format!("{role}-{}.{ext}", &sha[..16]), "data files are named by their contents");
        assert!(b.index.join(file).is_file(), "{file} missing");
    }
    let leftovers: Vec<_> = std::fs::read_dir(b.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".knnpref"))
        .collect();
    assert!(leftovers.is_empty(), "temporary folders left behind");
}

#[test]
fn same_seed_gives_identical_files() {
    // The shared index was built with an empty cache; build again from the
    // cache it filled, and with no cache at all.
    let b = shared_index();
    let names = |dir: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    for (name, no_cache) in [("idx-warm", false), ("idx-no-cache", true)] {
        let again = b.dir.path().join(name);
        let mut args = vec!["index", "--train", b.train.to_str().unwrap(), "--out", again.to_str().unwrap()];
        args.extend(["--seed", "3", "--max-tokens", FIXTURE_TOKENS, "--transformer"]);
        if no_cache {
            args.push("--no-cache");
        }
        let out = run_ok_in(&b.cache, &args);
        assert!(out.contains("in-sample CV log loss") && out.contains("knnpref evaluate"), "{out}");
        assert_eq!(names(&b.index), names(&again));
        for f in names(&again) {
            assert_eq!(
                std::fs::read(b.index.join(&f)).unwrap(),
                std::fs::read(again.join(&f)).unwrap(),
                "{f} differs between two builds with the same seed ({name})"
            );
        }
    }
}

#[test]
fn refuses_to_overwrite_a_folder_that_is_not_an_index() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..40);
    let (code, err) =
        run_err(&["index", "--train", train.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not a knnpref index"), "{err}");
    assert!(dir.path().join("precious.txt").is_file());
}

#[test]
fn missing_train_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("bad.csv");
    std::fs::write(
        &train,
        "id,prompt,response_a,response_b\n1,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\"\n",
    )
    .unwrap();
    let out = dir.path().join("idx");
    let (code, err) = run_err(&["index", "--train", train.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("missing required column `winner_model_a`"), "{err}");
    assert!(!out.exists(), "nothing may be written on failure");
}

#[test]
fn missing_runtime_says_to_run_setup() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..20);
    let out = knnpref()
        .env("KNNPREF_HOME", dir.path().join("empty-home"))
        .env_remove("ORT_DYLIB_PATH")
        .args(["index", "--train", train.to_str().unwrap(), "--out", dir.path().join("i").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scripts/setup.sh"), "{err}");
}

/// Real rows with their winner columns rewritten by `edit(row_index, record)`.
fn edited_train(
    dir: &std::path::Path,
    name: &str,
    n: usize,
    edit: impl Fn(usize, &mut Vec<String>),
) -> std::path::PathBuf {
    let src = train_subset(dir, &format!("src-{name}"), 0..n);
    let mut r = csv::Reader::from_path(&src).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = r
        .records()
        .enumerate()
        .map(|(i, rec)| {
            let mut v: Vec<String> = rec.unwrap().iter().map(String::from).collect();
            edit(i, &mut v);
            v
        })
        .collect();
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    write_csv(&dir.join(name), &h, &rows)
}

#[test]
fn float_labels_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let train = edited_train(dir.path(), "float.csv", 40, |_, v| {
        for cell in &mut v[6..9] {
            *cell = format!("{}.0", cell);
        }
    });
    let out = dir.path().join("idx");
    run_ok(&["index", "--train", train.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(out.join("manifest.json").is_file());
}

#[test]
fn bad_labels_and_duplicate_ids_name_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let two_winners = edited_train(dir.path(), "two.csv", 40, |i, v| {
        if i == 6 {
            v[6] = "1".into();
            v[7] = "1".into();
            v[8] = "0".into();
        }
    });
    let out = dir.path().join("idx");
    let (code, err) =
        run_err(&["index", "--train", two_winners.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("row 7: winner columns must hold exactly one 1"), "{err}");
    let dup = edited_train(dir.path(), "dup.csv", 40, |i, v| {
        if i == 9 {
            v[0] = "30192".into();
        }
        if i == 2 {
            v[0] = "30192".into();
        }
    });
    let (code, err) = run_err(&["index", "--train", dup.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("row 10: id `30192` already appears in row 3"), "{err}");
    assert!(!out.exists());
}

#[test]
fn max_tokens_is_recorded_used_by_predict_and_costs_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "train.csv", 300..360);
    let index = dir.path().join("idx32");
    // Without --quiet, so that the embedding cost line is printed.
    let out = knnpref_loud()
        .args(["index", "--train", train.to_str().unwrap(), "--out", index.to_str().unwrap()])
        .args(["--max-tokens", "32", "--no-cache", "--batch-size", "8", "--sessions", "2", "--transformer"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["source"]["model"]["max_tokens"], 32);
    // "embedding: N texts, T tokens in S s (R tokens/s), padding P%; C from the cache"
    let line = err.lines().find(|l| l.starts_with("embedding: ")).unwrap_or_else(|| panic!("{err}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    // Counts and rates carry thousands separators ("4,321").
    let number = |w: &str| w.replace(',', "").parse::<usize>().unwrap();
    let (texts, tokens) = (number(words[1]), number(words[3]));
    assert!(texts > 100 && texts <= 180, "{line}");
    assert!(tokens <= texts * 32 && tokens >= texts * 3, "{line}");
    let padding: f64 = words[11].trim_end_matches("%;").parse().unwrap();
    assert!((0.0..100.0).contains(&padding), "{line}");
    // stderr is not a terminal here, so the fit's parts are logged as lines as they start.
    let steps: Vec<&str> = err.lines().filter_map(|l| l.strip_prefix("fitting: ")).collect();
    assert!(steps[0].starts_with("building the neighbour indexes (at ") && steps.len() >= 4, "{err}");
    assert!(steps.last().unwrap().starts_with("temperature and the final head"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("fit: neighbour indexes ")), "{err}");

    // predict embeds with the index's 32 tokens, and refuses another value.
    let test = test_subset(dir.path(), "test.csv", 400..405, false);
    let sub = dir.path().join("sub.csv");
    assert_eq!(predict_with(&index, &test, &sub, &[]).0, 0);
    assert_eq!(read_submission(&sub).0.len(), 5);
    let (code, err) = predict_with(&index, &test, &dir.path().join("no.csv"), &["--max-tokens", "64"]);
    assert_eq!(code, 1);
    assert!(err.contains("was built with --max-tokens 32"), "{err}");
}

#[test]
fn max_tokens_outside_the_model_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "train.csv", 0..20);
    let out = dir.path().join("idx");
    let (code, err) = run_err(&[
        "index",
        "--train",
        train.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-tokens",
        "4096",
        "--transformer",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--max-tokens 4096 is outside 8..=512"), "{err}");
    assert!(!out.exists());
}

/// Where this machine has no GPU runtime (no `scripts/setup.sh --gpu`):
/// `--device cuda` exits 1 naming the runtime and what to run, a static
/// model refuses CUDA, and `--device auto` embeds on the CPU with a note,
/// writing the same index as `--device cpu`.
#[test]
fn device_cuda_is_refused_without_a_gpu_runtime_and_auto_falls_back_to_the_cpu() {
    let home = std::env::var_os("KNNPREF_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache").join("knnpref")
    });
    if home.join("lib-gpu").exists() {
        eprintln!("skipped: a GPU runtime is provisioned here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..40);
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let index = |name: &str, extra: &[&str]| {
        let mut args = vec!["index", "--train", train.to_str().unwrap(), "--folds", "3"];
        let o = out(name);
        args.extend(["--out", o.as_str()]);
        args.extend(extra);
        // Not --quiet: the fallback note is one of the things checked.
        knnpref_loud().args(&args).output().unwrap()
    };
    let cuda = index("cuda", &["--device", "cuda"]);
    let err = String::from_utf8_lossy(&cuda.stderr);
    assert_eq!(cuda.status.code(), Some(1), "{err}");
    assert!(err.contains("no CUDA execution provider") && err.contains("scripts/setup.sh --gpu"), "{err}");
    assert!(err.contains("--device cpu") && !dir.path().join("cuda").exists(), "{err}");
    let on_static = index("static", &["--static", "--device", "cuda"]);
    let err = String::from_utf8_lossy(&on_static.stderr);
    assert_eq!(on_static.status.code(), Some(1), "{err}");
    assert!(err.contains("is a static model") && err.contains("--device cpu"), "{err}");
    // The default with --device cuda is the transformer; auto keeps the static default.
    let auto = index("auto", &["--device", "auto", "--transformer"]);
    let err = String::from_utf8_lossy(&auto.stderr);
    assert!(auto.status.success(), "{err}");
    assert_eq!(err.matches("note: --device auto").count(), 1, "{err}");
    assert!(err.contains("embedding on the CPU"), "{err}");
    let cpu = index("cpu", &["--device", "cpu", "--transformer"]);
    assert!(cpu.status.success());
    assert!(!String::from_utf8_lossy(&cpu.stderr).contains("note: --device"));
    let manifest = |name: &str| std::fs::read(dir.path().join(name).join("manifest.json")).unwrap();
    assert_eq!(manifest("auto"), manifest("cpu"));
}

/// Two `index` runs started together on overlapping rows share one empty
/// cache: both succeed, the cache holds one whole record per text, and a
/// third run over all their rows embeds nothing.
#[test]
fn two_runs_at_once_share_the_cache_and_a_third_embeds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (first, second) = (train_subset(d, "a.csv", 500..540), train_subset(d, "b.csv", 520..560));
    let spawn = |train: &std::path::Path, out: &str| {
        knnpref_process()
            .args([
                "--quiet",
                "index",
                "--train",
                train.to_str().unwrap(),
                "--out",
                d.join(out).to_str().unwrap(),
            ])
            .args(["--threads", "1", "--sessions", "1", "--transformer"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(&first, "idx-a"), spawn(&second, "idx-b"));
    for (name, child) in [("first", a), ("second", b)] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{name} run failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let all = train_subset(d, "all.csv", 500..560);
    let out = knnpref_loud()
        .args(["index", "--train", all.to_str().unwrap(), "--out", d.join("idx-all").to_str().unwrap()])
        .arg("--transformer")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // "embedding: N texts, T tokens in S s (R tokens/s), padding P%; C from the cache"
    let line = err.lines().find(|l| l.starts_with("embedding: ")).unwrap_or_else(|| panic!("{err}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |w: &str| w.replace(',', "").parse::<u64>().unwrap();
    assert_eq!(number(words[1]), 0, "the warm run embedded texts: {line}");
    let cached = number(words[words.len() - 4]);
    assert!(cached > 100, "{line}");
    let files: Vec<_> = std::fs::read_dir(test_cache()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "one cache file for the one model: {files:?}");
    let record = 32 + 384 * 4;
    assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), cached * record, "one whole record per text");
}

#[test]
fn too_few_rows_for_the_folds_is_the_users_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..6);
    let out = dir.path().join("idx");
    let (code, err) = run_err(&["index", "--train", train.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("6 labelled battles are too few for 5 folds"), "{err}");
    assert!(!err.contains("internal"), "{err}");
    assert!(!out.exists());
}

#[test]
fn out_equal_to_the_training_file_is_refused_and_the_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..20);
    let before = std::fs::read(&train).unwrap();
    let (code, err) =
        run_err(&["index", "--train", train.to_str().unwrap(), "--out", train.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing to write") && err.contains("the training file"), "{err}");
    assert_eq!(std::fs::read(&train).unwrap(), before);
}

#[test]
fn a_cache_path_that_is_a_file_is_the_users_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let train = train_subset(dir.path(), "t.csv", 0..20);
    let not_a_folder = dir.path().join("cache-file");
    std::fs::write(&not_a_folder, "not a folder").unwrap();
    let out = knnpref()
        .env("KNNPREF_CACHE", &not_a_folder)
        .args(["index", "--train", train.to_str().unwrap(), "--out", dir.path().join("i").to_str().unwrap()])
        .args(["--max-tokens", "32", "--folds", "2", "--transformer"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&not_a_folder.display().to_string()) && !err.contains("internal"), "{err}");
}
