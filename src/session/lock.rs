//! Bringing a workspace's `lambda.lock` up to date: every command that reads the lock comes
//! through here, and `lbuild lock` is this and a report.
//!
//! An unchanged workspace is answered from the existing lock without touching the network or
//! rewriting the file. Otherwise every target is resolved in one run, in groups
//! ([`Workspace::groups`]: one for the whole target in unified mode, one per function and the
//! layers it shares in per-function mode), one solver thread per (target, group) and one shared
//! index client, keeping the existing pins unless an upgrade says otherwise; the lock is written
//! only when its text changed. Either way, the lock in effect must have the files the
//! requirements files' `--hash` options vouch for, in each member's own group.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;

use super::project_locks::{PinDifference, ProjectPins};
use super::{GlobalOptions, index_client, runtime};
use crate::cache::sha256_hex;
use crate::fsutil::{relative, write_if_changed};
use crate::index::{DistFile, IndexClient, redact};
use crate::lockfile::{
    IndexInputs, Inputs, LOCK_NAME, LOCK_VERSION, LocalInputs, Lock, LockedBuilt, LockedEnvWheel, LockedFile,
    LockedGap, LockedPackage, LockedTarget, MemberInputs, PackageTarget,
};
use crate::manifest::{MemberId, MemberKind, Workspace};
use crate::model::{Group, PATH_SOURCE, ResolutionMode};
use crate::output::{Progress, count, debug, status, warn_user};
use crate::python::wheel_name::normalize_name;
use crate::resolve::{Choice, ConstraintInput, RESOLVE_APART, Resolution, ResolveInput, resolve};

/// What locking did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    /// The lock matched the workspace; nothing was resolved or written.
    Fresh,
    /// Resolved; `written` is false when the result equals the existing file.
    /// `changes`: what moved against the lock that was there (empty for a first lock).
    Resolved { written: bool, packages: usize, gaps: usize, changes: Vec<crate::lockfile::PinChange> },
}

/// How to bring a lock up to date.
#[derive(Debug, Clone, Default)]
pub(crate) struct Relock {
    pub global: GlobalOptions,
    /// Ignore every existing pin.
    pub upgrade: bool,
    /// Ignore the pins of these packages.
    pub upgrade_packages: Vec<String>,
    /// An existing lock that does not validate is set aside with a warning and resolved anew
    /// (`lbuild lock` without `--locked`); otherwise it is an error, since commands that only
    /// read the lock must not paper over tampering.
    pub regenerate: bool,
}

impl Relock {
    /// Relock if stale, with these flags, keeping every pin.
    pub fn new(global: &GlobalOptions) -> Relock {
        Relock { global: global.clone(), ..Relock::default() }
    }
}

/// The path of the lock of a workspace: beside its manifest and named after it, so
/// `lambda.prod.toml` is locked in `lambda.prod.lock` and per-environment manifests never share
/// a lock. (`lambda.toml` gives `lambda.lock`.)
pub fn lock_path(workspace: &Workspace) -> PathBuf {
    workspace.root.join(lock_name(&workspace.manifest_path))
}

/// `lbuild lock`, with `--manifest-path` when the workspace's manifest is not `lambda.toml` (the
/// command to run again, for hints).
pub(crate) fn lock_command(workspace: &Workspace) -> String {
    let cwd = crate::fsutil::absolute_normalized(&std::env::current_dir().unwrap_or_default());
    let manifest = crate::fsutil::absolute_normalized(&workspace.manifest_path);
    // `lbuild lock` alone finds this manifest only when it is the `lambda.toml` of the current
    // directory or one above it.
    let found = manifest.file_name().is_some_and(|name| name == "lambda.toml")
        && manifest.parent().is_some_and(|dir| cwd.starts_with(dir));
    if found {
        return "lbuild lock".to_string();
    }
    let shown = crate::fsutil::relative(&cwd, &manifest);
    let plain = shown.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c));
    let shown = if plain { shown } else { format!("'{}'", shown.replace('\'', "'\\''")) };
    format!("lbuild --manifest-path {shown} lock")
}

