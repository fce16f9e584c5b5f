//! The build plan: which zips the workspace deploys and exactly which packages each one holds.
//!
//! This is the one place that decides what goes into a zip, so that `lbuild build`, the size
//! check, `lbuild gaps`, `lbuild tree`, `lbuild export` and the lock's report all say the same
//! thing. For each member (function or layer) and each target it deploys on:
//!
//! 1. the closure of the member's requirements in the lock, within the resolution group the
//!    member belongs to on that target (per-function resolution: one target may hold a package
//!    at two versions, one per group), following an extra's edges only from an edge that names
//!    the extra (`web[speed]`), transitively ([`Graph::closure`]);
//! 2. with `exclude-runtime-packages = true`, when that closure holds `boto3` or `botocore`,
//!    their closure is left out: the Lambda runtime provides it, and shipping part of it would
//!    shadow the runtime's copy;
//! 3. for a function, what its layers' zips hold is left out (the layer provides it), and what
//!    its `external-layers` provide, with the closure of those packages;
//! 4. with `shared-layer = "auto"`, what two or more function zips of a target would still hold
//!    moves to a generated layer, `shared`, that those functions use ([`add_shared_layer`]);
//! 5. the member's `source` directories, in the order written ([`SourceDir`]): a function's
//!    files go to the zip root, a layer's under `python/` (`assemble::source` selects and merges
//!    their files);
//! 6. `strip` globs remove files from every package's wheel as it is zipped ([`BuildPlan::strip`];
//!    `.dist-info` is never stripped, see `assemble`).
//!
//! Each package the member needs but its zip does not hold is recorded with who provides it
//! ([`Provided`]), which `tree` shows.

pub(crate) mod gaps;
pub(crate) mod replacements;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use crate::lockfile::{Graph, Lock, LockedTarget};
use crate::manifest::{ExternalLayer, MemberId, MemberKind, SourcePath, Workspace, is_valid_member_name};
use crate::model::SHARED_LAYER;
use crate::platform::{Architecture, parse_target_name};

/// The packages the Lambda Python runtimes provide, by the roots of their closure.
const RUNTIME_ROOTS: [&str; 2] = ["boto3", "botocore"];

/// Every zip of a workspace, from its lock.
#[derive(Debug, Clone)]
pub(crate) struct BuildPlan {
    /// By target (in the lock's order), then by member key.
    pub zips: Vec<ZipPlan>,
    /// Globs of files stripped from installed packages (`workspace.strip`).
    pub strip: Vec<String>,
}

/// One zip: a member on a target, and what it holds.
#[derive(Debug, Clone)]
pub(crate) struct ZipPlan {
    pub member: MemberId,
    /// The target name, e.g. `python3.12-arm64`.
    pub target: String,
    /// The member's resolution group on the target (`None`: the unified group): where its
    /// packages are looked up in the lock.
    pub group: Option<String>,
    pub runtime: String,
    pub architecture: Architecture,
    /// Relative to the output directory: `functions/<name>-<target>.zip` or `layers/...`.
    pub path: String,
    /// The packages the zip holds.
    pub packages: BTreeSet<String>,
    /// The packages the member needs that the zip leaves out, and who provides each.
    pub provided: BTreeMap<String, Provided>,
    /// A function's layers, in order (empty for a layer), the generated shared layer last.
    pub layers: Vec<String>,
    /// The version ARNs of a function's external layers on this target's architecture, in
    /// order: they deploy after `layers`.
    pub external_layers: Vec<String>,
    pub handler: Option<String>,
    /// The member's source directories, in the order `lambda.toml` lists them: their files go
    /// to a function zip's root, or under a layer zip's `python/`.
    pub sources: Vec<SourceDir>,
}

/// A source directory of a function or layer as `lambda.toml` gives it.
#[derive(Debug, Clone)]
pub(crate) struct SourceDir {
    /// Absolute.
    pub root: PathBuf,
    /// As written in `lambda.toml`, for messages.
    pub shown: PathBuf,
    /// The line of `lambda.toml` that names it.
    pub line: usize,
    /// The member's include and exclude globs, relative to this directory.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl SourceDir {
    fn all(workspace: &Workspace, sources: &[SourcePath], include: &[String], exclude: &[String]) -> Vec<SourceDir> {
        sources
            .iter()
            .map(|source| SourceDir {
                root: workspace.root.join(&source.path),
                shown: source.path.clone(),
                line: source.line,
                include: include.to_vec(),
                exclude: exclude.to_vec(),
            })
            .collect()
    }
}

