//! The pure half of validation: the wire types of `lambda.toml` in, the [`Workspace`] model out,
//! every error pointing at the offending value. Nothing here reads a file or the environment:
//! the paths `lambda.toml` names are collected as [`PathRef`]s for `files` to check and read,
//! and the environment comes in as an [`Environment`]. So every rule about what `lambda.toml`
//! may say is testable from a string.
//!
//! The steps follow the manifest's parts: where the targets are (runtime, architectures), where
//! packages come from (indexes and sources), how they are chosen and packaged (settings), then
//! the layers and the functions that use them.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::Requirement;
use toml::Spanned;

use super::error::{Context, ManifestError};
use super::wire;
use super::{
    DEFAULT_INDEX_NAME, DEFAULT_INDEX_URL, Environment, ExternalLayer, Function, IndexApi, IndexConfig, Layer,
    MemberId, MemberKind, PrereleaseMode, ProjectLockMode, ResolutionMode, SourcePath, Workspace,
};
use crate::model::{FIND_LINKS, PATH_SOURCE};
use crate::model::{MAX_MEMBER_NAME, SHARED_LAYER, is_valid_member_name};
use crate::platform::{Architecture, Runtime};

/// A workspace whose paths are not yet checked, and what `files` must do to finish it.
pub(super) struct Draft {
    /// Complete but for what the paths hold: `find_links` is empty, and members' requirements
    /// are the inline ones.
    pub workspace: Workspace,
    /// The paths `lambda.toml` names, in the order they are written.
    pub paths: Vec<PathRef>,
    /// Warnings about valid but doubtful values, to show once the manifest is read.
    pub warnings: Vec<String>,
}

/// A path `lambda.toml` names, as written.
pub(super) enum PathRef {
    /// A `find-links` directory, which must exist.
    FindLinks(Spanned<String>),
    /// A member's `requirements-file`, whose requirements follow its inline ones, with the
    /// extras and dependency groups it selects of a `pyproject.toml`.
    RequirementsFile {
        member: MemberId,
        file: Spanned<String>,
        extras: Vec<Spanned<String>>,
        groups: Vec<Spanned<String>>,
    },
    /// A member's `source` directory, which must exist and stay inside the workspace.
    Source(MemberId, Spanned<String>),
    /// A local package of `[workspace.sources]`: the name as written and its directory.
    LocalPackage(String, Spanned<String>),
}

/// Translate the wire manifest of the workspace at `root`.
pub(super) fn translate(
    wire: wire::Manifest,
    ctx: &Context,
    root: &Path,
    manifest_path: &Path,
    env: &Environment,
) -> Result<Draft, ManifestError> {
    let settings = wire.workspace.unwrap_or_default();
    let mut paths = Vec::new();
    let mut warnings = Vec::new();
    let (runtime, architectures) = targets(ctx, &settings)?;
    let indexes = indexes_and_sources(ctx, &settings, &mut paths)?;
    let options = options(ctx, &settings, runtime, &mut paths)?;
    let layers = layers(ctx, &wire.layer, &mut paths, &mut warnings)?;
    let functions = functions(ctx, &wire.function, &wire.layer, &architectures, &mut paths, &mut warnings)?;
    check_isolated(ctx, &wire.function, &functions)?;
    let shared_layer = shared_layer(ctx, &settings, options.resolution, &wire.layer, &wire.function)?;
    check_names_differ_in_more_than_case(ctx, &wire.function, &wire.layer, shared_layer)?;
    let cache_url = cache_url(ctx, &settings)?;
    let workspace = Workspace {
        root: root.to_path_buf(),
        manifest_path: manifest_path.to_path_buf(),
        runtime,
        architectures,
        index_url: indexes.index_url,
        index_api: indexes.index_api,
        index_url_override: env.index_url.clone(),
        extra_indexes: indexes.extra_indexes,
        sources: indexes.sources,
        local_packages: BTreeMap::new(),
        find_links: Vec::new(),
        prerelease: options.prerelease,
        resolution: options.resolution,
        project_lock: options.project_lock,
        project_locks: BTreeMap::new(),
        python_full_version: options.python_full_version,
        exclude_runtime_packages: options.exclude_runtime_packages,
        strip: options.strip,
        functions,
        layers,
        shared_layer,
        cache_url,
        cache_url_override: env.cache_url.clone(),
        build_sdists: options.build_sdists,
        bytecode: settings.bytecode.as_ref().is_some_and(|flag| *flag.get_ref()),
        native_builder: options.native_builder,
    };
    Ok(Draft { workspace, paths, warnings })
}

