//! `lbuild build`: zip layout, reproducibility, verification, gaps, limits, incremental builds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{
    FakeIndex, IndexOptions, PackageSpec, Scenario, files_under, zip_entries_with_modes as zip_entries,
};
use crate::{Api, Workspace};

fn scenario() -> Scenario {
    Scenario::from_packages([
        // A wheel with every kind of .data directory.
        PackageSpec::new("datapkg", "1.0")
            .dep("common-dep")
            .file("datapkg-1.0.data/purelib/extra_mod.py", "EXTRA = 1\n")
            .file("datapkg-1.0.data/platlib/native_mod.py", "NATIVE = 1\n")
            .file("datapkg-1.0.data/scripts/datapkg-tool", "#!python\n")
            .file("datapkg-1.0.data/headers/datapkg.h", "int x;\n")
            .file("datapkg-1.0.data/data/share/datapkg/table.txt", "data\n"),
        // Two halves of one namespace package, without ns/__init__.py.
        PackageSpec::new("ns-alpha", "1.0").file("ns/alpha/__init__.py", "A = 1\n"),
        PackageSpec::new("ns-beta", "1.0").file("ns/beta/__init__.py", "B = 1\n"),
        PackageSpec::new("common-dep", "2.0"),
        PackageSpec::new("layered", "3.0").dep("common-dep"),
        PackageSpec::new("srconly", "0.1").sdist(),
    ])
}

const MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64", "arm64"]

[layer.shared]
requirements = ["layered"]

[function.api]
source = "src/api"
handler = "app.handler"
requirements = ["datapkg", "ns-alpha", "ns-beta"]
layers = ["shared"]
architecture = "arm64"

[function.jobs]
source = "src/jobs"
handler = "jobs.run"
requirements = ["common-dep"]
"#;

fn write_sources(root: &Path) {
    let api = root.join("src/api");
    fs_err::create_dir_all(api.join("sub")).unwrap();
    fs_err::create_dir_all(api.join("__pycache__")).unwrap();
    fs_err::create_dir_all(api.join(".git")).unwrap();
    fs_err::create_dir_all(api.join("vendor/vendored")).unwrap();
    fs_err::write(api.join("app.py"), "def handler(event, context):\n    return 'ok'\n").unwrap();
    fs_err::write(api.join("sub/util.py"), "X = 1\n").unwrap();
    fs_err::write(api.join("__pycache__/app.cpython-312.pyc"), "junk").unwrap();
    fs_err::write(api.join(".git/config"), "[core]\n").unwrap();
    fs_err::write(api.join("vendor/vendored/__init__.py"), "V = 1\n").unwrap();
    fs_err::write(api.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(api.join("run.sh"), std::fs::Permissions::from_mode(0o775)).unwrap();
        // A group-writable file still ships as 0644.
        fs_err::set_permissions(api.join("sub/util.py"), std::fs::Permissions::from_mode(0o664)).unwrap();
    }
    let jobs = root.join("src/jobs");
    fs_err::create_dir_all(&jobs).unwrap();
    fs_err::write(jobs.join("jobs.py"), "def run(event, context):\n    pass\n").unwrap();
}

fn setup(index: &FakeIndex) -> Workspace {
    let workspace = Workspace::new(index, Api::Simple, MANIFEST);
    write_sources(workspace.path());
    workspace
}

fn out(workspace: &Workspace) -> PathBuf {
    workspace.path().join("target/lambda")
}

