//! Zip files: every use of the `zip` crate goes through this module, so an update of that
//! fast-moving crate touches one file.
//!
//! Reading (wheels) uses the crate. Writing does not: the zips lbuild produces must be the same
//! bytes on every machine, so [`DeterministicZip`] writes each header field itself (one fixed
//! timestamp, Unix modes 0644/0755, no extra fields, no data descriptors, no Zip64), and wheel
//! entries are copied with their compressed bytes untouched (PKWARE APPNOTE 4.3; the project's platform.md
//! section 6.1 lists every source of difference this avoids).

use std::io::{Read, Seek};

use crate::python::wheel_name::normalize_name;

/// Why the metadata could not be read from an archive.
#[derive(Debug)]
pub(crate) enum ZipReadError {
    /// The archive is not a valid zip file.
    Invalid(String),
    /// The archive has no `*.dist-info/METADATA` for the project.
    NoMetadata,
}

/// Read `{name}-{version}.dist-info/METADATA` of the project `project` from a wheel.
pub(crate) fn read_wheel_metadata<R: Read + Seek>(reader: R, project: &str) -> Result<Vec<u8>, ZipReadError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.map(|name| name.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    let candidates: Vec<String> = names
        .iter()
        .filter(|name| {
            let mut parts = name.split('/');
            matches!((parts.next(), parts.next(), parts.next()), (Some(dir), Some("METADATA"), None) if dir.ends_with(".dist-info"))
        })
        .cloned()
        .collect();
    let wanted = normalize_name(project);
    let chosen = candidates
        .iter()
        .find(|path| {
            let dir = path.split('/').next().unwrap_or_default();
            let stem = dir.trim_end_matches(".dist-info");
            let name = stem.rsplit_once('-').map(|(name, _)| name).unwrap_or(stem);
            normalize_name(name) == wanted
        })
        .or(if candidates.len() == 1 { candidates.first() } else { None })
        .ok_or(ZipReadError::NoMetadata)?
        .clone();
    let mut file = archive.by_name(&chosen).map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    Ok(bytes)
}

/// How an entry of a zip lbuild writes is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Stored,
    Deflated,
}

impl Method {
    fn code(self) -> u16 {
        match self {
            Method::Stored => 0,
            Method::Deflated => 8,
        }
    }
}

/// What a zip entry's headers say about its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntryHeader {
    pub method: Method,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub executable: bool,
}

/// One entry of a wheel, read raw: its compressed bytes can be copied as they are.
#[derive(Debug, Clone)]
pub(crate) struct WheelEntry {
    /// Path inside the wheel, validated (relative, no `..`, `/` separators).
    pub name: String,
    /// Index in the archive, for [`WheelReader::copy_raw`].
    pub index: usize,
    pub header: EntryHeader,
}

/// Why a wheel cannot be installed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WheelError {
    #[error("`{wheel}` is not a valid zip file: {message}")]
    Invalid { wheel: String, message: String },
    #[error("`{wheel}` has an unsafe member path `{name}`: {why}")]
    UnsafePath { wheel: String, name: String, why: &'static str },
    #[error("`{wheel}` holds `{name}` twice")]
    Duplicate { wheel: String, name: String },
    #[error(
        "`{wheel}` stores `{name}` with compression method {method}; lbuild copies only stored and deflated entries"
    )]
    Compression { wheel: String, name: String, method: String },
    #[error("`{wheel}` claims `{name}` is {size} bytes, more than any Lambda package can hold")]
    TooLarge { wheel: String, name: String, size: u64 },
}

/// No single file in a Lambda package can be larger than the unzipped limit.
const MAX_ENTRY_SIZE: u64 = 262_144_000;

/// An open wheel whose entries are copied raw into the zips lbuild writes.
pub(crate) struct WheelReader {
    label: String,
    archive: zip::ZipArchive<std::io::BufReader<std::fs::File>>,
}

