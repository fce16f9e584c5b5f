//! The two Lambda API calls `lbuild deploy` makes: `GetFunctionConfiguration` and
//! `UpdateFunctionCode` (from an object `lbuild publish` put on S3), signed with SigV4 for the
//! `lambda` service with the same credentials and region as S3's. It lives beside the S3
//! client because it shares its credentials, signing and HTTP set-up, and nothing else of AWS
//! is spoken.

use std::time::Duration;

use serde::Deserialize;

use super::Environment;

/// The function configuration fields deploy looks at.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Configuration {
    /// base64 of the sha256 of the deployed zip.
    #[serde(default)]
    pub code_sha256: String,
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default)]
    pub package_type: Option<String>,
    /// `InProgress` while an update is being applied, then `Successful` or `Failed`.
    #[serde(default)]
    pub last_update_status: Option<String>,
    #[serde(default)]
    pub last_update_status_reason: Option<String>,
}

/// A Lambda endpoint, signed for one region.
pub(crate) struct Lambda {
    service: super::Service,
}

/// A function name as Lambda takes it: a name, a partial or full ARN, with a qualifier.
pub(crate) fn check_function_name(name: &str) -> miette::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 170
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_.:$".contains(&byte));
    // `NAME`, `ACCOUNT:function:NAME` or `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`;
    // one more `:X` is a version or alias, whose code never changes.
    let parts: Vec<&str> = name.split(':').collect();
    let valid = valid && parts.iter().all(|part| !part.is_empty());
    let qualified = match parts.as_slice() {
        ["arn", ..] => parts.len() > 7,
        [_, "function", _] | [_] => false,
        _ => true,
    };
    if valid && qualified {
        miette::bail!(
            help = "name the function without its `:VERSION` or `:ALIAS`: its code ($LATEST) is what changes, and \
                    versions and aliases are published from it (by the template, or `aws lambda publish-version`)",
            "`{}` names a version or alias of a function, whose code cannot be updated",
            crate::output::escape_controls(name)
        );
    }
    if valid {
        return Ok(());
    }
    miette::bail!(
        help = "a function name is `my-function`, or an ARN such as \
                `arn:aws:lambda:us-east-1:123456789012:function:my-function`",
        "`{}` is not a Lambda function name",
        crate::output::escape_controls(name)
    )
}

impl Lambda {
    /// The region is the ARN's when `function` is one, else the environment's; the endpoint
    /// `endpoint`, else `AWS_ENDPOINT_URL_LAMBDA`, else `AWS_ENDPOINT_URL`, else AWS's.
    pub async fn new(function: &str, endpoint: Option<&str>, env: &Environment) -> miette::Result<Lambda> {
        check_function_name(function)?;
        let region = match function.split(':').collect::<Vec<_>>().as_slice() {
            ["arn", _, "lambda", region, ..] if !region.is_empty() => region.to_string(),
            _ => super::region(env),
        };
        let endpoint = endpoint
            .map(str::to_string)
            .or_else(|| env.get("AWS_ENDPOINT_URL_LAMBDA").filter(|url| !url.is_empty()).cloned())
            .or_else(|| env.get("AWS_ENDPOINT_URL").filter(|url| !url.is_empty()).cloned())
            .unwrap_or_else(|| format!("https://lambda.{region}.{}", super::dns_suffix(&region)));
        let endpoint = super::endpoint_url(&endpoint)?;
        let (credentials, _) = super::credentials(env).await?;
        let http = super::http_client(Duration::from_secs(60))?;
        Ok(Lambda { service: super::Service { name: "lambda", endpoint, region, credentials, http, attempts: 3 } })
    }

