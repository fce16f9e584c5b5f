//! `lbuild fetch`: download everything the lock needs, so later builds and locks can run with
//! `--offline` and no network at all.

use super::GlobalOptions;
use super::lock::index_client;
use crate::cache::Cache;
pub(crate) use crate::index::Fetched;
use crate::index::LockedRef;
use crate::lockfile::LockedFile;
use crate::manifest::Workspace;
use crate::output::status;

/// What `fetch` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOutcome {
    /// Distinct files the lock needs.
    pub files: usize,
    /// How many of them had to be downloaded.
    pub downloaded: usize,
}

/// Run `lbuild fetch`.
pub fn fetch(global: &GlobalOptions) -> miette::Result<FetchOutcome> {
    let (workspace, lock) = global.locked_workspace()?;
    let offline = global.offline_flag().is_some();
    let wheels =
        lock.packages.iter().flat_map(|package| package.per_target.iter()).filter_map(|entry| entry.wheel.as_ref());
    let fetched = fetch_files(&workspace, wheels, offline)?;
    // The index pages and metadata too, so that `lbuild lock --offline` can resolve again.
    let client = index_client(&workspace, offline)?;
    let runtime = runtime()?;
    let names: Vec<&str> = lock.packages.iter().map(|package| package.name.as_str()).collect();
    runtime.block_on(async {
        let pages = names.iter().map(|name| client.project(name));
        futures::future::join_all(pages).await.into_iter().collect::<Result<Vec<_>, _>>()
    })?;
    let (files, downloaded) = (fetched.paths.len(), fetched.downloaded);
    status!(
        "Fetched",
        "{files} files for {} targets ({downloaded} downloaded, {} already in the cache `{}`)",
        lock.targets.len(),
        files - downloaded,
        Cache::from_env().root().display()
    );
    Ok(FetchOutcome { files, downloaded })
}

pub(crate) fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|err| miette::miette!("cannot start the async runtime: {err}"))
}

/// Make every given locked file available on disk, verified, downloading in parallel what the
/// cache lacks (the work is the index client's: [`crate::index::IndexClient::fetch_locked_files`]).
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
