//! Cheap text statistics of each side: the signals users know matter
//! (length, lines, lists, headers, code, bold, refusals) and word-level ones
//! (repeated 3-grams, distinct words, overlap with the prompt and with the
//! other side), counted once per battle so that a battle and its swap reuse
//! them.

use std::collections::HashSet;

use crate::data::Battle;

/// Cheap statistics of one response (all turns of one side).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TextStats {
    /// Unicode characters.
    pub chars: f32,
    /// Whitespace-separated words.
    pub words: f32,
    /// Lines.
    pub lines: f32,
    /// Lines starting a markdown list item (`- `, `* `, `+ `, `1. `).
    pub list_items: f32,
    /// Lines starting with `#`.
    pub headers: f32,
    /// Fenced code blocks (pairs of ```).
    pub code_blocks: f32,
    /// Bold spans (pairs of `**`).
    pub bold: f32,
    /// 1 when a turn opens with a refusal phrase, else 0.
    pub refusal: f32,
}

const REFUSALS: [&str; 8] = [
    "i'm sorry",
    "i am sorry",
    "i cannot",
    "i can't",
    "as an ai",
    "i apologize",
    "i'm not able to",
    "i am not able to",
];

impl TextStats {
    /// Feature-name stems of [`TextStats::values`], in order.
    pub(crate) const NAMES: [&'static str; 8] =
        ["chars", "words", "lines", "lists", "headers", "code", "bold", "refusal"];

    /// Statistics of one side's turns, summed over turns.
    pub fn of_turns(turns: &[String]) -> TextStats {
        let mut s = TextStats::default();
        for t in turns {
            s.chars += t.chars().count() as f32;
            s.words += t.split_whitespace().count() as f32;
            s.code_blocks += (t.matches("```").count() / 2) as f32;
            s.bold += (t.matches("**").count() / 2) as f32;
            for line in t.lines() {
                s.lines += 1.0;
                let l = line.trim_start();
                let numbered = l.split_once(". ").is_some_and(|(n, _)| {
                    !n.is_empty() && n.len() <= 3 && n.bytes().all(|c| c.is_ascii_digit())
                });
                if l.starts_with("- ") || l.starts_with("* ") || l.starts_with("+ ") || numbered {
                    s.list_items += 1.0;
                }
                if l.starts_with('#') {
                    s.headers += 1.0;
                }
            }
            let head: String = t.chars().take(200).collect::<String>().to_lowercase();
            if REFUSALS.iter().any(|r| head.contains(r)) {
                s.refusal = 1.0;
            }
        }
        s
    }

    /// log1p of the counts, the refusal flag as is.
    pub(crate) fn values(&self) -> [f64; 8] {
        let l = |x: f32| (x as f64).ln_1p();
        [
            l(self.chars),
            l(self.words),
            l(self.lines),
            l(self.list_items),
            l(self.headers),
            l(self.code_blocks),
            l(self.bold),
            self.refusal as f64,
        ]
    }
}

/// Word-level statistics of one response (all turns of one side), over
/// its words: lowercase runs of Unicode alphanumerics or `_`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WordStats {
    /// Share of repeated word 3-grams: (3-grams − distinct 3-grams) /
    /// 3-grams; 0 under 3 words.
    pub repeat: f32,
    /// Distinct words / words; 1 with no words.
    pub uniq: f32,
    /// Jaccard similarity of this side's word set with the prompt's.
    pub prompt_overlap: f32,
}

/// The words of some turns: lowercase runs of Unicode alphanumerics or `_`
/// (Python's `re.findall(r"\w+", text.lower())` up to Unicode details).
pub(crate) fn words(turns: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for t in turns {
        let lower = t.to_lowercase();
        let runs = lower.split(|c: char| !(c.is_alphanumeric() || c == '_'));
        out.extend(runs.filter(|w| !w.is_empty()).map(str::to_string));
    }
    out
}

fn word_set(words: &[String]) -> HashSet<&str> {
    words.iter().map(String::as_str).collect()
}

/// |S1 ∩ S2| / |S1 ∪ S2|, and 1 when both sets are empty.
pub(crate) fn jaccard(s1: &HashSet<&str>, s2: &HashSet<&str>) -> f32 {
    let union = s1.union(s2).count();
    if union == 0 {
        return 1.0;
    }
    s1.intersection(s2).count() as f32 / union as f32
}

