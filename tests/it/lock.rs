//! `lbuild lock` against the fake index: resolution semantics, gaps, conflicts, lock stability.

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace, index_shapes};

const X86_312: &str = "python3.12-x86_64";
const ARM_312: &str = "python3.12-arm64";
const X86_311: &str = "python3.11-x86_64";
const ARM_311: &str = "python3.11-arm64";

fn manifest(runtime_lines: &str, functions: &str) -> String {
    format!("[workspace]\nindex-url = \"{{index}}\"\n{runtime_lines}\n\n{functions}")
}

/// The scenario most tests share: platform-specific wheels, a glibc cut-off, markers, extras.
fn platform_scenario() -> Scenario {
    Scenario::from_packages([
        // fast 2.0 has only manylinux_2_28 wheels: fine for AL2023 (glibc 2.34), too new for AL2.
        PackageSpec::new("fast", "2.0")
            .wheel("cp312-cp312-manylinux_2_28_x86_64")
            .wheel("cp312-cp312-manylinux_2_28_aarch64")
            .wheel("cp311-cp311-manylinux_2_28_x86_64")
            .wheel("cp311-cp311-manylinux_2_28_aarch64")
            .sdist(),
        PackageSpec::new("fast", "1.9")
            .wheel("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64")
            .wheel("cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64")
            .wheel("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")
            .sdist(),
        PackageSpec::new("app-core", "1.0")
            .dep("fast>=1.5")
            .dep("x86-helper ; platform_machine == 'x86_64'")
            .dep("arm-helper ; platform_machine == 'aarch64'")
            .dep("oldpy ; python_version < '3.12'"),
        PackageSpec::new("x86-helper", "1.0").wheel("py3-none-manylinux_2_17_x86_64"),
        PackageSpec::new("arm-helper", "1.0").wheel("py3-none-manylinux_2_17_aarch64"),
        PackageSpec::new("oldpy", "1.0"),
    ])
}

