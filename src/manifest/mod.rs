//! `lambda.toml`: the workspace manifest.
//!
//! Parsing happens in two stages, as in ripgrep's and uv's argument handling: the file is first
//! deserialized into plain wire types (`wire`) that keep the source span of every value, then
//! validated once into the [`Workspace`] model. Every validation error carries a miette span, so
//! the message points at the offending line of `lambda.toml` (or of a requirements file).
//! Unknown keys are warnings, not errors, so a newer manifest still loads in an older lbuild.
//!
//! `schemas/lambda.schema.json` is generated from the wire types (see [`schema_json`]); a test
//! fails when the committed file is stale.

// Manifest errors carry their source text for miette; they are built once, on the way out, so
// their size does not matter.
#![allow(clippy::result_large_err)]

pub(crate) mod requirements_file;
mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use pep440_rs::Version;
use pep508_rs::Requirement;
use thiserror::Error;

use crate::output::{QUOTE_LIMIT, cap_quotes, shorten, warn_user};
use crate::platform::{Architecture, Runtime, Target, target_name};

pub use requirements_file::parse_requirements_txt;

/// The name of the manifest file.
pub const MANIFEST_NAME: &str = "lambda.toml";

/// The default package index: PyPI's simple API (PEP 691 JSON, PEP 658 metadata files).
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple/";

/// The name of the index `index-url` configures.
pub const DEFAULT_INDEX_NAME: &str = "default";

/// Which API an index speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexApi {
    /// The PyPI JSON API: `<url>/<name>/json`.
    PypiJson,
    /// A simple repository: `<url>/<name>/`, PEP 691 JSON or PEP 503 HTML by content negotiation
    /// (the response's content type says which).
    Simple,
}

impl IndexApi {
    /// The API a URL implies when none is given: a path ending in `/pypi` is the JSON API,
    /// anything else a simple repository.
    pub fn detect(url: &str) -> IndexApi {
        let path = url::Url::parse(url).map(|url| url.path().trim_end_matches('/').to_string()).unwrap_or_default();
        if path.ends_with("/pypi") { IndexApi::PypiJson } else { IndexApi::Simple }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            IndexApi::PypiJson => "json",
            IndexApi::Simple => "simple",
        }
    }
}

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

/// An error in `lambda.toml` or a file it names, pointing at the offending text.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
pub struct ManifestError {
    message: String,
    #[source_code]
    source_code: NamedSource<Arc<String>>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
}

