//! Local packages end to end: a uv workspace whose functions share a library through
//! `[tool.uv.sources] common = { workspace = true }`, a setuptools flat-layout library through
//! `[workspace.sources] flatlib = { path = ... }`, locked as path packages (never looked up on
//! the index, which serves an unrelated `common`), installed into the zips that need them,
//! importable with a host Python, rebuilt on a source edit, relocked only when their version or
//! dependencies change, and hostile locks about them refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario, zip_entries};
use crate::{Api, Workspace};

fn scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("six", "1.16.0").file("six.py", "VERSION = '1.16.0'\n"),
        PackageSpec::new("speedups", "2.0").file("speedups.py", "FAST = True\n"),
        PackageSpec::new("attrs", "23.1.0").file("attrs/__init__.py", "A = 1\n"),
        // The bait: PyPI's unrelated `common`, newer than the local one.
        PackageSpec::new("common", "0.1.2").file("common/__init__.py", "VALUE = 'from the index'\n"),
        PackageSpec::new("common", "9.0").file("common/__init__.py", "VALUE = 'from the index'\n"),
    ])
}

const MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[workspace.sources]
flatlib = { path = "libs/flatlib" }

[function.api]
source = "functions/api"
handler = "app.handler"
requirements-file = "functions/api/pyproject.toml"

[function.jobs]
source = "functions/jobs"
handler = "jobs.run"
requirements-file = "functions/jobs/pyproject.toml"
requirements = ["flatlib"]
"#;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

const COMMON_PYPROJECT: &str = r#"[project]
name = "common"
version = "0.3.0"
dependencies = ["six>=1.10"]

[project.optional-dependencies]
fast = ["speedups>=1"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"#;

/// The build system of the flat-layout library.
const FLAT_BACKEND: &str =
    "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n";

/// The uv workspace: the root pyproject, `libs/common` (hatchling, src layout), `libs/flatlib`
/// (setuptools, flat layout), and two functions that depend on `common`.
fn setup(index: &FakeIndex) -> Workspace {
    let workspace = Workspace::new(index, Api::Simple, MANIFEST);
    let root = workspace.path();
    write(
        root,
        "pyproject.toml",
        "[project]\nname = \"monorepo\"\nversion = \"0\"\n\n[tool.uv.workspace]\nmembers = [\"libs/*\", \"functions/*\"]\n",
    );
    write(root, "libs/common/pyproject.toml", COMMON_PYPROJECT);
    write(root, "libs/common/src/common/__init__.py", "VALUE = 'local'\n");
    write(root, "libs/common/src/common/util.py", "def greet():\n    return 'hi'\n");
    write(root, "libs/common/tests/test_common.py", "def test(): pass\n");
    write(
        root,
        "libs/flatlib/pyproject.toml",
        &format!("[project]\nname = \"flatlib\"\nversion = \"1.2.0\"\ndependencies = [\"attrs\"]\n\n{FLAT_BACKEND}"),
    );
    write(root, "libs/flatlib/flatlib/__init__.py", "NAME = 'flat'\n");
    for (function, extra) in [("api", ""), ("jobs", "[fast]")] {
        write(
            root,
            &format!("functions/{function}/pyproject.toml"),
            &format!(
                "[project]\nname = \"{function}\"\nversion = \"0.1.0\"\ndependencies = [\"common{extra}\"]\n\n[tool.uv.sources]\ncommon = {{ workspace = true }}\n"
            ),
        );
    }
    write(root, "functions/api/app.py", "import common\n\ndef handler(event, context):\n    return common.VALUE\n");
    write(
        root,
        "functions/jobs/jobs.py",
        "import common, flatlib\n\ndef run(event, context):\n    return flatlib.NAME\n",
    );
    workspace
}

fn out(workspace: &Workspace) -> PathBuf {
    workspace.path().join("target/lambda")
}

const API_ZIP: &str = "functions/api-python3.12-x86_64.zip";
const JOBS_ZIP: &str = "functions/jobs-python3.12-x86_64.zip";

/// A host `python3`, or `None` with the reason printed.
fn host_python() -> Option<&'static str> {
    match Command::new("python3").arg("--version").output() {
        Ok(output) if output.status.success() => Some("python3"),
        _ => {
            eprintln!("skipped: no host `python3` to import the built zips with");
            None
        }
    }
}

