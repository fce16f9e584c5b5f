//! Hostile wheels: archives that lie (sizes, CRC-32s, local headers, flags, methods), bombs,
//! duplicate names, unknown Wheel-Versions, huge METADATA, and index metadata (PEP 658) that
//! does not match the wheel. Each must fail `lock` or `build` with exit code 1 (never a panic),
//! name the wheel and the entry, and leave nothing in the output directory.

use std::path::{Path, PathBuf};

use crate::support::rawzip::{self, RawEntry, wheel_entries, wheel_filename, write_zip};
use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario, files_under};
use crate::{Api, Run, Workspace, run_lbuild};

const MANIFEST: &str = "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[function.f]\nrequirements = [\"hostile\"]\n";

/// The outcome of one run: exit code and stderr.
fn lbuild(workspace: &Workspace, args: &[&str], cache: Option<&Path>) -> Run {
    let cache = cache.unwrap_or(workspace.cache.path()).display().to_string();
    run_lbuild(workspace.path(), args, &[("LBUILD_CACHE_DIR", cache.as_str())])
}

/// An index serving `hostile 1.0` as the given raw wheel, with `metadata` as its `.metadata`.
fn serve(
    entries: &[RawEntry],
    metadata: &str,
    options: IndexOptions,
    others: Vec<PackageSpec>,
) -> (FakeIndex, Workspace) {
    let index = FakeIndex::start(&Scenario::from_packages(others), options);
    index.publish_raw_wheel(
        &PackageSpec::new("hostile", "1.0"),
        &wheel_filename("hostile", "1.0"),
        write_zip(entries),
        metadata.as_bytes().to_vec(),
    );
    let workspace = Workspace::new(&index, Api::Json, MANIFEST);
    (index, workspace)
}

fn honest_metadata() -> String {
    rawzip::metadata("hostile", "1.0", &[])
}

/// Lock (which must work: the index's metadata is fine), then build, which must fail with
/// exit code 1, an error that names the wheel and `entry` and contains `problem`, and no zip
/// or manifest in the output directory.
#[track_caller]
fn assert_build_refused(entries: &[RawEntry], entry: &str, problem: &str) {
    let (_index, workspace) = serve(entries, &honest_metadata(), IndexOptions::default(), Vec::new());
    let locked = lbuild(&workspace, &["lock"], None);
    assert_eq!(locked.code, Some(0), "lock: {}", locked.stderr);
    let built = lbuild(&workspace, &["build"], None);
    assert_eq!(built.code, Some(1), "build must fail with 1, not panic: {}", built.stderr);
    let stderr = built.stderr.replace('\n', " ");
    for expected in [wheel_filename("hostile", "1.0").as_str(), entry, problem] {
        assert!(stderr.contains(expected), "`{expected}` is not in: {}", built.stderr);
    }
    let hint = if problem.contains("Wheel-Version 2") { "pin a version" } else { "lbuild cache clean" };
    assert!(stderr.contains(hint), "the error says what to do: {}", built.stderr);
    let out = workspace.path().join("target/lambda");
    let written: Vec<PathBuf> = files_under(&out)
        .into_iter()
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with(".lbuild-"))
        .collect();
    assert!(written.is_empty(), "nothing is written: {written:?}");
    // Nothing about the wheel was remembered as checked: the next build checks it again.
    let again = lbuild(&workspace, &["build"], None);
    assert_eq!(again.code, Some(1), "{}", again.stderr);
    assert!(again.stderr.replace('\n', " ").contains(problem), "{}", again.stderr);
}

const INIT: &str = "hostile/__init__.py";

fn with_init(change: impl FnOnce(&mut RawEntry)) -> Vec<RawEntry> {
    let mut entries = wheel_entries("hostile", "1.0", &[]);
    change(entries.iter_mut().find(|entry| entry.name == INIT).unwrap());
    entries
}

#[test]
fn an_honest_raw_wheel_builds() {
    // The writer itself makes wheels lbuild accepts, with and without data descriptors.
    for descriptor in [false, true] {
        let entries: Vec<RawEntry> = wheel_entries("hostile", "1.0", &[])
            .into_iter()
            .map(|entry| if descriptor { entry.with_data_descriptor() } else { entry })
            .collect();
        let (_index, workspace) = serve(&entries, &honest_metadata(), IndexOptions::default(), Vec::new());
        let built = lbuild(&workspace, &["build"], None);
        assert_eq!(built.code, Some(0), "{}", built.stderr);
        let zip_path = workspace.path().join("target/lambda/functions/f-python3.12-x86_64.zip");
        let mut archive = zip::ZipArchive::new(fs_err::File::open(&zip_path).unwrap()).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(INIT).unwrap(), &mut text).unwrap();
        assert_eq!(text, "__version__ = \"1.0\"\n".repeat(8));
        // The entries' checks are remembered for these bytes, and a rebuild from them matches.
        let records = files_under(&workspace.cache.path().join("checked"));
        assert_eq!(records.len(), 1, "{records:?}");
        let first = fs_err::read(&zip_path).unwrap();
        fs_err::remove_dir_all(workspace.path().join("target")).unwrap();
        let rebuilt = lbuild(&workspace, &["build", "--frozen"], None);
        assert_eq!(rebuilt.code, Some(0), "{}", rebuilt.stderr);
        assert_eq!(fs_err::read(&zip_path).unwrap(), first);
    }
}

