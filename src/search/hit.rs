//! What a search returns, and the one order every search path sorts by.
//!
//! Exact search and HNSW both produce [`Hit`]s and rank them with the same
//! comparison (higher similarity first, lower row on ties), so that the two
//! paths and every block size agree on which neighbours come first.

/// One neighbour: the row in the collection and its cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Row of the vector in the collection searched.
    pub row: usize,
    /// Cosine similarity to the query (dot product of unit vectors).
    pub sim: f32,
}

/// Best first: higher similarity, then lower row.
pub(crate) fn cmp_hits(a: &Hit, b: &Hit) -> std::cmp::Ordering {
    b.sim.total_cmp(&a.sim).then(a.row.cmp(&b.row))
}

/// Dot product of two equal-length vectors (cosine similarity for unit vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
