//! `knnpref index --base`: an index grown from an older one. The base's
//! vectors, text statistics and votes come from its folder, so only the new
//! battles are embedded; the fit then runs on all of them, as a rebuild
//! would, and gives the same index as `index` on the files together.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::error::PipelineError;
use super::options::open_index;
use crate::data::Battle;
use crate::embed::CheckedEmbed;
use crate::index::IndexFolder;
use crate::model::{CheckedParams, ModelParams};
use crate::progress::Progress;

/// An index to grow (`--base`), and what to do with battles it holds.
#[derive(Debug, Clone)]
pub struct Base {
    /// The base index folder (it may be the output folder too).
    pub dir: PathBuf,
    /// Battles of the new file that the base already holds.
    pub existing: Existing,
}

/// What to do with a new battle the base already holds (same id or same
/// content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse the call, with their count.
    Refuse,
    /// Leave them out, and count them.
    Skip,
}

/// The base folder and the vectors for new battles: its own model (found
/// as `predict` finds it, unless the options name one) or vectors of its
/// producer; a base fitted with other options is refused.
pub(crate) fn open_base(
    base: &Base,
    embed: &CheckedEmbed,
    params: &CheckedParams,
    progress: &Progress,
) -> Result<(IndexFolder, super::encoding::Encoding), PipelineError> {
    let (folder, encoding) = open_index(&base.dir, embed, progress)?;
    let differs = differences(&folder.state.params, params);
    if !differs.is_empty() {
        return Err(PipelineError::BaseOptions { base: base.dir.clone(), differs: differs.join(", ") });
    }
    Ok((folder, encoding))
}

/// The settings in which two fits differ, in words (`seed: 0 in the base,
/// 3 here`).
fn differences(built: &ModelParams, given: &ModelParams) -> Vec<String> {
    let (b, g) = (serde_json::to_value(built), serde_json::to_value(given));
    let (Ok(serde_json::Value::Object(b)), Ok(serde_json::Value::Object(g))) = (b, g) else {
        unreachable!("parameters serialise to an object")
    };
    b.iter()
        .filter(|(k, v)| g.get(*k) != Some(v))
        .map(|(k, v)| {
            let here = g.get(k).map_or_else(|| "none".to_string(), |x| x.to_string());
            format!("{k}: {v} in the base, {here} here")
        })
        .collect()
}

/// Remove from `battles` (and from `hashes`, their content hashes, row by
/// row) those the base holds, by id or content: refused with their count,
/// or skipped and counted.
pub(crate) fn drop_existing(
    battles: &mut Vec<Battle>,
    hashes: &mut Vec<String>,
    base: &IndexFolder,
    existing: Existing,
    train: &Path,
    base_dir: &Path,
) -> Result<usize, PipelineError> {
    let ids: HashSet<&str> = base.train.ids.iter().map(String::as_str).collect();
    let held_hashes: HashSet<&str> = base.meta.iter().map(|m| m.content_hash.as_str()).collect();
    let held: Vec<bool> = battles
        .iter()
        .zip(hashes.iter())
        .map(|(b, h)| ids.contains(b.id.as_str()) || held_hashes.contains(h.as_str()))
        .collect();
    let Some(first) = held.iter().position(|&h| h) else { return Ok(0) };
    let count = held.iter().filter(|&&h| h).count();
    if existing == Existing::Refuse {
        return Err(PipelineError::AlreadyInBase {
            train: train.to_owned(),
            base: base_dir.to_owned(),
            count,
            first: battles[first].id.clone(),
        });
    }
    let (mut in_battles, mut in_hashes) = (held.iter(), held.iter());
    battles.retain(|_| in_battles.next() == Some(&false));
    hashes.retain(|_| in_hashes.next() == Some(&false));
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_setting_with_both_values() {
        let a = ModelParams::default();
        let b = ModelParams { seed: 3, folds: 7, ..a.clone() };
        let d = differences(&a, &b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().any(|s| s == "seed: 0 in the base, 3 here"), "{d:?}");
        assert!(d.iter().any(|s| s.starts_with("folds: ")), "{d:?}");
        assert!(differences(&a, &a).is_empty());
    }
}
