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
/// `lbuild fetch` and `lbuild build` both fetch through here; `offer_cached` (`lbuild fetch`)
/// offers the remote cache every wheel the local cache has.
pub(crate) fn fetch_files<'a>(
    workspace: &Workspace,
    files: impl IntoIterator<Item = &'a LockedFile>,
    offline: bool,
    offer_cached: bool,
) -> miette::Result<Fetched> {
    let files: Vec<LockedRef<'_>> = files
        .into_iter()
        .map(|file| LockedRef { filename: &file.filename, url: &file.url, sha256: &file.sha256, size: file.size })
        .collect();
    if files.is_empty() {
        return Ok(Fetched { paths: Default::default(), downloaded: 0 });
    }
    let client = index_client(workspace, offline)?;
    if let Some(remote) = client.remote().filter(|_| offer_cached) {
        remote.offer_cached();
    }
    Ok(runtime()?.block_on(client.fetch_locked_files(files, &workspace.root))?)
}

/// A wheel built from an sdist that the team's remote cache holds (another runner built it):
/// taken into the local cache once its contents hash to the lock's content hash, as a local
/// build is checked. `None` on a miss, or, with a warning, when the copy is not the lock's.
/// `lbuild build` and `lbuild fetch` both take built wheels from the remote cache through here.
pub(crate) fn built_from_remote(
    remote: &crate::cache::remote::RemoteCache,
    runtime: &tokio::runtime::Runtime,
    cache: &Cache,
    built: &crate::lockfile::LockedBuilt,
    name: &str,
    version: &str,
    target: &crate::platform::Target,
) -> miette::Result<Option<(std::path::PathBuf, String)>> {
    let tmp =
        cache.tmp_dir().map_err(|err| miette::miette!("cannot use the cache `{}`: {err}", cache.root().display()))?;
    let sdist = &built.sdist.sha256;
    let Some((landed, uri)) = runtime.block_on(remote.get_built(sdist, &built.content_sha256, &built.wheel, &tmp))
    else {
        return Ok(None);
    };
    match crate::sdist::adopt(cache, built, name, version, target, &landed) {
        Some(found) => {
            crate::output::status!("Fetched", "{} from the remote cache `{}`", built.wheel, remote.url());
            Ok(Some(found))
        }
        None => {
            crate::output::warn_user!(
                "the remote cache's build of `{}` (`{uri}`) is not what `lambda.lock` records: not a wheel of {name} \
                 {version} whose contents hash to {}; it was not used (delete the object, and the next runner that \
                 builds it puts a good copy)",
                built.wheel,
                built.content_sha256
            );
            Ok(None)
        }
    }
}
