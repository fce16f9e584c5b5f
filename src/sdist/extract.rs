//! Safe extraction of an sdist (`.tar.gz` or `.zip`) into an empty directory, and its
//! `PKG-INFO` (PEP 643 static metadata).
//!
//! An sdist comes from an index and is untrusted. Extraction follows PEP 706's `data` filter and
//! more: regular files and directories only (no links, devices or FIFOs), relative paths without
//! `.` or `..` components, exactly one top-level directory holding everything, no member written
//! twice, at most [`MAX_ENTRIES`] members and [`MAX_TOTAL`] bytes. Modes are 0644, or 0755 for
//! members with an executable bit; owners and times are not kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::tar::{TarError, TarReader};
use crate::python::metadata::{self, CoreMetadata};

/// The most members an sdist may hold.
pub(crate) const MAX_ENTRIES: usize = 100_000;
/// The most bytes an sdist may extract to.
pub(crate) const MAX_TOTAL: u64 = 1 << 30;
/// The most bytes one member of a `.zip` sdist may inflate to (each is held in memory).
const MAX_ZIP_MEMBER: u64 = 256 << 20;

/// Why an sdist cannot be extracted.
#[derive(Debug, thiserror::Error)]
#[error("cannot extract the sdist {sdist}: {message}")]
pub(crate) struct ExtractError {
    pub sdist: String,
    pub message: String,
}

/// Extract the sdist at `archive` (its file name `filename` decides the format) into `dest`,
/// which must exist and be empty. Returns the path of its one top-level directory.
pub(crate) fn extract(archive: &Path, filename: &str, dest: &Path) -> Result<PathBuf, ExtractError> {
    let fail = |message: String| ExtractError { sdist: filename.to_string(), message };
    let mut writer = Writer { dest, top: None, entries: 0, total: 0, seen: std::collections::HashSet::new() };
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        let file = fs_err::File::open(archive).map_err(|err| fail(err.to_string()))?;
        // Every gzip member, as Python's `tarfile` reads them: a second member is not trailing
        // garbage, and stopping at the first would build from part of the tree.
        let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
        let mut tar = TarReader::new(gz);
        let tar_err = |err: TarError| fail(err.to_string());
        while let Some(member) = tar.next_member().map_err(tar_err)? {
            if member.is_dir {
                writer.directory(&member.path).map_err(fail)?;
                continue;
            }
            let mut out = writer.file(&member.path, member.executable, member.size).map_err(fail)?;
            tar.read_data(member.size, &mut out).map_err(tar_err)?;
            out.flush().map_err(|err| fail(err.to_string()))?;
        }
    } else if lower.ends_with(".zip") {
        crate::zipio::for_each_inflated(archive, filename, MAX_ZIP_MEMBER, |name, executable, bytes| {
            let mut out = writer.file(name, executable, bytes.len() as u64)?;
            out.write_all(bytes).and_then(|()| out.flush()).map_err(|err| err.to_string())
        })
        .map_err(fail)?;
    } else {
        return Err(fail("lbuild reads sdists that are .tar.gz or .zip files only".into()));
    }
    match writer.top {
        Some(top) => Ok(dest.join(top)),
        None => Err(fail("the archive is empty".into())),
    }
}

struct Writer<'a> {
    dest: &'a Path,
    top: Option<String>,
    entries: usize,
    total: u64,
    seen: std::collections::HashSet<String>,
}

