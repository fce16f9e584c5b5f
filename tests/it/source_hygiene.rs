//! What a function zip takes from its source tree, and that every zip lbuild writes holds only
//! names `unzip` extracts cleanly: secrets, dot-directories, `node_modules/`, earlier output
//! directories and caches stay out; unsafe names, collisions and hostile links are refused
//! with exit code 1 and a message that names the file.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Run, Workspace, tool_or_skip};

fn scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("six", "1.0"),
        PackageSpec::new("left", "1.0").file("shared/data.txt", "left\n"),
        PackageSpec::new("right", "1.0").file("shared/data.txt", "right\n"),
        PackageSpec::new("same-a", "1.0").file("common/NOTICE", "same\n"),
        PackageSpec::new("same-b", "1.0").file("common/NOTICE", "same\n"),
        PackageSpec::new("slashes", "1.0").file("slashes//b.py", "B = 1\n"),
    ])
}

fn run(workspace: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Run {
    workspace.run_env(args, env)
}

/// A failure: exit code 1 (never a panic's 101), with `needles` in the message.
#[track_caller]
fn fails(exit: &Run, needles: &[&str]) {
    assert_eq!(exit.code, Some(1), "stdout:\n{}\nstderr:\n{}", exit.stdout, exit.stderr);
    for needle in needles {
        assert!(exit.stderr.contains(needle), "`{needle}` not in:\n{}", exit.stderr);
    }
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
}

/// The files (not directories) of a zip, checked with `unzip -t` and extracted with
/// `unzip -d`: the extracted tree must hold exactly the zip's files. `None` when `unzip` is
/// not installed (outside CI).
fn unzip_files(zip: &Path) -> Option<BTreeSet<String>> {
    let unzip = tool_or_skip("unzip")?;
    let test = Command::new(&unzip).arg("-t").arg(zip).output().unwrap();
    assert!(test.status.success(), "unzip -t {}:\n{}", zip.display(), String::from_utf8_lossy(&test.stdout));
    let into = tempfile::tempdir().unwrap();
    let extract = Command::new(&unzip).arg("-q").arg(zip).arg("-d").arg(into.path()).output().unwrap();
    assert!(
        extract.status.success() && extract.stderr.is_empty() && extract.stdout.is_empty(),
        "unzip -d {}:\n{}{}",
        zip.display(),
        String::from_utf8_lossy(&extract.stdout),
        String::from_utf8_lossy(&extract.stderr)
    );
    let mut extracted = BTreeSet::new();
    collect(into.path(), into.path(), &mut extracted);
    let archive = zip::ZipArchive::new(fs_err::File::open(zip).unwrap()).unwrap();
    let listed: BTreeSet<String> =
        archive.file_names().map(|name| name.unwrap().into_owned()).filter(|name| !name.ends_with('/')).collect();
    assert_eq!(extracted, listed, "unzip extracts exactly the zip's files");
    Some(extracted)
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            out.insert(path.strip_prefix(root).unwrap().to_str().unwrap().to_string());
        }
    }
}

/// Every zip under `dir`, each checked with `unzip`.
fn check_every_zip(dir: &Path) -> usize {
    let mut zips = Vec::new();
    for kind in ["functions", "layers"] {
        if let Ok(entries) = fs_err::read_dir(dir.join(kind)) {
            zips.extend(entries.map(|entry| entry.unwrap().path()).filter(|path| path.extension().is_some()));
        }
    }
    for zip in &zips {
        unzip_files(zip);
    }
    zips.len()
}

const DOT_MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[function.app]
source = "."
handler = "app.handler"
requirements = ["six"]
include = ["**", ".well-known/**"]
exclude = ["tests/**"]
"#;

