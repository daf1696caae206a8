//! The index folder: training embeddings, battle metadata, the fitted head,
//! and a `manifest.json` that says what built them.
//!
//! It is the storage layer: it knows files, not how they were computed.
//! Modelled on qdrant's collections: the whole folder is written under a
//! temporary name and renamed into place, so a crash never leaves a
//! half-written index, and the manifest (written last) pins the format
//! version, model, HNSW parameters, training data hash and seed. Loading
//! verifies every file's sha256 and refuses a mismatched model or a newer format.

use std::path::{Path, PathBuf};

use crate::data::Label;
use crate::embed::ModelInfo;
use crate::features::EncodedBattles;
use crate::fsio::{replace_dir, sha256_hex, write_atomic};
use crate::model::ModelState;
use crate::search::{HnswParams, Search};
use crate::table::{write_table, Column, Table, TableError};

/// Bumped whenever the folder layout or a file's meaning changes. 2: head.json
/// may use the word-level feature groups (`repeat`, `uniq`, `overlap`), which
/// format-1 readers would ignore; format-1 folders load as before.
pub const FORMAT_VERSION: u32 = 2;

const MANIFEST: &str = "manifest.json";
const EMBEDDINGS: &str = "embeddings.parquet";
const BATTLES: &str = "battles.parquet";
const HEAD: &str = "head.json";

/// Why an index folder cannot be written or used; each says what to do.
#[allow(missing_docs)] // each variant's message is its documentation
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{dir} is not a knnpref index (no manifest.json); build one with `knnpref index`")]
    NoManifest { dir: PathBuf },
    #[error("{path} is corrupt; rebuild the index with `knnpref index`")]
    BadManifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{dir} was written by index format {found}, newer than this knnpref understands ({FORMAT_VERSION}); \
         upgrade knnpref or rebuild the index"
    )]
    NewerFormat { dir: PathBuf, found: u32 },
    #[error(
        "{dir} was built with {} model {} (sha256 {}), but the model given is the {} model {} (sha256 {}); \
         pass --model with the model it was built with, or rebuild the index",
        built.kind.name(), built.id, built.sha256, given.kind.name(), given.id, given.sha256
    )]
    ModelMismatch { dir: PathBuf, built: Box<ModelInfo>, given: Box<ModelInfo> },
    #[error(
        "{path} does not match the checksum in manifest.json (truncated or modified?); rebuild the index"
    )]
    Checksum { path: PathBuf },
    #[error("{path}: expected {expected} rows of dimension {dim}, found {found} values")]
    Shape { path: PathBuf, expected: usize, dim: usize, found: usize },
    #[error("{dir} exists and is not a knnpref index; refusing to replace it")]
    NotAnIndex { dir: PathBuf },
    #[error("index folder {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{path}: invalid head file")]
    BadHead {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// What built the index.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Layout version of the folder ([`FORMAT_VERSION`] when written).
    pub format_version: u32,
    /// The knnpref version that wrote it.
    pub knnpref_version: String,
    /// The sentence model the embeddings come from.
    pub model: ModelInfo,
    /// HNSW parameters used when the graph is built.
    pub hnsw: HnswParams,
    /// Exact or HNSW search.
    pub search: Search,
    /// The seed of the fit.
    pub seed: u64,
    /// Cross-fitting folds.
    pub folds: usize,
    /// File name of the training file.
    pub train_file: String,
    /// sha256 of the training file.
    pub train_sha256: String,
    /// Training battles.
    pub rows: usize,
    /// sha256 of each data file in the folder.
    pub files: std::collections::BTreeMap<String, String>,
}

/// Per-battle metadata kept for `similar` and `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct BattleMeta {
    /// [`crate::data::Battle::content_hash`] of the battle (empty in indexes
    /// written before it was stored).
    pub content_hash: String,
    /// The start of the prompt's last turn.
    pub prompt_start: String,
    /// The start of response A's last turn.
    pub a_start: String,
    /// The start of response B's last turn.
    pub b_start: String,
    /// Characters of response A (all turns).
    pub a_chars: f32,
    /// Characters of response B (all turns).
    pub b_chars: f32,
    /// Out-of-fold probability of the training row.
    pub oof: [f64; 3],
}

