//! The index folder's Parquet tables: named columns written in one go, and
//! read back whole with typed accessors.
//!
//! Embeddings are stored as fixed-size float lists, per-battle metadata as
//! plain columns. Kept apart from the battles reader (`data`), which only
//! reads Parquet, so that storage and input formats do not depend on each other.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fault::Fault;
use arrow::array::{Array, ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt8Array};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot open {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable Parquet table (truncated or corrupt?)")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: bad Arrow data")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("{path}: column `{column}` is missing or has the wrong type")]
    Column { path: PathBuf, column: String },
}

impl TableError {
    /// Whose fault: the user's, since tables are read from an index folder
    /// the user gave (damaged or edited: rebuild it); a refusal of the
    /// system is found first by the caller.
    pub fn fault(&self) -> Fault {
        match self {
            TableError::Io { .. }
            | TableError::Parquet { .. }
            | TableError::Arrow { .. }
            | TableError::Column { .. } => Fault::User,
        }
    }
}

/// A column to write.
pub enum Column {
    Str(Vec<String>),
    U8(Vec<u8>),
    F32(Vec<f32>),
    /// Row-major vectors of a fixed dimension.
    Vectors {
        dim: usize,
        values: Vec<f32>,
    },
}

/// Named columns as the bytes of one Parquet file; `path` is where they
/// will go, for messages.
pub fn table_bytes(path: &Path, columns: Vec<(&str, Column)>) -> Result<Vec<u8>, TableError> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, col) in columns {
        let (dt, arr): (DataType, ArrayRef) = match col {
            Column::Str(v) => (DataType::Utf8, Arc::new(StringArray::from(v))),
            Column::U8(v) => (DataType::UInt8, Arc::new(UInt8Array::from(v))),
            Column::F32(v) => (DataType::Float32, Arc::new(Float32Array::from(v))),
            Column::Vectors { dim, values } => {
                let item = Arc::new(Field::new("item", DataType::Float32, false));
                let arr = FixedSizeListArray::try_new(
                    item.clone(),
                    dim as i32,
                    Arc::new(Float32Array::from(values)),
                    None,
                )
                .map_err(|source| TableError::Arrow { path: path.to_owned(), source })?;
                (DataType::FixedSizeList(item, dim as i32), Arc::new(arr))
            }
        };
        fields.push(Field::new(name, dt, false));
        arrays.push(arr);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|source| TableError::Arrow { path: path.to_owned(), source })?;
    let pq = |source| TableError::Parquet { path: path.to_owned(), source };
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, None).map_err(pq)?;
    writer.write(&batch).map_err(pq)?;
    writer.into_inner().map_err(pq)
}

/// Write named columns as one Parquet file (for tests' input files).
#[cfg(test)]
pub fn write_table(path: &Path, columns: Vec<(&str, Column)>) -> Result<(), TableError> {
    let bytes = table_bytes(path, columns)?;
    std::fs::write(path, bytes).map_err(|source| TableError::Io { path: path.to_owned(), source })
}

/// A Parquet table read fully into memory.
pub struct Table {
    path: PathBuf,
    batches: Vec<RecordBatch>,
}

impl Table {
    /// Read a table from an open file (`path` names it in messages).
    pub fn from_file(path: &Path, file: std::fs::File) -> Result<Table, TableError> {
        let pq = |source| TableError::Parquet { path: path.to_owned(), source };
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?.build().map_err(pq)?;
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TableError::Arrow { path: path.to_owned(), source })?;
        Ok(Table { path: path.to_owned(), batches })
    }

    fn column_err(&self, column: &str) -> TableError {
        TableError::Column { path: self.path.clone(), column: column.to_string() }
    }

    fn arrays<'a, A: 'static>(&'a self, column: &str) -> Result<Vec<&'a A>, TableError> {
        self.batches
            .iter()
            .map(|b| {
                b.column_by_name(column)
                    .and_then(|c| c.as_any().downcast_ref::<A>())
                    .ok_or_else(|| self.column_err(column))
            })
            .collect()
    }

    pub fn strings(&self, column: &str) -> Result<Vec<String>, TableError> {
        Ok(self
            .arrays::<StringArray>(column)?
            .into_iter()
            .flat_map(|a| a.iter().map(|v| v.unwrap_or_default().to_string()))
            .collect())
    }

    pub fn u8s(&self, column: &str) -> Result<Vec<u8>, TableError> {
        Ok(self.arrays::<UInt8Array>(column)?.into_iter().flat_map(|a| a.values().iter().copied()).collect())
    }

    pub fn f32s(&self, column: &str) -> Result<Vec<f32>, TableError> {
        Ok(self
            .arrays::<Float32Array>(column)?
            .into_iter()
            .flat_map(|a| a.values().iter().copied())
            .collect())
    }

    /// Row-major vectors of a fixed-size-list column, checked against `dim`.
    pub fn vectors(&self, column: &str, dim: usize) -> Result<Vec<f32>, TableError> {
        let mut out = Vec::new();
        for a in self.arrays::<FixedSizeListArray>(column)? {
            if a.value_length() as usize != dim {
                return Err(self.column_err(column));
            }
            let values =
                a.values().as_any().downcast_ref::<Float32Array>().ok_or_else(|| self.column_err(column))?;
            out.extend_from_slice(values.values());
        }
        Ok(out)
    }
}