impl ManifestError {
    /// An error at `span` of `text`, the contents of the file `name`. Whatever the file holds,
    /// the error shows at most one line of it, cut to about [`QUOTE_LIMIT`] characters around
    /// the span (the snippet keeps the real line number), and every quoted value in `message`,
    /// `label` and `help` is cut the same way: a 20 MB string or `/proc/self/environ` is never
    /// echoed whole.
    pub(crate) fn at(
        name: &str,
        text: &str,
        span: Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ManifestError {
        let (source, span) = excerpt(text, span, None);
        ManifestError {
            message: cap_quotes(&message),
            source_code: NamedSource::new(name, Arc::new(source)),
            span: span.into(),
            label: cap_quotes(label),
            help: help.map(|help| cap_quotes(&help)),
        }
    }

    /// [`ManifestError::at`] for a span that holds a URL: the snippet shows `shown` (the
    /// redacted URL) in its place, so credentials in `lambda.toml` never reach a log.
    fn at_secret(
        ctx: &Context,
        span: Range<usize>,
        shown: &str,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ManifestError {
        let (source, span) = excerpt(&ctx.source, span, Some(shown));
        ManifestError {
            message: cap_quotes(&message),
            source_code: NamedSource::new(ctx.name.clone(), Arc::new(source)),
            span: span.into(),
            label: cap_quotes(label),
            help: help.map(|help| cap_quotes(&help)),
        }
    }

    /// The message, as shown.
    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The source snippet the error carries.
    #[cfg(test)]
    pub(crate) fn snippet(&self) -> &str {
        self.source_code.inner()
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let offset = floor_boundary(text, offset.min(text.len()));
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A source that holds only the line of `span` (cut to about [`QUOTE_LIMIT`] characters around
/// the span's start), placed after as many empty lines as precede it, and the span moved into it.
/// With `replacement`, the span's text is replaced by it.
fn excerpt(text: &str, span: Range<usize>, replacement: Option<&str>) -> (String, Range<usize>) {
    let start = floor_boundary(text, span.start.min(text.len()));
    let end = floor_boundary(text, span.end.clamp(start, text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |at| start + at);
    let line_end = if text[..line_end].ends_with('\r') { line_end - 1 } else { line_end }.max(start);
    let padding = line_of(text, start) - 1;
    // Up to a quarter of the limit before the span, the rest after it.
    let before =
        text[line_start..start].char_indices().rev().nth(QUOTE_LIMIT / 4).map_or(line_start, |(at, _)| line_start + at);
    let after = text[start..line_end].char_indices().nth(QUOTE_LIMIT).map_or(line_end, |(at, _)| start + at);
    let mut source = "\n".repeat(padding);
    if before > line_start {
        source.push('…');
    }
    let new_start = source.len() + (start - before);
    if let Some(replacement) = replacement {
        let end = end.min(line_end);
        source.push_str(&text[before..start]);
        source.push_str(replacement);
        let new_end = source.len();
        let rest = &text[end..line_end];
        let cut = rest.char_indices().nth(QUOTE_LIMIT / 4).map_or(rest.len(), |(at, _)| at);
        source.push_str(&rest[..cut]);
        if cut < rest.len() {
            source.push('…');
        }
        return (source, new_start..new_end);
    }
    source.push_str(&text[before..after]);
    if after < line_end {
        source.push('…');
    }
    let new_end = new_start + (end.min(after) - start);
    (source, new_start..new_end)
}

/// An error about the manifest as a whole (not found, unreadable).
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
pub struct ManifestFileError {
    message: String,
    #[help]
    help: Option<String>,
}

/// When pre-releases may be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrereleaseMode {
    /// Never: a requirement that only a pre-release satisfies fails to resolve.
    Disallow,
    /// Always allowed, like any other version.
    Allow,
    /// Only for packages whose requirement names a pre-release, or when nothing else fits
    /// (the default, as in pip and uv).
    #[default]
    IfNecessaryOrExplicit,
}

impl PrereleaseMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            PrereleaseMode::Disallow => "disallow",
            PrereleaseMode::Allow => "allow",
            PrereleaseMode::IfNecessaryOrExplicit => "if-necessary-or-explicit",
        }
    }
}

/// Whether a member is a function or a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberKind {
    Function,
    Layer,
}

/// A function or layer of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId {
    pub kind: MemberKind,
    pub name: String,
}

impl MemberId {
    /// `function.api` / `layer.common`: the key used in `lambda.lock`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.kind_str(), self.name)
    }

    /// The member a lock key such as `function.api` names.
    pub fn from_key(key: &str) -> Option<MemberId> {
        let (kind, name) = key.split_once('.')?;
        let kind = match kind {
            "function" => MemberKind::Function,
            "layer" => MemberKind::Layer,
            _ => return None,
        };
        Some(MemberId { kind, name: name.to_string() })
    }

    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            MemberKind::Function => "function",
            MemberKind::Layer => "layer",
        }
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind_str(), self.name)
    }
}

/// A function of the workspace.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    /// The source directory, relative to the workspace root.
    pub source: Option<PathBuf>,
    /// Source globs to include (empty: everything) and to exclude.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub handler: Option<String>,
    pub requirements: Vec<Requirement>,
    pub layers: Vec<String>,
    pub architecture: Option<Architecture>,
    pub runtime: Option<Runtime>,
}

/// A layer of the workspace.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub requirements: Vec<Requirement>,
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
    /// Extra indexes, in search order (the default index comes after them).
    pub extra_indexes: Vec<IndexConfig>,
    /// Package (normalized) -> the index it must come from.
    pub sources: BTreeMap<String, String>,
    /// Absolute paths of local wheel directories.
    pub find_links: Vec<PathBuf>,
    pub prerelease: PrereleaseMode,
    pub python_full_version: Option<Version>,
    /// Drop the boto3/botocore closure the runtime provides.
    pub exclude_runtime_packages: bool,
    /// Globs of files stripped from installed packages.
    pub strip: Vec<String>,
    pub functions: Vec<Function>,
    pub layers: Vec<Layer>,
}

