//! Zip files: every use of the `zip` crate goes through this module, so an update of that
//! fast-moving crate touches one file.
//!
//! Reading (wheels) uses the crate for the central directory and for small members (METADATA
//! and WHEEL, read through a bound). Wheels are untrusted, so copying an entry does not: it
//! reads the local header itself and checks it against the central directory, and inflates the
//! data as it streams past to check its size and CRC-32 (see [`WheelData`]). Writing does not
//! use the crate either: the zips lbuild produces must be the same
//! bytes on every machine, so [`DeterministicZip`] writes each header field itself (one fixed
//! timestamp, Unix modes 0644/0755, no extra fields, no data descriptors, no Zip64), and wheel
//! entries are copied with their compressed bytes untouched (PKWARE APPNOTE 4.3; the project's platform.md
//! section 6.1 lists every source of difference this avoids).

use std::io::{Read, Seek};

use crate::python::wheel_name::normalize_name;

/// The most bytes lbuild reads from a wheel's METADATA or WHEEL file. Real ones are well under
/// 1 MiB; the bound keeps a hostile wheel from making lbuild hold gigabytes in memory.
pub(crate) const MAX_METADATA_SIZE: u64 = 16 * 1024 * 1024;

/// Why the metadata could not be read from an archive.
#[derive(Debug)]
pub(crate) enum ZipReadError {
    /// The archive is not a valid zip file.
    Invalid(String),
    /// The archive has no `*.dist-info/METADATA` for the project.
    NoMetadata,
    /// The METADATA entry claims, or inflates to, more than [`MAX_METADATA_SIZE`] bytes.
    TooLarge { name: String, size: u64 },
}

/// Read `{name}-{version}.dist-info/METADATA` of the project `project` from a wheel, reading at
/// most [`MAX_METADATA_SIZE`] bytes. The size the central directory declares is checked before
/// any of the entry's bytes are read, so a range-request reader never fetches a huge entry.
pub(crate) fn read_wheel_metadata<R: Read + Seek>(reader: R, project: &str) -> Result<Vec<u8>, ZipReadError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    if archive.has_duplicate_names() {
        return Err(ZipReadError::Invalid("its central directory names the same file twice".to_string()));
    }
    let names: Vec<String> = archive.file_names_raw().map(|name| String::from_utf8_lossy(name).into_owned()).collect();
    let dir = dist_info_dir(names.iter().map(String::as_str), project)
        .map_err(ZipReadError::Invalid)?
        .ok_or(ZipReadError::NoMetadata)?;
    let index = archive.index_for_name(&format!("{dir}/METADATA")).ok_or(ZipReadError::NoMetadata)?;
    read_bounded(&mut archive, index)
}

/// The `.dist-info` directory of `project` among a wheel's member names: the one whose name
/// part normalizes to the project's name, else the only one there is. Several for the project
/// is an error (which one would an installer believe?).
fn dist_info_dir<'a>(names: impl Iterator<Item = &'a str>, project: &str) -> Result<Option<String>, String> {
    let dirs: std::collections::BTreeSet<&str> = names
        .filter_map(|name| name.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    let wanted = normalize_name(project);
    let matching: Vec<&str> = dirs
        .iter()
        .copied()
        .filter(|dir| {
            let stem = dir.trim_end_matches(".dist-info");
            let name = stem.rsplit_once('-').map_or(stem, |(name, _)| name);
            normalize_name(name) == wanted
        })
        .collect();
    match (matching.as_slice(), dirs.len()) {
        ([dir], _) => Ok(Some(dir.to_string())),
        ([], 1) => Ok(dirs.first().map(|dir| dir.to_string())),
        ([], _) => Ok(None),
        (several, _) => {
            Err(format!("it holds {} `.dist-info` directories for `{project}`: {}", several.len(), several.join(", ")))
        }
    }
}

/// Inflate one (small) entry, refusing one that claims or holds more than [`MAX_METADATA_SIZE`]
/// bytes or whose length differs from the declared one (the crate checks the CRC).
fn read_bounded<R: Read + Seek>(archive: &mut zip::ZipArchive<R>, index: usize) -> Result<Vec<u8>, ZipReadError> {
    let invalid = |err: zip::result::ZipError| ZipReadError::Invalid(err.to_string());
    let (name, size, compressed, encrypted) = {
        let entry = archive.by_index_data(index).map_err(invalid)?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        (
            name,
            entry.size(),
            entry.compressed_size(),
            entry.encrypted() || entry.flags().as_u16() & STRONG_ENCRYPTION != 0,
        )
    };
    if size > MAX_METADATA_SIZE || compressed > MAX_METADATA_SIZE {
        return Err(ZipReadError::TooLarge { name, size: size.max(compressed) });
    }
    if encrypted {
        return Err(ZipReadError::Invalid(format!("`{name}` is encrypted")));
    }
    let file = archive.by_index(index).map_err(invalid)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_METADATA_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| ZipReadError::Invalid(format!("`{name}`: {err}")))?;
    if bytes.len() as u64 > MAX_METADATA_SIZE {
        return Err(ZipReadError::TooLarge { name, size: bytes.len() as u64 });
    }
    if bytes.len() as u64 != size {
        return Err(ZipReadError::Invalid(format!(
            "`{name}` inflates to {} bytes, not the {size} its header declares",
            bytes.len()
        )));
    }
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
    /// Path inside the wheel, validated (UTF-8, relative, no `..`, `/` separators).
    pub name: String,
    /// Offset of its local header in the wheel.
    header_start: u64,
    /// General-purpose flags from the central directory.
    flags: u16,
    /// What the central directory declares.
    pub header: EntryHeader,
}

