//! The wire shape of `lambda.toml`: what serde reads, with the span of every value kept for
//! error messages. These types are also the source of `schemas/lambda.schema.json`, so their
//! doc comments are the schema's descriptions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

/// An lbuild workspace: Lambda functions and layers whose Python dependencies are locked
/// together in `lambda.lock`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(title = "lambda.toml")]
pub(crate) struct Manifest {
    /// Settings shared by every function and layer.
    pub workspace: Option<WorkspaceTable>,
    /// Lambda functions, by name.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, FunctionTable>")]
    pub function: BTreeMap<String, Spanned<FunctionTable>>,
    /// Lambda layers, by name. A layer's packages go under `python/` in its zip.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, LayerTable>")]
    pub layer: BTreeMap<String, Spanned<LayerTable>>,
}

/// `[workspace]`
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct WorkspaceTable {
    /// The Lambda runtime: `python3.9` ... `python3.14`. Default: `python3.12`.
    #[schemars(with = "Option<String>")]
    pub runtime: Option<Spanned<String>>,
    /// The architectures to lock: `x86_64`, `arm64`. Default: both.
    #[schemars(with = "Option<Vec<String>>")]
    pub architectures: Option<Spanned<Vec<Spanned<String>>>>,
    /// The package index: a simple repository (`https://pypi.org/simple/`, the default) or a
    /// PyPI JSON API base whose path ends in `/pypi`. `LBUILD_INDEX_URL` overrides it.
    #[schemars(with = "Option<String>")]
    pub index_url: Option<Spanned<String>>,
    /// Extra indexes, searched in the order given and before the default index. A package
    /// comes from the first index that has it (never merged across indexes), unless
    /// `[workspace.sources]` pins it to one.
    #[schemars(with = "Option<Vec<IndexTable>>")]
    pub index: Option<Vec<Spanned<IndexTable>>>,
    /// Where packages come from: pinned to an index (`mycorp-utils = { index = "internal" }`), to
    /// the find-links directories (`{ find-links = true }`), or a local project directory
    /// (`acme-common = { path = "libs/common" }`, relative to the workspace root).
    #[schemars(with = "Option<BTreeMap<String, SourceTable>>")]
    pub sources: Option<BTreeMap<String, Spanned<SourceTable>>>,
    /// Local directories of wheels, relative to the workspace root.
    #[schemars(with = "Option<Vec<String>>")]
    pub find_links: Option<Vec<Spanned<String>>>,
    /// When pre-releases may be chosen: `allow`, `disallow`, or `if-necessary-or-explicit`
    /// (default: only when a requirement names a pre-release or nothing else fits).
    #[schemars(with = "Option<String>")]
    pub prerelease: Option<Spanned<String>>,
    /// The full Python version (`3.12.11`) used for `python_full_version` markers and
    /// `Requires-Python` of the workspace runtime. Default: the newest patch release lbuild knows.
    #[schemars(with = "Option<String>")]
    pub python_full_version: Option<Spanned<String>>,
    /// Leave out of every zip the packages the Lambda runtime provides: the whole closure of
    /// `boto3`/`botocore` (never a part of it). Default: false (AWS recommends bundling them).
    #[schemars(with = "Option<bool>")]
    pub exclude_runtime_packages: Option<Spanned<bool>>,
    /// Globs of files to strip from installed packages, matched against paths inside the zip
    /// (without the `python/` prefix of layers), e.g. `**/tests/**`. `.dist-info` is never
    /// stripped.
    #[schemars(with = "Option<Vec<String>>")]
    pub strip: Option<Vec<Spanned<String>>>,
    /// How functions are resolved: `unified` (the default: one resolution per target, every
    /// function and layer agreeing on each package's version) or `per-function` (each function
    /// resolved on its own, together with its layers and the functions that share one).
    #[schemars(with = "Option<String>")]
    pub resolution: Option<Spanned<String>>,
    /// What the lock of the project tool behind a requirements file means: the `uv.lock` of the
    /// uv workspace that holds a `pyproject.toml`, or the `poetry.lock` / `Pipfile.lock` beside it.
    /// `prefer` (the default): lock its versions wherever they fit the target, and warn about
    /// every package that differs, with the reason; `require`: every difference is an error;
    /// `ignore`: do not read it. `uv-lock` is another name for this key.
    #[serde(alias = "uv-lock")]
    #[schemars(with = "Option<String>")]
    pub project_lock: Option<Spanned<String>>,
    /// Whether `lbuild lock` builds a wheel from the sdist of a package version that publishes no
    /// usable wheel: `pure` (the default: with a host Python 3.9+, run the sdist's PEP 517
    /// backend once, and use the wheel when it is pure Python, for every target) or `never` (such
    /// versions stay gaps). Building runs code from the index on this machine. `--no-build`
    /// turns it off for one command.
    #[schemars(with = "Option<String>")]
    pub build_sdists: Option<Spanned<String>>,
    /// A command that builds a platform wheel from an sdist for one target, for the package
    /// versions that publish no usable wheel for it: run without a shell, with `{sdist}`, `{in}`,
    /// `{sdist-name}`, `{out}` (where the one wheel must be written), `{image}` (the target's
    /// manylinux image), `{python}`, `{cp}`, `{machine}`, `{docker-platform}`, `{glibc}` and
    /// `{target}`, typically a `docker run` of `{image}`. lbuild checks the wheel's tags, and
    /// that every ELF file in it is for the target's machine and within its glibc.
    #[schemars(with = "Option<String>")]
    pub native_builder: Option<Spanned<String>>,
    /// Put compiled bytecode (`__pycache__/*.cpython-3Y.pyc`, unchecked-hash PEP 552 pycs) beside
    /// every `.py` file in the zips, compiled by a host CPython of the runtime's minor: faster
    /// cold starts, larger zips. Default: false. `[function.NAME]` and `[layer.NAME]` override it.
    #[schemars(with = "Option<bool>")]
    pub bytecode: Option<Spanned<bool>>,
    /// `auto`: per target, put the packages that two or more functions' zips would hold into one
    /// generated layer, `shared`, used by those functions and left out of their zips. Functions
    /// that already use five layers, or are `isolated`, keep their packages. Needs
    /// `resolution = "unified"`. Default: `none`.
    #[schemars(with = "Option<String>")]
    pub shared_layer: Option<Spanned<String>>,
    /// A remote cache of wheels that CI runners share: `s3://BUCKET/PREFIX`. A wheel the local
    /// cache lacks is asked of it before the index (and used only when its sha256 is the
    /// lock's), and one downloaded from the index is put there. Out of reach, it is skipped
    /// with a warning. `LBUILD_CACHE_URL` overrides it (`none` turns it off).
    #[schemars(with = "Option<String>")]
    pub cache_url: Option<Spanned<String>>,
}

