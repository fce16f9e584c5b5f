//! uv's project tables that say where a dependency comes from: `[tool.uv.sources]` (a `path`, or
//! `workspace = true` for a member of the uv workspace) and `[tool.uv.workspace]` (the
//! `members` and `exclude` globs of a workspace root), and the discovery of the uv workspace
//! that holds a project: the nearest ancestor directory, up to a ceiling (the lbuild workspace
//! root), whose `pyproject.toml` has `[tool.uv.workspace]`.
//!
//! This module only reads; what a source means for the lock is the manifest's business. The
//! files may come from an untrusted change: directories are walked without following links,
//! to a bounded depth and count, and each `pyproject.toml` is read with a size bound.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::python::wheel_name::normalize_name;

/// Where `[tool.uv.sources]` says a dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// `{ path = "..." }`, as written (relative to the directory of the pyproject.toml).
    Path(String),
    /// `{ workspace = true }`: the member of the uv workspace with that name.
    Workspace,
    /// A source lbuild cannot honour, and why.
    Unsupported(SourceError),
}

/// One entry of `[tool.uv.sources]`.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The package name as written.
    pub name: String,
    pub kind: SourceKind,
    /// The entry's value in the pyproject.toml text.
    pub span: Range<usize>,
}

/// A problem at `span` of a pyproject.toml's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

