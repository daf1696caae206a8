//! ONNX graphs with and without a `token_type_ids` input, through knnpref's
//! own tokenising, batching and pooling: the committed four-dimensional
//! fixtures of `scripts/tiny_encoder.py`, whose vectors follow a formula and
//! are checked here by hand.

use super::*;

const WORDS: [&str; 13] =
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far"];

/// The fixture's token table, as the script writes it.
fn row(token: usize, with_types: bool) -> [f64; 4] {
    std::array::from_fn(|j| {
        let base = ((7 * token + 3 * j) % 11) as f64 - 5.0;
        base / 4.0 + if with_types { (j as f64 + 1.0) / 8.0 } else { 0.0 }
    })
}

/// Mean of the rows of `[CLS] words [SEP]`, L2-normalised.
fn expected(text: &str, with_types: bool) -> [f64; 4] {
    let ids = std::iter::once(2)
        .chain(
            text.split_whitespace().map(|w| WORDS.iter().position(|v| *v == w.to_lowercase()).unwrap_or(1)),
        )
        .chain(std::iter::once(3));
    let (mut sum, mut n) = ([0.0; 4], 0.0);
    for id in ids {
        sum.iter_mut().zip(row(id, with_types)).for_each(|(s, r)| *s += r);
        n += 1.0;
    }
    let mean = sum.map(|s| s / n);
    let norm = mean.iter().map(|m| m * m).sum::<f64>().sqrt();
    mean.map(|m| m / norm)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-encoder").join(name)
}

#[test]
fn graphs_with_and_without_token_type_ids_pool_as_computed_by_hand() {
    // Lengths differ within a batch, so padding is exercised; "zebra" is unknown.
    let texts: Vec<String> = ["the cat sat on a mat", "dog", "a dog ran far", "The zebra sat"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let opts = EmbedOptions { batch_size: 3, use_cache: false, ..EmbedOptions::new(1) }.check().unwrap();
    let mut seen = Vec::new();
    for (name, with_types) in [("with-types", true), ("without-types", false)] {
        let mut embedder = Embedder::open(&fixture(name), &opts, &Progress::hidden()).unwrap();
        assert_eq!((embedder.info().dim, embedder.info().max_tokens), (4, 16));
        let got = embedder.embed(&texts, "tiny").unwrap();
        for (text, v) in texts.iter().zip(got.chunks(4)) {
            let want = expected(text, with_types);
            for (g, w) in v.iter().zip(want) {
                assert!((*g as f64 - w).abs() < 1e-6, "{name} {text:?}: got {v:?}, want {want:?}");
            }
        }
        seen.push(got);
    }
    assert_ne!(seen[0], seen[1], "the token-type rows must reach the vectors of the with-types graph");
}
