//! The PEP 517 frontend: a build environment made by hand, and the backend's hooks run one
//! process each.
//!
//! - `[build-system]` of the tree's `pyproject.toml`: `build-backend` (`a.b:obj`), `requires`
//!   and `backend-path`. Without `build-backend`, setuptools' `__legacy__` backend with the
//!   given `requires`; without `[build-system]` (or pyproject.toml), `__legacy__` with
//!   `setuptools>=40.8.0`, as pip and `build` do.
//! - The environment is a virtual environment written by hand (`pyvenv.cfg` without system
//!   site-packages, `bin/python` linking the host interpreter, `lib/python3.Y/site-packages`),
//!   so that neither the host's site-packages nor the user's are visible, and a backend that runs
//!   `sys.executable` sees the same environment. Wheels are unpacked into it (purelib and
//!   platlib; the caller supplies only pure wheels).
//! - Each hook (`get_requires_for_build_wheel`, then `build_wheel`) runs in its own
//!   `python -c`, in a copy of the tree, with a cleared environment, and writes its result to a
//!   JSON file (backends print to stdout).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::host::{HostPython, run_with_timeout};

/// The `[build-system]` table, with the defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildSystem {
    pub requires: Vec<String>,
    pub backend: String,
    pub backend_path: Vec<String>,
}

const LEGACY: &str = "setuptools.build_meta:__legacy__";

/// Read the build system of the tree at `root`.
pub(crate) fn build_system(root: &Path) -> Result<BuildSystem, String> {
    let legacy =
        || BuildSystem { requires: vec!["setuptools>=40.8.0".into()], backend: LEGACY.into(), backend_path: vec![] };
    let path = root.join("pyproject.toml");
    let Ok(text) = fs_err::read_to_string(&path) else { return Ok(legacy()) };
    let doc: toml::Table = toml::from_str(&text).map_err(|err| format!("its pyproject.toml does not parse: {err}"))?;
    let Some(table) = doc.get("build-system") else { return Ok(legacy()) };
    let table = table.as_table().ok_or("`build-system` in its pyproject.toml is not a table")?;
    let strings = |key: &str| -> Result<Vec<String>, String> {
        match table.get(key) {
            None => Ok(vec![]),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string).ok_or(format!("`build-system.{key}` holds a non-string")))
                .collect(),
            Some(_) => Err(format!("`build-system.{key}` in its pyproject.toml is not a list of strings")),
        }
    };
    let requires = match table.get("requires") {
        None => return Err("its pyproject.toml has `[build-system]` without `requires` (PEP 518)".into()),
        Some(_) => strings("requires")?,
    };
    let backend = match table.get("build-backend") {
        None => LEGACY.to_string(),
        Some(value) => value.as_str().ok_or("`build-system.build-backend` is not a string")?.to_string(),
    };
    let module = backend.split(':').next().unwrap_or_default();
    if module.is_empty()
        || !module.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return Err(format!("`build-system.build-backend = \"{}\"` is not `module:object`", backend.escape_debug()));
    }
    let backend_path = strings("backend-path")?;
    for entry in &backend_path {
        // The path must stay inside the tree (PEP 517).
        let inside =
            root.join(entry).canonicalize().ok().zip(root.canonicalize().ok()).is_some_and(|(p, r)| p.starts_with(r));
        if !inside {
            return Err(format!(
                "`build-system.backend-path` entry `{}` is not a directory inside the sdist",
                entry.escape_debug()
            ));
        }
    }
    Ok(BuildSystem { requires, backend, backend_path })
}

/// How one build runs.
pub(crate) struct Run {
    pub timeout: Duration,
    pub verbose: bool,
}

/// Why a build failed; `message` says which step, and holds the tail of the backend's output.
#[derive(Debug)]
pub(crate) struct Failed {
    pub message: String,
}

fn failed(message: impl Into<String>) -> Failed {
    Failed { message: message.into() }
}

const HOOK: &str = r#"import importlib, json, os, sys
out, hook_name, backend_spec, backend_path, wheel_dir = sys.argv[1:6]
if sys.path and sys.path[0] == "":
    sys.path.pop(0)
sys.path[:0] = json.loads(backend_path)
module, _, obj = backend_spec.partition(":")
backend = importlib.import_module(module)
for part in filter(None, obj.split(".")):
    backend = getattr(backend, part)
