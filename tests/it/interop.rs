//! Projects managed by uv, Poetry or Pipenv: their lock files are the versions lbuild prefers
//! (`[workspace] project-lock`), every difference is reported with its reason, and their own
//! requirement formats (`[tool.poetry.dependencies]`, `Pipfile`) are read.

use std::path::Path;
use std::process::Command;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace, run_lbuild};

const TARGET: &str = "python3.12-x86_64";

/// `lib` 1.0, 1.1 and 2.0 (each needs `helper`), `helper` 1.0 and 2.0, and a numpy whose newest
/// version has wheels only for a glibc newer than python3.11's.
fn scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("lib", "1.0").dep("helper"),
        PackageSpec::new("lib", "1.1").dep("helper"),
        PackageSpec::new("lib", "2.0").dep("helper"),
        PackageSpec::new("helper", "1.0"),
        PackageSpec::new("helper", "2.0"),
        PackageSpec::new("numpy", "2.2.0")
            .wheel("cp311-cp311-manylinux_2_17_x86_64")
            .wheel("cp312-cp312-manylinux_2_17_x86_64"),
        PackageSpec::new("numpy", "2.4.6")
            .wheel("cp311-cp311-manylinux_2_28_x86_64")
            .wheel("cp312-cp312-manylinux_2_28_x86_64"),
    ])
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

/// A `uv.lock` as uv writes it: the workspace members, then one registry package per pin
/// (`(name, version, resolution-markers)`).
fn uv_lock(pins: &[(&str, &str, &[&str])]) -> String {
    let mut text = String::from(
        "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[manifest]\nmembers = [\"api\", \"shop\"]\n\n\
         [[package]]\nname = \"api\"\nversion = \"0.1.0\"\nsource = { editable = \"services/api\" }\n\
         dependencies = [{ name = \"lib\" }]\n",
    );
    for (name, version, markers) in pins {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\n"
        ));
        if !markers.is_empty() {
            let quoted: Vec<String> = markers.iter().map(|marker| format!("\"{marker}\"")).collect();
            text.push_str(&format!("resolution-markers = [{}]\n", quoted.join(", ")));
        }
        text.push_str(&format!(
            "wheels = [{{ url = \"https://files.example/{name}-{version}-py3-none-any.whl\", hash = \"sha256:00\", size = 1 }}]\n"
        ));
    }
    text
}

/// A uv workspace: a root `pyproject.toml` with `[tool.uv.workspace]`, the member
/// `services/api` that needs `requirements`, and `lambda.toml` with one function for it.
fn uv_workspace(index: &FakeIndex, requirements: &[&str], settings: &str) -> Workspace {
    let workspace = Workspace::new(
        index,
        Api::Simple,
        &format!(
            "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n{settings}\n\
             [function.api]\nrequirements-file = \"services/api/pyproject.toml\"\n"
        ),
    );
    write(
        workspace.path(),
        "pyproject.toml",
        "[project]\nname = \"monorepo\"\nversion = \"0\"\nrequires-python = \">=3.11\"\n\n\
         [tool.uv.workspace]\nmembers = [\"services/*\"]\n",
    );
    let quoted: Vec<String> = requirements.iter().map(|requirement| format!("\"{requirement}\"")).collect();
    write(
        workspace.path(),
        "services/api/pyproject.toml",
        &format!(
            "[project]\nname = \"api\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [{}]\n",
            quoted.join(", ")
        ),
    );
    workspace
}

