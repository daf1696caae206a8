//! Static embeddings against the transformer, in tokens per second.
//!
//! Both embed the prompts and responses of the arena sample (all 4,479 texts,
//! as turn lists). Tokens are counted the same way for both: the tokens of
//! each text as fitted for the transformer (last turn first, 256 tokens with
//! the two special tokens), so the ratio compares equal work. The transformer
//! (`Embedder`, cache off, default sessions and batch size) runs a spread-out
//! subset, enough for its rate; the static model runs every text, and once
//! more at full length (no budget), counted in its own tokens.
//!
//! The static model is `$STATIC_MODEL`, else
//! `$KNNPREF_HOME/models/all-MiniLM-L6-v2-static256` when present, else it is
//! distilled into a temporary folder first (about a minute).
//!   cargo bench --bench static_embed
//!   STATIC_TRANSFORMER_TEXTS=600 STATIC_REPEATS=9 cargo bench --bench static_embed

use std::path::PathBuf;
use std::time::Instant;

use knnpref::data::{read_battles, Labels};
use knnpref::embed::distill::{distill, DistillParams};
use knnpref::embed::static_model::StaticModel;
use knnpref::embed::{default_model_dir, knnpref_home, EmbedOptions, Embedder};

const MAX_TOKENS: usize = 256;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The static model folder, distilled into `keep` when none is provisioned.
fn static_dir(keep: &mut Option<tempfile::TempDir>) -> PathBuf {
    if let Some(dir) = std::env::var_os("STATIC_MODEL").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let provisioned = knnpref_home().join("models").join("all-MiniLM-L6-v2-static256");
    if provisioned.join("model.safetensors").is_file() {
        return provisioned;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("static256");
    let report = distill(&DistillParams::new(default_model_dir(false), out.clone())).unwrap();
    println!("distilled a static model in {:.1} s", report.seconds);
    *keep = Some(tmp);
    out
}

/// Median wall seconds of `repeats` runs of `f`.
fn median_seconds(repeats: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/arena-sample/train.csv");
    if !csv.is_file() {
        eprintln!("skipping: {} is not there", csv.display());
        return;
    }
    let data = read_battles(&csv, Labels::Optional).unwrap();
    let mut texts: Vec<Vec<String>> = Vec::new();
    for b in &data.battles {
        texts.extend([b.prompt.clone(), b.response_a.clone(), b.response_b.clone()]);
    }
    let turns: Vec<&[String]> = texts.iter().map(|t| t.as_slice()).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let repeats = env_usize("STATIC_REPEATS", 5);

    let mut keep = None;
    let dir = static_dir(&mut keep);
    let model = StaticModel::load(&dir).unwrap();
    let opts = EmbedOptions { max_tokens: Some(MAX_TOKENS), use_cache: false, ..EmbedOptions::new(threads) };
    let mut embedder = Embedder::open(
        &default_model_dir(false),
        &opts.check().unwrap(),
        &knnpref::progress::Progress::hidden(),
    )
    .unwrap();
    let fitted = embedder.fit_many(&turns);
    let counts: Vec<usize> = fitted.iter().map(|t| embedder.token_count(t)).collect();
    let fitted_tokens: usize = counts.iter().sum();
    println!(
        "{} texts from {}; {threads} threads; static model {} ({} x {})",
        texts.len(),
        csv.display(),
        dir.display(),
        model.rows(),
        model.dim()
    );

    // Static, the transformer's budget: 256 tokens less its two special tokens.
    let budget = MAX_TOKENS - 2;
    let secs = median_seconds(repeats, || {
        std::hint::black_box(model.encode_turns(&turns, budget));
    });
    let static_tps = fitted_tokens as f64 / secs;

    // Static at full length, in its own tokens.
    let full_tokens: usize = turns.iter().map(|t| model.fit_ids(t, usize::MAX).len()).sum();
    let full_secs = median_seconds(repeats, || {
        std::hint::black_box(model.encode_turns(&turns, usize::MAX));
    });

    // The transformer on a spread-out subset of the distinct fitted texts.
    let n_sub = env_usize("STATIC_TRANSFORMER_TEXTS", 300);
    let mut distinct = fitted.clone();
    distinct.sort();
    distinct.dedup();
    let step = (distinct.len() / n_sub.max(1)).max(1);
    let subset: Vec<String> = distinct.into_iter().step_by(step).take(n_sub).collect();
    let warm: Vec<String> = (0..8).map(|i| format!("warm-up sentence number {i}")).collect();
    embedder.embed(&warm, "warm-up").unwrap();
    let before = embedder.stats();
    let started = Instant::now();
    embedder.embed(&subset, "bench").unwrap();
    let t_secs = started.elapsed().as_secs_f64();
    let t_tokens = embedder.stats().tokens - before.tokens;
    let transformer_tps = t_tokens as f64 / t_secs;

    println!("{:<34} {:>6} {:>10} {:>9} {:>12}", "run", "texts", "tokens", "seconds", "tokens/s");
    let line = |what: &str, n: usize, tokens: usize, s: f64| {
        println!("{what:<34} {n:>6} {tokens:>10} {s:>9.3} {:>12.0}", tokens as f64 / s);
    };
    line("transformer, fitted (256)", subset.len(), t_tokens as usize, t_secs);
    line("static, fitted (256)", texts.len(), fitted_tokens, secs);
    line("static, full length (own tokens)", texts.len(), full_tokens, full_secs);
    println!("static / transformer tokens/s (same token counting): {:.0}x", static_tps / transformer_tps);
}