/// `lambda.lock` for `lambda.toml`, `X.lock` for `X.toml`, `X.lock` for a manifest named `X`.
fn lock_name(manifest_path: &std::path::Path) -> String {
    let name = manifest_path.file_name().and_then(|name| name.to_str()).unwrap_or("lambda.toml");
    match name.strip_suffix(".toml") {
        Some(stem) if !stem.is_empty() => format!("{stem}.lock"),
        _ if name == "lambda.toml" || name.is_empty() => LOCK_NAME.to_string(),
        _ => format!("{name}.lock"),
    }
}

/// The inputs a lock of this workspace depends on.
fn inputs(workspace: &Workspace, project: &ProjectPins) -> miette::Result<Inputs> {
    let targets = workspace.targets();
    let mut members: BTreeMap<String, MemberInputs> = BTreeMap::new();
    for (target, target_members) in &targets {
        for member in target_members {
            let function =
                workspace.functions.iter().find(|f| member.kind == MemberKind::Function && f.name == member.name);
            let entry = members.entry(member.key()).or_insert_with(|| MemberInputs {
                targets: Vec::new(),
                requirements: workspace.requirements(member).iter().map(ToString::to_string).collect(),
                constraints: workspace
                    .constraints(member)
                    .iter()
                    .map(|constraint| constraint.requirement.to_string())
                    .collect(),
                layers: function.map(|function| function.layers.clone()).unwrap_or_default(),
                isolated: function.is_some_and(|function| function.isolated),
            });
            entry.targets.push(target.name());
        }
    }
    let mut find_links = Vec::new();
    for dir in &workspace.find_links {
        let mut entries: Vec<_> = fs_err::read_dir(dir)
            .map_err(|err| {
                miette::miette!(
                    help = "`find-links` in lambda.toml names directories of wheels, relative to lambda.toml",
                    "cannot read the find-links directory: {err}"
                )
            })?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !(name.ends_with(".whl") || name.ends_with(".tar.gz") || name.ends_with(".zip")) {
                continue;
            }
            let bytes = fs_err::read(&path).map_err(|err| miette::miette!("cannot read a find-links file: {err}"))?;
            find_links.push(format!("{} sha256:{}", relative(&workspace.root, &path), sha256_hex(&bytes)));
        }
    }
    Ok(Inputs {
        fingerprint: String::new(),
        indexes: workspace
            .indexes()
            .iter()
            .map(|index| IndexInputs {
                name: index.name.clone(),
                url: redact(&index.url),
                api: index.api.as_str().to_string(),
                explicit: index.explicit,
            })
            .collect(),
        sources: workspace.sources.clone(),
        find_links,
        prerelease: workspace.prerelease.as_str().to_string(),
        resolution: workspace.resolution.as_str().to_string(),
        targets: targets.iter().map(|(target, _)| (target.name(), target.python_full_version.to_string())).collect(),
        members,
        local: workspace
            .local_packages
            .iter()
            .map(|(name, local)| {
                let inputs = LocalInputs {
                    path: local.path.clone(),
                    version: local.version.to_string(),
                    dependencies: local.requires_dist.iter().map(ToString::to_string).collect(),
                    requires_python: local.requires_python.as_ref().map(ToString::to_string),
                };
                (name.clone(), inputs)
            })
            .collect(),
        project_locks: project.inputs(workspace),
        build_sdists: (!workspace.build_sdists).then(|| "never".to_string()),
        native_builder: workspace.native_builder.as_ref().map(|builder| builder.template.clone()),
    }
    .seal())
}

/// Lock a loaded workspace; returns the lock in effect afterwards.
pub(crate) fn lock_workspace(workspace: &Workspace, options: &Relock) -> miette::Result<(Lock, LockOutcome)> {
    lock_workspace_reporting(workspace, options).map(|(lock, outcome, _)| (lock, outcome))
}

