//! The build plan: every reader of "what goes into a zip" (the zip itself, `export`, `tree`,
//! `gaps`, the lock's report) says the same thing, extras stay with the function that asks for
//! them, and the lock format that records them per extra.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario, exported, set, zip_packages};
use crate::{Api, Workspace};

const X86_312: &str = "python3.12-x86_64";

fn zip(workspace: &Workspace, path: &str) -> BTreeSet<String> {
    zip_packages(&workspace.path().join("target/lambda").join(path))
}

/// Every package name under a tree node, with the node, and who provides it when not zipped.
fn tree_packages(node: &Value, out: &mut BTreeSet<(String, Option<String>)>) {
    if node["kind"] == "package" {
        out.insert((node["name"].as_str().unwrap().to_string(), node["provided_by"].as_str().map(str::to_string)));
    }
    for child in node["children"].as_array().into_iter().flatten() {
        tree_packages(child, out);
    }
}

/// What `tree --message-format json -p NAME` says the member's zip holds: every package shown
/// under it without `provided_by`.
fn tree_zipped(workspace: &Workspace, member: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let run = workspace.run(&["tree", "-p", member, "--message-format", "json"]).ok();
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut all = BTreeSet::new();
    for root in document["targets"][0]["roots"].as_array().unwrap() {
        tree_packages(root, &mut all);
    }
    let zipped = all.iter().filter(|(_, provided)| provided.is_none()).map(|(name, _)| name.clone()).collect();
    let provided = all.into_iter().filter_map(|(name, provided)| provided.map(|provided| (name, provided))).collect();
    (zipped, provided)
}

fn runtime_scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("boto3", "1.40.0").dep("botocore>=1.40").dep("s3transfer"),
        PackageSpec::new("botocore", "1.40.0").dep("urllib3").dep("jmespath"),
        PackageSpec::new("s3transfer", "0.14.0").dep("botocore"),
        PackageSpec::new("jmespath", "1.0.1"),
        PackageSpec::new("urllib3", "2.5.0"),
        PackageSpec::new("idna", "3.10"),
        PackageSpec::new("requests", "2.32.0").dep("urllib3").dep("idna"),
        // Only an sdist, needed only by what the runtime provides: not a gap of any zip.
        PackageSpec::new("jmespath-speedups", "0.1").sdist(),
    ])
}

#[test]
fn runtime_packages_are_left_out_of_the_zip_and_of_export_tree_and_gaps_alike() {
    let mut scenario = runtime_scenario();
    scenario = scenario.package(PackageSpec::new("jmespath", "1.0.2").dep("jmespath-speedups"));
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\nexclude-runtime-packages = true\n\n\
         [function.f]\nrequirements = [\"boto3\", \"requests\"]\n\n[function.g]\nrequirements = [\"requests\"]\n",
    );
    // The sdist-only package sits inside what the runtime provides: nothing needs it built.
    let run = workspace.run(&["lock"]).ok();
    assert!(!run.stderr.contains("no usable wheel"), "{}", run.stderr);
    let gaps = workspace.run(&["gaps"]).ok();
    assert!(gaps.stdout.contains("No gaps"), "{}", gaps.stdout);
    workspace.run(&["build"]).ok();

    let f_zip = zip(&workspace, "functions/f-python3.12-x86_64.zip");
    assert_eq!(f_zip, set(&["idna", "requests"]));
    let export = workspace.run(&["export", "--target", X86_312, "-p", "f"]).ok();
    assert_eq!(exported(&export.stdout), f_zip, "export says what the zip holds:\n{}", export.stdout);
    assert!(
        export.stdout.contains("# Left out, the Lambda runtime provides them: boto3, botocore, jmespath, jmespath-speedups, s3transfer, urllib3."),
        "{}",
        export.stdout
    );
    let (zipped, provided) = tree_zipped(&workspace, "f");
    assert_eq!(zipped, f_zip, "tree marks what the zip leaves out");
    assert!(provided.contains(&("urllib3".to_string(), "the runtime".to_string())), "{provided:?}");
    let text = workspace.run(&["tree", "-p", "f"]).ok().stdout;
    assert!(text.contains("boto3 v1.40.0 [required: *] (provided by the runtime)"), "{text}");

    // Without boto3 in its closure, `g` ships its own urllib3 (as it always has).
    let g_zip = zip(&workspace, "functions/g-python3.12-x86_64.zip");
    assert_eq!(g_zip, set(&["idna", "requests", "urllib3"]));
    let export = workspace.run(&["export", "--target", X86_312, "-p", "g"]).ok();
    assert_eq!(exported(&export.stdout), g_zip, "{}", export.stdout);
    assert_eq!(tree_zipped(&workspace, "g").0, g_zip);
    // The whole workspace: what any zip holds.
    let export = workspace.run(&["export", "--target", X86_312]).ok();
    assert_eq!(exported(&export.stdout), set(&["idna", "requests", "urllib3"]), "{}", export.stdout);
}

