//! `hatchling`: the wheel target's file selection. Options come from
//! `[tool.hatch.build.targets.wheel]`, else `[tool.hatch.build]`; without `packages`,
//! `only-include` or `include`, hatchling's default selection: `<name>/__init__.py`,
//! `src/<name>/__init__.py`, `<name>.py`, or the one `*/<name>/__init__.py` (a namespace), for
//! the name as written and normalized (each run of other characters than letters, digits and
//! `.` replaced by `_`). Files matching `*.py[cdo]`, `/dist`, the `.gitignore` hatchling finds
//! (in the root or the nearest parent, up to a `.git`) and `exclude` are left out; `artifacts`
//! are kept regardless.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::Selected;
use crate::pyproject::files::{Patterns, Tree};
use crate::pyproject::{Doc, LocalProject, ProjectError};

#[derive(Deserialize, Default)]
struct File {
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
struct Tool {
    hatch: Option<Hatch>,
}

#[derive(Deserialize, Default)]
struct Hatch {
    build: Option<Build>,
}

#[derive(Deserialize, Default)]
struct Build {
    #[serde(flatten)]
    options: Options,
    targets: Option<Targets>,
}

#[derive(Deserialize, Default)]
struct Targets {
    wheel: Option<Options>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "kebab-case")]
struct Options {
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    packages: Option<Vec<String>>,
    only_include: Option<Vec<String>>,
    sources: Option<Spanned<toml::Value>>,
    artifacts: Option<Vec<String>>,
    only_packages: Option<bool>,
    bypass_selection: Option<bool>,
    ignore_vcs: Option<bool>,
    skip_excluded_dirs: Option<bool>,
    force_include: Option<Spanned<toml::Table>>,
    shared_data: Option<Spanned<toml::Table>>,
    shared_scripts: Option<Spanned<toml::Table>>,
    hooks: Option<Spanned<toml::Table>>,
}

/// Directories hatchling never walks into.
const EXCLUDED_DIRECTORIES: [&str; 11] = [
    "__pycache__",
    ".venv",
    ".git",
    ".hg",
    ".hatch",
    ".tox",
    ".nox",
    ".ruff_cache",
    ".pytest_cache",
    ".mypy_cache",
    ".pixi",
];

const TARGET: &str = "[tool.hatch.build.targets.wheel]";

