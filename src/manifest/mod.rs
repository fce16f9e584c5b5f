//! `lambda.toml`: the workspace manifest.
//!
//! Parsing happens in stages, as in ripgrep's and uv's argument handling: the file is first
//! deserialized into plain wire types (`wire`) that keep the source span of every value, then
//! translated once into the [`Workspace`] model (`translate`, pure: no file or environment is
//! read there), whose paths are then checked and whose requirements files are read (`files`,
//! with `requirements_file` parsing them). `load` is the edge that reads `lambda.toml` and the
//! environment (`Environment`) and shows warnings. Every validation error carries a miette
//! span (`error`), so the message points at the offending line of `lambda.toml` (or of a
//! requirements file). Unknown keys are warnings, not errors, so a newer manifest still loads
//! in an older lbuild.
//!
//! The model is made of the core types in `crate::model` (members, pre-release mode, index API),
//! which the stages below the manifest use without depending on it.
//!
//! `schemas/lambda.schema.json` is generated from the wire types (see `schema::schema_json`); a test
//! fails when the committed file is stale.

// Manifest errors carry their source text for miette; they are built once, on the way out, so
// their size does not matter.
#![allow(clippy::result_large_err)]

pub(crate) mod edit;
mod error;
mod files;
mod load;
mod local;
pub(crate) mod requirements_file;
mod schema;
mod translate;
mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use pep440_rs::Version;
use pep508_rs::Requirement;

use crate::platform::{Architecture, Runtime, Target, target_name};

pub(crate) use crate::model::is_valid_member_name;
pub use crate::model::{IndexApi, LocalPackage, MemberId, MemberKind, PrereleaseMode, ProjectLockMode, ResolutionMode};
pub use error::ManifestError;
pub(crate) use files::read_text_file;
#[allow(unused_imports)] // `LineOrigin` is the type of the fields' `origin`, for callers to name
pub use requirements_file::{Constraint, HashPin, LineOrigin, LocalPath};
#[cfg(test)]
pub(crate) use schema::schema_json;

/// The name of the manifest file.
pub const MANIFEST_NAME: &str = "lambda.toml";

/// The default package index: PyPI's simple API (PEP 691 JSON, PEP 658 metadata files).
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple/";

/// The name of the index `index-url` configures.
pub const DEFAULT_INDEX_NAME: &str = "default";

/// One package index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexConfig {
    pub name: String,
    /// As written (it may carry credentials; lbuild never writes or prints them).
    pub url: String,
    pub api: IndexApi,
    /// Only for packages pinned to it.
    pub explicit: bool,
}

/// The environment variables that change what `lambda.toml` means, read once at the edge
/// ([`Workspace::load`]) and passed into the translation. (Index credentials,
/// `LBUILD_INDEX_<NAME>_USERNAME` / `_PASSWORD`, belong to the index client, and never enter the
/// model.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Environment {
    /// `LBUILD_INDEX_URL`, trimmed: replaces the URL of the default index. Empty counts as unset.
    pub index_url: Option<String>,
    /// `LBUILD_CACHE_URL`, trimmed: replaces `cache-url` (`none`: no remote cache). Empty
    /// counts as unset.
    pub cache_url: Option<String>,
}

impl Environment {
    /// The variables of this process.
    pub fn from_process() -> Environment {
        Environment::from_lookup(|name| std::env::var(name).ok())
    }

    /// The variables `lookup` gives.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Environment {
        let index_url = lookup("LBUILD_INDEX_URL").map(|url| url.trim().to_string()).filter(|url| !url.is_empty());
        let cache_url = lookup("LBUILD_CACHE_URL").map(|url| url.trim().to_string()).filter(|url| !url.is_empty());
        Environment { index_url, cache_url }
    }
}

/// A directory whose files go into a member's zip (a function's `source`, at the zip root; a
/// layer's, under `python/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePath {
    /// Relative to the workspace root, as written in `lambda.toml`.
    pub path: PathBuf,
    /// The 1-based line of `lambda.toml` that names it, for messages.
    pub line: usize,
}

