//! Talking to package indexes.
//!
//! [`IndexClient`] lists a project's files ([`IndexClient::project`]), reads the core metadata
//! of one exact file ([`IndexClient::metadata`]) and makes the files a lock names available on
//! disk ([`IndexClient::fetch_locked_files`]). Which API it speaks follows from the index URL
//! unless the manifest says `api = ...`: a URL whose path ends in `/pypi` is a PyPI JSON API
//! base (`<base>/<name>/json`); any other is a simple repository (PEP 691 JSON preferred
//! through content negotiation, PEP 503 HTML otherwise). Files in `find-links` directories
//! join the index's.
//!
//! One concern per module: [`pages`] fetches project pages through the cache and owns their
//! HTTP cache policy, [`metadata`] picks the cheapest metadata source (PEP 658 file, range
//! requests, full download), [`download`] streams whole files to the cache and verifies them,
//! [`find_links`] scans local directories, [`files`] reads each API's shape into [`DistFile`]s,
//! and [`http`] owns retries, limits and credentials. The project-level `requires_dist` of the
//! JSON API is never used: it describes the first file uploaded, not the chosen wheel.
//!
//! Requests run concurrently (bounded by a semaphore) and each project or metadata request is
//! made at most once per run, however many resolver threads ask for it.

mod download;
mod files;
mod find_links;
pub(crate) mod html;
mod http;
pub(crate) use http::error_chain;
pub(crate) mod lazy;
mod metadata;
pub(crate) mod origin;
mod pages;
mod prefetch;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use miette::Diagnostic;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use thiserror::Error;
use tokio::sync::OnceCell;
use url::Url;

pub(crate) use download::{Fetched, LockedRef};
pub(crate) use files::{CoreMetadataOffer, DistFile, DistKind};
use http::{Credentials, Http};
pub(crate) use http::{SecretUrl, redact};

use crate::cache::{Cache, sha256_hex};
use crate::model::IndexApi;
use crate::output::debug;
use crate::python::metadata::CoreMetadata;
use crate::python::wheel_name::normalize_name;

/// An index error. Clonable, because one failed request answers every caller that waited on it.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{message}")]
pub(crate) struct IndexError {
    pub message: String,
    #[help]
    pub help: Option<String>,
}

impl IndexError {
    /// An error whose quoted values (names and file names from the index) are cut short.
    fn new(message: impl Into<String>) -> IndexError {
        IndexError { message: crate::output::cap_quotes_at(&message.into(), 1000), help: None }
    }

    fn with_help(mut self, help: impl Into<String>) -> IndexError {
        self.help = Some(help.into());
        self
    }
}

/// The files of one project, from the index that serves it and the find-links directories.
/// Each file is shared (`Arc`): every target's candidate list points at the same files.
#[derive(Debug)]
pub(crate) struct Project {
    pub files: Vec<Arc<DistFile>>,
    /// The name of the index the files came from; `None` when only find-links has the project.
    pub index: Option<String>,
}

/// One configured index.
#[derive(Debug, Clone)]
pub(crate) struct IndexSpec {
    pub name: String,
    /// May carry `user:password@`; the client strips it into its credentials.
    pub url: SecretUrl,
    pub api: IndexApi,
    /// Only for packages pinned to it.
    pub explicit: bool,
}

/// Settings of an [`IndexClient`].
pub(crate) struct IndexSettings {
    /// Searched in order for packages not pinned to an index.
    pub indexes: Vec<IndexSpec>,
    /// Package (normalized) -> the index it must come from.
    pub pins: BTreeMap<String, String>,
    pub find_links: Vec<PathBuf>,
    pub offline: bool,
    pub cache: Cache,
    /// The remote cache beneath `cache`, if the workspace has one (`cache-url`).
    pub remote: Option<Arc<crate::cache::remote::RemoteCache>>,
}

/// A memo of async results by key: the first caller computes, the others wait for its answer.
struct OnceMap<V> {
    cells: Mutex<HashMap<String, Cell<V>>>,
}

type Cell<V> = Arc<OnceCell<Result<V, IndexError>>>;

impl<V: Clone> OnceMap<V> {
    fn new() -> Self {
        OnceMap { cells: Mutex::new(HashMap::new()) }
    }

    async fn get_or_init<F, Fut>(&self, key: &str, init: F) -> Result<V, IndexError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, IndexError>>,
    {
        let cell = {
            let mut cells = self.cells.lock().expect("lock is not poisoned");
            cells.entry(key.to_string()).or_default().clone()
        };
        cell.get_or_init(init).await.clone()
    }

    /// Whether `key` was asked for already (answered or not).
    fn contains(&self, key: &str) -> bool {
        self.cells.lock().expect("lock is not poisoned").contains_key(key)
    }
}

/// An index with its URL cleaned of credentials.
struct Index {
    name: String,
    /// With a trailing slash, without credentials.
    url: Url,
    api: IndexApi,
    explicit: bool,
}

