//! Assembling function and layer zips from the lock: which files go where, and writing them.
//!
//! A [`Plan`] is the sorted list of entries of one zip: the function's source tree, its
//! `vendor/` directory merged into the root (Chalice-style), and the files of every wheel it
//! installs, mapped as an installer would (`.data/purelib` and `.data/platlib` to the root,
//! `.data/data` to the root, scripts and headers dropped, `.dist-info` kept as it is). Layers put
//! everything under `python/`. Planning reads the wheels' central directories and their small
//! `WHEEL` and `METADATA` files, and checks them against the lock (see `check_wheel`).
//!
//! Writing copies each wheel entry's compressed bytes unchanged and compresses only source
//! files, through [`DeterministicZip`]; each wheel entry is checked as it is copied (local
//! header, inflated size and CRC-32, see [`WheelData`]), and the result goes to a temporary
//! file that is renamed into place once complete.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use crate::lockfile::requirement_name;
use crate::output::warn_user;
use crate::python::metadata::{self, CoreMetadata};
use crate::python::wheel_name::normalize_name;
use crate::zipio::{CopyError, DeterministicZip, WheelData, WheelEntry, WheelError, WheelReader, deflate};

/// Source files and directories never copied into a function zip.
pub(crate) const DEFAULT_EXCLUDES: &[&str] = &[
    "**/__pycache__/**",
    "**/*.pyc",
    "**/*.pyo",
    "**/.git/**",
    "**/.hg/**",
    "**/.svn/**",
    "**/.DS_Store",
    "**/.venv/**",
    "**/.mypy_cache/**",
    "**/.pytest_cache/**",
    "**/.ruff_cache/**",
    "**/.tox/**",
    "**/.lbuild-tmp-*",
];

/// A wheel to install into a zip, with what the lock says about it, to check the wheel against.
#[derive(Debug, Clone)]
pub(crate) struct WheelInput {
    /// The locked name.
    pub package: String,
    /// The locked version.
    pub version: String,
    pub filename: String,
    pub path: PathBuf,
    /// The dependency edges the lock records for it on the zip's target.
    pub dependencies: Vec<String>,
    /// The core metadata the lock was resolved from, when the cache still holds it.
    pub resolved_metadata: Option<Vec<u8>>,
}

/// A function's own files.
#[derive(Debug, Clone)]
pub(crate) struct SourceInput {
    pub root: PathBuf,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
enum EntrySource {
    Wheel { wheel: usize, entry: WheelEntry },
    File { path: PathBuf, size: u64, executable: bool },
}

#[derive(Debug, Clone)]
struct Entry {
    source: EntrySource,
    /// The package it belongs to, or `None` for the function's own files.
    package: Option<String>,
}

/// Everything one zip will hold.
#[derive(Debug)]
pub(crate) struct Plan {
    wheels: Vec<WheelInput>,
    entries: BTreeMap<String, Entry>,
}

/// Errors while planning or writing.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum AssembleError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wheel(#[from] WheelError),
    #[error("`{package}`: the wheel `{wheel}` does not match the metadata the lock was resolved from: {what}")]
    #[diagnostic(help(
        "the index served metadata (a PEP 658 `.metadata` file or its JSON API) that does not match the wheel; \
         report it to the index's owner. `lbuild cache clean` and `lbuild lock` resolve again from what the \
         index serves now"
    ))]
    Metadata { package: String, wheel: String, what: String },
    #[error("{0}")]
    Io(String),
}

fn io_error(context: impl std::fmt::Display, err: impl std::fmt::Display) -> AssembleError {
    AssembleError::Io(format!("{context}: {err}"))
}

