//! The interface around lock and build: `init`, `tree`, `gaps`, `--message-format json`,
//! colour, completions, `--version`, and the hand-off of the build manifest to deploy tools.

use serde_json::Value;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Run, Workspace, run_lbuild};

const X86_312: &str = "python3.12-x86_64";
const ARM_312: &str = "python3.12-arm64";
const X86_311: &str = "python3.11-x86_64";

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", run.stdout))
}

/// A small web stack: a function needs `web`, which needs `core` and (for an extra) `turbo`;
/// a layer needs `core` directly.
fn web_scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("web", "2.0").extra("speed").dep("core>=1.2").dep("turbo<4 ; extra == 'speed'"),
        PackageSpec::new("core", "1.5"),
        PackageSpec::new("turbo", "3.1").dep("core"),
        PackageSpec::new("tool", "0.9"),
    ])
}

const WEB_MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[layer.base]
requirements = ["core"]

[function.api]
requirements = ["web[speed]>=2"]
layers = ["base"]

[function.cron]
requirements = ["tool"]
"#;

#[test]
fn tree_shows_each_member_with_the_requirement_that_pulled_each_package_in() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, WEB_MANIFEST);
    let run = workspace.run(&["tree"]).ok();
    let expected = "\
python3.12-x86_64
function api
└── web v2.0 [required: [speed]>=2]
    ├── core v1.5 [required: >=1.2] (provided by layer base)
    └── turbo v3.1 [required: <4] (extra speed)
        └── core v1.5 [required: *] (provided by layer base)
function cron
└── tool v0.9 [required: *]
layer base
└── core v1.5 [required: *]
";
    assert_eq!(run.stdout, expected, "stderr:\n{}", run.stderr);

    let run = workspace.run(&["tree", "-p", "cron"]).ok();
    assert_eq!(run.stdout, "python3.12-x86_64\nfunction cron\n└── tool v0.9 [required: *]\n");

    let run = workspace.run(&["tree", "-p", "nope"]).err();
    assert!(run.stderr.contains("no function or layer is named `nope`"), "{}", run.stderr);
    assert!(run.stderr.contains("`api`, `cron`, `base`"), "the error lists the names there are: {}", run.stderr);
    let run = workspace.run(&["tree", "--target", ARM_312]).err();
    assert!(run.stderr.contains("the workspace has no target `python3.12-arm64`"), "{}", run.stderr);
    assert!(run.stderr.contains("`python3.12-x86_64`"), "{}", run.stderr);
}

#[test]
fn tree_invert_answers_why_a_package_is_here() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, WEB_MANIFEST);
    let run = workspace.run(&["tree", "--invert", "Core"]).ok();
    // `turbo` is `api`'s only through `web`'s extra `speed`: above it, only what asks for
    // `web[speed]`.
    let expected = "\
python3.12-x86_64
core v1.5
├── layer base [requires: core]
├── turbo v3.1 [requires: core]
│   └── web v2.0 [requires: turbo<4] (extra speed)
│       └── function api [requires: web[speed]>=2]
└── web v2.0 [requires: core>=1.2]
    └── function api [requires: web[speed]>=2]
";
    assert_eq!(run.stdout, expected, "stderr:\n{}", run.stderr);

    // With -p, only the paths that end at that member.
    let run = workspace.run(&["tree", "-i", "core", "-p", "base"]).ok();
    assert_eq!(run.stdout, "python3.12-x86_64\ncore v1.5\n└── layer base [requires: core]\n");

    let run = workspace.run(&["tree", "-i", "left-pad"]).err();
    assert!(run.stderr.contains("`left-pad` is not in the lock of this workspace"), "{}", run.stderr);
    // A package that the chosen member does not pull in is said so, not met with silence.
    let run = workspace.run(&["tree", "-i", "tool", "-p", "api"]).err();
    assert!(run.stderr.contains("nothing pulls `tool` in on the chosen targets for `api`"), "{}", run.stderr);
    assert!(run.stderr.contains("it is locked on `python3.12-x86_64`"), "{}", run.stderr);
}

#[test]
fn tree_json_is_a_nested_document_with_requirements() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, WEB_MANIFEST);
    let run = workspace.run(&["tree", "-p", "api", "--message-format", "json"]).ok();
    let document = json(&run);
    assert_eq!(document["version"], 1);
    assert_eq!(document["command"], "tree");
    assert_eq!(document["success"], true);
    assert_eq!(document["inverted"], false);
    let target = &document["targets"][0];
    assert_eq!(target["target"], X86_312);
    let api = &target["roots"][0];
    assert_eq!((api["kind"].as_str(), api["name"].as_str()), (Some("function"), Some("api")));
    let web = &api["children"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["version"], "2.0");
    assert_eq!(web["requirement"], "web[speed]>=2");
    let names: Vec<&str> = web["children"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["core", "turbo"]);
}

/// Gaps of every kind, each with an older version that has wheels where one exists.
fn gap_scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("srconly", "2.0").sdist(),
        PackageSpec::new("srconly", "1.4"),
        PackageSpec::new("x86only", "1.0").wheel("cp312-cp312-manylinux_2_17_x86_64").sdist(),
        PackageSpec::new("newglibc", "1.0").wheel("cp311-cp311-manylinux_2_28_x86_64").sdist(),
        PackageSpec::new("fine", "1.0"),
    ])
}

