//! Criterion benches for the hot paths: tokenising, embedding one batch,
//! neighbour search (exact and HNSW) and the head's prediction.
//! Embedding benches need `scripts/setup.sh`; they are skipped without it.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use knnpref::embed::{default_model_dir, EmbedOptions, Embedder};
use knnpref::model::head::HeadParams;
use knnpref::rand::{unit_vectors, SplitMix};
use knnpref::search::{HnswParams, Search, VectorIndex};
use ndarray::Array2;

fn texts(n: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    knnpref::synth::write_synthetic(&path, knnpref::synth::SynthParams { rows: n, seed: 9, multi_turn: 0.1 })
        .unwrap();
    let d = knnpref::data::read_battles(&path, knnpref::data::Labels::Required).unwrap();
    d.battles.iter().map(|b| b.response_a.join("\n\n")).collect()
}

/// Token ids and attention mask of `texts`, padded to the longest.
fn padded_batch(tok: &tokenizers::Tokenizer, texts: &[String]) -> (Array2<i64>, Array2<i64>) {
    let enc: Vec<_> = texts.iter().map(|t| tok.encode(t.as_str(), true).unwrap()).collect();
    let len = enc.iter().map(|e| e.len().min(256)).max().unwrap_or(1);
    let mut ids = Array2::<i64>::zeros((texts.len(), len));
    let mut mask = Array2::<i64>::zeros((texts.len(), len));
    for (r, e) in enc.iter().enumerate() {
        for (c, &id) in e.get_ids().iter().take(len).enumerate() {
            ids[[r, c]] = id as i64;
            mask[[r, c]] = 1;
        }
    }
    (ids, mask)
}

fn embedding(c: &mut Criterion) {
    let model_dir = default_model_dir(false);
    if !model_dir.join("model.onnx").is_file() {
        eprintln!("skipping embedding benches: run scripts/setup.sh first");
        return;
    }
    let opts = EmbedOptions { sessions: 1, batch_size: 32, use_cache: false, ..EmbedOptions::new(2) };
    let mut embedder =
        Embedder::open(&model_dir, &opts.check().unwrap(), &knnpref::progress::Progress::hidden()).unwrap();
    let raw = texts(32);
    let fitted: Vec<String> = raw.iter().map(|t| embedder.fit(std::slice::from_ref(t))).collect();
    // tokenizer.json truncates and pads to 128 tokens; knnpref feeds up to 256, unpadded.
    let mut tokenizer = tokenizers::Tokenizer::from_file(model_dir.join("tokenizer.json")).unwrap();
    tokenizer.with_truncation(None).unwrap();
    tokenizer.with_padding(None);
    c.bench_function("tokenise 32 responses", |b| {
        b.iter(|| fitted.iter().map(|t| tokenizer.encode(t.as_str(), true).unwrap().len()).sum::<usize>())
    });
    let mut group = c.benchmark_group("embed 32 responses");
    group.sample_size(10);
    group.bench_function("knnpref", |b| b.iter(|| embedder.embed(&fitted, "bench").unwrap()));
    // The ceiling: ONNX Runtime alone on the same token batch, no tokenising or pooling.
    let (ids, mask) = padded_batch(&tokenizer, &fitted);
    let env = knnpref::embed::environment().unwrap();
    let mut session = ort::session::Session::builder(&env)
        .unwrap()
        .with_intra_threads(2)
        .unwrap()
        .commit_from_file(model_dir.join("model.onnx"))
        .unwrap();
    group.bench_function("raw onnxruntime", |b| {
        b.iter(|| {
            let inputs = ort::inputs![
                "input_ids" => ort::value::Value::from_array(ids.clone()).unwrap(),
                "attention_mask" => ort::value::Value::from_array(mask.clone()).unwrap(),
                "token_type_ids" => ort::value::Value::from_array(Array2::<i64>::zeros(ids.dim())).unwrap(),
            ];
            session.run(inputs).unwrap().len()
        })
    });
    group.finish();
    let real: usize = mask.iter().filter(|&&m| m == 1).count();
    eprintln!("batch: {} texts, {} real tokens, {} padded slots", fitted.len(), real, mask.len());
}

fn search(c: &mut Criterion) {
    let (n, dim) = (20_000, 384);
    let data = unit_vectors(n, dim, 1);
    let queries = unit_vectors(256, dim, 2);
    let exact = VectorIndex::build(data.clone(), dim, Search::Exact, HnswParams::default(), 1, 0);
    let mut group = c.benchmark_group("search 20k x 384, k=20");
    group.sample_size(10);
    group.bench_function("exact, 256 queries", |b| b.iter(|| exact.search_many(&queries, 20)));
    let hnsw = VectorIndex::build(data, dim, Search::Hnsw, HnswParams::default(), 1, 0);
    group.bench_function("hnsw, 256 queries", |b| b.iter(|| hnsw.search_many(&queries, 20)));
    group.finish();
}

fn head(c: &mut Criterion) {
    let (n, d) = (1000, 420);
    let mut rng = SplitMix::new(3);
    let x = Array2::from_shape_fn((n, d), |_| rng.normal());
    let xs = x.mapv(|v| -v);
    let y: Vec<knnpref::data::Label> = (0..n).map(|i| knnpref::data::Label::from_index(i % 3)).collect();
    let params = HeadParams { lambda: 0.1, emb_scale: 0.3, scalar_len: 36, max_iter: 50 };
    let fitted = params.fit(x.view(), xs.view(), &y).unwrap();
    c.bench_function("head predict 1000 battles", |b| {
        b.iter_batched(|| (), |_| fitted.predict_proba(x.view(), xs.view()), BatchSize::SmallInput)
    });
}

criterion_group!(benches, embedding, search, head);
criterion_main!(benches);
