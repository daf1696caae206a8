//! A walk over every error variant of the library: each is built once and
//! its class checked, directly and as the pipeline error the front-ends
//! see. Each enum's variants are listed in an exhaustive `match` (the
//! `covers!` macro, no wildcard), so a new variant does not compile until it
//! is listed here, and the test fails until it has a sample.

use std::io;
use std::path::PathBuf;

use crate::data::{DataError, TurnsError};
use crate::embed::distill::DistillError;
use crate::embed::static_model::{DtypeError, StaticError};
use crate::embed::{CacheError, EmbedError, FolderError, ModelInfo, ModelKind, Pooling};
use crate::fault::Fault::{self, Environment, Internal, User};
use crate::index::{IndexError, VectorSource};
use crate::model::head::HeadError;
use crate::model::ParamsError;
use crate::pipeline::{PipelineError, ReportError, SubmissionError};
use crate::progress::Cancelled;
use crate::synth::SynthError;
use crate::table::TableError;
use crate::vectors::VectorsError;

fn p() -> PathBuf {
    PathBuf::from("/some/file")
}
fn io() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file")
}
fn json() -> serde_json::Error {
    serde_json::from_str::<u8>("x").unwrap_err()
}
fn boxed() -> Box<dyn std::error::Error + Send + Sync> {
    "bad tokenizer".into()
}
fn parquet() -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::General("bad".into())
}
fn arrow() -> arrow::error::ArrowError {
    arrow::error::ArrowError::ComputeError("bad".into())
}
fn fe() -> fastembed::Error {
    fastembed::Error::Other("failed".into())
}
fn ort() -> ort::Error {
    // An ort error is made by ONNX Runtime itself: load the provisioned one.
    crate::embed::environment().expect("scripts/setup.sh provisions ONNX Runtime");
    ort::Error::new("failed")
}
fn load() -> ort::LoadDynamicError {
    ort::LoadDynamicError::InvalidVersionString
}
fn dtype() -> DtypeError {
    DtypeError { tensor: "embeddings".into(), dtype: "I8".into(), expected: "F32" }
}
fn table() -> TableError {
    TableError::Column { path: p(), column: "id".into() }
}
fn too_few() -> ParamsError {
    ParamsError::TooFewRows { rows: 6, folds: 5, need: 10 }
}
fn vectors_dim() -> VectorsError {
    let (id, column) = ("x".to_string(), "prompt");
    VectorsError::Dimension { path: p(), id, column, found: 2, expected: 3, expected_from: None }
}

fn overlap() -> crate::fsio::OutputIsInput {
    let (output_what, input_what) = ("the submission", "the test file");
    crate::fsio::OutputIsInput { output_what, output: p(), input_what, input: p() }
}

fn source() -> Box<VectorSource> {
    Box::new(VectorSource::Vectors { producer: "x".into(), dim: 4 })
}

fn info() -> Box<ModelInfo> {
    let sha256 = "0".repeat(64);
    let (kind, pooling) = (ModelKind::Static, Pooling::Mean);
    Box::new(ModelInfo { id: "m".into(), sha256, dim: 4, max_tokens: 8, kind, pooling })
}

/// Check that `samples` hold every variant of `$enum` once at least, and
/// that each has its class, alone and as a [`PipelineError`] made by `$into`.
macro_rules! covers {
    ($enum:ident [$($variant:ident),+ $(,)?], $samples:expr, $into:expr) => {{
        let ordinal = |e: &$enum| -> usize {
            let mut i = 0usize;
            $(
                if matches!(e, $enum::$variant { .. }) {
                    return i;
                }
                i += 1;
            )+
            unreachable!("{i}")
        };
        // Exhaustive: a variant missing from the list is a compile error.
        let _exhaustive = |e: &$enum| match e { $($enum::$variant { .. } => ()),+ };
        let names = [$(stringify!($variant)),+];
        let samples: Vec<($enum, Fault)> = $samples;
        let mut seen = vec![false; names.len()];
        for (e, fault) in samples {
            seen[ordinal(&e)] = true;
            let text = e.to_string();
            assert_eq!(e.fault(), fault, "{}::{}: {text}", stringify!($enum), names[ordinal(&e)]);
            let into: fn($enum) -> PipelineError = $into;
            assert_eq!(into(e).fault(), fault, "as a pipeline error: {text}");
        }
        for (name, seen) in names.iter().zip(seen) {
            assert!(seen, "{}::{name} has no sample in fault_walk.rs", stringify!($enum));
        }
    }};
}