/// Unzip `zip` into a fresh directory and run `code` there with it first on `sys.path`.
fn import_in(python: &str, zip: &Path, code: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in zip_entries(zip) {
        if name.ends_with('/') {
            continue;
        }
        write(dir.path(), &name, &String::from_utf8(bytes).unwrap());
    }
    let script = format!("import sys\nsys.path.insert(0, {:?})\n{code}", dir.path().display().to_string());
    let output = Command::new(python).arg("-I").arg("-c").arg(script).output().unwrap();
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn workspace_members_and_path_packages_are_locked_from_their_directories_never_from_the_index() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert!(text.contains("version = 4"), "{text}");
    let lock = workspace.lock();
    let package = |name: &str| -> toml::Value {
        lock.0["package"].as_array().unwrap().iter().find(|p| p["name"].as_str() == Some(name)).unwrap().clone()
    };
    let common = package("common");
    assert_eq!(common["version"].as_str(), Some("0.3.0"), "the local common, not the index's 9.0: {text}");
    assert_eq!(common["source"].as_str(), Some("path"));
    assert_eq!(common["path"].as_str(), Some("libs/common"));
    let entry = &common["target"][0];
    assert!(entry.get("wheel").is_none() && entry.get("gap").is_none(), "{text}");
    assert_eq!(entry["dependencies"].as_array().unwrap(), &[toml::Value::from("six>=1.10")]);
    assert_eq!(entry["extras"]["fast"].as_array().unwrap(), &[toml::Value::from("speedups>=1")]);
    let flatlib = package("flatlib");
    assert_eq!(flatlib["path"].as_str(), Some("libs/flatlib"));
    assert_eq!(flatlib["version"].as_str(), Some("1.2.0"));
    // The inputs record what `--locked` compares.
    let local = &lock.0["inputs"]["local"];
    assert_eq!(local["common"]["path"].as_str(), Some("libs/common"));
    assert_eq!(local["common"]["version"].as_str(), Some("0.3.0"));
    // Neither local name is ever asked of the index.
    let asked: Vec<String> = index.requests();
    assert!(!asked.iter().any(|path| path.contains("/common") || path.contains("/flatlib")), "{asked:?}");
    assert!(asked.iter().any(|path| path.contains("/six")), "{asked:?}");

    let tree = workspace.run(&["tree", "-p", "jobs"]).ok();
    assert!(tree.stdout.contains("common v0.3.0") && tree.stdout.contains("(local: libs/common)"), "{}", tree.stdout);
    let export = workspace.run(&["export", "--target", "python3.12-x86_64", "-p", "api"]).ok();
    assert!(export.stdout.contains("\n./libs/common\n"), "{}", export.stdout);
    assert!(export.stdout.contains("six==1.16.0"), "{}", export.stdout);
    // `fetch` caches what `lock --offline` needs, and still never asks about a local name.
    index.clear_requests();
    workspace.run(&["fetch"]).ok();
    assert!(!index.requests().iter().any(|path| path.contains("/common")), "{:?}", index.requests());
}

#[test]
fn local_packages_are_installed_like_wheels_importable_and_reproducible() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build"]).ok();
    let api = zip_entries(&out(&workspace).join(API_ZIP));
    for name in [
        "app.py",
        "common/__init__.py",
        "common/util.py",
        "common-0.3.0.dist-info/METADATA",
        "common-0.3.0.dist-info/RECORD",
        "common-0.3.0.dist-info/WHEEL",
        "six.py",
    ] {
        assert!(api.contains_key(name), "{name} missing from {:?}", api.keys().collect::<Vec<_>>());
    }
    assert!(
        !api.keys().any(|name| name.contains("speedups") || name.contains("flatlib") || name.starts_with("tests/"))
    );
    let metadata = String::from_utf8(api["common-0.3.0.dist-info/METADATA"].clone()).unwrap();
    assert!(metadata.contains("Name: common") && metadata.contains("Version: 0.3.0"), "{metadata}");
    let jobs = zip_entries(&out(&workspace).join(JOBS_ZIP));
    for name in ["jobs.py", "common/__init__.py", "speedups.py", "flatlib/__init__.py", "attrs/__init__.py"] {
        assert!(jobs.contains_key(name), "{name} missing from {:?}", jobs.keys().collect::<Vec<_>>());
    }
    assert!(jobs.keys().any(|name| name.starts_with("flatlib-1.2.0.dist-info/")), "{:?}", jobs.keys());

    let listing = workspace.run(&["build", "--list-files", "-p", "api"]).ok().stdout;
    assert!(
        listing.contains("common/util.py") && listing.contains("local package common 0.3.0 (libs/common)"),
        "{listing}"
    );

    // Reproducible: another build elsewhere gives the same bytes.
    workspace.run(&["build", "--out-dir", "again"]).ok();
    for zip in [API_ZIP, JOBS_ZIP] {
        assert_eq!(
            fs_err::read(out(&workspace).join(zip)).unwrap(),
            fs_err::read(workspace.path().join("again").join(zip)).unwrap(),
            "{zip}"
        );
    }

    let Some(python) = host_python() else { return };
    let printed = import_in(
        python,
        &out(&workspace).join(API_ZIP),
        "import app, common.util, importlib.metadata as m\nprint(app.handler({}, None), common.util.greet(), m.version('common'))\n",
    );
    assert_eq!(printed.trim(), "local hi 0.3.0");
    let printed = import_in(
        python,
        &out(&workspace).join(JOBS_ZIP),
        "import jobs, speedups, importlib.metadata as m\nprint(jobs.run({}, None), m.version('flatlib'), m.version('common'), sorted(m.metadata('common').get_all('Provides-Extra')))\n",
    );
    assert_eq!(printed.trim(), "flat 1.2.0 0.3.0 ['fast']");
}

