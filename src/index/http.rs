//! HTTP for indexes: bounded retries, timeouts, credentials and redirect rules.
//!
//! - Retries: connection errors, timeouts, bodies cut short, 5xx and 429 are retried with
//!   exponential backoff (or after the `Retry-After` the server asked for, up to a cap), a bounded
//!   number of times; then the error names the URL and the cause. 401 and 403 are never retried:
//!   they fail at once with a message that names the index and how to give it credentials, and
//!   nothing ever waits for input.
//! - Credentials come from the index URL (`https://user:token@host/...`, e.g. through
//!   `LBUILD_INDEX_URL`), from `LBUILD_INDEX_<NAME>_USERNAME` / `_PASSWORD`, or from netrc
//!   (`$NETRC` or `~/.netrc`). They are sent only to the host they belong to, and every URL that
//!   lbuild prints or writes goes through [`redact`].
//! - Index pages follow redirects only within the same host: a server that sends an unknown
//!   project to another index (pypiserver's default fallback to pypi.org) would otherwise let a
//!   public package stand in for a private one. Files may redirect anywhere (mirrors hand out
//!   signed storage URLs).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::sync::Semaphore;
use url::Url;

use super::IndexError;
use crate::output::debug;

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

    /// Read netrc (`$NETRC`, else `~/.netrc`) if it exists. Its `default` entry is ignored:
    /// lbuild sends credentials only to the host they name.
    pub fn add_netrc(&mut self) {
        let path = std::env::var_os("NETRC")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".netrc")));
        let Some(text) = path.and_then(|path| fs_err::read_to_string(path).ok()) else { return };
        let mut tokens = text.split_whitespace();
        let mut machine: Option<String> = None;
        let mut login = None;
        let mut password = None;
        let mut flush = |machine: &mut Option<String>, login: &mut Option<String>, password: &mut Option<String>| {
            if let (Some(host), Some(username)) = (machine.take(), login.take())
                && !host.is_empty()
            {
                self.entries.push(Credential { host, port: None, username, password: password.take() });
            }
            *password = None;
        };
        while let Some(token) = tokens.next() {
            match token {
                "machine" => {
                    flush(&mut machine, &mut login, &mut password);
                    machine = tokens.next().map(str::to_string);
                }
                "default" => {
                    flush(&mut machine, &mut login, &mut password);
                    machine = Some(String::new());
                }
                "login" => login = tokens.next().map(str::to_string),
                "password" => password = tokens.next().map(str::to_string),
                "account" => {
                    tokens.next();
                }
                // A macro definition runs to the next blank line; lbuild has no use for it.
                "macdef" => break,
                _ => {}
            }
        }
        flush(&mut machine, &mut login, &mut password);
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
    pub body: Vec<u8>,
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
    pub stats: Stats,
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|value| value.trim().parse().ok())
}

impl Http {
    /// `LBUILD_HTTP_TIMEOUT` (seconds without data before a request fails, default 30) and
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
            stats: Stats::default(),
        })
    }

    /// GET a URL, retrying what is worth retrying. Any status comes back as a response except
    /// 401/403 (an error with the fix) and a 5xx/429 that outlasts the retries.
    pub async fn get(
        &self,
        url: &Url,
        headers: HeaderMap,
        purpose: Purpose,
        index: &str,
    ) -> Result<Response, IndexError> {
        let _permit = self.permits.acquire().await.expect("semaphore is never closed");
        let client = match purpose {
            Purpose::Page => &self.pages,
            Purpose::File => &self.files,
        };
        let shown = redact(url.as_str());
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            debug!("GET {shown}{}", if attempt > 1 { format!(" (attempt {attempt})") } else { String::new() });
            let mut request = client.get(url.clone()).headers(headers.clone());
            if let Some((username, password)) = self.credentials.for_url(url) {
                request = request.basic_auth(username, password);
            }
            let last = attempt >= self.attempts;
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                        return Err(unauthorized(status, &shown, index));
                    }
                    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = retry_after(response.headers());
                        if last || wait.is_some_and(|wait| wait > self.max_retry_after) {
                            return Err(IndexError::new(format!(
                                "`{shown}` answered {status} {} time(s); giving up",
                                attempt
                            ))
                            .with_help("the index is failing or rate-limiting; try again later"));
                        }
                        tokio::time::sleep(wait.unwrap_or_else(|| self.backoff(attempt))).await;
                        continue;
                    }
                    let final_url = response.url().clone();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(body) => {
                            self.stats.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                            return Ok(Response { status, headers, url: final_url, body: body.to_vec() });
                        }
                        Err(err) => format!("reading the body failed: {}", error_chain(&err)),
                    }
                }
                Err(err) => error_chain(&err),
            };
            if last {
                return Err(IndexError::new(format!("GET `{shown}` failed after {attempt} attempt(s): {failure}"))
                    .with_help("check the network and the index URL; `LBUILD_HTTP_TIMEOUT` and `LBUILD_HTTP_RETRIES` tune patience"));
            }
            debug!("GET {shown} failed ({failure}); retrying");
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    /// A HEAD request, without retries beyond the connection's: used only to learn sizes, and
    /// its failure only costs a download.
    pub async fn head(&self, url: &Url, index: &str) -> Result<Response, IndexError> {
        let _permit = self.permits.acquire().await.expect("semaphore is never closed");
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        debug!("HEAD {}", redact(url.as_str()));
        let mut request = self.files.head(url.clone());
        if let Some((username, password)) = self.credentials.for_url(url) {
            request = request.basic_auth(username, password);
        }
        match request.send().await {
            Ok(response)
                if response.status() == StatusCode::UNAUTHORIZED || response.status() == StatusCode::FORBIDDEN =>
            {
                Err(unauthorized(response.status(), &redact(url.as_str()), index))
            }
            Ok(response) => Ok(Response {
                status: response.status(),
                headers: response.headers().clone(),
                url: response.url().clone(),
                body: Vec::new(),
            }),
            Err(err) => Err(IndexError::new(format!("HEAD `{}` failed: {}", redact(url.as_str()), error_chain(&err)))),
        }
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

fn unauthorized(status: StatusCode, url: &str, index: &str) -> IndexError {
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
    fn netrc_fills_in_for_hosts_without_index_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let netrc = dir.path().join("netrc");
        fs_err::write(
            &netrc,
            "machine a.example login alice password one\nmachine b.example\n  login bob\n  password two\n",
        )
        .unwrap();
        // SAFETY: tests in this binary do not read NETRC concurrently.
        unsafe { std::env::set_var("NETRC", &netrc) };
        let mut credentials = Credentials::default();
        credentials.add_index("a", &Url::parse("https://carol:three@a.example/simple/").unwrap());
        credentials.add_netrc();
        unsafe { std::env::remove_var("NETRC") };
        let a = Url::parse("https://a.example/x").unwrap();
        let b = Url::parse("https://b.example/x").unwrap();
        assert_eq!(credentials.for_url(&a), Some(("carol", Some("three"))), "the index's own wins");
        assert_eq!(credentials.for_url(&b), Some(("bob", Some("two"))));
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
