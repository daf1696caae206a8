//! Cheap text statistics of each side: the signals users know matter
//! (length, lines, lists, headers, code, bold, refusals), counted once per
//! battle so that a battle and its swap reuse them.

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
}

impl BattleStats {
    /// Statistics of a battle.
    pub fn of(b: &Battle) -> BattleStats {
        BattleStats {
            prompt_chars: b.prompt.iter().map(|t| t.chars().count()).sum::<usize>() as f32,
            turns: b.prompt.len().max(1) as f32,
            a: TextStats::of_turns(&b.response_a),
            b: TextStats::of_turns(&b.response_b),
        }
    }

    /// The same statistics with A and B exchanged.
    pub fn swapped(&self) -> BattleStats {
        BattleStats { a: self.b, b: self.a, ..*self }
    }
}