impl WheelReader {
    pub fn open(path: &std::path::Path, label: &str) -> Result<WheelReader, WheelError> {
        let invalid = |message: String| WheelError::Invalid { wheel: label.to_string(), message };
        let file = std::fs::File::open(path).map_err(|err| invalid(format!("{}: {err}", path.display())))?;
        // The zip crate reads the central directory in many small pieces: buffer them.
        let archive = zip::ZipArchive::new(std::io::BufReader::with_capacity(64 * 1024, file))
            .map_err(|err| invalid(err.to_string()))?;
        Ok(WheelReader { label: label.to_string(), archive })
    }

    /// Every file entry, validated. Directory entries are skipped (lbuild writes its own).
    pub fn entries(&mut self) -> Result<Vec<WheelEntry>, WheelError> {
        let mut entries = Vec::with_capacity(self.archive.len());
        let mut seen = std::collections::HashSet::new();
        for index in 0..self.archive.len() {
            let wheel = self.label.clone();
            let file = self
                .archive
                .by_index_raw(index)
                .map_err(|err| WheelError::Invalid { wheel: wheel.clone(), message: err.to_string() })?;
            let name = String::from_utf8_lossy(file.name_raw()).into_owned();
            if file.is_dir() || name.ends_with('/') {
                continue;
            }
            if let Some(why) = unsafe_path(&name) {
                return Err(WheelError::UnsafePath { wheel, name, why });
            }
            if file.is_symlink() {
                return Err(WheelError::UnsafePath { wheel, name, why: "symbolic links are not allowed in wheels" });
            }
            let method = match file.compression() {
                zip::CompressionMethod::Stored => Method::Stored,
                zip::CompressionMethod::Deflated => Method::Deflated,
                other => return Err(WheelError::Compression { wheel, name, method: format!("{other:?}") }),
            };
            if file.size() > MAX_ENTRY_SIZE || file.compressed_size() > MAX_ENTRY_SIZE {
                return Err(WheelError::TooLarge { wheel, name, size: file.size().max(file.compressed_size()) });
            }
            if !seen.insert(name.clone()) {
                return Err(WheelError::Duplicate { wheel, name });
            }
            entries.push(WheelEntry {
                name,
                index,
                header: EntryHeader {
                    method,
                    crc32: file.crc32(),
                    compressed_size: file.compressed_size(),
                    size: file.size(),
                    executable: file.unix_mode().is_some_and(|mode| mode & 0o111 != 0),
                },
            });
        }
        Ok(entries)
    }

    /// Copy the compressed bytes of an entry as they are.
    pub fn copy_raw(&mut self, entry: &WheelEntry, out: &mut impl std::io::Write) -> std::io::Result<u64> {
        let mut file = self.archive.by_index_raw(entry.index).map_err(std::io::Error::other)?;
        let copied = std::io::copy(&mut file, out)?;
        if copied != entry.header.compressed_size {
            return Err(std::io::Error::other(format!(
                "`{}` in `{}` is truncated ({copied} of {} bytes)",
                entry.name, self.label, entry.header.compressed_size
            )));
        }
        Ok(copied)
    }
}

/// Why a member path is unsafe to extract, if it is.
pub(crate) fn unsafe_path(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Some("absolute path");
    }
    if name.contains('\\') {
        return Some("backslash in path");
    }
    if name.contains('\0') {
        return Some("NUL in path");
    }
    if name.len() >= 2 && name.as_bytes()[1] == b':' {
        return Some("drive letter");
    }
    if name.split('/').any(|part| part == ".." || part == ".") {
        return Some("`.` or `..` component");
    }
    None
}

