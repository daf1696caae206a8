//! Criterion benches for the hot paths: tokenising, embedding one batch,
//! neighbour search (exact and HNSW) and the head's prediction.
//! Embedding benches need `scripts/setup.sh`; they are skipped without it.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use knnpref::embed::{default_model_dir, Device, EmbedConfig, Embedder};
use knnpref::head::HeadParams;
use knnpref::index::ann::{HnswParams, Search, VectorIndex};
use knnpref::rand::{unit_vectors, SplitMix};
use ndarray::Array2;

fn texts(n: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    knnpref::synth::write_synthetic(&path, knnpref::synth::SynthParams { rows: n, seed: 9, multi_turn: 0.1 })
        .unwrap();
    let d = knnpref::data::read_battles(&path, knnpref::data::Labels::Required).unwrap();
    d.battles.iter().map(|b| b.response_a.join("\n\n")).collect()
}

fn embedding(c: &mut Criterion) {
    let model_dir = default_model_dir(false);
    if !model_dir.join("model.onnx").is_file() {
        eprintln!("skipping embedding benches: run scripts/setup.sh first");
        return;
    }
    let cfg = EmbedConfig {
        model_dir,
        threads: 2,
        batch_size: 32,
        device: Device::Cpu,
        use_cache: false,
        progress: false,
    };
    let mut embedder = Embedder::open(&cfg).unwrap();
    let raw = texts(32);
    let fitted: Vec<String> = raw.iter().map(|t| embedder.fit(std::slice::from_ref(t))).collect();
    let tokenizer = tokenizers::Tokenizer::from_file(cfg.model_dir.join("tokenizer.json")).unwrap();
    c.bench_function("tokenise 32 responses", |b| {
        b.iter(|| fitted.iter().map(|t| tokenizer.encode(t.as_str(), true).unwrap().len()).sum::<usize>())
    });
    let mut group = c.benchmark_group("embed");
    group.sample_size(10);
    group.bench_function("32 responses (256 tokens)", |b| {
        b.iter(|| embedder.embed(&fitted, "bench").unwrap())
    });
    group.finish();
}

fn search(c: &mut Criterion) {
    let (n, dim) = (20_000, 384);
    let data = unit_vectors(n, dim, 1);
    let queries = unit_vectors(256, dim, 2);
    let exact = VectorIndex::build(data.clone(), dim, Search::Exact, HnswParams::default());
    let mut group = c.benchmark_group("search 20k x 384, k=20");
    group.sample_size(10);
    group.bench_function("exact, 256 queries", |b| b.iter(|| exact.search_many(&queries, 20)));
    let hnsw = VectorIndex::build(data, dim, Search::Hnsw, HnswParams::default());
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
