//! Where the resolver gets its facts: a [`Registry`] answers, for one project, its files and
//! the core metadata of one chosen file.
//!
//! The solver is synchronous and only ever asks through this trait, so resolution semantics can
//! be tested against an in-memory registry (the scenario tests) while `lbuild lock` uses
//! [`IndexRegistry`], which blocks on the shared async [`IndexClient`] and runs the network
//! ahead of the solver: every prefetch hint starts fetching a project's page and the metadata
//! of its most likely version in the background.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;

use super::candidates::{Candidate, candidates};
use crate::index::{DistFile, IndexClient, IndexError, Project};
use crate::platform::Target;
use crate::python::metadata::CoreMetadata;
use crate::python::wheel_name::normalize_name;

/// The source of projects and metadata a resolution reads.
pub(crate) trait Registry {
    /// Every file of a project (normalized name); a project nobody has has no files.
    fn project(&self, name: &str) -> Result<Arc<Project>, IndexError>;

    /// A project with its candidates for `target`, newest first. Registries that serve
    /// several targets or prefetch may keep the list, so it is computed once per target.
    fn candidates(&self, name: &str, target: &Target) -> Result<(Arc<Project>, Arc<Vec<Candidate>>), IndexError> {
        let project = self.project(name)?;
        let list = Arc::new(candidates(&project, target));
        Ok((project, list))
    }

    /// The core metadata of one file of `name`.
    fn metadata(&self, name: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError>;

    /// Whether `name` is pinned to one index or to the find-links directories
    /// (`[workspace.sources]`), so that only they are ever asked about it.
    fn pinned(&self, name: &str) -> bool {
        let _ = name;
        false
    }

    /// A wheel built from the sdist of a version that has no usable wheel. Registries that
    /// cannot build say so, and the version stays a gap.
    fn build_from_sdist(
        &self,
        name: &str,
        version: &pep440_rs::Version,
        sdist: &DistFile,
    ) -> crate::sdist::SdistOutcome {
        let _ = (name, version, sdist);
        crate::sdist::SdistOutcome::NotBuilt(crate::sdist::NotBuilt::Disabled)
    }

    /// The sdist's `PKG-INFO` when it states the dependencies of every wheel built from it
    /// (PEP 643: Metadata-Version 2.2+, `Requires-Dist` not dynamic); `None` otherwise.
    fn static_metadata(&self, name: &str, version: &pep440_rs::Version, sdist: &DistFile) -> Option<Arc<CoreMetadata>> {
        let _ = (name, version, sdist);
        None
    }

    /// A wheel for `target` built from the sdist by `[workspace] native-builder`; `None` when
    /// there is none (or building is off).
    fn build_native(
        &self,
        name: &str,
        version: &pep440_rs::Version,
        sdist: &DistFile,
        target: &Target,
    ) -> Option<crate::sdist::SdistOutcome> {
        let _ = (name, version, sdist, target);
        None
    }

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
    /// The candidate lists computed so far, by project and target name; the prefetch task
    /// and the solver share them.
    lists: Arc<Lists>,
    /// Builds wheels from sdists (`None`: versions with only an sdist stay gaps).
    builder: Option<Arc<crate::sdist::SdistBuilder>>,
}

type Lists = Mutex<HashMap<(String, String), Arc<Vec<Candidate>>>>;

impl IndexRegistry {
    pub fn new(client: Arc<IndexClient>, handle: Handle) -> IndexRegistry {
        IndexRegistry { client, handle, lists: Arc::default(), builder: None }
    }

    /// The same registry, building wheels from sdists with `builder`.
    pub fn with_builder(mut self, builder: Option<Arc<crate::sdist::SdistBuilder>>) -> IndexRegistry {
        self.builder = builder;
        self
    }
}

/// The candidates of a fetched project for `target`, computed once per pair.
fn listed(lists: &Lists, name: &str, project: &Project, target: &Target) -> Arc<Vec<Candidate>> {
    let key = (name.to_string(), target.name());
    if let Some(list) = lists.lock().expect("lock is not poisoned").get(&key) {
        return list.clone();
    }
    // Computed outside the lock; when two callers race, the first list stored wins.
    let list = Arc::new(candidates(project, target));
    lists.lock().expect("lock is not poisoned").entry(key).or_insert(list).clone()
}

impl Registry for IndexRegistry {
    fn project(&self, name: &str) -> Result<Arc<Project>, IndexError> {
        self.handle.block_on(self.client.project(name))
    }

    fn candidates(&self, name: &str, target: &Target) -> Result<(Arc<Project>, Arc<Vec<Candidate>>), IndexError> {
        let project = self.project(name)?;
        let list = listed(&self.lists, &normalize_name(name), &project, target);
        Ok((project, list))
    }

    fn pinned(&self, name: &str) -> bool {
        self.client.is_pinned(name)
    }

    fn metadata(&self, name: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        self.handle.block_on(self.client.metadata(name, file))
    }

    fn build_from_sdist(
        &self,
        name: &str,
        version: &pep440_rs::Version,
        sdist: &DistFile,
    ) -> crate::sdist::SdistOutcome {
        match &self.builder {
            Some(builder) => builder.build_for(name, version, sdist),
            None => crate::sdist::SdistOutcome::NotBuilt(crate::sdist::NotBuilt::Disabled),
        }
    }

    fn build_native(
        &self,
        name: &str,
        version: &pep440_rs::Version,
        sdist: &DistFile,
        target: &Target,
    ) -> Option<crate::sdist::SdistOutcome> {
        self.builder.as_ref()?.build_native_for(name, version, sdist, target)
    }

    fn static_metadata(&self, name: &str, version: &pep440_rs::Version, sdist: &DistFile) -> Option<Arc<CoreMetadata>> {
        self.builder.as_ref()?.static_metadata(name, version, sdist)
    }

    /// Start fetching the project and its newest final wheel's metadata in the background; the
    /// client's caches make the later blocking calls answer at once. Callers hint each name once.
    fn prefetch(&self, name: &str, target: &Target) {
        let (client, lists) = (self.client.clone(), self.lists.clone());
        let target = target.clone();
        let name = normalize_name(name);
        self.handle.spawn(async move {
            let Ok(project) = client.project(&name).await else { return };
            let list = listed(&lists, &name, &project, &target);
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
