//! The host's CPython interpreters: finding one of a given minor (`discover`), running a child
//! process with a time limit (`run_with_timeout`), compiling bytecode in one long-lived
//! worker per interpreter (`compile`), and the driver `lbuild run` invokes a handler with
//! (`invoke.py`, [`INVOKE_DRIVER`]).
//!
//! lbuild never needs a Python to lock or to build without `bytecode`; it looks for one only
//! when a build must compile `.py` files the cache does not hold yet (and, for sdist builds,
//! to run a build backend).

mod compile;
mod discover;

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) use compile::Compiler;

/// The script `lbuild run` runs a function's handler with, one invocation as Lambda's Python
/// runtime makes it (see the script's opening comment for its arguments and its answer).
pub(crate) const INVOKE_DRIVER: &str = include_str!("invoke.py");
pub(crate) use discover::NotFound;

/// A CPython interpreter that ran and said what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interpreter {
    pub path: PathBuf,
    /// `3.12.1`.
    pub version: String,
    /// `Y` in `3.Y`.
    pub minor: u32,
    /// `importlib.util.MAGIC_NUMBER` in hex (`cb0d0d0a`).
    pub magic: String,
    /// `sys.implementation.cache_tag` (`cpython-312`).
    pub cache_tag: String,
    /// `realpath(sys.executable)`: the interpreter itself, not a shim or a venv's link to it.
    pub executable: PathBuf,
}

/// Which interpreter is wanted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Want {
    /// CPython `3.Y` exactly (bytecode must come from the runtime's own minor).
    Minor(u32),
    /// Any CPython 3.9 or newer, `3.prefer_minor` first when there is one.
    AnyPython3 { prefer_minor: Option<u32> },
}

impl Want {
    /// In words: `CPython 3.12`, `CPython 3.9 or newer`.
    pub fn describe(&self) -> String {
        match self {
            Want::Minor(minor) => format!("CPython 3.{minor}"),
            Want::AnyPython3 { .. } => "CPython 3.9 or newer".to_string(),
        }
    }
}

type Found = Result<Arc<Interpreter>, NotFound>;

/// What `find` answered, per process (the environment it reads does not change while lbuild runs).
static FOUND: Mutex<Option<HashMap<Want, Found>>> = Mutex::new(None);

/// An interpreter as `want` asks, searched for once per process (see `discover` for the order).
pub(crate) fn find(want: &Want) -> Found {
    let mut found = FOUND.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let found = found.get_or_insert_with(HashMap::new);
    if let Some(answer) = found.get(want) {
        return answer.clone();
    }
    let answer = discover::search(want, &discover::Environment::from_process());
    found.insert(want.clone(), answer.clone());
    answer
}

/// The magic number a released CPython `3.Y` writes into its pycs (`None`: unknown to lbuild).
/// Pre-releases use others, which the runtime's interpreter would not load.
pub(crate) fn released_magic(minor: u32) -> Option<&'static str> {
    Some(match minor {
        9 => "610d0d0a",
        10 => "6f0d0d0a",
        11 => "a70d0d0a",
        12 => "cb0d0d0a",
        13 => "f30d0d0a",
        14 => "2b0e0d0a",
        _ => return None,
    })
}

/// How a child run by [`run_with_timeout`] ended.
#[derive(Debug)]
pub struct RunOutput {
    /// `None` when it was killed for running too long.
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    /// The last lines of its stderr, then of its stdout (a backend prints its errors to either),
    /// for messages.
    pub tail: String,
    /// The last non-blank line of its stderr (a Python traceback ends with its exception).
    pub last_error: Option<String>,
}

/// How many lines of output `RunOutput::tail` keeps.
const TAIL_LINES: usize = 30;