/// A function of the workspace.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    /// The source directories, in the order written (empty: the zip holds only packages).
    pub sources: Vec<SourcePath>,
    /// Source globs to include (empty: everything) and to exclude, relative to each source
    /// directory.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub handler: Option<String>,
    pub requirements: Vec<Requirement>,
    /// What its requirements file says beside the requirements: `-c` constraints, `--hash`
    /// options and local paths.
    pub file: FileInputs,
    pub layers: Vec<String>,
    pub architecture: Option<Architecture>,
    pub runtime: Option<Runtime>,
    /// Resolved on its own even in unified mode (`isolated = true`).
    pub isolated: bool,
    /// `bytecode` of `[function.NAME]` (`None`: the workspace's).
    pub bytecode: Option<bool>,
    /// Layers lbuild does not build, in order, deployed after `layers`.
    pub external_layers: Vec<ExternalLayer>,
}

/// A layer a function uses that lbuild does not build: by ARN, with what it provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalLayer {
    /// The layer version ARN on each architecture the function deploys on.
    pub arns: BTreeMap<Architecture, String>,
    /// The packages it provides, normalized (`-` separated, lowercase).
    pub provides: Vec<String>,
    /// The 1-based line of `lambda.toml` that names it, for messages.
    pub line: usize,
}

impl ExternalLayer {
    /// The layer's name inside its ARN (`arn:aws:lambda:...:layer:NAME:VERSION`), for messages.
    pub fn short_name(arn: &str) -> &str {
        arn.rsplit(':').nth(1).unwrap_or(arn)
    }
}

/// A layer of the workspace.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub requirements: Vec<Requirement>,
    /// Directories of plain files the layer carries under `python/`, in the order written.
    pub sources: Vec<SourcePath>,
    /// Source globs to include (empty: everything) and to exclude, relative to each source
    /// directory.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// What its requirements file says beside the requirements.
    pub file: FileInputs,
    /// `bytecode` of `[layer.NAME]` (`None`: the workspace's).
    pub bytecode: Option<bool>,
}

/// What a member's requirements file says beside its requirements.
#[derive(Debug, Clone, Default)]
pub struct FileInputs {
    /// The `-c` constraints, each with its line: they apply in the resolution the member is in.
    pub constraints: Vec<Constraint>,
    /// The `--hash` options: the lock's file of each such package must have one of them.
    pub hashes: Vec<HashPin>,
}

/// The validated `lambda.toml`.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The directory holding `lambda.toml`.
    pub root: PathBuf,
    pub manifest_path: PathBuf,
    pub runtime: Runtime,
    pub architectures: Vec<Architecture>,
    pub index_url: String,
    /// The default index's API.
    pub index_api: IndexApi,
    /// The URL that replaces `index_url`: `LBUILD_INDEX_URL`, read when the manifest is loaded.
    pub index_url_override: Option<String>,
    /// Extra indexes, in search order (the default index comes after them).
    pub extra_indexes: Vec<IndexConfig>,
    /// Package (normalized) -> the index it must come from.
    pub sources: BTreeMap<String, String>,
    /// Local packages (normalized name -> the package): from `[workspace.sources]`
    /// `{ path = ... }`, the `[tool.uv.sources]` of a member's pyproject.toml (`path` and
    /// `workspace = true`), and those of the local packages themselves.
    pub local_packages: BTreeMap<String, LocalPackage>,
    /// Absolute paths of local wheel directories.
    pub find_links: Vec<PathBuf>,
    pub prerelease: PrereleaseMode,
    /// `workspace.resolution`: one resolution per target, or one per function.
    pub resolution: ResolutionMode,
    pub python_full_version: Option<Version>,
    /// Drop the boto3/botocore closure the runtime provides.
    pub exclude_runtime_packages: bool,
    /// Globs of files stripped from installed packages.
    pub strip: Vec<String>,
    pub functions: Vec<Function>,
    pub layers: Vec<Layer>,
    /// `shared-layer = "auto"`: the plan generates a layer of what functions share.
    pub shared_layer: bool,
    /// `cache-url`: the remote cache beneath the local one.
    pub cache_url: Option<crate::cache::remote::RemoteUrl>,
    /// `LBUILD_CACHE_URL`, which replaces `cache_url` (see [`Workspace::remote_cache`]).
    pub cache_url_override: Option<String>,
    /// `[workspace] project-lock`.
    pub project_lock: ProjectLockMode,
    /// Member -> the other tool's lock (`uv.lock`, `poetry.lock`, `Pipfile.lock`) that governs
    /// its requirements file, an absolute path inside the workspace (none with `ignore`).
    pub project_locks: BTreeMap<MemberId, PathBuf>,
    /// `[workspace] build-sdists`: `true` for `pure` (the default), `false` for `never`.
    pub build_sdists: bool,
    /// `[workspace] bytecode`: compile `.py` files into the zips (see [`Workspace::bytecode_for`]).
    pub bytecode: bool,
    /// `[workspace] native-builder`: the command that builds platform wheels from sdists.
    pub native_builder: Option<std::sync::Arc<crate::sdist::native::NativeBuilder>>,
}

