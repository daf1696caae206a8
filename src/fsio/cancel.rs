//! The process-wide cancel flag of a host that stays alive after an
//! interrupt (the Python module): renames into place are refused and test
//! pauses end while it is set. Its own module so that the test hooks can
//! read it without importing the rest of `fsio`.

use std::sync::atomic::{AtomicBool, Ordering};

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Refuse every rename into place (the temporary file is removed instead)
/// and end test pauses, until [`clear_cancel`]: for a host that stays alive
/// after an interrupt, beside cancelling the call's `progress::Cancel` token
/// (which is what stops the work itself).
pub fn request_cancel() {
    CANCELLED.store(true, Ordering::SeqCst);
}

/// Let commands run again after [`request_cancel`] (call once the cancelled
/// command has returned).
pub fn clear_cancel() {
    CANCELLED.store(false, Ordering::SeqCst);
}

/// True between [`request_cancel`] and [`clear_cancel`].
pub fn cancel_requested() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}
