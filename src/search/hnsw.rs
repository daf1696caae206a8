//! knnpref's own HNSW graph (Malkov & Yashunin), built on every core and
//! still the same graph, byte for byte, whatever the thread count.
//!
//! Why not hnsw_rs, the crate the design started with: it inserts on one
//! thread when the result must not depend on scheduling, stores each node's
//! links behind locks and pointers, and took 2,720 s for the two graphs of
//! 500k battles (README, "Speed and memory"). Here the links are flat
//! arrays and the graph grows in batches:
//! 1. every node of a batch searches the graph as it stood before the batch
//!    (read-only, in parallel), and also sees the batch's earlier nodes by
//!    direct comparison, so it misses nothing a one-by-one insertion in row
//!    order would have offered it;
//! 2. its own links are chosen from those candidates (the paper's
//!    heuristic), and written in row order;
//! 3. the reverse links are grouped by the node that receives them, each
//!    group pruned in parallel from its row-ordered additions, and written.
//!
//! No step depends on which thread ran it, so the graph depends only on the
//! vectors, the parameters and the seed that draws each node's level.

use std::cell::RefCell;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::hit::Hit;
use super::kernel::{dot, dot4};

/// Nodes inserted together: at most this many, and at most a quarter of
/// those already in the graph (early batches stay small, so the first
/// nodes link as a one-by-one insertion would).
const MAX_BATCH: usize = 512;
/// Levels above the ground layer, at most.
const MAX_LEVEL: usize = 15;

/// A graph over the rows of a row-major collection of unit vectors; the
/// vectors stay with the caller (one copy, not two).
pub(crate) struct Graph {
    dim: usize,
    m: usize,
    m0: usize,
    levels: Vec<u8>,
    /// Ground-layer links: `m0` slots per node, the first `len0[node]` used.
    links0: Vec<u32>,
    len0: Vec<u32>,
    /// Links on levels 1.. of the nodes that reach them: `upper[node][l - 1]`.
    upper: Vec<Vec<Vec<u32>>>,
    /// The entry node and its level; `None` for an empty graph.
    entry: Option<(u32, usize)>,
}

/// A candidate: similarity to the query, then the row (lower first on
/// ties), so that every ordering is total and the same on every run.
#[derive(Clone, Copy, PartialEq)]
struct Near {
    sim: f32,
    row: u32,
}

impl Eq for Near {}

impl Ord for Near {
    /// Greater is better: higher similarity, then lower row.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sim.total_cmp(&other.sim).then(other.row.cmp(&self.row))
    }
}

impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The level of `row`: geometric with ratio 1/m, from a hash of the seed
/// and the row (independent of insertion order and threads).
fn level_of(seed: u64, row: usize, m: usize) -> usize {
    let mut z = seed ^ (row as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let uniform = ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let level = (-uniform.ln() / (m.max(2) as f64).ln()).floor();
    (level as usize).min(MAX_LEVEL)
}

/// Visit marks: `marks[row] == stamp` once visited in the current search
/// (two bytes a row, so that the marks of a large graph stay in cache).
struct Visited {
    marks: Vec<u16>,
    stamp: u16,
}

impl Visited {
    /// A clean set for `n` rows (the marks are reused: a new stamp clears them).
    fn start(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.marks.fill(0);
            self.stamp = 1;
        }
    }

    /// True the first time `row` is seen in this search.
    #[inline(always)]
    fn first(&mut self, row: u32) -> bool {
        std::mem::replace(&mut self.marks[row as usize], self.stamp) != self.stamp
    }
}

thread_local! {
    /// Each thread's visit marks, reused across its searches.
    static VISITED: RefCell<Visited> = const { RefCell::new(Visited { marks: Vec::new(), stamp: 0 }) };
}

