//! Scenario tests: each file in `tests/scenarios/` states a registry, a workspace and a target,
//! and what resolving it must give. One test runs them all against an in-memory [`Registry`],
//! so resolution semantics are pinned down without HTTP.
//!
//! A scenario file:
//!
//! ```toml
//! description = "what the case shows"
//! target = "python3.12-x86_64"        # the default
//! python-full-version = "3.12.3"      # optional
//! prerelease = "allow"                # optional: disallow, allow, if-necessary-or-explicit
//!
//! [members]
//! "function.api" = ["a>=1"]
//!
//! [preferences]                       # pins of an existing lock
//! a = "1.0"
//!
//! [constraints]                       # `-c` constraints, by the member they come from
//! "function.api" = ["b<2"]
//!
//! [project-pins]                      # pins of the project's uv.lock, tried first
//! a = "1.1"
//!
//! [[package]]
//! name = "a"
//! version = "1.0"
//! wheels = ["py3-none-any"]           # tags of its wheels; the default
//! sdist = false
//! requires-dist = ["b>=1"]
//! requires-python = ">=3.8"           # on the files and in the metadata
//! index-requires-python = true        # false: only the metadata says it
//! yanked = "reason"                   # every file of the version is yanked
//!
//! [expect]
//! packages = { a = "1.0" }            # every resolved package (gaps too)
//! wheels = { a = "py3-none-any" }     # the tags of the chosen wheel
//! gaps = { b = { reason = "only-sdist", older-with-wheel = "0.9" } }
//! members = { "function.api" = ["a"] }
//! error = true                        # no solution: the message is an insta snapshot
//! error-contains = ["a 2.0 is yanked"]
//! yanked = ["a 2.0 (reason)"]         # the yanked versions chosen, to warn about
//! unkept = { a = "no wheel" }         # every project pin not kept: a part of the reason
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::Requirement;
use serde::Deserialize;

