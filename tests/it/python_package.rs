//! lbuild as a Python package (`pyproject.toml`, maturin `bindings = "bin"`): the wheel that
//! `.ci/run` builds into `LBUILD_TEST_WHEEL` installs with pip into a fresh virtual environment
//! and runs with `uv tool run` (what `uvx` is), and the installed `lbuild` locks a workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace, run_program, tool_or_skip};

/// The wheel `.ci/run` built, or `None` (with the reason printed) outside CI.
fn wheel_or_skip() -> Option<PathBuf> {
    match std::env::var_os("LBUILD_TEST_WHEEL") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            assert!(std::env::var_os("CI").is_none(), "CI must build lbuild's wheel into LBUILD_TEST_WHEEL (.ci/run)");
            eprintln!("skipping: LBUILD_TEST_WHEEL is not set (`.ci/run` builds the wheel with maturin)");
            None
        }
    }
}

fn check(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|err| panic!("{command:?}: {err}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command:?} failed:\n{stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn scripts(venv: &Path) -> PathBuf {
    if cfg!(windows) { venv.join("Scripts") } else { venv.join("bin") }
}

#[test]
fn the_wheel_installs_with_pip_and_uvx_and_the_installed_lbuild_locks() {
    let Some(wheel) = wheel_or_skip() else { return };
    let Some(python) = tool_or_skip("python3") else { return };
    assert!(wheel.is_file(), "{} is not a file", wheel.display());
    let version = format!("lbuild {}", env!("CARGO_PKG_VERSION"));

    // pip, into a fresh venv, from the wheel alone (it has no dependencies).
    let home = tempfile::tempdir().unwrap();
    let venv = home.path().join("venv");
    check(Command::new(&python).args(["-m", "venv"]).arg(&venv));
    check(
        Command::new(scripts(&venv).join("python"))
            .args(["-m", "pip", "install", "--quiet", "--no-index", "--disable-pip-version-check"])
            .arg(&wheel),
    );
    let installed = scripts(&venv).join(if cfg!(windows) { "lbuild.exe" } else { "lbuild" });
    let out = check(Command::new(&installed).arg("--version"));
    assert!(out.starts_with(&version), "{out}");

    // The installed binary does lbuild's job.
    let index = FakeIndex::start(
        &Scenario::from_packages([PackageSpec::new("six", "1.17.0"), PackageSpec::new("app-dep", "2.0").dep("six")]),
        IndexOptions::default(),
    );
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\n\n[function.api]\nrequirements = [\"app-dep\"]\n",
    );
    let cache = home.path().join("cache");
    let cache = cache.to_str().unwrap();
    let run = run_program(&installed, workspace.path(), &["lock"], &[("LBUILD_CACHE_DIR", cache)]);
    assert!(run.success, "{}", run.stderr);
    assert_eq!(workspace.lock().version("six", "python3.12-arm64"), "1.17.0");
    let run = run_program(&installed, workspace.path(), &["build", "--locked"], &[("LBUILD_CACHE_DIR", cache)]);
    assert!(run.success, "{}", run.stderr);
    assert!(workspace.path().join("target/lambda/functions/api-python3.12-x86_64.zip").is_file(), "{}", run.stderr);

    // `uvx --from <wheel> lbuild`, offline: uv's tool environment from the wheel alone.
    let Some(uv) = tool_or_skip("uv") else { return };
    let out = check(
        Command::new(uv)
            .args(["tool", "run", "--offline", "--from"])
            .arg(&wheel)
            .args(["lbuild", "--version"])
            .env("UV_CACHE_DIR", home.path().join("uv-cache"))
            .env("UV_TOOL_DIR", home.path().join("uv-tools"))
            .env("UV_TOOL_BIN_DIR", home.path().join("uv-bin")),
    );
    assert!(out.starts_with(&version), "{out}");
}
