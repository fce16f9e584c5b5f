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
            return SdistOutcome::NotBuilt(NotBuilt::NoPython(why));
        }
        let url = match sdist.url.scheme() {
            "file" => sdist.url.to_file_path().map(|p| p.display().to_string()).unwrap_or_default(),
            _ => sdist.url.to_string(),
        };
        let path = match self.env.handle.block_on(client.fetch_locked(&sdist.filename, &url, &sha256, size, &self.env.root)) {
            Ok((path, _)) => path,
            Err(err) => return failed(format!("fetching {}: {}", sdist.filename, err.message)),
        };
        crate::output::status!("Building", "{name} {version} from {}", sdist.filename);
        let input = Sdist { name, version, filename: &sdist.filename, sha256: &sha256, path: &path };
        super::build(client.cache(), &input, &self.settings, &self.env, preferred)
    }
}