#[test]
fn gaps_lists_each_gap_with_its_reason_and_the_ways_out_and_fails() {
    let index = FakeIndex::start(&gap_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        r#"[workspace]
index-url = "{index}"

[function.a]
requirements = ["srconly>=2", "x86only"]

[function.old]
runtime = "python3.11"
architecture = "x86_64"
requirements = ["newglibc", "fine"]
"#,
    );
    let run = workspace.run(&["gaps"]).err();
    let out = &run.stdout;
    assert!(out.contains("python3.12-arm64: 2 gaps"), "{out}");
    assert!(out.contains("python3.12-x86_64: 1 gap\n"), "{out}");
    assert!(out.contains("srconly 2.0 (only-sdist): only a source distribution is published"), "{out}");
    assert!(out.contains("pin an older version: srconly 1.4 is the newest with a wheel"), "{out}");
    assert!(out.contains("change the requirement to `srconly==1.4`"), "{out}");
    assert!(out.contains("x86only 1.0 (other-architecture)"), "{out}");
    assert!(out.contains("set `architecture = \"x86_64\"`"), "{out}");
    assert!(out.contains("newglibc 1.0 (glibc-too-new)"), "{out}");
    assert!(out.contains("glibc 2.28 (manylinux_2_28)"), "{out}");
    // Its wheels are for CPython 3.11 only: a newer runtime would not help, so it is not advised.
    assert!(!out.contains("move to a newer runtime"), "{out}");
    assert!(out.contains("needed by: function.old"), "{out}");
    // The build image matches the runtime's glibc: manylinux2014 for Amazon Linux 2, 2_34 for 2023.
    assert!(out.contains("quay.io/pypa/manylinux2014_x86_64 container"), "{out}");
    assert!(out.contains("quay.io/pypa/manylinux_2_34_aarch64 container"), "{out}");
    // A sdist-only gap is buildable once for every target when pure Python.
    assert!(out.contains("one `py3-none-any` wheel serves every target"), "{out}");
    assert!(out.contains("has Linux wheels for CPython 3.12 only for x86_64"), "{out}");
    assert!(!out.contains("fine"), "packages with wheels are not gaps: {out}");
    assert!(run.stderr.contains("4 gap(s) stop `lbuild build`"), "{}", run.stderr);

    // The filters, and a filter that leaves no gap succeeds.
    let run = workspace.run(&["gaps", "--target", X86_311]).err();
    assert!(run.stdout.starts_with("python3.11-x86_64: 1 gap\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("python3.12-"), "{}", run.stdout);
    let run = workspace.run(&["gaps", "-p", "old", "--target", X86_312]).ok();
    assert!(run.stdout.contains("No gaps"), "{}", run.stdout);

    // JSON: the same facts, one object per gap.
    let run = workspace.run(&["gaps", "--message-format", "json"]).err();
    let document = json(&run);
    assert_eq!(document["command"], "gaps");
    assert_eq!(document["success"], false);
    assert_eq!(document["blocking"], true);
    let gaps = document["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 4);
    let srconly = gaps.iter().find(|gap| gap["package"] == "srconly" && gap["target"] == ARM_312).unwrap();
    assert_eq!(srconly["version"], "2.0");
    assert_eq!(srconly["reason"], "only-sdist");
    assert_eq!(srconly["older_with_wheel"], "1.4");
    assert!(srconly["sdist"].as_str().is_some_and(|name| name.starts_with("srconly-2.0.")), "{srconly}");
    assert_eq!(srconly["needed_by"], serde_json::json!(["function.a"]));
    assert!(srconly["ways_out"].as_array().unwrap().len() >= 3);
    let x86only = gaps.iter().find(|gap| gap["package"] == "x86only").unwrap();
    assert_eq!(x86only["older_with_wheel"], Value::Null, "no older version exists");

    // The lock records the way out, and the build's error names it.
    assert!(workspace.lock_text().contains("older-with-wheel = \"1.4\""));
    let run = workspace.run(&["build", "-p", "a", "--arch", "x86_64"]).err();
    assert!(run.stderr.contains("`srconly==2.0` on python3.12-x86_64"), "{}", run.stderr);
    assert!(run.stderr.contains("srconly 1.4 has wheels"), "{}", run.stderr);
    assert!(run.stderr.contains("lbuild gaps"), "{}", run.stderr);
}

#[test]
fn gaps_succeeds_on_a_workspace_without_gaps() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, WEB_MANIFEST);
    let run = workspace.run(&["gaps"]).ok();
    assert_eq!(run.stdout, "No gaps: every package has a usable wheel on every target.\n");
    let document = json(&workspace.run(&["gaps", "--message-format", "json"]).ok());
    assert_eq!((document["blocking"].as_bool(), document["gaps"].as_array().map(Vec::len)), (Some(false), Some(0)));
}

#[test]
fn lock_and_build_print_one_json_document_and_keep_messages_on_stderr() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, WEB_MANIFEST);
    let run = workspace.run(&["lock", "--message-format", "json"]).ok();
    let document = json(&run);
    assert_eq!(document["command"], "lock");
    assert_eq!(document["status"], "written");
    assert_eq!(document["targets"], serde_json::json!([X86_312]));
    assert_eq!(document["packages"], 4);
    assert_eq!(document["lockfile"].as_str().map(|p| p.ends_with("lambda.lock")), Some(true));
    assert!(run.stderr.contains("Locked 4 packages"), "people still get the status line: {}", run.stderr);
    let again = json(&workspace.run(&["lock", "--message-format", "json"]).ok());
    assert_eq!(again["status"], "fresh");

    let run = workspace.run(&["build", "--message-format", "json"]).ok();
    let document = json(&run);
    assert_eq!(document["command"], "build");
    assert_eq!((document["written"].as_u64(), document["up_to_date"].as_u64()), (Some(3), Some(0)));
    let manifest: Value =
        serde_json::from_str(&fs_err::read_to_string(document["manifest"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(document["artifacts"], manifest["artifacts"], "the document repeats manifest.json's artifacts");
    let again = json(&workspace.run(&["build", "--message-format", "json"]).ok());
    assert_eq!((again["written"].as_u64(), again["up_to_date"].as_u64()), (Some(0), Some(3)));
}

#[test]
fn a_failure_in_json_mode_is_still_one_json_document() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace =
        Workspace::new(&index, Api::Json, "[workspace]\nindex-url = \"{index}\"\nruntime = \"python2.7\"\n");
    let run = workspace.run(&["lock", "--message-format", "json"]).err();
    let document = json(&run);
    assert_eq!(document["success"], false);
    assert_eq!(document["command"], "lock");
    let message = document["error"]["message"].as_str().unwrap();
    assert!(message.contains("python2.7"), "{message}");
    assert!(document["error"]["hint"].as_str().is_some_and(|help| help.contains("python3.12")), "{document}");
    assert!(run.stderr.contains("python2.7"), "people get the error on stderr too: {}", run.stderr);
}

#[test]
fn common_mistakes_get_a_message_with_the_place_and_a_hint() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\n\n[function.api]\nrequirements = [\"web>=\"]\n",
    );
    // A bad requirement: the file, the line, the text, and a hint.
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("lambda.toml:5"), "{}", run.stderr);
    assert!(run.stderr.contains("web>="), "{}", run.stderr);
    // A conflict names the functions and reads as a derivation.
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.a]\nrequirements = [\"core>=2\"]\n\n[function.b]\nrequirements = [\"web\"]\n",
    );
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("function `a`"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:") && !run.stderr.contains("help:"), "{}", run.stderr);
    assert!(run.stderr.contains("the newest version of core for python3.12-x86_64 is 1.5"), "{}", run.stderr);
    // No manifest at all.
    let empty = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lbuild"))
        .arg("build")
        .current_dir(empty.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("lambda.toml"), "{stderr}");
    assert!(stderr.contains("lbuild init"), "the hint says how to create one: {stderr}");
    // `export` without a target is a usage error that names what is missing.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lbuild")).arg("export").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--target <TARGET>"));
    // A bad flag is a usage error, exit 2.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lbuild")).args(["build", "--arch", "sparc"]).output();
    assert_eq!(output.unwrap().status.code(), Some(2));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, WEB_MANIFEST);
    let run = workspace.run_env(&["lock", "--color", "always"], &[]).ok();
    assert!(run.stderr.contains("\x1b[1;32m      Locked\x1b[0m"), "{:?}", run.stderr);
    // NO_COLOR is set by the harness, and stderr is not a terminal: plain text.
    let run = workspace.run(&["lock", "-U"]).ok();
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    let run = workspace.run_env(&["lock", "-U", "--color", "auto"], &[("NO_COLOR", "")]).ok();
    assert!(!run.stderr.contains('\x1b'), "not a terminal: {:?}", run.stderr);
    // -q silences status lines, -v explains where things came from.
    let run = workspace.run(&["lock", "-U", "-q"]).ok();
    assert_eq!(run.stderr, "");
    let run = workspace.run(&["lock", "-U", "-v"]).ok();
    assert!(run.stderr.contains("from default"), "{}", run.stderr);
}

