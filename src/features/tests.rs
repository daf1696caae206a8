//! Unit tests of the features: counts, names, votes and swap symmetry.
use super::*;
use crate::data::{Battle, Label};
use crate::search::Hit;

#[test]
fn text_stats_count_structure() {
    let t = vec!["# Title\n- one\n- two\n1. three\n```rust\nx\n```\n**b**".to_string()];
    let s = TextStats::of_turns(&t);
    assert_eq!(s.headers, 1.0);
    assert_eq!(s.list_items, 3.0);
    assert_eq!(s.code_blocks, 1.0);
    assert_eq!(s.bold, 1.0);
    assert_eq!(s.lines, 8.0);
    assert_eq!(TextStats::of_turns(&["I'm sorry, but no.".into()]).refusal, 1.0);
}

#[test]
fn names_are_unique_and_the_embedding_block_is_one_name_per_dimension() {
    for set in [FeatureSet::FULL, FeatureSet::TEXT_ONLY, FeatureSet::LENGTH_ONLY, FeatureSet::NO_KNN] {
        let names = feature_names(&set, 7);
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "a feature name repeats: {names:?}");
        assert!(names.iter().all(|n| !n.is_empty() && !n.contains(' ')), "{names:?}");
        // Turning the embedding group off removes one difference per
        // dimension and the cosines, and nothing else.
        let without = feature_names(&FeatureSet { embedding: false, ..set }, 7);
        let removed: Vec<&String> = names.iter().filter(|n| !without.contains(n)).collect();
        let diffs: Vec<String> = (0..7).map(|i| format!("emb_diff_{i}")).collect();
        let want = if set.embedding { 7 } else { 0 };
        assert_eq!(removed.iter().filter(|n| diffs.contains(n)).count(), want, "{removed:?}");
        assert!(removed.iter().all(|n| diffs.contains(n) || n.contains("cos")), "{removed:?}");
        assert!(without.iter().all(|n| names.contains(n)));
        assert_eq!(names.len(), set.len(7));
    }
}

#[test]
fn response_votes_credit_the_right_side() {
    let labels = [Label::A, Label::B];
    let votes = Votes { labels: &labels, prior: [0.35, 0.35, 0.3] };
    let p = KnnParams { k: 1, tau: 0.1, alpha: 0.0 };
    // Row 0 is battle 0's response A, which won.
    assert_eq!(votes.response(&p, &[Hit { row: 0, sim: 1.0 }]).0, 1.0);
    // Row 1 is battle 0's response B, which lost.
    assert_eq!(votes.response(&p, &[Hit { row: 1, sim: 1.0 }]).0, 0.0);
    // Row 3 is battle 1's response B, which won.
    assert_eq!(votes.response(&p, &[Hit { row: 3, sim: 1.0 }]).0, 1.0);
}

#[test]
fn word_stats_follow_their_definitions() {
    let w = text::words(&["Hello, hello_world! Ünïcode 42\nthe cat the cat the cat".into()]);
    assert_eq!(w, ["hello", "hello_world", "ünïcode", "42", "the", "cat", "the", "cat", "the", "cat"]);
    let none = std::collections::HashSet::new();
    let s = WordStats::of(&w, &none);
    // 8 trigrams, 6 distinct ("the cat the" and "cat the cat" come back once).
    assert!((s.repeat - 2.0 / 8.0).abs() < 1e-6, "{}", s.repeat);
    assert!((s.uniq - 6.0 / 10.0).abs() < 1e-6, "{}", s.uniq);
    assert_eq!(s.prompt_overlap, 0.0);
    let empty = WordStats::of(&[], &none);
    assert_eq!((empty.repeat, empty.uniq, empty.prompt_overlap), (0.0, 1.0, 1.0));
    let b = Battle {
        id: "1".into(),
        prompt: vec!["Name a cat".into()],
        response_a: vec!["A cat".into()],
        response_b: vec!["Dogs, dogs".into()],
        label: None,
    };
    let st = BattleStats::of(&b);
    assert!((st.a_words.prompt_overlap - 2.0 / 3.0).abs() < 1e-6);
    assert_eq!(st.b_words.prompt_overlap, 0.0);
    assert_eq!(st.b_words.uniq, 0.5);
    assert_eq!(st.overlap_a_b, 0.0);
}

#[test]
fn length_only_is_chars_and_words() {
    let names = feature_names(&FeatureSet::LENGTH_ONLY, 4);
    assert_eq!(names, ["a_chars", "b_chars", "diff_chars", "a_words", "b_words", "diff_words"]);
    assert_eq!(FeatureSet::TEXT_ONLY.scalar_len(), 27);
    // With the text group on, the length group adds nothing.
    assert_eq!(FeatureSet { length: true, ..FeatureSet::TEXT_ONLY }.scalar_len(), 27);
}

#[test]
fn head_files_without_the_new_groups_load_them_as_off() {
    let old = r#"{"knn": true, "embedding": true, "text": true}"#;
    let set: FeatureSet = serde_json::from_str(old).unwrap();
    assert!(set.knn && set.embedding && set.text);
    assert!(!set.length && !set.repeat && !set.uniq && !set.overlap);
}

