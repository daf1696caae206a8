//! Unit tests of the index folder: commit and garbage collection, refusals
//! at save time, and the manifest's checks.

use std::path::Path;

use super::*;
use crate::embed::{ModelKind, Pooling};
use crate::features::BattleStats;
use crate::model::head::{FittedHead, HeadParams, Temperature};
use crate::model::ModelParams;

/// A tiny folder of `n` battles whose values depend on `salt`.
fn folder(n: usize, salt: f32) -> IndexFolder {
    let dim = 2;
    let vectors = |k: f32| (0..n * dim).map(|i| (i as f32 + k + salt).sin()).collect::<Vec<f32>>();
    let labels: Vec<Label> = (0..n).map(|i| Label::from_index(i % 3)).collect();
    let train = EncodedBattles {
        dim,
        ids: (0..n).map(|i| format!("id{i}")).collect(),
        prompt: vectors(0.0),
        a: vectors(1.0),
        b: vectors(2.0),
        stats: (0..n)
            .map(|i| BattleStats::from_values(&std::array::from_fn(|j| (i * 25 + j) as f32 + salt)))
            .collect(),
        labels: labels.iter().map(|&l| Some(l)).collect(),
    };
    let meta = (0..n)
        .map(|i| BattleMeta {
            content_hash: format!("h{i}"),
            prompt_start: "p".into(),
            a_start: "a".into(),
            b_start: "b".into(),
            a_chars: 1.0,
            b_chars: 2.0,
            oof: [0.3, 0.3, 0.4],
        })
        .collect();
    let state = ModelState {
        params: ModelParams::default(),
        head_params: HeadParams { lambda: 0.1, emb_scale: 0.3, scalar_len: 1, max_iter: 5 },
        head: FittedHead {
            mean: vec![0.0],
            scale: vec![1.0],
            weights: vec![salt as f64, 0.0, -1.0],
            bias: [0.0; 3],
        },
        boosted: None,
        linear_weight: 1.0,
        temperature: Temperature { t: 1.0 },
        prior: [0.4, 0.4, 0.2],
        cv_log_loss: 1.0,
        cv_log_loss_calibrated: 1.0,
        feature_names: vec!["x".into()],
    };
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        knnpref_version: "test".into(),
        source: VectorSource::Model {
            model: ModelInfo {
                id: "m".into(),
                sha256: "0".repeat(64),
                dim,
                max_tokens: 8,
                kind: ModelKind::Static,
                pooling: Pooling::Mean,
            },
            folder: ModelFolder { path: "/models/m".into(), provisioned: None },
        },
        train: vec![TrainFile { file: "t.csv".into(), sha256: "1".repeat(64), rows: n }],
        rows: n,
        files: BTreeMap::new(),
    };
    IndexFolder { manifest, train, labels, meta, state }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_second_save_commits_new_files_and_removes_the_old_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    folder(5, 0.0).save(&dir).unwrap();
    let first = names(&dir);
    assert_eq!(first.len(), 5, "three data files, the manifest and the lock: {first:?}");
    // Leftovers of an interrupted save: a temporary file and an orphaned data file.
    std::fs::write(dir.join(".tmpABC123"), "half").unwrap();
    std::fs::write(dir.join("head-0123456789abcdef.json"), "orphan").unwrap();
    std::fs::write(dir.join("notes.txt"), "the user's").unwrap();
    folder(6, 1.0).save(&dir).unwrap();
    let loaded = IndexFolder::load(&dir).unwrap();
    assert_eq!(loaded.manifest.rows, 6);
    assert_eq!(loaded.state.head.weights[0], 1.0);
    assert_eq!(loaded.train, folder(6, 1.0).train, "embeddings, ids, labels and text statistics read back");
    let mut expected: Vec<String> = loaded.manifest.files.values().map(|f| f.file.clone()).collect();
    expected.extend([".lock".into(), "manifest.json".into(), "notes.txt".into()]);
    expected.sort();
    assert_eq!(names(&dir), expected, "old generation and leftovers removed, the user's file kept");
    assert!(first.iter().filter(|n| n.contains('-')).all(|n| !dir.join(n).exists()));
}

#[test]
fn saving_the_same_contents_again_keeps_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    folder(4, 0.5).save(&dir).unwrap();
    let manifest = std::fs::read(dir.join(MANIFEST)).unwrap();
    folder(4, 0.5).save(&dir).unwrap();
    assert_eq!(std::fs::read(dir.join(MANIFEST)).unwrap(), manifest);
    assert_eq!(names(&dir).len(), 5);
}

