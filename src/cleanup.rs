//! Removing half-written files when the process is interrupted.
//!
//! Outputs are written under temporary names and renamed into place, so an
//! interrupted run never leaves a partial file under the real name. This
//! registry also lets the binary's Ctrl-C handler delete those temporary
//! files and folders before it exits, so nothing half-written stays behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary path removed by [`remove_pending`] until it is dropped.
pub struct Pending {
    path: PathBuf,
}

impl Pending {
    pub fn register(path: &Path) -> Pending {
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
pub fn make_readable(path: &Path) -> std::io::Result<()> {
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
}
