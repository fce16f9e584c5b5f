//! Amazon S3 (and S3-compatible stores) for `lbuild publish`: the region and endpoint, and the
//! few requests publishing needs (`HeadObject`, a conditional `PutObject`, a multipart upload
//! above [`MULTIPART_THRESHOLD`]), signed with SigV4 ([`sigv4`]) with the credentials
//! [`credentials`] finds, and sent with reqwest.

mod credentials;
pub(crate) mod lambda;
pub(crate) mod sigv4;

pub(crate) use credentials::credentials;

use std::collections::BTreeMap;
use std::time::Duration;

/// Access keys.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// What the process environment says (a map, so tests can give their own).
pub(crate) type Environment = BTreeMap<String, String>;

/// The environment of this process.
pub(crate) fn environment() -> Environment {
    std::env::vars().collect()
}

/// The region: `AWS_REGION`, `AWS_DEFAULT_REGION`, else the profile's, else `us-east-1`.
pub(crate) fn region(env: &Environment) -> String {
    let get = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
    if let Some(region) = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")) {
        return region;
    }
    let (_, [_, (config, section)]) = credentials::profile_files(env);
    credentials::ini_section(&config, &section)
        .and_then(|values| values.get("region").cloned())
        .unwrap_or_else(|| "us-east-1".into())
}

/// One bucket, on AWS or an S3-compatible endpoint.
pub(crate) struct Bucket {
    pub name: String,
    /// Whether the bucket is in the path (custom endpoints, and names with dots, which
    /// virtual-hosted TLS names cannot hold).
    path_style: bool,
    service: Service,
}

/// One AWS endpoint and what signs requests to it: S3's and Lambda's requests both go out
/// through [`Service::request`].
struct Service {
    /// The SigV4 service name: `s3`, `lambda`.
    name: &'static str,
    /// `scheme://host[:port]`.
    endpoint: url::Url,
    region: String,
    credentials: Credentials,
    http: reqwest::Client,
    /// Tries per request: three, or fewer where giving up costs nothing (the remote cache).
    attempts: u32,
}

impl Service {
    /// The endpoint as messages show it.
    fn shown(&self) -> &str {
        self.endpoint.as_str().trim_end_matches('/')
    }

    /// One signed request to `path` (unencoded) with `query` (decoded pairs; an empty value is a
    /// bare name, as `?uploads`), retried on a connection error or a 5xx (`attempts` in all),
    /// each attempt within `timeout`. The error is the last attempt's.
    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
        timeout: Duration,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let host = match self.endpoint.port() {
            Some(port) => format!("{}:{port}", self.endpoint.host_str().unwrap_or_default()),
            None => self.endpoint.host_str().unwrap_or_default().to_string(),
        };
        let mut url = format!("{}://{host}{}", self.endpoint.scheme(), sigv4::uri_encode(path, false));
        if !query.is_empty() {
            let pairs: Vec<String> = query
                .iter()
                .map(|(name, value)| match value.is_empty() {
                    true => sigv4::uri_encode(name, true),
                    false => format!("{}={}", sigv4::uri_encode(name, true), sigv4::uri_encode(value, true)),
                })
                .collect();
            url = format!("{url}?{}", pairs.join("&"));
        }
        let payload = sigv4::sha256_hex(body.as_ref().map_or(&[][..], |body| body.bytes));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs());
            let request =
                sigv4::Request { method: method.as_str(), host: &host, path, query, headers, payload_sha256: &payload };
            let mut builder = self.http.request(method.clone(), &url).timeout(timeout);
            // The signed headers, `headers` among them (each sent once, or the signature breaks).
            for (name, value) in sigv4::sign(&request, &self.credentials, &self.region, self.name, now) {
                builder = builder.header(name, value);
            }
            if let Some(body) = &body {
                builder = builder.header("content-type", body.content_type).body(body.bytes.to_vec());
            }
            match builder.send().await {
                Ok(response) if response.status().is_server_error() && attempt < self.attempts => {}
                Ok(response) => return Ok(response),
                Err(_) if attempt < self.attempts => {}
                Err(err) => return Err(err),
            }
            tokio::time::sleep(Duration::from_millis(200 * (1 << attempt))).await;
        }
    }
}

