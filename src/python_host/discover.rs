//! Finding a host CPython. The order: `LBUILD_PYTHON`; `python3.Y` and `python3` on `PATH`;
//! uv-managed installs (`$UV_PYTHON_INSTALL_DIR`, else `$XDG_DATA_HOME/uv/python`, else
//! `~/.local/share/uv/python`); pyenv's (`${PYENV_ROOT:-~/.pyenv}/versions`). Every candidate is
//! run (`-I -S`, empty environment, 10 s) and must say it is CPython of the wanted minor, with
//! the GIL (free-threaded builds do not write reproducible bytecode, and Lambda has none). A
//! name on `PATH` may be a shim that fails (pyenv's, for a version it lacks): it is tried and
//! passed over like any other that does not run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use super::{Interpreter, Want, run_with_timeout};

/// What each candidate prints: one line of facts, tab-separated.
const PROBE: &str = "import os, sys, importlib.util, sysconfig\n\
print('lbuild-probe-1', '%d.%d.%d' % sys.version_info[:3], sys.implementation.name, \
importlib.util.MAGIC_NUMBER.hex(), sys.implementation.cache_tag, \
int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))), os.path.realpath(sys.executable), sep='\\t')";

/// How long a candidate may take to say what it is.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// No interpreter as wanted was found.
#[derive(Debug, Clone)]
pub(crate) struct NotFound {
    /// `CPython 3.12`.
    pub wanted: String,
    /// Each candidate tried, and why it was passed over.
    pub tried: Vec<(String, String)>,
    /// The minor to suggest installing.
    pub minor: Option<u32>,
}

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no {} was found", self.wanted)?;
        if self.tried.is_empty() {
            return write!(f, " (no candidate: no `LBUILD_PYTHON`, nothing on `PATH`, no uv or pyenv install)");
        }
        let tried: Vec<String> =
            self.tried.iter().map(|(what, why)| format!("`{}`: {why}", crate::output::escape_controls(what))).collect();
        write!(f, " (tried {})", tried.join("; "))
    }
}

impl NotFound {
    /// How to provide one.
    pub fn help(&self) -> String {
        let version = self.minor.map_or("3.12".to_string(), |minor| format!("3.{minor}"));
        format!(
            "install one with `uv python install {version}` or `pyenv install {version}` (lbuild finds both), put \
             `python{version}` on `PATH`, or point `LBUILD_PYTHON` at its interpreter"
        )
    }
}

/// Where candidates are looked for: the process's environment, or a test's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    pub lbuild_python: Option<PathBuf>,
    pub path: Vec<PathBuf>,
    pub uv_dirs: Vec<PathBuf>,
    pub pyenv_root: Option<PathBuf>,
}

impl Environment {
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
        let home = var("HOME");
        let uv = var("UV_PYTHON_INSTALL_DIR")
            .or_else(|| var("XDG_DATA_HOME").map(|dir| dir.join("uv/python")))
            .or_else(|| home.as_ref().map(|home| home.join(".local/share/uv/python")));
        Environment {
            lbuild_python: var("LBUILD_PYTHON"),
            path: std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect()).unwrap_or_default(),
            uv_dirs: uv.into_iter().collect(),
            pyenv_root: var("PYENV_ROOT").or_else(|| home.map(|home| home.join(".pyenv"))),
        }
    }
}

/// A candidate's answer to [`PROBE`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Probe {
    version: String,
    minor: u32,
    implementation: String,
    magic: String,
    cache_tag: String,
    free_threaded: bool,
    /// `realpath(sys.executable)`.
    executable: PathBuf,
}

fn parse_probe(stdout: &str) -> Option<Probe> {
    let line = stdout.lines().find(|line| line.starts_with("lbuild-probe-1\t"))?;
    // The executable's path comes last, and may hold any character but a newline.
    let fields: Vec<&str> = line.splitn(7, '\t').collect();
    let [_, version, implementation, magic, cache_tag, free_threaded, executable] = fields[..] else { return None };
    let mut parts = version.split('.');
    let (major, minor) = (parts.next()?.parse::<u32>().ok()?, parts.next()?.parse::<u32>().ok()?);
    if major != 3 || magic.len() != 8 || !magic.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(Probe {
        version: version.to_string(),
        minor,
        implementation: implementation.to_string(),
        magic: magic.to_ascii_lowercase(),
        cache_tag: cache_tag.to_string(),
        free_threaded: free_threaded == "1",
        executable: PathBuf::from(executable),
    })
}

