//! Writing an index folder crash-safely: new data files under names of their
//! own contents, then the manifest as the one atomic commit, then removal of
//! what no manifest refers to.
//!
//! Stages a test can stop a save at (with the `test-hooks` feature, see
//! `fsio::pause_at`): `save-begin` (the folder locked, nothing written),
//! `embeddings-temp`, `battles-temp`, `head-temp` (that file complete under a
//! temporary name, before its rename), `manifest-temp` (the new manifest
//! complete, before the rename that commits it), `committed` (before old
//! files are removed) and `gc-partial` (one old file removed).

use std::collections::HashSet;
use std::path::Path;

use super::{io_err, BattleMeta, DataFile, IndexError, IndexFolder, Role, LEGACY_FILES, MANIFEST, ROLES};
use crate::features::BattleStats;
use crate::fsio::{
    is_temp_name, lock_dir, pause_at, sha256_file, sha256_hex, sync_dir, write_atomic_at, LOCK_FILE,
};
use crate::table::{table_bytes, Column};

impl IndexFolder {
    /// Write the folder at `dir`, replacing an earlier index there: the old
    /// index stays loadable until the new manifest is renamed into place.
    /// Non-finite numbers are refused before anything is written.
    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        assert_eq!(self.train.stats.len(), self.train.len(), "an index is saved with its text statistics");
        self.check_finite(dir)?;
        prepare(dir)?;
        let _lock = lock_dir(dir).map_err(io_err(dir))?;
        remove_files(dir, &|name| is_temp_name(name), None)?;
        pause_at("save-begin");
        let mut manifest = self.manifest.clone();
        manifest.files.clear();
        for role in ROLES {
            let bytes = self.bytes_of(role, dir)?;
            let entry = write_data_file(dir, role, &bytes)?;
            manifest.files.insert(role.name().to_string(), entry);
        }
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        let path = dir.join(MANIFEST);
        write_atomic_at(&path, "manifest-temp", |w| w.write_all(&json)).map_err(io_err(&path))?;
        pause_at("committed");
        let keep: HashSet<&str> = manifest.files.values().map(|f| f.file.as_str()).collect();
        // The new index is in place: a file that cannot be removed now is
        // garbage that the next save removes, not a failed save.
        let _ = remove_files(dir, &|name| is_ours(name) && !keep.contains(name), Some("gc-partial"));
        Ok(())
    }

    /// The bytes of one data file.
    fn bytes_of(&self, role: Role, dir: &Path) -> Result<Vec<u8>, IndexError> {
        let path = dir.join(format!("{}.{}", role.name(), role.extension()));
        let (t, m) = (&self.train, &self.meta);
        let f32s = |f: &dyn Fn(&BattleMeta) -> f32| Column::F32(m.iter().map(f).collect());
        let strs =
            |f: &dyn Fn(&BattleMeta) -> &str| Column::Str(m.iter().map(|b| f(b).to_string()).collect());
        Ok(match role {
            Role::Embeddings => table_bytes(
                &path,
                vec![
                    ("id", Column::Str(t.ids.clone())),
                    ("prompt", Column::Vectors { dim: t.dim, values: t.prompt.clone() }),
                    ("response_a", Column::Vectors { dim: t.dim, values: t.a.clone() }),
                    ("response_b", Column::Vectors { dim: t.dim, values: t.b.clone() }),
                ],
            )?,
            Role::Battles => {
                let mut columns = vec![
                    ("id", Column::Str(t.ids.clone())),
                    ("label", Column::U8(self.labels.iter().map(|l| l.index() as u8).collect())),
                    ("prompt_start", strs(&|b| &b.prompt_start)),
                    ("response_a_start", strs(&|b| &b.a_start)),
                    ("response_b_start", strs(&|b| &b.b_start)),
                    ("response_a_chars", f32s(&|b| b.a_chars)),
                    ("response_b_chars", f32s(&|b| b.b_chars)),
                    ("oof_a", f32s(&|b| b.oof[0] as f32)),
                    ("oof_b", f32s(&|b| b.oof[1] as f32)),
                    ("oof_tie", f32s(&|b| b.oof[2] as f32)),
                    ("content_hash", strs(&|b| &b.content_hash)),
                ];
                // The text statistics, so that a grown index (`index --base`)
                // never needs the old battles' texts.
                let names: Vec<String> = BattleStats::NAMES.iter().map(|n| format!("stat_{n}")).collect();
                let values: Vec<[f32; 25]> = t.stats.iter().map(BattleStats::values).collect();
                for (i, name) in names.iter().enumerate() {
                    columns.push((name, Column::F32(values.iter().map(|v| v[i]).collect())));
                }
                table_bytes(&path, columns)?
            }
            Role::Head => serde_json::to_vec_pretty(&self.state).expect("head serialises"),
        })
    }

    /// Refuse NaN and infinities anywhere they would be saved: JSON would
    /// write them as `null`, which no load could read back.
    fn check_finite(&self, dir: &Path) -> Result<(), IndexError> {
        let refuse = |what, at: String| Err(IndexError::NonFinite { dir: dir.to_owned(), what, at });
        let head = serde_json::to_value(&self.state).expect("head serialises");
        if let Some(at) = first_null(&head, "head") {
            return refuse("the fitted head", at);
        }
        let t = &self.train;
        for (name, values) in [("prompt", &t.prompt), ("response_a", &t.a), ("response_b", &t.b)] {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return refuse("the training embeddings", format!("{name} row {}", i / t.dim.max(1)));
            }
        }
        if let Some(row) = self.meta.iter().position(|m| m.oof.iter().any(|p| !p.is_finite())) {
            return refuse("the out-of-fold predictions", format!("row {row}"));
        }
        Ok(())
    }
}

