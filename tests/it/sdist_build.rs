//! Wheels built from sdists (issue 12): an sdist on the fake index with an in-tree PEP 517
//! backend (`backend-path`, so no network and no setuptools), built by the host Python.

use crate::support::{IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

/// A `.zip` sdist of `demo 1.0` whose backend writes a wheel tagged `tag` requiring `six`.
pub(crate) fn sdist(tag: &str) -> Vec<u8> {
    sdist_with(tag, "")
}

/// The same, its `build_wheel` running `prelude` (Python, indented four spaces) first.
fn sdist_with(tag: &str, prelude: &str) -> Vec<u8> {
    let backend = format!(
        r#"import os, zipfile
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
{prelude}
    name = "demo-1.0-{tag}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        z.writestr("demo/__init__.py", "x = 1\n")
        z.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: six>=1\n")
        z.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
        z.writestr("demo-1.0.dist-info/RECORD", "")
    return name
"#
    );
    let pyproject = "[build-system]\nrequires = []\nbuild-backend = \"back\"\nbackend-path = [\"_b\"]\n";
    let members = [
        ("demo-1.0/PKG-INFO", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n".to_string()),
        ("demo-1.0/pyproject.toml", pyproject.to_string()),
        ("demo-1.0/_b/back.py", backend),
    ];
    let entries: Vec<_> =
        members.iter().map(|(name, text)| crate::support::rawzip::RawEntry::deflated(name, text.as_bytes())).collect();
    crate::support::rawzip::write_zip(&entries)
}

pub(crate) fn python() -> Option<String> {
    let found =
        std::process::Command::new("python3").arg("-c").arg("import sys; print(sys.executable)").output().ok()?;
    found.status.success().then(|| String::from_utf8_lossy(&found.stdout).trim().to_string())
}

fn setup(tag: &str, settings: &str) -> Option<(crate::support::FakeIndex, Workspace)> {
    setup_sdist(sdist(tag), settings)
}

fn setup_sdist(sdist: Vec<u8>, settings: &str) -> Option<(crate::support::FakeIndex, Workspace)> {
    if python().is_none() {
        eprintln!("skipping: no python3 on PATH to build sdists with");
        return None;
    }
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.16.0")]);
    let index = crate::support::FakeIndex::start(&scenario, IndexOptions::default());
    index.publish_raw_sdist(&PackageSpec::new("demo", "1.0").sdist(), "demo-1.0.zip", sdist);
    let body = format!(
        "[workspace]\nindex-url = \"{{index}}\"\nruntime = \"python3.12\"\n{settings}\n[function.api]\nrequirements = [\"demo\"]\n"
    );
    let workspace = Workspace::new(&index, Api::Simple, &body);
    Some((index, workspace))
}

#[test]
fn a_pure_sdist_is_built_once_for_both_architectures_with_its_dependencies() {
    let Some((_index, workspace)) = setup("py3-none-any", "") else { return };
    let first = workspace.run(&["lock"]).ok();
    assert_eq!(first.stderr.matches("Building demo 1.0 from demo-1.0.zip").count(), 1, "{}", first.stderr);
    assert!(first.stderr.contains("Built demo-1.0-py3-none-any.whl ("), "{}", first.stderr);
    let text = workspace.lock_text();
    assert!(text.starts_with("version = 5") || text.contains("\nversion = 5"), "{text}");
    assert_eq!(text.matches("[package.target.built]").count(), 2, "{text}");
    assert!(text.contains("wheel = \"demo-1.0-py3-none-any.whl\""), "{text}");
    let lock = workspace.lock();
    for target in ["python3.12-x86_64", "python3.12-arm64"] {
        let demo = lock.pin("demo", target).unwrap();
        assert_eq!((demo.gap.as_deref(), demo.dependencies.as_slice()), (None, &["six>=1".to_string()][..]));
        assert_eq!(lock.version("six", target), "1.16.0");
    }
    // A second lock (nothing changed) and a build run no Python: a fake LBUILD_PYTHON would fail.
    let again = workspace.run_env(&["lock", "--locked"], &[("LBUILD_PYTHON", "/nonexistent/python")]).ok();
    assert!(!again.stderr.contains("Building"), "a cached build is not announced: {}", again.stderr);
    workspace.run_env(&["build"], &[("LBUILD_PYTHON", "/nonexistent/python")]).ok();
    let zip = workspace.path().join("target/lambda/api-python3.12-x86_64.zip");
    let zip = if zip.exists() {
        zip
    } else {
        crate::support::files_under(&workspace.path().join("target/lambda"))
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "zip"))
            .expect("a zip")
    };
    let entries = crate::support::zip_entries(&zip);
    assert_eq!(entries.get("demo/__init__.py").map(Vec::as_slice), Some(&b"x = 1\n"[..]));
}

