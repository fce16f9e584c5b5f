//! `lbuild add` and `lbuild remove`: the edited files, byte for byte, and the relock.

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

const X86: &str = "python3.12-x86_64";

fn index() -> FakeIndex {
    FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("one", "1.0"),
            PackageSpec::new("two", "1.0"),
            PackageSpec::new("two", "1.1"),
            PackageSpec::new("three", "2.0").dep("one"),
        ]),
        IndexOptions::default(),
    )
}

const HEAD: &str = "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n";

fn read(workspace: &Workspace, file: &str) -> String {
    fs_err::read_to_string(workspace.path().join(file)).unwrap()
}

fn manifest_text(workspace: &Workspace) -> String {
    read(workspace, "lambda.toml")
}

/// `{index}` in `text` as the workspace writes it.
fn expanded(workspace: &Workspace, text: &str) -> String {
    let written = manifest_text(workspace);
    let url = written.lines().nth(1).unwrap().trim_start_matches("index-url = \"").trim_end_matches('"').to_string();
    text.replace("{index}", &url)
}

#[test]
fn add_writes_a_lower_bound_into_lambda_toml_keeping_its_comments_and_relocks() {
    let index = index();
    let body = "[function.api]  # the HTTP API\nsource = \"src\"\nrequirements = [\n    \"one\",  # pinned by ops\n]\n\n# the worker\n[function.worker]\nrequirements = [\"one\"]\n";
    let workspace = Workspace::new(&index, Api::Json, &format!("{HEAD}{body}"));
    fs_err::create_dir_all(workspace.path().join("src")).unwrap();
    workspace.run(&["lock"]).ok();

    // Two functions: `-p` is needed, and nothing changes without it.
    let before = manifest_text(&workspace);
    let run = workspace.run(&["add", "two"]).err();
    assert!(run.stderr.contains("2 functions and layers: which one?"), "{}", run.stderr);
    assert!(run.stderr.contains("`api`, `worker`"), "{}", run.stderr);
    assert_eq!(manifest_text(&workspace), before);

    let run = workspace.run(&["add", "-p", "api", "two", "three"]).ok();
    let expected = format!(
        "{HEAD}[function.api]  # the HTTP API\nsource = \"src\"\nrequirements = [\n    \"one\",  # pinned by ops\n    \"two>=1.1\",\n    \"three>=2.0\",\n]\n\n# the worker\n[function.worker]\nrequirements = [\"one\"]\n"
    );
    assert_eq!(manifest_text(&workspace), expanded(&workspace, &expected));
    assert!(run.stderr.contains("Added three v2.0\n"), "{}", run.stderr);
    assert!(run.stderr.contains("Added two v1.1\n"), "{}", run.stderr);
    assert!(run.stderr.contains("Edited lambda.toml: added `two>=1.1` to function `api`"), "{}", run.stderr);
    assert_eq!(workspace.lock().version("two", X86), "1.1");
    // The lock is fresh for the file as it is now.
    workspace.run(&["--locked", "lock"]).ok();

    // The same package again replaces its requirement where it is written.
    let run = workspace.run(&["add", "-p", "worker", "two>=1.0"]).ok();
    assert!(run.stderr.contains("added `two>=1.0` to function `worker`"), "{}", run.stderr);
    let run = workspace.run(&["add", "-p", "worker", "two<1.2", "--message-format", "json"]).ok();
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["command"], "add");
    assert_eq!(document["member"], "function.worker");
    assert_eq!(
        document["edits"],
        serde_json::json!([{"file": "lambda.toml", "action": "replaced", "requirement": "two<1.2", "previous": "two>=1.0"}])
    );
    assert!(manifest_text(&workspace).ends_with("[function.worker]\nrequirements = [\"one\", \"two<1.2\"]\n"));
}

