//! A content-addressed, append-only embedding cache that several knnpref
//! processes can share.
//!
//! One file per model (keyed by the model's identity and token budget) under
//! the cache folder (`$KNNPREF_CACHE`, default `$KNNPREF_HOME/cache`). Each
//! record is the sha256 of the fitted text followed by its vector, so every
//! record has the same length.
//!
//! Concurrency: every read of the file and every append happens while this
//! process holds an exclusive advisory lock on it (`File::lock`: `flock` on
//! Linux and macOS, `LockFileEx` on Windows; released by the kernel when a
//! process dies). So no two writers ever interleave, and a reader never
//! sees a record being written. A record can then only be torn by a process
//! that died mid-append; the next process to take the lock finds the file's
//! length is not a whole number of records and cuts the partial tail off
//! before it reads or appends. Before appending, a writer also reads what
//! other processes appended since it last looked and skips the texts they
//! already stored, so concurrent runs over overlapping texts leave one
//! record per text.
//!
//! Why a lock rather than checksummed records appended without one: appends
//! of many kilobytes are not guaranteed to land whole and unmixed on every
//! filesystem, so two lock-free writers could interleave within a record; a
//! checksum would detect that, but both records would be lost (and embedded
//! again by the next run), and writers could not see each other's records to
//! avoid duplicates. The lock is held only for one read or one append, never
//! while the model runs, so runs embed side by side. It is advisory: it
//! guards knnpref against knnpref, not against other programs writing the file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::fault::Fault;
use sha2::{Digest, Sha256};

/// Why the cache file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Locking, reading, truncating or appending the cache file failed.
    #[error("embedding cache {path}")]
    Io {
        /// The cache file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl CacheError {
    /// Whose fault: the user's, who chose the cache folder
    /// (`KNNPREF_CACHE` naming a file, say); a refusal of the system
    /// (a full disk) is found first by the caller.
    pub fn fault(&self) -> Fault {
        match self {
            CacheError::Io { .. } => Fault::User,
        }
    }
}

/// One model's cache file, loaded into memory, appended to as vectors arrive.
pub struct Cache {
    path: PathBuf,
    file: File,
    dim: usize,
    map: HashMap<[u8; 32], Vec<f32>>,
    /// Bytes of the file already read into `map` (a whole number of records).
    seen: u64,
}

/// The exclusive lock on a cache file, released when dropped.
struct Locked<'a>(&'a File);

