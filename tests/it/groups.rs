//! Per-function resolution: `[workspace] resolution = "per-function"` and `isolated = true`.
//! Functions that must differ (one pins `sdk==1.28.57`, another needs `chain`, which needs
//! `sdk>=1.37`) are locked in groups, each zip holds its own group's versions, and `tree`,
//! `gaps` and `export` read the same groups; functions that share a layer stay together; and a
//! lock whose groups do not hold together is refused.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

const X86: &str = "python3.12-x86_64";

fn scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("sdk", "1.28.57"),
        PackageSpec::new("sdk", "1.37.0"),
        PackageSpec::new("sdk", "1.38.2"),
        PackageSpec::new("chain", "0.9.0").dep("sdk>=1.37"),
        PackageSpec::new("idna", "3.10"),
    ])
}

/// Two functions that cannot share a resolution, with `settings` added to `[workspace]` and
/// `old_extra` to `[function.old]`.
fn manifest(settings: &str, old_extra: &str) -> String {
    format!(
        "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n{settings}\n\n\
         [function.old]\nrequirements = [\"sdk==1.28.57\"]\n{old_extra}\n\n\
         [function.new]\nrequirements = [\"chain\"]\n"
    )
}

fn start() -> FakeIndex {
    FakeIndex::start(&scenario(), IndexOptions::default())
}

/// Package -> version, from the `.dist-info` METADATA files of a zip.
fn zip_versions(workspace: &Workspace, path: &str) -> BTreeMap<String, String> {
    let file = fs_err::File::open(workspace.path().join("target/lambda").join(path)).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut versions = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().trim_start_matches("python/").to_string();
        if name.split_once('/').is_some_and(|(dir, file)| dir.ends_with(".dist-info") && file == "METADATA") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            let field = |key: &str| text.lines().find_map(|line| line.strip_prefix(key)).unwrap().to_string();
            versions.insert(field("Name: "), field("Version: "));
        }
    }
    versions
}

/// Package -> version, as `tree --message-format json -p MEMBER` shows it.
fn tree_versions(workspace: &Workspace, member: &str) -> BTreeMap<String, String> {
    fn walk(node: &Value, out: &mut BTreeMap<String, String>) {
        if node["kind"] == "package" {
            out.insert(node["name"].as_str().unwrap().to_string(), node["version"].as_str().unwrap().to_string());
        }
        for child in node["children"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let run = workspace.run(&["tree", "-p", member, "--message-format", "json"]).ok();
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut versions = BTreeMap::new();
    for root in document["targets"][0]["roots"].as_array().unwrap() {
        walk(root, &mut versions);
    }
    versions
}

/// Package -> version, from `export -p MEMBER`.
fn export_versions(workspace: &Workspace, member: &str) -> BTreeMap<String, String> {
    let run = workspace.run(&["export", "--target", X86, "-p", member]).ok();
    run.stdout
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with(' '))
        .filter_map(|line| line.trim_end_matches(" \\").split_once("=="))
        .map(|(name, version)| (name.to_string(), version.to_string()))
        .collect()
}

fn versions(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(name, version)| (name.to_string(), version.to_string())).collect()
}

#[test]
fn unified_resolution_fails_with_a_hint_to_resolve_the_functions_apart() {
    let index = start();
    let workspace = Workspace::new(&index, Api::Json, &manifest("", ""));
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("no solution for python3.12-x86_64"), "{}", run.stderr);
    assert!(run.stderr.contains("resolution = \"per-function\""), "{}", run.stderr);
    assert!(run.stderr.contains("isolated = true"), "{}", run.stderr);
    assert!(!run.stderr.contains("different targets"), "{}", run.stderr);
}

