//! Local Python projects, read natively from their `pyproject.toml` (no Python runs): the
//! static `[project]` metadata, the build backend `[build-system]` names, and from that
//! backend's own configuration exactly which files its wheel would hold. `pyproject.toml` of a
//! local package is untrusted input: every path an option names and every file selected is
//! checked (relative, no `..`, inside the project after resolving symlinks), and `__pycache__`
//! and `*.pyc` are never shipped.
//!
//! Covered, each checked against the real backend by `real_backends` (tests; CI pins the
//! versions in `.ci/run`):
//! - `uv_build` (`backends::uv_build`): `[tool.uv.build-backend]` `module-name` (a name, a
//!   dotted namespace name, a list; default the normalized name, `-stubs` kept), `module-root`
//!   (default `src`, `""` for flat), `namespace`, `source-exclude` and `wheel-exclude` (both from
//!   the project root, unanchored unless they start with `/`).
//! - `hatchling` (`backends::hatchling`): the default file selection (`<name>/`, `src/<name>/`,
//!   `<name>.py`, the one `*/<name>/` namespace, for the name as written and normalized), and in
//!   `[tool.hatch.build]` or `[tool.hatch.build.targets.wheel]`: `packages`, `only-include`,
//!   `sources` (list or table), `include`, `exclude`, `artifacts`, `only-packages`,
//!   `bypass-selection`, `ignore-vcs`, `skip-excluded-dirs`; the `.gitignore` hatchling finds.
//! - `setuptools` (`backends::setuptools`): `[tool.setuptools]` `packages` (list or `find` with
//!   `where`, `include`, `exclude`, `namespaces`), `package-dir`, `py-modules`, automatic
//!   discovery (explicit `package-dir`, src layout, flat layout with setuptools' reserved names,
//!   several top-level packages refused), `package-data` (and the implicit `*.pyi`, `py.typed`),
//!   `exclude-package-data`, `include-package-data` with `MANIFEST.in` (`backends::manifest_in`).
//! - `flit_core` (`backends::flit`): the module `[tool.flit.module] name` or the project name,
//!   flat or in `src/`, a package, a single module or a dotted namespace package.
//! - `pdm-backend` (`backends::pdm`): `[tool.pdm.build]` `package-dir` (default `src` when it
//!   exists), `includes` (default the top-level packages, else the top-level modules),
//!   `excludes`, `source-includes` (default `tests`, never in the wheel), pdm's include/exclude
//!   weighing.
//! - `poetry-core` with a `[project]` table (`backends::poetry`): `[tool.poetry] packages`
//!   (`include`, `from`, `to`, `format`), the default package or module (flat or `src/`),
//!   `include` entries for the wheel format, `exclude`, and git-ignored files inside a git work
//!   tree.
//!
//! Refused with an error that names the file, the key and the way out: `dynamic` version,
//! dependencies, optional-dependencies, requires-python or entry points (lbuild reads static
//! metadata; host-Python builds come later), a `[tool.poetry]`-only project, unknown or in-tree
//! backends, options that run code or put files outside site-packages (hatch build hooks,
//! `force-include`, `shared-data`; uv `data`; setuptools `ext-modules`, `data-files`, `cmdclass`,
//! a `setup.py` other than the `setup()` shim, `setup.cfg` metadata or options, a VCS file-finder
//! plugin with `include-package-data`; flit `external-data`; pdm build hooks, `run-setuptools`,
//! `wheel-data`; poetry build scripts), and layouts the backend itself would refuse.
//! Symlinks to directories inside the project are followed, passed by or refused as each backend
//! does (`files::DirLinks`); Poetry's resolved-path shipping of links is refused.
//! Not modelled: a stale `*.egg-info/SOURCES.txt` setuptools may re-read, `.hgignore` (hatchling),
//! files git tracks although `.gitignore` matches them (poetry; lbuild leaves them out), `*.pyo`
//! (flit ships them, lbuild never does), hatch and pdm build-hook plugins installed in the build
//! environment rather than named in `pyproject.toml`.

