//! Stand-ins for the host interpreter discovery and the timeout runner that `python_host`
//! (issue 12, helper A) provides.
// lead: replace with python_host::find / run_with_timeout at merge

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A host CPython that can run build backends.
#[derive(Debug, Clone)]
pub(crate) struct HostPython {
    /// The interpreter's own executable (`realpath(sys.executable)`), which a build env links to.
    pub real: PathBuf,
    /// `3.11.7`.
    pub version: String,
    pub minor: u32,
    /// `cpython-311`.
    pub cache_tag: String,
}

const PROBE: &str = r#"import json, os, sys
print(json.dumps({"real": os.path.realpath(sys.executable), "version": "%d.%d.%d" % sys.version_info[:3],
  "major": sys.version_info[0], "minor": sys.version_info[1], "cache_tag": sys.implementation.cache_tag,
  "impl": sys.implementation.name}))"#;

/// `LBUILD_PYTHON`, else `python3` on PATH, checked by running it: a CPython 3.9 or newer.
/// Memoized for the process.
// lead: replace with python_host::find(&Want::AnyPython3 { .. }) at merge
pub(crate) fn interpreter() -> Result<Arc<HostPython>, String> {
    static FOUND: OnceLock<Result<Arc<HostPython>, String>> = OnceLock::new();
    FOUND.get_or_init(probe_host).clone()
}

fn probe_host() -> Result<Arc<HostPython>, String> {
    let (candidate, from) = match std::env::var_os("LBUILD_PYTHON").filter(|v| !v.is_empty()) {
        Some(path) => (PathBuf::from(path), "LBUILD_PYTHON"),
        None => (PathBuf::from("python3"), "PATH"),
    };
    let shown = candidate.display().to_string();
    let mut command = Command::new(&candidate);
    command.args(["-I", "-S", "-c", PROBE]).env_clear().stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let output = run_with_timeout(command, Duration::from_secs(10), false)
        .map_err(|err| format!("`{shown}` (from {from}) could not run: {err}"))?;
    if output.timed_out || !output.status.is_some_and(|s| s.success()) {
        return Err(format!("`{shown}` (from {from}) did not answer a version probe: {}", output.tail.trim()));
    }
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|_| format!("`{shown}` (from {from}) did not answer a version probe"))?;
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let number = |key: &str| value.get(key).and_then(|v| v.as_u64());
    let (Some(real), Some(version), Some(3), Some(minor), Some(cache_tag)) =
        (text("real"), text("version"), number("major"), number("minor"), text("cache_tag"))
    else {
        return Err(format!("`{shown}` (from {from}) is not a Python 3"));
    };
    if text("impl").as_deref() != Some("cpython") || minor < 9 {
        return Err(format!("`{shown}` (from {from}) is {version}; building sdists needs CPython 3.9 or newer"));
    }
    Ok(Arc::new(HostPython { real: PathBuf::from(real), version, minor: minor as u32, cache_tag }))
}

/// What a child process did.
pub(crate) struct RunOutput {
    /// `None` when it was killed at the timeout.
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    /// The last lines of its stdout and stderr together.
    pub tail: String,
}

const TAIL_LINES: usize = 30;

/// Run `command` (stdout and stderr piped here), killing it after `timeout`; with `echo`, each
/// line it prints goes to stderr, control characters escaped.
// lead: replace with python_host::run_with_timeout at merge
pub(crate) fn run_with_timeout(mut command: Command, timeout: Duration, echo: bool) -> std::io::Result<RunOutput> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let tail: Arc<Mutex<std::collections::VecDeque<String>>> = Arc::default();
    let reader = |mut pipe: Box<dyn Read + Send>, keep: bool| {
        let tail = Arc::clone(&tail);
        std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buffer = [0u8; 8192];
            let mut line = Vec::new();
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                if keep {
                    all.extend_from_slice(&buffer[..read]);
                }
                for &byte in &buffer[..read] {
                    if byte == b'\n' {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        if echo {
                            eprintln!("  | {}", crate::output::escape_controls(&text));
                        }
                        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                        tail.push_back(text);
                        if tail.len() > TAIL_LINES {
                            tail.pop_front();
                        }
                        line.clear();
                    } else if line.len() < 4096 {
                        line.push(byte);
                    }
                }
            }
            if !line.is_empty() {
                let text = String::from_utf8_lossy(&line).into_owned();
                if echo {
                    eprintln!("  | {}", crate::output::escape_controls(&text));
                }
                tail.lock().unwrap_or_else(|e| e.into_inner()).push_back(text);
            }
            all
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped")), true);
    let err = reader(Box::new(child.stderr.take().expect("piped")), false);
    let deadline = Instant::now() + timeout;
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (Some(status), false);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // A child's own children may hold the pipes open after a kill: do not wait for them then.
    let stdout = if timed_out { Vec::new() } else { out.join().unwrap_or_default() };
    if !timed_out {
        let _ = err.join();
    }
    let tail = tail.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect::<Vec<_>>().join("\n");
    Ok(RunOutput { status, timed_out, stdout, tail })
}
