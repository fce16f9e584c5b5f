//! Against the real PyPI: opt-in (`cargo test --features pypi-tests`), never part of CI.
//!
//! These check facts that only the live index can show: real wheel sets, real glibc cut-offs.

use std::process::Command;

fn lock_real(requirements: &[&str], runtime: &str) -> (tempfile::TempDir, crate::Lock) {
    let dir = tempfile::tempdir().unwrap();
    let quoted: Vec<String> = requirements.iter().map(|r| format!("{r:?}")).collect();
    fs_err::write(
        dir.path().join("lambda.toml"),
        format!("[workspace]\nruntime = \"{runtime}\"\n\n[function.f]\nrequirements = [{}]\n", quoted.join(", ")),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_lbuild")).arg("lock").current_dir(dir.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lock = crate::Lock(toml::from_str(&fs_err::read_to_string(dir.path().join("lambda.lock")).unwrap()).unwrap());
    (dir, lock)
}

#[test]
fn numpy_backtracks_below_2_3_on_python311_but_not_on_python312() {
    let (_dir, lock) = lock_real(&["numpy"], "python3.11");
    let version = lock.version("numpy", "python3.11-x86_64");
    assert!(version.starts_with("2.2.") || version.starts_with("1."), "numpy {version} on python3.11");
    let wheel = lock.pin("numpy", "python3.11-arm64").unwrap().wheel.unwrap();
    assert!(wheel.contains("cp311-cp311-manylinux_2_17_aarch64"), "{wheel}");
    let (_dir, lock) = lock_real(&["numpy"], "python3.12");
    let wheel = lock.pin("numpy", "python3.12-x86_64").unwrap().wheel.unwrap();
    assert!(wheel.contains("cp312-cp312-manylinux"), "{wheel}");
}

#[test]
fn the_api_workload_locks_without_gaps_on_both_architectures() {
    let (dir, lock) = lock_real(&["fastapi", "mangum", "pydantic>=2", "requests", "orjson", "httpx"], "python3.12");
    let text = fs_err::read_to_string(dir.path().join("lambda.lock")).unwrap();
    assert!(!text.contains("[package.target.gap]"), "{text}");
    for target in ["python3.12-x86_64", "python3.12-arm64"] {
        let wheel = lock.pin("pydantic-core", target).unwrap().wheel.unwrap();
        let machine = if target.ends_with("arm64") { "aarch64" } else { "x86_64" };
        assert!(wheel.contains(machine) && wheel.contains("manylinux"), "{target}: {wheel}");
    }
}
