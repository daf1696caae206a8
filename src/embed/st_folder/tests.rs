//! Unit tests of reading sentence-transformers folders.
use super::*;

/// all-MiniLM-L6-v2's modules.json.
const MINILM: &str = r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
    {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
    {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]"#;

/// A temp folder holding `files` (relative path, contents).
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Reads a MiniLM-shaped folder whose Pooling config is `pooling`, plus `extra` files.
fn minilm(pooling: &str, extra: &[(&str, &str)]) -> Result<FolderConfig, FolderError> {
    let mut files = vec![("modules.json", MINILM), ("1_Pooling/config.json", pooling)];
    files.extend_from_slice(extra);
    read(folder(&files).path())
}

#[test]
fn no_modules_json_gives_defaults() {
    let dir = folder(&[("sentence_bert_config.json", r#"{"max_seq_length": 256, "do_lower_case": true}"#)]);
    let cfg = read(dir.path()).expect("read");
    assert_eq!((cfg.pooling, cfg.include_prompt, cfg.normalize), (Pooling::Mean, true, true));
    assert_eq!((cfg.max_seq_length, cfg.do_lower_case), (Some(256), true));
    let empty = read(folder(&[]).path()).expect("read");
    assert_eq!((empty.max_seq_length, empty.do_lower_case, empty.prompts.len()), (None, false, 0));
}

#[test]
fn minilm_layout() {
    let pooling = r#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": false,
        "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false}"#;
    let sbert = ("sentence_bert_config.json", r#"{"max_seq_length": 256, "do_lower_case": false}"#);
    let cfg = minilm(pooling, &[sbert]).expect("read");
    assert_eq!((cfg.pooling, cfg.include_prompt, cfg.normalize), (Pooling::Mean, true, true));
    assert_eq!(
        (cfg.max_seq_length, cfg.do_lower_case, cfg.prompt(None).expect("none")),
        (Some(256), false, None)
    );
    // Real cached folders, when present.
    for name in ["all-MiniLM-L6-v2", "all-mpnet-base-v2"] {
        let dir = Path::new("/root/.cache/knnpref/models").join(name);
        if !dir.join("modules.json").exists() {
            println!("note: {} has no modules.json; skipped", dir.display());
            continue;
        }
        let cfg = read(&dir).expect("read");
        assert_eq!((cfg.pooling, cfg.include_prompt, cfg.normalize), (Pooling::Mean, true, true));
    }
}

#[test]
fn cls_config_and_new_spellings() {
    let modules = r#"[{"path":"","type":"sentence_transformers.base.modules.transformer.Transformer"},
        {"path":"1_Pooling","type":"sentence_transformers.sentence_transformer.modules.pooling.Pooling"}]"#;
    let pooling = r#"{"embedding_dimension": 8, "pooling_mode": "cls", "include_prompt": false}"#;
    let cfg = read(folder(&[("modules.json", modules), ("1_Pooling/config.json", pooling)]).path());
    let cfg = cfg.expect("read");
    assert_eq!((cfg.pooling, cfg.include_prompt, cfg.normalize), (Pooling::Cls, false, false));
    let legacy = minilm(r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#, &[]);
    assert_eq!(legacy.expect("read").pooling, Pooling::Cls);
    assert_eq!(class_of("sentence_transformers.base.modules.normalize.Normalize"), Some("Normalize"));
    assert_eq!(class_of("sentence_transformers.models.Pooling.Pooling"), Some("Pooling"));
    assert_eq!(class_of("sentence_transformers.sparse_encoder.models.SpladePooling"), None);
}

#[test]
fn pooling_modes_other_than_one_are_refused() {
    let both = minilm(r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}"#, &[]);
    let msg = both.expect_err("two modes").to_string();
    assert!(msg.contains("[cls, mean]") && msg.contains("config.json"), "{msg}");
    let list = minilm(r#"{"pooling_mode": ["max", "lasttoken"]}"#, &[]).expect_err("list");
    assert!(list.to_string().contains("[max, lasttoken]"));
    for (cfg, found) in
        [(r#"{"pooling_mode_mean_tokens": false}"#, ""), (r#"{"pooling_mode": "sum"}"#, "sum")]
    {
        assert!(matches!(minilm(cfg, &[]), Err(FolderError::PoolingMode { found: f, .. }) if f == found));
    }
}

#[test]
fn dense_and_bad_layouts_are_refused() {
    let modules = MINILM.replace("models.Normalize", "models.Dense");
    let err = read(folder(&[("modules.json", &modules)]).path()).expect_err("dense");
    assert!(matches!(&err, FolderError::UnsupportedModule { path, .. } if path == "2_Normalize"));
    let msg = err.to_string();
    assert!(msg.contains("sentence_transformers.models.Dense") && msg.contains("Transformer, Pooling"));
    let only = r#"[{"path":"","type":"sentence_transformers.models.Transformer"}]"#;
    let msg = read(folder(&[("modules.json", only)]).path()).expect_err("no pooling").to_string();
    assert!(msg.contains("no Pooling module"), "{msg}");
    let swapped = MINILM.replace("models.Transformer", "models.Normalize");
    assert!(matches!(read(folder(&[("modules.json", &swapped)]).path()), Err(FolderError::BadLayout { .. })));
    let err = read(folder(&[("modules.json", "[{")]).path()).expect_err("json");
    assert!(err.to_string().contains("modules.json") && std::error::Error::source(&err).is_some());
    assert!(matches!(read(folder(&[("modules.json", MINILM)]).path()), Err(FolderError::Io { .. })));
}

#[test]
fn prompts_and_default() {
    let st =
        r#"{"prompts": {"query": "query: ", "document": "", "x": null}, "default_prompt_name": "query"}"#;
    let cfg = minilm("{}", &[("config_sentence_transformers.json", st)]).expect("read");
    assert_eq!((cfg.default_prompt_name.as_deref(), cfg.pooling), (Some("query"), Pooling::Mean));
    assert_eq!(cfg.prompt(None).expect("default"), Some("query: "));
    assert_eq!(cfg.prompt(Some("document")).expect("empty"), None);
    assert_eq!(cfg.prompt(Some("x")).expect("null"), None);
    let msg = cfg.prompt(Some("doc")).expect_err("unknown").to_string();
    assert!(msg.contains("\"doc\"") && msg.contains("[document, query, x]"), "{msg}");
    let bad = r#"{"prompts": {"query": "q"}, "default_prompt_name": "passage"}"#;
    let err = minilm("{}", &[("config_sentence_transformers.json", bad)]);
    assert!(matches!(err, Err(FolderError::DefaultPromptMissing { .. })));
}

#[test]
fn identity_bytes_differ() {
    let cfg = read(folder(&[]).path()).expect("read");
    let cls = FolderConfig { pooling: Pooling::Cls, ..cfg.clone() };
    assert_ne!(cfg.identity_bytes(None), cls.identity_bytes(None));
    assert_ne!(cfg.identity_bytes(None), cfg.identity_bytes(Some("q: ")));
    assert_ne!(cfg.identity_bytes(Some("")), cfg.identity_bytes(None));
    assert_eq!(cfg.identity_bytes(Some("q: ")), cfg.identity_bytes(Some("q: ")));
}
