//! Local packages: project directories of the workspace that members require by name.
//!
//! They come from `[workspace.sources] NAME = { path = "..." }` in `lambda.toml`, from the
//! `[tool.uv.sources]` of a member's `pyproject.toml` (`{ path = "..." }`, relative to that file,
//! and `{ workspace = true }`, a member of the uv workspace that holds it, whose root's own
//! `[tool.uv.sources]` apply to every member as in uv), and, transitively, from the
//! `[tool.uv.sources]` of each local package. A path requirement of a requirements file
//! (`-e ./libs/common`) becomes one through [`Locals::path_requirement`].
//!
//! Every directory must stay inside the workspace root (links included) and hold a
//! `pyproject.toml` whose `[project].name` is the name it is mapped to; one name maps to one
//! directory in the whole workspace. A local name is never looked up on an index.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::Requirement;

use super::ManifestError;
use super::files::{is_inside, read_text_file};
use crate::fsutil::absolute_normalized;
use crate::model::LocalPackage;
use crate::output::{shorten, warn_user};
use crate::pyproject::ProjectError;
use crate::pyproject::uv_workspace::{self, SourceKind};
use crate::python::wheel_name::normalize_name;

/// The most local packages one workspace may have: far above real ones, and a bound on the
/// chain of `[tool.uv.sources]` a hostile tree could build.
const MAX_LOCAL_PACKAGES: usize = 512;

/// Where a path was written, for errors: the file (as shown), its text and the span of the value.
pub(crate) struct Written<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub span: Range<usize>,
}

/// Where an error about a local package points: the line that names it.
pub(crate) trait ErrorAt {
    fn error(&self, message: String, label: &str, help: Option<String>) -> ManifestError;
}

impl ErrorAt for Written<'_> {
    fn error(&self, message: String, label: &str, help: Option<String>) -> ManifestError {
        ManifestError::at(self.file, self.text, self.span.clone(), message, label, help)
    }
}

/// Any function that makes the error, such as a requirements-file line's own.
impl<F: Fn(String, &str, Option<String>) -> ManifestError> ErrorAt for F {
    fn error(&self, message: String, label: &str, help: Option<String>) -> ManifestError {
        self(message, label, help)
    }
}

/// The local packages found so far.
pub(crate) struct Locals {
    root: PathBuf,
    /// Packages pinned to an index or find-links in `[workspace.sources]`: a local package may
    /// not take one of their names.
    pinned: BTreeMap<String, String>,
    packages: BTreeMap<String, LocalPackage>,
    /// Normalized name -> its directory (absolute, normalized).
    dirs: BTreeMap<String, PathBuf>,
}

impl Locals {
    pub fn new(root: &Path, pinned: &BTreeMap<String, String>) -> Locals {
        Locals { root: root.to_path_buf(), pinned: pinned.clone(), packages: BTreeMap::new(), dirs: BTreeMap::new() }
    }

    /// The packages, by normalized name.
    pub fn finish(self) -> BTreeMap<String, LocalPackage> {
        self.packages
    }

    /// A path line of a requirements file (`-e ./libs/common`, `./libs/common`): the local
    /// package in `path` (relative to the workspace root) is added, with its own sources, and
    /// the requirement on it by name is returned for the member's requirements.
    #[cfg(test)]
    pub fn path_requirement(&mut self, path: &str, at: &Written) -> Result<Requirement, ManifestError> {
        let dir = self.root.join(path);
        self.local_requirement(&dir, path, None, &[], &pep508_rs::MarkerTree::TRUE, at)
    }

    /// The one call for a local project a requirements file names (`-e ./libs/common[aws]`,
    /// `./libs/common ; python_version >= "3.11"`, `common @ file:./libs/common`): the project in
    /// `dir` (absolute, or relative to the workspace root; `shown` as written) becomes a local
    /// package with its own sources, and the requirement on it by name, with the line's extras
    /// and marker, is returned for the member's requirements. `name`, when the line gives one,
    /// must be the project's. Errors point at `at`, the line (a `Written`, or a closure such as
    /// `&|message, label, help| origin.error(message, label, help)`).
    pub fn local_requirement(
        &mut self,
        dir: &Path,
        shown: &str,
        name: Option<&str>,
        extras: &[pep508_rs::ExtraName],
        marker: &pep508_rs::MarkerTree,
        at: &dyn ErrorAt,
    ) -> Result<Requirement, ManifestError> {
        let dir = if dir.is_absolute() { dir.to_path_buf() } else { self.root.join(dir) };
        let name = self.add(&dir, shown, name, at)?;
        let mut requirement = Requirement::from_str(&name).expect("a normalized project name is a requirement");
        requirement.extras = extras.to_vec();
        requirement.marker = marker.clone();
        Ok(requirement)
    }

