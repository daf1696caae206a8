//! Fitting a multi-turn text into the model's token budget.
//!
//! The tokenizer would cut from the end, losing the latest turn, which is the
//! one that matters most. Here the last turn is kept whole when it fits (its
//! start when it alone is too long), and earlier turns fill what is left,
//! nearest first, each cut to its end.

use super::chars::{char_cap, prefix_chars, suffix_chars};

/// Join `turns` with blank lines, keeping at most `budget` tokens.
pub fn fit_turns(tokenizer: &tokenizers::Tokenizer, turns: &[String], budget: usize) -> String {
    let char_cap = char_cap(budget);
    let mut kept: Vec<&str> = Vec::new();
    let mut left = budget;
    for (pos, turn) in turns.iter().enumerate().rev() {
        if left == 0 {
            break;
        }
        let is_last = pos + 1 == turns.len();
        let window = if is_last { prefix_chars(turn, char_cap) } else { suffix_chars(turn, char_cap) };
        let Ok(enc) = tokenizer.encode(window, false) else {
            continue;
        };
        let offsets = enc.get_offsets();
        let n = offsets.len();
        if n <= left {
            kept.push(window);
            left -= n;
        } else if is_last {
            let end = offsets[left - 1].1;
            kept.push(&window[..end]);
            left = 0;
        } else {
            let start = offsets[n - left].0;
            kept.push(&window[start..]);
            left = 0;
        }
    }
    kept.reverse();
    kept.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whitespace word-level tokenizer built in memory, one token per word.
    fn word_tokenizer() -> tokenizers::Tokenizer {
        let json = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
            "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
            "model":{"type":"WordLevel","vocab":{"[UNK]":0},"unk_token":"[UNK]"}}"#;
        tokenizers::Tokenizer::from_bytes(json.as_bytes()).unwrap()
    }

    fn t(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn everything_fits() {
        let tok = word_tokenizer();
        assert_eq!(fit_turns(&tok, &t(&["a b", "c d"]), 10), "a b\n\nc d");
    }

    #[test]
    fn last_turn_kept_whole_before_first() {
        let tok = word_tokenizer();
        let out = fit_turns(&tok, &t(&["one two three four", "five six seven"]), 5);
        assert_eq!(out, "three four\n\nfive six seven");
    }

    #[test]
    fn overlong_last_turn_keeps_its_start() {
        let tok = word_tokenizer();
        let out = fit_turns(&tok, &t(&["early", "w1 w2 w3 w4 w5 w6"]), 3);
        assert_eq!(out, "w1 w2 w3");
    }

    #[test]
    fn empty_turns_and_no_turns() {
        let tok = word_tokenizer();
        assert_eq!(fit_turns(&tok, &[], 5), "");
        assert_eq!(fit_turns(&tok, &t(&["", "x"]), 5), "\n\nx");
    }

    #[test]
    fn huge_turn_is_precut_on_char_boundaries() {
        let tok = word_tokenizer();
        let big = "é ".repeat(500_000);
        let out = fit_turns(&tok, &[big], 4);
        assert_eq!(out, "é é é é");
    }
}