/// A `source = "."` workspace holding everything a zip must not take.
fn dot_workspace(index: &FakeIndex) -> Workspace {
    let workspace = Workspace::new(index, Api::Json, DOT_MANIFEST);
    write(
        workspace.path(),
        &[
            ("app.py", "def handler(event, context):\n    return 1\n"),
            ("lib/util.py", "X = 1\n"),
            ("vendor/vlib/__init__.py", "V = 1\n"),
            (".well-known/x", "well known\n"),
            (".env", "PASSWORD=hunter2\n"),
            (".git/config", "[core]\n"),
            (".git/HEAD", "ref: refs/heads/main\n"),
            (".gitignore", "secret.txt\nbuild/\n"),
            (".github/workflows/ci.yml", "on: push\n"),
            ("secret.txt", "token\n"),
            ("build/generated.py", "G = 1\n"),
            ("node_modules/left-pad/index.js", "module.exports = 1\n"),
            ("old-out/.lbuild-state.json", "{}\n"),
            ("old-out/functions/app-python3.12-x86_64.zip", "PK old zip\n"),
            ("othercache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"),
            ("othercache/blob", "cached\n"),
            ("venv/pyvenv.cfg", "home = /usr/bin\n"),
            ("venv/lib/site.py", "S = 1\n"),
            ("tests/test_app.py", "def test(): pass\n"),
            ("lbcache/.keep", ""),
        ],
    );
    workspace
}

fn expected_dot_zip() -> BTreeSet<String> {
    [
        "app.py",
        "lib/util.py",
        "vlib/__init__.py",
        ".well-known/x",
        "six/__init__.py",
        "six-1.0.dist-info/METADATA",
        "six-1.0.dist-info/WHEEL",
        "six-1.0.dist-info/RECORD",
    ]
    .iter()
    .map(|name| name.to_string())
    .collect()
}

fn zip_names(zip: &Path) -> BTreeSet<String> {
    let archive = zip::ZipArchive::new(fs_err::File::open(zip).unwrap()).unwrap();
    archive.file_names().map(|name| name.unwrap().into_owned()).filter(|name| !name.ends_with('/')).collect()
}

#[test]
fn a_dot_source_ships_only_the_code_and_what_include_takes_back() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = dot_workspace(&index);
    // The cache lives in the workspace, as a CI cache step often puts it.
    let cache = workspace.path().join("lbcache").display().to_string();
    let env = [("LBUILD_CACHE_DIR", cache.as_str())];
    let zip = workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip");
    let exit = run(&workspace, &["build"], &env);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    assert_eq!(zip_names(&zip), expected_dot_zip());
    if let Some(files) = unzip_files(&zip) {
        assert_eq!(files, expected_dot_zip());
    }
    // The second build from scratch sees the first one's output directory and leaves it out.
    fs_err::remove_file(workspace.path().join("target/lambda/.lbuild-state.json")).unwrap();
    let first = fs_err::read(&zip).unwrap();
    assert_eq!(run(&workspace, &["build"], &env).code, Some(0));
    assert_eq!(fs_err::read(&zip).unwrap(), first);
}

