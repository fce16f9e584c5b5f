//! Talking to package indexes.
//!
//! [`IndexClient`] lists a project's files ([`IndexClient::project`]) and reads the core
//! metadata of one exact file ([`IndexClient::metadata`]). Which API it speaks follows from the
//! index URL unless the manifest says `api = ...`: a URL whose path ends in `/pypi` is a PyPI
//! JSON API base (`<base>/<name>/json`); any other is a simple repository (PEP 691 JSON
//! preferred through content negotiation, PEP 503 HTML otherwise). Files in `find-links`
//! directories join the index's.
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
mod http;
pub(crate) mod lazy;
pub(crate) mod origin;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use miette::Diagnostic;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use thiserror::Error;
use tokio::sync::OnceCell;
use url::Url;

pub(crate) use files::{CoreMetadataOffer, DistFile, DistKind};
use http::{Credentials, Http, Purpose, Response};
pub(crate) use http::{SecretUrl, redact};

use crate::cache::{Cache, CachedPage, now, sha256_hex};
use crate::model::IndexApi;
use crate::output::{debug, warn_user};
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
#[derive(Debug)]
pub(crate) struct Project {
    pub files: Vec<DistFile>,
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

/// An index with its URL cleaned of credentials.
struct Index {
    name: String,
    /// With a trailing slash, without credentials.
    url: Url,
    api: IndexApi,
    explicit: bool,
}

/// The client for the configured indexes plus the find-links directories.
pub(crate) struct IndexClient {
    http: Http,
    cache: Cache,
    indexes: Vec<Index>,
    pins: BTreeMap<String, String>,
    find_links: Vec<PathBuf>,
    offline: bool,
    projects: OnceMap<Arc<Project>>,
    metadata: OnceMap<Arc<CoreMetadata>>,
    find_links_files: OnceCell<Arc<HashMap<String, Vec<DistFile>>>>,
    /// Sizes learnt from `Content-Range` or `Content-Length`, by URL.
    sizes: Mutex<HashMap<String, u64>>,
}

const ACCEPT_SIMPLE: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// How much of a wheel's tail to ask for first: enough for the central directory of all but
/// the largest wheels.
const TAIL_BYTES: u64 = 64 * 1024;

/// The largest index page lbuild reads (PyPI's largest simple pages are a few MiB).
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;

/// The largest PEP 658 `.metadata` file lbuild reads.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

/// The largest file lbuild downloads when nothing declares its size: a Lambda function holds at
/// most 250 MB unzipped, so no usable wheel comes near it.
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The longest a page without caching headers is trusted before revalidation.
const HEURISTIC_FRESHNESS_CAP: u64 = 600;

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
            http: Http::new(credentials)?,
            cache: settings.cache,
            indexes,
            pins: settings.pins,
            find_links: settings.find_links,
            offline: settings.offline,
            projects: OnceMap::new(),
            metadata: OnceMap::new(),
            find_links_files: OnceCell::new(),
            sizes: Mutex::new(HashMap::new()),
        })
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
        let candidates: Vec<&Index> = match self.pins.get(&name) {
            Some(pinned) => self.indexes.iter().filter(|index| &index.name == pinned).collect(),
            None => self.indexes.iter().filter(|index| !index.explicit).collect(),
        };
        let mut files = Vec::new();
        let mut served_by = None;
        for index in candidates {
            let found = self.index_files(index, &name).await?;
            if !found.is_empty() {
                files = found;
                served_by = Some(index.name.clone());
                break;
            }
        }
        let local = self.find_links_files().await?;
        if let Some(local) = local.get(&name) {
            files.extend(local.iter().cloned());
        }
        debug!("{name}: {} files from {}", files.len(), served_by.as_deref().unwrap_or("find-links"));
        Ok(Arc::new(Project { files, index: served_by }))
    }

    /// The files one index lists for a project (empty when it does not have it).
    async fn index_files(&self, index: &Index, name: &str) -> Result<Vec<DistFile>, IndexError> {
        let (page_url, accept) = match index.api {
            IndexApi::PypiJson => (join(&index.url, &format!("{name}/json"))?, "application/json"),
            IndexApi::Simple => (join(&index.url, &format!("{name}/"))?, ACCEPT_SIMPLE),
        };
        let Some(page) = self.fetch_page(index, &page_url, accept, name).await? else {
            return Ok(Vec::new());
        };
        let base = Url::parse(&page.final_url()).unwrap_or(page_url.clone());
        let looks_json =
            page.content_type.contains("json") || page.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let origin = files::PageOrigin { index: &index.url, page: &base };
        let parsed = match index.api {
            IndexApi::PypiJson => files::parse_pypi_json(name, origin, &page.body),
            IndexApi::Simple if looks_json => files::parse_simple_json(name, origin, &page.body),
            IndexApi::Simple => files::parse_simple_html(name, origin, &page.body),
        };
        parsed.map_err(|err| {
            IndexError::new(format!("{err} (from index `{}`, `{}`)", index.name, SecretUrl::from(&page_url))).with_help(
                "the index served a page lbuild cannot read; check `url` and `api` of the index in lambda.toml",
            )
        })
    }

    /// Scan the find-links directories once.
    async fn find_links_files(&self) -> Result<Arc<HashMap<String, Vec<DistFile>>>, IndexError> {
        let dirs = self.find_links.clone();
        self.find_links_files
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || scan_find_links(&dirs))
                    .await
                    .map_err(|err| {
                        IndexError::new(format!("find-links scan failed: {err}"))
                            .with_help("`find-links` in lambda.toml must name readable directories")
                    })?
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// GET an index page through the cache. `Ok(None)` when the index does not have it.
    async fn fetch_page(
        &self,
        index: &Index,
        url: &Url,
        accept: &str,
        name: &str,
    ) -> Result<Option<CachedPage>, IndexError> {
        let cached = self.cache.read_page(url.as_str());
        if self.offline {
            return match cached {
                Some(page) => Ok(Some(page).filter(|page| !page.missing)),
                None => Err(IndexError::new(format!(
                    "`{name}` is not in the cache, and `--offline` forbids fetching `{}`",
                    SecretUrl::from(url)
                ))
                .with_help("run `lbuild fetch` or the same command once without `--offline` to fill the cache")),
            };
        }
        if let Some(page) = &cached
            && page.is_fresh()
        {
            debug!("{name}: index page from the cache (fresh), index `{}`", index.name);
            return Ok(cached.filter(|page| !page.missing));
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(accept).expect("static header"));
        if let Some(page) = cached.as_ref().filter(|page| !page.missing) {
            if let Some(etag) = page.etag.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = page.last_modified.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(header::IF_MODIFIED_SINCE, modified);
            }
        }
        let response = self.http.get(url, headers, Purpose::Page, &index.name, MAX_PAGE_BYTES).await?;
        // `no-store` forbids keeping the answer anywhere (RFC 9111 5.2.2.5): not even a 404.
        let store = !no_store(&response.headers);
        let status = response.status;
        if status == StatusCode::NOT_MODIFIED
            && let Some(mut page) = cached.filter(|page| !page.missing)
        {
            debug!("{name}: index page from the cache (revalidated: 304), index `{}`", index.name);
            page.fetched_at = now();
            // A 304 need not repeat Last-Modified; the stored one still dates the content.
            page.max_age = freshness(&response.headers, page.last_modified.as_deref());
            if store {
                let _ = self.cache.write_page(&page);
            }
            return Ok(Some(page));
        }
        if status.is_redirection() {
            // Only same-host redirects are followed for pages (see `http`).
            let target = header_string(&response.headers, header::LOCATION).unwrap_or_default();
            warn_user!(
                "index `{}` redirected `{name}` to another host (`{}`); lbuild treats the project as absent there",
                index.name,
                SecretUrl::new(target)
            );
            return Ok(None);
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            // Remember the absence for as long as the index says, so a warm relock of a
            // workspace with several indexes does not ask again.
            let page = CachedPage::missing(url.as_str(), freshness(&response.headers, None));
            if store {
                let _ = self.cache.write_page(&page);
            }
            return Ok(None);
        }
        check_status(status, url, &index.name)?;
        let page = CachedPage {
            url: url.to_string(),
            redirected_to: (response.url != *url).then(|| response.url.to_string()),
            etag: header_string(&response.headers, header::ETAG),
            last_modified: header_string(&response.headers, header::LAST_MODIFIED),
            fetched_at: now(),
            max_age: freshness(&response.headers, None),
            content_type: header_string(&response.headers, header::CONTENT_TYPE).unwrap_or_default(),
            missing: false,
            body: response.body,
        };
        if !store {
            debug!("not caching `{}`: the index answered `Cache-Control: no-store`", SecretUrl::from(url));
        } else if let Err(err) = self.cache.write_page(&page) {
            debug!("could not cache `{}`: {err}", SecretUrl::from(url));
        }
        Ok(Some(page))
    }

    /// A GET of a file (not a page), named in errors by the index whose host serves it, of at
    /// most [`MAX_FILE_BYTES`].
    async fn get_file(&self, url: &Url, headers: HeaderMap) -> Result<Response, IndexError> {
        self.get_file_limited(url, headers, MAX_FILE_BYTES).await
    }

    /// [`Self::get_file`] reading at most `limit` bytes of body.
    async fn get_file_limited(&self, url: &Url, headers: HeaderMap, limit: u64) -> Result<Response, IndexError> {
        let index = self.index_for(url);
        self.http.get(url, headers, Purpose::File, &index, limit).await
    }

    /// The core metadata of one file (a wheel), from the cache or the cheapest remote source.
    pub async fn metadata(&self, project: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        let key = file_key(file);
        self.metadata.get_or_init(&key.clone(), || self.fetch_metadata(project.to_string(), file.clone(), key)).await
    }

    async fn fetch_metadata(
        &self,
        project: String,
        file: DistFile,
        key: String,
    ) -> Result<Arc<CoreMetadata>, IndexError> {
        let cached = self.cache.read_metadata(&key).and_then(|bytes| metadata::parse(&bytes).ok());
        let parsed = match cached {
            Some(parsed) => {
                debug!("{}: metadata from the cache", file.filename);
                parsed
            }
            None => {
                let bytes = self.fetch_metadata_bytes(&project, &file).await?;
                let parsed = metadata::parse(&bytes).map_err(|err| {
                    IndexError::new(format!("invalid metadata in `{}`: {err}", file.filename))
                        .with_help("the package's METADATA is broken; pin another version of it (`name!=VERSION`)")
                })?;
                if let Err(err) = self.cache.write_metadata(&key, &bytes) {
                    debug!("could not cache metadata of `{}`: {err}", file.filename);
                }
                parsed
            }
        };
        if parsed.has_newer_minor() {
            debug!("`{}` uses Metadata-Version {}, newer than lbuild knows", file.filename, parsed.metadata_version);
        }
        if normalize_name(&parsed.name) != normalize_name(&project) || parsed.version != file.version {
            return Err(IndexError::new(format!(
                "`{}` claims to be {} {}, not {} {}",
                file.filename, parsed.name, parsed.version, project, file.version
            ))
            .with_help(
                "the index serves a mislabelled file; report it to the index's owner, or exclude that version",
            ));
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
        if let Some(sha256) = &file.sha256
            && let Some(bytes) = self.cache.read_wheel_verified(sha256, &file.filename)
        {
            return metadata_from_wheel(project, file, Cursor::new(bytes));
        }
        if self.offline {
            return Err(IndexError::new(format!(
                "the metadata of `{}` is not in the cache, and `--offline` forbids fetching it",
                file.filename
            ))
            .with_help("run `lbuild fetch` or the same command once without `--offline` to fill the cache"));
        }
        if let CoreMetadataOffer::Available(hash) = &file.core_metadata {
            let url = Url::parse(&format!("{}.metadata", file.url)).expect("a URL with a suffix is a URL");
            let response = self.get_file_limited(&url, HeaderMap::new(), MAX_METADATA_BYTES).await?;
            if response.status.is_success() {
                let body = response.body;
                if let Some(expected) = hash
                    && sha256_hex(&body) != expected.to_ascii_lowercase()
                {
                    return Err(IndexError::new(format!(
                        "the metadata file of `{}` does not match its sha256 (expected {expected}, got {})",
                        file.filename,
                        sha256_hex(&body)
                    ))
                    .with_help(
                        "the index's metadata file is corrupt or stale; nothing was cached, so a retry starts clean",
                    ));
                }
                return Ok(body);
            }
            debug!("{} answered {}; reading the wheel instead", SecretUrl::from(&url), response.status);
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
        self.learn_size(file, total);
        let mut sparse = lazy::SparseFile::new(total);
        sparse.insert(tail.0, tail.1);
        for _ in 0..8 {
            match read_wheel_metadata(&mut sparse, project) {
                Ok(bytes) => {
                    debug!("{}: metadata read with {} of {} bytes", file.filename, sparse.fetched(), sparse.len());
                    return Ok(Some(bytes));
                }
                Err(err) => {
                    // A METADATA that claims to be huge is refused before any of it is fetched.
                    let Some(start) = sparse.missing.filter(|_| !matches!(err, ZipReadError::TooLarge { .. })) else {
                        return Err(zip_error(file, err));
                    };
                    let end = start.saturating_add(TAIL_BYTES).min(total).saturating_sub(1);
                    if start > end {
                        return Err(zip_error(file, err));
                    }
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
        let response = self.get_file(url, headers).await?;
        match response.status {
            StatusCode::PARTIAL_CONTENT => {
                let content_range = header_string(&response.headers, header::CONTENT_RANGE).unwrap_or_default();
                // A range that does not fit the file it claims to be part of is not believed.
                match parse_content_range(&content_range) {
                    Some((start, total))
                        if start < total
                            && (response.body.len() as u64) <= total - start
                            && !response.body.is_empty() =>
                    {
                        Ok(RangeAnswer::Partial { start, total, bytes: response.body })
                    }
                    _ => Ok(RangeAnswer::Unsupported),
                }
            }
            StatusCode::OK => Ok(RangeAnswer::Whole(response.body)),
            StatusCode::RANGE_NOT_SATISFIABLE | StatusCode::NOT_IMPLEMENTED | StatusCode::METHOD_NOT_ALLOWED => {
                Ok(RangeAnswer::Unsupported)
            }
            status => {
                check_status(status, url, &self.index_for(url))?;
                Ok(RangeAnswer::Unsupported)
            }
        }
    }

    /// Download a whole file, verify it, and keep it in the cache.
    pub async fn download(&self, file: &DistFile) -> Result<Vec<u8>, IndexError> {
        // A file whose size the index declares is read that far and no further.
        let limit = file.size.unwrap_or(MAX_FILE_BYTES);
        let response = self.get_file_limited(&file.url, HeaderMap::new(), limit).await?;
        check_status(response.status, &file.url, &self.index_for(&file.url))?;
        self.store_download(file, &response.body)?;
        Ok(response.body)
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
            ))
            .with_help(
                "the download was cut short or the index is wrong; nothing was cached, so a retry starts clean",
            ));
        }
        self.learn_size(file, bytes.len() as u64);
        if let Err(err) = self.cache.write_wheel(&actual, &file.filename, bytes) {
            debug!("could not cache `{}`: {err}", file.filename);
        }
        Ok(actual)
    }

    /// Remember a file's size for this run and for later ones (the lock records it).
    fn learn_size(&self, file: &DistFile, size: u64) {
        self.sizes.lock().expect("lock").insert(file.url.to_string(), size);
        let _ = self.cache.write_size(&file_key(file), size);
    }

    /// Make a file the lock names available on disk, verified against the lock's sha256 and size:
    /// from the cache, from a find-links directory (`url` relative to `root`), or downloaded.
    /// Returns the path and whether it was downloaded. A cached copy is hashed again before it
    /// is used; a damaged one is evicted and downloaded again (an error when offline). A
    /// mismatch is an error naming the file and both hashes, and nothing enters the cache.
    pub async fn fetch_locked(
        &self,
        filename: &str,
        url: &str,
        sha256: &str,
        size: u64,
        root: &std::path::Path,
    ) -> Result<(PathBuf, bool), IndexError> {
        let mismatch = |actual: &str, from: &str| {
            IndexError::new(format!(
                "`{filename}` from `{from}` does not match `lambda.lock`: expected sha256 {sha256}, got {actual}"
            ))
            .with_help("the file changed after it was locked; run `lbuild lock --upgrade-package NAME` if the change is expected, else find out who changed it")
        };
        let cached = self.cache.wheel_path(sha256, filename).map_err(|err| {
            IndexError::new(format!("the lock names a file lbuild cannot keep: {err}"))
                .with_help("the lock may have been edited by hand; run `lbuild lock` to regenerate it")
        })?;
        if let Ok(meta) = fs_err::symlink_metadata(&cached) {
            let damage = if !meta.is_file() {
                "it is not a regular file".to_string()
            } else if meta.len() != size {
                format!("it is {} bytes, the lock says {size}", meta.len())
            } else {
                match hash_file(cached.clone()).await {
                    Ok((actual, _)) if actual == sha256 => {
                        debug!("{filename}: from the cache (sha256 verified)");
                        return Ok((cached, false));
                    }
                    Ok((actual, _)) => format!("its sha256 is {actual}, the lock says {sha256}"),
                    Err(err) => format!("it cannot be read: {err}"),
                }
            };
            // The cache was at fault, not the index or the lock: evict the copy and fetch again.
            let evicted = fs_err::remove_file(&cached).is_ok();
            if self.offline {
                return Err(IndexError::new(format!(
                    "the cached copy of `{filename}` (`{}`) is damaged: {damage}{}",
                    cached.display(),
                    if evicted { "; it was removed" } else { "" }
                ))
                .with_help("run `lbuild fetch` without `--offline` to download it again, or `lbuild cache clean` to start the cache afresh"));
            }
            warn_user!(
                "the cached copy of `{filename}` (`{}`) was damaged ({damage}); the cache was at fault, so lbuild removed it and downloads it again",
                cached.display()
            );
        }
        match Url::parse(url) {
            Ok(parsed) if parsed.scheme() == "http" || parsed.scheme() == "https" => {
                if self.offline {
                    return Err(IndexError::new(format!(
                        "`{filename}` is not in the cache, and `--offline` forbids downloading it from `{}`",
                        redact(url)
                    ))
                    .with_help("run `lbuild fetch` (or build once) without `--offline` to fill the cache"));
                }
                // Read no more than a little over the lock's size: enough to hash a file that
                // changed a little (and name both hashes), never what a hostile server streams.
                let limit = size.saturating_mul(2).saturating_add(1 << 20);
                let response = self.get_file_limited(&parsed, HeaderMap::new(), limit).await?;
                check_status(response.status, &parsed, &self.index_for(&parsed))?;
                let bytes = response.body;
                let actual = sha256_hex(&bytes);
                if actual != sha256 || bytes.len() as u64 != size {
                    let mut error = mismatch(&actual, &redact(url));
                    error
                        .message
                        .push_str(&format!(" ({} bytes; the lock says {size}); nothing was cached", bytes.len()));
                    return Err(error);
                }
                let path = self
                    .cache
                    .write_wheel(sha256, filename, &bytes)
                    .map_err(|err| IndexError::new(format!("cannot write `{filename}` to the cache: {err}")))?;
                Ok((path, true))
            }
            Ok(parsed) => Err(IndexError::new(format!(
                "`{filename}` has the URL scheme `{}`, which lbuild does not fetch from",
                parsed.scheme()
            ))
            .with_help("the lock may have been edited by hand; run `lbuild lock` to regenerate it")),
            Err(_) => {
                // A find-links file, relative to the workspace root (the lock's validation
                // made sure it is one its inputs list).
                let path = root.join(url);
                let (actual, _) = hash_file(path.clone()).await.map_err(|err| {
                    IndexError::new(format!("cannot read `{}`: {err}", path.display()))
                        .with_help("the lock names a find-links file that is gone; run `lbuild lock`")
                })?;
                if actual != sha256 {
                    return Err(mismatch(&actual, &path.display().to_string()));
                }
                Ok((path, false))
            }
        }
    }

    /// Fill in a file's sha256 and size when the index did not give them (the lock records
    /// both for every file): from this run, from the cache, from a HEAD request, or by
    /// downloading the file.
    pub async fn complete(&self, file: &DistFile) -> Result<(String, u64), IndexError> {
        let known_size = file
            .size
            .or_else(|| self.sizes.lock().expect("lock").get(file.url.as_str()).copied())
            .or_else(|| self.cache.read_size(&file_key(file)));
        match (&file.sha256, known_size) {
            (Some(sha256), Some(size)) => Ok((sha256.clone(), size)),
            (Some(sha256), None) => {
                // A cached copy gives the size once its hash is checked.
                if let Ok(path) = self.cache.wheel_path(sha256, &file.filename)
                    && path.is_file()
                    && let Ok((actual, size)) = hash_file(path).await
                    && actual == *sha256
                {
                    return Ok((sha256.clone(), size));
                }
                if file.url.scheme() == "file" {
                    let path =
                        file.url.to_file_path().map_err(|()| IndexError::new(format!("bad URL `{}`", file.url)))?;
                    let meta = fs_err::metadata(path).map_err(|err| IndexError::new(err.to_string()))?;
                    return Ok((sha256.clone(), meta.len()));
                }
                if self.offline {
                    return Err(IndexError::new(format!(
                        "the size of `{}` is not in the cache, and `--offline` forbids asking the index",
                        file.filename
                    ))
                    .with_help("run `lbuild fetch` or the same command once without `--offline` to fill the cache"));
                }
                let size = match self.head_size(&file.url).await? {
                    Some(size) => size,
                    None => self.download(file).await?.len() as u64,
                };
                self.learn_size(file, size);
                Ok((sha256.clone(), size))
            }
            (None, _) => {
                if self.offline {
                    return Err(IndexError::new(format!(
                        "the index gives no sha256 for `{}`, and `--offline` forbids downloading it to compute one",
                        file.filename
                    ))
                    .with_help("run the same command once without `--offline`"));
                }
                let bytes = self.download(file).await?;
                Ok((sha256_hex(&bytes), bytes.len() as u64))
            }
        }
    }

    /// The `Content-Length` a HEAD request reports, if any.
    async fn head_size(&self, url: &Url) -> Result<Option<u64>, IndexError> {
        let index = self.index_for(url);
        let response = self.http.head(url, &index).await?;
        if !response.status.is_success() {
            return Ok(None);
        }
        Ok(header_string(&response.headers, header::CONTENT_LENGTH).and_then(|value| value.parse().ok()))
    }
}

