//! Reading Chatbot Arena battles from Kaggle-format CSV or Parquet files.
//!
//! Everything downstream works on [`Battle`]s, so this module is the one place
//! that knows the file formats, the JSON-list turn encoding (with its `null`
//! turns and lone surrogate escapes) and the one-hot winner columns. Every
//! problem is reported with the file, the 1-based data row and the column.

use std::path::{Path, PathBuf};

use crate::jsonlist::{parse_turns, TurnsError};

/// Who won a battle. The discriminant is the class index used everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    A = 0,
    B = 1,
    Tie = 2,
}

impl Label {
    pub fn index(self) -> usize {
        self as usize
    }

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
    pub id: String,
    pub prompt: Vec<String>,
    pub response_a: Vec<String>,
    pub response_b: Vec<String>,
    pub label: Option<Label>,
}

impl Battle {
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

/// Whether a file must carry the three winner columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    Required,
    /// Test files: labels are read when present, ignored otherwise.
    Optional,
}

/// The battles of one file plus the warnings met while reading it.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub path: PathBuf,
    pub battles: Vec<Battle>,
    pub warnings: Vec<String>,
    /// The file had no `id` column; ids are the 0-based row numbers.
    pub ids_generated: bool,
    /// The file carried winner columns.
    pub has_labels: bool,
}

impl Dataset {
    pub fn labels(&self) -> Option<Vec<Label>> {
        self.battles.iter().map(|b| b.label).collect()
    }
}

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
        source: csv::Error,
    },
    #[error("{path}: row {row} (line {line}) is not valid UTF-8; fix or re-encode the file as UTF-8")]
    InvalidUtf8 { path: PathBuf, row: usize, line: u64 },
    #[error("{path}: cannot read Parquet")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: cannot read Parquet batch")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
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
    #[error("{path}: row {row}: id `{id}` already appears in row {first_row}; ids must be unique")]
    DuplicateId { path: PathBuf, row: usize, id: String, first_row: usize },
}

const TEXT_COLUMNS: [&str; 3] = ["prompt", "response_a", "response_b"];
const LABEL_COLUMNS: [&str; 3] = ["winner_model_a", "winner_model_b", "winner_tie"];

/// Read a battles file; `.parquet` files are read as Parquet, all others as CSV.
pub fn read_battles(path: &Path, labels: Labels) -> Result<Dataset, DataError> {
    let is_parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let (columns, rows) =
        if is_parquet { crate::parquet_io::read_raw_rows(path)? } else { read_csv_rows(path)? };
    assemble(path, labels, &columns, rows)
}

/// The columns knnpref reads, in [`RawRow`] order.
pub(crate) const ALL_COLUMNS: [&str; 7] =
    ["id", "prompt", "response_a", "response_b", "winner_model_a", "winner_model_b", "winner_tie"];

/// Which of [`ALL_COLUMNS`] a header holds, and where.
pub(crate) fn locate_columns(header: &[String]) -> [Option<usize>; 7] {
    let mut pos = [None; 7];
    for (slot, name) in pos.iter_mut().zip(ALL_COLUMNS) {
        *slot = header.iter().position(|h| h.trim() == name);
    }
    pos
}

fn read_csv_rows(path: &Path) -> Result<(Vec<String>, Vec<RawRowCells>), DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let csv_err = |source: csv::Error| DataError::Csv {
        path: path.to_owned(),
        line: source.position().map_or(1, |p| p.line()),
        source,
    };
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(csv_err)?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim_start_matches('\u{feff}').to_string())
        .collect();
    let pos = locate_columns(&header);
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let row = rows.len() + 1;
        let line = record.position().map_or(0, |p| p.line());
        let mut cells: RawRowCells = Default::default();
        for (cell, p) in cells.iter_mut().zip(pos) {
            if let Some(p) = p {
                let bytes = record.get(p).unwrap_or_default();
                let text = std::str::from_utf8(bytes).map_err(|_| DataError::InvalidUtf8 {
                    path: path.to_owned(),
                    row,
                    line,
                })?;
                *cell = Some(text.to_owned());
            }
        }
        rows.push(cells);
    }
    Ok((header, rows))
}

pub(crate) type RawRowCells = [Option<String>; 7];

fn assemble(
    path: &Path,
    labels: Labels,
    header: &[String],
    rows: Vec<RawRowCells>,
) -> Result<Dataset, DataError> {
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(DataError::Empty { path: path.to_owned() });
    }
    let pos = locate_columns(header);
    let found = header.join(", ");
    for (i, name) in ALL_COLUMNS.iter().enumerate().skip(1).take(3) {
        if pos[i].is_none() {
            return Err(DataError::MissingColumn { path: path.to_owned(), column: name, found });
        }
    }
    let label_present = pos[4..].iter().filter(|p| p.is_some()).count();
    if labels == Labels::Required || label_present > 0 {
        for (i, name) in LABEL_COLUMNS.iter().enumerate() {
            if pos[4 + i].is_none() {
                return Err(DataError::MissingColumn { path: path.to_owned(), column: name, found });
            }
        }
    }
    if rows.is_empty() {
        return Err(DataError::Empty { path: path.to_owned() });
    }
    let has_labels = label_present == 3;
    let ids_generated = pos[0].is_none();
    let mut warnings = Vec::new();
    if ids_generated {
        warnings.push(format!(
            "{}: no `id` column; using row numbers 0..{} as ids",
            path.display(),
            rows.len()
        ));
    }
    if labels == Labels::Optional && has_labels {
        warnings.push(format!("{}: carries winner columns; they are ignored for prediction", path.display()));
    }
    let mut seen = std::collections::HashMap::new();
    let mut battles = Vec::with_capacity(rows.len());
    for (i, raw) in rows.into_iter().enumerate() {
        let row = i + 1;
        let battle = parse_row(path, row, raw, has_labels, &mut warnings)?;
        let id = if ids_generated { i.to_string() } else { battle.id.clone() };
        if let Some(first_row) = seen.insert(id.clone(), row) {
            return Err(DataError::DuplicateId { path: path.to_owned(), row, id, first_row });
        }
        battles.push(Battle { id, ..battle });
    }
    Ok(Dataset { path: path.to_owned(), battles, warnings, ids_generated, has_labels })
}

