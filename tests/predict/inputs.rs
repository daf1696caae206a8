//! `knnpref predict` on messy test files: each case is handled or refused clearly.

use crate::common::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn read_ids(path: &std::path::Path) -> Vec<String> {
    read_submission(path).0
}

#[test]
fn extra_and_reordered_columns_are_fine() {
    let d = tmp();
    let mut r = row("a1", "What is 2+2?", "4", "Four, obviously.");
    r.push("ignored".into());
    let reordered: Vec<String> = vec![r[3].clone(), r[4].clone(), r[1].clone(), r[0].clone(), r[2].clone()];
    let test = write_csv(
        &d.path().join("t.csv"),
        &["response_b", "extra", "prompt", "id", "response_a"],
        &[reordered],
    );
    let out = d.path().join("s.csv");
    let (code, err) = predict_file(&test, &out, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_ids(&out), ["a1"]);
}

#[test]
fn missing_id_uses_row_numbers_and_says_so() {
    let d = tmp();
    let rows: Vec<Vec<String>> =
        (0..3).map(|i| row("", &format!("q{i}"), "yes", "no")[1..].to_vec()).collect();
    let test = write_csv(&d.path().join("t.csv"), &["prompt", "response_a", "response_b"], &rows);
    let out = d.path().join("s.csv");
    let (code, err) = predict_file(&test, &out, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no `id` column; using row numbers"), "{err}");
    assert_eq!(read_ids(&out), ["0", "1", "2"]);
}

#[test]
fn bom_crlf_quoted_newlines_and_commas() {
    let d = tmp();
    let rows = [
        row("1", "Line one,\nline two", "A, with comma\r\nand CRLF", "B \"quoted\""),
        row("2", "x", "y", "z"),
    ];
    let plain = write_csv(&d.path().join("plain.csv"), &TEST_HEADER, &rows);
    let text = std::fs::read_to_string(&plain).unwrap();
    let crlf = d.path().join("bom.csv");
    std::fs::write(&crlf, format!("\u{feff}{}", text.replace('\n', "\r\n"))).unwrap();
    let (o1, o2) = (d.path().join("s1.csv"), d.path().join("s2.csv"));
    assert_eq!(predict_file(&plain, &o1, &[]).0, 0);
    let (code, err) = predict_file(&crlf, &o2, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_ids(&o2), ["1", "2"]);
}

#[test]
fn invalid_utf8_names_the_row() {
    let d = tmp();
    let path = d.path().join("t.csv");
    let mut bytes =
        b"id,prompt,response_a,response_b\n1,\"[\"\"ok\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\"\n".to_vec();
    bytes.extend_from_slice(b"2,\"[\"\"bad \xff\xfe\"\"]\",\"[\"\"a\"\"]\",\"[\"\"b\"\"]\"\n");
    std::fs::write(&path, bytes).unwrap();
    let (code, err) = predict_file(&path, &d.path().join("s.csv"), &[]);
    assert_eq!(code, 1);
    assert!(err.contains("row 2") && err.contains("not valid UTF-8"), "{err}");
}

#[test]
fn empty_and_header_only_files_are_clear_errors() {
    let d = tmp();
    for (name, content) in [("empty.csv", ""), ("header.csv", "id,prompt,response_a,response_b\n")] {
        let path = d.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = d.path().join("s.csv");
        let (code, err) = predict_file(&path, &out, &[]);
        assert_eq!(code, 1, "{name}");
        assert!(err.contains("is empty or has a header but no data rows"), "{name}: {err}");
        assert!(!out.exists());
    }
}

#[test]
fn invalid_json_names_row_and_column() {
    let d = tmp();
    let mut bad = row("2", "p", "a", "b");
    bad[2] = "[\"unterminated".into();
    let test = write_csv(&d.path().join("t.csv"), &TEST_HEADER, &[row("1", "p", "a", "b"), bad]);
    let (code, err) = predict_file(&test, &d.path().join("s.csv"), &[]);
    assert_eq!(code, 1);
    assert!(err.contains("row 2, column `response_a`: invalid JSON list"), "{err}");
}

#[test]
fn odd_turns_are_handled() {
    let d = tmp();
    let huge = "word ".repeat(210_000); // over 1 MB
    let rows = vec![
        vec!["plain".into(), "just a plain prompt".into(), turns(&[Some("a")]), turns(&[Some("b")])],
        vec!["nulls".into(), turns(&[Some("p"), None]), turns(&[None, Some("a")]), turns(&[Some("b"), None])],
        vec!["empty".into(), "[]".into(), "[]".into(), turns(&[Some("")])],
        vec![
            "surrogate".into(),
            r#"["smile \ud83d"]"#.into(),
            r#"["\ude00 ok"]"#.into(),
            turns(&[Some("b")]),
        ],
        vec!["huge".into(), turns(&[Some("summarise")]), turns(&[Some(&huge)]), turns(&[Some("short")])],
        vec![
            "mismatch".into(),
            turns(&[Some("p1"), Some("p2")]),
            turns(&[Some("a")]),
            turns(&[Some("b1"), Some("b2")]),
        ],
    ];
    let test = write_csv(&d.path().join("t.csv"), &TEST_HEADER, &rows);
    let out = d.path().join("s.csv");
    let (code, err) = predict_file(&test, &out, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_ids(&out), ["plain", "nulls", "empty", "surrogate", "huge", "mismatch"]);
    assert!(err.contains("row 1, column `prompt`: not a JSON list; read as a single turn"), "{err}");
    assert!(err.contains("row 6: turn counts differ"), "{err}");
}

#[test]
fn duplicate_test_ids_are_refused() {
    let d = tmp();
    let test =
        write_csv(&d.path().join("t.csv"), &TEST_HEADER, &[row("9", "p", "a", "b"), row("9", "q", "a", "b")]);
    let (code, err) = predict_file(&test, &d.path().join("s.csv"), &[]);
    assert_eq!(code, 1);
    assert!(err.contains("row 2: id `9` already appears in row 1"), "{err}");
}

#[test]
fn string_ids_round_trip_unchanged() {
    let d = tmp();
    let ids = ["abc-1", "x,y", "  spaced", "007", "ünï"];
    let rows: Vec<Vec<String>> = ids.iter().map(|i| row(i, "p", "a", "b")).collect();
    let test = write_csv(&d.path().join("t.csv"), &TEST_HEADER, &rows);
    let out = d.path().join("s.csv");
    let (code, err) = predict_file(&test, &out, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_ids(&out), ids);
}

/// A Parquet file whose turn columns are native lists of strings (what
/// Hugging Face `datasets` and pandas/pyarrow write), `None` a null turn.
fn write_list_parquet(path: &std::path::Path, rows: &[(&str, [&[Option<&str>]; 3])]) {
    use arrow::array::{ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder};
    use std::sync::Arc;
    let ids: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0)));
    let mut columns = vec![("id", ids)];
    for (c, name) in ["prompt", "response_a", "response_b"].into_iter().enumerate() {
        let mut b = ListBuilder::new(StringBuilder::new());
        for (_, turns) in rows {
            turns[c].iter().for_each(|t| b.values().append_option(*t));
            b.append(true);
        }
        columns.push((name, Arc::new(b.finish()) as ArrayRef));
    }
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// `predict` with an empty index folder: the test file is read first, so
/// its faults are met before any index or model is needed.
fn predict_without_index(test: &std::path::Path) -> (i32, String) {
    let (index, out) = (tmp(), tmp());
    predict_with(index.path(), test, &out.path().join("s.csv"), &[])
}