#[test]
fn sizes_that_lie_are_refused() {
    assert_build_refused(&with_init(|entry| entry.size -= 1), INIT, "inflates to more than the 159 bytes");
    assert_build_refused(&with_init(|entry| entry.size += 1), INIT, "inflates to 160 bytes, not the 161");
    // A stored entry whose compressed and uncompressed sizes differ.
    let entries = with_init(|entry| {
        *entry = RawEntry::stored(INIT, b"X = 1\n");
        entry.size = 5;
    });
    assert_build_refused(&entries, INIT, "is stored uncompressed");
}

#[test]
fn a_wrong_crc_is_refused() {
    assert_build_refused(&with_init(|entry| entry.crc32 ^= 1), INIT, "its headers declare");
    let entries = with_init(|entry| {
        *entry = RawEntry::stored(INIT, b"X = 1\n");
        entry.crc32 ^= 0x8000_0000;
    });
    assert_build_refused(&entries, INIT, "has CRC-32");
}

#[test]
fn a_local_header_that_disagrees_with_the_central_directory_is_refused() {
    assert_build_refused(
        &with_init(|entry| entry.local_name = Some("hostile/evil.py".to_string())),
        INIT,
        "is named `hostile/evil.py` in its local header",
    );
    assert_build_refused(
        &with_init(|entry| entry.local_method = Some(0)),
        INIT,
        "compression method 0 in its local header",
    );
    assert_build_refused(
        &with_init(|entry| entry.local_sizes = Some((entry.crc32, entry.compressed_size + 7, entry.size))),
        INIT,
        "in its local header",
    );
    assert_build_refused(&with_init(|entry| entry.local_flags = Some(1)), INIT, "flags 0x0001 in its local header");
    // A data descriptor that disagrees with the central directory.
    let entries = with_init(|entry| {
        *entry = entry.clone().with_data_descriptor();
        let at = entry.after_data.len() - 4;
        entry.after_data[at] ^= 1;
    });
    assert_build_refused(&entries, INIT, "data descriptor that disagrees");
}

#[test]
fn encrypted_entries_and_unknown_methods_are_refused() {
    for flag in [1u16, 1 << 6] {
        let entries = with_init(|entry| entry.flags = flag);
        assert_build_refused(&entries, INIT, "is encrypted");
    }
    let entries = with_init(|entry| entry.method = 12);
    assert_build_refused(&entries, INIT, "compression method");
}

#[test]
fn a_deflate_bomb_is_refused_quickly() {
    // 1 MiB that inflates to 1 GiB, declared as 1 KiB: it used to pass the 250 MB check as
    // "0.0 MB unzipped" and be copied as it is.
    let bomb = rawzip::zeros_bomb(1024);
    let entries = with_init(|entry| {
        entry.compressed_size = bomb.len() as u32;
        entry.data = bomb.clone();
        entry.size = 1024;
    });
    let started = std::time::Instant::now();
    assert_build_refused(&entries, INIT, "inflates to more than the 1024 bytes its headers declare");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
}

#[test]
fn duplicate_names_are_refused() {
    let mut entries = wheel_entries("hostile", "1.0", &[]);
    entries.insert(1, RawEntry::deflated(INIT, b"import os; os.system('evil')\n"));
    assert_build_refused(&entries, INIT, "holds `hostile/__init__.py` twice");
}

