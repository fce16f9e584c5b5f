//! Other tools' files: the lock files of uv, Poetry and Pipenv, the requirements Poetry and
//! Pipenv keep outside `[project]`, and AWS SAM templates. One module per format owns it:
//! [`uv_lock`] (`uv.lock`), [`poetry`] (`poetry.lock` and `[tool.poetry.dependencies]`),
//! [`pipfile`] (`Pipfile.lock` and `Pipfile`), [`sam`] (`template.yaml`, read by `init` and
//! rewritten by `export --format sam --template`).
//!
//! A project lock is read into [`Pins`]: for each package the versions it pins, each with the
//! markers under which it applies (uv.lock forks a resolution by markers, so a name may be pinned
//! at several versions). [`ProjectLock::pins_for`] chooses, for one target's marker environment,
//! one version per package; `session` makes those the resolver's preferences.
//!
//! Only packages an index serves are pins: a lock's own project, workspace members, editable,
//! path, git and URL packages are left out, since lbuild would not take them from an index.
//!
//! Every file read here may come from an untrusted change: errors quote one line at most (the
//! manifest's error type, which points at the line), and nothing here follows a path a file names.

// Errors carry their source text for miette; they are built once, on the way out.
#![allow(clippy::result_large_err)]

pub(crate) mod pipfile;
pub(crate) mod poetry;
pub(crate) mod sam;
pub(crate) mod uv_lock;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerTree};
use sha2::{Digest, Sha256};

use crate::manifest::ManifestError;

/// Which tool wrote a project lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum LockKind {
    Uv,
    Poetry,
    Pipenv,
}

impl LockKind {
    /// The file name the tool gives its lock.
    pub fn file_name(self) -> &'static str {
        match self {
            LockKind::Uv => "uv.lock",
            LockKind::Poetry => "poetry.lock",
            LockKind::Pipenv => "Pipfile.lock",
        }
    }

    /// The kind of a lock by its file name.
    pub fn from_file_name(name: &str) -> Option<LockKind> {
        [LockKind::Uv, LockKind::Poetry, LockKind::Pipenv].into_iter().find(|kind| kind.file_name() == name)
    }
}

impl fmt::Display for LockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// One version a project lock pins.
#[derive(Debug, Clone)]
pub(crate) struct Pin {
    pub version: Version,
    /// The pin applies where any of these holds; empty: everywhere.
    pub markers: Vec<MarkerTree>,
    /// The markers as written, for the fingerprint.
    pub markers_text: Vec<String>,
}

impl Pin {
    fn applies(&self, environment: &MarkerEnvironment) -> bool {
        self.markers.is_empty() || self.markers.iter().any(|marker| marker.evaluate(environment, &[]))
    }
}

/// Normalized package name -> the versions pinned, in file order.
pub(crate) type Pins = BTreeMap<String, Vec<Pin>>;

/// A project lock, read.
#[derive(Debug, Clone)]
pub(crate) struct ProjectLock {
    pub kind: LockKind,
    pub path: PathBuf,
    pub pins: Pins,
}

impl ProjectLock {
    /// Read the lock at `path`, whose file name says which tool wrote it.
    pub fn read(path: &Path) -> Result<ProjectLock, ManifestError> {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let kind = LockKind::from_file_name(name).expect("project locks are found by their file names");
        let text = read_lock_text(path).map_err(|problem| {
            ManifestError::at(
                &path.display().to_string(),
                "",
                0..0,
                format!("cannot read `{}`: {problem}", path.display()),
                "",
                Some(format!(
                    "lbuild reads the {kind} of the project as its preferred versions; set `project-lock = \"ignore\"` \
                     in `[workspace]` to leave it out"
                )),
            )
        })?;
        ProjectLock::parse(kind, &text, path)
    }

    /// Parse the text of a lock of `kind` read from `path`.
    pub fn parse(kind: LockKind, text: &str, path: &Path) -> Result<ProjectLock, ManifestError> {
        let pins = match kind {
            LockKind::Uv => uv_lock::parse(text, path)?,
            LockKind::Poetry => poetry::parse_lock(text, path)?,
            LockKind::Pipenv => pipfile::parse_lock(text, path)?,
        };
        Ok(ProjectLock { kind, path: path.to_path_buf(), pins })
    }