/// A loaded index folder.
pub struct IndexFolder {
    /// What built the folder.
    pub manifest: Manifest,
    /// Training embeddings (without text statistics).
    pub train: EncodedBattles,
    /// Training votes.
    pub labels: Vec<Label>,
    /// Per-battle metadata, by row.
    pub meta: Vec<BattleMeta>,
    /// The fitted model's state.
    pub state: ModelState,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io { path: path.to_owned(), source }
}

impl IndexFolder {
    /// Write the folder atomically at `dir`, replacing an earlier index there.
    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        if dir.exists() && !dir.join(MANIFEST).is_file() {
            let empty = std::fs::read_dir(dir).map_err(io_err(dir))?.next().is_none();
            if !empty {
                return Err(IndexError::NotAnIndex { dir: dir.to_owned() });
            }
        }
        let fill = |staging: &Path| -> Result<(), IndexError> {
            let mut manifest = self.manifest.clone();
            manifest.files.clear();
            self.write_tables(staging)?;
            for name in [EMBEDDINGS, BATTLES, HEAD] {
                let path = staging.join(name);
                let bytes = std::fs::read(&path).map_err(io_err(&path))?;
                manifest.files.insert(name.to_string(), sha256_hex(&bytes));
            }
            let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
            let mpath = staging.join(MANIFEST);
            write_atomic(&mpath, |w| w.write_all(&json)).map_err(io_err(&mpath))
        };
        replace_dir(dir, ".knnpref-index-", fill, |path, source| IndexError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(())
    }

    fn write_tables(&self, dir: &Path) -> Result<(), IndexError> {
        let t = &self.train;
        write_table(
            &dir.join(EMBEDDINGS),
            vec![
                ("id", Column::Str(t.ids.clone())),
                ("prompt", Column::Vectors { dim: t.dim, values: t.prompt.clone() }),
                ("response_a", Column::Vectors { dim: t.dim, values: t.a.clone() }),
                ("response_b", Column::Vectors { dim: t.dim, values: t.b.clone() }),
            ],
        )?;
        let m = &self.meta;
        let f32s = |f: &dyn Fn(&BattleMeta) -> f32| Column::F32(m.iter().map(f).collect());
        write_table(
            &dir.join(BATTLES),
            vec![
                ("id", Column::Str(t.ids.clone())),
                ("label", Column::U8(self.labels.iter().map(|l| l.index() as u8).collect())),
                ("prompt_start", Column::Str(m.iter().map(|b| b.prompt_start.clone()).collect())),
                ("response_a_start", Column::Str(m.iter().map(|b| b.a_start.clone()).collect())),
                ("response_b_start", Column::Str(m.iter().map(|b| b.b_start.clone()).collect())),
                ("response_a_chars", f32s(&|b| b.a_chars)),
                ("response_b_chars", f32s(&|b| b.b_chars)),
                ("oof_a", f32s(&|b| b.oof[0] as f32)),
                ("oof_b", f32s(&|b| b.oof[1] as f32)),
                ("oof_tie", f32s(&|b| b.oof[2] as f32)),
                ("content_hash", Column::Str(m.iter().map(|b| b.content_hash.clone()).collect())),
            ],
        )?;
        let head = serde_json::to_vec_pretty(&self.state).expect("head serialises");
        let path = dir.join(HEAD);
        write_atomic(&path, |w| w.write_all(&head)).map_err(io_err(&path))?;
        Ok(())
    }

