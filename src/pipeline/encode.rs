//! Battles in the form the model consumes: embeddings plus text statistics.

use crate::data::{Battle, Label};
use crate::embed::{EmbedError, Embedder};
use crate::features::{BattleStats, Vectors};

/// Row-aligned embeddings (prompt, response A, response B) and statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub dim: usize,
    pub ids: Vec<String>,
    pub prompt: Vec<f32>,
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    pub stats: Vec<BattleStats>,
    pub labels: Vec<Option<Label>>,
}

impl Encoded {
    /// Embed every battle's prompt and responses in one pass, so that shared
    /// texts are embedded once and batches are sorted across all of them.
    pub fn encode(embedder: &mut Embedder, battles: &[Battle], what: &str) -> Result<Encoded, EmbedError> {
        let n = battles.len();
        let mut turns: Vec<&[String]> = Vec::with_capacity(3 * n);
        turns.extend(battles.iter().map(|b| b.prompt.as_slice()));
        turns.extend(battles.iter().map(|b| b.response_a.as_slice()));
        turns.extend(battles.iter().map(|b| b.response_b.as_slice()));
        let texts = embedder.fit_many(&turns);
        let all = embedder.embed(&texts, what)?;
        let dim = embedder.info().dim;
        Ok(Encoded {
            dim,
            ids: battles.iter().map(|b| b.id.clone()).collect(),
            prompt: all[..n * dim].to_vec(),
            a: all[n * dim..2 * n * dim].to_vec(),
            b: all[2 * n * dim..].to_vec(),
            stats: battles.iter().map(BattleStats::of).collect(),
            labels: battles.iter().map(|b| b.label).collect(),
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn row<'a>(&self, v: &'a [f32], i: usize) -> &'a [f32] {
        &v[i * self.dim..(i + 1) * self.dim]
    }

    pub fn prompt_of(&self, i: usize) -> &[f32] {
        self.row(&self.prompt, i)
    }

    pub fn a_of(&self, i: usize) -> &[f32] {
        self.row(&self.a, i)
    }

    pub fn b_of(&self, i: usize) -> &[f32] {
        self.row(&self.b, i)
    }

    pub fn vectors(&self, i: usize) -> Vectors<'_> {
        Vectors { prompt: self.prompt_of(i), a: self.a_of(i), b: self.b_of(i) }
    }

    /// The rows `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> Encoded {
        let gather = |v: &[f32]| {
            let mut out = Vec::with_capacity(rows.len() * self.dim);
            for &r in rows {
                out.extend_from_slice(self.row(v, r));
            }
            out
        };
        Encoded {
            dim: self.dim,
            ids: rows.iter().map(|&r| self.ids[r].clone()).collect(),
            prompt: gather(&self.prompt),
            a: gather(&self.a),
            b: gather(&self.b),
            stats: rows.iter().map(|&r| self.stats[r]).collect(),
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
        }
    }

    /// The same battles with responses A and B exchanged.
    pub fn swapped(&self) -> Encoded {
        Encoded {
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
