//! `setuptools.build_meta`: the packages (`[tool.setuptools] packages`, a list or
//! `packages.find` with `where`, `include`, `exclude`, `namespaces`; else automatic discovery:
//! `package-dir` entries, then a `src` layout, then a flat layout with setuptools' reserved
//! names left out and more than one top-level package or module refused), `py-modules`,
//! `package-dir`, and the data files of each package: `package-data` globs (and `*.pyi`,
//! `py.typed`, which setuptools always adds), what `MANIFEST.in` adds inside a package directory
//! (`include-package-data`, on by default), less `exclude-package-data`. The files a VCS plugin
//! (setuptools-scm) would add cannot be known: such a project is refused, with the way out.

use std::collections::BTreeMap;

use globset::{Glob, GlobBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::Selected;
use crate::pyproject::files::Tree;
use crate::pyproject::{Doc, LocalProject, ProjectError};

#[derive(Deserialize, Default)]
struct File {
    tool: Option<Tool>,
    #[serde(rename = "build-system")]
    build_system: Option<BuildSystem>,
}

#[derive(Deserialize, Default)]
struct BuildSystem {
    #[serde(default)]
    requires: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Tool {
    setuptools: Option<Options>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Options {
    packages: Option<Spanned<toml::Value>>,
    package_dir: Option<BTreeMap<String, Spanned<String>>>,
    py_modules: Option<Vec<String>>,
    package_data: Option<BTreeMap<String, Vec<String>>>,
    exclude_package_data: Option<BTreeMap<String, Vec<String>>>,
    include_package_data: Option<Spanned<bool>>,
    ext_modules: Option<Spanned<toml::Value>>,
    data_files: Option<Spanned<toml::Value>>,
    script_files: Option<Spanned<toml::Value>>,
    cmdclass: Option<Spanned<toml::Value>>,
    namespace_packages: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Find {
    #[serde(default)]
    r#where: Option<Vec<String>>,
    #[serde(default)]
    include: Option<Vec<String>>,
    #[serde(default)]
    exclude: Option<Vec<String>>,
    #[serde(default)]
    namespaces: Option<bool>,
}

const TABLE: &str = "[tool.setuptools]";

/// Directories (and their subpackages) flat-layout discovery never takes for packages.
const FLAT_EXCLUDED_PACKAGES: &[&str] = &[
    "ci",
    "bin",
    "debian",
    "doc",
    "docs",
    "documentation",
    "manpages",
    "news",
    "newsfragments",
    "changelog",
    "test",
    "tests",
    "unit_test",
    "unit_tests",
    "example",
    "examples",
    "scripts",
    "tools",
    "util",
    "utils",
    "python",
    "build",
    "dist",
    "venv",
    "env",
    "requirements",
    "tasks",
    "fabfile",
    "site_scons",
    "benchmark",
    "benchmarks",
    "exercise",
    "exercises",
    "htmlcov",
    "[._]*",
];

/// Module names flat-layout discovery never takes for top-level modules.
const FLAT_EXCLUDED_MODULES: &[&str] = &[
    "setup",
    "conftest",
    "test",
    "tests",
    "example",
    "examples",
    "build",
    "toxfile",
    "noxfile",
    "pavement",
    "dodo",
    "tasks",
    "fabfile",
    "[Ss][Cc]onstruct",
    "conanfile",
    "manage",
    "benchmark",
    "benchmarks",
    "exercise",
    "exercises",
    "[._]*",
];

/// The package data setuptools adds to every package.
const IMPLICIT_DATA: [&str; 2] = ["*.pyi", "py.typed"];

pub(super) fn select(project: &LocalProject, tree: &Tree) -> Result<Selected, ProjectError> {
    let doc = &project.doc;
    let file: File = doc.parse()?;
    let options = file.tool.and_then(|tool| tool.setuptools).unwrap_or_default();
    check_setup_files(doc, tree)?;
    for (value, key, why) in [
        (&options.ext_modules, "ext-modules", "builds C extensions"),
        (&options.data_files, "data-files", "installs files outside site-packages"),
        (&options.script_files, "script-files", "installs scripts outside site-packages"),
        (&options.cmdclass, "cmdclass", "runs custom build commands"),
        (&options.namespace_packages, "namespace-packages", "declares pkg_resources namespaces (deprecated)"),
    ] {
        if let Some(value) = value {
            return Err(doc.at(
                value.span(),
                format!("`{TABLE}.{key}` {why}; lbuild decides a wheel's files without running setuptools"),
                "unsupported option",
                Some("remove it; lbuild does not build projects with a host Python yet".into()),
            ));
        }
    }
    let include_package_data = options.include_package_data.as_ref().is_none_or(|value| *value.get_ref());
    let vcs_plugin = file.build_system.iter().flat_map(|bs| bs.requires.iter()).find(|req| {
        let name = crate::python::wheel_name::normalize_name(
            req.split(|c: char| !(c.is_alphanumeric() || "-_.".contains(c))).next().unwrap_or_default(),
        );
        name == "setuptools-scm" || name == "setuptools-git" || name == "setuptools-svn"
    });
    if include_package_data && let Some(plugin) = vcs_plugin {
        return Err(doc.error(
            &format!(
                "`{plugin}` in `[build-system].requires` adds every file the VCS tracks inside the packages \
                 (`include-package-data` is on by default), which lbuild cannot see"
            ),
            format!(
                "list the data files in `{TABLE}.package-data` and set `include-package-data = false` in `{TABLE}`"
            ),
        ));
    }

    // package-dir, checked.
    let mut package_dir: BTreeMap<String, String> = BTreeMap::new();
    for (package, dir) in options.package_dir.iter().flatten() {
        let rel = tree.option_path(doc, dir, &format!("{TABLE}.package-dir"))?;
        if !package.is_empty() && rel.is_empty() {
            return Err(doc.at(
                dir.span(),
                format!("`{TABLE}.package-dir` maps the package `{package}` to the project directory itself"),
                "package in the project root",
                Some(
                    "setuptools would then ship what its file list holds there (README, pyproject.toml, \
                     license files), which lbuild does not compute; move the package into its own directory"
                        .into(),
                ),
            ));
        }
        package_dir.insert(package.clone(), rel);
    }

    let (packages, py_modules) = match (&options.packages, &options.py_modules) {
        (None, None) => discover(doc, tree, &mut package_dir)?,
        (Some(packages), modules) => {
            (explicit_packages(doc, tree, packages, &mut package_dir)?, modules.clone().unwrap_or_default())
        }
        (None, Some(modules)) => (Vec::new(), modules.clone()),
    };

    // What MANIFEST.in adds inside a package directory is package data too.
    let manifest = if include_package_data && tree.is_file("MANIFEST.in") {
        super::manifest_in::files(doc, tree)?
    } else {
        Vec::new()
    };
    let package_dirs: BTreeMap<String, String> =
        packages.iter().map(|package| (package_path(&package_dir, package), package.clone())).collect();
    let mut manifest_data: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &manifest {
        let (mut dir, name) = file.rsplit_once('/').unwrap_or(("", file));
        let mut direct = true;
        while !dir.is_empty() && !package_dirs.contains_key(dir) {
            dir = dir.rsplit_once('/').map_or("", |(parent, _)| parent);
            direct = false;
        }
        if let Some(package) = package_dirs.get(dir) {
            let is_module = name.strip_suffix(".py").is_some_and(is_identifier);
            if !(direct && is_module) {
                manifest_data.entry(package.clone()).or_default().push(file.clone());
            }
        }
    }

    let package_data = canonic(options.package_data.unwrap_or_default());
    let exclude_data = canonic(options.exclude_package_data.unwrap_or_default());
    let mut out: Selected = Vec::new();
    for package in &packages {
        let dir = package_path(&package_dir, package);
        if !tree.is_dir(&dir) {
            return Err(doc.error(
                &format!("setuptools would find no directory `{dir}` for the package `{package}`"),
                format!("check `packages` and `package-dir` in `{TABLE}`"),
            ));
        }
        let archive_dir = package.replace('.', "/");
        let (files, _) = tree.list(&dir)?;
        for name in files {
            if name.ends_with(".py") && !name.starts_with('.') && !(dir.is_empty() && name == "setup.py") {
                let rel = join(&dir, &name);
                out.push((join(&archive_dir, &name), tree.path(&rel)));
            }
        }
        let patterns: Vec<String> = IMPLICIT_DATA
            .iter()
            .map(|p| p.to_string())
            .chain(package_data.get("").into_iter().flatten().cloned())
            .chain(package_data.get(package.as_str()).into_iter().flatten().cloned())
            .collect();
        let excludes: Vec<String> = exclude_data
            .get("")
            .into_iter()
            .flatten()
            .chain(exclude_data.get(package.as_str()).into_iter().flatten())
            .map(|pattern| join(&dir, pattern))
            .collect();
        let data = data_files(doc, tree, &dir, &patterns, &excludes)?;
        for (rel_in_package, source) in data {
            out.push((join(&archive_dir, &rel_in_package), source));
        }
        let excluded = Names::new(doc, &excludes)?;
        for file in manifest_data.get(package.as_str()).into_iter().flatten() {
            if !excluded.matches(file) && tree.is_file(file) {
                let inner = if dir.is_empty() { file.as_str() } else { &file[dir.len() + 1..] };
                out.push((join(&archive_dir, inner), tree.path(file)));
            }
        }
    }
    for module in &py_modules {
        let (package, name) = module.rsplit_once('.').unwrap_or(("", module));
        let dir = package_path(&package_dir, package);
        let rel = join(&dir, &format!("{name}.py"));
        if !tree.is_file(&rel) {
            return Err(doc.error(
                &format!("setuptools would find no file `{rel}` for the module `{module}` of `py-modules`"),
                format!("check `py-modules` and `package-dir` in `{TABLE}`"),
            ));
        }
        out.push((join(&package.replace('.', "/"), &format!("{name}.py")), tree.path(&rel)));
    }
    Ok(out)
}

fn join(base: &str, rel: &str) -> String {
    if base.is_empty() { rel.to_string() } else { format!("{base}/{rel}") }
}

fn canonic(mut data: BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    if let Some(all) = data.remove("*") {
        data.entry(String::new()).or_default().extend(all);
    }
    data
}

/// setuptools refuses nothing about a `setup.py` beside `pyproject.toml`, but such a script may
/// add packages, extensions or data; only the no-op `setup()` shim is accepted. A `setup.cfg`
/// with `[metadata]` or `[options]` configures the build too.
fn check_setup_files(doc: &Doc, tree: &Tree) -> Result<(), ProjectError> {
    if tree.is_file("setup.py") {
        let text = crate::manifest::read_text_file(&tree.path("setup.py")).unwrap_or_default();
        let code: Vec<&str> = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default().trim())
            .filter(|line| !line.is_empty())
            .collect();
        let shim = matches!(
            code.as_slice(),
            ["from setuptools import setup", "setup()"]
                | ["import setuptools", "setuptools.setup()"]
                | ["from setuptools import setup", "if __name__ == \"__main__\":", "setup()"]
                | ["from setuptools import setup", "if __name__ == '__main__':", "setup()"]
        );
        if !shim {
            return Err(doc.error(
                "the project has a `setup.py`, which may add packages, extensions or data files that lbuild \
                 cannot see without running it",
                format!(
                    "move its configuration into `[project]` and `{TABLE}` (a `setup.py` of just \
                     `from setuptools import setup; setup()` is fine); lbuild does not build projects with a host Python yet"
                ),
            ));
        }
    }
    if tree.is_file("setup.cfg") {
        let text = crate::manifest::read_text_file(&tree.path("setup.cfg")).unwrap_or_default();
        if let Some(section) = text.lines().map(str::trim).find(|line| {
            let lower = line.to_ascii_lowercase();
            lower == "[metadata]" || lower == "[options]" || lower.starts_with("[options.")
        }) {
            return Err(doc.error(
                &format!("the project's `setup.cfg` has a `{section}` section, which configures the setuptools build"),
                format!("move it into `[project]` and `{TABLE}` of pyproject.toml"),
            ));
        }
    }
    Ok(())
}

/// The directory of `package`, as setuptools' `get_package_dir` finds it.
fn package_path(package_dir: &BTreeMap<String, String>, package: &str) -> String {
    let mut parts: Vec<&str> = if package.is_empty() { Vec::new() } else { package.split('.').collect() };
    let mut tail: Vec<String> = Vec::new();
    while !parts.is_empty() {
        if let Some(dir) = package_dir.get(&parts.join(".")) {
            tail.insert(0, dir.clone());
            return tail.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("/");
        }
        tail.insert(0, parts.pop().unwrap_or_default().to_string());
    }
    if let Some(root) = package_dir.get("") {
        tail.insert(0, root.clone());
    }
    tail.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("/")
}

/// `fnmatchcase` patterns (`*` matches any text, dots included).
struct Names(globset::GlobSet);

impl Names {
    fn new(doc: &Doc, patterns: &[String]) -> Result<Names, ProjectError> {
        let mut builder = globset::GlobSetBuilder::new();
        for pattern in patterns {
            let glob = Glob::new(pattern).map_err(|err| {
                doc.error(
                    &format!("`{pattern}` in `{TABLE}` is not a valid pattern: {err}"),
                    "use fnmatch patterns".into(),
                )
            })?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|err| doc.error(&err.to_string(), String::new()))?;
        Ok(Names(set))
    }

    fn matches(&self, name: &str) -> bool {
        self.0.is_match(name)
    }

    fn literal(patterns: &[String], name: &str) -> bool {
        patterns.iter().any(|pattern| pattern == name)
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[derive(Clone, Copy)]
enum Finder {
    /// Directories with `__init__.py`.
    Regular,
    /// Every directory (PEP 420).
    Namespace,
    /// Every directory whose names are identifiers (the first may end in `-stubs`).
    Flat,
}

/// setuptools' package finder over the directory `where` (relative to the root).
fn find_packages(
    doc: &Doc,
    tree: &Tree,
    base: &str,
    finder: Finder,
    include: &[String],
    exclude: &[String],
) -> Result<Vec<String>, ProjectError> {
    let mut always_exclude = vec!["ez_setup".to_string(), "*__pycache__".to_string()];
    always_exclude.extend(exclude.iter().cloned());
    let excluded = Names::new(doc, &always_exclude)?;
    let everything = ["*".to_string()];
    let included = Names::new(doc, if include.is_empty() { &everything } else { include })?;
    let mut out = Vec::new();
    let mut stack = vec![(base.to_string(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let (_, dirs) = tree.list(&dir)?;
        for name in dirs {
            if name.contains('.') {
                continue;
            }
            let package = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            let path = join(&dir, &name);
            let looks = match finder {
                Finder::Regular => tree.is_file(&join(&path, "__init__.py")),
                Finder::Namespace => true,
                Finder::Flat => {
                    let mut parts = package.split('.');
                    let first = parts.next().unwrap_or_default();
                    (is_identifier(first) || first.ends_with("-stubs")) && parts.all(is_identifier)
                }
            };
            if !looks {
                continue;
            }
            if included.matches(&package) && !excluded.matches(&package) {
                out.push(package.clone());
            }
            if Names::literal(&always_exclude, &format!("{package}*"))
                || Names::literal(&always_exclude, &format!("{package}.*"))
            {
                continue;
            }
            stack.push((path, package));
        }
    }
    out.sort();
    Ok(out)
}

/// Top-level `*.py` modules of `dir` with identifier names, less `exclude`.
fn find_modules(doc: &Doc, tree: &Tree, dir: &str, exclude: &[String]) -> Result<Vec<String>, ProjectError> {
    let excluded = Names::new(doc, exclude)?;
    let (files, _) = tree.list(dir)?;
    Ok(files
        .iter()
        .filter_map(|name| name.strip_suffix(".py"))
        .filter(|module| !module.starts_with('.') && is_identifier(module) && !excluded.matches(module))
        .map(str::to_string)
        .collect())
}

fn top_level(packages: &[String]) -> Vec<String> {
    let packages: Vec<&String> =
        packages.iter().filter(|p| !p.split('.').next().unwrap_or_default().ends_with("-stubs")).collect();
    packages
        .iter()
        .filter(|p| !packages.iter().any(|other| p.starts_with(&format!("{other}."))))
        .map(|p| p.to_string())
        .collect()
}

/// Automatic discovery, as setuptools runs it when neither `packages` nor `py-modules` is set.
fn discover(
    doc: &Doc,
    tree: &Tree,
    package_dir: &mut BTreeMap<String, String>,
) -> Result<(Vec<String>, Vec<String>), ProjectError> {
    let explicit: Vec<(String, String)> =
        package_dir.iter().filter(|(k, _)| !k.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !explicit.is_empty() {
        let mut packages = Vec::new();
        for (package, dir) in explicit {
            packages.push(package.clone());
            for nested in find_packages(doc, tree, &dir, Finder::Namespace, &[], &[])? {
                packages.push(format!("{package}.{nested}"));
            }
        }
        return Ok((packages, Vec::new()));
    }
    let src = package_dir.get("").cloned().unwrap_or_else(|| "src".to_string());
    if tree.is_dir(&src) {
        package_dir.entry(String::new()).or_insert(src.clone());
        let packages = find_packages(doc, tree, &src, Finder::Namespace, &[], &[])?;
        let modules = find_modules(doc, tree, &src, &[])?;
        return Ok((packages, modules));
    }
    let flat_exclude: Vec<String> =
        FLAT_EXCLUDED_PACKAGES.iter().flat_map(|p| [p.to_string(), format!("{p}.*")]).collect();
    let packages = find_packages(doc, tree, "", Finder::Flat, &[], &flat_exclude)?;
    let top = top_level(&packages);
    let several = |kind: &str, found: &[String]| {
        doc.error(
            &format!(
                "setuptools would refuse to build: several top-level {kind} in a flat layout ({})",
                found.join(", ")
            ),
            format!(
                "list them in `{TABLE}` (`packages = [...]` or `[tool.setuptools.packages.find]` with `include`), \
                 or move the code into `src/`"
            ),
        )
    };
    if top.len() > 1 {
        return Err(several("packages", &top));
    }
    if !top.is_empty() {
        return Ok((packages, Vec::new()));
    }
    let module_exclude: Vec<String> = FLAT_EXCLUDED_MODULES.iter().map(|p| p.to_string()).collect();
    let modules = find_modules(doc, tree, "", &module_exclude)?;
    if modules.len() > 1 {
        return Err(several("modules", &modules));
    }
    Ok((packages, modules))
}

/// `packages = [...]` or `packages = { find = {...} }`.
fn explicit_packages(
    doc: &Doc,
    tree: &Tree,
    value: &Spanned<toml::Value>,
    package_dir: &mut BTreeMap<String, String>,
) -> Result<Vec<String>, ProjectError> {
    let bad = || {
        doc.at(
            value.span(),
            format!("`{TABLE}.packages` must be a list of package names or `{{ find = {{ ... }} }}`"),
            "invalid packages",
            None,
        )
    };
    match value.get_ref() {
        toml::Value::Array(items) => items
            .iter()
            .map(|item| {
                let name = item.as_str().ok_or_else(bad)?;
                if name.is_empty() || name.split('.').any(|part| part.is_empty() || part.contains(['/', '\\'])) {
                    return Err(bad());
                }
                Ok(name.to_string())
            })
            .collect(),
        toml::Value::Table(table) => {
            let find = table.get("find").ok_or_else(bad)?;
            let find: Find = find.clone().try_into().map_err(|_| bad())?;
            let wheres = find.r#where.unwrap_or_else(|| vec![".".to_string()]);
            let finder = if find.namespaces.unwrap_or(true) { Finder::Namespace } else { Finder::Regular };
            let include = find.include.unwrap_or_default();
            let exclude = find.exclude.unwrap_or_default();
            let mut searched: Vec<String> = Vec::new();
            for raw in &wheres {
                let rel = tree.option_path(doc, &Spanned::new(value.span(), raw.clone()), "packages.find.where")?;
                if !searched.contains(&rel) {
                    searched.push(rel);
                }
            }
            if let [single] = searched.as_slice()
                && !single.is_empty()
            {
                package_dir.entry(String::new()).or_insert(single.clone());
            }
            let mut packages = Vec::new();
            for path in &searched {
                let found = find_packages(doc, tree, path, finder, &include, &exclude)?;
                let mapped_by_root = package_dir.get("") == Some(path) || path.is_empty();
                if !found.is_empty() && !mapped_by_root {
                    for top in top_level(&found) {
                        package_dir.insert(top.clone(), join(path, &top.replace('.', "/")));
                    }
                }
                packages.extend(found);
            }
            Ok(packages)
        }
        _ => Err(bad()),
    }
}

/// The data files of the package in `dir`: Python-glob `patterns` relative to it (`**`
/// recursive, wildcards never matching a leading `.`), less the fnmatch `excludes` (relative to
/// the root), as (path inside the package, source).
fn data_files(
    doc: &Doc,
    tree: &Tree,
    dir: &str,
    patterns: &[String],
    excludes: &[String],
) -> Result<Vec<(String, std::path::PathBuf)>, ProjectError> {
    let mut globs = Vec::new();
    for pattern in patterns {
        if pattern.starts_with('/') || pattern.split('/').any(|part| part == "..") {
            return Err(doc.error(
                &format!("the package-data pattern `{pattern}` leaves its package directory"),
                "package-data patterns are relative to the package directory".into(),
            ));
        }
        let glob = GlobBuilder::new(pattern).literal_separator(true).build().map_err(|err| {
            doc.error(&format!("`{pattern}` in `{TABLE}.package-data` is not a valid glob: {err}"), String::new())
        })?;
        globs.push((glob.compile_matcher(), pattern.split('/').any(|part| part.starts_with('.'))));
    }
    let excluded = Names::new(doc, excludes)?;
    let mut out = Vec::new();
    for found in tree.walk(dir, &|_, _| false)? {
        let inner = if dir.is_empty() { found.rel.clone() } else { found.rel[dir.len() + 1..].to_string() };
        let hidden = inner.split('/').any(|part| part.starts_with('.'));
        if globs.iter().any(|(glob, dotted)| glob.is_match(&inner) && (!hidden || *dotted))
            && !excluded.matches(&found.rel)
        {
            out.push((inner, found.source));
        }
    }
    Ok(out)
}
