//! The index client and the async runtime a command talks to indexes with, built from a
//! workspace's settings.

use crate::cache::Cache;
use crate::cache::remote::RemoteCache;
use crate::index::{Fetched, IndexClient, IndexSettings, IndexSpec, LockedRef, SecretUrl};
use crate::lockfile::LockedFile;
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
        remote: workspace.remote_cache()?.map(|url| std::sync::Arc::new(RemoteCache::new(url, Cache::from_env()))),
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

/// Make every given locked file available on disk, verified, downloading in parallel what the
/// cache lacks (the work is the index client's: [`crate::index::IndexClient::fetch_locked_files`]).
/// `lbuild fetch` and `lbuild build` both fetch through here.
pub(crate) fn fetch_files<'a>(
    workspace: &Workspace,
    files: impl IntoIterator<Item = &'a LockedFile>,
    offline: bool,
) -> miette::Result<Fetched> {
    let files: Vec<LockedRef<'_>> = files
        .into_iter()
        .map(|file| LockedRef { filename: &file.filename, url: &file.url, sha256: &file.sha256, size: file.size })
        .collect();
    if files.is_empty() {
        return Ok(Fetched { paths: Default::default(), downloaded: 0 });
    }
    let client = index_client(workspace, offline)?;
    Ok(runtime()?.block_on(client.fetch_locked_files(files, &workspace.root))?)
}
