//! Reading one member of a remote wheel with HTTP range requests ("lazy wheel").
//!
//! Mirrors and private indexes often lack PEP 658 `.metadata` files. Downloading a whole wheel
//! to read a few kilobytes of METADATA is what makes other tools slow there, so lbuild asks
//! for the tail of the file (the zip central directory), and then for the byte range of the
//! METADATA entry. The zip parsing itself is the `zip` crate's, run over a [`SparseFile`]: a
//! `Read + Seek` view of the ranges fetched so far that reports the first range it lacks, so
//! the caller can fetch it and try again.

use std::io::{self, Read, Seek, SeekFrom};

/// The ranges of a remote file fetched so far.
pub(crate) struct SparseFile {
    len: u64,
    chunks: Vec<(u64, Vec<u8>)>,
    position: u64,
    /// The first byte that was asked for but not present.
    pub missing: Option<u64>,
}

impl SparseFile {
    pub fn new(len: u64) -> SparseFile {
        SparseFile { len, chunks: Vec::new(), position: 0, missing: None }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn insert(&mut self, start: u64, bytes: Vec<u8>) {
        self.chunks.push((start, bytes));
        self.missing = None;
    }

    /// Total bytes fetched.
    pub fn fetched(&self) -> u64 {
        self.chunks.iter().map(|(_, bytes)| bytes.len() as u64).sum()
    }
}

impl Read for SparseFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.position >= self.len || buf.is_empty() {
            return Ok(0);
        }
        // The chunk that holds `position` and reaches furthest past it.
        // Offsets come from a server's `Content-Range`: no arithmetic on them may overflow.
        let end = |(start, bytes): &&(u64, Vec<u8>)| start.saturating_add(bytes.len() as u64);
        let best =
            self.chunks.iter().filter(|chunk| chunk.0 <= self.position && self.position < end(chunk)).max_by_key(end);
        match best {
            Some((start, bytes)) => {
                let offset = (self.position - start) as usize;
                let available = &bytes[offset..];
                let left = usize::try_from(self.len - self.position).unwrap_or(usize::MAX);
                let n = available.len().min(buf.len()).min(left);
                buf[..n].copy_from_slice(&available[..n]);
                self.position += n as u64;
                Ok(n)
            }
            None => {
                self.missing.get_or_insert(self.position);
                Err(io::Error::other(format!("byte {} has not been fetched", self.position)))
            }
        }
    }
}

impl Seek for SparseFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(offset) => self.len.checked_add_signed(offset),
            SeekFrom::Current(offset) => self.position.checked_add_signed(offset),
        };
        match target {
            Some(target) => {
                self.position = target;
                Ok(target)
            }
            None => Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the file")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_within_chunks_and_reports_the_first_gap() {
        let mut file = SparseFile::new(100);
        file.insert(90, (90..100).collect());
        file.seek(SeekFrom::End(-5)).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(file.read(&mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], &[95, 96, 97, 98, 99]);
        file.seek(SeekFrom::Start(10)).unwrap();
        assert!(file.read(&mut buf).is_err());
        assert_eq!(file.missing, Some(10));
        file.insert(0, vec![7; 20]);
        assert_eq!(file.missing, None);
        assert_eq!(file.read(&mut buf).unwrap(), 10);
        assert_eq!(file.fetched(), 30);
    }

    #[test]
    fn chunks_at_the_end_of_the_offsets_do_not_overflow() {
        let mut file = SparseFile::new(u64::MAX);
        file.insert(u64::MAX - 2, vec![1; 10]);
        file.seek(SeekFrom::Start(u64::MAX - 1)).unwrap();
        let mut buf = [0u8; 4];
        assert!(file.read(&mut buf).is_ok());
        file.seek(SeekFrom::Start(5)).unwrap();
        assert!(file.read(&mut buf).is_err());
    }
}
