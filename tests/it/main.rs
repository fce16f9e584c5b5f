//! lbuild's integration tests: one binary, so it links once.
//!
//! Every test starts its own fake index on 127.0.0.1 (see `support/`), writes a workspace into
//! a temporary directory, and runs the real `lbuild` binary with a private cache.

mod support;

mod build;
mod bytecode;
mod cli;
mod downloads;
mod edit;
mod gap_advice;
mod groups;
mod hostile_index;
mod hostile_wheels;
mod interop;
mod kill;
mod local;
mod lock;
mod manifest;
mod native;
mod network;
mod plan;
mod publish;
#[cfg(feature = "pypi-tests")]
mod pypi;
mod python_package;
mod real_indexes;
mod reqs;
mod resolver;
mod review;
mod run;
mod source_hygiene;
mod sources;
mod trust_lock;
mod untrusted_index;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{FakeIndex, IndexOptions, Scenario};

/// Which API of the fake index a workspace points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/pypi/<name>/json`
    Json,
    /// `/simple/<name>/` (PEP 691 JSON or PEP 503 HTML by content negotiation)
    Simple,
}

/// A workspace in a temporary directory with its own cache.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
    pub index_url: String,
}

/// The output of one lbuild run.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    /// The exit code (`None` when a signal ended it): 1 for a failure, 2 for a usage error,
    /// and never 101, a panic's.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert!(self.success, "lbuild failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// A failure with exit code 1 (never a panic's 101).
    #[track_caller]
    pub fn failed(self) -> Run {
        assert_eq!(self.code, Some(1), "expected exit 1:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn err(self) -> Run {
        assert!(!self.success, "lbuild succeeded but should have failed:\nstderr:\n{}", self.stderr);
        self
    }
}

impl Workspace {
    /// A workspace whose `lambda.toml` is `[workspace]` settings pointing at `index` plus `body`.
    pub fn new(index: &FakeIndex, api: Api, body: &str) -> Workspace {
        let index_url = match api {
            Api::Json => index.json_api_url(),
            Api::Simple => index.simple_url(),
        };
        let workspace = Workspace { dir: tempfile::tempdir().unwrap(), cache: tempfile::tempdir().unwrap(), index_url };
        workspace.write_manifest(body);
        workspace
    }

    /// Replace `lambda.toml`; `{index}` in `body` becomes the index URL.
    pub fn write_manifest(&self, body: &str) {
        let text = body.replace("{index}", &self.index_url);
        fs_err::write(self.dir.path().join("lambda.toml"), text).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn lock_path(&self) -> PathBuf {
        self.path().join("lambda.lock")
    }

    pub fn lock_text(&self) -> String {
        fs_err::read_to_string(self.lock_path()).unwrap()
    }

    pub fn lock(&self) -> Lock {
        Lock(toml::from_str(&self.lock_text()).unwrap())
    }

    /// Run lbuild in the workspace.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Run lbuild in the workspace with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let cache = self.cache.path().display().to_string();
        let mut all = vec![("LBUILD_CACHE_DIR", cache.as_str())];
        all.extend_from_slice(env);
        run_lbuild(self.path(), args, &all)
    }
}

/// Run lbuild in `dir`, uncoloured, without the caller's index URL or `SOURCE_DATE_EPOCH`, and
/// with `env` on top.
pub fn run_lbuild(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_program(Path::new(env!("CARGO_BIN_EXE_lbuild")), dir, args, env)
}

/// Run an `lbuild` executable (this build's, or one installed from its wheel) as
/// [`run_lbuild`] does.
pub fn run_program(program: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("LBUILD_INDEX_URL")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run lbuild");
    Run {
        success: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A parsed `lambda.lock`, with lookups for assertions.
pub struct Lock(pub toml::Value);

/// How a package is installed on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub version: String,
    /// The wheel file name, when there is one.
    pub wheel: Option<String>,
    /// The gap reason, when there is one.
    pub gap: Option<String>,
    pub dependencies: Vec<String>,
}

impl Lock {
    pub fn pin(&self, name: &str, target: &str) -> Option<Pin> {
        for package in self.0["package"].as_array()? {
            if package["name"].as_str()? != name {
                continue;
            }
            for entry in package["target"].as_array()? {
                if entry["target"].as_str()? == target {
                    return Some(Pin {
                        version: package["version"].as_str()?.to_string(),
                        wheel: entry.get("wheel").and_then(|w| w["filename"].as_str()).map(str::to_string),
                        gap: entry.get("gap").and_then(|g| g["reason"].as_str()).map(str::to_string),
                        dependencies: entry["dependencies"]
                            .as_array()?
                            .iter()
                            .filter_map(|d| d.as_str().map(str::to_string))
                            .collect(),
                    });
                }
            }
        }
        None
    }

    #[track_caller]
    pub fn version(&self, name: &str, target: &str) -> String {
        self.pin(name, target).unwrap_or_else(|| panic!("`{name}` is not locked for {target}")).version
    }

    pub fn targets(&self) -> Vec<String> {
        self.0["target"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
    }
}

/// Every index shape lbuild must speak, for tests that run against all of them.
pub fn index_shapes() -> Vec<(&'static str, Api, IndexOptions)> {
    let all = IndexOptions::default();
    vec![
        ("json-api with .metadata", Api::Json, all),
        (
            "json-api, range requests, relative URLs",
            Api::Json,
            IndexOptions { metadata_files: false, relative_urls: true, ..all },
        ),
        ("simple with .metadata", Api::Simple, all),
        ("simple JSON, range requests", Api::Simple, IndexOptions { metadata_files: false, ..all }),
        ("simple HTML with .metadata", Api::Simple, IndexOptions { html_only: true, ..all }),
        (
            "simple HTML, full downloads, relative URLs",
            Api::Simple,
            IndexOptions {
                metadata_files: false,
                range_requests: false,
                relative_urls: true,
                html_only: true,
                hide_requires_python: true,
                ..all
            },
        ),
    ]
}

/// Start an index for a scenario file with the default options.
pub fn start(scenario: &str) -> FakeIndex {
    FakeIndex::start(&Scenario::load(scenario), IndexOptions::default())
}

/// Whether a test that needs an external tool should fail (in CI) or skip when it is missing.
pub fn tool_or_skip(tool: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "`{tool}` is not on PATH; CI must install it (see .ci/run)");
        eprintln!("skipping: `{tool}` is not on PATH (`.ci/run` installs it)");
    }
    found
}
pub(crate) mod sdist_build;
mod templates;
