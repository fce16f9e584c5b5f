//! Building pure-Python wheels from sdists (PEP 517), for the packages whose index publishes
//! no wheel.
//!
//! - `tar`: a strict reader of the tar inside a `.tar.gz` sdist.
//! - `extract`: safe extraction (PEP 706 `data` filter and more) and `PKG-INFO` (PEP 643).
//! - `pep517`: `[build-system]`, the hand-made build environment, the hooks.
//! - `content`: the built wheel's checks (pure Python, the right project), its content hash and
//!   canonical rewrite.
//! - `host`: stand-ins for the host interpreter and the timeout runner.
//! - `native`: `[workspace] native-builder`, the user's command that builds a platform wheel for
//!   one target (a manylinux container), and `elf`, the check of what it compiled.
//!
//! [`build`] is the one entry point: a wheel already built from the same sdist comes from the
//! cache (`built/`, no Python runs); otherwise the sdist is extracted, its backend runs, and the
//! wheel is checked, rewritten, cached and recorded.
//!
//! Building executes code from the index (the sdist's build backend and its `setup.py`) on
//! the machine that runs lbuild, with a cleared environment and a timeout. It does not sandbox
//! that code.

pub(crate) mod builder;
pub(crate) mod content;
pub(crate) mod elf;
pub(crate) mod env;
pub(crate) mod extract;
pub(crate) mod host;
pub(crate) mod native;
pub(crate) mod pep517;
pub(crate) mod tar;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pep440_rs::Version;

pub(crate) use builder::{Rebuild, SdistBuilder, adopt, cached, materialize};

use crate::cache::{BuiltRecord, Cache};
use crate::python::metadata::{self, CoreMetadata};

/// The timestamp of every built wheel's members, and `SOURCE_DATE_EPOCH` for backends: 1980-01-01,
/// the earliest a zip can hold.
pub(crate) const SOURCE_DATE_EPOCH: u64 = 315_532_800;

/// The default of `LBUILD_BUILD_TIMEOUT`, in seconds.
pub(crate) const DEFAULT_TIMEOUT: u64 = 900;

/// How builds run.
#[derive(Debug, Clone)]
pub(crate) struct BuildSettings {
    /// `false` for `build-sdists = "never"` or `--no-build`: nothing runs, but wheels already
    /// built still come from the cache.
    pub enabled: bool,
    pub verbose: bool,
    pub timeout: Duration,
}

impl BuildSettings {
    /// Enabled or not, with `LBUILD_BUILD_TIMEOUT` (seconds) read from the environment.
    pub fn from_env(enabled: bool, verbose: bool) -> Result<BuildSettings, String> {
        // Like the other numeric variables, a value that does not parse is ignored.
        let timeout = std::env::var("LBUILD_BUILD_TIMEOUT")
            .ok()
            .and_then(|value| value.trim().parse::<u64>().ok())
            .filter(|&secs| secs > 0)
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(BuildSettings { enabled, verbose, timeout: Duration::from_secs(timeout) })
    }
}

/// A wheel of the build environment: `filename`, `sha256`, and where it is on disk.
#[derive(Debug, Clone)]
pub(crate) struct EnvWheel {
    pub filename: String,
    pub sha256: String,
    pub path: PathBuf,
}

/// Resolves and fetches a backend's build requirements for the host interpreter: pure
/// (`*-none-any`) wheels only, hashes verified.
pub(crate) trait BuildEnv {
    fn wheels(&self, python: &host::HostPython, requirements: &[String]) -> Result<Vec<EnvWheel>, String>;
}

/// A wheel built from an sdist, in the cache.
#[derive(Debug, Clone)]
pub(crate) struct BuiltWheel {
    pub filename: String,
    pub path: PathBuf,
    pub sha256: String,
    /// Bytes of the wheel file, reported once it is built.
    pub size: u64,
    pub content_sha256: String,
    pub metadata: Arc<CoreMetadata>,
    pub builder: &'static str,
    /// `(filename, sha256)` of the build environment's wheels, sorted.
    pub build_env: Vec<(String, String)>,
}

