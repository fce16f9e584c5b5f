//! A hostile index, hostile manifests and hostile files: links off the index, slow and huge
//! bodies, `no-store` pages, netrc quirks, credentials in URLs, files that are not requirements,
//! huge values and terminal escapes. Every failure must be exit code 1 with a clear message,
//! never a panic (101), and nothing secret or unbounded reaches the terminal.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Canned, CannedBody, FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Run, Workspace, run_lbuild};

const TARGET: &str = "python3.12-x86_64";
const WHEEL: &str = "six-1.0-py3-none-any.whl";

fn run(workspace: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(workspace.path(), &workspace.cache.path().display().to_string(), args, env)
}

fn run_in(dir: &Path, cache: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec![("LBUILD_CACHE_DIR", cache), ("LBUILD_HTTP_BACKOFF_MS", "10"), ("NETRC", "/nonexistent/netrc")];
    all.extend_from_slice(env);
    run_lbuild(dir, args, &all)
}

fn index(options: IndexOptions) -> FakeIndex {
    FakeIndex::start(&Scenario::from_packages([PackageSpec::new("six", "1.0")]), options)
}

fn workspace(index: &FakeIndex) -> Workspace {
    Workspace::new(
        index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"six\"]\n",
    )
}

/// A simple page whose anchors are `(href, text)`.
fn page(anchors: &[(String, &str)]) -> Canned {
    let links: String = anchors.iter().map(|(href, text)| format!("<a href=\"{href}\">{text}</a><br/>\n")).collect();
    Canned::html(&format!("<!DOCTYPE html><html><body>\n{links}</body></html>\n"))
}

#[test]
fn links_off_the_index_are_skipped_and_the_good_one_is_locked() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    let sha256 = index.file_sha256(WHEEL).unwrap();
    // Newer "versions" behind every hostile link: were any a candidate, it would win.
    let local = workspace.path().join("six-2.0-py3-none-any.whl");
    index.serve(
        "/simple/six/",
        page(&[
            (format!("file://{}", local.display()), "six-2.0-py3-none-any.whl"),
            ("javascript:alert(document.cookie)".to_string(), "six-3.0-py3-none-any.whl"),
            ("http://evil.invalid/six-4.0-py3-none-any.whl".to_string(), "six-4.0-py3-none-any.whl"),
            ("data:application/zip;base64,UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==".to_string(), "six-5.0-py3-none-any.whl"),
            (format!("{{base}}/files/{WHEEL}#sha256={sha256}"), WHEEL),
        ]),
    );
    let run = run(&workspace, &["lock", "-v"], &[]).ok();
    assert_eq!(workspace.lock().version("six", TARGET), "1.0");
    let lock = workspace.lock_text();
    for hostile in ["file:", "javascript:", "evil.invalid", "data:"] {
        assert!(!lock.contains(hostile), "{hostile} in the lock:\n{lock}");
    }
    assert!(run.stderr.contains("skipping `six-2.0-py3-none-any.whl`: its link `file://"), "{}", run.stderr);
    assert!(run.stderr.contains("skipping `six-3.0-py3-none-any.whl`"), "{}", run.stderr);
    assert!(run.stderr.contains("skipping `six-4.0-py3-none-any.whl`"), "{}", run.stderr);
    assert!(!index.requests().iter().any(|request| request.contains("six-2.0") || request.contains("six-4.0")));
}

#[test]
fn a_page_with_only_hostile_links_fails_clearly() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    index.serve(
        "/simple/six/",
        page(&[
            ("file:///etc/passwd".to_string(), WHEEL),
            ("javascript:void(0)".to_string(), WHEEL),
            ("https://evil.invalid/six-1.0-py3-none-any.whl".to_string(), WHEEL),
        ]),
    );
    let run = run(&workspace, &["lock"], &[]).failed();
    assert!(run.stderr.contains("six"), "{}", run.stderr);
    assert!(!workspace.lock_path().exists());
}

#[test]
fn a_server_that_drips_bytes_hits_the_deadline() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    index.serve(
        "/simple/six/",
        Canned::body("text/html", CannedBody::Drip { len: 100_000, interval: Duration::from_millis(50) }),
    );
    let started = Instant::now();
    let run = run(&workspace, &["lock"], &[("LBUILD_HTTP_DEADLINE", "2"), ("LBUILD_HTTP_RETRIES", "0")]).failed();
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    let url = format!("{}/six/", index.simple_url());
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("did not finish within 2 s"), "{}", run.stderr);
    assert!(run.stderr.contains("LBUILD_HTTP_DEADLINE"), "{}", run.stderr);
}

