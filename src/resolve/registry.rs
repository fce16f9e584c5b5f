//! Where the resolver gets its facts: a [`Registry`] answers, for one project, its files and
//! the core metadata of one chosen file.
//!
//! The solver is synchronous and only ever asks through this trait, so resolution semantics can
//! be tested against an in-memory registry (the scenario tests) while `lbuild lock` uses
//! [`IndexRegistry`], which blocks on the shared async [`IndexClient`] and runs the network
//! ahead of the solver: every prefetch hint starts fetching a project's page and the metadata
//! of its most likely version in the background.

use std::sync::Arc;

use tokio::runtime::Handle;

use super::candidates::candidates;
use crate::index::{DistFile, IndexClient, IndexError, Project};
use crate::platform::Target;
use crate::python::metadata::CoreMetadata;

/// The source of projects and metadata a resolution reads.
pub(crate) trait Registry {
    /// Every file of a project (normalized name); a project nobody has has no files.
    fn project(&self, name: &str) -> Result<Arc<Project>, IndexError>;

    /// The core metadata of one file of `name`.
    fn metadata(&self, name: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError>;

    /// A hint: the solver will soon ask about `name` for `target`. Registries that have
    /// everything at hand ignore it.
    fn prefetch(&self, name: &str, target: &Target) {
        let _ = (name, target);
    }
}

/// The registry behind `lbuild lock`: the configured indexes and find-links directories.
pub(crate) struct IndexRegistry {
    client: Arc<IndexClient>,
    handle: Handle,
}

impl IndexRegistry {
    pub fn new(client: Arc<IndexClient>, handle: Handle) -> IndexRegistry {
        IndexRegistry { client, handle }
    }
}

impl Registry for IndexRegistry {
    fn project(&self, name: &str) -> Result<Arc<Project>, IndexError> {
        self.handle.block_on(self.client.project(name))
    }

    fn metadata(&self, name: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        self.handle.block_on(self.client.metadata(name, file))
    }

    /// Start fetching the project and its newest final wheel's metadata in the background; the
    /// client's caches make the later blocking calls answer at once. Callers hint each name once.
    fn prefetch(&self, name: &str, target: &Target) {
        let client = self.client.clone();
        let target = target.clone();
        let name = name.to_string();
        self.handle.spawn(async move {
            let Ok(project) = client.project(&name).await else { return };
            let list = candidates(&project, &target);
            let newest = list.iter().find(|candidate| {
                candidate.wheel.is_some()
                    && candidate.python_incompatible.is_none()
                    && !candidate.version.any_prerelease()
            });
            if let Some(file) = newest.and_then(|candidate| candidate.wheel.as_ref()) {
                let _ = client.metadata(&name, file).await;
            }
        });
    }
}
