//! Where the runtime and the models live (`$KNNPREF_HOME`, provisioned by
//! `scripts/setup.sh`), and the process-wide ONNX Runtime environment.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::error::EmbedError;

/// Where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// ONNX Runtime's CPU provider.
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA provider: needs the GPU runtime of
    /// `scripts/setup.sh --gpu` and a working CUDA device; refused otherwise.
    Cuda,
    /// CUDA when the runtime offers it, else the CPU (with a note on stderr).
    Auto,
}

/// The ONNX Runtime version whose shared library knnpref loads.
pub const ORT_VERSION: &str = "1.31.1";
/// The default model folder name under `$KNNPREF_HOME/models`.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";
/// The int8 variant selected by `--quantized`.
pub const QUANTIZED_MODEL: &str = "all-MiniLM-L6-v2-int8";

/// What to run when the runtime or a model is missing.
pub(crate) const SETUP_HINT: &str =
    "run scripts/setup.sh (it installs into $KNNPREF_HOME, default ~/.cache/knnpref)";

/// `$KNNPREF_HOME`, default `~/.cache/knnpref`.
pub fn knnpref_home() -> PathBuf {
    if let Some(h) = std::env::var_os("KNNPREF_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("knnpref")
}

/// The embedding cache folder: `$KNNPREF_CACHE`, default `$KNNPREF_HOME/cache`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("KNNPREF_CACHE").filter(|c| !c.is_empty()) {
        Some(c) => PathBuf::from(c),
        None => knnpref_home().join("cache"),
    }
}

/// The static model folder `scripts/setup.sh` distils from the default model.
pub const STATIC_MODEL: &str = "all-MiniLM-L6-v2-static";

/// The provisioned static model (`--static`).
pub fn static_model_dir() -> PathBuf {
    knnpref_home().join("models").join(STATIC_MODEL)
}

/// The default model folder, or the int8 one.
pub fn default_model_dir(quantized: bool) -> PathBuf {
    let name = if quantized { QUANTIZED_MODEL } else { DEFAULT_MODEL };
    knnpref_home().join("models").join(name)
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH` if set, else the provisioned one.
pub fn runtime_library() -> PathBuf {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    knnpref_home().join("lib").join(runtime_file_name())
}

/// The runtime library's file name, the same in `lib` and `lib-gpu`.
fn runtime_file_name() -> String {
    format!("libonnxruntime.so.{ORT_VERSION}")
}

/// Where `scripts/setup.sh --gpu` puts the GPU build of ONNX Runtime (with
/// its CUDA provider libraries) and, under `cuda/`, the CUDA and cuDNN
/// libraries from PyPI.
pub fn gpu_runtime_dir() -> PathBuf {
    knnpref_home().join("lib-gpu")
}

/// The library to load for `device`: for CUDA or auto, the GPU build when
/// it is provisioned (it runs the CPU provider too); else [`runtime_library`].
/// `ORT_DYLIB_PATH` always wins.
pub(crate) fn runtime_library_for(device: Device) -> PathBuf {
    let gpu = gpu_runtime_dir().join(runtime_file_name());
    let env_set = std::env::var_os("ORT_DYLIB_PATH").is_some_and(|p| !p.is_empty());
    if device != Device::Cpu && !env_set && gpu.is_file() {
        return gpu;
    }
    runtime_library()
}

static ENVIRONMENT: OnceLock<ort::environment::Environment> = OnceLock::new();

/// The process's ONNX Runtime environment, loading the library on first use
/// (shared by knnpref's sessions and by benches that run ONNX Runtime raw).
pub fn environment() -> Result<ort::environment::Environment, EmbedError> {
    environment_for(Device::Cpu)
}

/// [`environment`], loading the library chosen for `device` on first use
/// (one library per process: the first call decides).
pub(crate) fn environment_for(device: Device) -> Result<ort::environment::Environment, EmbedError> {
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env.clone());
    }
    let path = runtime_library_for(device);
    if !path.is_file() {
        return Err(EmbedError::RuntimeMissing { path, hint: SETUP_HINT });
    }
    let load_err =
        |source: ort::Error| EmbedError::RuntimeLoad { path: path.clone(), hint: SETUP_HINT, source };
    let builder = ort::init_from(&path).map_err(|source| EmbedError::RuntimeOpen {
        path: path.clone(),
        version: ORT_VERSION,
        hint: SETUP_HINT,
        source,
    })?;
    let env = builder.with_name("knnpref").build().map_err(load_err)?;
    if device != Device::Cpu {
        preload_cuda();
    }
    Ok(ENVIRONMENT.get_or_init(|| env).clone())
}

/// Load the CUDA and cuDNN libraries that `scripts/setup.sh --gpu` put in
/// `lib-gpu/cuda`, so that the CUDA provider finds them without
/// `LD_LIBRARY_PATH`. They depend on one another, so each pass loads what
/// it can until a pass loads nothing more; what will not load (no driver,
/// say) is left for the provider to report when a session starts.
fn preload_cuda() {
    let Ok(entries) = std::fs::read_dir(gpu_runtime_dir().join("cuda")) else {
        return;
    };
    let mut left: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    left.sort();
    loop {
        let before = left.len();
        left.retain(|lib| ort::util::preload_dylib(lib.as_path()).is_err());
        if left.is_empty() || left.len() == before {
            return;
        }
    }
}
