//! Where AWS credentials come from, in the order the AWS SDKs look:
//!
//! 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
//! 2. the profile (`AWS_PROFILE`, default `default`) in the shared credentials and config files
//!    (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`): static keys, or `role_arn` with
//!    `web_identity_token_file`;
//! 3. web identity from the environment (`AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`, as
//!    GitHub Actions' OIDC and EKS set them): STS `AssumeRoleWithWebIdentity`, at
//!    `AWS_ENDPOINT_URL_STS` (else `AWS_ENDPOINT_URL`, else `https://sts.REGION.amazonaws.com`);
//! 4. the container credentials endpoint (ECS, EKS Pod Identity, CodeBuild):
//!    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`;
//! 5. the EC2 instance metadata service, IMDSv2 (`AWS_EC2_METADATA_SERVICE_ENDPOINT`;
//!    `AWS_EC2_METADATA_DISABLED=true` skips it).
//!
//! A secret, a session token or a web identity token never appears in a message. Temporary
//! credentials are not refreshed: one command lasts far less than the hour they are given for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{Credentials, Environment, xml_tag};

/// The credentials, and where they came from (for messages).
pub(crate) async fn credentials(env: &Environment) -> miette::Result<(Credentials, String)> {
    let get = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
    match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => {
            let session_token = get("AWS_SESSION_TOKEN");
            return Ok((Credentials { access_key_id, secret_access_key, session_token }, "the environment".into()));
        }
        // Half a pair is a mistake, not a reason to act as another identity (as the SDKs say).
        (Some(_), None) | (None, Some(_)) => miette::bail!(
            help = "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither",
            "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set"
        ),
        (None, None) => {}
    }
    let (profile, files) = profile_files(env);
    // A profile asked for by name must exist: falling through to other credentials would act as
    // another identity.
    if get("AWS_PROFILE").is_some() && files.iter().all(|(path, section)| ini_section(path, section).is_none()) {
        miette::bail!(
            help = "check AWS_PROFILE, or the files it is looked up in (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE)",
            "AWS_PROFILE names the profile `{}`, which is in neither `{}` nor `{}`",
            crate::output::escape_controls(&profile),
            files[0].0.display(),
            files[1].0.display()
        );
    }
    for (path, section) in &files {
        let Some(values) = ini_section(path, section) else { continue };
        if values.contains_key("aws_access_key_id") != values.contains_key("aws_secret_access_key") {
            miette::bail!(
                help = "give the profile both `aws_access_key_id` and `aws_secret_access_key`",
                "profile `{profile}` in `{}` has only one of `aws_access_key_id` and `aws_secret_access_key`",
                path.display()
            );
        }
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
        if let (Some(role), Some(token_file), None) =
            (values.get("role_arn"), values.get("web_identity_token_file"), values.get("source_profile"))
        {
            let from = format!("web identity of profile `{profile}` in `{}`", path.display());
            let session = values.get("role_session_name").cloned();
            return Ok((web_identity(env, role, Path::new(token_file), session).await?, from));
        }
        let other = ["source_profile", "sso_session", "sso_start_url", "credential_process", "credential_source"];
        if let Some(key) = other.iter().find(|key| values.contains_key(**key)) {
            miette::bail!(
                help = "export the credentials first, e.g. `eval \"$(aws configure export-credentials --format env)\"`, \
                        or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                "profile `{profile}` in `{}` gets its credentials through `{key}`, which lbuild does not support yet",
                path.display()
            );
        }
    }
    if let (Some(role), Some(token_file)) = (get("AWS_ROLE_ARN"), get("AWS_WEB_IDENTITY_TOKEN_FILE")) {
        let session = get("AWS_ROLE_SESSION_NAME");
        let credentials = web_identity(env, &role, Path::new(&token_file), session).await?;
        return Ok((credentials, "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)".into()));
    }
    if let Some(credentials) = container(env).await? {
        return Ok((credentials, "the container credentials endpoint".into()));
    }
    if let Some(credentials) = instance(env).await? {
        return Ok((credentials, "the EC2 instance metadata service".into()));
    }
    miette::bail!(
        help = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), \
                AWS_PROFILE to a profile with keys in ~/.aws/credentials, or AWS_ROLE_ARN and \
                AWS_WEB_IDENTITY_TOKEN_FILE for web identity (GitHub Actions: `aws-actions/configure-aws-credentials`)",
        "no AWS credentials found: not in the environment, nor for profile `{profile}` in `{}` or `{}`, nor from web \
         identity, a container or instance metadata",
        files[0].0.display(),
        files[1].0.display()
    )
}

