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