fn manifest_json(workspace: &Workspace) -> serde_json::Value {
    serde_json::from_str(&fs_err::read_to_string(out(workspace).join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn function_and_layer_zips_are_laid_out_for_lambda() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build"]).ok();
    let api = zip_entries(&out(&workspace).join("functions/api-python3.12-arm64.zip"));
    let names: Vec<&str> = api.keys().map(String::as_str).collect();
    for expected in [
        "app.py",
        "sub/util.py",
        "vendored/__init__.py",
        "run.sh",
        "datapkg/__init__.py",
        "extra_mod.py",
        "native_mod.py",
        "share/datapkg/table.txt",
        "datapkg-1.0.dist-info/METADATA",
        "datapkg-1.0.dist-info/WHEEL",
        "datapkg-1.0.dist-info/RECORD",
        "ns/alpha/__init__.py",
        "ns/beta/__init__.py",
        "ns/",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    for absent in ["__pycache__/app.cpython-312.pyc", ".git/config", "vendor/vendored/__init__.py", "ns/__init__.py"] {
        assert!(!names.contains(&absent), "{absent} should not be in {names:?}");
    }
    // Scripts and headers are dropped; installers' extra files are never added.
    assert!(!names.iter().any(|name| name.contains("datapkg-tool") || name.ends_with(".h")), "{names:?}");
    assert!(!names.iter().any(|name| name.ends_with("INSTALLER") || name.ends_with("REQUESTED")), "{names:?}");
    assert!(!names.iter().any(|name| name.ends_with("direct_url.json")), "{names:?}");
    // What the layer provides is not repeated in the function.
    assert!(!names.iter().any(|name| name.starts_with("layered") || name.starts_with("common_dep")), "{names:?}");
    // Modes: 0644 files, 0755 executables and directories.
    assert_eq!(api["app.py"].0, 0o100644);
    assert_eq!(api["sub/util.py"].0, 0o100644);
    assert_eq!(api["run.sh"].0, 0o100755);
    assert_eq!(api["ns/"].0, 0o040755);
    assert_eq!(api["extra_mod.py"].1, b"EXTRA = 1\n");

    let layer = zip_entries(&out(&workspace).join("layers/shared-python3.12-arm64.zip"));
    assert!(layer.keys().all(|name| name.starts_with("python/")), "{:?}", layer.keys());
    assert!(layer.contains_key("python/layered/__init__.py"));
    assert!(layer.contains_key("python/common_dep-2.0.dist-info/METADATA"));
    // `jobs` deploys on both architectures and uses no layer.
    let jobs = zip_entries(&out(&workspace).join("functions/jobs-python3.12-x86_64.zip"));
    assert!(jobs.contains_key("jobs.py") && jobs.contains_key("common_dep/__init__.py"), "{:?}", jobs.keys());

    let manifest = manifest_json(&workspace);
    assert_eq!(manifest["version"], 1);
    let artifacts = manifest["artifacts"].as_array().unwrap();
    let paths: Vec<&str> = artifacts.iter().map(|a| a["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "functions/api-python3.12-arm64.zip",
            "functions/jobs-python3.12-arm64.zip",
            "functions/jobs-python3.12-x86_64.zip",
            "layers/shared-python3.12-arm64.zip"
        ]
    );
    let api_entry = &artifacts[0];
    let bytes = fs_err::read(out(&workspace).join("functions/api-python3.12-arm64.zip")).unwrap();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    use base64::Engine;
    assert_eq!(api_entry["sha256"], hex);
    assert_eq!(api_entry["base64_sha256"], base64::engine::general_purpose::STANDARD.encode(digest));
    assert_eq!(api_entry["size"], bytes.len() as u64);
    let unzipped: u64 = api.values().map(|(_, data)| data.len() as u64).sum();
    assert_eq!(api_entry["unzipped_size"], unzipped);
    assert_eq!(api_entry["kind"], "function");
    assert_eq!(api_entry["architecture"], "arm64");
    assert_eq!(api_entry["runtime"], "python3.12");
    assert_eq!(api_entry["handler"], "app.handler");
    assert_eq!(api_entry["layers"], serde_json::json!(["shared"]));
    assert!(artifacts[3].get("handler").is_none());
}

#[test]
fn builds_are_byte_identical_across_directories_times_and_umasks() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let first = setup(&index);
    let second = setup(&index);
    // Different source mtimes and modes must not change a byte.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400 * 400);
    fs_err::File::options()
        .write(true)
        .open(second.path().join("src/api/app.py"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(second.path().join("src/api/app.py"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    first.run(&["build"]).ok();
    second.run(&["build"]).ok();
    let digest = |workspace: &Workspace| -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        for dir in ["functions", "layers"] {
            for entry in fs_err::read_dir(out(workspace).join(dir)).unwrap() {
                let entry = entry.unwrap();
                files.insert(
                    format!("{dir}/{}", entry.file_name().to_string_lossy()),
                    fs_err::read(entry.path()).unwrap(),
                );
            }
        }
        files.insert("manifest.json".into(), fs_err::read(out(workspace).join("manifest.json")).unwrap());
        files
    };
    let (a, b) = (digest(&first), digest(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between the two builds");
    }
    // SOURCE_DATE_EPOCH moves every timestamp, and only that.
    let run = first.run_env(&["build", "--out-dir", "sde"], &[("SOURCE_DATE_EPOCH", "1700000000")]).ok();
    let sde = first.path().join("sde/functions/jobs-python3.12-x86_64.zip");
    assert_ne!(fs_err::read(&sde).unwrap(), a["functions/jobs-python3.12-x86_64.zip"], "{}", run.stderr);
    let mut archive = zip::ZipArchive::new(fs_err::File::open(&sde).unwrap()).unwrap();
    let modified = archive.by_index_raw(0).unwrap().last_modified().unwrap();
    assert_eq!((modified.year(), modified.month(), modified.day()), (2023, 11, 14));
}

#[test]
fn an_unchanged_build_writes_nothing_and_a_source_change_rebuilds_only_its_zips() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build"]).ok();
    let mtimes = |workspace: &Workspace| -> BTreeMap<String, std::time::SystemTime> {
        [
            "functions/api-python3.12-arm64.zip",
            "functions/jobs-python3.12-x86_64.zip",
            "layers/shared-python3.12-arm64.zip",
            "manifest.json",
        ]
        .iter()
        .map(|path| (path.to_string(), fs_err::metadata(out(workspace).join(path)).unwrap().modified().unwrap()))
        .collect()
    };
    let before = mtimes(&workspace);
    std::thread::sleep(std::time::Duration::from_millis(20));
    index.clear_requests();
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(0 written, 4 up to date)"), "{}", run.stderr);
    assert_eq!(mtimes(&workspace), before);
    assert_eq!(index.request_count(), 0, "{:?}", index.requests());
    // Up-to-date zips need no wheels: an emptied cache and no network change nothing.
    fs_err::remove_dir_all(workspace.cache.path()).unwrap();
    let run = workspace.run(&["build", "--offline"]).ok();
    assert!(run.stderr.contains("(0 written, 4 up to date)"), "{}", run.stderr);
    assert_eq!(index.request_count(), 0, "{:?}", index.requests());

    fs_err::write(workspace.path().join("src/jobs/jobs.py"), "def run(event, context):\n    return 1\n").unwrap();
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(2 written, 2 up to date)"), "{}", run.stderr);
    let after = mtimes(&workspace);
    assert_eq!(after["functions/api-python3.12-arm64.zip"], before["functions/api-python3.12-arm64.zip"]);
    assert_eq!(after["layers/shared-python3.12-arm64.zip"], before["layers/shared-python3.12-arm64.zip"]);
    assert_ne!(after["functions/jobs-python3.12-x86_64.zip"], before["functions/jobs-python3.12-x86_64.zip"]);
}

#[test]
fn a_zip_changed_behind_lbuilds_back_is_rebuilt() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build", "-p", "jobs", "--arch", "x86_64"]).ok();
    let zip = out(&workspace).join("functions/jobs-python3.12-x86_64.zip");
    let original = fs_err::read(&zip).unwrap();
    // Same size, other bytes.
    let mut edited = original.clone();
    let last = edited.len() - 30;
    edited[last] ^= 0xff;
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs_err::write(&zip, &edited).unwrap();
    let run = workspace.run(&["build", "-p", "jobs", "--arch", "x86_64"]).ok();
    assert!(run.stderr.contains("(1 written, 0 up to date)"), "{}", run.stderr);
    assert_eq!(fs_err::read(&zip).unwrap(), original);
}

#[test]
fn arch_and_package_selection() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build", "--arch", "x86_64"]).ok();
    let paths: Vec<String> = manifest_json(&workspace)["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["functions/jobs-python3.12-x86_64.zip"]);
    workspace.run(&["build", "-p", "shared", "--out-dir", "only-layer"]).ok();
    let manifest: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(workspace.path().join("only-layer/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["artifacts"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["artifacts"][0]["kind"], "layer");
    assert!(!workspace.path().join("only-layer/functions").exists());
    let run = workspace.run(&["build", "-p", "api", "--arch", "x86_64"]).err();
    assert!(run.stderr.contains("nothing to build for `x86_64`"), "{}", run.stderr);
    let run = workspace.run(&["build", "-p", "nope"]).err();
    assert!(run.stderr.contains("no function or layer is named `nope`"), "{}", run.stderr);
}

#[test]
fn a_wheel_that_does_not_match_the_lock_stops_the_build() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["lock"]).ok();
    let locked = index.file_sha256("common_dep-2.0-py3-none-any.whl").unwrap();
    // The index now serves different bytes under the same name.
    index.publish(PackageSpec::new("common-dep", "2.0").file("evil.py", "import os\n"));
    let served = index.file_sha256("common_dep-2.0-py3-none-any.whl").unwrap();
    assert_ne!(locked, served);
    let run = workspace.run(&["build"]).err();
    assert!(run.stderr.contains("common_dep-2.0-py3-none-any.whl"), "{}", run.stderr);
    assert!(run.stderr.contains(&locked) && run.stderr.contains(&served), "{}", run.stderr);
    assert!(!out(&workspace).exists(), "nothing is written");
    // The bad file never entered the cache.
    let cached = files_under(workspace.cache.path());
    assert!(!cached.iter().any(|path| path.to_string_lossy().contains(&served)), "{cached:?}");
}

#[test]
fn a_gap_stops_the_build_unless_allowed() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.write_manifest(
        &MANIFEST.replace("requirements = [\"common-dep\"]", "requirements = [\"common-dep\", \"srconly\"]"),
    );
    let run = workspace.run(&["build"]).err();
    assert!(
        run.stderr.contains("`srconly==0.1` on python3.12-x86_64: version 0.1 publishes only a source distribution"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("on python3.12-arm64"), "{}", run.stderr);
    assert!(run.stderr.contains("find-links") && run.stderr.contains("--allow-gaps"), "{}", run.stderr);
    assert!(!out(&workspace).exists(), "nothing is written");
    let run = workspace.run(&["build", "--allow-gaps"]).ok();
    assert!(run.stderr.contains("building without packages that have no usable wheel"), "{}", run.stderr);
    let jobs = zip_entries(&out(&workspace).join("functions/jobs-python3.12-x86_64.zip"));
    assert!(jobs.contains_key("jobs.py") && !jobs.keys().any(|name| name.starts_with("srconly")));
}

#[test]
fn the_unzipped_limit_counts_layers_and_names_the_largest_packages() {
    let big = "\0".repeat(140_000_000);
    let scenario = Scenario::from_packages([
        PackageSpec::new("bigfn", "1.0").file("bigfn/blob.bin", &big),
        PackageSpec::new("biglayer", "1.0").file("biglayer/blob.bin", &big),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[layer.heavy]\nrequirements = [\"biglayer\"]\n\n[function.f]\nrequirements = [\"bigfn\"]\nlayers = [\"heavy\"]\n",
    );
    let run = workspace.run(&["build"]).err();
    assert!(
        run.stderr.contains("function `f` on python3.12-x86_64 is 267.0 MB unzipped with its layers"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("262144000 bytes"), "{}", run.stderr);
    assert!(
        run.stderr.contains("bigfn 133.5 MB") && run.stderr.contains("biglayer (layer heavy) 133.5 MB"),
        "{}",
        run.stderr
    );
    assert!(!out(&workspace).exists(), "nothing is written");
    // Alone, the layer fits.
    workspace.run(&["build", "-p", "heavy"]).ok();
    // A layer no function uses is checked on its own.
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[layer.huge]\nrequirements = [\"bigfn\", \"biglayer\"]\n",
    );
    let run = workspace.run(&["build", "--out-dir", "huge"]).err();
    assert!(run.stderr.contains("layer `huge` on python3.12-x86_64 is 267.0 MB unzipped"), "{}", run.stderr);
    assert!(!workspace.path().join("huge").exists());
    // A generated shared layer that gives a function what only others import says so.
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\nshared-layer = \"auto\"\n\n\
         [function.a]\nrequirements = [\"bigfn\"]\n\n[function.b]\nrequirements = [\"bigfn\", \"biglayer\"]\n\n\
         [function.c]\nrequirements = [\"biglayer\"]\n",
    );
    let run = workspace.run(&["build", "-p", "a"]).err();
    assert!(run.stderr.contains("function `a` on python3.12-x86_64 is 267.0 MB unzipped"), "{}", run.stderr);
    assert!(run.stderr.contains("gives it 133.5 MB of packages only other functions import"), "{}", run.stderr);
}

#[test]
fn a_killed_build_leaves_no_partial_zip_or_manifest() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let run = workspace.run_env(&["build"], &[("LBUILD_TEST_ABORT_AFTER_BYTES", "300")]).err();
    // The empty `.lbuild-lock` that serializes builds is not output.
    let leftovers: Vec<PathBuf> =
        files_under(&out(&workspace)).into_iter().filter(|path| !path.ends_with(".lbuild-lock")).collect();
    assert!(
        leftovers.iter().all(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(".lbuild-stage-") || name.starts_with(".lbuild-tmp-")
        }),
        "only staged and temporary files may remain: {leftovers:?} {}",
        run.stderr
    );
    assert!(!leftovers.is_empty(), "the abort happened while a zip was being written");
    workspace.run(&["build"]).ok();
    let after = files_under(&out(&workspace));
    assert!(
        !after.iter().any(|path| {
            let name = path.to_string_lossy();
            name.contains(".lbuild-tmp-") || name.contains(".lbuild-stage-")
        }),
        "{after:?}"
    );
    assert!(out(&workspace).join("manifest.json").exists());
}

#[test]
fn runtime_packages_and_stripped_files_can_be_left_out() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("boto3", "1.40.0").dep("botocore>=1.40").dep("s3transfer"),
        PackageSpec::new("botocore", "1.40.0").dep("urllib3"),
        PackageSpec::new("s3transfer", "0.14.0").dep("botocore"),
        PackageSpec::new("urllib3", "2.5.0"),
        PackageSpec::new("requests", "2.32.0").dep("urllib3").file("requests/tests/test_big.py", "assert True\n"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let body = "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n{extra}\n[function.f]\nrequirements = [\"boto3\", \"requests\"]\n";
    let workspace = Workspace::new(&index, Api::Json, &body.replace("{extra}", ""));
    workspace.run(&["build"]).ok();
    let zip = out(&workspace).join("functions/f-python3.12-x86_64.zip");
    let names: Vec<String> = zip_entries(&zip).into_keys().collect();
    for package in ["boto3/", "botocore/", "s3transfer/", "urllib3/", "requests/tests/test_big.py"] {
        assert!(names.iter().any(|name| name.starts_with(package)), "{package} is bundled by default: {names:?}");
    }
    workspace.write_manifest(&body.replace("{extra}", "exclude-runtime-packages = true\nstrip = [\"**/tests/**\"]"));
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("1 written"), "the options are part of the build fingerprint: {}", run.stderr);
    let names: Vec<String> = zip_entries(&zip).into_keys().collect();
    // The whole SDK closure goes, urllib3 included, even though requests uses it too: the
    // runtime provides it, and shipping part of the closure would shadow the runtime's copy.
    for package in ["boto3", "botocore", "s3transfer", "urllib3"] {
        assert!(!names.iter().any(|name| name.starts_with(package)), "{package} should be left out: {names:?}");
    }
    assert!(names.iter().any(|name| name == "requests/__init__.py"), "{names:?}");
    assert!(!names.iter().any(|name| name.contains("/tests/")), "{names:?}");
    assert!(names.iter().any(|name| name == "requests-2.32.0.dist-info/RECORD"), "dist-info is never stripped");
}

#[test]
fn a_zip_over_50_mb_is_built_with_a_warning() {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("small", "1.0")]), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"arm64\"]\n\n[function.f]\nsource = \"src\"\nrequirements = [\"small\"]\n",
    );
    // 51 MiB that does not compress (xorshift noise).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..51 * 1024 * 1024 / 8)
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()
        })
        .collect();
    fs_err::create_dir_all(workspace.path().join("src")).unwrap();
    fs_err::write(workspace.path().join("src/model.bin"), noise).unwrap();
    let run = workspace.run(&["build"]).ok();
    assert!(
        run.stderr.contains("`functions/f-python3.12-arm64.zip` is 51.0 MB, over the 50 MB limit of a direct upload"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(function source) 51.0 MB"), "{}", run.stderr);
}

fn manifest_paths(workspace: &Workspace) -> Vec<String> {
    manifest_json(workspace)["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|artifact| artifact["path"].as_str().unwrap().to_string())
        .collect()
}

/// `-p api` builds the layers `api` deploys with, and a partial build keeps the manifest entries
/// of the other zips while they are up to date, so `export --format sam` still sees them.
#[test]
fn a_partial_build_builds_the_functions_layers_and_keeps_the_other_entries_that_are_current() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build", "-p", "api"]).ok();
    assert_eq!(
        manifest_paths(&workspace),
        ["functions/api-python3.12-arm64.zip", "layers/shared-python3.12-arm64.zip"]
    );

    workspace.run(&["build"]).ok();
    let all = manifest_paths(&workspace);
    assert_eq!(all.len(), 4, "{all:?}");
    let run = workspace.run(&["build", "-p", "jobs"]).ok();
    assert!(run.stderr.contains("0 written"), "{}", run.stderr);
    assert_eq!(manifest_paths(&workspace), all, "the entries of api and shared are kept");
    let sam = workspace.run(&["export", "--format", "sam"]).ok();
    assert!(sam.stdout.contains("functions/api-python3.12-arm64.zip"), "{}", sam.stdout);
    // A kept entry says how the zip deploys now: the handler is not part of the zip.
    workspace.write_manifest(&MANIFEST.replace("handler = \"jobs.run\"", "handler = \"jobs.main\""));
    workspace.run(&["build", "-p", "api"]).ok();
    let handlers: Vec<String> = manifest_json(&workspace)["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|artifact| artifact["name"] == "jobs")
        .map(|artifact| artifact["handler"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(handlers, ["jobs.main", "jobs.main"]);

    // api's source changed: its zip on disk is no longer what a build would write, so a build
    // of `jobs` alone stops listing it (and keeps the layer, which did not change).
    fs_err::write(workspace.path().join("src/api/app.py"), "def handler(event, context):\n    return 'new'\n").unwrap();
    workspace.run(&["build", "-p", "jobs"]).ok();
    let paths = manifest_paths(&workspace);
    assert!(!paths.contains(&"functions/api-python3.12-arm64.zip".to_string()), "{paths:?}");
    assert!(paths.contains(&"layers/shared-python3.12-arm64.zip".to_string()), "{paths:?}");
    assert_eq!(paths.len(), 3, "{paths:?}");
    // A zip changed on disk by hand is not listed either.
    workspace.run(&["build"]).ok();
    fs_err::write(out(&workspace).join("functions/api-python3.12-arm64.zip"), b"not a zip").unwrap();
    workspace.run(&["build", "--arch", "x86_64"]).ok();
    assert!(!manifest_paths(&workspace).contains(&"functions/api-python3.12-arm64.zip".to_string()));
}

/// `lbuild size` reports what the zips on disk weigh: the zipped bytes are the files', the
/// unzipped bytes their entries', and a function counts its layers.
#[test]
fn size_reports_the_real_zipped_and_unzipped_bytes_with_the_layers() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let run = workspace.run(&["size", "--message-format", "json"]).ok();
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let zips = document["zips"].as_array().unwrap();
    assert_eq!(zips.len(), 4, "{zips:?}");
    let unzipped = |path: &str| -> u64 {
        let mut archive = zip::ZipArchive::new(fs_err::File::open(out(&workspace).join(path)).unwrap()).unwrap();
        (0..archive.len()).map(|at| archive.by_index(at).unwrap().size()).sum()
    };
    for zip in zips {
        let path = zip["path"].as_str().unwrap();
        assert_eq!(zip["zipped"], fs_err::metadata(out(&workspace).join(path)).unwrap().len(), "{path}");
        assert_eq!(zip["unzipped"], unzipped(path), "{path}");
    }
    let api = zips.iter().find(|zip| zip["name"] == "api").unwrap();
    let layer = unzipped("layers/shared-python3.12-arm64.zip");
    assert_eq!(api["unzipped_with_layers"], unzipped("functions/api-python3.12-arm64.zip") + layer);
    let packages = api["packages"].as_array().unwrap();
    let total: u64 = packages.iter().map(|package| package["unzipped"].as_u64().unwrap()).sum();
    assert_eq!(api["unzipped_with_layers"], total, "the packages add up");
    assert!(packages.iter().any(|package| package["package"] == "layered" && package["layer"] == "shared"));
    let sizes: Vec<u64> = packages.iter().map(|package| package["unzipped"].as_u64().unwrap()).collect();
    assert!(sizes.windows(2).all(|pair| pair[0] >= pair[1]), "largest first: {sizes:?}");

    let run = workspace.run(&["size", "-p", "api"]).ok();
    assert!(run.stdout.starts_with("function `api` on python3.12-arm64: "), "{}", run.stdout);
    assert!(run.stdout.contains("with its layers (0% of Lambda's 250 MB)"), "{}", run.stdout);
    assert!(run.stdout.contains("layered (layer shared)"), "{}", run.stdout);
    assert!(!run.stdout.contains("jobs"), "{}", run.stdout);
}

const POWERTOOLS: &str = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7";

/// `shared-layer = "auto"`: three functions sharing two packages deploy them once per target, in
/// a generated layer every one of them uses; an external layer's packages are not zipped at all.
#[test]
fn a_shared_layer_holds_what_functions_share_once_per_target_and_external_layers_nothing() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("alpha", "1.0").dep("beta"),
        PackageSpec::new("beta", "2.0"),
        PackageSpec::new("own-a", "1.0"),
        PackageSpec::new("own-c", "1.0"),
        PackageSpec::new("aws-lambda-powertools", "3.0").dep("jmespath"),
        PackageSpec::new("jmespath", "1.0"),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let body = format!(
        "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\", \"arm64\"]\nshared-layer = \"auto\"\n\n\
         [function.a]\nrequirements = [\"alpha\", \"own-a\"]\n\n\
         [function.b]\nrequirements = [\"alpha\", \"beta\"]\n\n\
         [function.c]\nrequirements = [\"beta\", \"alpha\", \"own-c\", \"aws-lambda-powertools\"]\n\
         architecture = \"x86_64\"\n\
         external-layers = [{{ arn = \"{POWERTOOLS}\", provides = [\"aws-lambda-powertools\"] }}]\n"
    );
    let workspace = Workspace::new(&index, Api::Simple, &body);
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("layers/shared-python3.12-x86_64.zip"), "{}", run.stderr);
    let out = out(&workspace);
    for (target, functions, own) in [
        ("python3.12-x86_64", &["a", "b", "c"][..], &["own-a", "own-c"][..]),
        ("python3.12-arm64", &["a", "b"][..], &["own-a"][..]),
    ] {
        let mut held: Vec<String> = Vec::new();
        for zip in files_under(&out).iter().filter(|path| path.to_string_lossy().ends_with(&format!("-{target}.zip"))) {
            held.extend(crate::support::zip_packages(&out.join(zip)));
        }
        held.sort();
        let mut expected = vec!["alpha".to_string(), "beta".to_string()];
        expected.extend(own.iter().map(|name| name.to_string()));
        expected.sort();
        assert_eq!(held, expected, "every package once on {target}, the external layer's not at all");
        assert_eq!(
            crate::support::zip_packages(&out.join(format!("layers/shared-{target}.zip"))),
            crate::support::set(&["alpha", "beta"])
        );
        for function in functions {
            let artifact = manifest_json(&workspace)["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|artifact| artifact["path"] == format!("functions/{function}-{target}.zip"))
                .cloned()
                .unwrap();
            assert_eq!(artifact["layers"], serde_json::json!(["shared"]), "{function} on {target}");
            let external = if *function == "c" { serde_json::json!([POWERTOOLS]) } else { serde_json::Value::Null };
            assert_eq!(artifact["external_layers"], external, "{function} on {target}");
        }
    }
    // The layer is wired into the SAM template like any layer, the external one by its ARN.
    let sam = workspace.run(&["export", "--format", "sam"]).ok().stdout;
    assert!(sam.contains("layers/shared-python3.12-x86_64.zip"), "{sam}");
    let c = &sam[sam.find("CX8664Function:").unwrap()..];
    assert!(c.contains("- !Ref SharedX8664Layer\n"), "{sam}");
    assert!(c.contains(&format!("- \"{POWERTOOLS}\"\n")), "{sam}");
    // `tree` and `export` say who provides what.
    let tree = workspace.run(&["tree", "-p", "c", "--target", "python3.12-x86_64"]).ok().stdout;
    assert!(tree.contains("AWSLambdaPowertoolsPythonV3-python312-x86_64"), "{tree}");
    let tree = workspace.run(&["tree", "-p", "shared", "--target", "python3.12-arm64"]).ok().stdout;
    assert!(tree.contains("layer shared\n├── alpha v1.0\n│   └── beta v2.0 [required: *]\n└── beta v2.0\n"), "{tree}");
    let run = workspace.run(&["tree", "-p", "nope"]).err();
    assert!(run.stderr.contains("`shared` (the generated layer)"), "{}", run.stderr);
    assert!(!run.stderr.contains("needs no package"), "{}", run.stderr);
    let requirements = workspace.run(&["export", "-p", "c", "--target", "python3.12-x86_64"]).ok().stdout;
    assert!(requirements.contains("external layers provide them: aws-lambda-powertools"), "{requirements}");

    // A partial build builds the shared layer with the function, and `-p shared` names it.
    fs_err::remove_dir_all(&out).unwrap();
    workspace.run(&["build", "-p", "b", "--arch", "arm64"]).ok();
    assert_eq!(manifest_paths(&workspace), ["functions/b-python3.12-arm64.zip", "layers/shared-python3.12-arm64.zip"]);
    workspace.run(&["build", "-p", "shared", "--arch", "arm64"]).ok();

    // A placeholder in an ARN reaches CloudFormation through `!Sub`, which substitutes it.
    let placeholder = POWERTOOLS.replace("eu-west-1", "${AWS::Region}");
    workspace.write_manifest(&body.replace(POWERTOOLS, &placeholder));
    workspace.run(&["build"]).ok();
    let sam = workspace.run(&["export", "--format", "sam"]).ok().stdout;
    assert!(sam.contains(&format!("        - !Sub \"{placeholder}\"\n")), "{sam}");
    // A module name where the package's was meant is said: nothing is left out for it.
    workspace.write_manifest(
        &body.replace("provides = [\"aws-lambda-powertools\"]", "provides = [\"aws_lambda_powertool\"]"),
    );
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("function `c` needs no package `aws-lambda-powertool`"), "{}", run.stderr);
    // When only one function is left holding a package, there is nothing to share.
    workspace.write_manifest(&body.replace("requirements = [\"alpha\", \"beta\"]", "requirements = []").replace(
        "requirements = [\"beta\", \"alpha\", \"own-c\", \"aws-lambda-powertools\"]",
        "requirements = [\"own-c\"]",
    ));
    workspace.run(&["build"]).ok();
    assert!(!manifest_paths(&workspace).iter().any(|path| path.contains("shared")), "{:?}", manifest_paths(&workspace));
    let run = workspace.run(&["build", "-p", "shared"]).err();
    assert!(
        run.stderr.contains("the generated layer `shared` is empty: no two functions share a package"),
        "{}",
        run.stderr
    );
}

/// `export --format sam --template` points each function's `CodeUri` and each layer's
/// `ContentUri` at the zip of the last build for the resource's architecture, and changes
/// nothing else: comments, tags and unknown resources stay as written.
#[test]
fn a_real_sam_template_is_rewritten_to_the_zips_and_nothing_else_changes() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build", "--allow-gaps"]).ok();
    let template = "AWSTemplateFormatVersion: '2010-09-09'\n\
        Transform: AWS::Serverless-2016-10-31\n\
        # Globals apply to every function.\n\
        Globals:\n  Function:\n    Timeout: 10\n    Runtime: python3.12\n\
        Resources:\n\
        \x20 ApiFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n\
        \x20     CodeUri: src/api/   # the API\n      Handler: app.handler\n      Architectures: [arm64]\n\
        \x20     Layers: [!Ref SharedLayer]\n      Role: !GetAtt Role.Arn\n\
        \x20 JobsFunction:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: './src/jobs', Handler: jobs.run}\n\
        \x20 Nightly:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: \"src/jobs\"\n\
        \x20     Handler: jobs.run\n      Architectures:\n        - arm64\n\
        \x20 SharedLayer:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n\
        \x20     ContentUri: layers/shared\n      CompatibleArchitectures: [arm64]\n\
        \x20 Web:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: web/, Handler: index.handler, Runtime: nodejs22.x}\n\
        \x20 Role:\n    Type: AWS::IAM::Role\n\
        Outputs:\n  Api:\n    Value: !Sub \"https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/\"\n";
    fs_err::write(workspace.path().join("template.yaml"), template).unwrap();
    let run = workspace.run(&["export", "--format", "sam", "--template", "template.yaml"]).ok();
    let expected = template
        .replace("CodeUri: src/api/", "CodeUri: \"target/lambda/functions/api-python3.12-arm64.zip\"")
        .replace("CodeUri: './src/jobs'", "CodeUri: \"target/lambda/functions/jobs-python3.12-x86_64.zip\"")
        .replace("CodeUri: \"src/jobs\"", "CodeUri: \"target/lambda/functions/jobs-python3.12-arm64.zip\"")
        .replace("ContentUri: layers/shared", "ContentUri: \"target/lambda/layers/shared-python3.12-arm64.zip\"");
    assert_eq!(run.stdout, expected, "{}", run.stderr);
    // `Web` (by name) and `Nightly` (by its directory) are matched as they can be: Web is not a
    // function of lambda.toml and is said so.
    assert!(run.stderr.contains("`Web` in `template.yaml`: it is no function of the last build"), "{}", run.stderr);
    // From a template in another directory, the paths go up to the zips.
    fs_err::create_dir_all(workspace.path().join("infra")).unwrap();
    fs_err::write(workspace.path().join("infra/template.yaml"), template).unwrap();
    let run = workspace.run(&["export", "--format", "sam", "--template", "infra/template.yaml"]).ok();
    assert!(run.stdout.contains("CodeUri: \"../target/lambda/functions/api-python3.12-arm64.zip\""), "{}", run.stdout);
    // CRLF line ends and a byte order mark come out as they went in; a path is read from the
    // template's directory, as SAM reads it; the fragment's own IDs name their architecture.
    let crlf = format!(
        "\u{feff}{}",
        "Resources:\n  Batch:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../src/jobs\n\
         \x20 JobsArm64Function:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: old.zip\n      Architectures: [arm64]\n\
         \x20 ApiArm64Function:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: api.zip\n\
         \x20 Ref:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../src/jobs\n      Architectures: [{\"Ref\": \"Arch\"}]\n\
         \x20 ApiFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../src/jobs\n\
         \x20 Both:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: &jobs ../src/jobs\n\
         \x20 Alias:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: *jobs\n\
         \x20 Multi:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../src/jobs\n      Architectures: [x86_64, arm64]\n"
            .replace('\n', "\r\n")
    );
    fs_err::write(workspace.path().join("infra/crlf.yaml"), &crlf).unwrap();
    let run = workspace.run(&["export", "--format", "sam", "--template", "infra/crlf.yaml"]).ok();
    let expected = crlf
        .replacen("CodeUri: ../src/jobs\r", "CodeUri: \"../target/lambda/functions/jobs-python3.12-x86_64.zip\"\r", 1)
        .replace("CodeUri: old.zip", "CodeUri: \"../target/lambda/functions/jobs-python3.12-arm64.zip\"");
    assert_eq!(run.stdout, expected, "{}", run.stderr);
    assert!(
        run.stderr.contains("`Both` in `infra/crlf.yaml` is not rewritten: its value carries an anchor"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`Alias` in `infra/crlf.yaml` is not rewritten: its value is an alias"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`Multi` in `infra/crlf.yaml` names several architectures"), "{}", run.stderr);
    assert!(run.stderr.contains("`ApiArm64Function` in `infra/crlf.yaml`: its logical ID names arm64, but it deploys on x86_64 (SAM's default)"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`Ref` in `infra/crlf.yaml`: its `Architectures` or `Runtime` is not a plain value"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`ApiFunction` in `infra/crlf.yaml`: its logical ID names function `api`, but its code path `../src/jobs` is the source of `jobs`"), "{}", run.stderr);
    // What a template's resource cannot be pointed at is said, with the value to set.
    fs_err::write(workspace.path().join("t2.yaml"), "Resources:\n  ApiFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Architectures: [arm64]\n").unwrap();
    let run = workspace.run(&["export", "--format", "sam", "--template", "t2.yaml", "--message-format", "json"]).ok();
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let warning = document["warnings"][0].as_str().unwrap_or_default().to_string();
    assert!(
        warning.contains("`ApiFunction` in `t2.yaml` is not rewritten: it has no `CodeUri` of its own"),
        "{document}"
    );
    assert!(warning.contains("target/lambda/functions/api-python3.12-arm64.zip"), "{warning}");
}