#[test]
fn backtracks_when_the_newest_version_has_no_wheel_for_the_runtime_glibc() {
    for (shape, api, options) in index_shapes() {
        let index = FakeIndex::start(&platform_scenario(), options);
        let workspace = Workspace::new(
            &index,
            api,
            &manifest(
                "runtime = \"python3.12\"",
                "[function.new]\nrequirements = [\"app-core\"]\n\n[function.old]\nrequirements = [\"app-core\"]\nruntime = \"python3.11\"\n",
            ),
        );
        workspace.run(&["lock"]).ok();
        let lock = workspace.lock();
        assert_eq!(lock.targets(), [ARM_311, X86_311, ARM_312, X86_312], "{shape}");
        // AL2023 takes the newest; AL2 backtracks to the last version with manylinux2014 wheels.
        let new_x86 = lock.pin("fast", X86_312).unwrap();
        assert_eq!(new_x86.version, "2.0", "{shape}");
        assert_eq!(new_x86.wheel.as_deref(), Some("fast-2.0-cp312-cp312-manylinux_2_28_x86_64.whl"), "{shape}");
        let old_x86 = lock.pin("fast", X86_311).unwrap();
        assert_eq!(old_x86.version, "1.9", "{shape}");
        assert_eq!(
            old_x86.wheel.as_deref(),
            Some("fast-1.9-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            "{shape}"
        );
        assert_eq!(lock.version("fast", ARM_311), "1.9", "{shape}");
        // Markers are evaluated for the target, never for the host.
        assert!(lock.pin("x86-helper", X86_312).is_some(), "{shape}");
        assert!(lock.pin("x86-helper", ARM_312).is_none(), "{shape}");
        assert!(lock.pin("arm-helper", ARM_312).is_some(), "{shape}");
        assert!(lock.pin("arm-helper", X86_311).is_none(), "{shape}");
        assert!(lock.pin("oldpy", X86_311).is_some(), "{shape}");
        assert!(lock.pin("oldpy", X86_312).is_none(), "{shape}");
        assert_eq!(
            lock.pin("app-core", ARM_312).unwrap().dependencies,
            ["arm-helper", "fast>=1.5"],
            "{shape}: edges follow the target's markers and keep the requirement"
        );
    }
}

#[test]
fn gaps_are_locked_at_the_best_sdist_with_the_reason() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("srconly", "0.3").sdist(),
        PackageSpec::new("srconly", "0.2").sdist(),
        PackageSpec::new("x86only", "1.0").wheel("cp312-cp312-manylinux_2_17_x86_64").sdist(),
        PackageSpec::new("newglibc", "1.0").wheel("cp311-cp311-manylinux_2_28_x86_64").sdist(),
        PackageSpec::new("future", "1.0").wheel("cp313-cp313-manylinux_2_17_x86_64").sdist(),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        &manifest(
            "runtime = \"python3.12\"",
            "[function.a]\nrequirements = [\"srconly\", \"x86only\", \"future\"]\n\n[function.b]\nruntime = \"python3.11\"\narchitecture = \"x86_64\"\nrequirements = [\"newglibc\"]\n",
        ),
    );
    let run = workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    let srconly = lock.pin("srconly", X86_312).unwrap();
    assert_eq!((srconly.version.as_str(), srconly.gap.as_deref()), ("0.3", Some("only-sdist")));
    assert_eq!(lock.pin("x86only", X86_312).unwrap().gap, None);
    assert_eq!(lock.pin("x86only", ARM_312).unwrap().gap.as_deref(), Some("other-architecture"));
    assert_eq!(lock.pin("newglibc", X86_311).unwrap().gap.as_deref(), Some("glibc-too-new"));
    assert_eq!(lock.pin("future", X86_312).unwrap().gap.as_deref(), Some("no-wheel-for-python"));
    // The gap's sdist is hashed into the lock, and the user is told.
    assert!(
        workspace.lock_text().contains("filename = \"srconly-0.3.tar.gz\"")
            || workspace.lock_text().contains("srconly-0.3.zip")
    );
    assert!(run.stderr.contains("`srconly==0.3` has no usable wheel for python3.12-x86_64"), "{}", run.stderr);
    assert!(run.stderr.contains("glibc 2.28"), "{}", run.stderr);
}

#[test]
fn yanked_versions_are_used_only_when_pinned_exactly() {
    let scenario = Scenario::from_packages([PackageSpec::new("lib", "1.0"), PackageSpec::new("lib", "1.1").yanked()]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &manifest("architectures = [\"x86_64\"]", "[function.f]\nrequirements = [\"lib\"]\n"),
    );
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", X86_312), "1.0");
    workspace
        .write_manifest(&manifest("architectures = [\"x86_64\"]", "[function.f]\nrequirements = [\"lib==1.1\"]\n"));
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", X86_312), "1.1");
}

#[test]
fn prereleases_only_when_named_allowed_or_nothing_else_fits() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("lib", "1.0"),
        PackageSpec::new("lib", "2.0b1"),
        PackageSpec::new("betaonly", "0.1a1"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let arch = "architectures = [\"arm64\"]";
    let workspace =
        Workspace::new(&index, Api::Simple, &manifest(arch, "[function.f]\nrequirements = [\"lib\", \"betaonly\"]\n"));
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", ARM_312), "1.0");
    assert_eq!(workspace.lock().version("betaonly", ARM_312), "0.1a1", "nothing else fits");

    workspace.write_manifest(&manifest(arch, "[function.f]\nrequirements = [\"lib>=2.0b1\"]\n"));
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", ARM_312), "2.0b1", "named in the requirement");

    workspace.write_manifest(&manifest(
        &format!("{arch}\nprerelease = \"allow\""),
        "[function.f]\nrequirements = [\"lib\"]\n",
    ));
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", ARM_312), "2.0b1", "allowed by the workspace");

    workspace.write_manifest(&manifest(
        &format!("{arch}\nprerelease = \"disallow\""),
        "[function.f]\nrequirements = [\"betaonly\"]\n",
    ));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("betaonly"), "{}", run.stderr);
}