/// Why no wheel was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotBuilt {
    /// Building is off (`build-sdists = "never"`, `--no-build`).
    Disabled,
    /// No usable host Python; the text says what was tried.
    NoPython(String),
    /// The backend built a wheel with native code (its tags, or the compiled member).
    NativeCode { tags: String },
    /// The build failed; the message names the step and ends with the backend's output.
    Failed { message: String },
    /// The build requirements could not be resolved or fetched as pure wheels, so no code of the
    /// sdist ran: the version stays the gap it was, and the message says why (shown with `-v`).
    NoBuildEnv(String),
}

impl std::fmt::Display for NotBuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotBuilt::Disabled => write!(f, "building is off (`build-sdists = \"never\"` or `--no-build`)"),
            NotBuilt::NoPython(why) => write!(f, "no host Python to build with: {why}"),
            NotBuilt::NativeCode { tags } => write!(f, "the wheel it built has native code ({tags})"),
            NotBuilt::Failed { message } => write!(f, "{message}"),
            NotBuilt::NoBuildEnv(why) => write!(f, "{why}"),
        }
    }
}

/// The result of [`build`].
#[derive(Debug, Clone)]
pub(crate) enum SdistOutcome {
    Built(Arc<BuiltWheel>),
    NotBuilt(NotBuilt),
}

/// What to build: the sdist file (already downloaded and verified) of one project version.
pub(crate) struct Sdist<'a> {
    pub name: &'a str,
    pub version: &'a Version,
    pub filename: &'a str,
    pub sha256: &'a str,
    pub path: &'a Path,
}

/// A wheel built from `sdist`: from the cache when one was built before (preferring the record
/// whose build environment is `preferred_env`, as a lock pins it), else built now.
pub(crate) fn build(
    cache: &Cache,
    sdist: &Sdist,
    settings: &BuildSettings,
    env: &dyn BuildEnv,
    preferred_env: Option<&[(String, String)]>,
) -> SdistOutcome {
    if let Some(built) = from_cache(cache, sdist, preferred_env) {
        return SdistOutcome::Built(built);
    }
    if !settings.enabled {
        return SdistOutcome::NotBuilt(NotBuilt::Disabled);
    }
    let python = match host::interpreter() {
        Ok(python) => python,
        Err(why) => return SdistOutcome::NotBuilt(NotBuilt::NoPython(why)),
    };
    crate::output::status!("Building", "{} {} from {}", sdist.name, sdist.version, sdist.filename);
    match build_now(cache, sdist, settings, env, &python) {
        Ok(built) => {
            report_built(&built);
            SdistOutcome::Built(built)
        }
        Err(not_built) => SdistOutcome::NotBuilt(not_built),
    }
}

/// `Built demo-1.0-py3-none-any.whl (3.1 KB)`, once a wheel is built (not when found cached).
pub(crate) fn report_built(built: &BuiltWheel) {
    crate::output::status!("Built", "{} ({:.1} KB)", built.filename, built.size as f64 / 1024.0);
}

/// A cached wheel built from this sdist, verified by its sha256.
fn from_cache(cache: &Cache, sdist: &Sdist, preferred_env: Option<&[(String, String)]>) -> Option<Arc<BuiltWheel>> {
    from_cache_by_sha(cache, sdist.name, sdist.version, sdist.sha256, preferred_env)
}

/// A cached wheel built from the sdist with this sha256 (no Python runs, nothing is fetched).
pub(crate) fn from_cache_by_sha(
    cache: &Cache,
    name: &str,
    version: &Version,
    sdist_sha256: &str,
    preferred_env: Option<&[(String, String)]>,
) -> Option<Arc<BuiltWheel>> {
    let sdist = Sdist { name, version, filename: "", sha256: sdist_sha256, path: Path::new("") };
    let mut records = cache.read_built(sdist.sha256);
    // A native build serves one target only.
    records.retain(|record| !native::is_native_tag(&record.cache_tag));
    // Newest first, the preferred environment before all.
    records.reverse();
    if let Some(preferred) = preferred_env {
        records.sort_by_key(|record| record.build_env.as_slice() != preferred);
    }
    records.into_iter().find_map(|record| {
        wheel_of_record(cache, record, &sdist, "pep517", |path, filename| {
            content::check(path, filename, sdist.name, sdist.version).ok()
        })
    })
}

