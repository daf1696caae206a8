//! report.html on a hand-made report: segment names on the segment chart,
//! bin counts on the calibration points, one colour per model everywhere,
//! and the same bytes for the same report.

use super::charts::{reliability_section, segment_chart, MIN_BIN_ROWS};
use super::render_html;
use super::svg::{esc, model_colour, Scale};
use crate::data::Label;
use crate::metrics::ReliabilityBin;
use crate::pipeline::scores::{CurvePoint, EvalReport, ModelScore, Reliability, SegmentScore};

const MODELS: [&str; 3] = ["prior", "text-only", "knnpref"];
const SEGMENTS: [(&str, &str, usize); 4] = [
    ("turns", "single-turn", 90),
    ("turns", "multi-turn", 10),
    ("length ratio", "ratio <1.25", 40),
    ("length ratio", "ratio >4", 60),
];

fn report() -> EvalReport {
    let score = |i: usize, name: &str| ModelScore {
        name: name.into(),
        log_loss: 1.09 - 0.02 * i as f64,
        log_loss_std: 0.01,
        accuracy: 0.4,
        ece: 0.03,
        vs_text_only: None,
        fold_log_loss: vec![1.0; 3],
        knnpref_vs: None,
    };
    let bin = |predicted: f64, count: usize| ReliabilityBin { predicted, observed: predicted * 0.9, count };
    let mut reliability = Vec::new();
    for name in MODELS {
        for class in ["model_a", "model_b", "tie"] {
            let bins = vec![bin(0.15, 7), bin(0.35, 120), bin(0.55, 431), bin(0.85, 19)];
            reliability.push(Reliability { model: name.into(), class, bins });
        }
    }
    let learning_curve = MODELS[1..]
        .iter()
        .flat_map(|m| {
            [(0.5, 100.0, 1.08), (1.0, 200.0, 1.05)].map(|(fraction, train_rows, log_loss)| CurvePoint {
                model: m.to_string(),
                fraction,
                train_rows,
                log_loss,
            })
        })
        .collect();
    EvalReport {
        rows: 200,
        folds: 5,
        repeats: 1,
        seed: 0,
        models: MODELS.iter().enumerate().map(|(i, m)| score(i, m)).collect(),
        segments: SEGMENTS
            .iter()
            .enumerate()
            .map(|(i, (family, segment, rows))| SegmentScore {
                family: family.to_string(),
                segment: segment.to_string(),
                rows: *rows,
                log_loss: vec![1.09, 1.05 + 0.01 * i as f64, 1.01 - 0.02 * i as f64],
            })
            .collect(),
        reliability,
        learning_curve,
        oof_log_loss: 1.05,
        oof: vec![vec![[0.34, 0.33, 0.33], [0.6, 0.3, 0.1]]; 3],
        ids: vec!["1".into(), "2".into()],
        labels: vec![Label::A, Label::B],
        warnings: vec![],
        written: vec![],
    }
}

/// Text of every `<text>` element in `svg`.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")).map(|(t, _)| t))
        .collect()
}

#[test]
fn segment_chart_names_every_segment_on_its_axis() {
    let svg = segment_chart(&report());
    let labels = texts(&svg);
    for (family, segment, rows) in SEGMENTS {
        assert!(labels.contains(&esc(segment).as_str()), "{segment} not a label in {labels:?}");
        assert!(labels.contains(&esc(family).as_str()), "{family} heading missing");
        assert!(labels.contains(&format!("{rows} rows").as_str()), "{segment}'s row count missing");
    }
    // One dot per model and segment, no numeric stand-ins for the names.
    assert_eq!(svg.matches("<title>").count(), MODELS.len() * SEGMENTS.len());
    // multi-turn has 10 rows: open rings, one per model.
    assert_eq!(svg.matches("fill=\"#ffffff\" stroke-width=\"1.5\"").count(), MODELS.len());
    assert!(!labels.iter().any(|t| *t == "1=single-turn" || t.starts_with("segments:")));
}

#[test]
fn calibration_points_carry_their_counts_and_small_bins_are_grey() {
    let html = reliability_section(&report());
    for count in [7, 120, 431, 19] {
        let tagged = html.matches(&format!("data-count=\"{count}\"")).count();
        assert_eq!(tagged, MODELS.len() * 3, "bins of {count} rows");
        assert!(html.contains(&format!("{count} rows, predicted")), "tooltip for {count}");
    }
    for point in html.split("<circle").skip(1) {
        let count: usize = point
            .split("data-count=\"")
            .nth(1)
            .and_then(|c| c.split('"').next())
            .map_or(0, |c| c.parse().unwrap());
        if count == 0 {
            continue; // legend marks
        }
        let grey = point.contains(&format!("stroke=\"{}\"", super::svg::NEUTRAL));
        assert_eq!(grey, count < MIN_BIN_ROWS, "bin of {count} rows: {point}");
    }
    assert!(html.contains(&format!("fewer than {MIN_BIN_ROWS} rows")), "the caption says so");
}

#[test]
fn each_model_keeps_one_colour_in_every_chart() {
    let html = render_html(&report());
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    for part in html.split("<g data-model=\"").skip(1) {
        let (name, rest) = part.split_once('"').unwrap();
        let colour = rest.split("stroke=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(rest.starts_with(&format!(" stroke=\"{colour}\" fill=\"{colour}\"")), "{name}: {rest:.80}");
        match seen.iter_mut().find(|s| s.0 == name) {
            Some(s) => {
                assert_eq!(s.1, colour, "{name} changes colour");
                s.2 += 1;
            }
            None => seen.push((name.to_string(), colour.to_string(), 1)),
        }
    }
    // knnpref: segments, 3 reliability panels, 3 histogram panels, learning curve.
    let knn = seen.iter().find(|s| s.0 == "knnpref").unwrap();
    assert_eq!(knn.2, 8, "{seen:?}");
    for m in MODELS {
        assert!(seen.iter().any(|s| s.0 == m), "{m} drawn nowhere");
        assert!(html.contains(&format!("background:{}", model_colour(m))), "{m}'s table swatch");
    }
    let mut colours: Vec<&str> = MODELS.iter().map(|m| model_colour(m)).collect();
    colours.dedup();
    assert_eq!(colours.len(), MODELS.len(), "models share a colour");
    assert_eq!(model_colour("some-new-model"), model_colour("some-new-model"));
}

#[test]
fn the_report_is_self_contained_and_the_same_bytes_each_time() {
    let r = report();
    let html = render_html(&r);
    assert_eq!(html, render_html(&r));
    let outside = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!outside.contains("<script") && !outside.contains("http://") && !outside.contains("https://"));
    assert!(!html.contains("stroke-dasharray"), "axes and gridlines are solid");
    assert!(!html.contains("NaN") && !html.contains("inf"), "every coordinate is a number");
}

#[test]
fn nice_scales_label_both_ends() {
    let s = Scale::nice(0.93, 1.12);
    assert!(s.lo <= 0.93 && s.hi >= 1.12);
    assert_eq!(s.ticks.first().unwrap().0, s.lo);
    assert_eq!(s.ticks.last().unwrap().0, s.hi);
    let labels: Vec<&str> = s.ticks.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(labels, ["0.90", "0.95", "1.00", "1.05", "1.10", "1.15"]);
    let rows = Scale::nice(0.0, 930.0);
    assert_eq!(
        rows.ticks.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(),
        ["0", "200", "400", "600", "800", "1000"]
    );
}
