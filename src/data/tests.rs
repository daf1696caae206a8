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
