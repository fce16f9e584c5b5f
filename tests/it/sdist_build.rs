//! Wheels built from sdists (issue 12): an sdist on the fake index with an in-tree PEP 517
//! backend (`backend-path`, so no network and no setuptools), built by the host Python.

use crate::support::{IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

/// A `.zip` sdist of `demo 1.0` whose backend writes a wheel tagged `tag` requiring `six`.
fn sdist(tag: &str) -> Vec<u8> {
    let backend = format!(
        r#"import os, zipfile
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
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

fn python() -> Option<String> {
    let found =
        std::process::Command::new("python3").arg("-c").arg("import sys; print(sys.executable)").output().ok()?;
    found.status.success().then(|| String::from_utf8_lossy(&found.stdout).trim().to_string())
}

fn setup(tag: &str, settings: &str) -> Option<(crate::support::FakeIndex, Workspace)> {
    if python().is_none() {
        eprintln!("skipping: no python3 on PATH to build sdists with");
        return None;
    }
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.16.0")]);
    let index = crate::support::FakeIndex::start(&scenario, IndexOptions::default());
    index.publish_raw_sdist(&PackageSpec::new("demo", "1.0").sdist(), "demo-1.0.zip", sdist(tag));
    let body = format!(
        "[workspace]\nindex-url = \"{{index}}\"\nruntime = \"python3.12\"\n{settings}\n[function.api]\nrequirements = [\"demo\"]\n"
    );
    let workspace = Workspace::new(&index, Api::Simple, &body);
    Some((index, workspace))
}

#[test]
fn a_pure_sdist_is_built_once_for_both_architectures_with_its_dependencies() {
    let Some((_index, workspace)) = setup("py3-none-any", "") else { return };
    workspace.run(&["lock"]).ok();
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
    workspace.run_env(&["lock", "--locked"], &[("LBUILD_PYTHON", "/nonexistent/python")]).ok();
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