/// `workspace.runtime` and `workspace.architectures`: the default targets.
fn targets(ctx: &Context, settings: &wire::WorkspaceTable) -> Result<(Runtime, Vec<Architecture>), ManifestError> {
    let runtime = match &settings.runtime {
        Some(spanned) => parse_runtime(ctx, spanned)?,
        None => Runtime::from_name("python3.12").expect("python3.12 is in the table"),
    };
    let architectures = match &settings.architectures {
        Some(list) => {
            let mut architectures = Vec::new();
            for item in list.get_ref() {
                let arch = parse_architecture(ctx, item)?;
                if !architectures.contains(&arch) {
                    architectures.push(arch);
                }
            }
            if architectures.is_empty() {
                return Err(ctx.error(
                    "`workspace.architectures` is empty".into(),
                    list.span(),
                    "no architecture",
                    Some("list at least one of `x86_64` and `arm64`, or remove the key to lock both".into()),
                ));
            }
            architectures.sort();
            architectures
        }
        None => Architecture::ALL.to_vec(),
    };
    Ok((runtime, architectures))
}

/// Where packages come from.
struct Indexes {
    index_url: String,
    index_api: IndexApi,
    extra_indexes: Vec<IndexConfig>,
    sources: BTreeMap<String, String>,
}

/// `workspace.index-url`, `[[workspace.index]]` and `[workspace.sources]`.
fn indexes_and_sources(
    ctx: &Context,
    settings: &wire::WorkspaceTable,
    paths: &mut Vec<PathRef>,
) -> Result<Indexes, ManifestError> {
    let index_url = match &settings.index_url {
        Some(spanned) => {
            let value = spanned.get_ref().trim().to_string();
            if url::Url::parse(&value).is_err() {
                let shown = crate::model::SecretUrl::new(value.as_str()).to_string();
                return Err(ManifestError::at_secret(
                    ctx,
                    spanned.span(),
                    &format!("\"{shown}\""),
                    format!("`workspace.index-url` is not a URL: `{shown}`"),
                    "not a URL",
                    Some("give a PyPI JSON API base such as `https://pypi.org/pypi` or a simple index such as `https://example.com/simple/`".into()),
                ));
            }
            value
        }
        None => DEFAULT_INDEX_URL.to_string(),
    };
    let index_api = IndexApi::detect(&index_url);
    let mut extra_indexes: Vec<IndexConfig> = Vec::new();
    for table in settings.index.iter().flatten() {
        let index = extra_index(ctx, table.get_ref(), &extra_indexes)?;
        extra_indexes.push(index);
    }
    let mut sources = BTreeMap::new();
    for (package, source) in settings.sources.iter().flatten() {
        let table = source.get_ref();
        if let Some(path) = &table.path {
            if table.index.is_some() || table.find_links.is_some() {
                return Err(ctx.error(
                    format!("package `{package}` has a `path` and another source"),
                    path.span(),
                    "one source per package",
                    Some("keep either `path = \"...\"`, `index = \"NAME\"` or `find-links = true`".into()),
                ));
            }
            paths.push(PathRef::LocalPackage(package.clone(), path.clone()));
            continue;
        }
        let index = match (&table.index, &table.find_links) {
            (Some(index), None) => index,
            (None, Some(find_links)) if *find_links.get_ref() => {
                if settings.find_links.iter().flatten().next().is_none() {
                    return Err(ctx.error(
                        format!("package `{package}` is pinned to the find-links directories, but there are none"),
                        find_links.span(),
                        "no `find-links` in [workspace]",
                        Some("add `find-links = [\"<directory of wheels>\"]` to [workspace], or pin the package to an index".into()),
                    ));
                }
                sources.insert(crate::python::wheel_name::normalize_name(package), FIND_LINKS.to_string());
                continue;
            }
            (None, Some(find_links)) => {
                return Err(ctx.error(
                    format!("`find-links = false` does not say where package `{package}` comes from"),
                    find_links.span(),
                    "only `true` is meaningful",
                    Some("write `{ find-links = true }` to take it only from the find-links directories, or remove the entry".into()),
                ));
            }
            (Some(index), Some(_)) => {
                return Err(ctx.error(
                    format!(
                        "package `{package}` is pinned both to index `{}` and to the find-links directories",
                        index.get_ref()
                    ),
                    index.span(),
                    "one source per package",
                    Some("keep either `index = \"NAME\"` or `find-links = true`".into()),
                ));
            }
            (None, None) => {
                return Err(ctx.error(
                    format!("package `{package}` has an empty source"),
                    source.span(),
                    "this source",
                    Some("write `{ index = \"NAME\" }`, `{ find-links = true }` or `{ path = \"DIR\" }`".into()),
                ));
            }
        };
        let index = index.get_ref();
        if index != DEFAULT_INDEX_NAME && !extra_indexes.iter().any(|config| &config.name == index) {
            let mut known = vec![format!("`{DEFAULT_INDEX_NAME}`")];
            known.extend(extra_indexes.iter().map(|config| format!("`{}`", config.name)));
            return Err(ctx.error(
                format!("package `{package}` is pinned to index `{index}`, which does not exist"),
                table.index.as_ref().map_or(source.span(), Spanned::span),
                "unknown index",
                Some(format!("the indexes are: {}", known.join(", "))),
            ));
        }
        sources.insert(crate::python::wheel_name::normalize_name(package), index.clone());
    }
    Ok(Indexes { index_url, index_api, extra_indexes, sources })
}

