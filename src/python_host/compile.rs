//! One long-lived CPython worker that compiles many sources to pycs (`compile.py`): the
//! interpreter starts once per build and runtime minor, not once per file. Sources go in on its
//! stdin and pycs come back on its stdout, so nothing is written beside a source and no wheel is
//! unpacked.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use super::Interpreter;

const WORKER: &str = include_str!("compile.py");

/// A worker that failed: it did not start, died, or took too long.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the bytecode compiler ({python}) {what}")]
pub(crate) struct CompileError {
    pub python: String,
    pub what: String,
}

enum Reply {
    Ready(String),
    Pyc(Vec<u8>),
    Refused(String),
}

/// One compiler process.
pub(crate) struct Compiler {
    child: Child,
    stdin: Option<ChildStdin>,
    replies: Receiver<Result<Reply, String>>,
    python: String,
    timeout: Duration,
}

/// `LBUILD_BYTECODE_TIMEOUT` (seconds, 0 = no limit), else `default`.
fn timeout(default: u64) -> Duration {
    let secs = std::env::var("LBUILD_BYTECODE_TIMEOUT").ok().and_then(|value| value.trim().parse().ok());
    Duration::from_secs(secs.unwrap_or(default))
}

fn read_replies(stdout: impl Read, send: std::sync::mpsc::Sender<Result<Reply, String>>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return drop(send.send(Err("exited".into()))),
            Ok(_) => {}
            Err(err) => return drop(send.send(Err(format!("could not be read from: {err}")))),
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let reply = if let Some(rest) = text.strip_prefix("ready ") {
            Ok(Reply::Ready(rest.to_string()))
        } else if let Some(message) = text.strip_prefix("err\t") {
            Ok(Reply::Refused(message.to_string()))
        } else if let Some(length) = text.strip_prefix("ok\t").and_then(|length| length.parse::<usize>().ok()) {
            let mut pyc = vec![0; length];
            match reader.read_exact(&mut pyc) {
                Ok(()) => Ok(Reply::Pyc(pyc)),
                Err(err) => Err(format!("sent a short answer: {err}")),
            }
        } else {
            Err(format!("answered `{}`", crate::output::escape_controls(&text)))
        };
        let stop = reply.is_err();
        if send.send(reply).is_err() || stop {
            return;
        }
    }
}

impl Compiler {
    /// Start a worker on `python` and wait for it to say it is ready.
    pub fn start(python: &Interpreter) -> Result<Compiler, CompileError> {
        let shown = python.path.display().to_string();
        let error = |what: String| CompileError { python: shown.clone(), what };
        let mut cmd = Command::new(&python.path);
        // Not `-I`: it implies `-E`, which would ignore PYTHONHASHSEED (set order in constants
        // follows string hashes). The environment is empty instead, and the script drops the
        // current directory from `sys.path`.
        cmd.args(["-S", "-s", "-c", WORKER])
            .env_clear()
            .env("PYTHONHASHSEED", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().map_err(|err| error(format!("does not start: {err}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped");
        let (send, replies) = channel();
        std::thread::spawn(move || read_replies(stdout, send));
        let mut compiler = Compiler { child, stdin, replies, python: shown.clone(), timeout: timeout(60) };
        match compiler.reply(timeout(30))? {
            Reply::Ready(facts) => {
                let mut facts = facts.split(' ');
                let (_version, magic, randomized) = (facts.next(), facts.next(), facts.next());
                if magic != Some(python.magic.as_str()) || randomized != Some("0") {
                    return Err(error(format!("started with other settings than expected ({facts:?})")));
                }
                Ok(compiler)
            }
            _ => Err(error("did not say it was ready".into())),
        }
    }

    fn reply(&mut self, timeout: Duration) -> Result<Reply, CompileError> {
        let got = if timeout.is_zero() {
            self.replies.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            self.replies.recv_timeout(timeout)
        };
        let what = match got {
            Ok(Ok(reply)) => return Ok(reply),
            Ok(Err(what)) => what,
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                format!(
                    "did not answer in {} s (`LBUILD_BYTECODE_TIMEOUT` sets the limit, 0 for none)",
                    timeout.as_secs()
                )
            }
            Err(RecvTimeoutError::Disconnected) => "exited".to_string(),
        };
        Err(CompileError { python: self.python.clone(), what })
    }

    /// The pyc of `source`, compiled as file `dfile`; `Ok(None)` with the reason when the source
    /// does not compile (a vendored Python 2 file, say).
    pub fn compile(&mut self, dfile: &str, source: &[u8]) -> Result<Result<Vec<u8>, String>, CompileError> {
        let dfile = dfile.replace(['\t', '\n'], " ");
        let sent = self.stdin.as_mut().map(|stdin| {
            stdin
                .write_all(format!("{dfile}\t{}\n", source.len()).as_bytes())
                .and_then(|()| stdin.write_all(source))
                .and_then(|()| stdin.flush())
        });
        if !matches!(sent, Some(Ok(()))) {
            return Err(CompileError { python: self.python.clone(), what: "stopped reading".into() });
        }
        match self.reply(self.timeout)? {
            Reply::Pyc(pyc) => Ok(Ok(pyc)),
            Reply::Refused(message) => Ok(Err(message)),
            Reply::Ready(_) => Err(CompileError { python: self.python.clone(), what: "said ready twice".into() }),
        }
    }
}

impl Drop for Compiler {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Want, find};
    use super::*;

    #[test]
    fn the_worker_compiles_deterministic_unchecked_hash_pycs() {
        let python = match find(&Want::AnyPython3 { prefer_minor: None }) {
            Ok(python) => python,
            Err(err) => return eprintln!("skipped: no host Python 3 ({err})"),
        };
        let mut first = Compiler::start(&python).unwrap();
        let source = b"X = frozenset({'a', 'b', 'c', 'd'})\ndef f():\n    return X\n";
        let pyc = first.compile("pkg/m.py", source).unwrap().unwrap();
        assert_eq!(crate::cache::hex(&pyc[..4]), python.magic);
        assert_eq!(&pyc[4..8], &[1, 0, 0, 0]);
        let refused = first.compile("old.py", b"print 'hi'\n").unwrap().unwrap_err();
        assert!(refused.starts_with("SyntaxError"), "{refused}");
        // Many files through one worker give the bytes a fresh worker gives.
        for i in 0..50 {
            first.compile(&format!("x{i}.py"), format!("Y{i} = {{'k': ({i}, 'v')}}\n").as_bytes()).unwrap().unwrap();
        }
        let again = first.compile("pkg/m.py", source).unwrap().unwrap();
        let fresh = Compiler::start(&python).unwrap().compile("pkg/m.py", source).unwrap().unwrap();
        assert_eq!(pyc, again);
        assert_eq!(pyc, fresh);
    }
}
