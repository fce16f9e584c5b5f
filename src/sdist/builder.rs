//! The resolver's side of sdist builds: one build per sdist for the whole lock (every target
//! and group shares it), the sdist fetched through the index client with its hash verified.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use pep440_rs::Version;
use tokio::runtime::Handle;

use super::env::IndexBuildEnv;
use super::{BuildSettings, NotBuilt, Sdist, SdistOutcome};
use crate::index::{DistFile, IndexClient};

/// Builds the sdists a lock needs, each once.
pub(crate) struct SdistBuilder {
    settings: BuildSettings,
    env: IndexBuildEnv,
    /// By sdist URL: the outcome, computed by the first thread that asks.
    memo: Mutex<HashMap<String, Arc<OnceLock<SdistOutcome>>>>,
    /// By normalized name and version: the build environment the existing lock pins, so its
    /// cached wheel is found first.
    preferred: HashMap<(String, String), Vec<(String, String)>>,
}

impl SdistBuilder {
    pub fn new(
        settings: BuildSettings,
        client: Arc<IndexClient>,
        handle: Handle,
        root: PathBuf,
        preferred: HashMap<(String, String), Vec<(String, String)>>,
    ) -> Arc<SdistBuilder> {
        Arc::new(SdistBuilder {
            settings,
            env: IndexBuildEnv { client, handle, root },
            memo: Mutex::default(),
            preferred,
        })
    }

    /// The wheel built from `sdist` (of `name` `version`), or why there is none.
    pub fn build_for(&self, name: &str, version: &Version, sdist: &DistFile) -> SdistOutcome {
        let cell = {
            let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            memo.entry(sdist.url.to_string()).or_default().clone()
        };
        cell.get_or_init(|| self.build_once(name, version, sdist)).clone()
    }

    fn build_once(&self, name: &str, version: &Version, sdist: &DistFile) -> SdistOutcome {
        let failed = |message: String| SdistOutcome::NotBuilt(NotBuilt::Failed { message });
        let client = &self.env.client;
        let (sha256, size) = match self.env.handle.block_on(client.complete(sdist)) {
            Ok(found) => found,
            Err(err) => return failed(format!("fetching {}: {}", sdist.filename, err.message)),
        };
        let key = (crate::python::wheel_name::normalize_name(name), version.to_string());
        let preferred = self.preferred.get(&key).map(Vec::as_slice);
        if let Some(built) = super::from_cache_by_sha(client.cache(), name, version, &sha256, preferred) {
            return SdistOutcome::Built(built);
        }
        if !self.settings.enabled {
            return SdistOutcome::NotBuilt(NotBuilt::Disabled);
        }
        if let Err(why) = super::host::interpreter() {
            // Said once per run: every sdist-only version would say the same.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                crate::output::warn_user!(
                    "`{name}=={version}` is published only as an sdist, which lbuild builds into a pure-Python \
                     wheel with a host Python 3.9+, and none was found: {why}; without one, such versions stay gaps"
                );
            });
            return SdistOutcome::NotBuilt(NotBuilt::NoPython(why));
        }
        let url = match sdist.url.scheme() {
            "file" => sdist.url.to_file_path().map(|p| p.display().to_string()).unwrap_or_default(),
            _ => sdist.url.to_string(),
        };
        let path =
            match self.env.handle.block_on(client.fetch_locked(&sdist.filename, &url, &sha256, size, &self.env.root)) {
                Ok((path, _)) => path,
                Err(err) => return failed(format!("fetching {}: {}", sdist.filename, err.message)),
            };
        crate::output::status!("Building", "{name} {version} from {}", sdist.filename);
        let input = Sdist { name, version, filename: &sdist.filename, sha256: &sha256, path: &path };
        super::build(client.cache(), &input, &self.settings, &self.env, preferred)
    }
}

/// The wheel of a locked `built` entry, for `lbuild build`: from the cache (the record whose
/// content hash the lock names), else rebuilt from the locked sdist and checked against that
/// hash. Returns the wheel's path and sha256.
pub(crate) fn materialize(
    built: &crate::lockfile::LockedBuilt,
    name: &str,
    version: &str,
    workspace_root: &std::path::Path,
    client: Option<(Arc<IndexClient>, Handle)>,
    settings: &BuildSettings,
) -> Result<(PathBuf, String), String> {
    let cache = crate::cache::Cache::from_env();
    let what = format!("{name} {version} (built from {})", built.sdist.filename);
    for record in cache.read_built(&built.sdist.sha256).into_iter().rev() {
        if record.content_sha256 == built.content_sha256
            && record.filename == built.wheel
            && let Some(path) = cache.wheel_verified(&record.sha256, &record.filename)
        {
            return Ok((path, record.sha256));
        }
    }
    if !settings.enabled {
        return Err(format!(
            "{what}: its wheel is not in the cache, and `--no-build` forbids building it; run without `--no-build`, or `lbuild lock` on a machine whose cache has it"
        ));
    }
    if let Err(why) = super::host::interpreter() {
        return Err(format!(
            "{what}: its wheel is not in the cache, and rebuilding it needs a host Python 3.9+ ({why}); install one or set LBUILD_PYTHON"
        ));
    }
    let Some((client, handle)) = client else { return Err(format!("{what}: no index client to fetch the sdist")) };
    let version_parsed: Version = version.parse().map_err(|_| format!("{what}: invalid version"))?;
    let sdist = &built.sdist;
    let (path, _) = handle
        .block_on(client.fetch_locked(&sdist.filename, &sdist.url, &sdist.sha256, sdist.size, workspace_root))
        .map_err(|err| format!("{what}: {}", err.message))?;
    let env = IndexBuildEnv { client: client.clone(), handle, root: workspace_root.to_path_buf() };
    let input = Sdist { name, version: &version_parsed, filename: &sdist.filename, sha256: &sdist.sha256, path: &path };
    crate::output::status!("Building", "{name} {version} from {}", sdist.filename);
    match super::build(client.cache(), &input, settings, &env, None) {
        SdistOutcome::Built(wheel) if wheel.content_sha256 == built.content_sha256 => {
            Ok((wheel.path.clone(), wheel.sha256.clone()))
        }
        SdistOutcome::Built(wheel) => Err(format!(
            "{what}: the rebuilt wheel's contents have sha256 {}, but `lambda.lock` records {}; the build is not reproducible here (another Python or build environment). Run `lbuild lock` to record this build",
            wheel.content_sha256, built.content_sha256
        )),
        SdistOutcome::NotBuilt(why) => Err(format!("{what}: rebuilding it failed: {why:?}")),
    }
}