#[test]
fn remove_takes_a_package_out_of_every_place_the_member_lists_it() {
    let index = index();
    let body = "[function.api]\nrequirements = [\"one\", \"two\", \"three\"]  # all\n";
    let workspace = Workspace::new(&index, Api::Json, &format!("{HEAD}{body}"));
    workspace.run(&["lock"]).ok();
    // One function: no `-p` needed.
    let run = workspace.run(&["remove", "Two"]).ok();
    assert!(run.stderr.contains("Edited lambda.toml: removed `two` from function `api`"), "{}", run.stderr);
    assert!(run.stderr.contains("Removed two v1.1\n"), "{}", run.stderr);
    assert_eq!(
        manifest_text(&workspace),
        expanded(&workspace, &format!("{HEAD}[function.api]\nrequirements = [\"one\", \"three\"]  # all\n"))
    );
    assert!(workspace.lock().pin("two", X86).is_none());
    // A package the member does not list is an error that offers the near name.
    let before = (manifest_text(&workspace), workspace.lock_text());
    let run = workspace.run(&["remove", "thre"]).err();
    assert!(run.stderr.contains("function `api` does not require `thre` in `lambda.toml`"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `three`?"), "{}", run.stderr);
    assert_eq!((manifest_text(&workspace), workspace.lock_text()), before);
    // `one` is still needed by `three`: it leaves the requirements, not the lock.
    workspace.run(&["remove", "one"]).ok();
    assert_eq!(workspace.lock().version("one", X86), "1.0");
}

#[test]
fn a_requirements_file_is_edited_line_by_line() {
    let index = index();
    let workspace =
        Workspace::new(&index, Api::Json, &format!("{HEAD}[function.api]\nrequirements-file = \"requirements.txt\"\n"));
    let original = "# app deps\none  # keep me\r\ntwo==1.0\r\n";
    fs_err::write(workspace.path().join("requirements.txt"), original).unwrap();
    workspace.run(&["lock"]).ok();
    let manifest_before = manifest_text(&workspace);

    workspace.run(&["add", "three", "two>=1.1"]).ok();
    assert_eq!(read(&workspace, "requirements.txt"), "# app deps\none  # keep me\r\ntwo>=1.1\r\nthree>=2.0\r\n");
    assert_eq!(manifest_text(&workspace), manifest_before);
    assert_eq!(workspace.lock().version("two", X86), "1.1");
    workspace.run(&["remove", "one"]).ok();
    assert_eq!(read(&workspace, "requirements.txt"), "# app deps\ntwo>=1.1\r\nthree>=2.0\r\n");

    // A compiled file with hashes is not lbuild's to edit.
    let hashed = "one==1.0 \\\n    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n";
    fs_err::write(workspace.path().join("requirements.txt"), hashed).unwrap();
    let run = workspace.run(&["add", "two"]).err();
    assert!(run.stderr.contains("pins its packages with `--hash`"), "{}", run.stderr);
    assert_eq!(read(&workspace, "requirements.txt"), hashed);
}

#[test]
fn a_pyprojects_dependencies_are_edited_in_place() {
    let index = index();
    let workspace =
        Workspace::new(&index, Api::Json, &format!("{HEAD}[function.api]\nrequirements-file = \"pyproject.toml\"\n"));
    let original = "[project]\nname = \"app\"\nversion = \"0.1.0\"\n# runtime deps\ndependencies = [\n    \"one>=1\",\n]\n\n[tool.other]\nkeep = true\n";
    fs_err::write(workspace.path().join("pyproject.toml"), original).unwrap();
    workspace.run(&["add", "two"]).ok();
    assert_eq!(
        read(&workspace, "pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n# runtime deps\ndependencies = [\n    \"one>=1\",\n    \"two>=1.1\",\n]\n\n[tool.other]\nkeep = true\n"
    );
    workspace.run(&["remove", "two"]).ok();
    assert_eq!(read(&workspace, "pyproject.toml"), original);

    // Poetry owns its dependency table.
    fs_err::write(
        workspace.path().join("pyproject.toml"),
        "[tool.poetry]\nname = \"app\"\n\n[tool.poetry.dependencies]\npython = \"^3.12\"\none = \"^1.0\"\n",
    )
    .unwrap();
    let run = workspace.run(&["add", "two", "--no-lock"]).err();
    assert!(run.stderr.contains("run `poetry add <package>`"), "{}", run.stderr);
}

#[test]
fn a_failed_relock_leaves_every_file_as_it_was() {
    let index = index();
    let workspace = Workspace::new(&index, Api::Json, &format!("{HEAD}[function.api]\nrequirements = [\"one\"]\n"));
    workspace.run(&["lock"]).ok();
    let before = (manifest_text(&workspace), workspace.lock_text());
    // No such package on the index.
    let run = workspace.run(&["add", "nosuchpackage"]).err();
    assert!(run.stderr.contains("no package named `nosuchpackage` on `http://127.0.0.1:"), "{}", run.stderr);
    assert!(run.stderr.contains("required by function `api`"), "{}", run.stderr);
    assert!(run.stderr.contains("check the spelling"), "{}", run.stderr);
    assert!(
        run.stderr.contains("nothing was changed: `lambda.toml` and `lambda.lock` are as they were"),
        "{}",
        run.stderr
    );
    assert_eq!((manifest_text(&workspace), workspace.lock_text()), before);
    // A conflict the new requirement brings.
    let run = workspace.run(&["add", "one>=5"]).err();
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!((manifest_text(&workspace), workspace.lock_text()), before);
    // A bad requirement or member is refused before anything is written.
    let run = workspace.run(&["add", "one>>1"]).err();
    assert!(run.stderr.contains("`one>>1` is not a valid requirement"), "{}", run.stderr);
    let run = workspace.run(&["add", "-p", "nope", "two"]).err();
    assert!(run.stderr.contains("no function or layer is named `nope`"), "{}", run.stderr);
    let run = workspace.run(&["--locked", "add", "two"]).err();
    assert!(run.stderr.contains("`lbuild add --no-lock` edits without locking"), "{}", run.stderr);
    assert_eq!((manifest_text(&workspace), workspace.lock_text()), before);
}

#[test]
fn no_lock_edits_only_and_writes_the_name_as_given() {
    let index = index();
    let workspace = Workspace::new(&index, Api::Json, &format!("{HEAD}[layer.common]\n"));
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock_text();
    let run = workspace.run(&["add", "two", "--no-lock", "--message-format", "json"]).ok();
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["status"], "not-locked");
    assert_eq!(document["member"], "layer.common");
    assert_eq!(
        manifest_text(&workspace),
        expanded(&workspace, &format!("{HEAD}[layer.common]\nrequirements = [\"two\"]\n"))
    );
    assert_eq!(workspace.lock_text(), lock);
    let run = workspace.run(&["--locked", "build"]).err();
    assert!(run.stderr.contains("needs to be updated"), "{}", run.stderr);
    // `--raw` locks but keeps the bare name.
    workspace.run(&["add", "one", "--raw"]).ok();
    assert!(manifest_text(&workspace).ends_with("requirements = [\"two\", \"one\"]\n"));
    assert_eq!(workspace.lock().version("one", X86), "1.0");
}

#[test]
fn edits_keep_line_ends_links_and_modes_and_refuse_what_they_cannot_write() {
    let index = index();
    let workspace = Workspace::new(&index, Api::Json, HEAD);
    // CRLF throughout, as a Windows editor writes it.
    let crlf = expanded(&workspace, &format!("{HEAD}[function.api]\nrequirements = [\n    \"one\",\n]\n"))
        .replace('\n', "\r\n");
    fs_err::write(workspace.path().join("lambda.toml"), &crlf).unwrap();
    workspace.run(&["add", "two", "--no-lock"]).ok();
    assert_eq!(manifest_text(&workspace), crlf.replace("    \"one\",\r\n", "    \"one\",\r\n    \"two\",\r\n"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A linked manifest is edited where it lives, with its mode.
        let shared = workspace.path().join("shared.toml");
        fs_err::rename(workspace.path().join("lambda.toml"), &shared).unwrap();
        std::os::unix::fs::symlink("shared.toml", workspace.path().join("lambda.toml")).unwrap();
        fs_err::set_permissions(&shared, std::fs::Permissions::from_mode(0o600)).unwrap();
        workspace.run(&["remove", "two", "--no-lock"]).ok();
        assert!(fs_err::symlink_metadata(workspace.path().join("lambda.toml")).unwrap().file_type().is_symlink());
        assert_eq!(fs_err::read_to_string(&shared).unwrap(), crlf);
        assert_eq!(fs_err::metadata(&shared).unwrap().permissions().mode() & 0o777, 0o600);
        // A read-only file is refused, and nothing is written.
        fs_err::set_permissions(&shared, std::fs::Permissions::from_mode(0o400)).unwrap();
        let run = workspace.run(&["add", "two", "--no-lock"]).err();
        assert!(run.stderr.contains("is read-only, so lbuild does not change it"), "{}", run.stderr);
        assert_eq!(fs_err::read_to_string(&shared).unwrap(), crlf);
    }
}

#[test]
fn a_pyproject_members_groups_and_extras_are_searched_and_a_file_lbuild_cannot_edit_blocks_only_itself() {
    let index = index();
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &format!(
            "{HEAD}[function.api]\nrequirements = [\"three\"]\nrequirements-file = \"pyproject.toml\"\ngroups = [\"Prod\"]\n"
        ),
    );
    let pyproject = "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"one\"]\n\n[dependency-groups]\nprod = [\"two>=1.0\"]\ndev = [\"two<1\"]\n";
    fs_err::write(workspace.path().join("pyproject.toml"), pyproject).unwrap();
    // Replaced in the group the member selects, not added beside it, and not in another group.
    workspace.run(&["add", "two>=1.1", "--no-lock"]).ok();
    assert_eq!(read(&workspace, "pyproject.toml"), pyproject.replace("prod = [\"two>=1.0\"]", "prod = [\"two>=1.1\"]"));
    // A bare name the member requires already stays as written.
    let run = workspace.run(&["add", "two", "--no-lock"]).ok();
    assert!(run.stderr.contains("Kept `two>=1.1` in pyproject.toml"), "{}", run.stderr);
    workspace.run(&["remove", "two", "--no-lock"]).ok();
    assert_eq!(read(&workspace, "pyproject.toml"), pyproject.replace("prod = [\"two>=1.0\"]", "prod = []"));
    // Removing what lambda.toml lists never touches the pyproject, even one lbuild may not edit.
    let dynamic = "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndynamic = [\"dependencies\"]\n\n[dependency-groups]\nprod = []\n";
    fs_err::write(workspace.path().join("pyproject.toml"), dynamic).unwrap();
    let run = workspace.run(&["remove", "three", "--no-lock"]).ok();
    assert!(run.stderr.contains("are dynamic, so lbuild does not edit them; it was not searched"), "{}", run.stderr);
    assert_eq!(read(&workspace, "pyproject.toml"), dynamic);
    assert!(manifest_text(&workspace).contains("requirements = []\n"));
    // A manifest that is its own requirements file is refused.
    let both = format!(
        "[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"one\"]\n\n{HEAD}[function.api]\nrequirements = [\"two\"]\nrequirements-file = \"pyproject.toml\"\n"
    );
    fs_err::create_dir_all(workspace.path().join("both")).unwrap();
    fs_err::write(workspace.path().join("both/pyproject.toml"), expanded(&workspace, &both)).unwrap();
    let run = workspace.run(&["--manifest-path", "both/pyproject.toml", "remove", "one", "--no-lock"]).err();
    assert!(run.stderr.contains("is `pyproject.toml` itself"), "{}", run.stderr);
}