#[test]
fn completions_and_version() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output =
            std::process::Command::new(env!("CARGO_BIN_EXE_lbuild")).args(["completions", shell]).output().unwrap();
        assert!(output.status.success());
        let script = String::from_utf8_lossy(&output.stdout);
        // The script asks lbuild itself, with `COMPLETE=<shell>`, as the user types.
        assert!(
            script.contains("lbuild") && script.contains("COMPLETE") && script.contains(shell),
            "{shell}: {script}"
        );
    }
    // What the shell then gets: subcommands and flags, and the workspace's own names.
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(
        dir.path().join("lambda.toml"),
        "[workspace]\nruntime = \"python3.13\"\narchitectures = [\"arm64\"]\nshared-layer = \"auto\"\n\
         [layer.deps]\n[function.api]\nlayers = [\"deps\"]\n[function.jobs]\nruntime = \"python3.12\"\n",
    )
    .unwrap();
    let complete = |words: &[&str]| {
        let mut args = vec!["--", "lbuild"];
        args.extend(words);
        run_lbuild(dir.path(), &args, &[("COMPLETE", "fish")]).ok().stdout
    };
    assert!(complete(&[""]).lines().any(|line| line.starts_with("gaps\t")), "{}", complete(&[""]));
    assert!(complete(&["build", "--"]).lines().any(|line| line.starts_with("--message-format")));
    assert_eq!(complete(&["build", "-p", ""]), "api\tfunction\njobs\tfunction\ndeps\tlayer\nshared\tgenerated layer\n");
    assert_eq!(complete(&["tree", "--target", "python3.1"]), "python3.12-arm64\npython3.13-arm64\n");
    // Outside a workspace there is nothing to offer, and nothing goes wrong.
    let elsewhere = tempfile::tempdir().unwrap();
    let run = run_lbuild(elsewhere.path(), &["--", "lbuild", "size", "-p", ""], &[("COMPLETE", "fish")]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lbuild")).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(version.starts_with(&format!("lbuild {}", env!("CARGO_PKG_VERSION"))), "{version}");
    // In a git checkout the commit follows: `lbuild 0.1.0 (1a2b3c4d5e6f 2026-11-22)`.
    if std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".git").exists() {
        let commit = version.trim().rsplit_once(" (").map(|(_, rest)| rest.trim_end_matches(')'));
        let (hash, date) = commit.and_then(|c| c.split_once(' ')).expect("a commit and a date");
        assert!(hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{version}");
        assert_eq!(date.len(), 10, "{version}");
    }
}

/// A project as people have them before lbuild: a handler and a requirements file.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
    dir
}

