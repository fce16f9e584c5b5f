//! Hermetic test support: in-memory wheels, scenario files and a fake package index.
//!
//! Nothing here touches the network beyond 127.0.0.1: [`index::FakeIndex`] serves the
//! projects of a [`scenario::Scenario`] over plain HTTP/1.1.
//!
//! A given test uses only part of this, hence the allows (re-exports count as imports).
#![allow(dead_code, unused_imports)]

pub mod fake_elf;
pub mod index;
pub mod rawzip;
pub mod scenario;
pub mod wheel;

use std::path::PathBuf;
use std::sync::Mutex;

pub use index::{Canned, CannedBody, FakeIndex, IndexOptions};
pub use scenario::{PackageSpec, Scenario};
pub use wheel::{WheelSpec, build_sdist, build_wheel, metadata_text, normalize_name};

/// Overrides [`fixtures_root`] when set (see [`set_fixtures_root`]).
static FIXTURES_ROOT: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The directory holding the test fixtures: `<CARGO_MANIFEST_DIR>/fixtures` unless
/// [`set_fixtures_root`] chose another one.
pub fn fixtures_root() -> PathBuf {
    let chosen = FIXTURES_ROOT.lock().unwrap_or_else(|e| e.into_inner());
    match chosen.as_ref() {
        Some(root) => root.clone(),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
    }
}

/// Makes [`fixtures_root`] (and so [`fixture_path`] and [`Scenario::load`]) use `root`.
///
/// Meant for a crate that includes this module from elsewhere; the setting is process-wide.
pub fn set_fixtures_root(root: impl Into<PathBuf>) {
    *FIXTURES_ROOT.lock().unwrap_or_else(|e| e.into_inner()) = Some(root.into());
}

/// `rel` (e.g. `"scenarios/example.toml"`) under the fixtures directory.
pub fn fixture_path(rel: &str) -> PathBuf {
    fixtures_root().join(rel)
}

/// Every file (not directory) under `dir`, depth first; empty when `dir` is missing.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = fs_err::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// What a zip holds: entry name -> (unix mode, contents).
pub fn zip_entries_with_modes(path: &std::path::Path) -> std::collections::BTreeMap<String, (u32, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(fs_err::File::open(path).unwrap()).unwrap();
    let mut entries = std::collections::BTreeMap::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        entries.insert(file.name().unwrap().to_string(), (file.unix_mode().unwrap_or(0), bytes));
    }
    entries
}

/// What a zip holds: entry name -> contents.
pub fn zip_entries(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    zip_entries_with_modes(path).into_iter().map(|(name, (_, bytes))| (name, bytes)).collect()
}

/// The packages a zip holds, by the `.dist-info` directories in it (under `python/` in a layer).
pub fn zip_packages(path: &std::path::Path) -> std::collections::BTreeSet<String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(fs_err::File::open(path).unwrap()).unwrap();
    let mut packages = std::collections::BTreeSet::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let name = file.name().unwrap().trim_start_matches("python/").to_string();
        if let Some((dist_info, "METADATA")) = name.split_once('/')
            && let Some(stem) = dist_info.strip_suffix(".dist-info")
        {
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            let package = text.lines().find_map(|line| line.strip_prefix("Name: ")).unwrap_or(stem);
            packages.insert(package.to_lowercase().replace('_', "-"));
        }
    }
    packages
}

/// A set of names, for comparing with [`zip_packages`] and the like.
pub fn set(names: &[&str]) -> std::collections::BTreeSet<String> {
    names.iter().map(|name| name.to_string()).collect()
}

/// The pinned package names an `export` prints (comments and hash lines left out).
pub fn exported(stdout: &str) -> std::collections::BTreeSet<String> {
    stdout
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with(' '))
        .filter_map(|line| line.split_once("==").map(|(name, _)| name.to_string()))
        .collect()
}
