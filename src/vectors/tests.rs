//! Unit tests of vectors files: what `knnpref embed` writes reads back bit
//! for bit, and every kind of bad file is refused by name.

use super::*;
use crate::fault::Fault;

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("b{i}")).collect()
}

/// Unit vectors of dimension 2 at angle `i + c`.
fn unit(n: usize) -> Gathered {
    std::array::from_fn(|c| (0..n).flat_map(|i| [((i + c) as f32).cos(), ((i + c) as f32).sin()]).collect())
}

fn write(dir: &Path, name: &str, bytes: Vec<u8>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn written_vectors_read_back_bit_for_bit_in_any_order() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "v.parquet", vectors_bytes("me", 2, ids(4), unit(4)).unwrap());
    let v = BattleVectors::read(&path).unwrap();
    assert_eq!((v.producer.as_str(), v.dim, v.len()), ("me", 2, 4));
    assert_eq!(v.gather(&ids(4)).unwrap(), unit(4));
    let reversed: Vec<String> = ids(4).into_iter().rev().collect();
    let got = v.gather(&reversed).unwrap();
    assert_eq!(&got[1][..2], &unit(4)[1][6..8], "rows follow the ids asked for");
}

#[test]
fn vectors_not_of_unit_length_are_normalised() {
    let tmp = tempfile::tempdir().unwrap();
    let long: Gathered = std::array::from_fn(|_| vec![3.0, 4.0]);
    let path = write(tmp.path(), "v.parquet", vectors_bytes("me", 2, ids(1), long).unwrap());
    let got = BattleVectors::read(&path).unwrap().gather(&ids(1)).unwrap();
    assert!((got[0][0] - 0.6).abs() < 1e-7 && (got[0][1] - 0.8).abs() < 1e-7, "{:?}", got[0]);
}

#[test]
fn a_folder_of_parts_reads_as_one_and_parts_must_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let all = unit(4);
    let half = |lo: usize| -> Gathered { std::array::from_fn(|c| all[c][lo * 2..(lo + 2) * 2].to_vec()) };
    write(tmp.path(), "part-0.parquet", vectors_bytes("me", 2, ids(4)[..2].to_vec(), half(0)).unwrap());
    write(tmp.path(), "part-1.parquet", vectors_bytes("me", 2, ids(4)[2..].to_vec(), half(2)).unwrap());
    std::fs::write(tmp.path().join("_SUCCESS"), "").unwrap();
    let v = BattleVectors::read(tmp.path()).unwrap();
    assert_eq!(v.gather(&ids(4)).unwrap(), all);
    write(tmp.path(), "part-2.parquet", vectors_bytes("other", 2, vec!["x".into()], unit(1)).unwrap());
    let e = BattleVectors::read(tmp.path()).unwrap_err();
    assert!(matches!(&e, VectorsError::MixedProducers { found, .. } if found == "other"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(BattleVectors::read(empty.path()), Err(VectorsError::Empty { .. })));
}

#[test]
fn bad_values_missing_battles_and_duplicates_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut nan = unit(3);
    nan[2][3] = f32::NAN;
    let path = write(tmp.path(), "nan.parquet", vectors_bytes("me", 2, ids(3), nan).unwrap());
    let e = BattleVectors::read(&path).unwrap_err().to_string();
    assert!(e.contains("battle `b1`") && e.contains("`response_b`") && e.contains("not finite"), "{e}");
    let zero: Gathered = std::array::from_fn(|_| vec![0.0, 0.0]);
    let path = write(tmp.path(), "zero.parquet", vectors_bytes("me", 2, ids(1), zero).unwrap());
    // What knnpref's own static table gives an empty text: read back as it is.
    let read = BattleVectors::read(&path).unwrap();
    assert_eq!(read.gather(&ids(1)).unwrap(), std::array::from_fn(|_| vec![0.0, 0.0]));
    let twice = vec!["b0".to_string(), "b0".to_string()];
    let path = write(tmp.path(), "dup.parquet", vectors_bytes("me", 2, twice, unit(2)).unwrap());
    assert!(matches!(BattleVectors::read(&path), Err(VectorsError::DuplicateId { id, .. }) if id == "b0"));
    let path = write(tmp.path(), "ok.parquet", vectors_bytes("me", 2, ids(2), unit(2)).unwrap());
    let v = BattleVectors::read(&path).unwrap();
    let e = v.gather(&ids(5)).unwrap_err().to_string();
    assert!(e.contains("battle `b2`") && e.contains("first of 3"), "{e}");
}

