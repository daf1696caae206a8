//! `knnpref embed` and `--vectors`: vectors written by `embed` give the
//! predictions of the model run inside knnpref, bad vectors are refused by
//! name, and an index finds its model again from the folder it recorded.
mod common;

use std::path::{Path, PathBuf};

use common::*;
use knnpref::vectors::{vectors_bytes, BattleVectors};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `knnpref embed` of `input` into `out` with `model_flags`.
fn embed(input: &Path, out: &Path, model_flags: &[&str]) -> String {
    let mut args = vec!["embed", "--in", s(input), "--out", s(out)];
    args.extend(model_flags);
    run_ok(&args)
}

fn max_gap(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    a.iter().zip(b).flat_map(|(x, y)| (0..3).map(move |c| (x[c] - y[c]).abs())).fold(0.0, f64::max)
}

/// Index + predict with `model_flags` in-process, and again from the vectors
/// `knnpref embed` wrote with the same flags: the predictions agree.
fn vectors_match_the_model(model_flags: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = train_subset(d, "train.csv", 0..160);
    let test = test_subset(d, "test.csv", 160..200, false);
    let (tv, sv) = (d.join("train.parquet"), d.join("test.parquet"));
    let said = embed(&train, &tv, model_flags);
    assert!(said.contains("wrote vectors of 160 battles"), "{said}");
    embed(&test, &sv, model_flags);

    let mut args = vec!["index", "--train", s(&train), "--out"];
    let (im, iv) = (d.join("idx-model"), d.join("idx-vectors"));
    run_ok(&[&args[..], &[s(&im)], model_flags].concat());
    args.extend([s(&iv), "--vectors", s(&tv)]);
    run_ok(&args);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(iv.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["source"]["kind"], "vectors");
    let producer = BattleVectors::read(&tv).unwrap().producer;
    assert_eq!(manifest["source"]["producer"], producer.as_str());

    let (_, in_process) = predict_ok_with(&im, &test, &d.join("a.csv"), &[]);
    let (_, from_vectors) = predict_ok_with(&iv, &test, &d.join("b.csv"), &["--vectors", s(&sv)]);
    // Vectors of the index's own model are accepted by the model index too.
    let (_, mixed) = predict_ok_with(&im, &test, &d.join("c.csv"), &["--vectors", s(&sv)]);
    assert!(max_gap(&in_process, &from_vectors) <= 1e-6, "{}", max_gap(&in_process, &from_vectors));
    assert!(max_gap(&in_process, &mixed) <= 1e-6);
}

fn predict_ok_with(index: &Path, test: &Path, out: &Path, extra: &[&str]) -> (Vec<String>, Vec<[f64; 3]>) {
    let (code, err) = predict_with(index, test, out, extra);
    assert_eq!(code, 0, "{err}");
    read_submission(out)
}

#[test]
fn vectors_of_the_transformer_predict_as_the_transformer_does() {
    vectors_match_the_model(&["--transformer", "--max-tokens", FIXTURE_TOKENS]);
}

#[test]
fn vectors_of_the_static_model_predict_as_the_static_model_does() {
    vectors_match_the_model(&["--static"]);
}

/// A vectors index over rows 0..120 of the sample (static model), its
/// vectors, and a test file of rows 120..150 with its vectors.
struct VectorsIndex {
    dir: tempfile::TempDir,
    index: PathBuf,
    test: PathBuf,
    test_vectors: PathBuf,
}

fn vectors_index() -> VectorsIndex {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = train_subset(d, "train.csv", 0..120);
    let test = test_subset(d, "test.csv", 120..150, false);
    let (tv, sv) = (d.join("train.parquet"), d.join("test.parquet"));
    embed(&train, &tv, &["--static", "--producer", "my-encoder"]);
    embed(&test, &sv, &["--static", "--producer", "my-encoder"]);
    let index = d.join("idx");
    run_ok(&["index", "--train", s(&train), "--out", s(&index), "--vectors", s(&tv)]);
    VectorsIndex { dir, index, test, test_vectors: sv }
}