    /// One version per package for a target: the pin whose markers hold in `environment`, a pin
    /// with markers winning over one without; of several that hold, the first in the file.
    pub fn pins_for(&self, environment: &MarkerEnvironment) -> BTreeMap<String, Version> {
        let mut chosen = BTreeMap::new();
        for (name, pins) in &self.pins {
            let applying: Vec<&Pin> = pins.iter().filter(|pin| pin.applies(environment)).collect();
            let pin = applying.iter().find(|pin| !pin.markers.is_empty()).or_else(|| applying.first());
            if let Some(pin) = pin {
                chosen.insert(name.clone(), pin.version.clone());
            }
        }
        chosen
    }

    /// `sha256:` of the pins (names, versions and markers), not of the file: a lock whose hashes
    /// or layout change but whose versions do not leaves lambda.lock fresh.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.kind.file_name().as_bytes());
        for (name, pins) in &self.pins {
            for pin in pins {
                hasher.update(format!("\n{name} {} {}", pin.version, pin.markers_text.join(" || ")).as_bytes());
            }
        }
        format!("sha256:{:x}", hasher.finalize())
    }
}

/// The largest project lock lbuild reads: a large workspace's `uv.lock`, with a hash for every
/// wheel of every package, runs to a few megabytes.
const MAX_LOCK_FILE: u64 = 64 << 20;

/// The UTF-8 text of a regular file of at most [`MAX_LOCK_FILE`] bytes, or why it is not one.
fn read_lock_text(path: &Path) -> Result<String, String> {
    let meta = fs_err::metadata(path).map_err(|err| err.kind().to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > MAX_LOCK_FILE {
        return Err(format!("it is {} bytes, more than lbuild reads of a lock ({MAX_LOCK_FILE})", meta.len()));
    }
    let mut bytes = Vec::new();
    let file = fs_err::File::open(path).map_err(|err| err.kind().to_string())?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_LOCK_FILE + 1), &mut bytes)
        .map_err(|err| err.kind().to_string())?;
    if bytes.len() as u64 > MAX_LOCK_FILE {
        return Err(format!("it is more than {MAX_LOCK_FILE} bytes"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(bytes);
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
}

/// The project lock that governs a requirements file, if there is one, as a path inside `root`
/// (callers check links): for a `pyproject.toml` the `uv.lock` of the nearest directory from its
/// own up to `root` that holds one (a uv workspace locks all its members in its root), a
/// `uv.lock` or `poetry.lock` beside it winning over one above; for a `Pipfile` the `Pipfile.lock` beside it; for a requirements file
/// a `poetry.lock` or `Pipfile.lock` beside it (`poetry export` and `pipenv requirements` write
/// one from the lock).
pub(crate) fn find_project_lock(requirements_file: &Path, root: &Path) -> Option<PathBuf> {
    let dir = requirements_file.parent()?;
    let name = requirements_file.file_name()?.to_str()?;
    let beside = |kind: LockKind| Some(dir.join(kind.file_name())).filter(|path| path.is_file());
    match name {
        "pyproject.toml" => {
            // The project's own directory first: a `poetry.lock` beside the `pyproject.toml` is
            // that project's lock, whatever `uv.lock` a directory above holds.
            if let Some(own) = beside(LockKind::Uv).or_else(|| beside(LockKind::Poetry)) {
                return Some(own);
            }
            let root = crate::fsutil::absolute_normalized(root);
            let mut current = crate::fsutil::absolute_normalized(dir).parent().map(Path::to_path_buf);
            while let Some(here) = current {
                if !here.starts_with(&root) {
                    break;
                }
                let candidate = here.join(LockKind::Uv.file_name());
                if candidate.is_file() {
                    return Some(candidate);
                }
                current = here.parent().map(Path::to_path_buf);
            }
            None
        }
        "Pipfile" => beside(LockKind::Pipenv),
        _ => beside(LockKind::Poetry).or_else(|| beside(LockKind::Pipenv)),
    }
}

/// An error at `span` of a file, naming its line.
pub(crate) fn error_at(
    path: &Path,
    text: &str,
    span: Range<usize>,
    message: impl fmt::Display,
    help: Option<String>,
) -> ManifestError {
    let line = line_of(text, span.start);
    ManifestError::at(
        &path.display().to_string(),
        text,
        span,
        format!("{message} (line {line} of `{}`)", path.display()),
        "here",
        help,
    )
}

/// A Poetry or Pipfile `path` dependency (`what`, on the package `name`) as a local path:
/// `local` as written, relative to the directory of `path` (the file whose `text` has it at
/// `span`), with the extras and marker of `requirement`. A path to a wheel or sdist file is
/// refused: lbuild installs project directories.
pub(crate) fn path_dependency(
    what: &str,
    name: &str,
    local: &str,
    requirement: pep508_rs::Requirement,
    path: &Path,
    text: &std::sync::Arc<String>,
    span: Range<usize>,
) -> Result<crate::manifest::requirements_file::LocalPath, ManifestError> {
    let dir = path.parent().unwrap_or(Path::new(".")).join(local);
    if dir.is_file() {
        return Err(error_at(
            path,
            text,
            span,
            format!("{what} is a path to a file (`{local}`), which lbuild does not install"),
            Some(
                "point `path` at the project's directory (lbuild installs it as a local package), or put the wheel \
                 in a `find-links` directory and require it by version"
                    .into(),
            ),
        ));
    }
    Ok(crate::manifest::requirements_file::LocalPath {
        written: local.to_string(),
        path: dir,
        // `-e` is requirements-file syntax; a table is shown as written.
        editable: false,
        name: Some(crate::python::wheel_name::normalize_name(name)),
        extras: requirement.extras,
        marker: requirement.marker,
        origin: crate::manifest::requirements_file::LineOrigin::at(path, text, span),
    })
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len())).map_or(1, |before| before.matches('\n').count() + 1)
}