/// One `[[workspace.index]]` table, after the ones in `before`.
fn extra_index(ctx: &Context, table: &wire::IndexTable, before: &[IndexConfig]) -> Result<IndexConfig, ManifestError> {
    let name = table.name.get_ref().clone();
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid
        || name == DEFAULT_INDEX_NAME
        || name == FIND_LINKS
        || name == PATH_SOURCE
        || before.iter().any(|index| index.name == name)
    {
        let why = if !valid {
            "use letters, digits, `-` and `_`".to_string()
        } else if name == DEFAULT_INDEX_NAME {
            "`default` is the name of the index `index-url` configures".to_string()
        } else if name == PATH_SOURCE {
            "`path` names local packages in the lock".to_string()
        } else if name == FIND_LINKS {
            "`find-links` names the find-links directories in `[workspace.sources]` and the lock".to_string()
        } else {
            "index names must be unique".to_string()
        };
        return Err(ctx.error(format!("invalid index name `{name}`"), table.name.span(), "this name", Some(why)));
    }
    let url = table.url.get_ref().trim().to_string();
    if url::Url::parse(&url).is_err() {
        let shown = crate::model::SecretUrl::new(url.as_str()).to_string();
        return Err(ManifestError::at_secret(
            ctx,
            table.url.span(),
            &format!("\"{shown}\""),
            format!("index `{name}` has an invalid URL: `{shown}`"),
            "not a URL",
            Some("index URLs look like `https://user:token@host/simple/` (percent-encode `@`, `/` and `:` in a password)".into()),
        ));
    }
    let api = match &table.api {
        None => IndexApi::detect(&url),
        Some(api) => IndexApi::from_name(api.get_ref()).ok_or_else(|| {
            ctx.error(
                format!("unknown index API `{}`", api.get_ref()),
                api.span(),
                "unknown API",
                Some("use `simple` (PEP 503/691) or `json` (the PyPI JSON API)".into()),
            )
        })?,
    };
    Ok(IndexConfig { name, url, api, explicit: table.explicit })
}

/// How packages are chosen and packaged.
struct Options {
    prerelease: PrereleaseMode,
    resolution: ResolutionMode,
    python_full_version: Option<Version>,
    exclude_runtime_packages: bool,
    strip: Vec<String>,
    project_lock: ProjectLockMode,
    build_sdists: bool,
    native_builder: Option<std::sync::Arc<crate::sdist::native::NativeBuilder>>,
}

/// `find-links`, `prerelease`, `resolution`, `python-full-version`, `exclude-runtime-packages`
/// and `strip`.
fn options(
    ctx: &Context,
    settings: &wire::WorkspaceTable,
    runtime: Runtime,
    paths: &mut Vec<PathRef>,
) -> Result<Options, ManifestError> {
    paths.extend(settings.find_links.iter().flatten().cloned().map(PathRef::FindLinks));
    let prerelease = match &settings.prerelease {
        Some(spanned) => PrereleaseMode::from_name(spanned.get_ref()).ok_or_else(|| {
            ctx.error(
                format!("unknown pre-release mode `{}`", spanned.get_ref()),
                spanned.span(),
                "unknown mode",
                Some("use `allow`, `disallow` or `if-necessary-or-explicit` (the default)".into()),
            )
        })?,
        None => PrereleaseMode::default(),
    };
    let resolution = match &settings.resolution {
        Some(spanned) => ResolutionMode::from_name(spanned.get_ref()).ok_or_else(|| {
            ctx.error(
                format!("unknown resolution mode `{}`", spanned.get_ref()),
                spanned.span(),
                "unknown mode",
                Some("use `unified` (the default: one resolution per target) or `per-function`".into()),
            )
        })?,
        None => ResolutionMode::default(),
    };
    let project_lock = match &settings.project_lock {
        Some(spanned) => ProjectLockMode::from_name(spanned.get_ref()).ok_or_else(|| {
            ctx.error(
                format!("unknown project-lock mode `{}`", spanned.get_ref()),
                spanned.span(),
                "unknown mode",
                Some("use `prefer` (the default), `require` or `ignore`".into()),
            )
        })?,
        None => ProjectLockMode::default(),
    };
    let python_full_version = match &settings.python_full_version {
        Some(spanned) => Some(full_version(ctx, spanned, runtime)?),
        None => None,
    };
    let build_sdists = match settings.build_sdists.as_ref().map(|spanned| (spanned.get_ref().as_str(), spanned)) {
        None | Some(("pure", _)) => true,
        Some(("never", _)) => false,
        Some((other, spanned)) => {
            return Err(ctx.error(
                format!("unknown build-sdists mode `{other}`"),
                spanned.span(),
                "unknown mode",
                Some("use `pure` (the default: build pure-Python wheels from sdists) or `never`".into()),
            ));
        }
    };
    let native_builder = match &settings.native_builder {
        Some(spanned) => Some(std::sync::Arc::new(
            crate::sdist::native::NativeBuilder::parse(spanned.get_ref()).map_err(|why| {
                ctx.error(
                    format!("invalid native-builder: {why}"),
                    spanned.span(),
                    "this command",
                    Some(
                        "a command run without a shell, with placeholders: e.g. `docker run --rm -v {in}:/in:ro -v {out}:/out \
                         {image} sh -c \"/opt/python/{cp}-{cp}/bin/pip wheel --no-deps -w /tmp/w /in/{sdist-name} && \
                         auditwheel repair -w /out /tmp/w/*.whl\"` (see docs/guide/gaps.md)"
                            .into(),
                    ),
                )
            })?,
        )),
        None => None,
    };
    Ok(Options {
        native_builder,
        build_sdists,
        prerelease,
        resolution,
        python_full_version,
        exclude_runtime_packages: settings.exclude_runtime_packages.as_ref().is_some_and(|flag| *flag.get_ref()),
        strip: globs(ctx, &settings.strip)?,
        project_lock,
    })
}

