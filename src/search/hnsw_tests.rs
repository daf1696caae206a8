use super::*;

/// `n` seeded unit vectors in loose clusters (real embeddings cluster too).
fn vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let centres: Vec<Vec<f32>> = (0..20).map(|_| (0..dim).map(|_| next()).collect()).collect();
    let mut out = Vec::with_capacity(n * dim);
    for i in 0..n {
        let c = &centres[i % centres.len()];
        let v: Vec<f32> = c.iter().map(|x| x + 0.6 * next()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(v.iter().map(|x| x / norm));
    }
    out
}

fn exact(data: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<u32> {
    let mut all: Vec<Near> =
        data.chunks_exact(dim).enumerate().map(|(r, v)| Near { sim: dot(q, v), row: r as u32 }).collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    all.into_iter().take(k).map(|n| n.row).collect()
}

#[test]
fn recall_at_20_against_exact_search() {
    let (n, dim, k) = (4000, 32, 20);
    let data = vectors(n, dim, 1);
    let g = Graph::build(&data, dim, 16, 100, 7);
    let queries = vectors(200, dim, 2);
    let mut found = 0;
    for q in queries.chunks_exact(dim) {
        let truth = exact(&data, dim, q, k);
        let hits = g.search(&data, q, k, 64);
        assert_eq!(hits.len(), k);
        assert!(hits.windows(2).all(|w| w[0].sim >= w[1].sim), "best first");
        found += hits.iter().filter(|h| truth.contains(&(h.row as u32))).count();
    }
    let recall = found as f64 / (200 * k) as f64;
    assert!(recall >= 0.95, "recall@20 = {recall}");
}

#[test]
fn every_row_finds_itself_first() {
    let (n, dim) = (1500, 24);
    let data = vectors(n, dim, 3);
    let g = Graph::build(&data, dim, 16, 100, 1);
    let found = (0..n).filter(|&r| g.search(&data, &data[r * dim..(r + 1) * dim], 1, 32)[0].row == r).count();
    assert!(found as f64 >= 0.99 * n as f64, "{found} of {n}");
}

#[test]
fn the_graph_is_the_same_on_one_thread_and_on_four() {
    let (n, dim) = (3000, 16);
    let data = vectors(n, dim, 5);
    let build = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| Graph::build(&data, dim, 16, 100, 11))
    };
    let (one, four) = (build(1), build(4));
    assert_eq!(one.links0, four.links0);
    assert_eq!(one.len0, four.len0);
    assert_eq!(one.upper, four.upper);
    assert_eq!(one.entry, four.entry);
    // Another seed draws other levels, and so another graph.
    let other = Graph::build(&data, dim, 16, 100, 12);
    assert_ne!(one.levels, other.levels);
}

#[test]
fn links_stay_within_their_capacity_and_point_at_real_rows() {
    let (n, dim) = (2000, 16);
    let data = vectors(n, dim, 9);
    let g = Graph::build(&data, dim, 16, 100, 3);
    for r in 0..n as u32 {
        assert!(g.links(r, 0).len() <= g.m0);
        assert!(!g.links(r, 0).is_empty(), "row {r} is linked");
        assert!(g.links(r, 0).iter().all(|&x| (x as usize) < n && x != r));
        for l in 1..=g.levels[r as usize] as usize {
            assert!(g.links(r, l).len() <= g.m);
        }
    }
}

#[test]
fn levels_are_geometric_and_tiny_collections_work() {
    let high = (0..100_000).filter(|&r| level_of(0, r, 16) >= 1).count();
    assert!((5_000..7_500).contains(&high), "about 1/16 reach level 1: {high}");
    for n in [0, 1, 2, 5] {
        let data = vectors(n, 8, 1);
        let g = Graph::build(&data, 8, 16, 100, 0);
        let hits = if n > 0 { g.search(&data, &data[..8], 3, 16) } else { Vec::new() };
        assert_eq!(hits.len(), n.min(3));
    }
}
