//! The host interpreter a build backend runs with, as `python_host` finds it (the one owner of
//! interpreter discovery): any CPython 3.9 or newer, its real executable resolved for the build
//! environment to link to.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub(crate) use crate::python_host::run_with_timeout;
use crate::python_host::{Want, find};

/// A host CPython that can run build backends.
#[derive(Debug, Clone)]
pub(crate) struct HostPython {
    /// The interpreter's own executable (links resolved), which a build env links to.
    pub real: PathBuf,
    /// `3.11.7`.
    pub version: String,
    pub minor: u32,
    /// `cpython-311`.
    pub cache_tag: String,
}

/// `LBUILD_PYTHON`, `python3.Y`/`python3` on PATH, uv and pyenv installs (`python_host`):
/// a CPython 3.9 or newer. Memoized for the process; the error says what was tried and how to
/// provide one.
pub(crate) fn interpreter() -> Result<Arc<HostPython>, String> {
    static FOUND: OnceLock<Result<Arc<HostPython>, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let found = find(&Want::AnyPython3 { prefer_minor: None })
                .map_err(|not_found| format!("{not_found}; {}", not_found.help()))?;
            let real = real_executable(&found.path)?;
            Ok(Arc::new(HostPython {
                real,
                version: found.version.clone(),
                minor: found.minor,
                cache_tag: found.cache_tag.clone(),
            }))
        })
        .clone()
}

/// `realpath(sys.executable)` of the interpreter at `path`: a shim or a venv's link is not the
/// executable whose directory a build environment's `pyvenv.cfg` names as `home`.
fn real_executable(path: &Path) -> Result<PathBuf, String> {
    let mut command = std::process::Command::new(path);
    command.args(["-I", "-S", "-c", "import os, sys; print(os.path.realpath(sys.executable))"]).env_clear();
    let shown = path.display();
    let output = run_with_timeout(command, Duration::from_secs(10), false)
        .map_err(|err| format!("`{shown}` could not run: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.lines().next().map(str::trim) {
        Some(real) if output.status.is_some_and(|status| status.success()) && !real.is_empty() => {
            Ok(PathBuf::from(real))
        }
        _ => Err(format!("`{shown}` did not say where its executable is: {}", output.tail.trim())),
    }
}