#[test]
fn extras_pull_in_their_dependencies_recorded_apart_from_the_base_package() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("web", "1.0").extra("speed").dep("core>=1").dep("turbo ; extra == 'speed'"),
        PackageSpec::new("core", "1.0"),
        PackageSpec::new("turbo", "3.0"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let arch = "architectures = [\"x86_64\"]";
    let workspace = Workspace::new(&index, Api::Json, &manifest(arch, "[function.plain]\nrequirements = [\"web\"]\n"));
    workspace.run(&["lock"]).ok();
    assert!(workspace.lock().pin("turbo", X86_312).is_none());
    workspace.write_manifest(&manifest(arch, "[function.fast]\nrequirements = [\"web[speed]\"]\n"));
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("turbo", X86_312), "3.0");
    // The extra's edge is the extra's, not the package's: a function that needs plain `web`
    // does not get `turbo` (see `extras.rs`).
    assert_eq!(lock.pin("web", X86_312).unwrap().dependencies, ["core>=1"]);
    assert_eq!(
        lock.0["package"].as_array().unwrap().iter().find(|p| p["name"].as_str() == Some("web")).unwrap()["target"][0]
            ["extras"]["speed"],
        toml::Value::Array(vec![toml::Value::String("turbo".into())])
    );
}

#[test]
fn requires_python_and_abi3_are_judged_against_the_target() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("modern", "1.0").requires_python(">=3.8"),
        PackageSpec::new("modern", "2.0").requires_python(">=3.13"),
        // An abi3 wheel built for 3.9 loads on every later CPython; one built for 3.13 does not
        // load on 3.12.
        PackageSpec::new("stable", "1.0")
            .wheel("cp39-abi3-manylinux_2_17_x86_64")
            .wheel("cp39-abi3-manylinux_2_17_aarch64"),
        PackageSpec::new("stable", "2.0").wheel("cp313-abi3-manylinux_2_17_x86_64"),
    ]);
    // The last shapes publish no Requires-Python on the index pages (as pypiserver does), so the
    // wheel's own metadata must rule out modern 2.0 on python3.12.
    for (shape, api, options) in index_shapes() {
        let index = FakeIndex::start(&scenario, options);
        let workspace = Workspace::new(
            &index,
            api,
            &manifest(
                "runtime = \"python3.12\"",
                "[function.f]\nrequirements = [\"modern\", \"stable\"]\n\n[function.g]\nruntime = \"python3.13\"\narchitecture = \"x86_64\"\nrequirements = [\"modern\", \"stable\"]\n",
            ),
        );
        workspace.run(&["lock"]).ok();
        let lock = workspace.lock();
        assert_eq!(lock.version("modern", X86_312), "1.0", "{shape}");
        assert_eq!(lock.version("modern", "python3.13-x86_64"), "2.0", "{shape}");
        let stable = lock.pin("stable", X86_312).unwrap();
        assert_eq!(stable.version, "1.0", "{shape}");
        assert_eq!(stable.wheel.as_deref(), Some("stable-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"), "{shape}");
        assert_eq!(lock.version("stable", "python3.13-x86_64"), "2.0", "{shape}");
    }
}

