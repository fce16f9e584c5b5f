//! Poetry: `poetry.lock` (its `[[package]]` pins) and the requirements of a project that keeps
//! them in `[tool.poetry.dependencies]` instead of `[project].dependencies`.
//!
//! Poetry's constraint language is converted to PEP 440 as Poetry documents it: `^1.2.3` is
//! `>=1.2.3,<2.0.0` (the left-most non-zero part may not change), `~1.2.3` is `>=1.2.3,<1.3.0`,
//! `1.2.*` is `==1.2.*`, a bare version is `==`, `*` is any version, and `,` or spaces join
//! constraints. A dependency table adds `extras`, `markers`, `python` (a `python_version` marker)
//! and `platform` (a `sys_platform` marker); several tables for one name (Poetry's multiple
//! constraints) become one requirement each, split by their markers. Optional dependencies come in
//! only through an extra that `[tool.poetry.extras]` lists. A `path` dependency on a project
//! directory (`{ path = "../libs/common", develop = true }`) is a local package, with the table's
//! extras and markers. `||` alternatives have no PEP 440 form for a version (they do for
//! `python`, as markers joined by `or`), and git, URL and archive-file dependencies are not
//! packages lbuild can install: both are errors that say so.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::Requirement;
use serde::Deserialize;
use toml::Spanned;

use super::{Pin, Pins, error_at, parse_marker, parse_version};
use crate::manifest::ManifestError;
use crate::manifest::requirements_file::RequirementsFile;
use crate::output::warn_user;
use crate::python::wheel_name::normalize_name;

#[derive(Deserialize)]
struct LockWire {
    #[serde(default)]
    package: Vec<Spanned<LockPackage>>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: Spanned<String>,
    version: Spanned<String>,
    markers: Option<Spanned<toml::Value>>,
    source: Option<toml::Table>,
}

/// The pins of a `poetry.lock` read from `path`: every package but those whose `[package.source]`
/// is a directory, file, git repository or URL (a `legacy` source is an index).
pub(crate) fn parse_lock(text: &str, path: &Path) -> Result<Pins, ManifestError> {
    let wire: LockWire = toml::from_str(text).map_err(|err| {
        error_at(
            path,
            text,
            err.span().unwrap_or(0..0),
            format!("`{}` is not a valid poetry.lock: {}", path.display(), err.message()),
            Some("run `poetry lock` to write it again".into()),
        )
    })?;
    let mut pins = Pins::new();
    for package in &wire.package {
        let package = package.get_ref();
        let source_type = package.source.as_ref().and_then(|source| source.get("type")).and_then(toml::Value::as_str);
        if source_type.is_some_and(|kind| kind != "legacy") {
            continue;
        }
        let name = package.name.get_ref();
        let version = parse_version(text, path, package.version.span(), name, package.version.get_ref())?;
        // Poetry 2 writes `markers` as a string, or as a table of group -> markers.
        let markers_text: Vec<String> = match package.markers.as_ref().map(Spanned::get_ref) {
            None => Vec::new(),
            Some(toml::Value::String(marker)) => vec![marker.clone()],
            Some(toml::Value::Table(groups)) => {
                groups.values().filter_map(|v| v.as_str().map(str::to_string)).collect()
            }
            Some(_) => Vec::new(),
        };
        let span = package.markers.as_ref().map_or(0..0, Spanned::span);
        let markers = markers_text
            .iter()
            .map(|marker| parse_marker(text, path, span.clone(), marker))
            .collect::<Result<Vec<_>, _>>()?;
        pins.entry(normalize_name(name)).or_default().push(Pin { version, markers, markers_text });
    }
    Ok(pins)
}