/// The sha256 and size of a file, hashed on a blocking thread so that several files hash in
/// parallel.
async fn hash_file(path: PathBuf) -> std::io::Result<(String, u64)> {
    tokio::task::spawn_blocking(move || crate::cache::sha256_file(&path))
        .await
        .unwrap_or_else(|err| Err(std::io::Error::other(err.to_string())))
}

/// The cache key of a file: its sha256, or the hash of its URL when the index gives none.
fn file_key(file: &DistFile) -> String {
    match &file.sha256 {
        Some(sha256) => sha256.clone(),
        None => sha256_hex(file.url.as_str().as_bytes()),
    }
}

enum RangeAnswer {
    Partial { start: u64, total: u64, bytes: Vec<u8> },
    Whole(Vec<u8>),
    Unsupported,
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

/// Whether `Cache-Control` says `no-store`.
fn no_store(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-store"))
}

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
}

/// How long a response stays fresh: `max-age` from `Cache-Control` (0 for `no-cache`), else
/// the RFC 9111 heuristic of a tenth of the time since `Last-Modified`, capped at ten minutes.
fn freshness(headers: &HeaderMap, stored_last_modified: Option<&str>) -> u64 {
    if let Some(value) = header_string(headers, header::CACHE_CONTROL) {
        for directive in value.split(',').map(str::trim) {
            if directive.eq_ignore_ascii_case("no-cache") || directive.eq_ignore_ascii_case("no-store") {
                return 0;
            }
            if let Some(seconds) = directive.strip_prefix("max-age=") {
                return seconds.trim_matches('"').parse().unwrap_or(0);
            }
        }
    }
    let parse = |name| header_string(headers, name).and_then(|value| httpdate_seconds(&value));
    let last_modified = parse(header::LAST_MODIFIED).or_else(|| stored_last_modified.and_then(httpdate_seconds));
    match (last_modified, parse(header::DATE).or(Some(now()))) {
        (Some(modified), Some(date)) if date > modified => ((date - modified) / 10).min(HEURISTIC_FRESHNESS_CAP),
        _ => 0,
    }
}

