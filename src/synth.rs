//! Synthetic Kaggle-format battles for speed and scale measurements only.
//!
//! The real data stops at 1,493 rows here, while competitors index 57k. This
//! writes battles with a realistic shape — prompts of tens to hundreds of
//! characters, responses of about 1–3k characters with markdown lists,
//! headers and code, about 10% multi-turn — from a seeded generator. The
//! words are random, so these files say nothing about accuracy.

use std::path::{Path, PathBuf};

use crate::fault::Fault;
use crate::rand::SplitMix;

/// Why the synthetic file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Creating or flushing the file failed.
    #[error("cannot write {path}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The folder of the file does not exist.
    #[error("cannot write {path}: folder {folder} does not exist")]
    NoFolder {
        /// The file asked for.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
    },
}

impl SynthError {
    /// Whose fault: the user's, who chose the path (a folder that does not
    /// exist, say); a refusal of the system is found first by the caller.
    pub fn fault(&self) -> Fault {
        match self {
            SynthError::Io { .. } | SynthError::NoFolder { .. } => Fault::User,
        }
    }
}

const WORDS: [&str; 64] = [
    "the",
    "model",
    "answer",
    "question",
    "data",
    "function",
    "value",
    "system",
    "example",
    "first",
    "second",
    "because",
    "however",
    "should",
    "would",
    "could",
    "result",
    "process",
    "method",
    "important",
    "different",
    "number",
    "people",
    "time",
    "world",
    "information",
    "problem",
    "solution",
    "approach",
    "code",
    "python",
    "rust",
    "table",
    "list",
    "history",
    "science",
    "story",
    "write",
    "explain",
    "describe",
    "compare",
    "simple",
    "complex",
    "quickly",
    "carefully",
    "also",
    "which",
    "there",
    "their",
    "about",
    "other",
    "between",
    "through",
    "during",
    "without",
    "within",
    "along",
    "following",
    "across",
    "behind",
    "beyond",
    "plus",
    "except",
    "given",
];

/// Shape of the generated data.
#[derive(Debug, Clone, Copy)]
pub struct SynthParams {
    /// Battles to write.
    pub rows: usize,
    /// Seed of the generator: the same seed writes the same file.
    pub seed: u64,
    /// Share of battles with more than one turn.
    pub multi_turn: f64,
}

fn sentence(rng: &mut SplitMix, words: usize) -> String {
    let mut s: Vec<&str> = (0..words.max(1)).map(|_| WORDS[rng.below(WORDS.len())]).collect();
    let first = s[0].to_string();
    let mut cap = first[..1].to_uppercase();
    cap.push_str(&first[1..]);
    s[0] = "";
    format!("{cap}{}.", s.join(" "))
}

/// Roughly `chars` characters of markdown-flavoured text.
fn response(rng: &mut SplitMix, chars: usize) -> String {
    let mut out = String::new();
    while out.len() < chars {
        match rng.below(10) {
            0 => out.push_str(&format!("## {}\n\n", sentence(rng, 3))),
            1 | 2 => {
                for i in 0..2 + rng.below(4) {
                    let n = 6 + rng.below(8);
                    out.push_str(&format!("{}. {}\n", i + 1, sentence(rng, n)));
                }
                out.push('\n');
            }
            3 => out.push_str(&format!("```python\nx = {}\nprint(x)\n```\n\n", rng.below(1000))),
            _ => {
                let n = 10 + rng.below(15);
                out.push_str(&format!("{} {}\n\n", sentence(rng, n), sentence(rng, 8)));
            }
        }
    }
    out
}

/// Log-normal-ish length between `lo` and `hi`.
fn length(rng: &mut SplitMix, lo: f64, hi: f64) -> usize {
    let u = (rng.normal() * 0.5).exp().clamp(0.3, 3.0) / 3.0;
    (lo + (hi - lo) * u) as usize
}

/// Write `params.rows` battles to `path` in the Kaggle train.csv format.
/// Ids are the seed + 1 followed by the row number in nine digits, so files
/// of different seeds (a synthetic train and test set) share no ids.
pub fn write_synthetic(path: &Path, params: SynthParams) -> Result<(), SynthError> {
    let folder = crate::fsio::parent_of(path);
    if !folder.is_dir() {
        return Err(SynthError::NoFolder { path: path.to_owned(), folder });
    }
    // Through the atomic write: an interrupted run leaves no partial file.
    let io_err = |source| SynthError::Io { path: path.to_owned(), source };
    crate::fsio::write_atomic(path, |out| write_rows(out, params).map_err(std::io::Error::from))
        .map_err(io_err)
}

/// The CSV rows of [`write_synthetic`], into `out`.
fn write_rows(out: &mut dyn std::io::Write, params: SynthParams) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id",
        "model_a",
        "model_b",
        "prompt",
        "response_a",
        "response_b",
        "winner_model_a",
        "winner_model_b",
        "winner_tie",
    ])?;
    let mut rng = SplitMix::new(params.seed);
    for i in 0..params.rows {
        let turns = if rng.uniform() < params.multi_turn { 2 + rng.below(3) } else { 1 };
        let prompt: Vec<String> = (0..turns)
            .map(|_| {
                let n = length(&mut rng, 5.0, 80.0) / 5;
                sentence(&mut rng, n)
            })
            .collect();
        let side = |rng: &mut SplitMix| -> Vec<String> {
            (0..turns)
                .map(|_| {
                    let n = length(rng, 900.0, 3200.0) / turns;
                    response(rng, n)
                })
                .collect()
        };
        let (a, b) = (side(&mut rng), side(&mut rng));
        let u = rng.uniform();
        let label = if u < 0.35 {
            ["1", "0", "0"]
        } else if u < 0.69 {
            ["0", "1", "0"]
        } else {
            ["0", "0", "1"]
        };
        let json = |t: &Vec<String>| serde_json::to_string(t).expect("strings serialise");
        w.write_record([
            format!("{}{i:09}", u128::from(params.seed) + 1),
            "synthetic-a".into(),
            "synthetic-b".into(),
            json(&prompt),
            json(&a),
            json(&b),
            label[0].into(),
            label[1].into(),
            label[2].into(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{read_battles, Labels};

    #[test]
    fn synthetic_files_read_back_with_realistic_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("synth.csv");
        write_synthetic(&path, SynthParams { rows: 300, seed: 1, multi_turn: 0.1 }).unwrap();
        let d = read_battles(&path, Labels::Required).unwrap();
        assert_eq!(d.battles.len(), 300);
        let multi = d.battles.iter().filter(|b| b.prompt.len() > 1).count();
        assert!((10..=60).contains(&multi), "{multi} multi-turn");
        let mean_chars: f64 =
            d.battles.iter().map(|b| b.response_a.iter().map(String::len).sum::<usize>() as f64).sum::<f64>()
                / 300.0;
        assert!((800.0..3500.0).contains(&mean_chars), "{mean_chars}");
        assert_eq!(d.battles[0].id, "2000000000");
        let other = dir.path().join("other.csv");
        write_synthetic(&other, SynthParams { rows: 5, seed: 2, multi_turn: 0.1 }).unwrap();
        let ids: Vec<String> =
            read_battles(&other, Labels::Required).unwrap().battles.into_iter().map(|b| b.id).collect();
        assert!(ids.iter().all(|id| d.battles.iter().all(|b| &b.id != id)), "seeds 1 and 2 share ids");
        let again = dir.path().join("again.csv");
        write_synthetic(&again, SynthParams { rows: 300, seed: 1, multi_turn: 0.1 }).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&again).unwrap());
    }
}
