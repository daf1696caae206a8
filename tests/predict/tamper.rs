//! A damaged or edited index, or a model that is not the one it was built
//! with: each refused (exit 1) with a message that says what to do.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A copy of the shared index edited by `edit`, and `predict`'s refusal of it.
fn refusal(name: &str, edit: impl FnOnce(&Path)) -> String {
    let b = shared_index();
    let copy = copy_index(&b.index, &b.dir.path().join(name));
    edit(&copy);
    let out = b.dir.path().join(format!("{name}.csv"));
    let (code, err) = predict_with(&copy, &sample_dir().join("test.csv"), &out, &[]);
    assert_eq!(code, 1, "{name}: {err}");
    assert!(!out.exists(), "{name}: a submission was written");
    err
}

/// The path of one data file of an index, as its manifest names it.
fn data_file(index: &Path, role: &str) -> PathBuf {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index.join("manifest.json")).unwrap()).unwrap();
    index.join(m["files"][role]["file"].as_str().unwrap())
}

fn remove_key(m: &mut serde_json::Value, key: &str) {
    m.as_object_mut().unwrap().remove(key).unwrap();
}

#[test]
fn an_incomplete_or_edited_manifest_is_refused() {
    let rebuild = "rebuild it with `knnpref index`";
    let err = refusal("no-head-entry", |i| edit_manifest(i, |m| remove_key(&mut m["files"], "head")));
    assert!(err.contains("lists no `head` file") && err.contains(rebuild), "{err}");
    let err = refusal("no-entries", |i| edit_manifest(i, |m| m["files"] = serde_json::json!({})));
    assert!(err.contains("lists no `embeddings` file") && err.contains(rebuild), "{err}");
    let err = refusal("extra-entry", |i| {
        edit_manifest(i, |m| m["files"]["extra"] = m["files"]["head"].clone());
    });
    assert!(err.contains("lists a file `extra`") && err.contains(rebuild), "{err}");
    let err = refusal("no-version", |i| edit_manifest(i, |m| remove_key(m, "format_version")));
    assert!(
        err.contains("has no `format_version`") && err.contains("rebuild the index with `knnpref index`"),
        "{err}"
    );
    let err = refusal("no-rows", |i| edit_manifest(i, |m| remove_key(m, "rows")));
    assert!(err.contains("missing field `rows`") && err.contains("rebuild the index"), "{err}");
    let err = refusal("older", |i| edit_manifest(i, |m| m["format_version"] = serde_json::json!(2)));
    assert!(err.contains("older knnpref (index format 2") && err.contains(rebuild), "{err}");
    let err = refusal("newer", |i| edit_manifest(i, |m| m["format_version"] = serde_json::json!(99)));
    assert!(err.contains("index format 99, newer than"), "{err}");
    let err = refusal("not-json", |i| std::fs::write(i.join("manifest.json"), "{ not json").unwrap());
    assert!(err.contains("manifest.json is corrupt"), "{err}");
}

#[test]
fn a_truncated_or_missing_data_file_is_refused() {
    let err = refusal("truncated", |i| {
        let emb = data_file(i, "embeddings");
        let bytes = std::fs::read(&emb).unwrap();
        std::fs::write(&emb, &bytes[..bytes.len() / 2]).unwrap();
    });
    assert!(err.contains("does not match the checksum") && err.contains("rebuild the index"), "{err}");
    let err = refusal("missing", |i| std::fs::remove_file(data_file(i, "battles")).unwrap());
    assert!(err.contains("is listed in manifest.json but missing"), "{err}");
}

/// A copy of the provisioned model folder (same name, so the same model id),
/// the graph linked rather than copied, with `edit` applied.
fn model_copy(dir: &Path, edit: impl FnOnce(&Path)) -> PathBuf {
    let from = knnpref::embed::default_model_dir(false);
    let to = dir.join(from.file_name().unwrap());
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        if e.file_name() == "model.onnx" {
            std::os::unix::fs::symlink(e.path(), to.join("model.onnx")).unwrap();
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    edit(&to);
    to
}

#[test]
fn a_changed_tokenizer_or_config_is_a_different_model() {
    let b = shared_index();
    let d = tempfile::tempdir().unwrap();
    let test = test_subset(d.path(), "t.csv", 300..303, false);
    // The same files elsewhere are the same model.
    let same = model_copy(&d.path().join("same"), |_| {});
    let (code, err) =
        predict_with(&b.index, &test, &d.path().join("same.csv"), &["--model", same.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // A tokenizer that no longer lowercases, or another special-tokens map, is not.
    let edits: [(&str, &str, &str); 2] = [
        ("tokenizer.json", "\"lowercase\":true", "\"lowercase\":false"),
        ("special_tokens_map.json", "[SEP]", "[SEP2]"),
    ];
    for (file, from, to) in edits {
        let changed = model_copy(&d.path().join(file), |m| {
            let text = std::fs::read_to_string(m.join(file)).unwrap();
            assert!(text.contains(from), "{file} has no {from}");
            std::fs::write(m.join(file), text.replacen(from, to, 1)).unwrap();
        });
        let out = d.path().join(format!("{file}.csv"));
        let (code, err) = predict_with(&b.index, &test, &out, &["--model", changed.to_str().unwrap()]);
        assert_eq!(code, 1, "{file}: {err}");
        assert!(err.contains("was built with the transformer model all-MiniLM-L6-v2 (sha256 "), "{err}");
        assert!(err.contains("pass --model with the model it was built with, or rebuild the index"), "{err}");
        assert!(!out.exists());
    }
}