#[test]
fn per_function_resolution_locks_each_function_apart_and_every_reader_agrees() {
    let index = start();
    let workspace = Workspace::new(&index, Api::Json, &manifest("resolution = \"per-function\"", ""));
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert!(text.contains("version = 4\n"), "{text}");
    assert!(text.contains("resolution = \"per-function\""), "{text}");
    assert!(text.contains("group = \"function.old\""), "{text}");
    assert!(text.contains("group = \"function.new\""), "{text}");
    // Both versions of `sdk` on one target, one per group.
    let sdk: Vec<&str> = text.matches("name = \"sdk\"").collect();
    assert_eq!(sdk.len(), 2, "{text}");
    // Locked again, nothing changes; `--locked` accepts it.
    workspace.run(&["lock", "--locked"]).ok();

    workspace.run(&["build"]).ok();
    let old = zip_versions(&workspace, "functions/old-python3.12-x86_64.zip");
    let new = zip_versions(&workspace, "functions/new-python3.12-x86_64.zip");
    assert_eq!(old, versions(&[("sdk", "1.28.57")]));
    assert_eq!(new, versions(&[("chain", "0.9.0"), ("sdk", "1.38.2")]));
    assert_eq!(tree_versions(&workspace, "old"), old, "tree says what the zip holds");
    assert_eq!(tree_versions(&workspace, "new"), new, "tree says what the zip holds");
    assert_eq!(export_versions(&workspace, "old"), old, "export says what the zip holds");
    assert_eq!(export_versions(&workspace, "new"), new, "export says what the zip holds");
    // The whole workspace cannot be one requirements file.
    let run = workspace.run(&["export", "--target", X86]).failed();
    assert!(run.stderr.contains("sdk==1.28.57") && run.stderr.contains("sdk==1.38.2"), "{}", run.stderr);
    assert!(run.stderr.contains("-p NAME"), "{}", run.stderr);
    // `tree --invert` shows each group's version.
    let run = workspace.run(&["tree", "--invert", "sdk"]).ok();
    assert!(run.stdout.contains("sdk v1.28.57") && run.stdout.contains("sdk v1.38.2"), "{}", run.stdout);
}

#[test]
fn gaps_are_reported_for_the_group_that_holds_them() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("sdk", "1.28.57").sdist(),
        PackageSpec::new("sdk", "1.38.2"),
        PackageSpec::new("chain", "0.9.0").dep("sdk>=1.37"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, &manifest("resolution = \"per-function\"", ""));
    workspace.run(&["lock"]).ok();
    // A gap blocks a build, so `gaps` exits 1; its report is what matters here.
    let run = workspace.run(&["gaps", "--message-format", "json"]).failed();
    let gaps: Value = serde_json::from_str(&run.stdout).unwrap();
    let gaps = gaps.as_array().or_else(|| gaps["gaps"].as_array()).unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(gaps.len(), 1, "{}", run.stdout);
    assert_eq!(gaps[0]["package"], "sdk");
    assert_eq!(gaps[0]["version"], "1.28.57");
    assert_eq!(gaps[0]["needed_by"], serde_json::json!(["function.old"]), "{}", run.stdout);
}

