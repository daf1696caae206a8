use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};

use super::*;

const TINY_TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
    "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
    "model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1,"world":2,"foo":3,"bar":4},"unk_token":"[UNK]"}}"#;

/// Rows of the tiny model, all exact in f16.
const TINY_ROWS: [[f32; 2]; 5] = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-2.0, 0.5]];

fn le_bytes<T: Copy, const N: usize>(values: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

/// A model2vec folder with the 5-token WordLevel tokenizer and the given tensors.
fn folder(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)], config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let views: HashMap<String, TensorView<'_>> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            (name.to_string(), TensorView::new(*dtype, shape.clone(), data).unwrap())
        })
        .collect();
    std::fs::write(dir.path().join(SAFETENSORS), safetensors::serialize(views, None).unwrap()).unwrap();
    std::fs::write(dir.path().join(TOKENIZER), TINY_TOKENIZER).unwrap();
    std::fs::write(dir.path().join(CONFIG), config).unwrap();
    dir
}

fn tiny_f16() -> tempfile::TempDir {
    let halves: Vec<half::f16> = TINY_ROWS.iter().flatten().map(|&x| half::f16::from_f32(x)).collect();
    folder(
        &[("embeddings", Dtype::F16, vec![5, 2], le_bytes(&halves, half::f16::to_le_bytes))],
        r#"{"model_type":"model2vec","hidden_dim":2,"normalize":true}"#,
    )
}

fn t(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn encode(model: &StaticModel, text: &[&str], max_tokens: usize) -> Vec<f32> {
    let turns = t(text);
    model.encode_turns(&[turns.as_slice()], max_tokens)
}

fn close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

#[test]
fn tiny_f16_model_encodes_golden_vectors() {
    let dir = tiny_f16();
    let m = StaticModel::load(dir.path()).unwrap();
    assert_eq!((m.dim(), m.rows()), (2, 5));
    assert_eq!(m.sha256().len(), 64);
    let h = std::f32::consts::FRAC_1_SQRT_2;
    // mean((1,0),(0,1)) = (.5,.5) → (1/√2, 1/√2)
    close(&encode(&m, &["hello world"], 16), &[h, h]);
    // mean((1,0),(1,1),(-2,.5)) = (0,.5) → (0,1)
    close(&encode(&m, &["hello foo bar"], 16), &[0.0, 1.0]);
    // The unknown token is left out of the mean, as model2vec does.
    close(&encode(&m, &["hello zzz"], 16), &[1.0, 0.0]);
    // Nothing known, an empty turn, no turns: zero vectors.
    close(&encode(&m, &["zzz"], 16), &[0.0, 0.0]);
    close(&encode(&m, &[""], 16), &[0.0, 0.0]);
    close(&encode(&m, &[], 16), &[0.0, 0.0]);
    // Budget 4: the last turn whole (hello world world), then `bar` from the
    // end of the first: mean((-2,.5),(1,0),(0,1),(0,1)) = (-1, 2.5)/4.
    let n = (1.0f32 + 2.5 * 2.5).sqrt();
    close(&encode(&m, &["foo bar", "hello world world"], 4), &[-1.0 / n, 2.5 / n]);
    // Budget 2: the last turn's start only.
    close(&encode(&m, &["foo bar", "hello world world"], 2), &[h, h]);
    close(&encode(&m, &["foo bar"], 0), &[0.0, 0.0]);
}

#[test]
fn budget_applies_to_token_ids() {
    let dir = tiny_f16();
    let m = StaticModel::load(dir.path()).unwrap();
    let turns = t(&["foo bar hello", "world foo", "bar hello world foo"]);
    assert_eq!(m.fit_ids(&turns, 100), vec![3, 4, 1, 2, 3, 4, 1, 2, 3]);
    assert_eq!(m.fit_ids(&turns, 6), vec![2, 3, 4, 1, 2, 3]);
    assert_eq!(m.fit_ids(&turns, 3), vec![4, 1, 2]);
}

#[test]
fn weights_and_mapping_are_applied() {
    // Three rows shared by five token ids; `weights` scales per token id.
    let rows: Vec<f32> = vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    let mapping: Vec<i64> = vec![0, 1, 2, 1, 2];
    let weights: Vec<f64> = vec![1.0, 1.0, 1.0, 3.0, 0.5];
    let dir = folder(
        &[
            ("embeddings", Dtype::F32, vec![3, 2], le_bytes(&rows, f32::to_le_bytes)),
            ("mapping", Dtype::I64, vec![5], le_bytes(&mapping, i64::to_le_bytes)),
            ("weights", Dtype::F64, vec![5], le_bytes(&weights, f64::to_le_bytes)),
        ],
        r#"{"model_type":"model2vec","normalize":true}"#,
    );
    let m = StaticModel::load(dir.path()).unwrap();
    assert_eq!((m.dim(), m.rows()), (2, 3));
    // foo → row 1 × 3 = (3,0); bar → row 2 × .5 = (0,.5); mean (1.5,.25).
    let n = (1.5f32 * 1.5 + 0.25 * 0.25).sqrt();
    close(&encode(&m, &["foo bar"], 8), &[1.5 / n, 0.25 / n]);
}

#[test]
fn bad_folders_say_what_is_wrong() {
    let dir = tiny_f16();
    std::fs::write(dir.path().join(CONFIG), r#"{"model_type":"model2vec","hidden_dim":7}"#).unwrap();
    let err = StaticModel::load(dir.path()).err().unwrap();
    assert!(err.to_string().contains("hidden_dim 7"), "{err}");
    std::fs::remove_file(dir.path().join(CONFIG)).unwrap();
    assert!(matches!(StaticModel::load(dir.path()), Err(StaticError::Missing { file: CONFIG, .. })));
    let other = folder(&[("table", Dtype::F32, vec![1, 1], vec![0; 4])], r#"{"model_type":"model2vec"}"#);
    let err = StaticModel::load(other.path()).err().unwrap();
    assert!(err.to_string().contains("found: table"), "{err}");
    let ints =
        folder(&[("embeddings", Dtype::I32, vec![5, 1], vec![0; 20])], r#"{"model_type":"model2vec"}"#);
    assert!(matches!(StaticModel::load(ints.path()), Err(StaticError::Dtype { .. })));
}

/// The provisioned MiniLM tokenizer over a made-up 30,522 × 8 table: real
/// tokenisation without distilling.
fn minilm_tokenizer_folder() -> tempfile::TempDir {
    let src = crate::embed::default_model_dir(false).join(TOKENIZER);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&src, dir.path().join(TOKENIZER)).expect("the model is provisioned by scripts/setup.sh");
    let (rows, dim) = (30522usize, 8usize);
    let table: Vec<f32> = (0..rows * dim).map(|i| ((i as f32) * 0.618).sin()).collect();
    std::fs::write(dir.path().join(SAFETENSORS), f32_safetensors("embeddings", rows, dim, &table)).unwrap();
    std::fs::write(dir.path().join(CONFIG), r#"{"model_type":"model2vec","hidden_dim":8}"#).unwrap();
    dir
}

fn texts() -> Vec<Vec<String>> {
    (0..200)
        .map(|i| {
            let body =
                format!("Answer {i}: the quick brown fox, naïvely jumping — {}", "over dogs ".repeat(i % 40));
            if i % 3 == 0 {
                vec![format!("question {i}?"), body]
            } else {
                vec![body]
            }
        })
        .collect()
}

#[test]
fn encoding_is_deterministic_and_thread_count_free() {
    let dir = minilm_tokenizer_folder();
    let m = StaticModel::load(dir.path()).unwrap();
    let owned = texts();
    let turns: Vec<&[String]> = owned.iter().map(|t| t.as_slice()).collect();
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| m.encode_turns(&turns, 64))
    };
    let (one, two, again) = (on(1), on(2), on(2));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one), bits(&two));
    assert_eq!(bits(&two), bits(&again));
    for row in one.chunks(8) {
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }
    // Identical texts, identical vectors.
    let same = m.encode_turns(&[turns[5], turns[7], turns[5]], 64);
    assert_eq!(bits(&same[..8]), bits(&same[16..]));
    assert_eq!(bits(&same[..8]), bits(&one[5 * 8..6 * 8]));
}