#[test]
fn lbuild_locks_the_versions_a_checked_in_uv_lock_pins() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = uv_workspace(&index, &["lib"], "");
    write(workspace.path(), "uv.lock", &uv_lock(&[("helper", "1.0", &[]), ("lib", "1.1", &[])]));
    let run = workspace.run(&["lock"]).ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let lock = workspace.lock();
    assert_eq!(lock.version("lib", TARGET), "1.1", "uv.lock's pin, not the newest 2.0");
    assert_eq!(lock.version("helper", TARGET), "1.0");
    let inputs = &lock.0["inputs"]["project-locks"];
    assert!(inputs["uv.lock"].as_str().is_some_and(|pins| pins.starts_with("sha256:")), "{inputs:?}");

    // A changed uv.lock makes lambda.lock stale, and the relock follows it.
    write(workspace.path(), "uv.lock", &uv_lock(&[("helper", "2.0", &[]), ("lib", "1.0", &[])]));
    let run = workspace.run(&["lock", "--locked"]).failed();
    assert!(run.stderr.contains("the versions `uv.lock` pins changed"), "{}", run.stderr);
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", TARGET), "1.0");
    assert_eq!(workspace.lock().version("helper", TARGET), "2.0");

    // `--upgrade` drops lambda.lock's pins, not the project's.
    workspace.run(&["lock", "--upgrade"]).ok();
    assert_eq!(workspace.lock().version("lib", TARGET), "1.0");

    // `ignore`: uv.lock is not read, and the lock no longer records it.
    let manifest = fs_err::read_to_string(workspace.path().join("lambda.toml")).unwrap();
    fs_err::write(
        workspace.path().join("lambda.toml"),
        manifest.replace("[workspace]\n", "[workspace]\nuv-lock = \"ignore\"\n"),
    )
    .unwrap();
    let run = workspace.run(&["lock", "--locked"]).failed();
    assert!(run.stderr.contains("no longer preferred"), "{}", run.stderr);
    workspace.run(&["lock", "--upgrade"]).ok();
    assert_eq!(workspace.lock().version("lib", TARGET), "2.0");
    assert!(workspace.lock().0["inputs"].get("project-locks").is_none());
}

#[test]
fn uv_lock_forks_are_chosen_per_target_by_their_markers() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = uv_workspace(&index, &["lib"], "");
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n\
         [function.api]\nrequirements-file = \"services/api/pyproject.toml\"\n\n\
         [function.old]\nruntime = \"python3.11\"\nrequirements-file = \"services/api/pyproject.toml\"\n",
    );
    write(
        workspace.path(),
        "uv.lock",
        &uv_lock(&[
            ("helper", "1.0", &[]),
            ("lib", "1.0", &["python_full_version < '3.12'"]),
            ("lib", "1.1", &["python_full_version >= '3.12'"]),
        ]),
    );
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("lib", "python3.11-x86_64"), "1.0");
    assert_eq!(lock.version("lib", TARGET), "1.1");
}

#[test]
fn a_pin_without_a_wheel_for_the_target_is_reported_with_the_reason_and_require_refuses_it() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = uv_workspace(&index, &["numpy"], "runtime = \"python3.11\"\n");
    write(workspace.path(), "uv.lock", &uv_lock(&[("numpy", "2.4.6", &[])]));
    let run = workspace.run(&["lock", "--message-format", "json"]).ok();
    assert_eq!(workspace.lock().version("numpy", "python3.11-x86_64"), "2.2.0");
    assert!(
        run.stderr.contains("`uv.lock` pins numpy 2.4.6, which has no wheel for python3.11-x86_64")
            && run.stderr.contains("glibc 2.28")
            && run.stderr.contains("locked 2.2.0 for python3.11-x86_64"),
        "{}",
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let differences = report["project_lock_differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{report}");
    assert_eq!(differences[0]["package"], "numpy");
    assert_eq!(differences[0]["pinned"], "2.4.6");
    assert_eq!(differences[0]["locked"], "2.2.0");
    assert_eq!(differences[0]["members"], serde_json::json!(["function.api"]));
    assert!(differences[0]["reason"].as_str().unwrap().contains("glibc 2.26"), "{report}");

    // A fresh lock still reports the difference, without resolving again.
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("`uv.lock` pins numpy 2.4.6, but lambda.lock has 2.2.0"), "{}", run.stderr);

    // `require`: the difference is an error, at `lock --locked` and at `lock`.
    let manifest = fs_err::read_to_string(workspace.path().join("lambda.toml")).unwrap();
    fs_err::write(
        workspace.path().join("lambda.toml"),
        manifest.replace("[workspace]\n", "[workspace]\nproject-lock = \"require\"\n"),
    )
    .unwrap();
    let run = workspace.run(&["lock", "--locked"]).failed();
    assert!(
        run.stderr.contains("`project-lock = \"require\"`") && run.stderr.contains("numpy 2.4.6"),
        "{}",
        run.stderr
    );
    let before = workspace.lock_text();
    fs_err::remove_file(workspace.lock_path()).unwrap();
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("which has no wheel for python3.11-x86_64"), "{}", run.stderr);
    assert!(!workspace.lock_path().exists(), "a lock that differs is not written under `require`");
    // On python3.12 (glibc 2.34) the pin has a wheel, and `require` is satisfied.
    fs_err::write(
        workspace.path().join("lambda.toml"),
        fs_err::read_to_string(workspace.path().join("lambda.toml")).unwrap().replace("python3.11", "python3.12"),
    )
    .unwrap();
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("numpy", TARGET), "2.4.6");
    assert_ne!(before, workspace.lock_text());
}