#[test]
fn a_source_edit_rebuilds_the_zips_that_hold_it_and_a_dependency_edit_makes_the_lock_stale() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build"]).ok();
    let run = workspace.run(&["build", "--locked"]).ok();
    assert!(run.stderr.contains("(0 written, 2 up to date)"), "{}", run.stderr);

    // An edit of flatlib's source: only the jobs zip holds it; the lock is still fresh.
    write(workspace.path(), "libs/flatlib/flatlib/__init__.py", "NAME = 'edited'\n");
    let run = workspace.run(&["build", "--locked"]).ok();
    assert!(run.stderr.contains("(1 written, 1 up to date)"), "{}", run.stderr);
    let jobs = zip_entries(&out(&workspace).join(JOBS_ZIP));
    assert_eq!(jobs["flatlib/__init__.py"], b"NAME = 'edited'\n");
    // A new module of common: both zips.
    write(workspace.path(), "libs/common/src/common/extra.py", "X = 1\n");
    let run = workspace.run(&["build", "--locked"]).ok();
    assert!(run.stderr.contains("(2 written, 0 up to date)"), "{}", run.stderr);
    assert!(zip_entries(&out(&workspace).join(API_ZIP)).contains_key("common/extra.py"));

    // A dependency edit is a change of the resolution's inputs.
    write(
        workspace.path(),
        "libs/common/pyproject.toml",
        &COMMON_PYPROJECT.replace("[\"six>=1.10\"]", "[\"six>=1.10\", \"attrs\"]"),
    );
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(
        run.stderr.contains("the dependencies of local package `common` (`libs/common`) changed"),
        "{}",
        run.stderr
    );
    workspace.run(&["lock"]).ok();
    let api = zip_entries(&{
        workspace.run(&["build", "--locked"]).ok();
        out(&workspace).join(API_ZIP)
    });
    assert!(api.contains_key("attrs/__init__.py"));
    // So is a version bump.
    write(
        workspace.path(),
        "libs/common/pyproject.toml",
        &COMMON_PYPROJECT.replace("0.3.0", "0.4.0").replace("[\"six>=1.10\"]", "[\"six>=1.10\", \"attrs\"]"),
    );
    let run = workspace.run(&["lock", "--locked"]).failed();
    assert!(run.stderr.contains("changed version from 0.3.0 to 0.4.0"), "{}", run.stderr);
}

