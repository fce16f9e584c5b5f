//! The build environment's wheels, resolved by lbuild's own resolver for the host interpreter
//! and fetched through the index client (hashes verified, cached).
//!
//! The resolution targets the Lambda runtime of the host's minor (x86_64 markers, the host's
//! `python_full_version`), and accepts only `*-none-any` wheels: the environment then does not
//! depend on the host's OS or machine, and a requirement with compiled code fails the build with
//! a message naming it. Nested sdist builds are never made for a build environment.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::Requirement;
use tokio::runtime::Handle;

use super::host::HostPython;
use super::{BuildEnv, EnvWheel};
use crate::index::IndexClient;
use crate::model::{MemberId, MemberKind, PrereleaseMode};
use crate::platform::{Architecture, RUNTIMES, Target};
use crate::resolve::{Choice, ResolveInput, resolve_with};

/// Build environments from the workspace's indexes. `root` is the workspace root (find-links
/// paths are relative to it).
pub(crate) struct IndexBuildEnv {
    pub client: Arc<IndexClient>,
    pub handle: Handle,
    pub root: PathBuf,
}

/// The target a build environment is resolved for: the runtime of the host's minor (the nearest
/// one when Lambda has none), with the host's full version.
pub(crate) fn host_target(python: &HostPython) -> Target {
    let runtime = RUNTIMES
        .iter()
        .min_by_key(|runtime| runtime.minor.abs_diff(python.minor))
        .copied()
        .expect("the runtime table is not empty");
    Target::new(runtime, Architecture::X86_64, python.version.parse().ok())
}

impl BuildEnv for IndexBuildEnv {
    fn wheels(&self, python: &HostPython, requirements: &[String]) -> Result<Vec<EnvWheel>, String> {
        let parsed = requirements
            .iter()
            .map(|line| {
                Requirement::from_str(line).map_err(|err| format!("`{line}` is not a valid requirement: {err}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let input = ResolveInput {
            target: host_target(python),
            members: vec![(MemberId { kind: MemberKind::Function, name: "build-env".into() }, parsed)],
            preferences: Default::default(),
            project_pins: Default::default(),
            prerelease: PrereleaseMode::default(),
            local: Default::default(),
            way_out: String::new(),
            constraints: Vec::new(),
            hashes: Default::default(),
        };
        let registry = crate::resolve::IndexRegistry::new(self.client.clone(), self.handle.clone());
        let resolution = resolve_with(input, &registry).map_err(|err| err.to_string())?;
        let mut wheels = Vec::new();
        for (name, package) in &resolution.packages {
            let file = match &package.choice {
                Choice::Wheel(file) if is_pure(&file.filename) => file,
                Choice::Wheel(file) => {
                    return Err(format!(
                        "{name} {} has no pure-Python wheel (lbuild would use `{}`), and lbuild builds only with pure wheels",
                        package.version, file.filename
                    ));
                }
                _ => return Err(format!("{name} {} has no wheel to build with", package.version)),
            };
            let (sha256, size) = self.handle.block_on(self.client.complete(file)).map_err(|err| err.to_string())?;
            let url = match file.url.scheme() {
                "file" => file.url.to_file_path().map(|p| p.display().to_string()).unwrap_or_default(),
                _ => file.url.to_string(),
            };
            let (path, _) = self
                .handle
                .block_on(self.client.fetch_locked(&file.filename, &url, &sha256, size, &self.root))
                .map_err(|err| err.to_string())?;
            wheels.push(EnvWheel { filename: file.filename.clone(), sha256, path });
        }
        Ok(wheels)
    }
}

/// Whether every tag of a wheel file name is `*-none-any`.
fn is_pure(filename: &str) -> bool {
    crate::python::wheel_name::WheelFilename::parse(filename)
        .is_ok_and(|wheel| wheel.tags().all(|(_, abi, platform)| abi == "none" && platform == "any"))
}
