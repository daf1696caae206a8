//! The test hooks of `hooks.rs` in a build without the `test-hooks`
//! feature: each does nothing (the release binary and the wheel).

use std::io::Write;

/// A test pause: nothing in this build.
#[inline(always)]
pub(crate) fn pause_at(_stage: &str) {}

/// Where a temporary file's bytes go: the file itself.
pub(super) fn sink(file: &mut std::fs::File) -> std::io::Result<Box<dyn Write + '_>> {
    Ok(Box::new(file))
}

/// A deliberate panic for tests: nothing in this build.
#[inline(always)]
pub fn panic_if_asked() {}
