//! HTTP for indexes: bounded retries, timeouts, credentials and redirect rules.
//!
//! - Retries: connection errors, timeouts, bodies cut short, 5xx and 429 are retried with
//!   exponential backoff (or after the `Retry-After` the server asked for, up to a cap), a bounded
//!   number of times; then the error names the URL and the cause. 401 and 403 are never retried:
//!   they fail at once with a message that names the index and how to give it credentials, and
//!   nothing ever waits for input.
//! - Limits: every request has an overall deadline (`LBUILD_HTTP_DEADLINE` seconds, default
//!   600, retries and the body included) besides the idle timeout (`LBUILD_HTTP_TIMEOUT`), so a
//!   server that sends a byte a second cannot hold lbuild; and every body has a size cap chosen
//!   by the caller (pages, `.metadata` files, wheels of a known size), enforced while it streams
//!   in, so a hostile server cannot make lbuild hold gigabytes.
//! - Credentials come from the index URL (`https://user:token@host/...`, e.g. through
//!   `LBUILD_INDEX_URL`), from `LBUILD_INDEX_<NAME>_USERNAME` / `_PASSWORD`, or from netrc
//!   (`$NETRC` or `~/.netrc`, read by the `rust-netrc` crate). They are sent only to the host
//!   they belong to; netrc's `default` entry is never sent anywhere. Every URL that lbuild
//!   prints or writes is a [`SecretUrl`], whose `Display` and `Debug` cannot show credentials.
//! - Index pages follow redirects only within the same host: a server that sends an unknown
//!   project to another index (pypiserver's default fallback to pypi.org) would otherwise let a
//!   public package stand in for a private one. Files may redirect anywhere (mirrors hand out
//!   signed storage URLs).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use url::Url;

use super::IndexError;
use crate::output::{debug, warn_user};

/// netrc files are small; a larger one is read only this far.
const MAX_NETRC_BYTES: u64 = 1024 * 1024;

pub(crate) use crate::model::{SecretUrl, redact};

/// A username and password for one host.
#[derive(Clone)]
pub(crate) struct Credential {
    host: String,
    port: Option<u16>,
    username: String,
    password: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({}, ****)", self.host)
    }
}

/// Every credential lbuild knows, by host.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    entries: Vec<Credential>,
}

impl Credentials {
    /// Take the credentials out of an index URL (returning the URL without them), adding those
    /// from the index's environment variables.
    pub fn add_index(&mut self, name: &str, url: &Url) -> Url {
        let mut clean = url.clone();
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port();
        let variable = |suffix: &str| {
            let key = format!("LBUILD_INDEX_{}_{suffix}", name.to_ascii_uppercase().replace('-', "_"));
            std::env::var(key).ok().filter(|value| !value.is_empty())
        };
        if let Some(username) = variable("USERNAME") {
            self.entries.push(Credential { host: host.clone(), port, username, password: variable("PASSWORD") });
        } else if !url.username().is_empty() {
            let decode = |text: &str| percent_decode(text);
            self.entries.push(Credential {
                host: host.clone(),
                port,
                username: decode(url.username()),
                password: url.password().map(decode),
            });
        }
        let _ = clean.set_username("");
        let _ = clean.set_password(None);
        clean
    }