/// A change to a vectors file's ids, columns and dimension.
type Edit = dyn FnOnce(&mut Vec<String>, &mut [Vec<f32>; 3], &mut usize);

/// Rewrite the vectors file `from` as `to` after `edit`.
fn rewrite(from: &Path, to: &Path, producer: &str, edit: Box<Edit>) {
    let v = BattleVectors::read(from).unwrap();
    let mut ids = read_ids(from);
    let mut cols = v.gather(&ids).unwrap();
    let mut dim = v.dim;
    edit(&mut ids, &mut cols, &mut dim);
    std::fs::write(to, vectors_bytes(producer, dim, ids, cols).unwrap()).unwrap();
}

/// The ids of a vectors file, in its order.
fn read_ids(path: &Path) -> Vec<String> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).unwrap();
    let mut ids = Vec::new();
    for batch in ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap() {
        let batch = batch.unwrap();
        let col = batch.column_by_name("id").unwrap();
        let col = col.as_any().downcast_ref::<arrow::array::StringArray>().unwrap();
        ids.extend(col.iter().map(|v| v.unwrap().to_string()));
    }
    ids
}

#[test]
fn bad_vectors_are_refused_naming_what_is_wrong() {
    let v = vectors_index();
    let d = v.dir.path();
    let ok = predict_ok_with(&v.index, &v.test, &d.join("ok.csv"), &["--vectors", s(&v.test_vectors)]);
    assert_eq!(ok.0.len(), 30);

    let cases: Vec<(&str, &str, Box<Edit>, &str)> = vec![
        (
            "missing",
            "my-encoder",
            Box::new(|ids, cols, dim| {
                ids.pop();
                for c in cols.iter_mut() {
                    c.truncate(c.len() - *dim);
                }
            }),
            "has no vectors for battle",
        ),
        ("nan", "my-encoder", Box::new(|_, cols, _| cols[1][5] = f32::NAN), "not finite"),
        (
            "dim",
            "my-encoder",
            Box::new(|_, cols, dim| {
                for c in cols.iter_mut() {
                    *c = c.chunks(*dim).flat_map(|r| r[..8].to_vec()).collect();
                }
                *dim = 8;
            }),
            "dimension 8",
        ),
        ("other", "someone-else", Box::new(|_, _, _| {}), "producer `someone-else`"),
    ];
    for (name, producer, edit, expect) in cases {
        let bad = d.join(format!("{name}.parquet"));
        rewrite(&v.test_vectors, &bad, producer, edit);
        let out = d.join(format!("{name}.csv"));
        let (code, err) = predict_with(&v.index, &v.test, &out, &["--vectors", s(&bad)]);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains(expect), "{name}: {err}");
        assert!(!out.exists(), "{name}: nothing is written");
    }
    // An index built from vectors needs them.
    let (code, err) = predict_with(&v.index, &v.test, &d.join("none.csv"), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("pass --vectors") && err.contains("my-encoder"), "{err}");
}