fn extras_scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("web", "2.0").extra("speed").dep("core>=1").dep("turbo<4 ; extra == 'speed'"),
        PackageSpec::new("core", "1.5"),
        PackageSpec::new("turbo", "3.1").dep("jit"),
        PackageSpec::new("jit", "0.5"),
        // An extra that turns on another package's extra, and one that turns on its own.
        PackageSpec::new("suite", "1.0")
            .extra("all")
            .extra("full")
            .dep("web[speed] ; extra == 'all'")
            .dep("suite[all] ; extra == 'full'"),
    ])
}

#[test]
fn an_extra_one_function_asks_for_stays_out_of_the_others_zips() {
    let index = FakeIndex::start(&extras_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[function.plain]
requirements = ["web"]

[function.fast]
requirements = ["web[speed]"]

[function.everything]
requirements = ["suite[all]"]

[function.bare-suite]
requirements = ["suite"]

[function.full-suite]
requirements = ["suite[full]"]
"#,
    );
    workspace.run(&["build"]).ok();
    let plain = zip(&workspace, "functions/plain-python3.12-x86_64.zip");
    assert_eq!(plain, set(&["core", "web"]), "`turbo` is only `web[speed]`'s");
    assert_eq!(zip(&workspace, "functions/fast-python3.12-x86_64.zip"), set(&["core", "jit", "turbo", "web"]));
    assert_eq!(
        zip(&workspace, "functions/everything-python3.12-x86_64.zip"),
        set(&["core", "jit", "suite", "turbo", "web"]),
        "an extra's extras are followed"
    );
    assert_eq!(zip(&workspace, "functions/bare-suite-python3.12-x86_64.zip"), set(&["suite"]));
    assert_eq!(
        zip(&workspace, "functions/full-suite-python3.12-x86_64.zip"),
        set(&["core", "jit", "suite", "turbo", "web"]),
        "an extra that names another extra of its own package"
    );
    assert!(workspace.lock_text().contains("full = [\"suite[all]\"]"), "{}", workspace.lock_text());
    for member in ["plain", "fast", "everything", "bare-suite", "full-suite"] {
        let path = format!("functions/{member}-python3.12-x86_64.zip");
        let export = workspace.run(&["export", "--target", X86_312, "-p", member]).ok();
        assert_eq!(exported(&export.stdout), zip(&workspace, &path), "export of {member}:\n{}", export.stdout);
        assert_eq!(tree_zipped(&workspace, member).0, zip(&workspace, &path), "tree of {member}");
    }
    let run = workspace.run(&["tree", "-p", "fast", "--message-format", "json"]).ok();
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    let web = &document["targets"][0]["roots"][0]["children"][0];
    let edges: Vec<(&str, Option<&str>)> = web["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| (child["name"].as_str().unwrap(), child["extra"].as_str()))
        .collect();
    assert_eq!(edges, [("core", None), ("turbo", Some("speed"))], "the JSON names the extra of each edge");
    let run = workspace.run(&["tree", "--invert", "turbo"]).ok();
    assert!(!run.stdout.contains("function plain"), "{}", run.stdout);
    assert!(run.stdout.contains("function fast"), "{}", run.stdout);
}

#[test]
fn extras_do_not_leak_through_layers_either() {
    let index = FakeIndex::start(&extras_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[layer.speedy]
requirements = ["web[speed]"]

[layer.basic]
requirements = ["web"]

[function.on-speedy]
requirements = ["web"]
layers = ["speedy"]

[function.on-basic]
requirements = ["web[speed]"]
layers = ["basic"]
"#,
    );
    workspace.run(&["build"]).ok();
    assert_eq!(zip(&workspace, "layers/basic-python3.12-x86_64.zip"), set(&["core", "web"]));
    assert_eq!(zip(&workspace, "layers/speedy-python3.12-x86_64.zip"), set(&["core", "jit", "turbo", "web"]));
    assert_eq!(zip(&workspace, "functions/on-speedy-python3.12-x86_64.zip"), set(&[]), "the layer has it all");
    // The basic layer has `web` but not its extra: the function ships the extra's packages.
    assert_eq!(zip(&workspace, "functions/on-basic-python3.12-x86_64.zip"), set(&["jit", "turbo"]));
    let export = workspace.run(&["export", "--target", X86_312, "-p", "on-basic"]).ok();
    assert_eq!(exported(&export.stdout), set(&["core", "jit", "turbo", "web"]), "with its layer:\n{}", export.stdout);
    let (zipped, provided) = tree_zipped(&workspace, "on-basic");
    assert_eq!(zipped, set(&["jit", "turbo"]));
    assert!(provided.contains(&("web".to_string(), "layer basic".to_string())), "{provided:?}");
}

/// The lock text with what varies between runs (the fake index's port, and the fingerprint
/// over it) replaced.
fn stable_lock_text(workspace: &Workspace) -> String {
    let text = workspace.lock_text().replace(&workspace.index_url, "{index}");
    let origin = workspace.index_url.split("/pypi").next().unwrap().trim_end_matches('/').to_string();
    text.replace(&origin, "{origin}")
        .lines()
        .map(|line| if line.starts_with("fingerprint = ") { "fingerprint = \"[fingerprint]\"" } else { line })
        .collect::<Vec<_>>()
        .join("\n")
}

const SNAPSHOT_MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[layer.base]
requirements = ["core"]

[function.api]
requirements = ["web[speed]>=2"]
layers = ["base"]

[function.cron]
requirements = ["web", "suite[all]"]
"#;

#[test]
fn lock_text_snapshot() {
    let index = FakeIndex::start(&extras_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, SNAPSHOT_MANIFEST);
    workspace.run(&["lock"]).ok();
    insta::assert_snapshot!(stable_lock_text(&workspace));
}

#[test]
fn tree_snapshot() {
    let index = FakeIndex::start(&extras_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, SNAPSHOT_MANIFEST);
    let tree = workspace.run(&["tree"]).ok().stdout;
    let inverted = workspace.run(&["tree", "--invert", "jit"]).ok().stdout;
    insta::assert_snapshot!(format!("{tree}\n$ lbuild tree --invert jit\n{inverted}"));
}

#[test]
fn a_version_2_lock_is_stale_for_its_format_and_lbuild_lock_rewrites_it() {
    let index = FakeIndex::start(&extras_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.plain]\nrequirements = [\"web\"]\n\n[function.fast]\nrequirements = [\"web[speed]\"]\n",
    );
    workspace.run(&["lock"]).ok();
    let current = workspace.lock_text();
    assert!(current.contains("version = 4\n"), "{current}");
    // What lbuild 2 wrote: the extra's edge merged into the package's, and no extras tables.
    let old = current
        .replacen("version = 4\n", "version = 2\n", 1)
        .replacen("dependencies = [\"core>=1\"]", "dependencies = [\"core>=1\", \"turbo<4\"]", 1)
        .replacen("\n[package.target.extras]\nspeed = [\"turbo<4\"]\n", "\n", 1);
    assert_ne!(old, current);
    assert!(!old.contains("extras"), "{old}");
    fs_err::write(workspace.lock_path(), &old).unwrap();

    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(run.stderr.contains("`--locked` was passed"), "{}", run.stderr);
    assert!(run.stderr.contains("format version 2"), "{}", run.stderr);
    assert!(run.stderr.contains("`lbuild lock` rewrites it"), "{}", run.stderr);
    assert_eq!(workspace.lock_text(), old, "`--locked` writes nothing");

    index.clear_requests();
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("Locked"), "{}", run.stderr);
    assert_eq!(workspace.lock_text(), current, "the same resolution, in the new format");
    // Any other command relocks it the same way, and then builds what the new lock says.
    fs_err::write(workspace.lock_path(), &old).unwrap();
    workspace.run(&["build"]).ok();
    assert_eq!(workspace.lock_text(), current);
    assert_eq!(zip(&workspace, "functions/plain-python3.12-x86_64.zip"), set(&["core", "web"]));
}
