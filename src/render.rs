//! The binary's text output: tables, hit lists and warnings. The library
//! returns data; how it looks on a terminal is decided here alone.

use std::io::Write;

use knnpref::embed::thousands;
use knnpref::pipeline;

/// What embedding cost, on stderr: texts, tokens, speed, padding, cache hits.
pub(crate) fn embedding_line(quiet: bool, s: &knnpref::embed::EmbedStats) {
    if quiet {
        return;
    }
    if s.texts == 0 && s.cached == 0 {
        // Vectors were given, or every battle came from a base index.
        eprintln!("embedding: no texts to embed");
        return;
    }
    eprintln!(
        "embedding: {} texts, {} tokens in {:.1} s ({} tokens/s), padding {:.1}%; {} from the cache",
        thousands(s.texts as f64),
        thousands(s.tokens as f64),
        s.seconds,
        thousands(s.tokens_per_second()),
        100.0 * s.padding_waste(),
        s.cached
    );
}

pub(crate) fn warn(warnings: &[String]) {
    const SHOWN: usize = 10;
    for w in warnings.iter().take(SHOWN) {
        eprintln!("warning: {w}");
    }
    if warnings.len() > SHOWN {
        eprintln!("warning: … and {} more warnings", warnings.len() - SHOWN);
    }
}

/// `index`'s summary: stage times on stderr (unless quiet), the result on `out`.
pub(crate) fn print_index(
    out: &mut impl Write,
    quiet: bool,
    dir: &std::path::Path,
    s: &pipeline::IndexSummary,
) -> std::io::Result<()> {
    if !quiet {
        let t = &s.seconds;
        let f = &t.fit_parts;
        eprintln!(
            "time: read {:.1} s, embed {:.1} s (truncation {:.1} s), fit {:.1} s, save {:.1} s\n\
             fit: neighbour indexes {:.1} s, look-ups {:.1} s, head choice {:.1} s, cross-fit {:.1} s, \
             boosted head {:.1} s, temperature and final head {:.1} s",
            t.read,
            t.embed,
            s.embedding.truncate_seconds,
            t.fit,
            t.save,
            f.graph,
            f.neighbours,
            f.select,
            f.cross_fit,
            f.boosted,
            f.last
        );
    }
    if s.base_rows > 0 || s.skipped > 0 {
        writeln!(
            out,
            "base: {} battles with their vectors from the base index (not embedded), {} new{}",
            thousands(s.base_rows as f64),
            thousands((s.rows - s.base_rows) as f64),
            match s.skipped {
                0 => String::new(),
                n => format!(
                    "; {} battles of the training file skipped, the base holds them",
                    thousands(n as f64)
                ),
            }
        )?;
    }
    writeln!(
        out,
        "indexed {} battles into {}\nin-sample CV log loss {:.4} (after temperature {:.3}: {:.4}); lambda {}, embedding-block scale {}; {}\n\
         (in-sample: the head and temperature were chosen on these same rows, so this is optimistic; \
         `knnpref evaluate` gives the held-out estimate)",
        s.rows,
        dir.display(),
        s.cv_log_loss,
        s.temperature,
        s.cv_log_loss_calibrated,
        s.lambda,
        s.emb_scale,
        head_blend(s.linear_weight, s.boosted_rounds)
    )
}

/// The head's blend in words.
fn head_blend(linear_weight: f64, rounds: usize) -> String {
    match rounds {
        0 => "logistic head alone".to_string(),
        _ if linear_weight <= 0.0 => format!("boosted trees alone ({rounds} rounds)"),
        _ => format!(
            "blend {linear_weight:.2} logistic + {:.2} boosted trees ({rounds} rounds)",
            1.0 - linear_weight
        ),
    }
}

/// `s` on one line (whitespace folded), cut to `n` characters with an ellipsis.
fn one_line(s: &str, n: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = flat.chars().take(n).collect();
    if flat.chars().count() > n {
        cut.push('…');
    }
    cut
}