/// The cached wheel a built record names, if it is in the cache unchanged and `check` (the
/// builder's wheel checks) passes. The record is checked against damage only: the contents it
/// vouches for are hashed again, so that the lock never records a content hash the wheel does not
/// have.
pub(crate) fn wheel_of_record(
    cache: &Cache,
    record: crate::cache::BuiltRecord,
    sdist: &Sdist,
    builder: &'static str,
    check: impl FnOnce(&Path, &str) -> Option<content::Members>,
) -> Option<Arc<BuiltWheel>> {
    let path = cache.wheel_verified(&record.sha256, &record.filename)?;
    let members = check(&path, &record.filename)?;
    if content::content_sha256(&members) != record.content_sha256 {
        return None;
    }
    let metadata = metadata_of(&members, &record.filename, sdist.name, sdist.version).ok()?;
    Some(Arc::new(BuiltWheel {
        filename: record.filename,
        path,
        sha256: record.sha256,
        size: record.size,
        content_sha256: record.content_sha256,
        metadata: Arc::new(metadata),
        builder,
        build_env: record.build_env,
    }))
}

/// The METADATA of the wheel's one `.dist-info` ([`content::check`] made sure it is this
/// project's), which must name this project and version.
fn metadata_of(
    members: &content::Members,
    filename: &str,
    name: &str,
    version: &Version,
) -> Result<CoreMetadata, String> {
    let (_, _, bytes) = members
        .iter()
        .find(|(member, _, _)| member.ends_with(".dist-info/METADATA") && member.matches('/').count() == 1)
        .ok_or_else(|| format!("`{filename}` has no METADATA"))?;
    let parsed = metadata::parse(bytes).map_err(|err| format!("the METADATA of `{filename}`: {err}"))?;
    if crate::python::wheel_name::normalize_name(&parsed.name) != crate::python::wheel_name::normalize_name(name)
        || &parsed.version != version
    {
        return Err(format!(
            "the METADATA of `{filename}` is for {} {}, not {name} {version}",
            parsed.name, parsed.version
        ));
    }
    Ok(parsed)
}