#[test]
fn non_finite_values_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let mut f = folder(4, 0.0);
    f.state.head.weights[2] = f64::NAN;
    let err = f.save(&dir).unwrap_err();
    assert!(matches!(err, IndexError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("head.head.weights[2]"), "{err}");
    assert!(!dir.exists(), "nothing may be written");
    let mut f = folder(4, 0.0);
    f.train.a[3] = f32::INFINITY;
    assert!(f.save(&dir).unwrap_err().to_string().contains("response_a row 1"));
    let mut f = folder(4, 0.0);
    f.meta[2].oof[1] = f64::NAN;
    assert!(f.save(&dir).unwrap_err().to_string().contains("out-of-fold predictions"));
    assert!(!dir.exists());
}

#[test]
fn a_folder_of_other_files_is_refused_but_leftovers_of_a_first_save_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep").unwrap();
    assert!(matches!(folder(3, 0.0).save(&dir), Err(IndexError::NotAnIndex { .. })));
    std::fs::remove_file(dir.join("precious.txt")).unwrap();
    std::fs::write(dir.join(".tmpXYZ"), "half").unwrap();
    std::fs::write(dir.join("embeddings-00000000000000aa.parquet"), "done").unwrap();
    folder(3, 0.0).save(&dir).unwrap();
    assert_eq!(names(&dir).len(), 5);
}

/// Save a folder, edit its manifest as JSON, and read the manifest back.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> (tempfile::TempDir, Result<Manifest, IndexError>) {
    let tmp = tempfile::tempdir().unwrap();
    folder(3, 0.0).save(tmp.path()).unwrap();
    let path = tmp.path().join(MANIFEST);
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let r = IndexFolder::read_manifest(tmp.path());
    (tmp, r)
}

#[test]
fn the_manifest_must_be_complete() {
    let message = |edit: fn(&mut serde_json::Value)| edited(edit).1.unwrap_err().to_string();
    assert!(message(|m| m["files"] = serde_json::json!({})).contains("lists no `embeddings` file"));
    assert!(message(|m| {
        m["files"].as_object_mut().unwrap().remove("head");
    })
    .contains("lists no `head` file"));
    assert!(message(|m| m["files"]["notes"] = m["files"]["head"].clone()).contains("lists a file `notes`"));
    assert!(
        message(|m| m["files"]["head"]["file"] = "head.json".into()).contains("not the name of its checksum")
    );
    assert!(message(|m| {
        m.as_object_mut().unwrap().remove("format_version");
    })
    .contains("no `format_version`"));
    assert!(message(|m| m["format_version"] = 2.into()).contains("older knnpref (index format 2"));
    let shaless = message(|m| {
        m.as_object_mut().unwrap().remove("train");
    });
    assert!(shaless.contains("corrupt or incomplete; rebuild the index"), "{shaless}");
    let kindless = edited(|m| {
        m["source"]["model"].as_object_mut().unwrap().remove("kind");
    });
    assert!(kindless.1.is_err(), "a missing model kind is not read as a default");
    assert!(edited(|_| {}).1.is_ok());
}

#[test]
fn a_data_file_that_disagrees_with_its_checksum_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    folder(3, 0.0).save(tmp.path()).unwrap();
    let m = IndexFolder::read_manifest(tmp.path()).unwrap();
    let battles = tmp.path().join(&m.files["battles"].file);
    let bytes = std::fs::read(&battles).unwrap();
    std::fs::write(&battles, &bytes[..bytes.len() - 10]).unwrap();
    assert!(matches!(IndexFolder::load(tmp.path()), Err(IndexError::Checksum { .. })));
    std::fs::remove_file(&battles).unwrap();
    assert!(matches!(IndexFolder::load(tmp.path()), Err(IndexError::DataMissing { .. })));
}

#[test]
fn saving_over_a_format_2_index_replaces_its_fixed_name_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join(MANIFEST), r#"{"format_version": 2}"#).unwrap();
    for f in LEGACY_FILES {
        std::fs::write(dir.join(f), "old").unwrap();
    }
    assert!(matches!(IndexFolder::read_manifest(dir), Err(IndexError::OlderFormat { found: 2, .. })));
    folder(3, 0.0).save(dir).unwrap();
    assert!(LEGACY_FILES.iter().all(|f| !dir.join(f).exists()));
    assert_eq!(IndexFolder::load(dir).unwrap().manifest.rows, 3);
}