fn glob_set(patterns: &[String]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        // Patterns were validated when the manifest was read.
        if let Ok(glob) = Glob::new(pattern) {
            builder.add(glob);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// Where a wheel member goes, relative to the install root; `None` to drop it.
fn install_path(name: &str, data_dir: Option<&str>) -> Option<String> {
    if let Some(data_dir) = data_dir
        && let Some(rest) = name.strip_prefix(data_dir).and_then(|rest| rest.strip_prefix('/'))
    {
        let (scheme, path) = rest.split_once('/')?;
        return match scheme {
            "purelib" | "platlib" | "data" if !path.is_empty() => Some(path.to_string()),
            // Scripts are not on Lambda's PATH and headers are for compilers.
            _ => None,
        };
    }
    Some(name.to_string())
}

impl Plan {
    /// Plan a zip: `prefix` is `""` for functions and `"python/"` for layers.
    pub fn new(
        prefix: &str,
        source: &[SourceFile],
        wheels: Vec<WheelInput>,
        strip: &[String],
    ) -> Result<Plan, AssembleError> {
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        for file in source {
            let entry_source =
                EntrySource::File { path: file.path.clone(), size: file.size, executable: file.executable };
            insert(&mut entries, format!("{prefix}{}", file.name), Entry { source: entry_source, package: None });
        }
        let strip = glob_set(strip);
        for (index, wheel) in wheels.iter().enumerate() {
            let mut reader = WheelReader::open(&wheel.path, &wheel.filename)?;
            let members = reader.entries()?;
            let dist_info = reader.dist_info(&wheel.package)?;
            check_wheel(&mut reader, wheel, &dist_info)?;
            let data_dir = format!("{}.data", dist_info.trim_end_matches(".dist-info"));
            for entry in members {
                let Some(path) = install_path(&entry.name, Some(&data_dir)) else { continue };
                if crate::zipio::unsafe_path(&path).is_some() {
                    continue;
                }
                let in_dist_info = path.split('/').next().is_some_and(|top| top.ends_with(".dist-info"));
                if !in_dist_info && strip.is_match(&path) {
                    continue;
                }
                let name = format!("{prefix}{path}");
                let new =
                    Entry { source: EntrySource::Wheel { wheel: index, entry }, package: Some(wheel.package.clone()) };
                insert(&mut entries, name, new);
            }
        }
        Ok(Plan { wheels, entries })
    }

    /// Total bytes once unzipped.
    pub fn unzipped_size(&self) -> u64 {
        self.entries.values().map(entry_size).sum()
    }

    /// Unzipped bytes per package (`None` = the function's own files), largest first.
    pub fn sizes_by_package(&self) -> Vec<(String, u64)> {
        let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
        for entry in self.entries.values() {
            let key = entry.package.clone().unwrap_or_else(|| "(function source)".to_string());
            *sizes.entry(key).or_default() += entry_size(entry);
        }
        let mut sizes: Vec<_> = sizes.into_iter().collect();
        sizes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        sizes
    }

    /// Write the zip to `out`, returning (bytes written, sha256 hex).
    pub fn write(&self, out: impl Write, timestamp: u64) -> Result<(u64, [u8; 32]), AssembleError> {
        let mut readers: BTreeMap<usize, WheelData> = BTreeMap::new();
        let hashing =
            HashingWriter { inner: BufWriter::with_capacity(1 << 20, out), hasher: Sha256::new(), written: 0 };
        let mut zip = DeterministicZip::new(hashing, timestamp);
        let mut directories: BTreeSet<String> = BTreeSet::new();
        for (name, entry) in &self.entries {
            // Parent directories first, each once, in sorted order with the files.
            let mut parents = Vec::new();
            let mut rest = name.as_str();
            while let Some((parent, _)) = rest.rsplit_once('/') {
                parents.push(format!("{parent}/"));
                rest = parent;
            }
            for directory in parents.into_iter().rev() {
                if directories.insert(directory.clone()) {
                    zip.add_directory(&directory).map_err(|err| io_error(&directory, err))?;
                }
            }
            match &entry.source {
                EntrySource::Wheel { wheel, entry } => {
                    if !readers.contains_key(wheel) {
                        let input = &self.wheels[*wheel];
                        readers.insert(*wheel, WheelData::open(&input.path, &input.filename)?);
                    }
                    let reader = readers.get_mut(wheel).expect("inserted above");
                    // The entry is checked as it is copied; a damaged one aborts the whole zip.
                    let mut damaged = None;
                    let copied = zip.add_raw(name, &entry.header, |out| match reader.copy_verified(entry, out) {
                        Ok(copied) => Ok(copied),
                        Err(CopyError::Write(err)) => Err(err),
                        Err(CopyError::Wheel(err)) => {
                            damaged = Some(err);
                            Err(std::io::Error::other("damaged wheel entry"))
                        }
                    });
                    if let Some(err) = damaged {
                        return Err(err.into());
                    }
                    copied.map_err(|err| io_error(name, err))?;
                }
                EntrySource::File { path, executable, .. } => {
                    let bytes = fs_err::read(path).map_err(|err| io_error("reading a source file", err))?;
                    let (header, data) = deflate(&bytes, *executable);
                    zip.add_raw(name, &header, |out| out.write_all(&data).map(|()| data.len() as u64))
                        .map_err(|err| io_error(name, err))?;
                }
            }
        }
        let mut hashing = zip.finish().map_err(|err| io_error("finishing the zip", err))?;
        hashing.inner.flush().map_err(|err| io_error("writing the zip", err))?;
        Ok((hashing.written, hashing.hasher.finalize().into()))
    }
}

/// Check a wheel before installing it: a Wheel-Version lbuild knows, and a METADATA that says
/// what the lock says (project, version, the dependencies it records) and, when the cache
/// still holds the metadata the lock was resolved from (often the index's PEP 658 file), the
/// same requirements as that.
fn check_wheel(reader: &mut WheelReader, wheel: &WheelInput, dist_info: &str) -> Result<(), AssembleError> {
    let (_, minor) = reader.wheel_version(dist_info)?;
    if minor > 0 {
        warn_user!(
            "`{}` declares Wheel-Version 1.{minor}, newer than the 1.0 lbuild knows; installing it as 1.0",
            wheel.filename
        );
    }
    let name = format!("{dist_info}/METADATA");
    let bytes = reader.read_member(&name)?;
    let actual = metadata::parse(&bytes).map_err(|err| WheelError::Damaged {
        wheel: wheel.filename.clone(),
        name: name.clone(),
        problem: format!("cannot be read: {err}"),
    })?;
    let mismatch =
        |what: String| AssembleError::Metadata { package: wheel.package.clone(), wheel: wheel.filename.clone(), what };
    if normalize_name(&actual.name) != normalize_name(&wheel.package) {
        return Err(mismatch(format!("its METADATA names the project `{}`, not `{}`", actual.name, wheel.package)));
    }
    let same_version = match pep440_rs::Version::from_str(&wheel.version) {
        Ok(locked) => locked == actual.version,
        Err(_) => false,
    };
    if !same_version {
        return Err(mismatch(format!(
            "its METADATA has version {}, but the lock has {}",
            actual.version, wheel.version
        )));
    }
    let required: BTreeSet<String> =
        actual.requires_dist.iter().map(|requirement| normalize_name(requirement.name.as_ref())).collect();
    for edge in &wheel.dependencies {
        if !required.contains(&normalize_name(requirement_name(edge))) {
            return Err(mismatch(format!("the lock has it depend on `{edge}`, which its METADATA does not require")));
        }
    }
    if let Some(resolved) = wheel.resolved_metadata.as_deref().and_then(|bytes| metadata::parse(bytes).ok()) {
        let requirements = |metadata: &CoreMetadata| -> BTreeSet<String> {
            metadata.requires_dist.iter().map(ToString::to_string).collect()
        };
        let (in_wheel, in_lock) = (requirements(&actual), requirements(&resolved));
        if in_wheel != in_lock {
            let list = |set: Vec<&String>| {
                if set.is_empty() {
                    "nothing".to_string()
                } else {
                    set.iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
                }
            };
            return Err(mismatch(format!(
                "its METADATA requires {} that the resolved metadata does not, and the resolved metadata \
                 requires {} that the wheel does not",
                list(in_wheel.difference(&in_lock).collect()),
                list(in_lock.difference(&in_wheel).collect())
            )));
        }
    }
    Ok(())
}

fn entry_size(entry: &Entry) -> u64 {
    match &entry.source {
        EntrySource::Wheel { entry, .. } => entry.header.size,
        EntrySource::File { size, .. } => *size,
    }
}

/// Insert an entry; the first one to claim a path keeps it (the function's own files first).
fn insert(entries: &mut BTreeMap<String, Entry>, name: String, new: Entry) {
    match entries.get(&name) {
        None => {
            entries.insert(name, new);
        }
        Some(existing) => {
            let same = match (&existing.source, &new.source) {
                (EntrySource::Wheel { entry: a, .. }, EntrySource::Wheel { entry: b, .. }) => {
                    a.header.crc32 == b.header.crc32 && a.header.size == b.header.size
                }
                _ => false,
            };
            if !same {
                let owner = |entry: &Entry| entry.package.clone().unwrap_or_else(|| "the function source".to_string());
                warn_user!(
                    "`{name}` is in both {} and {}; keeping the one from {}",
                    owner(existing),
                    owner(&new),
                    owner(existing)
                );
            }
        }
    }
}

/// One file of a function's source tree, as it will appear in the zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFile {
    /// Path in the zip (without any prefix): `vendor/` is merged into the root.
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub executable: bool,
    /// Modification time in nanoseconds, for change detection only (never written).
    pub modified: u128,
}

/// The files of a function's source directory that go into its zip, own files first, then
/// the contents of `vendor/`, each group sorted.
pub(crate) fn source_files(source: &SourceInput) -> Result<Vec<SourceFile>, AssembleError> {
    let include = glob_set(&source.include);
    let mut exclude_patterns: Vec<String> = DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect();
    exclude_patterns.extend(source.exclude.iter().cloned());
    let exclude = glob_set(&exclude_patterns);
    let mut files = Vec::new();
    walk(&source.root, &source.root, &mut files)?;
    files.sort();
    // Own files first, so they win over vendored files of the same name.
    let (vendored, own): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|(relative, _)| relative.starts_with("vendor/"));
    let mut selected = Vec::new();
    for (relative, path) in own.into_iter().chain(vendored) {
        // Match against the path with and without a leading `./`-free root, like .gitignore.
        let excluded = exclude.is_match(&relative) || exclude.is_match(format!("/{relative}"));
        if excluded || (!source.include.is_empty() && !include.is_match(&relative)) {
            continue;
        }
        let name = relative.strip_prefix("vendor/").unwrap_or(&relative).to_string();
        let metadata = fs_err::metadata(&path).map_err(|err| io_error("reading the source tree", err))?;
        #[cfg(unix)]
        let executable = std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o111 != 0;
        #[cfg(not(unix))]
        let executable = false;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |duration| duration.as_nanos());
        selected.push(SourceFile { name, path, size: metadata.len(), executable, modified });
    }
    Ok(selected)
}

