//! Several source directories per function (`source = ["functions/api", "shared/py"]`) and
//! layers that carry files (`[layer.x] source = "layers/x"`, under `python/`): what the zips
//! hold, the collisions and escapes refused, freshness after an edit in any source, and
//! reproducible bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Run, Workspace};

fn scenario() -> Scenario {
    Scenario::from_packages([PackageSpec::new("six", "1.0"), PackageSpec::new("idna", "1.0")])
}

const MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[layer.common]
requirements = ["six"]
source = "layers/common"

[function.api]
source = [
  "functions/api",
  "shared/py",
]
exclude = ["tests/**"]
handler = "entry.handler"
requirements = ["six", "idna"]
layers = ["common"]

[function.worker]
source = ["functions/worker", "shared/py"]
handler = "work.run"
requirements = []

[function.jobs]
source = "functions/jobs"
handler = "jobs.run"
requirements = []
"#;

const API_ZIP: &str = "functions/api-python3.12-x86_64.zip";
const WORKER_ZIP: &str = "functions/worker-python3.12-x86_64.zip";
const JOBS_ZIP: &str = "functions/jobs-python3.12-x86_64.zip";
const LAYER_ZIP: &str = "layers/common-python3.12-x86_64.zip";

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
}

fn setup(index: &FakeIndex) -> Workspace {
    let workspace = Workspace::new(index, Api::Json, MANIFEST);
    write(
        workspace.path(),
        &[
            ("functions/api/app.py", "def helper():\n    return 'api'\n"),
            ("functions/api/.env", "PASSWORD=hunter2\n"),
            ("functions/api/tests/test_app.py", "def test(): pass\n"),
            (
                "shared/py/entry.py",
                "import acme_shared, acme_layer, vlib, app\n\n\
                 def handler(event, context):\n    return [acme_shared.NAME, acme_layer.NAME, vlib.V, app.helper()]\n",
            ),
            ("shared/py/acme_shared/__init__.py", "NAME = 'shared'\n"),
            ("shared/py/acme_shared/__pycache__/x.cpython-312.pyc", "junk"),
            ("shared/py/tests/test_shared.py", "def test(): pass\n"),
            ("shared/py/vendor/vlib.py", "V = 'vendored'\n"),
            (
                "functions/worker/work.py",
                "import acme_shared\n\ndef run(event, context):\n    return acme_shared.NAME\n",
            ),
            ("functions/jobs/jobs.py", "def run(event, context):\n    return 'jobs'\n"),
            ("layers/common/acme_layer/__init__.py", "NAME = 'layer'\n"),
            ("layers/common/.gitignore", "scratch.txt\n"),
            ("layers/common/scratch.txt", "notes\n"),
        ],
    );
    workspace
}

fn out(workspace: &Workspace) -> PathBuf {
    workspace.path().join("target/lambda")
}

/// The files (not directories) of a zip.
fn zip_names(zip: &Path) -> BTreeSet<String> {
    let archive = zip::ZipArchive::new(fs_err::File::open(zip).unwrap()).unwrap();
    archive.file_names().map(|name| name.unwrap().into_owned()).filter(|name| !name.ends_with('/')).collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|name| name.to_string()).collect()
}

/// A failure: exit code 1 (never a panic's 101), with `needles` in the message.
#[track_caller]
fn fails(exit: &Run, needles: &[&str]) {
    assert_eq!(exit.code, Some(1), "stdout:\n{}\nstderr:\n{}", exit.stdout, exit.stderr);
    for needle in needles {
        assert!(exit.stderr.contains(needle), "`{needle}` not in:\n{}", exit.stderr);
    }
}

/// The 1-based line of `lambda.toml` on which `needle` first appears.
fn line_of(workspace: &Workspace, needle: &str) -> usize {
    let text = fs_err::read_to_string(workspace.path().join("lambda.toml")).unwrap();
    text.lines().position(|line| line.contains(needle)).expect("the needle is in lambda.toml") + 1
}