#[test]
fn huge_pages_and_metadata_files_are_refused() {
    // A page of 200 MiB, with and without a Content-Length: refused at 64 MiB.
    for declare_length in [true, false] {
        let index = index(IndexOptions::default());
        let workspace = workspace(&index);
        let huge = CannedBody::Huge { len: 200 * 1024 * 1024, declare_length };
        index.serve("/simple/six/", Canned::body("text/html", huge));
        let run = run(&workspace, &["lock"], &[("LBUILD_HTTP_RETRIES", "0")]).failed();
        assert!(run.stderr.contains("sent more than 64 MiB"), "{}", run.stderr);
        assert!(run.stderr.contains("/simple/six/"), "{}", run.stderr);
    }
    // A PEP 658 metadata file of 100 MiB: refused at 16 MiB.
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    let huge = CannedBody::Huge { len: 100 * 1024 * 1024, declare_length: false };
    index.serve(&format!("/files/{WHEEL}.metadata"), Canned::body("application/octet-stream", huge));
    let run = run(&workspace, &["lock"], &[("LBUILD_HTTP_RETRIES", "0")]).failed();
    assert!(run.stderr.contains("sent more than 16 MiB"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("{WHEEL}.metadata")), "{}", run.stderr);
}

#[test]
fn no_store_pages_are_not_cached() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    index.add_header("/simple/", "Cache-Control", "no-store");
    run(&workspace, &["lock"], &[]).ok();
    fs_err::remove_file(workspace.lock_path()).unwrap();
    // Everything else is cached, so only the page can be missing offline.
    let run = run(&workspace, &["lock", "--offline"], &[]).failed();
    assert!(run.stderr.contains("`six` is not in the cache"), "{}", run.stderr);
}

#[test]
fn netrc_entries_after_a_macdef_with_quoted_passwords_are_used() {
    let index = index(IndexOptions { basic_auth: Some(("deploy", "two words \" and a quote")), ..Default::default() });
    let workspace = workspace(&index);
    let netrc = workspace.path().join("netrc");
    fs_err::write(
        &netrc,
        "machine other.example login someone password x\n\
         macdef init\ncd /pub\nbinary\n\n\
         machine 127.0.0.1\n  login deploy\n  password \"two words \\\" and a quote\"\n\
         default login anyone password everywhere\n",
    )
    .unwrap();
    run(&workspace, &["lock"], &[("NETRC", &netrc.display().to_string())]).ok();
    assert_eq!(workspace.lock().version("six", TARGET), "1.0");
}

#[test]
fn an_unparsable_index_url_never_shows_its_password() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    let bad = "https://deploy:hunter2-s3cret@bad host/simple/";
    let check = |run: Run| {
        let run = run.failed();
        assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"), "{}\n{}", run.stderr, run.stdout);
        assert!(run.stderr.contains("****@bad host"), "{}", run.stderr);
        run
    };
    // Through lambda.toml, in human and JSON form.
    workspace.write_manifest(&format!(
        "[workspace]\nindex-url = \"{bad}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"six\"]\n"
    ));
    check(run(&workspace, &["lock"], &[]));
    let json = check(run(&workspace, &["lock", "--message-format", "json"], &[]));
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(document["error"]["message"].as_str().unwrap().contains("****@bad host"));
    // Through `LBUILD_INDEX_URL`, which lambda.toml does not check.
    let workspace = self::workspace(&index);
    check(run(&workspace, &["lock"], &[("LBUILD_INDEX_URL", bad)]));
    check(run(&workspace, &["lock", "--message-format", "json"], &[("LBUILD_INDEX_URL", bad)]));
}

#[test]
fn a_requirements_file_that_is_not_one_is_quoted_one_line_at_most() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    // Like `/proc/self/environ`: NUL-separated variables, and a secret on the second line.
    let environ = workspace.path().join("environ");
    fs_err::write(&environ, format!("PATH=/usr/bin\0HOME=/root\0{}\nAWS_SECRET=hunter2-s3cret\n", "X=1\0".repeat(500)))
        .unwrap();
    workspace.write_manifest("[workspace]\nindex-url = \"{index}\"\n\n[function.f]\nrequirements-file = \"environ\"\n");
    for args in [&["lock"][..], &["lock", "--message-format", "json"]] {
        let run = run(&workspace, args, &[]).failed();
        let all = format!("{}{}", run.stderr, run.stdout);
        assert!(!all.contains("hunter2") && !all.contains("PATH="), "{all}");
        assert!(all.contains("not a text file"), "{all}");
        assert!(run.stderr.len() < 3000, "{} bytes of stderr:\n{}", run.stderr.len(), run.stderr);
        assert!(!run.stderr.contains('\0'));
    }
}

