//! The CSV side of the battles reader: raw string cells of the columns
//! knnpref reads, with UTF-8 checked per row so errors name the row and line.

use std::path::Path;

use super::{locate_columns, DataError, RawRowCells};

/// The header and the raw cells of every data row of a CSV file.
pub(super) fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<RawRowCells>), DataError> {
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