/// Run a candidate; `Err` says why it does not serve.
fn probe(path: &Path) -> Result<Probe, String> {
    let mut cmd = Command::new(path);
    cmd.args(["-I", "-S", "-c", PROBE]).env_clear().current_dir("/");
    let out = run_with_timeout(cmd, PROBE_TIMEOUT, false).map_err(|err| format!("does not run ({err})"))?;
    if out.timed_out {
        return Err(format!("did not answer in {} s", PROBE_TIMEOUT.as_secs()));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    match parse_probe(&stdout) {
        Some(probe) if out.status.is_some_and(|status| status.success()) => Ok(probe),
        _ => {
            let last = out.tail.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("no output");
            Err(format!("is not a working Python 3 ({})", last.trim()))
        }
    }
}

/// Whether `probe` is what `want` asks for; `Err` says why not.
fn accept(want: &Want, probe: &Probe) -> Result<(), String> {
    if probe.implementation != "cpython" {
        return Err(format!("is {} {}, not CPython", probe.implementation, probe.version));
    }
    if probe.free_threaded {
        return Err(format!("is a free-threaded CPython {}", probe.version));
    }
    match want {
        Want::Minor(minor) if probe.minor != *minor => Err(format!("is CPython {}", probe.version)),
        Want::AnyPython3 { .. } if probe.minor < 9 => Err(format!("is CPython {}, older than 3.9", probe.version)),
        _ => Ok(()),
    }
}

/// The candidates for `want`, in order, without duplicates.
fn candidates(want: &Want, env: &Environment) -> Vec<PathBuf> {
    let minors: Vec<u32> = match want {
        Want::Minor(minor) => vec![*minor],
        Want::AnyPython3 { prefer_minor } => {
            let mut minors: Vec<u32> = prefer_minor.iter().copied().collect();
            minors.extend((9..=14).rev().filter(|minor| Some(*minor) != *prefer_minor));
            minors
        }
    };
    let mut found: Vec<PathBuf> = Vec::new();
    found.extend(env.lbuild_python.clone());
    let on_path = |name: &str| env.path.iter().map(|dir| dir.join(name)).find(|path| is_executable(path));
    let mut names: Vec<String> = minors.iter().map(|minor| format!("python3.{minor}")).collect();
    if matches!(want, Want::AnyPython3 { .. }) {
        names.insert(0, "python3".to_string());
    } else {
        names.push("python3".to_string());
    }
    found.extend(names.iter().filter_map(|name| on_path(name)));
    for minor in &minors {
        for dir in &env.uv_dirs {
            found.extend(uv_installs(dir, *minor));
        }
        if let Some(root) = &env.pyenv_root {
            found.extend(pyenv_installs(&root.join("versions"), *minor));
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|path| seen.insert(path.clone()));
    found
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// `(patch, dir name)` of the entries of `dir` named `<prefix>3.Y.<patch><rest>`, newest first,
/// where `keep(rest)` holds.
fn versions_in(dir: &Path, prefix: &str, minor: u32, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let start = format!("{prefix}3.{minor}.");
    let mut found: Vec<(u32, String)> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| {
            let rest = name.strip_prefix(&start)?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let patch = digits.parse().ok()?;
            keep(&rest[digits.len()..]).then_some((patch, name))
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, name)| name).collect()
}

/// uv's `cpython-3.Y.Z-linux-x86_64-gnu/bin/python3.Y`, newest first; not `+freethreaded`, nor
/// pre-releases (`3.14.0rc1`: their bytecode differs from the release's).
fn uv_installs(dir: &Path, minor: u32) -> Vec<PathBuf> {
    let keep = |rest: &str| rest.starts_with('-') && !rest.contains("freethreaded") && !rest.contains("musl");
    versions_in(dir, "cpython-", minor, keep)
        .into_iter()
        .map(|name| dir.join(name).join(format!("bin/python3.{minor}")))
        .filter(|path| is_executable(path))
        .collect()
}

/// pyenv's `versions/3.Y.Z/bin/python3.Y`, newest first; not the free-threaded `3.13.0t`, nor
/// pre-releases.
fn pyenv_installs(dir: &Path, minor: u32) -> Vec<PathBuf> {
    versions_in(dir, "", minor, str::is_empty)
        .into_iter()
        .map(|name| dir.join(name).join(format!("bin/python3.{minor}")))
        .filter(|path| is_executable(path))
        .collect()
}

/// The first candidate that serves `want`.
pub(crate) fn search(want: &Want, env: &Environment) -> Result<Arc<Interpreter>, NotFound> {
    let mut tried = Vec::new();
    for path in candidates(want, env) {
        let shown = path.display().to_string();
        match probe(&path).and_then(|probe| accept(want, &probe).map(|()| probe)) {
            Ok(probe) => {
                crate::output::debug!("using {shown} (CPython {}) for {}", probe.version, want.describe());
                return Ok(Arc::new(Interpreter {
                    path,
                    version: probe.version,
                    minor: probe.minor,
                    magic: probe.magic,
                    cache_tag: probe.cache_tag,
                    executable: probe.executable,
                }));
            }
            Err(why) => tried.push((shown, why)),
        }
    }
    let minor = match want {
        Want::Minor(minor) => Some(*minor),
        Want::AnyPython3 { prefer_minor } => *prefer_minor,
    };
    Err(NotFound { wanted: want.describe(), tried, minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\nexit 1\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_probe_line_is_parsed_and_checked() {
        let out = "noise\nlbuild-probe-1\t3.12.1\tcpython\tCB0D0D0A\tcpython-312\t0\t/usr/bin/python3\n";
        let probe = parse_probe(out).unwrap();
        assert_eq!((probe.minor, probe.magic.as_str(), probe.cache_tag.as_str()), (12, "cb0d0d0a", "cpython-312"));
        assert!(!probe.free_threaded);
        assert_eq!(probe.executable, PathBuf::from("/usr/bin/python3"));
        assert!(accept(&Want::Minor(12), &probe).is_ok());
        assert_eq!(accept(&Want::Minor(11), &probe).unwrap_err(), "is CPython 3.12.1");
        assert!(parse_probe("lbuild-probe-1\t2.7.18\tcpython\t03f30d0a\tNone\t0\t/usr/bin/python3").is_none());
        assert!(parse_probe("lbuild-probe-1\t3.12.1\tcpython\tzz\tcpython-312\t0\t/usr/bin/python3").is_none());
        assert!(parse_probe("bash: python3.12: command not found").is_none());
        let threaded =
            parse_probe("lbuild-probe-1\t3.13.0\tcpython\tf30d0d0a\tcpython-313\t1\t/usr/bin/python3").unwrap();
        assert!(accept(&Want::Minor(13), &threaded).unwrap_err().contains("free-threaded"));
        let pypy = parse_probe("lbuild-probe-1\t3.10.14\tpypy\ta70d0d0a\tpypy310\t0\t/usr/bin/python3").unwrap();
        assert!(accept(&Want::AnyPython3 { prefer_minor: None }, &pypy).unwrap_err().contains("not CPython"));
        let old = parse_probe("lbuild-probe-1\t3.8.18\tcpython\t550d0d0a\tcpython-38\t0\t/usr/bin/python3").unwrap();
        assert!(accept(&Want::AnyPython3 { prefer_minor: None }, &old).is_err());
    }

    #[test]
    fn candidates_come_in_order_newest_install_first_skipping_free_threaded_and_prereleases() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let bin = root.join("bin");
        executable(&bin.join("python3.12"));
        executable(&bin.join("python3"));
        let uv = root.join("uv");
        for name in [
            "cpython-3.12.3-linux-x86_64-gnu",
            "cpython-3.12.10-linux-x86_64-gnu",
            "cpython-3.12.11+freethreaded-linux-x86_64-gnu",
            "cpython-3.13.1-linux-x86_64-gnu",
        ] {
            executable(&uv.join(name).join(if name.contains("3.13") { "bin/python3.13" } else { "bin/python3.12" }));
        }
        let pyenv = root.join("pyenv");
        for name in ["3.12.1", "3.12.2t", "3.12.0rc1", "3.11.7"] {
            executable(&pyenv.join("versions").join(name).join(if name.starts_with("3.11") {
                "bin/python3.11"
            } else {
                "bin/python3.12"
            }));
        }
        let env = Environment {
            lbuild_python: Some(root.join("explicit")),
            path: vec![root.join("missing"), bin.clone()],
            uv_dirs: vec![uv.clone()],
            pyenv_root: Some(pyenv.clone()),
        };
        let found = candidates(&Want::Minor(12), &env);
        let expected = vec![
            root.join("explicit"),
            bin.join("python3.12"),
            bin.join("python3"),
            uv.join("cpython-3.12.10-linux-x86_64-gnu/bin/python3.12"),
            uv.join("cpython-3.12.3-linux-x86_64-gnu/bin/python3.12"),
            pyenv.join("versions/3.12.1/bin/python3.12"),
        ];
        assert_eq!(found, expected);
        let any = candidates(&Want::AnyPython3 { prefer_minor: Some(11) }, &env);
        assert_eq!(any[1], bin.join("python3"));
        assert_eq!(any[2], bin.join("python3.12"));
        assert!(any.contains(&pyenv.join("versions/3.11.7/bin/python3.11")));
    }

    #[test]
    fn not_found_lists_what_was_tried_and_how_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let shim = dir.path().join("python3.12");
        executable(&shim);
        let env = Environment { path: vec![dir.path().to_path_buf()], ..Environment::default() };
        let err = search(&Want::Minor(12), &env).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("no CPython 3.12 was found (tried `"), "{text}");
        assert!(text.contains("python3.12`: is not a working Python 3"), "{text}");
        assert!(err.help().contains("uv python install 3.12"));
        assert!(err.help().contains("LBUILD_PYTHON"));
    }

    #[test]
    fn the_host_python3_is_found_when_there_is_one() {
        let env = Environment::from_process();
        match search(&Want::AnyPython3 { prefer_minor: None }, &env) {
            Ok(found) => {
                assert_eq!(found.cache_tag, format!("cpython-3{}", found.minor));
                if let Some(magic) = super::super::released_magic(found.minor) {
                    assert_eq!(found.magic, magic);
                }
            }
            Err(err) => eprintln!("skipped: no host Python 3 ({err})"),
        }
    }
}
