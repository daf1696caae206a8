//! A command's paths, checked before any work: the inputs its outputs must
//! not touch (the model folder or vectors it embeds with included, found the
//! way the command will find them), `-` refused for binary outputs, and
//! whether an output's folder can take a file.

use std::path::Path;

use super::encoding::{model_dir, recorded_dir};
use super::error::PipelineError;
use super::submission::{SubmissionError, STDOUT};
use crate::embed::{CheckedEmbed, ModelChoice};
use crate::fsio::{parent_of, refuse_overlap, Role};
use crate::index::{IndexFolder, VectorSource};

/// Refuse `-` for an output that cannot go to standard output (a Parquet
/// file, an index folder, a model folder).
pub(crate) fn refuse_stdout(what: &'static str, path: &Path) -> Result<(), PipelineError> {
    match path == Path::new(STDOUT) {
        true => Err(PipelineError::NotToStdout { what }),
        false => Ok(()),
    }
}

/// The files a command embeds with: the vectors file or folder it names,
/// else the model folder it will open. With `index` (an index to score or
/// grow) and no model named, the index's own model folder, as recorded in
/// its manifest; an unreadable manifest adds nothing here (it is reported
/// when the index is opened).
pub(crate) fn embed_inputs(embed: &CheckedEmbed, index: Option<&Path>) -> Vec<Role> {
    match (&embed.model, index) {
        (ModelChoice::Vectors(path), _) => vec![Role::existing("the vectors", path)],
        (ModelChoice::Default, Some(dir)) => {
            let Ok(manifest) = IndexFolder::read_manifest(dir) else { return Vec::new() };
            match &manifest.source {
                VectorSource::Model { model, folder } => recorded_dir(folder, model, dir)
                    .map(|d| vec![Role::folder("the model folder", &d)])
                    .unwrap_or_default(),
                VectorSource::Vectors { .. } => Vec::new(),
            }
        }
        _ => vec![Role::folder("the model folder", &model_dir(embed))],
    }
}

/// Refuse any of `outputs` that is, holds or lies inside one of `inputs`.
pub(crate) fn refuse_overwrites(outputs: &[Role], inputs: &[Role]) -> Result<(), PipelineError> {
    refuse_overlap(outputs, inputs).map_err(PipelineError::from)
}

/// Fail before any work if `path` cannot be written: its folder must exist
/// and accept a new file, and the path must not be a folder. A refusal of
/// the system (permission, read-only file system) stays a typed I/O error,
/// so that it is classed as the environment's.
pub fn check_writable(path: &Path) -> Result<(), SubmissionError> {
    let not = |why: String| SubmissionError::NotWritable { path: path.to_owned(), why };
    if path.is_dir() {
        return Err(not("it is a folder".into()));
    }
    let parent = parent_of(path);
    if !parent.is_dir() {
        return Err(not(format!("folder {} does not exist", parent.display())));
    }
    tempfile::NamedTempFile::new_in(&parent)
        .map_err(|source| SubmissionError::Io { path: path.to_owned(), source })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Destination;

    #[test]
    fn a_dash_is_standard_output_and_anything_else_a_file() {
        assert_eq!(Destination::from_arg(Path::new("-")), Destination::Stdout);
        assert_eq!(Destination::from_arg(Path::new("./-")), Destination::File("./-".into()));
        assert_eq!(Destination::Stdout.to_string(), "standard output");
        assert!(refuse_stdout("the vectors file", Path::new("-")).is_err());
        assert!(refuse_stdout("the vectors file", Path::new("v.parquet")).is_ok());
    }

    #[test]
    fn unwritable_paths_are_refused_early() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&dir.path().join("missing/sub.csv")).is_err());
        assert!(check_writable(dir.path()).is_err());
        assert!(check_writable(&dir.path().join("ok.csv")).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_folder_is_a_typed_refusal_of_the_system() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let result = check_writable(&ro.join("sub.csv"));
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        // As root a mode does not stop a write; there the check passes.
        if let Err(e) = result {
            assert_eq!(PipelineError::from(e).fault(), crate::fault::Fault::Environment);
        }
    }
}
