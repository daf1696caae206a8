//! Choosing HNSW parameters and the exact/HNSW switch by measurement.
//!
//! Part 1, recall on real embeddings: the unique prompt and response vectors
//! of `../shared/data/arena-sample/train.csv` (embedded through the cache,
//! so a warm cache makes this fast). Every 10th vector is a query, the rest
//! are indexed; recall@k is the share of the exact top-k that HNSW returns,
//! for a grid of M, ef_construction and ef_search.
//!
//! Part 2, speed by size: exact search against HNSW build + search, for as
//! many queries as rows (as cross-fitting does), with recall. The rows are
//! real vectors plus Gaussian noise (cosine about 0.8 to their source), so
//! the collection keeps the clustered shape of real embeddings at sizes the
//! sample does not reach; without the sample, random unit vectors (no
//! structure, the hardest case for HNSW).
//!   cargo bench --bench ann
//!   ANN_SIZES=20000,60000 ANN_PARTS=1,2 cargo bench --bench ann

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use knnpref::data::{read_battles, Labels};
use knnpref::embed::{default_model_dir, EmbedOptions, Embedder};
use knnpref::rand::{unit_vectors, SplitMix};
use knnpref::search::{HnswParams, Search, VectorIndex};

const DIM: usize = 384;

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().parse().expect("a comma-separated list of numbers"))
        .collect()
}

fn real_vectors() -> Option<Vec<f32>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/arena-sample/train.csv");
    if !path.is_file() || !default_model_dir(false).join("model.onnx").is_file() {
        eprintln!("part 1 skipped: needs ../shared/data/arena-sample/train.csv and scripts/setup.sh");
        return None;
    }
    let data = read_battles(&path, Labels::Required).unwrap();
    let opts = EmbedOptions { sessions: 1, batch_size: 32, ..EmbedOptions::new(2) };
    let mut e = Embedder::open(
        &default_model_dir(false),
        &opts.check().unwrap(),
        &knnpref::progress::Progress::terminal(),
    )
    .unwrap();
    let mut turns: Vec<&[String]> = Vec::new();
    for b in &data.battles {
        turns.extend([b.prompt.as_slice(), b.response_a.as_slice(), b.response_b.as_slice()]);
    }
    let mut texts = e.fit_many(&turns);
    texts.sort();
    texts.dedup();
    Some(e.embed(&texts, "ann bench").unwrap())
}

/// Mean recall@k of `index` against exact search over the same vectors.
fn recall(index: &VectorIndex, exact: &[Vec<usize>], queries: &[f32], k: usize) -> f64 {
    let found: usize = index
        .search_many(queries, k)
        .iter()
        .zip(exact)
        .map(|(hits, truth)| {
            let truth: HashSet<usize> = truth.iter().copied().collect();
            hits.iter().filter(|h| truth.contains(&h.row)).count()
        })
        .sum();
    found as f64 / (exact.len() * k) as f64
}

fn truth(data: &[f32], queries: &[f32], k: usize) -> Vec<Vec<usize>> {
    let exact = VectorIndex::build(data.to_vec(), DIM, Search::Exact, HnswParams::default(), 1, 0);
    exact.search_many(queries, k).into_iter().map(|h| h.into_iter().map(|h| h.row).collect()).collect()
}

fn part1(k: usize, real: Option<&Vec<f32>>) {
    let Some(all) = real else { return };
    let (mut data, mut queries) = (Vec::new(), Vec::new());
    for (i, v) in all.chunks_exact(DIM).enumerate() {
        if i % 10 == 0 {
            queries.extend_from_slice(v)
        } else {
            data.extend_from_slice(v)
        }
    }
    let (n, q) = (data.len() / DIM, queries.len() / DIM);
    println!("part 1: real embeddings, {n} indexed, {q} queries, recall@{k}");
    println!("{:>4} {:>6} {:>6} {:>9} {:>9} {:>9}", "M", "efC", "ef", "build s", "search s", "recall");
    let exact = truth(&data, &queries, k);
    for m in env_list("ANN_M", "8,16,24") {
        for ef_construction in env_list("ANN_EFC", "100,200") {
            let started = Instant::now();
            let p = HnswParams { m, ef_construction, ef_search: 0 };
            let mut index = VectorIndex::build(data.clone(), DIM, Search::Hnsw, p, 1, 0);
            let build = started.elapsed().as_secs_f64();
            for ef_search in env_list("ANN_EF", "32,64,128,256") {
                index.set_ef_search(ef_search);
                let started = Instant::now();
                let r = recall(&index, &exact, &queries, k);
                let search = started.elapsed().as_secs_f64();
                println!("{m:>4} {ef_construction:>6} {ef_search:>6} {build:>9.2} {search:>9.3} {r:>9.4}");
            }
        }
    }
}

/// `n` vectors near randomly chosen real ones (or random unit vectors).
fn scaled(real: Option<&Vec<f32>>, n: usize, seed: u64) -> Vec<f32> {
    let Some(real) = real else { return unit_vectors(n, DIM, seed) };
    let mut rng = SplitMix::new(seed);
    let sources = real.len() / DIM;
    let mut out = Vec::with_capacity(n * DIM);
    for _ in 0..n {
        let src = &real[rng.below(sources) * DIM..][..DIM];
        let v: Vec<f32> = src.iter().map(|x| x + 0.038 * rng.normal() as f32).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(v.iter().map(|x| x / norm));
    }
    out
}

fn part2(k: usize, real: Option<&Vec<f32>>) {
    let what = if real.is_some() { "real vectors + noise" } else { "random unit vectors" };
    println!("part 2: {what}, queries = rows, k = {k}, HNSW {:?}", HnswParams::default());
    println!(
        "{:>7} {:>10} {:>11} {:>12} {:>9} {:>12}",
        "rows", "exact s", "hnsw build", "hnsw search", "recall", "hnsw total"
    );
    for n in env_list("ANN_SIZES", "20000,60000") {
        let data = scaled(real, n, 11);
        let queries = scaled(real, n, 12);
        let started = Instant::now();
        let exact = truth(&data, &queries, k);
        let exact_s = started.elapsed().as_secs_f64();
        eprintln!("  {n} rows: exact search {exact_s:.2} s");
        let started = Instant::now();
        let index = VectorIndex::build(data, DIM, Search::Hnsw, HnswParams::default(), 1, 0);
        let build = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let r = recall(&index, &exact, &queries, k);
        let search = started.elapsed().as_secs_f64();
        println!("{n:>7} {exact_s:>10.2} {build:>11.2} {search:>12.2} {r:>9.4} {:>12.2}", build + search);
    }
}

fn main() {
    let k = env_list("ANN_K", "20")[0];
    let parts = env_list("ANN_PARTS", "1,2");
    let real = real_vectors();
    if parts.contains(&1) {
        part1(k, real.as_ref());
    }
    if parts.contains(&2) {
        part2(k, real.as_ref());
    }
}
