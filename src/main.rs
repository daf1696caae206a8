//! knnpref's binary: parse arguments once, run one command, map errors to exit codes.

mod cli;
mod render;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use knnpref::pipeline::{self, PipelineError};
use render::{embedding_line, print_errors, print_eval, print_index, print_similar, warn};

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
        knnpref::fsio::remove_pending();
        eprintln!("interrupted; temporary files removed, earlier outputs left as they were");
        std::process::exit(130);
    })
    .context("installing the Ctrl-C handler")?;
    let threads = cli.command.threads();
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
            print_index(&mut out, quiet, &cfg.out, &s)?;
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
            let r = pipeline::evaluate(&cfg)?;
            warn(&r.warnings);
            if !quiet {
                for path in &r.written {
                    eprintln!("wrote {}", path.display());
                }
            }
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
        cli::Command::Distill(args) => cli::distill::run(&args, quiet, &mut out)?,
        cli::Command::Errors(args) => {
            let report = pipeline::errors(&args.config()?)?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            } else {
                print_errors(&mut out, &report, args.full)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