/// The profile (`AWS_PROFILE`, default `default`), and the shared credentials and config files
/// with the section each names it by (`[NAME]`, and `[profile NAME]` but for `default`).
pub(super) fn profile_files(env: &Environment) -> (String, [(PathBuf, String); 2]) {
    let get = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
    let profile = get("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let home = get("HOME").or_else(|| get("USERPROFILE")).map(PathBuf::from).unwrap_or_default();
    let credentials = get("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from).unwrap_or(home.join(".aws/credentials"));
    let config = get("AWS_CONFIG_FILE").map(PathBuf::from).unwrap_or(home.join(".aws/config"));
    let section = if profile == "default" { profile.clone() } else { format!("profile {profile}") };
    (profile.clone(), [(credentials, profile), (config, section)])
}

/// The `key = value` pairs of `[section]` of an INI file (the AWS shared files' format).
pub(super) fn ini_section(path: &Path, section: &str) -> Option<BTreeMap<String, String>> {
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

/// A client for the credential endpoints: short timeouts, as instance metadata may not exist.
fn client(timeout: Duration) -> miette::Result<reqwest::Client> {
    super::aws_client(|builder| builder.connect_timeout(timeout).timeout(timeout))
}

/// A base URL from the environment, checked to be `http(s)://host[:port]` with no credentials.
fn endpoint(env: &Environment, names: &[&str], default: String) -> miette::Result<String> {
    let Some((name, url)) =
        names.iter().find_map(|name| env.get(*name).filter(|url| !url.is_empty()).map(|url| (*name, url.clone())))
    else {
        return Ok(default);
    };
    super::parse_endpoint(&url).map(|url| url.as_str().trim_end_matches('/').to_string()).ok_or_else(|| {
        miette::miette!(
            help = "set it to a scheme, host and port such as `https://sts.us-east-1.amazonaws.com`, with no path",
            "{name} is `{}`, which is not an endpoint URL",
            crate::model::redact(&url)
        )
    })
}

/// STS `AssumeRoleWithWebIdentity`: the token is its own authentication, so the request is not
/// signed.
async fn web_identity(
    env: &Environment,
    role: &str,
    token_file: &Path,
    session: Option<String>,
) -> miette::Result<Credentials> {
    let token = fs_err::read_to_string(token_file).map_err(|err| {
        miette::miette!(
            help = "AWS_WEB_IDENTITY_TOKEN_FILE (or the profile's `web_identity_token_file`) names the file the \
                    identity provider wrote its token to",
            "cannot read the web identity token: {err}"
        )
    })?;
    let region = super::region(env);
    let base = endpoint(
        env,
        &["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"],
        format!("https://sts.{region}.{}", super::dns_suffix(&region)),
    )?;
    let session = session.unwrap_or_else(|| format!("lbuild-{}", crate::cache::now()));
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRoleWithWebIdentity")
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", role)
        .append_pair("RoleSessionName", &session)
        .append_pair("WebIdentityToken", token.trim())
        .finish();
    let shown = crate::output::escape_controls(role);
    let response = client(Duration::from_secs(30))?
        .post(format!("{base}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|err| {
            miette::miette!(
                help = "check the network, or AWS_ENDPOINT_URL_STS",
                "cannot reach STS at `{base}` to assume `{shown}`: {err}"
            )
        })?;
    let status = response.status();
    let text = super::read_capped(response).await.unwrap_or_default();
    let field = |name: &str| xml_tag(&text, name);
    match (status.is_success(), field("AccessKeyId"), field("SecretAccessKey"), field("SessionToken")) {
        (true, Some(access_key_id), Some(secret_access_key), Some(session_token)) => {
            Ok(Credentials { access_key_id, secret_access_key, session_token: Some(session_token) })
        }
        (true, ..) => miette::bail!(
            help = "check AWS_ENDPOINT_URL_STS, and the network (a proxy or captive portal may answer instead)",
            "the answer from `{base}` to assume `{shown}` is not STS's: it holds no credentials"
        ),
        _ => {
            let code = field("Code").unwrap_or_else(|| status.to_string());
            let message = field("Message").map(|message| format!(": {message}")).unwrap_or_default();
            miette::bail!(
                help = "check the role's trust policy: it must trust the identity provider and this token's \
                        audience and subject",
                "STS refused to assume `{shown}` with the web identity token: {}{}",
                crate::output::escape_controls(&code),
                crate::output::escape_controls(&message)
            )
        }
    }
}

/// The JSON the container and instance endpoints answer with.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Issued {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

impl From<Issued> for Credentials {
    fn from(issued: Issued) -> Credentials {
        Credentials {
            access_key_id: issued.access_key_id,
            secret_access_key: issued.secret_access_key,
            session_token: issued.token.filter(|token| !token.is_empty()),
        }
    }
}

/// The container endpoint's credentials, if the environment names one.
async fn container(env: &Environment) -> miette::Result<Option<Credentials>> {
    let get = |name: &str| env.get(name).filter(|value| !value.is_empty()).cloned();
    let url = match (get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        (Some(relative), _) => format!("http://169.254.170.2{relative}"),
        (None, Some(full)) => {
            // Plain HTTP only to this machine or the container agents' link-local addresses, as
            // the SDKs allow: the answer is a secret.
            let allowed = url::Url::parse(&full).ok().filter(|url| match url.host() {
                _ if url.scheme() == "https" => true,
                Some(url::Host::Ipv4(ip)) if url.scheme() == "http" => {
                    ip.is_loopback()
                        || ip == std::net::Ipv4Addr::new(169, 254, 170, 2)
                        || ip == std::net::Ipv4Addr::new(169, 254, 170, 23)
                }
                Some(url::Host::Ipv6(ip)) if url.scheme() == "http" => {
                    ip.is_loopback() || ip == "fd00:ec2::23".parse::<std::net::Ipv6Addr>().expect("an address")
                }
                Some(url::Host::Domain("localhost")) => url.scheme() == "http",
                _ => false,
            });
            if allowed.is_none() {
                miette::bail!(
                    help = "use https, or an address of this machine",
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI `{}` is not https nor on this machine or the container agent",
                    crate::model::redact(&full)
                );
            }
            full
        }
        (None, None) => return Ok(None),
    };
    let token = match (get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        (Some(file), _) => Some(
            fs_err::read_to_string(&file)
                .map_err(|err| miette::miette!("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: {err}"))?
                .trim()
                .to_string(),
        ),
        (None, token) => token,
    };
    let mut request = client(Duration::from_secs(10))?.get(&url);
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    let shown = crate::model::redact(&url);
    let response = request.send().await.map_err(|err| {
        miette::miette!(
            help = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI names it; unset them outside a container",
            "cannot reach the container credentials endpoint `{shown}`: {err}"
        )
    })?;
    let status = response.status();
    let issued = match status.is_success() {
        true => super::read_capped(response).await.ok().and_then(|text| serde_json::from_str::<Issued>(&text).ok()),
        false => None,
    };
    match issued {
        Some(issued) => Ok(Some(issued.into())),
        None => miette::bail!(
            help = "check AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) and the task's or pod's role",
            "the container credentials endpoint `{shown}` answered {status} without credentials"
        ),
    }
}

/// IMDSv2's credentials for the instance's role, or none where there is no instance metadata.
async fn instance(env: &Environment) -> miette::Result<Option<Credentials>> {
    if env.get("AWS_EC2_METADATA_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let base = endpoint(env, &["AWS_EC2_METADATA_SERVICE_ENDPOINT"], "http://169.254.169.254".into())?;
    // A second at most to find out there is no instance (the SDKs wait as long).
    let http = client(Duration::from_secs(1))?;
    let Ok(response) =
        http.put(format!("{base}/latest/api/token")).header("x-aws-ec2-metadata-token-ttl-seconds", "300").send().await
    else {
        return Ok(None);
    };
    if !response.status().is_success() {
        return Ok(None);
    }
    let Ok(token) = super::read_capped(response).await else { return Ok(None) };
    let get = |path: String| {
        let request = http.get(format!("{base}/latest/meta-data/iam/security-credentials/{path}"));
        let request = request.header("x-aws-ec2-metadata-token", token.trim());
        async move {
            let response = request.send().await.ok().filter(|response| response.status().is_success())?;
            super::read_capped(response).await.ok()
        }
    };
    let Some(roles) = get(String::new()).await else { return Ok(None) };
    let Some(role) = roles.lines().map(str::trim).find(|role| !role.is_empty()) else { return Ok(None) };
    let role: String = url::form_urlencoded::byte_serialize(role.as_bytes()).collect();
    let issued = get(role.clone()).await.and_then(|text| serde_json::from_str::<Issued>(&text).ok());
    match issued {
        Some(issued) => Ok(Some(issued.into())),
        None => miette::bail!(
            help = "check the instance profile's role",
            "the instance metadata service at `{base}` gave no credentials for role `{}`",
            crate::output::escape_controls(&role)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
    }

    #[test]
    fn credentials_come_from_the_environment_then_the_profile_and_never_show_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        fs_err::write(&file, "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s3cret\n\n[ci]\naws_access_key_id=AKCI\naws_secret_access_key=ci-s3cret\naws_session_token = tok\n[sso]\nsso_session = corp\n").unwrap();
        let mut env: Environment = [("AWS_SHARED_CREDENTIALS_FILE".to_string(), file.display().to_string())].into();
        env.insert("AWS_CONFIG_FILE".into(), dir.path().join("none").display().to_string());
        env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
        let (found, from) = run(credentials(&env)).unwrap();
        assert_eq!((found.access_key_id.as_str(), from.contains("profile `default`")), ("AKDEFAULT", true));
        env.insert("AWS_PROFILE".into(), "ci".into());
        let (found, _) = run(credentials(&env)).unwrap();
        assert_eq!((found.access_key_id.as_str(), found.session_token.as_deref()), ("AKCI", Some("tok")));
        assert!(!format!("{found:?}").contains("s3cret"), "{found:?}");
        env.insert("AWS_PROFILE".into(), "sso".into());
        let err = run(credentials(&env)).unwrap_err().to_string();
        assert!(err.contains("through `sso_session`, which lbuild does not support yet"), "{err}");
        env.insert("AWS_ACCESS_KEY_ID".into(), "AKENV".into());
        env.insert("AWS_SECRET_ACCESS_KEY".into(), "env".into());
        assert_eq!(run(credentials(&env)).unwrap().0.access_key_id, "AKENV", "the environment first");
        env.retain(|name, _| name == "AWS_EC2_METADATA_DISABLED");
        env.insert("HOME".into(), dir.path().join("nohome").display().to_string());
        let err = run(credentials(&env)).unwrap_err().to_string();
        assert!(err.starts_with("no AWS credentials found"), "{err}");
        // Half a pair, or a profile that is nowhere, is an error rather than another identity.
        let mut half = env.clone();
        half.insert("AWS_ACCESS_KEY_ID".into(), "AKHALF".into());
        let err = run(credentials(&half)).unwrap_err().to_string();
        assert!(err.contains("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set"), "{err}");
        let mut typo = env.clone();
        typo.insert("AWS_PROFILE".into(), "prdo".into());
        typo.insert("AWS_ROLE_ARN".into(), "arn:aws:iam::123456789012:role/ci".into());
        typo.insert("AWS_WEB_IDENTITY_TOKEN_FILE".into(), file.display().to_string());
        let err = run(credentials(&typo)).unwrap_err().to_string();
        assert!(err.contains("AWS_PROFILE names the profile `prdo`, which is in neither"), "{err}");
        let half_file = dir.path().join("half");
        fs_err::write(&half_file, "[default]\naws_access_key_id = AKONLY\n").unwrap();
        let mut half_profile = env.clone();
        half_profile.insert("AWS_SHARED_CREDENTIALS_FILE".into(), half_file.display().to_string());
        let err = run(credentials(&half_profile)).unwrap_err().to_string();
        assert!(err.contains("has only one of `aws_access_key_id` and `aws_secret_access_key`"), "{err}");
        // Plain HTTP to a container endpoint elsewhere would send the token in the clear.
        env.insert("AWS_CONTAINER_CREDENTIALS_FULL_URI".into(), "http://example.com/creds".into());
        let err = run(credentials(&env)).unwrap_err().to_string();
        assert!(err.contains("is not https nor on this machine"), "{err}");
    }
}
