//! One module per command, each a short function over the modules that do the work.

pub mod build;
pub mod cache;
pub mod export;
pub mod fetch;
pub mod lock;

use std::path::PathBuf;

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
