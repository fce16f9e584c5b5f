//! Requirements files as pip writes them (`-c` constraints, `--hash`, options lbuild ignores,
//! local paths) and pyproject functions (extras, dependency groups, `requires-python`).

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

const TARGET: &str = "python3.12-x86_64";

fn index() -> FakeIndex {
    FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("lib", "1.0").dep("helper"),
            PackageSpec::new("helper", "1.0"),
            PackageSpec::new("helper", "2.0"),
            PackageSpec::new("other", "1.0"),
            PackageSpec::new("extra-pkg", "1.0"),
            PackageSpec::new("test-pkg", "1.0"),
        ]),
        IndexOptions::default(),
    )
}

/// A workspace with one function `f` (x86_64 only) whose table ends with `function`.
fn workspace(index: &FakeIndex, function: &str) -> Workspace {
    Workspace::new(
        index,
        Api::Simple,
        &format!("[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\n{function}"),
    )
}

fn write(workspace: &Workspace, name: &str, text: &str) {
    let path = workspace.path().join(name);
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

#[test]
fn constraints_restrict_what_is_resolved_never_add_and_are_part_of_the_lock() {
    let index = index();
    let workspace = workspace(&index, "requirements-file = \"f/requirements.txt\"\n");
    write(&workspace, "f/requirements.txt", "lib\n-c ../constraints.txt\n");
    write(&workspace, "constraints.txt", "helper<2\nother==1.0\n");
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("helper", TARGET), "1.0", "the constraint holds helper back");
    assert!(lock.pin("other", TARGET).is_none(), "a constraint never adds a package");
    assert!(
        workspace.lock_text().contains("constraints = [\"helper<2\", \"other==1.0\"]"),
        "{}",
        workspace.lock_text()
    );
    workspace.run(&["lock", "--locked"]).ok();

    // Editing the constraints file makes the lock stale, and says how.
    write(&workspace, "constraints.txt", "helper<3\n");
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(run.stderr.contains("has the new constraint `helper<3`"), "{}", run.stderr);
    assert!(run.stderr.contains("no longer has the constraint `helper<2`"), "{}", run.stderr);
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("helper", TARGET), "1.0", "the pin is kept while it fits");
    workspace.run(&["lock", "--upgrade"]).ok();
    assert_eq!(workspace.lock().version("helper", TARGET), "2.0");

    // A constraint nothing can meet is a conflict that names it and its line.
    write(&workspace, "constraints.txt", "# pinned\nhelper>5\n");
    let run = workspace.run(&["lock"]).failed();
    assert!(
        run.stderr.contains("the constraint `helper>5` of function `f` (line 2 of `constraints.txt`)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("requirements or constraints named above"), "{}", run.stderr);
}

#[test]
fn a_layers_constraints_apply_to_the_functions_resolved_with_it() {
    let index = index();
    let workspace = workspace(
        &index,
        "requirements = [\"lib\"]\nlayers = [\"base\"]\n\n[layer.base]\nrequirements-file = \"layer.txt\"\n",
    );
    write(&workspace, "layer.txt", "other\n--constraint constraints.txt\n");
    write(&workspace, "constraints.txt", "helper==1.0\n");
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("helper", TARGET), "1.0");
}

/// The sha256 of `lib`'s locked wheel.
fn locked_sha256(workspace: &Workspace, name: &str) -> String {
    let lock = workspace.lock();
    let package = lock.0["package"].as_array().unwrap().iter().find(|p| p["name"].as_str() == Some(name)).unwrap();
    package["target"][0]["wheel"]["sha256"].as_str().unwrap().to_string()
}

