//! Talking to package indexes.
//!
//! [`IndexClient`] lists a project's files ([`IndexClient::project`]) and reads the core
//! metadata of one exact file ([`IndexClient::metadata`]). Which API it speaks follows from the
//! index URL: a URL whose path ends in `/simple` or `/simple/` is a simple repository (PEP 691
//! JSON preferred through content negotiation, PEP 503 HTML otherwise); any other URL is a PyPI
//! JSON API base (`<base>/<name>/json`). Files in `find-links` directories join the index's.
//!
//! Metadata comes from the cheapest source that gives the exact bytes of the wheel that would
//! be installed: the PEP 658 `.metadata` file when the index offers one, else HTTP range
//! requests that read only the wheel's central directory and METADATA entry ([`lazy`]), else a
//! full download, which is kept in the cache for the build. The project-level `requires_dist`
//! of the JSON API is never used: it describes the first file uploaded, not the chosen wheel.
//!
//! Requests run concurrently (bounded by a semaphore) and each project or metadata request is
//! made at most once per run, however many resolver threads ask for it.

mod files;
pub(crate) mod html;
pub(crate) mod lazy;

use std::collections::HashMap;
use std::future::Future;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use miette::Diagnostic;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use thiserror::Error;
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

pub(crate) use files::{CoreMetadataOffer, DistFile, DistKind};

use crate::cache::{Cache, CachedPage, now, sha256_hex};
use crate::output::debug;
use crate::python::metadata::{self, CoreMetadata};
use crate::python::wheel_name::normalize_name;
use crate::zipio::{ZipReadError, read_wheel_metadata};

/// An index error. Clonable, because one failed request answers every caller that waited on it.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{message}")]
pub(crate) struct IndexError {
    pub message: String,
    #[help]
    pub help: Option<String>,
}

impl IndexError {
    fn new(message: impl Into<String>) -> IndexError {
        IndexError { message: message.into(), help: None }
    }

    fn with_help(mut self, help: impl Into<String>) -> IndexError {
        self.help = Some(help.into());
        self
    }
}

/// The files of one project, from the index and the find-links directories.
#[derive(Debug)]
pub(crate) struct Project {
    pub files: Vec<DistFile>,
}

#[derive(Debug, Clone)]
enum IndexApi {
    PypiJson(Url),
    Simple(Url),
}

/// Counters for `-v` and for tests of network behaviour.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

/// Settings of an [`IndexClient`].
pub(crate) struct IndexSettings {
    pub index_url: String,
    pub find_links: Vec<PathBuf>,
    pub offline: bool,
    pub cache: Cache,
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
}

/// The client for one index plus the find-links directories.
pub(crate) struct IndexClient {
    http: reqwest::Client,
    cache: Cache,
    api: IndexApi,
    find_links: Vec<PathBuf>,
    offline: bool,
    projects: OnceMap<Arc<Project>>,
    metadata: OnceMap<Arc<CoreMetadata>>,
    find_links_files: OnceCell<Arc<HashMap<String, Vec<DistFile>>>>,
    /// Sizes learnt from `Content-Range` or `Content-Length`, by URL.
    sizes: Mutex<HashMap<String, u64>>,
    permits: Semaphore,
    pub stats: Stats,
}

const ACCEPT_SIMPLE: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// How much of a wheel's tail to ask for first: enough for the central directory of all but
/// the largest wheels.
const TAIL_BYTES: u64 = 64 * 1024;

/// Remove `user:password@` from a URL for display.
pub(crate) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("****");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

impl IndexClient {
    pub fn new(settings: IndexSettings) -> Result<IndexClient, IndexError> {
        // reqwest is built without a default TLS crypto provider; install ring's once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("lbuild/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|err| IndexError::new(format!("failed to set up the HTTP client: {err}")))?;
        let mut url = Url::parse(&settings.index_url)
            .map_err(|err| IndexError::new(format!("invalid index URL `{}`: {err}", redact(&settings.index_url))))?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let api = if url.path().trim_end_matches('/').ends_with("/simple") {
            IndexApi::Simple(url)
        } else {
            IndexApi::PypiJson(url)
        };
        Ok(IndexClient {
            http,
            cache: settings.cache,
            api,
            find_links: settings.find_links,
            offline: settings.offline,
            projects: OnceMap::new(),
            metadata: OnceMap::new(),
            find_links_files: OnceCell::new(),
            sizes: Mutex::new(HashMap::new()),
            permits: Semaphore::new(48),
            stats: Stats::default(),
        })
    }