/// Ask the CPU to start loading `v`'s first cache line (the hardware
/// prefetcher follows the rest as the dot product reads it).
#[inline(always)]
fn prefetch(v: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults, and SSE is part of x86_64.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

impl Graph {
    /// Build the graph of `data` (row-major, `dim` wide) with `m` links per
    /// node above the ground layer (`2m` on it), choosing them among the
    /// `ef_construction` best candidates; `seed` draws the levels.
    pub(crate) fn build(data: &[f32], dim: usize, m: usize, ef_construction: usize, seed: u64) -> Graph {
        let n = data.len().checked_div(dim).unwrap_or(0);
        let m = m.max(2);
        let mut g = Graph {
            dim,
            m,
            m0: 2 * m,
            levels: (0..n).map(|r| level_of(seed, r, m) as u8).collect(),
            links0: vec![0; n * 2 * m],
            len0: vec![0; n],
            upper: vec![Vec::new(); n],
            entry: None,
        };
        if n == 0 {
            return g;
        }
        g.upper[0] = vec![Vec::new(); g.levels[0] as usize];
        g.entry = Some((0, g.levels[0] as usize));
        let mut done = 1;
        while done < n {
            let end = (done + (done / 4).clamp(1, MAX_BATCH)).min(n);
            g.insert_batch(data, done..end, ef_construction.max(m));
            done = end;
        }
        g
    }

    #[inline(always)]
    fn vector<'a>(&self, data: &'a [f32], row: u32) -> &'a [f32] {
        let at = row as usize * self.dim;
        &data[at..at + self.dim]
    }

    #[inline(always)]
    fn links(&self, row: u32, level: usize) -> &[u32] {
        let r = row as usize;
        match level {
            0 => &self.links0[r * self.m0..r * self.m0 + self.len0[r] as usize],
            l => &self.upper[r][l - 1],
        }
    }

    fn set_links(&mut self, row: u32, level: usize, links: &[u32]) {
        let r = row as usize;
        match level {
            0 => {
                self.links0[r * self.m0..r * self.m0 + links.len()].copy_from_slice(links);
                self.len0[r] = links.len() as u32;
            }
            l => self.upper[r][l - 1] = links.to_vec(),
        }
    }

    /// Insert rows `batch` (see the module's header).
    fn insert_batch(&mut self, data: &[f32], batch: std::ops::Range<usize>, ef: usize) {
        let this = &*self;
        let chosen: Vec<Vec<Vec<u32>>> =
            batch.clone().into_par_iter().map(|row| this.choose_links(data, row, batch.start, ef)).collect();
        for (row, links) in batch.clone().zip(&chosen) {
            self.upper[row] = vec![Vec::new(); self.levels[row] as usize];
            for (level, l) in links.iter().enumerate() {
                self.set_links(row as u32, level, l);
            }
        }
        // Reverse links, grouped by the node receiving them, in row order.
        let mut incoming: Vec<(u32, usize, u32)> = Vec::new();
        for (row, links) in batch.clone().zip(&chosen) {
            for (level, l) in links.iter().enumerate() {
                incoming.extend(l.iter().map(|&to| (to, level, row as u32)));
            }
        }
        incoming.sort_unstable();
        let groups: Vec<&[(u32, usize, u32)]> = incoming.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).collect();
        let this = &*self;
        let merged: Vec<Vec<u32>> = groups.par_iter().map(|g| this.merge_links(data, g)).collect();
        for (g, links) in groups.iter().zip(merged) {
            self.set_links(g[0].0, g[0].1, &links);
        }
        for row in batch {
            let level = self.levels[row] as usize;
            if self.entry.is_none_or(|(_, top)| level > top) {
                self.entry = Some((row as u32, level));
            }
        }
    }

    /// The links of one node at one level with the reverse links `incoming`
    /// (`(node, level, from)`, in row order) added, pruned to capacity.
    #[inline(always)]
    fn merge_links(&self, data: &[f32], incoming: &[(u32, usize, u32)]) -> Vec<u32> {
        let (to, level) = (incoming[0].0, incoming[0].1);
        let mut all = self.links(to, level).to_vec();
        all.extend(incoming.iter().map(|e| e.2));
        let cap = if level == 0 { self.m0 } else { self.m };
        if all.len() <= cap {
            return all;
        }
        let q = self.vector(data, to);
        let mut near: Vec<Near> =
            all.iter().map(|&r| Near { sim: dot(q, self.vector(data, r)), row: r }).collect();
        near.sort_unstable_by(|a, b| b.cmp(a));
        self.select(data, &near, cap)
    }

    /// The links of `row` at each of its levels: candidates from the graph
    /// as it stands, plus the batch's earlier rows (`first..row`).
    #[inline(always)]
    fn choose_links(&self, data: &[f32], row: usize, first: usize, ef: usize) -> Vec<Vec<u32>> {
        let q = self.vector(data, row as u32);
        let level = self.levels[row] as usize;
        let Some((entry, top)) = self.entry else { return vec![Vec::new(); level + 1] };
        let mut at = Near { sim: dot(q, self.vector(data, entry)), row: entry };
        for l in (level + 1..=top).rev() {
            at = self.greedy(data, q, at, l);
        }
        let mut out = vec![Vec::new(); level + 1];
        for l in (0..=level).rev() {
            let mut cands = if l <= top { self.search_layer(data, q, &[at], ef, l) } else { Vec::new() };
            if let Some(best) = cands.first() {
                at = *best;
            }
            let earlier = (first..row).filter(|&r| self.levels[r] as usize >= l);
            cands.extend(earlier.map(|r| Near { sim: dot(q, self.vector(data, r as u32)), row: r as u32 }));
            cands.sort_unstable_by(|a, b| b.cmp(a));
            out[l] = self.select(data, &cands, self.m);
        }
        out
    }

    /// The paper's neighbour heuristic: walk the candidates best first and
    /// keep one only when it is nearer the query than to every one kept, up
    /// to `cap` (spreads links across directions instead of one cluster).
    #[inline(always)]
    fn select(&self, data: &[f32], best_first: &[Near], cap: usize) -> Vec<u32> {
        let mut kept: Vec<u32> = Vec::with_capacity(cap);
        for c in best_first {
            if kept.len() == cap {
                break;
            }
            let v = self.vector(data, c.row);
            if kept.iter().all(|&k| dot(v, self.vector(data, k)) < c.sim) {
                kept.push(c.row);
            }
        }
        kept
    }

    /// Walk level `l` from `at` to a local best for `q`.
    #[inline(always)]
    fn greedy(&self, data: &[f32], q: &[f32], mut at: Near, l: usize) -> Near {
        loop {
            let mut moved = false;
            for &r in self.links(at.row, l) {
                let c = Near { sim: dot(q, self.vector(data, r)), row: r };
                if c > at {
                    at = c;
                    moved = true;
                }
            }
            if !moved {
                return at;
            }
        }
    }

    /// Best-first search of level `l` from `starts`, keeping the `ef` best:
    /// returned best first.
    #[inline(always)]
    fn search_layer(&self, data: &[f32], q: &[f32], starts: &[Near], ef: usize, l: usize) -> Vec<Near> {
        VISITED.with(|cell| {
            let visited = &mut *cell.borrow_mut();
            visited.start(self.levels.len());
            let mut frontier: BinaryHeap<Near> = BinaryHeap::with_capacity(4 * ef);
            let mut best: BinaryHeap<std::cmp::Reverse<Near>> = BinaryHeap::with_capacity(ef + 1);
            for &s in starts {
                if visited.first(s.row) {
                    frontier.push(s);
                    best.push(std::cmp::Reverse(s));
                }
            }
            let mut fresh: Vec<u32> = Vec::with_capacity(self.m0);
            while let Some(c) = frontier.pop() {
                if best.len() >= ef && best.peek().is_some_and(|w| c < w.0) {
                    break;
                }
                // Mark and prefetch the unseen links first, then compare.
                fresh.clear();
                for &r in self.links(c.row, l) {
                    if visited.first(r) {
                        prefetch(self.vector(data, r));
                        fresh.push(r);
                    }
                }
                let mut offer = |n: Near| {
                    if best.len() < ef || best.peek().is_some_and(|w| n > w.0) {
                        frontier.push(n);
                        best.push(std::cmp::Reverse(n));
                        if best.len() > ef {
                            best.pop();
                        }
                    }
                };
                let fours = fresh.chunks_exact(4);
                let rest = fours.remainder();
                for f in fours {
                    let sims = dot4(q, [0, 1, 2, 3].map(|i| self.vector(data, f[i])));
                    for (&sim, &row) in sims.iter().zip(f) {
                        offer(Near { sim, row });
                    }
                }
                for &r in rest {
                    offer(Near { sim: dot(q, self.vector(data, r)), row: r });
                }
            }
            let mut out: Vec<Near> = best.into_iter().map(|r| r.0).collect();
            out.sort_unstable_by(|a, b| b.cmp(a));
            out
        })
    }

    /// The `k` rows most similar to `q`, searching with breadth `ef`.
    pub(crate) fn search(&self, data: &[f32], q: &[f32], k: usize, ef: usize) -> Vec<Hit> {
        let Some((entry, top)) = self.entry else { return Vec::new() };
        let mut at = Near { sim: dot(q, self.vector(data, entry)), row: entry };
        for l in (1..=top).rev() {
            at = self.greedy(data, q, at, l);
        }
        let found = self.search_layer(data, q, &[at], ef.max(k), 0);
        found.into_iter().take(k).map(|n| Hit { row: n.row as usize, sim: n.sim }).collect()
    }
}

#[cfg(test)]
#[path = "hnsw_tests.rs"]
mod tests;