/// `python-full-version`: a 3.Y.Z release of the workspace runtime.
fn full_version(ctx: &Context, spanned: &Spanned<String>, runtime: Runtime) -> Result<Version, ManifestError> {
    Version::from_str(spanned.get_ref())
        .ok()
        .filter(|version| {
            let release = version.release();
            release.len() == 3 && release[0] == 3 && release[1] == u64::from(runtime.minor)
        })
        .ok_or_else(|| {
            ctx.error(
                format!("`python-full-version` must be a 3.{}.Z version for runtime `{}`", runtime.minor, runtime.name),
                spanned.span(),
                "not a matching version",
                Some(format!("for example `{}`", runtime.default_full_version)),
            )
        })
}

/// `[layer.NAME]` tables.
fn layers(
    ctx: &Context,
    tables: &BTreeMap<String, Spanned<wire::LayerTable>>,
    paths: &mut Vec<PathRef>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Layer>, ManifestError> {
    let mut layers = Vec::new();
    for (name, layer) in tables {
        check_member_name(ctx, "layer", name, &layer.span())?;
        let layer = layer.get_ref();
        let requirements = inline_requirements(ctx, &layer.requirements)?;
        let member = MemberId { kind: MemberKind::Layer, name: name.clone() };
        requirements_file(ctx, member.clone(), &layer.requirements_file, &layer.extras, &layer.groups, paths)?;
        let sources = sources(ctx, &member, &layer.source, paths)?;
        if sources.is_empty() {
            unused_globs(ctx, &member, &layer.include, &layer.exclude, warnings);
        }
        layers.push(Layer {
            name: name.clone(),
            requirements,
            file: Default::default(),
            sources,
            include: globs(ctx, &layer.include)?,
            exclude: globs(ctx, &layer.exclude)?,
            bytecode: layer.bytecode.as_ref().map(|flag| *flag.get_ref()),
        });
    }
    Ok(layers)
}

/// `[function.NAME]` tables, whose layers must be among `layers`.
fn functions(
    ctx: &Context,
    tables: &BTreeMap<String, Spanned<wire::FunctionTable>>,
    layers: &BTreeMap<String, Spanned<wire::LayerTable>>,
    architectures: &[Architecture],
    paths: &mut Vec<PathRef>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Function>, ManifestError> {
    let layer_names: BTreeSet<&str> = layers.keys().map(String::as_str).collect();
    let mut functions = Vec::new();
    for (name, function) in tables {
        let span = function.span();
        let function = function.get_ref();
        check_member_name(ctx, "function", name, &span)?;
        if layers.contains_key(name) {
            return Err(ctx.error(
                format!("`{name}` is both a function and a layer"),
                span,
                "defined again here",
                Some("give functions and layers distinct names, so `-p NAME` is never ambiguous".into()),
            ));
        }
        let requirements = inline_requirements(ctx, &function.requirements)?;
        let member = MemberId { kind: MemberKind::Function, name: name.clone() };
        requirements_file(ctx, member.clone(), &function.requirements_file, &function.extras, &function.groups, paths)?;
        if let Some(handler) = &function.handler {
            check_handler(ctx, handler)?;
        }
        let function_layers = function_layers(ctx, name, &function.layers, &layer_names)?;
        let architecture = match &function.architecture {
            Some(spanned) => Some(parse_architecture(ctx, spanned)?),
            None => None,
        };
        let deployed_on = architecture.map_or_else(|| architectures.to_vec(), |architecture| vec![architecture]);
        let external_layers = external_layers(ctx, name, &function.external_layers, &deployed_on)?;
        let count = function_layers.len() + external_layers.len();
        if count > 5 {
            warnings.push(format!("function `{name}` uses {count} layers; Lambda allows at most 5"));
        }
        let runtime = match &function.runtime {
            Some(spanned) => Some(parse_runtime(ctx, spanned)?),
            None => None,
        };
        let sources = sources(ctx, &member, &function.source, paths)?;
        if sources.is_empty() {
            unused_globs(ctx, &member, &function.include, &function.exclude, warnings);
        }
        functions.push(Function {
            name: name.clone(),
            sources,
            include: globs(ctx, &function.include)?,
            exclude: globs(ctx, &function.exclude)?,
            handler: function.handler.as_ref().map(|handler| handler.get_ref().clone()),
            requirements,
            file: Default::default(),
            layers: function_layers,
            architecture,
            runtime,
            isolated: function.isolated.as_ref().is_some_and(|flag| *flag.get_ref()),
            bytecode: function.bytecode.as_ref().map(|flag| *flag.get_ref()),
            external_layers,
        });
    }
    Ok(functions)
}

/// A function's `external-layers`: an ARN for every architecture it deploys on, and the names of
/// the packages each provides.
fn external_layers(
    ctx: &Context,
    function: &str,
    tables: &Option<Vec<Spanned<wire::ExternalLayerTable>>>,
    architectures: &[Architecture],
) -> Result<Vec<ExternalLayer>, ManifestError> {
    let mut layers: Vec<ExternalLayer> = Vec::new();
    for table in tables.iter().flatten() {
        let line = super::error::line_of(&ctx.source, table.span().start);
        let table = table.get_ref();
        let span = table.arn.span();
        let mut arns = BTreeMap::new();
        match table.arn.get_ref() {
            wire::ArnValue::One(arn) => {
                check_layer_arn(ctx, function, arn, &span)?;
                arns.extend(architectures.iter().map(|&architecture| (architecture, arn.clone())));
            }
            wire::ArnValue::PerArchitecture(by_architecture) => {
                for (key, arn) in by_architecture {
                    let Ok(architecture) = Architecture::from_str(key) else {
                        return Err(ctx.error(
                            format!(
                                "`{key}` is not an architecture, in an `external-layers` ARN of function `{function}`"
                            ),
                            span,
                            "unknown architecture",
                            Some("key the ARNs by `x86_64` and `arm64`".into()),
                        ));
                    };
                    check_layer_arn(ctx, function, arn, &span)?;
                    if architectures.contains(&architecture) {
                        arns.insert(architecture, arn.clone());
                    }
                }
                if let Some(missing) = architectures.iter().find(|architecture| !arns.contains_key(architecture)) {
                    return Err(ctx.error(
                        format!("an external layer of function `{function}` has no ARN for `{missing}`"),
                        span,
                        "no ARN for this architecture",
                        Some(format!(
                            "the function deploys on {}: give `{missing} = \"arn:...\"` too, or set the function's \
                             `architecture`",
                            architectures.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" and ")
                        )),
                    ));
                }
            }
        }
        let mut provides = Vec::new();
        for name in &table.provides {
            if !crate::python::wheel_name::is_valid_name(name.get_ref()) {
                return Err(ctx.error(
                    format!("`{}` is not a package name, in `provides` of function `{function}`", name.get_ref()),
                    name.span(),
                    "not a package name",
                    Some("`provides` lists package names only, such as `numpy`; no versions or extras".into()),
                ));
            }
            provides.push(crate::python::wheel_name::normalize_name(name.get_ref()));
        }
        if provides.is_empty() {
            return Err(ctx.error(
                format!("an external layer of function `{function}` provides no package"),
                span,
                "this layer",
                Some(
                    "list what it provides, e.g. `provides = [\"pandas\", \"numpy\"]`, so lbuild leaves those \
                      packages out of the function's zip"
                        .into(),
                ),
            ));
        }
        // Lambda takes a layer once per function, at one version.
        let unversioned = |arn: &str| arn.rsplit_once(':').map_or(arn.to_string(), |(layer, _)| layer.to_string());
        for earlier in &layers {
            for (architecture, arn) in &arns {
                let Some(other) = earlier.arns.get(architecture) else { continue };
                if unversioned(other) == unversioned(arn) {
                    let what = if other == arn { "the same external layer" } else { "two versions of one layer" };
                    return Err(ctx.error(
                        format!(
                            "function `{function}` lists {what} twice on {architecture} (line {} and here)",
                            earlier.line
                        ),
                        span,
                        "listed again",
                        Some("Lambda takes each layer once; keep one entry, with the `provides` of both".into()),
                    ));
                }
            }
        }
        layers.push(ExternalLayer { arns, provides, line });
    }
    Ok(layers)
}

/// A layer version ARN: `arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME:VERSION`. The region and
/// account may be template placeholders (`${AWS::Region}`), so only the shape is checked.
fn check_layer_arn(ctx: &Context, function: &str, arn: &str, span: &Range<usize>) -> Result<(), ManifestError> {
    // From the end: a placeholder such as `${AWS::Region}` has colons of its own.
    let mut tail = arn.rsplitn(4, ':');
    let (version, name, layer, head) = (tail.next(), tail.next(), tail.next(), tail.next().unwrap_or_default());
    let mut head = head.splitn(4, ':');
    let (scheme, partition, service, place) = (head.next(), head.next(), head.next(), head.next());
    // `REGION:ACCOUNT`, either of them a whole `${...}` placeholder; a literal account is 12 digits.
    let place_valid = |place: &str| {
        let mut parts = Vec::new();
        let mut rest = place;
        while !rest.is_empty() {
            if let Some(inner) = rest.strip_prefix("${") {
                let Some(end) = inner.find('}') else { return false };
                if end == 0 || inner[..end].contains(['$', '{']) {
                    return false;
                }
                parts.push(None);
                rest = &inner[end + 1..];
            } else {
                let end = rest.find(':').unwrap_or(rest.len()).max(1);
                let (text, tail) = rest.split_at(end.min(rest.len()));
                parts.push(Some(text));
                rest = tail;
            }
            if let Some(tail) = rest.strip_prefix(':') {
                parts.push(Some(":"));
                rest = tail;
            } else if !rest.is_empty() && !rest.starts_with("${") {
                return false;
            }
        }
        // Placeholder or text, `:`, placeholder or text.
        let [region, Some(":"), account] = parts.as_slice() else { return false };
        let region_ok = region.is_none_or(|region| {
            !region.is_empty()
                && region.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        });
        let account_ok =
            account.is_none_or(|account| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
        region_ok && account_ok
    };
    let valid = scheme == Some("arn")
        && partition.is_some_and(|partition| partition.starts_with("aws"))
        && service == Some("lambda")
        && place.is_some_and(place_valid)
        && layer == Some("layer")
        && name.is_some_and(|name| {
            !name.is_empty()
                && name.len() <= 140
                && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(&byte))
        })
        && version.is_some_and(|version| !version.starts_with('0') && version.parse::<u32>().is_ok());
    if valid {
        return Ok(());
    }
    Err(ctx.error(
        format!("`{arn}` is not a layer version ARN, in `external-layers` of function `{function}`"),
        span.clone(),
        "not a layer version ARN",
        Some("a function names a layer by its version ARN: `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`".into()),
    ))
}

/// Member names that differ only in case would give zips that overwrite each other on macOS and
/// Windows (`layers/Common-...zip`, `layers/common-...zip`), and one CloudFormation ID.
fn check_names_differ_in_more_than_case(
    ctx: &Context,
    functions: &BTreeMap<String, Spanned<wire::FunctionTable>>,
    layers: &BTreeMap<String, Spanned<wire::LayerTable>>,
    shared_layer: bool,
) -> Result<(), ManifestError> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    if shared_layer {
        seen.insert(SHARED_LAYER.to_string(), format!("the generated layer `{SHARED_LAYER}`"));
    }
    let named = layers
        .iter()
        .map(|(name, table)| ("layer", name, table.span()))
        .chain(functions.iter().map(|(name, table)| ("function", name, table.span())));
    for (kind, name, span) in named {
        if let Some(other) = seen.insert(name.to_ascii_lowercase(), format!("{kind} `{name}`")) {
            return Err(ctx.error(
                format!("{other} and {kind} `{name}` differ only in case"),
                span,
                "this one",
                Some(
                    "their zips would overwrite each other on macOS and Windows, whose file systems ignore case; \
                     rename one"
                        .into(),
                ),
            ));
        }
    }
    Ok(())
}

