//! Reading an index folder: the manifest checked field by field and file by
//! file, then the data files it names, each verified by sha256.

use std::cmp::Ordering;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use super::{io_err, BattleMeta, IndexError, IndexFolder, Manifest, FORMAT_VERSION, MANIFEST, ROLES};
use crate::data::Label;
use crate::features::BattleStats;
use crate::features::EncodedBattles;
use crate::fsio::sha256_hex;
use crate::model::ModelState;
use crate::table::Table;

/// How often a load starts again when a save replaced the index under it.
const LOAD_ATTEMPTS: usize = 3;

/// A data file opened and verified: its path (for messages) and handle.
struct Opened {
    path: PathBuf,
    file: std::fs::File,
}

impl IndexFolder {
    /// Read and check the manifest alone: its format version, every field,
    /// and a well-formed entry for every data file the format defines.
    pub fn read_manifest(dir: &Path) -> Result<Manifest, IndexError> {
        let path = dir.join(MANIFEST);
        if !path.is_file() {
            return Err(IndexError::NoManifest { dir: dir.to_owned() });
        }
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        // Check the version before the full schema, so that another format
        // gets the right message even if its fields differ.
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|source| IndexError::BadManifest { path: path.clone(), source })?;
        let Some(version) = value.get("format_version").and_then(serde_json::Value::as_u64) else {
            return Err(IndexError::NoFormatVersion { path });
        };
        let reads = FORMAT_VERSION;
        match version.cmp(&u64::from(reads)) {
            Ordering::Greater => {
                return Err(IndexError::NewerFormat { dir: dir.to_owned(), found: version, reads })
            }
            Ordering::Less => {
                return Err(IndexError::OlderFormat { dir: dir.to_owned(), found: version, reads })
            }
            Ordering::Equal => {}
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|source| IndexError::BadManifest { path: path.clone(), source })?;
        check_files(&path, &manifest)?;
        Ok(manifest)
    }

    /// Load the whole folder, verifying checksums and shapes. A save that
    /// commits between reading the manifest and opening its files (and
    /// removes them) makes the load start again with the new manifest.
    pub fn load(dir: &Path) -> Result<IndexFolder, IndexError> {
        Self::load_with(dir, Self::read_manifest(dir)?)
    }

    /// [`IndexFolder::load`] starting from a manifest already read with
    /// [`IndexFolder::read_manifest`] (the folder's `manifest` is a newer
    /// one if a save replaced the index meanwhile).
    pub fn load_with(dir: &Path, manifest: Manifest) -> Result<IndexFolder, IndexError> {
        let mut manifest = manifest;
        let mut attempt = 1;
        loop {
            match open_files(dir, &manifest) {
                Ok(files) => return read_folder(manifest, files),
                Err(missing @ IndexError::DataMissing { .. }) => {
                    let newer = Self::read_manifest(dir)?;
                    if attempt == LOAD_ATTEMPTS || newer == manifest {
                        return Err(missing);
                    }
                    manifest = newer;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The manifest names exactly the format's data files, each under the name
/// its checksum gives it.
fn check_files(path: &Path, manifest: &Manifest) -> Result<(), IndexError> {
    let refuse = |why: String| Err(IndexError::ManifestFiles { path: path.to_owned(), why });
    for role in ROLES {
        match manifest.files.get(role.name()) {
            None => return refuse(format!("lists no `{}` file", role.name())),
            Some(entry) if entry.file != role.file_name(&entry.sha256) => {
                return refuse(format!(
                    "names `{}` as the `{}` file, which is not the name of its checksum",
                    entry.file,
                    role.name()
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = manifest.files.keys().find(|k| !ROLES.iter().any(|r| r.name() == k.as_str())) {
        return refuse(format!("lists a file `{extra}`, which index format {FORMAT_VERSION} does not have"));
    }
    Ok(())
}

/// Open every data file first (an open file stays readable even if a later
/// save removes its name), then verify each one's sha256.
fn open_files(dir: &Path, manifest: &Manifest) -> Result<Vec<Opened>, IndexError> {
    let mut opened = Vec::with_capacity(ROLES.len());
    for role in ROLES {
        let path = dir.join(&manifest.files[role.name()].file);
        match std::fs::File::open(&path) {
            Ok(file) => opened.push(Opened { path, file }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(IndexError::DataMissing { path })
            }
            Err(e) => return Err(IndexError::Io { path, source: e }),
        }
    }
    for (role, o) in ROLES.iter().zip(&mut opened) {
        let mut bytes = Vec::new();
        o.file.read_to_end(&mut bytes).map_err(io_err(&o.path))?;
        if sha256_hex(&bytes) != manifest.files[role.name()].sha256 {
            return Err(IndexError::Checksum { path: o.path.clone() });
        }
        o.file.rewind().map_err(io_err(&o.path))?;
    }
    Ok(opened)
}

/// Parse the verified files into a folder, checking shapes against the manifest.
fn read_folder(manifest: Manifest, files: Vec<Opened>) -> Result<IndexFolder, IndexError> {
    // open_files opens one file per role, in the order of ROLES.
    let Ok([emb, battles, head]) = <[Opened; 3]>::try_from(files) else { unreachable!("one file per role") };
    let (n, dim) = (manifest.rows, manifest.source.dim());
    let epath = emb.path.clone();
    let et = Table::from_file(&emb.path, emb.file)?;
    let vectors = |col: &str| -> Result<Vec<f32>, IndexError> {
        let v = et.vectors(col, dim)?;
        if v.len() != n * dim {
            return Err(IndexError::Shape { path: epath.clone(), expected: n, dim, found: v.len() });
        }
        Ok(v)
    };
    let (prompt, a, b) = (vectors("prompt")?, vectors("response_a")?, vectors("response_b")?);
    let bt = Table::from_file(&battles.path, battles.file)?;
    let ids = bt.strings("id")?;
    let labels: Vec<Label> = bt.u8s("label")?.into_iter().map(|l| Label::from_index(l as usize)).collect();
    let (ps, as_, bs) =
        (bt.strings("prompt_start")?, bt.strings("response_a_start")?, bt.strings("response_b_start")?);
    let (ac, bc) = (bt.f32s("response_a_chars")?, bt.f32s("response_b_chars")?);
    let (oa, ob, ot) = (bt.f32s("oof_a")?, bt.f32s("oof_b")?, bt.f32s("oof_tie")?);
    let hashes = bt.strings("content_hash")?;
    let stat_columns = BattleStats::NAMES
        .iter()
        .map(|name| bt.f32s(&format!("stat_{name}")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(found) = stat_columns.iter().map(Vec::len).find(|&c| c != n) {
        return Err(IndexError::Shape { path: battles.path, expected: n, dim: 1, found });
    }
    let stats =
        (0..n).map(|i| BattleStats::from_values(&std::array::from_fn(|j| stat_columns[j][i]))).collect();
    let columns = [ids.len(), labels.len(), ps.len(), as_.len(), bs.len(), ac.len(), bc.len()];
    if let Some(&found) =
        columns.iter().chain([&oa.len(), &ob.len(), &ot.len(), &hashes.len()]).find(|&&c| c != n)
    {
        return Err(IndexError::Shape { path: battles.path, expected: n, dim: 1, found });
    }
    let meta = (0..n)
        .map(|i| BattleMeta {
            content_hash: hashes[i].clone(),
            prompt_start: ps[i].clone(),
            a_start: as_[i].clone(),
            b_start: bs[i].clone(),
            a_chars: ac[i],
            b_chars: bc[i],
            oof: [oa[i] as f64, ob[i] as f64, ot[i] as f64],
        })
        .collect();
    let mut hbytes = Vec::new();
    let mut hfile = head.file;
    hfile.read_to_end(&mut hbytes).map_err(io_err(&head.path))?;
    let state: ModelState =
        serde_json::from_slice(&hbytes).map_err(|source| IndexError::BadHead { path: head.path, source })?;
    let train =
        EncodedBattles { dim, ids, prompt, a, b, stats, labels: labels.iter().map(|&l| Some(l)).collect() };
    Ok(IndexFolder { manifest, train, labels, meta, state })
}