#[test]
fn a_uv_lock_that_is_not_one_is_an_error_naming_the_file_and_line() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = uv_workspace(&index, &["lib"], "");
    write(
        workspace.path(),
        "uv.lock",
        "version = 1\n\n[[package]]\nname = \"lib\"\nversion = \"one\"\nsource = { registry = \"r\" }\n",
    );
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("invalid version `one`") && run.stderr.contains("line 5 of"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn a_project_lock_that_links_outside_the_workspace_is_refused() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = uv_workspace(&index, &["lib"], "");
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "uv.lock", &uv_lock(&[("lib", "1.0", &[])]));
    std::os::unix::fs::symlink(outside.path().join("uv.lock"), workspace.path().join("uv.lock")).unwrap();
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("is outside the workspace"), "{}", run.stderr);
    assert!(!workspace.lock_path().exists());
}

#[test]
fn a_tampered_project_lock_fingerprint_in_lambda_lock_is_refused() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = uv_workspace(&index, &["lib"], "");
    write(workspace.path(), "uv.lock", &uv_lock(&[("helper", "1.0", &[]), ("lib", "1.1", &[])]));
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    let start = text.find("\"uv.lock\" = \"sha256:").expect("recorded");
    let end = start + text[start..].find('\n').unwrap();
    fs_err::write(workspace.lock_path(), format!("{}\"uv.lock\" = \"md5:0\"{}", &text[..start], &text[end..])).unwrap();
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(run.stderr.contains("is not `PATH = \"sha256:HEX\"`"), "{}", run.stderr);
    // A path that would put escape sequences on the terminal is refused too.
    let pins = &text[start + "\"uv.lock\" = ".len()..end];
    fs_err::write(workspace.lock_path(), format!("{}\"uv\\u001b[2J.lock\" = {pins}{}", &text[..start], &text[end..]))
        .unwrap();
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(run.stderr.contains("is not `PATH = \"sha256:HEX\"`") && !run.stderr.contains('\u{1b}'), "{}", run.stderr);
}

/// `uv` for the test that runs it: on PATH, or `target/ci-venv/bin/uv` as `.ci/run` installs it.
fn uv() -> Option<std::path::PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/uv");
    if venv.is_file() {
        return Some(venv);
    }
    Command::new("uv").arg("--version").output().ok().filter(|out| out.status.success()).map(|_| "uv".into())
}

#[test]
fn lbuilds_pins_equal_those_of_a_uv_lock_that_uv_wrote() {
    let Some(uv) = uv() else {
        eprintln!("skipped: `uv` is not on PATH (`.ci/run` installs it into target/ci-venv)");
        return;
    };
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = uv_workspace(&index, &["lib>=1.0,<2", "numpy"], "runtime = \"python3.12\"\n");
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(&uv)
        // The fake index replaces PyPI: the test never leaves the machine.
        .args(["lock", "--no-progress", "--default-index", &format!("{}/", index.simple_url())])
        .current_dir(workspace.path())
        .env("UV_CACHE_DIR", cache.path())
        .env("UV_NO_CONFIG", "1")
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env_remove("UV_INDEX_URL")
        .env_remove("UV_DEFAULT_INDEX")
        .output()
        .expect("run uv");
    assert!(output.status.success(), "uv lock failed:\n{}", String::from_utf8_lossy(&output.stderr));
    // Newer versions appear after uv locked: lbuild's own choice would now differ.
    index.publish(PackageSpec::new("lib", "1.9").dep("helper"));
    index.publish(PackageSpec::new("helper", "3.0"));

    let uv_lock: toml::Value =
        toml::from_str(&fs_err::read_to_string(workspace.path().join("uv.lock")).unwrap()).unwrap();
    let pins: Vec<(String, String)> = uv_lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|package| package["source"].get("registry").is_some())
        .map(|package| {
            (package["name"].as_str().unwrap().to_string(), package["version"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(pins.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["helper", "lib", "numpy"], "{uv_lock}");
    let run = workspace.run(&["lock"]).ok();
    assert!(!run.stderr.contains("pins"), "no differences expected: {}", run.stderr);
    let lock = workspace.lock();
    for (name, version) in &pins {
        assert_eq!(&lock.version(name, TARGET), version, "{name}: lbuild's pin differs from uv.lock's");
    }
}

#[test]
fn a_poetry_project_is_read_and_its_poetry_lock_pins_are_preferred() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n\
         [function.api]\nrequirements-file = \"pyproject.toml\"\n",
    );
    write(
        workspace.path(),
        "pyproject.toml",
        "[tool.poetry]\nname = \"api\"\nversion = \"0.1.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n\
         lib = \"^1.0\"\nhelper = { version = \"*\", optional = true }\n",
    );
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("lib", TARGET), "1.1", "`^1.0` is `>=1.0,<2.0`");
    write(
        workspace.path(),
        "poetry.lock",
        "[[package]]\nname = \"helper\"\nversion = \"1.0\"\noptional = false\npython-versions = \"*\"\n\n\
         [[package]]\nname = \"lib\"\nversion = \"1.0\"\noptional = false\npython-versions = \"*\"\n\n\
         [metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.11\"\ncontent-hash = \"00\"\n",
    );
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("lib", TARGET), "1.0");
    assert_eq!(lock.version("helper", TARGET), "1.0");
}

