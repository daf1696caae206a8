//! Unit tests of the embedder, on the provisioned model: sessions, batching,
//! token accounting, the token budget and golden vectors (pooling modes
//! against sentence-transformers in `golden`).
use super::model_files::{transformer_identity, MEAN_POOLING};
use super::*;
use std::path::Path;

fn embedder(batch_size: usize) -> Embedder {
    embedder_with(batch_size, 1, None).expect("the model is provisioned by scripts/setup.sh")
}

fn embedder_with(
    batch_size: usize,
    sessions: usize,
    max_tokens: Option<usize>,
) -> Result<Embedder, EmbedError> {
    let opts = EmbedOptions { sessions, batch_size, max_tokens, use_cache: false, ..EmbedOptions::new(2) };
    Embedder::open(&default_model_dir(false), &opts.check()?, &Progress::hidden())
}

fn sentences() -> Vec<String> {
    (0..23).map(|i| format!("sentence {i} {}", "about preference data and answers ".repeat(i % 7))).collect()
}

#[test]
fn sessions_share_the_work_without_changing_vectors() {
    let texts = sentences();
    let mut one = embedder_with(4, 1, None).unwrap();
    let mut two = embedder_with(4, 2, None).unwrap();
    let (a, b) = (one.embed(&texts, "t").unwrap(), two.embed(&texts, "t").unwrap());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
    assert_eq!(one.stats().tokens, two.stats().tokens);
    assert_eq!(two.stats().texts, 23);
}

#[test]
fn stats_count_tokens_and_padding() {
    let texts = sentences();
    let mut single = embedder_with(1, 1, None).unwrap();
    single.embed(&texts, "t").unwrap();
    let s = single.stats();
    assert_eq!(s.slots, s.tokens, "batches of one text have no padding");
    let want: u64 = texts.iter().map(|t| single.token_count(t) as u64).sum();
    assert_eq!(s.tokens, want);
    let mut batched = embedder_with(8, 1, None).unwrap();
    batched.embed(&texts, "t").unwrap();
    let b = batched.stats();
    assert_eq!(b.tokens, s.tokens);
    assert!(b.slots > b.tokens && b.padding_waste() < 0.5, "{b:?}");
    // A second call with the same texts embeds them again (no cache here).
    batched.embed(&texts[..3], "t").unwrap();
    assert_eq!(batched.stats().texts, 26);
}

#[test]
fn max_tokens_truncates_and_is_range_checked() {
    let mut short = embedder_with(8, 1, Some(16)).unwrap();
    assert_eq!(short.info().max_tokens, 16);
    let long = "word ".repeat(100);
    let fitted = short.fit(std::slice::from_ref(&long));
    assert_eq!(short.token_count(&fitted), 16, "fit leaves room for the two special tokens");
    short.embed(&[fitted], "t").unwrap();
    // Under 8 is refused by the options' check, above the model's limit when it opens.
    let err = embedder_with(8, 1, Some(4)).err().expect("out of range");
    assert!(err.to_string().contains("max tokens 4: must be at least 8"), "{err}");
    let err = embedder_with(8, 1, Some(4096)).err().expect("out of range");
    assert!(err.to_string().contains("--max-tokens 4096 is outside 8..=512"), "{err}");
}

/// Reference values from the same ONNX graph run by Python onnxruntime
/// with the Hugging Face tokenizer (they also match sentence-transformers'
/// published all-MiniLM-L6-v2 output for the first sentence).
#[test]
fn golden_embeddings() {
    let mut e = embedder(8);
    assert_eq!(e.info().dim, 384);
    let texts = vec!["This is an example sentence".to_string(), "Each sentence is converted".to_string()];
    let v = e.embed(&texts, "golden").unwrap();
    let golden: [(&[f32], &[f32]); 2] = [
        (&[0.067657, 0.063496, 0.048713, 0.079305, 0.037448, 0.002653], &[0.038071, 0.059965, -0.042229]),
        (&[0.086439, 0.102763, 0.005395, 0.002044, -0.009963, 0.025386], &[0.070285, 0.074931, -0.084178]),
    ];
    for (row, (head, tail)) in golden.iter().enumerate() {
        let got = &v[row * 384..(row + 1) * 384];
        for (g, w) in got.iter().zip(head.iter()) {
            assert!((g - w).abs() < 2e-4, "row {row}: {g} vs {w}");
        }
        for (g, w) in got[381..].iter().zip(tail.iter()) {
            assert!((g - w).abs() < 2e-4, "row {row}: {g} vs {w}");
        }
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}

#[test]
fn batching_and_duplicates_do_not_change_vectors() {
    let texts: Vec<String> = ["short", "a somewhat longer sentence about cats", "short", "mid length text"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let one = embedder(1).embed(&texts, "t").unwrap();
    let many = embedder(16).embed(&texts, "t").unwrap();
    for (a, b) in one.iter().zip(&many) {
        assert!((a - b).abs() < 1e-5);
    }
    assert_eq!(&one[..384], &one[2 * 384..3 * 384], "duplicates share one vector");
}

#[test]
fn a_missing_model_folder_is_named() {
    let opts = EmbedOptions::new(1).check().unwrap();
    let err = Embedder::open(Path::new("/nonexistent/model"), &opts, &Progress::hidden()).err().unwrap();
    assert_eq!(err.to_string(), "model folder /nonexistent/model does not exist");
}

#[test]
fn a_transformer_identity_covers_every_file_that_shapes_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    std::fs::create_dir(&model).unwrap();
    for f in TRANSFORMER_FILES {
        std::fs::write(model.join(f), format!("{f} contents")).unwrap();
    }
    let info_of = |dir: &Path| -> Result<ModelInfo, EmbedError> {
        let sha256 = transformer_identity(dir, MEAN_POOLING)?;
        let (kind, pooling) = (ModelKind::Transformer, Pooling::Mean);
        Ok(ModelInfo { id: "m".into(), sha256, dim: 4, max_tokens: 16, kind, pooling })
    };
    let info = info_of(&model).unwrap();
    assert_eq!(info.sha256.len(), 64);
    assert!(info.cache_file().ends_with(&format!("-e{EMBED_CODE_VERSION}.bin")), "{}", info.cache_file());
    // A file the vectors do not depend on changes nothing.
    std::fs::write(model.join("README.md"), "notes").unwrap();
    assert_eq!(info_of(&model).unwrap().sha256, info.sha256);
    for f in TRANSFORMER_FILES {
        std::fs::write(model.join(f), format!("{f} changed")).unwrap();
        let changed = info_of(&model).unwrap();
        assert_ne!(changed.sha256, info.sha256, "{f} is not in the identity");
        assert_ne!(changed.cache_file(), info.cache_file(), "{f} is not in the cache key");
        std::fs::write(model.join(f), format!("{f} contents")).unwrap();
    }
    assert_eq!(info_of(&model).unwrap().sha256, info.sha256);
    std::fs::remove_file(model.join("tokenizer_config.json")).unwrap();
    let err = info_of(&model).unwrap_err().to_string();
    // A folder of the user's is told what a folder needs, not to run setup.
    assert!(
        err.contains("lacks tokenizer_config.json") && err.contains("sentence-transformers folder"),
        "{err}"
    );
    assert!(!err.contains("setup.sh"), "{err}");
}

mod golden;
mod tiny;
