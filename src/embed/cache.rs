//! A content-addressed, append-only embedding cache.
//!
//! One file per model (keyed by the model's sha256 and token budget) under
//! `$KNNPREF_HOME/cache`. Each record is the sha256 of the fitted text
//! followed by its vector. Records are appended whole; a run that dies
//! mid-write leaves at most one partial record at the end, which the next
//! open ignores and cuts off, so the cache is always readable.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Why the cache file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Reading, truncating or appending the cache file failed.
    #[error("embedding cache {path}")]
    Io {
        /// The cache file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// One model's cache file, loaded into memory, appended to as vectors arrive.
pub struct Cache {
    path: PathBuf,
    file: File,
    dim: usize,
    map: HashMap<[u8; 32], Vec<f32>>,
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
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let record = 32 + dim * 4;
        let whole = bytes.len() / record * record;
        if whole != bytes.len() {
            file.set_len(whole as u64).map_err(io)?;
            file.seek(SeekFrom::End(0)).map_err(io)?;
        }
        let mut map = HashMap::with_capacity(whole / record);
        for rec in bytes[..whole].chunks_exact(record) {
            let mut key = [0u8; 32];
            key.copy_from_slice(&rec[..32]);
            let v = rec[32..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            map.insert(key, v);
        }
        Ok(Cache { path, file, dim, map })
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

    /// Append a batch of vectors in one write.
    pub fn put_batch(&mut self, items: &[([u8; 32], &[f32])]) -> Result<(), CacheError> {
        let mut buf = Vec::with_capacity(items.len() * (32 + self.dim * 4));
        for (key, v) in items {
            debug_assert_eq!(v.len(), self.dim);
            buf.extend_from_slice(key);
            for x in v.iter() {
                buf.extend_from_slice(&x.to_le_bytes());
            }
        }
        self.file.write_all(&buf).map_err(|source| CacheError::Io { path: self.path.clone(), source })?;
        for (key, v) in items {
            self.map.insert(*key, v.to_vec());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_partial_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = Cache::key("one");
        let k2 = Cache::key("two");
        {
            let mut c = Cache::open(dir.path(), "m-0123456789abcdef-8-d3.bin", 3).unwrap();
            c.put_batch(&[(k1, &[1.0, 2.0, 3.0][..]), (k2, &[4.0, 5.0, 6.0][..])]).unwrap();
        }
        let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        // Simulate a crash mid-record: append half a record.
        let mut f = OpenOptions::new().append(true).open(&file).unwrap();
        f.write_all(&[7u8; 20]).unwrap();
        drop(f);
        let mut c = Cache::open(dir.path(), "m-0123456789abcdef-8-d3.bin", 3).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&k2), Some(&[4.0, 5.0, 6.0][..]));
        let k3 = Cache::key("three");
        c.put_batch(&[(k3, &[7.0, 8.0, 9.0][..])]).unwrap();
        drop(c);
        let c = Cache::open(dir.path(), "m-0123456789abcdef-8-d3.bin", 3).unwrap();
        assert_eq!(c.get(&k3), Some(&[7.0, 8.0, 9.0][..]));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 3 * (32 + 12));
    }
}