#[test]
fn hashes_are_checked_against_the_lock_when_locking_and_whenever_the_lock_is_used() {
    let index = index();
    let workspace = workspace(&index, "requirements-file = \"requirements.txt\"\n");
    write(&workspace, "requirements.txt", "lib==1.0\n");
    workspace.run(&["lock"]).ok();
    let right = locked_sha256(&workspace, "lib");
    let wrong = "0".repeat(64);
    // One of the listed hashes is enough (pip-compile lists every file of the version).
    write(
        &workspace,
        "requirements.txt",
        &format!("lib==1.0 \\\n    --hash=sha256:{wrong} \\\n    --hash=sha256:{right}\n"),
    );
    workspace.run(&["lock", "--locked"]).ok();
    workspace.run(&["build", "--locked"]).ok();

    write(&workspace, "requirements.txt", &format!("# hashed\nlib==1.0 --hash=sha256:{wrong}\n"));
    let before = workspace.lock_text();
    for args in [&["lock"][..], &["lock", "--locked"], &["build"], &["export", "--frozen", "--target", TARGET]] {
        let run = workspace.run(args).failed();
        assert!(run.stderr.contains("hash mismatch for `lib`"), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("lib-1.0-py3-none-any.whl"), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(&right) && run.stderr.contains(&wrong), "both hashes: {}", run.stderr);
        assert!(run.stderr.contains("line 2 of `"), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("requirements.txt:2:"), "the snippet shows the line: {}", run.stderr);
    }
    assert_eq!(workspace.lock_text(), before);

    // A constraint's hash applies only when its package is locked.
    write(&workspace, "requirements.txt", "lib==1.0\n-c c.txt\n");
    write(&workspace, "c.txt", &format!("other==1.0 --hash=sha256:{wrong}\nhelper --hash=sha256:{wrong}\n"));
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("hash mismatch for `helper`"), "{}", run.stderr);
    assert!(!run.stderr.contains("`other`"), "{}", run.stderr);
}

#[test]
fn hashes_other_than_sha256_are_a_warning_that_says_why() {
    let index = index();
    let workspace = workspace(&index, "requirements-file = \"requirements.txt\"\n");
    write(&workspace, "requirements.txt", &format!("lib==1.0 --hash=sha512:{}\n", "ab".repeat(64)));
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("sha512") && run.stderr.contains("records the sha256 of each file"), "{}", run.stderr);
    assert!(run.stderr.contains("not checked"), "{}", run.stderr);
}

#[test]
fn options_lbuild_ignores_are_warned_about_with_the_true_reason_and_the_line() {
    let index = index();
    let workspace = workspace(&index, "requirements-file = \"requirements.txt\"\n");
    write(
        &workspace,
        "requirements.txt",
        "--index-url https://elsewhere.invalid/simple\n--no-binary :all:\n--pre\n-f ./wheels\nlib\n--require-hashes\n",
    );
    let run = workspace.run(&["lock"]).ok();
    for (option, line, reason) in [
        ("--index-url", 1, "takes its indexes from lambda.toml"),
        ("--no-binary", 2, "never builds from source"),
        ("--pre", 3, "`prerelease` in `[workspace]`"),
        ("-f ./wheels", 4, "`[workspace] find-links`"),
        ("--require-hashes", 6, "lines without a hash are not refused"),
    ] {
        let warning = run.stderr.lines().find(|l| l.contains(&format!("ignoring `{option}"))).unwrap_or_else(|| {
            panic!("no warning for {option}: {}", run.stderr);
        });
        assert!(warning.contains(&format!("(line {line} of `")), "{warning}");
        assert!(warning.contains(reason), "{warning}");
    }
    assert_eq!(workspace.lock().version("lib", TARGET), "1.0");
}

#[test]
fn local_path_lines_are_local_packages_with_their_dependencies_never_looked_up_in_the_index() {
    let index = index();
    let workspace = workspace(&index, "requirements-file = \"f/requirements.txt\"\n");
    write(
        &workspace,
        "libs/common/pyproject.toml",
        "[project]\nname = \"common\"\nversion = \"0.3.0\"\ndependencies = [\"lib\"]\n\n[build-system]\n\
         requires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
    );
    write(&workspace, "libs/common/common/__init__.py", "VALUE = 1\n");
    for line in ["../libs/common", "-e ../libs/common", "file:../libs/common", "common @ file:../libs/common"] {
        // The line is the only requirement: `lib` comes from the project's own dependencies.
        write(&workspace, "f/requirements.txt", &format!("{line}\n"));
        let _ = fs_err::remove_file(workspace.lock_path());
        workspace.run(&["lock"]).ok();
        let lock = workspace.lock_text();
        assert!(lock.contains("source = \"path\"\npath = \"libs/common\""), "{line}: {lock}");
        assert!(lock.contains("name = \"lib\"") && lock.contains("name = \"helper\""), "{line}: {lock}");
        assert!(!index.requests().iter().any(|request| request.contains("common")), "{line}: {:?}", index.requests());
    }
    // The zip holds the project's module and its .dist-info, beside its dependencies.
    workspace.run(&["build"]).ok();
    let zip = crate::support::files_under(&workspace.path().join("target/lambda"))
        .into_iter()
        .find(|path| path.extension().is_some_and(|ext| ext == "zip"))
        .expect("a zip");
    let packages = crate::support::zip_packages(&zip);
    assert!(packages.contains("common") && packages.contains("lib"), "{packages:?}");
    // A name that is not the project's, and a directory without a project, are errors at the line.
    write(&workspace, "f/requirements.txt", "lib\nother @ file:../libs/common\n");
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("common") && run.stderr.contains("line 2 of `"), "{}", run.stderr);
    write(&workspace, "f/requirements.txt", "lib\n-e ../f\n");
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("pyproject.toml") && run.stderr.contains("line 2 of `"), "{}", run.stderr);
    write(&workspace, "f/requirements.txt", "../../outside\n");
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("is outside the workspace"), "{}", run.stderr);
}