/// Why a package a member needs is not in its zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Provided {
    /// The Lambda runtime has it (`exclude-runtime-packages`).
    Runtime,
    /// This layer of the function holds it.
    Layer(String),
    /// The external layer with this version ARN provides it (`external-layers`).
    External(String),
}

impl fmt::Display for Provided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provided::Runtime => f.write_str("the runtime"),
            Provided::Layer(layer) => write!(f, "layer {layer}"),
            Provided::External(arn) => write!(f, "external layer {}", ExternalLayer::short_name(arn)),
        }
    }
}

impl BuildPlan {
    /// Plan every zip the lock deploys.
    pub fn new(workspace: &Workspace, lock: &Lock) -> miette::Result<BuildPlan> {
        let mut zips = Vec::new();
        for target in &lock.targets {
            zips.extend(plan_target(workspace, lock, target)?);
        }
        Ok(BuildPlan { zips, strip: workspace.strip.clone() })
    }

    /// The zip of a member on a target.
    pub fn zip(&self, member: &MemberId, target: &str) -> Option<&ZipPlan> {
        self.zips.iter().find(|zip| zip.member == *member && zip.target == target)
    }

    /// The zips of a function's layers on the function zip's target.
    pub fn layers_of<'a>(&'a self, zip: &'a ZipPlan) -> impl Iterator<Item = &'a ZipPlan> + 'a {
        zip.layers
            .iter()
            .filter_map(|layer| self.zip(&MemberId { kind: MemberKind::Layer, name: layer.clone() }, &zip.target))
    }
}

/// The zips of one target.
fn plan_target(workspace: &Workspace, lock: &Lock, target: &LockedTarget) -> miette::Result<Vec<ZipPlan>> {
    let (runtime, architecture) = parse_target_name(&target.name).expect("the lock's targets are valid");
    let graphs: BTreeMap<Option<&str>, Graph> =
        target.group_members().into_iter().map(|(group, _)| (group, lock.graph(&target.name, group))).collect();
    let mut members = Vec::new();
    for (key, edges) in &target.members {
        // The lock was validated; this keeps a bad key from ever becoming a path.
        let Some(member) = MemberId::from_key(key).filter(|member| is_valid_member_name(&member.name)) else {
            miette::bail!(
                help = "run `lbuild lock` to regenerate the lock",
                "the lock names `{}`, which is not a member key",
                key.escape_debug()
            );
        };
        let group = target.group_of(key);
        let (packages, runtime_provided) = own_packages(workspace, &graphs[&group], edges);
        members.push((member, group, packages, runtime_provided));
    }
    let layer_packages: BTreeMap<String, BTreeSet<String>> = members
        .iter()
        .filter(|(member, _, _, _)| member.kind == MemberKind::Layer)
        .map(|(member, _, packages, _)| (member.name.clone(), packages.clone()))
        .collect();
    let mut zips = Vec::new();
    for (member, group, mut packages, runtime_provided) in members {
        let mut provided: BTreeMap<String, Provided> =
            runtime_provided.into_iter().map(|name| (name, Provided::Runtime)).collect();
        let mut zip = ZipPlan {
            target: target.name.clone(),
            group: group.map(str::to_string),
            runtime: runtime.name.to_string(),
            architecture,
            path: String::new(),
            packages: BTreeSet::new(),
            provided: BTreeMap::new(),
            layers: Vec::new(),
            external_layers: Vec::new(),
            handler: None,
            sources: Vec::new(),
            member: member.clone(),
        };
        match member.kind {
            MemberKind::Layer => {
                zip.path = format!("layers/{}-{}.zip", member.name, target.name);
                if let Some(layer) = workspace.layers.iter().find(|layer| layer.name == member.name) {
                    zip.sources = SourceDir::all(workspace, &layer.sources, &layer.include, &layer.exclude);
                }
            }
            MemberKind::Function => {
                let Some(function) = workspace.functions.iter().find(|function| function.name == member.name) else {
                    miette::bail!(
                        help = "run `lbuild lock` to regenerate the lock",
                        "the lock names function `{}`, which lambda.toml does not have",
                        member.name
                    );
                };
                // What a layer provides is not repeated in the function zip.
                for layer in &function.layers {
                    for name in layer_packages.get(layer).into_iter().flatten() {
                        if packages.remove(name) {
                            provided.insert(name.clone(), Provided::Layer(layer.clone()));
                        }
                    }
                }
                // Nor what an external layer provides, with what that needs: a layer that
                // provides a package carries its dependencies. The project's own local
                // packages are always zipped.
                for external in &function.external_layers {
                    let arn = external.arns.get(&architecture).expect("the manifest has an ARN per architecture");
                    let roots = external.provides.iter().filter(|name| packages.contains(*name)).map(String::as_str);
                    for name in graphs[&group].closure(roots).into_keys() {
                        if !workspace.local_packages.contains_key(&name) && packages.remove(&name) {
                            provided.insert(name, Provided::External(arn.clone()));
                        }
                    }
                    zip.external_layers.push(arn.clone());
                }
                zip.path = format!("functions/{}-{}.zip", member.name, target.name);
                zip.layers = function.layers.clone();
                zip.handler = function.handler.clone();
                zip.sources = SourceDir::all(workspace, &function.sources, &function.include, &function.exclude);
            }
        }
        zip.packages = packages;
        zip.provided = provided;
        zips.push(zip);
    }
    if workspace.shared_layer {
        // The bytes of a package's file in the lock (a local package's are not known: 0).
        let size = |name: &str| {
            lock.package_on(name, &target.name, None)
                .and_then(|(_, entry)| entry.wheel.as_ref())
                .map_or(0, |wheel| wheel.size)
        };
        add_shared_layer(&mut zips, &target.name, size);
    }
    Ok(zips)
}