#[test]
fn embed_refuses_vectors_and_an_output_that_is_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let test = test_subset(dir.path(), "test.csv", 0..5, false);
    let (code, err) = run_err(&["embed", "--in", s(&test), "--out", s(&test), "--static"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("test.csv"), "{err}");
    let (code, err) = run_err(&[
        "embed",
        "--in",
        s(&test),
        "--out",
        s(&dir.path().join("v.parquet")),
        "--vectors",
        s(&test),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("choose a model"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn an_index_finds_its_model_folder_again_and_says_when_it_has_gone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = d.join("elsewhere").join("my-static");
    copy_dir(&knnpref::embed::static_model_dir(), &model);
    let train = train_subset(d, "train.csv", 0..100);
    let test = test_subset(d, "test.csv", 100..120, false);
    let index = d.join("idx");
    run_ok(&["index", "--train", s(&train), "--out", s(&index), "--model", s(&model)]);
    let (ids, _) = predict_ok_with(&index, &test, &d.join("a.csv"), &[]);
    assert_eq!(ids.len(), 20, "predict without --model uses the recorded folder");

    let moved = d.join("moved");
    std::fs::rename(model.parent().unwrap(), &moved).unwrap();
    let out = d.join("b.csv");
    let (code, err) = predict_with(&index, &test, &out, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("my-static") && err.contains("which is gone") && err.contains("pass --model"),
        "{err}"
    );
    assert!(!out.exists());
    let (ids, _) = predict_ok_with(&index, &test, &out, &["--model", s(&moved.join("my-static"))]);
    assert_eq!(ids.len(), 20);
}

#[test]
fn an_index_of_a_provisioned_model_follows_knnpref_home() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = knnpref::embed::STATIC_MODEL;
    copy_dir(&knnpref::embed::static_model_dir(), &d.join("home1/models").join(name));
    let train = train_subset(d, "train.csv", 0..100);
    let test = test_subset(d, "test.csv", 100..110, false);
    let index = d.join("idx");
    let home = |h: &str| {
        let mut c = knnpref();
        c.env("KNNPREF_HOME", d.join(h));
        c
    };
    let built =
        home("home1").args(["index", "--train", s(&train), "--out", s(&index), "--static"]).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    std::fs::rename(d.join("home1"), d.join("home2")).unwrap();
    let out = d.join("sub.csv");
    let run =
        home("home2").args(["predict", "--index", s(&index), "--test", s(&test), "--out", s(&out)]).output();
    let run = run.unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(read_submission(&out).0.len(), 10);
}

/// The whole sample holds a battle with an empty response (48531611), whose
/// static vector is all zeros: `embed` writes it and `--vectors` reads it
/// back, and index + predict from the vectors give the in-process bytes.
#[test]
fn vectors_of_the_whole_sample_with_its_empty_texts_predict_as_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (train, vectors) = (sample_train(), d.join("all.parquet"));
    embed(&train, &vectors, &["--static"]);
    let (iv, im) = (d.join("idx-vectors"), d.join("idx-model"));
    run_ok(&["index", "--train", s(&train), "--vectors", s(&vectors), "--out", s(&iv)]);
    run_ok(&["index", "--train", s(&train), "--static", "--out", s(&im)]);
    let test = test_subset(d, "test.csv", 0..1493, false);
    let (a, b) = (d.join("a.csv"), d.join("b.csv"));
    predict_ok_with(&iv, &test, &a, &["--vectors", s(&vectors)]);
    predict_ok_with(&im, &test, &b, &[]);
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "the submissions differ");
}

/// A copy of the tiny encoder fixture `name` (a sentence-transformers
/// folder, `1_Pooling/` included) at `to`.
fn tiny_model(name: &str, to: &Path) -> PathBuf {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            match entry.path().is_dir() {
                true => copy_tree(&entry.path(), &to.join(entry.file_name())),
                false => drop(std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap()),
            }
        }
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-encoder");
    copy_tree(&fixtures.join(name), to);
    to.to_owned()
}

/// `knnpref embed` of a three-battle file with `--model model`, run in
/// `dir` with `$KNNPREF_HOME` at `dir/home`; returns (exit code, stderr).
fn embed_with_model(dir: &Path, model: &str) -> (i32, String) {
    let rows: Vec<Vec<String>> =
        (0..3).map(|i| row(&i.to_string(), "the cat sat", "a dog ran far", "on a mat")).collect();
    let input = write_csv(&dir.join("battles.csv"), &TEST_HEADER, &rows);
    let out = dir.join("vectors.parquet");
    let o = knnpref()
        .current_dir(dir)
        .env("KNNPREF_HOME", dir.join("home"))
        .args(["embed", "--in", s(&input), "--out", s(&out), "--model", model])
        .output()
        .unwrap();
    assert!(!out.exists(), "nothing is written");
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// A folder whose graph has no `attention_mask` input (it passes
/// onnx.checker) is refused when it is opened, as the user's fault, naming
/// the folder, the file, what the graph has and what knnpref needs; not
/// when the first batch fails, as an internal failure.
#[test]
fn a_model_folder_whose_graph_lacks_attention_mask_is_refused_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = tiny_model("without-types", &d.join("my-encoder"));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-encoder");
    std::fs::copy(fixtures.join("no-attention-mask.onnx"), model.join("model.onnx")).unwrap();
    let (code, err) = embed_with_model(d, s(&model));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("model folder {}: model.onnx has no attention_mask input", model.display())),
        "{err}"
    );
    assert!(err.contains("its inputs are input_ids (int64 [batch, seq])"), "{err}");
    assert!(err.contains("knnpref needs int64 inputs input_ids and attention_mask"), "{err}");
    assert!(!err.contains("internal failure"), "{err}");
}

