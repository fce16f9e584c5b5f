//! Indexes that fail, want credentials, or compete: retries, clear errors, no dependency
//! confusion, no corrupt cache entries, offline work after `lbuild fetch`.

use std::time::{Duration, Instant};

use crate::support::index::Fault;
use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

const TARGET: &str = "python3.12-x86_64";

fn scenario() -> Scenario {
    Scenario::from_packages([PackageSpec::new("lib", "1.0").dep("helper"), PackageSpec::new("helper", "2.0")])
}

fn workspace(index: &FakeIndex, api: Api) -> Workspace {
    Workspace::new(
        index,
        api,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"lib\"]\n",
    )
}

/// Fast retries for tests: 10 ms backoff.
const FAST: &[(&str, &str)] = &[("LBUILD_HTTP_BACKOFF_MS", "10")];

fn count(index: &FakeIndex, prefix: &str) -> usize {
    index.requests().iter().filter(|request| request.starts_with(prefix)).count()
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Simple);
    index.set_fault("/simple/lib/", 500, 2);
    index.set_fault("/files/helper", 503, 1);
    workspace.run_env(&["lock"], FAST).ok();
    assert_eq!(count(&index, "GET /simple/lib/"), 3, "{:?}", index.requests());
    assert_eq!(workspace.lock().version("lib", TARGET), "1.0");
}

#[test]
fn rate_limits_are_retried_after_the_time_the_server_asks_for() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Json);
    index.inject("/pypi/lib/json", Fault::RetryAfter(429, 1), 1);
    let started = Instant::now();
    workspace.run_env(&["lock"], FAST).ok();
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was not honoured");
    assert_eq!(count(&index, "GET /pypi/lib/json"), 2);
}

#[test]
fn an_index_that_keeps_failing_is_a_clear_error_naming_the_url() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Simple);
    index.set_fault("/simple/lib/", 500, 100);
    let run = workspace.run_env(&["lock"], FAST).err();
    let url = format!("{}/lib/", index.simple_url());
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("500 Internal Server Error 4 time(s)"), "{}", run.stderr);
    assert_eq!(count(&index, "GET /simple/lib/"), 4, "one try and three retries");
    assert!(!workspace.lock_path().exists());
}

#[test]
fn bodies_cut_short_are_retried_and_never_cached() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Simple);
    workspace.run(&["lock"]).ok();
    // One cut download is retried; the build succeeds.
    index.inject("/files/lib-1.0", Fault::CutBody, 1);
    workspace.run_env(&["build"], FAST).ok();
    let downloads = index.requests().iter().filter(|r| *r == "GET /files/lib-1.0-py3-none-any.whl").count();
    assert_eq!(downloads, 2, "{:?}", index.requests());
    // A download that is always cut fails clearly, leaves no cache entry and writes nothing.
    fs_err::remove_dir_all(workspace.cache.path()).unwrap();
    fs_err::remove_dir_all(workspace.path().join("target")).unwrap();
    index.inject("/files/lib-1.0", Fault::CutBody, 100);
    let run = workspace.run_env(&["build"], FAST).err();
    assert!(run.stderr.contains("lib-1.0-py3-none-any.whl"), "{}", run.stderr);
    assert!(run.stderr.contains("failed after 4 attempt(s)"), "{}", run.stderr);
    assert!(!cached_wheel_exists(&workspace, "lib-1.0-py3-none-any.whl"));
    assert!(!workspace.path().join("target/lambda/manifest.json").exists());
}

#[test]
fn a_corrupted_download_is_refused_and_never_cached() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Json);
    workspace.run(&["lock"]).ok();
    index.inject("/files/helper-2.0", Fault::CorruptBody, 1);
    let run = workspace.run(&["build"]).err();
    let expected = index.file_sha256("helper-2.0-py3-none-any.whl").unwrap();
    assert!(run.stderr.contains("does not match `lambda.lock`"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("expected sha256 {expected}")), "{}", run.stderr);
    assert!(!cached_wheel_exists(&workspace, "helper-2.0-py3-none-any.whl"));
    assert!(!workspace.path().join("target/lambda/functions").exists());
    // The next try gets good bytes.
    workspace.run(&["build"]).ok();
}

fn cached_wheel_exists(workspace: &Workspace, filename: &str) -> bool {
    let wheels = workspace.cache.path().join("wheels");
    fs_err::read_dir(&wheels).into_iter().flatten().flatten().any(|entry| entry.path().join(filename).exists())
}