/// [`lock_workspace`], also returning every package whose locked version differs from the pin
/// of a project lock (`uv.lock`, ...), with the reason when this run resolved it (and warned).
pub(crate) fn lock_workspace_reporting(
    workspace: &Workspace,
    options: &Relock,
) -> miette::Result<(Lock, LockOutcome, Vec<PinDifference>)> {
    let regenerate = options.regenerate;
    let path = lock_path(workspace);
    let project = ProjectPins::load(workspace)?;
    let inputs = inputs(workspace, &project)?;
    let existing = match Lock::read(&path) {
        Ok(existing) => existing,
        Err(err) if regenerate && err.is_invalid() && options.global.locked_flag().is_none() => {
            warn_user!("{err}; resolving again without its pins, and replacing it");
            None
        }
        Err(err) => return Err(err.into()),
    };
    let upgrading = options.upgrade || !options.upgrade_packages.is_empty();
    if let Some(existing) = &existing {
        let reasons = existing.stale_reasons(&inputs);
        if reasons.is_empty() && !upgrading {
            check_hashes(workspace, existing)?;
            let differences = project.differences(workspace, existing, &[]);
            project.check(&differences)?;
            return Ok((existing.clone(), LockOutcome::Fresh, differences));
        }
        if let Some(flag) = options.global.locked_flag() {
            let what = if reasons.is_empty() { vec!["an upgrade was requested".to_string()] } else { reasons };
            miette::bail!(
                help = format!("run `{}` without `{flag}` to update it", lock_command(workspace)),
                "the lock file `{}` needs to be updated, but `{flag}` was passed:\n{}",
                path.display(),
                what.iter().map(|reason| format!("  - {reason}")).collect::<Vec<_>>().join("\n")
            );
        }
    } else if let Some(flag) = options.global.locked_flag() {
        miette::bail!(
            help = format!("run `{}` without `{flag}` to create it", lock_command(workspace)),
            "there is no `{}` in `{}`, and `{flag}` was passed",
            path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default(),
            workspace.root.display()
        );
    }

    let upgrade_packages: BTreeSet<String> = options.upgrade_packages.iter().map(|name| normalize_name(name)).collect();
    if let Some(existing) = &existing {
        let locked: BTreeSet<String> = existing.packages.iter().map(|package| normalize_name(&package.name)).collect();
        if let Some(missing) = upgrade_packages.iter().find(|name| !locked.contains(*name)) {
            miette::bail!(
                help = "check the spelling against the lock; a package not locked yet gets the newest version anyway",
                "`--upgrade-package {}`: `{missing}` is not in `{}`",
                options.upgrade_packages.iter().find(|name| normalize_name(name) == *missing).unwrap_or(missing),
                path.display()
            );
        }
    }
    let runtime = runtime()?;
    let client = Arc::new(index_client(workspace, options.global.offline_flag().is_some())?);
    let targets = workspace.targets();
    // One resolution per (target, group).
    let jobs: Vec<(&crate::platform::Target, Group)> = targets
        .iter()
        .flat_map(|(target, members)| workspace.groups(members).into_iter().map(move |group| (target, group)))
        .collect();
    let started = std::time::Instant::now();
    let what = if jobs.len() == targets.len() {
        count(targets.len(), "target")
    } else {
        format!("{} in {}", count(targets.len(), "target"), count(jobs.len(), "group"))
    };
    let builder = sdist_builder(workspace, &options.global, &client, &runtime, existing.as_ref())?;
    let progress = Progress::spinner(format!("Resolving {what}"));
    let resolutions: Vec<Resolution> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(target, group)| {
                let keys: Vec<String> = group.members.iter().map(MemberId::key).collect();
                let preferences: HashMap<String, Version> = match (&existing, options.upgrade) {
                    (Some(lock), false) => lock
                        .pins(&target.name(), &keys)
                        .into_iter()
                        .filter(|(name, _)| !upgrade_packages.contains(name))
                        .filter_map(|(name, version)| Some((name, Version::from_str(&version).ok()?)))
                        .collect(),
                    _ => HashMap::new(),
                };
                let input = ResolveInput {
                    target: (*target).clone(),
                    members: group.members.iter().map(|m| (m.clone(), workspace.requirements(m).to_vec())).collect(),
                    preferences,
                    project_pins: project.for_target(target, &group.members),
                    prerelease: workspace.prerelease,
                    constraints: group
                        .members
                        .iter()
                        .flat_map(|member| {
                            workspace.constraints(member).iter().map(|constraint| ConstraintInput {
                                member: member.clone(),
                                requirement: constraint.requirement.clone(),
                                origin: constraint.origin.describe_in(&workspace.root),
                            })
                        })
                        .collect(),
                    hashes: hashes(workspace, &group.members),
                    local: workspace.local_packages.clone(),
                    way_out: way_out(workspace, group),
                };
                let client = client.clone();
                let handle = runtime.handle().clone();
                let builder = builder.clone();
                scope.spawn(move || resolve(input, client, handle, builder))
            })
            .collect();
        while progress.is_drawn() && !handles.iter().all(|handle| handle.is_finished()) {
            let done = handles.iter().filter(|handle| handle.is_finished()).count();
            progress.set_message(format!("Resolving {what} ({done} done, {} index requests)", client.requests()));
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        handles
            .into_iter()
            .map(|handle| handle.join().expect("resolver thread does not panic"))
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|err| not_found_in(workspace, err))?;

    // PEP 592: choosing a yanked version (a member pins it) warrants a warning with the reason.
    let mut yanked: Vec<_> = resolutions.iter().flat_map(|resolution| resolution.yanked.iter()).collect();
    yanked.sort();
    yanked.dedup();
    for (name, version, reason) in yanked {
        let reason = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
        warn_user!("`{name}=={version}` is yanked{reason}; locked because a function or layer pins it with `==`");
    }
    let mut unknown: Vec<_> = resolutions.iter().flat_map(|resolution| resolution.unknown_extras.iter()).collect();
    unknown.sort();
    unknown.dedup();
    for (name, version, extra) in unknown {
        warn_user!(
            "`{name} {version}` does not provide the extra `{extra}`, so `{name}[{extra}]` adds nothing; check the spelling against the extras the package lists"
        );
    }
    let grouped: Vec<(Option<&str>, &Resolution)> =
        jobs.iter().map(|(_, group)| group.name.as_deref()).zip(&resolutions).collect();
    let lock = runtime.block_on(build_lock(workspace, &client, inputs, &grouped))?;
    drop(progress);
    // A `--hash` the new lock's files do not match is an error before anything is written.
    check_hashes(workspace, &lock)?;
    let differences = project.differences(workspace, &lock, &resolutions);
    project.check(&differences)?;
    for difference in &differences {
        warn_user!("{}", difference.message());
    }
    let text = lock.to_toml();
    // What is written must be what every later command accepts: a resolution the reader would
    // refuse is not written (and is lbuild's own fault).
    if let Err(err) = Lock::parse(&text, &path) {
        miette::bail!(
            help = "this is a bug in lbuild; please report it with your lambda.toml",
            "the resolution does not make a lock lbuild can read, so `{}` was not written: {err}",
            path.display()
        );
    }
    let written = write_if_changed(&path, text.as_bytes())
        .map_err(|err| miette::miette!("cannot write `{}`: {err}", path.display()))?;
    debug!("{} HTTP requests", client.requests());
    let changes = existing.as_ref().map(|existing| crate::lockfile::changes(existing, &lock)).unwrap_or_default();
    for change in &changes {
        status!(change.verb(), "{}", change.describe(lock.targets.len()));
    }
    let gaps = report_gaps(workspace, &lock)?;
    let packages = lock.package_count();
    status!(
        if written { "Locked" } else { "Checked" },
        "{} for {} in {:.2}s{}",
        count(packages, "package"),
        count(lock.targets.len(), "target"),
        started.elapsed().as_secs_f64(),
        if written { "" } else { " (lock unchanged)" }
    );
    Ok((lock, LockOutcome::Resolved { written, packages, gaps, changes }, differences))
}

