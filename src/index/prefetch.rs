//! Prefetch hints: the projects a package's metadata required when it was last read are kept
//! in the cache ([`crate::cache::Cache::read_hints`]), and fetching that package's page starts
//! theirs in the background. On a warm cache the pages a resolution needs are then fetched
//! together instead of one dependency level at a time (each level waits for the metadata of
//! the one above). Nothing is decided from a hint: a page fetched for nothing costs a request.

use super::IndexClient;
use crate::python::metadata::CoreMetadata;
use crate::python::wheel_name::normalize_name;

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
        needs.truncate(256);
        let project = project.to_string();
        self.with_cache(move |cache| {
            if cache.read_hints(&project) != needs {
                let _ = cache.write_hints(&project, &needs);
            }
        })
        .await;
    }
}

/// [`IndexClient::project`] as a boxed future, so that `project` can spawn it.
fn prefetch(client: IndexClient, name: String) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async move {
        let _ = client.project(&name).await;
    })
}