#[test]
fn list_files_says_what_each_zip_holds_and_why_the_rest_is_left_out() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = dot_workspace(&index);
    let cache = workspace.path().join("lbcache").display().to_string();
    let env = [("LBUILD_CACHE_DIR", cache.as_str())];

    let exit = run(&workspace, &["build", "--list-files", "--message-format", "json"], &env);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    assert!(!workspace.path().join("target").exists(), "--list-files writes no output");
    let document: serde_json::Value = serde_json::from_str(&exit.stdout).unwrap();
    assert_eq!(document["command"], "build");
    assert_eq!(document["success"], true);
    let zips = document["zips"].as_array().unwrap();
    assert_eq!(zips.len(), 1);
    let zip = &zips[0];
    assert_eq!(zip["path"], "functions/app-python3.12-x86_64.zip");
    let entries: BTreeSet<String> =
        zip["entries"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(entries, expected_dot_zip());
    let entry = |path: &str| zip["entries"].as_array().unwrap().iter().find(|e| e["path"] == path).unwrap().clone();
    assert_eq!(entry("app.py")["origin"], "source");
    assert_eq!(entry("vlib/__init__.py")["origin"], "vendor");
    assert_eq!(entry("vlib/__init__.py")["source_path"], "vendor/vlib/__init__.py");
    let six = entry("six/__init__.py");
    assert_eq!(six["origin"], "package");
    assert_eq!(six["package"], "six");
    assert_eq!(six["version"], "1.0");
    assert_eq!(six["wheel"], "six-1.0-py3-none-any.whl");

    let left_out: Vec<(String, String)> = zip["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|left| (left["path"].as_str().unwrap().to_string(), left["reason"].as_str().unwrap().to_string()))
        .collect();
    for (path, reason) in [
        (".env", "dotfile"),
        (".gitignore", "dotfile"),
        (".github/workflows/ci.yml", "dotfile"),
        (".git/", "always-left-out"),
        ("node_modules/", "always-left-out"),
        ("secret.txt", "ignore-file"),
        ("build/", "ignore-file"),
        ("old-out/", "output-directory"),
        ("othercache/", "cache"),
        ("lbcache/", "cache"),
        ("venv/", "virtual-environment"),
        ("tests/", "exclude"),
        ("lambda.toml", "workspace-file"),
        ("lambda.lock", "workspace-file"),
    ] {
        assert!(left_out.contains(&(path.to_string(), reason.to_string())), "{path} ({reason}) in {left_out:?}");
    }

    let exit = run(&workspace, &["build", "--list-files"], &env);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    assert!(exit.stdout.contains("functions/app-python3.12-x86_64.zip"), "{}", exit.stdout);
    assert!(exit.stdout.contains("package six 1.0 (six-1.0-py3-none-any.whl)"), "{}", exit.stdout);
    assert!(exit.stdout.contains("vendor/ (vendor/vlib/__init__.py)"), "{}", exit.stdout);
    assert!(exit.stdout.contains("`-v` says which and why"), "{}", exit.stdout);
    assert!(!exit.stdout.contains(".env"), "{}", exit.stdout);
    let exit = run(&workspace, &["build", "--list-files", "-v"], &env);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    assert!(exit.stdout.lines().any(|line| line.contains(".env") && line.contains("dotfile")), "{}", exit.stdout);
    assert!(
        exit.stdout.lines().any(|line| line.contains("secret.txt") && line.contains("ignored by `.gitignore`")),
        "{}",
        exit.stdout
    );
    assert!(!workspace.path().join("target").exists(), "--list-files writes no output");
}

const SRC_MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[function.app]
source = "src"
handler = "app.handler"
requirements = []
"#;

fn src_workspace(index: &FakeIndex, requirements: &str, files: &[(&str, &str)]) -> Workspace {
    let manifest = SRC_MANIFEST.replace("requirements = []", &format!("requirements = [{requirements}]"));
    let workspace = Workspace::new(index, Api::Json, &manifest);
    write(&workspace.path().join("src"), &[("app.py", "def handler(event, context):\n    return 1\n")]);
    write(&workspace.path().join("src"), files);
    workspace
}

fn no_zip_written(workspace: &Workspace) {
    assert!(!workspace.path().join("target/lambda/functions").exists(), "nothing was written");
}

#[test]
fn a_source_file_whose_name_cannot_go_into_a_zip_is_an_error_that_names_it() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    // On Linux these are one file name each; unzip on Windows (or a careless extractor) would
    // read `..\..\evil.py` as a path out of the extraction directory.
    for (name, shown) in [
        ("pkg\\..\\..\\evil.py", "pkg\\..\\..\\evil.py"),
        ("a\\b.py", "a\\b.py"),
        ("esc\u{1b}[31mred.py", "esc\\u{1b}[31mred.py"),
        ("tab\there.py", "tab\\there.py"),
    ] {
        let workspace = src_workspace(&index, "", &[(name, "X = 1\n")]);
        let exit = run(&workspace, &["build"], &[]);
        fails(&exit, &[shown, "cannot go into a zip", "rename it, or leave it out with `exclude = [\""]);
        assert!(!exit.stderr.contains('\u{1b}'), "no raw escape reaches the terminal: {:?}", exit.stderr);
        no_zip_written(&workspace);
    }
    // A name that starts with a dot is a dotfile: left out, unless `include` names it.
    let workspace = src_workspace(&index, "", &[("..\\..\\evil.py", "X = 1\n")]);
    assert_eq!(run(&workspace, &["build"], &[]).code, Some(0));
    let zip = workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip");
    assert_eq!(zip_names(&zip), BTreeSet::from(["app.py".to_string()]));
    workspace.write_manifest(&format!("{SRC_MANIFEST}include = [\"*.py\", \"..*\"]\n"));
    fails(&run(&workspace, &["build"], &[]), &["..\\..\\evil.py", "cannot go into a zip"]);

    // Leaving it out, as the hint says, builds.
    let workspace = src_workspace(&index, "", &[("pkg\\..\\..\\evil.py", "X = 1\n")]);
    let exit = run(&workspace, &["build"], &[]);
    fails(&exit, &["exclude = [\"pkg?..?..?evil.py\"]"]);
    // The glob the hint gives, pasted into lambda.toml, leaves the file out.
    workspace.write_manifest(&format!("{SRC_MANIFEST}exclude = [\"pkg?..?..?evil.py\"]\n"));
    assert_eq!(run(&workspace, &["build"], &[]).code, Some(0));
    let zip = workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip");
    assert_eq!(zip_names(&zip), BTreeSet::from(["app.py".to_string()]));
    unzip_files(&zip);
}