/// Lambda runs a function with at most five layers.
const MAX_LAYERS: usize = 5;

/// `shared-layer = "auto"`: move the packages that two or more function zips of a target hold
/// into one generated layer, used by every function that holds one of them.
///
/// Only functions of the unified resolution group take part (an `isolated` function may lock
/// other versions), and only those with a free layer slot. A package some taking part function
/// gets from elsewhere (another layer, an external layer, the runtime) stays out of the shared
/// layer, so no function sees two copies of it; dropping one may leave a function nothing to
/// share, so this repeats until nothing changes.
///
/// Lambda's 250 MB counts a function with all its layers, and a function that uses the layer gets
/// what only the others import too. The plan knows the lock, not unzipped sizes, so it goes by
/// the wheels' sizes in the lock, which their unzipped files all but never undercut (compressed
/// data is smaller, and only the zip headers are not unzipped bytes): a function that would be
/// over the limit by those alone, and under it without what only the others import, takes no
/// part (the one given the most it does not import first), and the layer is computed again
/// without it. The build's size check counts the real bytes.
fn add_shared_layer(zips: &mut Vec<ZipPlan>, target: &str, size: impl Fn(&str) -> u64) {
    let mut candidates: Vec<usize> = (0..zips.len())
        .filter(|&index| {
            let zip = &zips[index];
            zip.member.kind == MemberKind::Function
                && zip.group.is_none()
                && zip.layers.len() + zip.external_layers.len() < MAX_LAYERS
        })
        .collect();
    let (shared, users) = loop {
        let (shared, users) = shared_among(zips, &candidates);
        let layer_bytes: u64 = shared.iter().map(|name| size(name)).sum();
        // Each user's bytes with the layer: its own packages, its own layers', and the layer's.
        let over = users
            .iter()
            .map(|&index| {
                let zip = &zips[index];
                let own: u64 = zip.packages.iter().filter(|name| !shared.contains(*name)).map(|name| size(name)).sum();
                let layers: u64 = zip
                    .layers
                    .iter()
                    .filter_map(|layer| {
                        zips.iter().find(|other| other.member.kind == MemberKind::Layer && other.member.name == *layer)
                    })
                    .flat_map(|layer| layer.packages.iter())
                    .map(|name| size(name))
                    .sum();
                let unneeded: u64 = shared
                    .iter()
                    .filter(|name| !zip.packages.contains(*name) && !zip.provided.contains_key(*name))
                    .map(|name| size(name))
                    .sum();
                (index, own + layers + layer_bytes, unneeded)
            })
            // Only where the layer is what takes it over: a function over by what it needs
            // itself is over with or without it.
            .filter(|(_, total, unneeded)| {
                *total > crate::platform::UNZIPPED_LIMIT && total - unneeded <= crate::platform::UNZIPPED_LIMIT
            })
            .max_by(|a, b| a.2.cmp(&b.2).then_with(|| zips[b.0].member.name.cmp(&zips[a.0].member.name)));
        match over {
            Some((index, _, _)) => candidates.retain(|candidate| *candidate != index),
            None => break (shared, users),
        }
    };
    if shared.is_empty() {
        return;
    }
    let Some(&first) = users.first() else { return };
    let mut layer = zips[first].clone();
    layer.member = MemberId { kind: MemberKind::Layer, name: SHARED_LAYER.to_string() };
    layer.path = format!("layers/{SHARED_LAYER}-{target}.zip");
    layer.packages = shared.clone();
    layer.provided = BTreeMap::new();
    layer.layers = Vec::new();
    layer.external_layers = Vec::new();
    layer.handler = None;
    layer.sources = Vec::new();
    for index in users {
        let zip = &mut zips[index];
        for name in &shared {
            if zip.packages.remove(name) {
                zip.provided.insert(name.clone(), Provided::Layer(SHARED_LAYER.to_string()));
            }
        }
        zip.layers.push(SHARED_LAYER.to_string());
    }
    zips.push(layer);
}

