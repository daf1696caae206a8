//! Temperature scaling, the calibration step: one scalar fitted on
//! out-of-fold probabilities, kept apart from the head so that any head's
//! output can be calibrated the same way.

use super::link::softmax;
use crate::data::Label;
use crate::metrics::log_loss;

/// Temperature scaling: p_T ∝ p^(1/T), with T fitted on out-of-fold predictions.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Temperature {
    /// The temperature: above 1 softens overconfident predictions.
    pub t: f64,
}

impl Temperature {
    /// Leaves probabilities as they are.
    pub const IDENTITY: Temperature = Temperature { t: 1.0 };

    /// Minimise log loss over T in [0.1, 10] by golden-section search on log T.
    pub fn fit(probs: &[[f64; 3]], y: &[Label]) -> Temperature {
        let loss = |log_t: f64| {
            let t = Temperature { t: log_t.exp() };
            log_loss(&t.apply(probs), y)
        };
        let (mut lo, mut hi) = ((0.1f64).ln(), (10.0f64).ln());
        let phi = (5f64.sqrt() - 1.0) / 2.0;
        let mut c = hi - phi * (hi - lo);
        let mut d = lo + phi * (hi - lo);
        let (mut fc, mut fd) = (loss(c), loss(d));
        for _ in 0..60 {
            if fc < fd {
                hi = d;
                d = c;
                fd = fc;
                c = hi - phi * (hi - lo);
                fc = loss(c);
            } else {
                lo = c;
                c = d;
                fc = fd;
                d = lo + phi * (hi - lo);
                fd = loss(d);
            }
        }
        Temperature { t: ((lo + hi) / 2.0).exp() }
    }

    /// Rescale probability rows by this temperature.
    pub fn apply(&self, probs: &[[f64; 3]]) -> Vec<[f64; 3]> {
        probs
            .iter()
            .map(|p| {
                softmax([
                    p[0].max(1e-300).ln() / self.t,
                    p[1].max(1e-300).ln() / self.t,
                    p[2].max(1e-300).ln() / self.t,
                ])
            })
            .collect()
    }
}