#[derive(Deserialize)]
struct PyProject {
    project: Option<Project>,
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Project {
    dependencies: Option<toml::Value>,
}

#[derive(Deserialize)]
struct Tool {
    poetry: Option<Poetry>,
}

#[derive(Deserialize)]
struct Poetry {
    dependencies: Option<std::collections::BTreeMap<String, Spanned<toml::Value>>>,
    #[serde(default)]
    extras: std::collections::BTreeMap<String, Vec<String>>,
}

/// The extras a Poetry project's `pyproject.toml` defines in `[tool.poetry.extras]`, as written
/// (none for any other file).
pub(crate) fn pyproject_extras(text: &str) -> Vec<String> {
    let Ok(pyproject) = toml::from_str::<PyProject>(text) else { return Vec::new() };
    pyproject.tool.and_then(|tool| tool.poetry).map(|poetry| poetry.extras.into_keys().collect()).unwrap_or_default()
}

/// The requirements of a Poetry project's `pyproject.toml`, when it keeps them in
/// `[tool.poetry.dependencies]` and has no `[project].dependencies` (which win when present, as
/// in Poetry 2); `None` for any other file, invalid TOML included (the caller reports it).
/// Optional dependencies come in for the `extras` named; path dependencies are `local_paths`,
/// relative to the directory of `path`.
pub(crate) fn pyproject_requirements(
    text: &str,
    path: &Path,
    extras: &[String],
) -> Result<Option<RequirementsFile>, ManifestError> {
    let Ok(pyproject) = toml::from_str::<PyProject>(text) else { return Ok(None) };
    if pyproject.project.as_ref().is_some_and(|project| project.dependencies.is_some()) {
        return Ok(None);
    }
    let Some(poetry) = pyproject.tool.and_then(|tool| tool.poetry) else { return Ok(None) };
    let Some(dependencies) = poetry.dependencies else { return Ok(None) };
    let wanted: Vec<String> = extras
        .iter()
        .flat_map(|extra| poetry.extras.get(extra).into_iter().flatten())
        .map(|name| normalize_name(name))
        .collect();
    let mut file = RequirementsFile::default();
    let shared_text = Arc::new(text.to_string());
    for (name, value) in &dependencies {
        if name.eq_ignore_ascii_case("python") {
            continue;
        }
        let error = |message: String, help: Option<String>| error_at(path, text, value.span(), message, help);
        let tables: Vec<Dependency> = match value.get_ref() {
            toml::Value::String(constraint) => {
                vec![Dependency { version: Some(constraint.clone()), ..Dependency::default() }]
            }
            toml::Value::Table(table) => {
                vec![Dependency::from_table(name, table).map_err(|message| error(message, None))?]
            }
            toml::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    toml::Value::Table(table) => Dependency::from_table(name, table),
                    toml::Value::String(constraint) => {
                        Ok(Dependency { version: Some(constraint.clone()), ..Dependency::default() })
                    }
                    _ => Err(format!("`{name}` lists something that is not a constraint table")),
                })
                .collect::<Result<_, _>>()
                .map_err(|message| error(message, None))?,
            _ => return Err(error(format!("`{name}` is neither a version constraint nor a table"), None)),
        };
        for dependency in tables {
            if dependency.optional && !wanted.contains(&normalize_name(name)) {
                continue;
            }
            let requirement = dependency.requirement(name).map_err(|message| {
                error(
                    format!("cannot read the Poetry dependency `{name}`: {message}"),
                    Some("write it as a PEP 440 constraint (`>=1.2,<2`)".into()),
                )
            })?;
            let Some(local) = &dependency.path else {
                file.requirements.push(requirement);
                continue;
            };
            let what = format!("the Poetry dependency `{name}`");
            file.local_paths.push(super::path_dependency(
                &what,
                name,
                local,
                requirement,
                path,
                &shared_text,
                value.span(),
            )?);
        }
    }
    Ok(Some(file))
}

/// One constraint table of a Poetry dependency.
#[derive(Debug, Default)]
struct Dependency {
    version: Option<String>,
    extras: Vec<String>,
    markers: Option<String>,
    python: Option<String>,
    platform: Option<String>,
    optional: bool,
    /// A path dependency's directory, as written (relative to the pyproject.toml's directory;
    /// `develop = true` makes no difference: lbuild installs a copy, a zip cannot link).
    path: Option<String>,
}

