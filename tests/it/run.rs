//! `lbuild run`: a function built, unpacked with its layers and invoked by a host CPython of the
//! runtime's minor. The tests that invoke a handler use the host's `python3` and a runtime of its
//! minor; they skip (with a reason) when there is none.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

/// The minor of the host's `python3`, if it is one lbuild targets.
fn host_minor() -> Option<u32> {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.version_info[1])"]).output().ok()?;
    let minor = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    (out.status.success() && (9..=14).contains(&minor)).then_some(minor)
}

/// The host's architecture, as Lambda names it.
fn host_arch() -> &'static str {
    if cfg!(target_arch = "aarch64") { "arm64" } else { "x86_64" }
}

const APP: &str = r#"import os
import sys

import helpers
import pkgmod


def handler(event, context):
    print("a log line from the handler")
    return {
        "wheel": pkgmod.VALUE,
        "layer": helpers.H,
        "name": event["name"],
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "env_name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "execution_env": os.environ["AWS_EXECUTION_ENV"],
        "handler_env": os.environ["_HANDLER"],
        "extra": os.environ.get("EXTRA"),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "cwd_is_task_root": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"],
        "path": sys.path[:3],
    }


def boom(event, context):
    raise ValueError("boom: " + event.get("why", "no reason"))


def unserializable(event, context):
    return {"a set": {1, 2}}


def slow(event, context):
    import time

    time.sleep(30)
"#;

fn manifest(minor: u32, functions: &str) -> String {
    format!(
        r#"[workspace]
index-url = "{{index}}"
runtime = "python3.{minor}"
architectures = ["{arch}"]

[layer.shared]
source = "layer_src"
{functions}"#,
        arch = host_arch()
    )
}

const ONE_FUNCTION: &str = r#"
[function.api]
source = "src"
handler = "app.handler"
requirements = ["pkgmod"]
layers = ["shared"]
"#;

const FUNCTIONS: &str = r#"
[function.api]
source = "src"
handler = "app.handler"
requirements = ["pkgmod"]
layers = ["shared"]

[function.fails]
source = "src"
handler = "app.boom"
requirements = ["pkgmod"]
layers = ["shared"]

[function.sets]
source = "src"
handler = "app.unserializable"
requirements = ["pkgmod"]
layers = ["shared"]

[function.slow]
source = "src"
handler = "app.slow"
requirements = ["pkgmod"]
layers = ["shared"]

[function.bare]
source = "src"
handler = "app.handler"
"#;

fn setup(minor: u32, functions: &str) -> (FakeIndex, Workspace) {
    let scenario = Scenario::from_packages([
        PackageSpec::new("pkgmod", "1.0").file("pkgmod/__init__.py", "VALUE = 'from-the-wheel'\n")
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, &manifest(minor, functions));
    fs_err::create_dir_all(workspace.path().join("src")).unwrap();
    fs_err::write(workspace.path().join("src/app.py"), APP).unwrap();
    fs_err::create_dir_all(workspace.path().join("layer_src")).unwrap();
    fs_err::write(workspace.path().join("layer_src/helpers.py"), "H = 'from-the-layer'\n").unwrap();
    (index, workspace)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("not JSON ({err}):\n{text}"))
}

