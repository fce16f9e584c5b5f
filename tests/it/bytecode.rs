//! `bytecode = true`: pycs compiled by the runtime's CPython minor into function and layer zips.
//! These tests use the host's `python3` and a runtime of its minor; they skip (with a reason)
//! when there is none.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario, zip_entries};
use crate::{Api, Workspace};

/// The host `python3` and its minor.
fn host_python() -> Option<(PathBuf, u32)> {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.version_info[1])"]).output().ok()?;
    let minor = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    (out.status.success() && (9..=14).contains(&minor)).then(|| (PathBuf::from("python3"), minor))
}

fn scenario() -> Scenario {
    Scenario::from_packages([PackageSpec::new("pkgmod", "1.0")
        .file("pkgmod/__init__.py", "VALUE = 'from-source'\n")
        .file("pkgmod/old.py", "print 'python 2'\n")])
}

fn manifest(minor: u32, extra: &str) -> String {
    format!(
        r#"[workspace]
index-url = "{{index}}"
runtime = "python3.{minor}"
architectures = ["x86_64"]
{extra}

[layer.shared]
source = "layer_src"

[function.api]
source = "src"
handler = "app.handler"
requirements = ["pkgmod"]
layers = ["shared"]
"#
    )
}

fn setup(index: &FakeIndex, minor: u32, extra: &str) -> Workspace {
    let workspace = Workspace::new(index, Api::Simple, &manifest(minor, extra));
    fs_err::create_dir_all(workspace.path().join("src")).unwrap();
    fs_err::write(workspace.path().join("src/app.py"), "def handler(event, context):\n    return 1\n").unwrap();
    fs_err::create_dir_all(workspace.path().join("layer_src/helpers")).unwrap();
    fs_err::write(workspace.path().join("layer_src/helpers/__init__.py"), "H = 2\n").unwrap();
    workspace
}

fn zips(workspace: &Workspace, minor: u32) -> (PathBuf, PathBuf) {
    let out = workspace.path().join("target/lambda");
    (
        out.join(format!("functions/api-python3.{minor}-x86_64.zip")),
        out.join(format!("layers/shared-python3.{minor}-x86_64.zip")),
    )
}

fn unzip_to(zip: &Path, dir: &Path) {
    for (name, bytes) in zip_entries(zip) {
        if name.ends_with('/') {
            continue;
        }
        let path = dir.join(&name);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, bytes).unwrap();
    }
}

#[test]
fn pycs_sit_beside_sources_and_are_what_python_imports() {
    let Some((python, minor)) = host_python() else { return eprintln!("skipping: no host python3") };
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index, minor, "bytecode = true");
    let run = workspace.run(&["build", "-v"]).ok();
    assert!(run.stderr.contains("Compiled"), "{}", run.stderr);
    assert!(run.stderr.contains("1 skipped"), "{}", run.stderr);
    assert!(run.stderr.contains("pkgmod/old.py (SyntaxError"), "{}", run.stderr);
    let (function, layer) = zips(&workspace, minor);
    let entries = zip_entries(&function);
    let tag = format!("cpython-3{minor}");
    for pyc in [format!("app.{tag}.pyc"), format!("pkgmod/__pycache__/__init__.{tag}.pyc")] {
        let pyc = if pyc.starts_with("app") { format!("__pycache__/{pyc}") } else { pyc };
        let bytes = entries.get(&pyc).unwrap_or_else(|| panic!("{pyc} missing: {:?}", entries.keys()));
        assert_eq!(&bytes[4..8], &[1, 0, 0, 0], "{pyc} is not an unchecked-hash pyc");
    }
    // A file that does not compile is left without a pyc, not fatal.
    assert!(entries.contains_key("pkgmod/old.py"));
    assert!(!entries.contains_key(&format!("pkgmod/__pycache__/old.{tag}.pyc")));
    let layer_entries = zip_entries(&layer);
    let layer_pyc = format!("python/helpers/__pycache__/__init__.{tag}.pyc");
    assert_eq!(&layer_entries[&layer_pyc][4..8], &[1, 0, 0, 0]);

    // Unzipped read-only, Python imports the pycs: an unchecked pyc is trusted without reading
    // the source, so a source edited after unzipping does not change what is imported.
    let dir = tempfile::tempdir().unwrap();
    unzip_to(&function, dir.path());
    fs_err::write(dir.path().join("pkgmod/__init__.py"), "VALUE = 'edited'\n").unwrap();
    let before = crate::support::files_under(dir.path()).len();
    let script =
        "import sys; sys.path.insert(0, '.'); import pkgmod, app; print(pkgmod.VALUE); print(pkgmod.__cached__)";
    let out = Command::new(&python).args(["-I", "-S", "-B", "-c", script]).current_dir(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("from-source\n"), "{stdout}");
    assert!(stdout.contains(&format!("pkgmod/__pycache__/__init__.{tag}.pyc")), "{stdout}");
    assert_eq!(crate::support::files_under(dir.path()).len(), before, "importing wrote files");
}