#[test]
fn init_imports_requirements_and_the_handler_and_the_result_builds() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let dir = project(&[
        ("requirements.txt", "web>=2\n# a comment\ntool\n"),
        ("src/lambda_function.py", "import web\n\ndef lambda_handler(event, context):\n    return 1\n"),
        ("tests/test_it.py", "def test(): pass\n"),
    ]);
    let run = run_lbuild(dir.path(), &["init", "--arch", "arm64", "--name", "orders"], &[]);
    let run = run.ok();
    assert!(run.stderr.contains("2 requirements from `requirements.txt`"), "{}", run.stderr);
    let text = fs_err::read_to_string(dir.path().join("lambda.toml")).unwrap();
    assert!(text.contains("[function.orders]"), "{text}");
    assert!(text.contains("source = \"src\""), "{text}");
    assert!(text.contains("handler = \"lambda_function.lambda_handler\""), "{text}");
    assert!(text.contains("requirements-file = \"requirements.txt\""), "{text}");
    assert!(text.contains("architectures = [\"arm64\"]"), "{text}");
    assert!(text.contains("runtime = \"python3.12\""), "{text}");

    // It never overwrites.
    fs_err::write(dir.path().join("lambda.toml"), "# mine\n").unwrap();
    let run = run_lbuild(dir.path(), &["init"], &[]).err();
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(fs_err::read_to_string(dir.path().join("lambda.toml")).unwrap(), "# mine\n");
    fs_err::write(dir.path().join("lambda.toml"), &text).unwrap();

    // What init wrote locks and builds as it is.
    let cache = tempfile::tempdir().unwrap();
    let env = [("LBUILD_INDEX_URL", index.json_api_url()), ("LBUILD_CACHE_DIR", cache.path().display().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_lbuild(dir.path(), &["build"], &env).ok();
    let zip = dir.path().join("target/lambda/functions/orders-python3.12-arm64.zip");
    let names = zip_names(&zip);
    assert!(names.contains(&"lambda_function.py".to_string()), "{names:?}");
    assert!(names.iter().any(|name| name.starts_with("web/")), "{names:?}");
    assert!(!names.iter().any(|name| name.starts_with("tests/")), "{names:?}");
}

#[test]
fn init_in_a_project_root_excludes_the_build_output_and_reads_pyproject() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let dir = project(&[
        (
            "pyproject.toml",
            "[project]\nname = \"Billing.Service\"\nrequires-python = \">=3.10,<3.12\"\ndependencies = [\"tool\"]\n",
        ),
        ("handler.py", "def handler(event, context):\n    return 1\n"),
    ]);
    let run = run_lbuild(dir.path(), &["init", "--message-format", "json"], &[]).ok();
    let document = json(&run);
    assert_eq!(document["function"], "billing-service");
    assert_eq!(document["runtime"], "python3.11", "the newest runtime requires-python allows");
    assert_eq!(document["handler"], "handler.handler");
    assert_eq!(document["source"], ".");
    assert_eq!(document["requirements_file"], "pyproject.toml");
    assert_eq!(document["requirements"], 1);

    let cache = tempfile::tempdir().unwrap();
    let env = [("LBUILD_INDEX_URL", index.json_api_url()), ("LBUILD_CACHE_DIR", cache.path().display().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_lbuild(dir.path(), &["build", "--arch", "x86_64"], &env).ok();
    let zip = dir.path().join("target/lambda/functions/billing-service-python3.11-x86_64.zip");
    let first = fs_err::read(&zip).unwrap();
    // A second build from scratch must not take the first zip (inside `source = "."`) along.
    fs_err::remove_file(dir.path().join("target/lambda/.lbuild-state.json")).unwrap();
    run_lbuild(dir.path(), &["build", "--arch", "x86_64"], &env).ok();
    assert_eq!(fs_err::read(&zip).unwrap(), first, "same bytes: the output directory is not part of the source");
    let names = zip_names(&zip);
    assert!(names.contains(&"handler.py".to_string()), "{names:?}");
    for left_out in ["lambda.toml", "lambda.lock", "pyproject.toml"] {
        assert!(!names.contains(&left_out.to_string()), "{left_out}: {names:?}");
    }
    assert!(!names.iter().any(|name| name.starts_with("target/")), "{names:?}");

    let run = run_lbuild(project(&[]).path(), &["init", "--runtime", "python3.8"], &[]).err();
    assert!(run.stderr.contains("`python3.8` is no longer supported by Lambda"), "{}", run.stderr);
}

fn zip_names(path: &std::path::Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(fs_err::File::open(path).unwrap()).unwrap();
    archive.file_names().map(|name| name.unwrap().into_owned()).collect()
}

#[test]
fn the_build_manifest_hands_off_to_sam_and_terraform() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        &WEB_MANIFEST
            .replace("architectures = [\"x86_64\"]", "architectures = [\"x86_64\", \"arm64\"]")
            .replace("layers = [\"base\"]", "layers = [\"base\"]\nhandler = \"app.handler\"\narchitecture = \"arm64\""),
    );
    let run = workspace.run(&["export", "--format", "sam"]).err();
    assert!(run.stderr.contains("there is no build manifest"), "{}", run.stderr);
    assert!(run.stderr.contains("run `lbuild build` first"), "{}", run.stderr);
    workspace.run(&["build"]).ok();
    let run = workspace.run(&["export", "--format", "sam"]).ok();
    let template = &run.stdout;
    let api = "\
  ApiArm64Function:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: \"target/lambda/functions/api-python3.12-arm64.zip\"
      Handler: \"app.handler\"
      Runtime: \"python3.12\"
      Architectures: [\"arm64\"]
      Layers:
        - !Ref BaseArm64Layer
";
    assert!(template.contains(api), "{template}");
    let layer = "\
  BaseArm64Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: \"base-python312-arm64\"
      ContentUri: \"target/lambda/layers/base-python3.12-arm64.zip\"
      CompatibleRuntimes: [\"python3.12\"]
      CompatibleArchitectures: [\"arm64\"]
";
    assert!(template.contains(layer), "{template}");
    // Every path the fragment names is a zip the build wrote, and every `!Ref` is defined.
    for line in template.lines() {
        if let Some(path) = line.trim().strip_prefix("CodeUri: ").or_else(|| line.trim().strip_prefix("ContentUri: ")) {
            assert!(workspace.path().join(path.trim_matches('"')).is_file(), "{path}");
        }
        if let Some(id) = line.trim().strip_prefix("- !Ref ") {
            assert!(template.contains(&format!("\n  {id}:\n")), "{id} is not defined:\n{template}");
        }
    }
    assert_eq!(template.matches("Type: AWS::Serverless::Function").count(), 3, "api on arm64, cron on both");
    assert_eq!(template.matches("Type: AWS::Serverless::LayerVersion").count(), 1, "base, for its one user");

    // A runtime upgrade keeps the functions' logical IDs (CloudFormation updates them instead of
    // replacing them); a layer built for two runtimes on one architecture names its runtime.
    let upgraded = WEB_MANIFEST
        .replace("architectures = [\"x86_64\"]", "architectures = [\"x86_64\", \"arm64\"]")
        .replace(
            "layers = [\"base\"]",
            "layers = [\"base\"]\nhandler = \"app.handler\"\narchitecture = \"arm64\"\nruntime = \"python3.13\"",
        )
        .replace(
            "requirements = [\"tool\"]",
            "requirements = [\"tool\"]\nlayers = [\"base\"]\narchitecture = \"arm64\"",
        );
    workspace.write_manifest(&upgraded);
    workspace.run(&["build"]).ok();
    let template = workspace.run(&["export", "--format", "sam"]).ok().stdout;
    assert!(template.contains("\n  ApiArm64Function:\n"), "{template}");
    assert!(template.contains("Runtime: \"python3.13\""), "{template}");
    assert!(
        template.contains("\n  BasePython313Arm64Layer:\n") && template.contains("\n  BasePython312Arm64Layer:\n"),
        "{template}"
    );
    let api = &template[template.find("ApiArm64Function:").unwrap()..];
    assert!(api.contains("- !Ref BasePython313Arm64Layer\n"), "{template}");

    // Plain CloudFormation: the same resources as `AWS::Lambda::*`, code as local paths.
    let cfn = workspace.run(&["export", "--format", "cfn"]).ok().stdout;
    let api = &cfn[cfn.find("\n  ApiArm64Function:\n").unwrap()..];
    assert!(
        api.starts_with("\n  ApiArm64Function:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: \"target/lambda/functions/api-python3.13-arm64.zip\"\n"),
        "{cfn}"
    );
    assert!(
        cfn.contains("    Type: AWS::Lambda::LayerVersion\n    Properties:\n")
            && cfn.contains("      Content: \"target/lambda/layers/"),
        "{cfn}"
    );
    assert!(!cfn.contains("Serverless"), "{cfn}");
    // Terraform: layer resources, and what each function's `aws_lambda_function` needs.
    let run = workspace.run(&["export", "--format", "terraform"]).ok();
    let tf: Value = serde_json::from_str(&run.stdout).unwrap();
    let layers = tf["resource"]["aws_lambda_layer_version"].as_object().unwrap();
    let mut keys: Vec<&String> = layers.keys().collect();
    keys.sort();
    assert_eq!(keys, ["base_python3_12_arm64", "base_python3_13_arm64"], "{}", run.stdout);
    let api = &tf["locals"]["lbuild_functions"]["api_arm64"];
    assert_eq!(api["runtime"], "python3.13");
    assert_eq!(api["handler"], "app.handler");
    assert_eq!(api["architectures"], serde_json::json!(["arm64"]));
    assert_eq!(api["layers"], serde_json::json!(["${aws_lambda_layer_version.base_python3_13_arm64.arn}"]));
    let manifest: Value =
        serde_json::from_str(&fs_err::read_to_string(workspace.path().join("target/lambda/manifest.json")).unwrap())
            .unwrap();
    for entry in tf["locals"]["lbuild_functions"].as_object().unwrap().values().chain(layers.values()) {
        let path = entry["filename"].as_str().unwrap().strip_prefix("${path.module}/").unwrap();
        assert!(workspace.path().join(path).is_file(), "{path}");
        let artifact = manifest["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["path"].as_str().is_some_and(|p| path.ends_with(p)))
            .unwrap();
        assert_eq!(entry["source_code_hash"], artifact["base64_sha256"]);
    }
    // An output directory outside the workspace is reached from it with `..`.
    let elsewhere = tempfile::tempdir().unwrap();
    let lam = elsewhere.path().join("lam");
    workspace.run(&["build", "--out-dir", lam.to_str().unwrap()]).ok();
    let run = workspace.run(&["export", "--format", "terraform", "--out-dir", lam.to_str().unwrap()]).ok();
    let tf: Value = serde_json::from_str(&run.stdout).unwrap();
    let path = tf["locals"]["lbuild_functions"]["api_arm64"]["filename"].as_str().unwrap().to_string();
    let path = path.strip_prefix("${path.module}/").unwrap_or_else(|| panic!("{path}"));
    assert!(path.starts_with("../"), "{path}");
    assert!(workspace.path().join(path).is_file(), "{path}");

    // Terraform reads manifest.json: `filename` is the output directory joined with `path`,
    // `source_code_hash` is `base64_sha256`, which must be the zip's real hash.
    let out = workspace.path().join("target/lambda");
    let manifest: Value = serde_json::from_str(&fs_err::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    use base64::Engine;
    use sha2::Digest;
    for artifact in manifest["artifacts"].as_array().unwrap() {
        let bytes = fs_err::read(out.join(artifact["path"].as_str().unwrap())).unwrap();
        let digest = sha2::Sha256::digest(&bytes);
        assert_eq!(artifact["base64_sha256"], base64::engine::general_purpose::STANDARD.encode(digest));
        assert_eq!(artifact["size"], bytes.len());
    }
}

#[test]
fn a_ci_build_needs_no_python_only_the_lock_and_the_cache() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, WEB_MANIFEST);
    workspace.run(&["lock"]).ok();
    workspace.run(&["fetch"]).ok();
    // The CI job of docs/guide/ci.md: no Python, pip or anything else on PATH, the index gone.
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().display().to_string();
    drop(index);
    let run = workspace.run_env(&["build", "--frozen"], &[("PATH", &path)]).ok();
    assert!(run.stderr.contains("3 zips"), "{}", run.stderr);
    // And `--locked` refuses a workspace whose lock is out of date, naming what changed.
    workspace.write_manifest(&WEB_MANIFEST.replace("requirements = [\"tool\"]", "requirements = [\"tool\", \"core\"]"));
    let run = workspace.run_env(&["build", "--locked"], &[("PATH", &path)]).err();
    assert!(run.stderr.contains("`function.cron` now requires `core`"), "{}", run.stderr);
}

#[test]
fn a_source_at_the_workspace_root_leaves_out_the_manifest_the_lock_and_the_output() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.root]\nsource = \".\"\nhandler = \"app.handler\"\nrequirements = [\"tool\"]\n",
    );
    fs_err::write(workspace.path().join("app.py"), "def handler(event, context):\n    return 1\n").unwrap();
    workspace.run(&["build"]).ok();
    let zip = workspace.path().join("target/lambda/functions/root-python3.12-x86_64.zip");
    let first = fs_err::read(&zip).unwrap();
    // Force a rebuild; the zip written before must not end up inside the new one.
    fs_err::write(workspace.path().join("app.py"), "def handler(event, context):\n    return 2\n").unwrap();
    workspace.run(&["build"]).ok();
    let names = zip_names(&zip);
    assert!(names.contains(&"app.py".to_string()) && names.iter().any(|n| n.starts_with("tool")), "{names:?}");
    for left_out in ["lambda.toml", "lambda.lock"] {
        assert!(!names.contains(&left_out.to_string()), "{left_out}: {names:?}");
    }
    assert!(!names.iter().any(|name| name.starts_with("target/")), "{names:?}");
    assert_ne!(fs_err::read(&zip).unwrap(), first, "the changed source was rebuilt");
}