// The local-packages integration (issue 11, `src/ops` and `src/plan`) is the user of this
// module; until it lands, nothing outside the tests calls it.
#![allow(dead_code)]

mod backends;
mod dist_info;
mod error;
mod files;
#[cfg(test)]
mod real_backends;
#[cfg(test)]
mod tests;
pub(crate) mod uv_workspace;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::Requirement;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;

pub(crate) use error::ProjectError;

use crate::python::wheel_name::{is_valid_name, normalize_name};

/// A local Python project: its static metadata and the backend that would build it.
#[derive(Debug, Clone)]
pub(crate) struct LocalProject {
    /// The absolute project directory (it holds `pyproject.toml`).
    pub root: PathBuf,
    /// `[project].name` as written.
    pub name: String,
    /// The PEP 503 normalized name.
    pub normalized_name: String,
    /// The static `[project].version`.
    pub version: Version,
    /// `[project].dependencies`.
    pub dependencies: Vec<Requirement>,
    /// `[project].optional-dependencies`: extra (normalized) -> its requirements.
    pub optional_dependencies: BTreeMap<String, Vec<Requirement>>,
    /// `[project].requires-python`.
    pub requires_python: Option<VersionSpecifiers>,
    /// The build backend `[build-system].build-backend` names.
    pub backend: Backend,
    /// `[project].description`, one line.
    summary: Option<String>,
    /// Entry point groups (`console_scripts`, `gui_scripts` and `[project.entry-points]`):
    /// group -> name -> object reference.
    entry_points: BTreeMap<String, BTreeMap<String, String>>,
    /// `pyproject.toml` itself, for the backends' options and errors.
    doc: Doc,
}

/// The build backends lbuild can stand in for.
#[allow(clippy::enum_variant_names)] // `PdmBackend` is the backend's name, as the contract spells it
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    UvBuild,
    Hatchling,
    Setuptools,
    FlitCore,
    PdmBackend,
    PoetryCore,
}

impl Backend {
    /// Every backend, with the `build-backend` value that names it.
    const ALL: [(&'static str, Backend); 6] = [
        ("uv_build", Backend::UvBuild),
        ("hatchling.build", Backend::Hatchling),
        ("setuptools.build_meta", Backend::Setuptools),
        ("flit_core.buildapi", Backend::FlitCore),
        ("pdm.backend", Backend::PdmBackend),
        ("poetry.core.masonry.api", Backend::PoetryCore),
    ];

    fn from_build_backend(value: &str) -> Option<Backend> {
        if value == "setuptools.build_meta:__legacy__" {
            return Some(Backend::Setuptools);
        }
        Backend::ALL.iter().find(|(name, _)| *name == value).map(|(_, backend)| *backend)
    }

    /// The `build-backend` value.
    pub fn build_backend(self) -> &'static str {
        Backend::ALL.iter().find(|(_, backend)| *backend == self).map(|(name, _)| *name).unwrap_or_default()
    }

    fn supported() -> String {
        Backend::ALL.iter().map(|(name, _)| format!("`{name}`")).collect::<Vec<_>>().join(", ")
    }
}

/// One file a wheel of the project would contain (outside `.dist-info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WheelFile {
    /// The entry name, `/`-separated: `pkg/mod.py`.
    pub archive_path: String,
    /// Where the file is (absolute).
    pub source: PathBuf,
}

/// `pyproject.toml`: where it is and its text.
#[derive(Debug, Clone)]
pub(super) struct Doc {
    path: PathBuf,
    text: String,
}

impl Doc {
    /// An error at `span`.
    fn at(&self, span: Range<usize>, message: String, label: &str, help: Option<String>) -> ProjectError {
        ProjectError::at(&self.path, &self.text, span, message, label, help)
    }