#[test]
fn unknown_wheel_versions_and_a_missing_wheel_file_are_refused() {
    const WHEEL: &str = "hostile-1.0.dist-info/WHEEL";
    let with_wheel = |text: &str| {
        let mut entries = wheel_entries("hostile", "1.0", &[]);
        *entries.iter_mut().find(|entry| entry.name == WHEEL).unwrap() = RawEntry::deflated(WHEEL, text.as_bytes());
        entries
    };
    assert_build_refused(&with_wheel("Wheel-Version: 2.0\nRoot-Is-Purelib: true\n"), WHEEL, "Wheel-Version 2.0");
    assert_build_refused(&with_wheel("Root-Is-Purelib: true\n"), WHEEL, "has no `Wheel-Version` field");
    let mut entries = wheel_entries("hostile", "1.0", &[]);
    entries.retain(|entry| entry.name != WHEEL);
    assert_build_refused(&entries, WHEEL, "is missing");

    // A newer minor version installs, with a warning.
    let (_index, workspace) =
        serve(&with_wheel("Wheel-Version: 1.9\n"), &honest_metadata(), IndexOptions::default(), Vec::new());
    let built = lbuild(&workspace, &["build"], None);
    assert_eq!(built.code, Some(0), "{}", built.stderr);
    assert!(built.stderr.contains("Wheel-Version 1.9"), "{}", built.stderr);
}

/// A METADATA of `size` bytes (a long Summary), deflated to a few KiB.
fn huge_metadata(size: usize) -> String {
    let mut text = honest_metadata();
    text.push_str("Summary: ");
    text.push_str(&"x".repeat(size));
    text.push('\n');
    text
}

#[test]
fn a_huge_metadata_in_a_downloaded_wheel_fails_the_lock_without_reading_it_all() {
    let mut entries = wheel_entries("hostile", "1.0", &[]);
    let name = "hostile-1.0.dist-info/METADATA";
    *entries.iter_mut().find(|entry| entry.name == name).unwrap() =
        RawEntry::deflated(name, huge_metadata(17 << 20).as_bytes());
    let options = IndexOptions { metadata_files: false, range_requests: false, ..IndexOptions::default() };
    let (_index, workspace) = serve(&entries, "", options, Vec::new());
    let locked = lbuild(&workspace, &["lock"], None);
    assert_eq!(locked.code, Some(1), "{}", locked.stderr);
    for expected in [wheel_filename("hostile", "1.0").as_str(), name, "over lbuild's limit"] {
        assert!(locked.stderr.replace('\n', " ").contains(expected), "`{expected}`: {}", locked.stderr);
    }
}

#[test]
fn a_central_directory_claiming_a_huge_metadata_is_refused_before_fetching_it() {
    // METADATA first, then 100 KiB that does not compress, so that the 64 KiB tail lbuild
    // asks for first holds the central directory but not METADATA's bytes.
    let name = "hostile-1.0.dist-info/METADATA";
    let mut metadata = RawEntry::deflated(name, honest_metadata().as_bytes());
    metadata.size = 1 << 30;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..100 * 1024 / 8)
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()
        })
        .collect();
    let mut entries = vec![metadata, RawEntry::stored("hostile/blob.bin", &noise)];
    entries.extend(wheel_entries("hostile", "1.0", &[]).into_iter().filter(|entry| entry.name != name));
    let options = IndexOptions { metadata_files: false, ..IndexOptions::default() };
    let (index, workspace) = serve(&entries, "", options, Vec::new());
    let locked = lbuild(&workspace, &["lock"], None);
    assert_eq!(locked.code, Some(1), "{}", locked.stderr);
    let stderr = locked.stderr.replace('\n', " ");
    assert!(stderr.contains(name) && stderr.contains("1073741824 bytes or more"), "{}", locked.stderr);
    // The one probe for an unadvertised `.metadata` file (404 here) aside, only the tail.
    let file_requests: Vec<String> = index
        .requests()
        .into_iter()
        .filter(|request| request.contains("/files/hostile") && !request.ends_with(".metadata"))
        .collect();
    assert_eq!(file_requests.len(), 1, "only the tail was fetched: {file_requests:?}");
}

#[test]
fn index_metadata_that_drops_a_dependency_fails_the_build() {
    let entries = wheel_entries("hostile", "1.0", &["helper>=1"]);
    // The index's `.metadata` leaves the dependency out, so the lock does too.
    let (_index, workspace) =
        serve(&entries, &honest_metadata(), IndexOptions::default(), vec![PackageSpec::new("helper", "1.0")]);
    let locked = lbuild(&workspace, &["lock"], None);
    assert_eq!(locked.code, Some(0), "{}", locked.stderr);
    assert!(workspace.lock().pin("helper", "python3.12-x86_64").is_none(), "the lock believed the index");
    let built = lbuild(&workspace, &["build"], None);
    assert_eq!(built.code, Some(1), "{}", built.stderr);
    let stderr = built.stderr.replace('\n', " ");
    for expected in [
        "`hostile`",
        wheel_filename("hostile", "1.0").as_str(),
        "does not match the metadata the lock was resolved from",
        "`helper>=1`",
        "index served metadata",
    ] {
        assert!(stderr.contains(expected), "`{expected}` is not in: {}", built.stderr);
    }
    assert!(files_under(&workspace.path().join("target/lambda")).is_empty());
}

