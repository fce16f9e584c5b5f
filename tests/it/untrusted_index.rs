//! The index client's newer paths read as untrusted input: revalidation answers (`304`) that
//! do not fit the request, and prefetch hints in the cache that name URLs or thousands of
//! projects. None may change what is locked, send a request off the index, or run unbounded.

use crate::support::index::Fault;
use crate::support::wheel::sha256_hex;
use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Run, Workspace, run_lbuild};

const TARGET: &str = "python3.12-x86_64";

fn run(workspace: &Workspace, args: &[&str]) -> Run {
    let cache = workspace.cache.path().display().to_string();
    run_lbuild(
        workspace.path(),
        args,
        &[("LBUILD_CACHE_DIR", cache.as_str()), ("LBUILD_HTTP_BACKOFF_MS", "10"), ("NETRC", "/nonexistent/netrc")],
    )
}

fn manifest(requirements: &str) -> String {
    format!(
        "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [{requirements}]\n"
    )
}

/// An index that answers `304 Not Modified` to a request that asked for the whole page (no
/// validators: nothing was cached) read it as a redirect, so the project was absent there and
/// lbuild took it from the next index: a public squatter stood in for the private package.
#[test]
fn a_304_to_a_request_for_the_whole_page_is_an_error_not_an_absent_project() {
    let internal =
        FakeIndex::start(&Scenario::from_packages([PackageSpec::new("corp-lib", "1.0")]), IndexOptions::default());
    let public =
        FakeIndex::start(&Scenario::from_packages([PackageSpec::new("corp-lib", "99.0")]), IndexOptions::default());
    internal.inject("/simple/corp-lib/", Fault::NotModified(String::new()), 100);
    let workspace = Workspace::new(
        &public,
        Api::Simple,
        &format!(
            "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n\n\
             [[workspace.index]]\nname = \"internal\"\nurl = \"{}\"\n\n\
             [function.f]\nrequirements = [\"corp-lib\"]\n",
            internal.simple_url()
        ),
    );
    let failed = run(&workspace, &["lock"]).failed();
    assert!(failed.stderr.contains("answered 304 Not Modified"), "{}", failed.stderr);
    assert!(failed.stderr.contains("index `internal`"), "{}", failed.stderr);
    assert!(!workspace.lock_path().exists());
    assert!(!public.requests().iter().any(|request| request.contains("corp-lib")), "{:?}", public.requests());
}

/// A 304 whose ETag is not the cached page's is about a page lbuild does not have (RFC 9111
/// 4.3.4): the cached body was used anyway, so a release published since stayed invisible.
#[test]
fn a_304_naming_another_etag_fetches_the_page_whole() {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("six", "1.0")]), IndexOptions::default());
    index.add_header("/simple/six/", "ETag", "\"v1\"");
    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"six\""));
    run(&workspace, &["lock"]).ok();
    assert_eq!(workspace.lock().version("six", TARGET), "1.0");

    index.publish(PackageSpec::new("six", "2.0"));
    index.inject("/simple/six/", Fault::NotModified("\"v2\"".to_string()), 1);
    fs_err::remove_file(workspace.lock_path()).unwrap();
    run(&workspace, &["lock"]).ok();
    assert_eq!(workspace.lock().version("six", TARGET), "2.0", "{:?}", index.requests());

    // The matching ETag (weakly compared) revalidates the cached page: no whole page is sent.
    index.inject("/simple/six/", Fault::NotModified("W/\"v1\"".to_string()), 1);
    index.clear_requests();
    fs_err::remove_file(workspace.lock_path()).unwrap();
    run(&workspace, &["lock"]).ok();
    assert_eq!(workspace.lock().version("six", TARGET), "2.0");
    let pages = index.requests().iter().filter(|request| request.contains("/simple/six/")).count();
    assert_eq!(pages, 1, "{:?}", index.requests());
}

/// Write a prefetch hint record for `project` as the cache stores one (a check line naming
/// the key and the body's sha256, then one name per line).
fn plant_hints(workspace: &Workspace, project: &str, names: &[String]) {
    let key = sha256_hex(project.as_bytes());
    let body = names.join("\n");
    let dir = workspace.cache.path().join("hints");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::write(dir.join(&key), format!("lbuild-cache-1 {key} {}\n{body}", sha256_hex(body.as_bytes()))).unwrap();
}

/// Hints are cache content, and each became a request: a name that is a URL was joined to the
/// index URL and sent to another host, and a record of thousands of names made thousands of
/// requests. Now such a record is ignored, and the lock is the one a clean cache gives.
#[test]
fn hostile_prefetch_hints_send_nothing_off_the_index_and_stay_bounded() {
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.0").dep("dep"), PackageSpec::new("dep", "1.0")]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let elsewhere =
        FakeIndex::start(&Scenario::from_packages([PackageSpec::new("evil", "1.0")]), IndexOptions::default());
    // Dots in a hint become dashes (names are normalized), so the host has none.
    let host = elsewhere.url().replace("http://127.0.0.1", "localhost");

    let clean = Workspace::new(&index, Api::Simple, &manifest("\"six\""));
    run(&clean, &["lock"]).ok();

    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"six\""));
    plant_hints(&workspace, "six", &[format!("//{host}/evil"), format!("http://{host}/evil"), "dep".to_string()]);
    let many: Vec<String> = (0..3000).map(|n| format!("p{n}")).collect();
    plant_hints(&workspace, "dep", &many);
    index.clear_requests();
    run(&workspace, &["lock"]).ok();
    assert_eq!(elsewhere.request_count(), 0, "{:?}", elsewhere.requests());
    assert!(index.request_count() < 50, "{} requests: {:?}", index.request_count(), &index.requests()[..50]);
    assert_eq!(workspace.lock_text(), clean.lock_text());
}

