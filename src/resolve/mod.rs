//! Resolution: PubGrub with Python semantics, once per target.
//!
//! The solver (the `pubgrub` crate) is synchronous; it runs on its own thread per target and
//! asks [`Provider`] for versions and dependencies. The provider reads projects and metadata
//! from a [`Registry`]: for `lbuild lock` the [`IndexRegistry`], which blocks on the shared async
//! [`IndexClient`] and, every time the provider learns of a dependency, starts fetching that
//! project's page and the metadata of its most likely version in the background, so the network
//! runs ahead of the solver (the design uv uses); for tests an in-memory registry.
//!
//! Packages in the PubGrub problem:
//! - the root, which depends on one virtual package per workspace member (function or layer),
//!   so a conflict is explained in terms of the functions involved;
//! - one package per distribution, and one per (distribution, extra), pinned to the same
//!   version as its base, as uv does.
//!
//! Version choice follows PEP 440 and pip: specifiers with PEP 440's local-version rules
//! ([`specifiers`]); pre-releases only when the mode allows them, when a requirement names one,
//! or when nothing else fits; yanked versions only when a member itself pins them with `==`
//! (PEP 592); `Requires-Python` against the target's full Python version; markers against the
//! target's environment. Versions without a compatible wheel are skipped (wheel-first); when
//! no version in range has one, the best version with any file is locked as a gap, and a gap
//! in a package that has wheels in other versions is accepted only when no resolution without
//! it exists (further attempts allow gaps only in the packages a failure needed them in, then
//! take back each allowance a resolution does without). The members' direct requirements are decided before what
//! they pull in, so a transitive package gives way to a direct one.
//!
//! Scenario files in `tests/scenarios/` pin these semantics down against an in-memory
//! registry (see `scenarios.rs`).

pub(crate) mod candidates;
mod registry;
mod report;
#[cfg(test)]
mod scenarios;
mod specifiers;
mod suggest;
mod unkept;

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Operator, Version};
use pep508_rs::{ExtraName, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics, PubGrubError, Ranges,
};
use tokio::runtime::Handle;

pub(crate) use registry::{IndexRegistry, Registry};

pub(crate) use candidates::GapReason;
use candidates::{Candidate, classify_gap, runtimes_with_wheels};

use crate::index::{DistFile, IndexClient, IndexError};
use crate::model::{LocalPackage, MemberId, PrereleaseMode};
use crate::platform::Target;
use crate::python::wheel_name::normalize_name;

/// The way out of a conflict between functions resolved together in unified mode: resolve them
/// apart (the session passes it as [`ResolveInput::way_out`]).
pub(crate) const RESOLVE_APART: &str = "resolve the functions that disagree apart: set `resolution = \"per-function\"` \
     in `[workspace]`, or `isolated = true` in one of their `[function.NAME]` tables";

/// What one target's resolution starts from.
pub(crate) struct ResolveInput {
    pub target: Target,
    pub members: Vec<(MemberId, Vec<Requirement>)>,
    /// Versions pinned by the existing lock, kept when they still satisfy the requirements.
    pub preferences: HashMap<String, Version>,
    /// Versions the project's own lock (`uv.lock`, `poetry.lock`, `Pipfile.lock`) pins: tried
    /// before `preferences`, and each one the resolution does not keep is explained in
    /// [`Resolution::unkept`].
    pub project_pins: HashMap<String, Version>,
    pub prerelease: PrereleaseMode,
    /// Local packages by normalized name: each is one version with its own requirements, and
    /// no registry is ever asked about its name (no dependency confusion).
    pub local: BTreeMap<String, LocalPackage>,
    /// What the caller can offer when the members disagree, after "relax one of the
    /// requirements named above, or": how to resolve them apart (empty: nothing to offer).
    pub way_out: String,
    /// Constraints (pip's `-c`): each restricts the versions of its package whenever the
    /// resolution holds that package for another reason, and never adds it.
    pub constraints: Vec<ConstraintInput>,
    /// Package -> the sha256 digests its requirements files' `--hash` options allow: of a
    /// version's compatible wheels, one the index lists with such a digest is chosen over the
    /// best-tagged one, as pip chooses among the files a hash allows.
    pub hashes: HashMap<String, Vec<String>>,
}

/// One constraint of a resolution, with the member it came from.
#[derive(Debug, Clone)]
pub(crate) struct ConstraintInput {
    pub member: MemberId,
    pub requirement: Requirement,
    /// Where it is written, for conflict messages (`line 2 of `constraints.txt``).
    pub origin: String,
}

/// How a resolved package is installed on a target.
#[derive(Debug, Clone)]
pub(crate) enum Choice {
    Wheel(DistFile),
    /// No usable wheel: a vendoring gap, with the best sdist if there is one.
    Gap {
        reason: GapReason,
        detail: String,
        sdist: Option<DistFile>,
        /// The newest version below the gap's that has a wheel for the target, if any.
        older_with_wheel: Option<Version>,
        /// The oldest version above the gap's that has a wheel for the target, if any.
        newer_with_wheel: Option<Version>,
        /// The other runtimes on this architecture that some wheel of the version installs on.
        runtimes_with_wheels: Vec<String>,
    },
    /// A local package, installed from its project directory (workspace-relative, `/`).
    Local {
        path: String,
    },
    /// No usable wheel on the index, but a wheel lbuild built from the sdist: a pure-Python one,
    /// which serves every target, or the native builder's for this target (`built.builder`).
    Built {
        sdist: DistFile,
        built: Arc<crate::sdist::BuiltWheel>,
    },
}

/// Dependency name -> the requirement that pulled it in, as `name[extras]specifiers` with the
/// markers already evaluated for the target (several requirements on one name are merged).
pub(crate) type Edges = BTreeMap<String, String>;

/// One package of a resolution.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedPackage {
    pub version: Version,
    /// The index that served the package (`None`: only find-links has it).
    pub index: Option<String>,
    pub dependencies: Edges,
    /// Extra name -> the edges only that extra brings (requirements whose markers hold with the
    /// extra and not without it), for each extra of the package the resolution uses. A closure
    /// follows them only from an edge that names the extra, so one function's `web[speed]`
    /// does not put `speed`'s packages in another function's zip.
    pub extras: BTreeMap<String, Edges>,
    pub choice: Choice,
}

