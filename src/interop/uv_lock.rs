//! `uv.lock`, version 1 (uv 0.5 and later, every revision): one `[[package]]` per locked
//! distribution with its `name`, `version` and `source`. When uv forks a resolution (a package
//! locked at different versions for different Pythons or platforms), each entry carries the
//! `resolution-markers` under which it applies.
//!
//! Pins are the packages an index serves (`source = { registry = ... }`); the workspace's own
//! members (`editable`, `virtual`) and `path`, `directory`, `git` and `url` packages are not.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Pin, Pins, error_at, parse_marker, parse_version};
use crate::manifest::ManifestError;
use crate::python::wheel_name::normalize_name;

/// The lock format version lbuild reads.
const VERSION: i64 = 1;

#[derive(Deserialize)]
struct Wire {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    package: Vec<Spanned<Package>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: Spanned<String>,
    version: Option<Spanned<String>>,
    source: Option<toml::Table>,
    #[serde(default)]
    resolution_markers: Vec<Spanned<String>>,
}

/// The pins of a `uv.lock` read from `path`.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Pins, ManifestError> {
    let wire: Wire = toml::from_str(text).map_err(|err| {
        error_at(
            path,
            text,
            err.span().unwrap_or(0..0),
            format!("`{}` is not a valid uv.lock: {}", path.display(), err.message()),
            Some("run `uv lock` to write it again".into()),
        )
    })?;
    match &wire.version {
        Some(version) if *version.get_ref() == VERSION => {}
        Some(version) => {
            return Err(error_at(
                path,
                text,
                version.span(),
                format!("`{}` has lock version {}; lbuild reads version {VERSION}", path.display(), version.get_ref()),
                Some("lock it with uv 0.5 or later, or set `project-lock = \"ignore\"` in lambda.toml".into()),
            ));
        }
        None => {
            return Err(error_at(
                path,
                text,
                0..0,
                format!("`{}` has no `version`; it is not a uv.lock", path.display()),
                Some("run `uv lock` to write it again".into()),
            ));
        }
    }
    let mut pins = Pins::new();
    for package in &wire.package {
        let span = package.span();
        let package = package.get_ref();
        let from_index = package.source.as_ref().is_some_and(|source| source.contains_key("registry"));
        if !from_index {
            continue;
        }
        let name = package.name.get_ref();
        let Some(version) = &package.version else {
            return Err(error_at(path, text, span, format!("package `{name}` has no version"), None));
        };
        let version = parse_version(text, path, version.span(), name, version.get_ref())?;
        let markers = package
            .resolution_markers
            .iter()
            .map(|marker| parse_marker(text, path, marker.span(), marker.get_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let markers_text = package.resolution_markers.iter().map(|marker| marker.get_ref().clone()).collect();
        pins.entry(normalize_name(name)).or_default().push(Pin { version, markers, markers_text });
    }
    Ok(pins)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"version = 1
revision = 2
requires-python = ">=3.11"

[manifest]
members = ["api", "common"]

[[package]]
name = "api"
version = "0.1.0"
source = { editable = "services/api" }
dependencies = [{ name = "common" }, { name = "requests" }]

[[package]]
name = "common"
version = "0.2.0"
source = { editable = "libs/common" }

[[package]]
name = "docs"
version = "0.0.0"
source = { virtual = "docs" }

[[package]]
name = "local-wheel"
version = "1.0"
source = { path = "wheels/local_wheel-1.0-py3-none-any.whl" }

[[package]]
name = "from-git"
version = "3.0"
source = { git = "https://github.com/example/from-git?rev=main#0123456789abcdef" }

[[package]]
name = "Requests"
version = "2.32.5"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.pythonhosted.org/requests-2.32.5.tar.gz", hash = "sha256:00", size = 1 }
wheels = [{ url = "https://files.pythonhosted.org/requests-2.32.5-py3-none-any.whl", hash = "sha256:00", size = 1 }]
"#;

    #[test]
    fn registry_packages_are_pins_and_the_workspace_own_are_not() {
        let pins = parse(LOCK, Path::new("uv.lock")).unwrap();
        assert_eq!(pins.keys().collect::<Vec<_>>(), ["requests"]);
        assert_eq!(pins["requests"][0].version.to_string(), "2.32.5");
        assert!(pins["requests"][0].markers.is_empty());
    }

    #[test]
    fn bad_locks_are_errors_that_name_the_file_and_line() {
        let path = Path::new("services/uv.lock");
        let err = parse("version = 2\n", path).unwrap_err().to_string();
        assert!(err.contains("lock version 2") && err.contains("line 1 of `services/uv.lock`"), "{err}");
        let err = parse("[[package]]\nname = \"a\"\n", path).unwrap_err().to_string();
        assert!(err.contains("has no `version`"), "{err}");
        let err = parse("version = 1\n[[package]\n", path).unwrap_err().to_string();
        assert!(err.contains("not a valid uv.lock") && err.contains("line 2"), "{err}");
        let bad_version = LOCK.replace("2.32.5\"\nsource", "two\"\nsource");
        let err = parse(&bad_version, path).unwrap_err().to_string();
        assert!(err.contains("invalid version `two`") && err.contains("line 36"), "{err}");
        let bad_marker = format!(
            "{LOCK}\n[[package]]\nname = \"x\"\nversion = \"1\"\nsource = {{ registry = \"r\" }}\n\
             resolution-markers = [\"python_version >> '3'\"]\n"
        );
        let err = parse(&bad_marker, path).unwrap_err().to_string();
        assert!(err.contains("invalid marker") && err.contains("line 45"), "{err}");
    }
}
