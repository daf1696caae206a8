//! The same input and seed give the same bytes whatever the thread count:
//! every file of an index whose neighbour search runs through HNSW graphs
//! (built in parallel batches), and its submission.

use crate::common::run_ok;
use crate::fixture::{files, s, snapshot};

#[test]
fn an_hnsw_index_and_its_submission_are_byte_identical_on_one_thread_and_on_two() {
    let f = files();
    let work = tempfile::tempdir().unwrap();
    let build = |threads: &str| {
        let idx = work.path().join(format!("idx-{threads}"));
        let sub = work.path().join(format!("sub-{threads}.csv"));
        let model = s(&f.model);
        let search = ["--search", "hnsw", "--seed", "5", "--threads", threads];
        let index = ["index", "--train", s(&f.train), "--out", s(&idx), "--model", model];
        run_ok(&index.into_iter().chain(search).collect::<Vec<_>>());
        let predict = ["predict", "--index", s(&idx), "--test", s(&f.test), "--out", s(&sub)];
        run_ok(&predict.into_iter().chain(["--threads", threads]).collect::<Vec<_>>());
        let strip = |files: Vec<(std::path::PathBuf, Vec<u8>)>| {
            files.into_iter().map(|(p, b)| (p.file_name().unwrap().to_owned(), b)).collect::<Vec<_>>()
        };
        (strip(snapshot(&idx)), std::fs::read(&sub).unwrap())
    };
    let (one, two) = (build("1"), build("2"));
    assert!(one.0.len() >= 4, "an index has its data files and manifest");
    assert_eq!(one.0, two.0, "the index files differ between 1 and 2 threads");
    assert_eq!(one.1, two.1, "the submissions differ between 1 and 2 threads");
}