    fn index_display(&self) -> String {
        match &self.api {
            IndexApi::PypiJson(url) | IndexApi::Simple(url) => redact(url.as_str()),
        }
    }

    /// The files of a project. A project that neither the index nor find-links knows has no files.
    pub async fn project(&self, name: &str) -> Result<Arc<Project>, IndexError> {
        let name = normalize_name(name);
        self.projects.get_or_init(&name.clone(), || self.fetch_project(name)).await
    }

    async fn fetch_project(&self, name: String) -> Result<Arc<Project>, IndexError> {
        let (page_url, accept) = match &self.api {
            IndexApi::PypiJson(base) => (join(base, &format!("{name}/json"))?, "application/json"),
            IndexApi::Simple(base) => (join(base, &format!("{name}/"))?, ACCEPT_SIMPLE),
        };
        let page = self.fetch_page(&page_url, accept, &name).await?;
        let mut files = match page {
            Some(page) => {
                let final_url = Url::parse(&page.url).unwrap_or(page_url.clone());
                let parsed = match &self.api {
                    IndexApi::PypiJson(_) => files::parse_pypi_json(&name, &final_url, &page.body),
                    IndexApi::Simple(_) if page.content_type.contains("json") => {
                        files::parse_simple_json(&name, &final_url, &page.body)
                    }
                    IndexApi::Simple(_) => files::parse_simple_html(&name, &final_url, &page.body),
                };
                parsed.map_err(|err| IndexError::new(format!("{err} (from `{}`)", redact(page_url.as_str()))))?
            }
            None => Vec::new(),
        };
        let local = self.find_links_files().await?;
        if let Some(local) = local.get(&name) {
            files.extend(local.iter().cloned());
        }
        debug!("{name}: {} files", files.len());
        Ok(Arc::new(Project { files }))
    }