/// Run `cmd` (its stdin closed) to its end, or kill it after `timeout` (zero: no limit). Its
/// stdout is collected; with `echo`, both streams are also copied to lbuild's stderr as they come.
pub(crate) fn run_with_timeout(mut cmd: Command, timeout: Duration, echo: bool) -> std::io::Result<RunOutput> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Its own process group, so that what it starts (a backend's compiler, a stray daemon) is
    // killed with it and cannot outlive lbuild or hold its pipes open.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn()?;
    let tail = Arc::new(Mutex::new(std::collections::VecDeque::<String>::new()));
    let mut stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let err_tail = tail.clone();
    let last_error = Arc::new(Mutex::new(None::<String>));
    let err_last = last_error.clone();
    let (err_sender, err_receiver) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if echo {
                eprintln!("{}", crate::output::escape_controls(&line));
            }
            if !line.trim().is_empty() {
                *err_last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(line.trim().to_string());
            }
            push_line(&err_tail, line);
        }
        let _ = err_sender.send(());
    });
    let out_tail = tail.clone();
    let (out_sender, out_receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        for line in String::from_utf8_lossy(&bytes).lines() {
            if echo {
                eprintln!("{}", crate::output::escape_controls(line));
            }
            push_line(&out_tail, line.to_string());
        }
        let _ = out_sender.send(bytes);
    });
    let started = Instant::now();
    let pid = child.id();
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (Some(status), false);
        }
        if !timeout.is_zero() && started.elapsed() >= timeout {
            kill_group(pid);
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Whatever it left running in its group goes with it.
    kill_group(pid);
    // A grandchild that left the group may still hold the pipes open: wait a little for the
    // output, not forever.
    let deadline = Instant::now() + Duration::from_secs(if timed_out { 1 } else { 5 });
    let stdout = out_receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_default();
    let _ = err_receiver.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    let tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter().cloned().collect::<Vec<_>>();
    let last_error = last_error.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    Ok(RunOutput { status, timed_out, stdout, tail: tail.join("\n"), last_error })
}

/// SIGKILL to the process group `pid` leads (the child was made its leader).
fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

fn push_line(tail: &Mutex<std::collections::VecDeque<String>>, line: String) {
    let mut tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_runs_too_long_is_killed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started >&2; sleep 30"]);
        let started = Instant::now();
        let out = run_with_timeout(cmd, Duration::from_millis(300), false).unwrap();
        assert!(out.timed_out);
        assert!(out.status.is_none());
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// Whether the process `pid` still runs (a zombie counts as gone).
    #[cfg(target_os = "linux")]
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_timeout_kills_the_grandchildren_too() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!("sleep 30 & echo $! > {}; wait", pid_file.display()));
        let started = Instant::now();
        let out = run_with_timeout(cmd, Duration::from_millis(500), false).unwrap();
        assert!(out.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let pid = pid.trim();
        std::thread::sleep(Duration::from_millis(200));
        assert!(!alive(pid), "the grandchild {pid} outlived the timeout");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_child_that_leaves_a_grandchild_holding_its_pipes_does_not_hang() {
        // The backend returns, but a process it started keeps stdout and stderr open.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo done; sleep 60 & exit 0"]);
        let started = Instant::now();
        let out = run_with_timeout(cmd, Duration::from_secs(120), false).unwrap();
        assert!(!out.timed_out);
        assert!(out.status.unwrap().success());
        assert!(started.elapsed() < Duration::from_secs(20), "waited {:?}", started.elapsed());
        assert_eq!(out.stdout, b"done\n");
    }

    #[test]
    fn stdout_is_collected_and_the_tail_keeps_the_last_lines_of_both_streams() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "i=0; while [ $i -lt 40 ]; do echo line$i >&2; i=$((i+1)); done; printf out; exit 3"]);
        let out = run_with_timeout(cmd, Duration::from_secs(20), false).unwrap();
        assert!(!out.timed_out);
        assert_eq!(out.status.unwrap().code(), Some(3));
        assert_eq!(out.stdout, b"out");
        let lines: Vec<&str> = out.tail.lines().collect();
        // Both streams feed the tail (in the order they are read), which keeps the last lines.
        assert_eq!(lines.len(), TAIL_LINES);
        assert!(lines.contains(&"line39") && !lines.contains(&"line0"), "{lines:?}");
        // What a child prints only to stdout (a backend's traceback, often) is in the tail too.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo 'error: frobnicator missing'; exit 1"]);
        let out = run_with_timeout(cmd, Duration::from_secs(20), false).unwrap();
        assert_eq!(out.tail, "error: frobnicator missing");
    }
}
