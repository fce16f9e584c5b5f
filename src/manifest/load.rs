//! The edge of the manifest: finding `lambda.toml`, reading it and the environment, and showing
//! the warnings that validation collects. Everything below this reads only what it is given,
//! but for the files `lambda.toml` names (`files`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{Context, ManifestFileError};
use super::translate::translate;
use super::{Environment, MANIFEST_NAME, Workspace, files, schema, wire};
use crate::output::{shorten, warn_user};

impl Workspace {
    /// Find `lambda.toml` in `start` or one of its parents.
    pub fn discover(start: &Path) -> Result<PathBuf, ManifestFileError> {
        let mut dir = Some(start);
        while let Some(current) = dir {
            let candidate = current.join(MANIFEST_NAME);
            if candidate.is_file() {
                return Ok(candidate);
            }
            dir = current.parent();
        }
        Err(ManifestFileError::new(
            format!("could not find `{MANIFEST_NAME}` in `{}` or any parent directory", start.display()),
            "run lbuild inside a workspace, pass `--manifest-path PATH`, or create one with `lbuild init`",
        ))
    }

    /// Read and validate a manifest.
    pub fn load(manifest_path: &Path) -> miette::Result<Workspace> {
        let text = fs_err::read_to_string(manifest_path).map_err(|err| {
            ManifestFileError::new(
                format!("failed to read the manifest: {err}"),
                "check `--manifest-path`, or create a manifest with `lbuild init`",
            )
        })?;
        let manifest_path = std::path::absolute(manifest_path).unwrap_or(manifest_path.to_path_buf());
        Self::from_str_at(&text, &manifest_path)
    }

    /// Validate manifest text as if it were read from `manifest_path`, in this process's
    /// environment.
    pub fn from_str_at(text: &str, manifest_path: &Path) -> miette::Result<Workspace> {
        Self::from_str_in(text, manifest_path, &Environment::from_process())
    }

    /// Validate manifest text as if it were read from `manifest_path`, in the environment `env`.
    /// The files it names are read relative to `manifest_path`'s directory.
    pub(crate) fn from_str_in(text: &str, manifest_path: &Path, env: &Environment) -> miette::Result<Workspace> {
        let root = manifest_path.parent().map(Path::to_path_buf).unwrap_or_default();
        let ctx = Context { source: Arc::new(text.to_string()), name: manifest_path.display().to_string() };
        let parsed = parse(&ctx)?;
        for (path, line) in parsed.ignored {
            let key = path.rsplit('.').next().unwrap_or(&path);
            let suggestion =
                schema::closest_key(key).map(|known| format!("; did you mean `{known}`?")).unwrap_or_default();
            let path = shorten(&path);
            match line {
                Some(line) => {
                    warn_user!("unused manifest key `{path}` in `{}` (line {line}){suggestion}", ctx.name)
                }
                None => warn_user!("unused manifest key `{path}` in `{}`{suggestion}", ctx.name),
            }
        }
        let draft = translate(parsed.manifest, &ctx, &root, manifest_path, env)?;
        for warning in &draft.warnings {
            warn_user!("{warning}");
        }
        let (workspace, warnings) = files::finish(draft, &ctx)?;
        for warning in &warnings {
            warn_user!("{warning}");
        }
        let today = crate::platform::today();
        // Only the runtimes something deploys on.
        let mut runtimes: Vec<_> = workspace.targets().into_iter().map(|(target, _)| target.runtime).collect();
        runtimes.sort_by_key(|runtime| runtime.minor);
        runtimes.dedup_by_key(|runtime| runtime.minor);
        for runtime in runtimes {
            if let Some(warning) = runtime.deprecation_warning(&today) {
                warn_user!("{warning}");
            }
        }
        Ok(workspace)
    }
}

/// The wire manifest, or an error at the text serde could not read.
pub(super) fn parse(ctx: &Context) -> Result<wire::Parsed, super::ManifestError> {
    wire::parse(&ctx.source).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().to_string();
        let hint = if message.contains("expected a sequence") {
            "this key takes a list, e.g. `requirements = [\"requests>=2\"]`".to_string()
        } else {
            "docs/reference/manifest.md lists every key with its type; lambda.toml.example shows each".to_string()
        };
        ctx.error(format!("`{MANIFEST_NAME}` is not valid: {message}"), span, "here", Some(hint))
    })
}