#[test]
fn a_slow_response_times_out_and_is_retried() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Simple);
    index.inject("/simple/helper/", Fault::Delay(Duration::from_secs(3)), 1);
    let env = [("LBUILD_HTTP_TIMEOUT", "1"), ("LBUILD_HTTP_BACKOFF_MS", "10")];
    workspace.run_env(&["lock"], &env).ok();
    assert_eq!(count(&index, "GET /simple/helper/"), 2, "{:?}", index.requests());
    // Always slow: a clear error, not a hang.
    fs_err::remove_file(workspace.lock_path()).unwrap();
    fs_err::remove_dir_all(workspace.cache.path()).unwrap();
    index.inject("/simple/helper/", Fault::Delay(Duration::from_secs(2)), 100);
    let env = [("LBUILD_HTTP_TIMEOUT", "1"), ("LBUILD_HTTP_BACKOFF_MS", "10"), ("LBUILD_HTTP_RETRIES", "1")];
    let run = workspace.run_env(&["lock"], &env).err();
    assert!(
        run.stderr.contains("/simple/helper/") && run.stderr.contains("failed after 2 attempt(s)"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_credentials_fail_at_once_and_given_ones_never_leak() {
    let options = IndexOptions { basic_auth: Some(("deploy", "s3cr3t-t0ken")), ..IndexOptions::default() };
    let index = FakeIndex::start(&scenario(), options);
    let workspace = workspace(&index, Api::Simple);
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("index `default` answered 401 Unauthorized"), "{}", run.stderr);
    assert!(run.stderr.contains("LBUILD_INDEX_DEFAULT_USERNAME"), "{}", run.stderr);
    assert_eq!(index.request_count(), 1, "a 401 is not retried: {:?}", index.requests());

    // From environment variables.
    let env = [("LBUILD_INDEX_DEFAULT_USERNAME", "deploy"), ("LBUILD_INDEX_DEFAULT_PASSWORD", "s3cr3t-t0ken")];
    let run = workspace.run_env(&["-v", "build"], &env).ok();
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
    assert!(!workspace.lock_text().contains("s3cr3t"));

    // From the URL (through LBUILD_INDEX_URL), and from netrc.
    fs_err::remove_file(workspace.lock_path()).unwrap();
    fs_err::remove_dir_all(workspace.cache.path()).unwrap();
    let url = index.simple_url().replace("http://", "http://deploy:s3cr3t-t0ken@");
    let run = workspace.run_env(&["-v", "lock"], &[("LBUILD_INDEX_URL", &url)]).ok();
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
    let lock = workspace.lock_text();
    assert!(!lock.contains("s3cr3t") && lock.contains("****@127.0.0.1"), "{lock}");
    let netrc = workspace.path().join("netrc");
    fs_err::write(&netrc, "machine 127.0.0.1\n  login deploy\n  password s3cr3t-t0ken\n").unwrap();
    fs_err::remove_dir_all(workspace.cache.path()).unwrap();
    fs_err::remove_dir_all(workspace.path().join("target")).unwrap();
    workspace.run_env(&["build"], &[("NETRC", netrc.to_str().unwrap())]).ok();
    let manifest = fs_err::read_to_string(workspace.path().join("target/lambda/manifest.json")).unwrap();
    assert!(!manifest.contains("s3cr3t"));
}

fn two_indexes() -> (FakeIndex, FakeIndex) {
    let internal = FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("corp-lib", "1.0").dep("requests"),
            PackageSpec::new("shared", "1.0"),
        ]),
        IndexOptions::default(),
    );
    // The public index has a squatted, higher `corp-lib`.
    let public = FakeIndex::start(
        &Scenario::from_packages([
            PackageSpec::new("corp-lib", "99.0"),
            PackageSpec::new("requests", "2.32.0"),
            PackageSpec::new("shared", "2.0"),
        ]),
        IndexOptions::default(),
    );
    (internal, public)
}