    /// One signed request to `path` (unencoded), with a JSON body or none.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> miette::Result<(reqwest::StatusCode, reqwest::header::HeaderMap, String)> {
        let bytes = body.map(|body| body.to_string().into_bytes());
        let body = bytes.as_deref().map(|bytes| super::Body { bytes, content_type: "application/json" });
        let response =
            self.service.request(method, path, &[], &[], body, Duration::from_secs(60)).await.map_err(|err| {
                miette::miette!(
                    help = "check the endpoint (`--endpoint-url`, AWS_ENDPOINT_URL_LAMBDA) and the network",
                    "cannot reach `{}`: {}",
                    self.service.shown(),
                    crate::index::error_chain(&err)
                )
            })?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = super::read_capped(response)
            .await
            .map_err(|err| miette::miette!("Lambda's answer about `{path}` was cut off: {err}"))?;
        Ok((status, headers, text))
    }

    /// `GetFunctionConfiguration`.
    pub async fn configuration(&self, function: &str) -> miette::Result<Configuration> {
        let path = format!("/2015-03-31/functions/{function}/configuration");
        let (status, headers, text) = self.send(reqwest::Method::GET, &path, None).await?;
        if !status.is_success() {
            return Err(self.error("read the configuration of", function, status, &headers, &text));
        }
        serde_json::from_str(&text).map_err(|err| {
            miette::miette!(
                help = "check the endpoint (`--endpoint-url`, AWS_ENDPOINT_URL_LAMBDA): it may not be Lambda's",
                "the answer about `{function}` is not Lambda's function configuration: {err}"
            )
        })
    }

    /// `UpdateFunctionCode` from `s3://bucket/key`, on `architecture`; the new configuration.
    pub async fn update_code(
        &self,
        function: &str,
        bucket: &str,
        key: &str,
        architecture: &str,
    ) -> miette::Result<Configuration> {
        let path = format!("/2015-03-31/functions/{function}/code");
        let body = serde_json::json!({ "S3Bucket": bucket, "S3Key": key, "Architectures": [architecture] });
        let (status, headers, text) = self.send(reqwest::Method::PUT, &path, Some(&body)).await?;
        if !status.is_success() {
            return Err(self.error("update the code of", function, status, &headers, &text));
        }
        serde_json::from_str(&text).map_err(|err| {
            miette::miette!(
                help = "check the endpoint (`--endpoint-url`, AWS_ENDPOINT_URL_LAMBDA): it may not be Lambda's",
                "the answer about `{function}` is not Lambda's function configuration: {err}"
            )
        })
    }

    /// A Lambda error: its type (`x-amzn-ErrorType`, or the body's) and message, with a hint.
    fn error(
        &self,
        what: &str,
        function: &str,
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
        text: &str,
    ) -> miette::Report {
        let body: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let field = |names: &[&str]| names.iter().find_map(|name| body[*name].as_str().map(str::to_string));
        let kind = headers
            .get("x-amzn-errortype")
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(':').next().unwrap_or_default().to_string())
            .or_else(|| field(&["__type", "Type", "type"]))
            // Signature errors come as an XML error document.
            .or_else(|| super::xml_tag(text, "Code"))
            .unwrap_or_else(|| status.to_string());
        let kind = crate::output::escape_controls(&kind).into_owned();
        let message = field(&["message", "Message"])
            .or_else(|| super::xml_tag(text, "Message"))
            .map(|message| format!(": {}", crate::output::escape_controls(&message)))
            .unwrap_or_default();
        let help = match kind.as_str() {
            "ResourceNotFoundException" => {
                format!("check the function's name and the region (`{}`; AWS_REGION)", self.service.region)
            }
            "ResourceConflictException" => "an update of the function is in progress; try again in a moment".into(),
            "AccessDeniedException" => {
                "the credentials may not do this (lambda:GetFunctionConfiguration, lambda:UpdateFunctionCode)".into()
            }
            "InvalidSignatureException" | "SignatureDoesNotMatch" => {
                "the secret access key does not match the access key ID; check the credentials".into()
            }
            "UnrecognizedClientException" | "InvalidClientTokenId" => "check the credentials".into(),
            _ => "check the function, the region (AWS_REGION) and the credentials".into(),
        };
        miette::miette!(help = help, "cannot {what} `{function}`: {kind}{message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_named_without_a_version_or_alias() {
        for good in ["api", "123456789012:function:api", "arn:aws:lambda:us-east-1:123456789012:function:api"] {
            assert!(check_function_name(good).is_ok(), "{good}");
        }
        for qualified in
            ["api:prod", "api:1", "123456789012:function:api:7", "arn:aws:lambda:eu-west-1:1:function:api:live"]
        {
            let err = check_function_name(qualified).unwrap_err().to_string();
            assert!(err.contains("names a version or alias"), "{qualified}: {err}");
        }
        for bad in ["", "api; rm", "a::b", "api/x"] {
            assert!(
                check_function_name(bad).unwrap_err().to_string().contains("is not a Lambda function name"),
                "{bad}"
            );
        }
        assert_eq!(crate::s3::dns_suffix("cn-north-1"), "amazonaws.com.cn");
    }
}