/// A package no index has, said with the indexes that were asked and what to do: a typo, a
/// private package whose index is not configured, or (when nothing a member requires was found)
/// an index URL that is not a simple API root.
fn not_found_in(workspace: &Workspace, err: crate::resolve::ResolveError) -> miette::Report {
    let crate::resolve::ResolveError::NotFound { target, names, members, every_direct, report, suggestions } = err
    else {
        return err.into();
    };
    // Names pinned to one index were asked of that index alone.
    let pins: BTreeSet<&str> =
        names.iter().filter_map(|name| workspace.sources.get(name).map(String::as_str)).collect();
    let pinned_to = match (pins.len(), pins.first()) {
        (1, Some(index)) if names.iter().all(|name| workspace.sources.contains_key(name)) => Some(*index),
        _ => None,
    };
    let indexes: Vec<String> = workspace
        .indexes()
        .iter()
        .filter(|index| pinned_to.is_none_or(|pinned| index.name == pinned))
        .map(|index| format!("`{}`", crate::model::redact(&index.url)))
        .collect();
    let listed = names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    let whose = if members.is_empty() { "a dependency".to_string() } else { members.join(", ") };
    let place = match pinned_to {
        Some(crate::model::FIND_LINKS) => "in the find-links directories".to_string(),
        Some(_) => format!("on {}", indexes.join(", ")),
        None if workspace.find_links.is_empty() => format!("on {}", indexes.join(", ")),
        None => format!("on {} or the find-links directories", indexes.join(", ")),
    };
    let meant: Vec<String> =
        suggestions.iter().map(|(name, meant)| format!("did you mean `{meant}` (for `{name}`)?")).collect();
    let meant = match (names.len(), suggestions.first()) {
        (1, Some((_, meant))) => format!("; did you mean `{meant}`?"),
        _ if meant.is_empty() => String::new(),
        _ => format!("; {}", meant.join(" ")),
    };
    let hint = if let Some(index) = pinned_to.filter(|index| *index != crate::model::FIND_LINKS) {
        format!(
            "`[workspace.sources]` pins {} to index `{index}`, so no other index was asked: check that index's \
             `url` (the root of its simple API) and its credentials",
            if names.len() == 1 { "it" } else { "them" }
        )
    } else if every_direct {
        "none of the packages the functions and layers require was found, so the index URL is the likely cause: \
         it must be the root of a simple API (PyPI's is `https://pypi.org/simple/`), or a JSON API such as \
         `https://pypi.org/pypi`; check `index-url` (and `LBUILD_INDEX_URL`)"
            .to_string()
    } else {
        "check the spelling; a private package needs its index in `[[workspace.index]]` (see \
         docs/guide/private-indexes.md)"
            .to_string()
    };
    miette::miette!(help = hint, "no package named {listed} {place} ({whose}, on {target}){meant}\n{report}")
}

