//! The files the tests of this binary share, built once: synthetic train
//! and test files, their static vectors (as a file and as a folder of
//! parts), a copy of the static model as a user's model folder, and two
//! indexes (one from that folder, one from vectors).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::run_ok;

pub struct Files {
    pub dir: tempfile::TempDir,
    pub train: PathBuf,
    pub test: PathBuf,
    pub train_vectors: PathBuf,
    pub test_vectors: PathBuf,
    /// A folder of vectors parts: the test vectors as `part-0.parquet`.
    pub parts: PathBuf,
    /// The static table copied to a folder of the user's.
    pub model: PathBuf,
    /// An index built with `--model` [`Files::model`].
    pub index: PathBuf,
    /// An index built from [`Files::train_vectors`].
    pub vectors_index: PathBuf,
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The provisioned model folder `name` under `$KNNPREF_HOME/models`.
pub fn provisioned(name: &str) -> PathBuf {
    let home = std::env::var_os("KNNPREF_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/knnpref"));
    let dir = home.join("models").join(name);
    assert!(dir.is_dir(), "run scripts/setup.sh first: {} is missing", dir.display());
    dir
}

pub fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (train, test) = (d.join("train.csv"), d.join("test.csv"));
        run_ok(&["synth", "--rows", "300", "--seed", "1", "--out", s(&train)]);
        run_ok(&["synth", "--rows", "2000", "--seed", "2", "--out", s(&test)]);
        let model = d.join("my-model");
        std::fs::create_dir(&model).unwrap();
        for e in std::fs::read_dir(provisioned("all-MiniLM-L6-v2-static")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), model.join(e.file_name())).unwrap();
        }
        let (train_vectors, test_vectors) = (d.join("train-vectors.parquet"), d.join("test-vectors.parquet"));
        for (input, out) in [(&train, &train_vectors), (&test, &test_vectors)] {
            run_ok(&["embed", "--in", s(input), "--out", s(out), "--model", s(&model)]);
        }
        let parts = d.join("parts");
        std::fs::create_dir(&parts).unwrap();
        std::fs::copy(&test_vectors, parts.join("part-0.parquet")).unwrap();
        let (index, vectors_index) = (d.join("idx"), d.join("idx-vectors"));
        run_ok(&["index", "--train", s(&train), "--out", s(&index), "--model", s(&model)]);
        run_ok(&["index", "--train", s(&train), "--out", s(&vectors_index), "--vectors", s(&train_vectors)]);
        Files { dir, train, test, train_vectors, test_vectors, parts, model, index, vectors_index }
    })
}

/// The bytes of every file under `path` (a file or a folder), by path.
pub fn snapshot(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if path.is_file() {
        return vec![(path.to_owned(), std::fs::read(path).unwrap())];
    }
    let mut all = Vec::new();
    for e in std::fs::read_dir(path).unwrap() {
        all.extend(snapshot(&e.unwrap().path()));
    }
    all.sort();
    all
}

/// A folder the system refuses to write into, even for root (`chattr +i`),
/// made writable again when dropped.
pub struct ReadOnlyDir(pub PathBuf);

impl ReadOnlyDir {
    pub fn new(path: PathBuf) -> ReadOnlyDir {
        std::fs::create_dir_all(&path).unwrap();
        let root = std::process::Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        if root {
            let ok = std::process::Command::new("chattr").arg("+i").arg(&path).status().unwrap().success();
            assert!(ok, "chattr +i {} failed (e2fsprogs, a file system with attributes)", path.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        assert!(std::fs::write(path.join("probe"), "x").is_err(), "{} is still writable", path.display());
        ReadOnlyDir(path)
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr").arg("-i").arg(&self.0).status();
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}