const PYPROJECT: &str = r#"[project]
name = "my-function"
requires-python = ">=3.11"
dependencies = ["lib"]

[project.optional-dependencies]
AWS = ["extra-pkg"]
all = ["my_function[aws]", "other"]

[dependency-groups]
test = ["test-pkg", { include-group = "Lint" }]
lint = ["other"]
"#;

#[test]
fn pyproject_extras_and_dependency_groups_are_selected_per_member() {
    let index = index();
    let workspace = workspace(
        &index,
        "requirements-file = \"f/pyproject.toml\"\nextras = [\"aws\"]\n\n[function.g]\nrequirements-file = \"f/pyproject.toml\"\ngroups = [\"TEST\"]\n\n[layer.all]\nrequirements-file = \"f/pyproject.toml\"\nextras = [\"all\"]\n",
    );
    write(&workspace, "f/pyproject.toml", PYPROJECT);
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock_text();
    let members = |key: &str| -> Vec<String> {
        let value: toml::Value = toml::from_str(&lock).unwrap();
        value["inputs"]["members"][key]["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(members("function.f"), ["lib", "extra-pkg"]);
    assert_eq!(members("function.g"), ["lib", "test-pkg", "other"]);
    assert_eq!(members("layer.all"), ["lib", "extra-pkg", "other"], "the project's own extra is expanded");
    assert!(!index.requests().iter().any(|request| request.contains("my-function") || request.contains("my_function")));
}

#[test]
fn unknown_extras_and_groups_are_pointed_at_with_a_suggestion() {
    let index = index();
    for (key, value, expected) in [
        ("extras", "aws2", "did you mean `aws`?"),
        ("groups", "tests", "did you mean `test`?"),
        ("groups", "zzz", "the groups of `f/pyproject.toml` are: `lint`, `test`"),
    ] {
        let workspace =
            workspace(&index, &format!("requirements-file = \"f/pyproject.toml\"\n{key} = [\"{value}\"]\n"));
        write(&workspace, "f/pyproject.toml", PYPROJECT);
        let run = workspace.run(&["lock"]).failed();
        assert!(run.stderr.contains(&format!("has no {} `{value}`", &key[..key.len() - 1])), "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{key}: {}", run.stderr);
        assert!(run.stderr.contains("lambda.toml:7:"), "the lambda.toml line: {}", run.stderr);
    }
    // Extras of a file that is not a pyproject, or of no file.
    let workspace = workspace(&index, "requirements-file = \"requirements.txt\"\nextras = [\"aws\"]\n");
    write(&workspace, "requirements.txt", "lib\n");
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("but `requirements.txt` is not one"), "{}", run.stderr);
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\n\n[function.f]\nrequirements = [\"lib\"]\ngroups = [\"test\"]\n",
    );
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("function `f` has no `requirements-file`"), "{}", run.stderr);
    assert!(run.stderr.contains("lambda.toml:6:"), "{}", run.stderr);
}

#[test]
fn requires_python_is_checked_against_every_runtime_of_the_member() {
    let index = index();
    let workspace = workspace(&index, "requirements-file = \"pyproject.toml\"\n");
    write(&workspace, "pyproject.toml", &PYPROJECT.replace(">=3.11", ">=3.13"));
    let run = workspace.run(&["lock"]).failed();
    assert!(
        run.stderr.contains(
            "`requires-python = \">=3.13\"` of function `f`'s project excludes its runtime python3.12 (Python 3.12."
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("pyproject.toml:3:"), "the pyproject line: {}", run.stderr);
    assert!(run.stderr.contains("`python3.13`") && run.stderr.contains("set `runtime`"), "{}", run.stderr);
    // The function's own runtime fixes it; a layer it uses is checked on the function's runtime.
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nruntime = \"python3.13\"\nrequirements-file = \"pyproject.toml\"\nlayers = [\"l\"]\n\n[layer.l]\nrequirements-file = \"pyproject.toml\"\n",
    );
    workspace.run(&["lock"]).ok();
    // `python-full-version` decides for the workspace runtime.
    write(&workspace, "pyproject.toml", &PYPROJECT.replace(">=3.11", ">=3.12.50"));
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\npython-full-version = \"3.12.3\"\n\n[function.f]\nrequirements-file = \"pyproject.toml\"\n",
    );
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("(Python 3.12.3)"), "{}", run.stderr);
}