hook = getattr(backend, hook_name, None)
if hook_name == "get_requires_for_build_wheel":
    result = list(hook({})) if hook is not None else []
else:
    result = hook(wheel_dir, {}, None)
with open(out, "w") as f:
    json.dump({"result": result}, f)
"#;

/// The build environment and working copy under `work`.
pub(crate) struct Workspace {
    work: PathBuf,
    env: PathBuf,
    site: PathBuf,
    src: PathBuf,
}

impl Workspace {
    /// Copy the extracted tree `tree` to `work/src` and write an empty environment at `work/env`.
    pub fn new(tree: &Path, work: &Path, python: &HostPython) -> Result<Workspace, Failed> {
        let io = |what: &str, err: std::io::Error| failed(format!("{what}: {err}"));
        let src = work.join("src");
        copy_tree(tree, &src).map_err(|err| io("copying the sdist's tree", err))?;
        let env = work.join("env");
        let site = env.join("lib").join(format!("python3.{}", python.minor)).join("site-packages");
        fs_err::create_dir_all(&site).map_err(|err| io("making the build environment", err))?;
        fs_err::create_dir_all(env.join("bin")).map_err(|err| io("making the build environment", err))?;
        let home = python.real.parent().map(Path::to_path_buf).unwrap_or_default();
        let cfg =
            format!("home = {}\ninclude-system-site-packages = false\nversion = {}\n", home.display(), python.version);
        fs_err::write(env.join("pyvenv.cfg"), cfg).map_err(|err| io("writing pyvenv.cfg", err))?;
        #[cfg(unix)]
        for name in ["python", "python3", &format!("python3.{}", python.minor)] {
            std::os::unix::fs::symlink(&python.real, env.join("bin").join(name))
                .map_err(|err| io("linking the interpreter into the build environment", err))?;
        }
        for dir in ["home", "tmp", "out"] {
            fs_err::create_dir_all(work.join(dir)).map_err(|err| io("making the build directories", err))?;
        }
        Ok(Workspace { work: work.to_path_buf(), env, site, src })
    }

    /// Unpack a pure wheel into the environment's site-packages.
    pub fn install(&self, wheel: &Path, filename: &str) -> Result<(), Failed> {
        crate::zipio::for_each_inflated(wheel, filename, 256 << 20, |name, _executable, bytes| {
            // `<name>.data/purelib/…` and `platlib/…` go to site-packages; scripts, headers and
            // data files are not needed to run a backend.
            let (first, rest) = name.split_once('/').unwrap_or((name, ""));
            let rel = if first.ends_with(".data") {
                match rest.split_once('/') {
                    Some(("purelib" | "platlib", inner)) => inner,
                    _ => return Ok(()),
                }
            } else {
                name
            };
            let target = self.site.join(rel);
            if let Some(parent) = target.parent() {
                fs_err::create_dir_all(parent).map_err(|err| err.to_string())?;
            }
            fs_err::write(&target, bytes).map_err(|err| err.to_string())
        })
        .map_err(|err| failed(format!("installing {filename} into the build environment: {err}")))
    }

