//! The host interpreter a build backend runs with, as `python_host` finds it (the one owner of
//! interpreter discovery): any CPython 3.9 or newer, its real executable resolved for the build
//! environment to link to.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub(crate) use crate::python_host::run_with_timeout;
use crate::python_host::{Want, find};

/// A host CPython that can run build backends.
#[derive(Debug, Clone)]
pub(crate) struct HostPython {
    /// The interpreter's own executable (links resolved: a shim or a venv's link is not the
    /// executable whose directory a build environment's `pyvenv.cfg` names as `home`).
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
            let real = found.executable.clone();
            Ok(Arc::new(HostPython {
                real,
                version: found.version.clone(),
                minor: found.minor,
                cache_tag: found.cache_tag.clone(),
            }))
        })
        .clone()
}
