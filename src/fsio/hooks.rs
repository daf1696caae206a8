//! Test hooks: stopping a run at a named stage, a disk that is full, and a
//! deliberate panic.
//!
//! They exist for the crash, interrupt, full-disk and panic tests, and this
//! file is compiled only with the `test-hooks` cargo feature (which
//! `scripts/test.sh` turns on for the tests); every other build, the release
//! binary and the wheel included, compiles `no_hooks.rs` instead, whose
//! functions do nothing, so it holds no trace of them.

use std::io::Write;

/// With `KNNPREF_TEST_PAUSE_AT=STAGE` (or a comma-separated list of stages),
/// print `knnpref test pause: STAGE` on stderr when the process reaches that
/// stage and sleep `KNNPREF_TEST_PAUSE_SECS` (default 60), so that a test can
/// interrupt or kill it at exactly that point. Stages: `before-rename` (any
/// atomic write, before its rename), those of an index save (see
/// `index::save`) and of a model fit (`fit-select`, `fit-done`; see
/// `model::Model::fit`). A cancel (the Python module's Ctrl-C) ends the wait.
pub(crate) fn pause_at(stage: &str) {
    let Some(wanted) = std::env::var_os("KNNPREF_TEST_PAUSE_AT") else { return };
    if !wanted.to_string_lossy().split(',').any(|s| s.trim() == stage) {
        return;
    }
    let secs =
        std::env::var("KNNPREF_TEST_PAUSE_SECS").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(60.0);
    eprintln!("knnpref test pause: {stage}");
    let _ = std::io::stderr().flush();
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    while std::time::Instant::now() < until && !super::cancel::cancel_requested() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Where a temporary file's bytes go: the file itself, or with
/// `KNNPREF_TEST_FULL_DISK` set, `/dev/full`, whose every write fails with
/// "no space left on device" as a full disk's would.
pub(super) fn sink(file: &mut std::fs::File) -> std::io::Result<Box<dyn Write + '_>> {
    if std::env::var_os("KNNPREF_TEST_FULL_DISK").is_some() {
        return Ok(Box::new(std::fs::OpenOptions::new().write(true).open("/dev/full")?));
    }
    Ok(Box::new(file))
}

/// With `KNNPREF_TEST_PANIC` set, panic on a worker thread (the test of the
/// binary's one-line panic report).
pub fn panic_if_asked() {
    if std::env::var_os("KNNPREF_TEST_PANIC").is_some() {
        rayon::join(|| (), || panic!("deliberate panic (KNNPREF_TEST_PANIC is set)"));
    }
}
