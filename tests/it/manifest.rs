//! `lambda.toml` errors point at the offending line and say how to fix it.

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

fn workspace(body: &str) -> (FakeIndex, Workspace) {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("lib", "1.0")]), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, &format!("[workspace]\nindex-url = \"{{index}}\"\n{body}"));
    (index, workspace)
}

#[test]
fn an_unknown_runtime_is_pointed_at() {
    let (_index, workspace) = workspace("runtime = \"python3.7\"\n");
    let run = workspace.run(&["lock"]).err();
    assert!(
        run.stderr.contains("`python3.7` is no longer supported by Lambda (deprecated by AWS on 2023-12-04)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("lambda.toml:3:"), "the span names the line: {}", run.stderr);
    assert!(run.stderr.contains("python3.14"), "the fix lists the runtimes: {}", run.stderr);
    let (_other_index, other) = self::workspace("runtime = \"python3.6x\"\n");
    let run = other.run(&["lock"]).err();
    assert!(run.stderr.contains("unknown runtime `python3.6x`"), "{}", run.stderr);
}

/// A runtime AWS has deprecated still works, with a warning that gives AWS's dates.
#[test]
fn a_deprecated_runtime_is_a_warning_with_its_dates() {
    let (_index, workspace) = workspace("runtime = \"python3.12\"\n\n[function.old]\nruntime = \"python3.9\"\n");
    let run = workspace.run(&["lock"]).ok();
    assert!(
        run.stderr.contains("warning: `python3.9` is deprecated by AWS since 2025-12-15 (no more security patches)"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("is deprecated by AWS").count(), 1, "{}", run.stderr);
}

#[test]
fn a_bad_requirement_is_pointed_at() {
    let (_index, workspace) = workspace("\n[function.f]\nrequirements = [\"lib\", \"bad name >= 1\"]\n");
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("invalid requirement `bad name >= 1`"), "{}", run.stderr);
    assert!(run.stderr.contains("lambda.toml:5:"), "{}", run.stderr);
}

#[test]
fn a_missing_layer_is_pointed_at() {
    let (_index, workspace) = workspace("\n[layer.common]\n\n[function.f]\nlayers = [\"comon\"]\n");
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("uses layer `comon`, which does not exist"), "{}", run.stderr);
    assert!(run.stderr.contains("`common`"), "{}", run.stderr);
    assert!(run.stderr.contains("lambda.toml:7:"), "{}", run.stderr);
}

#[test]
fn a_missing_requirements_file_is_pointed_at() {
    let (_index, workspace) = workspace("\n[function.f]\nrequirements-file = \"f/requirements.txt\"\n");
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("cannot read requirements file `f/requirements.txt`"), "{}", run.stderr);
    assert!(run.stderr.contains("lambda.toml:5:"), "{}", run.stderr);
}

#[test]
fn requirements_files_are_read_and_their_errors_name_the_file_line() {
    let (_index, workspace) =
        workspace("architectures = [\"x86_64\"]\n\n[function.f]\nrequirements-file = \"requirements.txt\"\n");
    fs_err::write(
        workspace.path().join("requirements.txt"),
        "# pinned by hand\nlib>=1.0 \\\n  ; python_version >= '3'\n--index-url https://elsewhere.invalid/simple\n",
    )
    .unwrap();
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("ignoring `--index-url"), "{}", run.stderr);
    assert_eq!(workspace.lock().version("lib", "python3.12-x86_64"), "1.0");
    fs_err::write(workspace.path().join("requirements.txt"), "lib\nlib[[\n").unwrap();
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("requirements.txt:2:"), "{}", run.stderr);
}

#[test]
fn unknown_keys_warn_but_do_not_fail() {
    let (_index, workspace) =
        workspace("architectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"lib\"]\nhandlr = \"app.handler\"\n");
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("unused manifest key `function.f.handlr`"), "{}", run.stderr);
    assert!(run.stderr.contains("line 7"), "{}", run.stderr);
}

#[test]
fn the_manifest_is_found_from_a_subdirectory() {
    let (_index, workspace) = workspace("architectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"lib\"]\n");
    let sub = workspace.path().join("functions/f");
    fs_err::create_dir_all(&sub).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lbuild"))
        .arg("lock")
        .current_dir(&sub)
        .env("LBUILD_CACHE_DIR", workspace.cache.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(workspace.lock_path().exists());
}

/// Windows editors and PowerShell's `pip freeze > requirements.txt` write UTF-16 with a byte
/// order mark, Notepad writes UTF-8 with one: pip reads all of them, and so does lbuild.
#[test]
fn requirements_files_with_a_byte_order_mark_are_read() {
    let (_index, workspace) =
        workspace("architectures = [\"x86_64\"]\n\n[function.f]\nrequirements-file = \"requirements.txt\"\n");
    let text = "# pinned by pip freeze\r\nlib==1.0\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut utf8 = vec![0xEF, 0xBB, 0xBF];
    utf8.extend(text.as_bytes());
    for bytes in [utf16, utf8] {
        fs_err::write(workspace.path().join("requirements.txt"), &bytes).unwrap();
        let _ = fs_err::remove_file(workspace.lock_path());
        workspace.run(&["lock"]).ok();
        assert!(workspace.lock_text().contains("name = \"lib\""), "{}", workspace.lock_text());
    }
    // Half a UTF-16 character is not a requirements file.
    fs_err::write(workspace.path().join("requirements.txt"), [0xFF, 0xFE, b'l']).unwrap();
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("UTF-16 text ends in half a character"), "{}", run.stderr);
}

/// `-e .` brings the project and its dependencies; ignoring the line (as lbuild once did, with
/// exit 0) shipped a zip without them. A line that names no project is an error at its line.
#[test]
fn an_editable_requirement_is_never_silently_dropped() {
    let (_index, workspace) =
        workspace("architectures = [\"x86_64\"]\n\n[function.f]\nrequirements-file = \"requirements.txt\"\n");
    fs_err::create_dir_all(workspace.path().join("libs/common")).unwrap();
    for line in ["-e .", "--editable ./libs/common", "-e./libs/common"] {
        fs_err::write(workspace.path().join("requirements.txt"), format!("lib==1.0\n{line}\n")).unwrap();
        let run = workspace.run(&["lock"]).failed();
        assert!(run.stderr.contains("pyproject.toml") && run.stderr.contains("line 2 of"), "{line}: {}", run.stderr);
        assert!(!workspace.lock_path().exists());
    }
}