/// General-purpose flag bits (APPNOTE 4.4.4).
const ENCRYPTED: u16 = 1;
const DATA_DESCRIPTOR: u16 = 1 << 3;
const STRONG_ENCRYPTION: u16 = 1 << 6;
const UTF8_NAME: u16 = 1 << 11;
const MASKED_HEADERS: u16 = 1 << 13;
/// The flags that change how an entry is read: local header and central directory must agree.
const CHECKED_FLAGS: u16 = ENCRYPTED | DATA_DESCRIPTOR | STRONG_ENCRYPTION | UTF8_NAME | MASKED_HEADERS;

const LOCAL_HEADER_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_HEADER_SIGNATURE: u32 = 0x0201_4b50;
const DATA_DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;

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
    /// An entry whose bytes or headers do not hold up.
    #[error("`{wheel}` is damaged or hostile: entry `{name}` {problem}")]
    Damaged { wheel: String, name: String, problem: String },
    #[error("`{wheel}` declares Wheel-Version {version} in `{name}`; lbuild installs only Wheel-Version 1 wheels")]
    WheelVersion { wheel: String, name: String, version: String },
}

impl miette::Diagnostic for WheelError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            WheelError::WheelVersion { .. } => {
                "a newer wheel format changes how it must be installed; pin a version of the package \
                 published as a Wheel-Version 1.x wheel, or use a newer lbuild if there is one"
            }
            _ => {
                "the wheel is damaged or hostile: report it to the package's index and pin another version \
                 meanwhile; if it came from lbuild's cache, run `lbuild cache clean` and try again"
            }
        }))
    }
}

/// No single file in a Lambda package can be larger than the unzipped limit.
const MAX_ENTRY_SIZE: u64 = 262_144_000;

/// An open wheel: its central directory, read and checked, and its small metadata files.
pub(crate) struct WheelReader {
    label: String,
    path: std::path::PathBuf,
    archive: zip::ZipArchive<std::io::BufReader<std::fs::File>>,
}

impl WheelReader {
    pub fn open(path: &std::path::Path, label: &str) -> Result<WheelReader, WheelError> {
        let invalid = |message: String| WheelError::Invalid { wheel: label.to_string(), message };
        let file = std::fs::File::open(path).map_err(|err| invalid(format!("{}: {err}", path.display())))?;
        // The zip crate reads the central directory in many small pieces: buffer them.
        let archive = zip::ZipArchive::new(std::io::BufReader::with_capacity(64 * 1024, file))
            .map_err(|err| invalid(err.to_string()))?;
        Ok(WheelReader { label: label.to_string(), path: path.to_path_buf(), archive })
    }

    /// Every file entry, validated from the central directory alone. Directory entries are
    /// skipped (lbuild writes its own).
    pub fn entries(&mut self) -> Result<Vec<WheelEntry>, WheelError> {
        if self.archive.has_duplicate_names() {
            let name = duplicate_name(&self.path, self.archive.central_directory_start())
                .unwrap_or_else(|| "a member".to_string());
            return Err(WheelError::Duplicate { wheel: self.label.clone(), name });
        }
        let mut entries = Vec::with_capacity(self.archive.len());
        for index in 0..self.archive.len() {
            let wheel = self.label.clone();
            let file = self
                .archive
                .by_index_data(index)
                .map_err(|err| WheelError::Invalid { wheel: wheel.clone(), message: err.to_string() })?;
            let Ok(name) = std::str::from_utf8(file.name_raw()) else {
                let name = String::from_utf8_lossy(file.name_raw()).into_owned();
                return Err(WheelError::UnsafePath { wheel, name, why: "the name is not UTF-8" });
            };
            let name = name.to_string();
            if name.ends_with('/') {
                continue;
            }
            if let Some(why) = unsafe_path(&name) {
                return Err(WheelError::UnsafePath { wheel, name, why });
            }
            if file.is_symlink() {
                return Err(WheelError::UnsafePath { wheel, name, why: "symbolic links are not allowed in wheels" });
            }
            let flags = file.flags().as_u16();
            if flags & (ENCRYPTED | STRONG_ENCRYPTION | MASKED_HEADERS) != 0 {
                let problem = "is encrypted; wheels are never encrypted, and lbuild cannot check such an entry";
                return Err(WheelError::Damaged { wheel, name, problem: problem.to_string() });
            }
            let method = match file.compression() {
                zip::CompressionMethod::Stored => Method::Stored,
                zip::CompressionMethod::Deflated => Method::Deflated,
                other => return Err(WheelError::Compression { wheel, name, method: format!("{other:?}") }),
            };
            if file.size() > MAX_ENTRY_SIZE || file.compressed_size() > MAX_ENTRY_SIZE {
                return Err(WheelError::TooLarge { wheel, name, size: file.size().max(file.compressed_size()) });
            }
            if method == Method::Stored && file.size() != file.compressed_size() {
                let problem = format!(
                    "is stored uncompressed, yet the central directory declares {} bytes stored for {} bytes",
                    file.compressed_size(),
                    file.size()
                );
                return Err(WheelError::Damaged { wheel, name, problem });
            }
            entries.push(WheelEntry {
                header_start: file.header_start(),
                flags,
                header: EntryHeader {
                    method,
                    crc32: file.crc32(),
                    compressed_size: file.compressed_size(),
                    size: file.size(),
                    executable: file.unix_mode().is_some_and(|mode| mode & 0o111 != 0),
                },
                name,
            });
        }
        Ok(entries)
    }