/// The result of resolving one target.
#[derive(Debug)]
pub(crate) struct Resolution {
    pub target: Target,
    /// Direct dependencies of each member, by member.
    pub members: BTreeMap<MemberId, Edges>,
    pub packages: BTreeMap<String, ResolvedPackage>,
    /// The yanked versions chosen (a member pins each with `==`), as `(name, version, reason)`
    /// with the index's reason escaped to one line (possibly empty): PEP 592 asks for a warning.
    pub yanked: Vec<(String, Version, String)>,
    /// Extras asked of a package whose chosen wheel does not provide them (its METADATA has no
    /// `Provides-Extra` for them and no requirement that needs them), as `(name, version,
    /// extra)`: they add nothing, and pip and uv warn about them, since a misspelt extra
    /// (`powertools[Logger]` for `[tracer]`) silently leaves packages out.
    pub unknown_extras: Vec<(String, Version, String)>,
    /// The project pins (`ResolveInput::project_pins`) of resolved packages that were not kept,
    /// each with the reason.
    pub unkept: Vec<unkept::Unkept>,
}

/// A resolution failure.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum ResolveError {
    #[error("no solution for {target}:\n{report}")]
    #[diagnostic(help("{hint}"))]
    NoSolution { target: String, report: String, hint: String },
    /// Packages no index or find-links directory has. `members` are the ones that require them
    /// directly (empty when only dependencies do); `every_direct` says that no direct
    /// requirement of the group was found at all (a wrong index URL, most likely).
    #[error("no package named {} ({}, on {target}):\n{report}", names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", "), if members.is_empty() { "a dependency".to_string() } else { members.join(", ") })]
    NotFound {
        target: String,
        names: Vec<String>,
        members: Vec<String>,
        every_direct: bool,
        report: String,
        /// A name not found -> the existing project it was probably meant to be.
        suggestions: Vec<(String, String)>,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Index(#[from] IndexError),
    #[error("{0}")]
    Other(String),
}

/// A package in the PubGrub problem.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pkg {
    Root,
    Member(MemberId),
    Dist(String),
    Extra(String, String),
    /// A constraint (its index in the input, and how it is shown): virtual, at version 0, and
    /// required by every edge to its package, so a conflict names it.
    Constraint(usize, Arc<str>),
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root => f.write_str("the workspace"),
            Pkg::Member(member) => write!(f, "{member}"),
            Pkg::Dist(name) => f.write_str(name),
            Pkg::Extra(name, extra) => write!(f, "{name}[{extra}]"),
            Pkg::Constraint(_, shown) => f.write_str(shown),
        }
    }
}

type Range = Ranges<Version>;

/// The requirements seen on each dependency, merged: extras united, specifiers in order seen.
#[derive(Debug, Clone, Default)]
struct EdgeSet(BTreeMap<String, (BTreeSet<String>, Vec<String>)>);

impl EdgeSet {
    fn add(&mut self, name: &str, requirement: &Requirement) {
        let (extras, specifiers) = self.0.entry(name.to_string()).or_default();
        extras.extend(requirement.extras.iter().map(|extra| normalize_name(extra.as_ref())));
        if let Some(VersionOrUrl::VersionSpecifier(list)) = &requirement.version_or_url {
            for specifier in list.iter() {
                let text = specifier.to_string().replace(' ', "");
                if !specifiers.contains(&text) {
                    specifiers.push(text);
                }
            }
        }
    }

    fn merge(&mut self, other: EdgeSet) {
        for (name, (extras, specifiers)) in other.0 {
            let (mine, mine_specifiers) = self.0.entry(name).or_default();
            mine.extend(extras);
            for specifier in specifiers {
                if !mine_specifiers.contains(&specifier) {
                    mine_specifiers.push(specifier);
                }
            }
        }
    }

    fn render(&self) -> Edges {
        self.0
            .iter()
            .map(|(name, (extras, specifiers))| {
                let mut text = name.clone();
                if !extras.is_empty() {
                    text.push('[');
                    text.push_str(&extras.iter().cloned().collect::<Vec<_>>().join(","));
                    text.push(']');
                }
                text.push_str(&specifiers.join(","));
                (name.clone(), text)
            })
            .collect()
    }
}

fn zero() -> Version {
    Version::new([0])
}

struct Provider<'a> {
    input: ResolveInput,
    registry: &'a dyn Registry,
    candidates: RefCell<HashMap<String, Arc<Vec<Candidate>>>>,
    /// The versions each member's own `==` requirements pin, by package: the only way a yanked
    /// version is chosen (PEP 592).
    direct_pins: HashMap<String, Vec<Range>>,
    /// The packages the members require directly on this target.
    direct: HashSet<String>,
    /// Package -> the constraints on it whose markers hold on the target, with their ranges.
    constrained: HashMap<String, Vec<(Pkg, Range)>>,
    /// Packages whose requirements name a pre-release.
    explicit_prerelease: RefCell<HashSet<String>>,
    choices: RefCell<HashMap<(String, Version), Choice>>,
    /// Requirements each chosen (package, version) contributes, for the lock's dependency edges.
    edges: RefCell<HashMap<(String, Version), EdgeSet>>,
    /// The same for each extra of a chosen version: only the requirements the extra adds.
    extra_edges: RefCell<HashMap<(String, Version, String), EdgeSet>>,
    member_edges: RefCell<BTreeMap<MemberId, EdgeSet>>,
    discovery: RefCell<HashMap<Pkg, usize>>,
    prefetched: RefCell<HashSet<String>>,
    not_found: RefCell<BTreeSet<String>>,
    /// Chosen versions that turned out unusable (their metadata excludes the target), and why.
    unusable: RefCell<BTreeMap<(String, Version), String>>,
    /// Which index served each project.
    served_by: RefCell<HashMap<String, Option<String>>>,
    /// The packages with a wheel in some version that may still be locked as a gap (those an
    /// earlier attempt's failure needed a gap in), and those this attempt refused a gap.
    gaps_allowed: RefCell<BTreeSet<String>>,
    gaps_refused: RefCell<BTreeSet<String>>,
}

/// What one attempt records for the lock: the file chosen for each version and the edges.
#[derive(Default)]
struct Records {
    choices: HashMap<(String, Version), Choice>,
    edges: HashMap<(String, Version), EdgeSet>,
    extra_edges: HashMap<(String, Version, String), EdgeSet>,
    member_edges: BTreeMap<MemberId, EdgeSet>,
}

