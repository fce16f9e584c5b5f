//! The project tree as backends see it, walked safely: every path a backend option names is
//! checked (relative, no `..`, inside the project after resolving symlinks); walks never follow
//! a symlink out of the project (such an entry is listed, not entered, and refused by
//! [`Tree::unshippable`] if a backend selects it), never enter `__pycache__` and never return
//! compiled bytecode.

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
        if !resolved.is_dir() {
            out.push(Found { rel: rel.to_string(), source: start });
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
        // A directory reached twice (a symlink back up the tree) is walked once.
        let Ok(resolved) = fs_err::canonicalize(dir) else { return Ok(()) };
        if !visited.insert(resolved) {
            return Ok(());
        }
        let mut entries = Vec::new();
        for entry in fs_err::read_dir(dir).map_err(io_error)? {
            entries.push(entry.map_err(io_error)?);
        }
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = join(rel, &name);
            // What cannot be shipped (a symlink out of the project, a name that is not UTF-8, a
            // device) is still listed: the backend may not select it, and if it does,
            // `LocalProject::wheel_files` refuses it by name.
            let inside = fs_err::canonicalize(&path).is_ok_and(|resolved| resolved.starts_with(&self.canonical));
            let meta = fs_err::metadata(&path);
            if inside && meta.as_ref().is_ok_and(|meta| meta.is_dir()) {
                if name == "__pycache__" || skip(&name, rel) {
                    continue;
                }
                self.walk_dir(&path, &child, skip, visited, out)?;
            } else if !is_bytecode(&name) {
                out.push(Found { rel: child, source: path });
            }
        }
        Ok(())
    }

    /// Why the file at `source` cannot be in a wheel, if it cannot: it must be a regular file
    /// (a symlink to one is read through) inside the project, with a UTF-8 name.
    pub fn unshippable(&self, source: &Path) -> Option<String> {
        if source.to_str().is_none() {
            return Some("its name is not UTF-8".into());
        }
        let resolved = match fs_err::canonicalize(source) {
            Ok(resolved) => resolved,
            Err(_) => return Some("it is a broken symlink or cannot be read".into()),
        };
        if !resolved.starts_with(&self.canonical) {
            return Some(format!("it is a symlink to `{}`, outside the project", resolved.display()));
        }
        match fs_err::metadata(&resolved) {
            Ok(meta) if meta.is_file() => None,
            Ok(meta) if meta.is_dir() => Some("it is a directory".into()),
            Ok(_) => Some("it is not a regular file".into()),
            Err(_) => Some("it cannot be read".into()),
        }
    }

    /// Whether the directory `rel` resolves inside the project.
    fn inside(&self, rel: &str) -> bool {
        fs_err::canonicalize(self.path(rel)).is_ok_and(|resolved| resolved.starts_with(&self.canonical))
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

/// How a Python glob treats names: the `glob` module's wildcards never match a leading `.`
/// and its `**` at the end yields files too; `pathlib`'s match dotfiles and its final `**`
/// yields directories only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum GlobStyle {
    Module,
    Pathlib,
}

impl Tree {
    /// The files and directories `pattern` (relative to `base`, `/`-separated) matches, as
    /// paths relative to the root, sorted. A `..` component or an absolute pattern is refused.
    pub fn glob(&self, base: &str, pattern: &str, style: GlobStyle) -> Result<Vec<String>, String> {
        if pattern.starts_with('/') || pattern.contains('\\') {
            return Err(format!("`{pattern}` is not a relative pattern"));
        }
        let parts: Vec<&str> = pattern.split('/').filter(|part| !part.is_empty() && *part != ".").collect();
        if parts.contains(&"..") {
            return Err(format!("`{pattern}` leaves the project directory (`..`)"));
        }
        let hidden_ok =
            |part: &str, name: &str| style == GlobStyle::Pathlib || !name.starts_with('.') || part.starts_with('.');
        let mut current: BTreeSet<String> = BTreeSet::from([base.to_string()]);
        let mut results: BTreeSet<String> = BTreeSet::new();
        for (index, part) in parts.iter().enumerate() {
            let last = index + 1 == parts.len();
            let mut next = BTreeSet::new();
            if *part == "**" {
                let mut stack: Vec<String> = current.iter().cloned().collect();
                while let Some(dir) = stack.pop() {
                    if !self.inside(&dir) || !next.insert(dir.clone()) {
                        continue;
                    }
                    let (files, dirs) = self.list(&dir).map_err(|err| err.to_string())?;
                    for name in dirs {
                        if style == GlobStyle::Pathlib || !name.starts_with('.') {
                            stack.push(join(&dir, &name));
                        }
                    }
                    if last && style == GlobStyle::Module {
                        results.extend(files.iter().filter(|name| !name.starts_with('.')).map(|name| join(&dir, name)));
                    }
                }
                if last {
                    // `dir/**` yields `dir/` itself too; the base alone is not a match.
                    results.extend(next.iter().filter(|dir| *dir != base).cloned());
                }
            } else if part.contains(['*', '?', '[']) {
                let matcher = globset::GlobBuilder::new(part)
                    .literal_separator(true)
                    .build()
                    .map_err(|err| format!("`{pattern}`: {err}"))?
                    .compile_matcher();
                for dir in current.iter().filter(|dir| self.inside(dir)) {
                    let (files, dirs) = self.list(dir).map_err(|err| err.to_string())?;
                    for name in dirs.iter().filter(|name| matcher.is_match(name) && hidden_ok(part, name)) {
                        if last {
                            results.insert(join(dir, name));
                        } else {
                            next.insert(join(dir, name));
                        }
                    }
                    if last {
                        results.extend(
                            files
                                .iter()
                                .filter(|name| matcher.is_match(name) && hidden_ok(part, name))
                                .map(|name| join(dir, name)),
                        );
                    }
                }
            } else {
                for dir in &current {
                    let path = join(dir, part);
                    if last && (self.is_file(&path) || self.is_dir(&path)) {
                        results.insert(path);
                    } else if self.is_dir(&path) {
                        next.insert(path);
                    }
                }
            }
            current = next;
        }
        if parts.is_empty() {
            results.insert(base.to_string());
        }
        Ok(results.into_iter().collect())
    }
}

pub(super) fn join(base: &str, rel: &str) -> String {
    if base.is_empty() { rel.to_string() } else { format!("{base}/{rel}") }
}