/// The byte span of the start of 1-based `line`, for errors that only know a line.
pub(crate) fn line_span(text: &str, line: usize) -> Range<usize> {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let end = text[start.min(text.len())..].find('\n').map_or(text.len(), |end| start + end);
    start.min(text.len())..end
}

/// `text` read as the requirement of the package `name` with no URL: a version, an extra or a
/// name written oddly (`"v1.0"`, `"-oauthlib"`, `"socks] @ https://..."`) must not turn into a
/// requirement of another package, or of a URL.
pub(crate) fn requirement_of(name: &str, text: &str) -> Result<pep508_rs::Requirement, String> {
    let requirement = pep508_rs::Requirement::from_str(text).map_err(|err| err.message.to_string())?;
    let wanted = crate::python::wheel_name::normalize_name(name);
    if crate::python::wheel_name::normalize_name(requirement.name.as_ref()) != wanted {
        return Err(format!("`{text}` is not a requirement of `{name}`; is `{name}` a valid package name?"));
    }
    if matches!(requirement.version_or_url, Some(pep508_rs::VersionOrUrl::Url(_))) {
        return Err(format!("`{text}` is a URL requirement, which lbuild does not lock"));
    }
    Ok(requirement)
}

/// A version as a lock writes it, or an error at `span`.
fn parse_version(
    text: &str,
    path: &Path,
    span: Range<usize>,
    name: &str,
    version: &str,
) -> Result<Version, ManifestError> {
    Version::from_str(version)
        .map_err(|err| error_at(path, text, span, format!("`{name}` has an invalid version `{version}`: {err}"), None))
}

