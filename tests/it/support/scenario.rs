//! Scenarios: the projects, versions and files a [`FakeIndex`](super::index::FakeIndex) serves.
//!
//! Written in TOML under `fixtures/scenarios/<name>.toml`:
//!
//! ```toml
//! [[package]]
//! name = "a"
//! version = "1.0"
//! requires-dist = ["b>=1", "c ; extra == 'x'"]
//! requires-python = ">=3.9"
//! provides-extra = ["x"]
//! wheels = ["py3-none-any"]   # one wheel per tag string; "1-py3-none-any" adds build tag 1
//! sdist = true                # default false
//! yanked = false              # default false; applies to every file of the version
//! ```
//!
//! or with the builder: `PackageSpec::new("a", "1.0").dep("b>=1").wheel("py3-none-any")`.
//! A package with neither wheels nor an sdist gets one `py3-none-any` wheel.

use serde::Deserialize;

use super::wheel::{WheelSpec, sdist_filename};

/// One version of one project.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PackageSpec {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub requires_dist: Vec<String>,
    #[serde(default)]
    pub requires_python: Option<String>,
    #[serde(default)]
    pub provides_extra: Vec<String>,
    /// Tag strings, one wheel each; an optional leading build tag is allowed
    /// (`"2-py3-none-any"`). Empty means the default (see [`PackageSpec::wheel_tags`]).
    #[serde(default)]
    pub wheels: Vec<String>,
    #[serde(default)]
    pub sdist: bool,
    #[serde(default)]
    pub yanked: bool,
    /// Extra archive members of every wheel: path -> text (e.g. `"pkg-1.0.data/purelib/x.py"`).
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
}

impl PackageSpec {
    /// A version with no dependencies and (unless files are added) one `py3-none-any` wheel.
    pub fn new(name: &str, version: &str) -> PackageSpec {
        PackageSpec {
            name: name.to_string(),
            version: version.to_string(),
            requires_dist: Vec::new(),
            requires_python: None,
            provides_extra: Vec::new(),
            wheels: Vec::new(),
            sdist: false,
            yanked: false,
            files: std::collections::BTreeMap::new(),
        }
    }

    /// Adds a member to every wheel of this version.
    pub fn file(mut self, path: &str, contents: &str) -> PackageSpec {
        self.files.insert(path.to_string(), contents.to_string());
        self
    }

    /// Adds a `Requires-Dist` line (a PEP 508 requirement, markers allowed).
    pub fn dep(mut self, requirement: &str) -> PackageSpec {
        self.requires_dist.push(requirement.to_string());
        self
    }

    pub fn requires_python(mut self, specifier: &str) -> PackageSpec {
        self.requires_python = Some(specifier.to_string());
        self
    }

    /// Adds a `Provides-Extra` line.
    pub fn extra(mut self, extra: &str) -> PackageSpec {
        self.provides_extra.push(extra.to_string());
        self
    }

    /// Adds a wheel for a (possibly compressed) tag, optionally preceded by a build tag.
    pub fn wheel(mut self, tag: &str) -> PackageSpec {
        self.wheels.push(tag.to_string());
        self
    }

    /// Also publishes an sdist.
    pub fn sdist(mut self) -> PackageSpec {
        self.sdist = true;
        self
    }

    /// Marks every file of this version as yanked.
    pub fn yanked(mut self) -> PackageSpec {
        self.yanked = true;
        self
    }

    /// The wheel tag strings actually published: `wheels`, or `["py3-none-any"]` when there
    /// are no wheels and no sdist.
    pub fn wheel_tags(&self) -> Vec<String> {
        if self.wheels.is_empty() && !self.sdist { vec!["py3-none-any".to_string()] } else { self.wheels.clone() }
    }

    /// One [`WheelSpec`] per published wheel.
    pub fn wheel_specs(&self) -> Vec<WheelSpec> {
        self.wheel_tags()
            .iter()
            .map(|tag| {
                let (build, tag) = split_build_tag(tag);
                WheelSpec {
                    name: self.name.clone(),
                    version: self.version.clone(),
                    tag: tag.to_string(),
                    build: build.map(str::to_string),
                    requires_dist: self.requires_dist.clone(),
                    requires_python: self.requires_python.clone(),
                    provides_extra: self.provides_extra.clone(),
                    files: self.files.iter().map(|(path, text)| (path.clone(), text.clone().into_bytes())).collect(),
                }
            })
            .collect()
    }

    /// Filenames of the published wheels, in `wheels` order.
    pub fn wheel_filenames(&self) -> Vec<String> {
        self.wheel_specs().iter().map(WheelSpec::filename).collect()
    }

    /// Filename of the sdist, when there is one.
    pub fn sdist_filename(&self) -> Option<String> {
        self.sdist.then(|| sdist_filename(&self.name, &self.version))
    }
}

/// `"2-py3-none-any"` → `(Some("2"), "py3-none-any")`; a plain tag has no build.
fn split_build_tag(tag: &str) -> (Option<&str>, &str) {
    match tag.split_once('-') {
        Some((build, rest)) if tag.matches('-').count() == 3 => (Some(build), rest),
        _ => (None, tag),
    }
}

/// A set of package versions to serve.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default, rename = "package")]
    pub packages: Vec<PackageSpec>,
}

impl Scenario {
    pub fn from_packages(packages: impl IntoIterator<Item = PackageSpec>) -> Scenario {
        Scenario { packages: packages.into_iter().collect() }
    }

    /// Adds one package version.
    pub fn package(mut self, package: PackageSpec) -> Scenario {
        self.packages.push(package);
        self
    }

    /// Parses scenario TOML; panics with the parse error.
    pub fn from_toml(text: &str) -> Scenario {
        toml::from_str(text).unwrap_or_else(|e| panic!("invalid scenario TOML: {e}"))
    }

    /// Reads `<fixtures root>/scenarios/<name>.toml` (see [`super::fixtures_root`]).
    pub fn load(name: &str) -> Scenario {
        let path = super::fixture_path(&format!("scenarios/{name}.toml"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading scenario {}: {e}", path.display()));
        toml::from_str(&text).unwrap_or_else(|e| panic!("invalid scenario {}: {e}", path.display()))
    }
}
