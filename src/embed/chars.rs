//! Character windows of huge turns, shared by both encoders' budget fitting
//! (`fit_turns` and the static model's `fit_ids`): a 1 MB response is cut
//! to a window a budget can never exceed before it is tokenised.

/// Characters per token never exceeded in practice.
pub(crate) const MAX_CHARS_PER_TOKEN: usize = 16;

/// The characters of a window that surely holds `budget` tokens (at least 64).
pub(crate) fn char_cap(budget: usize) -> usize {
    budget.saturating_mul(MAX_CHARS_PER_TOKEN).max(64)
}

/// The first `max` characters of `s`.
pub(crate) fn prefix_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The last `max` characters of `s`.
pub(crate) fn suffix_chars(s: &str, max: usize) -> &str {
    if max == 0 {
        return "";
    }
    match s.char_indices().rev().nth(max - 1) {
        Some((i, _)) => &s[i..],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_characters_not_bytes() {
        let s = "aé€😀b";
        assert_eq!(prefix_chars(s, 3), "aé€");
        assert_eq!(suffix_chars(s, 2), "😀b");
        assert_eq!(prefix_chars(s, 0), "");
        assert_eq!(suffix_chars(s, 0), "");
        assert_eq!(prefix_chars(s, 99), s);
        assert_eq!(suffix_chars(s, 5), s);
        assert_eq!(char_cap(2), 64);
        assert_eq!(char_cap(256), 4096);
    }
}
