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

/// A workspace of `MANIFEST` (or `manifest`) with the files of `setup`.
fn with_manifest(index: &FakeIndex, manifest: &str) -> Workspace {
    let workspace = setup(index);
    workspace.write_manifest(manifest);
    workspace
}

#[test]
fn a_backslash_in_a_source_path_is_refused_with_the_portable_spelling() {
    // `functions\api` works on Windows only: the same lambda.toml fails in Linux CI with a
    // puzzling "does not exist", or (when a directory of that name exists) zips other files.
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let function = MANIFEST.replace("\"functions/api\",", r#""functions\\api","#);
    let layer = MANIFEST.replace("source = \"layers/common\"", r"source = 'layers\common'");
    for (manifest, written, portable, needle) in [
        (&function, r"functions\api", "functions/api", r#""functions\\api""#),
        (&layer, r"layers\common", "layers/common", r"'layers\common'"),
    ] {
        let workspace = with_manifest(&index, manifest);
        // Even a directory that has that name on Linux is refused.
        fs_err::create_dir_all(workspace.path().join(written)).unwrap();
        let exit = workspace.run(&["build"]);
        fails(&exit, &[&format!("`{written}`"), "backslash", &format!("`{portable}`")]);
        assert!(exit.stderr.contains(&format!("lambda.toml:{}", line_of(&workspace, needle))), "{}", exit.stderr);
        assert!(!out(&workspace).exists(), "nothing was written");
    }
}

#[test]
fn a_layer_source_with_a_python_directory_is_warned_about() {
    // A directory laid out as a hand-made layer (`python/acme/`) would end up at
    // `python/python/acme/`, where no function can import it.
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let run = workspace.run(&["build"]).ok();
    assert!(!run.stderr.contains("python/python/"), "{}", run.stderr);
    write(workspace.path(), &[("layers/common/python/acme/__init__.py", "NAME = 'nested'\n")]);
    let run = workspace.run(&["build", "-p", "common"]).ok();
    for needle in ["layer `common`", "`layers/common`", "`python/python/`", "source = \"layers/common/python\""] {
        assert!(run.stderr.contains(needle), "`{needle}` not in:\n{}", run.stderr);
    }
    assert!(zip_names(&out(&workspace).join(LAYER_ZIP)).contains("python/python/acme/__init__.py"));
    // A function's `python/` is an ordinary package: no warning.
    write(workspace.path(), &[("functions/jobs/python/__init__.py", "")]);
    let run = workspace.run(&["build", "-p", "jobs"]).ok();
    assert!(!run.stderr.contains("python/python/"), "{}", run.stderr);
}

#[test]
fn source_paths_that_differ_only_in_case_are_warned_about() {
    // Two directories can hold `Util.py` and `util.py` (or `Lib/` and `lib/`) even on macOS
    // and Windows; the zip then holds both, and unpacking it there keeps only one.
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    let run = workspace.run(&["build"]).ok();
    assert!(!run.stderr.contains("only in case"), "{}", run.stderr);
    write(
        workspace.path(),
        &[("functions/api/Entry.py", "X = 1\n"), ("functions/api/Acme_Shared/extra.py", "Y = 1\n")],
    );
    let run = workspace.run(&["build", "-p", "api"]).ok();
    for needle in [
        "function `api`: `functions/api/Entry.py` and `shared/py/entry.py` differ only in case",
        "`functions/api/Acme_Shared/` and `shared/py/acme_shared/` differ only in case",
        "macOS",
    ] {
        assert!(run.stderr.contains(needle), "`{needle}` not in:\n{}", run.stderr);
    }
    // Lambda's file system tells them apart: both are in the zip.
    let zip = zip_names(&out(&workspace).join(API_ZIP));
    assert!(zip.contains("Entry.py") && zip.contains("entry.py"), "{zip:?}");
    // Said when the zip is written, not on every no-op build.
    let run = workspace.run(&["build", "-p", "api"]).ok();
    assert!(!run.stderr.contains("only in case"), "{}", run.stderr);
}

#[test]
fn left_out_paths_are_listed_by_source_directory_then_path() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    // `functions/api/vlib.py` shadows `shared/py/vendor/vlib.py` across directories.
    write(workspace.path(), &[("functions/api/vlib.py", "V = 'own'\n"), ("shared/py/zz/.hidden", "x\n")]);
    let exit = workspace.run(&["build", "--list-files", "-p", "api", "--message-format", "json"]).ok();
    let document: serde_json::Value = serde_json::from_str(&exit.stdout).unwrap();
    let api = document["zips"].as_array().unwrap().iter().find(|zip| zip["path"] == API_ZIP).unwrap().clone();
    let left: Vec<(String, String)> = api["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|left| (left["source_dir"].as_str().unwrap().to_string(), left["path"].as_str().unwrap().to_string()))
        .collect();
    let shadowed = ("shared/py".to_string(), "vendor/vlib.py".to_string());
    assert!(left.contains(&shadowed), "{left:?}");
    let order = |dir: &str| ["functions/api", "shared/py"].iter().position(|d| *d == dir).unwrap();
    let mut sorted = left.clone();
    sorted.sort_by(|a, b| (order(&a.0), &a.1).cmp(&(order(&b.0), &b.1)));
    assert_eq!(left, sorted, "by directory in lambda.toml's order, then by path");
}

#[test]
fn two_layer_sources_giving_one_path_name_the_path_under_python() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = with_manifest(
        &index,
        &MANIFEST.replace("source = \"layers/common\"", "source = [\"layers/common\", \"shared/py\"]"),
    );
    write(workspace.path(), &[("layers/common/entry.py", "X = 1\n")]);
    let exit = workspace.run(&["build", "-p", "common"]);
    fails(
        &exit,
        &[
            "layer `common`: `layers/common/entry.py` and `shared/py/entry.py` both go to `python/entry.py` in the zip",
            "every source directory's files go to `python/`",
        ],
    );
    assert!(!exit.stderr.contains("zip root"), "{}", exit.stderr);
}

#[test]
fn include_or_exclude_without_source_is_warned_about_pointing_at_strip() {
    // `exclude = ["**/tests/**"]` on a layer of packages reads as if it stripped the packages'
    // tests; it applies to source directories only, and without one it silently did nothing.
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let manifest = MANIFEST
        .replace("source = \"layers/common\"", "exclude = [\"**/tests/**\"]")
        .replace("source = \"functions/jobs\"\n", "include = [\"*.py\"]\n");
    let workspace = with_manifest(&index, &manifest);
    let run = workspace.run(&["build"]).ok();
    let exclude_line = line_of(&workspace, "exclude = [\"**/tests/**\"]");
    let include_line = line_of(&workspace, "include = [\"*.py\"]");
    for needle in [
        format!("`exclude` of layer `common` (line {exclude_line}) does nothing: it has no `source`"),
        format!("`include` of function `jobs` (line {include_line}) does nothing: it has no `source`"),
        "`strip`".to_string(),
    ] {
        assert!(run.stderr.contains(&needle), "`{needle}` not in:\n{}", run.stderr);
    }
    // With a source, no such warning.
    let run = with_manifest(&index, MANIFEST).run(&["build"]).ok();
    assert!(!run.stderr.contains("does nothing"), "{}", run.stderr);
}

#[test]
fn a_handler_whose_module_a_layer_source_carries_is_not_warned_about() {
    // Lambda puts the layer's `python/` on `sys.path`: a handler module there imports.
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let manifest = MANIFEST
        .replace(
            "handler = \"jobs.run\"\nrequirements = []",
            "handler = \"acme_layer.run\"\nrequirements = []\nlayers = [\"common\"]",
        )
        .replace("handler = \"work.run\"", "handler = \"acme_layer.run\"");
    let workspace = with_manifest(&index, &manifest);
    let run = workspace.run(&["build"]).ok();
    assert!(!run.stderr.contains("function `jobs` names module"), "{}", run.stderr);
    // `worker` does not use the layer: its handler module is nowhere.
    assert!(run.stderr.contains("the handler `acme_layer.run` of function `worker`"), "{}", run.stderr);
    // Building the function alone still sees its layer's files.
    let run = workspace.run(&["build", "-p", "jobs", "--out-dir", "other"]).ok();
    assert!(run.stderr.contains("Built functions/jobs"), "{}", run.stderr);
    assert!(!run.stderr.contains("names module"), "{}", run.stderr);
}

#[test]
fn a_source_directory_lbuild_never_copies_from_is_refused() {
    // Inside a source, `.git/`, `node_modules/`, virtual environments and caches are never
    // copied; named as the source itself they were zipped whole. `.git/config` holds the token
    // CI checkouts persist: a lambda.toml from a pull request must not ship it.
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = setup(&index);
    write(
        workspace.path(),
        &[
            (".git/config", "[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n"),
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("node_modules/pkg/index.js", "x\n"),
            ("env/pyvenv.cfg", "home = /usr/bin\n"),
            ("env/lib/site.py", "x\n"),
            ("cache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"),
            ("cache/wheels/x.py", "x\n"),
        ],
    );
    for (source, inside) in [
        (".git", "`.git/`"),
        ("node_modules/pkg", "`node_modules/`"),
        ("env/lib", "a virtual environment (`env/` holds `pyvenv.cfg`)"),
        ("cache/wheels", "a cache (`cache/` holds `CACHEDIR.TAG`)"),
    ] {
        let manifest = MANIFEST.replace("source = \"layers/common\"", &format!("source = \"{source}\""));
        workspace.write_manifest(&manifest);
        let exit = workspace.run(&["build", "-p", "common"]);
        let line = line_of(&workspace, &format!("source = \"{source}\""));
        fails(
            &exit,
            &[
                &format!("the source directory `{source}` (line {line} of lambda.toml)"),
                inside,
                "lbuild never copies from",
            ],
        );
        assert!(!out(&workspace).join("layers").exists(), "{source}: nothing was written");
    }
}