#[test]
fn two_source_directories_are_merged_into_the_zip_root() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let run = workspace.run(&["build"]).ok();
    // The handler module lives in the second source: no warning.
    assert!(!run.stderr.contains("ImportModuleError"), "{}", run.stderr);
    let api = zip_names(&out(&workspace).join(API_ZIP));
    let expected = names(&[
        "app.py",
        "entry.py",
        "acme_shared/__init__.py",
        "vlib.py",
        "idna/__init__.py",
        "idna-1.0.dist-info/METADATA",
        "idna-1.0.dist-info/RECORD",
        "idna-1.0.dist-info/WHEEL",
    ]);
    // `six` comes from the layer; `.env`, `__pycache__` and `tests/` (excluded relative to
    // each source directory) stay out.
    assert_eq!(api, expected);
    let worker = zip_names(&out(&workspace).join(WORKER_ZIP));
    assert_eq!(worker, names(&["work.py", "entry.py", "acme_shared/__init__.py", "vlib.py", "tests/test_shared.py"]));
    assert_eq!(zip_names(&out(&workspace).join(JOBS_ZIP)), names(&["jobs.py"]));

    // A handler no source has is still warned about, naming every source.
    workspace.write_manifest(&MANIFEST.replace("entry.handler", "missing.handler"));
    let run = workspace.run(&["build", "-p", "api", "--out-dir", "other"]).ok();
    assert!(run.stderr.contains("none of its source directories has `missing.py`"), "{}", run.stderr);
}

#[test]
fn list_files_says_which_source_directory_each_file_comes_from() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let exit = workspace.run(&["build", "--list-files", "-p", "api", "-p", "common", "--message-format", "json"]).ok();
    let document: serde_json::Value = serde_json::from_str(&exit.stdout).unwrap();
    let zips = document["zips"].as_array().unwrap();
    let zip = |path: &str| zips.iter().find(|zip| zip["path"] == path).unwrap_or_else(|| panic!("{path}")).clone();
    let api = zip(API_ZIP);
    let entry = |zip: &serde_json::Value, path: &str| {
        zip["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("{path}"))
            .clone()
    };
    let from = |entry: serde_json::Value| {
        (
            entry["origin"].as_str().unwrap().to_string(),
            entry["source_dir"].as_str().unwrap().to_string(),
            entry["source_path"].as_str().unwrap().to_string(),
        )
    };
    let triple = |origin: &str, dir: &str, path: &str| (origin.to_string(), dir.to_string(), path.to_string());
    assert_eq!(from(entry(&api, "app.py")), triple("source", "functions/api", "app.py"));
    assert_eq!(from(entry(&api, "acme_shared/__init__.py")), triple("source", "shared/py", "acme_shared/__init__.py"));
    assert_eq!(from(entry(&api, "vlib.py")), triple("vendor", "shared/py", "vendor/vlib.py"));
    let left_out: BTreeSet<(String, String, String)> = api["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|left| {
            let field = |name: &str| left[name].as_str().unwrap().to_string();
            (field("source_dir"), field("path"), field("reason"))
        })
        .collect();
    for (dir, path, reason) in [
        ("functions/api", ".env", "dotfile"),
        ("functions/api", "tests/", "exclude"),
        ("shared/py", "tests/", "exclude"),
        ("shared/py", "acme_shared/__pycache__/", "always-left-out"),
    ] {
        assert!(
            left_out.contains(&(dir.to_string(), path.to_string(), reason.to_string())),
            "{dir} {path} ({reason}) in {left_out:?}"
        );
    }
    let layer = zip(LAYER_ZIP);
    assert_eq!(
        from(entry(&layer, "python/acme_layer/__init__.py")),
        triple("source", "layers/common", "acme_layer/__init__.py")
    );
    assert_eq!(entry(&layer, "python/six/__init__.py")["origin"], "package");

    // For people: each file with the path it comes from.
    let exit = workspace.run(&["build", "--list-files", "-v", "-p", "api", "-p", "common"]).ok();
    for needle in [
        "source (shared/py/acme_shared/__init__.py)",
        "source (functions/api/app.py)",
        "vendor/ (shared/py/vendor/vlib.py)",
        "source (layers/common/acme_layer/__init__.py)",
        "shared/py/tests/",
        "layers/common/scratch.txt",
    ] {
        assert!(exit.stdout.contains(needle), "`{needle}` not in:\n{}", exit.stdout);
    }
    assert!(!workspace.path().join("target").exists(), "--list-files writes no output");
}