impl Provider<'_> {
    /// What an attempt recorded for the lock, taken out of the provider.
    fn take_records(&self) -> Records {
        Records {
            choices: self.choices.take(),
            edges: self.edges.take(),
            extra_edges: self.extra_edges.take(),
            member_edges: self.member_edges.take(),
        }
    }

    fn restore_records(&self, records: Records) {
        self.choices.replace(records.choices);
        self.edges.replace(records.edges);
        self.extra_edges.replace(records.extra_edges);
        self.member_edges.replace(records.member_edges);
    }

    /// The packages a resolution just found locks as gaps.
    fn gaps_in(&self, solution: &pubgrub::SelectedDependencies<Pkg, Version>) -> BTreeSet<String> {
        let choices = self.choices.borrow();
        solution
            .iter()
            .filter_map(|(package, version)| match package {
                Pkg::Dist(name)
                    if matches!(
                        choices.get(&(name.clone(), version.clone())),
                        Some(Choice::Gap { .. } | Choice::Built { .. })
                    ) =>
                {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Resolve again from scratch with the current gap allowances; the cached projects and
    /// metadata stay. (The error is pubgrub's own type, passed on as it is.)
    #[allow(clippy::result_large_err)]
    fn attempt(&self) -> Result<pubgrub::SelectedDependencies<Pkg, Version>, PubGrubError<Self>> {
        self.gaps_refused.borrow_mut().clear();
        self.choices.borrow_mut().clear();
        self.edges.borrow_mut().clear();
        self.extra_edges.borrow_mut().clear();
        self.member_edges.borrow_mut().clear();
        self.discovery.borrow_mut().clear();
        self.explicit_prerelease.borrow_mut().clear();
        pubgrub::resolve(self, Pkg::Root, zero())
    }

    fn candidates(&self, name: &str) -> Result<Arc<Vec<Candidate>>, IndexError> {
        if let Some(found) = self.candidates.borrow().get(name) {
            return Ok(found.clone());
        }
        let (project, list) = self.registry.candidates(name, &self.input.target)?;
        if project.files.is_empty() {
            self.not_found.borrow_mut().insert(name.to_string());
        }
        self.served_by.borrow_mut().insert(name.to_string(), project.index.clone());
        self.candidates.borrow_mut().insert(name.to_string(), list.clone());
        Ok(list)
    }

    /// Tell the registry, once per project, that the solver will ask about it.
    fn prefetch(&self, name: &str) {
        if !self.input.local.contains_key(name) && self.prefetched.borrow_mut().insert(name.to_string()) {
            self.registry.prefetch(name, &self.input.target);
        }
    }

    /// Whether a member's own requirement pins `version` of `name` with `==` or `===`.
    fn pinned(&self, name: &str, version: &Version) -> bool {
        self.direct_pins.get(name).is_some_and(|pins| pins.iter().any(|pin| pin.contains(version)))
    }

    /// The versions of `name` to try first: the project lock's pin, then the existing lock's.
    fn preferred<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s Version> + 's {
        [self.input.project_pins.get(name), self.input.preferences.get(name)].into_iter().flatten()
    }

    fn choose(&self, name: &str, range: &Range) -> Result<Option<(Version, Choice)>, IndexError> {
        // A local package has its one version, whatever an index holds under its name.
        if let Some(local) = self.input.local.get(name) {
            if !range.contains(&local.version) {
                return Ok(None);
            }
            if let Some(specifiers) = &local.requires_python
                && !specifiers.contains(&self.input.target.python_full_version)
            {
                let reason = self.unsupported_python(specifiers);
                self.unusable.borrow_mut().insert((name.to_string(), local.version.clone()), reason);
                return Ok(None);
            }
            return Ok(Some((local.version.clone(), Choice::Local { path: local.path.clone() })));
        }
        let list = self.candidates(name)?;
        let eligible = |candidate: &&Candidate| {
            range.contains(&candidate.version)
                && candidate.python_incompatible.is_none()
                && (!candidate.yanked || self.pinned(name, &candidate.version))
        };
        let allow_prerelease = match self.input.prerelease {
            PrereleaseMode::Allow => true,
            PrereleaseMode::Disallow => false,
            PrereleaseMode::IfNecessaryOrExplicit => {
                self.explicit_prerelease.borrow().contains(name)
                    || !list
                        .iter()
                        .filter(eligible)
                        .any(|candidate| candidate.has_files() && !candidate.version.any_prerelease())
            }
        };
        let allowed =
            |candidate: &&Candidate| eligible(candidate) && (allow_prerelease || !candidate.version.any_prerelease());
        // A pin of the project's own lock, then of the existing lock, wins while it still fits.
        for preferred in self.preferred(name) {
            if let Some(candidate) = list.iter().filter(allowed).find(|candidate| &candidate.version == preferred)
                && let Some(wheel) = self.wheel_of(name, candidate)
            {
                return Ok(Some((candidate.version.clone(), Choice::Wheel(wheel))));
            }
        }
        if let Some(candidate) = list.iter().filter(allowed).find(|candidate| candidate.wheel.is_some()) {
            let wheel = self.wheel_of(name, candidate).expect("filtered on wheels");
            return Ok(Some((candidate.version.clone(), Choice::Wheel(wheel))));
        }
        // The ways out a user can take at once: the nearest versions on either side with a
        // wheel, whatever the requirements say (they may have to relax one).
        let usable = |other: &&Candidate| {
            other.wheel.is_some()
                && other.python_incompatible.is_none()
                && !other.yanked
                && (allow_prerelease || !other.version.any_prerelease())
        };
        // Wheel-first across packages: while this package has a wheel in some version, a
        // resolution that needs a gap here waits until every resolution without one has failed.
        if !self.gaps_allowed.borrow().contains(name) && list.iter().any(|candidate| usable(&candidate)) {
            self.gaps_refused.borrow_mut().insert(name.to_string());
            return Ok(None);
        }
        // No wheel anywhere in range: a gap, at a preferred version while it fits, else at the
        // best version that has an sdist, else at the best version with any file.
        let gap = self
            .preferred(name)
            .find_map(|preferred| {
                list.iter().filter(allowed).find(|candidate| &candidate.version == preferred && candidate.has_files())
            })
            .or_else(|| list.iter().filter(allowed).find(|candidate| candidate.sdist.is_some()))
            .or_else(|| list.iter().filter(allowed).find(|candidate| candidate.has_files()));
        Ok(gap.map(|candidate| {
            let (mut reason, mut detail) = classify_gap(candidate, &self.input.target);
            if reason == GapReason::OnlySdist
                && let Some(sdist) = candidate.sdist.as_deref()
            {
                use crate::sdist::{NotBuilt, SdistOutcome};
                match self.registry.build_from_sdist(name, &candidate.version, sdist) {
                    SdistOutcome::Built(built) => {
                        return (candidate.version.clone(), Choice::Built { sdist: sdist.clone(), built });
                    }
                    SdistOutcome::NotBuilt(NotBuilt::NativeCode { tags }) => {
                        reason = GapReason::NativeCode;
                        detail =
                            format!("version {}'s sdist builds a wheel with native code ({tags})", candidate.version);
                    }
                    SdistOutcome::NotBuilt(NotBuilt::Failed { message }) => {
                        reason = GapReason::BuildFailed;
                        let first = message.lines().next().unwrap_or_default();
                        detail = format!("version {}'s sdist did not build: {first}", candidate.version);
                    }
                    SdistOutcome::NotBuilt(NotBuilt::NoBuildEnv(why)) => {
                        crate::output::debug!("{name} {}: not built from its sdist: {why}", candidate.version);
                    }
                    SdistOutcome::NotBuilt(NotBuilt::Disabled | NotBuilt::NoPython(_)) => {}
                }
            }
            // The user's native builder, for this target, from the sdist: whatever the index lacks
            // (only an sdist, wheels for the other architecture only, a glibc too new).
            if let Some(sdist) = candidate.sdist.as_deref()
                && let Some(outcome) = self.registry.build_native(name, &candidate.version, sdist, &self.input.target)
            {
                use crate::sdist::SdistOutcome;
                match outcome {
                    SdistOutcome::Built(built) => {
                        return (candidate.version.clone(), Choice::Built { sdist: sdist.clone(), built });
                    }
                    SdistOutcome::NotBuilt(why) => {
                        let why = why.to_string();
                        let first = why.lines().next().unwrap_or_default();
                        detail = format!("{detail}; the native builder did not build it: {first}");
                        crate::output::debug!("{name} {}: the native builder: {why}", candidate.version);
                    }
                }
            }
            let older_with_wheel =
                list.iter().filter(usable).find(|older| older.version < candidate.version).map(|c| c.version.clone());
            let newer_with_wheel = list
                .iter()
                .rev()
                .filter(usable)
                .find(|newer| newer.version > candidate.version)
                .map(|c| c.version.clone());
            (
                candidate.version.clone(),
                Choice::Gap {
                    reason,
                    detail,
                    sdist: candidate.sdist.as_deref().cloned(),
                    older_with_wheel,
                    newer_with_wheel,
                    runtimes_with_wheels: runtimes_with_wheels(candidate, &self.input.target),
                },
            )
        }))
    }

    /// The wheel of a candidate to install: its best-tagged one, unless a requirements file's
    /// `--hash` allows another compatible wheel of the version and not that one.
    fn wheel_of(&self, name: &str, candidate: &Candidate) -> Option<DistFile> {
        let best = candidate.wheel.as_deref()?;
        let Some(allowed) = self.input.hashes.get(name) else { return Some(best.clone()) };
        let hashed = |file: &DistFile| {
            file.sha256.as_ref().is_some_and(|sha| allowed.iter().any(|a| a.eq_ignore_ascii_case(sha)))
        };
        if hashed(best) {
            return Some(best.clone());
        }
        let tags = &self.input.target.tags;
        let other = candidate
            .files
            .iter()
            .filter(|file| hashed(file) && (candidate.yanked || file.yanked.is_none()))
            .filter_map(|file| match &file.kind {
                crate::index::DistKind::Wheel(wheel) => Some((tags.wheel_priority(wheel)?, file)),
                crate::index::DistKind::Sdist => None,
            })
            .min_by_key(|(priority, _)| *priority)
            .map(|(_, file)| (**file).clone());
        Some(other.unwrap_or_else(|| best.clone()))
    }

    /// Whether `range` is what the solver had left of `name` after trying versions (a bound at
    /// a version it chose), not a range some requirement asked for.
    fn leftover(&self, name: &str, range: &Range) -> bool {
        use std::ops::Bound::{Excluded, Included};
        let choices = self.choices.borrow();
        range.iter().any(|(low, high)| {
            [low, high].into_iter().any(|bound| match bound {
                Included(version) | Excluded(version) => choices.contains_key(&(name.to_string(), version.clone())),
                _ => false,
            })
        })
    }

    /// Why `name` `version` cannot be used when its metadata's Requires-Python excludes the
    /// target's Python (the version is marked unusable), or `None`. Indexes that publish no
    /// Requires-Python (pypiserver, some mirrors) leave the check to this metadata.
    fn python_unsupported(
        &self,
        name: &str,
        version: &Version,
        metadata: &crate::python::metadata::CoreMetadata,
    ) -> Option<String> {
        let specifiers = metadata.requires_python.as_ref()?;
        if specifiers.contains(&self.input.target.python_full_version) {
            return None;
        }
        let reason = self.unsupported_python(specifiers);
        self.unusable.borrow_mut().insert((name.to_string(), version.clone()), reason.clone());
        Some(reason)
    }

    /// What a package whose `Requires-Python` excludes the target is said to do.
    fn unsupported_python(&self, specifiers: &pep440_rs::VersionSpecifiers) -> String {
        let target = &self.input.target;
        format!(
            "declares Requires-Python {specifiers}, so it does not support {} (Python {})",
            target.runtime.name, target.python_full_version
        )
    }

    /// Why the versions of `name` in `range` that have files were not chosen, one line each.
    fn why_none(&self, name: &str, range: &Range) -> Vec<String> {
        let Some(list) = self.candidates.borrow().get(name).cloned() else { return Vec::new() };
        let mut reasons = Vec::new();
        let mut yanked = false;
        for candidate in list.iter().filter(|candidate| candidate.has_files() && range.contains(&candidate.version)) {
            let version = &candidate.version;
            if candidate.yanked && !self.pinned(name, version) {
                yanked = true;
                let reason = candidate.files.iter().find_map(|file| file.yanked.clone()).unwrap_or_default();
                // The index's text, kept to one visible line.
                let reason = match reason.trim() {
                    "" => String::new(),
                    reason => format!(" ({})", crate::output::escape_name(reason)),
                };
                reasons.push(format!("{name} {version} is yanked{reason}"));
            } else if let Some(specifiers) = &candidate.python_incompatible {
                reasons.push(format!("{name} {version} {}", self.unsupported_python(specifiers)));
            } else if let Some(reason) = self.unusable.borrow().get(&(name.to_string(), version.clone())) {
                reasons.push(format!("{name} {version} {reason}"));
            } else if version.any_prerelease() && self.input.prerelease == PrereleaseMode::Disallow {
                reasons.push(format!("{name} {version} is a pre-release, and the workspace disallows pre-releases"));
            }
        }
        let more = reasons.len().saturating_sub(3);
        reasons.truncate(3);
        if more > 0 {
            reasons.push(format!(
                "and {more} more version(s) of {name} in {} that cannot be used",
                specifiers::show(range)
            ));
        }
        if yanked {
            reasons.push(format!(
                "a yanked version is chosen only when a function or layer itself pins it with `==` (`{name}==VERSION` in its requirements)"
            ));
        }
        reasons
    }

    /// Turn requirements into PubGrub constraints for the target, remembering the edges.
    fn constraints(
        &self,
        requirements: &[Requirement],
        extras: &[ExtraName],
        this: &Pkg,
        edges: &mut EdgeSet,
    ) -> Result<DependencyConstraints<Pkg, Range>, IndexError> {
        let mut merged: Vec<(Pkg, Range)> = Vec::new();
        let mut add = |pkg: Pkg, range: &Range| {
            if &pkg == this {
                return;
            }
            match merged.iter_mut().find(|(existing, _)| *existing == pkg) {
                Some((_, existing)) => *existing = existing.intersection(range),
                None => merged.push((pkg, range.clone())),
            }
        };
        for requirement in requirements {
            if !requirement.evaluate_markers(&self.input.target.markers, extras) {
                continue;
            }
            let name = normalize_name(requirement.name.as_ref());
            let range = match &requirement.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                    // A specifier that names a pre-release asks for pre-releases, except an
                    // exclusion (`!=2.0rc1` only rules one out).
                    if specifiers.iter().any(|specifier| {
                        specifier.version().any_prerelease()
                            && !matches!(specifier.operator(), Operator::NotEqual | Operator::NotEqualStar)
                    }) {
                        self.explicit_prerelease.borrow_mut().insert(name.clone());
                    }
                    specifiers::range(specifiers)
                }
                Some(VersionOrUrl::Url(url)) => {
                    return Err(IndexError {
                        message: format!(
                            "{this} requires `{name}` from a URL (`{}`), which lbuild does not lock",
                            crate::model::redact(&url.to_string())
                        ),
                        help: Some("publish the package to an index or a find-links directory".into()),
                    });
                }
                None => Range::full(),
            };
            self.prefetch(&name);
            if !matches!(this, Pkg::Dist(own) | Pkg::Extra(own, _) if *own == name) {
                edges.add(&name, requirement);
            }
            add(Pkg::Dist(name.clone()), &range);
            for (constraint, _) in self.constrained.get(&name).into_iter().flatten() {
                add(constraint.clone(), &Range::singleton(zero()));
            }
            for extra in &requirement.extras {
                add(Pkg::Extra(name.clone(), normalize_name(extra.as_ref())), &range);
            }
        }
        Ok(merged.into_iter().collect())
    }

    /// The requirements of a chosen version, or why that version cannot be used after all.
    fn dist_requirements(
        &self,
        name: &str,
        version: &Version,
    ) -> Result<Result<Arc<Vec<Requirement>>, String>, IndexError> {
        let choice = self.choices.borrow().get(&(name.to_string(), version.clone())).cloned();
        let choice = match choice {
            Some(choice) => choice,
            None => match self.choose(name, &Range::singleton(version.clone()))? {
                Some((_, choice)) => {
                    self.choices.borrow_mut().insert((name.to_string(), version.clone()), choice.clone());
                    choice
                }
                None => return Ok(Err("has no file that fits the target".to_string())),
            },
        };
        match choice {
            Choice::Wheel(file) => {
                let metadata = self.registry.metadata(name, &file)?;
                // Indexes that publish no Requires-Python (pypiserver, some mirrors) leave the
                // check to the metadata of the chosen wheel.
                if let Some(reason) = self.python_unsupported(name, version, &metadata) {
                    return Ok(Err(reason));
                }
                Ok(Ok(Arc::new(metadata.requires_dist.clone())))
            }
            Choice::Built { built, .. } => {
                if let Some(reason) = self.python_unsupported(name, version, &built.metadata) {
                    return Ok(Err(reason));
                }
                Ok(Ok(Arc::new(built.metadata.requires_dist.clone())))
            }
            // The dependencies of a gap are what its sdist's static PKG-INFO (PEP 643) says; else
            // they are unknown without building it, and the wheel that fills the gap brings its own.
            Choice::Gap { sdist: Some(sdist), .. } => match self.registry.static_metadata(name, version, &sdist) {
                Some(metadata) => {
                    if let Some(reason) = self.python_unsupported(name, version, &metadata) {
                        return Ok(Err(reason));
                    }
                    Ok(Ok(Arc::new(metadata.requires_dist.clone())))
                }
                None => Ok(Ok(Arc::new(Vec::new()))),
            },
            Choice::Gap { sdist: None, .. } => Ok(Ok(Arc::new(Vec::new()))),
            Choice::Local { .. } => Ok(Ok(Arc::new(
                self.input.local.get(name).map(|local| local.requires_dist.clone()).unwrap_or_default(),
            ))),
        }
    }
}