/// Seconds since the Unix epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate_seconds(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts[..] else { return None };
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let mut clock = time.split(':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// `bytes 10-20/300` -> (10, 300).
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}

fn zip_error(file: &DistFile, err: ZipReadError) -> IndexError {
    match err {
        ZipReadError::Invalid(message) => {
            IndexError::new(format!("`{}` is not a valid wheel: {message}", file.filename))
                .with_help("lbuild refuses wheels that could write outside their place; pin another version")
        }
        ZipReadError::NoMetadata => {
            IndexError::new(format!("`{}` has no `.dist-info/METADATA` for its project", file.filename))
                .with_help("the wheel is malformed; pin another version of it")
        }
        ZipReadError::TooLarge { name, size } => IndexError::new(format!(
            "`{}` is damaged or hostile: its `{name}` is {size} bytes or more, over lbuild's limit of {} for metadata",
            file.filename,
            crate::zipio::MAX_METADATA_SIZE
        ))
        .with_help(
            "real METADATA files are well under 1 MiB; report the wheel to the package's index and pin another \
             version meanwhile; if it came from lbuild's cache, run `lbuild cache clean`",
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn freshness_follows_cache_control_then_the_last_modified_heuristic() {
        assert_eq!(freshness(&headers(&[("cache-control", "public, max-age=600")]), None), 600);
        assert_eq!(freshness(&headers(&[("cache-control", "no-cache")]), None), 0);
        let dated = [("date", "Sun, 22 Nov 2026 03:16:00 GMT"), ("last-modified", "Sun, 22 Nov 2026 03:15:00 GMT")];
        assert_eq!(freshness(&headers(&dated), None), 6, "a tenth of the content's age");
        let old = [("date", "Sun, 22 Nov 2026 03:16:00 GMT"), ("last-modified", "Sat, 01 Jan 2022 00:00:00 GMT")];
        assert_eq!(freshness(&headers(&old), None), HEURISTIC_FRESHNESS_CAP);
        // A 304 without Last-Modified keeps the stored one.
        let revalidated = [("date", "Sun, 22 Nov 2026 03:16:00 GMT")];
        assert_eq!(freshness(&headers(&revalidated), Some("Sun, 22 Nov 2026 03:15:00 GMT")), 6);
        assert_eq!(freshness(&headers(&revalidated), None), 0);
    }

    #[test]
    fn http_dates_parse() {
        assert_eq!(httpdate_seconds("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(httpdate_seconds("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }
}