/// `[[workspace.index]]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct IndexTable {
    /// A name for messages, `[workspace.sources]` and credentials
    /// (`LBUILD_INDEX_<NAME>_USERNAME` / `_PASSWORD`).
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The index URL: a simple repository, or a PyPI JSON API base.
    #[schemars(with = "String")]
    pub url: Spanned<String>,
    /// `simple` (PEP 691 JSON or PEP 503 HTML, told apart by the response) or `json` (the PyPI
    /// JSON API). Default: `json` when the URL's path ends in `/pypi`, else `simple`.
    #[schemars(with = "Option<String>")]
    pub api: Option<Spanned<String>>,
    /// Use this index only for packages pinned to it in `[workspace.sources]`.
    #[serde(default)]
    pub explicit: bool,
}

/// An entry of `[workspace.sources]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct SourceTable {
    /// The name of the index the package must come from.
    #[schemars(with = "Option<String>")]
    pub index: Option<Spanned<String>>,
    /// `true`: the package comes only from the `find-links` directories, never from an index.
    #[schemars(with = "Option<bool>")]
    pub find_links: Option<Spanned<bool>>,
    /// A local project directory, relative to the workspace root, holding a `pyproject.toml`
    /// whose `[project].name` is this package: it is installed from there, never from an index.
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
}

