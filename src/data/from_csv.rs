//! The CSV side of the battles reader: raw string cells of the columns
//! knnpref reads, with UTF-8 checked per row so errors name the row and line.

use std::path::Path;

use super::columns::{ColumnPositions, RawRow};
use super::{DataError, Labels};

/// The header and the raw cells of every data row of a CSV file.
pub(super) fn read_rows(path: &Path, labels: Labels) -> Result<(Vec<String>, Vec<RawRow>), DataError> {
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
    let pos = ColumnPositions::locate(&header).reading(labels);
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let row = rows.len() + 1;
        let line = record.position().map_or(0, |p| p.line());
        let cells = pos.row(|p| {
            let bytes = record.get(p).unwrap_or_default();
            std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| DataError::InvalidUtf8 {
                path: path.to_owned(),
                row,
                line,
            })
        })?;
        rows.push(cells);
    }
    Ok((header, rows))
}