impl Writer<'_> {
    /// Check a member's path and return the relative path to write it at.
    fn check(&mut self, path: &str, is_dir: bool) -> Result<String, String> {
        let trimmed = path.trim_end_matches('/');
        if let Some(why) = crate::zipio::unsafe_path(trimmed) {
            return Err(format!("member `{}` is unsafe ({why})", path.escape_debug()));
        }
        if trimmed.split('/').any(|part| part.is_empty()) || trimmed.chars().any(char::is_control) {
            return Err(format!("member `{}` has an empty component or a control character", path.escape_debug()));
        }
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(format!("it holds more than {MAX_ENTRIES} members"));
        }
        let first = trimmed.split('/').next().unwrap_or_default();
        match &self.top {
            None => self.top = Some(first.to_string()),
            Some(top) if top == first => {}
            Some(top) => {
                return Err(format!(
                    "it has more than one top-level directory (`{}` and `{}`); an sdist holds one, `<name>-<version>/`",
                    top.escape_debug(),
                    first.escape_debug()
                ));
            }
        }
        if !is_dir && !trimmed.contains('/') {
            return Err(format!("member `{}` is a file outside the top-level directory", path.escape_debug()));
        }
        if !is_dir && !self.seen.insert(trimmed.to_string()) {
            return Err(format!("member `{}` appears twice", path.escape_debug()));
        }
        Ok(trimmed.to_string())
    }

    fn directory(&mut self, path: &str) -> Result<(), String> {
        let rel = self.check(path, true)?;
        fs_err::create_dir_all(self.dest.join(rel)).map_err(|err| err.to_string())
    }

    fn file(&mut self, path: &str, executable: bool, size: u64) -> Result<fs_err::File, String> {
        let rel = self.check(path, false)?;
        self.total = self.total.saturating_add(size);
        if self.total > MAX_TOTAL {
            return Err(format!("it extracts to more than {} MiB", MAX_TOTAL >> 20));
        }
        let target = self.dest.join(&rel);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent).map_err(|err| err.to_string())?;
        }
        let mut options = fs_err::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use fs_err::os::unix::fs::OpenOptionsExt;
            options.mode(if executable { 0o755 } else { 0o644 });
        }
        #[cfg(not(unix))]
        let _ = executable;
        options.open(&target).map_err(|err| err.to_string())
    }
}

/// What an sdist's `PKG-INFO` says, when it can be trusted for dependencies.
#[derive(Debug, Clone)]
pub(crate) enum PkgInfo {
    /// Metadata-Version 2.2 or newer and `Requires-Dist` not `Dynamic` (PEP 643): these are the
    /// dependencies of every wheel built from the sdist.
    Static(CoreMetadata),
    /// Present, but its dependencies are dynamic or it predates PEP 643: only a build tells.
    NotStatic,
}

/// The most bytes of a `PKG-INFO` lbuild reads.
const MAX_PKG_INFO: u64 = 1 << 20;

/// The `<top>/PKG-INFO` of the sdist archive at `path` (`filename` decides the format), read
/// without extracting anything; `None` when it has none, or the archive or the file is
/// damaged or oversized.
pub(crate) fn pkg_info_of_archive(path: &Path, filename: &str) -> Option<PkgInfo> {
    let lower = filename.to_ascii_lowercase();
    let is_pkg_info =
        |name: &str| name.split_once('/').is_some_and(|(top, rest)| !top.is_empty() && rest == "PKG-INFO");
    let bytes = if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        let file = fs_err::File::open(path).ok()?;
        let mut tar = TarReader::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)));
        let mut found = None;
        // Members skipped on the way count as extraction counts them: a gzip bomb ends the scan.
        let mut total: u64 = 0;
        for _ in 0..MAX_ENTRIES {
            let member = tar.next_member().ok()??;
            total = total.saturating_add(member.size);
            if total > MAX_TOTAL {
                return None;
            }
            if !member.is_dir && is_pkg_info(&member.path) && member.size <= MAX_PKG_INFO {
                let mut bytes = Vec::new();
                tar.read_data(member.size, &mut bytes).ok()?;
                found = Some(bytes);
                break;
            }
            if !member.is_dir {
                tar.read_data(member.size, &mut std::io::sink()).ok()?;
            }
        }
        found?
    } else if lower.ends_with(".zip") {
        let mut zip = crate::zipio::WheelReader::open(path, filename).ok()?;
        let name = zip
            .entries()
            .ok()?
            .into_iter()
            .find(|entry| is_pkg_info(&entry.name) && entry.header.size <= MAX_PKG_INFO)?
            .name;
        zip.read_member(&name).ok()?
    } else {
        return None;
    };
    Some(pkg_info(&bytes))
}