impl Dependency {
    fn from_table(name: &str, table: &toml::Table) -> Result<Dependency, String> {
        let string = |key: &str| -> Result<Option<String>, String> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::String(value)) => Ok(Some(value.clone())),
                Some(_) => Err(format!("`{key}` of `{name}` must be a string")),
            }
        };
        for key in ["git", "url", "file"] {
            if table.contains_key(key) {
                return Err(format!(
                    "the Poetry dependency `{name}` is a {} dependency, which lbuild does not install from \
                     `[tool.poetry.dependencies]`; build it into a wheel in a `find-links` directory and require it \
                     by version",
                    if key == "file" { "path" } else { key }
                ));
            }
        }
        for key in ["source", "allow-prereleases"] {
            if table.contains_key(key) {
                warn_user!(
                    "ignoring `{key}` of the Poetry dependency `{name}`: lbuild takes indexes and pre-release rules \
                     from lambda.toml"
                );
            }
        }
        let extras = match table.get("extras") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string).ok_or(format!("`extras` of `{name}` must be strings")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(format!("`extras` of `{name}` must be a list")),
        };
        Ok(Dependency {
            version: string("version")?,
            extras,
            markers: string("markers")?,
            python: string("python")?,
            platform: string("platform")?,
            optional: table.get("optional").and_then(toml::Value::as_bool).unwrap_or(false),
            path: string("path")?,
        })
    }

    fn requirement(&self, name: &str) -> Result<Requirement, String> {
        let mut text = name.to_string();
        if !self.extras.is_empty() {
            text.push('[');
            text.push_str(&self.extras.join(","));
            text.push(']');
        }
        // A path dependency is the one version its project has.
        if let Some(version) = self.version.as_ref().filter(|_| self.path.is_none()) {
            text.push_str(&to_specifiers(version)?);
        }
        let mut markers = Vec::new();
        if let Some(python) = &self.python {
            let marker = python_marker(python)?;
            if !marker.is_empty() {
                markers.push(marker);
            }
        }
        if let Some(platform) = &self.platform {
            markers.push(format!("sys_platform == '{}'", platform.replace('\'', "")));
        }
        if let Some(marker) = &self.markers {
            markers.push(marker.clone());
        }
        if !markers.is_empty() {
            let joined: Vec<String> = markers.iter().map(|marker| format!("({marker})")).collect();
            text.push_str(" ; ");
            text.push_str(&joined.join(" and "));
        }
        super::requirement_of(name, &text)
    }
}

/// A Poetry version constraint as PEP 440 specifiers (`""` for any version).
pub(crate) fn to_specifiers(constraint: &str) -> Result<String, String> {
    let alternatives = split_alternatives(constraint);
    if alternatives.len() > 1 {
        return Err(format!(
            "`{constraint}` allows alternatives (`||`), which one PEP 440 specifier cannot express; \
             list one constraint table per alternative with `python` or `markers` keys that tell them apart"
        ));
    }
    specifiers(&alternatives[0])
}

/// A Poetry `python` constraint as a marker (empty for any Python); `||` alternatives are joined
/// with `or`.
pub(crate) fn python_marker(constraint: &str) -> Result<String, String> {
    let mut alternatives = Vec::new();
    for alternative in split_alternatives(constraint) {
        let specifiers = specifiers(&alternative)?;
        if specifiers.is_empty() {
            return Ok(String::new());
        }
        let parsed = VersionSpecifiers::from_str(&specifiers).map_err(|err| err.to_string())?;
        let parts: Vec<String> = parsed
            .iter()
            .map(|specifier| {
                let version = specifier.version().to_string();
                let wildcard = specifier.operator().to_string().ends_with('*')
                    || matches!(
                        specifier.operator(),
                        pep440_rs::Operator::EqualStar | pep440_rs::Operator::NotEqualStar
                    );
                let short = specifier.version().release().len() <= 2 && !wildcard;
                let (operator, version) = match specifier.operator() {
                    pep440_rs::Operator::EqualStar => ("==".to_string(), format!("{version}.*")),
                    pep440_rs::Operator::NotEqualStar => ("!=".to_string(), format!("{version}.*")),
                    operator => (operator.to_string(), version),
                };
                let variable = if short { "python_version" } else { "python_full_version" };
                format!("{variable} {operator} '{version}'")
            })
            .collect();
        alternatives.push(parts.join(" and "));
    }
    Ok(if alternatives.len() == 1 {
        alternatives.remove(0)
    } else {
        alternatives.iter().map(|alternative| format!("({alternative})")).collect::<Vec<_>>().join(" or ")
    })
}

fn split_alternatives(constraint: &str) -> Vec<String> {
    constraint.replace("||", "|").split('|').map(|part| part.trim().to_string()).collect()
}