/// A table written the way pandas/pyarrow users do: float64 lists of any
/// length, metadata set by hand (or not at all).
fn plain_table(producer: Option<&str>, rows: &[(&str, Vec<f64>)]) -> Vec<u8> {
    use arrow::array::{Float64Builder, ListBuilder};
    let mut fields = vec![Field::new("id", DataType::Utf8, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0)))];
    for name in COLUMNS {
        let mut b = ListBuilder::new(Float64Builder::new());
        for (_, v) in rows {
            b.values().append_slice(v);
            b.append(true);
        }
        let list = b.finish();
        fields.push(Field::new(name, list.data_type().clone(), true));
        arrays.push(Arc::new(list));
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let metadata = producer.map(|p| vec![KeyValue::new(PRODUCER_KEY.to_string(), p.to_string())]);
    let props = WriterProperties::builder().set_key_value_metadata(metadata).build();
    let mut w = ArrowWriter::try_new(Vec::new(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.into_inner().unwrap()
}

#[test]
fn float64_lists_are_read_and_their_length_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = plain_table(Some("st"), &[("a", vec![1.0, 0.0, 0.0]), ("b", vec![0.0, 2.0, 0.0])]);
    let v = BattleVectors::read(&write(tmp.path(), "ok.parquet", ok)).unwrap();
    assert_eq!(v.dim, 3);
    assert_eq!(v.gather(&["b".to_string()]).unwrap()[0], vec![0.0, 1.0, 0.0]);
    let ragged = plain_table(Some("st"), &[("a", vec![1.0, 0.0, 0.0]), ("b", vec![0.0, 2.0])]);
    let e = BattleVectors::read(&write(tmp.path(), "ragged.parquet", ragged)).unwrap_err().to_string();
    assert!(e.contains("battle `b`") && e.contains("dimension 2, expected 3"), "{e}");
    let anonymous = plain_table(None, &[("a", vec![1.0])]);
    let e = BattleVectors::read(&write(tmp.path(), "anon.parquet", anonymous)).unwrap_err();
    assert!(matches!(e, VectorsError::NoProducer { .. }));
    assert_eq!(e.fault(), Fault::User);
}

#[test]
fn float64_values_beyond_f32_are_out_of_range_and_nan_is_not_finite() {
    let tmp = tempfile::tempdir().unwrap();
    let huge = plain_table(Some("st"), &[("a", vec![1.0, 0.0]), ("b", vec![0.5, -1e300])]);
    let path = write(tmp.path(), "huge.parquet", huge);
    let e = BattleVectors::read(&path).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(text.contains("battle `b`") && text.contains("`prompt`"), "{text}");
    assert!(text.contains("-1e300") && text.contains("outside f32's range"), "{text}");
    assert!(!text.contains("not finite"), "{text}");
    assert_eq!(e.fault(), Fault::User);
    for (name, bad) in [("nan", f64::NAN), ("inf", f64::INFINITY)] {
        let table = plain_table(Some("st"), &[("a", vec![bad, 0.0])]);
        let e = BattleVectors::read(&write(tmp.path(), &format!("{name}.parquet"), table)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("battle `a`") && text.contains("not finite (NaN or infinite)"),
            "{name}: {text}"
        );
    }
    // Large but within f32's range: read, and brought to unit length.
    let big = plain_table(Some("st"), &[("a", vec![3e38, 0.0])]);
    let v = BattleVectors::read(&write(tmp.path(), "big.parquet", big)).unwrap();
    assert_eq!(v.gather(&["a".to_string()]).unwrap()[0], vec![1.0, 0.0]);
}
