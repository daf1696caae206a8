//! The batch scheduler: deduplicate texts, answer what the cache holds,
//! sort the rest by token length, and feed batches to the sessions side by
//! side, storing and caching results as they come back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;

use super::run::run_batch;
use super::stats::progress_bar;
use super::{token_count, Cache, EmbedError, EmbedStats, ModelInfo, Transformer};
use crate::progress::Progress;

impl Transformer {
    /// Embed fitted texts; returns row-major L2-normalised vectors, one per
    /// text, counting the cost in `stats`.
    pub(super) fn embed(
        &mut self,
        texts: &[String],
        what: &str,
        info: &ModelInfo,
        progress: &Progress,
        stats: &mut EmbedStats,
    ) -> Result<Vec<f32>, EmbedError> {
        let t = self;
        let dim = info.dim;
        // Deduplicate: identical texts are embedded once.
        let mut unique: Vec<&str> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let slots: Vec<usize> = texts
            .iter()
            .map(|t| {
                *slot_of.entry(t.as_str()).or_insert_with(|| {
                    unique.push(t.as_str());
                    unique.len() - 1
                })
            })
            .collect();
        let keys: Vec<[u8; 32]> = unique.par_iter().map(|t| Cache::key(t)).collect();
        let mut vectors = vec![0f32; unique.len() * dim];
        let mut todo = Vec::new();
        for (u, key) in keys.iter().enumerate() {
            match t.cache.as_ref().and_then(|c| c.get(key)) {
                Some(v) => vectors[u * dim..(u + 1) * dim].copy_from_slice(v),
                None => todo.push(u),
            }
        }
        if !todo.is_empty() && t.sessions.is_empty() {
            t.start_sessions(info.max_tokens, Some(dim), progress)?;
        }
        // Sort the remaining texts by token count so batches pad little.
        let (tokenizer, max) = (&t.tokenizer, info.max_tokens);
        let lengths: Vec<usize> = todo.par_iter().map(|&u| token_count(tokenizer, unique[u], max)).collect();
        // Order by (length, text) so that batch composition, and with it every
        // floating-point result, depends only on the set of texts.
        let mut order: Vec<usize> = (0..todo.len()).collect();
        order.sort_by(|&i, &j| (lengths[i], unique[todo[i]]).cmp(&(lengths[j], unique[todo[j]])));
        let batches: Vec<&[usize]> = order.chunks(t.batch_size).collect();
        let total_tokens: u64 = lengths.iter().map(|&l| l as u64).sum();
        let hidden = Progress::hidden();
        let shown = if todo.is_empty() { &hidden } else { progress };
        let bar = shown
            .stage(&format!("embedding {what}"), Some(total_tokens), || progress_bar(total_tokens, what));
        bar.set_message(format!(
            "{} texts ({} cached, {} duplicates)",
            todo.len(),
            unique.len() - todo.len(),
            texts.len() - unique.len()
        ));
        let started = Instant::now();
        // Each session takes the next batch from a shared counter; results
        // come back here, where they are stored, cached and counted.
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel::<Result<(usize, Vec<Vec<f32>>), EmbedError>>();
        let (cache, pool, dir) = (&mut t.cache, &t.pool, t.plan.dir.as_path());
        let cancel = progress.cancel();
        let run = std::thread::scope(|scope| -> Result<(), EmbedError> {
            for session in t.sessions.iter_mut() {
                let (tx, next, batches, unique, todo) = (tx.clone(), &next, &batches, &unique, &todo);
                scope.spawn(move || loop {
                    if cancel.is_cancelled() {
                        let _ = tx.send(Err(EmbedError::Cancelled));
                        break;
                    }
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    let Some(batch) = batches.get(b) else { break };
                    let inputs: Vec<&str> = batch.iter().map(|&i| unique[todo[i]]).collect();
                    let out = run_batch(session, &inputs, pool, dir).map(|v| (b, v));
                    let failed = out.is_err();
                    if tx.send(out).is_err() || failed {
                        break;
                    }
                });
            }
            drop(tx);
            for message in rx {
                let (b, out) = message?;
                let chunk = batches[b];
                let mut fresh = Vec::with_capacity(chunk.len());
                let longest = chunk.iter().map(|&i| lengths[i]).max().unwrap_or(0);
                stats.slots += (longest * chunk.len()) as u64;
                for (&i, v) in chunk.iter().zip(&out) {
                    let u = todo[i];
                    vectors[u * dim..(u + 1) * dim].copy_from_slice(v);
                    fresh.push((keys[u], v.as_slice()));
                    bar.inc(lengths[i] as u64);
                }
                if let Some(cache) = cache.as_mut() {
                    cache.put_batch(&fresh)?;
                }
            }
            Ok(())
        });
        match run {
            Ok(()) => bar.finish(),
            Err(e) => {
                bar.clear();
                return Err(e);
            }
        }
        stats.texts += todo.len();
        stats.tokens += total_tokens;
        stats.cached += unique.len() - todo.len();
        stats.seconds += started.elapsed().as_secs_f64();
        let mut result = vec![0f32; texts.len() * dim];
        for (row, &u) in slots.iter().enumerate() {
            result[row * dim..(row + 1) * dim].copy_from_slice(&vectors[u * dim..(u + 1) * dim]);
        }
        Ok(result)
    }
}
