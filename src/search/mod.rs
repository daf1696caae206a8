//! Nearest-neighbour search over unit vectors: exact, or HNSW.
//!
//! It sits below everything that looks neighbours up (the neighbour features,
//! the model, `similar`), and knows nothing of battles: rows are just rows.
//!
//! Exact search is tiled matrix products with a running top-k (`exact`);
//! HNSW pays for building its graph only when enough queries follow.
//! `Search::Auto` weighs both: the collection's size and how many queries
//! the caller will make (see [`Search::uses_hnsw`]), so a handful of
//! queries (`similar`) is always answered exactly.
//! The HNSW graph is knnpref's own (`hnsw`): built in parallel batches and
//! the same graph whatever the thread count, its levels drawn from the
//! fit's seed; `kernel` is the dot product its steps compute.

mod exact;
mod hit;
mod hnsw;
mod kernel;

use rayon::prelude::*;

use hnsw::Graph;

pub use hit::{dot, Hit};

/// HNSW build and search parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HnswParams {
    /// Links per node above the ground layer (twice as many on it).
    pub m: usize,
    /// Candidate list size while inserting (higher: better graph, slower build).
    pub ef_construction: usize,
    /// Candidate list size while searching (higher: better recall, slower search).
    pub ef_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams { m: 16, ef_construction: 100, ef_search: 128 }
    }
}

/// Which search to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Search {
    /// Exact unless the collection and the queries are both large (see
    /// [`Search::uses_hnsw`]).
    #[default]
    Auto,
    /// Dot product against every vector.
    Exact,
    /// Approximate search in an HNSW graph.
    Hnsw,
}

/// With as many queries as vectors (as cross-fitting does), collections
/// smaller than this are searched exactly under `Search::Auto`.
/// Extrapolated, not measured at this size, and from before exact search
/// was tiled: `benches/ann.rs` measured exact
/// 5.8 s vs HNSW build + search 46 s at 20k vectors and 43 s vs 145 s at 60k.
/// Exact costs about 1.2e-8 s per query and vector (q·n), HNSW about 1.2 ms
/// per vector inserted or query searched (n + q) at these sizes, so with
/// q = n they cross near 2·(1.2e-3 / 1.2e-8) = 200k.
/// Measured since (README, "Growing an index"): at 57k, exact 7.6e-9 s per
/// pair computed and HNSW 0.85 ms per insert plus 1.24 ms per search, on one
/// core; at 500k battles 1.8 ms per insert (one thread) and 2.5 ms per search.
/// By those the crossover lay near a million vectors on 2 cores with the
/// hnsw_rs graph. With knnpref's own graph (`scripts/bench_scale.sh`: 64.8 s
/// at 57k and 310 s at 200k for both graphs built and self-searched, against
/// exact look-ups of 34.6 s at 57k growing as n²) it lies near 130k, so this
/// now errs toward exact search; left as it is until the choice is measured
/// on out-of-fold loss too (issue 29).
pub const EXACT_BELOW: usize = 200_000;

impl Search {
    /// Whether a collection of `vectors` searched by `queries` queries goes
    /// through an HNSW graph. `Auto` follows the cost model of
    /// [`EXACT_BELOW`]: HNSW when q·n·a > (n + q)·b, i.e. when the harmonic
    /// mean 2qn / (n + q) of the two counts reaches `EXACT_BELOW`. With
    /// q = n that is n ≥ 200k; fewer than 100k queries never build a graph,
    /// whatever the size (the harmonic mean is below 2q).
    pub fn uses_hnsw(self, vectors: usize, queries: usize) -> bool {
        match self {
            Search::Exact => false,
            Search::Hnsw => true,
            Search::Auto => {
                let (n, q) = (vectors as u128, queries as u128);
                n > 0 && q > 0 && 2 * q * n >= EXACT_BELOW as u128 * (n + q)
            }
        }
    }
}

/// A searchable collection of unit vectors, with an HNSW graph when the
/// collection is large (or when asked for).
pub struct VectorIndex {
    dim: usize,
    data: Vec<f32>,
    hnsw: Option<(Graph, HnswParams)>,
}

impl VectorIndex {
    /// Index row-major unit vectors of dimension `dim`, for about `queries`
    /// queries (which `Search::Auto` weighs against the graph's cost); a
    /// graph's levels are drawn from `seed`.
    pub fn build(
        data: Vec<f32>,
        dim: usize,
        search: Search,
        params: HnswParams,
        queries: usize,
        seed: u64,
    ) -> VectorIndex {
        let n = data.len().checked_div(dim).unwrap_or(0);
        let hnsw = search
            .uses_hnsw(n, queries)
            .then(|| (Graph::build(&data, dim, params.m, params.ef_construction, seed), params));
        VectorIndex { dim, data, hnsw }
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// The vectors, row-major.
    pub fn vectors(&self) -> &[f32] {
        &self.data
    }

    /// True when there are no vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when searches go through the HNSW graph.
    pub fn is_hnsw(&self) -> bool {
        self.hnsw.is_some()
    }

    /// The `k` most similar rows to `query`, most similar first.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<Hit> {
        let k = k.min(self.len());
        if k == 0 {
            return Vec::new();
        }
        match &self.hnsw {
            Some((g, p)) => g.search(&self.data, query, k, p.ef_search),
            None => self.exact(query, k),
        }
    }

