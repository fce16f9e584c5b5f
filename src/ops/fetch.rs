//! `lbuild fetch`: download everything the lock needs, so later builds and locks can run with
//! `--offline` and no network at all.

use crate::cache::Cache;
use crate::output::status;
use crate::session::{GlobalOptions, built_from_remote, fetch_files, index_client, runtime};

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
    // Wheels, and the sdists of wheels lbuild builds, so that `lbuild build --offline` can build
    // them again.
    let entries = || lock.packages.iter().flat_map(|package| package.per_target.iter());
    let wheels = entries()
        .filter_map(|entry| entry.wheel.as_ref())
        .chain(entries().filter_map(|entry| entry.built.as_ref().map(|built| &built.sdist)));
    // `lbuild fetch` fills the caches: the remote one gets what the local one has too.
    let fetched = fetch_files(&workspace, wheels, offline, true)?;
    // The index pages and metadata too, so that `lbuild lock --offline` can resolve again.
    let client = index_client(&workspace, offline)?;
    let runtime = runtime()?;
    // Wheels built from sdists: from the team's remote cache when the local cache lacks them
    // (building them is `lbuild build`'s), and offered to it when it has them.
    if let Some(remote) = client.remote().filter(|_| !offline) {
        remote.offer_cached();
        let cache = Cache::from_env();
        let mut seen = std::collections::BTreeSet::new();
        for package in &lock.packages {
            for entry in &package.per_target {
                let Some(built) = &entry.built else { continue };
                let Some((python, architecture)) = crate::platform::parse_target_name(&entry.target) else { continue };
                let native = (built.builder == "native").then_some(entry.target.as_str());
                if !seen.insert((&built.sdist.sha256, &built.content_sha256, &built.wheel, native)) {
                    continue;
                }
                let target = crate::platform::Target::new(python, architecture, None);
                match crate::sdist::cached(&cache, built, &package.name, &package.version, &target) {
                    Some((path, _)) => runtime.block_on(remote.put_built(
                        &built.sdist.sha256,
                        &built.content_sha256,
                        &built.wheel,
                        &path,
                        true,
                    )),
                    None => {
                        built_from_remote(remote, &runtime, &cache, built, &package.name, &package.version, &target)?;
                    }
                }
            }
        }
    }
    // A local package is never looked up on an index.
    let names: Vec<&str> =
        lock.packages.iter().filter(|package| package.path.is_none()).map(|package| package.name.as_str()).collect();
    runtime.block_on(async {
        let pages = names.iter().map(|name| client.project(name));
        futures::future::join_all(pages).await.into_iter().collect::<Result<Vec<_>, _>>()
    })?;
    let (files, downloaded) = (fetched.paths.len(), fetched.downloaded);
    status!(
        "Fetched",
        "{} for {} ({downloaded} downloaded, {} already in the cache `{}`)",
        crate::output::count(files, "file"),
        crate::output::count(lock.targets.len(), "target"),
        files - downloaded,
        Cache::from_env().root().display()
    );
    Ok(FetchOutcome { files, downloaded })
}
