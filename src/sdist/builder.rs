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
use crate::python::metadata::CoreMetadata;

/// `[workspace] native-builder`, and by normalized name, version and target the content hash the
/// existing lock records for its native build.
pub(crate) type NativeSetup = (Arc<super::native::NativeBuilder>, HashMap<(String, String, String), String>);

/// One sdist's static `PKG-INFO` (`None`: it has none), read by the first thread that asks.
type PkgInfoMemo = Arc<OnceLock<Option<Arc<CoreMetadata>>>>;

/// Builds the sdists a lock needs, each once.
pub(crate) struct SdistBuilder {
    settings: BuildSettings,
    env: IndexBuildEnv,
    /// By sdist URL: the outcome, computed by the first thread that asks.
    memo: Mutex<HashMap<String, Arc<OnceLock<SdistOutcome>>>>,
    /// By sdist URL: its static `PKG-INFO`, if it has one.
    pkg_info: Mutex<HashMap<String, PkgInfoMemo>>,
    /// By normalized name and version: the build environment the existing lock pins, so its
    /// cached wheel is found first.
    preferred: HashMap<(String, String), Vec<(String, String)>>,
    /// `[workspace] native-builder`, and by normalized name, version and target the content hash
    /// the existing lock records for its native build.
    native: Option<NativeSetup>,
}

impl SdistBuilder {
    pub fn new(
        settings: BuildSettings,
        client: Arc<IndexClient>,
        handle: Handle,
        root: PathBuf,
        preferred: HashMap<(String, String), Vec<(String, String)>>,
        native: Option<NativeSetup>,
    ) -> Arc<SdistBuilder> {
        Arc::new(SdistBuilder {
            settings,
            env: IndexBuildEnv { client, handle, root },
            memo: Mutex::default(),
            pkg_info: Mutex::default(),
            preferred,
            native,
        })
    }

    /// The static `PKG-INFO` (PEP 643) of the sdist of `name` `version`: the dependencies of a
    /// version that stays a gap. Reading it runs nothing; it needs the sdist downloaded.
    pub fn static_metadata(&self, name: &str, version: &Version, sdist: &DistFile) -> Option<Arc<CoreMetadata>> {
        let cell = {
            let mut memo = self.pkg_info.lock().unwrap_or_else(|e| e.into_inner());
            memo.entry(sdist.url.to_string()).or_default().clone()
        };
        cell.get_or_init(|| {
            let client = &self.env.client;
            let (sha256, size) = self.env.handle.block_on(client.complete(sdist)).ok()?;
            let fetched = self.env.handle.block_on(client.fetch_locked(
                &sdist.filename,
                &file_url(sdist),
                &sha256,
                size,
                &self.env.root,
            ));
            let path = match fetched {
                Ok((path, _)) => path,
                Err(err) => {
                    crate::output::warn_user!(
                        "{name} {version} stays a gap, and its dependencies are unknown: cannot read the PKG-INFO of {}: {}",
                        sdist.filename,
                        err.message
                    );
                    return None;
                }
            };
            match super::extract::pkg_info_of_archive(&path, &sdist.filename) {
                Some(super::extract::PkgInfo::Static(metadata))
                    if crate::python::wheel_name::normalize_name(&metadata.name)
                        == crate::python::wheel_name::normalize_name(name)
                        && &metadata.version == version =>
                {
                    Some(Arc::new(metadata))
                }
                _ => None,
            }
        })
        .clone()
    }