/// Why `name` cannot be the path of a file entry in a zip lbuild writes, if it cannot.
///
/// The rule every entry of lbuild's own zips follows, so that `unzip` and Lambda extract each
/// one where it belongs: a relative path of `/`-separated components, none empty, `.` or `..`
/// (so no leading `/`, no `a//b`, no trailing `/`), no backslash, no drive letter, no control
/// characters (NUL and terminal escapes included), and no component longer than a Linux file
/// name can be (255 bytes). The plan checks this for every entry; the writer checks it again.
pub(crate) fn entry_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("the name is empty");
    }
    if name.starts_with('/') {
        return Some("it is an absolute path");
    }
    if name.contains('\\') {
        return Some("it holds a backslash, which Windows tools read as a separator");
    }
    if name.chars().any(char::is_control) {
        return Some("it holds a control character");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some("it starts with a drive letter");
    }
    if name.len() > usize::from(u16::MAX) {
        return Some("it is longer than a zip entry name can be");
    }
    for component in name.split('/') {
        match component {
            "" => return Some("it has an empty path component (`//` or a trailing `/`)"),
            "." | ".." => return Some("it has a `.` or `..` component"),
            _ if component.len() > 255 => return Some("a component is longer than 255 bytes"),
            _ => {}
        }
    }
    None
}

/// Compress bytes the one way lbuild always does: raw deflate at level 6, with the flate2 and
/// zlib-rs versions pinned in Cargo.lock. Returns the header and the data to write.
pub(crate) fn deflate(bytes: &[u8], executable: bool) -> (EntryHeader, Vec<u8>) {
    use std::io::Write;
    let crc32 = crc32fast::hash(bytes);
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(bytes).expect("writing to memory");
    let compressed = encoder.finish().expect("writing to memory");
    // Tiny or incompressible files are stored.
    let (method, data) =
        if compressed.len() >= bytes.len() { (Method::Stored, bytes.to_vec()) } else { (Method::Deflated, compressed) };
    let header =
        EntryHeader { method, crc32, compressed_size: data.len() as u64, size: bytes.len() as u64, executable };
    (header, data)
}

/// The MS-DOS (time, date) pair of a Unix timestamp, in UTC, clamped to 1980..=2107 and rounded
/// down to 2 seconds.
pub(crate) fn dos_datetime(unix: u64) -> (u16, u16) {
    const MIN: u64 = 315_532_800; // 1980-01-01T00:00:00Z
    const MAX: u64 = 4_354_819_198; // 2107-12-31T23:59:58Z
    let unix = unix.clamp(MIN, MAX);
    let days = (unix / 86_400) as i64;
    let seconds = unix % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let time = ((seconds / 3600) << 11) | (((seconds % 3600) / 60) << 5) | ((seconds % 60) / 2);
    let date = (((year - 1980) as u64) << 9) | ((month as u64) << 5) | day as u64;
    (time as u16, date as u16)
}

/// A zip writer whose output depends only on what is written to it: entries in the order given
/// (callers sort them), one timestamp for all, Unix modes 0644/0755 (0755 for directories), no
/// extra fields, no data descriptors, no comments, UTF-8 flag only for non-ASCII names.
///
/// As a last line of defence it refuses any name [`entry_name_problem`] rejects, a name written
/// twice, and a file where a directory is (or the other way round): the plan never asks for
/// one, and a zip holding one would not extract cleanly.
pub(crate) struct DeterministicZip<W: std::io::Write> {
    out: W,
    offset: u64,
    central: Vec<u8>,
    count: u64,
    time: u16,
    date: u16,
    /// Names of the file entries written so far.
    files: std::collections::HashSet<String>,
    /// Directories written or implied by a deeper name, without their trailing `/`.
    directories: std::collections::HashSet<String>,
}

impl<W: std::io::Write> DeterministicZip<W> {
    pub fn new(out: W, unix_time: u64) -> Self {
        let (time, date) = dos_datetime(unix_time);
        DeterministicZip {
            out,
            offset: 0,
            central: Vec::new(),
            count: 0,
            time,
            date,
            files: std::collections::HashSet::new(),
            directories: std::collections::HashSet::new(),
        }
    }