    /// The `.dist-info` directory of `project`.
    pub fn dist_info(&self, project: &str) -> Result<String, WheelError> {
        let names = || self.archive.file_names_raw().filter_map(|name| std::str::from_utf8(name).ok());
        match dist_info_dir(names(), project) {
            Ok(Some(dir)) => {
                // Installers refuse a wheel that carries another project's metadata too: it
                // would make `importlib.metadata` report a package that is not installed.
                let others: std::collections::BTreeSet<&str> = names()
                    .filter_map(|name| name.split_once('/').map(|(top, _)| top))
                    .filter(|top| top.ends_with(".dist-info") && *top != dir)
                    .collect();
                if let Some(other) = others.first() {
                    return Err(WheelError::Damaged {
                        wheel: self.label.clone(),
                        name: format!("{other}/"),
                        problem: format!("is a second `.dist-info` directory beside `{dir}/`; a wheel holds one"),
                    });
                }
                Ok(dir)
            }
            Ok(None) => Err(WheelError::Damaged {
                wheel: self.label.clone(),
                name: format!("{}-*.dist-info/", crate::python::wheel_name::normalize_name(project).replace('-', "_")),
                problem: "is missing: every wheel has a `.dist-info` directory for its project".to_string(),
            }),
            Err(message) => Err(WheelError::Invalid { wheel: self.label.clone(), message }),
        }
    }

    /// The `Wheel-Version` of `{dist_info}/WHEEL` as (major, minor); refused unless the major
    /// is 1, as the wheel specification requires of installers.
    pub fn wheel_version(&mut self, dist_info: &str) -> Result<(u32, u32), WheelError> {
        let name = format!("{dist_info}/WHEEL");
        let bytes = self.read_member(&name)?;
        match crate::python::metadata::wheel_version(&bytes) {
            Ok((1, minor)) => Ok((1, minor)),
            Ok((major, minor)) => {
                Err(WheelError::WheelVersion { wheel: self.label.clone(), name, version: format!("{major}.{minor}") })
            }
            Err(crate::python::metadata::MetadataError::MissingField(field)) => {
                Err(WheelError::Damaged { wheel: self.label.clone(), name, problem: format!("has no `{field}` field") })
            }
            Err(err) => Err(WheelError::Damaged { wheel: self.label.clone(), name, problem: err.to_string() }),
        }
    }

    /// The bytes of a small member (METADATA, WHEEL), at most [`MAX_METADATA_SIZE`] of them.
    pub fn read_member(&mut self, name: &str) -> Result<Vec<u8>, WheelError> {
        let wheel = self.label.clone();
        let Some(index) = self.archive.index_for_name(name) else {
            let problem = "is missing: every wheel has one".to_string();
            return Err(WheelError::Damaged { wheel, name: name.to_string(), problem });
        };
        read_bounded(&mut self.archive, index).map_err(|err| match err {
            ZipReadError::TooLarge { size, .. } => WheelError::Damaged {
                wheel,
                name: name.to_string(),
                problem: format!("is at least {size} bytes, over lbuild's limit of {MAX_METADATA_SIZE} for metadata"),
            },
            ZipReadError::Invalid(message) => WheelError::Damaged { wheel, name: name.to_string(), problem: message },
            ZipReadError::NoMetadata => {
                WheelError::Damaged { wheel, name: name.to_string(), problem: "is missing".to_string() }
            }
        })
    }
}