    /// Run one hook and return its JSON result.
    fn hook(&self, run: &Run, system: &BuildSystem, name: &str) -> Result<serde_json::Value, Failed> {
        let result_file = self.work.join(format!("{name}.json"));
        let _ = fs_err::remove_file(&result_file);
        let backend_path: Vec<String> =
            system.backend_path.iter().map(|entry| self.src.join(entry).display().to_string()).collect();
        let mut command = Command::new(self.env.join("bin").join("python"));
        command
            .arg("-c")
            .arg(HOOK)
            .arg(&result_file)
            .arg(name)
            .arg(&system.backend)
            .arg(serde_json::to_string(&backend_path).expect("strings serialize"))
            .arg(self.work.join("out"))
            .current_dir(&self.src)
            .env_clear()
            .stdin(std::process::Stdio::null());
        let mut path = std::ffi::OsString::from(self.env.join("bin"));
        if let Some(host) = std::env::var_os("PATH") {
            path.push(":");
            path.push(host);
        }
        command
            .env("PATH", path)
            .env("VIRTUAL_ENV", &self.env)
            .env("HOME", self.work.join("home"))
            .env("TMPDIR", self.work.join("tmp"))
            .env("LC_ALL", "C.UTF-8")
            .env("PYTHONIOENCODING", "utf-8:backslashreplace")
            .env("PYTHONNOUSERSITE", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONHASHSEED", "0")
            .env("SOURCE_DATE_EPOCH", super::SOURCE_DATE_EPOCH.to_string());
        let output = run_with_timeout(command, run.timeout, run.verbose)
            .map_err(|err| failed(format!("could not run the build backend: {err}")))?;
        let tail = || {
            let tail = output.tail.trim();
            if tail.is_empty() { String::new() } else { format!("; its output ended:\n{tail}") }
        };
        if output.timed_out {
            return Err(failed(format!(
                "`{name}` of {} did not finish within {} s (set LBUILD_BUILD_TIMEOUT to allow longer){}",
                system.backend,
                run.timeout.as_secs(),
                tail()
            )));
        }
        if !output.status.is_some_and(|s| s.success()) {
            // The first line is the one a gap records: it says why, when the backend said so.
            let why = match &output.last_error {
                Some(line) => format!(": {}", line.chars().take(300).collect::<String>()),
                None => String::new(),
            };
            return Err(failed(format!("`{name}` of {} failed{why}{}", system.backend, tail())));
        }
        let bytes = fs_err::read(&result_file)
            .map_err(|_| failed(format!("`{name}` of {} wrote no result{}", system.backend, tail())))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|err| failed(format!("`{name}` wrote an unreadable result: {err}")))?;
        Ok(value.get("result").cloned().unwrap_or_default())
    }

    /// `get_requires_for_build_wheel`: the PEP 508 strings the backend adds to `requires`.
    pub fn requires_for_build_wheel(&self, run: &Run, system: &BuildSystem) -> Result<Vec<String>, Failed> {
        let value = self.hook(run, system, "get_requires_for_build_wheel")?;
        let list = value.as_array().ok_or_else(|| failed("`get_requires_for_build_wheel` did not return a list"))?;
        list.iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| failed("`get_requires_for_build_wheel` returned a non-string"))
    }

    /// `build_wheel`: the wheel's file name and path.
    pub fn build_wheel(&self, run: &Run, system: &BuildSystem) -> Result<(String, PathBuf), Failed> {
        let value = self.hook(run, system, "build_wheel")?;
        let name = value.as_str().ok_or_else(|| failed("`build_wheel` did not return a file name"))?;
        let path = self.work.join("out").join(name);
        if name.contains(['/', '\\'])
            || !name.ends_with(".whl")
            || !fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file())
        {
            return Err(failed(format!(
                "`build_wheel` returned `{}`, which is not a wheel it wrote",
                name.escape_debug()
            )));
        }
        Ok((name.to_string(), path))
    }
}

/// Copy regular files and directories (an extracted sdist holds nothing else).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs_err::create_dir_all(to)?;
    for entry in fs_err::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs_err::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_system_defaults_follow_pip() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = build_system(dir.path()).unwrap();
        assert_eq!(legacy.backend, LEGACY);
        assert_eq!(legacy.requires, ["setuptools>=40.8.0"]);
        fs_err::write(dir.path().join("pyproject.toml"), "[build-system]\nrequires = [\"flit_core>=3.2\"]\n").unwrap();
        let no_backend = build_system(dir.path()).unwrap();
        assert_eq!(
            (no_backend.backend.as_str(), no_backend.requires.as_slice()),
            (LEGACY, &["flit_core>=3.2".to_string()][..])
        );
        fs_err::create_dir(dir.path().join("_b")).unwrap();
        let full = "[build-system]\nrequires = []\nbuild-backend = \"back:api\"\nbackend-path = [\"_b\"]\n";
        fs_err::write(dir.path().join("pyproject.toml"), full).unwrap();
        let got = build_system(dir.path()).unwrap();
        assert_eq!(got, BuildSystem { requires: vec![], backend: "back:api".into(), backend_path: vec!["_b".into()] });
        let outside = "[build-system]\nrequires = []\nbuild-backend = \"back\"\nbackend-path = [\"..\"]\n";
        fs_err::write(dir.path().join("pyproject.toml"), outside).unwrap();
        assert!(build_system(dir.path()).unwrap_err().contains("not a directory inside the sdist"));
        fs_err::write(dir.path().join("pyproject.toml"), "[build-system]\nbuild-backend = \"x\"\n").unwrap();
        assert!(build_system(dir.path()).unwrap_err().contains("without `requires`"));
    }
}