#[test]
fn a_conflict_between_two_functions_names_both() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("shared", "1.0"),
        PackageSpec::new("shared", "2.0"),
        PackageSpec::new("plugin", "1.0").dep("shared<2"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &manifest(
            "architectures = [\"x86_64\"]",
            "[function.api]\nrequirements = [\"shared>=2\"]\n\n[function.worker]\nrequirements = [\"plugin\"]\n",
        ),
    );
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("function `api`"), "{}", run.stderr);
    assert!(run.stderr.contains("function `worker`"), "{}", run.stderr);
    assert!(run.stderr.contains("function `worker` requires shared <2"), "{}", run.stderr);
    assert!(run.stderr.contains("function `api` and function `worker` cannot be used together"), "{}", run.stderr);
    assert!(!run.stderr.contains("` 0"), "virtual packages are shown without a version: {}", run.stderr);
    assert!(run.stderr.contains("python3.12-x86_64"), "{}", run.stderr);
    assert!(!workspace.lock_path().exists(), "a failed lock writes nothing");
}

#[test]
fn an_unchanged_workspace_relocks_without_network_or_rewrite() {
    let index = FakeIndex::start(&platform_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &manifest(
            "",
            "[layer.base]\nrequirements = [\"app-core\"]\n\n[function.f]\nlayers = [\"base\"]\nrequirements = [\"oldpy\"]\n",
        ),
    );
    workspace.run(&["lock"]).ok();
    let first = workspace.lock_text();
    let modified = fs_err::metadata(workspace.lock_path()).unwrap().modified().unwrap();
    index.clear_requests();
    workspace.run(&["lock"]).ok();
    workspace.run(&["lock", "--locked"]).ok();
    assert_eq!(index.request_count(), 0, "{:?}", index.requests());
    assert_eq!(workspace.lock_text(), first);
    assert_eq!(fs_err::metadata(workspace.lock_path()).unwrap().modified().unwrap(), modified);

    // A fresh resolution from an empty cache gives the same bytes.
    fs_err::remove_file(workspace.lock_path()).unwrap();
    fs_err::remove_dir_all(workspace.cache.path()).unwrap();
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock_text(), first);
}

#[test]
fn locked_fails_and_says_what_changed() {
    let index = FakeIndex::start(&platform_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, &manifest("", "[function.f]\nrequirements = [\"oldpy\"]\n"));
    let run = workspace.run(&["lock", "--locked"]).err();
    assert!(run.stderr.contains("there is no `lambda.lock`"), "{}", run.stderr);
    workspace.run(&["lock"]).ok();
    let before = workspace.lock_text();
    workspace.write_manifest(&manifest("", "[function.f]\nrequirements = [\"oldpy\", \"app-core\"]\n"));
    let run = workspace.run(&["lock", "--locked"]).err();
    assert!(run.stderr.contains("`--locked` was passed"), "{}", run.stderr);
    assert!(run.stderr.contains("`function.f` now requires `app-core`"), "{}", run.stderr);
    assert_eq!(workspace.lock_text(), before, "--locked never writes");
    let run = workspace.run(&["lock", "--frozen"]).err();
    assert!(run.stderr.contains("`--frozen` was passed"), "{}", run.stderr);
}

#[test]
fn offline_relock_uses_only_the_cache() {
    let index =
        FakeIndex::start(&platform_scenario(), IndexOptions { metadata_files: false, ..IndexOptions::default() });
    let workspace = Workspace::new(&index, Api::Simple, &manifest("", "[function.f]\nrequirements = [\"app-core\"]\n"));
    workspace.run(&["lock"]).ok();
    let online = workspace.lock_text();
    // Drop the lock and relock from the cache alone.
    fs_err::remove_file(workspace.lock_path()).unwrap();
    index.clear_requests();
    workspace.run(&["lock", "--offline"]).ok();
    assert_eq!(index.request_count(), 0, "{:?}", index.requests());
    assert_eq!(workspace.lock_text(), online);
    // A package never fetched is a clear error, not a hang or a network request.
    workspace.write_manifest(&manifest("", "[function.f]\nrequirements = [\"app-core\", \"unseen\"]\n"));
    let run = workspace.run(&["lock", "--offline"]).err();
    assert!(run.stderr.contains("`unseen` is not in the cache"), "{}", run.stderr);
    assert_eq!(index.request_count(), 0);
}