    /// The wheel the native builder builds from `sdist` for `target`; `None` when there is no
    /// native builder or building is off.
    pub fn build_native_for(
        &self,
        name: &str,
        version: &Version,
        sdist: &DistFile,
        target: &crate::platform::Target,
    ) -> Option<SdistOutcome> {
        let (builder, preferred) = self.native.as_ref()?;
        if !self.settings.enabled {
            return None;
        }
        let cell = {
            let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            memo.entry(format!("{}\n{}", sdist.url, target.name())).or_default().clone()
        };
        let outcome = cell.get_or_init(|| {
            let failed = |message: String| SdistOutcome::NotBuilt(NotBuilt::Failed { message });
            let client = &self.env.client;
            let (sha256, size) = match self.env.handle.block_on(client.complete(sdist)) {
                Ok(found) => found,
                Err(err) => return failed(format!("fetching {}: {}", sdist.filename, err.message)),
            };
            let path = match self.env.handle.block_on(client.fetch_locked(
                &sdist.filename,
                &file_url(sdist),
                &sha256,
                size,
                &self.env.root,
            )) {
                Ok((path, _)) => path,
                Err(err) => return failed(format!("fetching {}: {}", sdist.filename, err.message)),
            };
            let key = (crate::python::wheel_name::normalize_name(name), version.to_string(), target.name());
            let input = Sdist { name, version, filename: &sdist.filename, sha256: &sha256, path: &path };
            super::native::build(
                client.cache(),
                &input,
                builder,
                target,
                &self.settings,
                preferred.get(&key).map(String::as_str),
            )
        });
        Some(outcome.clone())
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
        let url = file_url(sdist);
        let path =
            match self.env.handle.block_on(client.fetch_locked(&sdist.filename, &url, &sha256, size, &self.env.root)) {
                Ok((path, _)) => path,
                Err(err) => return failed(format!("fetching {}: {}", sdist.filename, err.message)),
            };
        let input = Sdist { name, version, filename: &sdist.filename, sha256: &sha256, path: &path };
        super::build(client.cache(), &input, &self.settings, &self.env, preferred)
    }
}

/// The URL of an index file as a lock writes it (a local path for `file:`).
fn file_url(sdist: &DistFile) -> String {
    match sdist.url.scheme() {
        "file" => sdist.url.to_file_path().map(|p| p.display().to_string()).unwrap_or_default(),
        _ => sdist.url.to_string(),
    }
}

/// The cached wheel of a locked `built` entry for `target`: its path and sha256, when a record
/// of its sdist names it and the wheel itself is a wheel of `name` `version` (pure, or for
/// `builder = "native"` one whose tags and compiled members fit the target) whose contents hash
/// to what the lock records. A record is only checked against damage, not forgery, so the
/// wheel's contents are hashed again: a wrong record is a miss, never another wheel.
pub(crate) fn cached(
    cache: &crate::cache::Cache,
    built: &crate::lockfile::LockedBuilt,
    name: &str,
    version: &str,
    target: &crate::platform::Target,
) -> Option<(PathBuf, String)> {
    let version: Version = version.parse().ok()?;
    let native = built.builder == "native";
    cache.read_built(&built.sdist.sha256).into_iter().rev().find_map(|record| {
        if record.content_sha256 != built.content_sha256
            || record.filename != built.wheel
            || super::native::is_native_tag(&record.cache_tag) != native
        {
            return None;
        }
        let path = cache.wheel_verified(&record.sha256, &record.filename)?;
        let members = if native {
            super::content::check_native(&path, &record.filename, name, &version, target).ok()?
        } else {
            super::content::check(&path, &record.filename, name, &version).ok()?
        };
        (super::content::content_sha256(&members) == built.content_sha256).then_some((path, record.sha256))
    })
}