#[test]
fn a_huge_string_in_lambda_toml_is_cut_short() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    let huge = "x".repeat(20 * 1024 * 1024);
    workspace.write_manifest(&format!("[workspace]\nruntime = \"{huge}\"\n\n[function.f]\nrequirements = [\"six\"]\n"));
    let run = run(&workspace, &["lock"], &[]).failed();
    assert!(run.stderr.len() < 3000, "{} bytes of stderr", run.stderr.len());
    assert!(run.stderr.contains("unknown runtime `xxxx") && run.stderr.contains('…'), "{}", &run.stderr[..500]);
}

#[test]
fn terminal_escapes_in_names_are_escaped() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    let no_raw_controls = |run: &Run| {
        let text = format!("{}{}", run.stderr, run.stdout);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "raw control characters:\n{text:?}");
    };
    // A member name and a requirement in lambda.toml.
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\n\n[function.\"f\\u001b]0;pwned\\u0007\"]\nrequirements = [\"six\"]\n",
    );
    let run = run(&workspace, &["lock"], &[]).failed();
    no_raw_controls(&run);
    assert!(run.stderr.contains("\\u{1b}]0;pwned\\u{7}"), "{}", run.stderr);
    // With colour, lbuild's own SGR codes are the only escapes left.
    let coloured = self::run(&workspace, &["--color", "always", "lock"], &[]).failed();
    let without_sgr = strip_sgr(&coloured.stderr);
    assert!(coloured.stderr.len() > without_sgr.len(), "no colour at all:\n{:?}", coloured.stderr);
    assert!(!without_sgr.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{without_sgr:?}");
    assert!(without_sgr.contains("\\u{1b}]0;pwned\\u{7}"), "{without_sgr}");
    workspace
        .write_manifest("[workspace]\nindex-url = \"{index}\"\n\n[function.f]\nrequirements = [\"six\\u001b[2J\"]\n");
    let run = self::run(&workspace, &["lock"], &[]).failed();
    no_raw_controls(&run);
    assert!(run.stderr.contains("\\u{1b}[2J"), "{}", run.stderr);
    // File names from the index, shown by `-v`.
    workspace.write_manifest("[workspace]\nindex-url = \"{index}\"\n\n[function.f]\nrequirements = [\"six\"]\n");
    let sha256 = index.file_sha256(WHEEL).unwrap();
    index.serve(
        "/simple/six/",
        page(&[
            ("evil.whl".to_string(), "six-9.0-py3-none-any.whl\x1b]8;;https://evil.invalid\x07click\x1b]8;;\x07"),
            (format!("{{base}}/files/{WHEEL}#sha256={sha256}"), WHEEL),
        ]),
    );
    let run = self::run(&workspace, &["lock", "-v"], &[]).ok();
    no_raw_controls(&run);
    assert!(run.stderr.contains("\\u{1b}]8;;https://evil.invalid"), "{}", run.stderr);
}

/// `text` without `ESC [ digits/; m` colour sequences.
fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find(|c: char| !c.is_ascii_digit() && c != ';').unwrap_or(after.len());
        if after[end..].starts_with('m') {
            rest = &after[end + 1..];
        } else {
            out.push('\x1b');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn a_link_that_carries_credentials_is_locked_without_them() {
    let index = index(IndexOptions::default());
    let workspace = workspace(&index);
    let sha256 = index.file_sha256(WHEEL).unwrap();
    let base = index.simple_url();
    let host = base.trim_start_matches("http://").split('/').next().unwrap().to_string();
    index.serve("/simple/six/", page(&[(format!("http://bob:linkpw@{host}/files/{WHEEL}#sha256={sha256}"), WHEEL)]));
    run(&workspace, &["lock"], &[]).ok();
    let lock = workspace.lock_text();
    assert!(lock.contains(&format!("url = \"http://{host}/files/{WHEEL}\"")), "{lock}");
    assert!(!lock.contains("linkpw") && !lock.contains("****") && !lock.contains("bob"), "{lock}");
    // A build from an empty cache downloads it with no made-up credentials.
    let _ = fs_err::remove_dir_all(workspace.cache.path());
    run(&workspace, &["build", "--locked"], &[]).ok();
}
