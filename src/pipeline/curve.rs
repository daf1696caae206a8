//! Learning curves for `evaluate --learning-curve`: every non-prior model
//! refitted on nested shares (1/8, 1/4, 1/2) of each outer training fold —
//! prefixes of one seeded shuffle of that fold's training rows — and scored
//! on the same test fold as the full fit, which is the curve's last point.

use super::error::PipelineError;
use super::scores::CurvePoint;
use crate::data::Label;
use crate::features::EncodedBattles;
use crate::metrics::row_losses;
use crate::model::CheckedParams;
use crate::rand::SplitMix;

/// Shares of each training fold, as divisors: 1/8, 1/4, 1/2 (the full fold
/// is the main fit).
const DIVISORS: [usize; 3] = [8, 4, 2];

/// Losses of the refits on the shares of the training folds.
pub(super) struct Curve {
    /// Divisors whose training part can be fitted, largest first.
    divisors: Vec<usize>,
    /// Per variant, per kept divisor, per row: loss summed over repeats.
    loss: Vec<Vec<Vec<f64>>>,
    /// Per kept divisor: training rows summed over outer folds.
    train_rows: Vec<usize>,
    /// Training rows of the full folds, summed over outer folds.
    full_rows: usize,
    /// Outer folds seen.
    folds_seen: usize,
}

/// How a model is fitted and scored: (params, seed, train, labels, test) to
/// normalised test probabilities.
pub(super) type FitPredict<'a> = dyn Fn(
        &CheckedParams,
        u64,
        &EncodedBattles,
        &[Label],
        &EncodedBattles,
    ) -> Result<Vec<[f64; 3]>, PipelineError>
    + 'a;

impl Curve {
    /// Plan the shares for `rows` labelled rows whose smallest outer training
    /// fold has `min_train` rows. A share that leaves fewer than 2 rows per
    /// inner fold cannot be fitted; it is skipped with a warning.
    pub(super) fn plan(
        rows: usize,
        min_train: usize,
        inner_folds: usize,
        variants: usize,
        warnings: &mut Vec<String>,
    ) -> Curve {
        let mut divisors = Vec::new();
        for d in DIVISORS {
            let size = min_train / d;
            if size >= inner_folds.max(2) * 2 {
                divisors.push(d);
            } else {
                warnings.push(format!(
                    "learning curve: skipped 1/{d} of the training folds ({size} rows): a fit needs \
                     at least 2 rows in each of its {inner_folds} inner folds"
                ));
            }
        }
        Curve {
            loss: vec![vec![vec![0.0; rows]; divisors.len()]; variants],
            train_rows: vec![0; divisors.len()],
            divisors,
            full_rows: 0,
            folds_seen: 0,
        }
    }

    /// Refit every non-prior variant on the shares of one outer training
    /// fold (rows shuffled by `seed`) and score them on its test rows.
    #[allow(clippy::too_many_arguments)] // one outer fold, as evaluate holds it
    pub(super) fn add_fold(
        &mut self,
        variants: &[(&str, Option<CheckedParams>)],
        fit_predict: &FitPredict<'_>,
        seed: u64,
        train: &EncodedBattles,
        y_train: &[Label],
        test: &EncodedBattles,
        test_rows: &[usize],
        y_test: &[Label],
    ) -> Result<(), PipelineError> {
        let mut order: Vec<usize> = (0..train.len()).collect();
        SplitMix::new(seed ^ 0x1ea4_c0e5).shuffle(&mut order);
        self.full_rows += train.len();
        self.folds_seen += 1;
        for (s, &d) in self.divisors.iter().enumerate() {
            let mut prefix = order[..train.len() / d].to_vec();
            prefix.sort_unstable();
            self.train_rows[s] += prefix.len();
            let part = train.subset(&prefix);
            let y: Vec<Label> = prefix.iter().map(|&i| y_train[i]).collect();
            for (v, (_, params)) in variants.iter().enumerate() {
                let Some(p) = params else { continue };
                let probs = fit_predict(p, seed, &part, &y, test)?;
                for (&i, l) in test_rows.iter().zip(row_losses(&probs, y_test)) {
                    self.loss[v][s][i] += l;
                }
            }
        }
        Ok(())
    }

    /// The curve's points, smallest share first, ending with the full fits
    /// (`full_loss`, per variant); prior variants are left out.
    pub(super) fn points(
        &self,
        variants: &[(&str, Option<CheckedParams>)],
        full_loss: &[f64],
        repeats: usize,
    ) -> Vec<CurvePoint> {
        let folds = self.folds_seen.max(1) as f64;
        let mut out = Vec::new();
        for (v, (name, params)) in variants.iter().enumerate() {
            if params.is_none() {
                continue;
            }
            for (s, &d) in self.divisors.iter().enumerate() {
                let rows = &self.loss[v][s];
                out.push(CurvePoint {
                    model: name.to_string(),
                    fraction: 1.0 / d as f64,
                    train_rows: self.train_rows[s] as f64 / folds,
                    log_loss: rows.iter().sum::<f64>() / (rows.len() * repeats) as f64,
                });
            }
            out.push(CurvePoint {
                model: name.to_string(),
                fraction: 1.0,
                train_rows: self.full_rows as f64 / folds,
                log_loss: full_loss[v],
            });
        }
        out
    }
}
