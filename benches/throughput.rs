//! Embedding throughput against the ONNX Runtime ceiling, as one table.
//!
//! For each (sessions, batch size) it embeds the same texts twice: through
//! knnpref's `Embedder` (cache off; dedup, length sort, tokenising, pooling
//! and normalising all timed) and through raw ONNX Runtime sessions fed the
//! same pre-tokenised, pre-padded batches (only `Session::run` timed). The
//! ratio is how close knnpref gets to the runtime on this machine; the
//! padding column is the share of computed token slots that were padding.
//!
//! Texts: prompts and responses of `../shared/data/arena-sample/train.csv`
//! when present (a real length mix), else synthetic battles.
//!   cargo bench --bench throughput
//!   THROUGHPUT_TEXTS=600 THROUGHPUT_BATCHES=16,32 THROUGHPUT_SESSIONS=1,2 \
//!   THROUGHPUT_MODELS=fp32,int8 cargo bench --bench throughput

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use knnpref::data::{read_battles, Labels};
use knnpref::embed::{default_model_dir, environment, CheckedEmbed, EmbedOptions, Embedder};
use knnpref::progress::Progress;
use ndarray::Array2;
use ort::session::Session;

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name).unwrap_or_else(|_| default.into()).split(',').map(|s| s.trim().to_string()).collect()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Turns of real battles when the shared sample is there, else synthetic.
fn source_turns(n_texts: usize) -> (Vec<Vec<String>>, &'static str) {
    let real = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/arena-sample/train.csv");
    let (path, what, _tmp) = if real.is_file() {
        (real, "arena-sample prompts+responses", None)
    } else {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("synth.csv");
        let params = knnpref::synth::SynthParams { rows: n_texts / 3 + 1, seed: 5, multi_turn: 0.1 };
        knnpref::synth::write_synthetic(&path, params).unwrap();
        (path, "synthetic prompts+responses", Some(dir))
    };
    let data = read_battles(&path, Labels::Optional).unwrap();
    let mut turns = Vec::new();
    for b in &data.battles {
        turns.push(b.prompt.clone());
        turns.push(b.response_a.clone());
        turns.push(b.response_b.clone());
    }
    (turns, what)
}

/// Pre-tokenised (ids, mask) batches.
type Batches = Vec<(Array2<i64>, Array2<i64>)>;

/// The batches knnpref forms: unique texts sorted by (tokens, text), chunked.
fn token_batches(tok: &tokenizers::Tokenizer, texts: &[String], batch: usize) -> Batches {
    let mut enc: Vec<(usize, &str, Vec<u32>)> = texts
        .iter()
        .map(|t| {
            let ids = tok.encode(t.as_str(), true).unwrap().get_ids().to_vec();
            (ids.len().min(256), t.as_str(), ids)
        })
        .collect();
    enc.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    enc.chunks(batch)
        .map(|chunk| {
            let len = chunk.iter().map(|c| c.0).max().unwrap_or(1);
            let mut ids = Array2::<i64>::zeros((chunk.len(), len));
            let mut mask = Array2::<i64>::zeros((chunk.len(), len));
            for (r, (n, _, t)) in chunk.iter().enumerate() {
                for c in 0..*n {
                    ids[[r, c]] = t[c] as i64;
                    mask[[r, c]] = 1;
                }
            }
            (ids, mask)
        })
        .collect()
}

/// Seconds for raw ONNX Runtime to run every batch, `sessions` sessions side by side.
fn raw_seconds(model: &std::path::Path, batches: &Batches, sessions: usize, threads: usize) -> f64 {
    let env = environment().unwrap();
    let mut pool: Vec<Session> = (0..sessions)
        .map(|s| {
            Session::builder(&env)
                .unwrap()
                .with_optimization_level(ort::session::builder::GraphOptimizationLevel::Level3)
                .unwrap()
                .with_intra_threads((threads + sessions - 1 - s) / sessions)
                .unwrap()
                .commit_from_file(model)
                .unwrap()
        })
        .collect();
    let run = |session: &mut Session, (ids, mask): &(Array2<i64>, Array2<i64>)| {
        let inputs = ort::inputs![
            "input_ids" => ort::value::Value::from_array(ids.clone()).unwrap(),
            "attention_mask" => ort::value::Value::from_array(mask.clone()).unwrap(),
            "token_type_ids" => ort::value::Value::from_array(Array2::<i64>::zeros(ids.dim())).unwrap(),
        ];
        session.run(inputs).unwrap().len()
    };
    for s in pool.iter_mut() {
        run(s, &batches[0]); // warm-up, untimed
    }
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for session in pool.iter_mut() {
            let next = &next;
            scope.spawn(move || {
                while let Some(b) = batches.get(next.fetch_add(1, Ordering::Relaxed)) {
                    run(session, b);
                }
            });
        }
    });
    started.elapsed().as_secs_f64()
}

