//! Why a head cannot be fitted: one error type for the logistic and the
//! boosted head.
use crate::fault::Fault;

/// Why a head cannot be fitted.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// A hyperparameter is out of its range.
    #[error("invalid head parameter {name} = {value}: {why}")]
    BadParam {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The range it must be in.
        why: &'static str,
    },
    /// The data cannot support a fit.
    #[error("cannot fit the head on {rows} rows: {why}")]
    BadData {
        /// Rows given.
        rows: usize,
        /// What is wrong with them.
        why: &'static str,
    },
    /// The caller cancelled the fit (its [`Cancel`](crate::progress::Cancel) token).
    #[error(transparent)]
    Cancelled(#[from] crate::progress::Cancelled),
}

impl HeadError {
    /// Whose fault: knnpref's, since every parameter and the data's size are
    /// checked before a fit starts (`ModelParams::check`, the pipeline's row
    /// count check); a cancel is the caller's own request.
    pub fn fault(&self) -> Fault {
        match self {
            HeadError::BadParam { .. } | HeadError::BadData { .. } => Fault::Internal,
            HeadError::Cancelled(_) => Fault::User,
        }
    }
}