/// A user's folder that lacks a file is told what a sentence-transformers
/// folder holds; only a provisioned model is told to run scripts/setup.sh.
#[test]
fn a_folder_without_tokenizer_json_is_told_what_a_folder_needs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = tiny_model("without-types", &d.join("my-encoder"));
    std::fs::remove_file(model.join("tokenizer.json")).unwrap();
    let (code, err) = embed_with_model(d, s(&model));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("model folder {} lacks tokenizer.json", model.display())), "{err}");
    assert!(err.contains("a sentence-transformers folder for knnpref holds model.onnx"), "{err}");
    assert!(!err.contains("setup.sh"), "{err}");

    let provisioned = tiny_model("without-types", &d.join("home/models/tiny"));
    std::fs::remove_file(provisioned.join("tokenizer.json")).unwrap();
    let (code, err) = embed_with_model(d, "tiny");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("tiny lacks tokenizer.json; run scripts/setup.sh"), "{err}");
}

/// `--model NAME` that is neither a folder nor a provisioned model says so
/// and lists the provisioned models (or says there are none and how to
/// provision them), instead of saying that a folder lacks model.onnx.
#[test]
fn a_bare_name_that_is_no_model_lists_the_provisioned_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let models = d.join("home/models");
    let (code, err) = embed_with_model(d, "no-such-name");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no model folder or provisioned model named no-such-name"), "{err}");
    assert!(err.contains(&format!("{} does not exist; run scripts/setup.sh", models.display())), "{err}");

    tiny_model("without-types", &models.join("tiny-b"));
    tiny_model("with-types", &models.join("tiny-a"));
    std::fs::create_dir_all(models.join("not-a-model")).unwrap();
    let (code, err) = embed_with_model(d, "no-such-name");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no model folder or provisioned model named no-such-name"), "{err}");
    assert!(err.contains(&format!("{} holds the models tiny-a, tiny-b;", models.display())), "{err}");
    assert!(!err.contains("lacks model.onnx"), "{err}");
}

/// Ctrl-C while ONNX Runtime's threads run a transformer's batches: exit
/// 130 with the "interrupted" line last, nothing after it (the C++ static
/// destructors that `exit` would run print ONNX Runtime errors).
#[test]
fn ctrl_c_during_a_transformer_embed_prints_nothing_after_interrupted() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("synth.csv"), dir.path().join("v.parquet"));
    run_ok(&["synth", "--rows", "3000", "--out", s(&input)]);
    let mut child = knnpref_process()
        .args(["--quiet", "embed", "--transformer", "--in", s(&input), "--out", s(&out)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Batches are being run once the cache has grown.
    let started = std::time::Instant::now();
    let cached = || {
        std::fs::read_dir(test_cache())
            .map(|d| d.filter_map(Result::ok).any(|e| e.metadata().is_ok_and(|m| m.len() > 0)))
            .unwrap_or(false)
    };
    while !cached() {
        assert!(started.elapsed().as_secs() < 300, "no batch was embedded in 300 s");
        assert!(child.try_wait().unwrap().is_none(), "knnpref ended before it was interrupted");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}: {err}");
    let last = err.trim_end().lines().last().unwrap_or("");
    assert!(last.starts_with("interrupted"), "a line follows the interrupted one:\n{err}");
    assert!(!out.exists());
}