/// What the `candidates` share: the packages two or more of their zips hold that none of the
/// functions using the layer gets elsewhere, and those functions (the candidates that hold one).
fn shared_among(zips: &[ZipPlan], candidates: &[usize]) -> (BTreeSet<String>, Vec<usize>) {
    let mut holders: BTreeMap<&str, usize> = BTreeMap::new();
    for &index in candidates {
        for name in &zips[index].packages {
            *holders.entry(name.as_str()).or_default() += 1;
        }
    }
    let mut shared: BTreeSet<String> =
        holders.into_iter().filter(|(_, count)| *count >= 2).map(|(name, _)| name.to_string()).collect();
    loop {
        let users: Vec<usize> =
            candidates.iter().copied().filter(|&index| !zips[index].packages.is_disjoint(&shared)).collect();
        let before = shared.len();
        for &index in &users {
            shared.retain(|name| !zips[index].provided.contains_key(name));
        }
        if shared.len() == before {
            return (shared, users);
        }
    }
}

/// A member's closure on a target, split into what its zip holds and what the runtime
/// provides (never a local package).
fn own_packages(workspace: &Workspace, graph: &Graph, edges: &[String]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut packages: BTreeSet<String> = graph.closure(edges.iter().map(String::as_str)).into_keys().collect();
    let mut runtime = BTreeSet::new();
    if workspace.exclude_runtime_packages {
        let roots: Vec<&str> = RUNTIME_ROOTS.into_iter().filter(|name| packages.contains(*name)).collect();
        if !roots.is_empty() {
            // A local package is the project's own code (a patched fork of `urllib3`, say):
            // the runtime's copy is not it, so it is always zipped.
            runtime = graph
                .closure(roots)
                .into_keys()
                .filter(|name| packages.contains(name) && !workspace.local_packages.contains_key(name))
                .collect();
            packages.retain(|name| !runtime.contains(name));
        }
    }
    (packages, runtime)
}

/// The member named by `-p NAME`, or an error listing the names there are.
pub(crate) fn find_member(workspace: &Workspace, name: &str) -> miette::Result<MemberId> {
    if let Some(member) = workspace.member(name) {
        return Ok(member);
    }
    if workspace.shared_layer && name == SHARED_LAYER {
        return Ok(MemberId { kind: MemberKind::Layer, name: name.to_string() });
    }
    let mut known: Vec<_> = workspace.functions.iter().map(|f| format!("`{}`", f.name)).collect();
    known.extend(workspace.layers.iter().map(|l| format!("`{}`", l.name)));
    if workspace.shared_layer {
        known.push(format!("`{SHARED_LAYER}` (the generated layer)"));
    }
    miette::bail!(
        help = format!("`-p` takes the name of a function or layer in lambda.toml: {}", known.join(", ")),
        "no function or layer is named `{name}`"
    )
}

/// The member keys (`function.api`) named by `-p`, each checked, and the `--target` checked.
pub(crate) fn selection(
    workspace: &Workspace,
    lock: &Lock,
    packages: &[String],
    target: Option<&str>,
) -> miette::Result<BTreeSet<String>> {
    if let Some(target) = target {
        find_target(lock, target)?;
    }
    packages.iter().map(|name| find_member(workspace, name).map(|member| member.key())).collect()
}

