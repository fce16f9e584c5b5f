//! Attacks on the lock, the cache and the build state: a tampered `lambda.lock` is refused whole
//! with its line and a hint, no path from the lock escapes the cache or the output directory, a
//! damaged cache entry is never installed, and `cache clean` only deletes caches.

use std::path::{Path, PathBuf};

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace, run_lbuild};

const MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[function.api]
source = "src"
handler = "app.handler"
requirements = ["requests"]

[layer.base]
requirements = ["six"]
"#;

fn scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("requests", "2.0").dep("idna").file("requests/__init__.py", "REQUESTS = 1\n"),
        PackageSpec::new("idna", "3.0").file("idna/__init__.py", "IDNA = 1\n"),
        PackageSpec::new("six", "1.0").file("six.py", "SIX = 1\n"),
    ])
}

/// A locked workspace with its own index.
fn locked() -> (FakeIndex, Workspace) {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, MANIFEST);
    fs_err::create_dir_all(workspace.path().join("src")).unwrap();
    fs_err::write(workspace.path().join("src/app.py"), "def handler(event, context):\n    pass\n").unwrap();
    workspace.run(&["lock"]).ok();
    (index, workspace)
}

/// The exit code and stderr of lbuild in the workspace.
fn run(workspace: &Workspace, args: &[&str]) -> (i32, String) {
    run_with_cache(workspace, workspace.cache.path(), args)
}

fn run_with_cache(workspace: &Workspace, cache: &Path, args: &[&str]) -> (i32, String) {
    let cache = cache.display().to_string();
    let run = run_lbuild(workspace.path(), args, &[("LBUILD_CACHE_DIR", cache.as_str())]);
    (run.code.unwrap_or(-1), run.stderr)
}

/// Replace the first `from` in `lambda.lock` by `to`; returns the line `to` starts on.
#[track_caller]
fn tamper(workspace: &Workspace, from: &str, to: &str) -> usize {
    let text = workspace.lock_text();
    let at = text.find(from).unwrap_or_else(|| panic!("`{from}` is not in the lock:\n{text}"));
    fs_err::write(workspace.lock_path(), text.replacen(from, to, 1)).unwrap();
    text[..at].matches('\n').count() + 1
}

