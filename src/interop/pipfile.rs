//! Pipenv: `Pipfile.lock` (JSON; its `default` section pins `{name: {version: "==x", markers}}`)
//! and the `[packages]` of a `Pipfile` as requirements.
//!
//! A Pipfile's version strings are PEP 440 already (`"*"` is any version); a table adds
//! `extras`, `markers`, and marker variables as keys (`sys_platform = "== 'linux'"`), as Pipenv
//! reads them. `[dev-packages]` are not deployed and are not read. A `path` package that is a
//! project directory (`{ path = "./libs/common", editable = true }`) is a local package; git and
//! file packages are not served by an index: they are errors that say what to do instead.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::Requirement;
use serde::Deserialize;
use toml::Spanned;

use super::{Pin, Pins, error_at, line_span, parse_marker, parse_version};
use crate::manifest::ManifestError;
use crate::manifest::requirements_file::RequirementsFile;
use crate::output::warn_user;
use crate::python::wheel_name::normalize_name;

/// The marker variables Pipenv takes as keys of a package table.
const MARKER_KEYS: &[&str] = &[
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
];

#[derive(Deserialize)]
struct LockWire {
    #[serde(default)]
    default: std::collections::BTreeMap<String, LockEntry>,
}

#[derive(Deserialize)]
struct LockEntry {
    version: Option<String>,
    markers: Option<String>,
}

/// The pins of a `Pipfile.lock` read from `path`: its `default` packages that have a `==`
/// version (git, path and editable entries have none).
pub(crate) fn parse_lock(text: &str, path: &Path) -> Result<Pins, ManifestError> {
    let wire: LockWire = serde_json::from_str(text).map_err(|err| {
        error_at(
            path,
            text,
            line_span(text, err.line()),
            format!("`{}` is not a valid Pipfile.lock: {err}", path.display()),
            Some("run `pipenv lock` to write it again".into()),
        )
    })?;
    let mut pins = Pins::new();
    for (name, entry) in &wire.default {
        let Some(version) = &entry.version else { continue };
        // JSON gives no positions to serde; point at the line that names the package.
        let span = text.find(&format!("\"{name}\"")).map_or(0..0, |at| at..at + name.len() + 2);
        let Some(exact) = version.strip_prefix("==") else {
            return Err(error_at(
                path,
                text,
                span,
                format!("`{name}` is locked at `{version}`, not at one version (`==`)"),
                Some("run `pipenv lock` to write it again".into()),
            ));
        };
        let version = parse_version(text, path, span.clone(), name, exact.trim())?;
        let markers_text: Vec<String> = entry.markers.iter().cloned().collect();
        let markers = markers_text
            .iter()
            .map(|marker| parse_marker(text, path, span.clone(), marker))
            .collect::<Result<_, _>>()?;
        pins.entry(normalize_name(name)).or_default().push(Pin { version, markers, markers_text });
    }
    Ok(pins)
}

#[derive(Deserialize)]
struct PipfileWire {
    #[serde(default)]
    packages: std::collections::BTreeMap<String, Spanned<toml::Value>>,
}

