//! The whole-lock check that runs every time `lambda.lock` is read.
//!
//! A lock is a claim about a resolution, and it may come from an untrusted change: nothing in it
//! is used before all of it holds together. Names are normalized, versions parse, hashes are
//! sha256 hex, sizes are sane, filenames are bare names that agree with their package, every URL
//! is on the index that serves the package (or is a file the lock's find-links inputs list),
//! every target and member named exists, and every dependency edge (a package's own, an extra's,
//! a member's) resolves to a package of the lock on the same target that records each extra the
//! edge names. The member keys and edges are also checked against the recorded
//! inputs: a member's direct edges are exactly its requirements that apply on the target, and
//! (since version 3, where an edge's extras decide what a zip holds) each names exactly the
//! extras those requirements ask for.
//!
//! A path package (`source = "path"`) is one `[inputs.local]` records at the same path and version:
//! a safe workspace-relative path, no wheel and no gap; and no package of another source may take
//! the name of a local package (that would install an index's project of the same name).
//! Since version 4 a target is resolved in groups: the groups of each target are exactly those
//! [`resolution_groups`] forms from the inputs (the resolution mode, each function's layers and
//! `isolated`), every package entry belongs to one of them, and edges and reachability hold
//! within a group: a package of one group never satisfies an edge of another.
//!
//! The check only walks the parsed lock; the text is searched only to put a line number on an
//! error.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::Requirement;
use url::Url;

use super::{Lock, LockError, LockedFile, LockedPackage, requirement_name};
use crate::index::origin::file_url_allowed;
use crate::model::{GroupingMember, MemberId, MemberKind, ResolutionMode, is_valid_member_name, resolution_groups};
use crate::platform::{Architecture, Runtime, Target, parse_target_name};
use crate::python::tags::TagSet;
use crate::python::wheel_name::{WheelFilename, is_valid_name, normalize_name, parse_sdist_filename};
use pep508_rs::MarkerEnvironment;

/// The largest file a lock may name, in bytes: far above any real wheel, and far below a number
/// whose sum over a few thousand files could overflow.
pub const MAX_FILE_SIZE: u64 = 1 << 34;

/// The `source` of a package whose files are local.
use crate::model::{FIND_LINKS, LocalPackage, PATH_SOURCE};

/// The gap reasons lbuild writes.
const GAP_REASONS: &[&str] = &[
    "only-sdist",
    "other-architecture",
    "glibc-too-new",
    "no-wheel-for-python",
    "no-linux-wheel",
    "native-code",
    "build-failed",
];

const PRERELEASE_MODES: &[&str] = &["disallow", "allow", "if-necessary-or-explicit"];

/// Which part of the file an error is about, to find its line.
#[derive(Clone, Copy)]
enum Place {
    Inputs,
    Target(usize),
    /// The `[target.groups]` table of a target (the target, when it has none).
    Groups(usize),
    Package(usize),
    /// The nth `[[package.target]]` entry of a package (the package, when it is not written as
    /// such a table).
    Entry(usize, usize),
}

struct Checker<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Checker<'_> {
    /// An error at the first occurrence of `needle` (quoted, else bare) inside `place`.
    fn fail(&self, place: Place, needle: &str, message: impl Into<String>) -> LockError {
        LockError::invalid(self.path, locate(self.text, place, needle), message.into())
    }
}

/// A member as the lock's inputs record it.
struct MemberFacts {
    targets: Vec<String>,
    layers: Vec<String>,
    isolated: bool,
    requirements: Vec<Requirement>,
    /// The normalized names its requirements name.
    names: HashSet<String>,
    /// Its `-c` constraints.
    constraints: Vec<Requirement>,
}