#[test]
fn functions_that_share_a_layer_are_resolved_together() {
    let index = start();
    let body = |a_requirement: &str| {
        format!(
            "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\nresolution = \"per-function\"\n\n\
             [layer.base]\nrequirements = [\"idna\"]\n\n\
             [function.a]\nrequirements = [\"{a_requirement}\"]\nlayers = [\"base\"]\n\n\
             [function.b]\nrequirements = [\"chain\"]\nlayers = [\"base\"]\n\n\
             [function.c]\nrequirements = [\"sdk==1.28.57\"]\n\n\
             [layer.spare]\nrequirements = [\"sdk\"]\n"
        )
    };
    let workspace = Workspace::new(&index, Api::Json, &body("sdk"));
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert!(
        text.contains(r#""function.a" = ["function.a", "function.b", "layer.base"]"#)
            && text.contains(r#""function.c" = ["function.c"]"#)
            // A layer no function uses is a group of its own.
            && text.contains(r#""layer.spare" = ["layer.spare"]"#),
        "{text}"
    );
    workspace.run(&["build"]).ok();
    assert_eq!(zip_versions(&workspace, "functions/a-python3.12-x86_64.zip"), versions(&[("sdk", "1.38.2")]));
    assert_eq!(zip_versions(&workspace, "functions/c-python3.12-x86_64.zip"), versions(&[("sdk", "1.28.57")]));
    assert_eq!(zip_versions(&workspace, "layers/base-python3.12-x86_64.zip"), versions(&[("idna", "3.10")]));
    assert_eq!(zip_versions(&workspace, "layers/spare-python3.12-x86_64.zip"), versions(&[("sdk", "1.38.2")]));

    // `a` and `b` share `base`, so `a` cannot pin the old sdk that `b`'s chain refuses.
    workspace.write_manifest(&body("sdk==1.28.57"));
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("no solution for python3.12-x86_64"), "{}", run.stderr);
    assert!(
        run.stderr.contains("give the functions `a`, `b` layers of their own: they share the layer `base`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_isolated_function_is_resolved_apart_in_unified_mode() {
    let index = start();
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &(manifest("", "isolated = true") + "\n[function.other]\nrequirements = [\"idna\", \"sdk\"]\n"),
    );
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert!(text.contains("resolution = \"unified\""), "{text}");
    assert!(text.contains("[target.groups]\n\"function.old\" = [\"function.old\"]\n\n"), "{text}");
    // `new` and `other` share the unified group: their entries name no group.
    assert_eq!(text.matches("group = ").count(), 1, "only old's sdk is in a named group:\n{text}");
    workspace.run(&["build"]).ok();
    assert_eq!(zip_versions(&workspace, "functions/old-python3.12-x86_64.zip"), versions(&[("sdk", "1.28.57")]));
    assert_eq!(
        zip_versions(&workspace, "functions/other-python3.12-x86_64.zip"),
        versions(&[("idna", "3.10"), ("sdk", "1.38.2")])
    );
}

#[test]
fn an_isolated_function_that_shares_a_layer_is_a_manifest_error() {
    let index = start();
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\n\n[layer.base]\nrequirements = [\"idna\"]\n\n\
         [function.a]\nlayers = [\"base\"]\nisolated = true\n\n[function.b]\nlayers = [\"base\"]\n",
    );
    let run = workspace.run(&["lock"]).failed();
    assert!(
        run.stderr.contains("function `a` is `isolated`, but shares layer `base` with function `b`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("lambda.toml:9"), "points at `isolated`: {}", run.stderr);
    assert!(run.stderr.contains("a layer of its own"), "{}", run.stderr);
}

#[test]
fn changing_the_resolution_mode_makes_locked_fail_and_lock_relocks() {
    let index = start();
    // Compatible requirements, so both modes resolve.
    let body = |settings: &str| {
        format!(
            "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n{settings}\n\n\
             [function.old]\nrequirements = [\"sdk\"]\n\n[function.new]\nrequirements = [\"chain\"]\n"
        )
    };
    let workspace = Workspace::new(&index, Api::Json, &body("resolution = \"per-function\""));
    workspace.run(&["lock"]).ok();
    assert!(workspace.lock_text().contains("group = \"function.new\""));

    workspace.write_manifest(&body(""));
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(
        run.stderr.contains("the resolution mode (`[workspace] resolution`) changed from `per-function` to `unified`"),
        "{}",
        run.stderr
    );
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert!(!text.contains("group"), "a unified lock has no groups:\n{text}");
    assert!(text.contains("resolution = \"unified\""), "{text}");
    workspace.run(&["lock", "--locked"]).ok();

    // `isolated` is an input too.
    workspace.write_manifest(&body("").replacen(
        "requirements = [\"sdk\"]",
        "requirements = [\"sdk\"]\nisolated = true",
        1,
    ));
    let run = workspace.run(&["lock", "--locked"]).failed();
    assert!(run.stderr.contains("`function.old` is now `isolated`"), "{}", run.stderr);
}

/// A per-function lock to tamper with.
fn locked() -> (FakeIndex, Workspace) {
    let index = start();
    let workspace = Workspace::new(&index, Api::Json, &manifest("resolution = \"per-function\"", ""));
    workspace.run(&["lock"]).ok();
    (index, workspace)
}

#[track_caller]
fn refused(workspace: &Workspace, text: &str, expected: &str) {
    fs_err::write(workspace.lock_path(), text).unwrap();
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(run.stderr.contains("invalid lock"), "{}", run.stderr);
    assert!(run.stderr.contains(expected), "expected {expected:?}:\n{}", run.stderr);
    assert!(!workspace.path().join("target/lambda").exists(), "nothing is built from a tampered lock");
}

#[test]
fn a_lock_with_a_member_in_the_wrong_group_is_refused() {
    let (_index, workspace) = locked();
    let text = workspace.lock_text();
    let groups = "[target.groups]\n\"function.new\" = [\"function.new\"]\n\"function.old\" = [\"function.old\"]\n";
    assert!(text.contains(groups), "{text}");
    // `old` listed in `new`'s group: its edge would be read from the other resolution.
    let moved = text.replacen(groups, "[target.groups]\n\"function.new\" = [\"function.new\", \"function.old\"]\n", 1);
    refused(
        &workspace,
        &moved,
        "`function.old` is in group `function.new` on python3.12-x86_64, but with resolution `per-function` it is resolved in group `function.old`",
    );
    // Listed twice.
    let twice = text.replacen(
        "\"function.new\" = [\"function.new\"]\n\"function.old",
        "\"function.new\" = [\"function.new\", \"function.old\"]\n\"function.old",
        1,
    );
    refused(&workspace, &twice, "`function.old` is in more than one group");
    // A group name that is no group of the inputs (and looks like a path) is refused by name.
    let named = text.replacen("\"function.old\" = [\"function.old\"]\n", "\"../../out\" = [\"function.old\"]\n", 1);
    refused(&workspace, &named, "has the group `../../out`, which the inputs (resolution `per-function`) do not make");
    // No groups at all: the lock claims a unified resolution the inputs do not make.
    refused(&workspace, &text.replacen(groups, "", 1), "it is resolved in group `function.new`");
}

#[test]
fn a_lock_with_a_package_in_an_unknown_group_is_refused() {
    let (_index, workspace) = locked();
    let text = workspace.lock_text();
    let ghost = text.replacen("group = \"function.new\"", "group = \"function.ghost\"", 1);
    refused(&workspace, &ghost, "which the target's `groups` does not have");
    // An entry without a group where every member is in a named group.
    let none = text.replacen("group = \"function.new\"\n", "", 1);
    refused(&workspace, &none, "names no group, but every member of the target is in a named group");
}

#[test]
fn a_lock_with_a_version_reached_only_from_another_group_is_refused() {
    let (_index, workspace) = locked();
    let text = workspace.lock_text();
    // `chain` moved into old's group: new's edge to it no longer resolves within new's group.
    let start = text.find("name = \"chain\"").unwrap();
    let end = start + text[start..].find("[[package]]").unwrap_or(text.len() - start);
    let chain = &text[start..end];
    let moved = text.replacen(chain, &chain.replacen("group = \"function.new\"", "group = \"function.old\"", 1), 1);
    refused(&workspace, &moved, "in group `function.new`");
    // `chain` also entered in old's group, where nothing of old's reaches it.
    let entry = &chain[chain.find("[[package.target]]").unwrap()..];
    let doubled = text.replacen(
        chain,
        &format!("{chain}\n{}", entry.replacen("group = \"function.new\"", "group = \"function.old\"", 1)),
        1,
    );
    refused(
        &workspace,
        &doubled,
        "package `chain 0.9.0` on python3.12-x86_64 in group `function.old` is reached by no dependency edge of a member of its group",
    );
    // The new sdk also entered in old's group, where old pins 1.28.57: two versions in one group.
    let start = text.find("name = \"sdk\"\nversion = \"1.38.2\"").unwrap();
    let end = start + text[start..].find("[[package]]").unwrap_or(text.len() - start);
    let sdk = &text[start..end];
    let entry_start = sdk.find("[[package.target]]").unwrap();
    let entry = &sdk[entry_start..];
    let doubled = text.replacen(
        sdk,
        &format!("{sdk}\n{}", entry.replacen("group = \"function.new\"", "group = \"function.old\"", 1)),
        1,
    );
    refused(
        &workspace,
        &doubled,
        "`sdk` is locked at both 1.28.57 and 1.38.2 on python3.12-x86_64 in group `function.old`",
    );
}

#[test]
fn switching_to_per_function_keeps_each_function_s_pins() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("sdk", "1.37.0"),
        PackageSpec::new("chain", "0.9.0").dep("sdk>=1.37"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let body = |settings: &str| {
        format!(
            "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n{settings}\n\n\
             [function.old]\nrequirements = [\"sdk\"]\n\n[function.new]\nrequirements = [\"chain\"]\n"
        )
    };
    let workspace = Workspace::new(&index, Api::Json, &body(""));
    workspace.run(&["lock"]).ok();
    index.publish(PackageSpec::new("sdk", "1.38.2"));
    workspace.write_manifest(&body("resolution = \"per-function\""));
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    // Each group starts from the unified lock's pins: nothing moves to the newer sdk.
    assert_eq!(text.matches("version = \"1.37.0\"").count(), 1, "{text}");
    assert!(!text.contains("1.38.2"), "{text}");
    assert_eq!(text.matches("group = \"function.").count(), 3, "sdk in both groups, chain in one:\n{text}");
    // An upgrade moves both.
    workspace.run(&["lock", "--upgrade-package", "sdk"]).ok();
    let text = workspace.lock_text();
    assert!(text.contains("version = \"1.38.2\"") && !text.contains("1.37.0"), "{text}");
}