/// The way out of a conflict in `group`, for the resolver's hint.
fn way_out(workspace: &Workspace, group: &Group) -> String {
    let functions: Vec<&str> = group
        .members
        .iter()
        .filter(|member| member.kind == MemberKind::Function)
        .map(|member| member.name.as_str())
        .collect();
    if group.name.is_none() {
        // Offered when resolving per function would split the members that disagree.
        let apart = workspace.groups_with(ResolutionMode::PerFunction, &group.members);
        return if apart.len() > 1 { RESOLVE_APART.to_string() } else { String::new() };
    }
    if functions.len() < 2 {
        return String::new();
    }
    // A named group of several functions: they share a layer (per-function mode).
    let shared: BTreeSet<&str> = group
        .members
        .iter()
        .filter(|member| member.kind == MemberKind::Layer)
        .map(|member| member.name.as_str())
        .filter(|layer| {
            workspace
                .functions
                .iter()
                .filter(|f| functions.contains(&f.name.as_str()) && f.layers.iter().any(|l| l == layer))
                .count()
                > 1
        })
        .collect();
    let shown = |names: &[&str]| names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    let shared: Vec<&str> = shared.into_iter().collect();
    let layers = if shared.len() == 1 { "the layer" } else { "the layers" };
    format!(
        "give the functions {} layers of their own: they share {layers} {}, and a layer is resolved together with \
         every function that uses it",
        shown(&functions),
        shown(&shared)
    )
}

