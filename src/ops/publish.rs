//! `lbuild publish`: upload the zips of the last build to S3 under content-addressed keys
//! (`PREFIX/NAME/SHA256.zip`), skipping every object already there, and record where each went
//! in `manifest.json` (`s3_bucket`, `s3_key`, `s3_uri`). A re-run uploads nothing.

use std::path::PathBuf;

use serde::Serialize;

use crate::outdir::{BuildManifest, MANIFEST_NAME, OutDir};
use crate::output::{Progress, status};
use crate::s3::{Bucket, Head};
use crate::session::GlobalOptions;

/// Options of `lbuild publish`.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    pub global: GlobalOptions,
    pub bucket: String,
    /// Key prefix, without a trailing `/`.
    pub prefix: Option<String>,
    /// `-p NAME`: only these functions' and layers' zips.
    pub packages: Vec<String>,
    pub out_dir: Option<PathBuf>,
    /// `--endpoint-url`: an S3-compatible store instead of AWS.
    pub endpoint_url: Option<String>,
    /// `--dry-run`: say what would be uploaded, upload nothing, change nothing.
    pub dry_run: bool,
}

/// One zip and where it went.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub path: String,
    pub s3_bucket: String,
    pub s3_key: String,
    pub s3_uri: String,
    /// Whether this run uploaded it (`false`: the object was there already, or `--dry-run`).
    pub uploaded: bool,
}

/// What `lbuild publish` did.
#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    pub artifacts: Vec<Published>,
    pub dry_run: bool,
}

