//! `lbuild run`: invoke one function's handler locally, from the zips of the last build, the way
//! Lambda's Python runtime would: the function zip unpacked as the task root, its layers' zips
//! (in order) as `/opt`, a host CPython of the runtime's minor with `sys.path` in Lambda's order,
//! Lambda's environment variables, a context object, one event, and the result or Lambda's error
//! document. On the command line `lbuild run` builds the function first (`main.rs` calls `build`,
//! then this), so the zips are those `lbuild build` writes.
//!
//! The invocation itself is a Python script (`python_host::INVOKE_DRIVER`) run with `-I -S`: no
//! `PYTHON*` variables, no user or site packages of the host, so an import the zips cannot serve
//! fails here as it would on Lambda.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::manifest::{MemberKind, Workspace};
use crate::outdir::{Artifact, BuildManifest};
use crate::output::warn_user;
use crate::platform::{Architecture, Runtime, target_name};
use crate::python_host::{INVOKE_DRIVER, Want, find};
use crate::session::GlobalOptions;

/// What `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` and the context say (Lambda's default).
pub const MEMORY_MB: u32 = 128;
/// The default `--timeout`, Lambda's default (seconds).
pub const DEFAULT_TIMEOUT_SECS: u64 = 3;
/// Lambda's longest timeout (seconds).
pub const MAX_TIMEOUT_SECS: u64 = 900;
/// How long importing the handler's module may take on top of the timeout before lbuild stops
/// the interpreter (Lambda gives a function's init 10 s).
const INIT_ALLOWANCE: Duration = Duration::from_secs(10);
/// The environment variables passed through to the function when they are set: credentials and
/// the settings the AWS SDKs read.
const PASSED_THROUGH: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
];

/// Options of `lbuild run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub global: GlobalOptions,
    /// `-p NAME`: the function (required when the workspace has several).
    pub package: Option<String>,
    /// `--arch`: the target's architecture (default: the host's, if the function deploys on it).
    pub arch: Option<Architecture>,
    pub out_dir: Option<PathBuf>,
    /// The event, JSON text already checked by [`read_event`].
    pub event: String,
    /// `--timeout` (seconds).
    pub timeout_secs: u64,
    /// `--env KEY=VALUE`: set in the function's environment, over lbuild's own.
    pub env: Vec<(String, String)>,
}

/// What `lbuild run` reports: the result, or Lambda's error document.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub function: String,
    /// `python3.12-x86_64`.
    pub target: String,
    /// The host CPython that ran it, `3.12.7`.
    pub python: String,
    /// Its path.
    pub interpreter: PathBuf,
    pub handler: String,
    pub request_id: Option<String>,
    /// The handler's return value (absent on an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// The result as Python serialized it, what Lambda would return (absent on an error).
    #[serde(skip)]
    pub result_text: Option<String>,
    /// `{"errorMessage", "errorType", "requestId", "stackTrace"}`, as Lambda answers a failed invocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
    /// The handler's own time, without starting Python and importing its module.
    pub duration_ms: f64,
}

/// Read the event of `--event`: a file, `-` for stdin, or `{}` without one. It must be one JSON
/// document; an error names the file and the line and column.
pub fn read_event(source: Option<&Path>) -> miette::Result<String> {
    let (text, name) = match source {
        None => return Ok("{}".to_string()),
        Some(path) if path == Path::new("-") => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                .map_err(|err| miette::miette!("cannot read the event from stdin: {err}"))?;
            (bytes, "the event on stdin".to_string())
        }
        Some(path) => {
            let bytes = fs_err::read(path).map_err(|err| {
                miette::miette!(help = "`--event` takes a JSON file, or `-` to read the event from stdin", "{err}")
            })?;
            (bytes, format!("the event file `{}`", path.display()))
        }
    };
    let text = String::from_utf8(text)
        .map_err(|_| miette::miette!(help = "an event is JSON, which is UTF-8 text", "{name} is not UTF-8 text"))?;
    // A byte order mark is not JSON; an editor may still write one.
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
        miette::bail!(
            help = "an event is one JSON document, such as `{}` or `{\"key\": \"value\"}`",
            "{name} is not valid JSON: {} at line {}, column {}",
            describe_json_error(&err),
            err.line(),
            err.column()
        );
    }
    Ok(text)
}

