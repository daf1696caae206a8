//! The embedding flags every command shares ([`EmbedArgs`]), and the
//! `embed` subcommand that writes a battles file's vectors.

use std::path::PathBuf;

use clap::Args;
use knnpref::embed::ModelFlags;
use knnpref::pipeline::EmbedConfig;

use super::DeviceArg;

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// A model folder: a sentence-transformers folder with model.onnx (its modules.json,
    /// pooling, sequence length and prompts are followed), or a static table (model.safetensors).
    /// Also the name of a folder under $KNNPREF_HOME/models. Default: the model an index was
    /// built with (found again from the folder its manifest records), else the static table
    /// (--static) on the CPU and the transformer (--transformer) with --device cuda.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Use the int8 model ($KNNPREF_HOME/models/all-MiniLM-L6-v2-int8). `predict` and `similar`
    /// use the index's model; there these flags only say where it lives and must agree with it.
    #[arg(long, conflicts_with = "model")]
    pub quantized: bool,
    /// Use the static model distilled by scripts/setup.sh
    /// ($KNNPREF_HOME/models/all-MiniLM-L6-v2-static): a token table, about
    /// 100x faster than the transformer, no neural runtime. The default on the CPU.
    #[arg(long = "static", conflicts_with_all = ["model", "quantized"])]
    pub static_model: bool,
    /// Use the provisioned fp32 transformer ($KNNPREF_HOME/models/all-MiniLM-L6-v2), the
    /// default with --device cuda.
    #[arg(long, conflicts_with_all = ["model", "quantized", "static_model"])]
    pub transformer: bool,
    /// Vectors computed elsewhere instead of a model: a Parquet file or folder of parts with
    /// columns id, prompt, response_a, response_b (float lists) and the metadata key
    /// knnpref.producer, as `knnpref embed` writes. Every battle must be present.
    #[arg(long, value_name = "FILE|DIR", conflicts_with_all = ["model", "quantized", "static_model", "transformer"])]
    pub vectors: Option<PathBuf>,
    /// Worker threads for ONNX Runtime and feature work (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// ONNX Runtime sessions embedding batches side by side (the threads are
    /// shared out among them).
    #[arg(long, default_value_t = knnpref::embed::DEFAULT_SESSIONS, value_name = "N")]
    pub sessions: usize,
    /// Tokens per text, special tokens included (default: the model's max_seq_length, 256 for
    /// MiniLM, 384 for mpnet; 512 for a static table).
    /// Fewer is faster; `predict` and `similar` use the index's value.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<usize>,
    /// Texts per inference batch.
    #[arg(long, default_value_t = knnpref::embed::DEFAULT_BATCH_SIZE, value_name = "N")]
    pub batch_size: usize,
    /// Execution provider.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// The model's prompt to put before every text, by its name in the folder's
    /// config_sentence_transformers.json (e.g. `query`). Default: the model's own default prompt.
    #[arg(long, value_name = "NAME")]
    pub prompt_name: Option<String>,
    /// Do not read or write the embedding cache ($KNNPREF_CACHE, default $KNNPREF_HOME/cache).
    #[arg(long)]
    pub no_cache: bool,
}

impl EmbedArgs {
    /// The model flags as given.
    pub(super) fn flags(&self) -> ModelFlags {
        ModelFlags {
            folder: self.model.clone(),
            quantized: self.quantized,
            static_table: self.static_model,
            transformer: self.transformer,
            vectors: self.vectors.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct EmbedCmdArgs {
    /// Battles file (.csv or .parquet); winner columns are not needed.
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// Vectors file to write (Parquet: id, prompt, response_a, response_b).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Producer name to record (default: the model's name, identity and token budget, which
    /// `predict` on an index of this model accepts).
    #[arg(long, value_name = "NAME")]
    pub producer: Option<String>,
    #[command(flatten)]
    pub embed: EmbedArgs,
}

impl EmbedCmdArgs {
    /// The library's config.
    pub fn config(&self, quiet: bool) -> anyhow::Result<EmbedConfig> {
        super::config::existing_file("--in", &self.input)?;
        Ok(EmbedConfig {
            input: self.input.clone(),
            out: self.out.clone(),
            embed: self.embed.options()?,
            producer: self.producer.clone(),
            progress: super::config::progress(quiet),
        })
    }
}
