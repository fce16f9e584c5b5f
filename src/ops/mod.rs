//! One module per command, each a short function over the modules that do the work.

pub mod build;
pub mod cache;
pub mod export;
pub mod fetch;
pub mod gaps;
pub mod init;
pub mod lock;
pub mod tree;

use std::path::PathBuf;

use crate::lockfile::{Lock, LockedTarget};
use crate::manifest::{MemberId, Workspace};

/// The member named by `-p NAME`, or an error listing the names there are.
pub(crate) fn find_member(workspace: &Workspace, name: &str) -> miette::Result<MemberId> {
    if let Some(member) = workspace.member(name) {
        return Ok(member);
    }
    let mut known: Vec<_> = workspace.functions.iter().map(|f| format!("`{}`", f.name)).collect();
    known.extend(workspace.layers.iter().map(|l| format!("`{}`", l.name)));
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
) -> miette::Result<std::collections::BTreeSet<String>> {
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

/// Flags every command shares, named as Cargo names them.
#[derive(Debug, Clone, Default)]
pub struct GlobalOptions {
    /// `--manifest-path`: the `lambda.toml` to use instead of searching from the current directory.
    pub manifest_path: Option<PathBuf>,
    /// `--locked`: fail if `lambda.lock` would change.
    pub locked: bool,
    /// `--offline`: use only the cache.
    pub offline: bool,
    /// `--frozen`: both.
    pub frozen: bool,
}

impl GlobalOptions {
    /// The flag that forbids changing the lock, by its own name, for messages.
    pub fn locked_flag(&self) -> Option<&'static str> {
        if self.frozen {
            Some("--frozen")
        } else if self.locked {
            Some("--locked")
        } else {
            None
        }
    }

    /// The flag that forbids the network, by its own name, for messages.
    pub fn offline_flag(&self) -> Option<&'static str> {
        if self.frozen {
            Some("--frozen")
        } else if self.offline {
            Some("--offline")
        } else {
            None
        }
    }

    /// The workspace and its lock, relocked first when it is stale (unless `--locked`).
    pub(crate) fn locked_workspace(&self) -> miette::Result<(Workspace, Lock)> {
        let workspace = self.workspace()?;
        let options = lock::LockOptions { global: self.clone(), ..lock::LockOptions::default() };
        let (lock, _) = lock::lock_workspace(&workspace, &options)?;
        Ok((workspace, lock))
    }

    /// Find and load the workspace.
    pub fn workspace(&self) -> miette::Result<Workspace> {
        let path = match &self.manifest_path {
            Some(path) => path.clone(),
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|err| miette::miette!("cannot read the current directory: {err}"))?;
                Workspace::discover(&cwd)?
            }
        };
        Workspace::load(&path)
    }
}