#[test]
fn a_package_comes_from_the_first_index_that_has_it_or_the_one_it_is_pinned_to() {
    let (internal, public) = two_indexes();
    let workspace = Workspace::new(
        &public,
        Api::Simple,
        &format!(
            "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n\n\
             [[workspace.index]]\nname = \"internal\"\nurl = \"{}\"\n\n\
             [workspace.sources]\nshared = {{ index = \"default\" }}\n\n\
             [function.f]\nrequirements = [\"corp-lib\", \"shared\"]\n",
            internal.simple_url()
        ),
    );
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("corp-lib", TARGET), "1.0", "never the public 99.0");
    assert_eq!(lock.version("requests", TARGET), "2.32.0");
    assert_eq!(lock.version("shared", TARGET), "2.0", "pinned to the default index");
    let text = workspace.lock_text();
    assert!(text.contains("name = \"corp-lib\"\nversion = \"1.0\"\nsource = \"internal\""), "{text}");
    assert!(text.contains("name = \"requests\"\nversion = \"2.32.0\"\nsource = \"default\""), "{text}");
    assert!(!public.requests().iter().any(|request| request.contains("corp-lib")), "{:?}", public.requests());

    // An explicit index serves only what is pinned to it.
    workspace.write_manifest(&format!(
        "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\n\n\
         [[workspace.index]]\nname = \"internal\"\nurl = \"{}\"\nexplicit = true\n\n\
         [workspace.sources]\ncorp-lib = {{ index = \"internal\" }}\n\n\
         [function.f]\nrequirements = [\"corp-lib\", \"shared\"]\n",
        internal.simple_url()
    ));
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    assert_eq!(lock.version("corp-lib", TARGET), "1.0");
    assert_eq!(lock.version("shared", TARGET), "2.0", "internal is explicit, so `shared` comes from default");
}

#[test]
fn an_index_redirecting_a_project_to_another_host_is_not_followed() {
    let (internal, public) = two_indexes();
    // pypiserver's fallback: unknown projects are redirected to another index.
    internal.inject("/simple/requests/", Fault::Redirect(format!("{}/requests/", public.simple_url())), 100);
    let workspace = Workspace::new(
        &internal,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"corp-lib\"]\n",
    );
    let run = workspace.run(&["lock"]).err();
    assert!(run.stderr.contains("redirected `requests` to another host"), "{}", run.stderr);
    assert!(public.request_count() == 0, "{:?}", public.requests());
}

#[test]
fn a_changed_find_links_wheel_makes_the_lock_stale() {
    let index =
        FakeIndex::start(&Scenario::from_packages([PackageSpec::new("helper", "2.0")]), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"arm64\"]\nfind-links = [\"wheels\"]\n\n[function.f]\nrequirements = [\"homemade\"]\n",
    );
    let wheels = workspace.path().join("wheels");
    fs_err::create_dir_all(&wheels).unwrap();
    let spec = crate::support::WheelSpec {
        requires_dist: vec!["helper".into()],
        ..crate::support::WheelSpec::new("homemade", "0.1")
    };
    let (filename, bytes) = crate::support::build_wheel(&spec);
    fs_err::write(wheels.join(&filename), &bytes).unwrap();
    workspace.run(&["build"]).ok();
    let text = workspace.lock_text();
    assert!(
        text.contains("source = \"find-links\"") && text.contains(&format!("url = \"wheels/{filename}\"")),
        "{text}"
    );
    // A rebuilt wheel with other bytes: `--locked` notices, a relock takes the new hash.
    let spec = crate::support::WheelSpec { files: vec![("homemade/extra.py".into(), b"X = 2\n".to_vec())], ..spec };
    let (_, rebuilt) = crate::support::build_wheel(&spec);
    fs_err::write(wheels.join(&filename), &rebuilt).unwrap();
    let run = workspace.run(&["build", "--locked"]).err();
    assert!(run.stderr.contains("the find-links directories or the wheels in them changed"), "{}", run.stderr);
    workspace.run(&["build"]).ok();
    let digest: String = <sha2::Sha256 as sha2::Digest>::digest(&rebuilt).iter().map(|b| format!("{b:02x}")).collect();
    assert!(workspace.lock_text().contains(&digest));
}

#[test]
fn after_fetch_everything_works_offline_and_a_missing_file_is_named() {
    let index = FakeIndex::start(&scenario(), IndexOptions { metadata_files: false, ..IndexOptions::default() });
    let workspace = workspace(&index, Api::Simple);
    let run = workspace.run(&["fetch"]).ok();
    assert!(run.stderr.contains("2 files for 1 target (2 downloaded"), "{}", run.stderr);
    let run = workspace.run(&["fetch"]).ok();
    assert!(run.stderr.contains("(0 downloaded, 2 already in the cache"), "{}", run.stderr);
    drop(index);
    workspace.run(&["build", "--offline"]).ok();
    fs_err::remove_file(workspace.lock_path()).unwrap();
    workspace.run(&["lock", "--offline"]).ok();
    workspace.run(&["build", "--frozen"]).ok();

    // A file that is not in the cache is named.
    let other_index = FakeIndex::start(&scenario(), IndexOptions::default());
    let other = Workspace::new(
        &other_index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"lib\"]\n",
    );
    other.run(&["lock"]).ok();
    fs_err::remove_dir_all(other.cache.path().join("wheels")).ok();
    let run = other.run(&["build", "--offline"]).err();
    assert!(run.stderr.contains("is not in the cache, and `--offline` forbids downloading it"), "{}", run.stderr);
    assert!(
        run.stderr.contains("helper-2.0-py3-none-any.whl") || run.stderr.contains("lib-1.0-py3-none-any.whl"),
        "{}",
        run.stderr
    );
}

