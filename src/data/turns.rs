//! Decoding the JSON-list cells that hold a battle's turns.
//!
//! Kaggle's `prompt` and `response_*` cells are JSON arrays of strings, one
//! per turn, with `null` for a missing turn. Some contain lone UTF-16
//! surrogate escapes (`"\ud83d"` without its partner), which strict JSON
//! parsers reject; they are replaced by U+FFFD before parsing.

use std::borrow::Cow;

/// Why a cell is not a list of turns (the caller adds the file, row and column).
#[derive(Debug, thiserror::Error)]
pub enum TurnsError {
    /// The cell looks like JSON but does not parse.
    #[error("invalid JSON list")]
    Json {
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// The cell is JSON, but neither a list nor a string.
    #[error("expected a JSON list of strings, found {found}")]
    NotAList {
        /// What it is instead, in words.
        found: &'static str,
    },
    /// One entry of the list is neither a string nor null.
    #[error("turn {turn} is {found}, expected a string or null")]
    BadTurn {
        /// The 1-based position of the entry.
        turn: usize,
        /// What it is instead, in words.
        found: &'static str,
    },
}

/// The turns of one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Turns {
    /// One string per turn; `null` turns are empty strings.
    pub turns: Vec<String>,
    /// The cell was a JSON string or bare text rather than a list.
    pub was_plain_string: bool,
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Parse a cell into turns. `null` turns become empty strings; an empty cell
/// is no turns; a cell that is not JSON-looking is taken as one plain turn.
pub fn parse_turns(cell: &str) -> Result<Turns, TurnsError> {
    let trimmed = cell.trim();
    if trimmed.is_empty() {
        return Ok(Turns { turns: Vec::new(), was_plain_string: false });
    }
    let looks_json = trimmed.starts_with('[') || trimmed.starts_with('"') || trimmed.starts_with('{');
    if !looks_json {
        return Ok(Turns { turns: vec![cell.to_string()], was_plain_string: true });
    }
    let clean = replace_lone_surrogates(trimmed);
    let value: serde_json::Value =
        serde_json::from_str(&clean).map_err(|source| TurnsError::Json { source })?;
    match value {
        serde_json::Value::Array(items) => {
            let mut turns = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    serde_json::Value::String(s) => turns.push(s),
                    serde_json::Value::Null => turns.push(String::new()),
                    other => return Err(TurnsError::BadTurn { turn: i + 1, found: kind(&other) }),
                }
            }
            Ok(Turns { turns, was_plain_string: false })
        }
        serde_json::Value::String(s) => Ok(Turns { turns: vec![s], was_plain_string: true }),
        other => Err(TurnsError::NotAList { found: kind(&other) }),
    }
}

/// Replace `\uD800`–`\uDFFF` escapes that do not form a valid pair by `\uFFFD`.
fn replace_lone_surrogates(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if !s.contains("\\u") {
        return Cow::Borrowed(s);
    }
    let hex_at = |i: usize| -> Option<u16> {
        let h = b.get(i..i + 4)?;
        u16::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2; // an escape like \\ or \" — skip both bytes
            continue;
        }
        let Some(unit) = hex_at(i + 2) else {
            i += 2;
            continue;
        };
        let is_high = (0xD800..0xDC00).contains(&unit);
        let is_low = (0xDC00..0xE000).contains(&unit);
        if is_high {
            let pair_low = (b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u'))
                .then(|| hex_at(i + 8))
                .flatten()
                .filter(|u| (0xDC00..0xE000).contains(u));
            if pair_low.is_some() {
                i += 12;
                continue;
            }
        }
        if is_high || is_low {
            out.push_str(&s[last..i]);
            out.push_str("\\ufffd");
            changed = true;
            i += 6;
            last = i;
            continue;
        }
        i += 6;
    }
    if !changed {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[last..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_with_nulls() {
        let t = parse_turns(r#"["a", null, "c"]"#).unwrap();
        assert_eq!(t.turns, vec!["a", "", "c"]);
        assert!(!t.was_plain_string);
    }

    #[test]
    fn empty_list_and_empty_cell() {
        assert!(parse_turns("[]").unwrap().turns.is_empty());
        assert!(parse_turns("  ").unwrap().turns.is_empty());
    }

    #[test]
    fn unicode_escapes_and_valid_pairs() {
        let t = parse_turns(r#"["caf\u00e9 \ud83d\ude00"]"#).unwrap();
        assert_eq!(t.turns, vec!["café 😀"]);
    }

    #[test]
    fn lone_surrogates_become_replacement_chars() {
        let t = parse_turns(r#"["x\ud83d y", "\ude00z", "\ud83d"]"#).unwrap();
        assert_eq!(t.turns, vec!["x\u{fffd} y", "\u{fffd}z", "\u{fffd}"]);
    }

    #[test]
    fn escaped_backslash_before_u_is_not_an_escape() {
        let t = parse_turns(r#"["path \\ud83d"]"#).unwrap();
        assert_eq!(t.turns, vec![r"path \ud83d"]);
    }

    #[test]
    fn plain_string_is_one_turn() {
        let t = parse_turns("just text").unwrap();
        assert_eq!(t.turns, vec!["just text"]);
        assert!(t.was_plain_string);
        let t = parse_turns(r#""json string""#).unwrap();
        assert_eq!(t.turns, vec!["json string"]);
        assert!(t.was_plain_string);
    }

    #[test]
    fn invalid_json_and_wrong_types_are_errors() {
        assert!(matches!(parse_turns(r#"["unterminated"#), Err(TurnsError::Json { .. })));
        assert!(matches!(parse_turns(r#"{"a": 1}"#), Err(TurnsError::NotAList { .. })));
        assert!(matches!(parse_turns(r#"["ok", 3]"#), Err(TurnsError::BadTurn { turn: 2, .. })));
    }

    proptest::proptest! {
        /// Any list of strings and nulls survives serialisation and parsing.
        #[test]
        fn json_lists_round_trip(items in proptest::collection::vec(proptest::option::of(".*"), 0..6)) {
            let cell = serde_json::to_string(&items).unwrap();
            let parsed = parse_turns(&cell).unwrap();
            let want: Vec<String> = items.into_iter().map(Option::unwrap_or_default).collect();
            proptest::prop_assert_eq!(parsed.turns, want);
        }

        /// Lone surrogates anywhere never make parsing fail.
        #[test]
        fn lone_surrogates_never_fail(prefix in "[a-z ]{0,5}", unit in 0xD800u32..0xE000, suffix in "[a-z ]{0,5}") {
            let cell = format!("[\"{prefix}\\u{unit:04x}{suffix}\"]");
            let parsed = parse_turns(&cell).unwrap();
            proptest::prop_assert_eq!(parsed.turns, vec![format!("{prefix}\u{fffd}{suffix}")]);
        }
    }
}
