//! Whether two paths are one file, so that no command writes over one of
//! its own inputs: the same path spelt another way, a symbolic link to it, or
//! a hard link (the same device and inode).

use std::path::{Path, PathBuf};

/// `path` made absolute with its links resolved; for a path that does not
/// exist yet, its nearest existing ancestor resolved and the rest appended.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut missing = Vec::new();
    let mut at = absolute.as_path();
    while let Some(parent) = at.parent() {
        missing.push(at.file_name().map(ToOwned::to_owned).unwrap_or_default());
        if let Ok(base) = parent.canonicalize() {
            return missing.iter().rev().fold(base, |p, name| p.join(name));
        }
        at = parent;
    }
    absolute
}

/// True when `a` and `b` name one file: the same resolved path, or (both
/// existing) the same device and inode, as hard links do.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if resolved(a) == resolved(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// True when `path` is the folder `dir` or lies anywhere inside it, links
/// resolved.
pub fn is_within(path: &Path, dir: &Path) -> bool {
    resolved(path).starts_with(resolved(dir)) || same_file(path, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_is_recognised_through_spellings_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("test.csv");
        std::fs::write(&file, "x").unwrap();
        let dotted = dir.path().join(".").join("sub").join("..").join("test.csv");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(same_file(&file, &dotted));
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&file, &hard).unwrap();
        assert!(same_file(&file, &hard), "a hard link is the same file");
        #[cfg(unix)]
        {
            let soft = dir.path().join("soft.csv");
            std::os::unix::fs::symlink(&file, &soft).unwrap();
            assert!(same_file(&soft, &file), "a symbolic link is the same file");
        }
        let other = dir.path().join("other.csv");
        std::fs::write(&other, "x").unwrap();
        assert!(!same_file(&file, &other), "equal contents are not the same file");
        assert!(!same_file(&file, &dir.path().join("new.csv")), "a file not yet written is another file");
    }

    #[test]
    fn paths_inside_a_folder_are_within_it_even_before_they_exist() {
        let dir = tempfile::tempdir().unwrap();
        assert!(is_within(&dir.path().join("a/b/c.json"), dir.path()));
        assert!(is_within(dir.path(), dir.path()));
        assert!(!is_within(dir.path(), &dir.path().join("a")));
    }
}
