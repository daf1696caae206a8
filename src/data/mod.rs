//! Reading Chatbot Arena battles from Kaggle-format CSV or Parquet files.
//!
//! Everything downstream works on [`Battle`]s, so this module is the one place
//! that knows the file formats, the JSON-list turn encoding (with its `null`
//! turns and lone surrogate escapes) and the one-hot winner columns. Every
//! problem is reported with the file, the 1-based data row and the column.

use std::path::{Path, PathBuf};

mod columns;
mod from_csv;
mod from_parquet;
mod sniff;
pub mod turns;

use crate::fault::Fault;
pub use columns::Labels;
pub(crate) use columns::LABEL_COLUMNS;
use columns::{ColumnPositions, RawRow};
use turns::parse_turns;
pub(crate) use turns::TurnsError;

/// Who won a battle. The discriminant is the class index used everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    /// Response A won (`winner_model_a`).
    A = 0,
    /// Response B won (`winner_model_b`).
    B = 1,
    /// Neither (`winner_tie`).
    Tie = 2,
}

impl Label {
    /// Every class, in class-index order (the order of every probability triple).
    pub const ALL: [Label; 3] = [Label::A, Label::B, Label::Tie];

    /// The class index: 0 for A, 1 for B, 2 for a tie.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label of a class index; anything above 1 is a tie.
    pub fn from_index(i: usize) -> Label {
        match i {
            0 => Label::A,
            1 => Label::B,
            _ => Label::Tie,
        }
    }

    /// The label after swapping the two responses.
    pub fn swapped(self) -> Label {
        match self {
            Label::A => Label::B,
            Label::B => Label::A,
            Label::Tie => Label::Tie,
        }
    }

    /// The class name as the Kaggle columns spell it: `model_a`, `model_b`, `tie`
    /// (the submission column is `winner_` + this name).
    pub fn name(self) -> &'static str {
        match self {
            Label::A => "model_a",
            Label::B => "model_b",
            Label::Tie => "tie",
        }
    }
}

/// One battle: a conversation and the two sides' responses, turn by turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Battle {
    /// The file's `id`, kept as text (or the row number when there is none).
    pub id: String,
    /// The user's turns.
    pub prompt: Vec<String>,
    /// Model A's answers, one per turn.
    pub response_a: Vec<String>,
    /// Model B's answers, one per turn.
    pub response_b: Vec<String>,
    /// The vote, when the file has winner columns.
    pub label: Option<Label>,
}

impl Battle {
    /// A fingerprint of the prompt and both responses (16 hex digits of a
    /// sha256 over the turns, with separators that cannot occur in text), so
    /// that the same battle is recognised under another id.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for side in [&self.prompt, &self.response_a, &self.response_b] {
            for turn in side {
                h.update(turn.as_bytes());
                h.update([0xff]);
            }
            h.update([0xfe]);
        }
        hex::encode(&h.finalize()[..8])
    }

    /// The same battle with the two responses exchanged.
    pub fn swapped(&self) -> Battle {
        Battle {
            id: self.id.clone(),
            prompt: self.prompt.clone(),
            response_a: self.response_b.clone(),
            response_b: self.response_a.clone(),
            label: self.label.map(Label::swapped),
        }
    }
}

/// The battles of one file plus the warnings met while reading it.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The file read.
    pub path: PathBuf,
    /// Its rows, in file order.
    pub battles: Vec<Battle>,
    /// Problems that did not stop the read, for the user to see.
    pub warnings: Vec<String>,
    /// The file had no `id` column; ids are the 0-based row numbers.
    pub ids_generated: bool,
    /// The `model_a` and `model_b` names of each row, in file order, when the
    /// file has both columns (Kaggle's training file does; its test file does not).
    pub models: Option<Vec<[String; 2]>>,
}

impl Dataset {
    /// Every row's vote, or `None` when any row has none.
    pub fn labels(&self) -> Option<Vec<Label>> {
        self.battles.iter().map(|b| b.label).collect()
    }
}