impl DependencyProvider for Provider<'_> {
    type P = Pkg;
    type V = Version;
    type VS = Range;
    type M = String;
    type Err = IndexError;
    type Priority = (u8, u32, Reverse<usize>);

    fn prioritize(&self, package: &Pkg, range: &Range, statistics: &PackageResolutionStatistics) -> Self::Priority {
        let mut discovery = self.discovery.borrow_mut();
        let next = discovery.len();
        let order = *discovery.entry(package.clone()).or_insert(next);
        // The members first, then what they require directly, so a transitive dependency never
        // takes its newest version at the cost of a member's direct requirement: the solver
        // decides the direct ones while nothing constrains them but the members and their own
        // dependencies. Then single-version ranges (nothing to choose), then the rest.
        let kind = match package {
            Pkg::Root | Pkg::Member(_) | Pkg::Constraint(..) => 4,
            Pkg::Dist(name) | Pkg::Extra(name, _) if self.direct.contains(name) => 3,
            _ if range.as_singleton().is_some() => 2,
            _ => 1,
        };
        // Ties break by discovery order, so the same inputs always give the same lock.
        (kind, statistics.conflict_count(), Reverse(order))
    }

    fn choose_version(&self, package: &Pkg, range: &Range) -> Result<Option<Version>, IndexError> {
        match package {
            Pkg::Root | Pkg::Member(_) | Pkg::Constraint(..) => Ok(Some(zero()).filter(|v| range.contains(v))),
            Pkg::Dist(name) | Pkg::Extra(name, _) => {
                let chosen = self.choose(name, range)?;
                Ok(chosen.map(|(version, choice)| {
                    self.choices.borrow_mut().insert((name.clone(), version.clone()), choice);
                    version
                }))
            }
        }
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Range, String>, IndexError> {
        match package {
            Pkg::Root => Ok(Dependencies::Available(
                self.input
                    .members
                    .iter()
                    .map(|(member, _)| (Pkg::Member(member.clone()), Range::singleton(zero())))
                    .collect(),
            )),
            Pkg::Constraint(index, _) => {
                let requirement = &self.input.constraints[*index].requirement;
                let name = normalize_name(requirement.name.as_ref());
                let range = self
                    .constrained
                    .get(&name)
                    .and_then(|list| list.iter().find(|(pkg, _)| pkg == package))
                    .map_or_else(Range::full, |(_, range)| range.clone());
                Ok(Dependencies::Available([(Pkg::Dist(name), range)].into_iter().collect()))
            }
            Pkg::Member(member) => {
                let requirements = self
                    .input
                    .members
                    .iter()
                    .find(|(id, _)| id == member)
                    .map(|(_, requirements)| requirements.clone())
                    .unwrap_or_default();
                let mut edges = EdgeSet::default();
                let constraints = self.constraints(&requirements, &[], package, &mut edges)?;
                self.member_edges.borrow_mut().insert(member.clone(), edges);
                Ok(Dependencies::Available(constraints))
            }
            Pkg::Dist(name) => {
                let requirements = match self.dist_requirements(name, version)? {
                    Ok(requirements) => requirements,
                    Err(reason) => return Ok(Dependencies::Unavailable(reason)),
                };
                let mut edges = EdgeSet::default();
                let constraints = self.constraints(&requirements, &[], package, &mut edges)?;
                // A package that turns on its own extra (`web` requiring `web[speed]`) keeps that
                // self-edge, so a closure of anything needing `web` follows it into `speed`.
                let markers = &self.input.target.markers;
                for requirement in requirements.iter() {
                    if !requirement.extras.is_empty()
                        && normalize_name(requirement.name.as_ref()) == *name
                        && requirement.evaluate_markers(markers, &[])
                    {
                        edges.add(name, requirement);
                    }
                }
                self.edges.borrow_mut().entry((name.clone(), version.clone())).or_default().merge(edges);
                Ok(Dependencies::Available(constraints))
            }
            Pkg::Extra(name, extra) => {
                let requirements = match self.dist_requirements(name, version)? {
                    Ok(requirements) => requirements,
                    Err(reason) => return Ok(Dependencies::Unavailable(reason)),
                };
                let extra_name = ExtraName::from_str(extra).map_err(|err| IndexError {
                    message: format!("invalid extra `{extra}` of `{name}`: {err}"),
                    help: None,
                })?;
                let mut all_edges = EdgeSet::default();
                let mut constraints: Vec<(Pkg, Range)> = self
                    .constraints(&requirements, std::slice::from_ref(&extra_name), package, &mut all_edges)?
                    .into_iter()
                    .collect();
                constraints.push((Pkg::Dist(name.clone()), Range::singleton(version.clone())));
                // The extra's own edges: what holds with the extra and not without it. (The
                // base package's edges are recorded by its `Pkg::Dist`.) A requirement on the
                // package itself with other extras (`web[all]` -> `web[speed]`) is kept, so a
                // closure can follow one extra into the next.
                let markers = &self.input.target.markers;
                let mut edges = EdgeSet::default();
                for requirement in requirements.iter() {
                    if requirement.evaluate_markers(markers, std::slice::from_ref(&extra_name))
                        && !requirement.evaluate_markers(markers, &[])
                    {
                        let dependency = normalize_name(requirement.name.as_ref());
                        if dependency != *name || !requirement.extras.is_empty() {
                            edges.add(&dependency, requirement);
                        }
                    }
                }
                self.extra_edges
                    .borrow_mut()
                    .entry((name.clone(), version.clone(), extra.clone()))
                    .or_default()
                    .merge(edges);
                Ok(Dependencies::Available(constraints.into_iter().collect()))
            }
        }
    }
}