/// The target named by `--target`, or an error listing the targets there are.
pub(crate) fn find_target<'a>(lock: &'a Lock, name: &str) -> miette::Result<&'a LockedTarget> {
    if let Some(target) = lock.target(name) {
        return Ok(target);
    }
    let known: Vec<_> = lock.targets.iter().map(|target| format!("`{}`", target.name)).collect();
    miette::bail!(
        help = format!("targets are named `<runtime>-<architecture>`; this workspace has {}", known.join(", ")),
        "the workspace has no target `{name}`"
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::lockfile::{Inputs, LockedFile, LockedGap, LockedPackage, PackageTarget};

    const TARGET: &str = "python3.12-x86_64";

    fn workspace(dir: &Path, body: &str) -> Workspace {
        fs_err::write(dir.join("lambda.toml"), body).unwrap();
        Workspace::load(&dir.join("lambda.toml")).unwrap()
    }

    /// A package on [`TARGET`] with its own edges and its extras' edges; `gap` makes it a gap.
    fn package(name: &str, dependencies: &[&str], extras: &[(&str, &[&str])], gap: bool) -> LockedPackage {
        let strings = |edges: &[&str]| edges.iter().map(ToString::to_string).collect::<Vec<_>>();
        LockedPackage {
            name: name.to_string(),
            version: "1.0".to_string(),
            source: "default".to_string(),
            path: None,
            targets: vec![TARGET.to_string()],
            per_target: vec![PackageTarget {
                target: TARGET.to_string(),
                group: None,
                dependencies: strings(dependencies),
                extras: extras.iter().map(|(extra, edges)| (extra.to_string(), strings(edges))).collect(),
                wheel: (!gap).then(|| LockedFile {
                    filename: format!("{name}-1.0-py3-none-any.whl"),
                    url: format!("https://example.test/{name}-1.0-py3-none-any.whl"),
                    sha256: "a".repeat(64),
                    size: 1,
                }),
                gap: gap.then(|| LockedGap {
                    reason: "only-sdist".to_string(),
                    detail: "only an sdist".to_string(),
                    older_with_wheel: None,
                    newer_with_wheel: None,
                    sdist: None,
                    runtimes_with_wheels: Vec::new(),
                }),
                built: None,
            }],
        }
    }

    fn lock(members: &[(&str, &[&str])], packages: Vec<LockedPackage>) -> Lock {
        Lock {
            version: crate::lockfile::LOCK_VERSION,
            inputs: Inputs {
                fingerprint: String::new(),
                indexes: Vec::new(),
                sources: BTreeMap::new(),
                find_links: Vec::new(),
                prerelease: "if-necessary-or-explicit".to_string(),
                resolution: "unified".to_string(),
                targets: BTreeMap::new(),
                members: BTreeMap::new(),
                local: BTreeMap::new(),
                project_locks: BTreeMap::new(),
                build_sdists: None,
                native_builder: None,
            },
            targets: vec![LockedTarget {
                name: TARGET.to_string(),
                runtime: "python3.12".to_string(),
                architecture: "x86_64".to_string(),
                python_full_version: "3.12.12".to_string(),
                members: members
                    .iter()
                    .map(|(key, edges)| (key.to_string(), edges.iter().map(ToString::to_string).collect()))
                    .collect(),
                groups: BTreeMap::new(),
            }],
            packages,
        }
    }

    #[test]
    fn a_zip_holds_its_closure_less_its_layers_and_the_runtime_with_extras_only_where_asked() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = workspace(
            dir.path(),
            "[workspace]\narchitectures = [\"x86_64\"]\nexclude-runtime-packages = true\n\n\
             [layer.base]\nrequirements = [\"web\"]\n\n\
             [function.api]\nrequirements = [\"boto3\", \"web[speed]\"]\nlayers = [\"base\"]\n\n\
             [function.plain]\nrequirements = [\"web\"]\n",
        );
        let lock = lock(
            &[("function.api", &["boto3", "web[speed]"]), ("function.plain", &["web"]), ("layer.base", &["web"])],
            vec![
                package("boto3", &["botocore"], &[], false),
                package("botocore", &["urllib3"], &[], false),
                package("urllib3", &[], &[], false),
                package("web", &["core"], &[("speed", &["turbo"])], false),
                package("core", &[], &[], false),
                package("turbo", &["urllib3", "slow"], &[], false),
                package("slow", &[], &[], true),
            ],
        );
        let plan = BuildPlan::new(&workspace, &lock).unwrap();
        let zip = |kind, name: &str| plan.zip(&MemberId { kind, name: name.to_string() }, TARGET).unwrap();
        let names = |zip: &ZipPlan| zip.packages.iter().cloned().collect::<Vec<_>>();

        let api = zip(MemberKind::Function, "api");
        assert_eq!(names(api), ["slow", "turbo"]);
        assert_eq!(api.path, "functions/api-python3.12-x86_64.zip");
        let provided: Vec<(&str, String)> =
            api.provided.iter().map(|(name, by)| (name.as_str(), by.to_string())).collect();
        assert_eq!(
            provided,
            [
                ("boto3", "the runtime".to_string()),
                ("botocore", "the runtime".to_string()),
                ("core", "layer base".to_string()),
                // The runtime's copy wins even though `turbo` needs it too.
                ("urllib3", "the runtime".to_string()),
                ("web", "layer base".to_string()),
            ]
        );
        assert_eq!(names(zip(MemberKind::Function, "plain")), ["core", "web"], "no `speed` without `[speed]`");
        assert_eq!(names(zip(MemberKind::Layer, "base")), ["core", "web"]);
        assert_eq!(
            plan.layers_of(api).map(|layer| layer.path.as_str()).collect::<Vec<_>>(),
            ["layers/base-python3.12-x86_64.zip"]
        );

        // The gap is held by the one zip that holds `turbo`.
        let gaps = gaps::collect(&plan, &lock);
        assert_eq!(gaps.len(), 1);
        assert_eq!((gaps[0].package.as_str(), gaps[0].needed_by.clone()), ("slow", vec!["function.api".to_string()]));
    }

    #[test]
    fn each_zip_names_its_members_source_directories_in_order_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["functions/api", "shared/py", "layers/base"] {
            fs_err::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let workspace = workspace(
            dir.path(),
            "[workspace]\narchitectures = [\"x86_64\"]\n\n\
             [layer.base]\nrequirements = []\nsource = \"layers/base\"\nexclude = [\"tests/**\"]\n\n\
             [function.api]\nsource = [\"shared/py\", \"functions/api\"]\ninclude = [\"**/*.py\"]\nlayers = [\"base\"]\n\n\
             [function.bare]\nrequirements = []\n",
        );
        let lock = lock(&[("function.api", &[]), ("function.bare", &[]), ("layer.base", &[])], Vec::new());
        let plan = BuildPlan::new(&workspace, &lock).unwrap();
        let sources = |kind, name: &str| {
            let zip = plan.zip(&MemberId { kind, name: name.to_string() }, TARGET).unwrap();
            zip.sources
                .iter()
                .map(|source| {
                    assert_eq!(source.root, dir.path().join(&source.shown), "absolute, from the workspace root");
                    (source.shown.display().to_string(), source.line, source.include.clone(), source.exclude.clone())
                })
                .collect::<Vec<_>>()
        };
        let py = vec!["**/*.py".to_string()];
        assert_eq!(
            sources(MemberKind::Function, "api"),
            [("shared/py".to_string(), 10, py.clone(), Vec::new()), ("functions/api".to_string(), 10, py, Vec::new())]
        );
        assert_eq!(
            sources(MemberKind::Layer, "base"),
            [("layers/base".to_string(), 6, Vec::new(), vec!["tests/**".to_string()])]
        );
        assert!(sources(MemberKind::Function, "bare").is_empty());
    }

    #[test]
    fn without_exclude_runtime_packages_the_sdk_is_zipped() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = workspace(
            dir.path(),
            "[workspace]\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"boto3\"]\n",
        );
        let lock = lock(
            &[("function.f", &["boto3"])],
            vec![package("boto3", &["botocore"], &[], false), package("botocore", &[], &[], false)],
        );
        let plan = BuildPlan::new(&workspace, &lock).unwrap();
        assert_eq!(plan.zips.len(), 1);
        assert_eq!(plan.zips[0].packages.iter().collect::<Vec<_>>(), ["boto3", "botocore"]);
        assert!(plan.zips[0].provided.is_empty());
    }

    #[test]
    fn a_shared_layer_holds_what_two_functions_share_once_and_leaves_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = workspace(
            dir.path(),
            "[workspace]\narchitectures = [\"x86_64\"]\nshared-layer = \"auto\"\n\n\
             [function.a]\nrequirements = [\"web\", \"db\"]\n\n\
             [function.b]\nrequirements = [\"web\", \"img\"]\n\n\
             [function.c]\nrequirements = [\"db\"]\n\n\
             [function.alone]\nrequirements = [\"img2\"]\n",
        );
        let lock = lock(
            &[
                ("function.a", &["web", "db"]),
                ("function.b", &["web", "img"]),
                ("function.c", &["db"]),
                ("function.alone", &["img2"]),
            ],
            vec![
                package("web", &["core"], &[], false),
                package("core", &[], &[], false),
                package("db", &["core"], &[], false),
                package("img", &[], &[], false),
                package("img2", &[], &[], false),
            ],
        );
        let plan = BuildPlan::new(&workspace, &lock).unwrap();
        let zip = |kind, name: &str| plan.zip(&MemberId { kind, name: name.to_string() }, TARGET).unwrap();
        let names = |zip: &ZipPlan| zip.packages.iter().cloned().collect::<Vec<_>>();
        let shared = zip(MemberKind::Layer, SHARED_LAYER);
        assert_eq!(names(shared), ["core", "db", "web"]);
        assert_eq!(shared.path, "layers/shared-python3.12-x86_64.zip");
        assert_eq!(names(zip(MemberKind::Function, "a")), Vec::<String>::new());
        assert_eq!(names(zip(MemberKind::Function, "b")), ["img"]);
        assert_eq!(zip(MemberKind::Function, "b").provided["web"], Provided::Layer(SHARED_LAYER.to_string()));
        assert_eq!(names(zip(MemberKind::Function, "c")), Vec::<String>::new());
        // A function that shares nothing neither holds nor uses the layer.
        assert_eq!(names(zip(MemberKind::Function, "alone")), ["img2"]);
        assert!(zip(MemberKind::Function, "alone").layers.is_empty());
        for name in ["a", "b", "c"] {
            assert_eq!(zip(MemberKind::Function, name).layers, [SHARED_LAYER], "{name}");
        }
        // Every package is in exactly one zip of the target.
        let mut held: Vec<String> = plan.zips.iter().flat_map(|zip| zip.packages.iter().cloned()).collect();
        held.sort();
        assert_eq!(held, ["core", "db", "img", "img2", "web"]);
    }

    #[test]
    fn the_shared_layer_never_repeats_what_a_users_own_layer_or_the_runtime_provides() {
        let dir = tempfile::tempdir().unwrap();
        let five: String = (1..=5).map(|n| format!("[layer.l{n}]\nrequirements = []\n\n")).collect();
        let workspace = workspace(
            dir.path(),
            &format!(
                "[workspace]\narchitectures = [\"x86_64\"]\nshared-layer = \"auto\"\nexclude-runtime-packages = true\n\n\
                 {five}[layer.base]\nrequirements = [\"core\"]\n\n\
                 [function.a]\nrequirements = [\"web\", \"core\"]\nlayers = [\"base\"]\n\n\
                 [function.b]\nrequirements = [\"web\", \"core\", \"urllib3\"]\n\n\
                 [function.c]\nrequirements = [\"boto3\", \"urllib3\", \"web\"]\n\n\
                 [function.d]\nrequirements = [\"urllib3\", \"web\"]\n\n\
                 [function.full]\nrequirements = [\"web\"]\nlayers = [\"l1\", \"l2\", \"l3\", \"l4\", \"l5\"]\n"
            ),
        );
        let mut members: Vec<(String, Vec<&str>)> = vec![
            ("function.a".into(), vec!["web", "core"]),
            ("function.b".into(), vec!["web", "core", "urllib3"]),
            ("function.c".into(), vec!["boto3", "urllib3", "web"]),
            ("function.d".into(), vec!["urllib3", "web"]),
            ("function.full".into(), vec!["web"]),
            ("layer.base".into(), vec!["core"]),
        ];
        members.extend((1..=5).map(|n| (format!("layer.l{n}"), Vec::new())));
        let members: Vec<(&str, &[&str])> =
            members.iter().map(|(key, edges)| (key.as_str(), edges.as_slice())).collect();
        let lock = lock(
            &members,
            vec![
                package("web", &[], &[], false),
                package("core", &[], &[], false),
                package("boto3", &["urllib3"], &[], false),
                package("urllib3", &[], &[], false),
            ],
        );
        let plan = BuildPlan::new(&workspace, &lock).unwrap();
        let zip = |kind, name: &str| plan.zip(&MemberId { kind, name: name.to_string() }, TARGET).unwrap();
        let names = |zip: &ZipPlan| zip.packages.iter().cloned().collect::<Vec<_>>();
        // `core` is base's for a, so it is not shared (b keeps it); `urllib3` is the runtime's for
        // c, which uses the layer for `web`, so b and d keep theirs.
        assert_eq!(names(zip(MemberKind::Layer, SHARED_LAYER)), ["web"]);
        assert_eq!(names(zip(MemberKind::Function, "b")), ["core", "urllib3"]);
        assert_eq!(names(zip(MemberKind::Function, "d")), ["urllib3"]);
        assert_eq!(zip(MemberKind::Function, "a").layers, ["base", SHARED_LAYER]);
        // A function with five layers has no room for a sixth: it keeps its packages.
        assert_eq!(names(zip(MemberKind::Function, "full")), ["web"]);
        assert_eq!(zip(MemberKind::Function, "full").layers.len(), 5);
    }

    #[test]
    fn an_external_layer_takes_what_it_provides_and_its_dependencies_out_of_the_function() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = workspace(
            dir.path(),
            "[workspace]\narchitectures = [\"x86_64\"]\n\n\
             [function.f]\nrequirements = [\"pandas\", \"web\"]\n\
             external-layers = [{ arn = { x86_64 = \"arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python312:16\" }, \
             provides = [\"Pandas\"] }]\n\
             architecture = \"x86_64\"\n",
        );
        let lock = lock(
            &[("function.f", &["pandas", "web"])],
            vec![
                package("pandas", &["numpy", "six"], &[], false),
                package("numpy", &[], &[], false),
                package("six", &[], &[], false),
                package("web", &["six"], &[], false),
            ],
        );
        let plan = BuildPlan::new(&workspace, &lock).unwrap();
        let zip = &plan.zips[0];
        assert_eq!(zip.packages.iter().collect::<Vec<_>>(), ["web"]);
        let arn = "arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python312:16";
        assert_eq!(zip.external_layers, [arn]);
        assert_eq!(zip.provided["numpy"], Provided::External(arn.to_string()));
        // The layer's copy serves `web` too, as the runtime's does.
        assert_eq!(zip.provided["six"].to_string(), "external layer AWSSDKPandas-Python312");
    }

    #[test]
    fn a_function_the_shared_layer_would_take_over_250_mb_keeps_its_packages() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = workspace(
            dir.path(),
            "[workspace]\narchitectures = [\"x86_64\"]\nshared-layer = \"auto\"\n\n\
             [function.a]\nrequirements = [\"big1\", \"small\"]\n\n\
             [function.b]\nrequirements = [\"big1\", \"big2\"]\n\n\
             [function.c]\nrequirements = [\"big2\", \"small\"]\n",
        );
        let sized = |name: &str, size: u64| {
            let mut package = package(name, &[], &[], false);
            package.per_target[0].wheel.as_mut().unwrap().size = size;
            package
        };
        let lock = lock(
            &[
                ("function.a", &["big1", "small"]),
                ("function.b", &["big1", "big2"]),
                ("function.c", &["big2", "small"]),
            ],
            vec![sized("big1", 140_000_000), sized("big2", 140_000_000), sized("small", 1_000)],
        );
        let plan = BuildPlan::new(&workspace, &lock).unwrap();
        let zip = |kind, name: &str| plan.zip(&MemberId { kind, name: name.to_string() }, TARGET).unwrap();
        let names = |zip: &ZipPlan| zip.packages.iter().cloned().collect::<Vec<_>>();
        // All three sharing would put big1 and big2 (280 MB of wheels) in one layer, giving a
        // and c 140 MB each they do not import. b needs both itself, over with or without the
        // layer, so it stays; a goes first (a tie with c, by name), and b and c share big2.
        let shared = zip(MemberKind::Layer, SHARED_LAYER);
        assert_eq!(names(shared), ["big2"]);
        assert_eq!(names(zip(MemberKind::Function, "a")), ["big1", "small"]);
        assert!(zip(MemberKind::Function, "a").layers.is_empty());
        assert_eq!(names(zip(MemberKind::Function, "c")), ["small"]);
        let total = |zip: &ZipPlan| -> u64 {
            let own: u64 = zip
                .packages
                .iter()
                .map(|name| lock.package_on(name, TARGET, None).unwrap().1.wheel.as_ref().unwrap().size)
                .sum();
            let layer: u64 = if zip.layers.is_empty() {
                0
            } else {
                shared
                    .packages
                    .iter()
                    .map(|name| lock.package_on(name, TARGET, None).unwrap().1.wheel.as_ref().unwrap().size)
                    .sum()
            };
            own + layer
        };
        for name in ["a", "c"] {
            assert!(
                total(zip(MemberKind::Function, name)) <= crate::platform::UNZIPPED_LIMIT,
                "{name}: {:?}",
                names(shared)
            );
        }
        // b holds big1 and big2 however they are split: 280 MB is over with or without a layer.
        let mut held: Vec<String> = plan.zips.iter().flat_map(|zip| zip.packages.iter().cloned()).collect();
        held.sort();
        held.dedup();
        assert_eq!(held, ["big1", "big2", "small"]);
    }
}