#[test]
fn existing_pins_are_kept_until_upgraded() {
    let index = FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("one", "1.0"),
            PackageSpec::new("two", "1.0"),
            PackageSpec::new("three", "1.0"),
        ]),
        IndexOptions::default(),
    );
    let arch = "architectures = [\"x86_64\"]";
    let workspace =
        Workspace::new(&index, Api::Json, &manifest(arch, "[function.f]\nrequirements = [\"one\", \"two\"]\n"));
    workspace.run(&["lock"]).ok();
    index.publish(PackageSpec::new("one", "1.1"));
    index.publish(PackageSpec::new("two", "1.1"));
    // A changed workspace relocks, but keeps the pins it can.
    workspace.write_manifest(&manifest(arch, "[function.f]\nrequirements = [\"one\", \"two\", \"three\"]\n"));
    let run = workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("one", X86_312), "1.0");
    assert_eq!(workspace.lock().version("two", X86_312), "1.0");
    // Every relock says what moved, and only that.
    assert!(run.stderr.contains("Added three v1.0\n"), "{}", run.stderr);
    assert!(!run.stderr.contains("Updated") && !run.stderr.contains("Removed"), "{}", run.stderr);
    let run = workspace.run(&["lock", "--upgrade-package", "One"]).ok();
    assert!(run.stderr.contains("Updated one v1.0 -> v1.1\n"), "{}", run.stderr);
    assert!(!run.stderr.contains("two v"), "{}", run.stderr);
    assert_eq!(workspace.lock().version("one", X86_312), "1.1");
    assert_eq!(workspace.lock().version("two", X86_312), "1.0");
    // A package the lock does not hold is a typo, not an upgrade.
    let before = workspace.lock_text();
    let run = workspace.run(&["lock", "--upgrade-package", "tow"]).err();
    assert!(run.stderr.contains("`tow` is not in"), "{}", run.stderr);
    assert_eq!(workspace.lock_text(), before);
    let run = workspace.run(&["lock", "--upgrade"]).ok();
    assert!(run.stderr.contains("Updated two v1.0 -> v1.1\n"), "{}", run.stderr);
    assert_eq!(workspace.lock().version("two", X86_312), "1.1");
    workspace.write_manifest(&manifest(arch, "[function.f]\nrequirements = [\"one\", \"two\"]\n"));
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("Removed three v1.0\n"), "{}", run.stderr);
}

/// A change on one architecture only names it.
#[test]
fn a_relock_names_the_targets_a_change_is_limited_to() {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("one", "1.0")]), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, &manifest("", "[function.f]\nrequirements = [\"one\"]\n"));
    workspace.run(&["lock"]).ok();
    // 1.1 has a wheel for x86_64 only: arm64 stays on 1.0.
    index.publish(PackageSpec::new("one", "1.1").wheel("py3-none-manylinux_2_17_x86_64"));
    let run = workspace.run(&["lock", "--upgrade", "--message-format", "json"]).ok();
    assert!(run.stderr.contains("Updated one v1.0 -> v1.1 on python3.12-x86_64\n"), "{}", run.stderr);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        document["changes"],
        serde_json::json!([{
            "change": "updated", "package": "one", "from": "1.0", "to": "1.1", "targets": ["python3.12-x86_64"]
        }])
    );
}