/// `value` as indented JSON and a newline. Serialised first, then written,
/// so that a closed pipe reaches the caller as the plain I/O error the
/// binary exits 0 on (serde_json's writer would wrap it).
pub(crate) fn print_json(out: &mut impl Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")
}

pub(crate) fn print_similar(out: &mut impl Write, r: &pipeline::SimilarResult) -> std::io::Result<()> {
    if r.query_is_last_turn_start {
        writeln!(
            out,
            "query (start of the battle's last prompt turn; the search used every turn): {}",
            one_line(&r.query, 100)
        )?;
    } else {
        writeln!(out, "query: {}", one_line(&r.query, 100))?;
    }
    if let (Some(truth), Some(p)) = (r.truth, r.prediction) {
        writeln!(
            out,
            "vote: {truth}; in-sample out-of-fold prediction (head chosen on these rows; \
             `knnpref evaluate` for held-out scores): a {:.3}, b {:.3}, tie {:.3}",
            p[0], p[1], p[2]
        )?;
    }
    for h in &r.hits {
        writeln!(out, "\n#{} id {}  similarity {:.3}  vote {}", h.rank, h.id, h.similarity, h.vote)?;
        writeln!(out, "  prompt: {}", one_line(&h.prompt_start, 100))?;
        writeln!(out, "  A ({:>6} chars): {}", h.response_a_chars, one_line(&h.response_a_start, 80))?;
        writeln!(out, "  B ({:>6} chars): {}", h.response_b_chars, one_line(&h.response_b_start, 80))?;
    }
    Ok(())
}