/// Why a battles file could not be read; each names the file, and the row
/// and column where there is one.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: CSV error near line {line}")]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: ::csv::Error,
    },
    #[error("{path}: row {row} (line {line}) is not valid UTF-8; fix or re-encode the file as UTF-8")]
    InvalidUtf8 { path: PathBuf, row: usize, line: u64 },
    #[error("{path}: cannot read Parquet")]
    Parquet {
        path: PathBuf,
        #[source]
        source: ::parquet::errors::ParquetError,
    },
    #[error("{path}: cannot read Parquet batch")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("{path}: is named .parquet but does not start with Parquet's magic bytes PAR1; {looks_like}")]
    NotParquet { path: PathBuf, looks_like: &'static str },
    #[error("{path}: Parquet column `{column}` has type {found}; expected strings")]
    ParquetType { path: PathBuf, column: String, found: String },
    #[error("{path}: missing required column `{column}` (found: {found})")]
    MissingColumn { path: PathBuf, column: &'static str, found: String },
    #[error("{path}: is empty or has a header but no data rows")]
    Empty { path: PathBuf },
    #[error("{path}: row {row}, column `{column}`")]
    Turns {
        path: PathBuf,
        row: usize,
        column: &'static str,
        #[source]
        source: TurnsError,
    },
    #[error("{path}: row {row}, column `{column}`: `{value}` is not a number (expected 0 or 1)")]
    BadLabelValue { path: PathBuf, row: usize, column: &'static str, value: String },
    #[error("{path}: row {row}: winner columns must hold exactly one 1 (found a={a}, b={b}, tie={tie})")]
    BadLabel { path: PathBuf, row: usize, a: f64, b: f64, tie: f64 },
    #[error("{path}: row {row}: the `id` cell is empty; every battle needs an id (Kaggle rejects a submission row without one)")]
    EmptyId { path: PathBuf, row: usize },
    #[error("{path}: row {row}: id `{id}` already appears in row {first_row}; ids must be unique")]
    DuplicateId { path: PathBuf, row: usize, id: String, first_row: usize },
}

impl DataError {
    /// Whose fault: always the file's, that is the user's (a refusal of the
    /// system anywhere in the chain is found by the caller first).
    pub fn fault(&self) -> Fault {
        use DataError as D;
        match self {
            D::Io { .. }
            | D::Csv { .. }
            | D::InvalidUtf8 { .. }
            | D::Parquet { .. }
            | D::Arrow { .. }
            | D::NotParquet { .. }
            | D::ParquetType { .. }
            | D::MissingColumn { .. }
            | D::Empty { .. }
            | D::Turns { .. }
            | D::BadLabelValue { .. }
            | D::BadLabel { .. }
            | D::EmptyId { .. }
            | D::DuplicateId { .. } => Fault::User,
        }
    }
}

/// Read a battles file: Parquet when it starts with Parquet's magic bytes,
/// whatever its name, else CSV (a file named `.parquet` that is not Parquet
/// is refused). A test file's winner columns (`Labels::Optional`) are not
/// read at all.
pub fn read_battles(path: &Path, labels: Labels) -> Result<Dataset, DataError> {
    let (header, rows) = match sniff::format_of(path)? {
        sniff::Format::Parquet => from_parquet::read_rows(path, labels)?,
        sniff::Format::Csv => from_csv::read_rows(path, labels)?,
    };
    assemble(path, labels, &header, rows)
}

/// What the row parser needs to know of the file.
struct RowContext<'a> {
    path: &'a Path,
    /// Parse the winner columns into a label (training files).
    labelled: bool,
}

fn assemble(path: &Path, labels: Labels, header: &[String], rows: Vec<RawRow>) -> Result<Dataset, DataError> {
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(DataError::Empty { path: path.to_owned() });
    }
    let pos = ColumnPositions::locate(header);
    let missing = |column: &'static str| DataError::MissingColumn {
        path: path.to_owned(),
        column,
        found: header.join(", "),
    };
    for (at, name) in [(pos.prompt, "prompt"), (pos.response_a, "response_a"), (pos.response_b, "response_b")]
    {
        at.ok_or_else(|| missing(name))?;
    }
    let winners_found = pos.winners.iter().filter(|p| p.is_some()).count();
    if labels == Labels::Required {
        for (at, name) in pos.winners.iter().zip(LABEL_COLUMNS) {
            at.ok_or_else(|| missing(name))?;
        }
    }
    if rows.is_empty() {
        return Err(DataError::Empty { path: path.to_owned() });
    }
    let labelled = labels == Labels::Required;
    let ids_generated = pos.id.is_none();
    let mut warnings = Vec::new();
    if ids_generated {
        warnings.push(format!(
            "{}: no `id` column; using row numbers 0 to {} as ids",
            path.display(),
            rows.len().saturating_sub(1)
        ));
    }
    if labels == Labels::Optional && winners_found > 0 {
        warnings.push(format!(
            "{}: carries winner columns; they are ignored (a test file's votes are not read)",
            path.display()
        ));
    }
    let ctx = RowContext { path, labelled };
    let mut seen = std::collections::HashMap::new();
    let mut battles = Vec::with_capacity(rows.len());
    let has_models = pos.model_a.is_some() && pos.model_b.is_some();
    let mut models = Vec::with_capacity(if has_models { rows.len() } else { 0 });
    for (i, mut raw) in rows.into_iter().enumerate() {
        let row = i + 1;
        if has_models {
            models.push([raw.model_a.take().unwrap_or_default(), raw.model_b.take().unwrap_or_default()]);
        }
        let battle = parse_row(&ctx, row, raw, &mut warnings)?;
        let id = if ids_generated { i.to_string() } else { battle.id.clone() };
        if id.trim().is_empty() {
            return Err(DataError::EmptyId { path: path.to_owned(), row });
        }
        if let Some(first_row) = seen.insert(id.clone(), row) {
            return Err(DataError::DuplicateId { path: path.to_owned(), row, id, first_row });
        }
        battles.push(Battle { id, ..battle });
    }
    let models = has_models.then_some(models);
    Ok(Dataset { path: path.to_owned(), battles, warnings, ids_generated, models })
}

