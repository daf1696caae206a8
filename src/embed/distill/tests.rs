use super::*;
use crate::embed::static_model::StaticModel;

/// Embed only ids below 1,100: BERT's specials, `[unusedN]`, punctuation,
/// digits and single letters, so short texts of letters have rows.
fn small(out: &Path) -> DistillParams {
    DistillParams {
        dims: 16,
        limit: Some(1100),
        threads: 2,
        ..DistillParams::new(crate::embed::default_model_dir(false), out.to_owned())
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap())).collect()
}

#[test]
fn distilling_twice_gives_identical_files_that_load() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let report = distill(&small(&a)).unwrap();
    distill(&small(&b)).unwrap();
    assert_eq!(files(&a), files(&b), "same input, byte-identical files");
    let names: Vec<String> = files(&a).into_iter().map(|f| f.0).collect();
    assert_eq!(names, [CONFIG, SAFETENSORS, TOKENIZER]);
    assert_eq!((report.vocab, report.embedded, report.hidden, report.dims), (30522, 1100, 384, 16));
    assert!(report.explained_variance > 0.0 && report.explained_variance < 1.0);

    let m = StaticModel::load(&a).unwrap();
    assert_eq!((m.rows(), m.dim()), (30522, 16));
    assert!(m.row(1037).unwrap().iter().any(|&x| x != 0.0), "`a` was embedded");
    assert!(m.row(1996).unwrap().iter().all(|&x| x == 0.0), "`the` is past the limit");
    let texts = [vec!["a b c !".to_string()], vec!["x".into(), "y z 7".into()], vec!["the".into()]];
    let turns: Vec<&[String]> = texts.iter().map(|t| t.as_slice()).collect();
    let v = m.encode_turns(&turns, 256);
    for row in v[..32].chunks(16) {
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }
    assert!(v[32..].iter().all(|&x| x == 0.0), "only zero rows: a zero vector");
    let tok: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join(TOKENIZER)).unwrap()).unwrap();
    assert!(tok["truncation"].is_null() && tok["padding"].is_null());
    assert_eq!(m.config().hidden_dim, Some(16));

    // Distilling again over an existing static folder replaces it.
    distill(&small(&a)).unwrap();
    assert_eq!(files(&a), files(&b));
}

#[test]
fn failures_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let err = distill(&DistillParams { dims: 999, ..small(&out) }).unwrap_err();
    assert!(err.to_string().contains("exceeds the model's 384"), "{err}");
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "no temporary folder left");

    let err = distill(&DistillParams { sif: 0.0, ..small(&out) }).unwrap_err();
    assert!(matches!(err, DistillError::Invalid { what: "sif", .. }), "{err}");

    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let err = distill(&small(&out)).unwrap_err();
    assert!(matches!(err, DistillError::NotStatic { .. }), "{err}");
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");

    let err = distill(&DistillParams::new(tmp.path().join("nope"), tmp.path().join("o"))).unwrap_err();
    assert!(matches!(err, DistillError::Missing { file: "model.onnx", .. }), "{err}");
}

#[test]
fn special_tokens_come_from_the_tokenizer() {
    let tok =
        tokenizers::Tokenizer::from_file(crate::embed::default_model_dir(false).join(TOKENIZER)).unwrap();
    assert_eq!(special_tokens(&tok).unwrap(), (vec![101], vec![102]));
}