    /// Read netrc (`$NETRC`, else `~/.netrc`) if it exists, with the `rust-netrc` crate (quoted
    /// tokens, `macdef` blocks and comments as ftp and curl read them). Its `default` entry is
    /// ignored: lbuild sends credentials only to the host they name. A file that does not parse
    /// is ignored with a warning that names its line, never its text.
    pub fn add_netrc(&mut self) {
        let path = std::env::var_os("NETRC")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".netrc")));
        let Some(path) = path else { return };
        let Ok(file) = std::fs::File::open(&path) else { return };
        let mut bytes = Vec::new();
        if std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_NETRC_BYTES), &mut bytes).is_err() {
            return;
        }
        let text = String::from_utf8_lossy(&bytes);
        let parsed = match text.parse::<netrc::Netrc>() {
            Ok(parsed) => parsed,
            Err(err) => {
                // The crate's message quotes the token it choked on, which may be a password.
                let message = err.to_string();
                let line = message.rsplit_once("(line ").map(|(_, rest)| rest.trim_end_matches(')')).unwrap_or("?");
                warn_user!("ignoring netrc file `{}`: it is not valid netrc syntax (line {line})", path.display());
                return;
            }
        };
        let mut hosts: Vec<(String, netrc::Authenticator)> =
            parsed.hosts.into_iter().filter(|(host, auth)| host != "default" && !auth.login.is_empty()).collect();
        hosts.sort_by(|a, b| a.0.cmp(&b.0));
        for (host, auth) in hosts {
            let password = (!auth.password.is_empty()).then_some(auth.password);
            self.entries.push(Credential { host, port: None, username: auth.login, password });
        }
    }

    fn for_url(&self, url: &Url) -> Option<(&str, Option<&str>)> {
        let host = url.host_str()?;
        self.entries
            .iter()
            .find(|entry| entry.host == host && (entry.port.is_none() || entry.port == url.port()))
            .map(|entry| (entry.username.as_str(), entry.password.as_deref()))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a request is for: pages follow redirects only within their host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Page,
    File,
}

/// A whole response.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The URL that answered, after redirects.
    pub url: Url,
    /// The body, when it was read into memory ([`Body::Memory`]).
    pub body: Vec<u8>,
    /// The body of a successful response, when it was streamed to a file ([`Body::File`]).
    pub file: Option<Spooled>,
}

/// Where a response body goes as it arrives.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Memory,
    /// A temporary file in this directory, hashed as it is written. Only a successful (2xx)
    /// body is kept; any other is not read.
    File(PathBuf),
}

/// A body streamed to a temporary file: removed when dropped, unless it was persisted.
#[derive(Debug)]
pub(crate) struct Spooled {
    pub path: tempfile::TempPath,
    pub sha256: String,
    pub size: u64,
}

/// Where the bytes of one attempt go.
enum Sink {
    Memory(Vec<u8>),
    File(Box<FileSink>),
}

struct FileSink {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    hasher: Sha256,
    size: u64,
}

impl Sink {
    /// `capacity`: the bytes expected (the declared length, within the limit).
    async fn open(body: &Body, capacity: usize) -> std::io::Result<Sink> {
        match body {
            Body::Memory => Ok(Sink::Memory(Vec::with_capacity(capacity))),
            Body::File(dir) => {
                let dir = dir.clone();
                let temp =
                    super::blocking(move || tempfile::Builder::new().prefix(".lbuild-tmp-").tempfile_in(dir)).await?;
                let (file, path) = temp.into_parts();
                Ok(Sink::File(Box::new(FileSink {
                    file: tokio::fs::File::from_std(file),
                    path,
                    hasher: Sha256::new(),
                    size: 0,
                })))
            }
        }
    }

    fn len(&self) -> u64 {
        match self {
            Sink::Memory(bytes) => bytes.len() as u64,
            Sink::File(sink) => sink.size,
        }
    }

    async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Memory(bytes) => bytes.extend_from_slice(chunk),
            Sink::File(sink) => {
                sink.hasher.update(chunk);
                sink.size += chunk.len() as u64;
                // tokio's file runs the write on its blocking pool, off the async workers.
                sink.file.write_all(chunk).await?;
            }
        }
        Ok(())
    }

    /// The body: in memory, or the file flushed (synced to disk only when it becomes a cache
    /// entry: see [`crate::cache::Cache::persist_wheel`]; a range answer is only read back).
    async fn finish(self) -> std::io::Result<(Vec<u8>, Option<Spooled>)> {
        match self {
            Sink::Memory(bytes) => Ok((bytes, None)),
            Sink::File(sink) => {
                let FileSink { mut file, path, hasher, size } = *sink;
                file.flush().await?;
                drop(file);
                Ok((Vec::new(), Some(Spooled { path, sha256: crate::cache::hex(&hasher.finalize()), size })))
            }
        }
    }
}

/// Counters for `-v` and tests.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