/// The first line of the lock that starts with `prefix`, whole.
#[track_caller]
fn line_starting(workspace: &Workspace, prefix: &str) -> String {
    let text = workspace.lock_text();
    text.lines().find(|line| line.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` in\n{text}")).to_string()
}

/// The lock is refused with exit 1, at `line`, with the regeneration hint and `expected`.
#[track_caller]
fn assert_refused(workspace: &Workspace, args: &[&str], line: usize, expected: &str) -> String {
    let (code, stderr) = run(workspace, args);
    assert_eq!(code, 1, "{args:?}: {stderr}");
    assert!(stderr.contains(&format!("line {line}:")), "{args:?}: expected line {line}: {stderr}");
    assert!(stderr.contains("run `lbuild lock` to regenerate it"), "{stderr}");
    assert!(stderr.contains("edited by hand or come from an untrusted change"), "{stderr}");
    assert!(stderr.contains(expected), "{args:?}: expected `{expected}`: {stderr}");
    stderr
}

fn idna_url_line(workspace: &Workspace) -> String {
    let text = workspace.lock_text();
    text.lines().find(|line| line.starts_with("url = ") && line.contains("idna-3.0")).expect("idna's URL").to_string()
}

fn idna_wheel_line(workspace: &Workspace) -> String {
    line_starting(workspace, "filename = \"idna-")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            files.extend(files_under(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

#[test]
fn a_filename_with_a_path_never_writes_outside_the_cache() {
    let (_index, workspace) = locked();
    // A name no other test uses, beside the cache, where `wheels/<sha>/../../../NAME` lands.
    let name = format!("{}-escaped", workspace.cache.path().file_name().unwrap().to_string_lossy());
    let escaped = workspace.cache.path().parent().unwrap().join(&name);
    let line = tamper(&workspace, &idna_wheel_line(&workspace), &format!("filename = \"../../../{name}\""));
    assert_refused(&workspace, &["fetch"], line, &format!("`../../../{name}` is not a bare file name"));
    assert!(!escaped.exists(), "nothing is written outside the cache");
    let _ = fs_err::remove_file(&escaped);
}

#[test]
fn a_member_key_with_a_path_never_writes_outside_the_output_directory() {
    let (_index, workspace) = locked();
    // `target/lambda/layers/../../../../NAME-python3.12-x86_64.zip` is beside the workspace.
    let name = format!("{}-pwn", workspace.path().file_name().unwrap().to_string_lossy());
    let key = format!("layer.../../../../{name}");
    let line = tamper(&workspace, "\"layer.base\" = [", &format!("\"{key}\" = ["));
    assert_refused(&workspace, &["build", "--locked"], line, &format!("`{key}` is not a member key"));
    assert!(!workspace.path().join("target").exists(), "nothing is built");
    let escaped = workspace.path().parent().unwrap().join(format!("{name}-python3.12-x86_64.zip"));
    assert!(!escaped.exists(), "nothing is written outside the output directory");
    let _ = fs_err::remove_file(&escaped);
}

#[test]
fn a_sha256_that_is_not_hex_is_refused() {
    let (_index, workspace) = locked();
    let sha = line_starting(&workspace, "sha256 = ");
    let line = tamper(&workspace, &sha, "sha256 = \"../../outside\"");
    assert_refused(&workspace, &["build", "--locked"], line, "is `../../outside`, not 64 lowercase hex digits");
    assert!(!workspace.cache.path().parent().unwrap().join("outside").exists());
}

#[test]
fn a_dangling_dependency_edge_is_refused() {
    let (_index, workspace) = locked();
    let line = tamper(&workspace, "dependencies = [\"idna\"]", "dependencies = [\"idna\", \"ghost>=1\"]");
    assert_refused(&workspace, &["build", "--locked"], line, "depends on `ghost>=1`, which the lock does not have");
}

#[test]
fn an_edge_added_by_hand_at_the_member_level_is_refused() {
    let (_index, workspace) = locked();
    let line = tamper(&workspace, "\"function.api\" = [\"requests\"]", "\"function.api\" = [\"requests\", \"six\"]");
    assert_refused(
        &workspace,
        &["build", "--locked"],
        line,
        "`function.api` on python3.12-x86_64 depends on `six`, which none of its requirements names",
    );
}

#[test]
fn deleting_every_package_is_refused() {
    let (_index, workspace) = locked();
    let text = workspace.lock_text();
    fs_err::write(workspace.lock_path(), &text[..text.find("[[package]]").unwrap()]).unwrap();
    let line = text.lines().position(|line| line.starts_with("\"function.api\"")).unwrap() + 1;
    assert_refused(&workspace, &["build", "--locked"], line, "depends on `requests`, which the lock does not have");
    // The same with the member edges gone too: a requirement without an edge.
    let stripped = text[..text.find("[[package]]").unwrap()]
        .replace("\"function.api\" = [\"requests\"]", "\"function.api\" = []")
        .replace("\"layer.base\" = [\"six\"]", "\"layer.base\" = []");
    fs_err::write(workspace.lock_path(), &stripped).unwrap();
    let line = stripped.lines().position(|line| line.starts_with("\"function.api\"")).unwrap() + 1;
    assert_refused(
        &workspace,
        &["build", "--locked"],
        line,
        "`function.api` requires `requests`, but has no dependency edge",
    );
}

#[test]
fn an_unknown_member_is_an_error_not_a_panic() {
    let (_index, workspace) = locked();
    let line = tamper(&workspace, "\"function.api\" = [", "\"function.ghost\" = []\n\"function.api\" = [");
    assert_refused(&workspace, &["build"], line, "`function.ghost`, which `[inputs.members]` does not deploy there");
    assert_refused(&workspace, &["build", "--locked"], line, "function.ghost");
}

#[test]
fn a_url_on_another_host_is_refused() {
    let (_index, workspace) = locked();
    let url = idna_url_line(&workspace);
    let path = url.split_once("127.0.0.1").unwrap().1.split_once('/').unwrap().1;
    let line = tamper(&workspace, &url, &format!("url = \"http://evil.example/{path}"));
    assert_refused(&workspace, &["fetch"], line, "is not on index `default`, which serves this package");
}

#[test]
fn a_file_url_is_refused() {
    let (_index, workspace) = locked();
    let url = idna_url_line(&workspace);
    let line = tamper(&workspace, &url, "url = \"file:///etc/passwd\"");
    assert_refused(&workspace, &["fetch"], line, "has the URL scheme `file`");
}

#[test]
fn a_find_links_path_outside_the_find_links_files_is_refused() {
    let (_index, workspace) = locked();
    let url = idna_url_line(&workspace);
    let line = tamper(&workspace, &url, "url = \"../../etc/idna-3.0-py3-none-any.whl\"");
    assert_refused(&workspace, &["fetch"], line, "is not one of the find-links files");
}

#[test]
fn lock_regenerates_an_invalid_lock_and_locked_refuses_it() {
    let (_index, workspace) = locked();
    let good = workspace.lock_text();
    let line = tamper(&workspace, "dependencies = [\"idna\"]", "dependencies = [\"ghost\"]");
    assert_refused(&workspace, &["lock", "--locked"], line, "ghost");
    let (code, stderr) = run(&workspace, &["lock"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning:") && stderr.contains("resolving again"), "{stderr}");
    assert_eq!(workspace.lock_text(), good);
}

/// The cached wheel of idna, after a fetch.
fn cached_idna(workspace: &Workspace) -> PathBuf {
    workspace.run(&["fetch"]).ok();
    files_under(&workspace.cache.path().join("wheels"))
        .into_iter()
        .find(|path| path.file_name().unwrap().to_string_lossy().starts_with("idna-"))
        .expect("idna is cached")
}

/// A valid wheel of exactly the size of `genuine`, whose `idna/__init__.py` says `EVIL`.
fn same_size_impostor(genuine: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(genuine)).unwrap();
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        let name = file.name().unwrap().to_string();
        if name == "idna/__init__.py" {
            bytes = b"EVIL = 1\n".to_vec();
        }
        entries.push((name, bytes));
    }
    let write = |entries: &[(String, Vec<u8>)], comment: usize| {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in entries {
            zip.start_file(name.as_str(), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.set_comment("#".repeat(comment)).unwrap();
        zip.finish().unwrap().into_inner()
    };
    let mut base = write(&entries, 0);
    if base.len() > genuine.len() {
        entries.retain(|(name, _)| !name.ends_with("/RECORD"));
        base = write(&entries, 0);
    }
    let impostor = write(&entries, genuine.len() - base.len());
    assert_eq!(impostor.len(), genuine.len());
    impostor
}

#[test]
fn a_swapped_cached_wheel_of_the_same_size_is_never_installed() {
    let (index, workspace) = locked();
    let cached = cached_idna(&workspace);
    let genuine = fs_err::read(&cached).unwrap();
    let swapped = same_size_impostor(&genuine);
    fs_err::write(&cached, &swapped).unwrap();

    let (code, stderr) = run(&workspace, &["build", "--frozen"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the cached copy of `idna-3.0-py3-none-any.whl`"), "{stderr}");
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert!(stderr.contains("lbuild fetch") && stderr.contains("lbuild cache clean"), "{stderr}");
    assert!(!workspace.path().join("target/lambda/manifest.json").exists(), "nothing is built");

    // Online, the damaged copy is replaced, with a warning that blames the cache.
    fs_err::write(&cached, &swapped).unwrap();
    index.clear_requests();
    let (code, stderr) = run(&workspace, &["build"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("was damaged") && stderr.contains("the cache was at fault"),
        "{stderr}"
    );
    assert!(stderr.contains("idna-3.0-py3-none-any.whl"), "{stderr}");
    assert_eq!(fs_err::read(&cached).unwrap(), genuine);
    let zip = fs_err::read(workspace.path().join("target/lambda/functions/api-python3.12-x86_64.zip")).unwrap();
    assert!(!zip.windows(4).any(|window| window == b"EVIL"), "the swapped wheel was installed");
    assert!(index.requests().iter().any(|request| request.contains("idna-3.0")), "{:?}", index.requests());
}

#[test]
fn a_truncated_cached_wheel_is_fetched_again() {
    let (_index, workspace) = locked();
    let cached = cached_idna(&workspace);
    let genuine = fs_err::read(&cached).unwrap();
    fs_err::write(&cached, &genuine[..genuine.len() / 2]).unwrap();
    let (code, stderr) = run(&workspace, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("was damaged"), "{stderr}");
    assert_eq!(fs_err::read(&cached).unwrap(), genuine);
}

#[test]
fn a_junk_build_state_is_treated_as_empty() {
    let (_index, workspace) = locked();
    workspace.run(&["build"]).ok();
    let path = workspace.path().join("target/lambda/.lbuild-state.json");
    let state = fs_err::read_to_string(&path).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&state).unwrap();
    for (_, entry) in value["artifacts"].as_object_mut().unwrap() {
        entry["sha256"] = serde_json::Value::String("€".repeat(21) + "a");
    }
    fs_err::write(&path, serde_json::to_string(&value).unwrap()).unwrap();
    let (code, stderr) = run(&workspace, &["build"]);
    assert_eq!(code, 0, "{stderr}");
    let manifest = fs_err::read_to_string(workspace.path().join("target/lambda/manifest.json")).unwrap();
    assert!(!manifest.contains('€'), "{manifest}");
    // An impossible size in the state would otherwise fail every later build.
    let mut value: serde_json::Value = serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
    for (_, entry) in value["artifacts"].as_object_mut().unwrap() {
        entry["unzipped_size"] = serde_json::Value::from(u64::MAX);
    }
    fs_err::write(&path, serde_json::to_string(&value).unwrap()).unwrap();
    let (code, stderr) = run(&workspace, &["build"]);
    assert_eq!(code, 0, "{stderr}");
    for junk in ["\u{0}\u{ff}not json", "{\"version\": 1, \"artifacts\": {\"x\": 5}}"] {
        fs_err::write(&path, junk).unwrap();
        let (code, stderr) = run(&workspace, &["build"]);
        assert_eq!(code, 0, "{stderr}");
    }
}

#[test]
fn the_cache_is_tagged_and_clean_refuses_a_directory_that_is_not_a_cache() {
    let (_index, workspace) = locked();
    let tag = fs_err::read_to_string(workspace.cache.path().join("CACHEDIR.TAG")).unwrap();
    assert_eq!(tag.lines().next(), Some("Signature: 8a477f597d28d172789f06886806bc55"));

    let home = tempfile::tempdir().unwrap();
    fs_err::write(home.path().join("thesis.tex"), "years of work").unwrap();
    let (code, stderr) = run_with_cache(&workspace, home.path(), &["cache", "clean"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("refusing to clean") && stderr.contains("CACHEDIR.TAG"), "{stderr}");
    assert!(stderr.contains("`thesis.tex`") && stderr.contains("LBUILD_CACHE_DIR"), "{stderr}");
    assert!(home.path().join("thesis.tex").exists());

    // An lbuild cache is cleaned, tagged or (written before the tag) recognisably lbuild's.
    let (code, stderr) = run(&workspace, &["cache", "clean"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!workspace.cache.path().exists());
    let old = tempfile::tempdir().unwrap();
    fs_err::create_dir_all(old.path().join("wheels")).unwrap();
    fs_err::create_dir_all(old.path().join("pages")).unwrap();
    let (code, stderr) = run_with_cache(&workspace, old.path(), &["cache", "clean"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn swapped_or_damaged_metadata_entries_are_fetched_again() {
    let (_index, workspace) = locked();
    let original = workspace.lock_text();
    let dir = workspace.cache.path().join("metadata");
    let mut entries: Vec<PathBuf> = files_under(&dir);
    entries.sort();
    assert!(entries.len() >= 3, "{entries:?}");
    // Swap the first two entries and damage the third.
    let (a, b) = (fs_err::read(&entries[0]).unwrap(), fs_err::read(&entries[1]).unwrap());
    fs_err::write(&entries[0], &b).unwrap();
    fs_err::write(&entries[1], &a).unwrap();
    let mut c = fs_err::read(&entries[2]).unwrap();
    let last = c.len() - 2;
    c[last] ^= 0x20;
    fs_err::write(&entries[2], &c).unwrap();
    fs_err::remove_file(workspace.lock_path()).unwrap();
    let (code, stderr) = run(&workspace, &["lock"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(workspace.lock_text(), original);
}

#[test]
fn export_hands_deployment_only_the_zips_the_manifest_describes() {
    let (_index, workspace) = locked();
    workspace.run(&["build"]).ok();
    let out = workspace.path().join("target/lambda");
    let manifest_path = out.join("manifest.json");
    let good = fs_err::read_to_string(&manifest_path).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&good).unwrap();
    let zip = value["artifacts"][0]["path"].as_str().unwrap().to_string();
    value["artifacts"][0]["path"] = serde_json::Value::from("../../../../root/.aws/credentials");
    fs_err::write(&manifest_path, serde_json::to_string(&value).unwrap()).unwrap();
    let (code, stderr) = run(&workspace, &["export", "--format", "sam"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("which is not a zip lbuild writes"), "{stderr}");

    fs_err::write(&manifest_path, &good).unwrap();
    run(&workspace, &["export", "--format", "sam"]);
    let mut bytes = fs_err::read(out.join(&zip)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs_err::write(out.join(&zip), bytes).unwrap();
    let (code, stderr) = run(&workspace, &["export", "--format", "sam"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not the zip `manifest.json` describes"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_default_output_directory_linked_out_of_the_workspace_is_refused() {
    let (_index, workspace) = locked();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), workspace.path().join("target")).unwrap();
    let (code, stderr) = run(&workspace, &["build"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is a symbolic link out of the workspace"), "{stderr}");
    assert!(fs_err::read_dir(elsewhere.path()).unwrap().next().is_none(), "nothing was written there");
    // A link that stays inside the workspace is fine, and so is an `--out-dir` the user names.
    fs_err::remove_file(workspace.path().join("target")).unwrap();
    fs_err::create_dir_all(workspace.path().join("build-out")).unwrap();
    std::os::unix::fs::symlink(workspace.path().join("build-out"), workspace.path().join("target")).unwrap();
    let (code, stderr) = run(&workspace, &["build"]);
    assert_eq!(code, 0, "{stderr}");
    let chosen = elsewhere.path().join("out").display().to_string();
    let (code, stderr) = run(&workspace, &["build", "--out-dir", &chosen]);
    assert_eq!(code, 0, "{stderr}");
}