#[test]
fn export_prints_hashed_pins_of_one_target_and_function_closure() {
    let index = FakeIndex::start(&platform_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &manifest(
            "",
            "[layer.base]\nrequirements = [\"oldpy\"]\n\n[function.f]\nlayers = [\"base\"]\nrequirements = [\"app-core\"]\n\n[function.g]\nrequirements = [\"x86-helper\"]\narchitecture = \"x86_64\"\n",
        ),
    );
    workspace.run(&["lock"]).ok();
    let run = workspace.run(&["export", "--target", "python3.12-arm64", "-p", "f"]).ok();
    let sha = index.file_sha256("arm_helper-1.0-py3-none-manylinux_2_17_aarch64.whl").unwrap();
    assert!(run.stdout.contains(&format!("arm-helper==1.0 \\\n    --hash=sha256:{sha}")), "{}", run.stdout);
    assert!(run.stdout.contains("fast==2.0 \\\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("x86-helper"), "{}", run.stdout);
    let run = workspace.run(&["export", "--target", "python3.12-x86_64", "-p", "g"]).ok();
    assert!(run.stdout.contains("x86-helper==1.0"), "{}", run.stdout);
    assert!(!run.stdout.contains("app-core"), "{}", run.stdout);
    let run = workspace.run(&["export", "--target", "python3.9-arm64"]).err();
    assert!(run.stderr.contains("has no target `python3.9-arm64`"), "{}", run.stderr);
}

#[test]
fn two_processes_sharing_a_cache_both_succeed() {
    let index =
        FakeIndex::start(&platform_scenario(), IndexOptions { metadata_files: false, ..IndexOptions::default() });
    let body = manifest(
        "",
        "[function.f]\nrequirements = [\"app-core\"]\n\n[function.g]\nruntime = \"python3.11\"\nrequirements = [\"app-core\"]\n",
    );
    let first = Workspace::new(&index, Api::Simple, &body);
    let second = Workspace::new(&index, Api::Simple, &body);
    let shared_cache = first.cache.path().to_path_buf();
    let spawn = |workspace: &Workspace| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lbuild"))
            .arg("lock")
            .current_dir(workspace.path())
            .env("LBUILD_CACHE_DIR", &shared_cache)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(&first), spawn(&second));
    for child in [a, b] {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(first.lock_text(), second.lock_text());
    // The cache they filled together serves an offline lock.
    let third = Workspace::new(&index, Api::Simple, &body);
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_lbuild"))
        .args(["lock", "--offline"])
        .current_dir(third.path())
        .env("LBUILD_CACHE_DIR", &shared_cache)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(third.lock_text(), first.lock_text());
}

#[test]
fn offline_relock_works_when_the_index_publishes_no_sizes() {
    // PEP 503 HTML carries no sizes; the lock needs them, so lbuild learns each once (HEAD)
    // and keeps it in the cache.
    let options = IndexOptions { html_only: true, ..IndexOptions::default() };
    let index = FakeIndex::start(&platform_scenario(), options);
    let workspace = Workspace::new(&index, Api::Simple, &manifest("", "[function.f]\nrequirements = [\"app-core\"]\n"));
    workspace.run(&["lock"]).ok();
    let online = workspace.lock_text();
    assert!(index.requests().iter().any(|request| request.starts_with("HEAD /files/")), "{:?}", index.requests());
    fs_err::remove_file(workspace.lock_path()).unwrap();
    index.clear_requests();
    workspace.run(&["lock", "--offline"]).ok();
    assert_eq!(index.request_count(), 0, "{:?}", index.requests());
    assert_eq!(workspace.lock_text(), online);
}

/// A manifest other than `lambda.toml` has its own lock beside it, named after it.
#[test]
fn each_manifest_has_its_own_lock_named_after_it() {
    let index = FakeIndex::start(
        &Scenario::from_packages([PackageSpec::new("one", "1.0"), PackageSpec::new("two", "1.0")]),
        IndexOptions::default(),
    );
    let arch = "architectures = [\"x86_64\"]";
    let workspace =
        Workspace::new(&index, Api::Json, &manifest(arch, "[function.f]\nsource = \".\"\nrequirements = [\"one\"]\n"));
    fs_err::write(workspace.path().join("app.py"), "X = 1\n").unwrap();
    workspace.run(&["lock"]).ok();
    let dev_lock = workspace.lock_text();
    let prod = fs_err::read_to_string(workspace.path().join("lambda.toml")).unwrap().replace("\"one\"", "\"two\"");
    fs_err::write(workspace.path().join("lambda.prod.toml"), prod).unwrap();
    workspace.run(&["--manifest-path", "lambda.prod.toml", "lock"]).ok();
    let prod_lock = fs_err::read_to_string(workspace.path().join("lambda.prod.lock")).unwrap();
    assert!(prod_lock.contains("name = \"two\""), "{prod_lock}");
    assert_eq!(workspace.lock_text(), dev_lock, "lambda.lock is lambda.toml's alone");
    workspace.run(&["--manifest-path", "lambda.prod.toml", "--locked", "build"]).ok();
    // With `source = "."` the zip holds the code, and no environment's manifest or lock.
    let names: Vec<String> =
        crate::support::zip_entries(&workspace.path().join("target/lambda/functions/f-python3.12-x86_64.zip"))
            .into_keys()
            .filter(|name| !name.contains(".dist-info/") && !name.starts_with("two/"))
            .collect();
    assert_eq!(names, ["app.py"]);
    let run = workspace.run(&["--manifest-path", "lambda.staging.toml", "lock"]).err();
    assert!(!workspace.path().join("lambda.staging.lock").exists(), "{}", run.stderr);
    fs_err::copy(workspace.path().join("lambda.prod.toml"), workspace.path().join("lambda.staging.toml")).unwrap();
    let run = workspace.run(&["--manifest-path", "lambda.staging.toml", "--locked", "lock"]).err();
    assert!(run.stderr.contains("there is no `lambda.staging.lock`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("run `lbuild --manifest-path lambda.staging.toml lock` without `--locked`"),
        "{}",
        run.stderr
    );
}

/// `outdated` lists what could move, per target, and says when the newer version has no wheel.
#[test]
fn outdated_lists_newer_versions_per_target_and_says_when_they_have_no_wheel() {
    let index = FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("one", "1.0"),
            PackageSpec::new("two", "1.0"),
            PackageSpec::new("three", "1.0"),
        ]),
        IndexOptions::default(),
    );
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &manifest("", "[function.f]\nrequirements = [\"one\", \"two\", \"three\"]\n"),
    );
    workspace.run(&["lock"]).ok();
    let run = workspace.run(&["outdated"]).ok();
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("every locked package is at its newest version"), "{}", run.stderr);

    index.publish(PackageSpec::new("one", "1.1"));
    index.publish(PackageSpec::new("two", "2.0").wheel("py3-none-manylinux_2_17_x86_64"));
    index.publish(PackageSpec::new("three", "2.0rc1"));
    let lock = workspace.lock_text();
    let run = workspace.run(&["outdated"]).ok();
    assert_eq!(
        run.stdout,
        "one  1.0 -> 1.1\n\
         two  1.0 -> 2.0 (no newer version has a wheel for the target) on python3.12-arm64\n\
         two  1.0 -> 2.0 on python3.12-x86_64\n",
        "{}",
        run.stderr
    );
    assert_eq!(workspace.lock_text(), lock, "outdated never changes the lock");
    let run = workspace.run(&["outdated", "--target", "python3.12-arm64", "--message-format", "json"]).ok();
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["packages"][1]["latest_with_wheel"], "1.0");
    assert_eq!(document["packages"][1]["targets"], serde_json::json!(["python3.12-arm64"]));
    let run = workspace.run(&["outdated", "--target", "python3.99-arm64"]).err();
    assert!(run.stderr.contains("no target `python3.99-arm64` in the lock"), "{}", run.stderr);
}

