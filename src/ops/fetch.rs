//! `lbuild fetch`: download everything the lock needs, so later builds and locks can run with
//! `--offline` and no network at all.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::cache::Cache;
use crate::lockfile::LockedFile;
use crate::manifest::Workspace;
use crate::output::{Progress, status};
use crate::session::{GlobalOptions, index_client};

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

/// What [`fetch_files`] made available.
pub(crate) struct Fetched {
    /// The path of each distinct file, by sha256.
    pub paths: HashMap<String, PathBuf>,
    /// How many of them were downloaded (the rest were in the cache or local).
    pub downloaded: usize,
}

/// Make every given locked file available on disk, verified, downloading in parallel what the
/// cache lacks.
pub(crate) fn fetch_files<'a>(
    workspace: &Workspace,
    files: impl IntoIterator<Item = &'a LockedFile>,
    offline: bool,
) -> miette::Result<Fetched> {
    // One download per distinct file, however many targets share it.
    let mut unique: BTreeMap<String, LockedFile> = BTreeMap::new();
    for file in files {
        unique.entry(file.sha256.clone()).or_insert_with(|| file.clone());
    }
    if unique.is_empty() {
        return Ok(Fetched { paths: HashMap::new(), downloaded: 0 });
    }
    let client = Arc::new(index_client(workspace, offline)?);
    let root = workspace.root.clone();
    let runtime = runtime()?;
    // Tag the cache and sweep what interrupted runs left, even when nothing is written.
    Cache::from_env().prepare();
    let started = std::time::Instant::now();
    let progress = Progress::bar("Fetching", unique.values().map(|file| file.size).sum(), true);
    let results = runtime.block_on(async {
        let fetches = unique.values().map(|file| {
            let client = client.clone();
            let root = root.clone();
            let progress = &progress;
            async move {
                let fetched = client.fetch_locked(&file.filename, &file.url, &file.sha256, file.size, &root).await;
                progress.inc(file.size);
                fetched.map(|(path, downloaded)| (file, path, downloaded))
            }
        });
        futures::future::join_all(fetches).await.into_iter().collect::<Result<Vec<_>, _>>()
    })?;
    drop(progress);
    let (missing, missing_bytes) = results
        .iter()
        .filter(|(_, _, downloaded)| *downloaded)
        .fold((0, 0), |(count, bytes), (file, _, _)| (count + 1, bytes + file.size));
    let paths = results.into_iter().map(|(file, path, _)| (file.sha256.clone(), path)).collect();
    if missing > 0 {
        // The line a log keeps when there is no progress bar to watch.
        status!(
            "Downloaded",
            "{missing} file{} ({:.1} MB) in {:.2}s",
            if missing == 1 { "" } else { "s" },
            missing_bytes as f64 / 1_048_576.0,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Fetched { paths, downloaded: missing })
}