#[test]
fn a_platform_wheel_stays_a_native_code_gap() {
    let Some((_index, workspace)) = setup("cp312-cp312-linux_x86_64", "") else { return };
    let _ = workspace.run(&["lock"]);
    let lock = workspace.lock();
    assert_eq!(lock.pin("demo", "python3.12-x86_64").unwrap().gap.as_deref(), Some("native-code"));
    assert!(workspace.lock_text().contains("builds a wheel with native code (cp312-cp312-linux_x86_64)"));
    let gaps = workspace.run(&["gaps"]);
    assert!(
        gaps.stdout.contains("builds a wheel with native code") && gaps.stdout.contains("manylinux_2_34_x86_64"),
        "{}",
        gaps.stdout
    );
}

#[test]
fn never_and_no_build_keep_the_gap() {
    let Some((_index, workspace)) = setup("py3-none-any", "build-sdists = \"never\"") else { return };
    let _ = workspace.run(&["lock"]);
    assert_eq!(workspace.lock().pin("demo", "python3.12-x86_64").unwrap().gap.as_deref(), Some("only-sdist"));
    assert!(workspace.lock_text().contains("build-sdists = \"never\""));
    let gaps = workspace.run(&["gaps"]);
    assert!(gaps.stdout.contains("remove `build-sdists = \"never\"`"), "{}", gaps.stdout);
    let Some((_index, workspace)) = setup("py3-none-any", "") else { return };
    let _ = workspace.run(&["--no-build", "lock"]);
    assert_eq!(workspace.lock().pin("demo", "python3.12-x86_64").unwrap().gap.as_deref(), Some("only-sdist"));
}

/// Without a usable Python, an sdist-only version stays the gap it was, and the lock says once
/// why and what would fill it.
#[test]
fn without_a_python_the_gap_stays_and_the_lock_says_why_once() {
    let Some((_index, workspace)) = setup("py3-none-any", "") else { return };
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().display().to_string();
    let run = workspace.run_env(
        &["lock"],
        &[
            ("LBUILD_PYTHON", "/nonexistent/python"),
            ("PATH", empty.as_str()),
            ("PYENV_ROOT", empty.as_str()),
            ("UV_PYTHON_INSTALL_DIR", empty.as_str()),
        ],
    );
    assert_eq!(workspace.lock().pin("demo", "python3.12-x86_64").unwrap().gap.as_deref(), Some("only-sdist"));
    assert_eq!(run.stderr.matches("published only as an sdist, which lbuild builds").count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("/nonexistent/python") && run.stderr.contains("uv python install"), "{}", run.stderr);
}

#[test]
fn the_backend_sees_no_credentials_from_the_environment_or_home() {
    // The backend fails the build when it can see any of them.
    let prelude = r#"    leaked = sorted(k for k, v in os.environ.items() if k.startswith(("AWS_", "LBUILD_")) or "s3cr3t" in v)
    home = os.path.expanduser("~")
    if leaked or os.path.exists(os.path.join(home, ".netrc")) or "NETRC" in os.environ:
        raise SystemExit("LEAKED %r home=%s" % (leaked, home))"#;
    let Some((_index, workspace)) = setup_sdist(sdist_with("py3-none-any", prelude), "") else { return };
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(".netrc"), "machine example.com login u password s3cr3t\n").unwrap();
    let home_path = home.path().display().to_string();
    let netrc = home.path().join(".netrc").display().to_string();
    let run = workspace.run_env(
        &["lock"],
        &[
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("AWS_SESSION_TOKEN", "s3cr3t"),
            ("LBUILD_INDEX_PASSWORD", "s3cr3t"),
            ("GITHUB_TOKEN", "s3cr3t"),
            ("HOME", home_path.as_str()),
            ("NETRC", netrc.as_str()),
        ],
    );
    let text = workspace.lock_text();
    assert!(!text.contains("LEAKED"), "{text}\n{}", run.stderr);
    assert_eq!(text.matches("[package.target.built]").count(), 2, "{text}\n{}", run.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn a_backend_past_the_timeout_is_killed_with_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let prelude = format!(
        "    import subprocess, time\n    child = subprocess.Popen([\"sleep\", \"300\"])\n    open({:?}, \"w\").write(str(child.pid))\n    time.sleep(300)",
        pid_file.display().to_string()
    );
    let Some((_index, workspace)) = setup_sdist(sdist_with("py3-none-any", &prelude), "") else { return };
    let started = std::time::Instant::now();
    let _ = workspace.run_env(&["lock"], &[("LBUILD_BUILD_TIMEOUT", "3")]);
    assert!(started.elapsed() < std::time::Duration::from_secs(120), "{:?}", started.elapsed());
    let pin = workspace.lock();
    assert_eq!(pin.pin("demo", "python3.12-x86_64").unwrap().gap.as_deref(), Some("build-failed"));
    assert!(workspace.lock_text().contains("did not finish within 3 s"), "{}", workspace.lock_text());
    let pid = std::fs::read_to_string(&pid_file).expect("the backend started its grandchild");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let alive = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')));
    assert!(!alive, "the backend's grandchild {pid} outlived the timeout");
}