#[test]
fn index_metadata_that_adds_a_dependency_or_changes_the_version_fails_the_build_even_with_a_new_cache() {
    let entries = wheel_entries("hostile", "1.0", &[]);
    let metadata = rawzip::metadata("hostile", "1.0", &["helper"]);
    let (_index, workspace) =
        serve(&entries, &metadata, IndexOptions::default(), vec![PackageSpec::new("helper", "1.0")]);
    assert_eq!(lbuild(&workspace, &["lock"], None).code, Some(0));
    // A fresh cache (a CI machine) no longer has the index's metadata: the lock's edges are
    // checked against the wheel all the same.
    let fresh = tempfile::tempdir().unwrap();
    let built = lbuild(&workspace, &["build"], Some(fresh.path()));
    assert_eq!(built.code, Some(1), "{}", built.stderr);
    let stderr = built.stderr.replace('\n', " ");
    assert!(stderr.contains("the lock has it depend on `helper`, which its METADATA does not require"), "{stderr}");

    // The wheel's METADATA names another version than the index's metadata (and the lock).
    let entries = wheel_entries("hostile", "1.0", &[]).into_iter().map(|entry| {
        if entry.name.ends_with("/METADATA") {
            RawEntry::deflated(&entry.name, rawzip::metadata("hostile", "6.6.6", &[]).as_bytes())
        } else {
            entry
        }
    });
    let entries: Vec<RawEntry> = entries.collect();
    let (_index, workspace) = serve(&entries, &honest_metadata(), IndexOptions::default(), Vec::new());
    let built = lbuild(&workspace, &["build"], None);
    assert_eq!(built.code, Some(1), "{}", built.stderr);
    assert!(built.stderr.replace('\n', " ").contains("has version 6.6.6, but the lock has 1.0"), "{}", built.stderr);
}

#[test]
fn a_member_name_that_is_not_utf8_is_refused() {
    let mut entries = wheel_entries("hostile", "1.0", &[]);
    entries.push(RawEntry::deflated("hostile/x?.py", b"X = 1\n"));
    let mut bytes = write_zip(&entries);
    // A Latin-1 byte where `?` was, in the local header and the central directory alike.
    let at: Vec<usize> = bytes.windows(5).enumerate().filter(|(_, w)| w == b"x?.py").map(|(i, _)| i + 1).collect();
    assert_eq!(at.len(), 2);
    for i in at {
        bytes[i] = 0xe9;
    }
    let index = FakeIndex::start(&Scenario::from_packages(Vec::new()), IndexOptions::default());
    index.publish_raw_wheel(
        &PackageSpec::new("hostile", "1.0"),
        &wheel_filename("hostile", "1.0"),
        bytes,
        honest_metadata().into_bytes(),
    );
    let workspace = Workspace::new(&index, Api::Json, MANIFEST);
    let built = lbuild(&workspace, &["build"], None);
    assert_eq!(built.code, Some(1), "{}", built.stderr);
    assert!(built.stderr.contains("the name is not UTF-8"), "{}", built.stderr);
    assert!(!workspace.path().join("target/lambda/manifest.json").exists());
}

#[test]
fn a_wheel_with_another_projects_dist_info_is_refused() {
    let mut entries = wheel_entries("hostile", "1.0", &[]);
    entries.push(RawEntry::deflated("good-1.0.dist-info/METADATA", rawzip::metadata("good", "1.0", &[]).as_bytes()));
    assert_build_refused(&entries, "good-1.0.dist-info/", "second `.dist-info` directory");
}

#[test]
fn index_metadata_with_another_requires_python_fails_the_build() {
    // The wheel needs Python 3.13; the index's `.metadata` says nothing, so the lock took it
    // for python3.12.
    let mut entries = wheel_entries("hostile", "1.0", &[]);
    let metadata = format!("{}Requires-Python: >=3.13\n", rawzip::metadata("hostile", "1.0", &[]));
    for entry in entries.iter_mut().filter(|entry| entry.name.ends_with(".dist-info/METADATA")) {
        *entry = RawEntry::deflated(&entry.name.clone(), metadata.as_bytes());
    }
    let (_index, workspace) = serve(&entries, &honest_metadata(), IndexOptions::default(), Vec::new());
    assert_eq!(lbuild(&workspace, &["lock"], None).code, Some(0));
    let built = lbuild(&workspace, &["build"], None);
    assert_eq!(built.code, Some(1), "{}", built.stderr);
    let stderr = built.stderr.replace('\n', " ");
    assert!(stderr.contains("Requires-Python `>=3.13`, but the resolved metadata has nothing"), "{}", built.stderr);
}