/// Resolve one target against the indexes. Blocks; call it off the async runtime.
pub(crate) fn resolve(
    input: ResolveInput,
    client: Arc<IndexClient>,
    handle: Handle,
    builder: Option<Arc<crate::sdist::SdistBuilder>>,
) -> Result<Resolution, ResolveError> {
    resolve_with(input, &IndexRegistry::new(client, handle).with_builder(builder))
}

/// The versions the members' own requirements pin exactly, by package.
fn direct_pins(input: &ResolveInput) -> HashMap<String, Vec<Range>> {
    let mut pins: HashMap<String, Vec<Range>> = HashMap::new();
    for (_, requirements) in &input.members {
        for requirement in requirements {
            let Some(VersionOrUrl::VersionSpecifier(list)) = &requirement.version_or_url else { continue };
            if !requirement.evaluate_markers(&input.target.markers, &[]) {
                continue;
            }
            for specifier in list.iter() {
                if matches!(specifier.operator(), Operator::Equal | Operator::ExactEqual) {
                    let name = normalize_name(requirement.name.as_ref());
                    pins.entry(name).or_default().push(specifiers::specifier_range(specifier));
                }
            }
        }
    }
    pins
}

/// The constraints whose markers hold on the target, by package, each as its virtual package
/// and the range it allows.
fn constrained(input: &ResolveInput) -> HashMap<String, Vec<(Pkg, Range)>> {
    let mut constrained: HashMap<String, Vec<(Pkg, Range)>> = HashMap::new();
    for (index, constraint) in input.constraints.iter().enumerate() {
        let requirement = &constraint.requirement;
        if !requirement.evaluate_markers(&input.target.markers, &[]) {
            continue;
        }
        let range = match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => specifiers::range(specifiers),
            _ => Range::full(),
        };
        let shown = format!("the constraint `{requirement}` of {} ({})", constraint.member, constraint.origin);
        constrained
            .entry(normalize_name(requirement.name.as_ref()))
            .or_default()
            .push((Pkg::Constraint(index, Arc::from(shown)), range));
    }
    constrained
}

