//! The project tree as backends see it, walked safely: every path a backend option names is
//! checked (relative, no `..`, inside the project after resolving symlinks), every file found is
//! checked (UTF-8 name, no backslash or control character, a symlink never leads outside the
//! project), and `__pycache__` directories and compiled bytecode are never returned.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use toml::Spanned;

use super::Doc;
use super::error::ProjectError;

/// One file of the project: its path relative to the project root (`/`-separated) and where it is.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub rel: String,
    pub source: PathBuf,
}

/// The project directory, and its canonical form that every resolved path must stay inside.
pub(super) struct Tree {
    pub root: PathBuf,
    canonical: PathBuf,
}

/// Whether a walk skips the directory `name` inside `parent` (relative to the project root).
pub(super) type SkipDir<'a> = &'a dyn Fn(&str, &str) -> bool;

impl Tree {
    pub fn new(root: &Path) -> Result<Tree, ProjectError> {
        let canonical = fs_err::canonicalize(root).map_err(|err| {
            ProjectError::project(format!("cannot read the project directory `{}`: {err}", root.display()), None)
        })?;
        Ok(Tree { root: root.to_path_buf(), canonical })
    }

    /// A relative path an option names, checked and normalized (`./src/` -> `src`, `.` -> ``):
    /// no absolute path, no `..`, no backslash, and it resolves (through symlinks) inside the
    /// project.
    pub fn option_path(&self, doc: &Doc, value: &Spanned<String>, key: &str) -> Result<String, ProjectError> {
        let raw = value.get_ref();
        let bad = |why: &str| {
            doc.at(
                value.span(),
                format!("`{key}` = `{raw}` {why}"),
                "not a path inside the project",
                Some("options name paths relative to the directory of pyproject.toml, inside it".into()),
            )
        };
        if raw.starts_with('/') || raw.starts_with('~') || raw.contains('\\') || raw.contains(':') {
            return Err(bad("is not a relative path"));
        }
        if raw.chars().any(char::is_control) {
            return Err(bad("holds a control character"));
        }
        let mut parts = Vec::new();
        for part in raw.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(bad("leaves the project directory (`..`)")),
                part => parts.push(part),
            }
        }
        let rel = parts.join("/");
        if let Ok(resolved) = fs_err::canonicalize(self.root.join(&rel))
            && !resolved.starts_with(&self.canonical)
        {
            return Err(bad(&format!("resolves to `{}`, outside the project", resolved.display())));
        }
        Ok(rel)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() { self.root.clone() } else { self.root.join(rel) }
    }

    pub fn is_file(&self, rel: &str) -> bool {
        self.path(rel).is_file()
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        self.path(rel).is_dir()
    }

    /// The names in directory `rel` (sorted), for discovery: files and directories apart.
    pub fn list(&self, rel: &str) -> Result<(Vec<String>, Vec<String>), ProjectError> {
        let dir = self.path(rel);
        self.check_inside(&dir, rel)?;
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for entry in fs_err::read_dir(&dir).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let path = entry.path();
            if path.is_dir() {
                dirs.push(name);
            } else if path.is_file() {
                files.push(name);
            }
        }
        files.sort();
        dirs.sort();
        Ok((files, dirs))
    }

    fn check_inside(&self, path: &Path, rel: &str) -> Result<PathBuf, ProjectError> {
        let resolved = fs_err::canonicalize(path).map_err(|err| {
            ProjectError::project(format!("cannot read `{}` in the project: {err}", path.display()), None)
        })?;
        if !resolved.starts_with(&self.canonical) {
            return Err(ProjectError::project(
                format!(
                    "`{rel}` in the project `{}` is a symlink to `{}`, outside the project",
                    self.root.display(),
                    resolved.display()
                ),
                Some("a wheel only holds files of the project; copy the file in or remove the link".into()),
            ));
        }
        Ok(resolved)
    }

    /// Every file at or below `rel` (a file or a directory), sorted, less `__pycache__` and
    /// `*.pyc`/`*.pyo`, and less the directories `skip` names.
    pub fn walk(&self, rel: &str, skip: SkipDir<'_>) -> Result<Vec<Found>, ProjectError> {
        let start = self.path(rel);
        let resolved = self.check_inside(&start, rel)?;
        let mut out = Vec::new();
        if resolved.is_file() {
            if !is_bytecode(rel) {
                out.push(Found { rel: rel.to_string(), source: start });
            }
            return Ok(out);
        }
        let mut visited = BTreeSet::new();
        self.walk_dir(&start, rel, skip, &mut visited, &mut out)?;
        out.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(out)
    }

    fn walk_dir(
        &self,
        dir: &Path,
        rel: &str,
        skip: SkipDir<'_>,
        visited: &mut BTreeSet<PathBuf>,
        out: &mut Vec<Found>,
    ) -> Result<(), ProjectError> {
        let resolved = self.check_inside(dir, rel)?;
        if !visited.insert(resolved) {
            return Err(ProjectError::project(
                format!("`{rel}` in the project `{}` is a symlink loop", self.root.display()),
                Some("remove the link that points back up the tree".into()),
            ));
        }
        let mut entries = Vec::new();
        for entry in fs_err::read_dir(dir).map_err(io_error)? {
            entries.push(entry.map_err(io_error)?);
        }
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                return Err(ProjectError::project(
                    format!("`{}` has a name that is not UTF-8", path.display()),
                    Some("wheel entry names are UTF-8; rename the file".into()),
                ));
            };
            let child = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if let Err(why) = check_component(&name) {
                return Err(ProjectError::project(
                    format!("`{}` cannot be a wheel entry: {why}", path.display()),
                    Some("rename the file".into()),
                ));
            }
            let meta = fs_err::symlink_metadata(&path).map_err(io_error)?;
            let target = if meta.file_type().is_symlink() {
                self.check_inside(&path, &child)?;
                fs_err::metadata(&path).map_err(io_error)?
            } else {
                meta
            };
            if target.is_dir() {
                if name == "__pycache__" || skip(&name, rel) {
                    continue;
                }
                self.walk_dir(&path, &child, skip, visited, out)?;
            } else if target.is_file() {
                if !is_bytecode(&name) {
                    out.push(Found { rel: child, source: path });
                }
            } else {
                return Err(ProjectError::project(
                    format!("`{}` is neither a file nor a directory", path.display()),
                    Some("a wheel holds regular files; remove it from the package".into()),
                ));
            }
        }
        Ok(())
    }
}