#[test]
fn long_texts_cost_at_most_the_budget() {
    let dir = minilm_tokenizer_folder();
    let m = StaticModel::load(dir.path()).unwrap();
    let words: String = (0..10_000).map(|i| format!("word{i} ")).collect();
    for budget in [1, 64, 256] {
        assert_eq!(m.fit_ids(std::slice::from_ref(&words), budget).len(), budget);
        assert_eq!(m.fit_ids(&[words.clone(), words.clone()], budget).len(), budget);
    }
    // The small first window gives the same ids as tokenising everything.
    let all = m.tokenizer().encode(words.as_str(), false).unwrap().get_ids().to_vec();
    assert_eq!(m.fit_ids(std::slice::from_ref(&words), 200), all[..200]);
    assert_eq!(m.fit_ids(&[words.clone(), String::new()], 200), all[all.len() - 200..]);
    // A 1 MB turn is pre-cut by characters before tokenising.
    let huge = "é ".repeat(500_000);
    assert_eq!(m.fit_ids(&[huge], 4).len(), 4);
    let v = m.encode_turns(&[&[words][..], &[String::new()][..], &[][..]], 256);
    assert!(v[..8].iter().any(|&x| x != 0.0));
    assert!(v[8..].iter().all(|&x| x == 0.0), "empty texts give zero vectors");
}

#[test]
fn budget_matches_the_transformer_fit_on_whole_words() {
    let dir = minilm_tokenizer_folder();
    let m = StaticModel::load(dir.path()).unwrap();
    let turns = t(&["the cat sat on the mat and then it sat again", "a dog ran to the park", "yes it did"]);
    for budget in [2, 5, 9, 14, 40] {
        let fitted = crate::embed::fit_turns(m.tokenizer(), &turns, budget);
        let want = m.tokenizer().encode(fitted.as_str(), false).unwrap().get_ids().to_vec();
        assert_eq!(m.fit_ids(&turns, budget), want, "budget {budget}");
    }
}