/// The requirements of the `[packages]` of a `Pipfile` read from `path`; `path` packages are
/// `local_paths`, relative to the Pipfile's directory.
pub(crate) fn requirements(text: &str, path: &Path) -> Result<RequirementsFile, ManifestError> {
    let wire: PipfileWire = toml::from_str(text).map_err(|err| {
        error_at(
            path,
            text,
            err.span().unwrap_or(0..0),
            format!("`{}` is not a valid Pipfile: {}", path.display(), err.message()),
            None,
        )
    })?;
    let mut file = RequirementsFile::default();
    let shared_text = Arc::new(text.to_string());
    for (name, value) in &wire.packages {
        let error = |message: String, help: Option<String>| error_at(path, text, value.span(), message, help);
        let requirement = match value.get_ref() {
            toml::Value::String(version) => requirement(name, version, &[], &[]),
            toml::Value::Table(table) => {
                for key in ["git", "file"] {
                    if table.contains_key(key) {
                        return Err(error(
                            format!("the Pipfile package `{name}` is a {key} package, which lbuild does not install"),
                            Some("build it into a wheel in a `find-links` directory and require it by version".into()),
                        ));
                    }
                }
                let local = match table.get("path") {
                    None if table.contains_key("editable") => {
                        return Err(error(
                            format!("the Pipfile package `{name}` is editable but has no `path`"),
                            Some("give the project's directory as `path`".into()),
                        ));
                    }
                    None => None,
                    Some(toml::Value::String(local)) => Some(local.clone()),
                    Some(_) => return Err(error(format!("`path` of `{name}` must be a string"), None)),
                };
                if table.contains_key("index") {
                    warn_user!(
                        "ignoring `index` of the Pipfile package `{name}`: lbuild takes indexes from lambda.toml"
                    );
                }
                let field = |key: &str| -> Result<Option<&str>, ManifestError> {
                    match table.get(key) {
                        None => Ok(None),
                        Some(toml::Value::String(value)) => Ok(Some(value.as_str())),
                        Some(_) => Err(error(format!("`{key}` of `{name}` must be a string"), None)),
                    }
                };
                // A path package is the one version its project has.
                let version = if local.is_some() { "*" } else { field("version")?.unwrap_or("*") };
                let extras: Vec<&str> = match table.get("extras") {
                    None => Vec::new(),
                    Some(toml::Value::Array(items)) => items.iter().filter_map(toml::Value::as_str).collect(),
                    Some(_) => return Err(error(format!("`extras` of `{name}` must be a list"), None)),
                };
                let mut markers: Vec<String> = field("markers")?.map(str::to_string).into_iter().collect();
                for key in MARKER_KEYS {
                    if let Some(condition) = field(key)? {
                        markers.push(format!("{key} {condition}"));
                    }
                }
                let requirement = requirement(name, version, &extras, &markers);
                if let Some(local) = local {
                    let requirement = requirement.map_err(|message| {
                        error(format!("cannot read the Pipfile package `{name}`: {message}"), None)
                    })?;
                    let what = format!("the Pipfile package `{name}`");
                    file.local_paths.push(super::path_dependency(
                        &what,
                        name,
                        &local,
                        requirement,
                        path,
                        &shared_text,
                        value.span(),
                    )?);
                    continue;
                }
                requirement
            }
            _ => return Err(error(format!("`{name}` is neither a version nor a table"), None)),
        };
        file.requirements.push(requirement.map_err(|message| {
            error(
                format!("cannot read the Pipfile package `{name}`: {message}"),
                Some("versions are PEP 440 specifiers (`>=2,<3`) or `\"*\"`".into()),
            )
        })?);
    }
    Ok(file)
}