    /// Exact top-k by dot product.
    pub fn exact(&self, query: &[f32], k: usize) -> Vec<Hit> {
        exact::top_k(&self.data, self.dim, query, k).pop().unwrap_or_default()
    }

    /// Search many queries in parallel (exact search in tiled blocks of
    /// queries, see `exact`).
    pub fn search_many(&self, queries: &[f32], k: usize) -> Vec<Vec<Hit>> {
        match self.hnsw {
            Some(_) => queries.par_chunks_exact(self.dim).map(|q| self.search(q, k)).collect(),
            None => exact::top_k(&self.data, self.dim, queries, k),
        }
    }

    /// The `k` most similar rows to each row of the collection itself
    /// (itself included), in row order: what `search_many` over the
    /// collection's own vectors returns, at half the arithmetic when exact.
    pub fn search_self(&self, k: usize) -> Vec<Vec<Hit>> {
        match self.hnsw {
            Some(_) => self.search_many(&self.data, k),
            None => exact::top_k_self(&self.data, self.dim, k),
        }
    }

    /// Change the HNSW search breadth (no effect on exact search).
    pub fn set_ef_search(&mut self, ef: usize) {
        if let Some((_, p)) = &mut self.hnsw {
            p.ef_search = ef;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_finds_itself_first() {
        let data = crate::rand::unit_vectors(200, 16, 1);
        let idx = VectorIndex::build(data.clone(), 16, Search::Exact, HnswParams::default(), 1, 0);
        for row in [0, 57, 199] {
            let hits = idx.search(&data[row * 16..(row + 1) * 16], 5);
            assert_eq!(hits[0].row, row);
            assert!((hits[0].sim - 1.0).abs() < 1e-5);
            assert!(hits.windows(2).all(|w| w[0].sim >= w[1].sim));
        }
    }

    #[test]
    fn batched_exact_search_matches_one_by_one_dot_products() {
        let dim = 24;
        let data = crate::rand::unit_vectors(500, dim, 4);
        let queries = crate::rand::unit_vectors(130, dim, 5);
        let idx = VectorIndex::build(data.clone(), dim, Search::Exact, HnswParams::default(), 1, 0);
        let many = idx.search_many(&queries, 7);
        assert_eq!(many.len(), 130);
        for (q, hits) in queries.chunks_exact(dim).zip(&many) {
            let mut want: Vec<(usize, f32)> = data.chunks_exact(dim).map(|v| dot(q, v)).enumerate().collect();
            want.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (h, w) in hits.iter().zip(&want) {
                assert_eq!(h.row, w.0);
                assert!((h.sim - w.1).abs() < 1e-5);
            }
            assert_eq!(&idx.search(q, 7), hits, "one query alone gives the same hits");
        }
    }

    #[test]
    fn hnsw_recall_against_brute_force() {
        let dim = 32;
        let data = crate::rand::unit_vectors(3000, dim, 7);
        let queries = crate::rand::unit_vectors(100, dim, 8);
        let idx = VectorIndex::build(data, dim, Search::Hnsw, HnswParams::default(), 1, 0);
        assert!(idx.is_hnsw());
        let k = 10;
        let mut found = 0;
        for q in queries.chunks_exact(dim) {
            let truth: std::collections::HashSet<usize> = idx.exact(q, k).iter().map(|h| h.row).collect();
            found += idx.search(q, k).iter().filter(|h| truth.contains(&h.row)).count();
        }
        let recall = found as f64 / (100 * k) as f64;
        assert!(recall >= 0.95, "recall@10 = {recall}");
    }

    #[test]
    fn auto_builds_a_graph_only_for_many_queries_over_many_vectors() {
        let auto = |n, q| Search::Auto.uses_hnsw(n, q);
        // As many queries as vectors (cross-fitting): the size threshold.
        assert!(!auto(EXACT_BELOW - 1, EXACT_BELOW - 1));
        assert!(auto(EXACT_BELOW, EXACT_BELOW));
        // A handful of queries (`similar`, a small `predict`) never builds one.
        for n in [1_000, EXACT_BELOW, 10_000_000, usize::MAX / 4] {
            assert!(!auto(n, 1) && !auto(n, 10) && !auto(n, 5_000), "{n} vectors");
        }
        assert!(!auto(0, 0) && !auto(1_000_000, 0));
        // Many queries over a large collection do.
        assert!(auto(1_000_000, 150_000));
        assert!(!auto(1_000_000, 100_000), "below the harmonic-mean threshold");
        // Forced choices ignore the counts.
        assert!(Search::Hnsw.uses_hnsw(10, 1) && !Search::Exact.uses_hnsw(10_000_000, 10_000_000));
        let data = crate::rand::unit_vectors(50, 8, 2);
        assert!(!VectorIndex::build(data.clone(), 8, Search::Auto, HnswParams::default(), 50, 0).is_hnsw());
        assert!(VectorIndex::build(data, 8, Search::Hnsw, HnswParams::default(), 1, 0).is_hnsw());
    }

    #[test]
    fn hnsw_build_is_deterministic() {
        let dim = 16;
        let data = crate::rand::unit_vectors(1500, dim, 3);
        let a = VectorIndex::build(data.clone(), dim, Search::Hnsw, HnswParams::default(), 1, 0);
        let b = VectorIndex::build(data.clone(), dim, Search::Hnsw, HnswParams::default(), 1, 0);
        for q in data.chunks_exact(dim).take(50) {
            assert_eq!(a.search(q, 8), b.search(q, 8));
        }
    }
}
