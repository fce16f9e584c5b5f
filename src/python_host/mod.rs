//! The host's CPython interpreters: finding one of a given minor (`discover`), running a child
//! process with a time limit (`run_with_timeout`), and compiling bytecode in one long-lived
//! worker per interpreter (`compile`).
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
}

/// How many lines of output `RunOutput::tail` keeps.
const TAIL_LINES: usize = 30;

/// Run `cmd` (its stdin closed) to its end, or kill it after `timeout` (zero: no limit). Its
/// stdout is collected; with `echo`, both streams are also copied to lbuild's stderr as they come.
pub(crate) fn run_with_timeout(mut cmd: Command, timeout: Duration, echo: bool) -> std::io::Result<RunOutput> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let tail = Arc::new(Mutex::new(std::collections::VecDeque::<String>::new()));
    let mut stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let err_tail = tail.clone();
    let err_thread = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if echo {
                eprintln!("{}", crate::output::escape_controls(&line));
            }
            push_line(&err_tail, line);
        }
    });
    let out_tail = tail.clone();
    let out_thread = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        for line in String::from_utf8_lossy(&bytes).lines() {
            if echo {
                eprintln!("{}", crate::output::escape_controls(line));
            }
            push_line(&out_tail, line.to_string());
        }
        bytes
    });
    let started = Instant::now();
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (Some(status), false);
        }
        if !timeout.is_zero() && started.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // A grandchild may hold the pipes open after a kill: do not wait for it forever.
    let stdout = if timed_out { Vec::new() } else { out_thread.join().unwrap_or_default() };
    if !timed_out {
        let _ = err_thread.join();
    }
    let tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter().cloned().collect::<Vec<_>>();
    Ok(RunOutput { status, timed_out, stdout, tail: tail.join("\n") })
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
        assert!(lines.contains(&"line39") && lines.contains(&"out") && !lines.contains(&"line0"), "{lines:?}");
    }
}