/// One alternative (constraints joined by `,` or spaces) as PEP 440 specifiers.
fn specifiers(constraint: &str) -> Result<String, String> {
    let mut out: Vec<String> = Vec::new();
    for (operator, version) in tokens(constraint)? {
        let bound = |version: &str, index: usize| -> Result<String, String> {
            let parsed = Version::from_str(version).map_err(|err| format!("`{version}`: {err}"))?;
            Ok(upper_bound(parsed.release(), index))
        };
        let release_len = |version: &str| Version::from_str(version).map(|v| v.release().len()).unwrap_or(1);
        match operator.as_str() {
            "" if version == "*" => {}
            "" | "=" | "==" => out.push(format!("=={version}")),
            "<>" => out.push(format!("!={version}")),
            "^" => {
                let parsed = Version::from_str(&version).map_err(|err| format!("`{version}`: {err}"))?;
                let release = parsed.release();
                let index = if release[0] != 0 || release.len() == 1 {
                    0
                } else if release[1] != 0 || release.len() == 2 {
                    1
                } else {
                    2
                };
                out.push(format!(">={version}"));
                out.push(format!("<{}", bound(&version, index)?));
            }
            "~" => {
                let index = if release_len(&version) == 1 { 0 } else { 1 };
                out.push(format!(">={version}"));
                out.push(format!("<{}", bound(&version, index)?));
            }
            "~=" | "!=" | ">=" | "<=" | ">" | "<" | "===" => out.push(format!("{operator}{version}")),
            other => return Err(format!("unknown operator `{other}` in `{constraint}`")),
        }
    }
    let text = out.join(",");
    if !text.is_empty() {
        VersionSpecifiers::from_str(&text).map_err(|err| format!("`{constraint}` is not a valid constraint: {err}"))?;
    }
    Ok(text)
}

