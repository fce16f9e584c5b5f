//! The other tools' locks behind the members' requirements files (`uv.lock`, `poetry.lock`,
//! `Pipfile.lock`; `[workspace] project-lock`): read once per lock, their pins become each
//! target's preferred versions, their fingerprints join the lock's inputs (so a changed
//! `uv.lock` makes `lambda.lock` stale and the relock follows it), and every package whose
//! locked version differs from its pin is reported with the reason the resolution gives.

use std::collections::{BTreeMap, HashMap};

use pep440_rs::Version;
use serde::Serialize;

use crate::fsutil::relative;
use crate::interop::ProjectLock;
use crate::lockfile::Lock;
use crate::manifest::{MemberId, ProjectLockMode, Workspace};
use crate::platform::Target;
use crate::resolve::Resolution;

/// A package whose locked version differs from the version a project lock pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinDifference {
    /// The project lock, relative to the workspace root.
    pub project_lock: String,
    pub package: String,
    pub target: String,
    /// The version the project lock pins.
    pub pinned: String,
    /// The version `lambda.lock` holds.
    pub locked: String,
    /// The members whose requirements file that lock governs, as lock keys (`function.api`).
    pub members: Vec<String>,
    /// Why the pin was not kept (`which has no wheel for ...`); `None` when the lock was not
    /// resolved in this run.
    pub reason: Option<String>,
}

impl PinDifference {
    /// One line for a person.
    pub fn message(&self) -> String {
        let Self { project_lock, package, target, pinned, locked, reason, .. } = self;
        match reason {
            Some(reason) => format!("`{project_lock}` pins {package} {pinned}, {reason}; locked {locked} for {target}"),
            None => format!(
                "`{project_lock}` pins {package} {pinned}, but lambda.lock has {locked} for {target} \
                 (`lbuild lock --upgrade-package {package}` says why)"
            ),
        }
    }
}

/// The project locks of a workspace, read.
pub(crate) struct ProjectPins {
    mode: ProjectLockMode,
    locks: Vec<ProjectLock>,
    /// Member -> index into `locks`.
    of_member: BTreeMap<MemberId, usize>,
}

impl ProjectPins {
    /// Read every project lock the workspace's members name (each once).
    pub fn load(workspace: &Workspace) -> miette::Result<ProjectPins> {
        let mut locks: Vec<ProjectLock> = Vec::new();
        let mut of_member = BTreeMap::new();
        if workspace.project_lock != ProjectLockMode::Ignore {
            for (member, path) in &workspace.project_locks {
                let index = match locks.iter().position(|lock| &lock.path == path) {
                    Some(index) => index,
                    None => {
                        locks.push(ProjectLock::read(path)?);
                        locks.len() - 1
                    }
                };
                of_member.insert(member.clone(), index);
            }
        }
        Ok(ProjectPins { mode: workspace.project_lock, locks, of_member })
    }

    /// What the lock's `[inputs]` records: each lock's path and the fingerprint of its pins.
    pub fn inputs(&self, workspace: &Workspace) -> BTreeMap<String, String> {
        self.locks.iter().map(|lock| (relative(&workspace.root, &lock.path), lock.fingerprint())).collect()
    }

    /// The preferred versions on `target` of the project locks of `members`; where two locks pin
    /// one package differently, the lock of the first member in order wins.
    pub fn for_target(&self, target: &Target, members: &[MemberId]) -> HashMap<String, Version> {
        let mut pins = HashMap::new();
        for member in members.iter().rev() {
            if let Some(&index) = self.of_member.get(member) {
                pins.extend(self.locks[index].pins_for(&target.markers));
            }
        }
        pins
    }

    /// Every package of `lock` in the closure of a member whose locked version differs from its
    /// project lock's pin on that target, with the reasons the `resolutions` of this run give.
    pub fn differences(&self, workspace: &Workspace, lock: &Lock, resolutions: &[Resolution]) -> Vec<PinDifference> {
        let mut reasons: HashMap<(String, &str, String), &str> = HashMap::new();
        for resolution in resolutions {
            for unkept in &resolution.unkept {
                reasons.insert(
                    (resolution.target.name(), unkept.name.as_str(), unkept.pinned.to_string()),
                    unkept.reason.as_str(),
                );
            }
        }
        let mut found: BTreeMap<(String, String, String), PinDifference> = BTreeMap::new();
        for target in &lock.targets {
            let Some((runtime, architecture)) = crate::platform::parse_target_name(&target.name) else { continue };
            let full = target.python_full_version.parse::<Version>().or_else(|_| runtime.default_full_version.parse());
            let Ok(full) = full else { continue };
            let environment = crate::platform::marker_environment(runtime, architecture, &full);
            for (member, &index) in &self.of_member {
                let key = member.key();
                let Some(direct) = target.members.get(&key) else { continue };
                // The member's own closure, in the resolution group it was locked in.
                let locked = lock.pins(&target.name, std::slice::from_ref(&key));
                let closure =
                    lock.graph(&target.name, target.group_of(&key)).closure(direct.iter().map(String::as_str));
                let project_lock = &self.locks[index];
                let pins = project_lock.pins_for(&environment);
                for name in closure.into_keys() {
                    let (Some(pinned), Some(version)) = (pins.get(&name), locked.get(&name)) else { continue };
                    if version.parse::<Version>().ok().as_ref() == Some(pinned) {
                        continue;
                    }
                    let path = relative(&workspace.root, &project_lock.path);
                    let reason = match reasons.get(&(target.name.clone(), name.as_str(), pinned.to_string())) {
                        Some(reason) => Some(reason.to_string()),
                        // Resolved in this run, but another member's project lock pinned it.
                        None if !resolutions.is_empty() => Some(format!(
                            "which another member's project lock pins differently, and the functions and layers of \
                             {} share one version of each package",
                            target.name
                        )),
                        None => None,
                    };
                    found
                        .entry((path.clone(), target.name.clone(), name.clone()))
                        .or_insert_with(|| PinDifference {
                            project_lock: path,
                            package: name.clone(),
                            target: target.name.clone(),
                            pinned: pinned.to_string(),
                            locked: version.clone(),
                            members: Vec::new(),
                            reason,
                        })
                        .members
                        .push(key.clone());
                }
            }
        }
        found.into_values().collect()
    }

    /// With `require`, any difference is an error.
    pub fn check(&self, differences: &[PinDifference]) -> miette::Result<()> {
        if self.mode != ProjectLockMode::Require || differences.is_empty() {
            return Ok(());
        }
        miette::bail!(
            help = "update the project lock (for uv: `uv lock`) so it pins versions that have wheels for the Lambda \
                    targets, or set `project-lock = \"prefer\"` in `[workspace]` to lock the differences with warnings",
            "`project-lock = \"require\"`, but {} package(s) are not locked at the version the project lock pins:\n{}",
            differences.len(),
            differences.iter().map(|difference| format!("  - {}", difference.message())).collect::<Vec<_>>().join("\n")
        )
    }
}