#[test]
fn wheels_for_another_os_on_the_other_machine_are_not_an_architecture_gap() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("macx86", "1.0").wheel("cp312-cp312-macosx_11_0_x86_64").sdist(),
        PackageSpec::new("linuxx86", "1.0").wheel("cp312-cp312-linux_x86_64").sdist(),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"arm64\"]\n\n[function.f]\nrequirements = [\"macx86\", \"linuxx86\"]\n",
    );
    let document = json(&workspace.run(&["gaps", "--message-format", "json"]).err());
    let reason = |name: &str| {
        document["gaps"].as_array().unwrap().iter().find(|gap| gap["package"] == name).unwrap()["reason"].clone()
    };
    assert_eq!(reason("macx86"), "no-linux-wheel");
    assert_eq!(reason("linuxx86"), "other-architecture");
}

#[test]
fn a_gap_kept_by_an_upper_bound_names_the_newer_version_with_wheels() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("capped", "2.1"),
        PackageSpec::new("capped", "2.0"),
        PackageSpec::new("capped", "1.0").sdist(),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"capped<2\"]\n",
    );
    let run = workspace.run(&["gaps", "--message-format", "json"]).err();
    let gap = &json(&run)["gaps"][0];
    assert_eq!((gap["package"].as_str(), gap["version"].as_str()), (Some("capped"), Some("1.0")));
    assert_eq!(gap["newer_with_wheel"], "2.0", "the oldest newer version with a wheel: the smallest change");
    assert_eq!(gap["older_with_wheel"], Value::Null);
    assert!(gap["ways_out"][0].as_str().unwrap().starts_with("allow a newer version: capped 2.0"), "{gap}");
    assert!(workspace.lock_text().contains("newer-with-wheel = \"2.0\""));
}