impl Workspace {
    /// The remote cache: `LBUILD_CACHE_URL` (`none` for none), else `cache-url`.
    pub(crate) fn remote_cache(&self) -> miette::Result<Option<crate::cache::remote::RemoteUrl>> {
        match self.cache_url_override.as_deref() {
            None => Ok(self.cache_url.clone()),
            Some("none") => Ok(None),
            Some(url) => crate::cache::remote::parse_url(url).map(Some).map_err(|why| {
                miette::miette!(
                    help = "a remote cache is an S3 location such as `s3://team-bucket/lbuild-cache`, or `none` for \
                            none",
                    "LBUILD_CACHE_URL is `{}`: {why}",
                    crate::output::escape_controls(&crate::model::redact(url))
                )
            }),
        }
    }

    /// Whether `member`'s zips get compiled bytecode: its own `bytecode`, else the workspace's.
    pub fn bytecode_for(&self, member: &MemberId) -> bool {
        let own = match member.kind {
            MemberKind::Function => self.functions.iter().find(|f| f.name == member.name).and_then(|f| f.bytecode),
            MemberKind::Layer => self.layers.iter().find(|l| l.name == member.name).and_then(|l| l.bytecode),
        };
        own.unwrap_or(self.bytecode)
    }

    /// The targets a function deploys on.
    pub fn function_targets(&self, function: &Function) -> Vec<(Runtime, Architecture)> {
        let runtime = function.runtime.unwrap_or(self.runtime);
        match function.architecture {
            Some(architecture) => vec![(runtime, architecture)],
            None => self.architectures.iter().map(|&architecture| (runtime, architecture)).collect(),
        }
    }

    /// Every target with the members resolved in it, sorted by target name.
    ///
    /// A function takes part in its own targets; a layer in the targets of the functions that
    /// use it, or in the workspace's default targets when no function uses it.
    pub fn targets(&self) -> Vec<(Target, Vec<MemberId>)> {
        let mut members: BTreeMap<(Runtime, Architecture), BTreeSet<MemberId>> = BTreeMap::new();
        let defaults: Vec<_> = self.architectures.iter().map(|&arch| (self.runtime, arch)).collect();
        for function in &self.functions {
            for pair in self.function_targets(function) {
                let entry = members.entry(pair).or_default();
                entry.insert(MemberId { kind: MemberKind::Function, name: function.name.clone() });
                for layer in &function.layers {
                    entry.insert(MemberId { kind: MemberKind::Layer, name: layer.clone() });
                }
            }
        }
        for layer in &self.layers {
            let used = self.functions.iter().any(|function| function.layers.contains(&layer.name));
            if !used {
                for pair in &defaults {
                    members
                        .entry(*pair)
                        .or_default()
                        .insert(MemberId { kind: MemberKind::Layer, name: layer.name.clone() });
                }
            }
        }
        let mut targets: Vec<_> = members
            .into_iter()
            .map(|((runtime, arch), members)| {
                (Target::new(runtime, arch, self.python_full_version_for(runtime)), members.into_iter().collect())
            })
            .collect();
        targets.sort_by_key(|(target, _)| target_name(target.runtime, target.architecture));
        targets
    }