#[test]
fn builds_are_reproducible_toggling_rebuilds_and_a_warm_cache_needs_no_python() {
    let Some((_, minor)) = host_python() else { return eprintln!("skipping: no host python3") };
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let first = setup(&index, minor, "bytecode = true");
    first.run(&["build"]).ok();
    let second = setup(&index, minor, "bytecode = true");
    second.run(&["build"]).ok();
    let (a, _) = zips(&first, minor);
    let (b, _) = zips(&second, minor);
    assert_eq!(fs_err::read(&a).unwrap(), fs_err::read(&b).unwrap(), "two empty-cache builds differ");

    // Off: rebuilt, without pycs.
    first.write_manifest(&manifest(minor, "bytecode = false"));
    let run = first.run(&["build"]).ok();
    assert!(run.stderr.contains("2 written"), "{}", run.stderr);
    assert!(!zip_entries(&a).keys().any(|name| name.ends_with(".pyc")));
    // On again: the cache holds every pyc, so no Python is needed (none is on PATH).
    first.write_manifest(&manifest(minor, "bytecode = true"));
    let empty = tempfile::tempdir().unwrap();
    let empty_path = empty.path().display().to_string();
    let env = [
        ("PATH", empty_path.as_str()),
        ("PYENV_ROOT", empty_path.as_str()),
        ("UV_PYTHON_INSTALL_DIR", empty_path.as_str()),
        ("LBUILD_PYTHON", ""),
    ];
    let run = first.run_env(&["build"], &env).ok();
    assert!(run.stderr.contains("cached"), "{}", run.stderr);
    assert_eq!(fs_err::read(&a).unwrap(), fs_err::read(&b).unwrap());
}

#[test]
fn without_the_runtimes_python_nothing_is_written_and_the_error_says_what_to_do() {
    let Some((_, minor)) = host_python() else { return eprintln!("skipping: no host python3") };
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index, minor, "bytecode = true");
    // A python of another minor through LBUILD_PYTHON, and nothing else to find.
    let other = if minor == 12 { 11 } else { 12 };
    let fake = tempfile::tempdir().unwrap();
    let wrong = fake.path().join("python");
    fs_err::write(
        &wrong,
        format!("#!/bin/sh\nprintf 'lbuild-probe-1\\t3.{other}.1\\tcpython\\tcb0d0d0a\\tcpython-3{other}\\t0\\t/usr/bin/python3.{other}\\n'\n"),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(&wrong, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let empty = fake.path().join("empty");
    fs_err::create_dir_all(&empty).unwrap();
    let empty = empty.display().to_string();
    let wrong = wrong.display().to_string();
    let env = [
        ("PATH", empty.as_str()),
        ("PYENV_ROOT", empty.as_str()),
        ("UV_PYTHON_INSTALL_DIR", empty.as_str()),
        ("LBUILD_PYTHON", wrong.as_str()),
    ];
    // Lock first (it needs no Python), then build.
    workspace.run(&["lock"]).ok();
    let run = workspace.run_env(&["build"], &env).failed();
    assert!(
        run.stderr.contains(&format!("`function.api` on python3.{minor}-x86_64 has `bytecode = true`")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&format!("is CPython 3.{other}.1")), "{}", run.stderr);
    assert!(run.stderr.contains("bytecode = false"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("uv python install 3.{minor}")), "{}", run.stderr);
    assert!(!workspace.path().join("target/lambda/manifest.json").exists());
}
