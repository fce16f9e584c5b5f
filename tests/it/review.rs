//! Found in review of the build plan and lock format 3: a lock's extras decide what each zip
//! holds, so a tampered extra must be refused, never followed into a zip; and extras whose
//! edges depend on the target keep every reader in agreement on each target.

use std::collections::BTreeSet;

use crate::support::files_under;
use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario, exported, set, zip_packages};
use crate::{Api, Workspace};

fn scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("web", "2.0").extra("speed").dep("core>=1").dep("turbo<4 ; extra == 'speed'"),
        PackageSpec::new("core", "1.5"),
        PackageSpec::new("turbo", "3.1"),
        PackageSpec::new("other", "1.0"),
    ])
}

const MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[function.plain]
requirements = ["web"]

[function.fast]
requirements = ["web[speed]"]

[function.more]
requirements = ["other"]
"#;

/// The 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap_or_else(|| panic!("`{needle}` is not in:\n{text}"))].matches('\n').count() + 1
}

#[test]
fn a_member_edge_with_an_extra_its_requirement_does_not_ask_for_is_refused() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, MANIFEST);
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    let edge = "\"function.plain\" = [\"web\"]";
    let line = line_of(&text, edge);
    // `plain` requires plain `web`; the tampered edge would put `turbo` into its zip.
    fs_err::write(workspace.lock_path(), text.replacen(edge, "\"function.plain\" = [\"web[speed]\"]", 1)).unwrap();
    for args in [
        &["build"][..],
        &["export", "--target", "python3.12-x86_64", "-p", "plain"],
        &["tree", "-p", "plain"],
        &["gaps"],
    ] {
        let run = workspace.run(args).failed();
        assert!(run.stdout.is_empty(), "{args:?} printed:\n{}", run.stdout);
        let stderr = run.stderr.replace('\n', " ");
        for expected in [
            format!("line {line}:"),
            "`function.plain` on python3.12-x86_64 depends on `web[speed]`, but its requirements ask for `web` without extras"
                .to_string(),
            "run `lbuild lock` to regenerate it".to_string(),
        ] {
            assert!(stderr.contains(&expected), "{args:?}: `{expected}` is not in:\n{}", run.stderr);
        }
    }
    assert!(files_under(&workspace.path().join("target")).is_empty(), "nothing was built");
    // `lbuild lock` replaces it with what the requirements ask for.
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("resolving again"), "{}", run.stderr);
    assert_eq!(workspace.lock_text(), text);
}

#[test]
fn an_extra_edge_the_wheel_does_not_require_fails_the_build() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, MANIFEST);
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    let extra = "speed = [\"turbo<4\"]";
    assert!(text.contains(extra), "{text}");
    // `other` is in the lock (for `more`), so the tampered lock holds together; only the wheel
    // of `web`, whose METADATA never requires `other`, can tell.
    let tampered = text.replacen(extra, "speed = [\"other\", \"turbo<4\"]", 1);
    fs_err::write(workspace.lock_path(), &tampered).unwrap();
    let export = workspace.run(&["export", "--target", "python3.12-x86_64", "-p", "fast"]).ok();
    assert!(exported(&export.stdout).contains("other"), "the tampered lock is read:\n{}", export.stdout);

    // A fresh cache (a CI machine) has no metadata from the resolution to compare with.
    let fresh = tempfile::tempdir().unwrap();
    let cache = fresh.path().display().to_string();
    let run = workspace.run_env(&["build", "-p", "fast"], &[("LBUILD_CACHE_DIR", &cache)]).failed();
    let stderr = run.stderr.replace('\n', " ");
    assert!(
        stderr.contains("the lock has it depend on `other`, which its METADATA does not require"),
        "{}",
        run.stderr
    );
    assert!(files_under(&workspace.path().join("target/lambda")).iter().all(|path| !path.ends_with(".zip")));

    // The untampered lock builds, and `fast` holds what `web[speed]` brings.
    fs_err::write(workspace.lock_path(), &text).unwrap();
    workspace.run_env(&["build", "-p", "fast"], &[("LBUILD_CACHE_DIR", &cache)]).ok();
    let zip = workspace.path().join("target/lambda/functions/fast-python3.12-x86_64.zip");
    assert_eq!(zip_packages(&zip), set(&["core", "turbo", "web"]));
}

#[test]
fn an_extra_whose_edges_depend_on_the_python_version_agrees_on_every_target() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("web", "2.0")
            .extra("speed")
            .dep("turbo ; extra == 'speed' and python_version < '3.13'")
            .dep("jit ; extra == \"speed\" and python_version >= \"3.13\""),
        PackageSpec::new("turbo", "3.1"),
        PackageSpec::new("jit", "0.5"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        r#"[workspace]
index-url = "{index}"
architectures = ["x86_64", "arm64"]

[function.old]
requirements = ["web[speed]"]

[function.new]
requirements = ["web[speed]"]
runtime = "python3.13"

[function.bare]
requirements = ["web"]
runtime = "python3.13"
"#,
    );
    workspace.run(&["build"]).ok();
    for (member, target, expected) in [
        ("old", "python3.12-x86_64", &["turbo", "web"][..]),
        ("old", "python3.12-arm64", &["turbo", "web"]),
        ("new", "python3.13-x86_64", &["jit", "web"]),
        ("new", "python3.13-arm64", &["jit", "web"]),
        ("bare", "python3.13-arm64", &["web"]),
    ] {
        let zip = workspace.path().join(format!("target/lambda/functions/{member}-{target}.zip"));
        assert_eq!(zip_packages(&zip), set(expected), "{member} on {target}");
        let export = workspace.run(&["export", "--target", target, "-p", member]).ok();
        assert_eq!(exported(&export.stdout), set(expected), "export of {member} on {target}:\n{}", export.stdout);
        let listing = workspace.run(&["build", "--list-files", "-p", member, "--message-format", "json"]).ok();
        let listing: serde_json::Value = serde_json::from_str(&listing.stdout).unwrap();
        let listed: BTreeSet<String> = listing["zips"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|zip| zip["target"] == target)
            .flat_map(|zip| zip["entries"].as_array().unwrap().iter())
            .filter_map(|entry| entry["package"].as_str().map(str::to_string))
            .collect();
        assert_eq!(listed, set(expected), "--list-files of {member} on {target}");
    }
    // On 3.13 the extra brings `jit` only, and the lock says so per target.
    let text = workspace.lock_text();
    assert!(text.contains("speed = [\"jit\"]") && text.contains("speed = [\"turbo\"]"), "{text}");
}

