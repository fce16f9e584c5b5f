//! Amazon S3 (and S3-compatible stores) for `lbuild publish`: where the credentials, region and
//! endpoint come from, and the few requests publishing needs (`HeadObject`, a conditional
//! `PutObject`), signed with SigV4 ([`sigv4`]) and sent with reqwest.
//!
//! Credentials are found as the AWS tools find them, in this order: the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then the static keys of
//! the profile (`AWS_PROFILE`, default `default`) in the shared credentials and config files
//! (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`). A secret never appears in a message.

pub(crate) mod sigv4;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

/// The credentials, and where they came from (for messages).
pub(crate) fn credentials(env: &Environment) -> miette::Result<(Credentials, String)> {
    let get = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
    if let (Some(access_key_id), Some(secret_access_key)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
        let session_token = get("AWS_SESSION_TOKEN");
        return Ok((Credentials { access_key_id, secret_access_key, session_token }, "the environment".into()));
    }
    let (profile, files) = profile_files(env);
    for (path, section) in &files {
        let Some(values) = ini_section(path, section) else { continue };
        if let (Some(access_key_id), Some(secret_access_key)) =
            (values.get("aws_access_key_id"), values.get("aws_secret_access_key"))
        {
            let credentials = Credentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                session_token: values.get("aws_session_token").cloned(),
            };
            return Ok((credentials, format!("profile `{profile}` in `{}`", path.display())));
        }
        let other = ["role_arn", "sso_session", "sso_start_url", "credential_process", "web_identity_token_file"];
        if let Some(key) = other.iter().find(|key| values.contains_key(**key)) {
            miette::bail!(
                help = "export the credentials first, e.g. `eval \"$(aws configure export-credentials --format env)\"`, \
                        or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                "profile `{profile}` in `{}` gets its credentials through `{key}`, which lbuild does not support yet",
                path.display()
            );
        }
    }
    miette::bail!(
        help = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), \
                or AWS_PROFILE to a profile with static keys in ~/.aws/credentials; web identity, container and \
                instance credentials are not supported yet",
        "no AWS credentials found: not in the environment, nor for profile `{profile}` in `{}` or `{}`",
        files[0].0.display(),
        files[1].0.display()
    )
}

