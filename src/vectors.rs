//! Vectors files: battle embeddings computed anywhere (by `knnpref embed`,
//! sentence-transformers on a GPU, an LLM's hidden states, a cluster job)
//! and handed to `index`, `predict` and `evaluate` with `--vectors`.
//!
//! A vectors file is Parquet: a string column `id` and three float-list
//! columns `prompt`, `response_a`, `response_b`, one row per battle; its
//! key-value metadata names the producer (`knnpref.producer`) and may give
//! the dimension (`knnpref.dim`). A folder of such files (the parts a
//! cluster job writes) is read as one, in file-name order. Every vector is
//! checked (dimension, finite and within f32's range) and brought to unit
//! length (all-zero vectors stay zero: an empty text's), which the cosine
//! search expects; vectors already of unit length are kept
//! bit for bit, so that `knnpref embed`'s vectors give exactly the
//! predictions of the model run inside knnpref.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, FixedSizeListArray, Float32Array, Float64Array, ListArray, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

/// Metadata key naming who made the vectors.
pub const PRODUCER_KEY: &str = "knnpref.producer";
/// Metadata key giving their dimension.
pub const DIM_KEY: &str = "knnpref.dim";
/// The vector columns, in the order battles are embedded.
pub const COLUMNS: [&str; 3] = ["prompt", "response_a", "response_b"];

mod error;

pub use error::VectorsError;

/// How far from 1 a vector's length may be and still count as unit length.
const UNIT_TOLERANCE: f64 = 1e-5;

/// Battle vectors read from a file or folder, by battle id.
#[derive(Debug, Clone, PartialEq)]
pub struct BattleVectors {
    /// The file or folder, for messages.
    pub path: PathBuf,
    /// Who made them.
    pub producer: String,
    /// Their dimension.
    pub dim: usize,
    /// Row of each battle id.
    rows: HashMap<String, usize>,
    /// Unit-length vectors by column ([`COLUMNS`]), row-major.
    values: [Vec<f32>; 3],
}

/// Vectors of battles in data order: prompt, response A, response B, each
/// row-major.
pub type Gathered = [Vec<f32>; 3];

impl BattleVectors {
    /// Read a vectors file, or every `.parquet` file of a folder.
    pub fn read(path: &Path) -> Result<BattleVectors, VectorsError> {
        let io = |source| VectorsError::Io { path: path.to_owned(), source };
        let parts = if path.is_dir() {
            let mut parts: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "parquet") && p.is_file())
                .collect();
            parts.sort();
            if parts.is_empty() {
                return Err(VectorsError::Empty { path: path.to_owned() });
            }
            parts
        } else {
            vec![path.to_owned()]
        };
        let mut reader = Reader::default();
        for part in &parts {
            reader.read_part(part)?;
        }
        let Reader { producer: Some(producer), dim: Some(dim), rows, values } = reader else {
            return Err(VectorsError::Empty { path: path.to_owned() });
        };
        Ok(BattleVectors { path: path.to_owned(), producer, dim, rows, values })
    }

    /// Number of battles.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The vectors of battles `ids`, in that order; an error names the
    /// first id the vectors lack.
    pub fn gather(&self, ids: &[String]) -> Result<Gathered, VectorsError> {
        let missing: Vec<&String> = ids.iter().filter(|id| !self.rows.contains_key(*id)).collect();
        if let Some(first) = missing.first() {
            return Err(VectorsError::Missing {
                path: self.path.clone(),
                id: (*first).clone(),
                count: missing.len(),
            });
        }
        let dim = self.dim;
        Ok(std::array::from_fn(|c| {
            let mut out = Vec::with_capacity(ids.len() * dim);
            for id in ids {
                let r = self.rows[id];
                out.extend_from_slice(&self.values[c][r * dim..(r + 1) * dim]);
            }
            out
        }))
    }
}

/// Vectors being read part by part; the producer and dimension are known
/// once the first part and the first vector have been read.
#[derive(Default)]
struct Reader {
    producer: Option<String>,
    dim: Option<usize>,
    rows: HashMap<String, usize>,
    values: [Vec<f32>; 3],
}

impl Reader {
    fn read_part(&mut self, path: &Path) -> Result<(), VectorsError> {
        let file =
            std::fs::File::open(path).map_err(|source| VectorsError::Io { path: path.to_owned(), source })?;
        let pq = |source| VectorsError::Parquet { path: path.to_owned(), source };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
        let meta = |key: &str| {
            builder
                .metadata()
                .file_metadata()
                .key_value_metadata()
                .and_then(|kv| kv.iter().find(|e| e.key == key).and_then(|e| e.value.clone()))
        };
        let producer =
            meta(PRODUCER_KEY).ok_or_else(|| VectorsError::NoProducer { path: path.to_owned() })?;
        let declared = meta(DIM_KEY).and_then(|d| d.trim().parse::<usize>().ok());
        match &self.producer {
            None => self.producer = Some(producer),
            Some(first) if *first != producer => {
                let first = first.clone();
                return Err(VectorsError::MixedProducers { path: path.to_owned(), first, found: producer });
            }
            Some(_) => {}
        }
        let reader = builder.build().map_err(pq)?;
        for batch in reader {
            let batch = batch.map_err(|e| pq(parquet::errors::ParquetError::External(Box::new(e))))?;
            self.read_batch(path, &batch, declared)?;
        }
        Ok(())
    }