/// serde_json's message without its own ` at line L column C`.
fn describe_json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The function and architecture `lbuild run` would invoke: `main.rs` builds exactly that first.
pub fn run_target(options: &RunOptions) -> miette::Result<(String, Architecture)> {
    let workspace = crate::output::quietly(|| options.global.workspace())?;
    let (function, architecture, _) = choose(&workspace, options)?;
    Ok((function, architecture))
}

/// The function, the architecture and the runtime, as [`run_target`] says.
fn choose(workspace: &Workspace, options: &RunOptions) -> miette::Result<(String, Architecture, Runtime)> {
    let name = choose_function(workspace, options.package.as_deref())?;
    let function = workspace.functions.iter().find(|function| function.name == name).expect("chosen");
    let targets = workspace.function_targets(function);
    let runtime = targets.first().map(|(runtime, _)| *runtime).unwrap_or(workspace.runtime);
    let available: Vec<Architecture> = targets.iter().map(|(_, architecture)| *architecture).collect();
    let architecture = choose_arch(&available, options.arch, host_architecture())
        .map_err(|(message, help)| miette::miette!(help = help, "function `{name}` {message}"))?;
    Ok((name, architecture, runtime))
}

/// `-p NAME`, checked to be a function, or the only function.
fn choose_function(workspace: &Workspace, package: Option<&str>) -> miette::Result<String> {
    let names: Vec<String> = workspace.functions.iter().map(|function| format!("`{}`", function.name)).collect();
    match package {
        Some(name) => {
            let member = crate::plan::find_member(workspace, name)?;
            if member.kind == MemberKind::Layer {
                miette::bail!(
                    help = format!("`lbuild run -p` takes a function: {}", names.join(", ")),
                    "`{name}` is a layer; `lbuild run` invokes a function, with its layers"
                );
            }
            Ok(member.name)
        }
        None => match workspace.functions.as_slice() {
            [only] => Ok(only.name.clone()),
            [] => miette::bail!(
                help = "add a `[function.NAME]` with a `handler` to lambda.toml",
                "the workspace has no function to run"
            ),
            _ => miette::bail!(
                help = format!("choose one with `lbuild run -p NAME`: {}", names.join(", ")),
                "the workspace has {} functions; `lbuild run` invokes one",
                names.len()
            ),
        },
    }
}

/// The architecture of the machine lbuild runs on, if Lambda has it.
fn host_architecture() -> Option<Architecture> {
    match std::env::consts::ARCH {
        "x86_64" => Some(Architecture::X86_64),
        "aarch64" => Some(Architecture::Arm64),
        _ => None,
    }
}

/// `--arch` if the function deploys on it, else the host's if it does, else its only one.
/// `Err((message, help))` otherwise.
fn choose_arch(
    available: &[Architecture],
    requested: Option<Architecture>,
    host: Option<Architecture>,
) -> Result<Architecture, (String, String)> {
    let listed = || available.iter().map(|arch| format!("`{arch}`")).collect::<Vec<_>>().join(" and ");
    match requested {
        Some(arch) if available.contains(&arch) => Ok(arch),
        Some(arch) => Err((
            format!("does not deploy on `{arch}`"),
            format!("its architectures are {}; pass one of them to `--arch`, or leave `--arch` out", listed()),
        )),
        None => match (host, available) {
            (Some(host), _) if available.contains(&host) => Ok(host),
            (_, [only]) => Ok(*only),
            _ => Err((
                format!("deploys on {}, and this machine is neither", listed()),
                "choose the zip to run with `--arch`".to_string(),
            )),
        },
    }
}