/// A bucket name as S3 allows it: 3 to 63 lower-case letters, digits, `.` and `-`, starting and
/// ending with a letter or digit, no `..`, not an IP address.
pub(crate) fn check_name(name: &str) -> miette::Result<()> {
    let valid = (3..=63).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b".-".contains(&byte))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err();
    if valid {
        return Ok(());
    }
    miette::bail!(
        help = "bucket names are 3 to 63 lower-case letters, digits, `.` and `-`, start and end with a letter or \
                digit, and are not IP addresses",
        "`{}` is not an S3 bucket name",
        crate::output::escape_controls(name)
    )
}

/// What a `HeadObject` says.
#[derive(Debug, PartialEq)]
pub(crate) enum Head {
    /// There, with this size and the sha256 lbuild recorded in its metadata, if any.
    Present(u64, Option<String>),
    Absent,
}

/// An endpoint given by the user, if it is one: only scheme, host and port (a path would be
/// dropped, and a password printed).
fn parse_endpoint(endpoint: &str) -> Option<url::Url> {
    url::Url::parse(endpoint)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .filter(|url| url.username().is_empty() && url.password().is_none())
        .filter(|url| url.path() == "/" && url.query().is_none())
}

/// [`parse_endpoint`], or an error saying what an endpoint is.
fn endpoint_url(endpoint: &str) -> miette::Result<url::Url> {
    parse_endpoint(endpoint).ok_or_else(|| {
        miette::miette!(
            help = "an endpoint is a scheme, host and port, such as `https://s3.example.com` or \
                        `http://127.0.0.1:9000`, with no path; credentials go in AWS_ACCESS_KEY_ID and \
                        AWS_SECRET_ACCESS_KEY",
            "`{}` is not an endpoint URL",
            crate::model::redact(endpoint)
        )
    })
}