/// The HTTP client of one lbuild run.
pub(crate) struct Http {
    pages: reqwest::Client,
    files: reqwest::Client,
    permits: Semaphore,
    credentials: Credentials,
    attempts: u32,
    base_delay: Duration,
    max_retry_after: Duration,
    /// The longest one [`Http::get`] may take, retries and body included.
    deadline: Duration,
    /// One gate per client and origin, open once the first request there has its answer.
    gates: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Semaphore>>>,
    pub stats: Stats,
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|value| value.trim().parse().ok())
}

/// The default of `LBUILD_HTTP_DEADLINE`: ten minutes, enough for a 250 MB wheel at 0.5 MB/s.
const DEFAULT_DEADLINE_SECS: u64 = 600;

/// `n` bytes for people: `64 MiB`.
pub(crate) fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// How one attempt ended.
enum Attempt {
    Done(Box<Response>),
    /// Worth retrying, with the reason.
    Retry(String),
    /// A 5xx or 429, with the wait the server asked for.
    ServerError(StatusCode, Option<Duration>),
    Fail(IndexError),
}

impl Http {
    /// `LBUILD_HTTP_TIMEOUT` (seconds without data before a request fails, default 30),
    /// `LBUILD_HTTP_DEADLINE` (seconds a request may take in all, default 600) and
    /// `LBUILD_HTTP_RETRIES` (retries after the first attempt, default 3) tune it.
    pub fn new(credentials: Credentials) -> Result<Http, IndexError> {
        // reqwest is built without a default TLS crypto provider; install ring's once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_secs(env_number("LBUILD_HTTP_TIMEOUT").unwrap_or(30).max(1));
        let build = |policy: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .user_agent(concat!("lbuild/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(timeout.min(Duration::from_secs(15)))
                .read_timeout(timeout)
                .pool_max_idle_per_host(64)
                .redirect(policy)
                .build()
                .map_err(|err| IndexError::new(format!("failed to set up the HTTP client: {err}")))
        };
        let same_host = reqwest::redirect::Policy::custom(|attempt| {
            let previous = attempt.previous().last().map(|url| (url.host_str().map(str::to_string), url.port()));
            if attempt.previous().len() >= 10 {
                attempt.error("too many redirects")
            } else if previous == Some((attempt.url().host_str().map(str::to_string), attempt.url().port())) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        Ok(Http {
            pages: build(same_host)?,
            files: build(reqwest::redirect::Policy::limited(10))?,
            permits: Semaphore::new(48),
            credentials,
            attempts: 1 + env_number("LBUILD_HTTP_RETRIES").unwrap_or(3) as u32,
            base_delay: Duration::from_millis(env_number("LBUILD_HTTP_BACKOFF_MS").unwrap_or(250)),
            max_retry_after: Duration::from_secs(60),
            deadline: Duration::from_secs(env_number("LBUILD_HTTP_DEADLINE").unwrap_or(DEFAULT_DEADLINE_SECS).max(1)),
            gates: std::sync::Mutex::new(std::collections::HashMap::new()),
            stats: Stats::default(),
        })
    }

    /// GET a URL, retrying what is worth retrying, within the overall deadline and reading at
    /// most `limit` bytes of body into memory. Any status comes back as a response except
    /// 401/403 (an error with the fix), a 5xx/429 that outlasts the retries, and a body over
    /// `limit`.
    pub async fn get(
        &self,
        url: &Url,
        headers: HeaderMap,
        purpose: Purpose,
        index: &str,
        limit: u64,
    ) -> Result<Response, IndexError> {
        self.get_into(url, headers, purpose, index, limit, &Body::Memory).await
    }

    /// [`Http::get`], with the body going where `body` says: a file's bytes are written and
    /// hashed as they arrive, so a large wheel is never held in memory, and a body over `limit`
    /// is cut off there (its temporary file removed).
    pub async fn get_into(
        &self,
        url: &Url,
        headers: HeaderMap,
        purpose: Purpose,
        index: &str,
        limit: u64,
        body: &Body,
    ) -> Result<Response, IndexError> {
        let _permit = self.permits.acquire().await.expect("semaphore is never closed");
        let shown = SecretUrl::from(url);
        match tokio::time::timeout(
            self.deadline,
            self.get_with_retries(url, headers, purpose, index, limit, body, &shown),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(IndexError::new(format!(
                "GET `{shown}` did not finish within {} s, the deadline of one request",
                self.deadline.as_secs()
            ))
            .with_help(
                "the index is too slow or stalling; set `LBUILD_HTTP_DEADLINE` (seconds) to allow longer requests",
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn get_with_retries(
        &self,
        url: &Url,
        headers: HeaderMap,
        purpose: Purpose,
        index: &str,
        limit: u64,
        body: &Body,
        shown: &SecretUrl,
    ) -> Result<Response, IndexError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            debug!("GET {shown}{}", if attempt > 1 { format!(" (attempt {attempt})") } else { String::new() });
            let last = attempt >= self.attempts;
            let failure = match self.attempt(url, headers.clone(), purpose, index, limit, body, shown).await {
                Attempt::Done(response) => return Ok(*response),
                Attempt::Fail(error) => return Err(error),
                Attempt::ServerError(status, wait) => {
                    if last || wait.is_some_and(|wait| wait > self.max_retry_after) {
                        return Err(IndexError::new(format!(
                            "`{shown}` answered {status} {attempt} time(s); giving up"
                        ))
                        .with_help("the index is failing or rate-limiting; try again later"));
                    }
                    tokio::time::sleep(wait.unwrap_or_else(|| self.backoff(attempt))).await;
                    continue;
                }
                Attempt::Retry(failure) => failure,
            };
            if last {
                return Err(IndexError::new(format!("GET `{shown}` failed after {attempt} attempt(s): {failure}"))
                    .with_help("check the network and the index URL; `LBUILD_HTTP_TIMEOUT`, `LBUILD_HTTP_DEADLINE` and `LBUILD_HTTP_RETRIES` tune patience"));
            }
            debug!("GET {shown} failed ({failure}); retrying");
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        url: &Url,
        headers: HeaderMap,
        purpose: Purpose,
        index: &str,
        limit: u64,
        body: &Body,
        shown: &SecretUrl,
    ) -> Attempt {
        let client = match purpose {
            Purpose::Page => &self.pages,
            Purpose::File => &self.files,
        };
        let mut request = client.get(url.clone()).headers(headers);
        if let Some((username, password)) = self.credentials.for_url(url) {
            request = request.basic_auth(username, password);
        }
        // The first request to an origin goes alone: whether its connection speaks HTTP/2 is
        // known only once it is up, and requests that start before then each open their own
        // connection (a TLS handshake and a DNS lookup apiece). After it, requests to that
        // origin share the one HTTP/2 connection.
        let gate = self.gate(purpose, url);
        let first = gate.acquire().await.ok();
        let sent = std::time::Instant::now();
        let sent_result = request.send().await;
        if first.is_some() {
            gate.close();
        }
        let mut response = match sent_result {
            Ok(response) => response,
            Err(err) => return Attempt::Retry(error_chain(&err)),
        };
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Attempt::Fail(unauthorized(status, shown, index));
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Attempt::ServerError(status, retry_after(response.headers()));
        }
        let too_large = || {
            IndexError::new(format!(
                "`{shown}` sent more than {}, the most lbuild accepts for this response",
                size_text(limit)
            ))
            .with_help(
                "the index served something far larger than it should; check the index, or report it to its owner",
            )
        };
        if response.content_length().is_some_and(|length| length > limit) {
            return Attempt::Fail(too_large());
        }
        let final_url = response.url().clone();
        let response_headers = response.headers().clone();
        if matches!(body, Body::File(_)) && !status.is_success() {
            debug!("HTTP {} {shown}: body not read", status.as_u16());
            return Attempt::Done(Box::new(Response {
                status,
                headers: response_headers,
                url: final_url,
                body: Vec::new(),
                file: None,
            }));
        }
        let answered = sent.elapsed().as_millis();
        let cannot_write = |err: std::io::Error| {
            Attempt::Fail(
                IndexError::new(format!("cannot write the download of `{shown}` to disk: {err}"))
                    .with_help("check that the cache directory (`LBUILD_CACHE_DIR`) is writable and has space"),
            )
        };
        let expected = response.content_length().unwrap_or(0).min(limit).min(64 << 20) as usize;
        let mut sink = match Sink::open(body, expected).await {
            Ok(sink) => sink,
            Err(err) => return cannot_write(err),
        };
        // The temporary file of a failed attempt is removed as `sink` drops.
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if sink.len() + chunk.len() as u64 > limit {
                        return Attempt::Fail(too_large());
                    }
                    if let Err(err) = sink.write(&chunk).await {
                        return cannot_write(err);
                    }
                }
                Ok(None) => break,
                Err(err) => return Attempt::Retry(format!("reading the body failed: {}", error_chain(&err))),
            }
        }
        let size = sink.len();
        self.stats.bytes.fetch_add(size, Ordering::Relaxed);
        debug!(
            "HTTP {} {shown}: {size} bytes in {} ms ({answered} ms to the answer)",
            status.as_u16(),
            sent.elapsed().as_millis()
        );
        let (bytes, file) = match sink.finish().await {
            Ok(done) => done,
            Err(err) => return cannot_write(err),
        };
        Attempt::Done(Box::new(Response { status, headers: response_headers, url: final_url, body: bytes, file }))
    }

    /// A HEAD request, without retries beyond the connection's: used only to learn sizes, and
    /// its failure only costs a download.
    pub async fn head(&self, url: &Url, index: &str) -> Result<Response, IndexError> {
        let _permit = self.permits.acquire().await.expect("semaphore is never closed");
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let shown = SecretUrl::from(url);
        debug!("HEAD {shown}");
        let mut request = self.files.head(url.clone());
        if let Some((username, password)) = self.credentials.for_url(url) {
            request = request.basic_auth(username, password);
        }
        match request.send().await {
            Ok(response)
                if response.status() == StatusCode::UNAUTHORIZED || response.status() == StatusCode::FORBIDDEN =>
            {
                Err(unauthorized(response.status(), &shown, index))
            }
            Ok(response) => Ok(Response {
                status: response.status(),
                headers: response.headers().clone(),
                url: response.url().clone(),
                body: Vec::new(),
                file: None,
            }),
            Err(err) => Err(IndexError::new(format!("HEAD `{shown}` failed: {}", error_chain(&err)))),
        }
    }

    /// The gate of `url`'s origin for `purpose`'s client (see [`Http::attempt`]).
    fn gate(&self, purpose: Purpose, url: &Url) -> std::sync::Arc<Semaphore> {
        let key = format!("{purpose:?} {}", url.origin().ascii_serialization());
        let mut gates = self.gates.lock().expect("lock is not poisoned");
        gates.entry(key).or_insert_with(|| std::sync::Arc::new(Semaphore::new(1))).clone()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.base_delay * 2u32.pow(attempt.saturating_sub(1).min(6))
    }
}

/// `Retry-After` in seconds (the HTTP-date form is treated as absent).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn unauthorized(status: StatusCode, url: &SecretUrl, index: &str) -> IndexError {
    let variable = index.to_ascii_uppercase().replace('-', "_");
    IndexError::new(format!("index `{index}` answered {status} for `{url}`")).with_help(format!(
        "give lbuild credentials for it: set `LBUILD_INDEX_{variable}_USERNAME` and `LBUILD_INDEX_{variable}_PASSWORD`, \
         add the host to ~/.netrc, or put them in the index URL through `LBUILD_INDEX_URL`"
    ))
}

pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_and_go_only_to_their_host() {
        let mut credentials = Credentials::default();
        let url = Url::parse("https://me:s%40cret@pypi.corp.example/simple/").unwrap();
        let clean = credentials.add_index("corp", &url);
        assert_eq!(clean.as_str(), "https://pypi.corp.example/simple/");
        let file = Url::parse("https://pypi.corp.example/files/a.whl").unwrap();
        assert_eq!(credentials.for_url(&file), Some(("me", Some("s@cret"))));
        let elsewhere = Url::parse("https://files.pythonhosted.org/a.whl").unwrap();
        assert_eq!(credentials.for_url(&elsewhere), None);
        assert!(!format!("{credentials:?}").contains("cret"));
        assert_eq!(redact(url.as_str()), "https://****@pypi.corp.example/simple/");
    }

