//! The index client and the async runtime a command talks to indexes with, built from a
//! workspace's settings.

use crate::cache::Cache;
use crate::index::{IndexClient, IndexSettings, IndexSpec, SecretUrl};
use crate::manifest::Workspace;

/// The index client for a workspace: its indexes in search order, the packages pinned to one,
/// its find-links directories, and the cache.
pub(crate) fn index_client(workspace: &Workspace, offline: bool) -> miette::Result<IndexClient> {
    let indexes = workspace
        .indexes()
        .into_iter()
        .map(|config| IndexSpec {
            name: config.name,
            url: SecretUrl::new(config.url),
            api: config.api,
            explicit: config.explicit,
        })
        .collect();
    Ok(IndexClient::new(IndexSettings {
        indexes,
        pins: workspace.sources.clone(),
        find_links: workspace.find_links.clone(),
        offline,
        cache: Cache::from_env(),
    })?)
}

/// The async runtime the index client runs on (the resolver's threads block on it).
pub(crate) fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|err| miette::miette!("cannot start the async runtime: {err}"))
}