#[test]
fn cache_dir_and_clean() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Simple);
    let run = workspace.run(&["cache", "dir"]).ok();
    assert_eq!(run.stdout.trim(), workspace.cache.path().to_str().unwrap());
    workspace.run(&["fetch"]).ok();
    let run = workspace.run(&["cache", "clean"]).ok();
    assert!(run.stderr.contains("Removed"), "{}", run.stderr);
    assert!(!workspace.cache.path().exists());
}

#[test]
fn two_builds_of_the_same_workspace_at_once_both_succeed() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = workspace(&index, Api::Simple);
    workspace.run(&["lock"]).ok();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lbuild"))
            .arg("build")
            .current_dir(workspace.path())
            .env("LBUILD_CACHE_DIR", workspace.cache.path())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [spawn(), spawn()];
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(workspace.path().join("target/lambda/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["artifacts"].as_array().unwrap().len(), 1);
}

/// `{ find-links = true }`: a package pinned to the find-links directories never comes from an
/// index, so the index's newer (or unrelated) project of that name cannot replace the local one.
#[test]
fn a_package_pinned_to_find_links_is_never_taken_from_the_index() {
    let index =
        FakeIndex::start(&Scenario::from_packages([PackageSpec::new("six", "1.17.0")]), IndexOptions::default());
    let manifest = |sources: &str| {
        format!(
            "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\nfind-links = [\"wheels\"]\n{sources}\n[function.f]\nrequirements = [\"six\"]\n"
        )
    };
    let workspace = Workspace::new(&index, Api::Simple, &manifest(""));
    let wheels = workspace.path().join("wheels");
    fs_err::create_dir_all(&wheels).unwrap();
    let (filename, bytes) = crate::support::build_wheel(&crate::support::WheelSpec::new("six", "0.1.0"));
    fs_err::write(wheels.join(&filename), &bytes).unwrap();
    // Unpinned, the index's newer six wins.
    workspace.run(&["lock"]).ok();
    assert!(workspace.lock_text().contains("version = \"1.17.0\""), "{}", workspace.lock_text());

    let pinned = Workspace::new(&index, Api::Simple, &manifest("\n[workspace.sources]\nsix = { find-links = true }\n"));
    fs_err::create_dir_all(pinned.path().join("wheels")).unwrap();
    fs_err::write(pinned.path().join("wheels").join(&filename), &bytes).unwrap();
    let before = index.request_count();
    pinned.run(&["build"]).ok();
    let text = pinned.lock_text();
    assert!(text.contains("version = \"0.1.0\"") && !text.contains("1.17.0"), "{text}");
    assert!(text.contains("source = \"find-links\"") && text.contains("six = \"find-links\""), "{text}");
    assert_eq!(index.request_count(), before, "the index was asked: {:?}", index.requests());
    pinned.run(&["build", "--locked"]).ok();
}

#[test]
fn a_find_links_source_that_cannot_work_is_refused_with_its_line() {
    let index =
        FakeIndex::start(&Scenario::from_packages([PackageSpec::new("six", "1.17.0")]), IndexOptions::default());
    for (sources, message) in [
        ("six = { find-links = true }\n", "pinned to the find-links directories, but there are none"),
        ("six = { find-links = false }\n", "`find-links = false` does not say where package `six` comes from"),
        ("six = { index = \"default\", find-links = true }\n", "pinned both to index `default` and to the find-links"),
        ("six = {}\n", "package `six` has an empty source"),
    ] {
        let workspace = Workspace::new(
            &index,
            Api::Simple,
            &format!(
                "[workspace]\nindex-url = \"{{index}}\"\n\n[workspace.sources]\n{sources}\n[function.f]\nrequirements = [\"six\"]\n"
            ),
        );
        let run = workspace.run(&["lock"]).failed();
        assert!(run.stderr.contains(message), "{sources}: {}", run.stderr);
        assert!(run.stderr.contains("lambda.toml:5"), "{sources}: {}", run.stderr);
    }
    // `find-links` names the directories, so no index may take that name.
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\n\n[[workspace.index]]\nname = \"find-links\"\nurl = \"https://example.invalid/simple/\"\n\n[function.f]\nrequirements = [\"six\"]\n",
    );
    let run = workspace.run(&["lock"]).failed();
    assert!(run.stderr.contains("invalid index name `find-links`"), "{}", run.stderr);
}
