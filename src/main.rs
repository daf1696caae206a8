//! knnpref's binary: parse arguments once, run one command, map errors to exit codes.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use knnpref::pipeline::{self, evaluate, PipelineError};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            let user = err
                .downcast_ref::<PipelineError>()
                .map_or_else(|| err.downcast_ref::<cli::ArgError>().is_some(), PipelineError::is_user_error);
            ExitCode::from(if user { 1 } else { 2 })
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            e.print()?;
            return Ok(ExitCode::from(code));
        }
    };
    let quiet = cli.quiet;
    // On Ctrl-C, delete temporary outputs; finished files are never touched.
    ctrlc::set_handler(|| {
        knnpref::cleanup::remove_pending();
        eprintln!("interrupted; temporary files removed, earlier outputs left as they were");
        std::process::exit(130);
    })
    .context("installing the Ctrl-C handler")?;
    let threads = match &cli.command {
        cli::Command::Index(a) => a.embed.threads,
        cli::Command::Predict(a) => a.embed.threads,
        cli::Command::Similar(a) => a.embed.threads,
        cli::Command::Evaluate(a) => a.embed.threads,
        cli::Command::Errors(_) | cli::Command::Synth(_) => None,
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or_else(cli::default_threads).max(1))
        .build_global()
        .context("starting the worker threads")?;
    let mut out = std::io::stdout().lock();
    match cli.command {
        cli::Command::Index(args) => {
            let cfg = args.config(quiet)?;
            let s = pipeline::build_index(&cfg)?;
            warn(&s.warnings);
            embedding_line(quiet, &s.embedding);
            if !quiet {
                let t = &s.seconds;
                eprintln!(
                    "time: read {:.1} s, embed {:.1} s (truncation {:.1} s), fit {:.1} s, save {:.1} s",
                    t.read, t.embed, s.embedding.truncate_seconds, t.fit, t.save
                );
            }
            writeln!(
                out,
                "indexed {} battles into {}\ncross-validated log loss {:.4} (after temperature {:.3}: {:.4}); lambda {}, embedding-block scale {}",
                s.rows,
                cfg.out.display(),
                s.cv_log_loss,
                s.temperature,
                s.cv_log_loss_calibrated,
                s.lambda,
                s.emb_scale
            )?;
        }
        cli::Command::Predict(args) => {
            let cfg = args.config(quiet)?;
            let s = pipeline::predict(&cfg)?;
            warn(&s.warnings);
            embedding_line(quiet, &s.embedding);
            writeln!(out, "wrote {} predictions to {}", s.rows, cfg.out.display())?;
        }
        cli::Command::Similar(args) => {
            let cfg = args.config()?;
            let r = pipeline::similar(&cfg)?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &r)?;
                writeln!(out)?;
            } else {
                print_similar(&mut out, &r)?;
            }
        }
        cli::Command::Evaluate(args) => {
            let cfg = args.config(quiet)?;
            let r = evaluate::evaluate(&cfg)?;
            warn(&r.warnings);
            if args.json {
                serde_json::to_writer_pretty(&mut out, &r)?;
                writeln!(out)?;
            } else {
                print_eval(&mut out, &r)?;
            }
        }
        cli::Command::Synth(args) => {
            knnpref::synth::write_synthetic(&args.out, args.params()?)?;
            writeln!(
                out,
                "wrote {} synthetic battles to {} (for speed tests only)",
                args.rows,
                args.out.display()
            )?;
        }
        cli::Command::Errors(args) => {
            let cases = pipeline::errors(&args.config()?)?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &cases)?;
                writeln!(out)?;
            } else {
                print_errors(&mut out, &cases)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What embedding cost, on stderr: texts, tokens, speed, padding, cache hits.
fn embedding_line(quiet: bool, s: &knnpref::embed::EmbedStats) {
    if quiet {
        return;
    }
    eprintln!(
        "embedding: {} texts, {} tokens in {:.1} s ({:.0} tokens/s), padding {:.1}%; {} from the cache",
        s.texts,
        s.tokens,
        s.seconds,
        s.tokens_per_second(),
        100.0 * s.padding_waste(),
        s.cached
    );
}

fn warn(warnings: &[String]) {
    const SHOWN: usize = 10;
    for w in warnings.iter().take(SHOWN) {
        eprintln!("warning: {w}");
    }
    if warnings.len() > SHOWN {
        eprintln!("warning: … and {} more warnings", warnings.len() - SHOWN);
    }
}

fn one_line(s: &str, n: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = flat.chars().take(n).collect();
    if flat.chars().count() > n {
        cut.push('…');
    }
    cut
}

fn print_similar(out: &mut impl Write, r: &pipeline::SimilarResult) -> std::io::Result<()> {
    writeln!(out, "query: {}", one_line(&r.query, 100))?;
    if let (Some(truth), Some(p)) = (r.truth, r.prediction) {
        writeln!(
            out,
            "vote: {truth}; out-of-fold prediction: a {:.3}, b {:.3}, tie {:.3}",
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

fn print_eval(out: &mut impl Write, r: &evaluate::EvalReport) -> std::io::Result<()> {
    writeln!(out, "{} rows, {}-fold CV x {} repeat(s), seed {}", r.rows, r.folds, r.repeats, r.seed)?;
    writeln!(
        out,
        "{:<12} {:>9} {:>8} {:>9} {:>7}  vs length-only [95% CI]",
        "model", "log loss", "± std", "accuracy", "ECE"
    )?;
    for m in &r.models {
        let diff = m
            .vs_length_only
            .map_or(String::new(), |d| format!("{:+.4} [{:+.4}, {:+.4}]", d.mean, d.low, d.high));
        writeln!(
            out,
            "{:<12} {:>9.4} {:>8.4} {:>9.4} {:>7.4}  {diff}",
            m.name, m.log_loss, m.log_loss_std, m.accuracy, m.ece
        )?;
    }
    writeln!(out, "\nlog loss by segment")?;
    write!(out, "{:<34} {:>5}", "segment", "rows")?;
    for m in &r.models {
        write!(out, " {:>11}", m.name)?;
    }
    writeln!(out)?;
    for s in &r.segments {
        write!(out, "{:<34} {:>5}", format!("{}: {}", s.family, s.segment), s.rows)?;
        for l in &s.log_loss {
            write!(out, " {l:>11.4}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn print_errors(out: &mut impl Write, cases: &[pipeline::ErrorCase]) -> std::io::Result<()> {
    for (i, c) in cases.iter().enumerate() {
        let p = c.prediction;
        writeln!(
            out,
            "#{} id {}: truth {}, predicted {} ({:.3}); a {:.3} b {:.3} tie {:.3}",
            i + 1,
            c.id,
            c.truth,
            c.predicted,
            c.confidence,
            p[0],
            p[1],
            p[2]
        )?;
        writeln!(out, "  prompt: {}", one_line(&c.prompt_start, 100))?;
        writeln!(out, "  A ({:>6} chars): {}", c.response_a_chars, one_line(&c.response_a_start, 80))?;
        writeln!(out, "  B ({:>6} chars): {}", c.response_b_chars, one_line(&c.response_b_start, 80))?;
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
        writeln!(out)?;
    }
    Ok(())
}