#[test]
fn a_local_package_that_cannot_be_used_is_a_clear_error_at_its_line() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let root = workspace.path().to_path_buf();
    let with_source = |source: &str| MANIFEST.replace("flatlib = { path = \"libs/flatlib\" }", source);
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "evil/pyproject.toml", "[project]\nname = \"evil\"\nversion = \"1\"\n");
    let escape =
        format!("flatlib = {{ path = \"../{}/evil\" }}", outside.path().file_name().unwrap().to_str().unwrap());
    let cases: Vec<(String, &str)> = vec![
        (escape, "is outside the workspace"),
        ("flatlib = { path = \"libs/common\" }".into(), "that project is named `common`"),
        ("flatlib = { path = \"functions/api/missing\" }".into(), "has no pyproject.toml"),
        ("flatlib = { path = \"libs/flatlib\", index = \"default\" }".into(), "has a `path` and another source"),
    ];
    for (source, expected) in cases {
        workspace.write_manifest(&with_source(&source));
        let run = workspace.run(&["lock"]).failed();
        assert!(run.stderr.contains(expected), "{source}: {}", run.stderr);
        assert!(
            run.stderr.contains("lambda.toml:6") || run.stderr.contains("6 │"),
            "{source}: the line: {}",
            run.stderr
        );
    }
    workspace.write_manifest(MANIFEST);

    // In a function's pyproject.toml: a member the uv workspace does not have, and git.
    let api = root.join("functions/api/pyproject.toml");
    let original = fs_err::read_to_string(&api).unwrap();
    for (source, expected) in [
        ("common = { workspace = true }\nghost = { workspace = true }", "`ghost` is not a member of the uv workspace"),
        ("common = { git = \"https://github.com/acme/common\" }", "comes from git"),
        ("common = { path = \"../../libs/flatlib\" }", "that project is named `flatlib`"),
    ] {
        fs_err::write(&api, original.replace("common = { workspace = true }", source)).unwrap();
        let run = workspace.run(&["lock"]).failed();
        assert!(run.stderr.contains(expected), "{source}: {}", run.stderr);
        assert!(run.stderr.contains("pyproject.toml"), "{source}: names the file: {}", run.stderr);
    }
    // A git source of a package the project does not require is only a warning.
    fs_err::write(&api, format!("{original}tool-only = {{ git = \"https://github.com/acme/tool\" }}\n")).unwrap();
    let run = workspace.run(&["lock"]).ok();
    assert!(
        run.stderr.contains("ignoring the source of `tool-only`") && run.stderr.contains("comes from git"),
        "{}",
        run.stderr
    );
    fs_err::write(&api, &original).unwrap();

    // A requires-python the target does not meet.
    write(
        &root,
        "libs/common/pyproject.toml",
        &COMMON_PYPROJECT.replace("[project]\n", "[project]\nrequires-python = \">=3.13\"\n"),
    );
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("local package at `libs/common`") && run.stderr.contains(">=3.13"), "{}", run.stderr);
}

