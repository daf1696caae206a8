//! Nearest-neighbour search over unit vectors: exact, or HNSW (hnsw_rs).
//!
//! Exact search is a dot product against every row and is faster than HNSW
//! for small collections; `Search::Auto` picks it below a size threshold.
//! HNSW points are inserted one by one in row order, and hnsw_rs draws levels
//! from a fixed internal seed, so the graph is the same on every build.

use hnsw_rs::prelude::{DistDot, Hnsw};
use rayon::prelude::*;

/// HNSW build and search parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HnswParams {
    /// Links per node (hnsw_rs `max_nb_connection`).
    pub m: usize,
    pub ef_construction: usize,
    pub ef_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams { m: 16, ef_construction: 200, ef_search: 128 }
    }
}

/// Which search to use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Search {
    /// Exact below 20,000 vectors, HNSW above.
    #[default]
    Auto,
    /// Dot product against every vector.
    Exact,
    /// Approximate search in an HNSW graph (hnsw_rs).
    Hnsw,
}

/// Collections smaller than this are searched exactly under `Search::Auto`.
pub const EXACT_BELOW: usize = 20_000;

/// One neighbour: the row in the collection and its cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub row: usize,
    pub sim: f32,
}

pub struct VectorIndex {
    dim: usize,
    data: Vec<f32>,
    hnsw: Option<(Hnsw<'static, f32, DistDot>, HnswParams)>,
}

impl VectorIndex {
    /// Index row-major unit vectors of dimension `dim`.
    pub fn build(data: Vec<f32>, dim: usize, search: Search, params: HnswParams) -> VectorIndex {
        let n = data.len().checked_div(dim).unwrap_or(0);
        let use_hnsw = match search {
            Search::Exact => false,
            Search::Hnsw => true,
            Search::Auto => n >= EXACT_BELOW,
        };
        let hnsw = use_hnsw.then(|| {
            let layers = 16.min((n.max(2) as f64).ln().ceil() as usize).max(1);
            let h = Hnsw::new(params.m, n.max(1), layers, params.ef_construction, DistDot);
            for (row, v) in data.chunks_exact(dim).enumerate() {
                h.insert_slice((v, row));
            }
            (h, params)
        });
        VectorIndex { dim, data, hnsw }
    }

    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

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
            Some((h, p)) => {
                let mut hits: Vec<Hit> = h
                    .search(query, k, p.ef_search.max(k))
                    .into_iter()
                    .map(|n| Hit { row: n.d_id, sim: 1.0 - n.distance })
                    .collect();
                sort_hits(&mut hits);
                hits
            }
            None => self.exact(query, k),
        }
    }

    /// Exact top-k by dot product.
    pub fn exact(&self, query: &[f32], k: usize) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .data
            .chunks_exact(self.dim)
            .enumerate()
            .map(|(row, v)| Hit { row, sim: dot(query, v) })
            .collect();
        let k = k.min(hits.len());
        if k == 0 {
            return Vec::new();
        }
        if k < hits.len() {
            hits.select_nth_unstable_by(k - 1, cmp_hits);
            hits.truncate(k);
        }
        sort_hits(&mut hits);
        hits
    }

    /// Search many queries in parallel.
    pub fn search_many(&self, queries: &[f32], k: usize) -> Vec<Vec<Hit>> {
        queries.par_chunks_exact(self.dim).map(|q| self.search(q, k)).collect()
    }
}

fn cmp_hits(a: &Hit, b: &Hit) -> std::cmp::Ordering {
    b.sim.total_cmp(&a.sim).then(a.row.cmp(&b.row))
}

fn sort_hits(hits: &mut [Hit]) {
    hits.sort_by(cmp_hits);
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_finds_itself_first() {
        let data = crate::rand::unit_vectors(200, 16, 1);
        let idx = VectorIndex::build(data.clone(), 16, Search::Exact, HnswParams::default());
        for row in [0, 57, 199] {
            let hits = idx.search(&data[row * 16..(row + 1) * 16], 5);
            assert_eq!(hits[0].row, row);
            assert!((hits[0].sim - 1.0).abs() < 1e-5);
            assert!(hits.windows(2).all(|w| w[0].sim >= w[1].sim));
        }
    }

    #[test]
    fn hnsw_recall_against_brute_force() {
        let dim = 32;
        let data = crate::rand::unit_vectors(3000, dim, 7);
        let queries = crate::rand::unit_vectors(100, dim, 8);
        let idx = VectorIndex::build(data, dim, Search::Hnsw, HnswParams::default());
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
    fn hnsw_build_is_deterministic() {
        let dim = 16;
        let data = crate::rand::unit_vectors(1500, dim, 3);
        let a = VectorIndex::build(data.clone(), dim, Search::Hnsw, HnswParams::default());
        let b = VectorIndex::build(data.clone(), dim, Search::Hnsw, HnswParams::default());
        for q in data.chunks_exact(dim).take(50) {
            assert_eq!(a.search(q, 8), b.search(q, 8));
        }
    }
}