/// `workspace.cache-url` (`LBUILD_CACHE_URL` over it is read by [`Workspace::remote_cache`]).
fn cache_url(
    ctx: &Context,
    settings: &wire::WorkspaceTable,
) -> Result<Option<crate::cache::remote::RemoteUrl>, ManifestError> {
    let Some(spanned) = &settings.cache_url else { return Ok(None) };
    crate::cache::remote::parse_url(spanned.get_ref()).map(Some).map_err(|why| {
        ctx.error(
            format!("`cache-url`: {why}"),
            spanned.span(),
            "this URL",
            Some("a remote cache is an S3 location such as `s3://team-bucket/lbuild-cache`".into()),
        )
    })
}

/// `workspace.shared-layer`: `auto` or `none` (the default).
fn shared_layer(
    ctx: &Context,
    settings: &wire::WorkspaceTable,
    resolution: ResolutionMode,
    layers: &BTreeMap<String, Spanned<wire::LayerTable>>,
    functions: &BTreeMap<String, Spanned<wire::FunctionTable>>,
) -> Result<bool, ManifestError> {
    let Some(spanned) = &settings.shared_layer else { return Ok(false) };
    match spanned.get_ref().as_str() {
        "none" => Ok(false),
        "auto" => {
            if resolution == ResolutionMode::PerFunction {
                return Err(ctx.error(
                    "`shared-layer = \"auto\"` needs `resolution = \"unified\"`".into(),
                    spanned.span(),
                    "with per-function resolution",
                    Some(
                        "functions resolved apart may lock a package at different versions, so one layer cannot \
                          hold it for all of them; drop one of the two settings"
                            .into(),
                    ),
                ));
            }
            if let Some(function) = functions.get(SHARED_LAYER) {
                return Err(ctx.error(
                    format!("`shared-layer = \"auto\"` generates a layer named `{SHARED_LAYER}`, and a function has that name"),
                    function.span(),
                    "this function",
                    Some(format!(
                        "rename `[function.{SHARED_LAYER}]`: functions and layers have distinct names, so `-p NAME` is \
                         never ambiguous"
                    )),
                ));
            }
            if let Some(layer) = layers.get(SHARED_LAYER) {
                return Err(ctx.error(
                    format!("`shared-layer = \"auto\"` generates a layer named `{SHARED_LAYER}`, and `[layer.{SHARED_LAYER}]` exists"),
                    layer.span(),
                    "this layer",
                    Some(format!("rename `[layer.{SHARED_LAYER}]`")),
                ));
            }
            Ok(true)
        }
        other => Err(ctx.error(
            format!("unknown shared-layer mode `{other}`"),
            spanned.span(),
            "unknown mode",
            Some("use `auto` (a generated layer of the packages functions share) or `none` (the default)".into()),
        )),
    }
}