/// Every regular file under `dir`, as (path relative to `root` with `/`, absolute path).
/// A symbolic link to a file is copied as the file it points to (as SAM does); a link to a
/// directory is skipped with a warning, so a link cycle cannot recurse forever.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), AssembleError> {
    let entries = fs_err::read_dir(dir).map_err(|err| io_error("reading the source tree", err))?;
    for entry in entries {
        let entry = entry.map_err(|err| io_error(dir.display(), err))?;
        let path = entry.path();
        let is_link = entry.file_type().is_ok_and(|kind| kind.is_symlink());
        let metadata = fs_err::metadata(&path).map_err(|err| io_error("reading the source tree", err))?;
        if metadata.is_dir() && is_link {
            warn_user!("skipping `{}`: lbuild does not follow links to directories", path.display());
        } else if metadata.is_dir() {
            walk(root, &path, out)?;
        } else if metadata.is_file() {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let Some(relative) = relative.to_str() else {
                return Err(AssembleError::Io(format!("`{}` is not a UTF-8 path", path.display())));
            };
            out.push((relative.replace('\\', "/"), path.clone()));
        }
    }
    Ok(())
}

/// A writer that hashes and counts what passes through.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        crash_point(self.written);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Test hook: `LBUILD_TEST_ABORT_AFTER_BYTES=N` aborts the process once a zip has N bytes
/// written, to prove that a crash leaves no half-written zip behind.
fn crash_point(written: u64) {
    static LIMIT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let limit = LIMIT.get_or_init(|| std::env::var("LBUILD_TEST_ABORT_AFTER_BYTES").ok().and_then(|v| v.parse().ok()));
    if limit.is_some_and(|limit| written >= limit) {
        std::process::abort();
    }
}
