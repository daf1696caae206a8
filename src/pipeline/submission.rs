//! Writing submission and out-of-fold files: checked early, written atomically.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::data::{Label, LABEL_COLUMNS};
use crate::fault::Fault;
use crate::fsio::write_atomic;

/// Where a text output (the submission CSV) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A file, written atomically.
    File(PathBuf),
    /// Standard output (`-` on the command line).
    Stdout,
}

impl Destination {
    /// `-` is standard output; anything else a file path.
    pub fn from_arg(path: &Path) -> Destination {
        match path == Path::new(STDOUT) {
            true => Destination::Stdout,
            false => Destination::File(path.to_owned()),
        }
    }

    /// The file, when it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Destination::File(path) => Some(path),
            Destination::Stdout => None,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::File(path) => write!(f, "{}", path.display()),
            Destination::Stdout => f.write_str("standard output"),
        }
    }
}

/// The command-line spelling of standard output.
pub(crate) const STDOUT: &str = "-";

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
    /// Writing failed midway (the earlier file, if any, is intact).
    #[error("cannot write {path}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl SubmissionError {
    /// Whose fault: the user's, who chose the path, unless the system
    /// refused the write.
    pub fn fault(&self) -> Fault {
        match self {
            SubmissionError::NotWritable { .. } => Fault::User,
            SubmissionError::Io { source, .. } => Fault::of_io(source),
        }
    }
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
/// To standard output they are written as they come (a broken pipe, as
/// when the reader is `head`, is an I/O error the binary exits 0 on).
pub fn write_predictions(to: &Destination, rows: &Predictions) -> Result<(), SubmissionError> {
    match to {
        Destination::File(path) => write_rows(path, &rows.ids, &rows.probs, None),
        Destination::Stdout => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            rows_to(&mut out, &rows.ids, &rows.probs, None)
                .and_then(|()| out.flush())
                .map_err(|source| SubmissionError::Io { path: to.to_string().into(), source })
        }
    }
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
    write_atomic(path, |w| rows_to(w, ids, probs, labels))
        .map_err(|source| SubmissionError::Io { path: path.to_owned(), source })
}

/// The CSV rows, header first, into `w`.
fn rows_to(
    w: &mut dyn Write,
    ids: &[String],
    probs: &[[f64; 3]],
    labels: Option<&[Label]>,
) -> std::io::Result<()> {
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
}
