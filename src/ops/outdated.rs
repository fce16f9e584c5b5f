//! `lbuild outdated`: the locked packages that have a newer version on their index, per target,
//! and whether that version has a wheel the target can use (else the newest that has one).
//! It moves no pin (`lbuild lock --upgrade` does); like `tree`, it relocks first a lock that is
//! stale (`--locked` refuses instead).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use futures::StreamExt;
use pep440_rs::Version;
use serde::Serialize;

use crate::index::Project;
use crate::model::PATH_SOURCE;
use crate::output::escape_name;
use crate::platform::Target;
use crate::resolve::candidates::candidates;
use crate::session::{GlobalOptions, index_client, runtime};

/// Options of `lbuild outdated`.
#[derive(Debug, Clone, Default)]
pub struct OutdatedOptions {
    pub global: GlobalOptions,
    /// `--target`: only this target.
    pub target: Option<String>,
}

/// One package that could move, on the targets where it is the same story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutdatedPackage {
    pub package: String,
    pub locked: String,
    /// The newest version for the targets' Python that is not yanked (a pre-release only when
    /// the locked version is one).
    pub latest: String,
    /// The newest of those with a wheel the targets can use; `None` when none has one.
    pub latest_with_wheel: Option<String>,
    pub targets: Vec<String>,
}

/// What `lbuild outdated` reports.
#[derive(Debug, Clone, Serialize)]
pub struct OutdatedReport {
    pub packages: Vec<OutdatedPackage>,
    /// Every target of the lock that was looked at.
    pub targets: Vec<String>,
}

/// Run `lbuild outdated`.
pub fn outdated(options: &OutdatedOptions) -> miette::Result<OutdatedReport> {
    let (workspace, lock) = options.global.locked_workspace()?;
    let targets: Vec<Target> = workspace
        .targets()
        .into_iter()
        .map(|(target, _)| target)
        .filter(|target| options.target.as_deref().is_none_or(|wanted| wanted == target.name()))
        .collect();
    if let Some(wanted) = &options.target
        && targets.is_empty()
    {
        let known: Vec<String> = lock.targets.iter().map(|target| format!("`{}`", target.name)).collect();
        miette::bail!(
            help = format!("the lock's targets are {}", known.join(", ")),
            "no target `{wanted}` in the lock"
        );
    }
    // Each package from the index once, whatever the number of targets.
    let names: Vec<String> = {
        let mut names: Vec<String> = lock
            .packages
            .iter()
            .filter(|package| package.source != PATH_SOURCE)
            .map(|package| package.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let client = Arc::new(index_client(&workspace, options.global.offline_flag().is_some())?);
    let projects: BTreeMap<String, Arc<Project>> = runtime()?.block_on(async {
        let fetched: Vec<(String, Result<Arc<Project>, _>)> = futures::stream::iter(names)
            .map(|name| {
                let client = client.clone();
                async move {
                    let project = client.project(&name).await;
                    (name, project)
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        fetched
            .into_iter()
            .map(|(name, project)| {
                project
                    .map(|project| (name.clone(), project))
                    .map_err(|err| miette::miette!("cannot read the index page of `{}`: {err}", escape_name(&name)))
            })
            .collect::<miette::Result<BTreeMap<_, _>>>()
    })?;

    // (package, locked, latest, with wheel) -> targets
    let mut found: BTreeMap<(String, String, String, Option<String>), Vec<String>> = BTreeMap::new();
    for package in lock.packages.iter().filter(|package| package.source != PATH_SOURCE) {
        let (Some(project), Ok(locked)) = (projects.get(&package.name), package.version.parse::<Version>()) else {
            continue;
        };
        for target in
            targets.iter().filter(|target| package.per_target.iter().any(|entry| entry.target == target.name()))
        {
            let usable: Vec<_> = candidates(project, target)
                .into_iter()
                .filter(|candidate| {
                    candidate.has_files() && !candidate.yanked && candidate.python_incompatible.is_none()
                })
                .filter(|candidate| locked.any_prerelease() || !candidate.version.any_prerelease())
                .collect();
            let Some(latest) = usable.first() else { continue };
            if latest.version <= locked {
                continue;
            }
            let with_wheel = usable.iter().find(|candidate| candidate.wheel.is_some()).map(|c| c.version.to_string());
            found
                .entry((package.name.clone(), package.version.clone(), latest.version.to_string(), with_wheel))
                .or_default()
                .push(target.name());
        }
    }
    let packages = found
        .into_iter()
        .map(|((package, locked, latest, latest_with_wheel), mut targets)| {
            targets.sort();
            targets.dedup();
            OutdatedPackage { package, locked, latest, latest_with_wheel, targets }
        })
        .collect();
    Ok(OutdatedReport { packages, targets: targets.into_iter().map(|target| target.name()).collect() })
}

/// The report for people: one line per package and story, the targets when not all.
pub fn render(report: &OutdatedReport) -> String {
    if report.packages.is_empty() {
        return String::new();
    }
    let width = report.packages.iter().map(|row| row.package.len()).max().unwrap_or(0);
    let locked_width = report.packages.iter().map(|row| row.locked.len()).max().unwrap_or(0);
    let mut out = String::new();
    for row in &report.packages {
        let mut line = format!("{:width$}  {:locked_width$} -> {}", row.package, row.locked, row.latest);
        match &row.latest_with_wheel {
            Some(version) if *version == row.latest => {}
            Some(version) if version.parse::<Version>().ok() > row.locked.parse::<Version>().ok() => {
                let _ = write!(line, " (no wheel for the target; newest with one: {version})");
            }
            _ => line.push_str(" (no newer version has a wheel for the target)"),
        }
        if row.targets.len() != report.targets.len() {
            let _ = write!(line, " on {}", row.targets.join(", "));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