/// Package -> the sha256 digests the `--hash` options of these members' requirements files
/// allow, for the resolver to choose among a version's wheels.
fn hashes(workspace: &Workspace, members: &[crate::model::MemberId]) -> HashMap<String, Vec<String>> {
    let mut hashes: HashMap<String, Vec<String>> = HashMap::new();
    for member in members {
        for pin in workspace.file_inputs(member).map(|inputs| inputs.hashes.as_slice()).unwrap_or_default() {
            hashes.entry(normalize_name(pin.requirement.name.as_ref())).or_default().extend(pin.sha256.iter().cloned());
        }
    }
    hashes
}

/// Check each `--hash` of the members' requirements files (pip's hash-checking) against the
/// file the lock installs for that package on every target the member deploys on, in the
/// member's own resolution group: a file other than the one the requirements file vouches for
/// is an error, whether the lock is new (`lbuild lock`) or in use (`--locked`, `build`, ...).
/// Constraint lines' hashes apply only where the package is locked.
fn check_hashes(workspace: &Workspace, lock: &Lock) -> miette::Result<()> {
    for (target, members) in workspace.targets() {
        let target_name = target.name();
        let locked = lock.target(&target_name);
        for member in &members {
            let Some(inputs) = workspace.file_inputs(member) else { continue };
            let group = locked.and_then(|locked| locked.group_of(&member.key()));
            for pin in &inputs.hashes {
                if !pin.requirement.evaluate_markers(&target.markers, &[]) {
                    continue;
                }
                let name = normalize_name(pin.requirement.name.as_ref());
                let listed = pin.sha256.iter().map(|hash| format!("sha256:{hash}")).collect::<Vec<_>>().join(", ");
                let Some((package, entry)) = lock.package_on(&name, &target_name, group) else {
                    if pin.constraint {
                        continue;
                    }
                    return Err(pin
                        .origin
                        .error(
                            format!("`{name}` has a `--hash`, but the lock has no `{name}` for {target_name}"),
                            "hash-checked requirement",
                            Some("run `lbuild lock` to lock it".into()),
                        )
                        .into());
                };
                let file = entry.wheel.as_ref().or_else(|| entry.gap.as_ref().and_then(|gap| gap.sdist.as_ref()));
                let Some(file) = file else {
                    return Err(pin
                        .origin
                        .error(
                            format!(
                                "`{name}` has a `--hash`, but the lock installs no file of `{name} {}` on {target_name} \
                                 (it is a vendoring gap without an sdist), so there is nothing to check",
                                package.version
                            ),
                            "hash-checked requirement",
                            Some(format!(
                                "see `lbuild gaps`; remove the `--hash` of `{name}` if the wheel you vendor is the one \
                                 you trust"
                            )),
                        )
                        .into());
                };
                if pin.sha256.iter().any(|hash| hash.eq_ignore_ascii_case(&file.sha256)) {
                    continue;
                }
                return Err(pin
                    .origin
                    .error(
                        format!(
                            "hash mismatch for `{name}`: on {target_name} the lock installs `{}` with sha256:{}, but \
                             the requirements file allows only {listed}",
                            file.filename, file.sha256
                        ),
                        "hash-checked requirement",
                        Some(format!(
                            "to lock a file the line allows, run `lbuild lock --upgrade-package {name}`; if `{}` is a \
                             file you trust (a new version, or another wheel of the same one), add \
                             `--hash=sha256:{}` to the line; if neither, the index serves a file other than the one \
                             that was hashed: find out why before building",
                            file.filename, file.sha256
                        )),
                    )
                    .into());
            }
        }
    }
    Ok(())
}