    /// Scan the find-links directories once.
    async fn find_links_files(&self) -> Result<Arc<HashMap<String, Vec<DistFile>>>, IndexError> {
        let dirs = self.find_links.clone();
        self.find_links_files
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || scan_find_links(&dirs))
                    .await
                    .map_err(|err| IndexError::new(format!("find-links scan failed: {err}")))?
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// GET an index page through the cache. `Ok(None)` when the index does not have it.
    async fn fetch_page(&self, url: &Url, accept: &str, name: &str) -> Result<Option<CachedPage>, IndexError> {
        let cached = self.cache.read_page(url.as_str());
        if self.offline {
            return match cached {
                Some(page) => Ok(Some(page)),
                None => Err(IndexError::new(format!(
                    "`{name}` is not in the cache, and `--offline` forbids fetching `{}`",
                    redact(url.as_str())
                ))
                .with_help("run the same command once without `--offline` to fill the cache")),
            };
        }
        if let Some(page) = &cached
            && page.is_fresh()
        {
            return Ok(cached);
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(accept).expect("static header"));
        if let Some(page) = &cached {
            if let Some(etag) = page.etag.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = page.last_modified.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(header::IF_MODIFIED_SINCE, modified);
            }
        }
        let response = self.get(url, headers).await?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED
            && let Some(mut page) = cached
        {
            page.fetched_at = now();
            page.max_age = max_age(response.headers());
            let _ = self.cache.write_page(&page);
            return Ok(Some(page));
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(None);
        }
        check_status(status, url, &self.index_display())?;
        let final_url = response.url().to_string();
        let etag = header_string(response.headers(), header::ETAG);
        let last_modified = header_string(response.headers(), header::LAST_MODIFIED);
        let content_type = header_string(response.headers(), header::CONTENT_TYPE).unwrap_or_default();
        let max_age = max_age(response.headers());
        let body = self.body(response, url).await?;
        let page =
            CachedPage { url: url.to_string(), etag, last_modified, fetched_at: now(), max_age, content_type, body };
        if let Err(err) = self.cache.write_page(&page) {
            debug!("could not cache `{}`: {err}", redact(url.as_str()));
        }
        // Relative file URLs resolve against the URL that answered (after redirects).
        let mut page = page;
        page.url = final_url;
        Ok(Some(page))
    }

    /// A GET with bounded retries on connection errors, 5xx and 429.
    async fn get(&self, url: &Url, headers: HeaderMap) -> Result<reqwest::Response, IndexError> {
        let _permit = self.permits.acquire().await.expect("semaphore is never closed");
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            debug!("GET {}", redact(url.as_str()));
            let result = self.http.get(url.clone()).headers(headers.clone()).send().await;
            let retry = match &result {
                Ok(response) => {
                    let status = response.status();
                    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
                }
                Err(err) => err.is_connect() || err.is_timeout() || err.is_request(),
            };
            if !retry || attempt >= 3 {
                return result.map_err(|err| {
                    IndexError::new(format!("request to `{}` failed: {}", redact(url.as_str()), error_chain(&err)))
                });
            }
            tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt - 1))).await;
        }
    }

    async fn body(&self, response: reqwest::Response, url: &Url) -> Result<Vec<u8>, IndexError> {
        let body = response.bytes().await.map_err(|err| {
            IndexError::new(format!("reading `{}` failed: {}", redact(url.as_str()), error_chain(&err)))
        })?;
        self.stats.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        Ok(body.to_vec())
    }

    /// The core metadata of one file (a wheel), from the cache or the cheapest remote source.
    pub async fn metadata(&self, project: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        let key = match &file.sha256 {
            Some(sha256) => sha256.clone(),
            None => sha256_hex(file.url.as_str().as_bytes()),
        };
        self.metadata.get_or_init(&key.clone(), || self.fetch_metadata(project.to_string(), file.clone(), key)).await
    }

    async fn fetch_metadata(
        &self,
        project: String,
        file: DistFile,
        key: String,
    ) -> Result<Arc<CoreMetadata>, IndexError> {
        let bytes = match self.cache.read_metadata(&key) {
            Some(bytes) => bytes,
            None => {
                let bytes = self.fetch_metadata_bytes(&project, &file).await?;
                if let Err(err) = self.cache.write_metadata(&key, &bytes) {
                    debug!("could not cache metadata of `{}`: {err}", file.filename);
                }
                bytes
            }
        };
        let parsed = metadata::parse(&bytes)
            .map_err(|err| IndexError::new(format!("invalid metadata in `{}`: {err}", file.filename)))?;
        if parsed.has_newer_minor() {
            debug!("`{}` uses Metadata-Version {}, newer than lbuild knows", file.filename, parsed.metadata_version);
        }
        if normalize_name(&parsed.name) != normalize_name(&project) || parsed.version != file.version {
            return Err(IndexError::new(format!(
                "`{}` claims to be {} {}, not {} {}",
                file.filename, parsed.name, parsed.version, project, file.version
            )));
        }
        Ok(Arc::new(parsed))
    }

    async fn fetch_metadata_bytes(&self, project: &str, file: &DistFile) -> Result<Vec<u8>, IndexError> {
        if file.url.scheme() == "file" {
            let path = file.url.to_file_path().map_err(|()| IndexError::new(format!("bad file URL `{}`", file.url)))?;
            let bytes = fs_err::read(&path).map_err(|err| IndexError::new(err.to_string()))?;
            return metadata_from_wheel(project, file, Cursor::new(bytes));
        }
        // A wheel we already downloaded whole.
        if let Some(sha256) = &file.sha256 {
            let path = self.cache.wheel_path(sha256, &file.filename);
            if let Ok(bytes) = fs_err::read(&path) {
                return metadata_from_wheel(project, file, Cursor::new(bytes));
            }
        }
        if self.offline {
            return Err(IndexError::new(format!(
                "the metadata of `{}` is not in the cache, and `--offline` forbids fetching it",
                file.filename
            ))
            .with_help("run the same command once without `--offline` to fill the cache"));
        }
        if let CoreMetadataOffer::Available(hash) = &file.core_metadata {
            let url = Url::parse(&format!("{}.metadata", file.url)).expect("a URL with a suffix is a URL");
            let response = self.get(&url, HeaderMap::new()).await?;
            if response.status().is_success() {
                let body = self.body(response, &url).await?;
                if let Some(expected) = hash
                    && sha256_hex(&body) != expected.to_ascii_lowercase()
                {
                    return Err(IndexError::new(format!(
                        "the metadata file of `{}` does not match its sha256 (expected {expected}, got {})",
                        file.filename,
                        sha256_hex(&body)
                    )));
                }
                return Ok(body);
            }
            debug!("{} answered {}; reading the wheel instead", redact(url.as_str()), response.status());
        }
        match self.range_metadata(project, file).await? {
            Some(bytes) => Ok(bytes),
            None => {
                let bytes = self.download(file).await?;
                metadata_from_wheel(project, file, Cursor::new(bytes))
            }
        }
    }

    /// Read METADATA with range requests. `Ok(None)` when the server does not do ranges.
    async fn range_metadata(&self, project: &str, file: &DistFile) -> Result<Option<Vec<u8>>, IndexError> {
        let (total, tail) = match self.get_range(&file.url, format!("bytes=-{TAIL_BYTES}")).await? {
            RangeAnswer::Partial { start, total, bytes } => (total, (start, bytes)),
            RangeAnswer::Whole(bytes) => {
                // The server ignored the range: we have the whole file; keep it.
                self.store_download(file, &bytes)?;
                return metadata_from_wheel(project, file, Cursor::new(bytes)).map(Some);
            }
            RangeAnswer::Unsupported => return Ok(None),
        };
        self.sizes.lock().expect("lock").insert(file.url.to_string(), total);
        let mut sparse = lazy::SparseFile::new(total);
        sparse.insert(tail.0, tail.1);
        for _ in 0..8 {
            match read_wheel_metadata(&mut sparse, project) {
                Ok(bytes) => {
                    debug!("{}: metadata read with {} of {} bytes", file.filename, sparse.fetched(), sparse.len());
                    return Ok(Some(bytes));
                }
                Err(err) => {
                    let Some(start) = sparse.missing else {
                        return Err(zip_error(file, err));
                    };
                    let end = (start + TAIL_BYTES).min(total) - 1;
                    match self.get_range(&file.url, format!("bytes={start}-{end}")).await? {
                        RangeAnswer::Partial { start, bytes, .. } => sparse.insert(start, bytes),
                        RangeAnswer::Whole(bytes) => {
                            self.store_download(file, &bytes)?;
                            return metadata_from_wheel(project, file, Cursor::new(bytes)).map(Some);
                        }
                        RangeAnswer::Unsupported => return Ok(None),
                    }
                }
            }
        }
        Ok(None)
    }

    async fn get_range(&self, url: &Url, range: String) -> Result<RangeAnswer, IndexError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(&range).expect("ASCII range"));
        // Ranges over compressed transfer encodings are meaningless.
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let response = self.get(url, headers).await?;
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                let content_range = header_string(response.headers(), header::CONTENT_RANGE).unwrap_or_default();
                let Some((start, total)) = parse_content_range(&content_range) else {
                    return Ok(RangeAnswer::Unsupported);
                };
                let bytes = self.body(response, url).await?;
                Ok(RangeAnswer::Partial { start, total, bytes })
            }
            StatusCode::OK => {
                let bytes = self.body(response, url).await?;
                Ok(RangeAnswer::Whole(bytes))
            }
            StatusCode::RANGE_NOT_SATISFIABLE | StatusCode::NOT_IMPLEMENTED | StatusCode::METHOD_NOT_ALLOWED => {
                Ok(RangeAnswer::Unsupported)
            }
            status => {
                check_status(status, url, &self.index_display())?;
                Ok(RangeAnswer::Unsupported)
            }
        }
    }

    /// Download a whole file, verify it, and keep it in the cache.
    pub async fn download(&self, file: &DistFile) -> Result<Vec<u8>, IndexError> {
        let response = self.get(&file.url, HeaderMap::new()).await?;
        check_status(response.status(), &file.url, &self.index_display())?;
        let bytes = self.body(response, &file.url).await?;
        self.store_download(file, &bytes)?;
        Ok(bytes)
    }

    fn store_download(&self, file: &DistFile, bytes: &[u8]) -> Result<String, IndexError> {
        let actual = sha256_hex(bytes);
        if let Some(expected) = &file.sha256
            && *expected != actual
        {
            return Err(IndexError::new(format!(
                "`{}` does not match the sha256 the index gives (expected {expected}, got {actual})",
                file.filename
            ))
            .with_help("the download was corrupted or the index is wrong; nothing was cached"));
        }
        if let Some(size) = file.size
            && size != bytes.len() as u64
        {
            return Err(IndexError::new(format!(
                "`{}` is {} bytes, but the index says {size}",
                file.filename,
                bytes.len()
            )));
        }
        self.sizes.lock().expect("lock").insert(file.url.to_string(), bytes.len() as u64);
        if let Err(err) = self.cache.write_wheel(&actual, &file.filename, bytes) {
            debug!("could not cache `{}`: {err}", file.filename);
        }
        Ok(actual)
    }

    /// Make a file the lock names available on disk, verified against the lock's sha256 and size:
    /// from the cache, from a find-links directory (`url` relative to `root`), or downloaded.
    /// A mismatch is an error naming the file and both hashes, and nothing enters the cache.
    pub async fn fetch_locked(
        &self,
        filename: &str,
        url: &str,
        sha256: &str,
        size: u64,
        root: &std::path::Path,
    ) -> Result<PathBuf, IndexError> {
        let mismatch = |actual: &str, from: &str| {
            IndexError::new(format!(
                "`{filename}` from `{from}` does not match `lambda.lock`: expected sha256 {sha256}, got {actual}"
            ))
            .with_help("the file changed after it was locked; run `lbuild lock --upgrade-package NAME` if the change is expected, else find out who changed it")
        };
        let cached = self.cache.wheel_path(sha256, filename);
        if fs_err::metadata(&cached).is_ok_and(|meta| meta.len() == size) {
            return Ok(cached);
        }
        match Url::parse(url) {
            Ok(parsed) if parsed.scheme() == "http" || parsed.scheme() == "https" => {
                if self.offline {
                    return Err(IndexError::new(format!(
                        "`{filename}` is not in the cache, and `--offline` forbids downloading it from `{}`",
                        redact(url)
                    ))
                    .with_help("run `lbuild build` once without `--offline` to fill the cache"));
                }
                let response = self.get(&parsed, HeaderMap::new()).await?;
                check_status(response.status(), &parsed, &self.index_display())?;
                let bytes = self.body(response, &parsed).await?;
                let actual = sha256_hex(&bytes);
                if actual != sha256 {
                    return Err(mismatch(&actual, &redact(url)));
                }
                if bytes.len() as u64 != size {
                    return Err(IndexError::new(format!(
                        "`{filename}` is {} bytes, but `lambda.lock` says {size}",
                        bytes.len()
                    )));
                }
                self.cache
                    .write_wheel(sha256, filename, &bytes)
                    .map_err(|err| IndexError::new(format!("cannot write `{filename}` to the cache: {err}")))
            }
            _ => {
                // A find-links file, relative to the workspace root.
                let path = root.join(url);
                let bytes = fs_err::read(&path).map_err(|err| {
                    IndexError::new(err.to_string())
                        .with_help("the lock names a find-links file that is gone; run `lbuild lock`")
                })?;
                let actual = sha256_hex(&bytes);
                if actual != sha256 {
                    return Err(mismatch(&actual, &path.display().to_string()));
                }
                Ok(path)
            }
        }
    }

    /// Fill in a file's sha256 and size when the index did not give them, downloading or asking
    /// for the size as needed (the lock records both for every file).
    pub async fn complete(&self, file: &DistFile) -> Result<(String, u64), IndexError> {
        let known_size = file.size.or_else(|| self.sizes.lock().expect("lock").get(file.url.as_str()).copied());
        match (&file.sha256, known_size) {
            (Some(sha256), Some(size)) => Ok((sha256.clone(), size)),
            (Some(sha256), None) => {
                if let Ok(meta) = fs_err::metadata(self.cache.wheel_path(sha256, &file.filename)) {
                    return Ok((sha256.clone(), meta.len()));
                }
                if self.offline {
                    return Err(IndexError::new(format!(
                        "the size of `{}` is unknown, and `--offline` forbids asking the index",
                        file.filename
                    )));
                }
                match self.get_range(&file.url, "bytes=0-0".to_string()).await? {
                    RangeAnswer::Partial { total, .. } => Ok((sha256.clone(), total)),
                    RangeAnswer::Whole(bytes) => {
                        let sha256 = self.store_download(file, &bytes)?;
                        Ok((sha256, bytes.len() as u64))
                    }
                    RangeAnswer::Unsupported => {
                        let bytes = self.download(file).await?;
                        Ok((sha256.clone(), bytes.len() as u64))
                    }
                }
            }
            (None, _) => {
                if self.offline {
                    return Err(IndexError::new(format!(
                        "the index gives no sha256 for `{}`, and `--offline` forbids downloading it to compute one",
                        file.filename
                    )));
                }
                let bytes = self.download(file).await?;
                Ok((sha256_hex(&bytes), bytes.len() as u64))
            }
        }
    }
}