#[test]
fn manifest_mistakes_point_at_the_line_and_say_how_to_fix_them() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let case = |body: &str| {
        let workspace = Workspace::new(&index, Api::Json, &format!("[workspace]\nindex-url = \"{{index}}\"\n\n{body}"));
        workspace.run(&["lock"])
    };
    // A misspelt key is a warning that suggests the key it resembles.
    let run = case("[function.api]\nrequirement = [\"tool\"]\n").ok();
    assert!(run.stderr.contains("unused manifest key `function.api.requirement`"), "{}", run.stderr);
    assert!(run.stderr.contains("(line 5); did you mean `requirements`?"), "{}", run.stderr);
    // A string where a list belongs.
    let run = case("[function.api]\nrequirements = \"tool\"\n").err();
    assert!(run.stderr.contains("lambda.toml:5:16"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: this key takes a list"), "{}", run.stderr);
    // A handler without a function name.
    let run = case("[function.api]\nhandler = \"app\"\nrequirements = []\n").err();
    assert!(run.stderr.contains("`app` is not a Lambda handler"), "{}", run.stderr);
    assert!(run.stderr.contains("lambda.toml:5:11") && run.stderr.contains("hint: a Python handler"), "{}", run.stderr);
}

#[test]
fn a_handler_is_checked_on_every_build_for_its_module_and_its_name() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let manifest = |handler: &str| {
        format!(
            "[workspace]\nindex-url = \"{{index}}\"\n\n[function.api]\nsource = \"src\"\nhandler = \"{handler}\"\nrequirements = []\n"
        )
    };
    let workspace = Workspace::new(&index, Api::Json, &manifest("service.handlers.main"));
    fs_err::create_dir_all(workspace.path().join("src/service")).unwrap();
    fs_err::write(workspace.path().join("src/service/handler.py"), "def main(e, c): pass\n").unwrap();
    let missing = "names module `service.handlers`, but its source has no `service/handlers.py`";
    let run = workspace.run(&["build"]).ok();
    assert_eq!(run.stderr.matches(missing).count(), 1, "once for both targets: {}", run.stderr);
    assert!(run.stderr.contains("Finished 2 zips in"), "{}", run.stderr);
    // Said again when nothing is rewritten.
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains(missing) && run.stderr.contains("0 written"), "{}", run.stderr);
    // The module is there, but the name is not.
    fs_err::rename(workspace.path().join("src/service/handler.py"), workspace.path().join("src/service/handlers.py"))
        .unwrap();
    fs_err::write(workspace.path().join("src/service/handlers.py"), "def handler(e, c): pass\n").unwrap();
    let run = workspace.run(&["build"]).ok();
    assert!(run.stderr.contains("`service/handlers.py` defines no `main`"), "{}", run.stderr);
    // An assignment defines it (`main = Mangum(app)`): no warning.
    fs_err::write(workspace.path().join("src/service/handlers.py"), "from mangum import Mangum\nmain = Mangum(app)\n")
        .unwrap();
    let run = workspace.run(&["build"]).ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    // The source directory in the handler's path is an error that gives the right handler.
    workspace.write_manifest(&manifest("src/service/handlers.main"));
    let run = workspace.run(&["build"]).err();
    assert!(run.stderr.contains("starts with its source directory `src`"), "{}", run.stderr);
    assert!(run.stderr.contains("set `handler = \"service/handlers.main\"`"), "{}", run.stderr);
}

/// `fetch`, `cache` and `export` answer in JSON too: one document on stdout.
#[test]
fn fetch_cache_and_export_print_one_json_document() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.api]\nrequirements = [\"web\"]\n",
    );
    let document = json(&workspace.run(&["fetch", "--message-format", "json"]).ok());
    assert_eq!(document["command"], "fetch");
    let files = document["files"].as_u64().unwrap();
    assert!(files > 0 && document["downloaded"] == files, "{document}");
    let document = json(&workspace.run(&["fetch", "--message-format", "json"]).ok());
    assert_eq!(document["downloaded"], 0, "everything is cached now: {document}");

    let document = json(&workspace.run(&["export", "--target", "python3.12-x86_64", "--message-format", "json"]).ok());
    assert_eq!(document["format"], "requirements");
    assert!(document["text"].as_str().unwrap().contains("--hash=sha256:"), "{document}");

    let document = json(&workspace.run(&["cache", "dir", "--message-format", "json"]).ok());
    assert_eq!(document["command"], "cache dir");
    let dir = std::path::PathBuf::from(document["dir"].as_str().unwrap());
    assert!(dir.is_dir(), "{document}");
    let document = json(&workspace.run(&["cache", "clean", "--message-format", "json"]).ok());
    assert!(document["removed_files"].as_u64().unwrap() >= files, "{document}");
    assert!(!dir.exists() || fs_err::read_dir(&dir).unwrap().next().is_none());
}

/// `init` finds handlers that are assignments (Mangum, Chalice), any `def NAME(event, context)`,
/// and a package under `src/`.
#[test]
fn init_finds_assigned_handlers_chalice_apps_and_src_packages() {
    for (files, source, handler) in [
        (vec![("app.py", "from mangum import Mangum\napp = FastAPI()\nhandler = Mangum(app)\n")], ".", "app.handler"),
        (vec![("app.py", "from chalice import Chalice\napp = Chalice(app_name='orders')\n")], ".", "app.app"),
        (vec![("main.py", "from mangum import Mangum\nasgi = Mangum(api)\n")], ".", "main.asgi"),
        (
            vec![
                ("src/orders/__init__.py", ""),
                ("src/orders/handler.py", "def process(event, context):\n    return 1\n"),
            ],
            "src",
            "orders.handler.process",
        ),
    ] {
        let dir = project(&files);
        run_lbuild(dir.path(), &["init"], &[]).ok();
        let text = fs_err::read_to_string(dir.path().join("lambda.toml")).unwrap();
        assert!(text.contains(&format!("source = \"{source}\"")), "{files:?}: {text}");
        assert!(text.contains(&format!("handler = \"{handler}\"")), "{files:?}: {text}");
    }
}

