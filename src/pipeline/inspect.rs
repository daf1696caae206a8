//! Error analysis: the training battles nearest to a query (`similar`), and
//! the most confidently wrong out-of-fold predictions with their neighbours
//! (`errors`).

use std::path::PathBuf;

use super::error::PipelineError;
use super::options::EmbedOptions;
use crate::data::Label;
use crate::embed::{model_info, EmbedConfig, Embedder};
use crate::index::{BattleMeta, IndexFolder, Manifest};
use crate::metrics::argmax;
use crate::model::Model;

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
    pub embed: EmbedOptions,
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
    /// Characters of response A.
    pub response_a_chars: f32,
    /// Start of response B's last turn.
    pub response_b_start: String,
    /// Characters of response B.
    pub response_b_chars: f32,
}

/// What `similar` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimilarResult {
    /// The query text (for `--id`, the start of the battle's last prompt turn).
    pub query: String,
    /// For `--id`: the true vote and the model's out-of-fold prediction.
    pub truth: Option<&'static str>,
    /// For `--id`: the out-of-fold prediction stored in the index. It is
    /// in-sample: the head was chosen on the same rows (see `evaluate`).
    pub prediction: Option<[f64; 3]>,
    /// The nearest training battles, nearest first.
    pub hits: Vec<SimilarHit>,
}

/// A loaded index with its neighbour search, for look-ups by row or vector.
struct Inspector {
    manifest: Manifest,
    folder_ids: Vec<String>,
    meta: Vec<BattleMeta>,
    prompts: Vec<f32>,
    dim: usize,
    model: Model,
}

impl Inspector {
    fn open(dir: &std::path::Path) -> Result<Inspector, PipelineError> {
        let folder = IndexFolder::load(dir)?;
        let model = Model::assemble(folder.state, &folder.train, folder.labels);
        Ok(Inspector {
            manifest: folder.manifest,
            folder_ids: folder.train.ids,
            meta: folder.meta,
            prompts: folder.train.prompt,
            dim: folder.train.dim,
            model,
        })
    }

    fn row_of(&self, id: &str, index: &std::path::Path) -> Result<usize, PipelineError> {
        self.folder_ids
            .iter()
            .position(|x| x == id)
            .ok_or_else(|| PipelineError::UnknownId { id: id.to_string(), index: index.to_owned() })
    }

    fn prompt_of(&self, row: usize) -> &[f32] {
        &self.prompts[row * self.dim..(row + 1) * self.dim]
    }

    /// The `k` training battles nearest to `vector` by prompt, skipping `skip`.
    fn hits(&self, vector: &[f32], skip: Option<usize>, k: usize) -> Vec<SimilarHit> {
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
                    id: self.folder_ids[h.row].clone(),
                    similarity: h.sim,
                    vote: self.model.labels()[h.row].name(),
                    prompt_start: m.prompt_start.clone(),
                    response_a_start: m.a_start.clone(),
                    response_a_chars: m.a_chars,
                    response_b_start: m.b_start.clone(),
                    response_b_chars: m.b_chars,
                }
            })
            .collect()
    }
}

/// The training battles whose prompts are nearest to a query.
pub fn similar(cfg: &SimilarConfig) -> Result<SimilarResult, PipelineError> {
    let ins = Inspector::open(&cfg.index)?;
    let manifest = &ins.manifest;
    match &cfg.query {
        Query::Id(id) => {
            let row = ins.row_of(id, &cfg.index)?;
            let m = &ins.meta[row];
            Ok(SimilarResult {
                query: m.prompt_start.clone(),
                truth: Some(ins.model.labels()[row].name()),
                prediction: Some(m.oof),
                hits: ins.hits(ins.prompt_of(row), Some(row), cfg.show),
            })
        }
        Query::Text(text) => {
            let ecfg = cfg.embed.config(Some(&manifest.model));
            IndexFolder::check_model(manifest, &cfg.index, &model_info(&ecfg.model_dir)?)?;
            let mut embedder = Embedder::open(&EmbedConfig { progress: false, ..ecfg })?;
            let vector = embedder.embed_turns(&[std::slice::from_ref(text)], "query")?;
            Ok(SimilarResult {
                query: text.clone(),
                truth: None,
                prediction: None,
                hits: ins.hits(&vector, None, cfg.show),
            })
        }
    }
}