fn parse_row(
    path: &Path,
    row: usize,
    raw: RawRowCells,
    has_labels: bool,
    warnings: &mut Vec<String>,
) -> Result<Battle, DataError> {
    let [id, prompt, ra, rb, wa, wb, wt] = raw;
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
    let prompt = turns(prompt, TEXT_COLUMNS[0])?;
    let response_a = turns(ra, TEXT_COLUMNS[1])?;
    let response_b = turns(rb, TEXT_COLUMNS[2])?;
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
    let label = if has_labels { Some(parse_label(path, row, [wa, wb, wt])?) } else { None };
    Ok(Battle { id: id.unwrap_or_default(), prompt, response_a, response_b, label })
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
mod tests {
    use super::*;

    fn write(content: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        std::io::Write::write_all(&mut f, content.as_bytes()).unwrap();
        f
    }

    const HEADER: &str =
        "id,model_a,model_b,prompt,response_a,response_b,winner_model_a,winner_model_b,winner_tie\n";

    #[test]
    fn reads_multi_turn_null_and_labels() {
        let f = write(&format!(
            "{HEADER}7,x,y,\"[\"\"hi\"\",\"\"again\"\"]\",\"[\"\"a1\"\",null]\",\"[\"\"b1\"\",\"\"b2\"\"]\",0,1.0,0\n"
        ));
        let d = read_battles(f.path(), Labels::Required).unwrap();
        let b = &d.battles[0];
        assert_eq!(b.id, "7");
        assert_eq!(b.prompt, vec!["hi", "again"]);
        assert_eq!(b.response_a, vec!["a1", ""]);
        assert_eq!(b.label, Some(Label::B));
    }

    #[test]
    fn bom_crlf_and_reordered_columns() {
        let f = write(
            "\u{feff}response_b,id,prompt,response_a,extra\r\n\"[\"\"b\"\"]\",x1,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",zzz\r\n",
        );
        let d = read_battles(f.path(), Labels::Optional).unwrap();
        assert_eq!(d.battles[0].id, "x1");
        assert_eq!(d.battles[0].response_b, vec!["b"]);
        assert!(!d.has_labels);
    }

    #[test]
    fn label_errors_name_the_row() {
        let f = write(&format!("{HEADER}1,x,y,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\",1,1,0\n"));
        let err = read_battles(f.path(), Labels::Required).unwrap_err();
        assert!(matches!(err, DataError::BadLabel { row: 1, .. }), "{err}");
    }

    #[test]
    fn missing_column_is_named() {
        let f = write("id,prompt,response_a\n1,\"[]\",\"[]\"\n");
        let err = read_battles(f.path(), Labels::Optional).unwrap_err();
        assert!(matches!(err, DataError::MissingColumn { column: "response_b", .. }), "{err}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let row = "\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\"";
        let f = write(&format!("id,prompt,response_a,response_b\n5,{row}\n5,{row}\n"));
        let err = read_battles(f.path(), Labels::Optional).unwrap_err();
        assert!(matches!(err, DataError::DuplicateId { row: 2, first_row: 1, .. }), "{err}");
    }

    #[test]
    fn header_only_is_empty_error() {
        let f = write(HEADER);
        assert!(matches!(read_battles(f.path(), Labels::Required).unwrap_err(), DataError::Empty { .. }));
    }

    #[test]
    fn invalid_utf8_names_the_row() {
        let mut bytes =
            b"id,prompt,response_a,response_b\n1,\"[\"\"ok\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\"\n2,\"[\"\""
                .to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b"\"\"]\",\"[]\",\"[]\"\n");
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        std::io::Write::write_all(&mut f, &bytes).unwrap();
        let err = read_battles(f.path(), Labels::Optional).unwrap_err();
        assert!(matches!(err, DataError::InvalidUtf8 { row: 2, .. }), "{err}");
    }

    #[test]
    fn reads_parquet_with_the_same_columns() {
        use crate::parquet_io::{write_table, Column};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.parquet");
        let s = |v: &[&str]| Column::Str(v.iter().map(|x| x.to_string()).collect());
        write_table(
            &path,
            vec![
                ("id", s(&["10", "11"])),
                ("prompt", s(&["[\"p1\"]", "[\"p2\", null]"])),
                ("response_a", s(&["[\"a1\"]", "[\"a2\", \"a3\"]"])),
                ("response_b", s(&["[\"b1\"]", "[\"b2\", \"b3\"]"])),
                ("winner_model_a", s(&["0", "1"])),
                ("winner_model_b", s(&["0", "0"])),
                ("winner_tie", s(&["1", "0"])),
            ],
        )
        .unwrap();
        let d = read_battles(&path, Labels::Required).unwrap();
        assert_eq!(d.battles.len(), 2);
        assert_eq!(d.battles[1].prompt, vec!["p2", ""]);
        assert_eq!(d.labels().unwrap(), vec![Label::Tie, Label::A]);
    }
}