    /// The `python_full_version` override applies to the workspace runtime only: a function
    /// that names another runtime gets that runtime's default.
    fn python_full_version_for(&self, runtime: Runtime) -> Option<Version> {
        if runtime == self.runtime { self.python_full_version.clone() } else { None }
    }

    /// The resolution groups of a target's members (see [`crate::model::resolution_groups`]).
    pub fn groups(&self, members: &[MemberId]) -> Vec<crate::model::Group> {
        self.groups_with(self.resolution, members)
    }

    /// The groups `members` would form with resolution `mode`.
    pub fn groups_with(&self, mode: ResolutionMode, members: &[MemberId]) -> Vec<crate::model::Group> {
        let grouping: Vec<crate::model::GroupingMember> = members
            .iter()
            .map(|member| {
                let function = (member.kind == MemberKind::Function)
                    .then(|| self.functions.iter().find(|function| function.name == member.name))
                    .flatten();
                crate::model::GroupingMember {
                    id: member.clone(),
                    layers: function.map(|function| function.layers.clone()).unwrap_or_default(),
                    isolated: function.is_some_and(|function| function.isolated),
                }
            })
            .collect();
        crate::model::resolution_groups(mode, &grouping)
    }

    /// The requirements of a member.
    pub fn requirements(&self, member: &MemberId) -> &[Requirement] {
        match member.kind {
            MemberKind::Function => self
                .functions
                .iter()
                .find(|function| function.name == member.name)
                .map(|function| function.requirements.as_slice())
                .unwrap_or_default(),
            MemberKind::Layer => self
                .layers
                .iter()
                .find(|layer| layer.name == member.name)
                .map(|layer| layer.requirements.as_slice())
                .unwrap_or_default(),
        }
    }

    /// What the requirements file of a member says beside its requirements.
    pub fn file_inputs(&self, member: &MemberId) -> Option<&FileInputs> {
        match member.kind {
            MemberKind::Function => {
                self.functions.iter().find(|function| function.name == member.name).map(|function| &function.file)
            }
            MemberKind::Layer => self.layers.iter().find(|layer| layer.name == member.name).map(|layer| &layer.file),
        }
    }

    /// The `-c` constraints of a member.
    pub fn constraints(&self, member: &MemberId) -> &[Constraint] {
        self.file_inputs(member).map(|file| file.constraints.as_slice()).unwrap_or_default()
    }

    /// Every index in search order: the extra indexes, then the default one (whose URL
    /// `LBUILD_INDEX_URL` overrides; its API then follows from that URL).
    pub fn indexes(&self) -> Vec<IndexConfig> {
        let mut indexes = self.extra_indexes.clone();
        let url = self.index_url_override.clone().unwrap_or_else(|| self.index_url.clone());
        let api = if url == self.index_url { self.index_api } else { IndexApi::detect(&url) };
        indexes.push(IndexConfig { name: DEFAULT_INDEX_NAME.to_string(), url, api, explicit: false });
        indexes
    }

    /// Find a member by name: functions first, then layers.
    pub fn member(&self, name: &str) -> Option<MemberId> {
        if self.functions.iter().any(|function| function.name == name) {
            return Some(MemberId { kind: MemberKind::Function, name: name.to_string() });
        }
        if self.layers.iter().any(|layer| layer.name == name) {
            return Some(MemberId { kind: MemberKind::Layer, name: name.to_string() });
        }
        None
    }
}

#[cfg(test)]
mod tests;