/// The first name the central directory at `start` holds twice, read directly (the zip crate
/// keeps one entry per name, so it cannot say which).
fn duplicate_name(path: &std::path::Path, start: u64) -> Option<String> {
    let mut file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    file.seek(std::io::SeekFrom::Start(start)).ok()?;
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut fixed = [0u8; 46];
        file.read_exact(&mut fixed).ok()?;
        if u32::from_le_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]) != CENTRAL_HEADER_SIGNATURE {
            return None;
        }
        let length = |at: usize| usize::from(u16::from_le_bytes([fixed[at], fixed[at + 1]]));
        let mut name = vec![0u8; length(28)];
        file.read_exact(&mut name).ok()?;
        file.seek_relative((length(30) + length(32)) as i64).ok()?;
        let name = String::from_utf8_lossy(&name).into_owned();
        if !seen.insert(name.clone()) {
            return Some(name);
        }
    }
}

/// Why copying an entry failed: the wheel, or the zip being written.
#[derive(Debug)]
pub(crate) enum CopyError {
    Wheel(WheelError),
    Write(std::io::Error),
}

/// A wheel opened to copy entries out of it. Each copy checks the entry on the way: its local
/// header against the central directory, and its data, inflated as it streams past (into a
/// small buffer, never kept), against the declared size and CRC-32.
pub(crate) struct WheelData {
    label: String,
    /// The file's identity (path, inode, length, modification time), for [`verified`]; `None` when
    /// unknown, and then every entry is inflated.
    identity: Option<u64>,
    /// Local header offsets of entries whose data an earlier build checked in these exact bytes
    /// (the caller knows the file's sha256): copied without inflating them again.
    checked_before: std::sync::Arc<std::collections::HashSet<u64>>,
    /// Offsets of entries whose data this reader inflated and found as declared.
    checked_now: Vec<u64>,
    reader: std::io::BufReader<std::fs::File>,
    /// Where `reader` is, when known.
    position: Option<u64>,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl WheelData {
    pub fn open(
        path: &std::path::Path,
        label: &str,
        checked_before: std::sync::Arc<std::collections::HashSet<u64>>,
    ) -> Result<WheelData, WheelError> {
        let file = std::fs::File::open(path).map_err(|err| WheelError::Invalid {
            wheel: label.to_string(),
            message: format!("{}: {err}", path.display()),
        })?;
        let identity = file.metadata().ok().and_then(|meta| {
            use std::hash::{Hash, Hasher};
            let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            #[cfg(unix)]
            std::os::unix::fs::MetadataExt::ino(&meta).hash(&mut hasher);
            (path, meta.len(), modified).hash(&mut hasher);
            Some(hasher.finish())
        });
        Ok(WheelData {
            label: label.to_string(),
            identity,
            checked_before,
            checked_now: Vec::new(),
            reader: std::io::BufReader::with_capacity(64 * 1024, file),
            position: None,
            input: vec![0; 64 * 1024],
            output: vec![0; 64 * 1024],
        })
    }

    /// Copy the compressed bytes of `entry` to `out` as they are, checking them as they pass.
    /// Returns the number of bytes copied (the declared compressed size).
    pub fn copy_verified(&mut self, entry: &WheelEntry, out: &mut impl std::io::Write) -> Result<u64, CopyError> {
        let WheelData { label, identity, checked_before, checked_now, reader, position, input, output } = self;
        let damaged = |problem: String| {
            CopyError::Wheel(WheelError::Damaged { wheel: label.clone(), name: entry.name.clone(), problem })
        };
        let read_error = |err: std::io::Error| {
            if err.kind() == std::io::ErrorKind::UnexpectedEof {
                damaged("is cut short: the wheel ends inside it".to_string())
            } else {
                CopyError::Wheel(WheelError::Invalid {
                    wheel: label.clone(),
                    message: format!("reading `{}`: {err}", entry.name),
                })
            }
        };
        // Entries are mostly copied in the order they are stored: keep the buffer when we can.
        match position.take() {
            Some(at) if at <= entry.header_start && entry.header_start - at < 1 << 30 => {
                reader.seek_relative((entry.header_start - at) as i64).map_err(read_error)?
            }
            _ => {
                reader.seek(std::io::SeekFrom::Start(entry.header_start)).map_err(read_error)?;
            }
        }
        let central = &entry.header;

        let mut fixed = [0u8; 30];
        reader.read_exact(&mut fixed).map_err(read_error)?;
        let u16_at = |at: usize| u16::from_le_bytes([fixed[at], fixed[at + 1]]);
        let u32_at = |at: usize| u32::from_le_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]]);
        if u32_at(0) != LOCAL_HEADER_SIGNATURE {
            return Err(damaged(format!("has no local header at offset {}", entry.header_start)));
        }
        let (flags, method, crc32) = (u16_at(6), u16_at(8), u32_at(14));
        let (mut compressed_size, mut size) = (u64::from(u32_at(18)), u64::from(u32_at(22)));
        let mut variable = vec![0u8; usize::from(u16_at(26)) + usize::from(u16_at(28))];
        reader.read_exact(&mut variable).map_err(read_error)?;
        let (local_name, extra) = variable.split_at(usize::from(u16_at(26)));
        if local_name != entry.name.as_bytes() {
            let local = String::from_utf8_lossy(local_name);
            return Err(damaged(format!("is named `{local}` in its local header")));
        }
        if method != central.method.code() {
            return Err(damaged(format!(
                "has compression method {method} in its local header but {} in the central directory",
                central.method.code()
            )));
        }
        if flags & CHECKED_FLAGS != entry.flags & CHECKED_FLAGS {
            return Err(damaged(format!(
                "has flags {:#06x} in its local header but {:#06x} in the central directory",
                flags & CHECKED_FLAGS,
                entry.flags & CHECKED_FLAGS
            )));
        }
        zip64_sizes(extra, &mut size, &mut compressed_size);
        let descriptor = entry.flags & DATA_DESCRIPTOR != 0;
        // With a data descriptor the local header may leave these zero; the descriptor and the
        // data itself are checked below instead.
        if !descriptor && (crc32, compressed_size, size) != (central.crc32, central.compressed_size, central.size) {
            return Err(damaged(format!(
                "has CRC-32 {crc32:08x}, {compressed_size} bytes compressed and {size} bytes in its local header, \
                 but CRC-32 {:08x}, {} and {} in the central directory",
                central.crc32, central.compressed_size, central.size
            )));
        }

        // Data already inflated and found as declared (the same wheel in another zip of this
        // build) is copied without inflating it again.
        let key = identity.map(|identity| (identity, entry.header_start, central.crc32, central.compressed_size));
        let known = checked_before.contains(&entry.header_start) || key.is_some_and(|key| verified().contains(&key));
        let mut hasher = crc32fast::Hasher::new();
        let mut inflater = (central.method == Method::Deflated && !known).then(|| flate2::Decompress::new(false));
        let mut ended = false;
        let mut remaining = central.compressed_size;
        while remaining > 0 {
            let want = remaining.min(input.len() as u64) as usize;
            let read = reader.read(&mut input[..want]).map_err(read_error)?;
            if read == 0 {
                return Err(damaged(format!("is cut short: the wheel ends {remaining} bytes before its data does")));
            }
            remaining -= read as u64;
            let chunk = &input[..read];
            out.write_all(chunk).map_err(CopyError::Write)?;
            match &mut inflater {
                None if known => {}
                None => hasher.update(chunk),
                Some(_) if ended => {
                    return Err(damaged("has bytes after the end of its deflate stream".to_string()));
                }
                Some(inflater) => {
                    ended = inflate(inflater, chunk, output, &mut hasher, central.size, false).map_err(damaged)?;
                }
            }
        }
        let inflated = match &mut inflater {
            None if known => central.size,
            None => central.compressed_size,
            Some(inflater) => {
                if !ended && !inflate(inflater, &[], output, &mut hasher, central.size, true).map_err(damaged)? {
                    return Err(damaged(
                        "ends inside its deflate stream: its data is cut short or corrupt".to_string(),
                    ));
                }
                inflater.total_out()
            }
        };
        if inflated != central.size {
            return Err(damaged(format!("inflates to {inflated} bytes, not the {} its headers declare", central.size)));
        }
        let crc = if known { central.crc32 } else { hasher.finalize() };
        if crc != central.crc32 {
            return Err(damaged(format!("has CRC-32 {crc:08x}, not the {:08x} its headers declare", central.crc32)));
        }
        let mut end = entry.header_start + 30 + variable.len() as u64 + central.compressed_size;
        if descriptor {
            let mut tail = [0u8; 24];
            let mut filled = 0;
            while filled < tail.len() {
                match reader.read(&mut tail[filled..]).map_err(read_error)? {
                    0 => break,
                    n => filled += n,
                }
            }
            end += filled as u64;
            if !descriptor_agrees(&tail[..filled], central) {
                return Err(damaged("has a data descriptor that disagrees with the central directory".to_string()));
            }
        }
        *position = Some(end);
        if !known {
            checked_now.push(entry.header_start);
            if let Some(key) = key {
                verified().insert(key);
            }
        }
        Ok(central.compressed_size)
    }

    /// The local header offsets of the entries this reader inflated and found as declared.
    pub fn checked_now(&self) -> &[u64] {
        &self.checked_now
    }
}

