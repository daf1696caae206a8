//! Reads how a sentence-transformers model folder says its vectors are made.
//!
//! A folder's `modules.json` lists the modules (Transformer, Pooling, Normalize...) that turn text
//! into a vector; their config files set the pooling mode, prompt handling, truncation and casing.
//! knnpref reproduces only Transformer → Pooling → optional Normalize and refuses anything else, so a
//! model never silently yields vectors that differ from the ones sentence-transformers would give.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::pooling::Pooling;

/// The settings of a model folder that shape its vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FolderConfig {
    /// How token vectors are pooled.
    pub pooling: Pooling,
    /// Whether prompt tokens take part in pooling (Pooling's `include_prompt`).
    pub include_prompt: bool,
    /// Whether vectors are scaled to unit length (a Normalize module is listed).
    pub normalize: bool,
    /// The token limit from `sentence_bert_config.json`, if set.
    pub max_seq_length: Option<usize>,
    /// Whether text is lowercased first (`sentence_bert_config.json`, default false).
    pub do_lower_case: bool,
    /// Named prompts from `config_sentence_transformers.json` (a `null` prompt reads as empty).
    pub prompts: BTreeMap<String, String>,
    /// The prompt used when the user names none.
    pub default_prompt_name: Option<String>,
}

/// Why a model folder could not be read: the user's fault, a folder that is
/// not what it should be (a refusal of the system under `Io` is found by the
/// caller, as for every other file).
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not the JSON sentence-transformers writes.
    #[error("{} is not valid sentence-transformers JSON; fix or re-download the model", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The module list is not Transformer, Pooling, then optionally Normalize.
    #[error("{} lists modules [{found}]; knnpref needs a Transformer, then a Pooling, then optionally a Normalize", path.display())]
    BadLayout {
        /// The modules.json file.
        path: PathBuf,
        /// The module types found, comma-separated.
        found: String,
    },
    /// A module knnpref cannot reproduce.
    #[error("model folder {} uses module {module_type} (at \"{path}\"); knnpref supports only Transformer, Pooling and Normalize modules", dir.display())]
    UnsupportedModule {
        /// The model folder.
        dir: PathBuf,
        /// The module's `type` in modules.json.
        module_type: String,
        /// The module's `path` in modules.json.
        path: String,
    },
    /// modules.json lists no Pooling module.
    #[error("{} has no Pooling module; knnpref needs one to know how to pool token vectors", path.display())]
    NoPooling {
        /// The modules.json file.
        path: PathBuf,
    },
    /// The Pooling config enables no mode, several (which ST concatenates) or an unknown one.
    #[error(
        "{} sets pooling mode(s) [{found}]; knnpref supports exactly one of {}",
        path.display(),
        MODE_NAMES
    )]
    PoolingMode {
        /// The Pooling config.json.
        path: PathBuf,
        /// The modes as written, comma-separated.
        found: String,
    },
    /// default_prompt_name names a prompt the folder does not define.
    #[error("{} sets default_prompt_name \"{name}\" but defines only the prompts [{known}]", path.display())]
    DefaultPromptMissing {
        /// The config_sentence_transformers.json file.
        path: PathBuf,
        /// The default prompt name.
        name: String,
        /// The defined prompt names, comma-separated.
        known: String,
    },
    /// The user asked for a prompt the model does not define.
    #[error("the model has no prompt named \"{name}\"; its prompts are [{known}]")]
    UnknownPrompt {
        /// The requested name.
        name: String,
        /// The defined prompt names, comma-separated.
        known: String,
    },
}

impl FolderError {
    /// Whose fault: the user's, who gave the folder.
    pub fn fault(&self) -> crate::fault::Fault {
        use FolderError as F;
        match self {
            F::Io { .. }
            | F::Json { .. }
            | F::BadLayout { .. }
            | F::UnsupportedModule { .. }
            | F::NoPooling { .. }
            | F::PoolingMode { .. }
            | F::DefaultPromptMissing { .. }
            | F::UnknownPrompt { .. } => crate::fault::Fault::User,
        }
    }
}

/// The pooling modes by sentence-transformers name, for messages.
const MODE_NAMES: &str = "cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken";

