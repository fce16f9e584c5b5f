//! Assembling function and layer zips from the lock: which files go where, and writing them.
//!
//! A [`Plan`] is the sorted list of entries of one zip: the files of the member's source
//! directories (selected and merged by `source`, each directory's `vendor/` merged into the root,
//! Chalice-style), and the files of every wheel it installs, mapped as an installer would
//! (`.data/purelib` and `.data/platlib` to the root, `.data/data` to the root, scripts and headers
//! dropped, `.dist-info` kept as it is). Layers put everything, their own source files included,
//! under `python/`. Planning reads the wheels' central directories and their small
//! `WHEEL` and `METADATA` files, and checks them against the lock (see `check_wheel`).
//!
//! Writing copies each wheel entry's compressed bytes unchanged and compresses only source
//! files, through [`DeterministicZip`]; each wheel entry is checked as it is copied (local
//! header, inflated size and CRC-32, see [`WheelData`]), and the result goes to a temporary
//! file that is renamed into place once complete.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::str::FromStr;

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use crate::lockfile::{requirement_extras, requirement_name};
use crate::output::warn_user;
use crate::python::metadata::{self, CoreMetadata};
use crate::python::wheel_name::normalize_name;
use crate::zipio::{
    CopyError, DeterministicZip, WheelData, WheelEntry, WheelError, WheelReader, deflate, entry_name_problem,
};

pub(crate) mod bytecode;
pub(crate) mod handler;
mod source;

pub(crate) use source::{
    Reason, SourceFile, SourceInput, SourceSelection, case_clashes, escaped, merge_sources, shown_path, source_files,
};

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
    /// The wheel's sha256 (the lock's, verified when the file was fetched).
    pub sha256: String,
    /// Local header offsets of entries whose data an earlier build checked in these bytes.
    pub checked: std::sync::Arc<std::collections::HashSet<u64>>,
}

/// A local package to install into a zip, as a wheel of it would: its files (each with its
/// path in the wheel) and its `.dist-info` files, which the caller computed from its project.
#[derive(Debug, Clone)]
pub(crate) struct LocalInput {
    pub package: String,
    pub version: String,
    /// Its directory relative to the workspace root, for messages.
    pub path: String,
    /// (path in the wheel, the file, its size).
    pub files: Vec<(String, PathBuf, u64)>,
    /// (path in the wheel, bytes): METADATA, WHEEL, RECORD, ...
    pub dist_info: Vec<(String, std::sync::Arc<Vec<u8>>)>,
}

/// What [`Plan::write`] wrote.
pub(crate) struct Written {
    pub size: u64,
    pub sha256: [u8; 32],
    /// Per wheel sha256, the local header offsets of the entries whose data this zip checked
    /// for the first time, for the cache to remember.
    /// (sha256, the wheel file, offsets).
    pub checked: Vec<(String, PathBuf, Vec<u64>)>,
}

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
enum EntrySource {
    Wheel {
        wheel: usize,
        entry: WheelEntry,
    },
    File {
        path: PathBuf,
        size: u64,
        executable: bool,
    },
    /// Bytes made by lbuild (a local package's `.dist-info`).
    Bytes(std::sync::Arc<Vec<u8>>),
}

#[derive(Debug, Clone)]
struct Entry {
    source: EntrySource,
    /// The package it belongs to, or `None` for the function's own files.
    package: Option<String>,
    origin: Origin,
}

/// Where an entry of a zip comes from, for messages and `lbuild build --list-files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// One of the member's own files: its source directory as written, and its path there.
    Source { dir: String, path: String },
    /// A file of a source directory's `vendor/`: the directory as written, and the file's path
    /// there (`vendor/x.py`).
    Vendor { dir: String, path: String },
    /// A file of the wheel at this index of the plan's wheels.
    Package(usize),
    /// A file of the local package at this index of the plan's local packages.
    Local(usize),
}