/// The client for the configured indexes plus the find-links directories. Cloning it is cheap
/// and shares everything (its memos, connections and counters).
#[derive(Clone)]
pub(crate) struct IndexClient {
    inner: Arc<Inner>,
}

impl std::ops::Deref for IndexClient {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

/// What an [`IndexClient`] holds.
pub(crate) struct Inner {
    http: Http,
    cache: Cache,
    indexes: Vec<Index>,
    pins: BTreeMap<String, String>,
    find_links: Vec<PathBuf>,
    offline: bool,
    remote: Option<Arc<crate::cache::remote::RemoteCache>>,
    projects: OnceMap<Arc<Project>>,
    metadata: OnceMap<Arc<CoreMetadata>>,
    find_links_files: OnceCell<Arc<HashMap<String, Vec<DistFile>>>>,
    /// Sizes learnt from `Content-Range` or `Content-Length`, by URL.
    sizes: Mutex<HashMap<String, u64>>,
    /// Origins asked for a `.metadata` file their pages do not advertise: `true` once one
    /// served such a file, `false` when the first answer was not one (see `metadata`).
    unadvertised_metadata: Mutex<HashMap<String, bool>>,
    /// The versions whose metadata was asked for, by project (see `prefetch`).
    versions_asked: Mutex<HashMap<String, std::collections::BTreeSet<pep440_rs::Version>>>,
}

impl IndexClient {
    pub fn new(settings: IndexSettings) -> Result<IndexClient, IndexError> {
        let mut credentials = Credentials::default();
        let mut indexes = Vec::new();
        for spec in &settings.indexes {
            let parsed = Url::parse(spec.url.expose_for_request()).map_err(|err| {
                IndexError::new(format!("invalid URL `{}` for index `{}`: {err}", spec.url, spec.name)).with_help(
                    "index URLs look like `https://user:token@host/simple/`; check `LBUILD_INDEX_URL` and lambda.toml",
                )
            })?;
            let mut url = credentials.add_index(&spec.name, &parsed);
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            indexes.push(Index { name: spec.name.clone(), url, api: spec.api, explicit: spec.explicit });
        }
        // Last, so that an index's own credentials win over netrc's for the same host.
        credentials.add_netrc();
        Ok(IndexClient {
            inner: Arc::new(Inner {
                http: Http::new(credentials)?,
                cache: settings.cache,
                indexes,
                pins: settings.pins,
                find_links: settings.find_links,
                offline: settings.offline,
                remote: settings.remote,
                projects: OnceMap::new(),
                metadata: OnceMap::new(),
                find_links_files: OnceCell::new(),
                sizes: Mutex::new(HashMap::new()),
                unadvertised_metadata: Mutex::new(HashMap::new()),
                versions_asked: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The remote cache beneath the local one, if the workspace has one.
    pub fn remote(&self) -> Option<&Arc<crate::cache::remote::RemoteCache>> {
        self.remote.as_ref()
    }

    /// Requests sent so far (for `-v` summaries).
    pub fn requests(&self) -> u64 {
        self.http.stats.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The name of the index whose host serves `url`, for error messages.
    fn index_for(&self, url: &Url) -> String {
        self.indexes
            .iter()
            .find(|index| index.url.host_str() == url.host_str())
            .map(|index| index.name.clone())
            .unwrap_or_else(|| url.host_str().unwrap_or("file host").to_string())
    }

    /// The files of a project: from the pinned index, else from the first index that has it
    /// (never merged across indexes, so a public package cannot stand in for a private one),
    /// plus the find-links directories. A project nobody has has no files.
    pub async fn project(&self, name: &str) -> Result<Arc<Project>, IndexError> {
        let name = normalize_name(name);
        self.projects.get_or_init(&name.clone(), || self.fetch_project(name)).await
    }

    async fn fetch_project(&self, name: String) -> Result<Arc<Project>, IndexError> {
        self.prefetch_hinted(&name).await;
        // A package pinned to the find-links directories (`{ find-links = true }`) asks no index,
        // so a newer or unrelated project of that name on an index never stands in for it.
        let candidates: Vec<&Index> = match self.pins.get(&name) {
            Some(pinned) if pinned == crate::model::FIND_LINKS => Vec::new(),
            Some(pinned) => self.indexes.iter().filter(|index| &index.name == pinned).collect(),
            None => self.indexes.iter().filter(|index| !index.explicit).collect(),
        };
        let mut files = Vec::new();
        let mut served_by = None;
        for index in candidates {
            let found = self.index_files(index, &name).await?;
            if !found.is_empty() {
                files = found.into_iter().map(Arc::new).collect();
                served_by = Some(index.name.clone());
                break;
            }
        }
        let local = self.find_links_files().await?;
        if let Some(local) = local.get(&name) {
            files.extend(local.iter().cloned().map(Arc::new));
        }
        debug!("{name}: {} files from {}", files.len(), served_by.as_deref().unwrap_or("find-links"));
        Ok(Arc::new(Project { files, index: served_by }))
    }
}

impl IndexClient {
    /// Whether `[workspace.sources]` pins `name` to one index or to the find-links directories.
    pub fn is_pinned(&self, name: &str) -> bool {
        self.pins.contains_key(&normalize_name(name))
    }

    /// The cache this client reads and fills.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Run cache IO on a blocking thread, off the async workers.
    async fn with_cache<T: Send + 'static>(&self, work: impl FnOnce(&Cache) -> T + Send + 'static) -> T {
        let cache = self.cache.clone();
        blocking(move || work(&cache)).await
    }
}

/// Run file IO on a blocking thread, off the async workers; a panic there carries on here.
pub(super) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    }
}

/// The cache key of a file: its sha256, or the hash of its URL when the index gives none.
fn file_key(file: &DistFile) -> String {
    match &file.sha256 {
        Some(sha256) => sha256.clone(),
        None => sha256_hex(file.url.as_str().as_bytes()),
    }
}

fn join(base: &Url, path: &str) -> Result<Url, IndexError> {
    base.join(path)
        .map_err(|err| IndexError::new(format!("cannot build a URL from `{}`: {err}", SecretUrl::from(base))))
}

/// Turn an unsuccessful status into an error that names the URL (401 and 403 never get here:
/// `http` answers them with the ways to give credentials).
fn check_status(status: StatusCode, url: &Url, index: &str) -> Result<(), IndexError> {
    if status.is_success() {
        return Ok(());
    }
    Err(IndexError::new(format!("`{}` answered {status} (index `{index}`)", SecretUrl::from(url)))
        .with_help(format!("check the URL of index `{index}` in lambda.toml, and that the index is up")))
}

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    /// Code that may block on the file system: never on the async workers, where it stalls every
    /// request that worker drives.
    const BLOCKING: &[&str] = &[
        "fs_err::",
        "std::fs::",
        "path.is_file()",
        "path.exists()",
        "cache.read_",
        "cache.write_",
        "cache.prepare()",
        "cache.tmp_dir()",
        "sha256_file(",
    ];

    /// What moves work onto a blocking thread.
    const OFF_THE_WORKERS: &[&str] = &["spawn_blocking(", "with_cache(", "blocking("];

    /// The lines of `source`'s async code (async fns and blocks) that call something in
    /// [`BLOCKING`] outside a closure given to one of [`OFF_THE_WORKERS`]. A brace count, not a
    /// parser: enough for this module's code, which the test keeps honest.
    fn blocking_calls_on_async_workers(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        let (mut depth, mut in_async, mut off_workers) = (0i32, None::<(i32, bool)>, Vec::<i32>::new());
        for (number, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.trim_start().starts_with("mod tests") {
                break;
            }
            if in_async.is_none() && (code.contains("async fn ") || code.contains("async move {")) {
                in_async = Some((depth, false));
            }
            let starts_off = OFF_THE_WORKERS.iter().any(|call| code.contains(call));
            if starts_off {
                off_workers.push(depth);
            }
            if in_async.is_some() && off_workers.is_empty() && BLOCKING.iter().any(|call| code.contains(call)) {
                found.push(format!("{}: {}", number + 1, line.trim()));
            }
            for byte in code.bytes() {
                match byte {
                    b'{' => {
                        depth += 1;
                        if let Some((_, opened)) = in_async.as_mut() {
                            *opened = true;
                        }
                    }
                    b'}' => depth -= 1,
                    _ => {}
                }
            }
            // Calls and closures close with `)` as well as `}`: a region ends once its line's
            // braces are closed and its parentheses too.
            while off_workers
                .last()
                .is_some_and(|start| depth <= *start && code.trim_end().ends_with([')', ';', '?', '.']))
            {
                off_workers.pop();
            }
            if in_async.is_some_and(|(start, opened)| opened && depth <= start) {
                in_async = None;
            }
        }
        found
    }

    #[test]
    fn no_file_io_runs_on_the_async_workers() {
        let sources = [
            ("download.rs", include_str!("download.rs")),
            ("metadata.rs", include_str!("metadata.rs")),
            ("pages.rs", include_str!("pages.rs")),
            ("prefetch.rs", include_str!("prefetch.rs")),
            ("find_links.rs", include_str!("find_links.rs")),
            ("mod.rs", include_str!("mod.rs")),
        ];
        for (name, source) in sources {
            let found = blocking_calls_on_async_workers(source);
            assert!(found.is_empty(), "{name} blocks an async worker on file IO:\n{}", found.join("\n"));
        }
        // The check sees what it is for.
        let sample = "async fn f() {\n    let a = fs_err::read(p);\n    with_cache(|c| c.x()).await;\n}\n";
        assert_eq!(blocking_calls_on_async_workers(sample), ["2: let a = fs_err::read(p);"]);
    }
}