/// A member's `requirements-file` with the `extras` and `groups` it selects, which need one.
fn requirements_file(
    ctx: &Context,
    member: MemberId,
    file: &Option<Spanned<String>>,
    extras: &Option<Vec<Spanned<String>>>,
    groups: &Option<Vec<Spanned<String>>>,
    paths: &mut Vec<PathRef>,
) -> Result<(), ManifestError> {
    let extras = extras.clone().unwrap_or_default();
    let groups = groups.clone().unwrap_or_default();
    match file {
        Some(file) => {
            paths.push(PathRef::RequirementsFile { member, file: file.clone(), extras, groups });
            Ok(())
        }
        None => match extras.first().map(|extra| ("extras", extra)).or(groups.first().map(|group| ("groups", group))) {
            Some((key, value)) => Err(ctx.error(
                format!("`{key}` selects from a `pyproject.toml`, but {member} has no `requirements-file`"),
                value.span(),
                "nothing to select from",
                Some(format!(
                    "add `requirements-file = \"pyproject.toml\"` (the project whose {}) or remove `{key}`",
                    if key == "extras" {
                        "`[project.optional-dependencies]` these are"
                    } else {
                        "`[dependency-groups]` these are"
                    }
                )),
            )),
            None => Ok(()),
        },
    }
}