/// A SAM template's Python functions become one function each, with their code directory,
/// handler, runtime and architecture; what init writes locks and builds.
#[test]
fn init_writes_a_function_per_sam_template_function_and_the_result_builds() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let template = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n\
        Globals:\n  Function:\n    Runtime: python3.12\n    Timeout: 3\n\
        Resources:\n\
        \x20 HelloWorldFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n\
        \x20     CodeUri: hello_world/\n      Handler: app.lambda_handler\n      Architectures:\n        - arm64\n\
        \x20     Role: !GetAtt Role.Arn\n      Environment:\n        Variables:\n          TABLE: !Ref Table\n\
        \x20 Legacy:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ./legacy, Handler: jobs.run, Runtime: python3.11}\n\
        \x20 Web:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: web\n      Handler: index.handler\n      Runtime: nodejs22.x\n\
        \x20 Image:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n\
        \x20 Table:\n    Type: AWS::DynamoDB::Table\n";
    let dir = project(&[
        ("template.yaml", template),
        ("hello_world/app.py", "import web\n\ndef lambda_handler(event, context):\n    return 1\n"),
        ("hello_world/requirements.txt", "web\n"),
        ("hello_world/__init__.py", ""),
        ("legacy/jobs.py", "def run(event, context):\n    return 2\n"),
        ("requirements.txt", "tool\n"),
        ("web/index.js", "exports.handler = async () => 1;\n"),
    ]);
    let run = run_lbuild(dir.path(), &["init", "--message-format", "json"], &[]).ok();
    let document = json(&run);
    assert_eq!(document["layout"], "template.yaml");
    let names: Vec<&str> =
        document["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hello-world", "legacy"]);
    let notes = document["notes"].to_string();
    assert!(notes.contains("Web left out: it runs on `nodejs22.x`, not Python"), "{notes}");
    assert!(notes.contains("Image left out: a container image function"), "{notes}");
    let text = fs_err::read_to_string(dir.path().join("lambda.toml")).unwrap();
    let hello = &text[text.find("[function.hello-world]").unwrap()..text.find("[function.legacy]").unwrap()];
    assert!(
        hello.contains("source = \"hello_world\"\nhandler = \"app.lambda_handler\"\narchitecture = \"arm64\"\n"),
        "{text}"
    );
    assert!(hello.contains("requirements-file = \"hello_world/requirements.txt\""), "{text}");
    let legacy = &text[text.find("[function.legacy]").unwrap()..];
    assert!(legacy.contains("handler = \"jobs.run\"\nruntime = \"python3.11\"\n"), "{text}");
    assert!(legacy.contains("requirements-file = \"requirements.txt\""), "the repository's, as a fallback: {text}");
    assert!(text.contains("[workspace]\nruntime = \"python3.12\""), "{text}");

    let cache = tempfile::tempdir().unwrap();
    let env = [("LBUILD_INDEX_URL", index.json_api_url()), ("LBUILD_CACHE_DIR", cache.path().display().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_lbuild(dir.path(), &["build"], &env).ok();
    let names = zip_names(&dir.path().join("target/lambda/functions/hello-world-python3.12-arm64.zip"));
    assert!(names.contains(&"app.py".to_string()), "{names:?}");
    assert!(names.iter().any(|name| name.starts_with("web/")), "{names:?}");
    assert!(!names.contains(&"requirements.txt".to_string()), "{names:?}");
    let names = zip_names(&dir.path().join("target/lambda/functions/legacy-python3.11-x86_64.zip"));
    assert!(names.contains(&"jobs.py".to_string()) && names.iter().any(|name| name.starts_with("tool/")), "{names:?}");

    // `--name` names the one function of a project; this one has two.
    fs_err::remove_file(dir.path().join("lambda.toml")).unwrap();
    let run = run_lbuild(dir.path(), &["init", "--name", "x"], &[]).err();
    assert!(run.stderr.contains("defines 2 functions"), "{}", run.stderr);
    assert!(!dir.path().join("lambda.toml").exists());
}

/// Templates as people write them: merge keys, Globals (which plain Lambda functions do not
/// take), inline code, variables, links out of the repository, and names that need quoting.
#[test]
fn init_reads_sam_merge_keys_and_leaves_out_what_it_cannot_package() {
    let template = "Globals:\n  Function:\n    Architectures: [arm64]\n\
        Resources:\n\
        \x20 F1:\n    Type: AWS::Serverless::Function\n    Properties: &props {CodeUri: f1, Runtime: python3.11, Handler: app.handler}\n\
        \x20 F2:\n    Type: AWS::Serverless::Function\n    Properties:\n      <<: *props\n      CodeUri: 'we\"ird'\n\
        \x20 Plain:\n    Type: AWS::Lambda::Function\n    Properties: {Code: f1, Handler: app.handler, Runtime: python3.11}\n\
        \x20 Inline:\n    Type: AWS::Serverless::Function\n    Properties: {InlineCode: 'def h(e, c): pass', Handler: index.h}\n\
        \x20 Sub:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: f1, Handler: !Sub 'app.${Env}'}\n\
        \x20 Fancy:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: {Bucket: b, Key: k}, Handler: a.b}\n\
        \x20 Out:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: linkout, Handler: a.b}\n\
        \x20 Bare:\n    Type: AWS::Lambda::Function\n    Properties: {Code: f1, Handler: app.handler}\n\
        \x20 Ref:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: f1, Handler: app.handler, Runtime: !Ref Rt}\n";
    let dir = project(&[
        ("template.yaml", template),
        ("f1/app.py", "def handler(event, context):\n    return 1\n"),
        ("we\"ird/app.py", "def handler(event, context):\n    return 1\n"),
    ]);
    let elsewhere = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("linkout")).unwrap();
    let run = run_lbuild(dir.path(), &["init", "--message-format", "json"], &[]).ok();
    let document = json(&run);
    let notes = document["notes"].to_string();
    for note in [
        "Bare left out: it names no `Runtime`",
        "Ref: its runtime `Rt` is a variable or reference; it gets the workspace runtime",
        "Inline left out: its code is inline",
        "Sub: its Handler `app.${Env}` is a variable",
        "Fancy left out: it has no local code directory",
    ] {
        assert!(notes.contains(note), "{note}: {notes}");
    }
    #[cfg(unix)]
    assert!(notes.contains("Out left out: `linkout` is not a directory of this repository"), "{notes}");
    let text = fs_err::read_to_string(dir.path().join("lambda.toml")).unwrap();
    let section = |name: &str| {
        let start = text.find(&format!("[function.{name}]")).unwrap_or_else(|| panic!("{name}: {text}"));
        let rest = &text[start + 1..];
        rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
    };
    // F2 takes F1's runtime and handler through the merge key, and Globals' architecture.
    assert!(
        section("f2").contains("source = \"we\\\"ird\"\nhandler = \"app.handler\"\narchitecture = \"arm64\"\n"),
        "{text}"
    );
    assert!(section("f1").contains("architecture = \"arm64\""), "{text}");
    assert!(!section("plain").contains("architecture"), "Globals are SAM's only: {text}");
    assert!(section("sub").contains("# handler = \"app.handler\""), "left for the user: {text}");
    assert!(text.contains("runtime = \"python3.11\""), "{text}");
    // lbuild reads what init wrote, quotes and all.
    let run = run_lbuild(dir.path(), &["export", "--format", "sam"], &[]).err();
    assert!(run.stderr.contains("there is no build manifest"), "{}", run.stderr);

    // A template with nothing lbuild can package leaves the project as one function, and says why.
    let node = project(&[
        (
            "template.yaml",
            "Resources:\n  Web:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: web, Runtime: nodejs22.x}\n",
        ),
        ("app.py", "def handler(event, context):\n    return 1\n"),
    ]);
    let run = run_lbuild(node.path(), &["init"], &[]).ok();
    assert!(
        run.stderr.contains("Note Web left out: it runs on `nodejs22.x`, not Python (template.yaml)"),
        "{}",
        run.stderr
    );
    let text = fs_err::read_to_string(node.path().join("lambda.toml")).unwrap();
    assert!(text.contains("source = \".\"\nhandler = \"app.handler\""), "{text}");
    assert!(text.contains("\"template.yaml\""), "the template is not code: {text}");
}