/// The profile (`AWS_PROFILE`, default `default`), and the shared credentials and config files
/// with the section each names it by (`[NAME]`, and `[profile NAME]` but for `default`).
fn profile_files(env: &Environment) -> (String, [(PathBuf, String); 2]) {
    let get = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
    let profile = get("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let home = get("HOME").or_else(|| get("USERPROFILE")).map(PathBuf::from).unwrap_or_default();
    let credentials = get("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from).unwrap_or(home.join(".aws/credentials"));
    let config = get("AWS_CONFIG_FILE").map(PathBuf::from).unwrap_or(home.join(".aws/config"));
    let section = if profile == "default" { profile.clone() } else { format!("profile {profile}") };
    (profile.clone(), [(credentials, profile), (config, section)])
}

/// The `key = value` pairs of `[section]` of an INI file (the AWS shared files' format).
fn ini_section(path: &Path, section: &str) -> Option<BTreeMap<String, String>> {
    let text = fs_err::read_to_string(path).ok()?;
    let mut current = None;
    let mut values = BTreeMap::new();
    let mut found = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            current = Some(name.trim().to_string());
            found |= name.trim() == section;
            continue;
        }
        if current.as_deref() == Some(section)
            && let Some((key, value)) = line.split_once('=')
        {
            values.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    found.then_some(values)
}

/// The region: `AWS_REGION`, `AWS_DEFAULT_REGION`, else the profile's, else `us-east-1`.
pub(crate) fn region(env: &Environment) -> String {
    let get = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
    if let Some(region) = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")) {
        return region;
    }
    let (_, [_, (config, section)]) = profile_files(env);
    ini_section(&config, &section)
        .and_then(|values| values.get("region").cloned())
        .unwrap_or_else(|| "us-east-1".into())
}

/// One bucket, on AWS or an S3-compatible endpoint.
pub(crate) struct Bucket {
    pub name: String,
    /// `scheme://host[:port]`, and whether the bucket is in the path (custom endpoints, and
    /// names with dots, which virtual-hosted TLS names cannot hold).
    endpoint: url::Url,
    path_style: bool,
    region: String,
    credentials: Credentials,
    http: reqwest::Client,
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
pub(crate) enum Head {
    /// There, with this size and the sha256 lbuild recorded in its metadata, if any.
    Present(u64, Option<String>),
    Absent,
}

impl Bucket {
    /// `endpoint`: `--endpoint-url`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else AWS.
    pub fn new(name: &str, endpoint: Option<&str>, env: &Environment) -> miette::Result<Bucket> {
        check_name(name)?;
        let (credentials, _) = credentials(env)?;
        let region = region(env);
        let custom = endpoint
            .map(str::to_string)
            .or_else(|| env.get("AWS_ENDPOINT_URL_S3").filter(|url| !url.is_empty()).cloned())
            .or_else(|| env.get("AWS_ENDPOINT_URL").filter(|url| !url.is_empty()).cloned())
            .filter(|url| !url.is_empty());
        let (endpoint, path_style) = match &custom {
            Some(url) => (url.clone(), true),
            None if name.contains('.') => (format!("https://s3.{region}.amazonaws.com"), true),
            None => (format!("https://{name}.s3.{region}.amazonaws.com"), false),
        };
        // Only scheme, host and port: a path would be dropped, and a password printed.
        let endpoint = url::Url::parse(&endpoint)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .filter(|url| url.username().is_empty() && url.password().is_none())
            .filter(|url| url.path() == "/" && url.query().is_none())
            .ok_or_else(|| {
                miette::miette!(
                    help = "an endpoint is a scheme, host and port, such as `https://s3.example.com` or \
                            `http://127.0.0.1:9000`, with no path; credentials go in AWS_ACCESS_KEY_ID and \
                            AWS_SECRET_ACCESS_KEY",
                    "`{}` is not an S3 endpoint URL",
                    crate::model::redact(&endpoint)
                )
            })?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("lbuild/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| miette::miette!("cannot set up the HTTP client: {err}"))?;
        Ok(Bucket { name: name.to_string(), endpoint, path_style, region, credentials, http })
    }

    /// `s3://bucket/key`.
    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.name)
    }

    /// The URL path of `key` and the host to sign.
    fn target(&self, key: &str) -> (String, String, String) {
        let path = if self.path_style { format!("/{}/{key}", self.name) } else { format!("/{key}") };
        let host = match self.endpoint.port() {
            Some(port) => format!("{}:{port}", self.endpoint.host_str().unwrap_or_default()),
            None => self.endpoint.host_str().unwrap_or_default().to_string(),
        };
        let url = format!("{}://{host}{}", self.endpoint.scheme(), sigv4::uri_encode(&path, false));
        (path, host, url)
    }

    /// One signed request, retried on a connection error or a 5xx (three attempts in all).
    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> miette::Result<(reqwest::StatusCode, reqwest::header::HeaderMap, String)> {
        let (path, host, url) = self.target(key);
        let payload = sigv4::sha256_hex(body.unwrap_or_default());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs());
            let request = sigv4::Request {
                method: method.as_str(),
                host: &host,
                path: &path,
                query: &[],
                headers,
                payload_sha256: &payload,
            };
            let mut builder = self.http.request(method.clone(), &url);
            // The signed headers, `headers` among them (each sent once, or the signature breaks).
            for (name, value) in sigv4::sign(&request, &self.credentials, &self.region, now) {
                builder = builder.header(name, value);
            }
            if let Some(body) = body {
                builder = builder.header("content-type", "application/zip").body(body.to_vec());
            }
            let shown = self.uri(key);
            match builder.send().await {
                Ok(response) if response.status().is_server_error() && attempt < 3 => {}
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let text = response.text().await.unwrap_or_default();
                    return Ok((status, headers, text));
                }
                Err(_) if attempt < 3 => {}
                Err(err) => {
                    miette::bail!(
                        help = "check the endpoint (`--endpoint-url`, AWS_ENDPOINT_URL_S3) and the network",
                        "cannot reach `{}` for `{shown}`: {err}",
                        self.endpoint.as_str().trim_end_matches('/')
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(200 * (1 << attempt))).await;
        }
    }

    /// Whether `key` exists. S3 answers 403 for a missing key to a caller without
    /// `s3:ListBucket`; that is taken as absent, and the conditional put settles it.
    pub async fn head(&self, key: &str) -> miette::Result<Head> {
        let (status, headers, body) = self.send(reqwest::Method::HEAD, key, &[], None).await?;
        match status.as_u16() {
            200 => Ok(Head::Present(
                headers.get("content-length").and_then(|value| value.to_str().ok()?.parse().ok()).unwrap_or_default(),
                headers.get("x-amz-meta-sha256").and_then(|value| value.to_str().ok()).map(str::to_string),
            )),
            403 | 404 => Ok(Head::Absent),
            _ => Err(self.error("check", key, status, &body)),
        }
    }

    /// Put `bytes` at `key` unless an object is there (`If-None-Match: *`). `Ok(false)`: it was.
    pub async fn put_new(&self, key: &str, bytes: &[u8], sha256: &str) -> miette::Result<bool> {
        // Its sha256 in the object's metadata, which a later `head` compares.
        let headers = [("if-none-match", "*"), ("x-amz-meta-sha256", sha256)];
        let (status, _, body) = self.send(reqwest::Method::PUT, key, &headers, Some(bytes)).await?;
        match status.as_u16() {
            200 => Ok(true),
            412 => Ok(false),
            _ => Err(self.error("upload", key, status, &body)),
        }
    }

    /// An S3 error: the XML error document's `Code` and `Message`, and a hint for the usual ones.
    fn error(&self, what: &str, key: &str, status: reqwest::StatusCode, body: &str) -> miette::Report {
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let start = body.find(&open)? + open.len();
            let end = body[start..].find(&format!("</{name}>"))? + start;
            Some(crate::output::escape_controls(&body[start..end]).into_owned())
        };
        let code = tag("Code").unwrap_or_else(|| status.to_string());
        let message = tag("Message").map(|message| format!(": {message}")).unwrap_or_default();
        let help = match code.as_str() {
            "SignatureDoesNotMatch" => "the secret access key does not match the access key ID; check the credentials",
            "InvalidAccessKeyId" => {
                "the store does not know this access key ID; check the credentials and the endpoint"
            }
            "ExpiredToken" | "InvalidToken" => "the session credentials expired or are wrong; get new ones",
            "NoSuchBucket" => "create the bucket first, or check its name and region (AWS_REGION)",
            "AccessDenied" => "the credentials may not write this bucket (s3:PutObject); check their policy",
            _ => "check the bucket, the region (AWS_REGION) and the credentials",
        };
        miette::miette!(help = help, "cannot {what} `{}`: {code}{message}", self.uri(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_environment_then_the_profile_and_never_show_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        fs_err::write(&file, "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s3cret\n\n[ci]\naws_access_key_id=AKCI\naws_secret_access_key=ci-s3cret\naws_session_token = tok\n[sso]\nsso_session = corp\n").unwrap();
        let mut env: Environment = [("AWS_SHARED_CREDENTIALS_FILE".to_string(), file.display().to_string())].into();
        env.insert("AWS_CONFIG_FILE".into(), dir.path().join("none").display().to_string());
        let (found, from) = credentials(&env).unwrap();
        assert_eq!((found.access_key_id.as_str(), from.contains("profile `default`")), ("AKDEFAULT", true));
        env.insert("AWS_PROFILE".into(), "ci".into());
        let (found, _) = credentials(&env).unwrap();
        assert_eq!((found.access_key_id.as_str(), found.session_token.as_deref()), ("AKCI", Some("tok")));
        assert!(!format!("{found:?}").contains("s3cret"), "{found:?}");
        env.insert("AWS_PROFILE".into(), "sso".into());
        let err = credentials(&env).unwrap_err().to_string();
        assert!(err.contains("through `sso_session`, which lbuild does not support yet"), "{err}");
        env.insert("AWS_ACCESS_KEY_ID".into(), "AKENV".into());
        env.insert("AWS_SECRET_ACCESS_KEY".into(), "env".into());
        assert_eq!(credentials(&env).unwrap().0.access_key_id, "AKENV", "the environment first");
        env.clear();
        env.insert("HOME".into(), dir.path().join("nohome").display().to_string());
        let err = credentials(&env).unwrap_err().to_string();
        assert!(err.starts_with("no AWS credentials found"), "{err}");
    }
}