#[derive(Deserialize)]
struct Document {
    project: Option<ProjectName>,
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct ProjectName {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Tool {
    uv: Option<Uv>,
}

#[derive(Deserialize)]
struct Uv {
    sources: Option<BTreeMap<String, Spanned<toml::Value>>>,
    workspace: Option<WorkspaceTable>,
}

#[derive(Deserialize)]
struct WorkspaceTable {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

fn parse(text: &str) -> Result<Document, SourceError> {
    toml::from_str(text).map_err(|err| SourceError {
        message: format!("not valid TOML: {}", err.message().trim_end()),
        span: err.span().unwrap_or(0..0),
        help: None,
    })
}

/// The `[tool.uv.sources]` of a pyproject.toml's text, in name order. A source lbuild cannot
/// honour (git, a URL, an index, a list of sources or one with a marker) is returned as
/// [`SourceKind::Unsupported`] with the reason, for the caller to refuse when the project needs
/// the package (lbuild would take it from the index under the same name) and to warn about
/// otherwise. A malformed entry is an error.
pub(crate) fn sources(text: &str) -> Result<Vec<Source>, SourceError> {
    let document = parse(text)?;
    let Some(table) = document.tool.and_then(|tool| tool.uv).and_then(|uv| uv.sources) else {
        return Ok(Vec::new());
    };
    let mut sources = Vec::new();
    for (name, value) in table {
        let span = value.span();
        let fail = |message: String, help: &str| SourceError { message, span: span.clone(), help: Some(help.into()) };
        let kind = match value.get_ref() {
            toml::Value::Table(entry) => match source_kind(&name, entry) {
                Ok(kind) => kind,
                Err((message, help, true)) => return Err(fail(message, help)),
                Err((message, help, false)) => SourceKind::Unsupported(fail(message, help)),
            },
            _ => SourceKind::Unsupported(fail(
                format!("`[tool.uv.sources]` gives `{name}` a list of sources"),
                "lbuild takes one source per package, `{ path = \"...\" }` or `{ workspace = true }`; sources \
                 chosen by markers are not supported",
            )),
        };
        sources.push(Source { name, kind, span });
    }
    Ok(sources)
}

/// The help for an entry that is wrong whatever lbuild supports.
const MALFORMED: &str = "write `{ path = \"...\" }` or `{ workspace = true }`";

/// What one table of `[tool.uv.sources]` says, or why lbuild cannot honour it (message, help).
/// (`true` for an entry that is wrong whatever lbuild supports.)
fn source_kind(name: &str, entry: &toml::Table) -> Result<SourceKind, (String, &'static str, bool)> {
    if entry.contains_key("marker") {
        return Err((
            format!("the source of `{name}` in `[tool.uv.sources]` has a `marker`, which lbuild does not evaluate"),
            "remove the marker: the local package is then used on every target",
            false,
        ));
    }
    if let Some(path) = entry.get("path") {
        return match path.as_str() {
            Some(path) => Ok(SourceKind::Path(path.to_string())),
            None => Err((format!("the `path` of `{name}` in `[tool.uv.sources]` is not a string"), MALFORMED, true)),
        };
    }
    if let Some(workspace) = entry.get("workspace") {
        return match workspace.as_bool() {
            Some(true) => Ok(SourceKind::Workspace),
            _ => Err((format!("`workspace` of `{name}` in `[tool.uv.sources]` must be `true`"), MALFORMED, true)),
        };
    }
    if entry.contains_key("git") {
        return Err((
            format!("`{name}` comes from git in `[tool.uv.sources]`, which lbuild does not lock"),
            "lbuild installs only index packages, find-links wheels and local projects; check the repository \
             out inside the workspace and use `{ path = \"...\" }`, or publish it to an index",
            false,
        ));
    }
    if entry.contains_key("url") {
        return Err((
            format!("`{name}` comes from a URL in `[tool.uv.sources]`, which lbuild does not lock"),
            "put the wheel in a `find-links` directory of lambda.toml and pin it with \
             `[workspace.sources] NAME = { find-links = true }`",
            false,
        ));
    }
    if entry.contains_key("index") {
        return Err((
            format!("`{name}` is pinned to an index in `[tool.uv.sources]`, which lbuild does not read"),
            "lbuild takes indexes from lambda.toml: declare the index in `[[workspace.index]]` and pin the \
             package with `[workspace.sources] NAME = { index = \"...\" }`",
            false,
        ));
    }
    Err((format!("the source of `{name}` in `[tool.uv.sources]` has no `path` or `workspace`"), MALFORMED, true))
}

/// The normalized names a pyproject.toml's project requires: `[project].dependencies`, every
/// `[project].optional-dependencies` list and every `[dependency-groups]` list (entries that do
/// not parse as requirements are left out).
pub(crate) fn required_names(text: &str) -> std::collections::BTreeSet<String> {
    #[derive(Deserialize)]
    struct Names {
        project: Option<NamesProject>,
        #[serde(rename = "dependency-groups", default)]
        groups: BTreeMap<String, Vec<toml::Value>>,
    }
    #[derive(Deserialize)]
    struct NamesProject {
        #[serde(default)]
        dependencies: Vec<toml::Value>,
        #[serde(rename = "optional-dependencies", default)]
        optional: BTreeMap<String, Vec<toml::Value>>,
    }
    let Ok(names) = toml::from_str::<Names>(text) else { return Default::default() };
    let project = names.project.unwrap_or(NamesProject { dependencies: Vec::new(), optional: BTreeMap::new() });
    project
        .dependencies
        .iter()
        .chain(project.optional.values().flatten())
        .chain(names.groups.values().flatten())
        .filter_map(toml::Value::as_str)
        .filter_map(|text| {
            use std::str::FromStr;
            pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(text).ok()
        })
        .map(|requirement| normalize_name(requirement.name.as_ref()))
        .collect()
}

/// The `[project].name` of a pyproject.toml's text, if it has one.
fn project_name(text: &str) -> Option<String> {
    parse(text).ok()?.project?.name
}

/// A uv workspace: its root, and its members by normalized name.
#[derive(Debug, Clone)]
pub(crate) struct UvWorkspace {
    pub root: PathBuf,
    /// The root's pyproject.toml.
    pub pyproject: PathBuf,
    /// Normalized `[project].name` -> the member's directory (the root too, when it is a project).
    pub members: BTreeMap<String, PathBuf>,
}

/// A problem finding or reading a uv workspace, in `file` (at `span` of `text`, when known).
#[derive(Debug, Clone)]
pub(crate) struct WorkspaceError {
    pub file: PathBuf,
    pub text: String,
    pub error: SourceError,
}

/// How deep below a uv workspace root members are looked for, and how many directories at most:
/// real workspaces have members a few levels down; a hostile tree must not take minutes.
const MAX_DEPTH: usize = 8;
const MAX_DIRECTORIES: usize = 20_000;

/// The uv workspace that holds the project in `project_dir`: the nearest directory from
/// `project_dir` up to `ceiling` (both included) whose pyproject.toml has `[tool.uv.workspace]`.
/// `None` when there is none below the ceiling.
pub(crate) fn containing(project_dir: &Path, ceiling: &Path) -> Result<Option<UvWorkspace>, WorkspaceError> {
    let ceiling = crate::fsutil::absolute_normalized(ceiling);
    let mut dir = crate::fsutil::absolute_normalized(project_dir);
    loop {
        if !dir.starts_with(&ceiling) {
            return Ok(None);
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file() {
            let text = read(&pyproject).map_err(|message| WorkspaceError {
                file: pyproject.clone(),
                text: String::new(),
                error: SourceError { message, span: 0..0, help: None },
            })?;
            let fail = |error: SourceError| WorkspaceError { file: pyproject.clone(), text: text.clone(), error };
            let document = parse(&text).map_err(fail)?;
            let root_name = document.project.as_ref().and_then(|project| project.name.clone());
            if let Some(table) = document.tool.and_then(|tool| tool.uv).and_then(|uv| uv.workspace) {
                let members = members(&dir, &table, root_name.as_deref()).map_err(fail)?;
                return Ok(Some(UvWorkspace { root: dir, pyproject, members }));
            }
        }
        if dir == ceiling || !dir.pop() {
            return Ok(None);
        }
    }
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, SourceError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
        let glob = GlobBuilder::new(trimmed).literal_separator(true).build().map_err(|err| SourceError {
            message: format!("`[tool.uv.workspace]` has an invalid glob `{pattern}`: {}", err.kind()),
            span: 0..0,
            help: None,
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|err| SourceError { message: err.to_string(), span: 0..0, help: None })
}

/// The members `table`'s globs select below `root`: directories (not links) that hold a
/// pyproject.toml with a `[project].name`, matched by `members` and not by `exclude`.
fn members(
    root: &Path,
    table: &WorkspaceTable,
    root_name: Option<&str>,
) -> Result<BTreeMap<String, PathBuf>, SourceError> {
    let include = glob_set(&table.members)?;
    let exclude = glob_set(&table.exclude)?;
    let mut found = BTreeMap::new();
    if let Some(name) = root_name {
        found.insert(normalize_name(name), root.to_path_buf());
    }
    // A member is as deep as its glob has parts (`libs/*` is two); only `**` needs the bound.
    let depth_needed = table
        .members
        .iter()
        .map(|pattern| {
            let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
            if pattern.contains("**") { MAX_DEPTH } else { pattern.split('/').count() }
        })
        .max()
        .unwrap_or(0)
        .min(MAX_DEPTH);
    let mut stack: Vec<(PathBuf, String, usize)> = vec![(root.to_path_buf(), String::new(), 0)];
    let mut seen = 0;
    while let Some((dir, relative, depth)) = stack.pop() {
        if depth >= depth_needed {
            continue;
        }
        let Ok(entries) = fs_err::read_dir(&dir) else { continue };
        let mut children: Vec<_> = entries.filter_map(Result::ok).collect();
        children.sort_by_key(|entry| entry.file_name());
        for entry in children {
            // Not followed: a link may point anywhere.
            if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            if name.starts_with('.') || name == "node_modules" || name == "__pycache__" {
                continue;
            }
            seen += 1;
            if seen > MAX_DIRECTORIES {
                return Err(SourceError {
                    message: format!(
                        "the uv workspace at `{}` has more than {MAX_DIRECTORIES} directories to search for members",
                        root.display()
                    ),
                    span: 0..0,
                    help: Some("narrow `[tool.uv.workspace] members`".into()),
                });
            }
            let child_relative = if relative.is_empty() { name.clone() } else { format!("{relative}/{name}") };
            let path = entry.path();
            if include.is_match(&child_relative) && !exclude.is_match(&child_relative) {
                let pyproject = path.join("pyproject.toml");
                if let Ok(text) = read(&pyproject)
                    && let Some(member) = project_name(&text)
                {
                    found.entry(normalize_name(&member)).or_insert_with(|| path.clone());
                }
            }
            stack.push((path, child_relative, depth + 1));
        }
    }
    Ok(found)
}

/// A pyproject.toml's text, with the bound lbuild puts on every text file it reads.
fn read(path: &Path) -> Result<String, String> {
    crate::manifest::read_text_file(path).map_err(|problem| format!("cannot read `{}`: {problem}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_read_and_unsupported_kinds_say_why() {
        let text = "[project]\nname = \"api\"\n\n[tool.uv.sources]\ncommon = { workspace = true }\nutil = { path = \"../util\", editable = true }\n";
        let found = sources(text).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].name.as_str(), &found[0].kind), ("common", &SourceKind::Workspace));
        assert_eq!(found[1].kind, SourceKind::Path("../util".into()));
        assert_eq!(&text[found[1].span.clone()], "{ path = \"../util\", editable = true }");
        for (entry, expected) in [
            ("x = { git = \"https://github.com/a/b\" }", "git"),
            ("x = { url = \"https://e.test/x.whl\" }", "URL"),
            ("x = { index = \"internal\" }", "index"),
            ("x = [{ path = \"a\", marker = \"sys_platform == 'linux'\" }]", "list"),
            ("x = { path = \"a\", marker = \"python_version > '3'\" }", "marker"),
        ] {
            let found = sources(&format!("[tool.uv.sources]\n{entry}\n")).unwrap();
            let SourceKind::Unsupported(err) = &found[0].kind else { panic!("{entry}: {:?}", found[0].kind) };
            assert!(err.message.contains(expected), "{entry}: {}", err.message);
            assert!(err.help.is_some());
        }
        for entry in ["x = { workspace = false }", "x = { path = 1 }", "x = { editable = true }"] {
            assert!(sources(&format!("[tool.uv.sources]\n{entry}\n")).is_err(), "{entry}");
        }
        assert!(sources("[project]\nname = \"x\"\n").unwrap().is_empty());
    }

    #[test]
    fn required_names_cover_dependencies_extras_and_groups() {
        let text = "[project]\nname = \"x\"\ndependencies = [\"Acme_Common>=1\"]\n[project.optional-dependencies]\nfast = [\"orjson\"]\n[dependency-groups]\ndev = [\"pytest\", { include-group = \"lint\" }]\n";
        let names: Vec<String> = required_names(text).into_iter().collect();
        assert_eq!(names, ["acme-common", "orjson", "pytest"]);
    }

    #[test]
    fn the_nearest_uv_workspace_root_gives_its_members_by_glob_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        };
        write(
            "pyproject.toml",
            "[tool.uv.workspace]\nmembers = [\"libs/*\", \"functions/*\"]\nexclude = [\"libs/old\"]\n",
        );
        write("libs/common/pyproject.toml", "[project]\nname = \"Acme_Common\"\nversion = \"1.0\"\n");
        write("libs/old/pyproject.toml", "[project]\nname = \"old\"\nversion = \"1.0\"\n");
        write("libs/deep/nested/pyproject.toml", "[project]\nname = \"nested\"\nversion = \"1.0\"\n");
        write("functions/api/pyproject.toml", "[project]\nname = \"api\"\nversion = \"1.0\"\n");
        let found = containing(&root.join("functions/api"), root).unwrap().unwrap();
        assert_eq!(found.root, crate::fsutil::absolute_normalized(root));
        let names: Vec<&str> = found.members.keys().map(String::as_str).collect();
        assert_eq!(names, ["acme-common", "api"]);
        // Above the ceiling nothing is searched.
        assert!(containing(&root.join("functions/api"), &root.join("functions")).unwrap().is_none());
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            fs_err::create_dir_all(outside.path().join("evil")).unwrap();
            fs_err::write(outside.path().join("evil/pyproject.toml"), "[project]\nname = \"evil\"\n").unwrap();
            std::os::unix::fs::symlink(outside.path().join("evil"), root.join("libs/evil")).unwrap();
            let found = containing(&root.join("functions/api"), root).unwrap().unwrap();
            assert!(!found.members.contains_key("evil"), "a linked directory is not a member");
        }
    }
}
