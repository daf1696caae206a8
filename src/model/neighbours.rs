//! The neighbour look-ups behind the vote features: one index over training
//! prompts, one over training responses (A and B of each battle), and the
//! rule that keeps a training battle from seeing its own vote.

use ndarray::parallel::prelude::*;
use rayon::iter::ParallelExtend;

use crate::data::Label;
use crate::features::{EncodedBattles, KnnParams, KnnValues, Votes};
use crate::progress::{Cancel, Cancelled};
use crate::search::{Hit, HnswParams, Search, VectorIndex};

/// Searchable training prompts and responses, with the training votes.
pub(crate) struct Neighbours {
    /// Training votes, by battle.
    pub labels: Vec<Label>,
    prompts: VectorIndex,
    /// Row `2i` is battle i's response A, `2i + 1` its response B.
    responses: VectorIndex,
}

/// Response A and B vectors of each battle, alternating.
fn interleave(a: &[f32], b: &[f32], dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(a.len() * 2);
    for (x, y) in a.chunks_exact(dim).zip(b.chunks_exact(dim)) {
        out.extend_from_slice(x);
        out.extend_from_slice(y);
    }
    out
}

impl Neighbours {
    /// Index the training battles' prompts and responses, for look-ups
    /// about `queries` battles (each searches the prompt index once and the
    /// response index twice); `seed` draws the graphs' levels.
    pub(crate) fn build(
        train: &EncodedBattles,
        labels: Vec<Label>,
        search: Search,
        hnsw: HnswParams,
        queries: usize,
        seed: u64,
    ) -> Self {
        let (prompts, responses) = rayon::join(
            || VectorIndex::build(train.prompt.clone(), train.dim, search, hnsw, queries, seed),
            || {
                let vectors = interleave(&train.a, &train.b, train.dim);
                VectorIndex::build(vectors, train.dim, search, hnsw, queries.saturating_mul(2), seed ^ 1)
            },
        );
        Neighbours { labels, prompts, responses }
    }

    /// Nearest training battles by prompt embedding.
    pub(crate) fn similar_prompts(&self, prompt: &[f32], k: usize) -> Vec<Hit> {
        self.prompts.search(prompt, k)
    }

    /// Neighbour values for each battle of `q`. With `fold_of`, `q` is the
    /// training set itself and neighbours from a row's own fold are skipped,
    /// so no training row sees its own vote. `cancel` is checked before
    /// each search of an index (each block of look-ups).
    pub(crate) fn values(
        &self,
        q: &EncodedBattles,
        fold_of: Option<&[usize]>,
        p: &KnnParams,
        prior: [f64; 3],
        cancel: &Cancel,
    ) -> Result<Vec<KnnValues>, Cancelled> {
        // Cross-fitted: room for the own fold's hits, which are dropped.
        let fetch = if fold_of.is_some() { p.k * 2 + 2 } else { p.k };
        let values = |i: usize, hits_p: &[Hit], hits_a: &[Hit], hits_b: &[Hit]| {
            let votes = Votes { labels: &self.labels, prior };
            let keep = |battle: usize| fold_of.is_none_or(|f| f[battle] != f[i]);
            let hits_p: Vec<Hit> = hits_p.iter().copied().filter(|h| keep(h.row)).collect();
            let side = |hits: &[Hit]| {
                let hits: Vec<Hit> = hits.iter().copied().filter(|h| keep(h.row / 2)).collect();
                votes.response(p, &hits)
            };
            let (prompt_tie, prompt_weight) = votes.prompt(p, &hits_p);
            let (sa, ta, wa) = side(hits_a);
            let (sb, tb, wb) = side(hits_b);
            KnnValues { prompt_tie, prompt_weight, score: [sa, sb], tie: [ta, tb], weight: [wa, wb] }
        };
        // The training set against itself: each index searched against its
        // own vectors, at half the exact arithmetic.
        if let (Some(_), Some(swapped)) = (fold_of, self.orientation_of(q)) {
            cancel.check()?;
            let hits_p = self.prompts.search_self(fetch);
            cancel.check()?;
            let hits_r = self.responses.search_self(fetch);
            let (a, b) = if swapped { (1, 0) } else { (0, 1) };
            return Ok((0..q.len())
                .into_par_iter()
                .map(|i| values(i, &hits_p[i], &hits_r[2 * i + a], &hits_r[2 * i + b]))
                .collect());
        }
        let dim = q.dim;
        // Search in blocks of rows: exact search runs as tiled matrix products
        // per block, and the hit lists held at once stay bounded.
        const BLOCK: usize = 8192;
        let mut out = Vec::with_capacity(q.len());
        for start in (0..q.len()).step_by(BLOCK) {
            cancel.check()?;
            let end = (start + BLOCK).min(q.len());
            let span = start * dim..end * dim;
            let hits_p = self.prompts.search_many(&q.prompt[span.clone()], fetch);
            let hits_a = self.responses.search_many(&q.a[span.clone()], fetch);
            let hits_b = self.responses.search_many(&q.b[span], fetch);
            out.par_extend(
                (start..end)
                    .into_par_iter()
                    .map(|i| values(i, &hits_p[i - start], &hits_a[i - start], &hits_b[i - start])),
            );
        }
        Ok(out)
    }

    /// Whether `q` holds exactly the indexed battles: `Some(false)` as
    /// indexed, `Some(true)` with every battle's responses swapped, `None`
    /// otherwise.
    fn orientation_of(&self, q: &EncodedBattles) -> Option<bool> {
        let dim = q.dim;
        if q.prompt.as_slice() != self.prompts.vectors() || 2 * q.a.len() != self.responses.vectors().len() {
            return None;
        }
        let pairs = || self.responses.vectors().chunks_exact(2 * dim);
        let same = |x: &[f32], y: &[f32]| {
            pairs()
                .zip(x.chunks_exact(dim).zip(y.chunks_exact(dim)))
                .all(|(r, (x, y))| r[..dim] == *x && r[dim..] == *y)
        };
        if same(&q.a, &q.b) {
            Some(false)
        } else {
            same(&q.b, &q.a).then_some(true)
        }
    }
}