#[test]
fn a_tampered_built_entry_is_refused_by_build_naming_the_package() {
    let Some((_index, workspace)) = setup("py3-none-any", "") else { return };
    let first = workspace.run(&["lock"]).ok();
    assert_eq!(first.stderr.matches("Building demo 1.0 from demo-1.0.zip").count(), 1, "{}", first.stderr);
    assert!(first.stderr.contains("Built demo-1.0-py3-none-any.whl ("), "{}", first.stderr);
    let text = workspace.lock_text();
    let lock_path = workspace.path().join("lambda.lock");
    let content = text
        .lines()
        .find_map(|line| line.strip_prefix("content-sha256 = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("a content hash")
        .to_string();
    let tampered = [
        // Another project's wheel name.
        (
            "wheel = \"demo-1.0-py3-none-any.whl\"".to_string(),
            "wheel = \"six-1.16.0-py3-none-any.whl\"".to_string(),
            "not a pure wheel of demo 1.0",
        ),
        // Contents the sdist does not build: neither the cache nor a rebuild gives them.
        (format!("content-sha256 = \"{content}\""), format!("content-sha256 = \"{}\"", "0".repeat(64)), "demo 1.0"),
        ("builder = \"pep517\"".to_string(), "builder = \"make\"".to_string(), "unknown builder"),
    ];
    for (from, to, expected) in tampered {
        assert!(text.contains(&from), "{from} not in {text}");
        std::fs::write(&lock_path, text.replace(&from, &to)).unwrap();
        let run = workspace.run(&["build", "--locked"]);
        assert!(!run.success, "`{to}` was built: {}", run.stderr);
        assert!(run.stderr.contains(expected) && run.stderr.contains("demo"), "`{to}`: {}", run.stderr);
        assert!(
            !workspace.path().join("target/lambda").exists()
                || crate::support::files_under(&workspace.path().join("target/lambda"))
                    .iter()
                    .all(|p| p.extension().is_none_or(|e| e != "zip")),
            "a zip was written for `{to}`"
        );
    }
}

#[test]
fn a_failed_build_records_the_backends_own_error() {
    let prelude = "    print(\"compiling...\")\n    raise RuntimeError(\"demo needs the frobnicate header\")";
    let Some((_index, workspace)) = setup_sdist(sdist_with("py3-none-any", prelude), "") else { return };
    let _ = workspace.run(&["lock"]);
    assert_eq!(workspace.lock().pin("demo", "python3.12-x86_64").unwrap().gap.as_deref(), Some("build-failed"));
    let text = workspace.lock_text();
    assert!(text.contains("`build_wheel` of back failed: RuntimeError: demo needs the frobnicate header"), "{text}");
}

/// The directory of real backend wheels (setuptools, flit-core, hatchling and hatchling's
/// dependencies) that `.ci/run` downloads, or `None` (with the reason printed) to skip.
fn backend_wheels() -> Option<std::path::PathBuf> {
    let Some(dir) = std::env::var_os("LBUILD_TEST_BACKEND_WHEELS") else {
        eprintln!("skipping: LBUILD_TEST_BACKEND_WHEELS is not set (.ci/run downloads the backend wheels)");
        return None;
    };
    let dir = std::path::PathBuf::from(dir);
    if !dir.is_dir() {
        eprintln!("skipping: LBUILD_TEST_BACKEND_WHEELS={} is not a directory", dir.display());
        return None;
    }
    Some(dir)
}

/// An sdist (`.tar.gz`-free: a zip, as the fake index serves either) of `name 1.0` with a module
/// of its own name, built by the real backend `requires`/`backend` names.
fn real_backend_sdist(name: &str, requires: &str, backend: &str) -> Vec<u8> {
    let root = format!("{name}-1.0");
    let pyproject = format!(
        "[build-system]\nrequires = [\"{requires}\"]\nbuild-backend = \"{backend}\"\n\n[project]\nname = \"{name}\"\nversion = \"1.0\"\ndescription = \"demo\"\ndependencies = [\"six>=1\"]\n"
    );
    let module = format!("\"\"\"The {name} demo.\"\"\"\nVALUE = \"{name}\"\n");
    let members = [
        (format!("{root}/pyproject.toml"), pyproject),
        (format!("{root}/{name}/__init__.py"), module),
        // Metadata 2.1: not static under PEP 643, so the dependencies come from the build.
        (format!("{root}/PKG-INFO"), format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")),
    ];
    let entries: Vec<_> =
        members.iter().map(|(name, text)| crate::support::rawzip::RawEntry::deflated(name, text.as_bytes())).collect();
    crate::support::rawzip::write_zip(&entries)
}

#[test]
fn setuptools_flit_and_hatchling_build_with_their_wheels_from_the_index() {
    let Some(wheels) = backend_wheels() else { return };
    if python().is_none() {
        eprintln!("skipping: no python3 on PATH to build sdists with");
        return;
    }
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.16.0")]);
    let index = crate::support::FakeIndex::start(&scenario, IndexOptions::default());
    let mut published = Vec::new();
    for path in crate::support::files_under(&wheels) {
        let Some(filename) = path.file_name().and_then(|n| n.to_str()).filter(|n| n.ends_with(".whl")) else {
            continue;
        };
        let mut parts = filename.split('-');
        let (name, version) = (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
        let metadata = crate::support::zip_entries(&path)
            .into_iter()
            .find(|(entry, _)| entry.ends_with(".dist-info/METADATA") && entry.matches('/').count() == 1)
            .map(|(_, bytes)| bytes)
            .unwrap_or_else(|| panic!("{filename} has no METADATA"));
        index.publish_raw_wheel(&PackageSpec::new(&name, &version), filename, std::fs::read(&path).unwrap(), metadata);
        published.push(filename.to_string());
    }
    for wanted in ["setuptools-", "flit_core-", "hatchling-"] {
        assert!(published.iter().any(|f| f.starts_with(wanted)), "no {wanted}* wheel in {}", wheels.display());
    }
    let backends = [
        // (name, requires, backend, the backend's wheel, the tag the backend gives a pure wheel)
        ("stdemo", "setuptools>=70", "setuptools.build_meta", "setuptools-", "py3-none-any"),
        ("flitdemo", "flit_core>=3.2,<4", "flit_core.buildapi", "flit_core-", "py2.py3-none-any"),
        ("hatchdemo", "hatchling", "hatchling.build", "hatchling-", "py2.py3-none-any"),
    ];
    for (name, requires, backend, _, _) in backends {
        let sdist = real_backend_sdist(name, requires, backend);
        index.publish_raw_sdist(&PackageSpec::new(name, "1.0").sdist(), &format!("{name}-1.0.zip"), sdist);
    }
    let body = "[workspace]\nindex-url = \"{index}\"\nruntime = \"python3.12\"\n\n[function.api]\nrequirements = [\"stdemo\", \"flitdemo\", \"hatchdemo\"]\n";
    let workspace = Workspace::new(&index, Api::Simple, body);
    let run = workspace.run(&["lock"]);
    assert!(run.success, "{}", run.stderr);
    let lock = workspace.lock();
    let text = workspace.lock_text();
    for target in ["python3.12-x86_64", "python3.12-arm64"] {
        for (name, _, _, _, _) in backends {
            let pin = lock.pin(name, target).unwrap_or_else(|| panic!("{name} not locked for {target}: {text}"));
            assert_eq!(pin.gap.as_deref(), None, "{name} on {target}: {text}");
            assert_eq!(pin.dependencies, vec!["six>=1".to_string()], "{name} on {target}: {text}");
        }
        assert_eq!(lock.version("six", target), "1.16.0");
    }
    for (name, _, _, backend_wheel, tag) in backends {
        assert!(text.contains(&format!("wheel = \"{name}-1.0-{tag}.whl\"")), "{name}: {text}");
        // The backend's own wheel is in the entry's recorded build environment.
        let entry = text.split("[[package]]").find(|p| p.contains(&format!("name = \"{name}\""))).unwrap();
        assert!(entry.contains(&format!("filename = \"{backend_wheel}")), "{name}'s build-env: {entry}");
    }
    // The build uses the locked wheels from the cache: no Python runs.
    let run = workspace.run_env(&["build", "--locked"], &[("LBUILD_PYTHON", "/nonexistent/python")]);
    assert!(run.success, "{}", run.stderr);
    let zip = crate::support::files_under(&workspace.path().join("target/lambda"))
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("x86_64") && n.to_string_lossy().ends_with(".zip"))
        })
        .expect("an x86_64 zip");
    let entries = crate::support::zip_entries(&zip);
    for (name, _, _, _, _) in backends {
        let module = entries.get(&format!("{name}/__init__.py")).unwrap_or_else(|| panic!("{name} not in the zip"));
        assert!(String::from_utf8_lossy(module).contains(&format!("VALUE = \"{name}\"")));
    }
}
