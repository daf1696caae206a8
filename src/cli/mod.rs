//! Command-line arguments (clap derive). `config` turns them, once, into
//! the library's validated configs; clap stays in the binary.

mod config;
pub mod distill;
mod embed;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use knnpref::embed::Device;
use knnpref::search::Search;

pub use config::{default_threads, ArgError};
pub use embed::{EmbedArgs, EmbedCmdArgs};

#[derive(Debug, Parser)]
#[command(
    name = "knnpref",
    version,
    about = "Predict which of two chatbot answers a person prefers (Chatbot Arena / Kaggle LMSYS format)",
    long_about = "Predict which of two chatbot answers a person prefers.\n\n\
        knnpref embeds prompts and responses with a sentence model (ONNX Runtime, offline), \
        indexes the training battles for nearest-neighbour look-ups, and combines neighbour \
        votes, embedding geometry and text statistics in a calibrated, A/B-symmetric head.\n\n\
        Run scripts/setup.sh once to install the runtime and model into $KNNPREF_HOME \
        (default ~/.cache/knnpref).\n\nExit codes: 0 success, 1 bad data or arguments, 2 internal failure (please report it), 3 the system refused (disk full, permission, I/O error)."
)]
pub struct Cli {
    /// Hide progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an index folder from a labelled train file (CSV or Parquet).
    Index(IndexArgs),
    /// Predict a test file and write a Kaggle submission CSV.
    Predict(PredictArgs),
    /// Embed a battles file and write its vectors (Parquet) for `--vectors`.
    Embed(EmbedCmdArgs),
    /// Show the training battles most similar to one battle or to a text.
    Similar(SimilarArgs),
    /// Cross-validate knnpref and baselines in the same folds.
    Evaluate(EvaluateArgs),
    /// Show the out-of-fold predictions that cost the most log loss, and why.
    Errors(ErrorsArgs),
    /// Write synthetic Kaggle-format battles, for speed and scale tests only (never accuracy).
    Synth(SynthArgs),
    /// Distill a static (model2vec-layout) embedding model from a sentence model.
    Distill(distill::DistillArgs),
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Seed for fold assignment (every random step derives from it).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Training battles whose votes each neighbour feature averages.
    #[arg(long = "neighbours", short_alias = 'k', default_value_t = 20, value_name = "N")]
    pub neighbours: usize,
    /// Nearest-neighbour search: under auto, HNSW only when vectors and queries are both many (their
    /// harmonic mean reaches 200,000; training queries every battle), else exact.
    #[arg(long, value_enum, default_value_t = SearchArg::Auto)]
    pub search: SearchArg,
    /// Drop the nearest-neighbour features (ablation).
    #[arg(long)]
    pub no_knn: bool,
    /// Word-level feature groups to use, comma-separated (`none` for none;
    /// ablation). `uniq` measured no gain on the sample, so it is off by default.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "GROUPS", default_values_t = [WordGroup::Repeat, WordGroup::Overlap])]
    pub words: Vec<WordGroup>,
    /// The head: the logistic one, boosted trees on the scalar features, or
    /// auto (a blend of the two whose weight cross-validation picks; it may
    /// pick either alone).
    #[arg(long, value_enum, default_value_t = HeadArg::Auto)]
    pub head: HeadArg,
}

/// `--head`: which head the fit may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeadArg {
    /// Multinomial logistic regression on every feature.
    Linear,
    /// Gradient-boosted trees on the scalar features.
    Boosted,
    /// Cross-validation blends the two.
    Auto,
}

impl From<HeadArg> for knnpref::model::HeadChoice {
    fn from(h: HeadArg) -> Self {
        match h {
            HeadArg::Linear => Self::Linear,
            HeadArg::Boosted => Self::Boosted,
            HeadArg::Auto => Self::Auto,
        }
    }
}

/// `--words`: a word-level feature group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WordGroup {
    /// Share of repeated word 3-grams.
    Repeat,
    /// Distinct words / words.
    Uniq,
    /// Word overlap with the prompt and between the sides.
    Overlap,
    /// No word-level group.
    None,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Kaggle-format train file (.csv or .parquet).
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,
    /// Index folder to write (replaced atomically if it holds an index).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Folds used to cross-fit the training features and choose the head.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Grow this index: its battles come first, with their vectors read from it (not embedded
    /// again); only the --train battles are embedded, then everything is refitted. Pass the options
    /// the base was built with; it may be the --out folder.
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,
    /// With --base: leave out battles of --train that the base already holds (same id or same
    /// content) instead of refusing them.
    #[arg(long, requires = "base")]
    pub skip_existing: bool,
    #[command(flatten)]
    pub fit: FitArgs,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Index folder built by `knnpref index`.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Kaggle-format test file (.csv or .parquet).
    #[arg(long, value_name = "FILE")]
    pub test: PathBuf,
    /// Submission CSV to write; `-` writes it to standard output (the summary then goes to stderr).
    #[arg(long, value_name = "FILE", default_value = "submission.csv")]
    pub out: PathBuf,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("query").required(true).args(["id", "text"])))]