/// A member's `source`: one directory or several, each collected for `files` to check.
fn sources(
    ctx: &Context,
    member: &MemberId,
    source: &Option<Spanned<wire::SourceList>>,
    paths: &mut Vec<PathRef>,
) -> Result<Vec<SourcePath>, ManifestError> {
    let Some(source) = source else { return Ok(Vec::new()) };
    let listed = match source.get_ref() {
        wire::SourceList::One(path) => vec![Spanned::new(source.span(), path.clone())],
        wire::SourceList::Many(paths) => paths.clone(),
    };
    if listed.is_empty() {
        return Err(ctx.error(
            format!("`source` of {member} lists no directory"),
            source.span(),
            "empty list",
            Some("name at least one directory, or remove `source` for a zip that holds only packages".into()),
        ));
    }
    let mut sources = Vec::new();
    for path in listed {
        if path.get_ref().trim().is_empty() {
            return Err(ctx.error(
                format!("a `source` of {member} is empty"),
                path.span(),
                "empty path",
                Some("write `\".\"` for the workspace root".into()),
            ));
        }
        // `functions\api` names the directory on Windows only: the same lambda.toml would fail,
        // or zip another directory, on Linux and macOS.
        if path.get_ref().contains('\\') {
            return Err(ctx.error(
                format!("the source directory `{}` of {member} has a backslash", path.get_ref()),
                path.span(),
                "backslash",
                Some(format!(
                    "write `{}`: paths in lambda.toml use `/` as the separator, on every system",
                    path.get_ref().replace('\\', "/")
                )),
            ));
        }
        sources.push(SourcePath {
            path: PathBuf::from(path.get_ref()),
            line: super::error::line_of(&ctx.source, path.span().start),
        });
        paths.push(PathRef::Source(member.clone(), path));
    }
    Ok(sources)
}