#[test]
fn a_pipenv_project_is_read_and_its_pipfile_lock_pins_are_preferred() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n\
         [function.api]\nrequirements-file = \"Pipfile\"\n",
    );
    write(
        workspace.path(),
        "Pipfile",
        "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n\
         [packages]\nlib = \"<2\"\n\n[dev-packages]\nnumpy = \"*\"\n",
    );
    write(
        workspace.path(),
        "Pipfile.lock",
        r#"{"_meta": {"pipfile-spec": 6}, "default": {"lib": {"version": "==1.0"}, "helper": {"version": "==1.0", "markers": "python_version >= '3.8'"}}, "develop": {"numpy": {"version": "==2.2.0"}}}"#,
    );
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("lib", TARGET), "1.0");
    assert_eq!(lock.version("helper", TARGET), "1.0");
    assert!(lock.pin("numpy", TARGET).is_none(), "dev packages are not deployed");
}

#[test]
fn init_reads_poetry_and_pipenv_projects() {
    let poetry = tempfile::tempdir().unwrap();
    write(poetry.path(), "app.py", "def handler(event, context):\n    return 1\n");
    write(
        poetry.path(),
        "pyproject.toml",
        "[tool.poetry]\nname = \"orders\"\nversion = \"1\"\n\n[tool.poetry.dependencies]\npython = \"~3.11\"\nrequests = \"^2.31\"\nboto3 = \"*\"\n",
    );
    write(poetry.path(), "poetry.lock", "");
    let run = run_lbuild(poetry.path(), &["init", "--message-format", "json"], &[]).ok();
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["requirements_file"], "pyproject.toml");
    assert_eq!(outcome["requirements"], 2);
    // The name and the Python come from `[tool.poetry]`: `~3.11` excludes python3.12.
    assert_eq!((&outcome["function"], &outcome["runtime"]), (&"orders".into(), &"python3.11".into()));
    let manifest = fs_err::read_to_string(poetry.path().join("lambda.toml")).unwrap();
    assert!(
        manifest.contains("requirements-file = \"pyproject.toml\"") && manifest.contains("\"poetry.lock\""),
        "{manifest}"
    );

    let pipenv = tempfile::tempdir().unwrap();
    write(pipenv.path(), "lambda_function.py", "def lambda_handler(event, context):\n    return 1\n");
    write(pipenv.path(), "Pipfile", "[packages]\nrequests = \"*\"\n\n[dev-packages]\npytest = \"*\"\n");
    let run = run_lbuild(pipenv.path(), &["init", "--message-format", "json"], &[]).ok();
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["requirements_file"], "Pipfile");
    assert_eq!(outcome["requirements"], 1);
    let manifest = fs_err::read_to_string(pipenv.path().join("lambda.toml")).unwrap();
    assert!(manifest.contains("requirements-file = \"Pipfile\"") && manifest.contains("\"Pipfile\""), "{manifest}");
}

