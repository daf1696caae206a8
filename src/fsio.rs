//! Files written safely: one atomic-write helper, checksums, and removal of
//! half-written files when the process is interrupted.
//!
//! Every output (submission, OOF file, report, index files) is written under a
//! temporary name in its own folder, flushed to disk and renamed into place,
//! so an interrupted run never leaves a partial file under the real name. The
//! registry of pending temporary paths lets the binary's Ctrl-C handler delete
//! them before it exits. A host that cannot exit on interrupt (the Python
//! module) calls [`request_cancel`] instead: embedding stops at its next batch
//! and no temporary file or folder is renamed into place until
//! [`clear_cancel`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Ask the running command to stop: embedding stops at its next batch, and
/// no output is renamed into place (its temporary file is removed) until
/// [`clear_cancel`]. For hosts that stay alive after an interrupt.
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

/// An `Interrupted` error when a cancel was requested: checked before any
/// output is renamed into place.
pub(crate) fn check_cancel() -> std::io::Result<()> {
    if cancel_requested() {
        return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled"));
    }
    Ok(())
}

/// A temporary path removed by [`remove_pending`] until it is dropped.
pub(crate) struct Pending {
    path: PathBuf,
}

impl Pending {
    /// Register `path` for removal on interrupt, for as long as the guard lives.
    pub(crate) fn register(path: &Path) -> Pending {
        if let Ok(mut p) = PENDING.lock() {
            p.push(path.to_owned());
        }
        Pending { path: path.to_owned() }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Ok(mut p) = PENDING.lock() {
            p.retain(|x| x != &self.path);
        }
    }
}

/// Give a finished temporary file (0644) or folder (0755) the ordinary
/// permissions before it is renamed into place; temporary files start private.
pub(crate) fn make_readable(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Delete every registered temporary file or folder (called on SIGINT).
pub fn remove_pending() {
    if let Ok(p) = PENDING.lock() {
        for path in p.iter() {
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(path);
            } else {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// The folder a file lives in (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Write `path` atomically: `fill` writes into a buffered temporary file in
/// the same folder, which is then synced to disk, made readable and renamed
/// over `path`. An earlier file at `path` stays intact until the new one is
/// complete; on error or interrupt the temporary file is removed.
pub(crate) fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(parent_of(path))?;
    let _pending = Pending::register(tmp.path());
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    make_readable(tmp.path())?;
    pause_for_tests();
    check_cancel()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Replace the folder `dir` as a whole: `fill` writes the new contents into a
/// temporary folder beside it (named `prefix…`), which is made readable and
/// renamed into place; an earlier folder at `dir` is moved aside first and
/// removed after. On error, or on interrupt, the temporary folder goes away
/// and `io` names the path that failed.
pub(crate) fn replace_dir<E>(
    dir: &Path,
    prefix: &str,
    fill: impl FnOnce(&Path) -> Result<(), E>,
    io: impl Fn(&Path, std::io::Error) -> E,
) -> Result<(), E> {
    let parent = parent_of(dir);
    std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
    let tmp = tempfile::Builder::new().prefix(prefix).tempdir_in(&parent).map_err(|e| io(&parent, e))?;
    let _pending = Pending::register(tmp.path());
    fill(tmp.path())?;
    make_readable(tmp.path()).map_err(|e| io(tmp.path(), e))?;
    check_cancel().map_err(|e| io(dir, e))?;
    let staged = tmp.keep();
    let swap = || -> Result<(), E> {
        if dir.exists() {
            let old = parent.join(format!("{prefix}old-{}", std::process::id()));
            std::fs::rename(dir, &old).map_err(|e| io(dir, e))?;
            std::fs::rename(&staged, dir).map_err(|e| io(dir, e))?;
            std::fs::remove_dir_all(&old).map_err(|e| io(&old, e))
        } else {
            std::fs::rename(&staged, dir).map_err(|e| io(dir, e))
        }
    };
    let swapped = swap();
    if swapped.is_err() && staged.exists() {
        let _ = std::fs::remove_dir_all(&staged);
    }
    swapped
}

/// Test hook: with `KNNPREF_TEST_PAUSE_BEFORE_RENAME=SECONDS`, wait after a
/// temporary file is complete and before the rename, so that tests can
/// interrupt the process at the most delicate moment (a cancel ends the wait).
fn pause_for_tests() {
    if let Some(secs) =
        std::env::var("KNNPREF_TEST_PAUSE_BEFORE_RENAME").ok().and_then(|s| s.parse::<f64>().ok())
    {
        let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
        while std::time::Instant::now() < until && !cancel_requested() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// sha256 of a byte slice as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// sha256 of a file's contents as lowercase hex.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(sha256_hex(&std::fs::read(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_paths_are_removed_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.tmp"), dir.path().join("b.tmp"));
        std::fs::write(&a, "x").unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(b.join("inner"), "y").unwrap();
        let keep = dir.path().join("kept");
        std::fs::write(&keep, "z").unwrap();
        let _ga = Pending::register(&a);
        let _gb = Pending::register(&b);
        {
            let _gk = Pending::register(&keep);
        }
        remove_pending();
        assert!(!a.exists() && !b.exists());
        assert!(keep.exists(), "a dropped guard no longer removes its path");
    }

    #[test]
    fn atomic_write_replaces_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let failed = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk trouble"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        write_atomic(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn checksums_are_hex_sha256() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