    /// Add the project in `dir` (absolute), written as `shown` at `at`; `expected` is the name a
    /// source maps to it, which must be the project's. Returns its normalized name.
    pub fn add(
        &mut self,
        dir: &Path,
        shown: &str,
        expected: Option<&str>,
        at: &dyn ErrorAt,
    ) -> Result<String, ManifestError> {
        let shown = shorten(shown);
        // `functions/api/../../libs/common` is checked, read and named in messages as
        // `libs/common`: the same path for all three.
        let dir = &absolute_normalized(dir);
        if !is_inside(&self.root, dir) {
            return Err(at.error(
                format!("the local package `{shown}` is outside the workspace"),
                "outside the workspace",
                Some(format!(
                    "local packages live inside `{}` (links included), the directory of lambda.toml",
                    absolute_normalized(&self.root).display()
                )),
            ));
        }
        let pyproject = dir.join("pyproject.toml");
        if !pyproject.is_file() {
            return Err(at.error(
                format!("the local package `{shown}` has no pyproject.toml"),
                "no pyproject.toml here",
                Some(
                    "a local package is a project directory whose pyproject.toml has a `[project]` table with \
                     `name` and `version`"
                        .into(),
                ),
            ));
        }
        let project = crate::pyproject::read_project(dir).map_err(|err| match err {
            // At the key of its pyproject.toml.
            ProjectError::At(inner) => *inner,
            ProjectError::Project { message, help } => {
                at.error(format!("cannot read the local package `{shown}`: {message}"), "this local package", help)
            }
        })?;
        let name = project.normalized_name.clone();
        if let Some(expected) = expected
            && normalize_name(expected) != name
        {
            return Err(at.error(
                format!("`{expected}` is mapped to `{shown}`, but that project is named `{}`", project.name),
                "another project",
                Some("the key must be the `[project].name` of the pyproject.toml in that directory".into()),
            ));
        }
        if let Some(index) = self.pinned.get(&name) {
            return Err(at.error(
                format!("`{name}` is a local package here, and pinned to `{index}` in `[workspace.sources]`"),
                "local package",
                Some("a package comes from one place: remove one of the two".into()),
            ));
        }
        let normalized = absolute_normalized(dir);
        if let Some(existing) = self.dirs.get(&name) {
            if *existing == normalized {
                return Ok(name);
            }
            return Err(at.error(
                format!(
                    "`{name}` is mapped to two local directories: `{}` and `{}`",
                    crate::fsutil::relative(&absolute_normalized(&self.root), existing),
                    crate::fsutil::relative(&absolute_normalized(&self.root), &normalized)
                ),
                "the second one",
                Some("one package name is one directory in the whole workspace".into()),
            ));
        }
        if self.packages.len() >= MAX_LOCAL_PACKAGES {
            return Err(at.error(
                format!("the workspace has more than {MAX_LOCAL_PACKAGES} local packages"),
                "here",
                None,
            ));
        }
        let path = crate::fsutil::inside(&absolute_normalized(&self.root), &normalized)
            .map(|path| if path.is_empty() { ".".to_string() } else { path })
            .filter(|path| LocalPackage::is_safe_path(path))
            .ok_or_else(|| {
                at.error(
                    format!("the local package path `{shown}` cannot be recorded in the lock"),
                    "this path",
                    Some("use a directory name of letters, digits, `-`, `_` and `.`, without `:` or `\\`".into()),
                )
            })?;
        let metadata = crate::python::metadata::parse(project.metadata().as_bytes()).map_err(|err| {
            at.error(format!("the metadata of the local package `{shown}` does not read back: {err}"), "here", None)
        })?;
        self.dirs.insert(name.clone(), normalized.clone());
        self.packages.insert(
            name.clone(),
            LocalPackage {
                name: name.clone(),
                version: project.version.clone(),
                path,
                requires_dist: metadata.requires_dist,
                extras: metadata.provides_extra,
                requires_python: metadata.requires_python,
            },
        );
        // Its own sources decide where its dependencies come from.
        let text = read_text_file(&pyproject)
            .map_err(|problem| at.error(format!("cannot read `{shown}/pyproject.toml`: {problem}"), "here", None))?;
        self.add_sources(&pyproject, &text)?;
        Ok(name)
    }