#[test]
fn hostile_locks_about_path_packages_are_refused() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["lock"]).ok();
    let good = workspace.lock_text();
    let sha = "a".repeat(64);
    let wheel = format!(
        "[package.target.wheel]\nfilename = \"common-0.3.0-py3-none-any.whl\"\nurl = \"{}\"\nsha256 = \"{sha}\"\nsize = 10\n\n",
        index.file_url("common-0.3.0-py3-none-any.whl")
    );
    let cases: Vec<(String, &str)> = vec![
        // A path that leaves the workspace, in both places.
        (good.replace("\"libs/common\"", "\"../../etc\""), "not a relative `/`-separated path inside the workspace"),
        (good.replace("\"libs/common\"", "\"/etc\""), "not a relative"),
        // The package's path disagrees with the inputs.
        (
            good.replacen("path = \"libs/common\"\ntargets", "path = \"libs/flatlib\"\ntargets", 1),
            "but `[inputs.local]` has it at",
        ),
        // The local name locked from the index (dependency confusion through the lock).
        (
            good.replacen("source = \"path\"\npath = \"libs/common\"", "source = \"default\"", 1),
            "never comes from an index",
        ),
        // An index package turned into a path package the inputs do not record.
        (
            good.replacen(
                "name = \"six\"\nversion = \"1.16.0\"\nsource = \"default\"",
                "name = \"six\"\nversion = \"1.16.0\"\nsource = \"path\"\npath = \"libs/six\"",
                1,
            ),
            "`[inputs.local]` has no local package of that name",
        ),
        // A `path` on an index package.
        (
            good.replacen(
                "name = \"six\"\nversion = \"1.16.0\"\nsource = \"default\"",
                "name = \"six\"\nversion = \"1.16.0\"\nsource = \"default\"\npath = \"libs/six\"",
                1,
            ),
            "only a path package",
        ),
        // An index named `path`.
        (good.replacen("name = \"default\"", "name = \"path\"", 1), "reserved"),
        // A path package with a wheel.
        (
            {
                let at = good.find("source = \"path\"\npath = \"libs/common\"\n").unwrap();
                let entry = at + good[at..].find("[[package.target]]").unwrap();
                let next = entry + good[entry..].find("\n\n").unwrap() + 2;
                format!("{}{wheel}{}", &good[..next], &good[next..])
            },
            "it has no `wheel` or `gap`",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(text, good, "the tampering changed nothing for `{expected}`");
        fs_err::write(workspace.lock_path(), &text).unwrap();
        let run = workspace.run(&["build", "--locked"]).failed();
        assert!(run.stderr.contains("invalid lock") && run.stderr.contains(expected), "{expected}: {}", run.stderr);
        assert!(!out(&workspace).join(API_ZIP).exists(), "nothing was built from a hostile lock");
    }
    // Consistent everywhere, but not the workspace's: stale, so `--locked` refuses it.
    let moved = good.replace("\"libs/common\"", "\"libs/elsewhere\"");
    fs_err::write(workspace.lock_path(), &moved).unwrap();
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(
        run.stderr.contains("local package `common` moved from `libs/elsewhere` to `libs/common`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_layer_holds_a_local_package_under_python_and_its_functions_do_not_repeat_it() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let manifest = MANIFEST.replace(
        "[function.api]\n",
        "[layer.shared]\nrequirements = [\"common\"]\n\n[function.api]\nlayers = [\"shared\"]\n",
    );
    // `common` is local for the whole workspace: the layer names it without a source of its own.
    workspace.write_manifest(&manifest);
    workspace.run(&["build"]).ok();
    let layer = zip_entries(&out(&workspace).join("layers/shared-python3.12-x86_64.zip"));
    assert!(layer.contains_key("python/common/__init__.py"), "{:?}", layer.keys());
    assert!(layer.contains_key("python/common-0.3.0.dist-info/METADATA"), "{:?}", layer.keys());
    assert!(layer.contains_key("python/six.py"), "{:?}", layer.keys());
    let api = zip_entries(&out(&workspace).join(API_ZIP));
    assert!(!api.keys().any(|name| name.starts_with("common")), "the layer provides it: {:?}", api.keys());
    // `workspace.strip` applies to local packages too, never to their .dist-info.
    workspace.write_manifest(
        &manifest.replace("[workspace]\n", "[workspace]\nstrip = [\"common/util.py\", \"**/RECORD\"]\n"),
    );
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("written"), "{}", run.stderr);
    let layer = zip_entries(&out(&workspace).join("layers/shared-python3.12-x86_64.zip"));
    assert!(!layer.contains_key("python/common/util.py"), "{:?}", layer.keys());
    assert!(layer.contains_key("python/common-0.3.0.dist-info/RECORD"), "{:?}", layer.keys());
}

#[test]
fn a_local_packages_own_uv_sources_decide_where_its_dependencies_come_from() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let root = workspace.path();
    // flatlib depends on `helper`, a uv_build project beside it, through its own sources.
    write(
        root,
        "libs/flatlib/pyproject.toml",
        &format!(
            "[project]\nname = \"flatlib\"\nversion = \"1.2.0\"\ndependencies = [\"attrs\", \"helper>=0.1\"]\n\n[tool.uv.sources]\nhelper = {{ path = \"../helper\" }}\n\n{FLAT_BACKEND}"
        ),
    );
    write(
        root,
        "libs/helper/pyproject.toml",
        "[project]\nname = \"helper\"\nversion = \"0.2.0\"\n\n[build-system]\nrequires = [\"uv_build\"]\nbuild-backend = \"uv_build\"\n",
    );
    write(root, "libs/helper/src/helper/__init__.py", "HELP = 1\n");
    workspace.run(&["build"]).ok();
    let lock = workspace.lock_text();
    assert!(
        lock.contains("name = \"helper\"\nversion = \"0.2.0\"\nsource = \"path\"\npath = \"libs/helper\""),
        "{lock}"
    );
    assert!(!index.requests().iter().any(|path| path.contains("/helper")), "{:?}", index.requests());
    let jobs = zip_entries(&out(&workspace).join(JOBS_ZIP));
    assert!(jobs.contains_key("helper/__init__.py") && jobs.contains_key("helper-0.2.0.dist-info/METADATA"));
    assert!(!zip_entries(&out(&workspace).join(API_ZIP)).contains_key("helper/__init__.py"));
}