impl WordStats {
    /// Statistics of one side's words against the prompt's word set.
    pub(crate) fn of(words: &[String], prompt: &HashSet<&str>) -> WordStats {
        let trigrams: Vec<[&str; 3]> =
            words.windows(3).map(|w| [w[0].as_str(), w[1].as_str(), w[2].as_str()]).collect();
        let repeat = if trigrams.is_empty() {
            0.0
        } else {
            let distinct = trigrams.iter().collect::<HashSet<_>>().len();
            (trigrams.len() - distinct) as f32 / trigrams.len() as f32
        };
        let set = word_set(words);
        let uniq = if words.is_empty() { 1.0 } else { set.len() as f32 / words.len() as f32 };
        WordStats { repeat, uniq, prompt_overlap: jaccard(&set, prompt) }
    }
}

/// Per-battle statistics used by the features.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BattleStats {
    /// Characters of the user's turns together.
    pub prompt_chars: f32,
    /// Number of user turns (at least 1).
    pub turns: f32,
    /// Response A's statistics.
    pub a: TextStats,
    /// Response B's statistics.
    pub b: TextStats,
    /// Response A's word statistics.
    pub a_words: WordStats,
    /// Response B's word statistics.
    pub b_words: WordStats,
    /// Jaccard similarity of the two responses' word sets (symmetric).
    pub overlap_a_b: f32,
}

impl BattleStats {
    /// Statistics of a battle.
    pub fn of(b: &Battle) -> BattleStats {
        let (prompt, a, bw) = (words(&b.prompt), words(&b.response_a), words(&b.response_b));
        let prompt_set = word_set(&prompt);
        BattleStats {
            prompt_chars: b.prompt.iter().map(|t| t.chars().count()).sum::<usize>() as f32,
            turns: b.prompt.len().max(1) as f32,
            a: TextStats::of_turns(&b.response_a),
            b: TextStats::of_turns(&b.response_b),
            a_words: WordStats::of(&a, &prompt_set),
            b_words: WordStats::of(&bw, &prompt_set),
            overlap_a_b: jaccard(&word_set(&a), &word_set(&bw)),
        }
    }

    /// Names of the values of [`BattleStats::values`], in order: what an
    /// index folder stores so that a grown index need not read old texts.
    pub const NAMES: [&'static str; 25] = [
        "prompt_chars",
        "turns",
        "a_chars",
        "a_words",
        "a_lines",
        "a_lists",
        "a_headers",
        "a_code",
        "a_bold",
        "a_refusal",
        "b_chars",
        "b_words",
        "b_lines",
        "b_lists",
        "b_headers",
        "b_code",
        "b_bold",
        "b_refusal",
        "a_repeat",
        "a_uniq",
        "a_prompt_overlap",
        "b_repeat",
        "b_uniq",
        "b_prompt_overlap",
        "overlap_a_b",
    ];

    /// Every statistic as stored, in the order of [`BattleStats::NAMES`].
    pub fn values(&self) -> [f32; 25] {
        let side = |t: &TextStats| {
            [t.chars, t.words, t.lines, t.list_items, t.headers, t.code_blocks, t.bold, t.refusal]
        };
        let w = |w: &WordStats| [w.repeat, w.uniq, w.prompt_overlap];
        let mut out = [0.0; 25];
        out[0] = self.prompt_chars;
        out[1] = self.turns;
        out[2..10].copy_from_slice(&side(&self.a));
        out[10..18].copy_from_slice(&side(&self.b));
        out[18..21].copy_from_slice(&w(&self.a_words));
        out[21..24].copy_from_slice(&w(&self.b_words));
        out[24] = self.overlap_a_b;
        out
    }

    /// The statistics [`BattleStats::values`] gave, read back.
    pub fn from_values(v: &[f32; 25]) -> BattleStats {
        let side = |s: &[f32]| TextStats {
            chars: s[0],
            words: s[1],
            lines: s[2],
            list_items: s[3],
            headers: s[4],
            code_blocks: s[5],
            bold: s[6],
            refusal: s[7],
        };
        let w = |s: &[f32]| WordStats { repeat: s[0], uniq: s[1], prompt_overlap: s[2] };
        BattleStats {
            prompt_chars: v[0],
            turns: v[1],
            a: side(&v[2..10]),
            b: side(&v[10..18]),
            a_words: w(&v[18..21]),
            b_words: w(&v[21..24]),
            overlap_a_b: v[24],
        }
    }

    /// The same statistics with A and B exchanged.
    pub fn swapped(&self) -> BattleStats {
        BattleStats { a: self.b, b: self.a, a_words: self.b_words, b_words: self.a_words, ..*self }
    }
}
