//! Pipenv: `Pipfile.lock` (JSON; its `default` section pins `{name: {version: "==x", markers}}`)
//! and the `[packages]` of a `Pipfile` as requirements.
//!
//! A Pipfile's version strings are PEP 440 already (`"*"` is any version); a table adds
//! `extras`, `markers`, and marker variables as keys (`sys_platform = "== 'linux'"`), as Pipenv
//! reads them. `[dev-packages]` are not deployed and are not read. Git, path, file and editable
//! packages are not served by an index: they are errors that say what to do instead.

use std::path::Path;
use std::str::FromStr;

use pep508_rs::Requirement;
use serde::Deserialize;
use toml::Spanned;

use super::{Pin, Pins, error_at, line_span, parse_marker, parse_version};
use crate::manifest::ManifestError;
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

/// The requirements of the `[packages]` of a `Pipfile` read from `path`.
pub(crate) fn requirements(text: &str, path: &Path) -> Result<Vec<Requirement>, ManifestError> {
    let wire: PipfileWire = toml::from_str(text).map_err(|err| {
        error_at(
            path,
            text,
            err.span().unwrap_or(0..0),
            format!("`{}` is not a valid Pipfile: {}", path.display(), err.message()),
            None,
        )
    })?;
    let mut requirements = Vec::new();
    for (name, value) in &wire.packages {
        let error = |message: String, help: Option<String>| error_at(path, text, value.span(), message, help);
        let requirement = match value.get_ref() {
            toml::Value::String(version) => requirement(name, version, &[], &[]),
            toml::Value::Table(table) => {
                for key in ["git", "path", "file", "editable"] {
                    if table.contains_key(key) {
                        return Err(error(
                            format!(
                                "the Pipfile package `{name}` is a {} package, which lbuild does not install",
                                if key == "editable" { "local editable" } else { key }
                            ),
                            Some("build it into a wheel in a `find-links` directory and require it by version".into()),
                        ));
                    }
                }
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
                let version = field("version")?.unwrap_or("*");
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
                requirement(name, version, &extras, &markers)
            }
            _ => return Err(error(format!("`{name}` is neither a version nor a table"), None)),
        };
        requirements.push(requirement.map_err(|message| {
            error(
                format!("cannot read the Pipfile package `{name}`: {message}"),
                Some("versions are PEP 440 specifiers (`>=2,<3`) or `\"*\"`".into()),
            )
        })?);
    }
    Ok(requirements)
}

fn requirement(name: &str, version: &str, extras: &[&str], markers: &[String]) -> Result<Requirement, String> {
    let mut text = name.to_string();
    if !extras.is_empty() {
        text.push_str(&format!("[{}]", extras.join(",")));
    }
    let version = version.trim();
    if version != "*" && !version.is_empty() {
        // `"1.2"` without an operator is what Pipenv means by `==1.2`.
        if version.starts_with(|c: char| c.is_ascii_digit()) {
            text.push_str("==");
        }
        text.push_str(version);
    }
    if !markers.is_empty() {
        let joined: Vec<String> = markers.iter().map(|marker| format!("({marker})")).collect();
        text.push_str(" ; ");
        text.push_str(&joined.join(" and "));
    }
    Requirement::from_str(&text).map_err(|err| err.message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(packages: &str) -> Result<Vec<String>, String> {
        let text = format!(
            "[[source]]\nurl = \"https://pypi.org/simple\"\nname = \"pypi\"\n\n[packages]\n{packages}\n[dev-packages]\npytest = \"*\"\n\n[requires]\npython_version = \"3.12\"\n"
        );
        requirements(&text, Path::new("Pipfile"))
            .map(|requirements| requirements.iter().map(ToString::to_string).collect())
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
        let err = read("common = { path = \"./libs/common\", editable = true }\n").unwrap_err();
        assert!(err.contains("is a path package"), "{err}");
        let err = read("lib = \">>1\"\n").unwrap_err();
        assert!(err.contains("cannot read the Pipfile package `lib`"), "{err}");
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