/// Warn about every gap a zip holds; returns how many (package, target) gaps there are.
fn report_gaps(workspace: &Workspace, lock: &Lock) -> miette::Result<usize> {
    let plan = crate::plan::BuildPlan::new(workspace, lock)?;
    let gaps = crate::plan::gaps::collect(&plan, lock);
    for gap in &gaps {
        warn_user!("`{}=={}` has no usable wheel for {}: {}", gap.package, gap.version, gap.target, gap.detail);
    }
    Ok(gaps.len())
}

/// The builder of wheels from sdists the resolutions share, with the existing lock's build
/// environments preferred (their cached wheels need no Python).
fn sdist_builder(
    workspace: &Workspace,
    global: &crate::session::GlobalOptions,
    client: &Arc<crate::index::IndexClient>,
    runtime: &tokio::runtime::Runtime,
    existing: Option<&Lock>,
) -> miette::Result<Option<Arc<crate::sdist::SdistBuilder>>> {
    let enabled = !global.no_build && workspace.build_sdists;
    let verbose = crate::output::verbosity() >= crate::output::Verbosity::Verbose;
    let settings =
        crate::sdist::BuildSettings::from_env(enabled, verbose).map_err(|message| miette::miette!("{message}"))?;
    let mut preferred = HashMap::new();
    let mut native_preferred = HashMap::new();
    for package in existing.map(|lock| lock.packages.as_slice()).unwrap_or_default() {
        for entry in &package.per_target {
            if let Some(built) = entry.built.as_ref().filter(|built| built.builder == "native") {
                let key = (normalize_name(&package.name), package.version.clone(), entry.target.clone());
                native_preferred.insert(key, built.content_sha256.clone());
            } else if let Some(built) = &entry.built {
                let env = built.build_env.iter().map(|wheel| (wheel.filename.clone(), wheel.sha256.clone())).collect();
                preferred.insert((normalize_name(&package.name), package.version.clone()), env);
            }
        }
    }
    Ok(Some(crate::sdist::SdistBuilder::new(
        settings,
        client.clone(),
        runtime.handle().clone(),
        workspace.root.clone(),
        preferred,
        workspace.native_builder.clone().map(|builder| (builder, native_preferred)),
    )))
}