/// The `.metadata` file no page advertises is probed, and may win the race against the range
/// requests: a lie in it (a dependency the wheel does not have) reaches the lock as a hashless
/// PEP 658 file's would, and the build's check of the wheel's own METADATA refuses it.
#[test]
fn a_lying_unadvertised_metadata_file_is_caught_by_the_build() {
    let aaa = PackageSpec::new("aaa", "1.0").dep("six");
    let scenario =
        Scenario::from_packages([aaa.clone(), PackageSpec::new("six", "1.0"), PackageSpec::new("evil", "1.0")]);
    let index = FakeIndex::start(&scenario, IndexOptions { metadata_files: false, ..IndexOptions::default() });
    let wheel = "six-1.0-py3-none-any.whl";
    let lie = "Metadata-Version: 2.1\nName: six\nVersion: 1.0\nRequires-Dist: evil\n";
    index.serve(
        &format!("/files/{wheel}.metadata"),
        crate::support::Canned::body("application/octet-stream", crate::support::CannedBody::Bytes(lie.into())),
    );
    // `aaa`'s true metadata is served unadvertised too, so its probe tells lbuild that the
    // origin serves such files whichever request of `aaa` answers first.
    let truth = crate::support::metadata_text(&aaa.wheel_specs()[0]);
    index.serve(
        "/files/aaa-1.0-py3-none-any.whl.metadata",
        crate::support::Canned::body("application/octet-stream", crate::support::CannedBody::Bytes(truth.into())),
    );
    // `aaa`'s metadata opens the connection (the first request to an origin goes alone), and
    // the range request of `six` answers late, so the probe wins.
    index.inject(&format!("/files/{wheel}"), Fault::Delay(std::time::Duration::from_millis(1500)), 1);
    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"aaa\""));
    run(&workspace, &["lock"]).ok();
    assert_eq!(
        workspace.lock().pin("six", TARGET).unwrap().dependencies,
        ["evil"],
        "the probe won the race: {:?}",
        index.requests()
    );
    let failed = run(&workspace, &["build"]).failed();
    assert!(
        failed.stderr.contains("the lock has it depend on `evil`, which its METADATA does not require"),
        "{}",
        failed.stderr
    );
}

/// The first request to an origin goes alone (so that the others share its HTTP/2 connection).
/// An index whose first file request hangs: the other requests wait for it no longer than the
/// idle timeout, and the hung one is retried. (Files on another origin than the pages are
/// allowed only for PyPI's known file host, which a test on 127.0.0.1 cannot be.)
#[test]
fn a_first_request_that_hangs_holds_the_others_back_no_longer_than_the_timeout() {
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.0"), PackageSpec::new("dep", "1.0")]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"six\", \"dep\""));
    index.inject("/files/", Fault::Delay(std::time::Duration::from_secs(30)), 1);
    let cache = workspace.cache.path().display().to_string();
    let started = std::time::Instant::now();
    run_lbuild(
        workspace.path(),
        &["lock"],
        &[("LBUILD_CACHE_DIR", cache.as_str()), ("LBUILD_HTTP_TIMEOUT", "2"), ("LBUILD_HTTP_BACKOFF_MS", "10")],
    )
    .ok();
    assert!(started.elapsed() < std::time::Duration::from_secs(12), "took {:?}", started.elapsed());
    assert_eq!(workspace.lock().version("dep", TARGET), "1.0");
    assert_eq!(workspace.lock().version("six", TARGET), "1.0");
    let files = index.requests().iter().filter(|request| request.starts_with("GET /files/")).count();
    assert_eq!(files, 3, "two metadata files and the retry of the hung one: {:?}", index.requests());
}

/// Run lbuild in `workspace` and return the most memory it held (`VmHWM`, in KiB) and whether
/// it succeeded: the high-water mark is read from `/proc` until the process ends.
#[cfg(target_os = "linux")]
fn peak_memory_kib(workspace: &Workspace, args: &[&str]) -> (u64, bool) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lbuild"))
        .args(args)
        .current_dir(workspace.path())
        .env_remove("LBUILD_INDEX_URL")
        .env("LBUILD_CACHE_DIR", workspace.cache.path())
        .env("LBUILD_HTTP_RETRIES", "0")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = fs_err::read_to_string(&status)
            && let Some(line) = text.lines().find(|line| line.starts_with("VmHWM:"))
        {
            peak = peak.max(line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0));
        }
        if let Some(exit) = child.try_wait().unwrap() {
            return (peak, exit.success());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A server that ignores `Range` sends the whole wheel. That answer was held in memory (up
/// to 512 MiB when the page gives no size, as PEP 503 HTML pages do); it now streams to the
/// cache's `tmp/` like any download.
#[cfg(target_os = "linux")]
#[test]
fn a_range_request_answered_with_the_whole_wheel_streams_to_disk() {
    let options =
        IndexOptions { metadata_files: false, range_requests: false, html_only: true, ..IndexOptions::default() };
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("six", "1.0")]), options);
    let huge = crate::support::CannedBody::Huge { len: 300 * 1024 * 1024, declare_length: true };
    index.serve("/files/six-1.0-py3-none-any.whl", crate::support::Canned::body("application/octet-stream", huge));
    let workspace = Workspace::new(&index, Api::Simple, &manifest("\"six\""));
    let (peak, success) = peak_memory_kib(&workspace, &["lock"]);
    assert!(!success, "300 MiB of zeros are not the wheel");
    assert!(peak > 0 && peak < 150 * 1024, "lbuild held {} MiB", peak / 1024);
    assert!(crate::support::files_under(&workspace.cache.path().join("tmp")).is_empty());
}
