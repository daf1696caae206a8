//! knnpref's binary: parse arguments once, run one command, map errors to exit codes.

mod cli;
mod render;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use knnpref::pipeline::{self, environment_failure, Destination, Fault, PipelineError};
use render::{embedding_line, print_errors, print_eval, print_index, print_json, print_similar, warn};

fn main() -> ExitCode {
    install_panic_hook();
    // A panic anywhere (worker threads re-raise theirs here) exits 2; the
    // hook has already printed its one line.
    match std::panic::catch_unwind(run) {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => failed(&err),
        Err(_) => ExitCode::from(Fault::Internal.exit_code()),
    }
}

/// Print an error and choose its exit code (README, "Exit codes").
fn failed(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let fault = fault_of(err);
    match fault {
        Fault::User => eprintln!("error: {err:#}"),
        Fault::Environment => eprintln!(
            "error: {err:#}\nThe system refused (no space, quota, permission or a device error); \
             earlier outputs were left as they were. Fix that and run the command again."
        ),
        Fault::Internal => eprintln!(
            "error: {err:#}\nThis is an internal failure in knnpref; please report it with the command you ran."
        ),
    }
    ExitCode::from(fault.exit_code())
}

/// The environment's fault if the system refused anywhere in the chain; the
/// otherwise whatever the error type says of itself (a bad argument is the user's).
fn fault_of(err: &anyhow::Error) -> Fault {
    if err.chain().any(|e| environment_failure(e).is_some()) {
        return Fault::Environment;
    }
    match err.downcast_ref::<PipelineError>() {
        Some(p) => p.fault(),
        None if err.downcast_ref::<cli::ArgError>().is_some() => Fault::User,
        None => Fault::Internal,
    }
}

/// On a panic, print one line asking for a report instead of Rust's message
/// and backtrace; with `RUST_BACKTRACE` set (not `0`), Rust's own report too.
fn install_panic_hook() {
    let rust_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            rust_report(info);
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
        eprintln!(
            "error: internal failure (knnpref {} panicked{at}: {what}); please report it with the command you ran",
            env!("CARGO_PKG_VERSION")
        );
    }));
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
        // End at once, without the exit handlers: `exit` would run ONNX
        // Runtime's C++ static destructors while its worker threads still
        // run a batch, and they print errors after the line above.
        // SAFETY: `_exit` only ends the process; nothing after it runs, and
        // the line above is written (stderr is unbuffered).
        unsafe { libc::_exit(130) }
    })
    .context("installing the Ctrl-C handler")?;
    let threads = cli.command.threads();
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or_else(cli::default_threads).max(1))
        .build_global()
        .context("starting the worker threads")?;
    knnpref::fsio::panic_if_asked();
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
            let (_, s) = pipeline::predict(&cfg)?;
            warn(&s.warnings);
            embedding_line(quiet, &s.embedding);
            let to = cfg.out.as_ref().expect("the CLI always writes the submission");
            let line = format!("wrote {} predictions to {to}", s.rows);
            // With the submission on standard output, the summary goes to stderr.
            match to {
                Destination::Stdout if quiet => {}
                Destination::Stdout => eprintln!("{line}"),
                Destination::File(_) => writeln!(out, "{line}")?,
            }
        }
        cli::Command::Embed(args) => {
            let cfg = args.config(quiet)?;
            let s = pipeline::embed_vectors(&cfg)?;
            warn(&s.warnings);
            embedding_line(quiet, &s.embedding);
            writeln!(
                out,
                "wrote vectors of {} battles (dimension {}, producer {}) to {}",
                s.rows,
                s.dim,
                s.producer,
                cfg.out.display()
            )?;
        }
        cli::Command::Similar(args) => {
            let cfg = args.config()?;
            let r = pipeline::similar(&cfg)?;
            if args.json {
                print_json(&mut out, &r)?;
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
                print_json(&mut out, &r)?;
            } else {
                print_eval(&mut out, &r)?;
            }
        }
        cli::Command::Synth(args) => {
            knnpref::synth::write_synthetic(&args.out, args.params()?).map_err(PipelineError::from)?;
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
                print_json(&mut out, &report)?;
            } else {
                print_errors(&mut out, &report, args.full)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
