//! The `knnpref distill` subcommand: arguments, validation and the summary
//! line.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use knnpref::embed::distill::{distill, DistillParams};

use super::config::arg_err;
use super::ArgError;
use knnpref::pipeline::PipelineError;
use knnpref::progress::Progress;

/// `knnpref distill`.
#[derive(Debug, Args)]
pub struct DistillArgs {
    /// Sentence-transformers-style ONNX model folder (model.onnx + tokenizer.json).
    /// Default: $KNNPREF_HOME/models/all-MiniLM-L6-v2.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Folder to write the static model to (model2vec layout; replaced if it holds one).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Dimensions kept by the PCA.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub dims: usize,
    /// SIF coefficient a: token weight a / (a + p), p estimated from vocabulary rank.
    #[arg(long, default_value_t = 1e-4, value_name = "A")]
    pub sif: f64,
    /// ONNX Runtime threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Vocabulary tokens per model run.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub batch_size: usize,
    /// Embed only the first N vocabulary ids (others get zero rows); for tests.
    #[arg(long, value_name = "N", hide = true)]
    pub limit: Option<usize>,
}

impl DistillArgs {
    /// Checked parameters for [`distill`].
    pub fn config(&self, quiet: bool) -> Result<DistillParams, ArgError> {
        let model = self.model.clone().unwrap_or_else(|| knnpref::embed::default_model_dir(false));
        if !model.join("model.onnx").is_file() {
            return Err(arg_err("--model", format!("{} holds no model.onnx", model.display())));
        }
        if self.dims == 0 {
            return Err(arg_err("--dims", "must be at least 1"));
        }
        if !(self.sif.is_finite() && self.sif > 0.0) {
            return Err(arg_err("--sif", "must be a positive number"));
        }
        if self.batch_size == 0 || self.threads == Some(0) || self.limit.is_some_and(|l| l < 2) {
            return Err(arg_err("--batch-size/--threads/--limit", "must be at least 1 (--limit 2)"));
        }
        Ok(DistillParams {
            dims: self.dims,
            sif: self.sif,
            batch_size: self.batch_size,
            threads: self.threads.unwrap_or_else(super::default_threads),
            limit: self.limit,
            progress: if quiet { Progress::hidden() } else { Progress::terminal() },
            ..DistillParams::new(model, self.out.clone())
        })
    }
}

/// Distill and print one summary line.
pub fn run(args: &DistillArgs, quiet: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let r = distill(&args.config(quiet)?).map_err(PipelineError::from)?;
    writeln!(
        out,
        "distilled {} tokens ({} embedded) into {} dims, {:.1}% of the variance kept, in {:.1} s ({:.1} s in the model): {}",
        r.vocab,
        r.embedded,
        r.dims,
        100.0 * r.explained_variance,
        r.seconds,
        r.embed_seconds,
        r.out.display()
    )?;
    Ok(())
}