/// An index URL where nothing is found (a wrong path) is named as the likely cause.
#[test]
fn an_index_url_where_nothing_is_found_is_named_as_the_likely_cause() {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("one", "1.0")]), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, "");
    let wrong = format!("{}/nothing-here/", index.simple_url().trim_end_matches('/'));
    workspace.write_manifest(&format!(
        "[workspace]\nindex-url = \"{wrong}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"one\"]\n"
    ));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("no package named `one` on"), "{}", run.stderr);
    assert!(run.stderr.contains("the index URL is the likely cause"), "{}", run.stderr);
    // With several requirements too: the solver stops at the first, but each is asked.
    workspace.write_manifest(&format!(
        "[workspace]\nindex-url = \"{wrong}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"one\", \"two\"]\n"
    ));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("no package named `one`, `two` on"), "{}", run.stderr);
    assert!(run.stderr.contains("the index URL is the likely cause"), "{}", run.stderr);
}

/// A misspelled name is said with the project it was probably meant to be, and only one the
/// index has: a well-known name (`reqeusts`), or one swap of neighbouring letters away.
#[test]
fn a_misspelled_package_name_gets_a_did_you_mean_the_index_confirms() {
    let index = FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("requests", "2.32.0"),
            PackageSpec::new("acme-tools", "1.0"),
            PackageSpec::new("one", "1.0"),
        ]),
        IndexOptions::default(),
    );
    let body = "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"one\", \"{typo}\"]\n";
    let workspace = Workspace::new(&index, Api::Simple, &body.replace("{typo}", "reqeusts"));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("no package named `reqeusts` on"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `requests`?"), "{}", run.stderr);
    workspace.write_manifest(&body.replace("{typo}", "acme-tolos"));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("did you mean `acme-tools`?"), "{}", run.stderr);
    // A workspace whose one requirement is misspelled is not told its index is wrong.
    workspace.write_manifest(&body.replace("\"one\", \"{typo}\"", "\"reqeusts\""));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("did you mean `requests`?"), "{}", run.stderr);
    assert!(!run.stderr.contains("index URL is the likely cause"), "{}", run.stderr);
    // Every misspelled requirement is said at once, each with its own suggestion.
    workspace.write_manifest(&body.replace("\"{typo}\"", "\"reqeusts\", \"acme-tolos\""));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("no package named `acme-tolos`, `reqeusts` on"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `acme-tools` (for `acme-tolos`)? did you mean `requests` (for `reqeusts`)?"),
        "{}",
        run.stderr
    );
    // `numpi` is one edit from `numpy`, which this index does not have: no suggestion.
    workspace.write_manifest(&body.replace("{typo}", "numpi"));
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("no package named `numpi` on"), "{}", run.stderr);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
}