/// `release` with the part at `index` raised by one and every later part zero, as long as the
/// release (at least `index + 1` parts).
fn upper_bound(release: &[u64], index: usize) -> String {
    let len = release.len().max(index + 1);
    (0..len)
        .map(|at| match at.cmp(&index) {
            std::cmp::Ordering::Less => release.get(at).copied().unwrap_or(0),
            std::cmp::Ordering::Equal => release.get(at).copied().unwrap_or(0) + 1,
            std::cmp::Ordering::Greater => 0,
        })
        .map(|part| part.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// `(operator, version)` pairs of one alternative: `>= 1.2, <2` and `>=1.2 <2` alike.
fn tokens(constraint: &str) -> Result<Vec<(String, String)>, String> {
    let mut tokens = Vec::new();
    let mut chars = constraint.chars().peekable();
    let is_operator = |c: char| matches!(c, '<' | '>' | '=' | '!' | '~' | '^');
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut operator = String::new();
        while let Some(&c) = chars.peek().filter(|c| is_operator(**c)) {
            operator.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut version = String::new();
        while let Some(&c) = chars.peek().filter(|c| !c.is_whitespace() && **c != ',' && !is_operator(**c)) {
            version.push(c);
            chars.next();
        }
        if version.is_empty() {
            return Err(format!("`{constraint}` has an operator without a version"));
        }
        tokens.push((operator, version));
    }
    if tokens.is_empty() {
        tokens.push((String::new(), "*".to_string()));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poetry_constraints_become_pep_440() {
        let cases = [
            ("^1.2.3", ">=1.2.3,<2.0.0"),
            ("^1.2", ">=1.2,<2.0"),
            ("^1", ">=1,<2"),
            ("^0.2.3", ">=0.2.3,<0.3.0"),
            ("^0.0.3", ">=0.0.3,<0.0.4"),
            ("^0.0", ">=0.0,<0.1"),
            ("^0", ">=0,<1"),
            ("^2.0.0rc1", ">=2.0.0rc1,<3.0.0"),
            ("~1.2.3", ">=1.2.3,<1.3.0"),
            ("~1.2", ">=1.2,<1.3"),
            ("~1", ">=1,<2"),
            ("~=1.4", "~=1.4"),
            ("*", ""),
            ("", ""),
            ("1.*", "==1.*"),
            ("1.2.*", "==1.2.*"),
            ("2.31.0", "==2.31.0"),
            ("=2.31.0", "==2.31.0"),
            ("==2.31.0", "==2.31.0"),
            (">=1.2,<2", ">=1.2,<2"),
            (">= 1.2, < 2.0", ">=1.2,<2.0"),
            (">=1.2 <2.0 !=1.5", ">=1.2,<2.0,!=1.5"),
            ("<>1.0", "!=1.0"),
            ("^1.2,!=1.3.1", ">=1.2,<2.0,!=1.3.1"),
        ];
        for (poetry, pep440) in cases {
            assert_eq!(to_specifiers(poetry).as_deref(), Ok(pep440), "{poetry}");
        }
        assert!(to_specifiers("^1.0 || ^2.0").unwrap_err().contains("alternatives"));
        assert!(to_specifiers(">=").unwrap_err().contains("without a version"));
        assert!(to_specifiers("^banana").is_err());
    }

    #[test]
    fn python_constraints_become_markers() {
        assert_eq!(python_marker("^3.8").unwrap(), "python_version >= '3.8' and python_version < '4.0'");
        assert_eq!(python_marker(">=3.9.2").unwrap(), "python_full_version >= '3.9.2'");
        assert_eq!(
            python_marker("~2.7 || ^3.4").unwrap(),
            "(python_version >= '2.7' and python_version < '2.8') or (python_version >= '3.4' and python_version < '4.0')"
        );
        assert_eq!(python_marker("3.8.*").unwrap(), "python_full_version == '3.8.*'");
        assert_eq!(python_marker("*").unwrap(), "");
    }

    fn read(dependencies: &str, extras: &[&str]) -> Result<Vec<String>, String> {
        let text = format!("[tool.poetry]\nname = \"app\"\n\n[tool.poetry.dependencies]\n{dependencies}");
        let extras: Vec<String> = extras.iter().map(|extra| extra.to_string()).collect();
        pyproject_requirements(&text, Path::new("pyproject.toml"), &extras)
            .map(|file| file.unwrap().requirements.iter().map(ToString::to_string).collect())
            .map_err(|err| err.to_string())
    }

    #[test]
    fn poetry_dependency_tables_become_requirements() {
        let requirements = read(
            "python = \"^3.11\"\nrequests = { version = \"^2.31\", extras = [\"socks\"] }\n\
             boto3 = \"*\"\nuvloop = { version = \">=0.19\", platform = \"linux\", markers = \"implementation_name == 'cpython'\" }\n\
             tomli = { version = \"^2\", python = \"<3.11\" }\n\
             attrs = { version = \"*\", python = \"*\" }\n\
             pandas = { version = \"^2\", optional = true }\n\
             numpy = [\n  { version = \"<=1.26\", python = \">=3.9,<3.12\" },\n  { version = \"^2.0\", python = \">=3.12\" },\n]\n\
             \n[tool.poetry.extras]\ndata = [\"pandas\"]\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            requirements,
            [
                "attrs",
                "boto3",
                "numpy<=1.26 ; python_full_version >= '3.9' and python_full_version < '3.12'",
                "numpy>=2.0,<3.0 ; python_full_version >= '3.12'",
                "requests[socks]>=2.31,<3.0",
                "tomli>=2,<3 ; python_full_version < '3.11'",
                "uvloop>=0.19 ; implementation_name == 'cpython' and sys_platform == 'linux'",
            ]
        );
        let with_extra = read(
            "pandas = { version = \"^2\", optional = true }\n\n[tool.poetry.extras]\ndata = [\"pandas\"]\n",
            &["data"],
        )
        .unwrap();
        assert_eq!(with_extra, ["pandas>=2,<3"]);
    }

    #[test]
    fn poetry_dependencies_lbuild_cannot_take_from_an_index_are_clear_errors() {
        let err = read("lib = { git = \"https://github.com/example/lib.git\" }\n", &[]).unwrap_err();
        assert!(err.contains("git dependency"), "{err}");
        let err = read("lib = \"^1 || ^2\"\n", &[]).unwrap_err();
        assert!(err.contains("alternatives"), "{err}");
        let err = read("lib = 3\n", &[]).unwrap_err();
        assert!(err.contains("neither a version constraint nor a table"), "{err}");
    }

    #[test]
    fn poetry_path_dependencies_are_local_paths_with_their_extras_and_markers() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("libs/common")).unwrap();
        fs_err::write(dir.path().join("libs/wheel.whl"), "").unwrap();
        fs_err::create_dir_all(dir.path().join("app")).unwrap();
        let pyproject = dir.path().join("app/pyproject.toml");
        let text = "[tool.poetry]\nname = \"app\"\n[tool.poetry.dependencies]\nsix = \"^1\"\n\
                    common = { path = \"../libs/common\", develop = true, extras = [\"fast\"], python = \">=3.10\" }\n";
        let file = pyproject_requirements(text, &pyproject, &[]).unwrap().unwrap();
        assert_eq!(file.requirements.iter().map(ToString::to_string).collect::<Vec<_>>(), ["six>=1,<2"]);
        let [local] = &file.local_paths[..] else { panic!("{:?}", file.local_paths) };
        assert_eq!(local.path, dir.path().join("app/../libs/common"));
        assert_eq!(local.name.as_deref(), Some("common"));
        assert_eq!(local.extras.iter().map(ToString::to_string).collect::<Vec<_>>(), ["fast"]);
        assert_eq!(local.marker.try_to_string().as_deref(), Some("python_full_version >= '3.10'"));
        assert_eq!(local.origin.line, 5);
        let text = "[tool.poetry]\nname = \"app\"\n[tool.poetry.dependencies]\nw = { path = \"../libs/wheel.whl\" }\n";
        let err = pyproject_requirements(text, &pyproject, &[]).unwrap_err().to_string();
        assert!(err.contains("is a path to a file (`../libs/wheel.whl`)"), "{err}");
    }

    #[test]
    fn a_poetry_extra_or_name_never_turns_into_another_requirement() {
        let err = read("requests = { version = \"^2\", extras = [\"socks] @ https://evil.example/r.whl ; python_version > '0\"] }\n", &[])
            .unwrap_err();
        assert!(err.contains("cannot read the Poetry dependency `requests`"), "{err}");
        let err = read("\"requests[socks]\" = \"^2\"\n", &[]).unwrap_err();
        assert!(err.contains("not a requirement of `requests[socks]`"), "{err}");
    }

    #[test]
    fn project_dependencies_win_over_poetry_ones() {
        let text = "[project]\nname = \"a\"\ndependencies = [\"six\"]\n[tool.poetry.dependencies]\nrequests = \"*\"\n";
        assert!(pyproject_requirements(text, Path::new("pyproject.toml"), &[]).unwrap().is_none());
        let text = "[project]\nname = \"a\"\n[tool.poetry.dependencies]\nrequests = \"*\"\n";
        assert_eq!(
            pyproject_requirements(text, Path::new("pyproject.toml"), &[]).unwrap().unwrap().requirements.len(),
            1
        );
    }

    #[test]
    fn poetry_lock_pins_skip_local_sources_and_keep_markers() {
        let text = r#"
[[package]]
name = "requests"
version = "2.31.0"
optional = false
python-versions = ">=3.7"

[[package]]
name = "private-lib"
version = "1.0"

[package.source]
type = "legacy"
url = "https://pypi.example.com/simple"
reference = "private"

[[package]]
name = "common"
version = "0.1.0"

[package.source]
type = "directory"
url = "../libs/common"

[[package]]
name = "numpy"
version = "1.26.4"
markers = "python_version < '3.12'"

[[package]]
name = "numpy"
version = "2.1.0"
markers = { main = "python_version >= '3.12'" }

[metadata]
lock-version = "2.1"
"#;
        let pins = parse_lock(text, Path::new("poetry.lock")).unwrap();
        assert_eq!(pins.keys().collect::<Vec<_>>(), ["numpy", "private-lib", "requests"]);
        assert_eq!(pins["numpy"].len(), 2);
        assert_eq!(pins["numpy"][1].markers_text, ["python_version >= '3.12'"]);
        let err = parse_lock("[[package]]\nname = \"a\"\nversion = \"x y\"\n", Path::new("poetry.lock")).unwrap_err();
        assert!(err.to_string().contains("line 3 of `poetry.lock`"), "{err}");
    }
}