/// Run `lbuild publish`.
pub fn publish(options: &PublishOptions) -> miette::Result<PublishReport> {
    let workspace = crate::output::quietly(|| options.global.workspace())?;
    let out_dir = crate::outdir::location(&workspace.root, options.out_dir.as_deref());
    let prefix = options.prefix.as_deref().unwrap_or_default().trim_matches('/');
    if !crate::s3::is_key_prefix(prefix) || prefix.contains(['?', '#']) {
        miette::bail!(
            help = "a prefix is a path of key segments such as `lambda/prod`",
            "`{}` is not a key prefix: no empty, `.` or `..` segments, backslashes, `?` or `#` (which end the key \
             in an `s3://` URI) or control characters",
            crate::output::escape_controls(prefix)
        );
    }
    let selected: Vec<String> = options
        .packages
        .iter()
        .map(|name| crate::plan::find_member(&workspace, name).map(|member| member.name))
        .collect::<Result<_, _>>()?;
    // Held until the manifest is rewritten, so no build changes the zips meanwhile.
    let held = OutDir::open_existing(&out_dir)?;
    let Some(mut manifest) = BuildManifest::read(&out_dir)? else {
        miette::bail!(
            help = "run `lbuild build` first (with the same `--out-dir`)",
            "there is no build manifest at `{}`",
            out_dir.join(MANIFEST_NAME).display()
        );
    };
    manifest.check_zips(&out_dir)?;
    // A dry run asks nothing of S3, so it needs no credentials.
    crate::s3::check_name(&options.bucket)?;
    if let Some(flag) = options.global.offline_flag().filter(|_| !options.dry_run) {
        miette::bail!(
            help = "publish without it (or with `--dry-run`, which asks nothing of S3)",
            "`lbuild publish` uploads to S3, which `{flag}` forbids"
        );
    }
    let chosen: Vec<usize> = (0..manifest.artifacts.len())
        .filter(|&index| selected.is_empty() || selected.contains(&manifest.artifacts[index].name))
        .collect();
    if chosen.is_empty() {
        miette::bail!(
            help = "check `-p`; `lbuild build -p NAME` builds one",
            "the last build has no zip of {}",
            selected.join(", ")
        );
    }
    let runtime = crate::session::runtime()?;
    let bucket = match options.dry_run {
        true => None,
        false => Some(runtime.block_on(Bucket::new(
            &options.bucket,
            options.endpoint_url.as_deref(),
            &crate::s3::environment(),
        ))?),
    };
    let total = chosen.iter().map(|&index| manifest.artifacts[index].size).sum();
    let progress = (!options.dry_run).then(|| Progress::bar("Uploading", total, true));
    let mut report = Vec::new();
    for &index in &chosen {
        let artifact = &manifest.artifacts[index];
        // The manifest may have been edited: a name is a member name, one plain key segment.
        if !crate::model::is_valid_member_name(&artifact.name) {
            miette::bail!(
                help = "run `lbuild build` again to rewrite it",
                "`{}` names a zip `{}`, which is no function or layer name",
                out_dir.join(MANIFEST_NAME).display(),
                crate::output::escape_controls(&artifact.name)
            );
        }
        let key = if prefix.is_empty() {
            format!("{}/{}.zip", artifact.name, artifact.sha256)
        } else {
            format!("{prefix}/{}/{}.zip", artifact.name, artifact.sha256)
        };
        let uploaded = if let Some(bucket) = &bucket {
            let bytes = fs_err::read(out_dir.join(&artifact.path)).map_err(|err| miette::miette!("{err}"))?;
            let advance = |delta: u64| {
                if let Some(progress) = &progress {
                    progress.inc(delta);
                }
            };
            runtime.block_on(async {
                let mut head = bucket.head(&key).await?;
                if head == Head::Absent {
                    if bucket.put_new(&key, &bytes, &artifact.sha256, &advance).await? {
                        return Ok(true);
                    }
                    head = bucket.head(&key).await?;
                }
                // There already, or put there meanwhile (by another run, or by an attempt whose
                // answer was lost): the key names the content, so the object must be this zip,
                // by its size and the sha256 lbuild put in its metadata.
                match head {
                    Head::Present(size, Some(sha256)) if size == bytes.len() as u64 && sha256 == artifact.sha256 => {
                        advance(bytes.len() as u64);
                        Ok(false)
                    }
                    Head::Present(size, sha256) => miette::bail!(
                        help = "delete the object, or publish under another `--prefix`",
                        "`{}` is not the zip whose sha256 names it ({size} bytes, sha256 {}; the zip is {} bytes)",
                        bucket.uri(&key),
                        sha256.map_or("not recorded".to_string(), |sha256| crate::output::escape_controls(&sha256)
                            .into_owned()),
                        bytes.len()
                    ),
                    Head::Absent => miette::bail!(
                        help = "the credentials may lack s3:GetObject, which publishing needs to check what is there",
                        "`{}` exists but cannot be read",
                        bucket.uri(&key)
                    ),
                }
            })?
        } else {
            false
        };
        report.push(Published {
            path: artifact.path.clone(),
            s3_bucket: options.bucket.clone(),
            s3_uri: format!("s3://{}/{key}", options.bucket),
            s3_key: key,
            uploaded,
        });
    }
    drop(progress);
    if !options.dry_run {
        for published in &report {
            if let Some(artifact) = manifest.artifacts.iter_mut().find(|artifact| artifact.path == published.path) {
                artifact.s3_bucket = Some(published.s3_bucket.clone());
                artifact.s3_key = Some(published.s3_key.clone());
                artifact.s3_uri = Some(published.s3_uri.clone());
            }
        }
        match &held {
            Some(held) => held.rewrite(MANIFEST_NAME, manifest.to_text().as_bytes())?,
            None => miette::bail!("the output directory `{}` went away", out_dir.display()),
        }
    }
    for published in &report {
        let verb = match (options.dry_run, published.uploaded) {
            (true, _) => "Would publish",
            (false, true) => "Uploaded",
            (false, false) => "Present",
        };
        status!(verb, "{} -> {}", published.path, published.s3_uri);
    }
    Ok(PublishReport { artifacts: report, dry_run: options.dry_run })
}