/// A name pinned to a private index is asked of that index alone, and so are its spellings:
/// none goes to the public index, and the hint points at the pinned index. Requirements a
/// marker leaves out, and packages found only in find-links, do not count as found.
#[test]
fn a_missing_pinned_name_points_at_its_index_and_no_spelling_of_it_leaves_it() {
    let index = FakeIndex::start(
        &Scenario::from_packages([PackageSpec::new("acme-tools", "1.0"), PackageSpec::new("one", "1.0")]),
        IndexOptions::default(),
    );
    let workspace = Workspace::new(&index, Api::Simple, "");
    let wrong = format!("{}/nothing-here/", index.simple_url().trim_end_matches('/'));
    workspace.write_manifest(&format!(
        "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n\
         [[workspace.index]]\nname = \"corp\"\nurl = \"{wrong}\"\nexplicit = true\n\
         [workspace.sources]\nacme-tolos = {{ index = \"corp\" }}\n\n\
         [function.f]\nrequirements = [\"acme-tolos\", \"one\", \"nothere ; python_version < '3'\"]\n"
    ));
    index.clear_requests();
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains(&format!("no package named `acme-tolos` on `{wrong}` (")), "{}", run.stderr);
    assert!(run.stderr.contains("pins it to index `corp`, so no other index was asked"), "{}", run.stderr);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    assert!(!run.stderr.contains("nothere"), "a marker leaves it out: {}", run.stderr);
    let asked: Vec<String> = index.requests().into_iter().filter(|path| path.contains("acme")).collect();
    assert!(asked.iter().all(|path| path.contains("/nothing-here/")), "{asked:?}");
}