/// `[function.NAME]`
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct FunctionTable {
    /// The source directory copied into the zip root, relative to the workspace root, or
    /// several (`["functions/api", "shared/py"]`): each one's files go to the zip root, and no
    /// two may give the same path.
    #[schemars(with = "Option<SourcePaths>")]
    pub source: Option<Spanned<SourceList>>,
    /// Globs of source files to include, relative to each `source` directory. Default:
    /// everything.
    #[schemars(with = "Option<Vec<String>>")]
    pub include: Option<Vec<Spanned<String>>>,
    /// Globs of source files to leave out, relative to each `source` directory, on top of the
    /// defaults (`__pycache__`, `*.pyc`, `.git` and other tool directories).
    #[schemars(with = "Option<Vec<String>>")]
    pub exclude: Option<Vec<Spanned<String>>>,
    /// The Lambda handler, e.g. `app.handler`.
    #[schemars(with = "Option<String>")]
    pub handler: Option<Spanned<String>>,
    /// PEP 508 requirements of the function.
    #[schemars(with = "Option<Vec<String>>")]
    pub requirements: Option<Vec<Spanned<String>>>,
    /// A `requirements.txt` or `pyproject.toml` whose dependencies the function needs.
    #[schemars(with = "Option<String>")]
    pub requirements_file: Option<Spanned<String>>,
    /// Extras of the `pyproject.toml` named by `requirements-file` whose
    /// `[project.optional-dependencies]` the function needs too.
    #[schemars(with = "Option<Vec<String>>")]
    pub extras: Option<Vec<Spanned<String>>>,
    /// PEP 735 dependency groups (`[dependency-groups]`) of the `pyproject.toml` named by
    /// `requirements-file` that the function needs too.
    #[schemars(with = "Option<Vec<String>>")]
    pub groups: Option<Vec<Spanned<String>>>,
    /// Names of the workspace layers the function uses, in order.
    #[schemars(with = "Option<Vec<String>>")]
    pub layers: Option<Vec<Spanned<String>>>,
    /// The architecture the function deploys on: `x86_64` or `arm64`. Default: every
    /// workspace architecture.
    #[schemars(with = "Option<String>")]
    pub architecture: Option<Spanned<String>>,
    /// A runtime for this function only, overriding `workspace.runtime`.
    #[schemars(with = "Option<String>")]
    pub runtime: Option<Spanned<String>>,
    /// Resolve this function on its own (with its layers) even when `workspace.resolution` is
    /// `unified`. Its layers must not be used by another function.
    #[schemars(with = "Option<bool>")]
    pub isolated: Option<Spanned<bool>>,
    /// Compile bytecode into this function's zip, overriding `workspace.bytecode`.
    #[schemars(with = "Option<bool>")]
    pub bytecode: Option<Spanned<bool>>,
    /// Layers lbuild does not build (AWS-managed or third-party, such as the AWS SDK for pandas
    /// or Powertools), by ARN, with the packages each provides: those packages and their
    /// dependencies are left out of the function's zip. They deploy after the function's
    /// `layers`.
    #[schemars(with = "Option<Vec<ExternalLayerTable>>")]
    pub external_layers: Option<Vec<Spanned<ExternalLayerTable>>>,
}

/// An entry of a function's `external-layers`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ExternalLayerTable {
    /// The layer version ARN (`arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`), or one per
    /// architecture (`{ x86_64 = "...", arm64 = "..." }`) for layers published per architecture.
    #[schemars(with = "ArnSchema")]
    pub arn: Spanned<ArnValue>,
    /// The names of the packages the layer provides; their dependencies in the lock are taken
    /// as provided too.
    #[schemars(with = "Vec<String>")]
    pub provides: Vec<Spanned<String>>,
}

/// An external layer's `arn`: one for every architecture, or one per architecture.
#[derive(Debug, Clone)]
pub(crate) enum ArnValue {
    One(String),
    PerArchitecture(BTreeMap<String, String>),
}

impl<'de> Deserialize<'de> for ArnValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ArnValue, D::Error> {
        struct Arn;
        impl<'de> Visitor<'de> for Arn {
            type Value = ArnValue;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a layer version ARN or a table of one ARN per architecture")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<ArnValue, E> {
                Ok(ArnValue::One(value.to_string()))
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<ArnValue, A::Error> {
                let mut arns = BTreeMap::new();
                while let Some((architecture, arn)) = map.next_entry::<String, String>()? {
                    arns.insert(architecture, arn);
                }
                Ok(ArnValue::PerArchitecture(arns))
            }
        }
        deserializer.deserialize_any(Arn)
    }
}

/// The schema of an `arn` value.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ArnSchema {
    /// One ARN for every architecture.
    One(String),
    /// One ARN per architecture.
    PerArchitecture(ArnsByArchitecture),
}

/// `{ x86_64 = "...", arm64 = "..." }`
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ArnsByArchitecture {
    x86_64: Option<String>,
    arm64: Option<String>,
}