/// The PEP 643 reading of `PKG-INFO` bytes.
pub(crate) fn pkg_info(bytes: &[u8]) -> PkgInfo {
    let (version, dynamic) = metadata::dynamic_fields(bytes);
    let is_static = version.is_some_and(|v| v >= (2, 2)) && !dynamic.iter().any(|field| field == "requires-dist");
    match metadata::parse(bytes) {
        Ok(parsed) if is_static => PkgInfo::Static(parsed),
        _ => PkgInfo::NotStatic,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tar::build::*;
    use super::*;

    fn gz(tar: Vec<u8>) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&finish(tar)).unwrap();
        encoder.finish().unwrap()
    }

    fn try_extract(bytes: &[u8]) -> (tempfile::TempDir, Result<PathBuf, ExtractError>) {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("p-1.0.tar.gz");
        fs_err::write(&archive, bytes).unwrap();
        let dest = dir.path().join("out");
        fs_err::create_dir(&dest).unwrap();
        let result = extract(&archive, "p-1.0.tar.gz", &dest);
        (dir, result)
    }

    fn message(bytes: &[u8]) -> String {
        let (_dir, result) = try_extract(bytes);
        result.expect_err("the archive must be refused").to_string()
    }

    #[test]
    fn extracts_a_plain_sdist() {
        let mut tar = Vec::new();
        member(&mut tar, "p-1.0/", b'5', 0o755, b"");
        member(&mut tar, "p-1.0/pkg/__init__.py", b'0', 0o644, b"x = 1\n");
        member(&mut tar, "p-1.0/run.sh", b'0', 0o755, b"#!/bin/sh\n");
        let (dir, result) = try_extract(&gz(tar));
        let top = result.unwrap();
        assert_eq!(top, dir.path().join("out/p-1.0"));
        assert_eq!(fs_err::read(top.join("pkg/__init__.py")).unwrap(), b"x = 1\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs_err::metadata(top.join("run.sh")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
    }

    #[test]
    fn reads_every_gzip_member() {
        let gz_part = |tar: &[u8]| {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(tar).unwrap();
            encoder.finish().unwrap()
        };
        let mut first = Vec::new();
        member(&mut first, "p-1.0/a.py", b'0', 0o644, b"a = 1\n");
        let mut second = Vec::new();
        member(&mut second, "p-1.0/b.py", b'0', 0o644, b"b = 2\n");
        let mut bytes = gz_part(&first);
        bytes.extend_from_slice(&gz_part(&finish(second)));
        let (_dir, result) = try_extract(&bytes);
        let top = result.unwrap();
        assert_eq!(fs_err::read(top.join("a.py")).unwrap(), b"a = 1\n");
        assert_eq!(fs_err::read(top.join("b.py")).unwrap(), b"b = 2\n");
    }

    #[test]
    fn refuses_hostile_archives() {
        let one = |name: &str, flag: u8| {
            let mut tar = Vec::new();
            member(&mut tar, "p-1.0/ok.py", b'0', 0o644, b"");
            member(&mut tar, name, flag, 0o644, b"data");
            gz(tar)
        };
        assert!(message(&one("p-1.0/../../etc/passwd", b'0')).contains("unsafe"));
        assert!(message(&one("/etc/passwd", b'0')).contains("unsafe"));
        assert!(message(&one("p-1.0/link", b'2')).contains("symbolic link"));
        assert!(message(&one("p-1.0/hard", b'1')).contains("hard link"));
        assert!(message(&one("p-1.0/dev", b'4')).contains("block device"));
        assert!(message(&one("other-1.0/x.py", b'0')).contains("more than one top-level directory"));
        assert!(message(&one("p-1.0/ok.py", b'0')).contains("appears twice"));
        assert!(message(&one("p-1.0/a\u{1b}[2J", b'0')).contains("control character"));
        // A pax header can smuggle a path the ustar name field does not show.
        let mut tar = Vec::new();
        member(&mut tar, "p-1.0/ok.py", b'0', 0o644, b"");
        pax_path(&mut tar, "p-1.0/../../escape");
        member(&mut tar, "p-1.0/innocent", b'0', 0o644, b"x");
        assert!(message(&gz(tar)).contains("unsafe"));
        // Not gzip at all.
        assert!(message(b"not a gzip stream").contains("cannot extract the sdist p-1.0.tar.gz"));
    }

    #[test]
    fn refuses_archives_over_the_size_cap_without_writing_them() {
        // A header declaring 2 GiB: refused before any data is read.
        let mut tar = Vec::new();
        tar.extend_from_slice(&header("p-1.0/huge.bin", 2 << 30, b'0', 0o644));
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&tar).unwrap();
        let (dir, result) = try_extract(&encoder.finish().unwrap());
        assert!(result.unwrap_err().to_string().contains("more than 1024 MiB"));
        assert!(!dir.path().join("out/p-1.0/huge.bin").exists());
    }

    #[test]
    fn pkg_info_is_static_only_from_metadata_2_2_without_dynamic_requires() {
        let base = "Name: p\nVersion: 1.0\nRequires-Dist: six>=1\n";
        let got = pkg_info(format!("Metadata-Version: 2.2\n{base}").as_bytes());
        let PkgInfo::Static(meta) = got else { panic!("2.2 without Dynamic is static") };
        assert_eq!(meta.requires_dist.len(), 1);
        assert_eq!(meta.requires_dist[0].name.as_ref(), "six");
        assert!(matches!(pkg_info(format!("Metadata-Version: 2.1\n{base}").as_bytes()), PkgInfo::NotStatic));
        let dynamic = format!("Metadata-Version: 2.4\n{base}Dynamic: Requires-Dist\n");
        assert!(matches!(pkg_info(dynamic.as_bytes()), PkgInfo::NotStatic));
        let other_dynamic = format!("Metadata-Version: 2.4\n{base}Dynamic: Description\n");
        assert!(matches!(pkg_info(other_dynamic.as_bytes()), PkgInfo::Static(_)));
    }

    #[test]
    fn pkg_info_is_read_from_the_archive_without_extracting() {
        let dir = tempfile::tempdir().unwrap();
        let meta = b"Metadata-Version: 2.2\nName: p\nVersion: 1.0\nRequires-Dist: six>=1\n";
        // Only `<top>/PKG-INFO` counts, after any number of other members.
        let mut tar = Vec::new();
        member(&mut tar, "p-1.0/", b'5', 0o755, b"");
        member(&mut tar, "p-1.0/src/PKG-INFO", b'0', 0o644, b"Metadata-Version: 2.2\nName: evil\nVersion: 9\n");
        member(&mut tar, "p-1.0/pkg/__init__.py", b'0', 0o644, &[b'x'; 3000]);
        member(&mut tar, "p-1.0/PKG-INFO", b'0', 0o644, meta);
        let path = dir.path().join("p-1.0.tar.gz");
        fs_err::write(&path, gz(tar)).unwrap();
        let Some(PkgInfo::Static(found)) = pkg_info_of_archive(&path, "p-1.0.tar.gz") else { panic!("static") };
        assert_eq!((found.name.as_str(), found.requires_dist.len()), ("p", 1));
        // None: no PKG-INFO, damage, an unknown format.
        let mut tar = Vec::new();
        member(&mut tar, "p-1.0/setup.py", b'0', 0o644, b"");
        fs_err::write(&path, gz(tar)).unwrap();
        assert!(pkg_info_of_archive(&path, "p-1.0.tar.gz").is_none());
        fs_err::write(&path, b"\x1f\x8bnot gzip").unwrap();
        assert!(pkg_info_of_archive(&path, "p-1.0.tar.gz").is_none());
        assert!(pkg_info_of_archive(&path, "p-1.0.tar.bz2").is_none());
        // A .zip sdist.
        let members = vec![("p-1.0/PKG-INFO".to_string(), false, meta.to_vec())];
        let zip = dir.path().join("p-1.0.zip");
        fs_err::write(&zip, crate::sdist::content::canonical_wheel(&members).unwrap()).unwrap();
        assert!(matches!(pkg_info_of_archive(&zip, "p-1.0.zip"), Some(PkgInfo::Static(_))));
    }
}