enum RangeAnswer {
    Partial { start: u64, total: u64, bytes: Vec<u8> },
    Whole(Vec<u8>),
    Unsupported,
}

fn join(base: &Url, path: &str) -> Result<Url, IndexError> {
    base.join(path)
        .map_err(|err| IndexError::new(format!("cannot build a URL from `{}`: {err}", redact(base.as_str()))))
}

/// Turn an unsuccessful status into an error that names the URL and, for 401/403, the fix.
fn check_status(status: StatusCode, url: &Url, index: &str) -> Result<(), IndexError> {
    if status.is_success() {
        return Ok(());
    }
    let error = IndexError::new(format!("`{}` answered {status}", redact(url.as_str())));
    Err(match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => error.with_help(format!(
            "the index `{index}` wants credentials: put them in the index URL (`https://user:token@host/...`) through `LBUILD_INDEX_URL`"
        )),
        _ => error,
    })
}

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
}

/// `max-age` from `Cache-Control`; 0 (revalidate every time) when absent or `no-cache`.
fn max_age(headers: &HeaderMap) -> u64 {
    let Some(value) = header_string(headers, header::CACHE_CONTROL) else {
        return 0;
    };
    let mut age = 0;
    for directive in value.split(',').map(str::trim) {
        if directive.eq_ignore_ascii_case("no-cache") || directive.eq_ignore_ascii_case("no-store") {
            return 0;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            age = seconds.trim_matches('"').parse().unwrap_or(0);
        }
    }
    age
}