/// A lock from an untrusted change that installs a version its own recorded constraints exclude
/// is refused, whatever else it claims.
#[test]
fn a_lock_that_breaks_its_recorded_constraints_is_refused() {
    let index = index();
    let workspace = workspace(&index, "requirements = [\"lib\"]\n");
    workspace.run(&["lock"]).ok();
    assert_eq!(workspace.lock().version("helper", TARGET), "2.0");
    let text = workspace.lock_text();
    let header = "[inputs.members.\"function.f\"]\n";
    assert!(text.contains(header), "{text}");
    let tampered = text.replace(header, &format!("{header}constraints = [\"helper<2\"]\n"));
    fs_err::write(workspace.lock_path(), &tampered).unwrap();
    for args in [&["build", "--locked"][..], &["tree"]] {
        let run = workspace.run(args).failed();
        assert!(
            run.stderr.contains("package `helper 2.0` on python3.12-x86_64 is outside the constraint `helper<2`"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// pip installs a file the hashes allow; so does lbuild, among the compatible wheels of the
/// version, even when another one has the better tag.
#[test]
fn of_a_versions_compatible_wheels_the_one_a_hash_allows_is_locked() {
    let index = FakeIndex::start(
        &Scenario::from_packages([PackageSpec::new("fast", "1.0")
            .wheel("py3-none-any")
            .wheel("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")]),
        IndexOptions::default(),
    );
    let workspace = workspace(&index, "requirements-file = \"requirements.txt\"\n");
    write(&workspace, "requirements.txt", "fast==1.0\n");
    workspace.run(&["lock"]).ok();
    let best = workspace.lock().pin("fast", TARGET).unwrap().wheel.unwrap();
    assert!(best.contains("manylinux"), "{best}");
    let pure = index.file_sha256("fast-1.0-py3-none-any.whl").unwrap();
    write(&workspace, "requirements.txt", &format!("fast==1.0 --hash=sha256:{pure}\n"));
    // The lock is not stale (hashes are checks, not inputs), so it is refused with the way out.
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("lbuild lock --upgrade-package fast"), "{}", run.stderr);
    workspace.run(&["lock", "--upgrade-package", "fast"]).ok();
    assert_eq!(workspace.lock().pin("fast", TARGET).unwrap().wheel.unwrap(), "fast-1.0-py3-none-any.whl");
    workspace.run(&["build", "--locked"]).ok();
}

/// `init` reads the requirements file as `lock` will, and says at once what `lock` will refuse:
/// a path line to a directory that is no project; one that is a project is a requirement.
#[test]
fn init_warns_about_local_paths_lock_refuses_and_ignored_options() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("requirements.txt"), "-e .\nlib\n--pre\n-e ./libs/common\n").unwrap();
    fs_err::write(dir.path().join("app.py"), "def handler(event, context):\n    return 1\n").unwrap();
    fs_err::create_dir_all(dir.path().join("libs/common")).unwrap();
    fs_err::write(dir.path().join("libs/common/pyproject.toml"), "[project]\nname = \"common\"\nversion = \"1.0\"\n")
        .unwrap();
    let run = crate::run_lbuild(dir.path(), &["init"], &[]).ok();
    assert!(
        run.stderr.contains("`.` (line 1 of `") && run.stderr.contains("is a local project without a pyproject.toml"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("libs/common` (line 4"), "a project is no warning: {}", run.stderr);
    assert!(run.stderr.contains("ignoring `--pre` (line 3 of `"), "{}", run.stderr);
    assert!(run.stderr.contains("3 requirements from `requirements.txt`"), "{}", run.stderr);
}

/// The sha256 of the wheel locked for `name==version` (whichever group holds it).
fn locked_sha256_of(workspace: &Workspace, name: &str, version: &str) -> String {
    let lock = workspace.lock();
    let package = lock.0["package"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some(name) && p["version"].as_str() == Some(version))
        .unwrap_or_else(|| panic!("`{name}=={version}` is not locked: {}", workspace.lock_text()));
    package["target"][0]["wheel"]["sha256"].as_str().unwrap().to_string()
}

/// The version of `name` locked in `group` on the target.
fn group_version(workspace: &Workspace, name: &str, group: &str) -> Option<String> {
    let lock = workspace.lock();
    lock.0["package"].as_array().unwrap().iter().find_map(|package| {
        let in_group = package["name"].as_str() == Some(name)
            && package["target"].as_array()?.iter().any(|entry| entry["group"].as_str() == Some(group));
        in_group.then(|| package["version"].as_str().unwrap().to_string())
    })
}

#[test]
fn constraints_and_hashes_hold_in_their_own_group_under_per_function_resolution() {
    let index = index();
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\nresolution = \"per-function\"\n\n\
         [function.a]\nrequirements-file = \"a/requirements.txt\"\n\n\
         [function.b]\nrequirements-file = \"b/requirements.txt\"\n",
    );
    write(&workspace, "a/requirements.txt", "lib\n-c constraints.txt\n");
    write(&workspace, "a/constraints.txt", "helper<2\n");
    write(&workspace, "b/requirements.txt", "lib\nhelper\n");
    workspace.run(&["lock"]).ok();
    // `a`'s constraint holds `a` back and leaves `b` alone.
    assert_eq!(group_version(&workspace, "helper", "function.a").as_deref(), Some("1.0"), "{}", workspace.lock_text());
    assert_eq!(group_version(&workspace, "helper", "function.b").as_deref(), Some("2.0"), "{}", workspace.lock_text());
    let helper1 = locked_sha256_of(&workspace, "helper", "1.0");
    let helper2 = locked_sha256_of(&workspace, "helper", "2.0");
    assert_ne!(helper1, helper2);

    // `b`'s hash is checked against `b`'s own group: helper 2.0's file passes.
    write(&workspace, "b/requirements.txt", &format!("lib\nhelper --hash=sha256:{helper2}\n"));
    workspace.run(&["lock", "--locked"]).ok();
    workspace.run(&["build", "--locked"]).ok();

    // The hash of the file `a`'s group locks does not vouch for `b`'s.
    write(&workspace, "b/requirements.txt", &format!("lib\nhelper --hash=sha256:{helper1}\n"));
    let run = workspace.run(&["build", "--locked"]).failed();
    assert!(run.stderr.contains("hash mismatch for `helper`"), "{}", run.stderr);
    assert!(run.stderr.contains("helper-2.0-py3-none-any.whl"), "{}", run.stderr);
    // And `a`'s group is checked with `a`'s file: the same hash on `a`'s constraint passes.
    write(&workspace, "b/requirements.txt", "lib\nhelper\n");
    write(&workspace, "a/constraints.txt", &format!("helper<2 --hash=sha256:{helper1}\n"));
    workspace.run(&["build", "--locked"]).ok();
}

#[test]
fn a_poetry_projects_extras_are_selected_by_the_member_and_groups_are_refused() {
    let index = index();
    let pyproject = "[tool.poetry]\nname = \"app\"\n\n[tool.poetry.dependencies]\npython = \"^3.12\"\nlib = \"*\"\n\
                     extra-pkg = { version = \"*\", optional = true }\n\n[tool.poetry.extras]\naws = [\"extra-pkg\"]\n";
    let ws = workspace(&index, "requirements-file = \"pyproject.toml\"\nextras = [\"AWS\"]\n");
    write(&ws, "pyproject.toml", pyproject);
    ws.run(&["lock"]).ok();
    assert_eq!(ws.lock().version("extra-pkg", TARGET), "1.0", "the extra brings its optional dependency");

    let ws = workspace(&index, "requirements-file = \"pyproject.toml\"\n");
    write(&ws, "pyproject.toml", pyproject);
    ws.run(&["lock"]).ok();
    assert!(ws.lock().pin("extra-pkg", TARGET).is_none(), "optional without the extra");

    let ws = workspace(&index, "requirements-file = \"pyproject.toml\"\nextras = [\"awz\"]\n");
    write(&ws, "pyproject.toml", pyproject);
    let run = ws.run(&["lock"]).failed();
    assert!(run.stderr.contains("has no extra `awz` in `[tool.poetry.extras]`"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `aws`"), "{}", run.stderr);

    let ws = workspace(&index, "requirements-file = \"pyproject.toml\"\ngroups = [\"dev\"]\n");
    write(&ws, "pyproject.toml", pyproject);
    let run = ws.run(&["lock"]).failed();
    assert!(run.stderr.contains("is a Poetry project"), "{}", run.stderr);
}
