//! No command writes over one of its inputs: every command × every kind of
//! input, each refused with exit 1 before any work, naming both paths, and
//! the input left byte for byte as it was.

use std::path::{Path, PathBuf};

use crate::common::knnpref;
use crate::fixture::{files, s, snapshot};

/// One refused call: its arguments, the input it names (left unchanged)
/// and the words the message must hold.
struct Case {
    name: &'static str,
    args: Vec<String>,
    input: PathBuf,
    says: &'static str,
}

fn case(name: &'static str, args: &[impl AsRef<str>], input: &Path, says: &'static str) -> Case {
    let args = args.iter().map(|a| a.as_ref().to_string()).collect();
    Case { name, args, input: input.to_owned(), says }
}

fn check(c: &Case) {
    let before = snapshot(&c.input);
    let out = knnpref().args(&c.args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}: {err}", c.name);
    assert!(err.contains("refusing to write"), "{}: {err}", c.name);
    assert!(err.contains(c.says), "{}: the message should name {}: {err}", c.name, c.says);
    assert!(err.contains(s(&c.input)) || err.contains(s(c.input.parent().unwrap())), "{}: {err}", c.name);
    assert_eq!(snapshot(&c.input), before, "{}: the input changed", c.name);
}

#[test]
fn predict_never_writes_over_its_vectors_model_test_or_index() {
    let f = files();
    let part = f.parts.join("part-0.parquet");
    let tokenizer = f.model.join("tokenizer.json");
    let (iv, idx, test) = (s(&f.vectors_index), s(&f.index), s(&f.test));
    let predict = |index: &str, extra: &[&str], out: &Path| {
        let mut a = vec!["predict", "--index", index, "--test", test, "--out", s(out)];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let cases = [
        Case {
            name: "the vectors file",
            args: predict(iv, &["--vectors", s(&f.test_vectors)], &f.test_vectors),
            input: f.test_vectors.clone(),
            says: "the vectors",
        },
        Case {
            name: "a part of the vectors folder",
            args: predict(iv, &["--vectors", s(&f.parts)], &part),
            input: part.clone(),
            says: "the vectors",
        },
        Case {
            name: "the index's own model folder",
            args: predict(idx, &[], &tokenizer),
            input: tokenizer.clone(),
            says: "the model folder",
        },
        Case {
            name: "a model folder named by --model",
            args: predict(idx, &["--model", s(&f.model)], &tokenizer),
            input: tokenizer.clone(),
            says: "the model folder",
        },
        Case {
            name: "the test file",
            args: predict(idx, &[], &f.test),
            input: f.test.clone(),
            says: "the test file",
        },
        Case {
            name: "a file of the index",
            args: predict(idx, &[], &f.index.join("manifest.json")),
            input: f.index.join("manifest.json"),
            says: "the index",
        },
    ];
    for c in &cases {
        check(c);
    }
}

#[test]
fn evaluate_never_writes_over_its_vectors_model_or_training_file() {
    let f = files();
    let (train, tv) = (s(&f.train), s(&f.train_vectors));
    let base = ["evaluate", "--train", train, "--folds", "2"];
    let with = |extra: &[&str]| base.iter().chain(extra).map(|a| a.to_string()).collect::<Vec<String>>();
    let tokenizer = f.model.join("tokenizer.json");
    let cases = [
        case("oof = vectors", &with(&["--vectors", tv, "--oof", tv]), &f.train_vectors, "the vectors"),
        case(
            "oof in the model folder",
            &with(&["--model", s(&f.model), "--oof", s(&tokenizer)]),
            &tokenizer,
            "the model folder",
        ),
        case("oof = train", &with(&["--vectors", tv, "--oof", train]), &f.train, "the training file"),
        case(
            "report in the model folder",
            &with(&["--model", s(&f.model), "--report", s(&f.model)]),
            &f.model,
            "the model folder",
        ),
    ];
    for c in &cases {
        check(c);
    }
}

#[test]
fn embed_and_index_never_write_over_their_inputs() {
    let f = files();
    let d = f.dir.path();
    let model = s(&f.model);
    let (train, test) = (s(&f.train), s(&f.test));
    let shard = d.join("shard");
    std::fs::create_dir_all(&shard).unwrap();
    let inside = shard.join("train.csv");
    std::fs::copy(&f.train, &inside).unwrap();
    let cases = [
        case(
            "embed over its battles",
            &["embed", "--in", test, "--out", test, "--model", model],
            &f.test,
            "the battles file",
        ),
        case(
            "embed into the model folder",
            &["embed", "--in", test, "--out", s(&f.model.join("v.parquet")), "--model", model],
            &f.model,
            "the model folder",
        ),
        case(
            "index into its vectors folder",
            &["index", "--train", test, "--out", s(&f.parts.join("idx")), "--vectors", s(&f.parts)],
            &f.parts,
            "the vectors",
        ),
        case(
            "index folder at the training file",
            &["index", "--train", s(&inside), "--out", s(&inside), "--model", model],
            &inside,
            "the training file",
        ),
        case(
            "index folder inside the model folder",
            &["index", "--train", train, "--out", s(&f.model.join("idx")), "--model", model],
            &f.model,
            "the model folder",
        ),
        case(
            "index folder inside the base index",
            &["index", "--train", test, "--base", s(&f.index), "--out", s(&f.index.join("grown"))],
            &f.index,
            "the base index",
        ),
        case(
            "grown index inside the base's model folder",
            &["index", "--train", test, "--base", s(&f.index), "--out", s(&f.model.join("grown"))],
            &f.model,
            "the model folder",
        ),
    ];
    for c in &cases {
        check(c);
    }
}

#[test]
fn distill_never_writes_into_its_model_folder() {
    let f = files();
    // A copy of the tiny encoder fixture: the refusal comes before it is read.
    let teacher = f.dir.path().join("teacher");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-encoder/with-types");
    let copied = std::process::Command::new("cp").arg("-r").arg(&fixture).arg(&teacher).status().unwrap();
    assert!(copied.success());
    let c = case(
        "distill into its teacher",
        &["distill", "--model", s(&teacher), "--out", s(&teacher.join("static")), "--dims", "2"],
        &teacher,
        "the model folder",
    );
    check(&c);
    assert!(!teacher.join("static").exists());
}
