//! Unit tests of the features: counts, names, votes and swap symmetry.
use super::*;
use crate::data::Label;
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
fn names_match_lengths() {
    for set in [FeatureSet::FULL, FeatureSet::LENGTH_ONLY, FeatureSet::NO_KNN] {
        assert_eq!(feature_names(&set, 7).len(), set.len(7));
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
fn swapping_swaps_the_feature_sides() {
    let set = FeatureSet::FULL;
    let stats = BattleStats {
        prompt_chars: 10.0,
        turns: 1.0,
        a: TextStats { chars: 100.0, ..Default::default() },
        b: TextStats { chars: 5.0, refusal: 1.0, ..Default::default() },
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
    for (i, name) in names.iter().enumerate() {
        if let Some(rest) = name.strip_prefix("a_") {
            let j = names.iter().position(|n| n == &format!("b_{rest}")).unwrap();
            assert_eq!(x[i], y[j], "{name}");
        }
        if name.starts_with("diff_") || name.starts_with("knn_diff") || name.starts_with("emb_diff") {
            assert_eq!(x[i], -y[i], "{name}");
        }
    }
}