#[cfg(unix)]
#[test]
fn a_source_file_whose_name_is_not_utf8_is_an_error_that_names_it() {
    use std::os::unix::ffi::OsStrExt;
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(&index, "", &[]);
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname.py");
    if fs_err::write(workspace.path().join("src").join(name), "X = 1\n").is_err() {
        eprintln!("skipping: this file system does not store non-UTF-8 names");
        return;
    }
    fails(&run(&workspace, &["build"], &[]), &["bad", "name.py", "not UTF-8", "rename it"]);
    no_zip_written(&workspace);
}

#[test]
fn a_source_file_and_a_package_file_on_one_path_is_an_error_naming_both() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(&index, "\"six\"", &[("six/__init__.py", "MINE = 1\n")]);
    fails(
        &run(&workspace, &["build"], &[]),
        &["the source file `six/__init__.py`", "package `six` (`six-1.0-py3-none-any.whl`)", "both claim"],
    );
    no_zip_written(&workspace);

    // A file where a package needs a directory.
    let workspace = src_workspace(&index, "\"six\"", &[("six", "not a directory\n")]);
    fails(&run(&workspace, &["build"], &[]), &["the source file `six`", "package `six`", "as a file"]);
    no_zip_written(&workspace);
}

#[test]
fn two_packages_with_different_files_on_one_path_is_an_error_naming_both() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(&index, "\"left\", \"right\"", &[]);
    fails(
        &run(&workspace, &["build"], &[]),
        &[
            "package `left` (`left-1.0-py3-none-any.whl`)",
            "package `right` (`right-1.0-py3-none-any.whl`)",
            "`shared/data.txt`",
        ],
    );
    no_zip_written(&workspace);

    // The same file, byte for byte, in two wheels is kept once.
    let workspace = src_workspace(&index, "\"same-a\", \"same-b\"", &[]);
    assert_eq!(run(&workspace, &["build"], &[]).code, Some(0));
    let zip = workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip");
    assert!(zip_names(&zip).contains("common/NOTICE"));
    unzip_files(&zip);
}

#[test]
fn a_package_file_with_an_empty_path_component_is_refused() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(&index, "\"slashes\"", &[]);
    fails(&run(&workspace, &["build"], &[]), &["slashes//b.py", "slashes-1.0-py3-none-any.whl"]);
    no_zip_written(&workspace);
}

#[test]
fn an_out_dir_that_is_or_holds_a_source_directory_is_an_error() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(&index, "", &[]);
    for out_dir in ["src", "."] {
        let exit = run(&workspace, &["build", "--out-dir", out_dir], &[]);
        fails(&exit, &["the output directory", "of function `app`", "choose an output directory outside"]);
    }
    assert!(!workspace.path().join("src/functions").exists() && !workspace.path().join("functions").exists());
    // Inside the source directory is fine: it is left out of the zip.
    let exit = run(&workspace, &["build", "--out-dir", "src/dist"], &[]);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    let zip = workspace.path().join("src/dist/functions/app-python3.12-x86_64.zip");
    assert_eq!(zip_names(&zip), BTreeSet::from(["app.py".to_string()]));
    fs_err::write(workspace.path().join("src/app.py"), "def handler(event, context):\n    return 2\n").unwrap();
    assert_eq!(run(&workspace, &["build", "--out-dir", "src/dist"], &[]).code, Some(0));
    assert_eq!(zip_names(&zip), BTreeSet::from(["app.py".to_string()]));
    assert_eq!(check_every_zip(&workspace.path().join("src/dist")), 1);
}

