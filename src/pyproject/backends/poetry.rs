//! `poetry.core.masonry.api` for a project with a `[project]` table: `[tool.poetry] packages`
//! (`include` a pathlib glob below `from`, optional `to` and `format`), else the module named
//! after the project (`<name>/`, `<name>.py`, `src/<name>/`, `src/<name>.py`); `include`
//! entries whose `format` has `wheel` (a bare string is sdist-only); `exclude` globs; and, inside
//! a git work tree, the files `.gitignore` rules ignore (poetry asks git), unless explicitly
//! included.

use std::collections::BTreeSet;

use serde::Deserialize;
use toml::Spanned;

use super::Selected;
use crate::pyproject::files::{GlobStyle, Tree, join};
use crate::pyproject::{Doc, LocalProject, ProjectError};

#[derive(Deserialize, Default)]
struct File {
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
struct Tool {
    poetry: Option<Options>,
}

#[derive(Deserialize, Default)]
struct Options {
    packages: Option<Spanned<Vec<Package>>>,
    include: Option<Vec<Include>>,
    exclude: Option<Vec<String>>,
    build: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
struct Package {
    include: String,
    from: Option<String>,
    to: Option<String>,
    format: Option<Formats>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Include {
    Path(String),
    Table { path: String, format: Option<Formats> },
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Formats {
    One(String),
    Many(Vec<String>),
}

impl Formats {
    fn has_wheel(&self) -> bool {
        match self {
            Formats::One(format) => format == "wheel",
            Formats::Many(formats) => formats.iter().any(|format| format == "wheel"),
        }
    }
}

const TABLE: &str = "[tool.poetry]";

pub(super) fn select(project: &LocalProject, tree: &Tree) -> Result<Selected, ProjectError> {
    let doc = &project.doc;
    let file: File = doc.parse()?;
    let options = file.tool.and_then(|tool| tool.poetry).unwrap_or_default();
    if let Some(build) = &options.build {
        return Err(doc.at(
            build.span(),
            format!("`{TABLE}.build` runs a build script, Python code that may add or change files"),
            "build script",
            Some(
                "lbuild decides a wheel's files without running Python; building with a host Python is not supported yet"
                    .into(),
            ),
        ));
    }
    let bad = |why: String| {
        doc.error(
            &format!("`{TABLE}` cannot be used: {why}"),
            "paths and patterns are relative to the project directory".into(),
        )
    };

    // The package includes: (base directory, include pattern, target).
    let mut packages: Vec<(String, String, Option<String>)> = Vec::new();
    match &options.packages {
        Some(list) => {
            for package in list.get_ref() {
                if !package.format.as_ref().is_none_or(Formats::has_wheel) {
                    continue;
                }
                let base = match &package.from {
                    Some(from) => tree.option_path(
                        doc,
                        &Spanned::new(list.span(), from.clone()),
                        &format!("{TABLE}.packages.from"),
                    )?,
                    None => String::new(),
                };
                let to = match &package.to {
                    Some(to) => Some(tree.option_path(
                        doc,
                        &Spanned::new(list.span(), to.clone()),
                        &format!("{TABLE}.packages.to"),
                    )?),
                    None => None,
                };
                packages.push((base, package.include.clone(), to));
            }
        }
        None => {
            let name = project.normalized_name.replace('-', "_");
            let choices =
                [("", name.clone()), ("", format!("{name}.py")), ("src", name.clone()), ("src", format!("{name}.py"))];
            let found: Vec<&(&str, String)> = choices
                .iter()
                .filter(|(base, path)| {
                    let rel = join(base, path);
                    if path.ends_with(".py") { tree.is_file(&rel) } else { tree.is_dir(&rel) }
                })
                .collect();
            let in_root: Vec<&&(&str, String)> = found.iter().filter(|(base, _)| base.is_empty()).collect();
            let chosen = if in_root.len() > 1 {
                return Err(doc.error(
                    &format!("poetry would refuse to build: both `{name}/` and `{name}.py` exist"),
                    "remove one, or set `packages` in `[tool.poetry]`".into(),
                ));
            } else if let Some(one) = in_root.first() {
                **one
            } else if found.len() > 1 {
                return Err(doc.error(
                    &format!("poetry would refuse to build: both `src/{name}/` and `src/{name}.py` exist"),
                    "remove one, or set `packages` in `[tool.poetry]`".into(),
                ));
            } else if let Some(one) = found.first() {
                *one
            } else {
                return Err(doc.error(
                    &format!("poetry would find no package `{name}` (in the project directory or `src/`)"),
                    "set `packages = [{ include = \"...\", from = \"...\" }]` in `[tool.poetry]`".into(),
                ));
            };
            packages.push((chosen.0.to_string(), chosen.1.clone(), None));
        }
    }

    // Explicit includes for the wheel, and what is excluded.
    let mut explicit: Vec<String> = Vec::new();
    for include in options.include.iter().flatten() {
        if let Include::Table { path, format: Some(format) } = include
            && format.has_wheel()
        {
            explicit.push(path.clone());
        }
    }
    let all_files = |path: &str| -> Result<Vec<String>, ProjectError> {
        Ok(tree.walk(path, &|_, _| false)?.into_iter().map(|found| found.rel).collect())
    };
    let mut explicitly_included: BTreeSet<String> = BTreeSet::new();
    let mut explicit_elements: Vec<String> = Vec::new();
    for pattern in &explicit {
        for element in tree.glob("", pattern, GlobStyle::Pathlib).map_err(bad)? {
            explicitly_included.extend(all_files(&element)?);
            explicit_elements.push(element);
        }
    }
    let mut excluded: BTreeSet<String> = BTreeSet::new();
    for pattern in options.exclude.iter().flatten() {
        for element in tree.glob("", pattern, GlobStyle::Pathlib).map_err(bad)? {
            excluded.extend(all_files(&element)?);
        }
    }
    let excluded: BTreeSet<String> = excluded.difference(&explicitly_included).cloned().collect();
    let in_git = in_git_work_tree(tree);
    let is_excluded = |rel: &str, kept: &Option<BTreeSet<String>>| {
        if let Some(kept) = kept
            && !kept.contains(rel)
            && !explicitly_included.contains(rel)
        {
            return true;
        }
        let mut path = rel;
        loop {
            if excluded.contains(path) {
                return true;
            }
            match path.rfind('/') {
                Some(at) => path = &path[..at],
                None => return false,
            }
        }
    };

    let mut out: Selected = Vec::new();
    for (base, pattern, to) in &packages {
        let elements = tree.glob(base, pattern, GlobStyle::Pathlib).map_err(bad)?;
        if elements.is_empty() {
            return Err(doc.error(
                &format!("poetry would refuse to build: `{}` matches nothing", join(base, pattern)),
                format!("check `packages` in `{TABLE}`"),
            ));
        }
        check_is_package(doc, tree, base, &elements, project)?;
        for element in elements {
            let kept = if in_git { Some(git_kept(tree, &element)) } else { None };
            for rel in all_files(&element)? {
                if is_excluded(&rel, &kept) {
                    continue;
                }
                let inner = if base.is_empty() { rel.clone() } else { rel[base.len() + 1..].to_string() };
                let archive = match to {
                    Some(to) => join(to, &inner),
                    None => inner,
                };
                out.push((archive, tree.path(&rel)));
            }
        }
    }
    for element in &explicit_elements {
        for rel in all_files(element)? {
            out.push((rel.clone(), tree.path(&rel)));
        }
    }
    // poetry resolves symlinks and ships the file under its resolved path (or fails when that
    // is outside the package's `from` directory): a link is refused rather than guessed at.
    for (_, source) in &out {
        let resolved = std::fs::canonicalize(source).ok();
        let expected = std::fs::canonicalize(&tree.root)
            .ok()
            .zip(source.strip_prefix(&tree.root).ok())
            .map(|(root, rel)| root.join(rel));
        // A link out of the project is refused with that reason by `wheel_files`.
        let inside =
            resolved.as_ref().zip(std::fs::canonicalize(&tree.root).ok()).is_some_and(|(r, root)| r.starts_with(root));
        if inside && resolved != expected {
            return Err(doc.error(
                &format!(
                    "`{}` is or lies below a symlink, which poetry would ship under the path it resolves to",
                    source.display()
                ),
                "replace the link with the file or directory itself".into(),
            ));
        }
    }
    Ok(out)
}

/// Poetry refuses a package include whose files hold no `.py` (unless a stub-only package).
fn check_is_package(
    doc: &Doc,
    tree: &Tree,
    base: &str,
    elements: &[String],
    project: &LocalProject,
) -> Result<(), ProjectError> {
    let _ = project;
    let files: Vec<String> = if let [single] = elements {
        if tree.is_file(single) {
            return Ok(());
        }
        tree.walk(single, &|_, _| false)?.into_iter().map(|found| found.rel).collect()
    } else {
        elements.iter().filter(|element| tree.is_file(element)).cloned().collect()
    };
    if !files.iter().any(|file| file.ends_with(".py") || file.ends_with(".pyi")) {
        return Err(doc.error(
            &format!("poetry would refuse to build: `{}` is not a package (no .py file)", join(base, &elements[0])),
            format!("check `packages` in `{TABLE}`"),
        ));
    }
    Ok(())
}

/// Whether the project is inside a git work tree (poetry then asks git which files are ignored).
fn in_git_work_tree(tree: &Tree) -> bool {
    tree.root.ancestors().any(|dir| dir.join(".git").exists())
}

/// The files at or below `element` that git would not ignore (poetry leaves out what
/// `git ls-files --others --ignored --exclude-standard` lists): the `.gitignore` files from the
/// work tree's top down, and `.git/info/exclude`. Files git already tracks are judged by the
/// rules too, which is stricter than git.
fn git_kept(tree: &Tree, element: &str) -> BTreeSet<String> {
    let mut kept = BTreeSet::new();
    let walker = ignore::WalkBuilder::new(tree.path(element))
        .hidden(false)
        .parents(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .ignore(false)
        .require_git(true)
        .build();
    for entry in walker.flatten() {
        if let Ok(rel) = entry.path().strip_prefix(&tree.root)
            && let Some(rel) = rel.to_str()
        {
            kept.insert(rel.to_string());
        }
    }
    kept
}
