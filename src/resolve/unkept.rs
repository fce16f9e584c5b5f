//! Why a version the project's own lock pins was not kept: the pins are preferences, so a
//! resolution differs from them only where the pinned version cannot be used on the target,
//! and the user needs to know which case it is (no wheel, `Requires-Python`, a requirement that
//! excludes it, or a conflict further away).

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::candidates::classify_gap;
use super::{Edges, Provider, ResolvedPackage};
use crate::model::{MemberId, PrereleaseMode};

/// A project pin the resolution did not keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unkept {
    pub name: String,
    /// The version the project lock pins.
    pub pinned: Version,
    /// The version locked instead.
    pub locked: Version,
    /// Why, phrased to follow "<lock> pins <name> <pinned>, ": `which has no wheel for ...`.
    pub reason: String,
}

/// The project pins of resolved packages that differ from what was resolved, with the reasons.
pub(super) fn explain(
    provider: &Provider<'_>,
    members: &BTreeMap<MemberId, Edges>,
    packages: &BTreeMap<String, ResolvedPackage>,
) -> Vec<Unkept> {
    let target = &provider.input.target;
    let mut unkept = Vec::new();
    for (name, package) in packages {
        let Some(pinned) = provider.input.project_pins.get(name) else { continue };
        if *pinned == package.version {
            continue;
        }
        let list = provider.candidates.borrow().get(name).cloned().unwrap_or_default();
        let reason = match list.iter().find(|candidate| &candidate.version == pinned) {
            None => "which the index does not have".to_string(),
            Some(candidate) if candidate.python_incompatible.is_some() => format!(
                "which declares Requires-Python {}, so it does not support {} (Python {})",
                candidate.python_incompatible.as_ref().expect("checked"),
                target.runtime.name,
                target.python_full_version
            ),
            Some(candidate) if candidate.yanked && !provider.pinned(name, pinned) => {
                "which is yanked on the index".to_string()
            }
            Some(_)
                if pinned.any_prerelease()
                    && provider.input.prerelease != PrereleaseMode::Allow
                    && !provider.explicit_prerelease.borrow().contains(name) =>
            {
                "which is a pre-release, and the workspace's `prerelease` mode does not choose one here \
                 (`prerelease = \"allow\"` would)"
                    .to_string()
            }
            Some(candidate) if candidate.wheel.is_none() => {
                let (_, detail) = classify_gap(candidate, target);
                format!("which has no wheel for {}: {detail}", target.name())
            }
            Some(_) => match excluded_by(name, pinned, members, packages) {
                Some((who, requirement)) => format!("which {who} excludes (`{requirement}`)"),
                None => "which does not fit with the other versions of this resolution (a conflict through another \
                     package's requirements)"
                    .to_string(),
            },
        };
        unkept.push(Unkept { name: name.clone(), pinned: pinned.clone(), locked: package.version.clone(), reason });
    }
    unkept
}

/// Who requires `name` in a way that excludes `version`, and the requirement.
fn excluded_by(
    name: &str,
    version: &Version,
    members: &BTreeMap<MemberId, Edges>,
    packages: &BTreeMap<String, ResolvedPackage>,
) -> Option<(String, String)> {
    let excludes = |edge: &str| {
        // An edge is `name[extras]specifiers` (see `EdgeSet::render`).
        let rest = edge.strip_prefix(name).unwrap_or_default();
        let rest = match rest.strip_prefix('[') {
            Some(after) => after.split_once(']').map_or("", |(_, specifiers)| specifiers),
            None => rest,
        };
        !rest.is_empty() && VersionSpecifiers::from_str(rest).is_ok_and(|specifiers| !specifiers.contains(version))
    };
    for (member, edges) in members {
        if let Some(edge) = edges.get(name).filter(|edge| excludes(edge)) {
            return Some((member.to_string(), edge.clone()));
        }
    }
    for (dependent, package) in packages {
        let edges = package.dependencies.iter().chain(package.extras.values().flatten());
        for (dependency, edge) in edges {
            if dependency == name && excludes(edge) {
                return Some((format!("{dependent} {}", package.version), edge.clone()));
            }
        }
    }
    None
}