pub(crate) fn print_eval(out: &mut impl Write, r: &pipeline::EvalReport) -> std::io::Result<()> {
    writeln!(out, "{} rows, {}-fold CV x {} repeat(s), seed {}", r.rows, r.folds, r.repeats, r.seed)?;
    writeln!(
        out,
        "{:<12} {:>9} {:>8} {:>9} {:>7}  Δ vs text-only [95% CI] (negative: better)",
        "model", "log loss", "± std", "accuracy", "ECE"
    )?;
    for m in &r.models {
        let diff = m
            .vs_text_only
            .map_or(String::new(), |d| format!("{:+.4} [{:+.4}, {:+.4}]", d.mean, d.low, d.high));
        writeln!(
            out,
            "{:<12} {:>9.4} {:>8.4} {:>9.4} {:>7.4}  {diff}",
            m.name, m.log_loss, m.log_loss_std, m.accuracy, m.ece
        )?;
    }
    let against: Vec<String> = r
        .models
        .iter()
        .filter_map(|m| {
            m.knnpref_vs.map(|d| format!("{} {:+.4} [{:+.4}, {:+.4}]", m.name, d.mean, d.low, d.high))
        })
        .collect();
    writeln!(
        out,
        "knnpref minus each model, per row [95% CI] (negative: knnpref better): {}",
        against.join("; ")
    )?;
    writeln!(
        out,
        "knnpref's out-of-fold log loss on the first repeat (what --oof holds): {:.4}",
        r.oof_log_loss
    )?;
    print_curve(out, &r.learning_curve)?;
    writeln!(out, "\nlog loss by segment")?;
    write!(out, "{:<28} {:>5}", "segment", "rows")?;
    for m in &r.models {
        write!(out, " {:>11}", m.name)?;
    }
    writeln!(out)?;
    for s in &r.segments {
        write!(out, "{:<28} {:>5}", format!("{}: {}", s.family, s.segment), s.rows)?;
        for l in &s.log_loss {
            write!(out, " {l:>11.4}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The learning-curve table: one row per model, one column per training size.
fn print_curve(out: &mut impl Write, points: &[pipeline::CurvePoint]) -> std::io::Result<()> {
    let Some(first) = points.first() else { return Ok(()) };
    let sizes: Vec<&pipeline::CurvePoint> = points.iter().filter(|p| p.model == first.model).collect();
    writeln!(out, "\nlearning curve: log loss by training rows per fold (share of each training fold)")?;
    write!(out, "{:<12}", "model")?;
    for p in &sizes {
        write!(out, " {:>12}", format!("{:.0} ({})", p.train_rows, share(p.fraction)))?;
    }
    writeln!(out)?;
    for chunk in points.chunks(sizes.len()) {
        write!(out, "{:<12}", chunk[0].model)?;
        for p in chunk {
            write!(out, " {:>12.4}", p.log_loss)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// 0.125 as "1/8", 1 as "all".
fn share(fraction: f64) -> String {
    if fraction >= 1.0 {
        "all".into()
    } else {
        format!("1/{:.0}", 1.0 / fraction)
    }
}

/// `errors`: a header saying how rows are ordered and what the attributions
/// are, then each row with its loss, texts (starts, or whole with `full`),
/// the features that pushed it and its nearest training battles.
pub(crate) fn print_errors(
    out: &mut impl Write,
    r: &pipeline::ErrorsReport,
    full: bool,
) -> std::io::Result<()> {
    let order = match r.by {
        pipeline::Rank::Loss => "every row by its log loss, highest first",
        pipeline::Rank::Confidence => "wrong predictions by confidence, highest first",
    };
    writeln!(out, "{} of {} out-of-fold rows: {order}", r.cases.len(), r.oof_rows)?;
    if r.with_train {
        writeln!(
            out,
            "why: the features that pushed the index's head most towards the predicted class (logit shares, \
             on the battle as shown, not its A/B swap; the logistic head's part: where the head blends in \
             boosted trees, their share is not attributed); the head is fitted on every training row, so it \
             explains the model, not the fold model that made this OOF prediction"
        )?;
    } else {
        writeln!(
            out,
            "texts: the index stores only the first 300 characters of each last turn and no model names; \
             pass --train FILE (the file the index was built from) for model names, why, and --full texts"
        )?;
    }
    for c in &r.cases {
        let p = c.prediction;
        writeln!(
            out,
            "\n#{} id {}  loss {:.3}: truth {}, predicted {} ({:.3}); a {:.3} b {:.3} tie {:.3}",
            c.rank, c.id, c.loss, c.truth, c.predicted, c.confidence, p.model_a, p.model_b, p.tie
        )?;
        if let Some(m) = &c.models {
            writeln!(out, "  models: A {}, B {}", m.model_a, m.model_b)?;
        }
        match (&c.texts, full) {
            (Some(t), true) => {
                print_turns(out, "prompt", &t.prompt)?;
                print_turns(out, &format!("A ({} chars)", c.response_a_chars), &t.response_a)?;
                print_turns(out, &format!("B ({} chars)", c.response_b_chars), &t.response_b)?;
            }
            _ => {
                writeln!(out, "  prompt: {}", one_line(&c.prompt_start, 100))?;
                writeln!(
                    out,
                    "  A ({:>6} chars): {}",
                    c.response_a_chars,
                    one_line(&c.response_a_start, 80)
                )?;
                writeln!(
                    out,
                    "  B ({:>6} chars): {}",
                    c.response_b_chars,
                    one_line(&c.response_b_start, 80)
                )?;
            }
        }
        if let Some(a) = &c.attribution {
            let top: Vec<String> = a
                .top
                .iter()
                .map(|f| match f.value {
                    Some(v) => format!("{}={v:.3} {:+.3}", f.feature, f.contribution),
                    None => format!("{} {:+.3}", f.feature, f.contribution),
                })
                .collect();
            writeln!(out, "  why {}: {}", a.class, top.join(", "))?;
            writeln!(out, "    (intercept {:+.3}; all features and intercept {:+.3})", a.intercept, a.total)?;
        }
        for h in &c.neighbours {
            writeln!(
                out,
                "    near {:.3} id {} vote {}: {}",
                h.similarity,
                h.id,
                h.vote,
                one_line(&h.prompt_start, 60)
            )?;
        }
    }
    Ok(())
}

/// A side's whole text, turn by turn, each line indented.
fn print_turns(out: &mut impl Write, what: &str, turns: &[String]) -> std::io::Result<()> {
    for (i, turn) in turns.iter().enumerate() {
        writeln!(out, "  {what}, turn {} of {}:", i + 1, turns.len())?;
        for line in turn.lines() {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}