/// The path of the first `null` in a JSON value (where serde_json put a
/// non-finite float); the head holds no optional fields, so any is one.
fn first_null(value: &serde_json::Value, at: &str) -> Option<String> {
    match value {
        serde_json::Value::Null => Some(at.to_string()),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| first_null(v, &format!("{at}[{i}]")))
        }
        serde_json::Value::Object(fields) => {
            fields.iter().find_map(|(k, v)| first_null(v, &format!("{at}.{k}")))
        }
        _ => None,
    }
}

/// Check that `dir` may be written, and create it. An existing folder must
/// hold an index, or be empty, or hold only what an interrupted first save
/// leaves behind; anything else is the user's and is never replaced.
fn prepare(dir: &Path) -> Result<(), IndexError> {
    if dir.exists() && !dir.is_dir() {
        return Err(IndexError::NotAnIndex { dir: dir.to_owned() });
    }
    if dir.exists() && !dir.join(MANIFEST).is_file() {
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let name = entry.map_err(io_err(dir))?.file_name();
            let name = name.to_string_lossy();
            if !is_ours(&name) && name != LOCK_FILE {
                return Err(IndexError::NotAnIndex { dir: dir.to_owned() });
            }
        }
    }
    std::fs::create_dir_all(dir).map_err(io_err(dir))
}

/// Write one data file under the name of its contents; a file already there
/// under that name with those contents is kept as it is.
fn write_data_file(dir: &Path, role: Role, bytes: &[u8]) -> Result<DataFile, IndexError> {
    let sha256 = sha256_hex(bytes);
    let file = role.file_name(&sha256);
    let path = dir.join(&file);
    if !path.is_file() || sha256_file(&path).ok().as_ref() != Some(&sha256) {
        let stage = format!("{}-temp", role.name());
        write_atomic_at(&path, &stage, |w| w.write_all(bytes)).map_err(io_err(&path))?;
    }
    Ok(DataFile { file, sha256 })
}

/// Whether a file in an index folder is knnpref's to remove when no manifest
/// refers to it: data files of any format and temporary files.
fn is_ours(name: &str) -> bool {
    is_temp_name(name) || LEGACY_FILES.contains(&name) || ROLES.iter().any(|r| r.owns(name))
}

/// Remove the files of `dir` that `doomed` picks, then sync the folder (with
/// the test pause `stage` after the first). Runs under the folder's lock, so
/// no other save's files are among them.
fn remove_files(dir: &Path, doomed: &dyn Fn(&str) -> bool, stage: Option<&str>) -> Result<(), IndexError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if doomed(&name) && path.is_file() {
            std::fs::remove_file(&path).map_err(io_err(&path))?;
            removed += 1;
            if let Some(stage) = stage.filter(|_| removed == 1) {
                pause_at(stage);
            }
        }
    }
    if removed > 0 {
        sync_dir(dir).map_err(io_err(dir))?;
    }
    Ok(())
}
