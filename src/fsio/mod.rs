//! Files written safely: one atomic-write helper, checksums, and removal of
//! half-written files when the process is interrupted.
//!
//! Every output (submission, OOF file, report, index files) is written under a
//! temporary name in its own folder, fsynced, renamed into place and the
//! folder fsynced, so an interrupted run never leaves a partial file under the
//! real name. The registry of pending temporary paths lets the binary's Ctrl-C
//! handler delete them before it exits. Also here: a folder lock for writers
//! that must take turns, whether two paths are one file (`same`), the rule
//! that no output overwrites an input (`guard`), and the
//! test hooks (`hooks`, compiled only with the `test-hooks` feature) that
//! pause a run at a named stage so that tests can kill it there.
//! A host that cannot exit on interrupt (the Python module) cancels the
//! call's own token (`progress::Cancel`, which stops embedding and fitting
//! at their next check) and also calls [`request_cancel`]: the process-wide
//! last guard that no temporary file or folder is renamed into place, and
//! that a test pause ends, until [`clear_cancel`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

mod guard;
#[cfg(feature = "test-hooks")]
mod hooks;
#[cfg(not(feature = "test-hooks"))]
#[path = "no_hooks.rs"]
mod hooks;
mod same;

mod cancel;

pub use cancel::{cancel_requested, clear_cancel, request_cancel};
pub use guard::{refuse_overlap, OutputIsInput, Role};
pub use hooks::panic_if_asked;
pub(crate) use hooks::pause_at;
use hooks::sink;
pub use same::{is_within, same_file};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

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
    remove_pending_under(None);
}

/// Delete the registered temporary files and folders, all of them or those
/// under `root` (a test removes only its own, never those of tests running
/// beside it).
fn remove_pending_under(root: Option<&Path>) {
    if let Ok(p) = PENDING.lock() {
        for path in p.iter().filter(|p| root.is_none_or(|r| p.starts_with(r))) {
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
/// over `path`, and the folder is synced so that the rename itself is on
/// disk. An earlier file at `path` stays intact until the new one is
/// complete; on error or interrupt the temporary file is removed. The test
/// hook [`pause_at`] may stop it at stage `before-rename`.
pub(crate) fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_atomic_at(path, "before-rename", fill)
}

/// [`write_atomic`] whose test pause before the rename is named `stage`.
pub(crate) fn write_atomic_at(
    path: &Path,
    stage: &str,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let parent = parent_of(path);
    let mut tmp = tempfile::NamedTempFile::new_in(&parent)?;
    let _pending = Pending::register(tmp.path());
    {
        let mut w = std::io::BufWriter::new(sink(tmp.as_file_mut())?);
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    make_readable(tmp.path())?;
    pause_at(stage);
    check_cancel()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(&parent)
}

/// Sync a folder's entries (names created, renamed or removed) to disk.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Whether `name` is a temporary file of [`write_atomic`] (tempfile's `.tmp` prefix).
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with(".tmp")
}

/// Hold an exclusive lock on the file `.lock` in `dir` until the returned
/// file is dropped (or the process dies): writers of one folder take turns.
pub(crate) fn lock_dir(dir: &Path) -> std::io::Result<std::fs::File> {
    let file =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(LOCK_FILE))?;
    file.lock()?;
    Ok(file)
}

/// The lock file [`lock_dir`] creates in a folder.
pub(crate) const LOCK_FILE: &str = ".lock";

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
        remove_pending_under(Some(dir.path()));
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
