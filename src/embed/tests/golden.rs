//! Every pooling mode, prompt handling and the tokeniser against
//! sentence-transformers itself: tests/golden/minilm_pooling.json holds the
//! vectors PyTorch gave for all-MiniLM-L6-v2 with each Pooling config
//! (`scripts/golden_pooling.py`, run once). Each case is rebuilt here as a
//! sentence-transformers folder (the provisioned graph and tokenizer, plus
//! modules.json, 1_Pooling/config.json and the prompts) and embedded by
//! knnpref's own code.

use super::*;

fn golden() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/minilm_pooling.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A sentence-transformers folder for `case` in `dir`: the provisioned
/// model's files (linked), its modules and Pooling config, and the prompt.
fn folder_for(case: &serde_json::Value, dir: &Path) -> PathBuf {
    let model = default_model_dir(false);
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    for entry in std::fs::read_dir(&model).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    let mut modules = vec![
        serde_json::json!({"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}),
        serde_json::json!({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}),
    ];
    if case["normalize"] == true {
        modules.push(serde_json::json!({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}));
    }
    std::fs::write(dir.join("modules.json"), serde_json::to_vec(&modules).unwrap()).unwrap();
    std::fs::write(dir.join("1_Pooling/config.json"), serde_json::to_vec(&case["pooling_config"]).unwrap())
        .unwrap();
    if let Some(prompt) = case["prompt"].as_str() {
        let config =
            serde_json::json!({"prompts": {"query": prompt, "passage": ""}, "default_prompt_name": null});
        std::fs::write(dir.join("config_sentence_transformers.json"), config.to_string()).unwrap();
    }
    dir.to_owned()
}

fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    v.iter().map(|x| (f64::from(*x) / norm) as f32).collect()
}

#[test]
fn every_pooling_mode_matches_sentence_transformers() {
    let golden = golden();
    let texts: Vec<String> =
        golden["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().into()).collect();
    let tmp = tempfile::tempdir().unwrap();
    let (mut identities, mut settings) = (std::collections::HashSet::new(), std::collections::HashSet::new());
    for (i, case) in golden["cases"].as_array().unwrap().iter().enumerate() {
        let dir = folder_for(case, &tmp.path().join(format!("case{i}")));
        let prompt_name = case["prompt"].as_str().map(|_| "query".to_string());
        let opts = EmbedOptions { use_cache: false, batch_size: 2, prompt_name, ..EmbedOptions::new(1) };
        let mut e = Embedder::open(&dir, &opts.check().unwrap(), &Progress::hidden()).unwrap();
        let what = format!(
            "{} normalize={} prompt={} include_prompt={}",
            case["pooling"], case["normalize"], case["prompt"], case["include_prompt"]
        );
        identities.insert(e.info().sha256.clone());
        // knnpref normalises every vector, so a Normalize module changes nothing.
        settings.insert((
            case["pooling"].to_string(),
            case["prompt"].to_string(),
            case["include_prompt"].to_string(),
        ));
        // The tokeniser gives sentence-transformers' ids, prompt included.
        let ids = case.get("token_ids").unwrap_or(&golden["token_ids"]);
        for (text, want) in texts.iter().zip(ids.as_array().unwrap()) {
            let input = format!("{}{text}", case["prompt"].as_str().unwrap_or(""));
            let got: Vec<u64> =
                e.tokenizer().encode(input, true).unwrap().get_ids().iter().map(|&x| x as u64).collect();
            let want: Vec<u64> = want.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
            assert_eq!(got, want, "{what}: token ids of {text:?}");
        }
        let vectors = e.embed(&texts, "golden").unwrap();
        for (t, want) in case["vectors"].as_array().unwrap().iter().enumerate() {
            let want: Vec<f32> =
                want.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
            let want = unit(&want);
            let got = &vectors[t * 384..(t + 1) * 384];
            let gap = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(gap < 1e-5, "{what}: text {t} differs by {gap}");
        }
    }
    assert_eq!(identities.len(), settings.len(), "each setting that shapes a vector is its own identity");
    assert_eq!(settings.len(), 8);
}

#[test]
fn an_unsupported_module_and_an_unknown_prompt_are_refused_by_name() {
    let golden = golden();
    let tmp = tempfile::tempdir().unwrap();
    let dir = folder_for(&golden["cases"][7], &tmp.path().join("m"));
    let opts = |name: &str| EmbedOptions {
        use_cache: false,
        prompt_name: Some(name.into()),
        ..EmbedOptions::new(1)
    };
    let err =
        Embedder::open(&dir, &opts("title").check().unwrap(), &Progress::hidden()).err().unwrap().to_string();
    assert!(err.contains("no prompt named \"title\"") && err.contains("query"), "{err}");
    let mut modules: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("modules.json")).unwrap()).unwrap();
    modules.as_array_mut().unwrap().push(serde_json::json!({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}));
    std::fs::write(dir.join("modules.json"), modules.to_string()).unwrap();
    let err =
        Embedder::open(&dir, &opts("query").check().unwrap(), &Progress::hidden()).err().unwrap().to_string();
    assert!(err.contains("sentence_transformers.models.Dense"), "{err}");
}