/// The name of a feature's mirror image under the A/B swap: every `a` word
/// of the name becomes `b` and back (`knn_a_score` ↔ `knn_b_score`).
fn mirror(name: &str) -> String {
    let words: Vec<&str> = name
        .split('_')
        .map(|w| match w {
            "a" => "b",
            "b" => "a",
            w => w,
        })
        .collect();
    words.join("_")
}

#[test]
fn swapping_swaps_the_feature_sides() {
    let set = FeatureSet { length: true, uniq: true, ..FeatureSet::FULL };
    let side = |k: f32| TextStats {
        chars: 100.0 * k,
        words: 20.0 * k,
        lines: 3.0 * k,
        list_items: 2.0 * k,
        headers: k,
        code_blocks: k,
        bold: 4.0 * k,
        refusal: if k > 1.0 { 1.0 } else { 0.0 },
    };
    let stats = BattleStats {
        prompt_chars: 10.0,
        turns: 1.0,
        a: side(1.0),
        b: side(3.0),
        a_words: WordStats { repeat: 0.1, uniq: 0.7, prompt_overlap: 0.2 },
        b_words: WordStats { repeat: 0.3, uniq: 0.5, prompt_overlap: 0.05 },
        overlap_a_b: 0.4,
    };
    let (p, a, b) = ([1.0f32, 0.0], [0.6f32, 0.8], [0.0f32, 1.0]);
    let knn = KnnValues {
        prompt_tie: 0.3,
        prompt_weight: 1.0,
        score: [0.7, 0.2],
        tie: [0.1, 0.4],
        weight: [2.0, 3.0],
    };
    let mut x = vec![0.0; set.len(2)];
    let mut y = vec![0.0; set.len(2)];
    battle_features(&set, &stats, &Vectors { prompt: &p, a: &a, b: &b }, &knn, &mut x);
    battle_features(&set, &stats.swapped(), &Vectors { prompt: &p, a: &b, b: &a }, &knn.swapped(), &mut y);
    let names = feature_names(&set, 2);
    let (mut paired, mut negated, mut symmetric) = (0, 0, 0);
    for (i, name) in names.iter().enumerate() {
        let words: Vec<&str> = name.split('_').collect();
        let twin = names.iter().position(|n| *n == mirror(name) && n != name);
        if words.contains(&"diff") && !words.contains(&"abs") {
            // A difference of A and B changes sign.
            assert_ne!(x[i], 0.0, "{name}: the test data must tell the sides apart");
            assert_eq!(x[i], -y[i], "{name}");
            negated += 1;
        } else if let Some(j) = twin {
            // A per-side feature moves to its twin.
            assert_ne!(x[i], x[j], "{name}: the test data must tell the sides apart");
            assert_eq!(x[i], y[j], "{name}");
            paired += 1;
        } else {
            // Everything else (prompt-only or symmetric in A and B) stays.
            let mentions_a = words.contains(&"a");
            assert!(
                !mentions_a || words.contains(&"b"),
                "{name} names side A but has no B twin and is not symmetric"
            );
            assert_eq!(x[i], y[i], "{name}");
            symmetric += 1;
        }
    }
    assert_eq!(paired + negated + symmetric, names.len());
    // 8 text stems, cos_prompt, 3 knn side values and 3 word groups, per side.
    assert_eq!(paired, 2 * (8 + 1 + 3 + 3));
    // The same differences, and the two embedding-difference columns.
    assert_eq!(negated, 8 + 1 + 3 + 3 + 2);
}

#[test]
fn battle_stats_survive_their_stored_values_and_each_name_is_one_field() {
    let b = Battle {
        id: "1".into(),
        prompt: vec!["Sort a list".into(), "and then?".into()],
        response_a: vec!["# Sort\n- use `sorted`\n```py\nsorted(x)\n```".into(), "**Done**".into()],
        response_b: vec!["I'm sorry, I cannot help with that.".into()],
        label: None,
    };
    let st = BattleStats::of(&b);
    assert_eq!(BattleStats::from_values(&st.values()), st);
    // Each stored value moves exactly one field: no two names share a slot.
    for i in 0..BattleStats::NAMES.len() {
        let mut v = st.values();
        v[i] += 1.0;
        let moved = BattleStats::from_values(&v).values();
        let changed: Vec<usize> = (0..v.len()).filter(|&j| moved[j] != st.values()[j]).collect();
        assert_eq!(changed, vec![i], "{}", BattleStats::NAMES[i]);
    }
    // Names sit on their fields.
    let at = |name: &str| st.values()[BattleStats::NAMES.iter().position(|n| *n == name).unwrap()];
    assert_eq!(at("a_chars"), st.a.chars);
    assert_eq!(at("b_refusal"), 1.0);
    assert_eq!(at("a_code"), 1.0);
    assert_eq!(at("turns"), 2.0);
    assert_eq!(at("b_prompt_overlap"), st.b_words.prompt_overlap);
    assert_eq!(at("overlap_a_b"), st.overlap_a_b);
    let unique: std::collections::BTreeSet<_> = BattleStats::NAMES.iter().collect();
    assert_eq!(unique.len(), BattleStats::NAMES.len());
}