/// Take a wheel another runner built (from the remote cache) into the cache as a build of the
/// locked `built` entry, once its contents hash to the lock's content hash (checked as a local
/// build is). `None`: it is not what the lock names, and nothing of it is kept.
pub(crate) fn adopt(
    cache: &crate::cache::Cache,
    built: &crate::lockfile::LockedBuilt,
    name: &str,
    version: &str,
    target: &crate::platform::Target,
    landed: &std::path::Path,
) -> Option<(PathBuf, String)> {
    let parsed: Version = version.parse().ok()?;
    // Checked where it landed (`tmp/`), and kept only as the canonical wheel a local build
    // writes: the same contents always make the same bytes, whoever zipped them.
    let native = built.builder == "native";
    let members = if native {
        super::content::check_native(landed, &built.wheel, name, &parsed, target).ok()?
    } else {
        super::content::check(landed, &built.wheel, name, &parsed).ok()?
    };
    if super::content::content_sha256(&members) != built.content_sha256 {
        return None;
    }
    let bytes = super::content::canonical_wheel(&members).ok()?;
    let (sha256, path) = cache.store_wheel(&built.wheel, &bytes).ok()?;
    let record = crate::cache::BuiltRecord {
        filename: built.wheel.clone(),
        sha256: sha256.clone(),
        size: bytes.len() as u64,
        content_sha256: built.content_sha256.clone(),
        // Which interpreter built it is not known here; a native build stays marked as one.
        cache_tag: if native { "native;remote-cache".into() } else { "remote-cache".into() },
        build_env: built.build_env.iter().map(|wheel| (wheel.filename.clone(), wheel.sha256.clone())).collect(),
    };
    cache.add_built(&built.sdist.sha256, &record).ok()?;
    Some((path, sha256))
}

/// What [`materialize`] needs to build a locked `built` entry again.
pub(crate) struct Rebuild<'a> {
    pub workspace_root: &'a std::path::Path,
    pub client: Option<(Arc<IndexClient>, Handle)>,
    pub settings: &'a BuildSettings,
    /// `[workspace] native-builder`, for `builder = "native"` entries.
    pub native: Option<&'a super::native::NativeBuilder>,
}