#[test]
fn a_lock_that_gives_a_target_the_wheel_of_another_architecture_is_refused() {
    let scenario = Scenario::from_packages([PackageSpec::new("fast", "1.0")
        .wheel("cp312-cp312-manylinux_2_17_x86_64")
        .wheel("cp312-cp312-manylinux_2_17_aarch64")]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\", \"arm64\"]\n\n[function.f]\nrequirements = [\"fast\"]\n",
    );
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    // Give the x86_64 target the arm64 wheel: name, URL, hash and size all of a real file.
    let wheel_of = |arch: &str| -> String {
        let start = text.find(&format!("filename = \"fast-1.0-cp312-cp312-manylinux_2_17_{arch}.whl\"")).unwrap();
        let end = start + text[start..].find("size = ").unwrap();
        let end = end + text[end..].find('\n').unwrap();
        text[start..end].to_string()
    };
    let tampered = text.replacen(&wheel_of("x86_64"), &wheel_of("aarch64"), 1);
    assert_ne!(tampered, text);
    // The error is on the line of the x86_64 entry's file, the second copy of the arm64 one.
    let line =
        tampered.match_indices(&wheel_of("aarch64")).nth(1).map(|(at, _)| tampered[..at].matches('\n').count() + 1);
    fs_err::write(workspace.lock_path(), &tampered).unwrap();
    let run = workspace.run(&["build", "--arch", "x86_64"]).failed();
    let stderr = run.stderr.replace('\n', " ");
    assert!(
        stderr.contains(&format!("line {}:", line.unwrap()))
            && stderr.contains(
                "the wheel `fast-1.0-cp312-cp312-manylinux_2_17_aarch64.whl` does not install on python3.12-x86_64"
            )
            && stderr.contains("run `lbuild lock` to regenerate it"),
        "{}",
        run.stderr
    );
    assert!(files_under(&workspace.path().join("target")).is_empty(), "nothing was built");
}

#[test]
fn a_package_that_turns_on_its_own_extra_ships_what_the_extra_brings() {
    // `web` requires its own extra unconditionally (`web[speed]`), and `speed` brings `turbo`:
    // every install of `web` has `turbo`.
    let scenario = Scenario::from_packages([
        PackageSpec::new("web", "2.0").extra("speed").dep("web[speed]").dep("turbo ; extra == 'speed'"),
        PackageSpec::new("turbo", "3.1"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"web\"]\n",
    );
    workspace.run(&["build"]).ok();
    let zip = workspace.path().join("target/lambda/functions/f-python3.12-x86_64.zip");
    assert_eq!(zip_packages(&zip), set(&["turbo", "web"]));
    // The lock keeps the self-edge that turns the extra on.
    let lock = std::fs::read_to_string(workspace.lock_path()).unwrap();
    assert!(lock.contains("\"web[speed]\""), "{lock}");
}

#[test]
fn an_extra_added_to_a_package_edge_by_hand_fails_the_build() {
    // `app` requires plain `web`; another function's `web[speed]` puts `speed`'s edges in the
    // lock, so a tampered `web[speed]` edge on `app` holds together as a lock. Only `app`'s
    // METADATA, which never asks for the extra, can tell.
    let scenario = Scenario::from_packages([
        PackageSpec::new("app", "1.0").dep("web>=1"),
        PackageSpec::new("web", "2.0").extra("speed").dep("turbo<4 ; extra == 'speed'"),
        PackageSpec::new("turbo", "3.1"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.plain]\nrequirements = [\"app\"]\n\n[function.fast]\nrequirements = [\"web[speed]\"]\n",
    );
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert_eq!(text.matches("\"web>=1\"").count(), 1, "{text}");
    fs_err::write(workspace.lock_path(), text.replacen("\"web>=1\"", "\"web[speed]>=1\"", 1)).unwrap();
    let export = workspace.run(&["export", "--target", "python3.12-x86_64", "-p", "plain"]).ok();
    assert!(exported(&export.stdout).contains("turbo"), "the tampered lock is read:\n{}", export.stdout);

    let fresh = tempfile::tempdir().unwrap();
    let cache = fresh.path().display().to_string();
    let run = workspace.run_env(&["build", "-p", "plain"], &[("LBUILD_CACHE_DIR", &cache)]).failed();
    assert!(run.stderr.replace('\n', " ").contains("never asks for the extra `speed`"), "{}", run.stderr);
    assert!(files_under(&workspace.path().join("target/lambda")).iter().all(|path| !path.ends_with(".zip")));
}
