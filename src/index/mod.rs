//! The index folder: training embeddings, battle metadata, the fitted head,
//! and a `manifest.json` that says what built them.
//!
//! Modelled on qdrant's collections: the whole folder is written under a
//! temporary name and renamed into place, so a crash never leaves a
//! half-written index, and the manifest (written last) pins the format
//! version, model, HNSW parameters, training data hash and seed. Loading
//! verifies every file's sha256 and refuses a mismatched model or a newer format.

pub mod ann;

use std::path::{Path, PathBuf};

use crate::data::Label;
use crate::embed::{sha256_hex, ModelInfo};
use crate::parquet_io::{write_table, Column, Table, TableError};
use crate::pipeline::encode::Encoded;
use crate::pipeline::model::Learned;

/// Bumped whenever the folder layout or a file's meaning changes.
pub const FORMAT_VERSION: u32 = 1;

const MANIFEST: &str = "manifest.json";
const EMBEDDINGS: &str = "embeddings.parquet";
const BATTLES: &str = "battles.parquet";
const HEAD: &str = "head.json";

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
        "{dir} was built with model {built_id} (sha256 {built_sha}), but the model given is {given_id} \
         (sha256 {given_sha}); pass --model with the model it was built with, or rebuild the index"
    )]
    ModelMismatch { dir: PathBuf, built_id: String, built_sha: String, given_id: String, given_sha: String },
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
    pub format_version: u32,
    pub knnpref_version: String,
    pub model: ModelInfo,
    pub hnsw: ann::HnswParams,
    pub search: ann::Search,
    pub seed: u64,
    pub folds: usize,
    pub train_file: String,
    pub train_sha256: String,
    pub rows: usize,
    /// sha256 of each data file in the folder.
    pub files: std::collections::BTreeMap<String, String>,
}

/// Per-battle metadata kept for `similar` and `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct BattleMeta {
    pub prompt_start: String,
    pub a_start: String,
    pub b_start: String,
    pub a_chars: f32,
    pub b_chars: f32,
    /// Out-of-fold probability of the training row.
    pub oof: [f64; 3],
}

/// A loaded index folder.
pub struct IndexFolder {
    pub manifest: Manifest,
    pub train: Encoded,
    pub labels: Vec<Label>,
    pub meta: Vec<BattleMeta>,
    pub learned: Learned,
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
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let tmp = tempfile::Builder::new()
            .prefix(".knnpref-index-")
            .tempdir_in(&parent)
            .map_err(io_err(&parent))?;
        let _pending = crate::cleanup::Pending::register(tmp.path());
        let mut manifest = self.manifest.clone();
        manifest.files.clear();
        self.write_tables(tmp.path())?;
        for name in [EMBEDDINGS, BATTLES, HEAD] {
            let path = tmp.path().join(name);
            let bytes = std::fs::read(&path).map_err(io_err(&path))?;
            manifest.files.insert(name.to_string(), sha256_hex(&bytes));
        }
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        let mpath = tmp.path().join(MANIFEST);
        std::fs::write(&mpath, json).map_err(io_err(&mpath))?;
        crate::cleanup::make_readable(tmp.path()).map_err(io_err(tmp.path()))?;
        let staged = tmp.keep();
        if dir.exists() {
            let old = parent.join(format!(".knnpref-old-{}", std::process::id()));
            std::fs::rename(dir, &old).map_err(io_err(dir))?;
            std::fs::rename(&staged, dir).map_err(io_err(dir))?;
            std::fs::remove_dir_all(&old).map_err(io_err(&old))?;
        } else {
            std::fs::rename(&staged, dir).map_err(io_err(dir))?;
        }
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
            ],
        )?;
        let head = serde_json::to_vec_pretty(&self.learned).expect("head serialises");
        let path = dir.join(HEAD);
        std::fs::write(&path, head).map_err(io_err(&path))?;
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
                built_id: manifest.model.id.clone(),
                built_sha: manifest.model.sha256.clone(),
                given_id: given.id.clone(),
                given_sha: given.sha256.clone(),
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
        let meta = (0..n)
            .map(|i| BattleMeta {
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
        let learned: Learned =
            serde_json::from_slice(&hbytes).map_err(|source| IndexError::BadHead { path: hpath, source })?;
        let train = Encoded {
            dim,
            ids,
            prompt,
            a,
            b,
            stats: Vec::new(),
            labels: labels.iter().map(|&l| Some(l)).collect(),
        };
        Ok(IndexFolder { manifest, train, labels, meta, learned })
    }
}