    /// Read and check the manifest alone.
    pub fn read_manifest(dir: &Path) -> Result<Manifest, IndexError> {
        let path = dir.join(MANIFEST);
        if !path.is_file() {
            return Err(IndexError::NoManifest { dir: dir.to_owned() });
        }
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        // Check the version before the full schema, so that a newer format
        // gets the right message even if its fields changed.
        let version = serde_json::from_slice::<serde_json::Value>(&bytes)
            .map_err(|source| IndexError::BadManifest { path: path.clone(), source })?
            .get("format_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        if version > FORMAT_VERSION {
            return Err(IndexError::NewerFormat { dir: dir.to_owned(), found: version });
        }
        serde_json::from_slice(&bytes).map_err(|source| IndexError::BadManifest { path, source })
    }

    /// Refuse to use the index with a model other than the one it was built with.
    pub fn check_model(manifest: &Manifest, dir: &Path, given: &ModelInfo) -> Result<(), IndexError> {
        if manifest.model.sha256 != given.sha256 {
            return Err(IndexError::ModelMismatch {
                dir: dir.to_owned(),
                built: Box::new(manifest.model.clone()),
                given: Box::new(given.clone()),
            });
        }
        Ok(())
    }

    /// Load the whole folder, verifying checksums and shapes.
    pub fn load(dir: &Path) -> Result<IndexFolder, IndexError> {
        let manifest = Self::read_manifest(dir)?;
        for (name, sha) in &manifest.files {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(io_err(&path))?;
            if &sha256_hex(&bytes) != sha {
                return Err(IndexError::Checksum { path });
            }
        }
        let (n, dim) = (manifest.rows, manifest.model.dim);
        let epath = dir.join(EMBEDDINGS);
        let emb = Table::read(&epath)?;
        let vectors = |col: &str| -> Result<Vec<f32>, IndexError> {
            let v = emb.vectors(col, dim)?;
            if v.len() != n * dim {
                return Err(IndexError::Shape { path: epath.clone(), expected: n, dim, found: v.len() });
            }
            Ok(v)
        };
        let (prompt, a, b) = (vectors("prompt")?, vectors("response_a")?, vectors("response_b")?);
        let bpath = dir.join(BATTLES);
        let bt = Table::read(&bpath)?;
        let ids = bt.strings("id")?;
        let labels: Vec<Label> =
            bt.u8s("label")?.into_iter().map(|l| Label::from_index(l as usize)).collect();
        if ids.len() != n || labels.len() != n {
            return Err(IndexError::Shape { path: bpath, expected: n, dim: 1, found: ids.len() });
        }
        let (ps, as_, bs) =
            (bt.strings("prompt_start")?, bt.strings("response_a_start")?, bt.strings("response_b_start")?);
        let (ac, bc) = (bt.f32s("response_a_chars")?, bt.f32s("response_b_chars")?);
        let (oa, ob, ot) = (bt.f32s("oof_a")?, bt.f32s("oof_b")?, bt.f32s("oof_tie")?);
        // Older folders have no content hashes: overlap checks then go by id alone.
        let hashes = bt.strings("content_hash").unwrap_or_else(|_| vec![String::new(); n]);
        let meta = (0..n)
            .map(|i| BattleMeta {
                content_hash: hashes.get(i).cloned().unwrap_or_default(),
                prompt_start: ps[i].clone(),
                a_start: as_[i].clone(),
                b_start: bs[i].clone(),
                a_chars: ac[i],
                b_chars: bc[i],
                oof: [oa[i] as f64, ob[i] as f64, ot[i] as f64],
            })
            .collect();
        let hpath = dir.join(HEAD);
        let hbytes = std::fs::read(&hpath).map_err(io_err(&hpath))?;
        let state: ModelState =
            serde_json::from_slice(&hbytes).map_err(|source| IndexError::BadHead { path: hpath, source })?;
        let train = EncodedBattles {
            dim,
            ids,
            prompt,
            a,
            b,
            stats: Vec::new(),
            labels: labels.iter().map(|&l| Some(l)).collect(),
        };
        Ok(IndexFolder { manifest, train, labels, meta, state })
    }
}