impl<'a> Locked<'a> {
    fn take(file: &'a File) -> std::io::Result<Locked<'a>> {
        file.lock()?;
        Ok(Locked(file))
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Cache {
    /// The cache key of a text.
    pub fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// Open (or create) the cache file `name` in `dir` for vectors of
    /// dimension `dim`, cutting off a partial record left by a crash. The
    /// name carries the model's identity, so models never share a file.
    pub fn open(dir: &Path, name: &str, dim: usize) -> Result<Cache, CacheError> {
        let path = dir.join(name);
        let io = |source| CacheError::Io { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        let mut cache = Cache { path, file, dim, map: HashMap::new(), seen: 0 };
        cache.locked(|_| Ok(()))?;
        Ok(cache)
    }

    /// Run `f` holding the file's exclusive lock, after reading what was
    /// appended since the last look.
    fn locked<T>(&mut self, f: impl FnOnce(&mut Cache) -> std::io::Result<T>) -> Result<T, CacheError> {
        let run = |cache: &mut Cache| {
            // A second handle on the same open file: its lock is this file's lock.
            let handle = cache.file.try_clone()?;
            let _lock = Locked::take(&handle)?;
            cache.catch_up()?;
            f(cache)
        };
        run(self).map_err(|source| CacheError::Io { path: self.path.clone(), source })
    }

    /// Bytes per record: the key and the vector.
    fn record(&self) -> u64 {
        (32 + self.dim * 4) as u64
    }

    /// Read the records appended since the last look (by this process or
    /// another), first cutting off a partial record left by a process that
    /// died mid-append. Called with the lock held, so nobody is appending.
    fn catch_up(&mut self) -> std::io::Result<()> {
        let len = self.file.metadata()?.len();
        let whole = len / self.record() * self.record();
        if whole != len {
            self.file.set_len(whole)?;
        }
        if whole < self.seen {
            // Shrunk under us (deleted and recreated): read it all again.
            self.map.clear();
            self.seen = 0;
        }
        let mut bytes = Vec::with_capacity((whole - self.seen) as usize);
        self.file.seek(SeekFrom::Start(self.seen))?;
        (&self.file).take(whole - self.seen).read_to_end(&mut bytes)?;
        for rec in bytes.chunks_exact(self.record() as usize) {
            let mut key = [0u8; 32];
            key.copy_from_slice(&rec[..32]);
            let v = rec[32..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            self.map.insert(key, v);
        }
        self.seen = whole;
        Ok(())
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The cached vector of a text key, if any.
    pub fn get(&self, key: &[u8; 32]) -> Option<&[f32]> {
        self.map.get(key).map(Vec::as_slice)
    }

    /// Append a batch of vectors in one write, under the lock; texts that
    /// another process stored meanwhile are not written twice.
    pub fn put_batch(&mut self, items: &[([u8; 32], &[f32])]) -> Result<(), CacheError> {
        self.locked(|cache| {
            let mut buf = Vec::with_capacity(items.len() * cache.record() as usize);
            for (key, v) in items {
                debug_assert_eq!(v.len(), cache.dim);
                if cache.map.contains_key(key) {
                    continue;
                }
                buf.extend_from_slice(key);
                for x in v.iter() {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
                cache.map.insert(*key, v.to_vec());
            }
            if buf.is_empty() {
                return Ok(());
            }
            // In unit tests, widen the window between reading the file's end
            // and writing there, so that a missing lock shows as lost records.
            #[cfg(test)]
            std::thread::sleep(std::time::Duration::from_millis(1));
            cache.file.seek(SeekFrom::Start(cache.seen))?;
            if let Err(e) = cache.file.write_all(&buf) {
                // Leave no partial record behind for the next process to find.
                let _ = cache.file.set_len(cache.seen);
                return Err(e);
            }
            cache.seen += buf.len() as u64;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "m-0123456789abcdef-8-d3.bin";
    const RECORD: u64 = 32 + 3 * 4;

    fn vector(i: usize) -> [f32; 3] {
        [i as f32, i as f32 + 0.5, -(i as f32)]
    }

    fn file_len(dir: &Path) -> u64 {
        std::fs::metadata(dir.join(NAME)).unwrap().len()
    }

    #[test]
    fn round_trip_and_partial_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = Cache::key("one");
        let k2 = Cache::key("two");
        {
            let mut c = Cache::open(dir.path(), NAME, 3).unwrap();
            c.put_batch(&[(k1, &[1.0, 2.0, 3.0][..]), (k2, &[4.0, 5.0, 6.0][..])]).unwrap();
        }
        // Simulate a crash mid-record: append half a record.
        let mut f = OpenOptions::new().append(true).open(dir.path().join(NAME)).unwrap();
        f.write_all(&[7u8; 20]).unwrap();
        drop(f);
        let mut c = Cache::open(dir.path(), NAME, 3).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&k2), Some(&[4.0, 5.0, 6.0][..]));
        let k3 = Cache::key("three");
        c.put_batch(&[(k3, &[7.0, 8.0, 9.0][..])]).unwrap();
        drop(c);
        let c = Cache::open(dir.path(), NAME, 3).unwrap();
        assert_eq!(c.get(&k3), Some(&[7.0, 8.0, 9.0][..]));
        assert_eq!(file_len(dir.path()), 3 * RECORD);
    }

    #[test]
    fn a_tail_torn_while_open_is_cut_before_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cache::open(dir.path(), NAME, 3).unwrap();
        c.put_batch(&[(Cache::key("a"), &vector(1)[..])]).unwrap();
        // Another process dies halfway through its record.
        let mut f = OpenOptions::new().append(true).open(dir.path().join(NAME)).unwrap();
        f.write_all(&[9u8; 30]).unwrap();
        c.put_batch(&[(Cache::key("b"), &vector(2)[..])]).unwrap();
        assert_eq!(file_len(dir.path()), 2 * RECORD);
        let again = Cache::open(dir.path(), NAME, 3).unwrap();
        assert_eq!(again.get(&Cache::key("b")), Some(&vector(2)[..]));
        assert_eq!(again.len(), 2);
    }

    #[test]
    fn two_handles_see_each_other_and_store_each_text_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Cache::open(dir.path(), NAME, 3).unwrap();
        let mut b = Cache::open(dir.path(), NAME, 3).unwrap();
        let keys: Vec<[u8; 32]> = (0..6).map(|i| Cache::key(&format!("text {i}"))).collect();
        let vs: Vec<[f32; 3]> = (0..6).map(vector).collect();
        a.put_batch(&[(keys[0], &vs[0][..]), (keys[1], &vs[1][..]), (keys[2], &vs[2][..])]).unwrap();
        // b overlaps a on texts 1 and 2; only 3 and 4 are new.
        let batch: Vec<([u8; 32], &[f32])> = (1..5).map(|i| (keys[i], &vs[i][..])).collect();
        b.put_batch(&batch).unwrap();
        assert_eq!(file_len(dir.path()), 5 * RECORD, "texts 1 and 2 were not stored twice");
        assert_eq!(b.get(&keys[0]), Some(&vs[0][..]), "b read what a appended");
        a.put_batch(&[(keys[4], &vs[4][..]), (keys[5], &vs[5][..])]).unwrap();
        assert_eq!(file_len(dir.path()), 6 * RECORD);
        let c = Cache::open(dir.path(), NAME, 3).unwrap();
        assert_eq!(c.len(), 6);
        for (k, v) in keys.iter().zip(&vs) {
            assert_eq!(c.get(k), Some(&v[..]));
        }
    }

    #[test]
    fn concurrent_writers_leave_whole_records_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let (texts, dim) = (400, 96);
        let value = |i: usize| -> Vec<f32> { (0..dim).map(|j| (i * dim + j) as f32).collect() };
        std::thread::scope(|s| {
            for w in 0..3 {
                let dir = dir.path();
                s.spawn(move || {
                    let mut c = Cache::open(dir, NAME, dim).unwrap();
                    // Overlapping ranges, in batches of 7, each writer in its own order.
                    let mut ids: Vec<usize> = (w * 100..w * 100 + 200).collect();
                    if w == 1 {
                        ids.reverse();
                    }
                    for chunk in ids.chunks(7) {
                        let vs: Vec<Vec<f32>> = chunk.iter().map(|&i| value(i)).collect();
                        let batch: Vec<([u8; 32], &[f32])> = chunk
                            .iter()
                            .zip(&vs)
                            .map(|(&i, v)| (Cache::key(&i.to_string()), &v[..]))
                            .collect();
                        c.put_batch(&batch).unwrap();
                    }
                });
            }
        });
        let c = Cache::open(dir.path(), NAME, dim).unwrap();
        assert_eq!(c.len(), texts);
        assert_eq!(file_len(dir.path()), texts as u64 * (32 + dim as u64 * 4), "one whole record per text");
        for i in 0..texts {
            assert_eq!(c.get(&Cache::key(&i.to_string())), Some(&value(i)[..]), "text {i}");
        }
    }
}