pub struct SimilarArgs {
    /// Index folder built by `knnpref index`.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// A training battle's id.
    #[arg(long)]
    pub id: Option<String>,
    /// A prompt text.
    #[arg(long)]
    pub text: Option<String>,
    /// How many battles to show.
    #[arg(short = 'n', long = "show", default_value_t = 5, value_name = "N")]
    pub show: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Kaggle-format train file (.csv or .parquet).
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,
    /// Outer cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Repeat the K-fold split R times with fold seeds SEED, SEED+1, …
    #[arg(long, default_value_t = 1, value_name = "R")]
    pub repeats: usize,
    /// Write knnpref's out-of-fold predictions of the first repeat
    /// (submission format plus label_model_a, label_model_b, label_tie).
    #[arg(long, value_name = "FILE")]
    pub oof: Option<PathBuf>,
    /// Write report.html (plots) and metrics.json into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Also refit every model on 1/8, 1/4 and 1/2 of each training fold
    /// (learning curves; about twice the time).
    #[arg(long)]
    pub learning_curve: bool,
    /// Print the scores as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub fit: FitArgs,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

#[derive(Debug, Args)]
pub struct ErrorsArgs {
    /// Index folder built from the same train file as the OOF predictions.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Out-of-fold predictions written by `knnpref evaluate --oof`.
    #[arg(long, value_name = "FILE")]
    pub oof: PathBuf,
    /// The train file the index was built from (checked by sha256): adds the
    /// models' names, the features that pushed each prediction, and whole texts.
    #[arg(long, value_name = "FILE")]
    pub train: Option<PathBuf>,
    /// Order: `loss`, every row by its log loss; `confidence`, wrong
    /// predictions by the probability given to the predicted class.
    #[arg(long, value_enum, default_value_t = RankArg::Loss)]
    pub by: RankArg,
    /// Print whole texts, every turn, instead of the first 80-100 characters.
    #[arg(long, requires = "train")]
    pub full: bool,
    /// How many rows to show.
    #[arg(short = 'n', long = "show", default_value_t = 10, value_name = "N")]
    pub show: usize,
    /// Training battles with the nearest prompts shown per row.
    #[arg(long = "neighbours", short_alias = 'k', default_value_t = 3, value_name = "N")]
    pub neighbours: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of battles.
    #[arg(long, default_value_t = 5000)]
    pub rows: usize,
    /// Seed of the generator: the same seed writes the same file.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Share of multi-turn battles.
    #[arg(long, default_value_t = 0.1)]
    pub multi_turn: f64,
    /// CSV file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `errors --by`: how rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RankArg {
    /// Per-row log loss, highest first (every row).
    Loss,
    /// Probability of the predicted class, highest first (wrong predictions only).
    Confidence,
}

impl From<RankArg> for knnpref::pipeline::Rank {
    fn from(r: RankArg) -> Self {
        match r {
            RankArg::Loss => knnpref::pipeline::Rank::Loss,
            RankArg::Confidence => knnpref::pipeline::Rank::Confidence,
        }
    }
}

/// `--device`: where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// ONNX Runtime on the CPU.
    Cpu,
    /// ONNX Runtime's CUDA provider (needs `scripts/setup.sh --gpu` and a CUDA 13 GPU); refused
    /// with what is missing otherwise.
    Cuda,
    /// CUDA when the runtime offers it, else the CPU with a note.
    Auto,
}

impl From<DeviceArg> for Device {
    fn from(d: DeviceArg) -> Device {
        match d {
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Cuda => Device::Cuda,
            DeviceArg::Auto => Device::Auto,
        }
    }
}

/// `--search`: how neighbours are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchArg {
    /// Exact unless vectors and queries are both many (harmonic mean from 200,000), then HNSW.
    Auto,
    /// A dot product against every vector.
    Exact,
    /// Approximate search in an HNSW graph.
    Hnsw,
}

impl From<SearchArg> for Search {
    fn from(s: SearchArg) -> Search {
        match s {
            SearchArg::Auto => Search::Auto,
            SearchArg::Exact => Search::Exact,
            SearchArg::Hnsw => Search::Hnsw,
        }
    }
}

impl Command {
    /// Worker threads asked for (`None`: all cores; commands that do not embed).
    pub fn threads(&self) -> Option<usize> {
        match self {
            Command::Index(a) => a.embed.threads,
            Command::Predict(a) => a.embed.threads,
            Command::Embed(a) => a.embed.threads,
            Command::Similar(a) => a.embed.threads,
            Command::Evaluate(a) => a.embed.threads,
            Command::Distill(a) => a.threads,
            Command::Errors(_) | Command::Synth(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every subcommand has a description, and no help
    /// text shows a source placeholder such as a doc link.
    #[test]
    fn every_argument_is_described_without_placeholders() {
        let mut cli = super::Cli::command();
        cli.build();
        for sub in cli.get_subcommands() {
            assert!(sub.get_about().is_some(), "`{}` has no description", sub.get_name());
            for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                assert!(!help.is_empty(), "`{} --{}` has no description", sub.get_name(), arg.get_id());
                assert!(!help.contains('`') || !help.contains("[`"), "`{}`: {help}", arg.get_id());
            }
            let text = sub.clone().render_long_help().to_string();
            assert!(!text.contains("[`"), "`{}` help shows a placeholder:\n{text}", sub.get_name());
        }
    }

    #[test]
    fn search_help_states_the_crossover_the_library_uses() {
        assert_eq!(knnpref::search::EXACT_BELOW, 200_000, "update the --search help text");
    }
}
