//! Downloads stream into the cache's `tmp/` while they are hashed and are renamed into place only
//! once their sha256 and size check out: a bad file leaves neither a cache entry nor a temporary
//! file, and a body longer than the size it should have is cut off.

use crate::support::index::Fault;
use crate::support::{Canned, CannedBody, FakeIndex, IndexOptions, PackageSpec, Scenario, files_under};
use crate::{Api, Workspace};

const WHEEL: &str = "six-1.0-py3-none-any.whl";

/// Fast retries for tests.
const FAST: &[(&str, &str)] = &[("LBUILD_HTTP_BACKOFF_MS", "10"), ("LBUILD_HTTP_RETRIES", "0")];

/// An index without `.metadata` files or range requests: lock has to download whole wheels.
const WHOLE_FILES: IndexOptions = IndexOptions {
    metadata_files: false,
    range_requests: false,
    relative_urls: false,
    html_only: false,
    hide_requires_python: false,
    basic_auth: None,
};

fn start(options: IndexOptions) -> (FakeIndex, Workspace) {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("six", "1.0")]), options);
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"six\"]\n",
    );
    (index, workspace)
}

/// Every file in the cache's `wheels/` and `tmp/`.
fn wheels_and_temporaries(workspace: &Workspace) -> Vec<std::path::PathBuf> {
    let mut files = files_under(&workspace.cache.path().join("wheels"));
    files.extend(files_under(&workspace.cache.path().join("tmp")));
    files
}

#[test]
fn a_wheel_that_does_not_match_its_hash_leaves_no_cache_entry_and_no_temporary_file() {
    // While locking: the index's sha256 is the reference.
    let (index, workspace) = start(WHOLE_FILES);
    // Every answer under the wheel's URL is corrupt (the probe for an unadvertised `.metadata`
    // file races the wheel's own request, so how many come is not fixed).
    index.inject(&format!("/files/{WHEEL}"), Fault::CorruptBody, 1000);
    let run = workspace.run_env(&["lock"], FAST).failed();
    assert!(run.stderr.contains(&format!("`{WHEEL}` does not match the sha256 the index gives")), "{}", run.stderr);
    assert_eq!(wheels_and_temporaries(&workspace), Vec::<std::path::PathBuf>::new());

    // While fetching: the lock's sha256 is the reference.
    let (index, workspace) = start(IndexOptions::default());
    workspace.run(&["lock"]).ok();
    index.inject(&format!("/files/{WHEEL}"), Fault::CorruptBody, 1);
    let run = workspace.run_env(&["fetch"], FAST).failed();
    assert!(run.stderr.contains("does not match `lambda.lock`"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was cached"), "{}", run.stderr);
    assert_eq!(wheels_and_temporaries(&workspace), Vec::<std::path::PathBuf>::new());
    // The next try gets good bytes and keeps them.
    workspace.run_env(&["fetch"], FAST).ok();
    assert_eq!(files_under(&workspace.cache.path().join("wheels")).len(), 1);
    assert!(files_under(&workspace.cache.path().join("tmp")).is_empty());
}

#[test]
fn a_download_longer_than_its_declared_size_is_cut_off() {
    // The index declares the wheel's size; the server streams 300 MiB without a length.
    let (index, workspace) = start(WHOLE_FILES);
    let endless = CannedBody::Huge { len: 300 * 1024 * 1024, declare_length: false };
    index.serve(&format!("/files/{WHEEL}"), Canned::body("application/octet-stream", endless.clone()));
    let run = workspace.run_env(&["lock"], FAST).failed();
    assert!(run.stderr.contains(&format!("/files/{WHEEL}` sent more than")), "{}", run.stderr);
    assert_eq!(wheels_and_temporaries(&workspace), Vec::<std::path::PathBuf>::new());

    // The lock records the size; fetch reads a little over it and no further.
    let (index, workspace) = start(IndexOptions::default());
    workspace.run(&["lock"]).ok();
    index.serve(&format!("/files/{WHEEL}"), Canned::body("application/octet-stream", endless));
    let run = workspace.run_env(&["fetch"], FAST).failed();
    assert!(run.stderr.contains(&format!("/files/{WHEEL}` sent more than")), "{}", run.stderr);
    assert_eq!(wheels_and_temporaries(&workspace), Vec::<std::path::PathBuf>::new());
}
