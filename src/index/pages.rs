//! Project pages: which URL and `Accept` header each API asks for, the HTTP cache policy of
//! pages (freshness from `Cache-Control: max-age`, else a tenth of the age `Last-Modified`
//! shows, capped at ten minutes; revalidation with `If-None-Match` / `If-Modified-Since`;
//! `no-store` honoured; absences remembered too), and the parse of each API's answer into
//! [`DistFile`]s. A stale cached page that has neither `ETag` nor `Last-Modified` cannot be
//! revalidated, so its body is not read at all; the page is fetched again whole.
//!
//! The policy is written here rather than taken from the `http-cache-semantics` crate (3.0,
//! evaluated for issue 10): lbuild applies four rules of RFC 9111 to GETs it makes itself, and
//! the crate would keep a serialized policy (request and response headers) in every page entry
//! and add `time` and `http-serde` with their dependencies (seven crates) to the build. Dates
//! are parsed by the `httpdate` crate.

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use super::http::Purpose;
use super::{DistFile, Index, IndexApi, IndexClient, IndexError, SecretUrl, check_status, files, header_string, join};
use crate::cache::{CachedPage, now};
use crate::output::{debug, warn_user};

const ACCEPT_SIMPLE: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// The largest index page lbuild reads (PyPI's largest simple pages are a few MiB).
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;

/// The longest a page without caching headers is trusted before revalidation.
const HEURISTIC_FRESHNESS_CAP: u64 = 600;

impl IndexClient {
    /// The files one index lists for a project (empty when it does not have it).
    pub(super) async fn index_files(&self, index: &Index, name: &str) -> Result<Vec<DistFile>, IndexError> {
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

    /// GET an index page through the cache. `Ok(None)` when the index does not have it.
    async fn fetch_page(
        &self,
        index: &Index,
        url: &Url,
        accept: &str,
        name: &str,
    ) -> Result<Option<CachedPage>, IndexError> {
        let (key, offline) = (url.to_string(), self.offline);
        let cached = self
            .with_cache(move |cache| {
                // A stale page without `ETag` or `Last-Modified` is fetched again whole: its
                // body is not worth reading (online, where nothing else could use it).
                let header = cache.read_page_header(&key)?;
                let useful = offline || header.is_fresh() || header.etag.is_some() || header.last_modified.is_some();
                if useful { cache.read_page(&key) } else { None }
            })
            .await;
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
        let revalidating = cached.as_ref().filter(|page| !page.missing);
        let request = |validators: Option<&CachedPage>| {
            self.http.get(url, request_headers(accept, validators), Purpose::Page, &index.name, MAX_PAGE_BYTES)
        };
        let mut response = request(revalidating).await?;
        // A 304 stands for the cached page only when the index was asked to revalidate it and
        // names the same entity (RFC 9111 4.3.4): one with another ETag is about a page lbuild
        // does not have, so it asks for the whole page instead. A 304 to a request that asked
        // for the whole page is an error: read as a redirect, it made the project absent and
        // sent lbuild on to the next index.
        if response.status == StatusCode::NOT_MODIFIED
            && !revalidating.is_some_and(|page| same_entity(&response.headers, page))
        {
            if revalidating.is_some() {
                debug!("{name}: the index answered 304 for another ETag than the cached page's; fetching it whole");
                response = request(None).await?;
            }
            if response.status == StatusCode::NOT_MODIFIED {
                return Err(IndexError::new(format!(
                    "`{}` answered 304 Not Modified to a request for the whole page (index `{}`)",
                    SecretUrl::from(url),
                    index.name
                ))
                .with_help("the index, or a proxy in front of it, is misbehaving; report it to its owner"));
            }
        }
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
                return Ok(Some(self.store_page(page).await));
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
                self.store_page(page).await;
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
            return Ok(Some(page));
        }
        Ok(Some(self.store_page(page).await))
    }

    /// Write a page to the cache on a blocking thread, and hand it back.
    async fn store_page(&self, page: CachedPage) -> CachedPage {
        self.with_cache(move |cache| {
            if let Err(err) = cache.write_page(&page) {
                debug!("could not cache `{}`: {err}", SecretUrl::new(page.url.as_str()));
            }
            page
        })
        .await
    }
}

/// The headers of a page request: `Accept`, and the validators of `cached` when revalidating.
fn request_headers(accept: &str, cached: Option<&CachedPage>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_str(accept).expect("static header"));
    if let Some(page) = cached {
        if let Some(etag) = page.etag.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = page.last_modified.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(header::IF_MODIFIED_SINCE, modified);
        }
    }
    headers
}

/// Whether a 304 is about the cached page: it names no ETag, or the cached page's (compared
/// weakly, as `If-None-Match` is).
fn same_entity(headers: &HeaderMap, cached: &CachedPage) -> bool {
    let weak = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    match header_string(headers, header::ETAG) {
        None => true,
        Some(etag) => cached.etag.as_deref().is_some_and(|stored| weak(stored) == weak(&etag)),
    }
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

/// How long a response stays fresh: `max-age` from `Cache-Control` (0 for `no-cache`), else
/// the RFC 9111 heuristic of a tenth of the time since `Last-Modified`, capped at ten minutes.
fn freshness(headers: &HeaderMap, stored_last_modified: Option<&str>) -> u64 {
    // Directives are case-insensitive and may come in several headers in any order: a
    // `no-cache` after a `max-age` still forbids using the page unvalidated.
    let mut max_age = None;
    for directive in headers.get_all(header::CACHE_CONTROL).iter().filter_map(|value| value.to_str().ok()) {
        for directive in directive.split(',').map(str::trim) {
            let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
            if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
                return 0;
            }
            if name.trim().eq_ignore_ascii_case("max-age") {
                max_age = max_age.or(Some(value.trim().trim_matches('"').parse().unwrap_or(0)));
            }
        }
    }
    if let Some(max_age) = max_age {
        return max_age;
    }
    let parse = |name| header_string(headers, name).and_then(|value| httpdate_seconds(&value));
    let last_modified = parse(header::LAST_MODIFIED).or_else(|| stored_last_modified.and_then(httpdate_seconds));
    match (last_modified, parse(header::DATE).or(Some(now()))) {
        (Some(modified), Some(date)) if date > modified => ((date - modified) / 10).min(HEURISTIC_FRESHNESS_CAP),
        _ => 0,
    }
}

/// Seconds since the Unix epoch of an HTTP date, in any of the three forms RFC 9110 (5.6.7)
/// has recipients accept: IMF-fixdate, RFC 850 and asctime (the `httpdate` crate).
fn httpdate_seconds(value: &str) -> Option<u64> {
    let time = httpdate::parse_http_date(value.trim()).ok()?;
    time.duration_since(std::time::UNIX_EPOCH).ok().map(|since| since.as_secs())
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
        // `no-cache` wins wherever it stands; directive names are case-insensitive.
        assert_eq!(freshness(&headers(&[("cache-control", "max-age=600, no-cache")]), None), 0);
        assert_eq!(freshness(&headers(&[("cache-control", "public, Max-Age=60")]), None), 60);
        let mut split = headers(&[("cache-control", "max-age=600")]);
        split.append(header::CACHE_CONTROL, "no-cache".parse().unwrap());
        assert_eq!(freshness(&split, None), 0, "a second Cache-Control header counts too");
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
        // The obsolete forms recipients must still accept (the hand-written parser refused them,
        // so a `Last-Modified` in them gave a page no heuristic freshness).
        assert_eq!(httpdate_seconds("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(httpdate_seconds("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(httpdate_seconds("yesterday"), None);
    }
}