/// Wheel entries whose data this process inflated and found as declared, by (wheel file
/// identity, local header offset, CRC-32, compressed size).
type VerifiedKey = (u64, u64, u32, u64);

fn verified() -> std::sync::MutexGuard<'static, std::collections::HashSet<VerifiedKey>> {
    static VERIFIED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<VerifiedKey>>> =
        std::sync::OnceLock::new();
    VERIFIED.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Feed compressed bytes to `inflater`, hashing what comes out, and refuse as soon as the
/// output passes `declared` bytes (so a small entry that inflates to gigabytes costs a few
/// buffers of work). Returns whether the deflate stream ended; `finish` drains the last output.
fn inflate(
    inflater: &mut flate2::Decompress,
    mut chunk: &[u8],
    output: &mut [u8],
    hasher: &mut crc32fast::Hasher,
    declared: u64,
    finish: bool,
) -> Result<bool, String> {
    let flush = if finish { flate2::FlushDecompress::Finish } else { flate2::FlushDecompress::None };
    loop {
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let status =
            inflater.decompress(chunk, output, flush).map_err(|err| format!("is not valid deflate data ({err})"))?;
        let consumed = (inflater.total_in() - before_in) as usize;
        let produced = (inflater.total_out() - before_out) as usize;
        hasher.update(&output[..produced]);
        if inflater.total_out() > declared {
            return Err(format!("inflates to more than the {declared} bytes its headers declare"));
        }
        chunk = &chunk[consumed..];
        if status == flate2::Status::StreamEnd {
            if !chunk.is_empty() {
                return Err("has bytes after the end of its deflate stream".to_string());
            }
            return Ok(true);
        }
        // No progress: it needs more input. Input used up and output not full: likewise.
        if (consumed == 0 && produced == 0) || (chunk.is_empty() && produced < output.len()) {
            return Ok(false);
        }
    }
}

