//! Vendoring gaps of the plan: a package a zip holds for which no acceptable version has a
//! usable wheel on the zip's target. The resolver records the reason and the nearest versions
//! that do have one; this module turns that into advice a user can act on, shared by
//! `lbuild gaps`, the lock's report and the error that stops `lbuild build`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::BuildPlan;
use super::replacements::replacements;
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
    /// The other runtimes on the target's architecture that the version has wheels for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtimes_with_wheels: Vec<String>,
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
                    runtimes_with_wheels: gap.runtimes_with_wheels.clone(),
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
    for replacement in replacements(name) {
        ways.push(format!(
            "use `{}` instead of {name}: {}; change the requirement in the functions or layers that need it, \
             then run `lbuild lock`",
            replacement.package, replacement.why
        ));
    }
    if let Some(newer) = &gap.newer_with_wheel {
        // The user's own `==` pin is the bound when a member requires exactly this version.
        let pins: Vec<&str> = lock
            .target(&gap.target)
            .into_iter()
            .flat_map(|target| &target.members)
            .filter(|(_, edges)| {
                edges.iter().any(|edge| {
                    crate::lockfile::requirement_name(edge) == name
                        && edge.replace(' ', "").ends_with(&format!("=={}", gap.version))
                })
            })
            .map(|(member, _)| member.as_str())
            .collect();
        if pins.is_empty() {
            ways.push(format!(
                "allow a newer version: {name} {newer} is the oldest newer one with a wheel for {}; relax the upper \
                 bound that keeps it out (`lbuild tree --invert {name}` shows who requires {name}), then run `lbuild lock`",
                gap.target
            ));
        } else {
            ways.push(format!(
                "allow a newer version: change `{name}=={}` in {} to `{name}=={newer}`, the oldest newer version \
                 with a wheel for {}, then run `lbuild lock`",
                gap.version,
                pins.join(", "),
                gap.target
            ));
        }
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
        "glibc-too-new"
            if runtime.glibc_minor < 34
                && gap.runtimes_with_wheels.iter().any(|name| {
                    crate::platform::Runtime::from_name(name).is_some_and(|other| other.glibc_minor >= 34)
                }) =>
        {
            ways.push(format!(
                "move to a newer runtime with wheels: set {}; {} runs on {} with glibc 2.{}, python3.12+ on \
                 Amazon Linux 2023 with glibc 2.34",
                runtime_list(&newer_glibc(&gap.runtimes_with_wheels)),
                runtime.name,
                runtime.os,
                runtime.glibc_minor
            ));
        }
        "no-wheel-for-python" if !gap.runtimes_with_wheels.is_empty() => {
            ways.push(format!(
                "use a runtime the package publishes wheels for on {architecture}: set {} in the \
                 `[function.NAME]` table",
                runtime_list(&gap.runtimes_with_wheels)
            ));
        }
        _ => {}
    }
    let version = &gap.version;
    let image = crate::platform::manylinux_image(runtime.glibc_minor, machine);
    if gap.reason == "only-sdist" {
        if lock.inputs.build_sdists.as_deref() == Some("never") {
            ways.push(format!(
                "if {name} is pure Python, let `lbuild lock` build it once for every target: remove \
                 `build-sdists = \"never\"` from `[workspace]` (building runs the sdist's code on this machine)"
            ));
        } else {
            ways.push(format!(
                "if {name} is pure Python, one `py3-none-any` wheel serves every target: `lbuild lock` builds it \
                 from the sdist when a Python 3 is available (`build-sdists` in `[workspace]`); or build it once \
                 yourself (`pip wheel --no-deps {name}=={version}`) and put it in a `find-links` directory of \
                 `[workspace]`"
            ));
        }
        ways.push(format!(
            "if it has native code, build it for {machine} in the {image} container (`pip wheel --no-deps \
             {name}=={version}`), put the wheel in a `find-links` directory of `[workspace]`, then run `lbuild lock`"
        ));
    } else if gap.sdist.is_some() {
        ways.push(format!(
            "build the wheel yourself for {machine} (e.g. `pip wheel --no-deps {name}=={version}` in the \
             {image} container), put it in a `find-links` directory of `[workspace]`, then run `lbuild lock`"
        ));
    }
    // The native builder runs that container build for every target, and checks what it makes.
    if gap.sdist.is_some() && lock.inputs.native_builder.is_none() {
        ways.push(format!(
            "or let `lbuild lock` run that build for each target: set `native-builder` in `[workspace]` to a \
             `docker run` of `{{image}}` ({image} here); see docs/guide/gaps.md"
        ));
    }
    ways.push("build without it with `lbuild build --allow-gaps`, if the code never imports it".into());
    ways
}

/// `` `runtime = "python3.12"` or `runtime = "python3.13"` ``, for advice.
fn runtime_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`runtime = \"{name}\"`")).collect();
    quoted.join(" or ")
}

/// The runtimes of `names` on Amazon Linux 2023 (glibc 2.34).
fn newer_glibc(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|name| crate::platform::Runtime::from_name(name).is_some_and(|other| other.glibc_minor >= 34))
        .cloned()
        .collect()
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
