//! Exact top-k search by dot product, in tiles.
//!
//! A block of queries is multiplied with one tile of the collection at a
//! time (SIMD GEMM into a reused buffer), and each query keeps a sorted list
//! of its best `k` hits. Most similarities fall below a query's current
//! k-th best and cost one comparison, so no per-query sort of the whole
//! collection is needed, and the collection is packed for the GEMM once per
//! block of [`QUERY_BLOCK`] queries rather than once per handful.
//!
//! The result equals a full sort by [`cmp_hits`] (a total order), whatever
//! the order in which hits are offered.
//!
//! When the queries are the collection itself (cross-fitting), the product
//! is symmetric: [`top_k_self`] computes each pair of tiles once and offers
//! every similarity to both of its rows, half the arithmetic of [`top_k`].
//! Both give the same hits: each similarity is one GEMM dot product, and
//! `x·y` and `y·x` round identically (the same products summed in the same
//! order).

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Mutex;

use super::hit::{cmp_hits, Hit};

/// Queries multiplied together against each tile.
pub(crate) const QUERY_BLOCK: usize = 256;
/// Collection rows per tile (with [`QUERY_BLOCK`], a 4 MiB buffer of similarities).
const DATA_TILE: usize = 4096;

/// The best `k` hits seen so far for one query, best first.
struct TopK {
    k: usize,
    hits: Vec<Hit>,
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK { k, hits: Vec::with_capacity(k + 1) }
    }

    /// Offer one hit; it is kept when it ranks among the best `k` so far.
    /// The kept set does not depend on the order of offers.
    #[inline]
    fn offer(&mut self, hit: Hit) {
        if self.hits.len() == self.k {
            // Full: it must beat the worst kept hit (one comparison for most).
            match self.hits.last() {
                Some(w) if hit.sim >= w.sim && cmp_hits(&hit, w).is_lt() => {}
                _ => return,
            }
        }
        let at = self.hits.partition_point(|h| cmp_hits(h, &hit).is_lt());
        self.hits.insert(at, hit);
        self.hits.truncate(self.k);
    }

    /// The similarity below which an offer cannot enter (−∞ until full).
    #[inline]
    fn bar(&self) -> f32 {
        match self.hits.last() {
            Some(w) if self.hits.len() == self.k => w.sim,
            _ => f32::NEG_INFINITY,
        }
    }

    /// Offer the similarities of rows `first..first + sims.len()`.
    fn scan(&mut self, first: usize, sims: &[f32]) {
        let mut bar = self.bar();
        for (j, &sim) in sims.iter().enumerate() {
            if sim < bar {
                continue;
            }
            self.offer(Hit { row: first + j, sim });
            bar = self.bar();
        }
    }
}

/// Rows `span` of row-major vectors of dimension `dim`, as a matrix.
fn rows_of(data: &[f32], dim: usize, span: Range<usize>) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((span.len(), dim), &data[span.start * dim..span.end * dim])
        .expect("row-major vectors")
}

/// Exact top-`k` of each query of `block` (row-major, `dim` columns) among
/// the rows of `data`: one GEMM per tile.
fn top_k_block(data: &[f32], dim: usize, block: &[f32], k: usize) -> Vec<Vec<Hit>> {
    let (n, q) = (data.len() / dim, block.len() / dim);
    let queries = rows_of(block, dim, 0..q);
    let mut tops: Vec<TopK> = (0..q).map(|_| TopK::new(k)).collect();
    let mut buffer = vec![0f32; q * DATA_TILE.min(n)];
    for first in (0..n).step_by(DATA_TILE) {
        let rows = DATA_TILE.min(n - first);
        let tile = rows_of(data, dim, first..first + rows);
        let mut sims = ArrayViewMut2::from_shape((q, rows), &mut buffer[..q * rows]).expect("buffer size");
        general_mat_mul(1.0, &queries, &tile.t(), 0.0, &mut sims);
        for (top, row) in tops.iter_mut().zip(buffer[..q * rows].chunks_exact(rows)) {
            top.scan(first, row);
        }
    }
    tops.into_iter().map(|t| t.hits).collect()
}

/// Exact top-`k` (at most the collection's size) of every query, in query
/// order, blocks of queries in parallel.
pub(crate) fn top_k(data: &[f32], dim: usize, queries: &[f32], k: usize) -> Vec<Vec<Hit>> {
    let n = data.len().checked_div(dim).unwrap_or(0);
    let q = queries.len().checked_div(dim).unwrap_or(0);
    let k = k.min(n);
    if k == 0 || q == 0 {
        return vec![Vec::new(); q];
    }
    if q <= QUERY_BLOCK {
        return top_k_block(data, dim, queries, k);
    }
    let blocks: Vec<Vec<Vec<Hit>>> =
        queries.par_chunks(QUERY_BLOCK * dim).map(|b| top_k_block(data, dim, b, k)).collect();
    blocks.into_iter().flatten().collect()
}

/// Rows per tile of [`top_k_self`] (a 4 MiB buffer of similarities).
const SELF_TILE: usize = 1024;

