//! Unit tests of the battles reader.
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
    assert_eq!(d.models, Some(vec![["x".to_string(), "y".to_string()]]));
}

#[test]
fn bom_crlf_and_reordered_columns() {
    let f = write(
        "\u{feff}response_b,id,prompt,response_a,extra\r\n\"[\"\"b\"\"]\",x1,\"[\"\"p\"\"]\",\"[\"\"a\"\"]\",zzz\r\n",
    );
    let d = read_battles(f.path(), Labels::Optional).unwrap();
    assert_eq!(d.battles[0].id, "x1");
    assert_eq!(d.battles[0].response_b, vec!["b"]);
    assert!(d.labels().is_none());
    assert_eq!(d.models, None, "no model columns, no names");
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
    use crate::table::{write_table, Column};
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

#[test]
fn content_hash_ignores_the_id_and_sees_turn_boundaries() {
    let b = |id: &str, prompt: &[&str]| Battle {
        id: id.into(),
        prompt: prompt.iter().map(|s| s.to_string()).collect(),
        response_a: vec!["a".into()],
        response_b: vec!["b".into()],
        label: None,
    };
    assert_eq!(b("1", &["hi there"]).content_hash(), b("2", &["hi there"]).content_hash());
    assert_ne!(b("1", &["hi", "there"]).content_hash(), b("1", &["hithere"]).content_hash());
    assert_ne!(b("1", &["x"]).content_hash(), b("1", &["x"]).swapped().content_hash());
    assert_eq!(b("1", &["x"]).content_hash().len(), 16);
}

/// A Parquet file of the given Arrow columns, written as pyarrow would.
fn write_arrow_parquet(path: &Path, columns: Vec<(&str, arrow::array::ArrayRef)>) {
    let batch = arrow::array::RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Turn columns of three battles: multi-turn, a `null` turn, a `null`
/// cell, an empty list, and texts that JSON must escape.
fn turn_rows() -> [Vec<Option<Vec<Option<&'static str>>>>; 3] {
    [
        vec![
            Some(vec![Some("hi"), Some("again")]),
            None,
            Some(vec![Some("say \"x\" \\ud83d \u{1}"), Some("ünï 😀")]),
        ],
        vec![Some(vec![Some("a1"), None]), Some(vec![]), Some(vec![Some("a"), Some("")])],
        vec![Some(vec![Some("b1"), Some("b2")]), Some(vec![Some("b")]), Some(vec![None, None])],
    ]
}

#[test]
fn parquet_string_lists_read_as_the_json_strings_do() {
    use arrow::array::{
        ArrayRef, GenericListBuilder, LargeStringBuilder, ListBuilder, StringArray, StringBuilder,
    };
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let ids: ArrayRef = Arc::new(StringArray::from(vec!["1", "2", "3"]));
    let names = ["prompt", "response_a", "response_b"];
    let json_cols = turn_rows().map(|cells| -> ArrayRef {
        Arc::new(StringArray::from_iter(
            cells.iter().map(|c| c.as_ref().map(|t| serde_json::to_string(t).unwrap())),
        ))
    });
    let list_cols = turn_rows().map(|cells| -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for cell in &cells {
            if let Some(turns) = cell {
                turns.iter().for_each(|t| b.values().append_option(*t));
            }
            b.append(cell.is_some());
        }
        Arc::new(b.finish())
    });
    let large_cols = turn_rows().map(|cells| -> ArrayRef {
        let mut b = GenericListBuilder::<i64, _>::new(LargeStringBuilder::new());
        for cell in &cells {
            if let Some(turns) = cell {
                turns.iter().for_each(|t| b.values().append_option(*t));
            }
            b.append(cell.is_some());
        }
        Arc::new(b.finish())
    });
    let mut read = Vec::new();
    for (name, cols) in [("json", json_cols), ("list", list_cols), ("large", large_cols)] {
        let path = dir.path().join(format!("{name}.parquet"));
        let mut columns = vec![("id", ids.clone())];
        columns.extend(names.into_iter().zip(cols));
        write_arrow_parquet(&path, columns);
        read.push(read_battles(&path, Labels::Optional).unwrap_or_else(|e| panic!("{name}: {e:?}")));
    }
    let b = &read[1].battles;
    assert_eq!(b[0].prompt, vec!["hi", "again"]);
    assert_eq!(b[0].response_a, vec!["a1", ""], "a null turn is an empty one");
    assert!(b[1].prompt.is_empty(), "a null cell is an empty one");
    assert!(b[1].response_a.is_empty());
    assert_eq!(b[2].prompt[0], "say \"x\" \\ud83d \u{1}");
    assert_eq!(b[2].response_b, vec!["", ""]);
    for d in &read[1..] {
        assert_eq!(d.battles, read[0].battles);
        assert_eq!(d.warnings.len(), read[0].warnings.len(), "{:?}", d.warnings);
    }
}

#[test]
fn parquet_lists_of_other_things_keep_their_errors() {
    use arrow::array::{ArrayRef, Int64Builder, ListBuilder, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ints.parquet");
    let mut b = ListBuilder::new(Int64Builder::new());
    b.values().append_value(3);
    b.append(true);
    let s = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    let prompt: ArrayRef = Arc::new(b.finish());
    write_arrow_parquet(&path, vec![("prompt", prompt), ("response_a", s("[]")), ("response_b", s("[]"))]);
    let err = read_battles(&path, Labels::Optional).unwrap_err();
    assert!(matches!(err, DataError::Turns { column: "prompt", .. }), "{err}");
}

#[test]
fn parquet_is_known_by_its_magic_bytes_not_its_name() {
    use crate::table::{write_table, Column};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let s = |v: &str| Column::Str(vec![v.to_string()]);
    let columns =
        vec![("id", s("1")), ("prompt", s("[\"p\"]")), ("response_a", s("[\"a\"]")), ("response_b", s("[]"))];
    write_table(&path, columns).unwrap();
    let d = read_battles(&path, Labels::Optional).unwrap();
    assert_eq!(d.battles[0].prompt, vec!["p"]);
    assert_eq!(d.battles[0].response_a, vec!["a"]);
}

#[test]
fn a_file_named_parquet_that_is_not_is_told_what_it_looks_like() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.parquet");
    std::fs::write(&path, "id,prompt,response_a,response_b\n1,\"[]\",\"[]\",\"[]\"\n").unwrap();
    let err = read_battles(&path, Labels::Optional).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(text.contains("does not start with Parquet's magic bytes PAR1"), "{text}");
    assert!(text.contains("it looks like CSV/text"), "{text}");
    assert_eq!(err.fault(), crate::fault::Fault::User);
    std::fs::write(&path, "").unwrap();
    let text = read_battles(&path, Labels::Optional).unwrap_err().to_string();
    assert!(text.contains("PAR1; it is empty"), "{text}");
}

#[test]
fn what_a_file_looks_like_is_said_from_its_first_bytes() {
    use super::sniff::looks_like;
    assert!(looks_like(b"\xef\xbb\xbfid,prompt\r\n1,x").contains("CSV/text"));
    assert!(looks_like(b"  [{\"id\": 1}]").contains("JSON"));
    assert!(looks_like(b"\x1f\x8b\x08\0").contains("gzip"));
    assert!(looks_like(b"PK\x03\x04rest").contains("ZIP"));
    assert!(looks_like(b"ARROW1\0\0").contains("Arrow IPC"));
    assert!(looks_like(b"\0\x01\x02\xff").contains("binary"));
    // A character cut at the end of the sample is still text.
    assert!(looks_like("id,ü".as_bytes().split_last().unwrap().1).contains("CSV/text"));
}
