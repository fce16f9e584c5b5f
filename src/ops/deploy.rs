//! `lbuild deploy -p NAME --function-name F`: point a Lambda function at the zip `lbuild publish`
//! put on S3, with `UpdateFunctionCode`, only when the function's `CodeSha256` is not already
//! the zip's. Code only: the function's layers, runtime and the rest are its configuration, which
//! a template (SAM, CloudFormation, Terraform) owns.

use std::path::PathBuf;

use serde::Serialize;

use crate::outdir::{Artifact, BuildManifest, MANIFEST_NAME};
use crate::output::{status, warn_user};
use crate::platform::Architecture;
use crate::s3::lambda::Lambda;
use crate::session::GlobalOptions;

/// Options of `lbuild deploy`.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub global: GlobalOptions,
    /// `-p NAME`: the workspace function.
    pub package: String,
    /// `--function-name`: the Lambda function (a name or an ARN).
    pub function_name: String,
    /// `--arch`, when the last build holds the function for both.
    pub arch: Option<Architecture>,
    pub out_dir: Option<PathBuf>,
    /// `--endpoint-url`: another Lambda endpoint than AWS's.
    pub endpoint_url: Option<String>,
    /// `--dry-run`: compare, and change nothing.
    pub dry_run: bool,
}

/// What `lbuild deploy` did.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub function_name: String,
    /// The zip, relative to the output directory.
    pub path: String,
    pub s3_uri: String,
    /// The function's `CodeSha256` before, and now (the zip's `base64_sha256` once deployed).
    pub code_sha256_before: String,
    pub code_sha256: String,
    /// Whether the code was (or, with `--dry-run`, would be) updated.
    pub changed: bool,
    pub dry_run: bool,
}