/// Exact top-`k` of every row of `data` among all rows (itself included),
/// in row order: equal to `top_k(data, dim, data, k)`, with each pair of
/// tiles multiplied once. Pairs run in parallel; each tile's lists sit
/// behind a lock that a pair takes for its own rows, then for the other's.
pub(crate) fn top_k_self(data: &[f32], dim: usize, k: usize) -> Vec<Vec<Hit>> {
    let n = data.len().checked_div(dim).unwrap_or(0);
    let k = k.min(n);
    if k == 0 {
        return vec![Vec::new(); n];
    }
    let tiles = n.div_ceil(SELF_TILE);
    let span = |t: usize| t * SELF_TILE..((t + 1) * SELF_TILE).min(n);
    let view = |t: usize| rows_of(data, dim, span(t));
    let tops: Vec<Mutex<Vec<TopK>>> =
        (0..tiles).map(|t| Mutex::new(span(t).map(|_| TopK::new(k)).collect())).collect();
    let pairs: Vec<(usize, usize)> = (0..tiles).flat_map(|i| (i..tiles).map(move |j| (i, j))).collect();
    pairs.par_iter().for_each_init(Vec::new, |buffer: &mut Vec<f32>, &(i, j)| {
        let (ri, rj) = (span(i), span(j));
        let (a, b) = (ri.len(), rj.len());
        buffer.resize(a * b, 0.0);
        let mut sims = ArrayViewMut2::from_shape((a, b), &mut buffer[..]).expect("buffer size");
        general_mat_mul(1.0, &view(i), &view(j).t(), 0.0, &mut sims);
        {
            let mut rows = tops[i].lock().unwrap_or_else(|e| e.into_inner());
            for (top, sims) in rows.iter_mut().zip(buffer.chunks_exact(b)) {
                top.scan(rj.start, sims);
            }
        }
        if i != j {
            let mut rows = tops[j].lock().unwrap_or_else(|e| e.into_inner());
            let mut bars: Vec<f32> = rows.iter().map(TopK::bar).collect();
            for (r, sims) in buffer.chunks_exact(b).enumerate() {
                for ((top, bar), &sim) in rows.iter_mut().zip(&mut bars).zip(sims) {
                    if sim < *bar {
                        continue;
                    }
                    top.offer(Hit { row: ri.start + r, sim });
                    *bar = top.bar();
                }
            }
        }
    });
    tops.into_iter().flat_map(|t| t.into_inner().unwrap_or_else(|e| e.into_inner())).map(|t| t.hits).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SplitMix;

    /// Every query's hits by sorting all rows with `cmp_hits`.
    fn brute_force(data: &[f32], dim: usize, queries: &[f32], k: usize) -> Vec<Vec<Hit>> {
        queries
            .chunks_exact(dim)
            .map(|q| {
                let mut all: Vec<Hit> = data
                    .chunks_exact(dim)
                    .enumerate()
                    .map(|(row, v)| Hit { row, sim: q.iter().zip(v).map(|(x, y)| x * y).sum() })
                    .collect();
                all.sort_by(cmp_hits);
                all.truncate(k);
                all
            })
            .collect()
    }

    /// Vectors of small integers: every dot product is exact whatever the
    /// summation order, and many are equal, so the tie rule is exercised.
    fn integer_vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix::new(seed);
        (0..n * dim).map(|_| rng.below(3) as f32 - 1.0).collect()
    }

    #[test]
    fn tiled_search_equals_a_full_sort_across_tile_and_block_edges() {
        let dim = 6;
        // More rows than one tile and more queries than one block.
        let data = integer_vectors(DATA_TILE + 300, dim, 1);
        let queries = integer_vectors(QUERY_BLOCK + 40, dim, 2);
        for k in [1, 7, 40] {
            assert_eq!(top_k(&data, dim, &queries, k), brute_force(&data, dim, &queries, k), "k = {k}");
        }
        // k beyond the collection, and no queries.
        let small = integer_vectors(5, dim, 3);
        assert_eq!(top_k(&small, dim, &queries, 9), brute_force(&small, dim, &queries, 5));
        assert!(top_k(&small, dim, &[], 3).is_empty());
    }

    #[test]
    fn self_search_equals_searching_the_collection_with_itself() {
        let dim = 6;
        // Ties everywhere (integers) and generic floats; sizes that do and do
        // not fill the last tile.
        for (data, dim) in [
            (integer_vectors(3 * SELF_TILE + 17, dim, 4), dim),
            (crate::rand::unit_vectors(2 * SELF_TILE, 16, 5), 16),
            (crate::rand::unit_vectors(10, 16, 6), 16),
        ] {
            for k in [1, 12] {
                let want = top_k(&data, dim, &data, k);
                assert_eq!(top_k_self(&data, dim, k), want, "{} rows, k = {k}", data.len() / dim);
            }
        }
        assert!(top_k_self(&[], 4, 3).is_empty());
    }

    #[test]
    fn offers_in_any_order_keep_the_same_hits() {
        let hits: Vec<Hit> = (0..50).map(|row| Hit { row, sim: (row % 7) as f32 }).collect();
        let mut forward = TopK::new(9);
        hits.iter().for_each(|&h| forward.offer(h));
        let mut backward = TopK::new(9);
        hits.iter().rev().for_each(|&h| backward.offer(h));
        assert_eq!(forward.hits, backward.hits);
        let mut sorted = hits.clone();
        sorted.sort_by(cmp_hits);
        assert_eq!(forward.hits, sorted[..9]);
    }
}
