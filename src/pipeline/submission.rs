//! Writing submission and out-of-fold files: checked early, written atomically.

use std::path::{Path, PathBuf};

use crate::data::{Label, LABEL_COLUMNS};
use crate::fault::Fault;
use crate::fsio::{is_within, parent_of, same_file, write_atomic};

/// Predictions for a test file, in its row order: what the submission file
/// holds, as data.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// Test ids, in input order.
    pub ids: Vec<String>,
    /// `[winner_model_a, winner_model_b, winner_tie]` per id, clipped into
    /// (0, 1) and summing to 1 (the values the submission file rounds).
    pub probs: Vec<[f64; 3]>,
}

/// Why a submission or OOF file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// Found before any work: the path cannot take a new file.
    #[error("cannot write {path}: {why}")]
    NotWritable {
        /// The file asked for.
        path: PathBuf,
        /// Why not.
        why: String,
    },
    /// The output path is one of the command's inputs (or lies inside an
    /// input folder): refused before any work, so no input is ever lost.
    #[error("refusing to write {output}: it is {what} ({input}), which this command reads; choose another output path")]
    OutputIsInput {
        /// The output asked for.
        output: PathBuf,
        /// The input, in words (`the test file`, …).
        what: &'static str,
        /// The input's path as given.
        input: PathBuf,
    },
    /// Writing failed midway (the earlier file, if any, is intact).
    #[error("writing {path}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl SubmissionError {
    /// Whose fault: the user's, who chose the path (a refusal of the system
    /// anywhere in the chain is found first by the caller).
    pub fn fault(&self) -> Fault {
        match self {
            SubmissionError::NotWritable { .. }
            | SubmissionError::OutputIsInput { .. }
            | SubmissionError::Io { .. } => Fault::User,
        }
    }
}

/// Fail before any work if `path` cannot be written: its folder must exist
/// and accept a new file, and the path must not be a folder.
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
        .map_err(|e| not(format!("folder {} is not writable ({e})", parent.display())))?;
    Ok(())
}

/// An input of a command, which none of its outputs may overwrite.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A file, in words (`the test file`) and its path.
    File(&'static str, &'a Path),
    /// A folder whose files are all inputs (an index, a model folder).
    Folder(&'static str, &'a Path),
}

/// Refuse the output `out` when it is one of `inputs`: the same file (by
/// resolved path, or the same inode through a link), or inside an input
/// folder. Called before any work.
pub fn refuse_inputs(out: &Path, inputs: &[Input<'_>]) -> Result<(), SubmissionError> {
    for input in inputs {
        let (what, path, hit) = match *input {
            Input::File(what, path) => (what, path, same_file(out, path)),
            Input::Folder(what, path) => (what, path, is_within(out, path)),
        };
        if hit {
            return Err(SubmissionError::OutputIsInput {
                output: out.to_owned(),
                what,
                input: path.to_owned(),
            });
        }
    }
    Ok(())
}

/// Write `id,winner_model_a,winner_model_b,winner_tie` through a temporary
/// file in the same folder and an atomic rename; an old file stays intact
/// until the new one is complete.
pub fn write_submission(path: &Path, ids: &[String], probs: &[[f64; 3]]) -> Result<(), SubmissionError> {
    let probs: Vec<[f64; 3]> = probs.iter().map(normalised).collect();
    write_rows(path, ids, &probs, None)
}

/// [`write_submission`] for rows that [`predict_rows`](super::predict_rows)
/// returned (already clipped and normalised, so written as they are).
pub fn write_predictions(path: &Path, rows: &Predictions) -> Result<(), SubmissionError> {
    write_rows(path, &rows.ids, &rows.probs, None)
}

/// Out-of-fold predictions: the submission columns plus the true one-hot
/// labels as `label_model_a,label_model_b,label_tie`.
pub fn write_oof(
    path: &Path,
    ids: &[String],
    probs: &[[f64; 3]],
    labels: &[Label],
) -> Result<(), SubmissionError> {
    let probs: Vec<[f64; 3]> = probs.iter().map(normalised).collect();
    write_rows(path, ids, &probs, Some(labels))
}

/// Write rows whose probabilities are already normalised.
fn write_rows(
    path: &Path,
    ids: &[String],
    probs: &[[f64; 3]],
    labels: Option<&[Label]>,
) -> Result<(), SubmissionError> {
    write_atomic(path, |w| {
        write!(w, "id,{}", LABEL_COLUMNS.join(","))?;
        if labels.is_some() {
            for class in Label::ALL {
                write!(w, ",label_{}", class.name())?;
            }
        }
        writeln!(w)?;
        for (row, (id, p)) in ids.iter().zip(probs).enumerate() {
            let id = if id.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", id.replace('"', "\"\""))
            } else {
                id.clone()
            };
            write!(w, "{id},{:.9},{:.9},{:.9}", p[0], p[1], p[2])?;
            if let Some(labels) = labels {
                let c = labels[row].index();
                write!(w, ",{},{},{}", (c == 0) as u8, (c == 1) as u8, (c == 2) as u8)?;
            }
            writeln!(w)?;
        }
        Ok(())
    })
    .map_err(|source| SubmissionError::Io { path: path.to_owned(), source })
}

/// Clip into (0, 1) and renormalise, so every row is valid for scoring.
pub(crate) fn normalised(p: &[f64; 3]) -> [f64; 3] {
    let eps = 1e-7;
    let c = [p[0].clamp(eps, 1.0), p[1].clamp(eps, 1.0), p[2].clamp(eps, 1.0)];
    let s = c[0] + c[1] + c[2];
    [c[0] / s, c[1] / s, c[2] / s]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_rows_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sub.csv");
        std::fs::write(&out, "old").unwrap();
        write_submission(&out, &["1".into(), "a,b".into()], &[[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "id,winner_model_a,winner_model_b,winner_tie");
        assert_eq!(lines[1], "1,0.200000000,0.300000000,0.500000000");
        assert!(lines[2].starts_with("\"a,b\",0.99999"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
    }

    #[test]
    fn unwritable_paths_are_refused_early() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&dir.path().join("missing/sub.csv")).is_err());
        assert!(check_writable(dir.path()).is_err());
        assert!(check_writable(&dir.path().join("ok.csv")).is_ok());
    }
}