/// A handler as Lambda's runtime reads it: the module (a path's `/` read as `.`) and the
/// function, split at the last `.`.
fn parse_handler(handler: &str) -> Result<(String, String), String> {
    let Some((module, function)) = handler.rsplit_once('.') else {
        return Err(format!("`{handler}` has no `.` between the module and the function"));
    };
    let module = module.replace('/', ".");
    if module.is_empty() || function.is_empty() || module.split('.').any(str::is_empty) {
        return Err(format!("`{handler}` is not `module.function` (or `package/module.function`)"));
    }
    Ok((module, function.to_string()))
}

/// Run `lbuild run`: invoke the handler of the chosen function in the zips of the last build.
pub fn run(options: &RunOptions) -> miette::Result<RunReport> {
    // Its warnings were said by the build before it.
    let workspace = crate::output::quietly(|| options.global.workspace())?;
    let (name, architecture, runtime) = choose(&workspace, options)?;
    let target = target_name(runtime, architecture);
    let out_dir = crate::outdir::location(&workspace.root, options.out_dir.as_deref());
    let Some(manifest) = BuildManifest::read(&out_dir)? else {
        miette::bail!(help = "run `lbuild build -p {name}` first", "there is no build in `{}`", out_dir.display());
    };
    let find_zip = |kind: &str, member: &str| {
        manifest.artifacts.iter().find(|artifact| {
            artifact.kind == kind
                && artifact.name == member
                && artifact.runtime == runtime.name
                && artifact.architecture == architecture.as_str()
        })
    };
    let Some(function) = find_zip("function", &name) else {
        miette::bail!(
            help = format!("run `lbuild build -p {name} --arch {architecture}`"),
            "the build in `{}` has no zip of function `{name}` for {target}",
            out_dir.display()
        );
    };
    let Some(handler) = function.handler.clone() else {
        miette::bail!(
            help = "set `handler` in its `[function.NAME]` of lambda.toml, e.g. `handler = \"app.handler\"`",
            "function `{name}` has no handler to invoke"
        );
    };
    let (module, entry) = parse_handler(&handler).map_err(|why| {
        miette::miette!(help = "a handler is `module.function`, e.g. `app.handler`", "function `{name}`: {why}")
    })?;
    let mut layers = Vec::new();
    for layer in function.layers.iter().flatten() {
        match find_zip("layer", layer) {
            Some(zip) => layers.push(zip),
            None => miette::bail!(
                help = format!("run `lbuild build -p {name} --arch {architecture}`"),
                "the build in `{}` has no zip of layer `{layer}` for {target}, which function `{name}` uses",
                out_dir.display()
            ),
        }
    }
    if !function.external_layers.is_empty() {
        // lbuild never has their contents; what they provide is not in the zips either.
        warn_user!(
            "function `{name}` deploys with external layers that `lbuild run` cannot unpack ({}): importing what \
             they provide fails here",
            function.external_layers.join(", ")
        );
    }
    if host_architecture() != Some(architecture) {
        warn_user!(
            "running the {architecture} zip of `{name}` on a {} machine: pure Python runs, but compiled \
             extensions built for {architecture} will not load",
            std::env::consts::ARCH
        );
    }
    if !cfg!(target_os = "linux") {
        warn_user!(
            "running `{name}` on {}: the zips hold Linux wheels, whose compiled extensions load only on Linux",
            std::env::consts::OS
        );
    }

    let python = find(&Want::Minor(runtime.minor)).map_err(|err| {
        miette::miette!(
            help = err.help(),
            "function `{name}` runs on {}, so `lbuild run` needs a host `python3.{}`; {err}",
            runtime.name,
            runtime.minor
        )
    })?;

    let dir = tempfile::Builder::new()
        .prefix("lbuild-run-")
        .tempdir()
        .map_err(|err| miette::miette!("cannot create a temporary directory: {err}"))?;
    let task = dir.path().join("task");
    let opt = dir.path().join("opt");
    for path in [&task, &opt] {
        fs_err::create_dir_all(path).map_err(|err| miette::miette!("{err}"))?;
    }
    unpack(&out_dir, function, &task)?;
    for layer in &layers {
        unpack(&out_dir, layer, &opt)?;
    }

    let site_packages = opt.join(format!("python/lib/python3.{}/site-packages", runtime.minor));
    let path = [task.clone(), site_packages, opt.join("python")];
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_string());
    let config = serde_json::json!({
        "module": module,
        "function": entry,
        "event_path": dir.path().join("event.json"),
        "path": path,
        "timeout_s": options.timeout_secs,
        "function_name": name,
        "function_version": "$LATEST",
        "invoked_function_arn": format!("arn:aws:lambda:{region}:000000000000:function:{name}"),
        "memory_mb": MEMORY_MB,
        "log_group_name": format!("/aws/lambda/{name}"),
    });
    let write =
        |file: &str, bytes: &[u8]| fs_err::write(dir.path().join(file), bytes).map_err(|err| miette::miette!("{err}"));
    write("event.json", options.event.as_bytes())?;
    write("invoke.json", config.to_string().as_bytes())?;
    write("lbuild_invoke.py", INVOKE_DRIVER.as_bytes())?;
    let result_path = dir.path().join("result.json");

    // The interpreter itself, not a shim (pyenv's reads the environment and the directory).
    let interpreter = if python.executable.as_os_str().is_empty() { &python.path } else { &python.executable };
    let mut cmd = Command::new(interpreter);
    cmd.args(["-I", "-S", "-B"])
        .arg(dir.path().join("lbuild_invoke.py"))
        .arg(dir.path().join("invoke.json"))
        .arg(&result_path)
        .current_dir(&task)
        .env_clear()
        .envs(lambda_environment(&name, runtime, &handler, &region, &task, &opt, &path))
        .envs(options.env.iter().map(|(key, value)| (key.as_str(), value.as_str())));
    crate::output::debug!(
        "running `{handler}` of `{name}` with {} (CPython {})",
        interpreter.display(),
        python.version
    );
    let what = format!("`{handler}` of `{name}`");
    let started = Instant::now();
    let answer = invoke(cmd, &result_path, &what, options.timeout_secs)?;
    let answer: serde_json::Value = serde_json::from_str(&answer)
        .map_err(|err| miette::miette!("the invocation's answer is not JSON ({err}); this is a bug in lbuild"))?;
    let duration_ms = answer["duration_ms"].as_f64().unwrap_or_else(|| started.elapsed().as_secs_f64() * 1000.0);
    let request_id = answer["request_id"].as_str().map(str::to_string);
    let (result, result_text, error) = match (answer.get("result").and_then(|text| text.as_str()), answer.get("error"))
    {
        (Some(text), _) => {
            let value = serde_json::from_str(text)
                .map_err(|err| miette::miette!("the handler's result does not read back as JSON: {err}"))?;
            (Some(value), Some(text.to_string()), None)
        }
        (None, Some(error)) => (None, None, Some(error.clone())),
        (None, None) => {
            miette::bail!("the invocation's answer has neither a result nor an error; this is a bug in lbuild")
        }
    };
    Ok(RunReport {
        function: name,
        target,
        python: python.version.clone(),
        interpreter: interpreter.clone(),
        handler,
        request_id,
        result,
        result_text,
        error,
        duration_ms,
    })
}