/// An `isolated` function is resolved with its layers only: a layer it shares with another
/// function would have to hold two resolutions at once.
fn check_isolated(
    ctx: &Context,
    tables: &BTreeMap<String, Spanned<wire::FunctionTable>>,
    functions: &[Function],
) -> Result<(), ManifestError> {
    for function in functions.iter().filter(|function| function.isolated) {
        for layer in &function.layers {
            let Some(other) =
                functions.iter().find(|other| other.name != function.name && other.layers.contains(layer))
            else {
                continue;
            };
            let span = tables[&function.name].get_ref().isolated.as_ref().map_or(0..0, Spanned::span);
            return Err(ctx.error(
                format!(
                    "function `{}` is `isolated`, but shares layer `{layer}` with function `{}`",
                    function.name, other.name
                ),
                span,
                "isolated here",
                Some(format!(
                    "a layer is resolved together with every function that uses it; give `{}` a layer of its own, \
                     or drop `isolated` and set `resolution = \"per-function\"` in `[workspace]`, which resolves `{}` \
                     and `{}` together, apart from the other functions",
                    function.name, function.name, other.name
                )),
            ));
        }
    }
    Ok(())
}

/// Warn about `include` and `exclude` of a member without `source`: they select source files
/// only, so they do nothing there (and are easily read as stripping packages' files).
fn unused_globs(
    ctx: &Context,
    member: &MemberId,
    include: &Option<Vec<Spanned<String>>>,
    exclude: &Option<Vec<Spanned<String>>>,
    warnings: &mut Vec<String>,
) {
    for (key, globs) in [("include", include), ("exclude", exclude)] {
        let Some(first) = globs.as_ref().and_then(|globs| globs.first()) else { continue };
        let line = super::error::line_of(&ctx.source, first.span().start);
        warnings.push(format!(
            "`{key}` of {member} (line {line}) does nothing: it has no `source`, and `{key}` selects source files \
             only; to leave files of packages out of every zip, use `strip` in `[workspace]`"
        ));
    }
}

/// A Lambda handler is `module.function`, the module possibly dotted or a path.
fn check_handler(ctx: &Context, handler: &Spanned<String>) -> Result<(), ManifestError> {
    let text = handler.get_ref();
    let valid = text.rsplit_once('.').is_some_and(|(module, function)| {
        !module.is_empty() && !function.is_empty() && !module.split(['.', '/']).any(str::is_empty)
    });
    if valid {
        return Ok(());
    }
    Err(ctx.error(
        format!("`{text}` is not a Lambda handler"),
        handler.span(),
        "not `module.function`",
        Some("a Python handler is the module and the function, e.g. `app.handler` for `def handler(event, context)` in app.py".into()),
    ))
}

/// The layers a function uses, each one defined in the workspace.
fn function_layers(
    ctx: &Context,
    function: &str,
    used: &Option<Vec<Spanned<String>>>,
    known: &BTreeSet<&str>,
) -> Result<Vec<String>, ManifestError> {
    let mut layers = Vec::new();
    for layer in used.iter().flatten() {
        if !known.contains(layer.get_ref().as_str()) {
            let hint = if known.is_empty() {
                "the workspace defines no layers; add a `[layer.NAME]` table".to_string()
            } else {
                format!("the layers are: {}", known.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
            };
            return Err(ctx.error(
                format!("function `{function}` uses layer `{}`, which does not exist", layer.get_ref()),
                layer.span(),
                "unknown layer",
                Some(hint),
            ));
        }
        if layers.contains(layer.get_ref()) {
            // The size check would count it twice, and Lambda refuses a layer given twice.
            return Err(ctx.error(
                format!("function `{function}` uses layer `{}` twice", layer.get_ref()),
                layer.span(),
                "again here",
                Some("list each layer once; Lambda applies a function's layers in order".into()),
            ));
        }
        layers.push(layer.get_ref().clone());
    }
    Ok(layers)
}

/// Validate glob patterns, pointing at the first bad one.
fn globs(ctx: &Context, patterns: &Option<Vec<Spanned<String>>>) -> Result<Vec<String>, ManifestError> {
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

fn parse_runtime(ctx: &Context, spanned: &Spanned<String>) -> Result<Runtime, ManifestError> {
    Runtime::from_name(spanned.get_ref()).ok_or_else(|| {
        let (message, label) = match Runtime::retired(spanned.get_ref()) {
            Some(retired) => (retired, "no longer supported"),
            None => (format!("unknown runtime `{}`", spanned.get_ref()), "unknown runtime"),
        };
        ctx.error(
            message,
            spanned.span(),
            label,
            Some(format!("the Lambda Python runtimes lbuild targets are: {}", Runtime::known_names())),
        )
    })
}

fn parse_architecture(ctx: &Context, spanned: &Spanned<String>) -> Result<Architecture, ManifestError> {
    Architecture::from_str(spanned.get_ref()).map_err(|hint| {
        ctx.error(
            format!("unknown architecture `{}`", spanned.get_ref()),
            spanned.span(),
            "unknown architecture",
            Some(hint),
        )
    })
}

/// A member's `requirements` list.
fn inline_requirements(
    ctx: &Context,
    inline: &Option<Vec<Spanned<String>>>,
) -> Result<Vec<Requirement>, ManifestError> {
    inline.iter().flatten().map(|item| parse_requirement(ctx, item.get_ref(), item.span())).collect()
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
