//! Looking into an index: the training battles nearest to a query
//! (`similar`), and the loaded index with its neighbour search that
//! `similar` and `errors` share.

use std::path::PathBuf;

use super::encoding::Encoding;
use super::error::PipelineError;
use crate::embed::CheckedEmbed;
use crate::features::EncodedBattles;
use crate::index::{BattleMeta, IndexFolder, Manifest, VectorSource};
use crate::model::Model;
use crate::progress::Progress;

/// What `similar` looks up.
pub enum Query {
    /// A training battle, by id (its own row is skipped).
    Id(String),
    /// A prompt text, embedded with the index's model.
    Text(String),
}

/// What `similar` needs.
pub struct SimilarConfig {
    /// Index folder.
    pub index: PathBuf,
    /// The battle or text to look up.
    pub query: Query,
    /// How many battles to show.
    pub show: usize,
    /// How to embed a text query (checked against the index).
    pub embed: CheckedEmbed,
    /// The call's cancel token (a query shows no progress).
    pub progress: Progress,
}

/// One training battle near the query.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimilarHit {
    /// 1 for the nearest.
    pub rank: usize,
    /// The battle's id.
    pub id: String,
    /// Cosine similarity of the prompts.
    pub similarity: f32,
    /// Its vote (`model_a`, `model_b`, `tie`).
    pub vote: &'static str,
    /// Start of its prompt's last turn.
    pub prompt_start: String,
    /// Start of response A's last turn.
    pub response_a_start: String,
    /// Characters of response A (all turns).
    pub response_a_chars: u64,
    /// Start of response B's last turn.
    pub response_b_start: String,
    /// Characters of response B (all turns).
    pub response_b_chars: u64,
}

/// What `similar` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimilarResult {
    /// The query text (for `--id`, the start of the battle's last prompt turn).
    pub query: String,
    /// True for `--id`: `query` is the start of the battle's last prompt
    /// turn (what the index stores), while the search used the whole prompt.
    pub query_is_last_turn_start: bool,
    /// For `--id`: the true vote and the model's out-of-fold prediction.
    pub truth: Option<&'static str>,
    /// For `--id`: the out-of-fold prediction stored in the index. It is
    /// in-sample: the head was chosen on the same rows (see `evaluate`).
    pub prediction: Option<[f64; 3]>,
    /// The nearest training battles, nearest first.
    pub hits: Vec<SimilarHit>,
}

/// A character count stored as f32 (exact below 2^24), as an integer.
pub(super) fn whole(chars: f32) -> u64 {
    chars.max(0.0).round() as u64
}

/// A loaded index with its neighbour search, for look-ups by row or vector.
pub(super) struct Inspector {
    pub(super) manifest: Manifest,
    /// The training battles' embeddings (no text statistics unless set).
    pub(super) train: EncodedBattles,
    pub(super) meta: Vec<BattleMeta>,
    pub(super) model: Model,
}

impl Inspector {
    /// Load an index for about `queries` look-ups (`None`: one per training
    /// battle), so that a few look-ups never pay for an HNSW graph.
    pub(super) fn open(dir: &std::path::Path, queries: Option<usize>) -> Result<Inspector, PipelineError> {
        let folder = IndexFolder::load(dir)?;
        let queries = queries.unwrap_or(folder.train.len());
        let model = Model::assemble(folder.state, &folder.train, folder.labels, queries);
        Ok(Inspector { manifest: folder.manifest, train: folder.train, meta: folder.meta, model })
    }

    pub(super) fn row_of(&self, id: &str, index: &std::path::Path) -> Result<usize, PipelineError> {
        self.train
            .ids
            .iter()
            .position(|x| x == id)
            .ok_or_else(|| PipelineError::UnknownId { id: id.to_string(), index: index.to_owned() })
    }

    pub(super) fn prompt_of(&self, row: usize) -> &[f32] {
        let dim = self.train.dim;
        &self.train.prompt[row * dim..(row + 1) * dim]
    }

    /// The `k` training battles nearest to `vector` by prompt, skipping `skip`.
    pub(super) fn hits(&self, vector: &[f32], skip: Option<usize>, k: usize) -> Vec<SimilarHit> {
        self.model
            .similar_prompts(vector, k + skip.is_some() as usize)
            .into_iter()
            .filter(|h| Some(h.row) != skip)
            .take(k)
            .enumerate()
            .map(|(rank, h)| {
                let m = &self.meta[h.row];
                SimilarHit {
                    rank: rank + 1,
                    id: self.train.ids[h.row].clone(),
                    similarity: h.sim,
                    vote: self.model.labels()[h.row].name(),
                    prompt_start: m.prompt_start.clone(),
                    response_a_start: m.a_start.clone(),
                    response_a_chars: whole(m.a_chars),
                    response_b_start: m.b_start.clone(),
                    response_b_chars: whole(m.b_chars),
                }
            })
            .collect()
    }
}

/// The training battles whose prompts are nearest to a query.
pub fn similar(cfg: &SimilarConfig) -> Result<SimilarResult, PipelineError> {
    let ins = Inspector::open(&cfg.index, Some(1))?;
    let manifest = &ins.manifest;
    match &cfg.query {
        Query::Id(id) => {
            let row = ins.row_of(id, &cfg.index)?;
            let m = &ins.meta[row];
            Ok(SimilarResult {
                query: m.prompt_start.clone(),
                query_is_last_turn_start: true,
                truth: Some(ins.model.labels()[row].name()),
                prediction: Some(m.oof),
                hits: ins.hits(ins.prompt_of(row), Some(row), cfg.show),
            })
        }
        Query::Text(text) => {
            let progress = Progress::hidden().with_cancel(cfg.progress.cancel().clone());
            if let VectorSource::Vectors { producer, .. } = &manifest.source {
                let (index, producer) = (cfg.index.clone(), producer.clone());
                return Err(PipelineError::QueryNeedsModel { index, producer });
            }
            let mut encoding = Encoding::for_index(manifest, &cfg.index, &cfg.embed, &progress)?;
            let embedder = encoding.embedder().expect("a model index opens a model");
            let vector = embedder.embed_turns(&[std::slice::from_ref(text)], "query")?;
            Ok(SimilarResult {
                query: text.clone(),
                query_is_last_turn_start: false,
                truth: None,
                prediction: None,
                hits: ins.hits(&vector, None, cfg.show),
            })
        }
    }
}