#[test]
fn two_source_directories_giving_one_path_is_an_error_naming_both_and_the_line() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    write(workspace.path(), &[("shared/py/app.py", "def helper():\n    return 'shared'\n")]);
    let exit = workspace.run(&["build"]);
    let first = line_of(&workspace, "\"functions/api\"");
    let second = line_of(&workspace, "\"shared/py\",");
    fails(
        &exit,
        &[
            "function `api`",
            "`functions/api/app.py` and `shared/py/app.py` both go to `app.py`",
            &format!("lines {first} and {second} of lambda.toml"),
            ".ignore",
        ],
    );
    assert!(!out(&workspace).join("functions").exists(), "nothing was written");
    // `worker` does not hold `functions/api`: `-p worker` builds.
    workspace.run(&["build", "-p", "worker"]).ok();

    // Two vendored files too, on one line of lambda.toml.
    fs_err::remove_file(workspace.path().join("shared/py/app.py")).unwrap();
    write(workspace.path(), &[("functions/worker/vendor/vlib.py", "V = 'other'\n")]);
    let exit = workspace.run(&["build", "-p", "worker"]);
    let line = line_of(&workspace, "source = [\"functions/worker\"");
    fails(
        &exit,
        &[
            "`functions/worker/vendor/vlib.py` and `shared/py/vendor/vlib.py` both go to `vlib.py`",
            &format!("line {line} of lambda.toml lists both directories"),
        ],
    );

    // An own file of one source shadows a vendored file of another, as within one directory.
    fs_err::remove_file(workspace.path().join("functions/worker/vendor/vlib.py")).unwrap();
    write(workspace.path(), &[("functions/worker/vlib.py", "V = 'own'\n")]);
    let run = workspace.run(&["build", "-p", "worker"]).ok();
    assert!(
        run.stderr
            .contains("`vlib.py` is both your own `functions/worker/vlib.py` and vendored `shared/py/vendor/vlib.py`"),
        "{}",
        run.stderr
    );
    let zip = zip::ZipArchive::new(fs_err::File::open(out(&workspace).join(WORKER_ZIP)).unwrap());
    let mut zip = zip.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("vlib.py").unwrap(), &mut text).unwrap();
    assert_eq!(text, "V = 'own'\n");
}

#[test]
fn a_source_directory_outside_the_workspace_is_refused() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), &[("secret.py", "TOKEN = 'x'\n")]);
    // Both temporary directories are in one parent: `../<name>` names the other one.
    let escape = format!("../{}", outside.path().file_name().unwrap().to_str().unwrap());
    for (source, what) in [
        (escape.as_str(), "outside the workspace"),
        ("../outside", "outside the workspace"),
        ("/etc", "outside the workspace"),
        ("missing/dir", "does not exist"),
    ] {
        workspace.write_manifest(&MANIFEST.replace("\"shared/py\",", &format!("\"{source}\",")));
        let exit = workspace.run(&["build"]);
        fails(&exit, &[&format!("the source directory `{source}` of function `api`"), what]);
        // The error points at the line of lambda.toml.
        assert!(exit.stderr.contains(&format!("lambda.toml:{}", line_of(&workspace, source))), "{}", exit.stderr);
        // Every command reads the manifest: `lock` refuses it too.
        fails(&workspace.run(&["lock"]), &[what]);
    }
    assert!(!out(&workspace).exists(), "nothing was written");

    #[cfg(unix)]
    {
        // A source directory that is a link out of the workspace.
        std::os::unix::fs::symlink(outside.path(), workspace.path().join("linked")).unwrap();
        workspace.write_manifest(&MANIFEST.replace("\"shared/py\",", "\"linked\","));
        fails(
            &workspace.run(&["build"]),
            &["the source directory `linked` of function `api`", "outside the workspace"],
        );
        // A link inside the second source that points out of it.
        workspace.write_manifest(MANIFEST);
        std::os::unix::fs::symlink(outside.path().join("secret.py"), workspace.path().join("shared/py/leak.py"))
            .unwrap();
        fails(&workspace.run(&["build"]), &["shared/py/leak.py", "out of the source directory"]);
        assert!(!out(&workspace).join("functions").exists(), "nothing was written");
    }
}

#[test]
fn a_layer_carries_its_source_directory_under_python_importable_with_the_function() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build"]).ok();
    let layer = zip_names(&out(&workspace).join(LAYER_ZIP));
    assert_eq!(
        layer,
        names(&[
            "python/acme_layer/__init__.py",
            "python/six/__init__.py",
            "python/six-1.0.dist-info/METADATA",
            "python/six-1.0.dist-info/RECORD",
            "python/six-1.0.dist-info/WHEEL",
        ]),
        "`.gitignore` and what it ignores stay out"
    );

    // Imported as Lambda lays them out: the function at the task root, the layer's python/ on
    // the path.
    match python3() {
        None => eprintln!("skipping the import check: no `python3` on PATH"),
        Some(python) => {
            let task = tempfile::tempdir().unwrap();
            let opt = tempfile::tempdir().unwrap();
            extract(&out(&workspace).join(API_ZIP), task.path());
            extract(&out(&workspace).join(LAYER_ZIP), opt.path());
            let output = Command::new(python)
                .arg("-S")
                .arg("-c")
                .arg("import entry, six; print(entry.handler(None, None), six.__version__)")
                .current_dir(task.path())
                .env("PYTHONPATH", format!("{}:{}", task.path().display(), opt.path().join("python").display()))
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "['shared', 'layer', 'vendored', 'api'] 1.0");
        }
    }
}

