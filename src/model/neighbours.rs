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
    /// response index twice).
    pub(crate) fn build(
        train: &EncodedBattles,
        labels: Vec<Label>,
        search: Search,
        hnsw: HnswParams,
        queries: usize,
    ) -> Self {
        let prompts = VectorIndex::build(train.prompt.clone(), train.dim, search, hnsw, queries);
        let responses = VectorIndex::build(
            interleave(&train.a, &train.b, train.dim),
            train.dim,
            search,
            hnsw,
            queries.saturating_mul(2),
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
    /// each block of look-ups.
    pub(crate) fn values(
        &self,
        q: &EncodedBattles,
        fold_of: Option<&[usize]>,
        p: &KnnParams,
        prior: [f64; 3],
        cancel: &Cancel,
    ) -> Result<Vec<KnnValues>, Cancelled> {
        let fetch = match fold_of {
            Some(_) => p.k * 2 + 2,
            None => p.k,
        };
        let votes = Votes { labels: &self.labels, prior };
        let dim = q.dim;
        // Search in blocks of rows: exact search runs as a matrix product per
        // block, and the hit lists held at once stay bounded.
        const BLOCK: usize = 8192;
        let mut out = Vec::with_capacity(q.len());
        for start in (0..q.len()).step_by(BLOCK) {
            cancel.check()?;
            let end = (start + BLOCK).min(q.len());
            let span = start * dim..end * dim;
            let hits_p = self.prompts.search_many(&q.prompt[span.clone()], fetch);
            let hits_a = self.responses.search_many(&q.a[span.clone()], fetch);
            let hits_b = self.responses.search_many(&q.b[span], fetch);
            out.par_extend((start..end).into_par_iter().map(|i| {
                let keep = |battle: usize| fold_of.is_none_or(|f| f[battle] != f[i]);
                let j = i - start;
                let hits_p: Vec<Hit> = hits_p[j].iter().copied().filter(|h| keep(h.row)).collect();
                let side = |hits: &[Hit]| {
                    let hits: Vec<Hit> = hits.iter().copied().filter(|h| keep(h.row / 2)).collect();
                    votes.response(p, &hits)
                };
                let (prompt_tie, prompt_weight) = votes.prompt(p, &hits_p);
                let (sa, ta, wa) = side(&hits_a[j]);
                let (sb, tb, wb) = side(&hits_b[j]);
                KnnValues { prompt_tie, prompt_weight, score: [sa, sb], tie: [ta, tb], weight: [wa, wb] }
            }));
        }
        Ok(out)
    }
}