/// Check the whole lock; `text` is the file it was parsed from, for line numbers.
pub(super) fn validate(lock: &Lock, text: &str, path: &Path) -> Result<(), LockError> {
    let check = Checker { text, path };
    let inputs = &lock.inputs;

    // [inputs]
    let mut indexes: HashMap<&str, (Url, bool)> = HashMap::new();
    for index in &inputs.indexes {
        let url = Url::parse(&index.url).map_err(|err| {
            check.fail(Place::Inputs, &index.url, format!("index `{}` has an invalid URL: {err}", show(&index.name)))
        })?;
        if index.name.is_empty()
            || index.name == FIND_LINKS
            || index.name == PATH_SOURCE
            || indexes.insert(&index.name, (url, index.explicit)).is_some()
        {
            return Err(check.fail(
                Place::Inputs,
                &index.name,
                format!("the index name `{}` is empty, reserved or given twice", show(&index.name)),
            ));
        }
    }
    for (package, index) in &inputs.sources {
        if !is_normalized_name(package) {
            return Err(check.fail(
                Place::Inputs,
                package,
                format!("`{}` is not a normalized package name", show(package)),
            ));
        }
        if inputs.local.contains_key(package) {
            return Err(check.fail(
                Place::Inputs,
                package,
                format!("`{}` is both a local package and pinned to `{}`", show(package), show(index)),
            ));
        }
        if index != FIND_LINKS && !indexes.contains_key(index.as_str()) {
            return Err(check.fail(
                Place::Inputs,
                index,
                format!(
                    "`{}` is pinned to index `{}`, which `[[inputs.index]]` does not have",
                    show(package),
                    show(index)
                ),
            ));
        }
    }
    // Path -> sha256 of each find-links file the resolution saw.
    let mut find_links: HashMap<&str, &str> = HashMap::new();
    for entry in &inputs.find_links {
        let parsed = entry
            .rsplit_once(" sha256:")
            .filter(|(path, sha256)| !path.is_empty() && !path.contains('\0') && is_sha256(sha256));
        let Some((path, sha256)) = parsed else {
            return Err(check.fail(
                Place::Inputs,
                entry,
                format!("the find-links entry `{}` is not `PATH sha256:HEX`", show(entry)),
            ));
        };
        find_links.insert(path, sha256);
    }
    for (name, local) in &inputs.local {
        let what = format!("local package `{}`", show(name));
        if !is_normalized_name(name) {
            return Err(check.fail(Place::Inputs, name, format!("{what}: not a normalized package name")));
        }
        if !LocalPackage::is_safe_path(&local.path) {
            return Err(check.fail(
                Place::Inputs,
                &local.path,
                format!(
                    "{what} has the path `{}`, which is not a relative `/`-separated path inside the workspace",
                    show(&local.path)
                ),
            ));
        }
        Version::from_str(&local.version).map_err(|err| {
            check.fail(Place::Inputs, &local.version, format!("{what} has an invalid version: {err}"))
        })?;
        for text in &local.dependencies {
            Requirement::from_str(text).map(|_: Requirement| ()).map_err(|err| {
                check.fail(Place::Inputs, text, format!("{what} has a dependency that does not parse: {err}"))
            })?;
        }
        if let Some(text) = &local.requires_python {
            VersionSpecifiers::from_str(text).map_err(|err| {
                check.fail(Place::Inputs, text, format!("{what} has an invalid requires-python: {err}"))
            })?;
        }
    }
    for (path, pins) in &inputs.project_locks {
        let fingerprint = pins.strip_prefix("sha256:").filter(|hex| is_sha256(hex));
        // The path is quoted when the lock is stale: no control characters, no essay.
        let plain = !path.is_empty() && path.len() <= 4096 && !path.chars().any(char::is_control);
        if !plain || fingerprint.is_none() {
            return Err(check.fail(
                Place::Inputs,
                pins,
                format!("the project lock entry `{}` is not `PATH = \"sha256:HEX\"`", show(path)),
            ));
        }
    }
    if !PRERELEASE_MODES.contains(&inputs.prerelease.as_str()) {
        return Err(check.fail(
            Place::Inputs,
            &inputs.prerelease,
            format!("`{}` is not a pre-release mode", show(&inputs.prerelease)),
        ));
    }
    let Some(mode) = ResolutionMode::from_name(&inputs.resolution) else {
        return Err(check.fail(
            Place::Inputs,
            &inputs.resolution,
            format!("`{}` is not a resolution mode (`unified` or `per-function`)", show(&inputs.resolution)),
        ));
    };
    for (name, version) in &inputs.targets {
        python_version_for(name, version).map_err(|message| check.fail(Place::Inputs, name, message))?;
    }
    let mut members: HashMap<&str, MemberFacts> = HashMap::new();
    for (key, member) in &inputs.members {
        check_member_key(key).map_err(|message| check.fail(Place::Inputs, key, message))?;
        for target in &member.targets {
            if !inputs.targets.contains_key(target) {
                return Err(check.fail(
                    Place::Inputs,
                    key,
                    format!("`{key}` is locked for target `{}`, which `[inputs.targets]` does not have", show(target)),
                ));
            }
        }
        let mut requirements = Vec::with_capacity(member.requirements.len());
        let mut names = HashSet::new();
        for text in &member.requirements {
            let requirement = Requirement::from_str(text).map_err(|err| {
                check.fail(
                    Place::Inputs,
                    text,
                    format!("the requirement `{}` of `{key}` does not parse: {err}", show(text)),
                )
            })?;
            names.insert(requirement.name.to_string());
            requirements.push(requirement);
        }
        let mut constraints = Vec::with_capacity(member.constraints.len());
        for text in &member.constraints {
            constraints.push(Requirement::from_str(text).map_err(|err| {
                check.fail(
                    Place::Inputs,
                    text,
                    format!("the constraint `{}` of `{key}` does not parse: {err}", show(text)),
                )
            })?);
        }
        for layer in &member.layers {
            if !is_valid_member_name(layer) || !key.starts_with("function.") {
                return Err(check.fail(
                    Place::Inputs,
                    layer,
                    format!("`{key}` names the layer `{}`, which is not a layer name of a function", show(layer)),
                ));
            }
        }
        members.insert(
            key,
            MemberFacts {
                targets: member.targets.clone(),
                layers: member.layers.clone(),
                isolated: member.isolated,
                requirements,
                names,
                constraints,
            },
        );
    }

    // [[package]], first what each one is, so that edges can be checked against all of them.
    // (name, target, group) -> index of the package.
    let mut on_target: HashMap<(&str, &str, Option<&str>), usize> = HashMap::new();
    let target_facts = targets(lock, &check)?;
    groups(lock, &check, mode, &members)?;
    // Target -> its groups (`None`: the unified one, when some member is in it).
    let known_groups: HashMap<&str, HashSet<Option<&str>>> = lock
        .targets
        .iter()
        .map(|locked| (locked.name.as_str(), locked.group_members().into_iter().map(|(group, _)| group).collect()))
        .collect();
    for (index, package) in lock.packages.iter().enumerate() {
        let place = Place::Package(index);
        if !is_normalized_name(&package.name) {
            return Err(check.fail(
                place,
                &package.name,
                format!("`{}` is not a normalized package name (PEP 503)", show(&package.name)),
            ));
        }
        let what = What(&package.name, "");
        let version = Version::from_str(&package.version).map_err(|err| {
            check.fail(
                place,
                &package.version,
                format!("{what} has an invalid version `{}`: {err}", show(&package.version)),
            )
        })?;
        let what = What(&package.name, &package.version);
        let local = inputs.local.get(&package.name);
        if package.source == PATH_SOURCE {
            let Some(local) = local else {
                return Err(check.fail(
                    place,
                    &package.name,
                    format!("{what} is a path package, but `[inputs.local]` has no local package of that name"),
                ));
            };
            if package.path.as_deref() != Some(local.path.as_str()) {
                let shown = package.path.as_deref().map_or("no path".to_string(), |path| format!("`{}`", show(path)));
                return Err(check.fail(
                    place,
                    package.path.as_deref().unwrap_or(&package.name),
                    format!(
                        "{what} is a path package at {shown}, but `[inputs.local]` has it at `{}`",
                        show(&local.path)
                    ),
                ));
            }
            if Version::from_str(&local.version).ok() != Some(version.clone()) {
                return Err(check.fail(
                    place,
                    &package.version,
                    format!(
                        "{what} is a path package, but `[inputs.local]` has it at version {}",
                        show(&local.version)
                    ),
                ));
            }
            if let Some(nth) = package
                .per_target
                .iter()
                .position(|entry| entry.wheel.is_some() || entry.gap.is_some() || entry.built.is_some())
            {
                return Err(check.fail(
                    Place::Entry(index, nth),
                    &package.per_target[nth].target,
                    format!(
                        "{what} is a path package, which is installed from its directory: it has no `wheel` or `gap`"
                    ),
                ));
            }
        } else if local.is_some() {
            return Err(check.fail(
                place,
                &package.source,
                format!(
                    "{what} comes from `{}`, but `[inputs.local]` makes `{}` a local package, which never comes from an index",
                    show(&package.source),
                    package.name
                ),
            ));
        } else if let Some(path) = &package.path {
            return Err(check.fail(
                place,
                path,
                format!("{what} has a `path`, but only a path package (`source = \"path\"`) has one"),
            ));
        }
        if package.source != FIND_LINKS
            && package.source != PATH_SOURCE
            && !indexes.contains_key(package.source.as_str())
        {
            return Err(check.fail(
                place,
                &package.source,
                format!(
                    "{what} comes from `{}`, which is neither an index of `[[inputs.index]]` nor `find-links`",
                    show(&package.source)
                ),
            ));
        }
        // Both lists are short (one entry per target): compare without allocating.
        let unique = |items: &mut dyn Iterator<Item = &String>| {
            let items: Vec<&String> = items.collect();
            items.iter().enumerate().all(|(i, item)| !items[..i].contains(item))
        };
        let entries: Vec<(&String, Option<&String>)> =
            package.per_target.iter().map(|entry| (&entry.target, entry.group.as_ref())).collect();
        let same = unique(&mut package.targets.iter())
            && entries.iter().enumerate().all(|(i, entry)| !entries[..i].contains(entry))
            && package.per_target.iter().all(|entry| package.targets.contains(&entry.target))
            && package.targets.iter().all(|target| package.per_target.iter().any(|entry| entry.target == *target));
        if !same {
            return Err(check.fail(
                place,
                "targets",
                format!(
                    "the `targets` of {what} are not exactly the targets of its `[[package.target]]` entries, \
                     or an entry is given twice for one target and group"
                ),
            ));
        }
        for (nth, entry) in package.per_target.iter().enumerate() {
            let place = Place::Entry(index, nth);
            if !target_facts.contains_key(entry.target.as_str()) {
                return Err(check.fail(
                    place,
                    &entry.target,
                    format!("{what} names target `{}`, which the lock does not have", show(&entry.target)),
                ));
            }
            let group = entry.group.as_deref();
            if !known_groups.get(entry.target.as_str()).is_some_and(|groups| groups.contains(&group)) {
                let message = match group {
                    Some(group) => format!(
                        "{what} on {} belongs to group `{}`, which the target's `groups` does not have",
                        entry.target,
                        show(group)
                    ),
                    None => format!(
                        "{what} on {} names no group, but every member of the target is in a named group",
                        entry.target
                    ),
                };
                return Err(check.fail(place, group.unwrap_or(&entry.target), message));
            }
            if let Some(other) = on_target.insert((&package.name, &entry.target, group), index) {
                return Err(check.fail(
                    Place::Package(index),
                    &package.name,
                    format!(
                        "`{}` is locked at both {} and {} on {}{}; a resolution installs one version of a package",
                        package.name,
                        lock.packages[other].version,
                        package.version,
                        entry.target,
                        in_group(group)
                    ),
                ));
            }
            // A `built` beside a `wheel` or a `gap` would leave which one is shipped to whoever
            // reads the entry: one of them, or none for a path package.
            let kinds = [entry.wheel.is_some(), entry.gap.is_some(), entry.built.is_some()];
            let one_kind = kinds.iter().filter(|&&present| present).count() == 1
                || (kinds == [false; 3] && package.source == PATH_SOURCE);
            match (&entry.wheel, &entry.gap) {
                _ if !one_kind => {
                    return Err(check.fail(
                        place,
                        &entry.target,
                        format!("{what} on {} must have exactly one of a `wheel`, a `gap` and a `built`", entry.target),
                    ));
                }
                (None, None) if package.source == PATH_SOURCE && entry.built.is_none() => {}
                (None, None) if entry.built.is_some() => {
                    let built = entry.built.as_ref().expect("checked");
                    let file = FileCheck { package, version: &version, what, place };
                    file.check(&check, &built.sdist, false, &indexes, &find_links, &inputs.sources)?;
                    // A pure wheel serves every target; the native builder's serves its own.
                    let native = built.builder == "native";
                    let fits = WheelFilename::parse(&built.wheel).is_ok_and(|parsed| {
                        normalize_name(&parsed.name) == normalize_name(&package.name)
                            && parsed.version == version
                            && (native || parsed.tags().all(|(_, abi, platform)| abi == "none" && platform == "any"))
                            && target_facts[entry.target.as_str()].tags.wheel_priority(&parsed).is_some()
                    });
                    if !fits {
                        return Err(check.fail(
                            place,
                            &built.wheel,
                            format!(
                                "{what}: the built wheel `{}` is not a {} of {} {} that installs on {}",
                                show(&built.wheel),
                                if native { "wheel" } else { "pure wheel" },
                                package.name,
                                package.version,
                                entry.target
                            ),
                        ));
                    }
                    if native && !built.build_env.is_empty() {
                        return Err(check.fail(
                            place,
                            &built.wheel,
                            format!(
                                "{what}: the native build of `{}` names a build environment; the native builder has none",
                                show(&built.wheel)
                            ),
                        ));
                    }
                    // The backend ran with pure wheels only (`*-none-any`, a plain file name).
                    let impure = built.build_env.iter().find(|wheel| {
                        wheel.filename.contains(['/', '\\'])
                            || !WheelFilename::parse(&wheel.filename).is_ok_and(|parsed| {
                                parsed.tags().all(|(_, abi, platform)| abi == "none" && platform == "any")
                            })
                    });
                    if let Some(wheel) = impure {
                        return Err(check.fail(
                            place,
                            &wheel.filename,
                            format!(
                                "{what}: the build environment of `{}` names `{}`, which is not a pure wheel",
                                show(&built.wheel),
                                show(&wheel.filename)
                            ),
                        ));
                    }
                    let bad_env = built.build_env.iter().find(|wheel| !is_sha256(&wheel.sha256));
                    if !is_sha256(&built.content_sha256)
                        || bad_env.is_some()
                        || !["pep517", "native"].contains(&built.builder.as_str())
                    {
                        return Err(check.fail(
                            place,
                            &built.wheel,
                            format!("{what}: the `built` entry of `{}` has a hash that is not sha256 hex, or an unknown builder", show(&built.wheel)),
                        ));
                    }
                }
                (Some(wheel), None) => {
                    let file = FileCheck { package, version: &version, what, place };
                    file.check(&check, wheel, true, &indexes, &find_links, &inputs.sources)?;
                    // A wheel for another architecture, Python or glibc would be zipped as it is
                    // and fail only when Lambda imports it.
                    let tags = &target_facts[entry.target.as_str()].tags;
                    let installs = WheelFilename::parse(&wheel.filename)
                        .is_ok_and(|parsed| tags.wheel_priority(&parsed).is_some());
                    if !installs {
                        return Err(check.fail(
                            place,
                            &wheel.filename,
                            format!(
                                "{what}: the wheel `{}` does not install on {}: none of its tags is one of the target's",
                                show(&wheel.filename),
                                entry.target
                            ),
                        ));
                    }
                }
                (None, Some(gap)) => {
                    if !GAP_REASONS.contains(&gap.reason.as_str()) {
                        return Err(check.fail(
                            place,
                            &gap.reason,
                            format!("{what} has a gap with the unknown reason `{}`", show(&gap.reason)),
                        ));
                    }
                    for other in [&gap.older_with_wheel, &gap.newer_with_wheel].into_iter().flatten() {
                        Version::from_str(other).map_err(|err| {
                            check.fail(
                                place,
                                other,
                                format!("{what} names an invalid version `{}`: {err}", show(other)),
                            )
                        })?;
                    }
                    if let Some(unknown) =
                        gap.runtimes_with_wheels.iter().find(|name| crate::platform::Runtime::from_name(name).is_none())
                    {
                        return Err(check.fail(
                            place,
                            unknown,
                            format!(
                                "{what} names the unknown runtime `{}` among its runtimes with wheels",
                                show(unknown)
                            ),
                        ));
                    }
                    if let Some(sdist) = &gap.sdist {
                        let file = FileCheck { package, version: &version, what, place };
                        file.check(&check, sdist, false, &indexes, &find_links, &inputs.sources)?;
                    }
                }
                _ => {
                    return Err(check.fail(
                        place,
                        &entry.target,
                        format!("{what} on {} must have exactly one of a `wheel`, a `gap` and a `built`", entry.target),
                    ));
                }
            }
        }
    }
    // Since version 3 every extra an edge names is recorded on its package (possibly with no
    // edges of its own): an edge naming another extra would be followed into nothing.
    let extras_recorded = lock.version >= 3;
    // `needle` finds the error's line: the edge itself, or for a member's edge the member's key
    // (two members may have the same edge).
    let edge_target = |place: Place,
                       needle: &str,
                       edge: &str,
                       (target, group): (&str, Option<&str>),
                       from: &dyn Fn() -> String|
     -> Result<(), LockError> {
        let name = parse_edge(edge).map_err(|message| check.fail(place, needle, format!("{}: {message}", from())))?;
        let Some(&index) = on_target.get(&(name, target, group)) else {
            return Err(check.fail(
                place,
                needle,
                format!(
                    "{} depends on `{}`, which the lock does not have on {target}{}",
                    from(),
                    show(edge),
                    in_group(group)
                ),
            ));
        };
        if extras_recorded {
            let entry = lock.packages[index]
                .per_target
                .iter()
                .find(|entry| entry.target == target && entry.group.as_deref() == group);
            for extra in super::requirement_extras(edge) {
                if !entry.is_some_and(|entry| entry.extras.contains_key(extra)) {
                    return Err(check.fail(
                        place,
                        needle,
                        format!(
                            "{} depends on `{}`, but `{name}` on {target} has no extra `{}` in its `extras`",
                            from(),
                            show(edge),
                            show(extra)
                        ),
                    ));
                }
            }
        }
        Ok(())
    };
    // Package edges, the package's own and each extra's.
    for (index, package) in lock.packages.iter().enumerate() {
        for (nth, entry) in package.per_target.iter().enumerate() {
            let place = Place::Entry(index, nth);
            let from = || format!("package `{} {}`", package.name, package.version);
            for edge in &entry.dependencies {
                edge_target(place, edge, edge, (&entry.target, entry.group.as_deref()), &from)?;
            }
            for (extra, edges) in &entry.extras {
                if !is_normalized_name(extra) {
                    return Err(check.fail(
                        place,
                        extra,
                        format!("{} has an extra `{}`, which is not a normalized name", from(), show(extra)),
                    ));
                }
                let from = || format!("package `{} {}` with extra `{extra}`", package.name, package.version);
                for edge in edges {
                    edge_target(place, edge, edge, (&entry.target, entry.group.as_deref()), &from)?;
                }
            }
        }
    }

    // [[target]] members: exactly the members of the inputs that deploy there, each with an edge
    // for each of its requirements that applies there, and no other.
    for (index, locked) in lock.targets.iter().enumerate() {
        let place = Place::Target(index);
        let target = &target_facts[locked.name.as_str()];
        let expected: BTreeSet<&str> =
            members.iter().filter(|(_, member)| member.targets.contains(&locked.name)).map(|(key, _)| *key).collect();
        for key in locked.members.keys() {
            check_member_key(key).map_err(|message| check.fail(place, key, message))?;
            if !expected.contains(key.as_str()) {
                return Err(check.fail(
                    place,
                    key,
                    format!(
                        "target {} has member `{}`, which `[inputs.members]` does not deploy there",
                        locked.name,
                        show(key)
                    ),
                ));
            }
        }
        for key in &expected {
            let Some(edges) = locked.members.get(*key) else {
                return Err(check.fail(
                    place,
                    &locked.name,
                    format!("target {} has no entry for `{key}`", locked.name),
                ));
            };
            let member = &members[key];
            // The extras the member's requirements that apply here ask of each package: since
            // version 3 an edge's extras decide what the member's zip holds, so they are the
            // requirements' own, neither more nor fewer.
            let mut asked: HashMap<String, BTreeSet<String>> = HashMap::new();
            for requirement in &member.requirements {
                if requirement.evaluate_markers(&target.markers, &[]) {
                    asked
                        .entry(requirement.name.to_string())
                        .or_default()
                        .extend(requirement.extras.iter().map(|extra| normalize_name(extra.as_ref())));
                }
            }
            let mut named = HashSet::new();
            for edge in edges {
                let name = parse_edge(edge).map_err(|message| check.fail(place, key, format!("`{key}`: {message}")))?;
                if !member.names.contains(name) {
                    return Err(check.fail(
                        place,
                        key,
                        format!(
                            "`{key}` on {} depends on `{}`, which none of its requirements names",
                            locked.name,
                            show(edge)
                        ),
                    ));
                }
                if extras_recorded {
                    let extras: BTreeSet<String> = super::requirement_extras(edge).map(str::to_string).collect();
                    let wanted = asked.get(name);
                    if wanted != Some(&extras) {
                        let wanted = match wanted {
                            None => format!("nothing of `{name}` on {}", locked.name),
                            Some(wanted) if wanted.is_empty() => format!("`{name}` without extras"),
                            Some(wanted) => format!(
                                "`{name}` with the extras {}",
                                wanted.iter().map(|extra| format!("`{extra}`")).collect::<Vec<_>>().join(", ")
                            ),
                        };
                        return Err(check.fail(
                            place,
                            key,
                            format!(
                                "`{key}` on {} depends on `{}`, but its requirements ask for {wanted}",
                                locked.name,
                                show(edge)
                            ),
                        ));
                    }
                }
                edge_target(place, key, edge, (&locked.name, locked.group_of(key)), &|| format!("`{key}`"))?;
                named.insert(name);
            }
            for requirement in &member.requirements {
                let name = requirement.name.as_ref();
                if requirement.evaluate_markers(&target.markers, &[]) && !named.contains(name) {
                    return Err(check.fail(
                        place,
                        key,
                        format!("`{key}` requires `{name}`, but has no dependency edge to it on {}", locked.name),
                    ));
                }
            }
        }
    }

    // Every package a member's constraint names is, where the constraint applies, a version the
    // constraint allows: a lock from an untrusted change must not install what `-c` excludes.
    for locked in &lock.targets {
        let target = &target_facts[locked.name.as_str()];
        for (key, member) in members.iter().filter(|(_, member)| member.targets.contains(&locked.name)) {
            for constraint in &member.constraints {
                let Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) = &constraint.version_or_url else {
                    continue;
                };
                if !constraint.evaluate_markers(&target.markers, &[]) {
                    continue;
                }
                let name = normalize_name(constraint.name.as_ref());
                // The constraint binds the member's own resolution group only.
                let group = locked.group_of(key);
                let Some(&index) = on_target.get(&(name.as_str(), locked.name.as_str(), group)) else { continue };
                let package = &lock.packages[index];
                let allowed = Version::from_str(&package.version).is_ok_and(|version| specifiers.contains(&version));
                if !allowed {
                    let nth = package
                        .per_target
                        .iter()
                        .position(|entry| entry.target == locked.name && entry.group.as_deref() == group)
                        .unwrap_or(0);
                    return Err(check.fail(
                        Place::Entry(index, nth),
                        &locked.name,
                        format!(
                            "{} on {} is outside the constraint `{}` of `{key}`",
                            What(&package.name, &package.version),
                            locked.name,
                            show(&constraint.to_string())
                        ),
                    ));
                }
            }
        }
    }

    // Since version 3 (whose edges keep extras apart), every package of a target is reached from
    // its members: one that nothing reaches is what is left when an edge was removed, and no zip
    // would hold it, silently.
    if extras_recorded {
        for locked in &lock.targets {
            for (group, _) in locked.group_members() {
                let reached = lock.closure(&locked.name, group);
                for (index, package) in lock.packages.iter().enumerate() {
                    let Some(nth) = package
                        .per_target
                        .iter()
                        .position(|entry| entry.target == locked.name && entry.group.as_deref() == group)
                    else {
                        continue;
                    };
                    if !reached.contains(&package.name) {
                        let whom = if group.is_some() { "a member of its group" } else { "a member there" };
                        return Err(check.fail(
                            Place::Entry(index, nth),
                            group.unwrap_or(&locked.name),
                            format!(
                                "{} on {}{} is reached by no dependency edge of {whom}",
                                What(&package.name, &package.version),
                                locked.name,
                                in_group(group)
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// ` in group `function.api`` for a named group, nothing for the unified one.
fn in_group(group: Option<&str>) -> String {
    group.map_or(String::new(), |group| format!(" in group `{}`", show(group)))
}

/// A group as messages name it.
fn group_name(group: Option<&str>) -> String {
    match group {
        Some(group) => format!("group `{}`", show(group)),
        None => "the unified group".to_string(),
    }
}

/// The groups of each `[[target]]` are exactly those the inputs make: each member of the target
/// in the group [`resolution_groups`] puts it in, no member twice, and no other group. (Run
/// after the members are checked against the inputs' keys; a member the inputs do not deploy
/// there is reported by the member check.)
fn groups(
    lock: &Lock,
    check: &Checker,
    mode: ResolutionMode,
    members: &HashMap<&str, MemberFacts>,
) -> Result<(), LockError> {
    for (index, locked) in lock.targets.iter().enumerate() {
        let place = Place::Groups(index);
        let mut deployed: Vec<GroupingMember> = Vec::new();
        for (key, member) in members {
            if !member.targets.contains(&locked.name) {
                continue;
            }
            let Some(id) = MemberId::from_key(key) else { continue };
            let function = id.kind == MemberKind::Function;
            deployed.push(GroupingMember {
                id,
                layers: if function { member.layers.clone() } else { Vec::new() },
                isolated: function && member.isolated,
            });
        }
        deployed.sort_by(|a, b| a.id.cmp(&b.id));
        let expected = resolution_groups(mode, &deployed);
        let mut seen: HashSet<&str> = HashSet::new();
        for (name, listed) in &locked.groups {
            if !expected.iter().any(|group| group.name.as_deref() == Some(name.as_str())) {
                return Err(check.fail(
                    place,
                    name,
                    format!(
                        "target {} has the group `{}`, which the inputs (resolution `{}`) do not make",
                        locked.name,
                        show(name),
                        mode.as_str()
                    ),
                ));
            }
            for member in listed {
                if !seen.insert(member) {
                    return Err(check.fail(
                        place,
                        member,
                        format!("`{}` is in more than one group on {}", show(member), locked.name),
                    ));
                }
                if !locked.members.contains_key(member) {
                    return Err(check.fail(
                        place,
                        member,
                        format!(
                            "group `{}` on {} lists `{}`, which is not a member of the target",
                            show(name),
                            locked.name,
                            show(member)
                        ),
                    ));
                }
            }
        }
        for group in &expected {
            for member in &group.members {
                let key = member.key();
                if !locked.members.contains_key(&key) {
                    // A member missing from the target: the member check below names it.
                    continue;
                }
                let found = locked.group_of(&key);
                if found != group.name.as_deref() {
                    return Err(check.fail(
                        place,
                        found.unwrap_or(&key),
                        format!(
                            "`{key}` is in {} on {}, but with resolution `{}` it is resolved in {}",
                            group_name(found),
                            locked.name,
                            mode.as_str(),
                            group_name(group.name.as_deref())
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Each `[[target]]`, checked against `[inputs.targets]`, by name.
fn targets<'a>(lock: &'a Lock, check: &Checker) -> Result<HashMap<&'a str, TargetFacts>, LockError> {
    let mut facts = HashMap::new();
    for (index, locked) in lock.targets.iter().enumerate() {
        let place = Place::Target(index);
        let Some(recorded) = lock.inputs.targets.get(&locked.name) else {
            return Err(check.fail(
                place,
                &locked.name,
                format!("target `{}` is not in `[inputs.targets]`", show(&locked.name)),
            ));
        };
        let (runtime, architecture, version) =
            python_version_for(&locked.name, &locked.python_full_version).map_err(|message| {
                let needle =
                    if parse_target_name(&locked.name).is_some() { &locked.python_full_version } else { &locked.name };
                check.fail(place, needle, message)
            })?;
        let disagreement = if locked.runtime != runtime.name {
            Some(("runtime", &locked.runtime))
        } else if locked.architecture != architecture.as_str() {
            Some(("architecture", &locked.architecture))
        } else if *recorded != locked.python_full_version {
            Some(("python-full-version", &locked.python_full_version))
        } else {
            None
        };
        if let Some((field, value)) = disagreement {
            return Err(check.fail(
                place,
                value,
                format!("the `{field}` of target `{}` disagrees with its name or with `[inputs.targets]`", locked.name),
            ));
        }
        if facts.contains_key(locked.name.as_str()) {
            return Err(check.fail(place, &locked.name, format!("target `{}` is given twice", locked.name)));
        }
        let target = Target::new(runtime, architecture, Some(version));
        facts.insert(locked.name.as_str(), TargetFacts { markers: target.markers, tags: target.tags });
    }
    if let Some(missing) = lock.inputs.targets.keys().find(|name| !facts.contains_key(name.as_str())) {
        return Err(check.fail(
            Place::Inputs,
            missing,
            format!("`[inputs.targets]` has `{}`, but there is no `[[target]]` for it", show(missing)),
        ));
    }
    Ok(facts)
}

/// What the checks need of a target: its markers, and its wheel tags (a lock may come from an
/// untrusted change, so that the resolver chose among them proves nothing; building them costs
/// well under a millisecond per target).
struct TargetFacts {
    markers: MarkerEnvironment,
    tags: Arc<TagSet>,
}

/// The runtime, architecture and Python version of a target name and version, checked together.
fn python_version_for(name: &str, version: &str) -> Result<(Runtime, Architecture, Version), String> {
    let Some((runtime, architecture)) = parse_target_name(name) else {
        return Err(format!("`{}` is not a target name (`RUNTIME-ARCH`, e.g. `python3.12-arm64`)", show(name)));
    };
    let parsed = Version::from_str(version)
        .ok()
        .filter(|parsed| parsed.release().len() >= 2 && parsed.release()[..2] == [3, u64::from(runtime.minor)]);
    match parsed {
        Some(parsed) => Ok((runtime, architecture, parsed)),
        None => Err(format!("`{}` is not a Python version of {}", show(version), runtime.name)),
    }
}

/// A member key: `function.NAME` or `layer.NAME` with a valid member name.
fn check_member_key(key: &str) -> Result<MemberId, String> {
    MemberId::from_key(key).filter(|member| is_valid_member_name(&member.name)).ok_or_else(|| {
        format!(
            "`{}` is not a member key (`function.NAME` or `layer.NAME`, with letters, digits, `-` and `_`)",
            show(key)
        )
    })
}

/// A package, as errors name it: `package `idna 3.7``.
#[derive(Clone, Copy)]
struct What<'a>(&'a str, &'a str);

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            "" => write!(f, "package `{}`", show(self.0)),
            version => write!(f, "package `{} {}`", show(self.0), show(version)),
        }
    }
}

/// What is needed to check one file of a package.
struct FileCheck<'a> {
    package: &'a LockedPackage,
    version: &'a Version,
    what: What<'a>,
    place: Place,
}

impl FileCheck<'_> {
    fn check(
        &self,
        check: &Checker,
        file: &LockedFile,
        wheel: bool,
        indexes: &HashMap<&str, (Url, bool)>,
        find_links: &HashMap<&str, &str>,
        sources: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), LockError> {
        let (what, place) = (self.what, self.place);
        let filename = &file.filename;
        let fail = |message: String| check.fail(place, filename, format!("{what}: {message}"));
        if filename.is_empty()
            || filename.len() > 255
            || filename.contains(['/', '\\', '\0'])
            || filename.contains("..")
            || filename.chars().any(char::is_control)
        {
            return Err(fail(format!("`{}` is not a bare file name", show(filename))));
        }
        if wheel {
            let parsed = WheelFilename::parse(filename).map_err(|err| fail(err.to_string()))?;
            if parsed.name != self.package.name || parsed.version != *self.version {
                return Err(fail(format!("the wheel `{}` is not of this package and version", show(filename))));
            }
        } else if parse_sdist_filename(filename, &self.package.name).as_ref() != Some(self.version) {
            return Err(fail(format!("`{}` is not a source distribution of this package and version", show(filename))));
        }
        if !is_sha256(&file.sha256) {
            return Err(check.fail(
                place,
                &file.sha256,
                format!("{what}: the sha256 of `{filename}` is `{}`, not 64 lowercase hex digits", show(&file.sha256)),
            ));
        }
        if file.size == 0 || file.size > MAX_FILE_SIZE {
            return Err(check.fail(
                place,
                &format!("size = {}", file.size),
                format!("{what}: `{filename}` has an implausible size of {} bytes", file.size),
            ));
        }
        let url_fail = |message: String| check.fail(place, &file.url, format!("{what}: {message}"));
        // A find-links file: exactly one of the files the resolution saw there (checked first:
        // an absolute Windows path such as `C:/wheels/x.whl` parses as a URL).
        if find_links.get(file.url.as_str()) == Some(&file.sha256.as_str()) {
            return Ok(());
        }
        match Url::parse(&file.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                // The index that serves the package; a package locked from find-links on one
                // target may still come from an index on another, which is then the one it is
                // pinned to or any index searched by default.
                // Same scheme, host and port as the index is the common case of the rule.
                let allowed = |index: &(Url, bool)| {
                    (index.0.scheme() == url.scheme()
                        && index.0.host() == url.host()
                        && index.0.port_or_known_default() == url.port_or_known_default())
                        || file_url_allowed(&index.0, None, &url)
                };
                let ok = match indexes.get(self.package.source.as_str()) {
                    Some(index) => allowed(index),
                    None => match sources.get(&self.package.name) {
                        Some(pinned) => indexes.get(pinned.as_str()).is_some_and(allowed),
                        None => indexes.values().any(|index| !index.1 && allowed(index)),
                    },
                };
                if !ok {
                    return Err(url_fail(format!(
                        "`{}` is not on index `{}`, which serves this package",
                        show(&crate::model::redact(&file.url)),
                        show(&self.package.source)
                    )));
                }
            }
            Ok(url) => {
                return Err(url_fail(format!(
                    "`{}` has the URL scheme `{}`; lbuild fetches files over http(s) or from find-links directories",
                    show(filename),
                    show(url.scheme())
                )));
            }
            Err(_) => {
                return Err(url_fail(format!(
                    "`{}` is not one of the find-links files in `[inputs] find-links` (with this sha256)",
                    show(&file.url)
                )));
            }
        }
        Ok(())
    }
}

/// The normalized package name of an edge such as `requests[socks]>=2,<3`, once the edge is
/// checked to be a name, optional extras and optional version specifiers.
pub(super) fn parse_edge(edge: &str) -> Result<&str, String> {
    let name = requirement_name(edge);
    if !is_normalized_name(name) {
        return Err(format!("the dependency `{}` does not start with a normalized package name", show(edge)));
    }
    let mut rest = &edge[name.len()..];
    if let Some(after) = rest.strip_prefix('[') {
        let Some((extras, tail)) = after.split_once(']') else {
            return Err(format!("the dependency `{}` has an unclosed `[`", show(edge)));
        };
        if !extras.split(',').all(is_valid_name) {
            return Err(format!("the dependency `{}` has an invalid extra", show(edge)));
        }
        rest = tail;
    }
    if !rest.is_empty()
        && let Err(err) = VersionSpecifiers::from_str(rest)
    {
        return Err(format!("the dependency `{}` has invalid version specifiers: {err}", show(edge)));
    }
    Ok(name)
}

/// Whether `name` is a valid project name already in PEP 503 normal form.
fn is_normalized_name(name: &str) -> bool {
    is_valid_name(name)
        && !name.contains("--")
        && name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// Exactly 64 lowercase hex digits.
pub(crate) fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

/// A value from the lock as it may be shown: control characters escaped, long values cut.
pub(super) fn show(value: &str) -> String {
    let mut shown: String = value.chars().take(120).flat_map(|c| c.escape_debug()).collect();
    if value.chars().nth(120).is_some() {
        shown.push('…');
    }
    shown
}

/// The line of the first occurrence of `needle` in `place` (quoted, else bare), else of the
/// start of `place`.
fn locate(text: &str, place: Place, needle: &str) -> usize {
    let range = match place {
        Place::Entry(package, nth) => entry_block(text, package, nth).or_else(|| block(text, Place::Package(package))),
        Place::Groups(target) => groups_block(text, target).or_else(|| block(text, Place::Target(target))),
        _ => block(text, place),
    };
    let (start, end) = range.unwrap_or((0, text.len()));
    let region = &text[start..end];
    let found = if needle.is_empty() {
        None
    } else {
        // As TOML writes the string (quoted and escaped), else as it is.
        let mut basic = String::from('"');
        for c in needle.chars() {
            match c {
                '"' | '\\' => {
                    basic.push('\\');
                    basic.push(c);
                }
                c if c.is_control() => basic.push_str(&format!("\\u{:04X}", u32::from(c))),
                c => basic.push(c),
            }
        }
        basic.push('"');
        region.find(&basic).or_else(|| region.find(&format!("'{needle}'"))).or_else(|| region.find(needle))
    };
    let offset = start + found.unwrap_or(0);
    text[..offset].bytes().filter(|&byte| byte == b'\n').count() + 1
}

/// The byte range of `place`: from its header to the next top-level header.
fn block(text: &str, place: Place) -> Option<(usize, usize)> {
    #[derive(PartialEq)]
    enum Kind {
        Inputs,
        Target,
        Package,
        Other,
    }
    let mut headers = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let header = line.split('#').next().unwrap_or_default().trim();
        let kind = match header {
            "[inputs]" => Some(Kind::Inputs),
            "[[target]]" => Some(Kind::Target),
            "[[package]]" => Some(Kind::Package),
            _ if header.starts_with('[')
                && !["[inputs.", "[[inputs.", "[target.", "[[target.", "[package.", "[[package."]
                    .iter()
                    .any(|prefix| header.starts_with(prefix)) =>
            {
                Some(Kind::Other)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            headers.push((kind, offset));
        }
        offset += line.len();
    }
    let (kind, nth) = match place {
        Place::Inputs => (Kind::Inputs, 0),
        Place::Target(index) | Place::Groups(index) => (Kind::Target, index),
        Place::Package(index) | Place::Entry(index, _) => (Kind::Package, index),
    };
    let position = headers.iter().enumerate().filter(|(_, (k, _))| *k == kind).nth(nth)?.0;
    let start = headers[position].1;
    let end = headers.get(position + 1).map_or(text.len(), |(_, offset)| *offset);
    Some((start, end))
}

/// The byte range of the `[target.groups]` table of the target at `target`: from its header to
/// the next header or the end of the target. (Group names are member keys, which
/// `[target.members]` names too: an error about a group points at the group.)
fn groups_block(text: &str, target: usize) -> Option<(usize, usize)> {
    let (start, end) = block(text, Place::Target(target))?;
    let mut offset = start;
    let mut from = None;
    for line in text[start..end].split_inclusive('\n') {
        let header = line.split('#').next().unwrap_or_default().trim();
        if from.is_some() && header.starts_with('[') {
            return Some((from?, offset));
        }
        if header == "[target.groups]" {
            from = Some(offset);
        }
        offset += line.len();
    }
    from.map(|from| (from, end))
}

/// The byte range of the `nth` `[[package.target]]` table of the package at `package`: from its
/// header to the next one or the end of the package.
fn entry_block(text: &str, package: usize, nth: usize) -> Option<(usize, usize)> {
    let (start, end) = block(text, Place::Package(package))?;
    let mut headers = Vec::new();
    let mut offset = start;
    for line in text[start..end].split_inclusive('\n') {
        if line.split('#').next().unwrap_or_default().trim() == "[[package.target]]" {
            headers.push(offset);
        }
        offset += line.len();
    }
    let from = *headers.get(nth)?;
    Some((from, headers.get(nth + 1).copied().unwrap_or(end)))
}