/// Everything one zip will hold.
#[derive(Debug)]
pub(crate) struct Plan {
    wheels: Vec<WheelInput>,
    locals: Vec<LocalInput>,
    entries: BTreeMap<String, Entry>,
    /// What the member's own files are called in size breakdowns.
    own_label: &'static str,
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
    /// A source file lbuild will not take (its name, a link).
    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Source { message: String, help: String },
    /// An entry whose path cannot be extracted safely.
    #[error("{origin} would put `{name}` into the zip, which cannot hold it: {why}")]
    #[diagnostic(help("{help}"))]
    UnsafeName { origin: String, name: String, why: &'static str, help: String },
    /// Two origins claim one path, or one puts a file where the other needs a directory.
    #[error("{first} and {second} both claim `{name}`{what}")]
    #[diagnostic(help(
        "leave one of them out: `exclude` the source file, drop the file from packages with \
         `workspace.strip`, or drop one of the packages"
    ))]
    Collision { name: String, first: String, second: String, what: &'static str },
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
    ///
    /// The plan is where every entry name is checked: each is a clean relative path
    /// ([`entry_name_problem`]), no two origins claim one path (the same file in two wheels,
    /// byte for byte, is kept once), and no file sits where another entry needs a directory.
    #[cfg(test)]
    pub fn new(
        prefix: &str,
        source: &[SourceFile],
        wheels: Vec<WheelInput>,
        strip: &[String],
    ) -> Result<Plan, AssembleError> {
        Plan::with_locals(prefix, source, wheels, Vec::new(), strip)
    }

    /// [`Plan::new`] with local packages too, installed like wheels: the same entry-name checks,
    /// collisions and `strip` rules (their `.dist-info` is never stripped).
    pub fn with_locals(
        prefix: &str,
        source: &[SourceFile],
        wheels: Vec<WheelInput>,
        locals: Vec<LocalInput>,
        strip: &[String],
    ) -> Result<Plan, AssembleError> {
        let own_label = if prefix.is_empty() { "(function source)" } else { "(layer source)" };
        let mut plan = Plan { wheels, locals, entries: BTreeMap::new(), own_label };
        for file in source {
            let entry_source =
                EntrySource::File { path: file.path.clone(), size: file.size, executable: file.executable };
            let (dir, path) = (file.dir.clone(), file.relative.clone());
            let origin =
                if path.starts_with("vendor/") { Origin::Vendor { dir, path } } else { Origin::Source { dir, path } };
            plan.insert(format!("{prefix}{}", file.name), Entry { source: entry_source, package: None, origin })?;
        }
        let strip = glob_set(strip);
        for index in 0..plan.wheels.len() {
            let wheel = plan.wheels[index].clone();
            let mut reader = WheelReader::open(&wheel.path, &wheel.filename)?;
            let members = reader.entries()?;
            let dist_info = reader.dist_info(&wheel.package)?;
            check_wheel(&mut reader, &wheel, &dist_info)?;
            let data_dir = format!("{}.data", dist_info.trim_end_matches(".dist-info"));
            for entry in members {
                let Some(path) = install_path(&entry.name, Some(&data_dir)) else { continue };
                let in_dist_info = path.split('/').next().is_some_and(|top| top.ends_with(".dist-info"));
                if !in_dist_info && strip.is_match(&path) {
                    continue;
                }
                let name = format!("{prefix}{path}");
                let new = Entry {
                    source: EntrySource::Wheel { wheel: index, entry },
                    package: Some(wheel.package.clone()),
                    origin: Origin::Package(index),
                };
                plan.insert(name, new)?;
            }
        }
        for index in 0..plan.locals.len() {
            let local = plan.locals[index].clone();
            for (path, file, size) in &local.files {
                if strip.is_match(path) {
                    continue;
                }
                let new = Entry {
                    source: EntrySource::File { path: file.clone(), size: *size, executable: false },
                    package: Some(local.package.clone()),
                    origin: Origin::Local(index),
                };
                plan.insert(format!("{prefix}{path}"), new)?;
            }
            for (path, bytes) in &local.dist_info {
                let new = Entry {
                    source: EntrySource::Bytes(bytes.clone()),
                    package: Some(local.package.clone()),
                    origin: Origin::Local(index),
                };
                plan.insert(format!("{prefix}{path}"), new)?;
            }
        }
        plan.check_directories()?;
        Ok(plan)
    }

    /// Add an entry, or refuse its name or a second claim on its path.
    fn insert(&mut self, name: String, new: Entry) -> Result<(), AssembleError> {
        if let Some(why) = entry_name_problem(&name) {
            let help = match &new.origin {
                Origin::Source { .. } | Origin::Vendor { .. } => "rename the file, or leave it out with `exclude`",
                Origin::Package(_) => "the wheel is broken or hostile: use another version of the package",
                Origin::Local(_) => "rename the file in the local package, or leave it out with `workspace.strip`",
            };
            return Err(AssembleError::UnsafeName {
                origin: self.describe(&new.origin),
                name: escaped(&name),
                why,
                help: help.to_string(),
            });
        }
        let Some(existing) = self.entries.get(&name) else {
            self.entries.insert(name, new);
            return Ok(());
        };
        let same = match (&existing.source, &new.source) {
            (EntrySource::Wheel { entry: a, .. }, EntrySource::Wheel { entry: b, .. }) => {
                a.header.crc32 == b.header.crc32 && a.header.size == b.header.size
            }
            _ => false,
        };
        if same {
            return Ok(());
        }
        Err(AssembleError::Collision {
            first: self.describe(&existing.origin),
            second: self.describe(&new.origin),
            name: escaped(&name),
            what: "",
        })
    }

    /// No entry may be a file where another entry needs a directory (`pkg` and `pkg/x.py`).
    fn check_directories(&self) -> Result<(), AssembleError> {
        for (name, entry) in &self.entries {
            let mut end = 0;
            while let Some(slash) = name[end..].find('/') {
                let parent = &name[..end + slash];
                if let Some(file) = self.entries.get(parent) {
                    return Err(AssembleError::Collision {
                        first: self.describe(&file.origin),
                        second: self.describe(&entry.origin),
                        name: escaped(parent),
                        what: ": the first as a file, the second as a directory",
                    });
                }
                end += slash + 1;
            }
        }
        Ok(())
    }

    /// An origin in words: `the source file `app.py``, `package `six` (`six-1.0-py3-none-any.whl`)`.
    fn describe(&self, origin: &Origin) -> String {
        match origin {
            Origin::Source { dir, path } => format!("the source file `{}`{}", escaped(path), of_dir(dir)),
            Origin::Vendor { dir, path } => format!("the vendored file `{}`{}", escaped(path), of_dir(dir)),
            Origin::Package(index) => {
                let wheel = &self.wheels[*index];
                format!("package `{}` (`{}`)", wheel.package, escaped(&wheel.filename))
            }
            Origin::Local(index) => {
                let local = &self.locals[*index];
                format!("local package `{}` (`{}`)", local.package, escaped(&local.path))
            }
        }
    }

    /// Every entry with where it comes from, sorted by path.
    pub fn listing(&self) -> Vec<(String, Origin)> {
        self.entries.iter().map(|(name, entry)| (name.clone(), entry.origin.clone())).collect()
    }

    /// The local package an [`Origin::Local`] names.
    pub fn local(&self, index: usize) -> &LocalInput {
        &self.locals[index]
    }

    /// The wheel an [`Origin::Package`] names.
    pub fn wheel(&self, index: usize) -> &WheelInput {
        &self.wheels[index]
    }

    /// The `.py` entries to compile for `cache_tag` (`cpython-312`): not in `.dist-info`, and not
    /// where the zip already holds their pyc (a wheel may ship its own). `prefix` is the zip's
    /// (`python/` for a layer), left out of the file name compiled into the pyc, so a function's
    /// and a layer's pycs of one package are the same bytes.
    pub fn python_sources(&self, prefix: &str, cache_tag: &str) -> Vec<bytecode::PySource> {
        let mut found = Vec::new();
        for name in self.entries.keys() {
            let Some(stem_path) = name.strip_suffix(".py") else { continue };
            if name.split('/').any(|part| part.ends_with(".dist-info") || part == "__pycache__") {
                continue;
            }
            let (dir, stem) = match stem_path.rsplit_once('/') {
                Some((dir, stem)) => (format!("{dir}/"), stem),
                None => (String::new(), stem_path),
            };
            if stem.is_empty() {
                continue;
            }
            let pyc_entry = format!("{dir}__pycache__/{stem}.{cache_tag}.pyc");
            if self.entries.contains_key(&pyc_entry) {
                continue;
            }
            let dfile = name.strip_prefix(prefix).unwrap_or(name).to_string();
            found.push(bytecode::PySource { entry: name.clone(), pyc_entry, dfile });
        }
        found
    }

    /// The bytes of these entries, in order, each wheel opened once.
    pub fn read_sources(&self, entries: &[&str]) -> Result<Vec<Vec<u8>>, AssembleError> {
        let mut readers: BTreeMap<usize, WheelReader> = BTreeMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for name in entries {
            let Some(entry) = self.entries.get(*name) else {
                return Err(AssembleError::Io(format!("`{}` is not in the zip", escaped(name))));
            };
            let bytes = match &entry.source {
                EntrySource::Wheel { wheel, entry } => {
                    if !readers.contains_key(wheel) {
                        let input = &self.wheels[*wheel];
                        readers.insert(*wheel, WheelReader::open(&input.path, &input.filename)?);
                    }
                    readers.get_mut(wheel).expect("inserted above").read_member(&entry.name)?
                }
                EntrySource::File { path, .. } => {
                    fs_err::read(path).map_err(|err| io_error("reading a source file", err))?
                }
                EntrySource::Bytes(bytes) => bytes.to_vec(),
            };
            out.push(bytes);
        }
        Ok(out)
    }

    /// Add compiled pycs, each belonging to the package (and origin) of its source; the total
    /// bytes added.
    pub fn add_bytecode(
        &mut self,
        pycs: Vec<(bytecode::PySource, std::sync::Arc<Vec<u8>>)>,
    ) -> Result<u64, AssembleError> {
        let mut added = 0;
        for (source, pyc) in pycs {
            let Some(of) = self.entries.get(&source.entry) else { continue };
            let new = Entry {
                source: EntrySource::Bytes(pyc.clone()),
                package: of.package.clone(),
                origin: of.origin.clone(),
            };
            added += pyc.len() as u64;
            self.insert(source.pyc_entry, new)?;
        }
        self.check_directories()?;
        Ok(added)
    }

    /// Total bytes once unzipped.
    pub fn unzipped_size(&self) -> u64 {
        self.entries.values().map(entry_size).sum()
    }

    /// Unzipped bytes per package (the member's own files as `(function source)` or
    /// `(layer source)`), largest first.
    pub fn sizes_by_package(&self) -> Vec<(String, u64)> {
        let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
        for entry in self.entries.values() {
            let key = entry.package.clone().unwrap_or_else(|| self.own_label.to_string());
            *sizes.entry(key).or_default() += entry_size(entry);
        }
        let mut sizes: Vec<_> = sizes.into_iter().collect();
        sizes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        sizes
    }

    /// Write the zip to `out`.
    pub fn write(&self, out: impl Write, timestamp: u64) -> Result<Written, AssembleError> {
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
                        let data = WheelData::open(&input.path, &input.filename, input.checked.clone())?;
                        readers.insert(*wheel, data);
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
                EntrySource::Bytes(bytes) => {
                    let (header, data) = deflate(bytes, false);
                    zip.add_raw(name, &header, |out| out.write_all(&data).map(|()| data.len() as u64))
                        .map_err(|err| io_error(name, err))?;
                }
            }
        }
        let mut hashing = zip.finish().map_err(|err| io_error("finishing the zip", err))?;
        hashing.inner.flush().map_err(|err| io_error("writing the zip", err))?;
        let checked = readers
            .iter()
            .filter(|(_, data)| !data.checked_now().is_empty())
            .map(|(wheel, data)| {
                let input = &self.wheels[*wheel];
                (input.sha256.clone(), input.path.clone(), data.checked_now().to_vec())
            })
            .collect();
        Ok(Written { size: hashing.written, sha256: hashing.hasher.finalize().into(), checked })
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
    // Each dependency name the METADATA requires, with every extra it asks of that dependency:
    // an edge may name only those (an extra added by hand would ship what that extra brings).
    let mut required: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for requirement in &actual.requires_dist {
        required
            .entry(normalize_name(requirement.name.as_ref()))
            .or_default()
            .extend(requirement.extras.iter().map(|extra| normalize_name(extra.as_ref())));
    }
    for edge in &wheel.dependencies {
        let Some(extras) = required.get(&normalize_name(requirement_name(edge))) else {
            return Err(mismatch(format!("the lock has it depend on `{edge}`, which its METADATA does not require")));
        };
        if let Some(extra) = requirement_extras(edge).find(|extra| !extras.contains(&normalize_name(extra))) {
            return Err(mismatch(format!(
                "the lock has it depend on `{edge}`, but its METADATA never asks for the extra `{extra}`"
            )));
        }
    }
    if let Some(resolved) = wheel.resolved_metadata.as_deref().and_then(|bytes| metadata::parse(bytes).ok()) {
        let requirements = |metadata: &CoreMetadata| -> BTreeSet<String> {
            metadata.requires_dist.iter().map(ToString::to_string).collect()
        };
        if actual.requires_python != resolved.requires_python {
            let shown = |specifiers: &Option<pep440_rs::VersionSpecifiers>| {
                specifiers.as_ref().map_or("nothing".to_string(), |specifiers| format!("`{specifiers}`"))
            };
            return Err(mismatch(format!(
                "its METADATA has Requires-Python {}, but the resolved metadata has {}",
                shown(&actual.requires_python),
                shown(&resolved.requires_python)
            )));
        }
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

/// ` of `shared/py`` for messages, nothing for the workspace root.
fn of_dir(dir: &str) -> String {
    if dir.is_empty() || dir == "." { String::new() } else { format!(" of `{}`", escaped(dir)) }
}

fn entry_size(entry: &Entry) -> u64 {
    match &entry.source {
        EntrySource::Wheel { entry, .. } => entry.header.size,
        EntrySource::File { size, .. } => *size,
        EntrySource::Bytes(bytes) => bytes.len() as u64,
    }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::io::{Cursor, Write as _};

    use proptest::prelude::*;

    use super::*;

    /// A source file named `name` whose bytes are `path`'s.
    fn source(name: &str, path: &std::path::Path) -> SourceFile {
        SourceFile {
            name: name.to_string(),
            relative: name.to_string(),
            dir: "src".to_string(),
            path: path.to_path_buf(),
            size: 2,
            executable: false,
            modified: 0,
        }
    }

    /// A wheel holding `names` (and its `.dist-info`), written with the zip crate.
    fn wheel(dir: &std::path::Path, names: &[String]) -> WheelInput {
        let path = dir.join("w-1.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        let mut written = BTreeSet::new();
        let dist_info: [(&str, &[u8]); 2] = [
            ("w-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: w\nVersion: 1.0\n"),
            ("w-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"),
        ];
        for (name, contents) in dist_info {
            written.insert(name);
            zip.start_file(name, options).unwrap();
            zip.write_all(contents).unwrap();
        }
        for name in names.iter().map(String::as_str) {
            if written.insert(name) && zip.start_file(name, options).is_ok() {
                zip.write_all(b"w\n").unwrap();
            }
        }
        fs_err::write(&path, zip.finish().unwrap().into_inner()).unwrap();
        WheelInput {
            package: "w".to_string(),
            version: "1.0".to_string(),
            filename: "w-1.0-py3-none-any.whl".to_string(),
            path,
            dependencies: Vec::new(),
            resolved_metadata: None,
            sha256: "0".repeat(64),
            checked: Default::default(),
        }
    }

    /// What a zip holds, read back: (name, is directory).
    fn read_back(bytes: Vec<u8>) -> Vec<(String, bool)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|index| {
                let file = archive.by_index_raw(index).unwrap();
                (String::from_utf8(file.name_raw().to_vec()).unwrap(), file.is_dir())
            })
            .collect()
    }

    #[test]
    fn the_plan_refuses_unsafe_duplicate_and_clashing_names() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs_err::write(&file, "x\n").unwrap();
        let plan = |names: &[&str]| {
            let files: Vec<SourceFile> = names.iter().map(|name| source(name, &file)).collect();
            Plan::new("", &files, Vec::new(), &[])
        };
        for bad in ["../../evil.py", "/abs.py", "a//b.py", "a\\b.py", "esc\u{1b}.py", "C:x.py", "./x.py"] {
            let err = plan(&[bad]).unwrap_err().to_string();
            assert!(err.contains("cannot hold it"), "{bad:?}: {err}");
            assert!(!err.contains('\u{1b}'), "escape sequences are not echoed: {err:?}");
        }
        let err = plan(&["a.py", "a.py"]).unwrap_err().to_string();
        assert!(err.contains("both claim `a.py`"), "{err}");
        let err = plan(&["pkg", "pkg/x.py"]).unwrap_err().to_string();
        assert!(err.contains("`pkg`") && err.contains("as a file"), "{err}");
        plan(&["pkg/x.py", "pkg.py", "pkg-x"]).unwrap();

        // A source file and a wheel's file: both origins are named.
        let wheel = wheel(dir.path(), &["w/__init__.py".to_string()]);
        let files = [source("w/__init__.py", &file)];
        let err = Plan::new("", &files, vec![wheel], &[]).unwrap_err().to_string();
        assert!(err.contains("the source file `w/__init__.py`"), "{err}");
        assert!(err.contains("package `w` (`w-1.0-py3-none-any.whl`)"), "{err}");
    }

    #[test]
    fn pycs_count_toward_the_size_the_limit_check_sees_under_their_sources_package() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs_err::write(&file, "x\n").unwrap();
        let files = [source("app.py", &file)];
        let wheel = wheel(dir.path(), &["w/__init__.py".to_string()]);
        let mut plan = Plan::new("", &files, vec![wheel], &[]).unwrap();
        let before = plan.unzipped_size();
        let sized = |plan: &Plan, key: &str| plan.sizes_by_package().into_iter().find(|(k, _)| k == key).unwrap().1;
        let (own, package) = (sized(&plan, "(function source)"), sized(&plan, "w"));
        let sources = plan.python_sources("", "cpython-312");
        let names: BTreeSet<&str> = sources.iter().map(|s| s.pyc_entry.as_str()).collect();
        assert_eq!(
            names,
            BTreeSet::from(["__pycache__/app.cpython-312.pyc", "w/__pycache__/__init__.cpython-312.pyc"])
        );
        let pycs: Vec<_> = sources
            .into_iter()
            .map(|source| {
                let len = if source.entry == "app.py" { 1000 } else { 7000 };
                (source, std::sync::Arc::new(vec![0u8; len]))
            })
            .collect();
        assert_eq!(plan.add_bytecode(pycs).unwrap(), 8000);
        assert_eq!(plan.unzipped_size(), before + 8000);
        assert_eq!((sized(&plan, "(function source)"), sized(&plan, "w")), (own + 1000, package + 7000));
        // A pyc the zip now holds is not compiled again.
        assert!(plan.python_sources("", "cpython-312").is_empty());
    }

    /// Path components likely to break extraction, mixed with ordinary ones.
    fn component() -> impl Strategy<Value = String> {
        prop_oneof![
            12 => "[a-c]{1,2}".prop_map(String::from),
            3 => Just("pkg".to_string()),
            2 => Just("é.py".to_string()),
            1 => Just("".to_string()),
            1 => Just(".".to_string()),
            1 => Just("..".to_string()),
            1 => Just("C:".to_string()),
            1 => Just("x\\y".to_string()),
            1 => Just("\u{1b}[1m".to_string()),
            1 => Just("n\0l".to_string()),
        ]
    }

    fn entry_name() -> impl Strategy<Value = String> {
        (proptest::collection::vec(component(), 1..4), proptest::bool::weighted(0.05)).prop_map(|(parts, lead)| {
            let name = parts.join("/");
            if lead { format!("/{name}") } else { name }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Whatever names go in, the plan either refuses them or writes a zip whose every
        /// entry is safe, unique and not a file where a directory is.
        #[test]
        fn every_planned_zip_has_only_safe_unique_names(
            own in proptest::collection::vec(entry_name(), 0..6),
            packaged in proptest::collection::vec(entry_name(), 0..6),
            layer in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("f");
            fs_err::write(&file, "x\n").unwrap();
            let files: Vec<SourceFile> = own.iter().map(|name| source(name, &file)).collect();
            let wheels = vec![wheel(dir.path(), &packaged)];
            let prefix = if layer { "python/" } else { "" };
            let Ok(plan) = Plan::new(prefix, &files, wheels, &[]) else { return Ok(()) };
            let mut bytes = Vec::new();
            plan.write(&mut bytes, 0).unwrap();
            let entries = read_back(bytes);
            let mut seen = BTreeSet::new();
            for (name, _) in &entries {
                prop_assert!(seen.insert(name.clone()), "`{}` twice", name.escape_debug());
            }
            let files: BTreeSet<&str> =
                entries.iter().filter(|(_, dir)| !dir).map(|(name, _)| name.as_str()).collect();
            for (name, is_dir) in &entries {
                let path = if *is_dir { name.strip_suffix('/').unwrap() } else { name.as_str() };
                prop_assert!(entry_name_problem(path).is_none(), "unsafe `{}`", name.escape_debug());
                let mut parent = std::path::Path::new(path).parent();
                while let Some(dir) = parent.filter(|dir| !dir.as_os_str().is_empty()) {
                    prop_assert!(!files.contains(dir.to_str().unwrap()), "`{}` under a file", name.escape_debug());
                    parent = dir.parent();
                }
            }
            // Every source file the plan accepted is in the zip, under its name.
            for name in &own {
                let name = format!("{prefix}{name}");
                prop_assert!(files.contains(name.as_str()), "`{}` lost", name.escape_debug());
            }
        }
    }
}