    /// The `[tool.uv.sources]` of the pyproject.toml at `pyproject` (with `text`), and those of
    /// the root of the uv workspace that holds it for the names it does not give itself.
    pub fn add_sources(&mut self, pyproject: &Path, text: &str) -> Result<(), ManifestError> {
        let dir = pyproject.parent().unwrap_or(Path::new("."));
        let shown = pyproject.display().to_string();
        let required = uv_workspace::required_names(text);
        let own = self.sources_in(&shown, text, dir, dir, &required)?;
        let workspace = self.workspace_of(dir, &shown, text)?;
        if let Some(workspace) = workspace
            && absolute_normalized(&workspace.pyproject) != absolute_normalized(pyproject)
        {
            let root_text = read_text_file(&workspace.pyproject).map_err(|problem| {
                ManifestError::at(
                    &shown,
                    text,
                    0..0,
                    format!("cannot read `{}`: {problem}", workspace.pyproject.display()),
                    "",
                    None,
                )
            })?;
            let root_shown = workspace.pyproject.display().to_string();
            let sources = uv_workspace::sources(&root_text).map_err(|err| {
                ManifestError::at(&root_shown, &root_text, err.span, err.message, "this source", err.help)
            })?;
            for source in sources.into_iter().filter(|source| !own.contains(&normalize_name(&source.name))) {
                self.add_source(&source, &root_shown, &root_text, &workspace.root, dir, &required)?;
            }
        }
        Ok(())
    }

    /// Add each source of `text`; paths are relative to `base`, members are of the uv workspace
    /// of `project_dir`, whose project requires `required`. Returns the names given.
    fn sources_in(
        &mut self,
        shown: &str,
        text: &str,
        base: &Path,
        project_dir: &Path,
        required: &BTreeSet<String>,
    ) -> Result<Vec<String>, ManifestError> {
        let sources = uv_workspace::sources(text)
            .map_err(|err| ManifestError::at(shown, text, err.span, err.message, "this source", err.help))?;
        let mut names = Vec::new();
        for source in &sources {
            self.add_source(source, shown, text, base, project_dir, required)?;
            names.push(normalize_name(&source.name));
        }
        Ok(names)
    }

    /// One source. A path or workspace member is added whether or not the project requires it
    /// (a name mapped to a local directory is never taken from an index); a source lbuild cannot
    /// honour is an error when the project requires the package, and a warning otherwise.
    fn add_source(
        &mut self,
        source: &uv_workspace::Source,
        shown: &str,
        text: &str,
        base: &Path,
        project_dir: &Path,
        required: &BTreeSet<String>,
    ) -> Result<(), ManifestError> {
        let at = Written { file: shown, text, span: source.span.clone() };
        match &source.kind {
            SourceKind::Unsupported(problem) => {
                if required.contains(&normalize_name(&source.name)) {
                    return Err(at.error(problem.message.clone(), "this source", problem.help.clone()));
                }
                warn_user!(
                    "ignoring the source of `{}` in `{shown}`: {}; the project does not require it, so nothing \
                     is installed from it",
                    shorten(&source.name),
                    problem.message
                );
            }
            SourceKind::Path(path) => {
                self.add(&base.join(path), path, Some(&source.name), &at)?;
            }
            SourceKind::Workspace => {
                let Some(workspace) = self.workspace_of(project_dir, shown, text)? else {
                    return Err(at.error(
                        format!(
                            "`{}` is a uv workspace member (`workspace = true`), but `{shown}` is in no uv workspace",
                            source.name
                        ),
                        "no uv workspace",
                        Some(
                            "lbuild looks for a pyproject.toml with `[tool.uv.workspace]` from this project's \
                             directory up to the directory of lambda.toml; add one, or write `{ path = \"...\" }`"
                                .into(),
                        ),
                    ));
                };
                let Some(dir) = workspace.members.get(&normalize_name(&source.name)) else {
                    let known: Vec<String> = workspace.members.keys().map(|name| format!("`{name}`")).collect();
                    return Err(at.error(
                        format!(
                            "`{}` is not a member of the uv workspace at `{}`",
                            source.name,
                            workspace.root.display()
                        ),
                        "not a member",
                        Some(if known.is_empty() {
                            "its `[tool.uv.workspace] members` globs match no project".to_string()
                        } else {
                            format!("its members are: {}", known.join(", "))
                        }),
                    ));
                };
                let relative = crate::fsutil::relative(&absolute_normalized(&self.root), dir);
                self.add(&dir.clone(), &relative, Some(&source.name), &at)?;
            }
        }
        Ok(())
    }