    #[test]
    fn secret_urls_never_display_credentials() {
        let cases = [
            ("https://me:s3cret@pypi.corp.example/simple/", "https://****@pypi.corp.example/simple/"),
            ("https://token@host/simple/", "https://****@host/simple/"),
            // Unparsable: a space in the host, a bad port, no scheme at all.
            ("https://me:s3cret@pypi corp/simple/", "https://****@pypi corp/simple/"),
            ("https://me:s3cret@host:99999/simple/", "https://****@host:99999/simple/"),
            ("me:s3cret@host/simple", "****@host/simple"),
            ("https://me:p@ss/w@rd s3cret@host/", "https://****@host/"),
            ("https://pypi.org/simple/", "https://pypi.org/simple/"),
            ("not a url", "not a url"),
        ];
        for (text, shown) in cases {
            let url = SecretUrl::new(text);
            assert_eq!(url.to_string(), shown, "{text}");
            assert_eq!(format!("{url:?}"), format!("{shown:?}"), "{text}");
            assert!(!url.to_string().contains("s3cret") && !format!("{url:?}").contains("s3cret"));
            assert_eq!(url.expose_for_request(), text);
        }
    }

    /// Reads `text` as the netrc file, after the index `a.example` gave its own credentials.
    fn with_netrc(text: &str) -> Credentials {
        let dir = tempfile::tempdir().unwrap();
        let netrc = dir.path().join("netrc");
        fs_err::write(&netrc, text).unwrap();
        let _guard = NETRC_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // SAFETY: the tests that set NETRC hold NETRC_LOCK; nothing else in this binary reads it.
        unsafe { std::env::set_var("NETRC", &netrc) };
        let mut credentials = Credentials::default();
        credentials.add_index("a", &Url::parse("https://carol:three@a.example/simple/").unwrap());
        credentials.add_netrc();
        unsafe { std::env::remove_var("NETRC") };
        credentials
    }