fn io_error(err: std::io::Error) -> ProjectError {
    ProjectError::project(format!("cannot read the project: {err}"), None)
}

/// Compiled bytecode, which no backend ships and lbuild never does.
pub(super) fn is_bytecode(name: &str) -> bool {
    name.ends_with(".pyc") || name.ends_with(".pyo")
}

fn check_component(name: &str) -> Result<(), &'static str> {
    if name.contains('\\') {
        return Err("its name holds a backslash");
    }
    if name.chars().any(char::is_control) {
        return Err("its name holds a control character");
    }
    Ok(())
}

/// Whether `path` may be an archive path of a wheel: relative, `/`-separated, no empty, `.` or
/// `..` component, no backslash or control character, and not inside a `.dist-info` or `.data`
/// directory at the top (which would be read as the wheel's own metadata).
pub(super) fn check_archive_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.starts_with('/') {
        return Err("it is not a relative path".into());
    }
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(format!("it has the component `{part}`"));
        }
        check_component(part).map_err(str::to_string)?;
    }
    let top = path.split('/').next().unwrap_or_default();
    if path.contains('/') && (top.ends_with(".dist-info") || top.ends_with(".data")) {
        return Err(format!("`{top}` is where a wheel keeps its own metadata"));
    }
    Ok(())
}

/// Gitignore-style patterns (hatchling's and poetry's `include`/`exclude`, `.gitignore`), matched
/// against paths relative to the project root.
pub(super) struct Patterns {
    matcher: Gitignore,
    empty: bool,
}

impl Patterns {
    pub fn new(lines: &[String]) -> Result<Patterns, String> {
        let mut builder = GitignoreBuilder::new("");
        for line in lines {
            builder.add_line(None, line).map_err(|err| format!("`{line}`: {err}"))?;
        }
        let matcher = builder.build().map_err(|err| err.to_string())?;
        Ok(Patterns { matcher, empty: lines.iter().all(|line| line.trim().is_empty()) })
    }

    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Whether the file `rel` (or a directory above it) matches, the last matching pattern
    /// deciding (a `!` pattern un-matches).
    pub fn matches(&self, rel: &str) -> bool {
        !self.empty && self.matcher.matched_path_or_any_parents(Path::new(rel), false).is_ignore()
    }

    /// Whether the directory `rel` itself matches.
    pub fn matches_dir(&self, rel: &str) -> bool {
        !self.empty && self.matcher.matched_path_or_any_parents(Path::new(rel), true).is_ignore()
    }
}

/// Glob patterns in the style of Python's `glob`/`fnmatch` (`*` within a component, `**` across
/// them), compiled once.
pub(super) fn glob_set(patterns: &[String]) -> Result<globset::GlobSet, String> {
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| format!("`{pattern}`: {err}"))?;
        builder.add(glob);
    }
    builder.build().map_err(|err| err.to_string())
}