fn parse_row(
    ctx: &RowContext<'_>,
    row: usize,
    raw: RawRow,
    warnings: &mut Vec<String>,
) -> Result<Battle, DataError> {
    let path = ctx.path;
    let mut turns = |cell: Option<String>, column: &'static str| {
        let text = cell.unwrap_or_default();
        let parsed = parse_turns(&text).map_err(|source| DataError::Turns {
            path: path.to_owned(),
            row,
            column,
            source,
        })?;
        if parsed.was_plain_string {
            warnings.push(format!(
                "{}: row {row}, column `{column}`: not a JSON list; read as a single turn",
                path.display()
            ));
        }
        Ok::<_, DataError>(parsed.turns)
    };
    let prompt = turns(raw.prompt, "prompt")?;
    let response_a = turns(raw.response_a, "response_a")?;
    let response_b = turns(raw.response_b, "response_b")?;
    if prompt.len() != response_a.len() || prompt.len() != response_b.len() {
        warnings.push(format!(
            "{}: row {row}: turn counts differ (prompt {}, response_a {}, response_b {}); \
             each side's turns are used as they are",
            path.display(),
            prompt.len(),
            response_a.len(),
            response_b.len()
        ));
    }
    let label = if ctx.labelled { Some(parse_label(path, row, raw.winners)?) } else { None };
    Ok(Battle { id: raw.id.unwrap_or_default(), prompt, response_a, response_b, label })
}

fn parse_label(path: &Path, row: usize, cells: [Option<String>; 3]) -> Result<Label, DataError> {
    let mut values = [0.0f64; 3];
    for (i, cell) in cells.into_iter().enumerate() {
        let text = cell.unwrap_or_default();
        values[i] = text.trim().parse::<f64>().map_err(|_| DataError::BadLabelValue {
            path: path.to_owned(),
            row,
            column: LABEL_COLUMNS[i],
            value: text.clone(),
        })?;
    }
    let ones: Vec<usize> = (0..3).filter(|&i| values[i] == 1.0).collect();
    let zeros = values.iter().filter(|&&v| v == 0.0).count();
    if ones.len() != 1 || zeros != 2 {
        return Err(DataError::BadLabel {
            path: path.to_owned(),
            row,
            a: values[0],
            b: values[1],
            tie: values[2],
        });
    }
    Ok(Label::from_index(ones[0]))
}

#[cfg(test)]
mod tests;