#[cfg(unix)]
#[test]
fn symbolic_links_never_reach_out_of_the_source() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let link = |workspace: &Workspace, target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, workspace.path().join("src").join(name)).unwrap();
    };
    let workspace = src_workspace(&index, "", &[]);
    let secret = workspace.path().join("credentials");
    fs_err::write(&secret, "aws_secret_access_key = x\n").unwrap();
    link(&workspace, &secret, "creds.txt");
    fails(&run(&workspace, &["build"], &[]), &["creds.txt", "out of the source directory", "exclude"]);
    no_zip_written(&workspace);

    // A link to a left-out file inside the source is refused too; one to a file that is taken
    // ships that file's bytes.
    let workspace = src_workspace(&index, "", &[(".env", "PASSWORD=x\n"), ("real.py", "R = 1\n")]);
    link(&workspace, Path::new(".env"), "config.txt");
    fails(&run(&workspace, &["build"], &[]), &["config.txt", "left out of the zip"]);
    fs_err::remove_file(workspace.path().join("src/config.txt")).unwrap();
    link(&workspace, Path::new("real.py"), "alias.py");
    link(&workspace, Path::new("/"), "root");
    let exit = run(&workspace, &["build"], &[]);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    assert!(exit.stderr.contains("does not follow links to directories"), "{}", exit.stderr);
    let zip = workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip");
    let expected: BTreeSet<String> = ["alias.py", "app.py", "real.py"].iter().map(|s| s.to_string()).collect();
    assert_eq!(zip_names(&zip), expected);
    unzip_files(&zip);
}

#[test]
fn ignore_files_apply_from_the_workspace_root_down_and_dot_ignore_wins() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(
        &index,
        "",
        &[
            ("debug.log", "noise\n"),
            ("keep.log", "wanted\n"),
            ("generated/big.bin", "0000\n"),
            ("pkg/mod.py", "M = 1\n"),
            ("pkg/.gitignore", "*.tmp\n"),
            ("pkg/scratch.tmp", "tmp\n"),
            (".ignore", "!keep.log\n"),
            ("util.py", "OWN = 1\n"),
            ("vendor/util.py", "VENDORED = 1\n"),
        ],
    );
    // Not a git checkout: the workspace root's .gitignore applies all the same.
    write(workspace.path(), &[(".gitignore", "*.log\nsrc/generated/\ngen-src/\n")]);
    let exit = run(&workspace, &["build"], &[]);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    assert!(exit.stderr.contains("is both your own `util.py` and vendored `vendor/util.py`"), "{}", exit.stderr);
    let zip = workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip");
    let expected: BTreeSet<String> =
        ["app.py", "keep.log", "pkg/mod.py", "util.py"].iter().map(|s| s.to_string()).collect();
    assert_eq!(zip_names(&zip), expected);
    assert_eq!(unzip_files(&zip).unwrap_or(expected.clone()), expected);

    // A rule that matches the source directory itself does not empty the function: a
    // generated, git-ignored directory can be a `source`.
    write(workspace.path(), &[("gen-src/app.py", "def handler(event, context):\n    return 3\n")]);
    workspace.write_manifest(&SRC_MANIFEST.replace("source = \"src\"", "source = \"gen-src\""));
    assert_eq!(run(&workspace, &["build"], &[]).code, Some(0));
    assert_eq!(zip_names(&zip), BTreeSet::from(["app.py".to_string()]));
}