/// Run the driver `cmd` to its end and read its answer from `result_path`; `what` names the
/// handler in errors.
fn invoke(mut cmd: Command, result_path: &Path, what: &str, timeout_secs: u64) -> miette::Result<String> {
    // The handler's prints are logs: on stderr, so that stdout holds only the result.
    cmd.stdin(Stdio::null()).stdout(Stdio::from(std::io::stderr())).stderr(Stdio::inherit());
    let interrupts = Interrupts::hand_to_child();
    let started = Instant::now();
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd.spawn().map_err(|err| miette::miette!("cannot start `{program}`: {err}"))?;
    // The driver stops a handler at its timeout; this stops an interpreter that cannot.
    let limit = Duration::from_secs(timeout_secs) + INIT_ALLOWANCE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            // The first Ctrl-C interrupted the handler; a second one is for lbuild.
            Ok(None) if interrupts.count() >= 2 => {
                let _ = child.kill();
                let _ = child.wait();
                miette::bail!("interrupted while {what} ran");
            }
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                miette::bail!(
                    help = "a module that takes long to import counts too; raise `--timeout` if it must",
                    "{what} did not finish within {timeout_secs} s (the timeout, plus {} s to import it); lbuild \
                     stopped it",
                    INIT_ALLOWANCE.as_secs()
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(err) => miette::bail!("cannot wait for `{program}`: {err}"),
        }
    };
    drop(interrupts);
    match fs_err::read_to_string(result_path) {
        Ok(text) => Ok(text),
        Err(_) => miette::bail!(
            help = "the handler or a module it imports ended the interpreter (`os._exit`, a crash in compiled \
                    code); its output is above",
            "{what} gave no answer: the interpreter exited with {status}"
        ),
    }
}

