//! Battles in the form the model consumes: embeddings plus text statistics,
//! row-aligned, so that the model never touches text again.

use super::text::BattleStats;
use crate::data::{Battle, Label};
use crate::embed::{EmbedError, Embedder};

/// Row-aligned embeddings (prompt, response A, response B) and statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedBattles {
    /// Embedding dimension.
    pub dim: usize,
    /// Battle ids, by row.
    pub ids: Vec<String>,
    /// Prompt embeddings, row-major (`len() × dim`).
    pub prompt: Vec<f32>,
    /// Response A embeddings, row-major.
    pub a: Vec<f32>,
    /// Response B embeddings, row-major.
    pub b: Vec<f32>,
    /// Text statistics, by row (an index folder stores them too).
    pub stats: Vec<BattleStats>,
    /// Votes, by row, where known.
    pub labels: Vec<Option<Label>>,
}

/// The embedding vectors of one battle.
pub(crate) struct Vectors<'a> {
    pub prompt: &'a [f32],
    pub a: &'a [f32],
    pub b: &'a [f32],
}

impl Vectors<'_> {
    /// No vectors at all (dimension 0), for counting scalar features.
    pub(crate) const EMPTY: Vectors<'static> = Vectors { prompt: &[], a: &[], b: &[] };

    /// The same vectors with A and B exchanged.
    pub(crate) fn swapped(&self) -> Vectors<'_> {
        Vectors { prompt: self.prompt, a: self.b, b: self.a }
    }
}

impl EncodedBattles {
    /// Embed every battle's prompt and responses in one pass, so that shared
    /// texts are embedded once and batches are sorted across all of them.
    pub fn encode(
        embedder: &mut Embedder,
        battles: &[Battle],
        what: &str,
    ) -> Result<EncodedBattles, EmbedError> {
        let n = battles.len();
        let mut turns: Vec<&[String]> = Vec::with_capacity(3 * n);
        turns.extend(battles.iter().map(|b| b.prompt.as_slice()));
        turns.extend(battles.iter().map(|b| b.response_a.as_slice()));
        turns.extend(battles.iter().map(|b| b.response_b.as_slice()));
        let mut all = embedder.embed_turns(&turns, what)?;
        let dim = embedder.info().dim;
        let b = all.split_off(2 * n * dim);
        let a = all.split_off(n * dim);
        Ok(EncodedBattles::with_vectors(battles, dim, all, a, b))
    }

    /// Battles with vectors computed elsewhere (row-major, `dim` each,
    /// row-aligned with `battles`).
    pub fn with_vectors(
        battles: &[Battle],
        dim: usize,
        prompt: Vec<f32>,
        a: Vec<f32>,
        b: Vec<f32>,
    ) -> EncodedBattles {
        EncodedBattles {
            dim,
            ids: battles.iter().map(|b| b.id.clone()).collect(),
            prompt,
            a,
            b,
            stats: battles.iter().map(BattleStats::of).collect(),
            labels: battles.iter().map(|b| b.label).collect(),
        }
    }

    /// Number of battles.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no battles.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn row<'a>(&self, v: &'a [f32], i: usize) -> &'a [f32] {
        &v[i * self.dim..(i + 1) * self.dim]
    }

    /// Prompt embedding of row `i`.
    pub fn prompt_of(&self, i: usize) -> &[f32] {
        self.row(&self.prompt, i)
    }

    /// Response A embedding of row `i`.
    pub fn a_of(&self, i: usize) -> &[f32] {
        self.row(&self.a, i)
    }

    /// Response B embedding of row `i`.
    pub fn b_of(&self, i: usize) -> &[f32] {
        self.row(&self.b, i)
    }

    /// The three embeddings of row `i`.
    pub(crate) fn vectors(&self, i: usize) -> Vectors<'_> {
        Vectors { prompt: self.prompt_of(i), a: self.a_of(i), b: self.b_of(i) }
    }

    /// The rows `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> EncodedBattles {
        let gather = |v: &[f32]| {
            let mut out = Vec::with_capacity(rows.len() * self.dim);
            for &r in rows {
                out.extend_from_slice(self.row(v, r));
            }
            out
        };
        EncodedBattles {
            dim: self.dim,
            ids: rows.iter().map(|&r| self.ids[r].clone()).collect(),
            prompt: gather(&self.prompt),
            a: gather(&self.a),
            b: gather(&self.b),
            stats: rows.iter().map(|&r| self.stats[r]).collect(),
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
        }
    }

    /// `other`'s battles after these (same dimension): a grown index's
    /// training set, the base's rows first.
    pub fn append(&mut self, other: EncodedBattles) {
        assert_eq!(self.dim, other.dim, "battles of one dimension");
        self.ids.extend(other.ids);
        self.prompt.extend(other.prompt);
        self.a.extend(other.a);
        self.b.extend(other.b);
        self.stats.extend(other.stats);
        self.labels.extend(other.labels);
    }

    /// The same battles with responses A and B exchanged.
    pub fn swapped(&self) -> EncodedBattles {
        EncodedBattles {
            a: self.b.clone(),
            b: self.a.clone(),
            stats: self.stats.iter().map(|s| s.swapped()).collect(),
            labels: self.labels.iter().map(|l| l.map(Label::swapped)).collect(),
            ..self.clone()
        }
    }

    /// Labels, when every row has one.
    pub fn known_labels(&self) -> Option<Vec<Label>> {
        self.labels.iter().copied().collect()
    }
}
