//! What every command shares, below `ops` (commands never call each other; they meet here, as
//! cargo's commands meet in `ops::resolve_ws`): the global flags, finding and loading the
//! workspace, bringing its `lambda.lock` up to date ([`lock`]), and the index client and async
//! runtime built from a workspace ([`client`]).

mod client;
mod lock;
mod project_locks;

use std::path::PathBuf;

pub(crate) use client::{built_from_remote, fetch_files, index_client, runtime};
pub use lock::{LockOutcome, lock_path};
pub(crate) use lock::{Relock, lock_workspace, lock_workspace_reporting};
pub use project_locks::PinDifference;

use crate::lockfile::Lock;
use crate::manifest::Workspace;

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
    /// `--no-build`: never run a build backend.
    pub no_build: bool,
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
        let (lock, _) = lock_workspace(&workspace, &Relock::new(self))?;
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