/// How many Ctrl-Cs lbuild received since [`Interrupts::hand_to_child`].
static INTERRUPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// While the handler runs, Ctrl-C belongs to it: the interpreter, in lbuild's process group,
/// gets the signal and reports a `KeyboardInterrupt` as Lambda's runtime reports any exception,
/// and lbuild lives on to remove the temporary directory. A second Ctrl-C stops the interpreter.
/// The previous disposition comes back on drop.
struct Interrupts {
    #[cfg(unix)]
    previous: libc::sighandler_t,
}

impl Interrupts {
    fn hand_to_child() -> Interrupts {
        INTERRUPTS.store(0, std::sync::atomic::Ordering::SeqCst);
        #[cfg(unix)]
        {
            extern "C" fn count(_: libc::c_int) {
                INTERRUPTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            // SAFETY: signal(2) installs a handler that only increments an atomic, which is
            // async-signal-safe; `exec` resets a caught signal to its default in the child.
            let previous =
                unsafe { libc::signal(libc::SIGINT, count as extern "C" fn(libc::c_int) as libc::sighandler_t) };
            Interrupts { previous }
        }
        #[cfg(not(unix))]
        Interrupts {}
    }

    fn count(&self) -> usize {
        INTERRUPTS.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: puts back the disposition `hand_to_child` replaced.
        unsafe {
            libc::signal(libc::SIGINT, self.previous);
        }
    }
}

/// Unpack a zip of the build, checked against the sha256 `manifest.json` gives (another build
/// may have replaced it since).
fn unpack(out_dir: &Path, artifact: &Artifact, dest: &Path) -> miette::Result<()> {
    let path = out_dir.join(&artifact.path);
    let bytes = fs_err::read(&path).map_err(|err| miette::miette!(help = "run `lbuild build`", "{err}"))?;
    if crate::cache::hex(&Sha256::digest(&bytes)) != artifact.sha256 {
        miette::bail!(
            help = "another build may have replaced it; run `lbuild run` again",
            "`{}` is not the zip `manifest.json` describes (its sha256 differs)",
            path.display()
        );
    }
    crate::zipio::extract(&path, &format!("`{}`", artifact.path), dest).map_err(|err| miette::miette!("{err}"))?;
    Ok(())
}

/// The environment Lambda gives a Python function, with the task root and `/opt` where they are
/// unpacked, and the caller's AWS credentials and settings.
fn lambda_environment(
    name: &str,
    runtime: Runtime,
    handler: &str,
    region: &str,
    task: &Path,
    opt: &Path,
    path: &[PathBuf],
) -> Vec<(String, String)> {
    let shown = |path: &Path| path.display().to_string();
    let joined = path.iter().map(|dir| shown(dir)).collect::<Vec<_>>().join(":");
    let mut env: Vec<(String, String)> = [
        ("LAMBDA_TASK_ROOT", shown(task)),
        ("_HANDLER", handler.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", runtime.name)),
        ("AWS_REGION", region.to_string()),
        ("AWS_DEFAULT_REGION", region.to_string()),
        ("TZ", ":UTC".to_string()),
        ("LANG", "en_US.UTF-8".to_string()),
        // What a child Python of the handler sees; the driver sets `sys.path` itself.
        ("PYTHONPATH", joined),
        ("LD_LIBRARY_PATH", format!("{}:{}:{}", shown(task), shown(&task.join("lib")), shown(&opt.join("lib")))),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect();
    // A handler that runs a program, or reads `~/.aws` for `AWS_PROFILE`, needs these.
    for key in ["PATH", "HOME"].iter().chain(PASSED_THROUGH) {
        if let Some(value) = std::env::var_os(key).and_then(|value| value.into_string().ok()) {
            env.push((key.to_string(), value));
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use Architecture::{Arm64, X86_64};

    #[test]
    fn handlers_split_at_the_last_dot_with_paths_read_as_modules() {
        let parsed = |handler: &str| parse_handler(handler).map(|(module, function)| format!("{module} {function}"));
        assert_eq!(parsed("app.handler").unwrap(), "app handler");
        assert_eq!(parsed("pkg/mod.func").unwrap(), "pkg.mod func");
        assert_eq!(parsed("pkg.mod.func").unwrap(), "pkg.mod func");
        assert_eq!(parsed("a/b/c.main").unwrap(), "a.b.c main");
        assert!(parsed("handler").unwrap_err().contains("no `.`"));
        for bad in [".handler", "app.", "pkg//mod.f", "pkg..mod.f"] {
            assert!(parsed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_architecture_is_the_one_asked_for_else_the_hosts_else_the_only_one() {
        let both = [X86_64, Arm64];
        assert_eq!(choose_arch(&both, Some(Arm64), Some(X86_64)), Ok(Arm64));
        assert_eq!(choose_arch(&both, None, Some(Arm64)), Ok(Arm64));
        assert_eq!(choose_arch(&both, None, Some(X86_64)), Ok(X86_64));
        assert_eq!(choose_arch(&[Arm64], None, Some(X86_64)), Ok(Arm64));
        assert_eq!(choose_arch(&[Arm64], None, None), Ok(Arm64));
        let (message, help) = choose_arch(&[Arm64], Some(X86_64), Some(X86_64)).unwrap_err();
        assert_eq!(message, "does not deploy on `x86_64`");
        assert!(help.contains("`arm64`"), "{help}");
        let (message, help) = choose_arch(&both, None, None).unwrap_err();
        assert!(message.contains("`x86_64` and `arm64`"), "{message}");
        assert!(help.contains("--arch"), "{help}");
    }

    #[test]
    fn events_are_checked_and_errors_name_the_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_event(None).unwrap(), "{}");
        let good = dir.path().join("good.json");
        fs_err::write(&good, "\u{feff}{\"a\": [1, 2]}\n").unwrap();
        assert_eq!(read_event(Some(&good)).unwrap(), "{\"a\": [1, 2]}\n");
        let bad = dir.path().join("bad.json");
        fs_err::write(&bad, "{\n  \"a\": 1,\n  \"b\": ]\n}\n").unwrap();
        let err = read_event(Some(&bad)).unwrap_err().to_string();
        assert!(err.contains("bad.json` is not valid JSON"), "{err}");
        assert!(err.contains("at line 3, column 8"), "{err}");
        let missing = read_event(Some(&dir.path().join("missing.json"))).unwrap_err().to_string();
        assert!(missing.contains("missing.json"), "{missing}");
    }
}