    fn read_batch(
        &mut self,
        path: &Path,
        batch: &RecordBatch,
        declared: Option<usize>,
    ) -> Result<(), VectorsError> {
        let column_err =
            |column: &'static str, why: String| VectorsError::Column { path: path.to_owned(), column, why };
        let ids = batch.column_by_name("id").ok_or_else(|| column_err("id", "is missing".into()))?;
        let ids = arrow::compute::cast(ids, &DataType::Utf8)
            .map_err(|_| column_err("id", format!("is {}, not strings", ids.data_type())))?;
        let ids = ids
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| column_err("id", "is not strings".into()))?;
        let lists: Vec<ListArray> = COLUMNS
            .iter()
            .map(|&name| {
                let col = batch.column_by_name(name).ok_or_else(|| column_err(name, "is missing".into()))?;
                as_f32_lists(col)
                    .ok_or_else(|| column_err(name, format!("is {}, not a list of floats", col.data_type())))
            })
            .collect::<Result<_, _>>()?;
        let start = self.rows.len();
        for r in 0..batch.num_rows() {
            if ids.is_null(r) || ids.value(r).is_empty() {
                return Err(column_err("id", format!("is empty in row {}", start + r + 1)));
            }
            let id = ids.value(r).to_string();
            for (c, (list, column)) in lists.iter().zip(COLUMNS).enumerate() {
                let bad =
                    |what| VectorsError::BadValue { path: path.to_owned(), id: id.clone(), column, what };
                if list.is_null(r) {
                    return Err(bad("null"));
                }
                let v = list.value(r);
                let v = v.as_any().downcast_ref::<Float32Array>().expect("cast to float32 lists");
                if v.null_count() > 0 {
                    return Err(bad("not finite (NaN or infinite)"));
                }
                let expected = match (self.dim, declared) {
                    (Some(d), _) => Some((d, None)),
                    (None, Some(d)) => Some((d, Some("the file's knnpref.dim"))),
                    (None, None) => None,
                };
                if let Some((expected, expected_from)) = expected.filter(|(d, _)| *d != v.len()) {
                    return Err(VectorsError::Dimension {
                        path: path.to_owned(),
                        id,
                        column,
                        found: v.len(),
                        expected,
                        expected_from,
                    });
                }
                if v.is_empty() {
                    return Err(bad("empty"));
                }
                self.dim = Some(v.len());
                let values = v.values();
                if let Some(at) = values.iter().position(|x| !x.is_finite()) {
                    // Finite in the file but not in f32: a float64 beyond f32's range.
                    let source = batch.column_by_name(column).and_then(|col| source_value(col, r, at));
                    if let Some(value) = source.filter(|x| x.is_finite()) {
                        return Err(VectorsError::OutOfRange { path: path.to_owned(), id, column, value });
                    }
                    return Err(bad("not finite (NaN or infinite)"));
                }
                let norm = values.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
                // An all-zero vector is kept as it is: it is what knnpref's own
                // static table gives a text with no known token (an empty
                // response), and inside knnpref such a text has that vector too.
                if norm == 0.0 || (norm - 1.0).abs() <= UNIT_TOLERANCE {
                    self.values[c].extend_from_slice(values);
                } else {
                    self.values[c].extend(values.iter().map(|&x| (f64::from(x) / norm) as f32));
                }
            }
            if self.rows.insert(id.clone(), start + r).is_some() {
                return Err(VectorsError::DuplicateId { path: path.to_owned(), id });
            }
        }
        Ok(())
    }
}

/// A column of float lists (fixed-size or not, float32 or float64) as
/// variable-size float32 lists; `None` when it is something else.
fn as_f32_lists(col: &ArrayRef) -> Option<ListArray> {
    let item = match col.data_type() {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
        _ => return None,
    };
    if !matches!(item, DataType::Float32 | DataType::Float64 | DataType::Float16) {
        return None;
    }
    let target = DataType::List(Arc::new(Field::new("item", DataType::Float32, true)));
    let cast = arrow::compute::cast(col, &target).ok()?;
    cast.as_any().downcast_ref::<ListArray>().cloned()
}

/// Entry `at` of row `row` of a float-list column as the file holds it
/// (before the cast to f32).
fn source_value(col: &ArrayRef, row: usize, at: usize) -> Option<f64> {
    let target = DataType::List(Arc::new(Field::new("item", DataType::Float64, true)));
    let cast = arrow::compute::cast(col, &target).ok()?;
    let list = cast.as_any().downcast_ref::<ListArray>()?.value(row);
    let values = list.as_any().downcast_ref::<Float64Array>()?;
    values.is_valid(at).then(|| values.value(at))
}

/// The bytes of a vectors file: ids and the three columns (row-major,
/// `dim` each), with the producer and dimension in its metadata.
pub fn vectors_bytes(
    producer: &str,
    dim: usize,
    ids: Vec<String>,
    columns: Gathered,
) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let mut fields = vec![Field::new("id", DataType::Utf8, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(ids))];
    for (name, values) in COLUMNS.into_iter().zip(columns) {
        let list = FixedSizeListArray::try_new(
            item.clone(),
            dim as i32,
            Arc::new(Float32Array::from(values)),
            None,
        )?;
        fields.push(Field::new(name, DataType::FixedSizeList(item.clone(), dim as i32), false));
        arrays.push(Arc::new(list));
    }
    // In the Arrow schema too, which is where pyarrow reads metadata from.
    let keys = [(PRODUCER_KEY, producer.to_string()), (DIM_KEY, dim.to_string())];
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        keys.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<std::collections::HashMap<String, String>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let metadata = vec![
        KeyValue::new(PRODUCER_KEY.to_string(), producer.to_string()),
        KeyValue::new(DIM_KEY.to_string(), dim.to_string()),
    ];
    let props = WriterProperties::builder().set_key_value_metadata(Some(metadata)).build();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props))?;
    writer.write(&batch)?;
    writer.into_inner()
}

#[cfg(test)]
mod tests;
