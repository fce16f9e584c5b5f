//! `lbuild lock`: resolve every target of the workspace and write `lambda.lock` (the work is
//! `session::lock_workspace`, which every command that reads the lock shares), then report.

use std::path::PathBuf;

pub use crate::lockfile::PinChange;
use crate::output::warn_user;
use crate::plan::{BuildPlan, gaps::collect};
use crate::session::{GlobalOptions, Relock, lock_workspace_reporting};
pub use crate::session::{LockOutcome, PinDifference, lock_path};

/// Options of `lbuild lock`.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    pub global: GlobalOptions,
    /// `--upgrade`: ignore every existing pin.
    pub upgrade: bool,
    /// `--upgrade-package NAME`: ignore the pins of these packages.
    pub upgrade_packages: Vec<String>,
}

/// What `lbuild lock` reports.
#[derive(Debug, Clone)]
pub struct LockReport {
    /// The path of `lambda.lock`.
    pub path: PathBuf,
    pub outcome: LockOutcome,
    /// The targets of the lock, e.g. `python3.12-arm64`.
    pub targets: Vec<String>,
    /// Distinct package names in the lock.
    pub packages: usize,
    /// Every gap a zip needs.
    pub gaps: Vec<crate::plan::gaps::Gap>,
    /// Every package whose locked version differs from its project lock's pin (`uv.lock`, ...).
    pub project_lock_differences: Vec<PinDifference>,
}

/// Run `lbuild lock`.
pub fn lock(options: &LockOptions) -> miette::Result<LockReport> {
    let workspace = options.global.workspace()?;
    let relock = Relock {
        global: options.global.clone(),
        upgrade: options.upgrade,
        upgrade_packages: options.upgrade_packages.clone(),
        regenerate: true,
    };
    let (lock, outcome, differences) = lock_workspace_reporting(&workspace, &relock)?;
    // A resolution warned about its differences; a fresh lock's are said here.
    if outcome == LockOutcome::Fresh {
        for difference in &differences {
            warn_user!("{}", difference.message());
        }
    }
    let plan = BuildPlan::new(&workspace, &lock)?;
    Ok(LockReport {
        path: lock_path(&workspace),
        outcome,
        targets: lock.targets.iter().map(|target| target.name.clone()).collect(),
        packages: lock.package_count(),
        gaps: collect(&plan, &lock),
        project_lock_differences: differences,
    })
}