/// `[layer.NAME]`
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct LayerTable {
    /// PEP 508 requirements of the layer.
    #[schemars(with = "Option<Vec<String>>")]
    pub requirements: Option<Vec<Spanned<String>>>,
    /// A `requirements.txt` or `pyproject.toml` whose dependencies the layer holds.
    #[schemars(with = "Option<String>")]
    pub requirements_file: Option<Spanned<String>>,
    /// Extras of the `pyproject.toml` named by `requirements-file` whose
    /// `[project.optional-dependencies]` the layer holds too.
    #[schemars(with = "Option<Vec<String>>")]
    pub extras: Option<Vec<Spanned<String>>>,
    /// PEP 735 dependency groups (`[dependency-groups]`) of the `pyproject.toml` named by
    /// `requirements-file` that the layer holds too.
    #[schemars(with = "Option<Vec<String>>")]
    pub groups: Option<Vec<Spanned<String>>>,
    /// A directory of plain modules the layer carries under `python/`, relative to the
    /// workspace root, or several; selected as a function's source is.
    #[schemars(with = "Option<SourcePaths>")]
    pub source: Option<Spanned<SourceList>>,
    /// Globs of source files to include, relative to each `source` directory. Default:
    /// everything.
    #[schemars(with = "Option<Vec<String>>")]
    pub include: Option<Vec<Spanned<String>>>,
    /// Globs of source files to leave out, relative to each `source` directory.
    #[schemars(with = "Option<Vec<String>>")]
    pub exclude: Option<Vec<Spanned<String>>>,
    /// Compile bytecode into this layer's zip, overriding `workspace.bytecode`.
    #[schemars(with = "Option<bool>")]
    pub bytecode: Option<Spanned<bool>>,
}

/// `source = "dir"` or `source = ["dir", ...]`, as written. A single string keeps no span of
/// its own: the span of the whole value is its span.
#[derive(Debug, Clone)]
pub(crate) enum SourceList {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for SourceList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SourceList, D::Error> {
        struct Paths;
        impl<'de> Visitor<'de> for Paths {
            type Value = SourceList;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a directory or an array of directories")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<SourceList, E> {
                Ok(SourceList::One(value.to_string()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SourceList, A::Error> {
                let mut paths = Vec::new();
                while let Some(path) = seq.next_element::<Spanned<String>>()? {
                    paths.push(path);
                }
                Ok(SourceList::Many(paths))
            }
        }
        deserializer.deserialize_any(Paths)
    }
}

/// The schema of a `source` value: one directory or several.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SourcePaths {
    /// One directory.
    One(#[schemars(length(min = 1))] String),
    /// Several directories, whose files are merged into one tree.
    Many(#[schemars(length(min = 1), inner(length(min = 1)))] Vec<String>),
}

/// A parsed manifest and the keys serde did not use (path, line).
pub(crate) struct Parsed {
    pub manifest: Manifest,
    pub ignored: Vec<(String, Option<usize>)>,
}

/// Deserialize, collecting unknown keys instead of failing on them.
pub(crate) fn parse(text: &str) -> Result<Parsed, toml::de::Error> {
    let deserializer = toml::Deserializer::parse(text)?;
    let mut ignored = Vec::new();
    let manifest: Manifest = serde_ignored::deserialize(deserializer, |path| {
        // `Spanned` wraps values in a private struct; its field name is not the user's key.
        let path = path
            .to_string()
            .split('.')
            // `?` is serde_ignored's mark for the inside of an `Option`, not a key either.
            .filter(|segment| !segment.starts_with("$__serde_spanned") && *segment != "?")
            .collect::<Vec<_>>()
            .join(".");
        ignored.push(path);
    })?;
    let ignored = ignored
        .into_iter()
        .map(|path| {
            let line = find_key_line(text, &path);
            (path, line)
        })
        .collect();
    Ok(Parsed { manifest, ignored })
}

/// The 1-based line on which the last segment of a dotted key path is written, if it can be
/// found. Good enough for a warning; errors use exact spans.
fn find_key_line(text: &str, path: &str) -> Option<usize> {
    let key = path.rsplit('.').next()?;
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix('[').unwrap_or(line);
            line.strip_prefix(key)
                .or_else(|| line.strip_prefix(&format!("\"{key}\"")))
                .is_some_and(|rest| rest.trim_start().starts_with(['=', ']', '.']))
                || line.contains(&format!(".{key}]"))
        })
        .map(|index| index + 1)
}