/// Legacy Pooling keys and their modes, in sentence-transformers' order.
const LEGACY_KEYS: [(&str, Pooling); 6] = [
    ("pooling_mode_cls_token", Pooling::Cls),
    ("pooling_mode_max_tokens", Pooling::Max),
    ("pooling_mode_mean_tokens", Pooling::Mean),
    ("pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen),
    ("pooling_mode_weightedmean_tokens", Pooling::WeightedMean),
    ("pooling_mode_lasttoken", Pooling::LastToken),
];

/// One entry of modules.json.
#[derive(serde::Deserialize)]
struct ModuleEntry {
    /// The module's Python class path.
    #[serde(rename = "type")]
    module_type: String,
    /// The module's folder, relative to the model folder.
    #[serde(default)]
    path: String,
}

/// The parts of sentence_bert_config.json knnpref reads.
#[derive(serde::Deserialize, Default)]
struct SbertConfig {
    /// The token limit.
    max_seq_length: Option<usize>,
    /// Whether to lowercase text.
    #[serde(default)]
    do_lower_case: bool,
}

/// The parts of config_sentence_transformers.json knnpref reads.
#[derive(serde::Deserialize, Default)]
struct StConfig {
    /// Named prompts.
    #[serde(default)]
    prompts: BTreeMap<String, Option<String>>,
    /// The default prompt's name.
    default_prompt_name: Option<String>,
}

/// A Pooling module's config.json: the newer `pooling_mode` or the legacy `pooling_mode_*` booleans.
#[derive(serde::Deserialize)]
struct PoolingConfig {
    /// The newer form (one name or a list); overrides the booleans.
    pooling_mode: Option<serde_json::Value>,
    /// Whether prompt tokens are pooled (default true).
    include_prompt: Option<bool>,
    /// The legacy booleans, keyed by name, and anything else.
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

/// The sentence-transformers class a modules.json `type` names, if knnpref reproduces it, accepting
/// the spellings of ST 2.x to 6.x (`sentence_transformers.models.Pooling`,
/// `sentence_transformers.sentence_transformer.modules.pooling.Pooling`, ...).
fn class_of(module_type: &str) -> Option<&'static str> {
    let prefixes = ["models.", "sentence_transformer.modules.", "base.modules."];
    let rest = module_type.strip_prefix("sentence_transformers.")?;
    let rest = prefixes.iter().find_map(|p| rest.strip_prefix(p))?;
    ["Transformer", "Pooling", "Normalize"].into_iter().find(|class| {
        let snake = class.to_ascii_lowercase();
        [class.to_string(), format!("{class}.{class}"), format!("{snake}.{class}")].iter().any(|s| s == rest)
    })
}

/// Parses the JSON file at `path`, or `None` when it does not exist.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, FolderError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(FolderError::Io { path: path.to_path_buf(), source }),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| FolderError::Json { path: path.to_path_buf(), source })
}

/// Reads the model folder `dir`; without modules.json, knnpref's defaults (mean, normalized).
pub(crate) fn read(dir: &Path) -> Result<FolderConfig, FolderError> {
    let modules_path = dir.join("modules.json");
    let modules = read_json::<Vec<ModuleEntry>>(&modules_path)?;
    let mut cfg = FolderConfig {
        pooling: Pooling::Mean,
        include_prompt: true,
        normalize: true,
        max_seq_length: None,
        do_lower_case: false,
        prompts: BTreeMap::new(),
        default_prompt_name: None,
    };
    let Some(modules) = modules else {
        let sbert = read_json::<SbertConfig>(&dir.join("sentence_bert_config.json"))?.unwrap_or_default();
        (cfg.max_seq_length, cfg.do_lower_case) = (sbert.max_seq_length, sbert.do_lower_case);
        return Ok(cfg);
    };
    let mut classes = Vec::with_capacity(modules.len());
    for m in &modules {
        classes.push(class_of(&m.module_type).ok_or_else(|| FolderError::UnsupportedModule {
            dir: dir.to_path_buf(),
            module_type: m.module_type.clone(),
            path: m.path.clone(),
        })?);
    }
    cfg.normalize = match classes.as_slice() {
        ["Transformer", "Pooling"] => false,
        ["Transformer", "Pooling", "Normalize"] => true,
        ["Transformer", rest @ ..] if !rest.contains(&"Pooling") => {
            return Err(FolderError::NoPooling { path: modules_path })
        }
        _ => {
            let found = modules.iter().map(|m| m.module_type.as_str()).collect::<Vec<_>>().join(", ");
            return Err(FolderError::BadLayout { path: modules_path, found });
        }
    };
    let sbert_path = dir.join(&modules[0].path).join("sentence_bert_config.json");
    let sbert = read_json::<SbertConfig>(&sbert_path)?.unwrap_or_default();
    (cfg.max_seq_length, cfg.do_lower_case) = (sbert.max_seq_length, sbert.do_lower_case);
    (cfg.pooling, cfg.include_prompt) = read_pooling(&dir.join(&modules[1].path).join("config.json"))?;
    let st_path = dir.join("config_sentence_transformers.json");
    let st = read_json::<StConfig>(&st_path)?.unwrap_or_default();
    cfg.prompts = st.prompts.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
    if let Some(name) = &st.default_prompt_name {
        if !cfg.prompts.contains_key(name) {
            let known = cfg.prompts.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(FolderError::DefaultPromptMissing { path: st_path, name: name.clone(), known });
        }
    }
    cfg.default_prompt_name = st.default_prompt_name;
    Ok(cfg)
}

