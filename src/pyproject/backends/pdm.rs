//! `pdm.backend`: `[tool.pdm.build]` `includes` (default: the top-level packages of
//! `package-dir`, else its top-level `*.py` modules), `excludes`, `source-includes` (default
//! `tests`; shipped only in the sdist, so left out of the wheel), `package-dir` (default `src`
//! when it exists and `includes` is not set, else the project directory). Patterns are Python
//! `glob` patterns from the project directory; an include and an exclude naming the same path
//! are weighed as pdm weighs them (more components, then fewer wildcards, win; a tie excludes).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::Selected;
use crate::pyproject::files::{DirLinks, GlobStyle, Tree, join};
use crate::pyproject::{Doc, LocalProject, ProjectError};

#[derive(Deserialize, Default)]
struct File {
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
struct Tool {
    pdm: Option<Pdm>,
}

#[derive(Deserialize, Default)]
struct Pdm {
    build: Option<Options>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Options {
    includes: Option<Vec<String>>,
    excludes: Option<Vec<String>>,
    source_includes: Option<Vec<String>>,
    package_dir: Option<Spanned<String>>,
    custom_hook: Option<Spanned<String>>,
    run_setuptools: Option<Spanned<bool>>,
    wheel_data: Option<Spanned<toml::Value>>,
}

const TABLE: &str = "[tool.pdm.build]";

pub(super) fn select(project: &LocalProject, tree: &Tree) -> Result<Selected, ProjectError> {
    let doc = &project.doc;
    let file: File = doc.parse()?;
    let options = file.tool.and_then(|tool| tool.pdm).and_then(|pdm| pdm.build).unwrap_or_default();
    if let Some(data) = &options.wheel_data {
        return Err(doc.at(
            data.span(),
            format!("`{TABLE}.wheel-data` installs files outside site-packages, which a Lambda zip has no place for"),
            "wheel data",
            Some("remove it, or move the files into the package".into()),
        ));
    }
    if let Some(run) = options.run_setuptools.as_ref().filter(|run| *run.get_ref()) {
        return Err(doc.at(
            run.span(),
            format!("`{TABLE}.run-setuptools` builds with a generated setup.py (extensions)"),
            "runs setuptools",
            Some("lbuild builds pure-Python wheels natively; building with a host Python is not supported yet".into()),
        ));
    }
    let hook = options.custom_hook.as_ref().map(|hook| hook.get_ref().clone()).unwrap_or_else(|| "pdm_build.py".into());
    if tree.is_file(&hook) {
        return Err(doc.error(
            &format!("the project has a pdm build hook `{hook}`, Python code that may add or change files"),
            "lbuild decides a wheel's files without running Python; building with a host Python is not supported yet"
                .into(),
        ));
    }
    let includes = options.includes.clone().unwrap_or_default();
    let excludes_option = options.excludes.clone().unwrap_or_default();
    let package_dir = match &options.package_dir {
        Some(dir) => tree.option_path(doc, dir, &format!("{TABLE}.package-dir"))?,
        None => {
            let under_src = includes.iter().any(|include| {
                let first = include.trim_start_matches("./").split('/').next().unwrap_or_default();
                first == "src"
            });
            let src_excluded = excludes_option.iter().any(|e| e == "src" || e == "src/");
            if (tree.is_dir("src") && includes.is_empty()) || (under_src && !src_excluded) {
                "src".to_string()
            } else {
                String::new()
            }
        }
    };
    let source_includes =
        options.source_includes.clone().filter(|list| !list.is_empty()).unwrap_or_else(|| vec!["tests".to_string()]);

    let mut include_keys: Vec<String> = Vec::new();
    if includes.is_empty() {
        let (files, dirs) = tree.list(&package_dir)?;
        let _ = files;
        let packages: Vec<String> = dirs
            .iter()
            .filter(|name| *name != "__pycache__" && *name != "__pypackages__")
            .filter(|name| {
                let dir = join(&package_dir, name);
                tree.is_file(&join(&dir, "__init__.py"))
                    || (name.ends_with("-stubs") && tree.is_file(&join(&dir, "__init__.pyi")))
            })
            .map(|name| join(&package_dir, name))
            .collect();
        if packages.is_empty() {
            include_keys.push(join(&package_dir, "*.py"));
        } else {
            include_keys.extend(packages);
        }
    } else {
        include_keys.extend(includes.iter().cloned());
    }
    include_keys.extend(source_includes.iter().cloned());
    let mut exclude_keys = vec![".pdm-build".to_string()];
    exclude_keys.extend(excludes_option.iter().cloned());
    exclude_keys.extend(source_includes.iter().cloned());

    let expand = |keys: &[String]| -> Result<BTreeMap<String, String>, ProjectError> {
        let mut out = BTreeMap::new();
        for key in keys {
            let paths = tree.glob("", key, GlobStyle::Module).map_err(|why| bad_pattern(doc, why))?;
            for path in paths {
                out.insert(path, key.clone());
            }
        }
        Ok(out)
    };
    let include_globs = expand(&include_keys)?;
    let mut exclude_globs = expand(&exclude_keys)?;
    let mut include_paths = Vec::new();
    for (path, key) in &include_globs {
        if let Some(exclude_key) = exclude_globs.get(path) {
            if weight(key) <= weight(exclude_key) {
                continue;
            }
            exclude_globs.remove(path);
        }
        include_paths.push(path.clone());
    }
    let exclude_paths: Vec<String> = exclude_globs.into_keys().collect();
    let excluded = |rel: &str| {
        exclude_paths
            .iter()
            .any(|exclude| rel == exclude || rel.starts_with(&format!("{exclude}/")) || fnmatch(exclude, rel))
    };

    let mut out: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    for include in &include_paths {
        let found = tree.walk_links(include, &|_, _| false, DirLinks::Skip)?;
        let is_file = tree.is_file(include);
        for file in found {
            if !is_file && excluded(&file.rel) {
                continue;
            }
            let archive = match file.rel.strip_prefix(&format!("{package_dir}/")) {
                Some(rest) if !package_dir.is_empty() => rest.to_string(),
                _ => file.rel.clone(),
            };
            out.insert(archive, file.source);
        }
    }
    Ok(out.into_iter().collect())
}

fn bad_pattern(doc: &Doc, why: String) -> ProjectError {
    doc.error(
        &format!("a pattern in `{TABLE}` cannot be used: {why}"),
        "patterns are relative to the project directory".into(),
    )
}

/// pdm's weight of a pattern: (components, minus the wildcards, `**` counting two).
fn weight(pattern: &str) -> (usize, i64) {
    let parts: Vec<&str> = pattern.split('/').filter(|part| !part.is_empty() && *part != ".").collect();
    let magic = |part: &str| part.contains(['*', '?', '[']);
    let wildcards: i64 = if magic(pattern) {
        parts
            .iter()
            .map(|part| {
                if *part == "**" {
                    2
                } else if magic(part) {
                    1
                } else {
                    0
                }
            })
            .sum()
    } else {
        0
    };
    (parts.len(), -wildcards)
}

/// `fnmatch(path, pattern)` where `*` matches `/` too.
fn fnmatch(pattern: &str, path: &str) -> bool {
    globset::Glob::new(pattern).map(|glob| glob.compile_matcher().is_match(path)).unwrap_or(false)
}
