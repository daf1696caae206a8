//! Hand-written SVG for the report: the fixed colour of each model, "nice"
//! axis ticks, a plot frame with solid axes and light gridlines, and
//! legends set in the same type size as the tick labels. Every number is
//! written with a fixed number of decimals, so the same report draws the
//! same bytes.

use std::fmt::Write as _;

/// Type size of tick labels, legends and axis titles (px).
pub(super) const FONT: u32 = 12;
/// Type size of chart titles (px).
pub(super) const TITLE_FONT: u32 = 14;
/// Neutral grey for references (the perfect-calibration diagonal) and for
/// marks that are shown but not trusted (small bins); 4.5:1 on white.
pub(super) const NEUTRAL: &str = "#767676";
/// Colour of the axes and their labels.
const INK: &str = "#222222";
/// Colour of the gridlines: lighter than any data mark.
const GRID: &str = "#e6e6e6";

/// Colours for model names outside the fixed table, picked by a hash of
/// the name; all at least 3:1 against white.
const SPARE: [&str; 4] = ["#332288", "#882255", "#4b6a00", "#6a3d9a"];

/// The one colour of a model in every chart and table: a fixed table for
/// the models `evaluate` runs (no yellow, all at least 3:1 against white),
/// and a stable pick from [`SPARE`] for any other name.
pub(super) fn model_colour(name: &str) -> &'static str {
    match name {
        "knnpref" => "#0072b2",
        "text-only" => "#d55e00",
        "no-knn" => "#117733",
        "length-only" => "#aa4499",
        "prior" => "#8c510a",
        other => {
            // FNV-1a: stable across runs and platforms, unlike std's hasher.
            let h = other
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
            SPARE[(h % SPARE.len() as u64) as usize]
        }
    }
}

/// Escape text for HTML and SVG.
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A numeric axis: the data range it shows, widened to whole ticks.
#[derive(Debug, Clone)]
pub(super) struct Scale {
    /// Lowest value shown (the first tick).
    pub lo: f64,
    /// Highest value shown (the last tick).
    pub hi: f64,
    /// Tick positions and their labels, lowest first.
    pub ticks: Vec<(f64, String)>,
}

impl Scale {
    /// About five round ticks covering `[lo, hi]`; the range is widened to
    /// the outer ticks so that both ends of the axis carry a label.
    pub(super) fn nice(lo: f64, hi: f64) -> Scale {
        let (lo, hi) = if hi - lo < 1e-9 { (lo - 0.05, hi + 0.05) } else { (lo, hi) };
        let raw = (hi - lo) / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step =
            [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
        let first = (lo / step + 1e-9).floor();
        let last = (hi / step - 1e-9).ceil();
        let decimals = (-(step.log10().floor())).max(0.0) as usize
            + usize::from(mag < 5.0 && (step / mag - 2.5).abs() < 1e-9);
        let ticks = (first as i64..=last as i64)
            .map(|k| {
                let v = k as f64 * step;
                (v, format!("{v:.decimals$}"))
            })
            .collect();
        Scale { lo: first * step, hi: last * step, ticks }
    }

    /// A fixed range with ticks at the given values and labels.
    pub(super) fn fixed(lo: f64, hi: f64, ticks: Vec<(f64, String)>) -> Scale {
        Scale { lo, hi, ticks }
    }
}

/// A plot area inside an SVG: pixel box plus the two scales.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    /// Left edge of the plot area (px).
    pub x0: f64,
    /// Right edge of the plot area (px).
    pub x1: f64,
    /// Top edge of the plot area (px).
    pub y0: f64,
    /// Bottom edge of the plot area (px).
    pub y1: f64,
    /// The horizontal scale.
    pub x: Scale,
    /// The vertical scale.
    pub y: Scale,
}

impl Frame {
    /// Pixel column of value `v`.
    pub(super) fn px(&self, v: f64) -> f64 {
        self.x0 + (v - self.x.lo) / (self.x.hi - self.x.lo) * (self.x1 - self.x0)
    }

    /// Pixel row of value `v` (up is larger).
    pub(super) fn py(&self, v: f64) -> f64 {
        self.y1 - (v - self.y.lo) / (self.y.hi - self.y.lo) * (self.y1 - self.y0)
    }