/// How long deploy waits for Lambda to apply new code (it takes seconds).
const UPDATE_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Run `lbuild deploy`.
pub fn deploy(options: &DeployOptions) -> miette::Result<DeployReport> {
    let workspace = crate::output::quietly(|| options.global.workspace())?;
    let out_dir = crate::outdir::location(&workspace.root, options.out_dir.as_deref());
    let member = crate::plan::find_member(&workspace, &options.package)?;
    if member.kind != crate::model::MemberKind::Function {
        miette::bail!(
            help = "a layer is deployed by publishing a layer version, which the template that uses it does",
            "`{}` is a layer; `lbuild deploy` updates a function's code",
            member.name
        );
    }
    crate::s3::lambda::check_function_name(&options.function_name)?;
    if let Some(flag) = options.global.offline_flag() {
        miette::bail!(
            help = "deploy without it; `--offline` keeps lock and build off the network",
            "`lbuild deploy` talks to Lambda, which `{flag}` forbids"
        );
    }
    let Some(manifest) = BuildManifest::read(&out_dir)? else {
        miette::bail!(
            help = "run `lbuild build` and `lbuild publish` first (with the same `--out-dir`)",
            "there is no build manifest at `{}`",
            out_dir.join(MANIFEST_NAME).display()
        );
    };
    // Found before any request, so that a mistake costs none.
    let zips = candidates(&manifest, &member.name, options.arch)?;
    if let [one] = zips.as_slice() {
        published(one)?;
    }
    let runtime = crate::session::runtime()?;
    let env = crate::s3::environment();
    let function = options.function_name.as_str();
    let report = runtime.block_on(async {
        let lambda = Lambda::new(function, options.endpoint_url.as_deref(), &env).await?;
        let before = lambda.configuration(function).await?;
        if before.package_type.as_deref() == Some("Image") {
            miette::bail!("`{function}` runs a container image; `lbuild deploy` updates zip functions");
        }
        // With a zip per architecture and no `--arch`, the one the function runs on.
        let on = |artifact: &&&Artifact| before.architectures == [artifact.architecture.clone()];
        let artifact = match zips.as_slice() {
            [one] => *one,
            several => match several.iter().find(on) {
                Some(artifact) => artifact,
                None => miette::bail!(
                    help = "pass `--arch` for the one the function runs on",
                    "the last build has {} zips of `{}`: {}; `{function}` runs on none of their architectures",
                    several.len(),
                    member.name,
                    several.iter().map(|artifact| format!("`{}`", artifact.path)).collect::<Vec<_>>().join(", ")
                ),
            },
        };
        let (bucket, key, uri) = published(artifact)?;
        // A zip built for another Python may not import there (compiled wheels are per minor).
        if let Some(deployed) = &before.runtime
            && *deployed != artifact.runtime
        {
            let deployed = crate::output::escape_controls(deployed);
            miette::bail!(
                help = format!(
                    "change the function's runtime first (its template, or `aws lambda update-function-configuration \
                     --function-name {function} --runtime {}`), or build for {deployed}",
                    artifact.runtime
                ),
                "`{function}` runs {deployed}, but `{}` is built for {}",
                artifact.path,
                artifact.runtime
            );
        }
        let same = before.code_sha256 == artifact.base64_sha256
            && (before.architectures.is_empty() || before.architectures == [artifact.architecture.clone()]);
        let moved = match before.architectures.as_slice() {
            [one] if *one != artifact.architecture => {
                format!(", architecture {} -> {}", crate::output::escape_controls(one), artifact.architecture)
            }
            _ => String::new(),
        };
        let mut report = DeployReport {
            function_name: function.to_string(),
            path: artifact.path.clone(),
            s3_uri: uri.to_string(),
            code_sha256_before: before.code_sha256.clone(),
            code_sha256: before.code_sha256.clone(),
            changed: !same,
            dry_run: options.dry_run,
        };
        if same || options.dry_run {
            return Ok((report, moved, artifact));
        }
        let mut after = lambda.update_code(function, bucket, key, &artifact.architecture).await?;
        if after.code_sha256 != artifact.base64_sha256 {
            miette::bail!(
                help = format!(
                    "the object is not the zip `lbuild publish` uploaded; publish again under another `--prefix` and \
                     deploy again (the function ran CodeSha256 {} before)",
                    report.code_sha256_before
                ),
                "`{function}` now runs CodeSha256 {}, taken from `{uri}`, but `{}` is {}",
                crate::output::escape_controls(&after.code_sha256),
                artifact.path,
                artifact.base64_sha256
            );
        }
        // Done when Lambda has applied it, so that what comes next (a version, an invoke) sees it.
        let started = std::time::Instant::now();
        while after.last_update_status.as_deref() == Some("InProgress") && started.elapsed() < UPDATE_WAIT {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            // The update is made: a failed look at its progress (throttling, say) ends the
            // wait, it does not fail the deploy.
            match lambda.configuration(function).await {
                Ok(now) => after = now,
                Err(err) => {
                    warn_user!("`{function}` took the new code; whether Lambda has applied it is not known: {err}");
                    after.last_update_status = None;
                    break;
                }
            }
        }
        match after.last_update_status.as_deref() {
            Some("Failed") => miette::bail!(
                help = "see the function in the Lambda console; deploy again once the cause is fixed",
                "Lambda could not apply the new code of `{function}`: {}",
                crate::output::escape_controls(after.last_update_status_reason.as_deref().unwrap_or("no reason given"))
            ),
            Some("InProgress") => warn_user!(
                "`{function}` is still applying the new code after {} s; it runs the old code until it is done",
                UPDATE_WAIT.as_secs()
            ),
            _ => {}
        }
        report.code_sha256 = after.code_sha256;
        Ok((report, moved, artifact))
    })?;
    let (report, moved, artifact) = report;
    let uri = &report.s3_uri;
    if artifact.layers.as_ref().is_some_and(|layers| !layers.is_empty()) || !artifact.external_layers.is_empty() {
        warn_user!(
            "`lbuild deploy` updates the code of `{function}`, not its layers, which its template sets \
             (`lbuild export --format sam|terraform`)"
        );
    }
    match (report.changed, report.dry_run) {
        (false, _) => status!("Unchanged", "{function}: CodeSha256 {} is {}", report.code_sha256, artifact.path),
        (true, true) => status!(
            "Would deploy",
            "{function}: CodeSha256 {} -> {}{moved} ({uri})",
            report.code_sha256_before,
            artifact.base64_sha256
        ),
        (true, false) => status!(
            "Deployed",
            "{function}: CodeSha256 {} -> {}{moved} ({uri})",
            report.code_sha256_before,
            report.code_sha256
        ),
    }
    Ok(report)
}

/// Where `lbuild publish` put a zip: bucket, key and `s3://` URI, or an error saying to publish.
fn published(artifact: &Artifact) -> miette::Result<(&str, &str, &str)> {
    match (&artifact.s3_bucket, &artifact.s3_key, &artifact.s3_uri) {
        (Some(bucket), Some(key), Some(uri)) => Ok((bucket, key, uri)),
        _ => miette::bail!(
            help = format!("run `lbuild publish --bucket BUCKET -p {}` first", artifact.name),
            "`{}` is not published: `lbuild deploy` points the function at its object on S3",
            artifact.path
        ),
    }
}

/// The function zips of `name` in the last build (on `arch`, when given): one or more.
fn candidates<'a>(
    manifest: &'a BuildManifest,
    name: &str,
    arch: Option<Architecture>,
) -> miette::Result<Vec<&'a Artifact>> {
    let zips: Vec<&Artifact> = manifest
        .artifacts
        .iter()
        .filter(|artifact| artifact.kind == "function" && artifact.name == name)
        .filter(|artifact| arch.is_none_or(|arch| artifact.architecture == arch.as_str()))
        .collect();
    if zips.is_empty() {
        miette::bail!(
            help = format!("run `lbuild build -p {name}` (and publish it)"),
            "the last build has no zip of `{name}`{}",
            arch.map(|arch| format!(" for {}", arch.as_str())).unwrap_or_default()
        );
    }
    Ok(zips)
}
