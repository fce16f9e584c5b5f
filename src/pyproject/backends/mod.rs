//! One module per build backend: from its options in `pyproject.toml` and the project tree,
//! the files its wheel would hold, as (archive path, source file). The caller checks and sorts.

mod flit;
mod hatchling;
mod manifest_in;
mod pdm;
mod poetry;
mod setuptools;
mod uv_build;

use std::path::PathBuf;

use super::files::Tree;
use super::{Backend, LocalProject, ProjectError};

pub(super) type Selected = Vec<(String, PathBuf)>;

pub(super) fn select(project: &LocalProject, tree: &Tree) -> Result<Selected, ProjectError> {
    match project.backend {
        Backend::UvBuild => uv_build::select(project, tree),
        Backend::Hatchling => hatchling::select(project, tree),
        Backend::Setuptools => setuptools::select(project, tree),
        Backend::FlitCore => flit::select(project, tree),
        Backend::PdmBackend => pdm::select(project, tree),
        Backend::PoetryCore => poetry::select(project, tree),
    }
}

/// The name as a Python module: `My-Project.x` -> `my_project_x` (the PEP 503 name with `_`).
pub(super) fn module_name(project: &LocalProject) -> String {
    project.normalized_name.replace('-', "_")
}

/// Each found file under `base` (relative to the root), as an archive path relative to `base`.
pub(super) fn under(base: &str, found: Vec<super::files::Found>) -> Selected {
    found
        .into_iter()
        .map(|file| {
            let archive = if base.is_empty() {
                file.rel
            } else {
                file.rel.strip_prefix(base).and_then(|rest| rest.strip_prefix('/')).unwrap_or(&file.rel).to_string()
            };
            (archive, file.source)
        })
        .collect()
}