/// `bytes 10-20/300` -> (10, 300).
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn zip_error(file: &DistFile, err: ZipReadError) -> IndexError {
    match err {
        ZipReadError::Invalid(message) => {
            IndexError::new(format!("`{}` is not a valid wheel: {message}", file.filename))
        }
        ZipReadError::NoMetadata => {
            IndexError::new(format!("`{}` has no `.dist-info/METADATA` for its project", file.filename))
        }
    }
}

fn metadata_from_wheel<R: std::io::Read + std::io::Seek>(
    project: &str,
    file: &DistFile,
    reader: R,
) -> Result<Vec<u8>, IndexError> {
    read_wheel_metadata(reader, project).map_err(|err| zip_error(file, err))
}

/// Hash every wheel and sdist in the find-links directories, grouped by project.
fn scan_find_links(dirs: &[PathBuf]) -> Result<HashMap<String, Vec<DistFile>>, IndexError> {
    let mut by_project: HashMap<String, Vec<DistFile>> = HashMap::new();
    for dir in dirs {
        let entries = fs_err::read_dir(dir).map_err(|err| IndexError::new(err.to_string()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|entry| entry.path()).collect();
        paths.sort();
        for path in paths {
            let Some(filename) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            let Some(project) = files::find_links_project(filename) else {
                continue;
            };
            if !path.is_file() {
                continue;
            }
            let bytes = fs_err::read(&path).map_err(|err| IndexError::new(err.to_string()))?;
            let path = std::path::absolute(&path).unwrap_or(path);
            if let Some(file) = files::find_links_file(&project, &path, sha256_hex(&bytes), bytes.len() as u64) {
                by_project.entry(project).or_default().push(file);
            }
        }
    }
    Ok(by_project)
}