    /// The document read as `T` (one backend's view of its options).
    fn parse<T: DeserializeOwned>(&self) -> Result<T, ProjectError> {
        toml::from_str(&self.text).map_err(|err| {
            let span = err.span().unwrap_or(0..0);
            self.at(span, format!("cannot read `{}`: {}", self.path.display(), err.message()), "here", None)
        })
    }

    /// An error about the whole file.
    fn error(&self, message: &str, help: String) -> ProjectError {
        ProjectError::project(format!("{}: {message}", self.path.display()), Some(help))
    }
}

#[derive(Deserialize)]
struct WireFile {
    project: Option<Spanned<WireProject>>,
    #[serde(rename = "build-system")]
    build_system: Option<Spanned<WireBuildSystem>>,
    tool: Option<WireTool>,
}

#[derive(Deserialize)]
struct WireTool {
    poetry: Option<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct WireProject {
    name: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    description: Option<String>,
    dependencies: Option<Vec<Spanned<String>>>,
    optional_dependencies: Option<BTreeMap<String, Vec<Spanned<String>>>>,
    requires_python: Option<Spanned<String>>,
    dynamic: Option<Vec<Spanned<String>>>,
    scripts: Option<BTreeMap<String, String>>,
    gui_scripts: Option<BTreeMap<String, String>>,
    entry_points: Option<BTreeMap<Spanned<String>, BTreeMap<String, String>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct WireBuildSystem {
    build_backend: Option<Spanned<String>>,
    backend_path: Option<Spanned<Vec<String>>>,
}

/// Static metadata lbuild needs; `dynamic` naming any of these is refused.
const NEEDED_STATIC: [&str; 7] =
    ["version", "dependencies", "optional-dependencies", "requires-python", "scripts", "gui-scripts", "entry-points"];

/// Read the project in `dir` (which holds `pyproject.toml`).
pub(crate) fn read_project(dir: &Path) -> Result<LocalProject, ProjectError> {
    let root = std::path::absolute(dir).map_err(|err| {
        ProjectError::project(format!("cannot use the project directory `{}`: {err}", dir.display()), None)
    })?;
    let path = root.join("pyproject.toml");
    let text = crate::manifest::read_text_file(&path).map_err(|why| {
        ProjectError::project(
            format!("cannot read `{}`: {why}", path.display()),
            Some("a local package is a directory with a pyproject.toml".into()),
        )
    })?;
    let doc = Doc { path, text };
    let wire: WireFile = doc.parse()?;
    let Some(project) = wire.project else {
        if let Some(poetry) = wire.tool.and_then(|tool| tool.poetry) {
            return Err(doc.at(
                poetry.span(),
                "this is a Poetry project without a `[project]` table (the legacy `[tool.poetry]` metadata)".into(),
                "metadata only here",
                Some(
                    "lbuild reads the standard `[project]` table; move name, version and dependencies there \
                     (`poetry check` and Poetry 2 document how); lbuild does not build projects with a host Python yet"
                        .into(),
                ),
            ));
        }
        return Err(doc.error(
            "has no `[project]` table",
            "lbuild reads the project's static metadata from `[project]` (name, version, dependencies)".into(),
        ));
    };
    let project_span = project.span();
    let project = project.into_inner();

    if let Some(dynamic) = &project.dynamic {
        for field in dynamic {
            if NEEDED_STATIC.contains(&field.get_ref().as_str()) {
                return Err(doc.at(
                    field.span(),
                    format!("`[project].{}` is dynamic (computed by the build backend)", field.get_ref()),
                    "dynamic",
                    Some(format!(
                        "lbuild reads static metadata and runs no Python; set `{}` in `[project]` and drop it \
                         from `dynamic`; lbuild does not build projects with a host Python yet",
                        field.get_ref()
                    )),
                ));
            }
        }
    }

    let Some(name) = project.name else {
        return Err(doc.at(
            project_span,
            "`[project]` has no `name`".into(),
            "in this table",
            Some("add `name = \"...\"`".into()),
        ));
    };
    if !is_valid_name(name.get_ref()) {
        return Err(doc.at(
            name.span(),
            format!("`{}` is not a valid project name", name.get_ref()),
            "invalid name",
            Some(
                "a name is ASCII letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit".into(),
            ),
        ));
    }
    let Some(version_text) = project.version else {
        return Err(doc.at(
            project_span,
            "`[project]` has no `version`".into(),
            "in this table",
            Some("add `version = \"...\"`: lbuild reads static metadata".into()),
        ));
    };
    let version = Version::from_str(version_text.get_ref()).map_err(|err| {
        doc.at(
            version_text.span(),
            format!("`{}` is not a PEP 440 version: {err}", version_text.get_ref()),
            "invalid version",
            None,
        )
    })?;

    let requirement = |spanned: &Spanned<String>, key: &str| -> Result<Requirement, ProjectError> {
        Requirement::from_str(spanned.get_ref()).map_err(|err| {
            doc.at(
                spanned.span(),
                format!("`{}` in `{key}` is not a PEP 508 requirement: {}", spanned.get_ref(), err.message),
                "invalid requirement",
                None,
            )
        })
    };
    let dependencies = project
        .dependencies
        .iter()
        .flatten()
        .map(|dep| requirement(dep, "[project].dependencies"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut optional_dependencies = BTreeMap::new();
    for (extra, deps) in project.optional_dependencies.iter().flatten() {
        let normalized = pep508_rs::ExtraName::from_str(extra).map_err(|err| {
            ProjectError::project(
                format!(
                    "{}: `{extra}` in `[project.optional-dependencies]` is not a valid extra name: {err}",
                    doc.path.display()
                ),
                None,
            )
        })?;
        let key = format!("[project.optional-dependencies].{extra}");
        let deps = deps.iter().map(|dep| requirement(dep, &key)).collect::<Result<Vec<_>, _>>()?;
        if optional_dependencies.insert(normalized.to_string(), deps).is_some() {
            return Err(ProjectError::project(
                format!(
                    "{}: the extra `{normalized}` is defined twice in `[project.optional-dependencies]`",
                    doc.path.display()
                ),
                Some("extra names are compared normalized (`Foo_Bar` is `foo-bar`); merge them".into()),
            ));
        }
    }
    let requires_python = project
        .requires_python
        .map(|spec| {
            VersionSpecifiers::from_str(spec.get_ref()).map_err(|err| {
                doc.at(
                    spec.span(),
                    format!("`{}` is not a PEP 440 version specifier: {err}", spec.get_ref()),
                    "invalid",
                    None,
                )
            })
        })
        .transpose()?;

    let mut entry_points: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (group, table) in project.entry_points.into_iter().flatten() {
        if matches!(group.get_ref().as_str(), "console_scripts" | "gui_scripts") {
            return Err(doc.at(
                group.span(),
                format!("`[project.entry-points.{}]` is not allowed", group.get_ref()),
                "reserved group",
                Some("use `[project.scripts]` or `[project.gui-scripts]`".into()),
            ));
        }
        entry_points.insert(group.into_inner(), table);
    }
    if let Some(scripts) = project.scripts.filter(|s| !s.is_empty()) {
        entry_points.insert("console_scripts".into(), scripts);
    }
    if let Some(scripts) = project.gui_scripts.filter(|s| !s.is_empty()) {
        entry_points.insert("gui_scripts".into(), scripts);
    }
    for (group, table) in &entry_points {
        for (key, value) in table {
            if [group, key, value]
                .iter()
                .any(|text| text.contains(['\n', '\r', '[', ']']) || text.trim() != text.as_str())
                || key.contains('=')
            {
                return Err(doc.error(
                    &format!(
                        "the entry point `{key}` = `{value}` in group `{group}` cannot be written to entry_points.txt"
                    ),
                    "entry point names and values are one line, without `[`, `]` or a leading or trailing space".into(),
                ));
            }
        }
    }

    let backend = backend(&doc, wire.build_system)?;
    let summary = project.description.map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "));
    let name = name.into_inner();
    Ok(LocalProject {
        root,
        normalized_name: normalize_name(&name),
        name,
        version,
        dependencies,
        optional_dependencies,
        requires_python,
        backend,
        summary: summary.filter(|s| !s.is_empty()),
        entry_points,
        doc,
    })
}

fn backend(doc: &Doc, build_system: Option<Spanned<WireBuildSystem>>) -> Result<Backend, ProjectError> {
    let Some(build_system) = build_system else {
        // PEP 517: without `[build-system]`, front ends use setuptools' legacy backend.
        return Ok(Backend::Setuptools);
    };
    let span = build_system.span();
    let build_system = build_system.into_inner();
    if let Some(path) = build_system.backend_path {
        return Err(doc.at(
            path.span(),
            "`[build-system].backend-path` names an in-tree build backend".into(),
            "in-tree backend",
            Some(format!(
                "lbuild decides a wheel's files natively for {}; an in-tree backend runs code (building with a \
                 host Python is not supported yet)",
                Backend::supported()
            )),
        ));
    }
    let Some(value) = build_system.build_backend else {
        let _ = span;
        return Ok(Backend::Setuptools);
    };
    Backend::from_build_backend(value.get_ref()).ok_or_else(|| {
        doc.at(
            value.span(),
            format!("`[build-system].build-backend` = `{}` is a backend lbuild does not know", value.get_ref()),
            "unsupported backend",
            Some(format!(
                "lbuild decides a wheel's files natively for {}; another backend needs a host-Python build, \
                 which lbuild does not do yet",
                Backend::supported()
            )),
        )
    })
}

impl LocalProject {
    /// The files the backend would put in a wheel, sorted by archive path, each checked safe
    /// (relative, no `..`, inside the root after resolving symlinks).
    pub fn wheel_files(&self) -> Result<Vec<WheelFile>, ProjectError> {
        let tree = files::Tree::new(&self.root)?;
        let selected = backends::select(self, &tree)?;
        let mut out: Vec<WheelFile> = Vec::with_capacity(selected.len());
        for (archive_path, source) in selected {
            if let Some(why) = tree.unshippable(&source) {
                return Err(ProjectError::project(
                    format!("`{}` cannot be in the wheel: {why}", source.display()),
                    Some(format!(
                        "a wheel holds regular files of the project; replace it with a copy or leave it out of the \
                         {} options in `{}`",
                        self.backend.build_backend(),
                        self.doc.path.display()
                    )),
                ));
            }
            files::check_archive_path(&archive_path).map_err(|why| {
                ProjectError::project(
                    format!("`{archive_path}` (from `{}`) cannot be a wheel entry: {why}", source.display()),
                    Some(format!(
                        "check the {} options in `{}`",
                        self.backend.build_backend(),
                        self.doc.path.display()
                    )),
                )
            })?;
            if archive_path.split('/').any(|part| part == "__pycache__") || files::is_bytecode(&archive_path) {
                continue;
            }
            out.push(WheelFile { archive_path, source });
        }
        out.sort_by(|a, b| a.archive_path.cmp(&b.archive_path));
        // The same file reached twice (a module that is also package data) is one entry.
        out.dedup();
        for pair in out.windows(2) {
            if pair[0].archive_path == pair[1].archive_path {
                return Err(ProjectError::project(
                    format!(
                        "two files would be `{}` in the wheel: `{}` and `{}`",
                        pair[0].archive_path,
                        pair[0].source.display(),
                        pair[1].source.display()
                    ),
                    Some(format!(
                        "check the {} options in `{}`",
                        self.backend.build_backend(),
                        self.doc.path.display()
                    )),
                ));
            }
        }
        Ok(out)
    }

    /// The `pyproject.toml` the project was read from.
    pub fn pyproject_path(&self) -> &Path {
        &self.doc.path
    }
}