/// The wheel of a locked `built` entry for `target`, for `lbuild build`: from the cache (the
/// record whose content hash the lock names), else rebuilt from the locked sdist and checked
/// against that hash. Returns the wheel's path and sha256.
pub(crate) fn materialize(
    built: &crate::lockfile::LockedBuilt,
    name: &str,
    version: &str,
    target: &crate::platform::Target,
    how: Rebuild<'_>,
) -> Result<(PathBuf, String), String> {
    let cache = crate::cache::Cache::from_env();
    let native = built.builder == "native";
    let what = if native {
        format!("{name} {version} (built for {} from {} by the native builder)", target.name(), built.sdist.filename)
    } else {
        format!("{name} {version} (built from {})", built.sdist.filename)
    };
    if let Some(found) = cached(&cache, built, name, version, target) {
        return Ok(found);
    }
    if !how.settings.enabled {
        return Err(format!(
            "{what}: its wheel is not in the cache, and `--no-build` forbids building it; run without `--no-build`, or `lbuild lock` on a machine whose cache has it"
        ));
    }
    if native && how.native.is_none() {
        return Err(format!(
            "{what}: its wheel is not in the cache, and `[workspace]` sets no `native-builder` to build it again; set it, or run `lbuild lock`"
        ));
    }
    if !native && let Err(why) = super::host::interpreter() {
        return Err(format!(
            "{what}: its wheel is not in the cache, and rebuilding it needs a host Python 3.9+ ({why}); install one or set LBUILD_PYTHON"
        ));
    }
    let Some((client, handle)) = how.client else { return Err(format!("{what}: no index client to fetch the sdist")) };
    let version_parsed: Version = version.parse().map_err(|_| format!("{what}: invalid version"))?;
    let sdist = &built.sdist;
    let (path, _) = handle
        .block_on(client.fetch_locked(&sdist.filename, &sdist.url, &sdist.sha256, sdist.size, how.workspace_root))
        .map_err(|err| format!("{what}: {}", err.message))?;
    let input = Sdist { name, version: &version_parsed, filename: &sdist.filename, sha256: &sdist.sha256, path: &path };
    let outcome = match how.native {
        Some(builder) if native => {
            super::native::build(client.cache(), &input, builder, target, how.settings, Some(&built.content_sha256))
        }
        _ => {
            let env = IndexBuildEnv { client: client.clone(), handle, root: how.workspace_root.to_path_buf() };
            super::build(client.cache(), &input, how.settings, &env, None)
        }
    };
    match outcome {
        SdistOutcome::Built(wheel) if wheel.content_sha256 == built.content_sha256 => {
            Ok((wheel.path.clone(), wheel.sha256.clone()))
        }
        SdistOutcome::Built(wheel) => Err(format!(
            "{what}: the rebuilt wheel's contents have sha256 {}, but `lambda.lock` records {}; the build is not reproducible here ({}). Run `lbuild lock` to record this build",
            wheel.content_sha256,
            built.content_sha256,
            if native { "another image or compiler" } else { "another Python or build environment" }
        )),
        SdistOutcome::NotBuilt(why) => Err(format!("{what}: rebuilding it failed: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{BuiltRecord, Cache};
    use crate::lockfile::{LockedBuilt, LockedFile};

    fn target() -> crate::platform::Target {
        let runtime = crate::platform::Runtime::from_name("python3.12").unwrap();
        crate::platform::Target::new(runtime, crate::platform::Architecture::X86_64, None)
    }

    #[test]
    fn a_cached_record_naming_other_contents_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at_for_tests(dir.path().to_path_buf());
        let filename = "p-1.0-py3-none-any.whl";
        let meta: &[u8] = b"Metadata-Version: 2.1\nName: p\nVersion: 1.0\n";
        let good = super::super::content::tests::wheel_bytes(&[
            ("p/__init__.py", b"x = 1\n"),
            ("p-1.0.dist-info/METADATA", meta),
        ]);
        let evil = super::super::content::tests::wheel_bytes(&[
            ("p/__init__.py", b"import os\n"),
            ("p-1.0.dist-info/METADATA", meta),
        ]);
        let content = |bytes: &[u8]| {
            let path = dir.path().join("probe.whl");
            fs_err::write(&path, bytes).unwrap();
            super::super::content::content_sha256_of(&path, "probe").unwrap()
        };
        let good_content = content(&good);
        let sdist_sha = "a".repeat(64);
        let built = LockedBuilt {
            sdist: LockedFile {
                filename: "p-1.0.tar.gz".into(),
                url: "https://x/p-1.0.tar.gz".into(),
                sha256: sdist_sha.clone(),
                size: 1,
            },
            wheel: filename.into(),
            content_sha256: good_content.clone(),
            builder: "pep517".into(),
            build_env: vec![],
        };
        // A record (well formed, its check line right) that names the other wheel's bytes.
        let (evil_sha, _) = cache.store_wheel(filename, &evil).unwrap();
        let record = |sha256: String, size: usize| BuiltRecord {
            filename: filename.into(),
            sha256,
            size: size as u64,
            content_sha256: good_content.clone(),
            cache_tag: "cpython-311".into(),
            build_env: vec![],
        };
        cache.add_built(&sdist_sha, &record(evil_sha, evil.len())).unwrap();
        assert_eq!(cache.read_built(&sdist_sha).len(), 1);
        assert_eq!(cached(&cache, &built, "p", "1.0", &target()), None);
        // Nor does a lock take its content hash from it.
        let version: Version = "1.0".parse().unwrap();
        assert!(super::super::from_cache_by_sha(&cache, "p", &version, &sdist_sha, None).is_none());
        // The right wheel is found.
        let (good_sha, good_path) = cache.store_wheel(filename, &good).unwrap();
        let mut honest = record(good_sha.clone(), good.len());
        honest.cache_tag = "cpython-312".into();
        cache.add_built(&sdist_sha, &honest).unwrap();
        assert_eq!(cached(&cache, &built, "p", "1.0", &target()), Some((good_path.clone(), good_sha)));
        let found = super::super::from_cache_by_sha(&cache, "p", &version, &sdist_sha, None).unwrap();
        assert_eq!((found.path.as_path(), found.content_sha256.as_str()), (good_path.as_path(), good_content.as_str()));
        // Asked for as another project, it is not.
        assert_eq!(cached(&cache, &built, "q", "1.0", &target()), None);
    }
}
