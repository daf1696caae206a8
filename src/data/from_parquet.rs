//! The Parquet side of the battles reader: the same columns as the CSV
//! reader, as string cells, so both formats meet in one row parser.
//!
//! The turn columns (`prompt`, `response_a`, `response_b`) may hold either
//! JSON-list strings, as Kaggle's CSV does, or native lists of strings, as
//! Hugging Face `datasets` and pandas/pyarrow write them; a list cell is
//! rendered as the JSON array the turn parser reads, so both give the same
//! [`Battle`](super::Battle) (a `null` entry is a `null` turn, a `null` cell
//! an empty cell).

use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, GenericListArray, OffsetSizeTrait, StringArray, StringBuilder};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
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
    let turn_columns = [pos.prompt, pos.response_a, pos.response_b];
    let reader = builder.build().map_err(pq_err)?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|source| DataError::Arrow { path: path.to_owned(), source })?;
        // Each column knnpref reads, as strings once per batch.
        let mut cols: Vec<Option<StringArray>> = vec![None; header.len()];
        for p in pos.located() {
            let col = batch.column(p);
            let lists = if turn_columns.contains(&Some(p)) { string_lists_as_json(path, col)? } else { None };
            cols[p] = Some(match lists {
                Some(json) => json,
                None => as_strings(path, &header[p], col)?,
            });
        }
        for r in 0..batch.num_rows() {
            let cell = |p: usize| {
                let col = cols[p].as_ref().expect("every located column was read");
                Ok::<_, DataError>(if col.is_null(r) { String::new() } else { col.value(r).to_string() })
            };
            rows.push(pos.row(cell)?);
        }
    }
    Ok((header, rows))
}

fn as_strings(path: &Path, name: &str, col: &ArrayRef) -> Result<StringArray, DataError> {
    let type_err = || DataError::ParquetType {
        path: path.to_owned(),
        column: name.to_string(),
        found: col.data_type().to_string(),
    };
    let casted = arrow::compute::cast(col, &DataType::Utf8).map_err(|_| type_err())?;
    casted.as_any().downcast_ref::<StringArray>().cloned().ok_or_else(type_err)
}

/// A column of lists of strings (`list<string>`, `large_list<large_string>`
/// and the like) as one JSON array text per cell, nulls kept: a null cell
/// stays null, a null entry is a JSON `null`. `None` when the column is
/// anything else.
fn string_lists_as_json(path: &Path, col: &ArrayRef) -> Result<Option<StringArray>, DataError> {
    let is_text = |f: &arrow::datatypes::Field| {
        matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
    };
    let rendered = match col.data_type() {
        DataType::List(f) if is_text(f) => render(col.as_list::<i32>()),
        DataType::LargeList(f) if is_text(f) => render(col.as_list::<i64>()),
        _ => return Ok(None),
    };
    rendered.map(Some).map_err(|source| DataError::Arrow { path: path.to_owned(), source })
}

fn render<O: OffsetSizeTrait>(lists: &GenericListArray<O>) -> Result<StringArray, ArrowError> {
    // The entries of every list, as one string array (offsets index into it).
    let entries = arrow::compute::cast(lists.values(), &DataType::Utf8)?;
    let entries = entries.as_string::<i32>();
    let offsets = lists.value_offsets();
    let mut out = StringBuilder::with_capacity(lists.len(), entries.value_data().len() + 8 * lists.len());
    let mut turns: Vec<Option<&str>> = Vec::new();
    for r in 0..lists.len() {
        if lists.is_null(r) {
            out.append_null();
            continue;
        }
        turns.clear();
        let (lo, hi) = (offsets[r].as_usize(), offsets[r + 1].as_usize());
        turns.extend((lo..hi).map(|i| entries.is_valid(i).then(|| entries.value(i))));
        out.append_value(serde_json::to_string(&turns).expect("strings serialise"));
    }
    Ok(out.finish())
}