#[test]
fn a_handler_imports_from_its_wheels_and_its_layer_and_sees_the_event_and_the_context() {
    let Some(minor) = host_minor() else { return eprintln!("skipping: no host python3 of a Lambda minor") };
    let (_index, workspace) = setup(minor, ONE_FUNCTION);
    fs_err::write(workspace.path().join("event.json"), r#"{"name": "from-the-event"}"#).unwrap();
    let run = workspace.run(&["run", "--event", "event.json", "--env", "EXTRA=set by --env"]).ok();
    // stdout is the result alone; the handler's print is a log line on stderr.
    let result = json(&run.stdout);
    assert!(run.stderr.contains("a log line from the handler"), "{}", run.stderr);
    assert!(run.stderr.contains("START RequestId: "), "{}", run.stderr);
    assert!(run.stderr.contains("Built functions/api-"), "it builds first: {}", run.stderr);
    assert_eq!(result["wheel"], "from-the-wheel");
    assert_eq!(result["layer"], "from-the-layer");
    assert_eq!(result["name"], "from-the-event");
    assert_eq!(result["function_name"], "api");
    assert_eq!(result["env_name"], "api");
    assert_eq!(result["memory"], "128");
    assert_eq!(result["handler_env"], "app.handler");
    assert_eq!(result["extra"], "set by --env");
    assert_eq!(result["execution_env"], format!("AWS_Lambda_python3.{minor}"));
    assert_eq!(result["cwd_is_task_root"], true);
    assert!(result["arn"].as_str().unwrap().ends_with(":function:api"), "{result}");
    let remaining = result["remaining"].as_i64().unwrap();
    assert!(remaining > 0 && remaining <= 3000, "{remaining}");
    assert_eq!(result["request_id"].as_str().unwrap().len(), 36, "{result}");
    // Lambda's order: the task root, then the layers' directories.
    let task = result["task_root"].as_str().unwrap().to_string();
    let path: Vec<&str> = result["path"].as_array().unwrap().iter().map(|dir| dir.as_str().unwrap()).collect();
    assert_eq!(path[0], task);
    assert!(path[1].ends_with(&format!("opt/python/lib/python3.{minor}/site-packages")), "{path:?}");
    assert!(path[2].ends_with("opt/python"), "{path:?}");
    // The unpacked zips are gone afterwards.
    assert!(!Path::new(&task).exists(), "`{task}` was left behind");

    // The JSON document, with a longer timeout and the event on stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbuild"))
        .args(["run", "--message-format", "json", "--timeout", "60", "--event", "-"])
        .current_dir(workspace.path())
        .env_remove("LBUILD_INDEX_URL")
        .env("NO_COLOR", "1")
        .env("LBUILD_CACHE_DIR", workspace.cache.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(br#"{"name": "from-stdin"}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let document = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(document["command"], "run");
    assert_eq!(document["success"], true);
    assert_eq!(document["function"], "api");
    assert_eq!(document["target"], format!("python3.{minor}-{}", host_arch()));
    assert!(document["python"].as_str().unwrap().starts_with(&format!("3.{minor}.")), "{document}");
    assert_eq!(document["result"]["name"], "from-stdin");
    assert!(document["result"]["remaining"].as_i64().unwrap() > 3000, "{document}");
    assert!(document["duration_ms"].as_f64().unwrap() >= 0.0, "{document}");
    assert!(document.get("error").is_none(), "{document}");
}

#[test]
fn exceptions_unserializable_results_missing_imports_and_timeouts_give_lambdas_error_shape_and_exit_1() {
    let Some(minor) = host_minor() else { return eprintln!("skipping: no host python3 of a Lambda minor") };
    let (_index, workspace) = setup(minor, FUNCTIONS);
    fs_err::write(workspace.path().join("event.json"), r#"{"why": "it had to"}"#).unwrap();
    let run = workspace.run(&["run", "-p", "fails", "--event", "event.json"]).failed();
    let error = json(&run.stdout);
    assert_eq!(error["errorType"], "ValueError");
    assert_eq!(error["errorMessage"], "boom: it had to");
    let trace = error["stackTrace"].as_array().unwrap();
    assert!(!trace.is_empty(), "{error}");
    // The handler's own frames only, not the driver's.
    assert!(trace.iter().all(|frame| frame.as_str().unwrap().contains("app.py")), "{error}");
    assert!(trace.last().unwrap().as_str().unwrap().contains("in boom"), "{error}");
    // The frames name the unpacked task root, removed afterwards.
    let frame = trace[0].as_str().unwrap();
    let file = frame.split('"').nth(1).unwrap();
    assert!(file.ends_with("/task/app.py"), "{frame}");
    assert!(!Path::new(file).exists(), "`{file}` was left behind");
    assert!(run.stderr.contains("[ERROR] ValueError: boom: it had to"), "{}", run.stderr);
    assert!(run.stderr.contains("`app.boom` of `fails` failed"), "{}", run.stderr);

    let run = workspace.run(&["run", "-p", "fails", "--message-format", "json"]).failed();
    let document = json(&run.stdout);
    assert_eq!(document["success"], false);
    assert_eq!(document["function"], "fails");
    assert_eq!(document["error"]["errorType"], "ValueError");
    assert_eq!(document["error"]["errorMessage"], "boom: no reason");
    assert!(document.get("result").is_none(), "{document}");

    let run = workspace.run(&["run", "-p", "sets"]).failed();
    let error = json(&run.stdout);
    assert_eq!(error["errorType"], "Runtime.MarshalError");
    assert!(error["errorMessage"].as_str().unwrap().starts_with("Unable to marshal response"), "{error}");

    // Only the zips serve imports: without its layer and requirements the module does not import.
    let run = workspace.run(&["run", "-p", "bare"]).failed();
    let error = json(&run.stdout);
    assert_eq!(error["errorType"], "Runtime.ImportModuleError");
    assert_eq!(error["errorMessage"], "Unable to import module 'app': No module named 'helpers'");

    // Past `--timeout`, as Lambda ends it.
    let started = std::time::Instant::now();
    let run = workspace.run(&["run", "-p", "slow", "--timeout", "1"]).failed();
    assert!(started.elapsed() < std::time::Duration::from_secs(25), "{:?}", started.elapsed());
    let error = json(&run.stdout);
    assert_eq!(error["errorType"], "Sandbox.Timedout");
    assert!(error["errorMessage"].as_str().unwrap().ends_with("Task timed out after 1.00 seconds"), "{error}");
}

#[test]
fn the_function_must_be_named_when_there_are_several_and_a_layer_is_not_one() {
    // Nothing is built or run: no Python is needed.
    let (_index, workspace) = setup(11, FUNCTIONS);
    let run = workspace.run(&["run"]).failed();
    assert!(run.stderr.contains("the workspace has 5 functions"), "{}", run.stderr);
    assert!(run.stderr.contains("`lbuild run -p NAME`: `api`, `bare`, `fails`, `sets`, `slow`"), "{}", run.stderr);
    let run = workspace.run(&["run", "-p", "shared"]).failed();
    assert!(run.stderr.contains("`shared` is a layer"), "{}", run.stderr);
    let run = workspace.run(&["run", "-p", "nothing"]).failed();
    assert!(run.stderr.contains("no function or layer is named `nothing`"), "{}", run.stderr);
    let other = if host_arch() == "x86_64" { "arm64" } else { "x86_64" };
    let run = workspace.run(&["run", "-p", "api", "--arch", other]).failed();
    assert!(run.stderr.contains(&format!("function `api` does not deploy on `{other}`")), "{}", run.stderr);
    assert!(!workspace.path().join("target").exists(), "nothing is built for a command that cannot run");
}

#[test]
fn an_event_that_is_not_json_is_an_error_naming_the_file_and_the_line_before_anything_runs() {
    let (_index, workspace) = setup(11, ONE_FUNCTION);
    fs_err::write(workspace.path().join("bad.json"), "{\n  \"name\": \"x\",\n  \"oops\"\n}\n").unwrap();
    let run = workspace.run(&["run", "--event", "bad.json"]).failed();
    assert!(run.stderr.contains("the event file `bad.json` is not valid JSON"), "{}", run.stderr);
    assert!(run.stderr.contains("at line 4, column 1"), "{}", run.stderr);
    assert!(!workspace.path().join("lambda.lock").exists(), "it locked before checking the event");
    assert!(!workspace.path().join("target").exists(), "it built before checking the event");
    let run = workspace.run(&["run", "--event", "missing.json"]).failed();
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
}

#[test]
fn without_a_python_of_the_runtimes_minor_the_error_says_which_what_was_tried_and_how_to_get_one() {
    let (_index, workspace) = setup(11, ONE_FUNCTION);
    let fake = tempfile::tempdir().unwrap();
    let empty = fake.path().join("empty");
    fs_err::create_dir_all(&empty).unwrap();
    let empty = empty.display().to_string();
    let pairs = [
        ("PATH", empty.as_str()),
        ("PYENV_ROOT", empty.as_str()),
        ("UV_PYTHON_INSTALL_DIR", empty.as_str()),
        ("LBUILD_PYTHON", "/nonexistent/python3.11"),
    ];
    let run = workspace.run_env(&["run"], &pairs).failed();
    assert!(run.stderr.contains("needs a host `python3.11`"), "{}", run.stderr);
    assert!(run.stderr.contains("no CPython 3.11 was found"), "{}", run.stderr);
    assert!(run.stderr.contains("/nonexistent/python3.11"), "{}", run.stderr);
    assert!(run.stderr.contains("uv python install 3.11"), "{}", run.stderr);
    assert!(run.stderr.contains("LBUILD_PYTHON"), "{}", run.stderr);

    // An interpreter of another minor is passed over, and said so.
    let wrong = fake.path().join("python");
    fs_err::write(
        &wrong,
        "#!/bin/sh\nprintf 'lbuild-probe-1\\t3.12.1\\tcpython\\tcb0d0d0a\\tcpython-312\\t0\\t/usr/bin/python3.12\\n'\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(&wrong, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let wrong = wrong.display().to_string();
    let pairs = [
        ("PATH", empty.as_str()),
        ("PYENV_ROOT", empty.as_str()),
        ("UV_PYTHON_INSTALL_DIR", empty.as_str()),
        ("LBUILD_PYTHON", wrong.as_str()),
    ];
    let run = workspace.run_env(&["run"], &pairs).failed();
    assert!(run.stderr.contains("is CPython 3.12.1"), "{}", run.stderr);
    assert!(run.stderr.contains("uv python install 3.11"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
