//! The resolver's PEP 440 and PEP 592 rules through the real binary and every index shape: local
//! version labels (with `+` in file names and URLs), yanked pins, and the errors a user reads.
//! The semantics themselves are pinned down by the scenario files in `tests/scenarios/`.

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace, index_shapes};

const X86_312: &str = "python3.12-x86_64";
const ARM_312: &str = "python3.12-arm64";

fn manifest(requirements: &str) -> String {
    format!("[workspace]\nindex-url = \"{{index}}\"\n\n[function.f]\nrequirements = [{requirements}]\n")
}

/// PyTorch's CPU index serves `torch 2.5.1+cpu` for x86_64 and the public `2.5.1` for aarch64.
fn torch_scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("torch", "2.5.1+cpu").wheel("cp312-cp312-manylinux_2_28_x86_64").dep("filelock"),
        PackageSpec::new("torch", "2.5.1").wheel("cp312-cp312-manylinux_2_28_aarch64").dep("filelock"),
        PackageSpec::new("torch", "2.4.0+cpu").wheel("cp312-cp312-manylinux_2_28_x86_64"),
        PackageSpec::new("torchvision", "0.20.1+cpu")
            .wheel("cp312-cp312-manylinux_2_28_x86_64")
            .wheel("cp312-cp312-manylinux_2_28_aarch64")
            .dep("torch==2.5.1"),
        PackageSpec::new("filelock", "3.16.1"),
    ])
}

#[test]
fn a_public_pin_locks_the_local_version_each_target_has() {
    let scenario = torch_scenario();
    for (shape, api, options) in index_shapes() {
        let index = FakeIndex::start(&scenario, options);
        let workspace = Workspace::new(&index, api, &manifest("\"torch==2.5.1\", \"torchvision\""));
        workspace.run(&["lock"]).ok();
        let lock = workspace.lock();
        let x86 = lock.pin("torch", X86_312).unwrap();
        assert_eq!(x86.version, "2.5.1+cpu", "{shape}");
        assert_eq!(x86.wheel.as_deref(), Some("torch-2.5.1+cpu-cp312-cp312-manylinux_2_28_x86_64.whl"), "{shape}");
        assert_eq!(lock.version("torch", ARM_312), "2.5.1", "{shape}");
        assert_eq!(lock.version("torchvision", X86_312), "0.20.1+cpu", "{shape}");
        assert_eq!(lock.version("filelock", ARM_312), "3.16.1", "{shape}");
        // The lock is stable: relocking reads it back and changes nothing.
        let before = workspace.lock_text();
        workspace.run(&["lock", "--locked"]).ok();
        assert_eq!(workspace.lock_text(), before, "{shape}");
    }
}

#[test]
fn a_local_pin_matches_only_that_local_version() {
    let index = FakeIndex::start(&torch_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, &manifest("\"torch==2.4.0+cpu\""));
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("torch", X86_312), "2.4.0+cpu");
    // arm64 has no wheel of 2.4.0+cpu, and the public 2.5.1 does not match: a gap.
    let arm = lock.pin("torch", ARM_312).unwrap();
    assert_eq!((arm.version.as_str(), arm.gap.as_deref()), ("2.4.0+cpu", Some("other-architecture")));
}

#[test]
fn a_dependency_pin_on_a_yanked_version_fails_naming_it() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("app", "1.0").dep("lib==1.1"),
        PackageSpec::new("lib", "1.0"),
        PackageSpec::new("lib", "1.1").yanked(),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"app\""));
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("lib 1.1 is yanked"), "{}", run.stderr);
    assert!(!workspace.lock_path().exists());
    // The workspace's own pin chooses it.
    workspace.write_manifest(&manifest("\"app\", \"lib==1.1\""));
    let run = workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", X86_312), "1.1");
    // PEP 592: choosing a yanked version is said, once for all targets.
    assert_eq!(run.stderr.matches("`lib==1.1` is yanked").count(), 1, "{}", run.stderr);
}

#[test]
fn a_requires_python_that_excludes_the_runtime_is_named_in_the_error() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("old", "2.0").requires_python(">=3.8,<3.12"),
        PackageSpec::new("old", "1.0"),
    ]);
    for (shape, api, options) in index_shapes() {
        let index = FakeIndex::start(&scenario, options);
        let workspace = Workspace::new(&index, api, &manifest("\"old>=2\""));
        let run = workspace.run(&["lock"]).failed();
        assert!(
            run.stderr.contains("old 2.0 declares Requires-Python")
                && run.stderr.contains("does not support python3.12"),
            "{shape}: {}",
            run.stderr
        );
    }
}

/// pip and uv warn about an extra the package does not provide: a misspelt extra silently
/// leaves out what the right one brings.
#[test]
fn an_extra_the_package_does_not_provide_is_warned_about() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("powertools", "3.0").extra("tracer").dep("xray ; extra == 'tracer'"),
        PackageSpec::new("xray", "2.0"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"powertools[logger]\""));
    let run = workspace.run(&["lock"]).ok();
    assert!(
        run.stderr
            .contains("`powertools 3.0` does not provide the extra `logger`, so `powertools[logger]` adds nothing"),
        "{}",
        run.stderr
    );
    // The extra it does provide is not warned about.
    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"powertools[tracer]\""));
    let run = workspace.run(&["lock"]).ok();
    assert!(!run.stderr.contains("does not provide the extra"), "{}", run.stderr);
    assert!(workspace.lock_text().contains("name = \"xray\""), "{}", workspace.lock_text());
}