/// Reads a Pooling module's config.json into its one mode and `include_prompt`.
fn read_pooling(path: &Path) -> Result<(Pooling, bool), FolderError> {
    let Some(cfg) = read_json::<PoolingConfig>(path)? else {
        let source =
            std::io::Error::new(std::io::ErrorKind::NotFound, "the Pooling module's config is missing");
        return Err(FolderError::Io { path: path.to_path_buf(), source });
    };
    let names: Vec<String> = match cfg.pooling_mode {
        Some(serde_json::Value::Array(list)) => {
            list.iter().map(|v| v.as_str().unwrap_or("?").to_string()).collect()
        }
        Some(serde_json::Value::String(name)) => vec![name],
        Some(other) => vec![other.to_string()],
        // Neither form: ST's default, mean.
        None if !LEGACY_KEYS.iter().any(|(key, _)| cfg.rest.contains_key(*key)) => vec!["mean".into()],
        None => LEGACY_KEYS
            .iter()
            .filter(|(key, _)| cfg.rest.get(*key) == Some(&serde_json::Value::Bool(true)))
            .map(|(_, mode)| mode.name().to_string())
            .collect(),
    };
    match names.as_slice() {
        [one] => match Pooling::from_name(one) {
            Some(mode) => Ok((mode, cfg.include_prompt.unwrap_or(true))),
            None => Err(FolderError::PoolingMode { path: path.to_path_buf(), found: one.clone() }),
        },
        _ => Err(FolderError::PoolingMode { path: path.to_path_buf(), found: names.join(", ") }),
    }
}

impl FolderConfig {
    /// The prompt text for `name` (Some(name) given by the user, else the folder's default_prompt_name,
    /// else none) or an error naming the known names. An empty prompt is no prompt, as in ST.
    pub(crate) fn prompt(&self, name: Option<&str>) -> Result<Option<&str>, FolderError> {
        let text = match name.or(self.default_prompt_name.as_deref()) {
            None => return Ok(None),
            Some(n) => self.prompts.get(n).ok_or_else(|| FolderError::UnknownPrompt {
                name: n.to_string(),
                known: self.prompts.keys().cloned().collect::<Vec<_>>().join(", "),
            })?,
        };
        Ok(Some(text.as_str()).filter(|t| !t.is_empty()))
    }

    /// Canonical bytes of the settings that shape a vector (pooling, include_prompt, normalize,
    /// do_lower_case, chosen prompt), for hashing into the model identity.
    pub(crate) fn identity_bytes(&self, prompt: Option<&str>) -> Vec<u8> {
        let prompt = match prompt {
            Some(p) => format!("{}:{p}", p.len()),
            None => "none".to_string(),
        };
        format!(
            "st-folder/v1\npooling={}\ninclude_prompt={}\nnormalize={}\ndo_lower_case={}\nprompt={prompt}",
            self.pooling.name(),
            self.include_prompt,
            self.normalize,
            self.do_lower_case
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests;