impl Workspace {
    /// Find `lambda.toml` in `start` or one of its parents.
    pub fn discover(start: &Path) -> Result<PathBuf, ManifestFileError> {
        let mut dir = Some(start);
        while let Some(current) = dir {
            let candidate = current.join(MANIFEST_NAME);
            if candidate.is_file() {
                return Ok(candidate);
            }
            dir = current.parent();
        }
        Err(ManifestFileError {
            message: format!("could not find `{MANIFEST_NAME}` in `{}` or any parent directory", start.display()),
            help: Some(
                "run lbuild inside a workspace, pass `--manifest-path PATH`, or create one with `lbuild init`".into(),
            ),
        })
    }

    /// Read and validate a manifest.
    pub fn load(manifest_path: &Path) -> miette::Result<Workspace> {
        let text = fs_err::read_to_string(manifest_path).map_err(|err| ManifestFileError {
            message: format!("failed to read the manifest: {err}"),
            help: Some("check `--manifest-path`, or create a manifest with `lbuild init`".into()),
        })?;
        let manifest_path = std::path::absolute(manifest_path).unwrap_or(manifest_path.to_path_buf());
        Self::from_str_at(&text, &manifest_path)
    }

    /// Validate manifest text as if it were read from `manifest_path`.
    pub fn from_str_at(text: &str, manifest_path: &Path) -> miette::Result<Workspace> {
        let root = manifest_path.parent().map(Path::to_path_buf).unwrap_or_default();
        let source = Arc::new(text.to_string());
        let ctx = Context { source: source.clone(), name: manifest_path.display().to_string() };
        let wire = wire::parse(text).map_err(|err| {
            let span = err.span().unwrap_or(0..0);
            let message = err.message().trim().to_string();
            let hint = if message.contains("expected a sequence") {
                "this key takes a list, e.g. `requirements = [\"requests>=2\"]`".to_string()
            } else {
                "docs/reference/manifest.md lists every key with its type; lambda.toml.example shows each".to_string()
            };
            ctx.error(format!("`{MANIFEST_NAME}` is not valid: {message}"), span, "here", Some(hint))
        })?;
        for (path, line) in wire.ignored {
            let key = path.rsplit('.').next().unwrap_or(&path);
            let suggestion =
                wire::closest_key(key).map(|known| format!("; did you mean `{known}`?")).unwrap_or_default();
            let path = shorten(&path);
            match line {
                Some(line) => {
                    warn_user!("unused manifest key `{path}` in `{}` (line {line}){suggestion}", ctx.name)
                }
                None => warn_user!("unused manifest key `{path}` in `{}`{suggestion}", ctx.name),
            }
        }
        validate(wire.manifest, ctx, root, manifest_path.to_path_buf())
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

    /// Every index in search order: the extra indexes, then the default one (whose URL
    /// `LBUILD_INDEX_URL` overrides).
    pub fn indexes(&self) -> Vec<IndexConfig> {
        let mut indexes = self.extra_indexes.clone();
        let url = std::env::var("LBUILD_INDEX_URL")
            .ok()
            .map(|url| url.trim().to_string())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| self.index_url.clone());
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

/// Source text and its name, for building span errors.
#[derive(Clone)]
struct Context {
    source: Arc<String>,
    name: String,
}

impl Context {
    fn error(&self, message: String, span: Range<usize>, label: &str, help: Option<String>) -> ManifestError {
        ManifestError::at(&self.name, &self.source, span, message, label, help)
    }
}

fn validate(wire: wire::Manifest, ctx: Context, root: PathBuf, manifest_path: PathBuf) -> miette::Result<Workspace> {
    let workspace = wire.workspace.unwrap_or_default();
    let runtime = match &workspace.runtime {
        Some(spanned) => parse_runtime(&ctx, spanned)?,
        None => Runtime::from_name("python3.12").expect("python3.12 is in the table"),
    };
    let architectures = match &workspace.architectures {
        Some(list) => {
            let mut architectures = Vec::new();
            for item in list.get_ref() {
                let arch = parse_architecture(&ctx, item)?;
                if !architectures.contains(&arch) {
                    architectures.push(arch);
                }
            }
            if architectures.is_empty() {
                return Err(ctx
                    .error(
                        "`workspace.architectures` is empty".into(),
                        list.span(),
                        "no architecture",
                        Some("list at least one of `x86_64` and `arm64`, or remove the key to lock both".into()),
                    )
                    .into());
            }
            architectures.sort();
            architectures
        }
        None => Architecture::ALL.to_vec(),
    };
    let index_url = match &workspace.index_url {
        Some(spanned) => {
            let value = spanned.get_ref().trim().to_string();
            if url::Url::parse(&value).is_err() {
                let shown = crate::index::SecretUrl::new(value.as_str()).to_string();
                return Err(ManifestError::at_secret(
                    &ctx,
                    spanned.span(),
                    &format!("\"{shown}\""),
                    format!("`workspace.index-url` is not a URL: `{shown}`"),
                    "not a URL",
                    Some("give a PyPI JSON API base such as `https://pypi.org/pypi` or a simple index such as `https://example.com/simple/`".into()),
                )
                .into());
            }
            value
        }
        None => DEFAULT_INDEX_URL.to_string(),
    };
    let index_api = IndexApi::detect(&index_url);
    let mut extra_indexes: Vec<IndexConfig> = Vec::new();
    for table in workspace.index.iter().flatten() {
        let table = table.get_ref();
        let name = table.name.get_ref().clone();
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid || name == DEFAULT_INDEX_NAME || extra_indexes.iter().any(|index| index.name == name) {
            let why = if !valid {
                "use letters, digits, `-` and `_`".to_string()
            } else if name == DEFAULT_INDEX_NAME {
                "`default` is the name of the index `index-url` configures".to_string()
            } else {
                "index names must be unique".to_string()
            };
            return Err(ctx
                .error(format!("invalid index name `{name}`"), table.name.span(), "this name", Some(why))
                .into());
        }
        let url = table.url.get_ref().trim().to_string();
        if url::Url::parse(&url).is_err() {
            let shown = crate::index::SecretUrl::new(url.as_str()).to_string();
            return Err(ManifestError::at_secret(
                &ctx,
                table.url.span(),
                &format!("\"{shown}\""),
                format!("index `{name}` has an invalid URL: `{shown}`"),
                "not a URL",
                Some("index URLs look like `https://user:token@host/simple/` (percent-encode `@`, `/` and `:` in a password)".into()),
            )
            .into());
        }
        let api = match table.api.as_ref().map(|api| (api.get_ref().as_str(), api.span())) {
            None => IndexApi::detect(&url),
            Some(("simple", _)) => IndexApi::Simple,
            Some(("json", _)) => IndexApi::PypiJson,
            Some((other, span)) => {
                return Err(ctx
                    .error(
                        format!("unknown index API `{other}`"),
                        span,
                        "unknown API",
                        Some("use `simple` (PEP 503/691) or `json` (the PyPI JSON API)".into()),
                    )
                    .into());
            }
        };
        extra_indexes.push(IndexConfig { name, url, api, explicit: table.explicit });
    }
    let mut sources = BTreeMap::new();
    for (package, source) in workspace.sources.iter().flatten() {
        let index = source.get_ref().index.get_ref();
        if index != DEFAULT_INDEX_NAME && !extra_indexes.iter().any(|config| &config.name == index) {
            let mut known = vec![format!("`{DEFAULT_INDEX_NAME}`")];
            known.extend(extra_indexes.iter().map(|config| format!("`{}`", config.name)));
            return Err(ctx
                .error(
                    format!("package `{package}` is pinned to index `{index}`, which does not exist"),
                    source.get_ref().index.span(),
                    "unknown index",
                    Some(format!("the indexes are: {}", known.join(", "))),
                )
                .into());
        }
        sources.insert(crate::python::wheel_name::normalize_name(package), index.clone());
    }
    let find_links = workspace
        .find_links
        .iter()
        .flatten()
        .map(|spanned| {
            let path = root.join(spanned.get_ref());
            if !path.is_dir() {
                return Err(ctx.error(
                    format!("find-links directory `{}` does not exist", spanned.get_ref()),
                    spanned.span(),
                    "no such directory",
                    Some(format!("paths are relative to `{}`", root.display())),
                ));
            }
            Ok(path)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let prerelease = match &workspace.prerelease {
        Some(spanned) => match spanned.get_ref().as_str() {
            "allow" => PrereleaseMode::Allow,
            "disallow" => PrereleaseMode::Disallow,
            "if-necessary-or-explicit" => PrereleaseMode::IfNecessaryOrExplicit,
            other => {
                return Err(ctx
                    .error(
                        format!("unknown pre-release mode `{other}`"),
                        spanned.span(),
                        "unknown mode",
                        Some("use `allow`, `disallow` or `if-necessary-or-explicit` (the default)".into()),
                    )
                    .into());
            }
        },
        None => PrereleaseMode::default(),
    };
    let python_full_version = match &workspace.python_full_version {
        Some(spanned) => {
            let version = Version::from_str(spanned.get_ref()).ok().filter(|version| {
                let release = version.release();
                release.len() == 3 && release[0] == 3 && release[1] == u64::from(runtime.minor)
            });
            match version {
                Some(version) => Some(version),
                None => {
                    return Err(ctx
                        .error(
                            format!(
                                "`python-full-version` must be a 3.{}.Z version for runtime `{}`",
                                runtime.minor, runtime.name
                            ),
                            spanned.span(),
                            "not a matching version",
                            Some(format!("for example `{}`", runtime.default_full_version)),
                        )
                        .into());
                }
            }
        }
        None => None,
    };

    let mut layers = Vec::new();
    for (name, layer) in &wire.layer {
        check_member_name(&ctx, "layer", name, &layer.span())?;
        let layer = layer.get_ref();
        let requirements = member_requirements(&ctx, &root, &layer.requirements, &layer.requirements_file)?;
        layers.push(Layer { name: name.clone(), requirements });
    }
    let layer_names: BTreeSet<&str> = wire.layer.keys().map(String::as_str).collect();

    let mut functions = Vec::new();
    for (name, function) in &wire.function {
        let span = function.span();
        let function = function.get_ref();
        check_member_name(&ctx, "function", name, &span)?;
        if wire.layer.contains_key(name) {
            return Err(ctx
                .error(
                    format!("`{name}` is both a function and a layer"),
                    span,
                    "defined again here",
                    Some("give functions and layers distinct names, so `-p NAME` is never ambiguous".into()),
                )
                .into());
        }
        let requirements = member_requirements(&ctx, &root, &function.requirements, &function.requirements_file)?;
        if let Some(handler) = &function.handler {
            let text = handler.get_ref();
            let valid = text.rsplit_once('.').is_some_and(|(module, function)| {
                !module.is_empty() && !function.is_empty() && !module.split(['.', '/']).any(str::is_empty)
            });
            if !valid {
                return Err(ctx
                    .error(
                        format!("`{text}` is not a Lambda handler"),
                        handler.span(),
                        "not `module.function`",
                        Some("a Python handler is the module and the function, e.g. `app.handler` for `def handler(event, context)` in app.py".into()),
                    )
                    .into());
            }
        }
        let mut function_layers = Vec::new();
        for layer in function.layers.iter().flatten() {
            if !layer_names.contains(layer.get_ref().as_str()) {
                let known = if layer_names.is_empty() {
                    "the workspace defines no layers; add a `[layer.NAME]` table".to_string()
                } else {
                    format!(
                        "the layers are: {}",
                        layer_names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                    )
                };
                return Err(ctx
                    .error(
                        format!("function `{name}` uses layer `{}`, which does not exist", layer.get_ref()),
                        layer.span(),
                        "unknown layer",
                        Some(known),
                    )
                    .into());
            }
            function_layers.push(layer.get_ref().clone());
        }
        if function_layers.len() > 5 {
            warn_user!("function `{name}` uses {} layers; Lambda allows at most 5", function_layers.len());
        }
        let architecture = match &function.architecture {
            Some(spanned) => Some(parse_architecture(&ctx, spanned)?),
            None => None,
        };
        let function_runtime = match &function.runtime {
            Some(spanned) => Some(parse_runtime(&ctx, spanned)?),
            None => None,
        };
        functions.push(Function {
            name: name.clone(),
            source: match &function.source {
                Some(source) => {
                    inside_workspace(&ctx, &root, source, "source directory")?;
                    Some(PathBuf::from(source.get_ref()))
                }
                None => None,
            },
            include: globs(&ctx, &function.include)?,
            exclude: globs(&ctx, &function.exclude)?,
            handler: function.handler.as_ref().map(|handler| handler.get_ref().clone()),
            requirements,
            layers: function_layers,
            architecture,
            runtime: function_runtime,
        });
    }

    Ok(Workspace {
        root,
        manifest_path,
        runtime,
        architectures,
        index_url,
        index_api,
        extra_indexes,
        sources,
        find_links,
        prerelease,
        python_full_version,
        exclude_runtime_packages: workspace.exclude_runtime_packages.as_ref().is_some_and(|flag| *flag.get_ref()),
        strip: globs(&ctx, &workspace.strip)?,
        functions,
        layers,
    })
}

/// Validate glob patterns, pointing at the first bad one.
fn globs(ctx: &Context, patterns: &Option<Vec<toml::Spanned<String>>>) -> Result<Vec<String>, ManifestError> {
    patterns
        .iter()
        .flatten()
        .map(|pattern| match globset::Glob::new(pattern.get_ref()) {
            Ok(_) => Ok(pattern.get_ref().clone()),
            Err(err) => Err(ctx.error(
                format!("invalid glob `{}`", pattern.get_ref()),
                pattern.span(),
                "invalid glob",
                Some(err.kind().to_string()),
            )),
        })
        .collect()
}

/// A function or layer name: letters, digits, `-` and `_`, starting with a letter or digit.
/// The longest function or layer name lbuild takes: Lambda's limit on a layer name (a function
/// name may have 64 characters). It also keeps artifact file names within what file systems hold.
pub(crate) const MAX_MEMBER_NAME: usize = 140;

pub(crate) fn is_valid_member_name(name: &str) -> bool {
    name.len() <= MAX_MEMBER_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn check_member_name(ctx: &Context, kind: &str, name: &str, span: &Range<usize>) -> Result<(), ManifestError> {
    if is_valid_member_name(name) {
        Ok(())
    } else {
        Err(ctx.error(
            format!("`{name}` is not a valid {kind} name"),
            span.clone(),
            "invalid name",
            Some(format!("use letters, digits, `-` and `_`, starting with a letter or digit, at most {MAX_MEMBER_NAME} characters")),
        ))
    }
}

fn parse_runtime(ctx: &Context, spanned: &toml::Spanned<String>) -> Result<Runtime, ManifestError> {
    Runtime::from_name(spanned.get_ref()).ok_or_else(|| {
        ctx.error(
            format!("unknown runtime `{}`", spanned.get_ref()),
            spanned.span(),
            "unknown runtime",
            Some(format!("the Lambda Python runtimes are: {}", Runtime::known_names())),
        )
    })
}

fn parse_architecture(ctx: &Context, spanned: &toml::Spanned<String>) -> Result<Architecture, ManifestError> {
    Architecture::from_str(spanned.get_ref()).map_err(|hint| {
        ctx.error(
            format!("unknown architecture `{}`", spanned.get_ref()),
            spanned.span(),
            "unknown architecture",
            Some(hint),
        )
    })
}

fn member_requirements(
    ctx: &Context,
    root: &Path,
    inline: &Option<Vec<toml::Spanned<String>>>,
    file: &Option<toml::Spanned<String>>,
) -> miette::Result<Vec<Requirement>> {
    let mut requirements = Vec::new();
    for item in inline.iter().flatten() {
        requirements.push(parse_requirement(ctx, item.get_ref(), item.span())?);
    }
    if let Some(file) = file {
        let path = inside_workspace(ctx, root, file, "requirements file")?;
        let text = read_text_file(&path).map_err(|problem| {
            ctx.error(
                format!("cannot read requirements file `{}`: {problem}", file.get_ref()),
                file.span(),
                "this file",
                Some(format!("paths are relative to `{}`", root.display())),
            )
        })?;
        let file_name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if file_name == "pyproject.toml" {
            requirements.extend(requirements_file::parse_pyproject(&text, &path)?);
        } else {
            requirements.extend(requirements_file::parse_requirements_txt_in(&text, &path, root)?);
        }
    }
    Ok(requirements)
}

/// The largest requirements file lbuild reads; real ones are a few kilobytes.
const MAX_TEXT_FILE: u64 = 4 << 20;

/// `root` joined with the path `value` names, refused unless it stays inside the workspace root,
/// also after following symbolic links: `lambda.toml` may come from a pull request, and must not
/// be able to make lbuild read (and quote) or package files elsewhere on the machine.
fn inside_workspace(
    ctx: &Context,
    root: &Path,
    value: &toml::Spanned<String>,
    what: &str,
) -> Result<PathBuf, ManifestError> {
    let path = root.join(value.get_ref());
    let normalized_root = crate::fsutil::absolute_normalized(root);
    if is_inside(root, &path) {
        return Ok(path);
    }
    Err(ctx.error(
        format!("the {what} `{}` is outside the workspace", value.get_ref()),
        value.span(),
        "outside the workspace",
        Some(format!(
            "paths in lambda.toml stay inside `{}` (links included); put lambda.toml at the root of the \
             project that holds everything it packages",
            normalized_root.display()
        )),
    ))
}

/// Whether `path` is inside `root`, by name and, when both exist, after following links.
pub(crate) fn is_inside(root: &Path, path: &Path) -> bool {
    let inside = crate::fsutil::absolute_normalized(path).starts_with(crate::fsutil::absolute_normalized(root));
    match (fs_err::canonicalize(root), fs_err::canonicalize(path)) {
        (Ok(real_root), Ok(real)) => inside && real.starts_with(real_root),
        _ => inside,
    }
}

/// The text of a small regular file, or why it is not one (without quoting any of it).
pub(crate) fn read_text_file(path: &Path) -> Result<String, String> {
    let meta = fs_err::metadata(path).map_err(|err| err.kind().to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > MAX_TEXT_FILE {
        return Err(format!("it is {} bytes, more than a requirements file can be ({MAX_TEXT_FILE})", meta.len()));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(fs_err::File::open(path).map_err(|err| err.kind().to_string())?, MAX_TEXT_FILE + 1),
        &mut bytes,
    )
    .map_err(|err| err.kind().to_string())?;
    if bytes.len() as u64 > MAX_TEXT_FILE {
        return Err(format!("it is more than {MAX_TEXT_FILE} bytes"));
    }
    if bytes.contains(&0) {
        return Err("it is not a text file (it holds NUL bytes)".into());
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".into())
}

fn parse_requirement(ctx: &Context, text: &str, span: Range<usize>) -> Result<Requirement, ManifestError> {
    let requirement = Requirement::from_str(text).map_err(|err| {
        ctx.error(
            format!("invalid requirement `{text}`"),
            span.clone(),
            "not a PEP 508 requirement",
            Some(err.message.to_string()),
        )
    })?;
    if requirement.version_or_url.as_ref().is_some_and(|v| matches!(v, pep508_rs::VersionOrUrl::Url(_))) {
        return Err(ctx.error(
            format!("direct URL requirement `{text}` is not supported"),
            span,
            "URL requirement",
            Some("lbuild locks packages from indexes and find-links directories; put the wheel in a `find-links` directory and require it by name".into()),
        ));
    }
    Ok(requirement)
}

/// The JSON schema of `lambda.toml`, as committed in `schemas/lambda.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(wire::Manifest);
    let mut text = serde_json::to_string_pretty(&schema).expect("schema serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