#[test]
fn every_error_variant_has_the_class_it_should() {
    use PipelineError as P;
    covers!(
        DataError[Io, Csv, InvalidUtf8, Parquet, Arrow, NotParquet, ParquetType, MissingColumn, Empty, Turns,
            BadLabelValue, BadLabel, EmptyId, DuplicateId],
        vec![
            (DataError::Io { path: p(), source: io() }, User),
            (DataError::Csv { path: p(), line: 2, source: csv::Error::from(io()) }, User),
            (DataError::InvalidUtf8 { path: p(), row: 1, line: 2 }, User),
            (DataError::Parquet { path: p(), source: parquet() }, User),
            (DataError::Arrow { path: p(), source: arrow() }, User),
            (DataError::NotParquet { path: p(), looks_like: "it looks like CSV/text" }, User),
            (DataError::ParquetType { path: p(), column: "id".into(), found: "Int8".into() }, User),
            (DataError::MissingColumn { path: p(), column: "prompt", found: "id".into() }, User),
            (DataError::Empty { path: p() }, User),
            (DataError::Turns { path: p(), row: 1, column: "prompt", source: TurnsError::Json { source: json() } }, User),
            (DataError::BadLabelValue { path: p(), row: 1, column: "winner_tie", value: "maybe".into() }, User),
            (DataError::BadLabel { path: p(), row: 1, a: 1.0, b: 1.0, tie: 0.0 }, User),
            (DataError::EmptyId { path: p(), row: 1 }, User),
            (DataError::DuplicateId { path: p(), row: 2, id: "9".into(), first_row: 1 }, User),
        ],
        P::from
    );
    covers!(
        StaticError[Missing, Io, Safetensors, NoEmbeddings, Dtype, Shape, Tokenizer, Config],
        vec![
            (StaticError::Missing { dir: p(), file: "config.json" }, User),
            (StaticError::Io { path: p(), source: io() }, User),
            (StaticError::Safetensors { path: p(), source: safetensors::SafeTensorError::HeaderTooSmall }, User),
            (StaticError::NoEmbeddings { path: p(), found: "w".into() }, User),
            (StaticError::Dtype { path: p(), source: dtype() }, User),
            (StaticError::Shape { path: p(), why: "rows".into() }, User),
            (StaticError::Tokenizer { path: p(), source: boxed() }, User),
            (StaticError::Config { path: p(), source: json() }, User),
        ],
        |e| P::from(EmbedError::from(e))
    );
    covers!(CacheError[Io], vec![(CacheError::Io { path: p(), source: io() }, User)], |e| P::from(
        EmbedError::from(e)
    ));
    let hint = "run scripts/setup.sh";
    covers!(
        EmbedError[RuntimeMissing, RuntimeOpen, RuntimeLoad, ModelMissing, NoModel, NotAFolder, Graph, NotOnnx,
            Io, Tokenizer, TokenizerConfig, Session, Run,
            Cancelled, Folder, OutputShape, BadOption, MaxTokens, Dimension, DeviceUnavailable, StaticOnCuda,
            CudaStart, Cache, Static],
        vec![
            (EmbedError::RuntimeMissing { path: p(), hint }, User),
            (EmbedError::RuntimeOpen { path: p(), version: "1.31.1", hint, source: load() }, User),
            (EmbedError::RuntimeLoad { path: p(), hint, source: ort() }, User),
            (EmbedError::ModelMissing { dir: p(), file: "model.onnx", hint }, User),
            (EmbedError::NoModel { name: "m".into(), models: p(), held: "holds no models".into() }, User),
            (EmbedError::NotAFolder { dir: p(), why: "does not exist" }, User),
            (EmbedError::Graph { dir: p(), problem: "has no outputs".into(), inputs: "none".into(), outputs: "none".into() }, User),
            (EmbedError::NotOnnx { path: p(), why: "it holds no graph" }, User),
            (EmbedError::Io { path: p(), source: io() }, User),
            (EmbedError::Tokenizer { path: p(), source: boxed() }, User),
            (EmbedError::TokenizerConfig { path: p(), why: "has no numeric model_max_length" }, User),
            (EmbedError::Session { dir: p(), source: fe() }, User),
            // A graph of the user's folder fails running: the folder's fault;
            // one that scripts/setup.sh provisioned: knnpref's.
            (EmbedError::Run { dir: p(), provisioned: false, source: fe() }, User),
            (EmbedError::Run { dir: p(), provisioned: true, source: fe() }, Internal),
            (EmbedError::Cancelled, User),
            (EmbedError::Folder(FolderError::NoPooling { path: p() }), User),
            (EmbedError::OutputShape { dir: p(), shape: vec![1, 2, 3, 4] }, User),
            (EmbedError::BadOption { name: "threads", value: "0".into(), why: "must be at least 1" }, User),
            (EmbedError::MaxTokens { given: 4096, limit: 512, dir: p() }, User),
            (EmbedError::Dimension { dir: p(), config: 384, output: 768 }, User),
            (EmbedError::DeviceUnavailable { device: "cuda", provider: "CUDA", runtime: p(), hint }, User),
            (EmbedError::StaticOnCuda { dir: p() }, User),
            (EmbedError::CudaStart { dir: p(), source: fe() }, User),
            (EmbedError::Cache(CacheError::Io { path: p(), source: io() }), User),
            (EmbedError::Static(StaticError::Missing { dir: p(), file: "x" }), User),
        ],
        P::from
    );
    covers!(
        DistillError[OutputIsInput, Runtime, Missing, Io, Tokenizer, TokenizerJson, Session, Run, Graph, Invalid,
            NotStatic, Cancelled],
        vec![
            (DistillError::OutputIsInput(overlap()), User),
            (DistillError::Runtime { source: EmbedError::RuntimeMissing { path: p(), hint } }, User),
            (DistillError::Runtime { source: EmbedError::Run { dir: p(), provisioned: true, source: fe() } }, Internal),
            (DistillError::Missing { dir: p(), file: "model.onnx" }, User),
            (DistillError::Io { path: p(), source: io() }, User),
            (DistillError::Tokenizer { path: p(), source: boxed() }, User),
            (DistillError::TokenizerJson { path: p(), source: json() }, User),
            (DistillError::Session { path: p(), source: ort() }, User),
            (DistillError::Run { path: p(), first: 0, end: 8, source: ort() }, User),
            (DistillError::Graph { path: p(), why: "no output".into() }, User),
            (DistillError::Invalid { what: "dims", why: "0".into() }, User),
            (DistillError::NotStatic { dir: p() }, User),
            (DistillError::Cancelled(Cancelled), User),
        ],
        P::from
    );
    covers!(
        IndexError[NoManifest, BadManifest, NoFormatVersion, OlderFormat, NewerFormat, ManifestFiles,
            ModelMismatch, NeedsVectors, ProducerMismatch, Checksum, DataMissing, Shape, NotAnIndex, NonFinite, Io,
            Table, BadHead],
        vec![
            (IndexError::NoManifest { dir: p() }, User),
            (IndexError::BadManifest { path: p(), source: json() }, User),
            (IndexError::NoFormatVersion { path: p() }, User),
            (IndexError::OlderFormat { dir: p(), found: 2, reads: 4 }, User),
            (IndexError::NewerFormat { dir: p(), found: 9, reads: 4 }, User),
            (IndexError::ManifestFiles { path: p(), why: "lists no head".into() }, User),
            (IndexError::ModelMismatch { dir: p(), built: source(), given: info() }, User),
            (IndexError::NeedsVectors { dir: p(), producer: "x".into() }, User),
            (IndexError::ProducerMismatch { dir: p(), built: source(), producer: "y".into(), dim: 3 }, User),
            (IndexError::Checksum { path: p() }, User),
            (IndexError::DataMissing { path: p() }, User),
            (IndexError::Shape { path: p(), expected: 2, dim: 4, found: 3 }, User),
            (IndexError::NotAnIndex { dir: p() }, User),
            (IndexError::NonFinite { dir: p(), what: "head", at: "w[0]".into() }, Internal),
            (IndexError::Io { path: p(), source: io() }, User),
            (IndexError::Table(table()), User),
            (IndexError::BadHead { path: p(), source: json() }, User),
        ],
        P::from
    );
    covers!(
        TableError[Io, Parquet, Arrow, Column],
        vec![
            (TableError::Io { path: p(), source: io() }, User),
            (TableError::Parquet { path: p(), source: parquet() }, User),
            (TableError::Arrow { path: p(), source: arrow() }, User),
            (table(), User),
        ],
        |e| P::from(IndexError::from(e))
    );
    covers!(
        HeadError[BadParam, BadData, Cancelled],
        vec![
            (HeadError::BadParam { name: "lambda", value: -1.0, why: "must be positive" }, Internal),
            (HeadError::BadData { rows: 1, why: "too few" }, Internal),
            (HeadError::Cancelled(Cancelled), User),
        ],
        P::from
    );
    covers!(
        ParamsError[Invalid, TooFewRows],
        vec![
            (ParamsError::Invalid { name: "folds", value: "1".into(), why: "must be at least 2" }, User),
            (too_few(), User),
        ],
        P::from
    );
    covers!(
        SubmissionError[NotWritable, Io],
        vec![
            (SubmissionError::NotWritable { path: p(), why: "no folder".into() }, User),
            (SubmissionError::Io { path: p(), source: io() }, User),
        ],
        P::from
    );
    covers!(ReportError[Io], vec![(ReportError::Io { path: p(), source: io() }, User)], P::from);
    covers!(
        SynthError[Io, NoFolder],
        vec![
            (SynthError::Io { path: p(), source: io() }, User),
            (SynthError::NoFolder { path: p(), folder: p() }, User),
        ],
        P::from
    );
    covers!(
        VectorsError[Io, Parquet, Empty, NoProducer, MixedProducers, Column, Dimension, BadValue, OutOfRange,
            DuplicateId, Missing],
        vec![
            (VectorsError::Io { path: p(), source: io() }, User),
            (VectorsError::Parquet { path: p(), source: parquet() }, User),
            (VectorsError::Empty { path: p() }, User),
            (VectorsError::NoProducer { path: p() }, User),
            (VectorsError::MixedProducers { path: p(), first: "a".into(), found: "b".into() }, User),
            (VectorsError::Column { path: p(), column: "id", why: "is missing".into() }, User),
            (vectors_dim(), User),
            (VectorsError::BadValue { path: p(), id: "x".into(), column: "prompt", what: "null" }, User),
            (VectorsError::OutOfRange { path: p(), id: "x".into(), column: "prompt", value: 1e300 }, User),
            (VectorsError::DuplicateId { path: p(), id: "x".into() }, User),
            (VectorsError::Missing { path: p(), id: "x".into(), count: 2 }, User),
        ],
        P::from
    );
    covers!(
        PipelineError[Data, Embed, Distill, Index, Head, Params, Rows, Submission, Report, Synth, Vectors,
            ModelGone, QueryNeedsModel, Csv, BadOof, Unlabelled, MaxTokensMismatch, TrainMismatch, AlreadyInBase, BaseOptions, BaseNeedsIds,
            UnknownId, Io, Write, OutputIsInput, NotToStdout, EncodeVectors, Cancelled],
        vec![
            (P::Data(DataError::Empty { path: p() }), User),
            (P::Embed(EmbedError::Run { dir: p(), provisioned: true, source: fe() }), Internal),
            (P::Distill(DistillError::NotStatic { dir: p() }), User),
            (P::Index(IndexError::Checksum { path: p() }), User),
            (P::Head(HeadError::BadData { rows: 1, why: "too few" }), Internal),
            (P::Params(too_few()), User),
            (P::Rows { path: p(), source: too_few() }, User),
            (P::Submission(SubmissionError::Io { path: p(), source: io() }), User),
            (P::Report(ReportError::Io { path: p(), source: io() }), User),
            (P::Synth(SynthError::NoFolder { path: p(), folder: p() }), User),
            (P::Vectors(vectors_dim()), User),
            (
                P::ModelGone { index: p(), folder: p(), kind: "static", id: "m".into(), sha256: "0".into() },
                User,
            ),
            (P::QueryNeedsModel { index: p(), producer: "x".into() }, User),
            (P::Csv { path: p(), source: csv::Error::from(io()) }, User),
            (P::BadOof { path: p(), row: 1, why: "no label".into() }, User),
            (P::Unlabelled { path: p() }, User),
            (P::MaxTokensMismatch { dir: p(), built: 64, given: 32 }, User),
            (P::TrainMismatch { train: p(), index: p(), built_from: "t.csv".into() }, User),
            (P::AlreadyInBase { train: p(), base: p(), count: 2, first: "x".into() }, User),
            (P::BaseOptions { base: p(), differs: "seed".into() }, User),
            (P::Write { path: p(), source: io() }, User),
            (P::Write { path: p(), source: io::Error::new(io::ErrorKind::ReadOnlyFilesystem, "ro") }, Environment),
            (P::Io { path: p(), source: io::Error::new(io::ErrorKind::StorageFull, "full") }, Environment),
            (P::OutputIsInput(overlap()), User),
            (P::NotToStdout { what: "the vectors file" }, User),
            (P::EncodeVectors(parquet()), Internal),
            (P::BaseNeedsIds { train: p() }, User),
            (P::UnknownId { id: "x".into(), index: p() }, User),
            (P::Io { path: p(), source: io() }, User),
            (P::Cancelled(Cancelled), User),
        ],
        |e| e
    );
}

#[test]
fn a_refusal_of_the_system_anywhere_in_the_chain_is_the_environments() {
    let full = || io::Error::from(io::ErrorKind::StorageFull);
    let denied = || io::Error::from(io::ErrorKind::PermissionDenied);
    let errors = [
        PipelineError::from(SubmissionError::Io { path: p(), source: full() }),
        PipelineError::from(EmbedError::Cache(CacheError::Io { path: p(), source: full() })),
        PipelineError::from(IndexError::Table(TableError::Io { path: p(), source: denied() })),
        PipelineError::from(DataError::Io { path: p(), source: denied() }),
        PipelineError::from(EmbedError::Run {
            dir: p(),
            provisioned: true,
            source: fastembed::Error::Io(full()),
        }),
    ];
    for e in errors {
        assert_eq!(e.fault(), Fault::Environment, "{e}");
    }
}