#[test]
fn a_layer_source_file_on_a_package_file_is_an_error_naming_both() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    write(workspace.path(), &[("layers/common/six/__init__.py", "MINE = 1\n")]);
    fails(
        &workspace.run(&["build", "-p", "common"]),
        &[
            "the source file `six/__init__.py` of `layers/common`",
            "package `six` (`six-1.0-py3-none-any.whl`)",
            "`python/six/__init__.py`",
        ],
    );
    assert!(!out(&workspace).join("layers").exists(), "nothing was written");
}

#[test]
fn an_edit_in_any_source_directory_rebuilds_exactly_the_zips_that_hold_it() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    workspace.run(&["build"]).ok();
    let all = [API_ZIP, WORKER_ZIP, JOBS_ZIP, LAYER_ZIP];
    let mtimes = || -> BTreeMap<&str, std::time::SystemTime> {
        all.iter()
            .map(|path| (*path, fs_err::metadata(out(&workspace).join(path)).unwrap().modified().unwrap()))
            .collect()
    };
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(0 written, 4 up to date)"), "{}", run.stderr);
    let before = mtimes();
    std::thread::sleep(std::time::Duration::from_millis(20));

    // The second source of `api`, shared with `worker`.
    write(workspace.path(), &[("shared/py/acme_shared/__init__.py", "NAME = 'shared, edited'\n")]);
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(2 written, 2 up to date)"), "{}", run.stderr);
    let after = mtimes();
    assert_ne!(after[API_ZIP], before[API_ZIP]);
    assert_ne!(after[WORKER_ZIP], before[WORKER_ZIP]);
    assert_eq!(after[JOBS_ZIP], before[JOBS_ZIP]);
    assert_eq!(after[LAYER_ZIP], before[LAYER_ZIP]);
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(0 written, 4 up to date)"), "{}", run.stderr);

    // A file added to `api`'s own directory, which no other zip holds.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let before = mtimes();
    write(workspace.path(), &[("functions/api/extra.py", "X = 1\n")]);
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(1 written, 3 up to date)"), "{}", run.stderr);
    assert_ne!(mtimes()[API_ZIP], before[API_ZIP]);
    assert!(zip_names(&out(&workspace).join(API_ZIP)).contains("extra.py"));

    // The layer's source: only the layer zip.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let before = mtimes();
    write(workspace.path(), &[("layers/common/acme_layer/__init__.py", "NAME = 'layer, edited'\n")]);
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(1 written, 3 up to date)"), "{}", run.stderr);
    let after = mtimes();
    assert_ne!(after[LAYER_ZIP], before[LAYER_ZIP]);
    for path in [API_ZIP, WORKER_ZIP, JOBS_ZIP] {
        assert_eq!(after[path], before[path], "{path}");
    }
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("(0 written, 4 up to date)"), "{}", run.stderr);
}

#[test]
fn zips_with_several_sources_are_reproducible() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let first = setup(&index);
    let second = setup(&index);
    // Other modification times and modes must not change a byte.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400 * 300);
    for path in ["shared/py/acme_shared/__init__.py", "layers/common/acme_layer/__init__.py"] {
        fs_err::File::options().write(true).open(second.path().join(path)).unwrap().set_modified(later).unwrap();
    }
    first.run(&["build"]).ok();
    second.run(&["build"]).ok();
    for path in [API_ZIP, WORKER_ZIP, JOBS_ZIP, LAYER_ZIP, "manifest.json"] {
        let (a, b) = (fs_err::read(out(&first).join(path)).unwrap(), fs_err::read(out(&second).join(path)).unwrap());
        assert!(a == b, "{path} differs between the two builds");
    }
    // A build from scratch in the same workspace gives the same bytes again.
    let before = fs_err::read(out(&first).join(API_ZIP)).unwrap();
    fs_err::remove_dir_all(out(&first)).unwrap();
    first.run(&["build"]).ok();
    assert_eq!(fs_err::read(out(&first).join(API_ZIP)).unwrap(), before);
}

/// `python3` on PATH, if there is one.
fn python3() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("python3"))
        .find(|path| path.is_file())
}

/// Extract a zip lbuild wrote (its names were checked when it was written).
fn extract(zip: &Path, into: &Path) {
    let mut archive = zip::ZipArchive::new(fs_err::File::open(zip).unwrap()).unwrap();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let path = into.join(file.enclosed_name().unwrap());
        if file.is_dir() {
            fs_err::create_dir_all(&path).unwrap();
            continue;
        }
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        let mut out = fs_err::File::create(&path).unwrap();
        std::io::copy(&mut file, &mut out).unwrap();
    }
}