pub(super) fn select(project: &LocalProject, tree: &Tree) -> Result<Selected, ProjectError> {
    let doc = &project.doc;
    let file: File = doc.parse()?;
    let build = file.tool.and_then(|tool| tool.hatch).and_then(|hatch| hatch.build).unwrap_or_default();
    let target = build.targets.and_then(|targets| targets.wheel).unwrap_or_default();
    let global = build.options;
    for (options, table) in [(&target, TARGET), (&global, "[tool.hatch.build]")] {
        refuse(doc, &options.force_include, table, "force-include", "adds files from anywhere to the wheel")?;
        refuse(doc, &options.shared_data, table, "shared-data", "installs files outside site-packages")?;
        refuse(doc, &options.shared_scripts, table, "shared-scripts", "installs scripts outside site-packages")?;
        if let Some(hooks) = &options.hooks
            && !hooks.get_ref().is_empty()
        {
            return Err(doc.at(
                hooks.span(),
                format!("`{table}.hooks` runs build hooks, Python code that may add or change files"),
                "build hooks",
                Some(
                    "lbuild decides a wheel's files without running Python; building with a host Python is not supported yet"
                        .into(),
                ),
            ));
        }
    }
    macro_rules! pick {
        ($field:ident) => {
            target.$field.clone().or_else(|| global.$field.clone())
        };
    }
    let mut include = pick!(include).unwrap_or_default();
    let exclude = pick!(exclude).unwrap_or_default();
    let mut packages = pick!(packages).unwrap_or_default();
    let mut only_include = pick!(only_include).unwrap_or_default();
    let sources = pick!(sources);
    let artifacts = pick!(artifacts).unwrap_or_default();
    let only_packages = pick!(only_packages).unwrap_or(false);
    let bypass = pick!(bypass_selection).unwrap_or(false);
    let ignore_vcs = pick!(ignore_vcs).unwrap_or(false);
    let skip_excluded_dirs = pick!(skip_excluded_dirs).unwrap_or(false);

    let mut exclude_all = false;
    if include.is_empty() && packages.is_empty() && only_include.is_empty() {
        match default_selection(project, tree)? {
            Some(Default::Package(package)) => packages.push(package),
            Some(Default::Module(module)) => only_include.push(module),
            None if bypass => exclude_all = true,
            None => {
                let names = candidates(project).join(" or ");
                return Err(doc.error(
                    &format!(
                        "hatchling would find nothing to put in the wheel: no `{names}` package or module (in \
                         the project directory or `src/`)"
                    ),
                    format!(
                        "say which files to ship in `{TARGET}`, e.g. `packages = [\"src/{}\"]`",
                        candidates(project)[0]
                    ),
                ));
            }
        }
    }
    let _ = &mut include;

    let packages = packages
        .iter()
        .map(|package| normal_path(doc, tree, package, "packages"))
        .collect::<Result<std::collections::BTreeSet<_>, _>>()?;
    let only_include: Vec<String> = if only_include.is_empty() {
        packages.iter().cloned().collect()
    } else {
        only_include.iter().map(|path| normal_path(doc, tree, path, "only-include")).collect::<Result<_, _>>()?
    };

    // Rewrites of path prefixes: `src/` -> `` for a package `src/foo`, and `sources`.
    let mut rewrites: BTreeMap<String, String> = BTreeMap::new();
    match sources.as_ref().map(|s| (s.span(), s.get_ref())) {
        None => {}
        Some((_, toml::Value::Array(items))) => {
            for item in items {
                let Some(source) = item.as_str() else { return Err(bad_sources(doc, sources.as_ref())) };
                rewrites.insert(dir_prefix(&normal_path(doc, tree, source, "sources")?), String::new());
            }
        }
        Some((_, toml::Value::Table(table))) => {
            for (source, to) in table {
                let Some(to) = to.as_str() else { return Err(bad_sources(doc, sources.as_ref())) };
                let to = normal_path(doc, tree, to, "sources")?;
                let from = if source.is_empty() {
                    String::new()
                } else {
                    dir_prefix(&normal_path(doc, tree, source, "sources")?)
                };
                rewrites.insert(from, if to.is_empty() { String::new() } else { format!("{to}/") });
            }
        }
        Some(_) => return Err(bad_sources(doc, sources.as_ref())),
    }
    for package in &packages {
        if let Some((parent, _)) = package.rsplit_once('/')
            && !rewrites.contains_key(&dir_prefix(package))
        {
            rewrites.insert(dir_prefix(parent), String::new());
        }
    }
    let distribution_path = |rel: &str| -> String {
        for (from, to) in &rewrites {
            if from.is_empty() {
                return format!("{to}{rel}");
            }
            if let Some(rest) = rel.strip_prefix(from.as_str()) {
                return format!("{to}{rest}");
            }
        }
        rel.to_string()
    };

    let mut exclude_lines = vec!["*.py[cdo]".to_string(), "/dist".to_string()];
    if !ignore_vcs {
        exclude_lines.extend(vcs_patterns(tree));
    }
    exclude_lines.extend(exclude.iter().cloned());
    let pattern_error = |key: &'static str| {
        move |why: String| {
            doc.error(&format!("`{key}` has an invalid pattern {why}"), "patterns are gitignore-style".into())
        }
    };
    let excluded = Patterns::new(&exclude_lines).map_err(pattern_error("exclude"))?;
    let mut include_lines = include.clone();
    include_lines.extend(packages.iter().map(|package| format!("/{package}/")));
    let included = Patterns::new(&include_lines).map_err(pattern_error("include"))?;
    let artifacts = Patterns::new(&artifacts).map_err(pattern_error("artifacts"))?;

    let keep = |rel: &str, explicit: bool, is_package: bool| -> bool {
        artifacts.matches(rel)
            || (!exclude_all
                && (is_package || !only_packages)
                && !excluded.matches(rel)
                && (explicit || included.is_empty() || included.matches(rel)))
    };
    let mut out = Vec::new();
    let mut push_all = |found: Vec<crate::pyproject::files::Found>, explicit: bool| {
        for file in found {
            let name = file.rel.rsplit('/').next().unwrap_or_default();
            if name == ".DS_Store" {
                continue;
            }
            let dir = file.rel.rsplit_once('/').map_or("", |(dir, _)| dir);
            let is_package =
                tree.is_file(&if dir.is_empty() { "__init__.py".into() } else { format!("{dir}/__init__.py") });
            if keep(&file.rel, explicit, is_package) {
                out.push((distribution_path(&file.rel), file.source));
            }
        }
    };
    if !only_include.is_empty() {
        for path in &only_include {
            if !tree.is_file(path) && !tree.is_dir(path) {
                continue;
            }
            let found = tree.walk(path, &|name, _| EXCLUDED_DIRECTORIES.contains(&name))?;
            push_all(found, true);
        }
    } else {
        let found = tree.walk("", &|name, parent| {
            let rel = if parent.is_empty() { name.to_string() } else { format!("{parent}/{name}") };
            EXCLUDED_DIRECTORIES.contains(&name) || (skip_excluded_dirs && excluded.matches_dir(&rel))
        })?;
        push_all(found, false);
    }
    Ok(out)
}