/// Take the sizes from a Zip64 extra field (id 1) where the local header says 0xFFFFFFFF.
fn zip64_sizes(mut extra: &[u8], size: &mut u64, compressed_size: &mut u64) {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let length = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let Some(data) = extra.get(4..4 + length) else { return };
        if id == 1 {
            let mut fields = data.chunks_exact(8).map(|field| u64::from_le_bytes(field.try_into().expect("8 bytes")));
            for value in [&mut *size, &mut *compressed_size] {
                if *value == u64::from(u32::MAX)
                    && let Some(field) = fields.next()
                {
                    *value = field;
                }
            }
            return;
        }
        extra = &extra[4 + length..];
    }
}

/// Whether the bytes after an entry's data hold a data descriptor (with or without its
/// signature, with 4- or 8-byte sizes) that agrees with the central directory.
fn descriptor_agrees(tail: &[u8], central: &EntryHeader) -> bool {
    let wanted = (central.crc32, central.compressed_size, central.size);
    let read = |at: usize, width: usize| -> Option<u64> {
        let bytes = tail.get(at..at + width)?;
        Some(bytes.iter().rev().fold(0u64, |value, byte| (value << 8) | u64::from(*byte)))
    };
    let signed = read(0, 4) == Some(u64::from(DATA_DESCRIPTOR_SIGNATURE));
    let starts = if signed { &[0usize, 4][..] } else { &[0usize][..] };
    starts.iter().any(|&start| {
        [4usize, 8].iter().any(|&width| {
            let crc = read(start, 4).map(|crc| crc as u32);
            let compressed = read(start + 4, width);
            let size = read(start + 4 + width, width);
            (crc, compressed, size) == (Some(wanted.0), Some(wanted.1), Some(wanted.2))
        })
    })
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
    let (year, month, day) = crate::date::civil_from_days(days);
    let time = ((seconds / 3600) << 11) | (((seconds % 3600) / 60) << 5) | ((seconds % 60) / 2);
    let date = (((year - 1980) as u64) << 9) | (u64::from(month) << 5) | u64::from(day);
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

/// Call `f` with the name, executable bit and inflated bytes of every file member of the zip at
/// `path`, in central-directory order (directories skipped). Refuses an unsafe name, a symbolic
/// link, an encrypted member, a member over `max_entry` bytes, and data that does not inflate to
/// its declared size. `label` names the archive in errors. Used for sdists that are zips and for
/// the wheels lbuild builds (to hash and rewrite them).
pub(crate) fn for_each_inflated(
    path: &std::path::Path,
    label: &str,
    max_entry: u64,
    mut f: impl FnMut(&str, bool, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|err| format!("{label}: {}: {err}", path.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::with_capacity(64 * 1024, file))
        .map_err(|err| format!("{label} is not a readable zip: {err}"))?;
    if archive.has_duplicate_names() {
        return Err(format!("{label} holds a member name twice"));
    }
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|err| format!("{label}: {err}"))?;
        let name = std::str::from_utf8(entry.name_raw())
            .map_err(|_| format!("{label} has a member whose name is not UTF-8"))?
            .to_string();
        if name.ends_with('/') {
            continue;
        }
        if let Some(why) = unsafe_path(&name) {
            return Err(format!("{label}: member `{}` is unsafe ({why})", name.escape_debug()));
        }
        if entry.is_symlink() {
            return Err(format!("{label}: member `{}` is a symbolic link", name.escape_debug()));
        }
        if entry.encrypted() {
            return Err(format!("{label}: member `{}` is encrypted", name.escape_debug()));
        }
        if entry.size() > max_entry {
            return Err(format!("{label}: member `{}` is {} bytes, over the limit of {max_entry}", name, entry.size()));
        }
        let declared = entry.size();
        let executable = entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0);
        let mut bytes = Vec::with_capacity(declared as usize);
        (&mut entry)
            .take(max_entry + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("{label}: member `{}`: {err}", name.escape_debug()))?;
        if bytes.len() as u64 != declared {
            return Err(format!(
                "{label}: member `{}` inflates to {} bytes, not the {declared} declared",
                name.escape_debug(),
                bytes.len()
            ));
        }
        f(&name, executable, &bytes)?;
    }
    Ok(())
}