use super::{Choice, Registry, ResolveError, ResolveInput, resolve_with};
use crate::index::{CoreMetadataOffer, DistFile, DistKind, IndexError, Project};
use crate::model::{MemberId, PrereleaseMode};
use crate::platform::{Target, parse_target_name};
use crate::python::metadata::CoreMetadata;
use crate::python::wheel_name::{WheelFilename, normalize_name};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Scenario {
    /// What the case shows; quoted when it fails.
    description: String,
    target: Option<String>,
    python_full_version: Option<String>,
    prerelease: Option<String>,
    members: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    preferences: BTreeMap<String, String>,
    #[serde(default)]
    constraints: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    project_pins: BTreeMap<String, String>,
    #[serde(default)]
    package: Vec<Package>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Package {
    name: String,
    version: String,
    wheels: Option<Vec<String>>,
    #[serde(default)]
    sdist: bool,
    #[serde(default)]
    requires_dist: Vec<String>,
    requires_python: Option<String>,
    index_requires_python: Option<bool>,
    yanked: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Expect {
    packages: Option<BTreeMap<String, String>>,
    #[serde(default)]
    wheels: BTreeMap<String, String>,
    #[serde(default)]
    gaps: BTreeMap<String, ExpectGap>,
    members: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    error: bool,
    #[serde(default)]
    error_contains: Vec<String>,
    /// The yanked versions chosen, `name version (reason)`, in name order.
    yanked: Option<Vec<String>>,
    /// Every project pin not kept: name -> a part of the reason given.
    #[serde(default)]
    unkept: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ExpectGap {
    reason: String,
    older_with_wheel: Option<String>,
    newer_with_wheel: Option<String>,
}

/// A registry held in memory: the projects of one scenario.
#[derive(Default)]
pub(super) struct MemoryRegistry {
    projects: HashMap<String, Arc<Project>>,
    /// Core metadata by file name.
    metadata: HashMap<String, Arc<CoreMetadata>>,
}

impl Registry for MemoryRegistry {
    fn project(&self, name: &str) -> Result<Arc<Project>, IndexError> {
        Ok(self.projects.get(name).cloned().unwrap_or_else(|| Arc::new(Project { files: Vec::new(), index: None })))
    }

    fn metadata(&self, name: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        self.metadata
            .get(&file.filename)
            .cloned()
            .ok_or_else(|| IndexError { message: format!("no metadata for `{}` of {name}", file.filename), help: None })
    }
}

impl MemoryRegistry {
    fn add(&mut self, package: &Package) -> Result<(), String> {
        let name = normalize_name(&package.name);
        let version = Version::from_str(&package.version).map_err(|err| format!("{}: {err}", package.name))?;
        let requires_python = package
            .requires_python
            .as_deref()
            .map(VersionSpecifiers::from_str)
            .transpose()
            .map_err(|err| format!("{name} {version}: {err}"))?;
        let requires_dist = package
            .requires_dist
            .iter()
            .map(|text| Requirement::from_str(text).map_err(|err| format!("{name} {version}: {err}")))
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = Arc::new(CoreMetadata {
            metadata_version: "2.3".into(),
            name: name.clone(),
            version: version.clone(),
            requires_dist,
            requires_python: requires_python.clone(),
            provides_extra: Vec::new(),
        });
        let index_requires_python =
            if package.index_requires_python.unwrap_or(true) { requires_python.clone() } else { None };
        let stem = format!("{}-{version}", name.replace('-', "_"));
        let mut files = Vec::new();
        for tags in package.wheels.clone().unwrap_or_else(|| vec!["py3-none-any".into()]) {
            let filename = format!("{stem}-{tags}.whl");
            let wheel = WheelFilename::parse(&filename).map_err(|err| err.to_string())?;
            files.push((filename, DistKind::Wheel(wheel)));
        }
        if package.sdist {
            files.push((format!("{stem}.tar.gz"), DistKind::Sdist));
        }
        let project = self
            .projects
            .entry(name.clone())
            .or_insert_with(|| Arc::new(Project { files: Vec::new(), index: Some("scenario".into()) }));
        let project = Arc::get_mut(project).expect("only the builder holds projects");
        for (filename, kind) in files {
            self.metadata.insert(filename.clone(), metadata.clone());
            project.files.push(Arc::new(DistFile {
                url: url::Url::parse(&format!("https://files.example/{filename}")).expect("valid URL"),
                filename,
                sha256: None,
                size: None,
                requires_python: index_requires_python.clone(),
                yanked: package.yanked.clone(),
                core_metadata: CoreMetadataOffer::Available(None),
                version: version.clone(),
                kind,
            }));
        }
        Ok(())
    }
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

/// Run one scenario; `Err` says what differs.
fn run(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|err| err.to_string())?;
    let scenario: Scenario = toml::from_str(&text).map_err(|err| err.to_string())?;
    check(path, &scenario).map_err(|problem| format!("{}\n{problem}", scenario.description))
}

fn check(path: &Path, scenario: &Scenario) -> Result<(), String> {
    let mut registry = MemoryRegistry::default();
    for package in &scenario.package {
        registry.add(package)?;
    }
    let target_name = scenario.target.as_deref().unwrap_or("python3.12-x86_64");
    let (runtime, architecture) = parse_target_name(target_name).ok_or(format!("unknown target {target_name}"))?;
    let full = scenario.python_full_version.as_deref().map(Version::from_str).transpose().map_err(|e| e.to_string())?;
    let target = Target::new(runtime, architecture, full);
    let mut members = Vec::new();
    for (key, requirements) in &scenario.members {
        let member = MemberId::from_key(key).ok_or(format!("bad member key {key}"))?;
        let requirements = requirements
            .iter()
            .map(|text| Requirement::from_str(text).map_err(|err| format!("{key}: {err}")))
            .collect::<Result<Vec<_>, _>>()?;
        members.push((member, requirements));
    }
    let prerelease = match scenario.prerelease.as_deref() {
        None | Some("if-necessary-or-explicit") => PrereleaseMode::IfNecessaryOrExplicit,
        Some("allow") => PrereleaseMode::Allow,
        Some("disallow") => PrereleaseMode::Disallow,
        Some(other) => return Err(format!("unknown prerelease mode {other}")),
    };
    let preferences = scenario
        .preferences
        .iter()
        .map(|(name, version)| Ok((normalize_name(name), Version::from_str(version).map_err(|e| e.to_string())?)))
        .collect::<Result<HashMap<_, _>, String>>()?;
    let mut constraints = Vec::new();
    for (key, list) in &scenario.constraints {
        let member = MemberId::from_key(key).ok_or(format!("bad member key {key}"))?;
        for (line, text) in list.iter().enumerate() {
            constraints.push(super::ConstraintInput {
                member: member.clone(),
                requirement: Requirement::from_str(text).map_err(|err| format!("{key}: {err}"))?,
                origin: format!("line {} of `constraints.txt`", line + 1),
            });
        }
    }
    // As the session offers it: when there are members to resolve apart (scenarios have no
    // layers, so every member would be a group of its own).
    let way_out = if members.len() > 1 { super::RESOLVE_APART.to_string() } else { String::new() };
    let project_pins = scenario
        .project_pins
        .iter()
        .map(|(name, version)| Ok((normalize_name(name), Version::from_str(version).map_err(|e| e.to_string())?)))
        .collect::<Result<HashMap<_, _>, String>>()?;
    let input = ResolveInput {
        target,
        members,
        preferences,
        project_pins,
        prerelease,
        way_out,
        constraints,
        hashes: HashMap::new(),
        local: Default::default(),
    };
    let expect = &scenario.expect;
    let resolution = match resolve_with(input, &registry) {
        Ok(resolution) => resolution,
        Err(err) => {
            let message = match &err {
                ResolveError::NoSolution { hint, .. } => format!("{err}\nhelp: {hint}"),
                other => other.to_string(),
            };
            if !expect.error {
                return Err(format!("resolution failed:\n{message}"));
            }
            for part in &expect.error_contains {
                if !message.contains(part.as_str()) {
                    return Err(format!("the error does not say `{part}`:\n{message}"));
                }
            }
            let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or("scenario").to_string();
            insta::with_settings!({
                snapshot_path => "../../tests/scenarios/snapshots",
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(stem, message);
            });
            return Ok(());
        }
    };
    if expect.error {
        let chosen: Vec<String> =
            resolution.packages.iter().map(|(name, package)| format!("{name} {}", package.version)).collect();
        return Err(format!("expected no solution, got {}", chosen.join(", ")));
    }
    let mut problems = Vec::new();
    if let Some(packages) = &expect.packages {
        let got: BTreeMap<String, String> =
            resolution.packages.iter().map(|(name, package)| (name.clone(), package.version.to_string())).collect();
        let want: BTreeMap<String, String> =
            packages.iter().map(|(name, version)| (normalize_name(name), version.clone())).collect();
        if got != want {
            problems.push(format!("packages: expected {want:?}, got {got:?}"));
        }
    }
    for (name, tags) in &expect.wheels {
        match resolution.packages.get(&normalize_name(name)).map(|package| &package.choice) {
            Some(Choice::Wheel(file)) if file.filename.ends_with(&format!("-{tags}.whl")) => {}
            other => problems.push(format!("{name}: expected a wheel tagged {tags}, got {other:?}")),
        }
    }
    let gaps: Vec<&String> = resolution
        .packages
        .iter()
        .filter(|(_, package)| matches!(package.choice, Choice::Gap { .. }))
        .map(|(name, _)| name)
        .collect();
    let want_gaps: Vec<String> = expect.gaps.keys().map(|name| normalize_name(name)).collect();
    if gaps.iter().map(|name| name.as_str()).ne(want_gaps.iter().map(String::as_str)) {
        problems.push(format!("gaps: expected {want_gaps:?}, got {gaps:?}"));
    }
    for (name, want) in &expect.gaps {
        let Some(Choice::Gap { reason, older_with_wheel, newer_with_wheel, .. }) =
            resolution.packages.get(&normalize_name(name)).map(|package| &package.choice)
        else {
            continue;
        };
        let got = (
            reason.as_str().to_string(),
            older_with_wheel.as_ref().map(Version::to_string),
            newer_with_wheel.as_ref().map(Version::to_string),
        );
        let want = (want.reason.clone(), want.older_with_wheel.clone(), want.newer_with_wheel.clone());
        if got != want {
            problems.push(format!("gap {name}: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(want) = &expect.yanked {
        let got: Vec<String> =
            resolution.yanked.iter().map(|(name, version, reason)| format!("{name} {version} ({reason})")).collect();
        if &got != want {
            problems.push(format!("yanked: expected {want:?}, got {got:?}"));
        }
    }
    let unkept: BTreeMap<&str, String> = resolution
        .unkept
        .iter()
        .map(|unkept| (unkept.name.as_str(), format!("{} -> {}: {}", unkept.pinned, unkept.locked, unkept.reason)))
        .collect();
    if unkept.keys().ne(expect.unkept.keys())
        || expect.unkept.iter().any(|(name, part)| !unkept.get(name.as_str()).is_some_and(|got| got.contains(part)))
    {
        problems.push(format!("unkept: expected {:?}, got {unkept:?}", expect.unkept));
    }
    if let Some(members) = &expect.members {
        let got: BTreeMap<String, Vec<String>> =
            resolution.members.iter().map(|(member, edges)| (member.key(), edges.keys().cloned().collect())).collect();
        if &got != members {
            problems.push(format!("members: expected {members:?}, got {got:?}"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

#[test]
fn scenarios() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("tests/scenarios exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "the scenario files are missing");
    let only = std::env::var("SCENARIO").ok();
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("?").to_string();
        if only.as_deref().is_some_and(|only| !name.contains(only)) {
            continue;
        }
        let outcome = std::panic::catch_unwind(|| run(path));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => failures.push(format!("{name}: {problem}")),
            Err(_) => failures.push(format!("{name}: panicked (see above)")),
        }
    }
    assert!(failures.is_empty(), "{} scenario(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The packages of the random registries: three direct requirements, two transitive ones.
const NAMES: [&str; 5] = ["a", "b", "c", "x", "y"];
const DIRECT: usize = 3;
const OPERATORS: [&str; 3] = [">=", "<", "=="];

/// A requirement: (index of the dependency, index of the operator, version).
type Edge = (usize, usize, u64);

/// The requirements of each (package index, version).
type Requirements = HashMap<(usize, u64), Vec<Edge>>;

/// A random registry: versions 1.0 to 3.0 of each package, up to two random requirements per
/// version; with `sdist_only` set, one version in six publishes only an sdist (a gap, whose
/// requirements the resolver cannot know). Returns each version's requirements (none for the
/// sdist-only ones) and which versions are sdist-only.
fn random_registry(
    random: &mut impl FnMut(u64) -> u64,
    sdist_only: bool,
) -> (MemoryRegistry, Requirements, Vec<(usize, u64)>) {
    let mut requirements = HashMap::new();
    let mut gaps = Vec::new();
    let mut registry = MemoryRegistry::default();
    for (package, name) in NAMES.iter().enumerate() {
        for version in 1..=3 {
            let mut list: Vec<Edge> = (0..random(3))
                .map(|_| (random(5) as usize, random(3) as usize, 1 + random(3)))
                .filter(|(dependency, _, _)| *dependency != package)
                .collect();
            let gap = sdist_only && random(6) == 0;
            if gap {
                list.clear();
                gaps.push((package, version));
            }
            let requires_dist = list
                .iter()
                .map(|(dependency, operator, version)| {
                    format!("{}{}{version}.0", NAMES[*dependency], OPERATORS[*operator])
                })
                .collect();
            registry
                .add(&Package {
                    name: name.to_string(),
                    version: format!("{version}.0"),
                    wheels: if gap { Some(Vec::new()) } else { None },
                    sdist: gap,
                    requires_dist,
                    requires_python: None,
                    index_requires_python: None,
                    yanked: None,
                })
                .expect("valid package");
            requirements.insert((package, version), list);
        }
    }
    (registry, requirements, gaps)
}

/// Every assignment of versions (0: not installed) with the direct packages installed and
/// every installed version's requirements met.
fn all_solutions(requirements: &Requirements) -> Vec<Vec<u64>> {
    let satisfied = |assignment: &[u64], (dependency, operator, version): Edge| {
        let chosen = assignment[dependency];
        chosen != 0
            && match operator {
                0 => chosen >= version,
                1 => chosen < version,
                _ => chosen == version,
            }
    };
    (0..4u64.pow(NAMES.len() as u32))
        .map(|code| (0..NAMES.len()).map(|i| code / 4u64.pow(i as u32) % 4).collect::<Vec<u64>>())
        .filter(|assignment| assignment[..DIRECT].iter().all(|version| *version != 0))
        .filter(|assignment| {
            (0..NAMES.len()).filter(|package| assignment[*package] != 0).all(|package| {
                requirements[&(package, assignment[package])].iter().all(|edge| satisfied(assignment, *edge))
            })
        })
        .collect()
}

/// Resolve the direct packages against `registry`: the version of each package (0: absent).
fn resolve_random(registry: &MemoryRegistry) -> Result<Vec<u64>, ResolveError> {
    resolve_random_with(registry, HashMap::new())
}

/// The same with the pins of an existing lock.
fn resolve_random_with(
    registry: &MemoryRegistry,
    preferences: HashMap<String, Version>,
) -> Result<Vec<u64>, ResolveError> {
    let target = Target::new(
        crate::platform::Runtime::from_name("python3.12").expect("known runtime"),
        crate::platform::Architecture::X86_64,
        None,
    );
    let direct = NAMES[..DIRECT].iter().map(|name| Requirement::from_str(name).expect("valid")).collect();
    let input = ResolveInput {
        target,
        members: vec![(MemberId::from_key("function.f").expect("valid key"), direct)],
        preferences,
        project_pins: HashMap::new(),
        prerelease: PrereleaseMode::IfNecessaryOrExplicit,
        constraints: Vec::new(),
        hashes: HashMap::new(),
        local: Default::default(),
        way_out: String::new(),
    };
    let resolution = resolve_with(input, registry)?;
    Ok(NAMES
        .iter()
        .map(|name| resolution.packages.get(*name).map_or(0, |package| package.version.release()[0]))
        .collect())
}

/// A solution that keeps every direct package at least as new as `got` and one newer.
fn newer_for_direct<'a>(solutions: &'a [Vec<u64>], got: &[u64]) -> Option<&'a Vec<u64>> {
    solutions
        .iter()
        .find(|solution| (0..DIRECT).all(|i| solution[i] >= got[i]) && (0..DIRECT).any(|i| solution[i] > got[i]))
}

fn seeded(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |below: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % below
    }
}

/// Small random registries, checked against every possible assignment: whenever some resolution
/// exists the resolver finds one, and none that keeps every direct requirement at least as new
/// makes one of them newer. The seed is fixed, so a failure reproduces.
#[test]
fn random_registries_against_brute_force() {
    let mut random = seeded(1);
    let mut failures = Vec::new();
    for case in 0..1500 {
        let (registry, requirements, _) = random_registry(&mut random, false);
        let solutions = all_solutions(&requirements);
        match resolve_random(&registry) {
            Ok(got) => {
                if let Some(newer) = newer_for_direct(&solutions, &got) {
                    failures.push(format!("case {case}: resolved {got:?}, but {newer:?} also resolves"));
                }
            }
            Err(err) if !solutions.is_empty() => {
                failures.push(format!("case {case}: no solution ({err}), but {:?} resolves", solutions[0]));
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same with sdist-only versions: a resolution is found whenever one exists, and it has a
/// gap in a package with wheels in other versions only when every resolution has one.
#[test]
fn random_registries_with_gaps_against_brute_force() {
    let mut random = seeded(7);
    let mut failures = Vec::new();
    for case in 0..1500 {
        let (registry, requirements, gaps) = random_registry(&mut random, true);
        let solutions = all_solutions(&requirements);
        // A gap in a package that has wheels in other versions; a package with only sdists is
        // a gap whatever the resolution.
        let avoidable = |package: usize, version: u64| {
            gaps.contains(&(package, version)) && (1..=3).any(|other| !gaps.contains(&(package, other)))
        };
        let has_gap = |assignment: &[u64]| (0..NAMES.len()).any(|i| avoidable(i, assignment[i]));
        let without_gaps: Vec<Vec<u64>> = solutions.iter().filter(|solution| !has_gap(solution)).cloned().collect();
        // The packages an assignment has an avoidable gap in.
        let gapped =
            |assignment: &[u64]| -> Vec<usize> { (0..NAMES.len()).filter(|i| avoidable(*i, assignment[*i])).collect() };
        match resolve_random(&registry) {
            Ok(got) if has_gap(&got) && !without_gaps.is_empty() => {
                failures.push(format!("case {case}: resolved {got:?} with a gap, but {:?} has none", without_gaps[0]));
            }
            Ok(got) => {
                // A gap the resolution could drop while keeping every other gap out is one too
                // many: no solution's gaps are a strict subset of the chosen one's.
                let mine = gapped(&got);
                if let Some(fewer) = solutions.iter().find(|solution| {
                    let theirs = gapped(solution);
                    theirs.len() < mine.len() && theirs.iter().all(|i| mine.contains(i))
                }) {
                    failures
                        .push(format!("case {case}: resolved {got:?} with gaps in {mine:?}, but {fewer:?} has fewer"));
                }
            }
            Err(err) if !solutions.is_empty() => {
                failures.push(format!("case {case}: no solution ({err}), but {:?} resolves", solutions[0]));
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An existing lock that is itself a resolution is kept as it is: whichever resolution a random
/// registry has, with its versions as the preferences the resolver returns exactly those versions
/// (for the packages the direct requirements reach). With sdist-only versions, for resolutions
/// whose gaps are in packages that have no wheel at all (a gap that wheel-first could avoid is
/// given up for a wheel).
#[test]
fn random_registries_keep_a_valid_lock() {
    let mut random = seeded(11);
    let mut failures = Vec::new();
    for case in 0..600 {
        let (registry, requirements, gaps) = random_registry(&mut random, case % 2 == 1);
        let avoidable = |package: usize, version: u64| {
            gaps.contains(&(package, version)) && (1..=3).any(|other| !gaps.contains(&(package, other)))
        };
        let solutions: Vec<Vec<u64>> = all_solutions(&requirements)
            .into_iter()
            .filter(|solution| (0..NAMES.len()).all(|i| !avoidable(i, solution[i])))
            .collect();
        if solutions.is_empty() {
            continue;
        }
        let locked = &solutions[random(solutions.len() as u64) as usize];
        let preferences = NAMES
            .iter()
            .zip(locked)
            .filter(|(_, version)| **version != 0)
            .map(|(name, version)| (name.to_string(), Version::new([*version, 0])))
            .collect();
        match resolve_random_with(&registry, preferences) {
            Ok(got) => {
                if (0..NAMES.len()).any(|i| got[i] != 0 && got[i] != locked[i]) {
                    failures.push(format!("case {case}: locked {locked:?}, relocked {got:?}"));
                }
            }
            Err(err) => failures.push(format!("case {case}: locked {locked:?}, relock failed: {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A registry whose metadata reads for one package fail from the `fail_from`-th read on, as an
/// index that stops answering part way through a lock.
struct FailingRegistry {
    inner: MemoryRegistry,
    package: &'static str,
    fail_from: usize,
    reads: std::cell::Cell<usize>,
}

impl Registry for FailingRegistry {
    fn project(&self, name: &str) -> Result<Arc<Project>, IndexError> {
        self.inner.project(name)
    }

    fn metadata(&self, name: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        if name == self.package {
            self.reads.set(self.reads.get() + 1);
            if self.reads.get() >= self.fail_from {
                return Err(IndexError { message: format!("the index stopped answering for {name}"), help: None });
            }
        }
        self.inner.metadata(name, file)
    }
}

/// An index error in any attempt fails the lock, including the attempts that take back a gap
/// allowance: such an error is not a "no resolution" that keeps the allowance.
#[test]
fn an_index_error_in_a_later_attempt_fails_the_resolution() {
    let text = r#"
        description = "p's metadata fails on a later read"
        [members]
        "function.api" = ["p", "r"]
        [[package]]
        name = "p"
        version = "2.0"
        requires-dist = ["h>=2"]
        [[package]]
        name = "p"
        version = "1.0"
        [[package]]
        name = "h"
        version = "2.0"
        wheels = []
        sdist = true
        [[package]]
        name = "h"
        version = "1.0"
        [[package]]
        name = "r"
        version = "1.0"
        requires-dist = ["g>=2"]
        [[package]]
        name = "g"
        version = "2.0"
        wheels = []
        sdist = true
        [[package]]
        name = "g"
        version = "1.0"
        [expect]
    "#;
    let scenario: Scenario = toml::from_str(text).expect("valid scenario");
    let input = || {
        let members = scenario
            .members
            .iter()
            .map(|(key, list)| {
                let requirements = list.iter().map(|text| Requirement::from_str(text).expect("valid")).collect();
                (MemberId::from_key(key).expect("valid key"), requirements)
            })
            .collect();
        ResolveInput {
            target: Target::new(
                crate::platform::Runtime::from_name("python3.12").expect("known runtime"),
                crate::platform::Architecture::X86_64,
                None,
            ),
            members,
            preferences: HashMap::new(),
            project_pins: HashMap::new(),
            prerelease: PrereleaseMode::IfNecessaryOrExplicit,
            constraints: Vec::new(),
            hashes: HashMap::new(),
            local: Default::default(),
            way_out: String::new(),
        }
    };
    let registry = |fail_from| {
        let mut inner = MemoryRegistry::default();
        for package in &scenario.package {
            inner.add(package).expect("valid package");
        }
        FailingRegistry { inner, package: "p", fail_from, reads: std::cell::Cell::new(0) }
    };
    let counting = registry(usize::MAX);
    let resolution = resolve_with(input(), &counting).expect("resolves");
    assert_eq!(resolution.packages["p"].version.to_string(), "1.0");
    let total = counting.reads.get();
    // Whichever read fails, the resolution fails with the index's error.
    for fail_from in 1..=total {
        match resolve_with(input(), &registry(fail_from)) {
            Err(ResolveError::Index(err)) => assert!(err.message.contains("stopped answering"), "{}", err.message),
            Err(other) => panic!("read {fail_from} of {total} failed, but the resolution said: {other}"),
            Ok(_) => panic!("read {fail_from} of {total} failed, but the resolution succeeded"),
        }
    }
}

/// A registry that records every project name it is asked about.
struct AskedRegistry {
    inner: MemoryRegistry,
    asked: std::cell::RefCell<Vec<String>>,
}

impl Registry for AskedRegistry {
    fn project(&self, name: &str) -> Result<Arc<Project>, IndexError> {
        self.asked.borrow_mut().push(name.to_string());
        self.inner.project(name)
    }

    fn metadata(&self, name: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        self.asked.borrow_mut().push(name.to_string());
        self.inner.metadata(name, file)
    }
}

/// A local package is its one version with its own requirements (and its extras'), and the
/// registry is never asked about its name, even when it serves a newer project of that name.
#[test]
fn a_local_package_is_never_asked_of_the_registry_and_brings_its_requirements() {
    let text = r#"
        description = "the registry has an unrelated, newer common"
        [members]
        "function.api" = ["common[fast]"]
        [[package]]
        name = "common"
        version = "9.0"
        [[package]]
        name = "six"
        version = "1.16.0"
        [[package]]
        name = "speedups"
        version = "2.0"
        [expect]
    "#;
    let scenario: Scenario = toml::from_str(text).expect("valid scenario");
    let mut inner = MemoryRegistry::default();
    for package in &scenario.package {
        inner.add(package).expect("valid package");
    }
    let registry = AskedRegistry { inner, asked: Default::default() };
    let local = |requires_python: Option<&str>| crate::model::LocalPackage {
        name: "common".into(),
        version: Version::from_str("0.3.0").unwrap(),
        path: "libs/common".into(),
        requires_dist: ["six>=1", "speedups>=1 ; extra == \"fast\""]
            .iter()
            .map(|text| Requirement::from_str(text).unwrap())
            .collect(),
        extras: vec!["fast".into()],
        requires_python: requires_python.map(|text| pep440_rs::VersionSpecifiers::from_str(text).unwrap()),
    };
    let input = |local| ResolveInput {
        target: Target::new(
            crate::platform::Runtime::from_name("python3.12").expect("known runtime"),
            crate::platform::Architecture::X86_64,
            None,
        ),
        members: vec![(
            MemberId::from_key("function.api").unwrap(),
            vec![Requirement::from_str("common[fast]").unwrap()],
        )],
        preferences: HashMap::from([("common".to_string(), Version::from_str("9.0").unwrap())]),
        constraints: Vec::new(),
        hashes: HashMap::new(),
        project_pins: HashMap::from([("common".to_string(), Version::from_str("9.0").unwrap())]),
        prerelease: PrereleaseMode::IfNecessaryOrExplicit,
        way_out: String::new(),
        local: std::collections::BTreeMap::from([("common".to_string(), local)]),
    };
    let resolution = resolve_with(input(local(Some(">=3.9"))), &registry).expect("resolves");
    let common = &resolution.packages["common"];
    assert_eq!(common.version.to_string(), "0.3.0");
    assert!(matches!(&common.choice, Choice::Local { path } if path == "libs/common"));
    assert_eq!(common.dependencies.values().collect::<Vec<_>>(), ["six>=1"]);
    assert_eq!(common.extras["fast"].values().collect::<Vec<_>>(), ["speedups>=1"]);
    assert!(resolution.packages.contains_key("speedups") && resolution.packages.contains_key("six"));
    assert!(!registry.asked.borrow().iter().any(|name| name == "common"), "{:?}", registry.asked.borrow());

    // A requires-python the target does not meet says so, naming the local package.
    let err = resolve_with(input(local(Some(">=3.13"))), &registry).unwrap_err();
    let ResolveError::NoSolution { hint, .. } = &err else { panic!("{err}") };
    assert!(hint.contains("`common` is the local package at `libs/common`, version 0.3.0"), "{hint}");
    assert!(hint.contains(">=3.13"), "{hint}");
    assert!(!registry.asked.borrow().iter().any(|name| name == "common"));
}