    static NETRC_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn for_host(credentials: &Credentials, host: &str) -> Option<(String, Option<String>)> {
        let url = Url::parse(&format!("https://{host}/x")).unwrap();
        credentials.for_url(&url).map(|(user, password)| (user.to_string(), password.map(str::to_string)))
    }

    #[test]
    fn netrc_fills_in_for_hosts_without_index_credentials() {
        let credentials =
            with_netrc("machine a.example login alice password one\nmachine b.example\n  login bob\n  password two\n");
        assert_eq!(
            for_host(&credentials, "a.example"),
            Some(("carol".into(), Some("three".into()))),
            "the index's own wins"
        );
        assert_eq!(for_host(&credentials, "b.example"), Some(("bob".into(), Some("two".into()))));
    }

    /// The hand-written reader stopped at the first `macdef` and split quoted passwords.
    #[test]
    fn netrc_macdef_blocks_quoted_passwords_and_default() {
        let credentials = with_netrc(concat!(
            "# comment\n",
            "machine first.example login u1 password p1\n",
            "macdef init\ncd /pub\nbinary\n\n",
            "machine after.example login u2 password \"two words \\\" and a quote\"\n",
            "default login anyone password everywhere\n",
        ));
        assert_eq!(for_host(&credentials, "first.example"), Some(("u1".into(), Some("p1".into()))));
        assert_eq!(
            for_host(&credentials, "after.example"),
            Some(("u2".into(), Some("two words \" and a quote".into()))),
            "entries after a macdef are read, and a quoted password is one token"
        );
        assert_eq!(for_host(&credentials, "elsewhere.example"), None, "the default entry is never sent");
        assert_eq!(for_host(&credentials, "default"), None);
    }

    #[test]
    fn an_invalid_netrc_is_ignored_without_quoting_it() {
        let credentials = with_netrc("machine ok.example login u password p\nbogus-token s3cret\n");
        assert_eq!(for_host(&credentials, "ok.example"), None);
        assert_eq!(for_host(&credentials, "a.example"), Some(("carol".into(), Some("three".into()))));
    }

    #[test]
    fn retry_after_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
