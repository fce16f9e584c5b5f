//! Prefetch hints: the projects a package's metadata required when it was last read are kept
//! in the cache ([`crate::cache::Cache::read_hints`]), and fetching that package's page starts
//! theirs in the background. On a warm cache the pages a resolution needs are then fetched
//! together instead of one dependency level at a time (each level waits for the metadata of
//! the one above). Nothing is decided from a hint: a page fetched for nothing costs a request.

//!
//! Backtracking walks down the versions of one package, asking for one version's metadata at a
//! time. Once a second version of a project is asked for, the metadata of the next older
//! versions' universal wheels (`none-any`: the one file the resolver would pick for any target)
//! is fetched in the background too, so the walk finds them in the memo.

use std::sync::Arc;

use super::{DistFile, DistKind, IndexClient};
use crate::python::metadata::CoreMetadata;
use crate::python::wheel_name::normalize_name;

/// How many older versions' metadata one step down a project's versions fetches ahead.
const OLDER_AHEAD: usize = 8;

impl IndexClient {
    /// Start fetching, in the background, the pages of the projects that `name` needed last
    /// time (see [`Cache::read_hints`]): on a warm cache the pages a resolution will ask for
    /// are then fetched together instead of one dependency level at a time. Nothing is
    /// decided from a hint; a page fetched for nothing costs one request.
    pub(super) async fn prefetch_hinted(&self, name: &str) {
        if self.offline {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let project = name.to_string();
        for hinted in self.with_cache(move |cache| cache.read_hints(&project)).await {
            if self.projects.contains(&hinted) {
                continue;
            }
            runtime.spawn(prefetch(self.clone(), hinted));
        }
    }

    /// Remember which projects this metadata requires without extras, for the next run.
    pub(super) async fn remember_hints(&self, project: &str, metadata: &CoreMetadata) {
        let mut needs: Vec<String> = metadata
            .requires_dist
            .iter()
            .filter(|requirement| requirement.marker.evaluate_extras(&[]))
            .map(|requirement| normalize_name(requirement.name.as_ref()))
            .collect();
        needs.sort();
        needs.dedup();
        needs.truncate(crate::cache::MAX_HINTS);
        let project = project.to_string();
        self.with_cache(move |cache| {
            if cache.read_hints(&project) != needs {
                let _ = cache.write_hints(&project, &needs);
            }
        })
        .await;
    }
}

impl IndexClient {
    /// When `file` is not the first version of `project` asked for this run, start fetching
    /// the metadata of the universal wheels of the [`OLDER_AHEAD`] next older final versions.
    pub(super) fn prefetch_older_versions(&self, project: &str, file: &DistFile) {
        if self.offline || !is_universal(file) {
            return;
        }
        let name = normalize_name(project);
        {
            let mut asked = self.versions_asked.lock().expect("lock is not poisoned");
            let versions = asked.entry(name.clone()).or_default();
            versions.insert(file.version.clone());
            if versions.len() < 2 {
                return;
            }
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (client, below) = (self.clone(), file.version.clone());
        runtime.spawn(async move {
            let Ok(found) = client.project(&name).await else { return };
            let mut older: Vec<&Arc<DistFile>> = found
                .files
                .iter()
                .filter(|other| is_universal(other) && other.version < below && !other.version.any_prerelease())
                .collect();
            older.sort_by(|a, b| b.version.cmp(&a.version));
            older.dedup_by(|a, b| a.version == b.version);
            for other in older.into_iter().take(OLDER_AHEAD) {
                tokio::spawn(prefetch_metadata(client.clone(), name.clone(), DistFile::clone(other)));
            }
        });
    }
}

/// A wheel for every platform and ABI.
fn is_universal(file: &DistFile) -> bool {
    matches!(&file.kind, DistKind::Wheel(wheel) if wheel.platform_tags == ["any"] && wheel.abi_tags == ["none"])
}

/// [`IndexClient::memoized_metadata`] as a boxed future, so that `metadata` can spawn it.
fn prefetch_metadata(client: IndexClient, project: String, file: DistFile) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async move {
        let _ = client.memoized_metadata(&project, &file).await;
    })
}

/// [`IndexClient::project`] as a boxed future, so that `project` can spawn it.
fn prefetch(client: IndexClient, name: String) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async move {
        let _ = client.project(&name).await;
    })
}