/// Resolve one target against any registry.
pub(crate) fn resolve_with(input: ResolveInput, registry: &dyn Registry) -> Result<Resolution, ResolveError> {
    let target_name = input.target.name();
    let direct_pins = direct_pins(&input);
    let direct = input
        .members
        .iter()
        .flat_map(|(_, requirements)| requirements)
        .filter(|requirement| requirement.evaluate_markers(&input.target.markers, &[]))
        .map(|requirement| normalize_name(requirement.name.as_ref()))
        .collect();
    let constrained = constrained(&input);
    let provider = Provider {
        input,
        registry,
        direct_pins,
        direct,
        constrained,
        candidates: RefCell::default(),
        explicit_prerelease: RefCell::default(),
        choices: RefCell::default(),
        edges: RefCell::default(),
        extra_edges: RefCell::default(),
        member_edges: RefCell::default(),
        discovery: RefCell::default(),
        prefetched: RefCell::default(),
        not_found: RefCell::default(),
        unusable: RefCell::default(),
        served_by: RefCell::default(),
        gaps_allowed: RefCell::default(),
        gaps_refused: RefCell::default(),
    };
    let mut outcome = pubgrub::resolve(&provider, Pkg::Root, zero());
    // No resolution without the gaps refused so far: start over with a gap allowed in each
    // refused package the failure rests on ("no version of g in >=2"). A failure that rests on
    // no refused gap stands. Each attempt allows at least one more package; what the projects
    // and metadata say stays cached, so an attempt costs only the solver's time.
    while let Err(PubGrubError::NoSolution(tree)) = &outcome {
        let mut empty = Vec::new();
        report::no_versions(tree, &mut empty);
        let needed: BTreeSet<String> = {
            let refused = provider.gaps_refused.borrow();
            let allowed = provider.gaps_allowed.borrow();
            empty
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| refused.contains(name) && !allowed.contains(name))
                .collect()
        };
        if needed.is_empty() {
            break;
        }
        provider.gaps_allowed.borrow_mut().extend(needed);
        outcome = provider.attempt();
    }
    // Then take back each allowance a resolution does without (in name order, so the same
    // inputs give the same lock): no resolution then has its gaps in a strict subset of the
    // chosen one's packages, so an unavoidable gap in one package never lets another take a
    // gap it could avoid.
    if let Ok(solution) = &outcome
        && !provider.gaps_allowed.borrow().is_empty()
    {
        let mut kept_gaps = provider.gaps_in(solution);
        let mut last_kept = true;
        let mut kept_records = Records::default();
        let allowed: Vec<String> = provider.gaps_allowed.borrow().iter().cloned().collect();
        for name in allowed {
            provider.gaps_allowed.borrow_mut().remove(&name);
            // An allowance the kept resolution has no gap under goes without a new attempt:
            // that resolution still holds.
            if !kept_gaps.contains(&name) {
                continue;
            }
            if last_kept {
                kept_records = provider.take_records();
            }
            match provider.attempt() {
                Ok(solution) => {
                    kept_gaps = provider.gaps_in(&solution);
                    outcome = Ok(solution);
                    last_kept = true;
                }
                Err(PubGrubError::NoSolution(_)) => {
                    provider.gaps_allowed.borrow_mut().insert(name);
                    last_kept = false;
                }
                // An index that fails while a trial reads something new fails the lock.
                Err(other) => {
                    outcome = Err(other);
                    last_kept = true;
                    break;
                }
            }
        }
        if !last_kept {
            // The provider's records belong to the failed trial: back to the kept ones.
            provider.restore_records(kept_records);
        }
    }
    let solution = match outcome {
        Ok(solution) => solution,
        Err(PubGrubError::NoSolution(mut tree)) => {
            // Which ranges had no version at all, before collapsing drops them from the story.
            let mut empty = Vec::new();
            report::no_versions(&tree, &mut empty);
            tree.collapse_no_versions();
            let report = report::explain(&tree);
            if !provider.not_found.borrow().is_empty() {
                // Said plainly, before any derivation: a name no index has is almost always a typo
                // or a missing index.
                let direct: Vec<(&MemberId, String)> = provider
                    .input
                    .members
                    .iter()
                    .flat_map(|(member, requirements)| {
                        // A requirement whose markers exclude it on this target is not asked for.
                        requirements
                            .iter()
                            .filter(|requirement| requirement.evaluate_markers(&provider.input.target.markers, &[]))
                            .map(move |requirement| (member, normalize_name(requirement.name.as_ref())))
                    })
                    .filter(|(_, name)| !provider.input.local.contains_key(name))
                    .collect();
                // The solver stops at the first name it cannot find: ask about the other direct
                // requirements too, so every misspelled one is said at once, and "nothing was
                // found" (a wrong index URL) is told from one typo.
                for (_, name) in &direct {
                    if !provider.candidates.borrow().contains_key(name) {
                        let _ = provider.candidates(name);
                    }
                }
                let not_found = provider.not_found.borrow();
                let mut members: Vec<String> = direct
                    .iter()
                    .filter(|(_, name)| not_found.contains(name))
                    .map(|(member, _)| format!("required by {member}"))
                    .collect();
                members.sort();
                members.dedup();
                // Found only in the find-links directories counts as not found on the index.
                let served_by = provider.served_by.borrow();
                let nothing_found = !direct.is_empty()
                    && direct
                        .iter()
                        .all(|(_, name)| not_found.contains(name) || served_by.get(name).is_some_and(Option::is_none));
                // A few names may be typos even when none was found (one requirement, misspelled);
                // many names none of which exists point at the index, and asking it more says nothing.
                let suggestions: Vec<(String, String)> = if nothing_found && not_found.len() > 3 {
                    Vec::new()
                } else {
                    not_found
                        .iter()
                        .filter_map(|name| suggest::suggest(provider.registry, name).map(|meant| (name.clone(), meant)))
                        .collect()
                };
                // A suggestion the index has shows the index answers.
                let every_direct = nothing_found && suggestions.is_empty();
                return Err(ResolveError::NotFound {
                    target: target_name,
                    names: not_found.iter().cloned().collect(),
                    members,
                    every_direct,
                    report,
                    suggestions,
                });
            }
            let not_found = provider.not_found.borrow();
            let hint = if not_found.is_empty() {
                let mut lines = Vec::new();
                for (name, range) in empty {
                    if provider.leftover(&name, &range) {
                        continue;
                    }
                    if let Some(local) = provider.input.local.get(&name) {
                        lines.push(format!(
                            "`{name}` is the local package at `{}`, version {}{}",
                            local.path,
                            local.version,
                            if range.contains(&local.version) {
                                String::new()
                            } else {
                                format!(", which is not in {}", specifiers::show(&range))
                            }
                        ));
                        if let Some(reason) = provider.unusable.borrow().get(&(name.clone(), local.version.clone())) {
                            lines.push(format!(
                                "{name} {} {reason}; change `requires-python` in its pyproject.toml or the runtime",
                                local.version
                            ));
                        }
                        continue;
                    }
                    let Some(list) = provider.candidates.borrow().get(&name).cloned() else { continue };
                    let unusable = provider.unusable.borrow();
                    let fits = list.iter().find(|candidate| {
                        candidate.python_incompatible.is_none()
                            && !candidate.yanked
                            && candidate.has_files()
                            && !(candidate.version.any_prerelease()
                                && provider.input.prerelease == PrereleaseMode::Disallow)
                            && !unusable.contains_key(&(name.clone(), candidate.version.clone()))
                    });
                    let newest = match fits {
                        Some(candidate) => {
                            format!("the newest version of {name} for {target_name} is {}", candidate.version)
                        }
                        None => format!("{name} has no version for {target_name}"),
                    };
                    lines.push(match (range == Range::full(), fits) {
                        (true, None) => newest,
                        (true, Some(_)) => format!("no version of {name} exists for this target; {newest}"),
                        (false, _) => {
                            format!(
                                "no version of {name} in {} exists for this target; {newest}",
                                specifiers::show(&range)
                            )
                        }
                    });
                    lines.extend(provider.why_none(&name, &range));
                }
                let what = if report.contains("the constraint `") {
                    "one of the requirements or constraints named above"
                } else {
                    "one of the requirements named above"
                };
                lines.push(match provider.input.way_out.as_str() {
                    "" => format!("relax {what}"),
                    way_out => format!("relax {what}, or {way_out}"),
                });
                lines.join("\n")
            } else {
                format!(
                    "not found in the index or find-links: {}",
                    not_found.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
                )
            };
            return Err(ResolveError::NoSolution { target: target_name, report, hint });
        }
        Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorRetrievingDependencies { source, .. }) => return Err(source.into()),
        Err(PubGrubError::ErrorInShouldCancel(source)) => return Err(source.into()),
    };
    let choices = provider.choices.borrow();
    let edges = provider.edges.borrow();
    let extra_edges = provider.extra_edges.borrow();
    // The extras the solution uses, each with its own edges (possibly none).
    let mut extras: BTreeMap<String, BTreeMap<String, Edges>> = BTreeMap::new();
    for (package, version) in solution.iter() {
        let Pkg::Extra(name, extra) = package else { continue };
        let key = (name.clone(), version.clone(), extra.clone());
        extras
            .entry(name.clone())
            .or_default()
            .insert(extra.clone(), extra_edges.get(&key).map(EdgeSet::render).unwrap_or_default());
    }
    let mut packages = BTreeMap::new();
    for (package, version) in solution.iter() {
        let Pkg::Dist(name) = package else { continue };
        let key = (name.clone(), version.clone());
        let choice = choices
            .get(&key)
            .cloned()
            .ok_or_else(|| ResolveError::Other(format!("internal error: no file chosen for {name} {version}")))?;
        packages.insert(
            name.clone(),
            ResolvedPackage {
                version: version.clone(),
                index: provider.served_by.borrow().get(name).cloned().flatten(),
                dependencies: edges.get(&key).map(EdgeSet::render).unwrap_or_default(),
                extras: extras.remove(name).unwrap_or_default(),
                choice,
            },
        );
    }
    // Edges recorded on a path the solver later left may name packages outside the solution.
    let resolved: BTreeSet<String> = packages.keys().cloned().collect();
    for package in packages.values_mut() {
        package.dependencies.retain(|name, _| resolved.contains(name));
        for edges in package.extras.values_mut() {
            edges.retain(|name, _| resolved.contains(name));
        }
    }
    let mut members: BTreeMap<MemberId, Edges> =
        provider.member_edges.borrow().iter().map(|(member, edges)| (member.clone(), edges.render())).collect();
    for edges in members.values_mut() {
        edges.retain(|name, _| resolved.contains(name));
    }
    let mut yanked = Vec::new();
    for (name, package) in &packages {
        let list = provider.candidates.borrow().get(name).cloned().unwrap_or_default();
        if let Some(candidate) = list.iter().find(|candidate| candidate.version == package.version && candidate.yanked)
        {
            let reason = candidate.files.iter().find_map(|file| file.yanked.clone()).unwrap_or_default();
            yanked.push((name.clone(), package.version.clone(), crate::output::escape_name(reason.trim())));
        }
    }
    let mut unknown_extras = Vec::new();
    for (name, package) in &packages {
        let empty: Vec<&String> = package.extras.iter().filter(|(_, edges)| edges.is_empty()).map(|(e, _)| e).collect();
        if empty.is_empty() {
            continue;
        }
        if let Some(local) = provider.input.local.get(name) {
            for extra in empty.into_iter().filter(|extra| !local.extras.contains(extra)) {
                unknown_extras.push((name.clone(), package.version.clone(), extra.clone()));
            }
            continue;
        }
        let Choice::Wheel(file) = &package.choice else { continue };
        let metadata = provider.registry.metadata(name, file)?;
        for extra in empty {
            let provided = metadata.provides_extra.iter().any(|provided| normalize_name(provided) == *extra);
            // Metadata before 2.1 need not list `Provides-Extra`, so those wheels are not judged;
            // from 2.1 an extra is known when it is listed or a requirement needs it.
            let lists_extras = metadata
                .metadata_version
                .split_once('.')
                .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)))
                .is_some_and(|version| version >= (2, 1));
            let needed = !lists_extras
                || ExtraName::from_str(extra).is_ok_and(|extra_name| {
                    metadata.requires_dist.iter().any(|requirement| {
                        requirement.evaluate_markers(&provider.input.target.markers, std::slice::from_ref(&extra_name))
                            && !requirement.evaluate_markers(&provider.input.target.markers, &[])
                    })
                });
            if !provided && !needed {
                unknown_extras.push((name.clone(), package.version.clone(), extra.clone()));
            }
        }
    }
    let unkept = unkept::explain(&provider, &members, &packages);
    Ok(Resolution { target: provider.input.target.clone(), members, packages, yanked, unknown_extras, unkept })
}