    /// Gridlines, solid axes with outward ticks and labels, and the axis
    /// titles (`None` leaves an axis untitled or unticked).
    pub(super) fn axes(&self, s: &mut String, x_title: &str, y_title: Option<&str>, y_ticks: bool) {
        let _ = write!(s, "<g stroke=\"{GRID}\" stroke-width=\"1\">");
        for (v, _) in &self.x.ticks {
            let x = self.px(*v);
            let _ =
                write!(s, "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>", self.y0, self.y1);
        }
        if y_ticks {
            for (v, _) in &self.y.ticks {
                let y = self.py(*v);
                let _ = write!(
                    s,
                    "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>",
                    self.x0, self.x1
                );
            }
        }
        s.push_str("</g>");
        let _ = write!(
            s,
            "<g stroke=\"{INK}\" stroke-width=\"1\"><line x1=\"{x0:.1}\" y1=\"{y1:.1}\" x2=\"{x1:.1}\" y2=\"{y1:.1}\"/>\
             <line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x0:.1}\" y2=\"{y1:.1}\"/>",
            x0 = self.x0,
            x1 = self.x1,
            y0 = self.y0,
            y1 = self.y1
        );
        for (v, _) in &self.x.ticks {
            let x = self.px(*v);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
                self.y1,
                self.y1 + 4.0
            );
        }
        if y_ticks {
            for (v, _) in &self.y.ticks {
                let y = self.py(*v);
                let _ = write!(
                    s,
                    "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>",
                    self.x0 - 4.0,
                    self.x0
                );
            }
        }
        s.push_str("</g>");
        let _ = write!(s, "<g fill=\"{INK}\" font-size=\"{FONT}\">");
        for (v, label) in &self.x.ticks {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                self.px(*v),
                self.y1 + 17.0,
                esc(label)
            );
        }
        if y_ticks {
            for (v, label) in &self.y.ticks {
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                    self.x0 - 7.0,
                    self.py(*v) + 4.0,
                    esc(label)
                );
            }
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            (self.x0 + self.x1) / 2.0,
            self.y1 + 34.0,
            esc(x_title)
        );
        if let Some(t) = y_title {
            let (x, y) = (self.x0 - 44.0, (self.y0 + self.y1) / 2.0);
            let _ = write!(
                s,
                "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 {x:.1} {y:.1})\">{}</text>",
                esc(t)
            );
        }
        s.push_str("</g>");
    }
}

/// Opening tag of a chart of `w`×`h` pixels, described by `label` for
/// screen readers.
pub(super) fn open(w: f64, h: f64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" \
         role=\"img\" aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"{FONT}\">",
        esc(label)
    )
}

/// A chart title at the top left.
pub(super) fn title(s: &mut String, x: f64, y: f64, text: &str) {
    let _ = write!(
        s,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{TITLE_FONT}\" font-weight=\"bold\" fill=\"{INK}\">{}</text>",
        esc(text)
    );
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mark {
    /// A short line (a series drawn as a line).
    Line,
    /// A filled dot.
    Dot,
    /// An open ring.
    Ring,
}

/// One legend entry: a name, its colour and its mark.
pub(super) struct Key<'a> {
    /// What the entry names.
    pub name: &'a str,
    /// Its colour.
    pub colour: &'a str,
    /// How it is drawn.
    pub mark: Mark,
}

/// A one-row legend starting at (`x`, `y`), in the tick labels' type size;
/// returns the x just past its last entry.
pub(super) fn legend(s: &mut String, x: f64, y: f64, keys: &[Key<'_>]) -> f64 {
    let mut at = x;
    let _ = write!(s, "<g font-size=\"{FONT}\" fill=\"{INK}\">");
    for k in keys {
        let c = k.colour;
        let _ = match k.mark {
            Mark::Line => write!(
                s,
                "<line x1=\"{at:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{c}\" stroke-width=\"2\"/>",
                at + 16.0
            ),
            Mark::Dot => write!(s, "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4.5\" fill=\"{c}\"/>", at + 8.0),
            Mark::Ring => write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"#ffffff\" stroke=\"{c}\" stroke-width=\"1.2\"/>",
                at + 8.0
            ),
        };
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>", at + 21.0, y + 4.0, esc(k.name));
        at += 21.0 + 6.4 * k.name.chars().count() as f64 + 20.0;
    }
    s.push_str("</g>");
    at
}
