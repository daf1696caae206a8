//! The Parquet side of the battles reader: the same columns as the CSV
//! reader, cast to strings, so both formats meet in one row parser.

use std::path::Path;

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::columns::{ColumnPositions, RawRow};
use super::{DataError, Labels};

/// Read the knnpref columns of a Parquet battles file as raw string cells.
pub(super) fn read_rows(path: &Path, labels: Labels) -> Result<(Vec<String>, Vec<RawRow>), DataError> {
    let pq_err = |source| DataError::Parquet { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq_err)?;
    let header: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let pos = ColumnPositions::locate(&header).reading(labels);
    let reader = builder.build().map_err(pq_err)?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|source| DataError::Arrow { path: path.to_owned(), source })?;
        // Each column knnpref reads, cast to strings once per batch.
        let mut cols: Vec<Option<StringArray>> = vec![None; header.len()];
        for p in pos.located() {
            cols[p] = Some(as_strings(path, &header[p], batch.column(p))?);
        }
        for r in 0..batch.num_rows() {
            let cell = |p: usize| {
                let col = cols[p].as_ref().expect("every located column was cast");
                Ok::<_, DataError>(if col.is_null(r) { String::new() } else { col.value(r).to_string() })
            };
            rows.push(pos.row(cell)?);
        }
    }
    Ok((header, rows))
}

fn as_strings(path: &Path, name: &str, col: &ArrayRef) -> Result<StringArray, DataError> {
    let casted = arrow::compute::cast(col, &DataType::Utf8).map_err(|_| DataError::ParquetType {
        path: path.to_owned(),
        column: name.to_string(),
        found: col.data_type().to_string(),
    })?;
    casted.as_any().downcast_ref::<StringArray>().cloned().ok_or_else(|| DataError::ParquetType {
        path: path.to_owned(),
        column: name.to_string(),
        found: col.data_type().to_string(),
    })
}
