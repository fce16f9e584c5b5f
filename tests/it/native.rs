//! `[workspace] native-builder` (issue 12): a fake builder script stands in for `docker run` of
//! a manylinux image. It copies a wheel the test made (with hand-made ELF members) into
//! `{out}`, and logs its arguments, so the tests see what lbuild ran, how often, and what it
//! accepts.
#![cfg(unix)]

use std::path::{Path, PathBuf};

use crate::support::fake_elf::fake_elf;
use crate::support::wheel::{WheelSpec, build_wheel};
use crate::support::{IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;

/// A builder directory: `build.sh`, and per target the wheel it hands back.
struct Builder {
    dir: tempfile::TempDir,
}

impl Builder {
    fn new() -> Builder {
        let dir = tempfile::tempdir().unwrap();
        // Arguments: the sdist, the output directory, the target, the image, the machine.
        let script = r#"#!/bin/sh
set -e
here="$(dirname "$0")"
echo "$*" >> "$here/log"
[ -f "$1" ] || { echo "no sdist at $1" >&2; exit 9; }
[ -z "$(ls -A "$2")" ] || { echo "out is not empty" >&2; exit 9; }
if [ -f "$here/fail" ]; then echo "gcc: error: Python.h: No such file" >&2; exit 3; fi
cp "$here/$3"/*.whl "$2/"
"#;
        fs_err::write(dir.path().join("build.sh"), script).unwrap();
        Builder { dir }
    }

    /// The `native-builder` line of `lambda.toml`.
    fn setting(&self) -> String {
        format!(
            "native-builder = \"sh '{}' {{sdist}} {{out}} {{target}} {{image}} {{machine}}\"\n",
            self.dir.path().join("build.sh").display()
        )
    }

    /// The wheel the builder writes for `target`: `fast 1.0` tagged `tag`, requiring `six`,
    /// with a compiled member of these ELF bytes.
    fn hand_back(&self, target: &str, tag: &str, elf: Vec<u8>) {
        let mut spec = WheelSpec::new("fast", "1.0");
        spec.tag = tag.to_string();
        spec.requires_dist = vec!["six>=1".to_string()];
        spec.files = vec![("fast/_speed.cpython-312-linux-gnu.so".to_string(), elf)];
        let (filename, bytes) = build_wheel(&spec);
        let dir = self.dir.path().join(target);
        let _ = fs_err::remove_dir_all(&dir);
        fs_err::create_dir_all(&dir).unwrap();
        fs_err::write(dir.join(filename), bytes).unwrap();
    }

    fn runs(&self) -> Vec<String> {
        fs_err::read_to_string(self.dir.path().join("log")).unwrap_or_default().lines().map(str::to_string).collect()
    }

    fn fail_from_now_on(&self) {
        fs_err::write(self.dir.path().join("fail"), "").unwrap();
    }
}

const X86: &str = "python3.12-x86_64";
const ARM: &str = "python3.12-arm64";

/// `fast 1.0`, published as `wheels` (tags) and an sdist, and `six`; a workspace locking
/// `fast` for both architectures with the builder.
fn setup(wheels: &[&str], builder: &Builder) -> (crate::support::FakeIndex, Workspace) {
    let mut fast = PackageSpec::new("fast", "1.0").sdist().dep("six>=1");
    for tag in wheels {
        fast = fast.wheel(tag);
    }
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.16.0"), fast]);
    let index = crate::support::FakeIndex::start(&scenario, IndexOptions::default());
    let body = format!(
        "[workspace]\nindex-url = \"{{index}}\"\nruntime = \"python3.12\"\narchitectures = [\"x86_64\", \"arm64\"]\n{}\n[function.api]\nrequirements = [\"fast\"]\n",
        builder.setting()
    );
    let workspace = Workspace::new(&index, Api::Simple, &body);
    (index, workspace)
}

fn built_table(lock: &crate::Lock, target: &str) -> Option<toml::Value> {
    let package = lock.0["package"].as_array()?.iter().find(|p| p["name"].as_str() == Some("fast"))?;
    let entry = package["target"].as_array()?.iter().find(|e| e["target"].as_str() == Some(target))?;
    entry.get("built").cloned()
}

fn zip_of(workspace: &Workspace, target: &str) -> PathBuf {
    let name = format!("api-{target}.zip");
    crate::support::files_under(&workspace.path().join("target/lambda"))
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == name))
        .unwrap_or_else(|| panic!("no {name}"))
}

fn so_in(zip: &Path) -> Option<Vec<u8>> {
    crate::support::zip_entries(zip).get("fast/_speed.cpython-312-linux-gnu.so").cloned()
}

#[test]
fn an_sdist_only_package_is_built_per_target_checked_cached_and_locked() {
    let builder = Builder::new();
    let x86_elf = fake_elf(EM_X86_64, &["GLIBC_2.2.5", "GLIBC_2.17"]);
    let arm_elf = fake_elf(EM_AARCH64, &["GLIBC_2.17", "GLIBC_2.34"]);
    builder.hand_back(X86, "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", x86_elf.clone());
    builder.hand_back(ARM, "cp312-cp312-manylinux_2_34_aarch64", arm_elf.clone());
    let (_index, workspace) = setup(&[], &builder);
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    for (target, wheel) in [
        (X86, "fast-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
        (ARM, "fast-1.0-cp312-cp312-manylinux_2_34_aarch64.whl"),
    ] {
        let built = built_table(&lock, target).unwrap_or_else(|| panic!("{}", workspace.lock_text()));
        assert_eq!(built["builder"].as_str(), Some("native"));
        assert_eq!(built["wheel"].as_str(), Some(wheel));
        assert!(built.get("build-env").is_none());
        // Its METADATA's requirements join the resolution.
        assert_eq!(lock.pin("fast", target).unwrap().dependencies, ["six>=1"]);
        assert_eq!(lock.version("six", target), "1.16.0");
    }
    assert!(workspace.lock_text().contains("native-builder = "), "the inputs record the command");
    // Once per target, with the placeholders filled in.
    let runs = builder.runs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let arm = runs.iter().find(|run| run.contains(ARM)).expect("an arm64 run");
    assert!(arm.contains("/in/fast-1.0.zip ") && arm.contains("/out "), "{arm}");
    assert!(arm.ends_with("quay.io/pypa/manylinux_2_34_aarch64 aarch64"), "{arm}");
    // Locking again, and building, take the wheels from the cache: the builder does not run.
    let relock = workspace.run(&["lock", "--locked"]).ok();
    let build = workspace.run(&["build"]).ok();
    assert_eq!(builder.runs().len(), 2, "{:?}\n{}\n{}", builder.runs(), relock.stderr, build.stderr);
    assert_eq!(so_in(&zip_of(&workspace, X86)), Some(x86_elf.clone()));
    assert_eq!(so_in(&zip_of(&workspace, ARM)), Some(arm_elf));
    let first = fs_err::read(zip_of(&workspace, X86)).unwrap();
    // An empty cache: `lbuild build` runs the builder again and checks the lock's content hash.
    fs_err::remove_dir_all(workspace.path().join("target")).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let cache = empty.path().display().to_string();
    let run = workspace.run_env(&["build", "--arch", "x86_64"], &[("LBUILD_CACHE_DIR", cache.as_str())]).ok();
    assert_eq!(builder.runs().len(), 3, "{}", run.stderr);
    assert_eq!(fs_err::read(zip_of(&workspace, X86)).unwrap(), first, "the rebuilt zip is byte-identical");
    // A builder that now compiles something else is refused against the lock.
    let other = tempfile::tempdir().unwrap();
    let cache = other.path().display().to_string();
    builder.hand_back(X86, "cp312-cp312-manylinux_2_17_x86_64", fake_elf(EM_X86_64, &["GLIBC_2.28"]));
    fs_err::remove_dir_all(workspace.path().join("target")).unwrap();
    let run = workspace.run_env(&["build", "--arch", "x86_64"], &[("LBUILD_CACHE_DIR", cache.as_str())]).err();
    assert!(
        run.stderr.contains("fast 1.0 (built for python3.12-x86_64") && run.stderr.contains("lambda.lock` records"),
        "{}",
        run.stderr
    );
}

#[test]
fn only_the_architecture_without_wheels_is_built() {
    let builder = Builder::new();
    let arm_elf = fake_elf(EM_AARCH64, &["GLIBC_2.17"]);
    builder.hand_back(ARM, "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64", arm_elf);
    let (_index, workspace) = setup(&["cp312-cp312-manylinux_2_17_x86_64"], &builder);
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(
        lock.pin("fast", X86).unwrap().wheel.as_deref(),
        Some("fast-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"),
        "the index's wheel where there is one"
    );
    assert_eq!(built_table(&lock, ARM).unwrap()["builder"].as_str(), Some("native"));
    let runs = builder.runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].contains(ARM));
}

/// What the builder hands back is checked: the ELF machine, the glibc it needs, the wheel's
/// tags; what fails stays a gap whose detail says why, and the build stops on it.
#[test]
fn a_wrong_machine_glibc_or_tag_is_refused_and_stays_a_gap() {
    let builder = Builder::new();
    // An x86_64 library in the arm64 wheel; a library needing glibc 2.35 on a 2.34 runtime.
    builder.hand_back(ARM, "cp312-cp312-manylinux_2_17_aarch64", fake_elf(EM_X86_64, &["GLIBC_2.17"]));
    builder.hand_back(X86, "cp312-cp312-manylinux_2_17_x86_64", fake_elf(EM_X86_64, &["GLIBC_2.35"]));
    let (_index, workspace) = setup(&[], &builder);
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.pin("fast", ARM).unwrap().gap.as_deref(), Some("only-sdist"));
    assert_eq!(lock.pin("fast", X86).unwrap().gap.as_deref(), Some("only-sdist"));
    let text = workspace.lock_text();
    assert!(text.contains("is compiled for x86_64, not for aarch64"), "{text}");
    assert!(text.contains("needs GLIBC_2.35, newer than the runtime's glibc 2.34"), "{text}");
    let run = workspace.run(&["build"]).err();
    assert!(run.stderr.contains("fast"), "{}", run.stderr);
    let gaps = workspace.run(&["gaps"]).err();
    assert!(gaps.stdout.contains("is compiled for x86_64, not for aarch64"), "{}", gaps.stdout);
    assert!(!gaps.stdout.contains("set `native-builder`"), "it is set: {}", gaps.stdout);
    // A linux_x86_64 tag (not repaired with auditwheel) does not install on Lambda.
    builder.hand_back(X86, "cp312-cp312-linux_x86_64", fake_elf(EM_X86_64, &["GLIBC_2.17"]));
    let (_index, workspace) = setup(&[], &builder);
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert!(text.contains("cp312-cp312-linux_x86_64) python3.12-x86_64 does not install"), "{text}");
    // A builder that fails leaves its last words in the gap's detail.
    builder.fail_from_now_on();
    let (_index, workspace) = setup(&[], &builder);
    let verbose = workspace.run(&["-v", "lock"]).ok();
    let text = workspace.lock_text();
    assert!(text.contains("the native builder did not build it: the native builder failed"), "{text}");
    assert!(verbose.stderr.contains("Python.h: No such file"), "-v shows its output: {}", verbose.stderr);
}

#[test]
fn a_bad_template_is_an_error_at_its_line() {
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.16.0")]);
    let index = crate::support::FakeIndex::start(&scenario, IndexOptions::default());
    let body = "[workspace]\nindex-url = \"{index}\"\nnative-builder = \"docker run {image} {sdist}\"\n\n[function.api]\nrequirements = [\"six\"]\n";
    let workspace = Workspace::new(&index, Api::Simple, body);
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("invalid native-builder") && run.stderr.contains("{out}"), "{}", run.stderr);
    assert!(run.stderr.contains("lambda.toml:3:"), "{}", run.stderr);
}