async fn build_lock(
    workspace: &Workspace,
    client: &IndexClient,
    inputs: Inputs,
    resolutions: &[(Option<&str>, &Resolution)],
) -> miette::Result<Lock> {
    // Every file the lock names gets its sha256 and size, asking the index where it gave none.
    let mut files: Vec<&DistFile> = Vec::new();
    for (_, resolution) in resolutions {
        for package in resolution.packages.values() {
            match &package.choice {
                Choice::Wheel(file) => files.push(file),
                Choice::Gap { sdist: Some(file), .. } | Choice::Built { sdist: file, .. } => files.push(file),
                Choice::Gap { sdist: None, .. } | Choice::Local { .. } => {}
            }
        }
    }
    let completed = futures::future::join_all(files.iter().map(|file| client.complete(file))).await;
    let mut facts: HashMap<String, (String, u64)> = HashMap::new();
    for (file, result) in files.iter().zip(completed) {
        facts.insert(file.url.to_string(), result?);
    }
    let locked_file = |file: &DistFile| {
        let (sha256, size) = facts[file.url.as_str()].clone();
        let url = if file.url.scheme() == "file" {
            file.url
                .to_file_path()
                .map(|path| relative(&workspace.root, &path))
                .unwrap_or_else(|()| file.url.to_string())
        } else {
            // Credentials a link carried are not the lock's to keep, and a masked `****@` would
            // be sent as a user name: the lock keeps the bare URL, and a build authenticates
            // with the index's own credentials.
            let mut bare = file.url.clone();
            let _ = bare.set_username("");
            let _ = bare.set_password(None);
            bare.to_string()
        };
        LockedFile { filename: file.filename.clone(), url, sha256, size }
    };

    let mut packages: BTreeMap<(String, String), LockedPackage> = BTreeMap::new();
    let mut targets: BTreeMap<String, LockedTarget> = BTreeMap::new();
    for (group, resolution) in resolutions {
        let target_name = resolution.target.name();
        let locked = targets.entry(target_name.clone()).or_insert_with(|| LockedTarget {
            name: target_name.clone(),
            runtime: resolution.target.runtime.name.to_string(),
            architecture: resolution.target.architecture.as_str().to_string(),
            python_full_version: resolution.target.python_full_version.to_string(),
            members: BTreeMap::new(),
            groups: BTreeMap::new(),
        });
        locked.members.extend(
            resolution
                .members
                .iter()
                .map(|(member, dependencies)| (member.key(), dependencies.values().cloned().collect())),
        );
        if let Some(group) = group {
            locked.groups.insert(group.to_string(), resolution.members.keys().map(MemberId::key).collect());
        }
        for (name, package) in &resolution.packages {
            let mut built = None;
            let (wheel, gap, file) = match &package.choice {
                Choice::Local { .. } => (None, None, None),
                Choice::Wheel(file) => (Some(locked_file(file)), None, Some(file)),
                Choice::Built { sdist, built: wheel } => {
                    built = Some(LockedBuilt {
                        sdist: locked_file(sdist),
                        wheel: wheel.filename.clone(),
                        content_sha256: wheel.content_sha256.clone(),
                        builder: wheel.builder.to_string(),
                        build_env: wheel
                            .build_env
                            .iter()
                            .map(|(filename, sha256)| LockedEnvWheel {
                                filename: filename.clone(),
                                sha256: sha256.clone(),
                            })
                            .collect(),
                    });
                    (None, None, Some(sdist))
                }
                Choice::Gap { reason, detail, sdist, older_with_wheel, newer_with_wheel, runtimes_with_wheels } => (
                    None,
                    Some(LockedGap {
                        reason: reason.as_str().to_string(),
                        detail: detail.clone(),
                        older_with_wheel: older_with_wheel.as_ref().map(ToString::to_string),
                        newer_with_wheel: newer_with_wheel.as_ref().map(ToString::to_string),
                        sdist: sdist.as_ref().map(locked_file),
                        runtimes_with_wheels: runtimes_with_wheels.clone(),
                    }),
                    sdist.as_ref(),
                ),
            };
            let local_path = match &package.choice {
                Choice::Local { path } => Some(path.clone()),
                _ => None,
            };
            let source = match (file, &package.index) {
                _ if local_path.is_some() => PATH_SOURCE.to_string(),
                (Some(file), _) if file.url.scheme() == "file" => "find-links".to_string(),
                (_, Some(index)) => index.clone(),
                (_, None) => "find-links".to_string(),
            };
            let entry = packages.entry((name.clone(), package.version.to_string())).or_insert_with(|| LockedPackage {
                name: name.clone(),
                version: package.version.to_string(),
                source,
                path: local_path,
                targets: Vec::new(),
                per_target: Vec::new(),
            });
            if !entry.targets.contains(&target_name) {
                entry.targets.push(target_name.clone());
            }
            entry.per_target.push(PackageTarget {
                target: target_name.clone(),
                group: group.map(str::to_string),
                dependencies: package.dependencies.values().cloned().collect(),
                extras: package
                    .extras
                    .iter()
                    .map(|(extra, edges)| (extra.clone(), edges.values().cloned().collect()))
                    .collect(),
                wheel,
                gap,
                built,
            });
        }
    }
    let any_built = packages.values().any(|package| package.per_target.iter().any(|entry| entry.built.is_some()));
    Ok(Lock {
        version: if any_built { crate::lockfile::BUILT_LOCK_VERSION } else { LOCK_VERSION },
        inputs,
        targets: targets.into_values().collect(),
        packages: packages.into_values().collect(),
    })
}
