//! The one rule every command's outputs obey: no output (a file or a folder,
//! and so the temporary files made beside it) may resolve to any input of
//! the same command, nor lie inside an input folder; an output folder may
//! not hold an input folder either (a distilled model replaces its folder
//! whole). Commands list their inputs and outputs and call
//! [`refuse_overlap`] before any work, so a user's file is never lost to a
//! mistyped `--out`.

use std::path::{Path, PathBuf};

use super::same::{is_within, same_file};

/// A path a command reads or writes, with what it is in words
/// (`the test file`, `the index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// What the path is, in words, for messages.
    pub what: &'static str,
    /// The path as the user gave it.
    pub path: PathBuf,
    /// A folder whose every file counts (an index, a model folder, a
    /// folder of vectors parts), or a single file.
    pub is_folder: bool,
}

impl Role {
    /// A single file.
    pub fn file(what: &'static str, path: &Path) -> Role {
        Role { what, path: path.to_owned(), is_folder: false }
    }

    /// A folder, all of whose files count.
    pub fn folder(what: &'static str, path: &Path) -> Role {
        Role { what, path: path.to_owned(), is_folder: true }
    }

    /// A file or a folder, whichever `path` is now.
    pub fn existing(what: &'static str, path: &Path) -> Role {
        Role { what, path: path.to_owned(), is_folder: path.is_dir() }
    }

    /// True when `self` (an output) would write over `input` or into it.
    fn overlaps(&self, input: &Role) -> bool {
        match (self.is_folder, input.is_folder) {
            (false, false) => same_file(&self.path, &input.path),
            (false, true) => is_within(&self.path, &input.path),
            // A folder writer only replaces the files it owns (an index) or
            // a folder of its own kind (a static model), and refuses any
            // other folder: a file of the user's beside them is safe.
            (true, false) => same_file(&self.path, &input.path),
            (true, true) => is_within(&self.path, &input.path) || is_within(&input.path, &self.path),
        }
    }
}

/// An output that is, or would write into, one of the command's inputs.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to write {output_what} {output}: it is {input_what} ({input}) or overlaps it, which this command \
     reads; choose another output path"
)]
pub struct OutputIsInput {
    /// The output asked for, in words.
    pub output_what: &'static str,
    /// Its path as given.
    pub output: PathBuf,
    /// The input it would overwrite, in words.
    pub input_what: &'static str,
    /// The input's path as given.
    pub input: PathBuf,
}

/// Refuse the first output that is, contains or lies inside any input
/// (links and other spellings of one path resolved; hard links by inode).
pub fn refuse_overlap(outputs: &[Role], inputs: &[Role]) -> Result<(), OutputIsInput> {
    for out in outputs {
        if let Some(input) = inputs.iter().find(|input| out.overlaps(input)) {
            return Err(OutputIsInput {
                output_what: out.what,
                output: out.path.clone(),
                input_what: input.what,
                input: input.path.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_folders_overlap_as_they_would_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("parts")).unwrap();
        std::fs::write(d.join("parts/p0.parquet"), "x").unwrap();
        std::fs::write(d.join("test.csv"), "x").unwrap();
        let refused = |out: Role, input: Role| refuse_overlap(&[out], &[input]).is_err();
        assert!(refused(Role::file("out", &d.join("test.csv")), Role::file("in", &d.join("./test.csv"))));
        assert!(refused(
            Role::file("out", &d.join("parts/p0.parquet")),
            Role::folder("in", &d.join("parts"))
        ));
        assert!(refused(Role::folder("out", &d.join("test.csv")), Role::file("in", &d.join("test.csv"))));
        assert!(
            !refused(Role::folder("out", d), Role::file("in", &d.join("test.csv"))),
            "a file beside an index"
        );
        assert!(refused(Role::folder("out", d), Role::folder("in", &d.join("parts"))));
        assert!(refused(Role::folder("out", &d.join("parts/new")), Role::folder("in", &d.join("parts"))));
        assert!(!refused(Role::file("out", &d.join("sub.csv")), Role::file("in", &d.join("test.csv"))));
        assert!(!refused(Role::folder("out", &d.join("idx")), Role::folder("in", &d.join("parts"))));
        let err = refuse_overlap(
            &[Role::file("the submission", &d.join("test.csv"))],
            &[Role::file("the other", &d.join("x.csv")), Role::file("the test file", &d.join("test.csv"))],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("the submission") && err.contains("the test file"), "{err}");
    }
}
