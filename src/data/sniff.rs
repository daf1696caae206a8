//! Which format a battles file is in, by its content: Parquet files start
//! with the magic bytes `PAR1`, whatever their name; anything else is read
//! as CSV, unless it is named `.parquet` (then it is refused, with a word
//! on what it looks like instead).

use std::io::Read;
use std::path::Path;

use super::DataError;

/// The four bytes every Parquet file starts (and ends) with.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// How many leading bytes are looked at to say what a file looks like.
const SNIFF_LEN: usize = 4096;

/// The format a battles file is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Parquet,
}

/// The format of the file at `path`, by its first bytes.
pub(super) fn format_of(path: &Path) -> Result<Format, DataError> {
    let io = |source| DataError::Io { path: path.to_owned(), source };
    let mut head = Vec::with_capacity(SNIFF_LEN);
    std::fs::File::open(path).map_err(io)?.take(SNIFF_LEN as u64).read_to_end(&mut head).map_err(io)?;
    if head.starts_with(PARQUET_MAGIC) {
        return Ok(Format::Parquet);
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        return Err(DataError::NotParquet { path: path.to_owned(), looks_like: looks_like(&head) });
    }
    Ok(Format::Csv)
}

/// What the first bytes of a file that is not Parquet look like, in words.
pub(super) fn looks_like(head: &[u8]) -> &'static str {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let trimmed = text.trim_ascii_start();
    if head.is_empty() {
        "it is empty"
    } else if head.starts_with(b"\x1f\x8b") {
        "it looks like gzip-compressed data (decompress it first)"
    } else if head.starts_with(b"PK\x03\x04") {
        "it looks like a ZIP archive (an .xlsx workbook or a zipped file?)"
    } else if head.starts_with(b"ARROW1") {
        "it looks like an Arrow IPC/Feather file (write it with pandas' to_parquet instead)"
    } else if head.starts_with(b"SQLite format 3\0") {
        "it looks like an SQLite database"
    } else if !is_text(text) {
        "it looks like binary data of no format knnpref reads"
    } else if trimmed.starts_with(b"[") || trimmed.starts_with(b"{") {
        "it looks like JSON text (knnpref reads CSV or Parquet)"
    } else {
        "it looks like CSV/text (name it .csv, or write it as Parquet)"
    }
}

/// UTF-8 without control characters other than whitespace; a character
/// cut at the end of the sample still counts as text.
fn is_text(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid.chars().all(|c| !c.is_control() || c.is_whitespace())
}