fn main() {
    let n_texts = env_usize("THROUGHPUT_TEXTS", 384);
    let threads = env_usize("THROUGHPUT_THREADS", 2);
    let batch_sizes: Vec<usize> =
        env_list("THROUGHPUT_BATCHES", "8,16,32,64").iter().map(|s| s.parse().unwrap()).collect();
    let session_counts: Vec<usize> =
        env_list("THROUGHPUT_SESSIONS", "1,2").iter().map(|s| s.parse().unwrap()).collect();
    let models = env_list("THROUGHPUT_MODELS", "fp32");
    let (turns, what) = source_turns(n_texts);
    println!("threads {threads}; texts: {what}");
    println!(
        "{:<5} {:>8} {:>5} {:>5} {:>8} {:>6} {:>12} {:>12} {:>6}",
        "model", "sessions", "batch", "texts", "tokens", "pad%", "knnpref t/s", "raw ORT t/s", "ratio"
    );
    let warm: Vec<String> = (0..8).map(|i| format!("warm-up sentence number {i}")).collect();
    for model in &models {
        let model_dir = default_model_dir(model == "int8");
        if !model_dir.join("model.onnx").is_file() {
            eprintln!("skipping {model}: run scripts/setup.sh first");
            continue;
        }
        let mut fitter = Embedder::open(&model_dir, &config(threads, 1, 8), &Progress::hidden()).unwrap();
        let all: Vec<&[String]> = turns.iter().map(|t| t.as_slice()).collect();
        let mut texts = fitter.fit_many(&all);
        texts.sort();
        texts.dedup();
        // A fixed, spread-out subset: every k-th text in sorted order.
        let step = (texts.len() / n_texts.max(1)).max(1);
        let texts: Vec<String> = texts.into_iter().step_by(step).take(n_texts).collect();
        let mut tok = tokenizers::Tokenizer::from_file(model_dir.join("tokenizer.json")).unwrap();
        tok.with_truncation(None).unwrap();
        tok.with_padding(None);
        let mut best_raw = 0f64;
        for &sessions in &session_counts {
            for &batch in &batch_sizes {
                // Raw first, so that neither side gains from running second.
                let batches = token_batches(&tok, &texts, batch);
                let raw = raw_seconds(&model_dir.join("model.onnx"), &batches, sessions, threads);
                let mut e =
                    Embedder::open(&model_dir, &config(threads, sessions, batch), &Progress::hidden())
                        .unwrap();
                e.embed(&warm, "warm-up").unwrap();
                let before = e.stats();
                let started = Instant::now();
                e.embed(&texts, "bench").unwrap();
                let secs = started.elapsed().as_secs_f64();
                let s = e.stats();
                let (tokens, slots) = (s.tokens - before.tokens, s.slots - before.slots);
                let raw_tps = tokens as f64 / raw;
                best_raw = best_raw.max(raw_tps);
                println!(
                    "{:<5} {:>8} {:>5} {:>5} {:>8} {:>6.1} {:>12.0} {:>12.0} {:>5.1}%",
                    model,
                    format!("{sessions}x{}", threads / sessions),
                    batch,
                    texts.len(),
                    tokens,
                    100.0 * (1.0 - tokens as f64 / slots as f64),
                    tokens as f64 / secs,
                    raw_tps,
                    100.0 * raw / secs,
                );
            }
        }
        println!("{model}: best raw ONNX Runtime {best_raw:.0} tokens/s");
    }
}

fn config(threads: usize, sessions: usize, batch_size: usize) -> CheckedEmbed {
    EmbedOptions { sessions, batch_size, use_cache: false, ..EmbedOptions::new(threads) }.check().unwrap()
}