enum Default {
    Package(String),
    Module(String),
}

/// The name as hatchling spells a file name: runs of characters other than word characters
/// and `.` become `_`; as written, then normalized.
fn candidates(project: &LocalProject) -> Vec<String> {
    let component = |name: &str| {
        let mut out = String::new();
        let mut in_run = false;
        for c in name.chars() {
            if c.is_alphanumeric() || c == '_' || c == '.' {
                out.push(c);
                in_run = false;
            } else if !in_run {
                out.push('_');
                in_run = true;
            }
        }
        out
    };
    let mut names = vec![component(&project.name)];
    let normalized = component(&project.normalized_name);
    if !names.contains(&normalized) {
        names.push(normalized);
    }
    names
}

fn default_selection(project: &LocalProject, tree: &Tree) -> Result<Option<Default>, ProjectError> {
    for name in candidates(project) {
        if tree.is_file(&format!("{name}/__init__.py")) {
            return Ok(Some(Default::Package(name)));
        }
        if tree.is_file(&format!("src/{name}/__init__.py")) {
            return Ok(Some(Default::Package(format!("src/{name}"))));
        }
        if tree.is_file(&format!("{name}.py")) {
            return Ok(Some(Default::Module(format!("{name}.py"))));
        }
        let (_, dirs) = tree.list("")?;
        let namespaces: Vec<&String> =
            dirs.iter().filter(|dir| tree.is_file(&format!("{dir}/{name}/__init__.py"))).collect();
        if let [namespace] = namespaces.as_slice() {
            return Ok(Some(Default::Package((*namespace).clone())));
        }
    }
    Ok(None)
}

fn refuse(
    doc: &Doc,
    value: &Option<Spanned<toml::Table>>,
    table: &str,
    key: &str,
    why: &str,
) -> Result<(), ProjectError> {
    match value {
        Some(value) if !value.get_ref().is_empty() => Err(doc.at(
            value.span(),
            format!("`{table}.{key}` {why}; lbuild does not support it"),
            "unsupported option",
            Some("ship the files inside a package directory (`packages`, `only-include`) instead".into()),
        )),
        _ => Ok(()),
    }
}

fn bad_sources(doc: &Doc, sources: Option<&Spanned<toml::Value>>) -> ProjectError {
    doc.at(
        sources.map(|s| s.span()).unwrap_or(0..0),
        "`sources` must be a list of directories or a table of directory rewrites".into(),
        "invalid sources",
        None,
    )
}

/// A path option hatchling reads, normalized, checked to stay inside the project.
fn normal_path(doc: &Doc, tree: &Tree, path: &str, key: &str) -> Result<String, ProjectError> {
    tree.option_path(doc, &Spanned::new(0..0, path.to_string()), key)
}

fn dir_prefix(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!("{path}/") }
}

/// The lines of the `.gitignore` hatchling reads: in the project root, else the nearest parent
/// directory's, searching up to (and including) the first directory holding `.git`.
fn vcs_patterns(tree: &Tree) -> Vec<String> {
    let mut dir = tree.root.as_path();
    loop {
        let candidate = dir.join(".gitignore");
        if candidate.is_file() {
            return crate::manifest::read_text_file(&candidate)
                .map(|text| text.lines().map(str::to_string).collect())
                .unwrap_or_default();
        }
        if dir.join(".git").exists() {
            return Vec::new();
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => return Vec::new(),
        }
    }
}