    fn workspace_of(
        &self,
        project_dir: &Path,
        shown: &str,
        text: &str,
    ) -> Result<Option<uv_workspace::UvWorkspace>, ManifestError> {
        uv_workspace::containing(project_dir, &self.root).map_err(|err| {
            let file = err.file.display().to_string();
            let (source, span) = if err.text.is_empty() { (text, 0..0) } else { (err.text.as_str(), err.error.span) };
            let name = if err.text.is_empty() { shown } else { file.as_str() };
            ManifestError::at(name, source, span, err.error.message, "here", err.error.help)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(root: &Path, dir: &str, name: &str) {
        fs_err::create_dir_all(root.join(dir).join("src").join(name.replace('-', "_"))).unwrap();
        fs_err::write(
            root.join(dir).join("pyproject.toml"),
            format!(
                "[project]\nname = \"{name}\"\nversion = \"1.0\"\ndependencies = [\"six\"]\n\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n"
            ),
        )
        .unwrap();
        fs_err::write(root.join(dir).join("src").join(name.replace('-', "_")).join("__init__.py"), "").unwrap();
    }

    #[test]
    fn a_path_line_becomes_a_local_package_and_a_requirement_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        project(root, "libs/common", "Acme_Common");
        let text = "-e ./libs/common\n";
        let at = Written { file: "requirements.txt", text, span: 3..16 };
        let mut locals = Locals::new(root, &BTreeMap::new());
        let requirement = locals.path_requirement("./libs/common", &at).unwrap();
        assert_eq!(requirement.to_string(), "acme-common");
        // The same directory again is the same package, here with a line's extras and marker,
        // and errors made by the line's own function.
        let marker = Requirement::<pep508_rs::VerbatimUrl>::from_str("x ; python_version >= '3.11'").unwrap().marker;
        let extras = [pep508_rs::ExtraName::from_str("aws").unwrap()];
        let line = |message: String, label: &str, help: Option<String>| {
            ManifestError::at("r.txt", text, 0..2, message, label, help)
        };
        let requirement = locals
            .local_requirement(&root.join("libs/common/"), "libs/common/", Some("acme-common"), &extras, &marker, &line)
            .unwrap();
        assert_eq!(requirement.to_string(), "acme-common[aws] ; python_full_version >= '3.11'");
        let err = locals.local_requirement(Path::new("libs/common"), "libs/common", Some("other"), &[], &marker, &line);
        assert!(
            err.unwrap_err().message().contains("is mapped to `libs/common`, but that project is named `Acme_Common`")
        );
        let packages = locals.finish();
        let local = &packages["acme-common"];
        assert_eq!((local.path.as_str(), local.version.to_string()), ("libs/common", "1.0".to_string()));
        assert_eq!(local.requires_dist.iter().map(ToString::to_string).collect::<Vec<_>>(), ["six"]);
    }

    #[test]
    fn a_path_that_is_not_a_local_package_of_the_workspace_is_refused_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        project(&root, "libs/common", "common");
        project(&root, "libs/copy", "common");
        project(dir.path(), "outside", "evil");
        let text = "six\n-e ../outside\n";
        let at = Written { file: "requirements.txt", text, span: 7..17 };
        let message = |result: Result<Requirement, ManifestError>| result.unwrap_err().message().to_string();
        let mut locals = Locals::new(&root, &BTreeMap::new());
        assert!(message(locals.path_requirement("../outside", &at)).contains("is outside the workspace"));
        assert!(message(locals.path_requirement("libs", &at)).contains("has no pyproject.toml"));
        locals.path_requirement("libs/common", &at).unwrap();
        let err = locals.path_requirement("libs/copy", &at).unwrap_err();
        assert!(err.message().contains("mapped to two local directories"), "{}", err.message());
        assert_eq!(err.spanned_text(), "../outside", "the error points at the line");
        // A name pinned to an index cannot also be local.
        let pinned = BTreeMap::from([("common".to_string(), "internal".to_string())]);
        let mut locals = Locals::new(&root, &pinned);
        assert!(message(locals.path_requirement("libs/common", &at)).contains("pinned to `internal`"));
    }

    #[test]
    fn a_local_package_reached_through_dot_dot_is_named_by_its_clean_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        fs_err::create_dir_all(root.join("functions/api")).unwrap();
        fs_err::create_dir_all(root.join("libs/dyn")).unwrap();
        fs_err::write(
            root.join("libs/dyn/pyproject.toml"),
            "[project]\nname = \"dyn\"\nversion = \"1\"\ndynamic = [\"dependencies\"]\n",
        )
        .unwrap();
        let at = Written { file: "requirements.txt", text: "-e ../../libs/dyn\n", span: 0..17 };
        let mut locals = Locals::new(&root, &BTreeMap::new());
        let err = locals.path_requirement("functions/api/../../libs/dyn", &at).unwrap_err();
        assert!(err.message().contains("dynamic"), "{}", err.message());
        let shown = err.source_name().replace('\\', "/");
        assert!(shown.ends_with("ws/libs/dyn/pyproject.toml") && !shown.contains(".."), "{shown}");
    }
}