fn build_now(
    cache: &Cache,
    sdist: &Sdist,
    settings: &BuildSettings,
    env: &dyn BuildEnv,
    python: &host::HostPython,
) -> Result<Arc<BuiltWheel>, NotBuilt> {
    let failed = |message: String| NotBuilt::Failed { message };
    let tmp = cache.tmp_dir().map_err(|err| failed(format!("cannot use the cache's tmp/: {err}")))?;
    let work = tempfile::Builder::new()
        .prefix(".lbuild-build-")
        .tempdir_in(&tmp)
        .map_err(|err| failed(format!("cannot make a build directory: {err}")))?;
    let unpacked = work.path().join("sdist");
    fs_err::create_dir(&unpacked).map_err(|err| failed(err.to_string()))?;
    let tree = extract::extract(sdist.path, sdist.filename, &unpacked).map_err(|err| failed(err.to_string()))?;
    let system = pep517::build_system(&tree).map_err(|why| failed(format!("{}: {why}", sdist.filename)))?;
    let workspace =
        pep517::Workspace::new(&tree, &work.path().join("build"), python).map_err(|err| failed(err.message))?;
    let run = pep517::Run { timeout: settings.timeout, verbose: settings.verbose };
    let mut build_env: Vec<(String, String)> = Vec::new();
    let mut install = |requirements: &[String]| -> Result<(), NotBuilt> {
        if requirements.is_empty() {
            return Ok(());
        }
        let wheels = env.wheels(python, requirements).map_err(|why| {
            NotBuilt::NoBuildEnv(format!(
                "the build requirements {} cannot be installed: {why}",
                requirements.join(", ")
            ))
        })?;
        for wheel in wheels {
            if build_env.iter().any(|(_, sha)| *sha == wheel.sha256) {
                continue;
            }
            workspace.install(&wheel.path, &wheel.filename).map_err(|err| failed(err.message))?;
            build_env.push((wheel.filename, wheel.sha256));
        }
        Ok(())
    };
    install(&system.requires)?;
    let extra = workspace.requires_for_build_wheel(&run, &system).map_err(|err| failed(err.message))?;
    let extra: Vec<String> = extra.into_iter().filter(|req| !system.requires.contains(req)).collect();
    install(&extra)?;
    let (filename, path) = workspace.build_wheel(&run, &system).map_err(|err| failed(err.message))?;
    let members = match content::check(&path, &filename, sdist.name, sdist.version) {
        Ok(members) => members,
        Err(content::Rejected::NativeCode { tags }) => return Err(NotBuilt::NativeCode { tags }),
        Err(content::Rejected::Invalid(why)) => return Err(failed(why)),
    };
    let metadata = metadata_of(&members, &filename, sdist.name, sdist.version).map_err(failed)?;
    let content_sha256 = content::content_sha256(&members);
    let bytes = content::canonical_wheel(&members).map_err(|err| failed(format!("rewriting {filename}: {err}")))?;
    let (sha256, stored) =
        cache.store_wheel(&filename, &bytes).map_err(|err| failed(format!("caching {filename}: {err}")))?;
    build_env.sort();
    let record = BuiltRecord {
        filename: filename.clone(),
        sha256: sha256.clone(),
        size: bytes.len() as u64,
        content_sha256: content_sha256.clone(),
        cache_tag: python.cache_tag.clone(),
        build_env: build_env.clone(),
    };
    cache
        .add_built(sdist.sha256, &record)
        .map_err(|err| failed(format!("recording {filename} in the cache: {err}")))?;
    Ok(Arc::new(BuiltWheel {
        filename,
        path: stored,
        sha256,
        size: bytes.len() as u64,
        content_sha256,
        metadata: Arc::new(metadata),
        builder: "pep517",
        build_env,
    }))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::tar::build::{finish, member};
    use super::*;

    /// An in-tree backend (via `backend-path`, so no network) whose wheel's tag, requirements and
    /// behaviour the test picks.
    fn backend(tag: &str, requires: &str, body: &str) -> String {
        format!(
            r#"import os, sys, zipfile
def get_requires_for_build_wheel(config_settings=None):
    return {requires}
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
{body}
    name = "demo-1.0-{tag}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("demo/__init__.py", "x = 1\n")
        z.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: six>=1\n")
        z.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
    return name
"#
        )
    }

    fn sdist(dir: &Path, backend_py: &str) -> (PathBuf, String) {
        let mut tar = Vec::new();
        member(&mut tar, "demo-1.0/", b'5', 0o755, b"");
        let pyproject = "[build-system]\nrequires = []\nbuild-backend = \"back\"\nbackend-path = [\"_backend\"]\n";
        member(&mut tar, "demo-1.0/pyproject.toml", b'0', 0o644, pyproject.as_bytes());
        member(&mut tar, "demo-1.0/_backend/back.py", b'0', 0o644, backend_py.as_bytes());
        member(&mut tar, "demo-1.0/PKG-INFO", b'0', 0o644, b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&finish(tar)).unwrap();
        let bytes = encoder.finish().unwrap();
        let path = dir.join("demo-1.0.tar.gz");
        fs_err::write(&path, &bytes).unwrap();
        (path, crate::cache::sha256_hex(&bytes))
    }

    struct NoEnv;
    impl BuildEnv for NoEnv {
        fn wheels(&self, _: &host::HostPython, requirements: &[String]) -> Result<Vec<EnvWheel>, String> {
            Err(format!("the test provides none ({requirements:?})"))
        }
    }

    /// A build env holding one pure wheel, `helper`, which the backend imports.
    struct HelperEnv(PathBuf, String);
    impl BuildEnv for HelperEnv {
        fn wheels(&self, _: &host::HostPython, requirements: &[String]) -> Result<Vec<EnvWheel>, String> {
            assert_eq!(requirements, ["helper>=1"]);
            Ok(vec![EnvWheel {
                filename: "helper-1.0-py3-none-any.whl".into(),
                sha256: self.1.clone(),
                path: self.0.clone(),
            }])
        }
    }

    fn settings(timeout: u64) -> BuildSettings {
        BuildSettings { enabled: true, verbose: false, timeout: Duration::from_secs(timeout) }
    }

    fn python_or_skip() -> bool {
        match host::interpreter() {
            Ok(_) => true,
            Err(why) => {
                eprintln!("skipping: no host Python to build with ({why})");
                false
            }
        }
    }

    fn run(dir: &Path, backend_py: &str, settings: &BuildSettings, env: &dyn BuildEnv) -> (Cache, SdistOutcome) {
        let (path, sha256) = sdist(dir, backend_py);
        let cache = Cache::at_for_tests(dir.join("cache"));
        let version: Version = "1.0".parse().unwrap();
        let sdist =
            Sdist { name: "demo", version: &version, filename: "demo-1.0.tar.gz", sha256: &sha256, path: &path };
        let outcome = build(&cache, &sdist, settings, env, None);
        (cache, outcome)
    }

    #[test]
    fn metadata_naming_another_project_or_version_is_refused() {
        let version: Version = "1.0".parse().unwrap();
        let members = |meta: &str| -> content::Members {
            vec![("demo-1.0.dist-info/METADATA".to_string(), false, meta.as_bytes().to_vec())]
        };
        let ok = members("Metadata-Version: 2.1\nName: Demo\nVersion: 1.0\n");
        assert!(metadata_of(&ok, "demo-1.0-py3-none-any.whl", "demo", &version).is_ok());
        let other = members("Metadata-Version: 2.1\nName: boto3\nVersion: 1.0\n");
        let err = metadata_of(&other, "demo-1.0-py3-none-any.whl", "demo", &version).unwrap_err();
        assert!(err.contains("is for boto3 1.0, not demo 1.0"), "{err}");
        let newer = members("Metadata-Version: 2.1\nName: demo\nVersion: 2.0\n");
        assert!(metadata_of(&newer, "demo-1.0-py3-none-any.whl", "demo", &version).is_err());
    }

    #[test]
    fn builds_a_pure_wheel_caches_it_and_hashes_its_contents() {
        if !python_or_skip() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let py = backend("py3-none-any", "[]", "    import time; time.sleep(1.1)");
        let (cache, outcome) = run(dir.path(), &py, &settings(60), &NoEnv);
        let SdistOutcome::Built(first) = outcome else { panic!("expected a wheel, got {outcome:?}") };
        assert_eq!(first.filename, "demo-1.0-py3-none-any.whl");
        assert_eq!(first.metadata.requires_dist.len(), 1, "the built METADATA's requirements are read");
        assert_eq!(first.sha256, crate::cache::sha256_file(&first.path).unwrap().0);
        // A second build of the same sdist comes from the cache, even with building off.
        let version: Version = "1.0".parse().unwrap();
        let (path, sha256) = (dir.path().join("demo-1.0.tar.gz"), sdist(dir.path(), &py).1);
        let again =
            Sdist { name: "demo", version: &version, filename: "demo-1.0.tar.gz", sha256: &sha256, path: &path };
        let off = BuildSettings { enabled: false, ..settings(60) };
        let SdistOutcome::Built(cached) = build(&cache, &again, &off, &NoEnv, None) else {
            panic!("expected a cache hit")
        };
        assert_eq!(
            (cached.sha256.as_str(), cached.content_sha256.as_str()),
            (first.sha256.as_str(), first.content_sha256.as_str())
        );
        // An empty cache builds again (new zip timestamps from the backend) to the same bytes.
        let other = tempfile::tempdir().unwrap();
        let (_, outcome) = run(other.path(), &py, &settings(60), &NoEnv);
        let SdistOutcome::Built(rebuilt) = outcome else { panic!("expected a wheel, got {outcome:?}") };
        assert_eq!(rebuilt.content_sha256, first.content_sha256);
        assert_eq!(rebuilt.sha256, first.sha256, "the canonical rewrite makes the same bytes");
    }

    #[test]
    fn a_platform_wheel_is_native_code_and_building_off_runs_nothing() {
        if !python_or_skip() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (_, outcome) = run(dir.path(), &backend("cp311-cp311-linux_x86_64", "[]", ""), &settings(60), &NoEnv);
        assert!(
            matches!(&outcome, SdistOutcome::NotBuilt(NotBuilt::NativeCode { tags }) if tags == "cp311-cp311-linux_x86_64"),
            "{outcome:?}"
        );
        let other = tempfile::tempdir().unwrap();
        let off = BuildSettings { enabled: false, ..settings(60) };
        let (_, outcome) = run(other.path(), &backend("py3-none-any", "[]", ""), &off, &NoEnv);
        assert!(matches!(outcome, SdistOutcome::NotBuilt(NotBuilt::Disabled)), "{outcome:?}");
    }

    #[test]
    fn failures_and_timeouts_are_build_failed_with_the_output() {
        if !python_or_skip() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let failing = backend("py3-none-any", "[]", "    print('compiling the frobnicator'); raise SystemExit(3)");
        let (_, outcome) = run(dir.path(), &failing, &settings(60), &NoEnv);
        let SdistOutcome::NotBuilt(NotBuilt::Failed { message }) = outcome else { panic!("{outcome:?}") };
        assert!(message.contains("`build_wheel` of back failed"), "{message}");
        assert!(message.contains("compiling the frobnicator"), "{message}");
        let other = tempfile::tempdir().unwrap();
        let slow = backend("py3-none-any", "[]", "    import time; time.sleep(30)");
        let started = std::time::Instant::now();
        let (_, outcome) = run(other.path(), &slow, &settings(1), &NoEnv);
        assert!(started.elapsed() < Duration::from_secs(20));
        let SdistOutcome::NotBuilt(NotBuilt::Failed { message }) = outcome else { panic!("{outcome:?}") };
        assert!(message.contains("did not finish within 1 s") && message.contains("LBUILD_BUILD_TIMEOUT"), "{message}");
    }

    #[test]
    fn build_requirements_are_installed_in_an_isolated_env() {
        if !python_or_skip() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("helper-1.0-py3-none-any.whl");
        let bytes = content::tests::wheel_bytes(&[
            ("helper.py", b"VALUE = 'from the build env'\n"),
            ("helper-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: helper\nVersion: 1.0\n"),
        ]);
        fs_err::write(&helper, &bytes).unwrap();
        let sha = crate::cache::sha256_hex(&bytes);
        // The backend asks for `helper` and imports it; it checks that the host's site-packages and
        // the environment are not visible (no `site-packages` outside the build env on sys.path,
        // SOURCE_DATE_EPOCH set, the user's variables gone).
        let body = "    import helper, sys, os\n    assert helper.VALUE == 'from the build env'\n    assert sys.prefix == os.environ['VIRTUAL_ENV'], sys.prefix\n    assert not [p for p in sys.path if 'site-packages' in p and not p.startswith(sys.prefix)], sys.path\n    assert os.environ['SOURCE_DATE_EPOCH'] == '315532800'\n    assert 'LBUILD_TEST_SECRET' not in os.environ";
        // SAFETY: the variable is only read by the child processes of this test.
        unsafe { std::env::set_var("LBUILD_TEST_SECRET", "x") };
        let (_, outcome) = run(
            dir.path(),
            &backend("py3-none-any", "['helper>=1']", body),
            &settings(60),
            &HelperEnv(helper, sha.clone()),
        );
        let SdistOutcome::Built(built) = outcome else { panic!("{outcome:?}") };
        assert_eq!(built.build_env, vec![("helper-1.0-py3-none-any.whl".to_string(), sha)]);
    }
}