#[test]
fn local_packages_are_installed_in_per_function_resolutions_too() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.write_manifest(&MANIFEST.replace("[workspace]\n", "[workspace]\nresolution = \"per-function\"\n"));
    workspace.run(&["build", "--out-dir", "apart"]).ok();
    workspace.run(&["lock", "--locked"]).ok();
    for zip in [API_ZIP, JOBS_ZIP] {
        let entries = zip_entries(&workspace.path().join("apart").join(zip));
        assert!(entries.contains_key("common/__init__.py"), "{zip}: {:?}", entries.keys());
    }
    assert!(!index.requests().iter().any(|path| path.contains("/common")), "{:?}", index.requests());
}

/// Another spelling of a local name (case, `_`, `.`, with extras and a marker) is still the
/// local package, never an index lookup; two local packages that depend on each other lock and
/// install once each.
#[test]
fn other_spellings_of_a_local_name_and_a_cycle_of_local_packages_stay_local() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let root = workspace.path();
    workspace.write_manifest(&MANIFEST.replace(
        "requirements = [\"flatlib\"]",
        "requirements = [\"FlatLib\", \"Common[FAST] ; python_version >= '3'\", \"cyc_a\"]",
    ));
    write(
        root,
        "libs/cyc-a/pyproject.toml",
        "[project]\nname = \"cyc.a\"\nversion = \"1.0\"\ndependencies = [\"Cyc_B\"]\n\n\
         [tool.uv.sources]\ncyc-b = { path = \"../cyc-b\" }\n\n\
         [build-system]\nrequires = [\"uv_build\"]\nbuild-backend = \"uv_build\"\n",
    );
    write(root, "libs/cyc-a/src/cyc_a/__init__.py", "");
    write(
        root,
        "libs/cyc-b/pyproject.toml",
        "[project]\nname = \"cyc-b\"\nversion = \"2.0\"\ndependencies = [\"CYC-A>=1\"]\n\n\
         [tool.uv.sources]\n\"cyc.a\" = { path = \"../cyc-a\" }\n\n\
         [build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
    );
    write(root, "libs/cyc-b/cyc_b/__init__.py", "");
    let manifest = fs_err::read_to_string(root.join("lambda.toml")).unwrap();
    workspace.write_manifest(&manifest.replace(
        "flatlib = { path = \"libs/flatlib\" }",
        "flatlib = { path = \"libs/flatlib\" }\ncyc-a = { path = \"libs/cyc-a\" }",
    ));
    workspace.run(&["build"]).ok();
    let lock = workspace.lock_text();
    for (name, path) in [("cyc-a", "libs/cyc-a"), ("cyc-b", "libs/cyc-b"), ("common", "libs/common")] {
        assert!(lock.contains(&format!("source = \"path\"\npath = \"{path}\"")), "{name}: {lock}");
    }
    let asked = index.requests();
    assert!(
        !asked
            .iter()
            .any(|path| ["/common", "/flatlib", "/cyc"].iter().any(|local| path.to_lowercase().contains(local))),
        "{asked:?}"
    );
    let jobs = zip_entries(&out(&workspace).join(JOBS_ZIP));
    for entry in ["cyc_a/__init__.py", "cyc_b/__init__.py", "speedups.py", "flatlib/__init__.py"] {
        assert!(jobs.contains_key(entry), "{entry}: {:?}", jobs.keys());
    }
}

/// `exclude-runtime-packages` leaves out what the runtime provides, but never a local package
/// of the same name (the project's own fork is not the runtime's copy).
#[test]
fn a_local_package_named_like_a_runtime_package_is_still_zipped() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let root = workspace.path();
    write(
        root,
        "libs/boto3/pyproject.toml",
        "[project]\nname = \"boto3\"\nversion = \"1.99.0+acme\"\n\n[build-system]\nrequires = [\"uv_build\"]\nbuild-backend = \"uv_build\"\n",
    );
    write(root, "libs/boto3/src/boto3/__init__.py", "PATCHED = True\n");
    workspace.write_manifest(
        &MANIFEST
            .replace("[workspace]\n", "[workspace]\nexclude-runtime-packages = true\n")
            .replace(
                "flatlib = { path = \"libs/flatlib\" }",
                "flatlib = { path = \"libs/flatlib\" }\nboto3 = { path = \"libs/boto3\" }",
            )
            .replace("requirements = [\"flatlib\"]", "requirements = [\"flatlib\", \"boto3\"]"),
    );
    workspace.run(&["build"]).ok();
    let jobs = zip_entries(&out(&workspace).join(JOBS_ZIP));
    assert!(jobs.contains_key("boto3/__init__.py"), "{:?}", jobs.keys());
    assert!(!index.requests().iter().any(|path| path.contains("/boto3")), "{:?}", index.requests());
}