/// Serverless Framework functions, uv workspace members with a handler, and `functions/*/`
/// directories are the other layouts of several functions.
#[test]
fn init_finds_serverless_functions_uv_workspace_members_and_function_directories() {
    let serverless = project(&[
        (
            "serverless.yml",
            "service: orders\nprovider:\n  name: aws\n  runtime: python3.13\n  architecture: arm64\n\
             functions:\n  create:\n    handler: handlers/create.main\n  report:\n    handler: report.run\n    module: reports\n\
             \x20   runtime: ${self:provider.runtime}\n",
        ),
        ("handlers/create.py", "def main(event, context):\n    return 1\n"),
        ("reports/report.py", "def run(event, context):\n    return 1\n"),
        ("reports/requirements.txt", "tool\n"),
        ("requirements.txt", "web\n"),
    ]);
    run_lbuild(serverless.path(), &["init"], &[]).ok();
    let text = fs_err::read_to_string(serverless.path().join("lambda.toml")).unwrap();
    assert!(
        text.contains("runtime = \"python3.13\"\narchitectures = [\"arm64\"]\n"),
        "one architecture for all: {text}"
    );
    assert!(text.contains("[function.create]\nsource = \".\"\nhandler = \"handlers/create.main\"\nexclude"), "{text}");
    assert!(text.contains("\"serverless.yml\""), "the service file is not code: {text}");
    assert!(text.contains("[function.report]\nsource = \"reports\"\nhandler = \"report.run\""), "{text}");
    assert!(text.contains("requirements-file = \"reports/requirements.txt\""), "{text}");

    let uv = project(&[
        (
            "pyproject.toml",
            "[project]\nname = \"root\"\nversion = \"0\"\n[tool.uv.workspace]\nmembers = [\"packages/*\"]\n",
        ),
        (
            "packages/api/pyproject.toml",
            "[project]\nname = \"api\"\nversion = \"1\"\ndependencies = [\"web\", \"common\"]\n",
        ),
        ("packages/api/src/api/__init__.py", ""),
        ("packages/api/src/api/handler.py", "def handler(event, context):\n    return 1\n"),
        ("packages/common/pyproject.toml", "[project]\nname = \"common\"\nversion = \"1\"\n"),
        ("packages/common/src/common/__init__.py", ""),
    ]);
    let run = run_lbuild(uv.path(), &["init", "--message-format", "json"], &[]).ok();
    assert_eq!(json(&run)["layout"], "pyproject.toml");
    assert!(json(&run)["notes"].to_string().contains("`common` left out: it defines no handler"), "{}", run.stdout);
    let text = fs_err::read_to_string(uv.path().join("lambda.toml")).unwrap();
    assert!(
        text.contains("[function.api]\nsource = \"packages/api/src\"\nhandler = \"api.handler.handler\""),
        "{text}"
    );
    assert!(text.contains("requirements-file = \"packages/api/pyproject.toml\""), "{text}");
    assert!(!text.contains("[function.common]"), "{text}");

    let dirs = project(&[
        ("functions/billing/lambda_function.py", "def lambda_handler(event, context):\n    return 1\n"),
        ("functions/billing/requirements.txt", "tool\n"),
        ("functions/Email Sender/app.py", "def handler(event, context):\n    return 1\n"),
        ("functions/notes/README.md", "no code\n"),
        ("requirements.txt", "web\n"),
    ]);
    let run = run_lbuild(dirs.path(), &["init", "--arch", "x86_64", "--message-format", "json"], &[]).ok();
    let names: Vec<String> =
        json(&run)["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["billing", "email-sender"]);
    let text = fs_err::read_to_string(dirs.path().join("lambda.toml")).unwrap();
    assert!(text.contains("source = \"functions/Email Sender\""), "{text}");
    assert!(text.contains("requirements-file = \"functions/billing/requirements.txt\""), "{text}");
    assert!(text.matches("requirements-file = \"requirements.txt\"").count() == 1, "{text}");
    assert!(!text.contains("architecture = "), "--arch sets the workspace's: {text}");
    // What init wrote is a valid manifest: `export` reads it, then finds no build.
    let run = run_lbuild(dirs.path(), &["export", "--format", "sam"], &[]).err();
    assert!(run.stderr.contains("there is no build manifest"), "{}", run.stderr);
}

/// A JSON document carries the warnings said on the way, once each, in success and in failure;
/// `-q` keeps them off stderr, not out of the document.
#[test]
fn json_documents_include_the_warnings() {
    let index = FakeIndex::start(&web_scenario(), IndexOptions::default());
    let body = WEB_MANIFEST.replace("[workspace]\n", "[workspace]\nexclude-runtime-package = true\n");
    let workspace = Workspace::new(&index, Api::Json, &body);
    let run = workspace.run(&["lock", "-q", "--message-format", "json"]).ok();
    assert_eq!(run.stderr, "");
    let warnings = json(&run)["warnings"].clone();
    let warnings: Vec<&str> = warnings.as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("unused manifest key `workspace.exclude-runtime-package` in"), "{warnings:?}");
    assert!(warnings[0].contains("did you mean `exclude-runtime-packages`?"), "{warnings:?}");
    // A command that fails says them too.
    let run = workspace.run(&["build", "-p", "nope", "--message-format", "json"]).err();
    let document = json(&run);
    assert_eq!(document["success"], false);
    assert!(document["warnings"][0].as_str().unwrap().contains("exclude-runtime"), "{document}");
    // And a clean workspace has none.
    workspace.write_manifest(WEB_MANIFEST);
    let run = workspace.run(&["tree", "--message-format", "json"]).ok();
    assert_eq!(json(&run)["warnings"], serde_json::json!([]));
}

/// `size` builds as `build` would, so a workspace built with `--allow-gaps` is measured with it.
#[test]
fn size_takes_allow_gaps_as_build_does() {
    let index = FakeIndex::start(&gap_scenario(), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\nbuild-sdists = \"never\"\n\n[function.a]\nrequirements = [\"x86only\", \"fine\"]\n",
    );
    let run = workspace.run(&["size"]).err();
    assert!(run.stderr.contains("x86only"), "{}", run.stderr);
    let run = workspace.run(&["size", "--allow-gaps", "--target", "python3.12-arm64"]).ok();
    assert!(run.stdout.starts_with("function `a` on python3.12-arm64: "), "{}", run.stdout);
    assert!(run.stdout.contains("fine"), "{}", run.stdout);
    assert!(!run.stdout.contains("x86only"), "{}", run.stdout);
}