/// Unpack the zip at `path` (one lbuild wrote: a function or layer zip) into the directory
/// `dest`, as Lambda unpacks it into `/var/task` or `/opt`: a file already there is replaced
/// (a later layer over an earlier one). Every name is checked again, although lbuild wrote
/// them: no absolute path, no `..`, nothing [`entry_name_problem`] refuses, no symbolic link.
/// Returns how many files were written; `label` names the zip in errors.
pub(crate) fn extract(path: &std::path::Path, label: &str, dest: &std::path::Path) -> Result<usize, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut written = 0;
    for_each_inflated(path, label, MAX_ENTRY_SIZE, |name, executable, bytes| {
        if let Some(why) = entry_name_problem(name) {
            return Err(format!("{label}: member `{}` cannot be unpacked: {why}", name.escape_debug()));
        }
        let target = dest.join(name);
        let io = |err: std::io::Error| format!("cannot unpack `{name}` of {label} into `{}`: {err}", dest.display());
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        // Replaced, never written through: what is there is removed first.
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                return Err(format!("{label}: member `{name}` is a file where another zip has a directory"));
            }
            Ok(_) => std::fs::remove_file(&target).map_err(io)?,
            Err(_) => {}
        }
        let mode = if executable { 0o755 } else { 0o644 };
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&target).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        written += 1;
        Ok(())
    })?;
    Ok(written)
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
    fn extract_unpacks_over_what_is_there_and_refuses_unsafe_names() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, entries: &[(&str, &[u8], bool)]| {
            let mut zip = DeterministicZip::new(Cursor::new(Vec::new()), 0);
            for (entry, bytes, executable) in entries {
                let (header, data) = deflate(bytes, *executable);
                zip.add_raw(entry, &header, |out| std::io::Write::write_all(out, &data).map(|()| data.len() as u64))
                    .unwrap();
            }
            let path = dir.path().join(name);
            std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
            path
        };
        let first = write("a.zip", &[("python/m.py", b"A = 1\n", false), ("python/bin/tool", b"#!/bin/sh\n", true)]);
        let second = write("b.zip", &[("python/m.py", b"A = 2\n", false)]);
        let dest = dir.path().join("opt");
        assert_eq!(extract(&first, "layer a", &dest).unwrap(), 2);
        assert_eq!(extract(&second, "layer b", &dest).unwrap(), 1);
        assert_eq!(std::fs::read(dest.join("python/m.py")).unwrap(), b"A = 2\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(dest.join("python/bin/tool")).unwrap().permissions().mode() & 0o777, 0o755);

        // Names lbuild's writer would refuse, written by the zip crate.
        for bad in ["../escape.py", "/abs.py", "a/../../b.py"] {
            let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
            zip.start_file(bad, zip::write::SimpleFileOptions::default()).unwrap();
            std::io::Write::write_all(&mut zip, b"x").unwrap();
            let path = dir.path().join("bad.zip");
            std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
            let err = extract(&path, "the zip", &dir.path().join("task")).unwrap_err();
            assert!(err.contains("unsafe") || err.contains("cannot be unpacked"), "{bad}: {err}");
        }
        assert!(!dir.path().join("escape.py").exists());
    }

    /// A small valid wheel: a deflated module, a stored file, METADATA and WHEEL.
    fn valid_wheel() -> Vec<u8> {
        let mut zip = DeterministicZip::new(Cursor::new(Vec::new()), 0);
        let members: [(&str, &[u8]); 4] = [
            ("pkg/__init__.py", &b"print('hello')\n".repeat(40)),
            ("pkg/data.bin", b"\x00\x01"),
            ("pkg-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Dist: dep>=1\n"),
            ("pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"),
        ];
        for (name, bytes) in members {
            let (header, data) = deflate(bytes, false);
            zip.add_raw(name, &header, |out| std::io::Write::write_all(out, &data).map(|()| data.len() as u64))
                .unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Read a wheel every way lbuild does; errors are fine, panics are not.
    fn read_every_way(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let _ = read_wheel_metadata(Cursor::new(bytes), "pkg");
        let file = tempfile::NamedTempFile::new().unwrap();
        fs_err::write(file.path(), bytes).unwrap();
        let mut reader = WheelReader::open(file.path(), "pkg.whl").map_err(|err| err.to_string())?;
        let entries = reader.entries().map_err(|err| err.to_string())?;
        let dist_info = reader.dist_info("pkg").map_err(|err| err.to_string())?;
        reader.wheel_version(&dist_info).map_err(|err| err.to_string())?;
        reader.read_member(&format!("{dist_info}/METADATA")).map_err(|err| err.to_string())?;
        let mut data = WheelData::open(file.path(), "pkg.whl", Default::default()).map_err(|err| err.to_string())?;
        let mut copies = Vec::new();
        for entry in &entries {
            let mut out = Vec::new();
            data.copy_verified(entry, &mut out).map_err(|err| match err {
                CopyError::Wheel(err) => err.to_string(),
                CopyError::Write(err) => err.to_string(),
            })?;
            copies.push(out);
        }
        Ok(copies)
    }

    #[test]
    fn a_valid_wheel_reads_and_copies_whole() {
        let bytes = valid_wheel();
        let copies = read_every_way(&bytes).unwrap();
        assert_eq!(copies.len(), 4);
        let metadata = read_wheel_metadata(Cursor::new(&bytes), "pkg").unwrap();
        assert!(metadata.starts_with(b"Metadata-Version: 2.1"));
        // Copies, out of order, are the compressed bytes as stored.
        let file = tempfile::NamedTempFile::new().unwrap();
        fs_err::write(file.path(), &bytes).unwrap();
        let entries = WheelReader::open(file.path(), "pkg.whl").unwrap().entries().unwrap();
        let mut data = WheelData::open(file.path(), "pkg.whl", Default::default()).unwrap();
        for entry in entries.iter().rev().chain(&entries) {
            let mut out = Vec::new();
            assert_eq!(data.copy_verified(entry, &mut out).unwrap(), entry.header.compressed_size);
            assert_eq!(out.len() as u64, entry.header.compressed_size);
        }
    }

    #[test]
    fn an_entry_verified_in_one_file_is_checked_again_in_another() {
        let bytes = valid_wheel();
        read_every_way(&bytes).unwrap();
        // The same layout and headers, data damaged: same offsets, CRC-32 and sizes as the
        // entries verified above, in another file.
        let mut damaged = bytes.clone();
        let start = 30 + "pkg/__init__.py".len();
        damaged[start + 3] ^= 0x55;
        let err = read_every_way(&damaged).unwrap_err();
        assert!(err.contains("pkg/__init__.py"), "{err}");
    }

    #[test]
    fn a_bomb_stops_inflating_at_the_declared_size() {
        // 64 MiB of zeros declared as 1 KiB.
        let zeros = vec![0u8; 64 << 20];
        let (mut header, data) = deflate(&zeros, false);
        header.size = 1024;
        let mut zip = DeterministicZip::new(Cursor::new(Vec::new()), 0);
        zip.add_raw("pkg/bomb.bin", &header, |out| std::io::Write::write_all(out, &data).map(|()| data.len() as u64))
            .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let file = tempfile::NamedTempFile::new().unwrap();
        fs_err::write(file.path(), &bytes).unwrap();
        let entries = WheelReader::open(file.path(), "pkg.whl").unwrap().entries().unwrap();
        let mut data = WheelData::open(file.path(), "pkg.whl", Default::default()).unwrap();
        let mut out = Vec::new();
        let Err(CopyError::Wheel(err)) = data.copy_verified(&entries[0], &mut out) else {
            panic!("the bomb was copied")
        };
        assert!(err.to_string().contains("inflates to more than the 1024 bytes"), "{err}");
        // Refused within the first chunk of input.
        assert!(out.len() <= 64 * 1024, "{} bytes copied", out.len());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = read_every_way(&bytes);
            // Random bytes behind a valid end record make the zip crate parse further.
            let mut framed = bytes.clone();
            framed.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
            framed.extend_from_slice(&(bytes.len().min(46) as u32).to_le_bytes());
            framed.extend_from_slice(&(bytes.len().saturating_sub(46) as u32).to_le_bytes());
            framed.extend_from_slice(&[0, 0]);
            let _ = read_every_way(&framed);
        }

        #[test]
        fn mutated_wheels_never_panic(
            changes in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 1..6),
            cut in proptest::option::of(proptest::prelude::any::<usize>()),
        ) {
            let mut bytes = valid_wheel();
            for (at, byte) in changes {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut % (bytes.len() + 1));
            }
            // Whatever survives the checks copies exactly its declared bytes.
            if let Ok(copies) = read_every_way(&bytes) {
                proptest::prop_assert!(copies.iter().all(|copy| copy.len() <= bytes.len()));
            }
        }
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
