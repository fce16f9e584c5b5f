//! Vendoring gaps of the plan: a package a zip holds for which no acceptable version has a
//! usable wheel on the zip's target. The resolver records the reason and the nearest versions
//! that do have one; this module turns that into advice a user can act on, shared by
//! `lbuild gaps`, the lock's report and the error that stops `lbuild build`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::BuildPlan;
use crate::lockfile::Lock;
use crate::platform::{Architecture, parse_target_name};

/// One package without a usable wheel on one target.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Gap {
    pub target: String,
    pub package: String,
    pub version: String,
    /// `only-sdist`, `other-architecture`, `glibc-too-new`, `no-wheel-for-python` or `no-linux-wheel`.
    pub reason: String,
    /// The reason in words, naming the version and the tags involved.
    pub detail: String,
    /// The newest version below `version` with a wheel for the target.
    pub older_with_wheel: Option<String>,
    /// The oldest version above `version` with a wheel for the target (an upper bound kept it out).
    pub newer_with_wheel: Option<String>,
    /// The source distribution the lock records, if any.
    pub sdist: Option<String>,
    /// The functions and layers whose zips need it (`function.api`).
    pub needed_by: Vec<String>,
    /// What the user can do about it, best first.
    pub ways_out: Vec<String>,
}

/// Every gap in the lock that some zip of the plan holds, sorted by target and package, with
/// the members whose zips hold it. (Two resolution groups of a target may hold a package at two
/// versions: each version is its own gap.)
pub(crate) fn collect(plan: &BuildPlan, lock: &Lock) -> Vec<Gap> {
    let mut gaps: BTreeMap<(String, String, String), Gap> = BTreeMap::new();
    for zip in &plan.zips {
        for name in &zip.packages {
            let Some((package, entry)) = lock.package_on(name, &zip.target, zip.group.as_deref()) else { continue };
            let Some(gap) = &entry.gap else { continue };
            gaps.entry((zip.target.clone(), name.clone(), package.version.clone()))
                .or_insert_with(|| Gap {
                    target: zip.target.clone(),
                    package: name.clone(),
                    version: package.version.clone(),
                    reason: gap.reason.clone(),
                    detail: gap.detail.clone(),
                    older_with_wheel: gap.older_with_wheel.clone(),
                    newer_with_wheel: gap.newer_with_wheel.clone(),
                    sdist: gap.sdist.as_ref().map(|sdist| sdist.filename.clone()),
                    needed_by: Vec::new(),
                    ways_out: Vec::new(),
                })
                .needed_by
                .push(zip.member.key());
        }
    }
    gaps.into_values()
        .map(|mut gap| {
            gap.needed_by.sort();
            gap.ways_out = ways_out(&gap, lock);
            gap
        })
        .collect()
}

/// The concrete ways out of a gap, best first.
fn ways_out(gap: &Gap, lock: &Lock) -> Vec<String> {
    let mut ways = Vec::new();
    let Some((runtime, architecture)) = parse_target_name(&gap.target) else { return ways };
    let machine = architecture.machine();
    let name = &gap.package;
    let direct = lock.target(&gap.target).is_some_and(|target| {
        target.members.values().flatten().any(|edge| crate::lockfile::requirement_name(edge) == name)
    });
    if let Some(newer) = &gap.newer_with_wheel {
        ways.push(format!(
            "allow a newer version: {name} {newer} is the oldest newer one with a wheel for {}; relax the upper \
             bound that keeps it out (`lbuild tree --invert {name}` shows who requires {name}), then run `lbuild lock`",
            gap.target
        ));
    }
    if let Some(older) = &gap.older_with_wheel {
        let how = if direct { "change the requirement to" } else { "add the requirement" };
        ways.push(format!(
            "pin an older version: {name} {older} is the newest with a wheel for {}; {how} `{name}=={older}` in the \
             functions or layers that need it, then run `lbuild lock`",
            gap.target
        ));
    }
    match gap.reason.as_str() {
        "other-architecture" => {
            let other = match architecture {
                Architecture::X86_64 => Architecture::Arm64,
                Architecture::Arm64 => Architecture::X86_64,
            };
            ways.push(format!(
                "deploy the functions that need it on {other}: set `architecture = \"{other}\"` in their \
                 `[function.NAME]` table"
            ));
        }
        "glibc-too-new" if runtime.glibc_minor < 34 => {
            ways.push(format!(
                "move to python3.12 or newer, if the package has wheels for it: {} runs on {} with glibc 2.{}, \
                 python3.12+ on Amazon Linux 2023 with glibc 2.34",
                runtime.name, runtime.os, runtime.glibc_minor
            ));
        }
        "no-wheel-for-python" => {
            ways.push("use a runtime whose Python version the package publishes wheels for (see the reason)".into());
        }
        _ => {}
    }
    let version = &gap.version;
    ways.push(format!(
        "build the wheel yourself for {machine} (e.g. `pip wheel --no-deps {name}=={version}` in the \
         quay.io/pypa/manylinux2014_{machine} container), put it in a `find-links` directory of \
         `[workspace]`, then run `lbuild lock`"
    ));
    ways.push("build without it with `lbuild build --allow-gaps`, if the code never imports it".into());
    ways
}

/// One line per gap, for the error that stops a build.
pub(crate) fn summary_line(gap: &Gap) -> String {
    let older = gap
        .newer_with_wheel
        .iter()
        .chain(&gap.older_with_wheel)
        .map(|version| format!("; {} {version} has wheels", gap.package))
        .collect::<String>();
    format!(
        "  - `{}=={}` on {}: {}{older} (needed by {})",
        gap.package,
        gap.version,
        gap.target,
        gap.detail,
        gap.needed_by.join(", ")
    )
}