/// A marker expression as a lock writes it, or an error at `span`.
fn parse_marker(text: &str, path: &Path, span: Range<usize>, marker: &str) -> Result<MarkerTree, ManifestError> {
    MarkerTree::from_str(marker)
        .map_err(|err| error_at(path, text, span, format!("invalid marker `{marker}`: {}", err.message), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Architecture, Runtime, marker_environment};

    fn environment(runtime: &str, architecture: Architecture) -> MarkerEnvironment {
        let runtime = Runtime::from_name(runtime).unwrap();
        marker_environment(runtime, architecture, &Version::from_str(runtime.default_full_version).unwrap())
    }

    #[test]
    fn a_pin_with_markers_that_hold_wins_over_one_without() {
        let text = r#"
version = 1
requires-python = ">=3.9"

[[package]]
name = "numpy"
version = "2.0.2"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.10'"]

[[package]]
name = "numpy"
version = "2.2.6"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.10'"]

[[package]]
name = "Six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }
"#;
        let lock = ProjectLock::parse(LockKind::Uv, text, Path::new("uv.lock")).unwrap();
        let old = lock.pins_for(&environment("python3.9", Architecture::X86_64));
        let new = lock.pins_for(&environment("python3.12", Architecture::Arm64));
        assert_eq!(old["numpy"].to_string(), "2.0.2");
        assert_eq!(new["numpy"].to_string(), "2.2.6");
        assert_eq!(new["six"].to_string(), "1.17.0");
        let same =
            ProjectLock::parse(LockKind::Uv, &text.replace("\n\n", "\n\n# a comment\n"), Path::new("uv.lock")).unwrap();
        assert_eq!(lock.fingerprint(), same.fingerprint(), "the fingerprint is of the pins, not the text");
        let bumped = ProjectLock::parse(LockKind::Uv, &text.replace("1.17.0", "1.16.0"), Path::new("uv.lock")).unwrap();
        assert_ne!(lock.fingerprint(), bumped.fingerprint());
    }

    #[test]
    fn project_locks_are_found_beside_or_above_the_requirements_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::create_dir_all(root.join("services/api")).unwrap();
        fs_err::write(root.join("services/api/pyproject.toml"), "").unwrap();
        assert_eq!(find_project_lock(&root.join("services/api/pyproject.toml"), root), None);
        fs_err::write(root.join("services/api/poetry.lock"), "").unwrap();
        assert_eq!(
            find_project_lock(&root.join("services/api/pyproject.toml"), root),
            Some(root.join("services/api/poetry.lock"))
        );
        fs_err::write(root.join("uv.lock"), "").unwrap();
        // The project's own poetry.lock, not the uv.lock of a directory above.
        assert_eq!(
            find_project_lock(&root.join("services/api/pyproject.toml"), root),
            Some(root.join("services/api/poetry.lock"))
        );
        fs_err::remove_file(root.join("services/api/poetry.lock")).unwrap();
        assert_eq!(
            find_project_lock(&root.join("services/api/pyproject.toml"), root).unwrap(),
            crate::fsutil::absolute_normalized(root).join("uv.lock")
        );
        fs_err::write(root.join("services/api/poetry.lock"), "").unwrap();
        // Never above the workspace root.
        assert_eq!(
            find_project_lock(&root.join("services/api/pyproject.toml"), &root.join("services")),
            Some(root.join("services/api/poetry.lock"))
        );
        fs_err::write(root.join("services/Pipfile"), "").unwrap();
        assert_eq!(find_project_lock(&root.join("services/Pipfile"), root), None);
        fs_err::write(root.join("services/Pipfile.lock"), "{}").unwrap();
        assert_eq!(find_project_lock(&root.join("services/Pipfile"), root), Some(root.join("services/Pipfile.lock")));
        assert_eq!(
            find_project_lock(&root.join("services/requirements.txt"), root),
            Some(root.join("services/Pipfile.lock"))
        );
    }

    #[test]
    fn a_lock_that_is_not_a_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("uv.lock")).unwrap();
        let err = ProjectLock::read(&dir.path().join("uv.lock")).unwrap_err().to_string();
        assert!(err.contains("cannot read") && err.contains("uv.lock") && err.contains("not a regular file"), "{err}");
        fs_err::write(dir.path().join("poetry.lock"), b"\xff\xfe").unwrap();
        let err = ProjectLock::read(&dir.path().join("poetry.lock")).unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn lines_and_spans_agree() {
        let text = "a\nbb\nccc";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 3), 2);
        assert_eq!(line_span(text, 2), 2..4);
        assert_eq!(line_span(text, 3), 5..8);
        assert_eq!(line_span(text, 9), 8..8);
    }
}