#[test]
fn functions_resolved_apart_report_each_their_own_difference_from_a_shared_uv_lock() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\nresolution = \"per-function\"\n\n\
         [function.old]\nrequirements-file = \"services/old/pyproject.toml\"\n\n\
         [function.new]\nrequirements-file = \"services/new/pyproject.toml\"\n",
    );
    for (name, requirement) in [("old", "lib<1.1"), ("new", "lib>=2")] {
        write(
            workspace.path(),
            &format!("services/{name}/pyproject.toml"),
            &format!("[project]\nname = \"{name}\"\nversion = \"0\"\ndependencies = [\"{requirement}\"]\n"),
        );
    }
    write(workspace.path(), "uv.lock", &uv_lock(&[("helper", "1.0", &[]), ("lib", "1.1", &[])]));
    let run = workspace.run(&["lock", "--message-format", "json"]).ok();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let differences = report["project_lock_differences"].as_array().unwrap();
    let mut seen: Vec<(String, String, String)> = differences
        .iter()
        .map(|difference| {
            (
                difference["members"].to_string(),
                difference["locked"].as_str().unwrap().to_string(),
                difference["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 2, "one difference per function, each with its own locked version: {report}");
    assert_eq!((seen[0].0.as_str(), seen[0].1.as_str()), ("[\"function.new\"]", "2.0"), "{report}");
    assert!(seen[0].2.contains("lib>=2"), "{report}");
    assert_eq!((seen[1].0.as_str(), seen[1].1.as_str()), ("[\"function.old\"]", "1.0"), "{report}");
    assert!(seen[1].2.contains("lib<1.1"), "{report}");
    assert!(run.stderr.contains("locked 2.0 for") && run.stderr.contains("locked 1.0 for"), "{}", run.stderr);
}

/// A Poetry `path` dependency and a Pipfile `path` package are local packages: locked from the
/// project directory (never asked of the index), with the extras and markers the table gives,
/// and installed into the zips.
#[test]
fn poetry_and_pipenv_path_dependencies_are_local_packages() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n\
         [function.api]\nsource = \"functions/api\"\nhandler = \"app.handler\"\n\
         requirements-file = \"functions/api/pyproject.toml\"\n\n\
         [function.jobs]\nsource = \"functions/jobs\"\nhandler = \"jobs.handler\"\n\
         requirements-file = \"functions/jobs/Pipfile\"\n",
    );
    let root = workspace.path();
    write(
        root,
        "libs/common/pyproject.toml",
        "[project]\nname = \"common\"\nversion = \"0.3.0\"\ndependencies = [\"helper<2\"]\n\
         [project.optional-dependencies]\nlib = [\"lib<2\"]\n\n\
         [build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
    );
    write(root, "libs/common/src/common/__init__.py", "VALUE = 'local'\n");
    write(
        root,
        "functions/api/pyproject.toml",
        "[tool.poetry]\nname = \"api\"\nversion = \"0.1.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n\
         common = { path = \"../../libs/common\", develop = true, extras = [\"lib\"] }\n",
    );
    write(root, "functions/api/app.py", "import common\n\ndef handler(event, context):\n    return common.VALUE\n");
    write(
        root,
        "functions/jobs/Pipfile",
        "[packages]\ncommon = { path = \"../../libs/common\", editable = true }\n\n[dev-packages]\nnumpy = \"*\"\n",
    );
    write(root, "functions/jobs/jobs.py", "import common\n\ndef handler(event, context):\n    return 1\n");
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    assert!(text.contains("source = \"path\"") && text.contains("path = \"libs/common\""), "{text}");
    let lock = workspace.lock();
    assert_eq!(lock.version("common", TARGET), "0.3.0");
    assert_eq!(lock.version("helper", TARGET), "1.0", "the local package's own dependency");
    assert_eq!(lock.version("lib", TARGET), "1.1", "the extra the Poetry table asks for");
    assert!(!index.requests().iter().any(|path| path.contains("/common")), "{:?}", index.requests());
    workspace.run(&["build", "--locked"]).ok();
    let api = crate::support::zip_packages(&root.join("target/lambda/functions/api-python3.12-x86_64.zip"));
    assert_eq!(api, crate::support::set(&["common", "helper", "lib"]));
    let jobs = crate::support::zip_packages(&root.join("target/lambda/functions/jobs-python3.12-x86_64.zip"));
    assert_eq!(jobs, crate::support::set(&["common", "helper"]), "no extra from the Pipfile");

    // A path that is no project is refused at its line.
    write(root, "functions/jobs/Pipfile", "[packages]\ncommon = { path = \"../../libs\", editable = true }\n");
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("has no pyproject.toml") && run.stderr.contains("line 2 of"), "{}", run.stderr);
}