#[test]
fn every_zip_of_a_build_with_layers_and_data_directories_extracts_cleanly() {
    let index = FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("datapkg", "1.0")
                .dep("six")
                .file("datapkg-1.0.data/purelib/extra_mod.py", "EXTRA = 1\n")
                .file("datapkg-1.0.data/data/share/datapkg/table.txt", "data\n")
                .file("datapkg-1.0.data/scripts/tool", "#!python\n"),
            PackageSpec::new("six", "1.0"),
            PackageSpec::new("ns-alpha", "1.0").file("ns/alpha/__init__.py", "A = 1\n"),
            PackageSpec::new("ns-beta", "1.0").file("ns/beta/__init__.py", "B = 1\n"),
        ]),
        IndexOptions::default(),
    );
    let manifest = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64", "arm64"]

[layer.shared]
requirements = ["ns-alpha", "ns-beta"]

[function.app]
source = "src"
handler = "app.handler"
requirements = ["datapkg"]
layers = ["shared"]
"#;
    let workspace = Workspace::new(&index, Api::Json, manifest);
    write(
        &workspace.path().join("src"),
        &[("app.py", "def handler(e, c):\n    return 1\n"), ("ünï/cödé.py", "U = 1\n")],
    );
    let exit = run(&workspace, &["build"], &[]);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    let out = workspace.path().join("target/lambda");
    assert_eq!(check_every_zip(&out), 4, "two functions and two layers");
    let app = out.join("functions/app-python3.12-arm64.zip");
    let expected: BTreeSet<String> = [
        "app.py",
        "ünï/cödé.py",
        "datapkg/__init__.py",
        "extra_mod.py",
        "share/datapkg/table.txt",
        "datapkg-1.0.dist-info/METADATA",
        "datapkg-1.0.dist-info/RECORD",
        "datapkg-1.0.dist-info/WHEEL",
        "six/__init__.py",
        "six-1.0.dist-info/METADATA",
        "six-1.0.dist-info/RECORD",
        "six-1.0.dist-info/WHEEL",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(zip_names(&app), expected);
    if let Some(files) = unzip_files(&out.join("layers/shared-python3.12-x86_64.zip")) {
        assert!(files.contains("python/ns/alpha/__init__.py") && files.contains("python/ns/beta/__init__.py"));
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_source_is_skipped_not_read() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(&index, "", &[]);
    let made = Command::new("mkfifo").arg(workspace.path().join("src/pipe")).status();
    if !made.is_ok_and(|status| status.success()) {
        eprintln!("skipping: `mkfifo` is not available");
        return;
    }
    // Reading the FIFO would block the build forever.
    let exit = run(&workspace, &["build"], &[]);
    assert_eq!(exit.code, Some(0), "{}", exit.stderr);
    assert!(exit.stderr.contains("it is not a regular file"), "{}", exit.stderr);
    let zip = workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip");
    assert_eq!(zip_names(&zip), BTreeSet::from(["app.py".to_string()]));
}

#[test]
fn a_source_that_ignore_files_empty_entirely_is_said_not_shipped_silently() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(&index, "", &[(".gitignore", "*\n")]);
    let built = run(&workspace, &["build"], &[]);
    assert_eq!(built.code, Some(0), "{}", built.stderr);
    assert!(
        built.stderr.contains("function `app` takes no files from its source directory")
            && built.stderr.contains("--list-files -v -p app"),
        "{}",
        built.stderr
    );
}

#[test]
fn an_exclude_glob_that_names_a_directory_leaves_out_all_of_it() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = src_workspace(
        &index,
        "",
        &[("tests/test_app.py", "assert 1\n"), ("build/gen.py", "X = 1\n"), ("lib/build.py", "Y = 1\n")],
    );
    let manifest = SRC_MANIFEST.replace("requirements = []", "requirements = []\nexclude = [\"tests\", \"build/\"]");
    workspace.write_manifest(&manifest);
    let built = run(&workspace, &["build"], &[]);
    assert_eq!(built.code, Some(0), "{}", built.stderr);
    let names = zip_names(&workspace.path().join("target/lambda/functions/app-python3.12-x86_64.zip"));
    let files: BTreeSet<&str> = names.iter().map(String::as_str).filter(|name| !name.ends_with('/')).collect();
    assert_eq!(files, BTreeSet::from(["app.py", "lib/build.py"]), "{names:?}");
}