/// The HTTP client for AWS: no redirects (a signed request must not follow one, and a
/// credentials answer must come from where it was asked), with `timeouts` set on it.
fn aws_client(
    timeouts: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> miette::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder()
        .user_agent(concat!("lbuild/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    timeouts(builder).build().map_err(|err| miette::miette!("cannot set up the HTTP client: {err}"))
}

/// The client for S3 and Lambda: 10 s to connect, and `read` at most between bytes.
fn http_client(read: Duration) -> miette::Result<reqwest::Client> {
    aws_client(|builder| builder.connect_timeout(Duration::from_secs(10)).read_timeout(read))
}

/// Whether `prefix` is key segments as lbuild writes keys under it: no empty, `.` or `..`
/// segments, backslashes or control characters.
pub(crate) fn is_key_prefix(prefix: &str) -> bool {
    !(prefix.split('/').any(|part| part == "." || part == ".." || (part.is_empty() && !prefix.is_empty()))
        || prefix.contains('\\')
        || prefix.chars().any(char::is_control))
}

/// Objects above this size go up in parts (as the AWS CLI's default), so that a failed part is
/// sent again rather than the whole zip, and no single request holds a 250 MB body.
pub(crate) const MULTIPART_THRESHOLD: usize = 8 << 20;

/// The size of each part: 8 MiB, or more for an object that would need over 10,000 parts.
fn part_size(len: usize) -> usize {
    const MAX_PARTS: usize = 10_000;
    (8 << 20).max(len.div_ceil(MAX_PARTS).next_multiple_of(1 << 20))
}

/// The text of the first `<name>...</name>` of an XML document, with the five entities undone;
/// S3 and STS answer in small, flat documents that need no XML parser.
pub(crate) fn xml_tag(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    let text = &body[start..end];
    Some(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// The domain of AWS's endpoints in `region`: `amazonaws.com`, and `amazonaws.com.cn` in China.
pub(crate) fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" }
}

/// How long one request may take: 30 s, and a second for each 256 KiB it sends or receives, so
/// that a store that trickles bytes fails the request instead of stalling the command.
fn deadline(bytes: u64) -> Duration {
    Duration::from_secs(30 + bytes / (256 << 10))
}

/// The most of an answer read when it is not an object's body: S3's and Lambda's are small
/// documents, and a hostile store's endless one must not fill memory.
const ANSWER_LIMIT: usize = 1 << 20;

/// An answer's body, up to [`ANSWER_LIMIT`] bytes (the rest is not read); an answer cut off
/// (a timeout, a reset) is an error, never taken for a whole one.
async fn read_capped(mut response: reqwest::Response) -> Result<String, String> {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = ANSWER_LIMIT - bytes.len();
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if bytes.len() == ANSWER_LIMIT {
                    break;
                }
            }
            Ok(None) => break,
            Err(err) => return Err(crate::index::error_chain(&err)),
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A request body and its content type.
struct Body<'a> {
    bytes: &'a [u8],
    content_type: &'a str,
}

/// An answer: status, headers, body.
type Answer = (reqwest::StatusCode, reqwest::header::HeaderMap, String);

impl Bucket {
    /// `endpoint`: `--endpoint-url`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else AWS.
    pub async fn new(name: &str, endpoint: Option<&str>, env: &Environment) -> miette::Result<Bucket> {
        check_name(name)?;
        let custom = endpoint
            .map(str::to_string)
            .or_else(|| env.get("AWS_ENDPOINT_URL_S3").filter(|url| !url.is_empty()).cloned())
            .or_else(|| env.get("AWS_ENDPOINT_URL").filter(|url| !url.is_empty()).cloned())
            .filter(|url| !url.is_empty());
        let region = region(env);
        let (endpoint, path_style) = match &custom {
            Some(url) => (url.clone(), true),
            None if name.contains('.') => (format!("https://s3.{region}.{}", dns_suffix(&region)), true),
            None => (format!("https://{name}.s3.{region}.{}", dns_suffix(&region)), false),
        };
        let endpoint = endpoint_url(&endpoint)?;
        let (credentials, _) = credentials(env).await?;
        let http = http_client(Duration::from_secs(60))?;
        let service = Service { name: "s3", endpoint, region, credentials, http, attempts: 3 };
        Ok(Bucket { name: name.to_string(), path_style, service })
    }

    /// For the remote cache, which is never needed: each request tried once more at most, and
    /// given up after 10 s without a byte (a minute elsewhere).
    pub fn for_cache(mut self) -> miette::Result<Bucket> {
        self.service.attempts = 2;
        self.service.http = http_client(Duration::from_secs(10))?;
        Ok(self)
    }

    /// `s3://bucket/key`.
    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.name)
    }

    /// The URL path of `key`.
    fn path(&self, key: &str) -> String {
        if self.path_style { format!("/{}/{key}", self.name) } else { format!("/{key}") }
    }

    /// One signed request, its answer read whole (S3's answers but a GET's are small).
    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
    ) -> miette::Result<Answer> {
        let response = self.respond(method, key, query, headers, body, 0).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = read_capped(response)
            .await
            .map_err(|err| miette::miette!("the answer about `{}` was cut off: {err}", self.uri(key)))?;
        Ok((status, headers, text))
    }

    /// One signed request for `key`, given a deadline for its body and the `expect` bytes of its
    /// answer ([`Service::request`]).
    async fn respond(
        &self,
        method: reqwest::Method,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
        expect: u64,
    ) -> miette::Result<reqwest::Response> {
        let timeout = deadline(body.as_ref().map_or(0, |body| body.bytes.len() as u64) + expect);
        self.service.request(method, &self.path(key), query, headers, body, timeout).await.map_err(|err| {
            miette::miette!(
                help = "check the endpoint (`--endpoint-url`, AWS_ENDPOINT_URL_S3) and the network",
                "cannot reach `{}` for `{}`: {}",
                self.service.shown(),
                self.uri(key),
                crate::index::error_chain(&err)
            )
        })
    }

    /// GET `key` into `file`, hashing it as it streams in and reading at most `limit` bytes:
    /// its sha256 and size (for a larger object, a placeholder for the sha256 and the bytes read),
    /// or `None` when there is no such object (S3 answers 403 rather than 404 to a caller without
    /// `s3:ListBucket`).
    pub async fn get_into(
        &self,
        key: &str,
        file: &mut std::fs::File,
        limit: u64,
    ) -> miette::Result<Option<(String, u64)>> {
        use sha2::Digest;
        use std::io::Write;
        let mut response = self.respond(reqwest::Method::GET, key, &[], &[], None, limit).await?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = read_capped(response).await.unwrap_or_default();
            let code = xml_tag(&body, "Code").unwrap_or_default();
            return match (status.as_u16(), code.as_str()) {
                (404, _) | (403, "AccessDenied") => Ok(None),
                _ => Err(self.error("read", key, status, &headers, &body)),
            };
        }
        let mut hasher = sha2::Sha256::new();
        let mut size = 0u64;
        let started = std::time::Instant::now();
        loop {
            // Past 30 s, slower than 64 KiB/s on average is a store that trickles: given up
            // (the deadline alone would be long for a large object).
            let elapsed = started.elapsed().as_secs();
            if elapsed > 30 && size / elapsed < 64 << 10 {
                miette::bail!(
                    "`{}` came in at {} bytes a second on average; given up as too slow",
                    self.uri(key),
                    size / elapsed
                );
            }
            let chunk = response.chunk().await.map_err(|err| {
                miette::miette!(
                    "cannot read `{}` from `{}`: {}",
                    self.uri(key),
                    self.service.shown(),
                    crate::index::error_chain(&err)
                )
            })?;
            let Some(chunk) = chunk else { break };
            size += chunk.len() as u64;
            if size > limit {
                // Not read further: what it holds is not what was asked for.
                return Ok(Some(("(not read: larger than expected)".into(), size)));
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .map_err(|err| miette::miette!("cannot write what `{}` holds: {err}", self.uri(key)))?;
        }
        Ok(Some((crate::cache::hex(&hasher.finalize()), size)))
    }

    /// Whether `key` exists. S3 answers 403 for a missing key to a caller without
    /// `s3:ListBucket`; that is taken as absent, and the conditional put settles it.
    pub async fn head(&self, key: &str) -> miette::Result<Head> {
        let (status, headers, body) = self.send(reqwest::Method::HEAD, key, &[], &[], None).await?;
        match status.as_u16() {
            200 => Ok(Head::Present(
                headers.get("content-length").and_then(|value| value.to_str().ok()?.parse().ok()).unwrap_or_default(),
                headers.get("x-amz-meta-sha256").and_then(|value| value.to_str().ok()).map(str::to_string),
            )),
            403 | 404 => Ok(Head::Absent),
            _ => Err(self.error("check", key, status, &headers, &body)),
        }
    }

    /// Put `bytes` at `key` unless an object is there (`If-None-Match: *`), in parts above
    /// [`MULTIPART_THRESHOLD`]. `Ok(false)`: an object was there.
    pub async fn put_new(&self, key: &str, bytes: &[u8], sha256: &str, progress: &dyn Fn(u64)) -> miette::Result<bool> {
        if bytes.len() > MULTIPART_THRESHOLD {
            return self.put_parts(key, bytes, sha256, progress).await;
        }
        // Its sha256 in the object's metadata, which a later `head` compares.
        let headers = [("if-none-match", "*"), ("x-amz-meta-sha256", sha256)];
        let body = Body { bytes, content_type: "application/zip" };
        let (status, answer, body) = self.send(reqwest::Method::PUT, key, &[], &headers, Some(body)).await?;
        match status.as_u16() {
            200 => {
                progress(bytes.len() as u64);
                Ok(true)
            }
            412 => Ok(false),
            _ => Err(self.error("upload", key, status, &answer, &body)),
        }
    }

    /// A multipart upload: create it, send the parts (four at a time), and complete it with
    /// `If-None-Match: *`; on any failure, abort it so no parts are left to pay for.
    async fn put_parts(&self, key: &str, bytes: &[u8], sha256: &str, progress: &dyn Fn(u64)) -> miette::Result<bool> {
        use futures::StreamExt;
        let headers = [("content-type", "application/zip"), ("x-amz-meta-sha256", sha256)];
        let (status, answer, body) = self.send(reqwest::Method::POST, key, &[("uploads", "")], &headers, None).await?;
        let upload = match (status.as_u16(), xml_tag(&body, "UploadId")) {
            (200, Some(upload)) if !upload.is_empty() => upload,
            _ => return Err(self.error("start uploading", key, status, &answer, &body)),
        };
        let result = async {
            let size = part_size(bytes.len());
            let parts: Vec<(usize, &[u8])> = bytes.chunks(size).enumerate().map(|(at, part)| (at + 1, part)).collect();
            let mut sent: Vec<(usize, String)> = futures::stream::iter(parts)
                .map(|(number, part)| {
                    let upload = upload.as_str();
                    async move {
                        let number_text = number.to_string();
                        let query = [("partNumber", number_text.as_str()), ("uploadId", upload)];
                        let body = Body { bytes: part, content_type: "application/octet-stream" };
                        let (status, answer, text) =
                            self.send(reqwest::Method::PUT, key, &query, &[], Some(body)).await?;
                        let etag = answer.get("etag").and_then(|value| value.to_str().ok()).map(str::to_string);
                        match (status.as_u16(), etag) {
                            (200, Some(etag)) => {
                                progress(part.len() as u64);
                                Ok((number, etag))
                            }
                            (200, None) => miette::bail!(
                                help = "the store does not speak S3's multipart upload; check the endpoint",
                                "the store took part {number} of `{}` but gave no ETag for it",
                                self.uri(key)
                            ),
                            _ => Err(self.error(&format!("upload part {number} of"), key, status, &answer, &text)),
                        }
                    }
                })
                .buffer_unordered(4)
                .collect::<Vec<miette::Result<_>>>()
                .await
                .into_iter()
                .collect::<miette::Result<_>>()?;
            sent.sort();
            let mut document = String::from("<CompleteMultipartUpload>");
            for (number, etag) in &sent {
                let etag = etag.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                document.push_str(&format!("<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>"));
            }
            document.push_str("</CompleteMultipartUpload>");
            let body = Body { bytes: document.as_bytes(), content_type: "application/xml" };
            let query = [("uploadId", upload.as_str())];
            let (status, answer, text) =
                self.send(reqwest::Method::POST, key, &query, &[("if-none-match", "*")], Some(body)).await?;
            // A 200 may still carry an error document (S3 says so once the parts are joined).
            match status.as_u16() {
                200 if !text.contains("<Error>") => Ok(true),
                // 412: an object is there. NoSuchUpload: an attempt whose answer was lost
                // completed it (or another upload took the key); the caller checks the object.
                412 => Ok(false),
                404 if xml_tag(&text, "Code").as_deref() == Some("NoSuchUpload") => Ok(false),
                _ => Err(self.error("finish uploading", key, status, &answer, &text)),
            }
        }
        .await;
        if !matches!(result, Ok(true)) {
            // Best effort: a failed abort leaves parts that a bucket lifecycle rule removes.
            let query = [("uploadId", upload.as_str())];
            let _ = self.send(reqwest::Method::DELETE, key, &query, &[], None).await;
        }
        result
    }

    /// An S3 error: the XML error document's `Code` and `Message`, and a hint for the usual ones.
    fn error(
        &self,
        what: &str,
        key: &str,
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &str,
    ) -> miette::Report {
        let tag = |name: &str| xml_tag(body, name).map(|text| crate::output::escape_controls(&text).into_owned());
        let code = tag("Code").unwrap_or_else(|| status.to_string());
        let message = tag("Message").map(|message| format!(": {message}")).unwrap_or_default();
        // A bucket in another region: S3 says which (also to a HEAD, which has no body).
        let elsewhere = headers
            .get("x-amz-bucket-region")
            .and_then(|value| value.to_str().ok())
            .filter(|region| *region != self.service.region)
            .map(|region| crate::output::escape_controls(region).into_owned());
        let help = match (code.as_str(), elsewhere) {
            (_, Some(region)) => format!("the bucket is in `{region}`: set AWS_REGION={region}"),
            ("SignatureDoesNotMatch", _) => {
                "the secret access key does not match the access key ID; check the credentials".into()
            }
            ("InvalidAccessKeyId", _) => {
                "the store does not know this access key ID; check the credentials and the endpoint".into()
            }
            ("ExpiredToken" | "InvalidToken", _) => "the session credentials expired or are wrong; get new ones".into(),
            ("NoSuchBucket", _) => "create the bucket first, or check its name and region (AWS_REGION)".into(),
            ("AccessDenied", _) => {
                "the credentials may not write this bucket (s3:PutObject); check their policy".into()
            }
            _ => "check the bucket, the region (AWS_REGION) and the credentials".into(),
        };
        miette::miette!(help = help, "cannot {what} `{}`: {code}{message}", self.uri(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_8_mib_until_10000_would_not_hold_the_object() {
        assert_eq!(part_size(20 << 20), 8 << 20);
        assert_eq!(part_size(80_000 << 20), 8 << 20, "exactly 10,000 parts");
        let huge: usize = 100_000 << 20;
        assert_eq!((huge.div_ceil(part_size(huge)), part_size(huge)), (10_000, 10 << 20));
        assert_eq!((huge + 1).div_ceil(part_size(huge + 1)), 9_091, "whole MiB parts");
        assert_eq!(xml_tag("<a><Code>A&amp;B &lt;x&gt;</Code></a>", "Code").as_deref(), Some("A&B <x>"));
        assert_eq!(xml_tag("<Code>unterminated", "Code"), None);
    }
}