/// What `errors` needs.
pub struct ErrorsConfig {
    /// Index folder built from the same training file.
    pub index: PathBuf,
    /// OOF file written by `evaluate --oof`.
    pub oof: PathBuf,
    /// How many errors to show.
    pub show: usize,
    /// Neighbours shown per error.
    pub neighbours: usize,
}

/// One confidently wrong out-of-fold prediction.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ErrorCase {
    /// The battle's id.
    pub id: String,
    /// Its vote.
    pub truth: &'static str,
    /// The out-of-fold probabilities (A, B, tie).
    pub prediction: [f64; 3],
    /// The most probable class.
    pub predicted: &'static str,
    /// Its probability.
    pub confidence: f64,
    /// Start of the prompt's last turn.
    pub prompt_start: String,
    /// Start of response A's last turn.
    pub response_a_start: String,
    /// Characters of response A.
    pub response_a_chars: f32,
    /// Start of response B's last turn.
    pub response_b_start: String,
    /// Characters of response B.
    pub response_b_chars: f32,
    /// The training battles with the nearest prompts.
    pub neighbours: Vec<SimilarHit>,
}

/// Read an OOF file: ids, probabilities and true classes.
fn read_oof(path: &std::path::Path) -> Result<Vec<(String, [f64; 3], usize)>, PipelineError> {
    let bad =
        |row: usize, why: &str| PipelineError::BadOof { path: path.to_owned(), row, why: why.to_string() };
    let csv_err = |source| PipelineError::Csv { path: path.to_owned(), source };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let header: Vec<String> = reader.headers().map_err(csv_err)?.iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let needed = [
        "id",
        "winner_model_a",
        "winner_model_b",
        "winner_tie",
        "label_model_a",
        "label_model_b",
        "label_tie",
    ];
    let mut pos = [0usize; 7];
    for (p, name) in pos.iter_mut().zip(needed) {
        *p = col(name).ok_or_else(|| {
            bad(0, &format!("missing column `{name}` (write it with `knnpref evaluate --oof`)"))
        })?;
    }
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(csv_err)?;
        let num = |j: usize| -> Result<f64, PipelineError> {
            rec.get(pos[j])
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| bad(i + 1, &format!("`{}` is not a number", needed[j])))
        };
        let p = [num(1)?, num(2)?, num(3)?];
        let y = [num(4)?, num(5)?, num(6)?];
        let truth = (0..3).find(|&c| y[c] == 1.0).ok_or_else(|| bad(i + 1, "no label column holds 1"))?;
        rows.push((rec.get(pos[0]).unwrap_or_default().to_string(), p, truth));
    }
    Ok(rows)
}

/// The `n` most confidently wrong out-of-fold predictions, with neighbours.
pub fn errors(cfg: &ErrorsConfig) -> Result<Vec<ErrorCase>, PipelineError> {
    let rows = read_oof(&cfg.oof)?;
    let ins = Inspector::open(&cfg.index)?;
    let mut wrong: Vec<&(String, [f64; 3], usize)> =
        rows.iter().filter(|(_, p, y)| argmax(p) != *y).collect();
    wrong.sort_by(|a, b| {
        let (ca, cb) = (a.1[argmax(&a.1)], b.1[argmax(&b.1)]);
        cb.total_cmp(&ca).then_with(|| a.0.cmp(&b.0))
    });
    wrong
        .into_iter()
        .take(cfg.show)
        .map(|(id, p, y)| {
            let row = ins.row_of(id, &cfg.index)?;
            let m = &ins.meta[row];
            let c = argmax(p);
            Ok(ErrorCase {
                id: id.clone(),
                truth: Label::ALL[*y].name(),
                prediction: *p,
                predicted: Label::ALL[c].name(),
                confidence: p[c],
                prompt_start: m.prompt_start.clone(),
                response_a_start: m.a_start.clone(),
                response_a_chars: m.a_chars,
                response_b_start: m.b_start.clone(),
                response_b_chars: m.b_chars,
                neighbours: ins.hits(ins.prompt_of(row), Some(row), cfg.neighbours),
            })
        })
        .collect()
}
