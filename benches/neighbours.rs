//! The neighbour stage alone, on the vectors of a real run: the prompt and
//! response graphs built and every vector searched against its own
//! collection (as cross-fitting does), timed, with recall@20 against exact
//! search on 2,000 sampled queries. `scripts/bench_scale.sh` runs it beside
//! faiss and hnswlib on the same vectors and threads.
//!   NB_BATTLES=s57k.csv NB_VECTORS=v57k.parquet cargo bench --bench neighbours
//! Optional: NB_K (hits per query, default 42: what cross-fitting fetches),
//! NB_EF (search breadth, default 128), NB_THREADS.

use std::collections::HashSet;
use std::time::Instant;

use knnpref::data::{read_battles, Labels};
use knnpref::search::{HnswParams, Search, VectorIndex};
use knnpref::vectors::BattleVectors;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map_or(default, |v| v.parse().expect("a number"))
}

/// Recall@20 of `index` against exact search, on `samples` rows spread
/// evenly over the collection.
fn recall(index: &VectorIndex, data: &[f32], dim: usize, samples: usize) -> f64 {
    let n = data.len() / dim;
    let step = (n / samples).max(1);
    let rows: Vec<usize> = (0..n).step_by(step).take(samples).collect();
    let queries: Vec<f32> = rows.iter().flat_map(|&r| data[r * dim..(r + 1) * dim].iter().copied()).collect();
    let exact = VectorIndex::build(data.to_vec(), dim, Search::Exact, HnswParams::default(), 1, 0);
    let truth = exact.search_many(&queries, 20);
    let found: usize = index
        .search_many(&queries, 20)
        .iter()
        .zip(&truth)
        .map(|(hits, truth)| {
            let truth: HashSet<usize> = truth.iter().map(|h| h.row).collect();
            hits.iter().filter(|h| truth.contains(&h.row)).count()
        })
        .sum();
    found as f64 / (rows.len() * 20) as f64
}

fn main() {
    let (Ok(battles), Ok(vectors)) = (std::env::var("NB_BATTLES"), std::env::var("NB_VECTORS")) else {
        eprintln!("set NB_BATTLES (a battles file) and NB_VECTORS (its vectors, knnpref embed)");
        return;
    };
    let threads = env_or("NB_THREADS", 2);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().unwrap();
    let ids: Vec<String> =
        read_battles(battles.as_ref(), Labels::Ignored).unwrap().battles.into_iter().map(|b| b.id).collect();
    let v = BattleVectors::read(vectors.as_ref()).unwrap();
    let [prompt, a, b] = v.gather(&ids).unwrap();
    let dim = v.dim;
    let mut responses = Vec::with_capacity(a.len() * 2);
    for (x, y) in a.chunks_exact(dim).zip(b.chunks_exact(dim)) {
        responses.extend_from_slice(x);
        responses.extend_from_slice(y);
    }
    let (k, ef) = (env_or("NB_K", 42), env_or("NB_EF", 128));
    let params = HnswParams { m: 16, ef_construction: 100, ef_search: ef };
    println!("{} battles, dim {dim}, {threads} threads, k {k}, ef {ef}", ids.len());
    for (name, data) in [("prompts", prompt), ("responses", responses)] {
        let n = data.len() / dim;
        let t = Instant::now();
        let index = VectorIndex::build(data.clone(), dim, Search::Hnsw, params, n, 0);
        let build = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let hits = index.search_self(k);
        let search = t.elapsed().as_secs_f64();
        assert_eq!(hits.len(), n);
        let r = recall(&index, &data, dim, 2000);
        println!("{name}: {n} vectors, build {build:.1} s, search {search:.1} s, recall@20 {r:.4}");
    }
}