    /// Check a name before its entry is written, and remember it.
    fn claim(&mut self, name: &str, is_dir: bool) -> std::io::Result<()> {
        let refuse = |why: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("refusing to write the zip entry `{}`: {why}", name.escape_debug()),
            )
        };
        let path =
            if is_dir { name.strip_suffix('/').ok_or_else(|| refuse("a directory name ends with `/`"))? } else { name };
        if let Some(why) = entry_name_problem(path) {
            return Err(refuse(why));
        }
        if self.files.contains(path) {
            return Err(refuse("a file of that name is already in the zip"));
        }
        if !is_dir && self.directories.contains(path) {
            return Err(refuse("a directory of that name is already in the zip"));
        }
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            let parent = &path[..end + slash];
            if self.files.contains(parent) {
                return Err(refuse("a parent directory is a file in the zip"));
            }
            self.directories.insert(parent.to_string());
            end += slash + 1;
        }
        if is_dir {
            self.directories.insert(path.to_string());
        } else {
            self.files.insert(path.to_string());
        }
        Ok(())
    }

    /// Add a directory entry (`name` ends with `/`).
    pub fn add_directory(&mut self, name: &str) -> std::io::Result<()> {
        self.claim(name, true)?;
        self.header(name, Method::Stored, 0, 0, 0, 0o040755)?;
        Ok(())
    }

    /// Add a file whose data is already compressed with `method`; `write_data` must write
    /// exactly `compressed_size` bytes.
    pub fn add_raw(
        &mut self,
        name: &str,
        header: &EntryHeader,
        write_data: impl FnOnce(&mut W) -> std::io::Result<u64>,
    ) -> std::io::Result<()> {
        self.claim(name, false)?;
        let mode = if header.executable { 0o100755 } else { 0o100644 };
        self.header(name, header.method, header.crc32, header.compressed_size, header.size, mode)?;
        let written = write_data(&mut self.out)?;
        if written != header.compressed_size {
            let expected = header.compressed_size;
            return Err(std::io::Error::other(format!("`{name}`: wrote {written} bytes, expected {expected}")));
        }
        self.offset += written;
        Ok(())
    }

    fn header(
        &mut self,
        name: &str,
        method: Method,
        crc32: u32,
        compressed: u64,
        size: u64,
        mode: u32,
    ) -> std::io::Result<()> {
        if compressed > u64::from(u32::MAX) || size > u64::from(u32::MAX) || self.offset > u64::from(u32::MAX) {
            return Err(std::io::Error::other(format!(
                "`{name}` does not fit a zip without Zip64, far beyond Lambda's limits"
            )));
        }
        if self.count >= u64::from(u16::MAX) {
            return Err(std::io::Error::other("more than 65,535 entries: far beyond what a Lambda package can hold"));
        }
        let name_bytes = name.as_bytes();
        let flags: u16 = if name.is_ascii() { 0 } else { 1 << 11 };
        let version_needed: u16 = if method == Method::Deflated || mode & 0o040000 != 0 { 20 } else { 10 };
        let mut local = Vec::with_capacity(30 + name_bytes.len());
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&version_needed.to_le_bytes());
        local.extend_from_slice(&flags.to_le_bytes());
        local.extend_from_slice(&method.code().to_le_bytes());
        local.extend_from_slice(&self.time.to_le_bytes());
        local.extend_from_slice(&self.date.to_le_bytes());
        local.extend_from_slice(&crc32.to_le_bytes());
        local.extend_from_slice(&(compressed as u32).to_le_bytes());
        local.extend_from_slice(&(size as u32).to_le_bytes());
        local.extend_from_slice(&(name_bytes.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name_bytes);

        let central = &mut self.central;
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: Unix, spec 2.0
        central.extend_from_slice(&version_needed.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&method.code().to_le_bytes());
        central.extend_from_slice(&self.time.to_le_bytes());
        central.extend_from_slice(&self.date.to_le_bytes());
        central.extend_from_slice(&crc32.to_le_bytes());
        central.extend_from_slice(&(compressed as u32).to_le_bytes());
        central.extend_from_slice(&(size as u32).to_le_bytes());
        central.extend_from_slice(&(name_bytes.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&(self.offset as u32).to_le_bytes());
        central.extend_from_slice(name_bytes);

        self.out.write_all(&local)?;
        self.offset += local.len() as u64;
        self.count += 1;
        Ok(())
    }

    /// Write the central directory and return the underlying writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.offset > u64::from(u32::MAX) {
            return Err(std::io::Error::other("the zip exceeds 4 GiB"));
        }
        self.out.write_all(&self.central)?;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&(self.count as u16).to_le_bytes());
        end.extend_from_slice(&(self.count as u16).to_le_bytes());
        end.extend_from_slice(&(self.central.len() as u32).to_le_bytes());
        end.extend_from_slice(&(self.offset as u32).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.out.write_all(&end)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    #[test]
    fn dos_datetime_of_known_instants() {
        // 1980-01-01 00:00:00
        assert_eq!(dos_datetime(0), (0, (1 << 5) | 1));
        // 2024-02-29 13:45:31 UTC -> seconds rounded down to 30.
        let (time, date) = dos_datetime(1_709_214_331);
        assert_eq!(date, ((2024 - 1980) << 9) | (2 << 5) | 29);
        assert_eq!(time, (13 << 11) | (45 << 5) | 15);
    }

    #[test]
    fn written_zips_read_back_with_modes_and_are_deterministic() {
        let write = || {
            let mut zip = DeterministicZip::new(Cursor::new(Vec::new()), 0);
            zip.add_directory("pkg/").unwrap();
            let (header, data) = deflate(&b"print('hello')\n".repeat(20), false);
            zip.add_raw("pkg/__init__.py", &header, |out| {
                std::io::Write::write_all(out, &data).map(|()| data.len() as u64)
            })
            .unwrap();
            let (header, data) = deflate(b"#!/bin/sh\n", true);
            zip.add_raw("pkg/run.sh", &header, |out| std::io::Write::write_all(out, &data).map(|()| data.len() as u64))
                .unwrap();
            zip.finish().unwrap().into_inner()
        };
        let bytes = write();
        assert_eq!(bytes, write());
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 3);
        let mut file = archive.by_name("pkg/__init__.py").unwrap();
        assert_eq!(file.unix_mode(), Some(0o100644));
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "print('hello')\n".repeat(20));
        drop(file);
        assert_eq!(archive.by_name("pkg/run.sh").unwrap().unix_mode(), Some(0o100755));
        assert!(archive.by_name("pkg/").unwrap().is_dir());
    }

    #[test]
    fn the_writer_refuses_names_that_would_not_extract_cleanly() {
        let (header, data) = deflate(b"x", false);
        let add = |zip: &mut DeterministicZip<Cursor<Vec<u8>>>, name: &str| {
            zip.add_raw(name, &header, |out| std::io::Write::write_all(out, &data).map(|()| data.len() as u64))
        };
        for name in [
            "../../evil.py",
            "/abs.py",
            "a//b.py",
            "a/",
            "..\\..\\evil.py",
            "C:evil.py",
            "a/./b.py",
            "esc\u{1b}[31m.py",
            "nul\0.py",
            "",
        ] {
            let mut zip = DeterministicZip::new(Cursor::new(Vec::new()), 0);
            let err = add(&mut zip, name).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{name:?}");
            assert!(entry_name_problem(name).is_some(), "{name:?}");
        }
        let mut zip = DeterministicZip::new(Cursor::new(Vec::new()), 0);
        add(&mut zip, "pkg/x.py").unwrap();
        assert!(add(&mut zip, "pkg/x.py").is_err(), "a duplicate name");
        assert!(add(&mut zip, "pkg").is_err(), "a file where a directory is");
        add(&mut zip, "mod").unwrap();
        assert!(zip.add_directory("mod/").is_err(), "a directory where a file is");
        assert!(add(&mut zip, "mod/y.py").is_err(), "a file under a file");
        zip.add_directory("pkg/").unwrap();
        assert!(entry_name_problem("pkg/sub/ünï.py").is_none());
        assert!(entry_name_problem(&"a".repeat(256)).is_some());
    }

    #[test]
    fn hostile_member_paths_are_refused() {
        for name in ["../evil.py", "/etc/passwd", "a/../../b", "C:/x", "a\\b", "./x", ""] {
            assert!(unsafe_path(name).is_some(), "{name}");
        }
        assert!(unsafe_path("pkg/sub/mod.py").is_none());
    }
}