fn requirement(name: &str, version: &str, extras: &[&str], markers: &[String]) -> Result<Requirement, String> {
    let mut text = name.to_string();
    if !extras.is_empty() {
        text.push_str(&format!("[{}]", extras.join(",")));
    }
    let version = version.trim();
    if version != "*" && !version.is_empty() {
        // `"1.2"` without an operator is what Pipenv means by `==1.2`.
        let specifiers = if version.starts_with(|c: char| c.is_ascii_digit()) {
            format!("=={version}")
        } else {
            version.to_string()
        };
        pep440_rs::VersionSpecifiers::from_str(&specifiers)
            .map_err(|err| format!("`{version}` is not a version specifier: {err}"))?;
        text.push_str(&specifiers);
    }
    if !markers.is_empty() {
        let joined: Vec<String> = markers.iter().map(|marker| format!("({marker})")).collect();
        text.push_str(" ; ");
        text.push_str(&joined.join(" and "));
    }
    super::requirement_of(name, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(packages: &str) -> Result<Vec<String>, String> {
        let text = format!(
            "[[source]]\nurl = \"https://pypi.org/simple\"\nname = \"pypi\"\n\n[packages]\n{packages}\n[dev-packages]\npytest = \"*\"\n\n[requires]\npython_version = \"3.12\"\n"
        );
        requirements(&text, Path::new("Pipfile"))
            .map(|file| file.requirements.iter().map(ToString::to_string).collect())
            .map_err(|err| err.to_string())
    }

    #[test]
    fn pipfile_packages_become_requirements() {
        let requirements = read(
            "requests = \"*\"\nboto3 = \">=1.34,<2\"\nsix = \"1.16.0\"\n\
             httpx = { version = \"~=0.27\", extras = [\"http2\"] }\n\
             uvloop = { version = \"*\", sys_platform = \"== 'linux'\", markers = \"python_version >= '3.10'\" }\n",
        )
        .unwrap();
        assert_eq!(
            requirements,
            [
                "boto3>=1.34,<2",
                "httpx[http2]~=0.27",
                "requests",
                "six==1.16.0",
                "uvloop ; python_full_version >= '3.10' and sys_platform == 'linux'",
            ]
        );
    }

    #[test]
    fn pipfile_packages_that_are_not_on_an_index_are_clear_errors() {
        let err = read("lib = { git = \"https://github.com/example/lib.git\", ref = \"main\" }\n").unwrap_err();
        assert!(err.contains("is a git package") && err.contains("line 6 of `Pipfile`"), "{err}");
        let err = read("common = { editable = true }\n").unwrap_err();
        assert!(err.contains("is editable but has no `path`"), "{err}");
        let err = read("lib = \">>1\"\n").unwrap_err();
        assert!(err.contains("cannot read the Pipfile package `lib`"), "{err}");
    }

    #[test]
    fn pipfile_path_packages_are_local_paths() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("libs/common")).unwrap();
        let text = "[packages]\nsix = \"*\"\ncommon = { path = \"./libs/common\", editable = true, extras = [\"aws\"], \
                    sys_platform = \"== 'linux'\" }\n";
        let file = requirements(text, &dir.path().join("Pipfile")).unwrap();
        assert_eq!(file.requirements.iter().map(ToString::to_string).collect::<Vec<_>>(), ["six"]);
        let [local] = &file.local_paths[..] else { panic!("{:?}", file.local_paths) };
        assert_eq!(local.path, dir.path().join("./libs/common"));
        assert_eq!((local.name.as_deref(), local.origin.line), (Some("common"), 3));
        assert_eq!(local.extras.iter().map(ToString::to_string).collect::<Vec<_>>(), ["aws"]);
        assert_eq!(local.marker.try_to_string().as_deref(), Some("sys_platform == 'linux'"));
    }

    #[test]
    fn a_pipfile_version_or_extra_never_names_another_package_or_a_url() {
        // Appended to the name unchecked, `"v1.0"` would require the package `av1-0`.
        for packages in [
            "requests = \"-oauthlib\"\n",
            "a = \"v1.0\"\n",
            "a = \"latest\"\n",
            "a = \" @ https://evil.example/a-1.0-py3-none-any.whl\"\n",
            "a = \"1.0; python_version < '3'\"\n",
            "a = { version = \"*\", extras = [\"x] @ https://evil.example/a.whl ; python_version > '0\"] }\n",
        ] {
            let err = read(packages).unwrap_err();
            assert!(err.contains("cannot read the Pipfile package"), "{packages}: {err}");
        }
        assert_eq!(read("\"Zope.Interface\" = \"1.*\"\n").unwrap(), ["zope-interface==1.*"]);
    }

    #[test]
    fn pipfile_lock_pins_come_from_default_only() {
        let text = r#"{
    "_meta": {"hash": {"sha256": "00"}, "pipfile-spec": 6},
    "default": {
        "requests": {"hashes": ["sha256:00"], "index": "pypi", "markers": "python_version >= '3.8'", "version": "==2.32.3"},
        "common": {"editable": true, "path": "./libs/common"},
        "Six": {"version": "==1.16.0"}
    },
    "develop": {"pytest": {"version": "==8.0.0"}}
}"#;
        let pins = parse_lock(text, Path::new("Pipfile.lock")).unwrap();
        assert_eq!(pins.keys().collect::<Vec<_>>(), ["requests", "six"]);
        assert_eq!(pins["requests"][0].markers_text, ["python_version >= '3.8'"]);
        let err =
            parse_lock("{\n  \"default\": {\n    \"a\": {\"version\": \">=1\"}\n  }\n}", Path::new("Pipfile.lock"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("not at one version") && err.contains("line 3"), "{err}");
        let err =
            parse_lock("{\n  \"default\": {\n    \"a\": [\n}", Path::new("Pipfile.lock")).unwrap_err().to_string();
        assert!(err.contains("not a valid Pipfile.lock") && err.contains("line 4"), "{err}");
    }
}