#[test]
fn a_parquet_file_named_csv_is_read_as_parquet_with_list_turns() {
    let d = tmp();
    let test = d.path().join("t.csv");
    let turns: [&[Option<&str>]; 3] =
        [&[Some("hi"), Some("again")], &[Some("a1"), None], &[Some("b1"), Some("b2")]];
    write_list_parquet(&test, &[("9", turns), ("9", turns)]);
    // Read as Parquet, list cells and all, as far as the duplicate id.
    let (code, err) = predict_without_index(&test);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("row 2: id `9` already appears in row 1"), "{err}");
    assert!(!err.contains("CSV error"), "{err}");
}

#[test]
fn a_csv_file_named_parquet_is_refused_saying_what_it_looks_like() {
    let d = tmp();
    let test = write_csv(&d.path().join("t.parquet"), &TEST_HEADER, &[row("1", "p", "a", "b")]);
    let (code, err) = predict_without_index(&test);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&test.display().to_string()), "the file is named: {err}");
    assert!(err.contains("does not start with Parquet's magic bytes PAR1"), "{err}");
    assert!(err.contains("it looks like CSV/text"), "{err}");
}

#[test]
fn list_turns_in_parquet_embed_as_their_json_strings_do() {
    let d = tmp();
    let rows: Vec<(String, [Vec<Option<&str>>; 3])> = vec![
        (
            "1".into(),
            [
                vec![Some("What is 2+2?"), Some("And 3+3?")],
                vec![Some("4"), None],
                vec![Some("Four"), Some("Six")],
            ],
        ),
        ("2".into(), [vec![Some("say \"hi\" ünï 😀")], vec![], vec![Some("hi")]]),
    ];
    let json: Vec<Vec<String>> = rows
        .iter()
        .map(|(id, t)| std::iter::once(id.clone()).chain(t.iter().map(|side| turns(side))).collect())
        .collect();
    let csv = write_csv(&d.path().join("json.csv"), &TEST_HEADER, &json);
    let lists = d.path().join("lists.csv");
    let list_rows: Vec<(&str, [&[Option<&str>]; 3])> =
        rows.iter().map(|(id, t)| (id.as_str(), [&t[0][..], &t[1][..], &t[2][..]])).collect();
    write_list_parquet(&lists, &list_rows);
    let (v1, v2) = (d.path().join("v1.parquet"), d.path().join("v2.parquet"));
    for (input, out) in [(&csv, &v1), (&lists, &v2)] {
        let said =
            run_ok(&["embed", "--static", "--in", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(said.contains("wrote vectors of 2 battles"), "{said}");
    }
    let ids = ["1".to_string(), "2".to_string()];
    let read = |p: &std::path::Path| knnpref::vectors::BattleVectors::read(p).unwrap().gather(&ids).unwrap();
    assert_eq!(read(&v1), read(&v2));
}

#[test]
fn float64_vectors_beyond_f32_are_out_of_range_not_nan() {
    use arrow::array::{ArrayRef, Float64Builder, ListBuilder, RecordBatch, StringArray};
    use std::sync::Arc;
    let d = tmp();
    let train = train_subset(d.path(), "train.csv", 0..60);
    let vectors = d.path().join("huge.parquet");
    let mut columns = vec![("id", Arc::new(StringArray::from(vec!["x"])) as ArrayRef)];
    for (name, v) in [("prompt", [1.0, 0.0]), ("response_a", [0.0, 1e300]), ("response_b", [1.0, 0.0])] {
        let mut b = ListBuilder::new(Float64Builder::new());
        b.values().append_slice(&v);
        b.append(true);
        columns.push((name, Arc::new(b.finish()) as ArrayRef));
    }
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let producer = parquet::file::metadata::KeyValue::new("knnpref.producer".into(), "mine".to_string());
    let props =
        parquet::file::properties::WriterProperties::builder().set_key_value_metadata(Some(vec![producer]));
    let file = std::fs::File::create(&vectors).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props.build())).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let out = d.path().join("idx");
    let args = ["index", "--train", train.to_str().unwrap(), "--vectors", vectors.to_str().unwrap()];
    let (code, err) = run_err(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&vectors.display().to_string()), "the file is named: {err}");
    assert!(err.contains("battle `x`") && err.contains("`response_a`"), "{err}");
    assert!(err.contains("1e300") && err.contains("outside f32's range"), "{err}");
    assert!(!err.contains("not finite"), "{err}");
}
