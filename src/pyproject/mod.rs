//! STUB of the i11-pyproject interface (PYPROJECT_API.md), replaced by helper A1's module on merge.
#![allow(dead_code)]

pub(crate) mod uv_workspace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::Requirement;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub(crate) struct LocalProject {
    pub root: PathBuf,
    pub name: String,
    pub normalized_name: String,
    pub version: Version,
    pub dependencies: Vec<Requirement>,
    pub optional_dependencies: BTreeMap<String, Vec<Requirement>>,
    pub requires_python: Option<VersionSpecifiers>,
    pub backend: Backend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    UvBuild,
    Hatchling,
    Setuptools,
    FlitCore,
    PdmBackend,
    PoetryCore,
}

#[derive(Debug, Clone)]
pub(crate) struct WheelFile {
    pub archive_path: String,
    pub source: PathBuf,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub(crate) struct ProjectError {
    message: String,
    #[help]
    help: Option<String>,
}

fn fail(message: String) -> ProjectError {
    ProjectError { message, help: None }
}

#[derive(serde::Deserialize)]
struct Doc {
    project: Option<Proj>,
    #[serde(rename = "build-system")]
    build_system: Option<Bs>,
}
#[derive(serde::Deserialize)]
struct Bs {
    #[serde(rename = "build-backend")]
    build_backend: Option<String>,
}
#[derive(serde::Deserialize)]
struct Proj {
    name: String,
    version: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default, rename = "optional-dependencies")]
    optional: BTreeMap<String, Vec<String>>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
}

pub(crate) fn read_project(dir: &Path) -> Result<LocalProject, ProjectError> {
    let path = dir.join("pyproject.toml");
    let text = fs_err::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    let doc: Doc = toml::from_str(&text).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let project = doc.project.ok_or_else(|| fail(format!("`{}` has no [project]", path.display())))?;
    let version = project.version.ok_or_else(|| fail(format!("`{}`: dynamic version", path.display())))?;
    let version = Version::from_str(&version).map_err(|e| fail(e.to_string()))?;
    let parse = |list: &[String]| -> Result<Vec<Requirement>, ProjectError> {
        list.iter().map(|t| Requirement::from_str(t).map_err(|e| fail(e.to_string()))).collect()
    };
    let backend = match doc.build_system.and_then(|b| b.build_backend).as_deref() {
        Some("hatchling.build") => Backend::Hatchling,
        Some("setuptools.build_meta") | None => Backend::Setuptools,
        Some("uv_build") => Backend::UvBuild,
        Some("flit_core.buildapi") => Backend::FlitCore,
        Some("pdm.backend") => Backend::PdmBackend,
        Some("poetry.core.masonry.api") => Backend::PoetryCore,
        Some(other) => return Err(fail(format!("unknown backend {other}"))),
    };
    let mut optional_dependencies = BTreeMap::new();
    for (extra, list) in &project.optional {
        optional_dependencies.insert(crate::python::wheel_name::normalize_name(extra), parse(list)?);
    }
    Ok(LocalProject {
        root: dir.to_path_buf(),
        normalized_name: crate::python::wheel_name::normalize_name(&project.name),
        name: project.name,
        version,
        dependencies: parse(&project.dependencies)?,
        optional_dependencies,
        requires_python: project
            .requires_python
            .map(|t| VersionSpecifiers::from_str(&t).map_err(|e| fail(e.to_string())))
            .transpose()?,
        backend,
    })
}

impl LocalProject {
    fn import_name(&self) -> String {
        self.normalized_name.replace('-', "_")
    }

    pub fn wheel_files(&self) -> Result<Vec<WheelFile>, ProjectError> {
        let import = self.import_name();
        let base = if self.root.join("src").join(&import).is_dir() { self.root.join("src") } else { self.root.clone() };
        let mut files = Vec::new();
        let mut stack = vec![base.join(&import)];
        while let Some(dir) = stack.pop() {
            for entry in fs_err::read_dir(&dir).map_err(|e| fail(e.to_string()))? {
                let entry = entry.map_err(|e| fail(e.to_string()))?;
                let path = entry.path();
                if path.is_dir() {
                    if entry.file_name() != "__pycache__" {
                        stack.push(path);
                    }
                } else {
                    let rel = path.strip_prefix(&base).unwrap().to_string_lossy().replace('\\', "/");
                    files.push(WheelFile { archive_path: rel, source: path });
                }
            }
        }
        files.sort_by(|a, b| a.archive_path.cmp(&b.archive_path));
        Ok(files)
    }

    pub fn metadata(&self) -> String {
        let mut text = format!("Metadata-Version: 2.3\nName: {}\nVersion: {}\n", self.name, self.version);
        if let Some(rp) = &self.requires_python {
            text.push_str(&format!("Requires-Python: {rp}\n"));
        }
        for dep in &self.dependencies {
            text.push_str(&format!("Requires-Dist: {dep}\n"));
        }
        for (extra, deps) in &self.optional_dependencies {
            text.push_str(&format!("Provides-Extra: {extra}\n"));
            for dep in deps {
                match &dep.marker.contents() {
                    Some(m) => text.push_str(&format!(
                        "Requires-Dist: {} ; ({m}) and extra == \"{extra}\"\n",
                        dep.to_string().split(';').next().unwrap().trim()
                    )),
                    None => text.push_str(&format!("Requires-Dist: {dep} ; extra == \"{extra}\"\n")),
                }
            }
        }
        text
    }

    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.import_name(), self.version)
    }

    pub fn dist_info_files(&self, files: &[WheelFile]) -> Result<Vec<(String, Vec<u8>)>, ProjectError> {
        let dir = self.dist_info_dir();
        let mut out = vec![
            (format!("{dir}/METADATA"), self.metadata().into_bytes()),
            (
                format!("{dir}/WHEEL"),
                b"Wheel-Version: 1.0\nGenerator: lbuild\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_vec(),
            ),
        ];
        let mut record = String::new();
        for file in files {
            let bytes = fs_err::read(&file.source).map_err(|e| fail(e.to_string()))?;
            record.push_str(&format!("{},sha256={:x},{}\n", file.archive_path, Sha256::digest(&bytes), bytes.len()));
        }
        for (name, bytes) in &out {
            record.push_str(&format!("{name},sha256={:x},{}\n", Sha256::digest(bytes), bytes.len()));
        }
        record.push_str(&format!("{dir}/RECORD,,\n"));
        out.push((format!("{dir}/RECORD"), record.into_bytes()));
        Ok(out)
    }
}
