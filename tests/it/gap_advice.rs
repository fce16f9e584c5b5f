//! The advice of `lbuild gaps`: known replacements first, the user's own `==` pin named, and a
//! runtime to move to only when the package has wheels for one.

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

#[test]
fn gap_advice_names_replacements_the_users_pin_and_runtimes_with_wheels() {
    let scenario = Scenario::from_packages([
        PackageSpec::new("psycopg2", "2.9.10").sdist(),
        PackageSpec::new("pinned", "1.0").sdist(),
        PackageSpec::new("pinned", "2.0"),
        PackageSpec::new("oldpy", "1.0").wheel("cp39-cp39-manylinux2014_x86_64").sdist(),
        PackageSpec::new("ancient", "1.0").wheel("cp38-cp38-manylinux2014_x86_64").sdist(),
    ]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        r#"[workspace]
index-url = "{index}"

[function.api]
architecture = "x86_64"
requirements = ["psycopg2", "pinned==1.0", "oldpy", "ancient"]
"#,
    );
    let run = workspace.run(&["gaps"]).err();
    let out = &run.stdout;
    assert!(out.contains("python3.12-x86_64: 4 gaps"), "{out}");
    // The replacement is the first way out of psycopg2's gap.
    let psycopg = &out[out.find("psycopg2 2.9.10 (only-sdist)").expect("psycopg2 gap")..];
    let first = psycopg.lines().find(|line| line.contains("ways out:")).unwrap();
    assert!(first.contains("use `psycopg2-binary` instead of psycopg2"), "{out}");
    assert!(out.contains("use `psycopg[binary]` instead of psycopg2"), "{out}");
    assert!(out.contains("set `native-builder` in `[workspace]`"), "the native builder is offered: {out}");
    // The bound is the user's own pin, and the advice says where it is.
    assert!(out.contains("change `pinned==1.0` in function.api to `pinned==2.0`"), "{out}");
    // oldpy has wheels for python3.9: advise that runtime; ancient's cp38 fits no Lambda runtime.
    assert!(out.contains("(it has cp39-cp39)"), "{out}");
    assert!(out.contains("set `runtime = \"python3.9\"` in the `[function.NAME]` table"), "{out}");
    let ancient = &out[out.find("ancient 1.0").expect("ancient gap")..];
    let ancient = &ancient[..ancient.find("\n  oldpy").expect("oldpy follows ancient")];
    assert!(ancient.contains("(it has cp38-cp38)"), "{out}");
    assert!(!ancient.contains("use a runtime"), "no runtime has wheels for ancient: {out}");
}

#[test]
fn glibc_advice_names_the_amazon_linux_2023_runtimes_with_wheels() {
    let scenario = Scenario::from_packages([PackageSpec::new("newglibc", "1.0")
        .wheel("cp311-cp311-manylinux_2_28_x86_64")
        .wheel("cp312-cp312-manylinux_2_28_x86_64")
        .sdist()]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        r#"[workspace]
index-url = "{index}"

[function.old]
runtime = "python3.11"
architecture = "x86_64"
requirements = ["newglibc"]
"#,
    );
    let run = workspace.run(&["gaps"]).err();
    let out = &run.stdout;
    assert!(out.contains("newglibc 1.0 (glibc-too-new)"), "{out}");
    assert!(out.contains("move to a newer runtime with wheels: set `runtime = \"python3.12\"`;"), "{out}");
    assert!(out.contains("quay.io/pypa/manylinux2014_x86_64 container"), "{out}");
}

/// A `.zip` sdist of `name 1.0` whose `PKG-INFO` has these header lines after the name and version.
fn sdist_with_pkg_info(name: &str, metadata_version: &str, headers: &str) -> Vec<u8> {
    sdist_with_pkg_info_version(name, "1.0", metadata_version, headers)
}

/// The same for `name version`.
fn sdist_with_pkg_info_version(name: &str, version: &str, metadata_version: &str, headers: &str) -> Vec<u8> {
    let pkg_info = format!("Metadata-Version: {metadata_version}\nName: {name}\nVersion: {version}\n{headers}");
    let entries = [
        crate::support::rawzip::RawEntry::deflated(&format!("{name}-{version}/PKG-INFO"), pkg_info.as_bytes()),
        crate::support::rawzip::RawEntry::deflated(&format!("{name}-{version}/setup.py"), b"raise SystemExit(1)\n"),
    ];
    crate::support::rawzip::write_zip(&entries)
}

/// A gap's dependencies are what its sdist's static `PKG-INFO` says (PEP 643), so they are
/// locked and `--allow-gaps` zips them; a `PKG-INFO` older than 2.2, or whose `Requires-Dist`
/// is dynamic, says nothing, and nothing of the sdist runs.
#[test]
fn a_gaps_static_pkg_info_brings_its_dependencies() {
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.16.0"), PackageSpec::new("attrs", "23.2.0")]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    for (name, version, headers) in [
        ("stat", "2.2", "Requires-Dist: six>=1\nRequires-Dist: attrs; extra == \"more\"\n"),
        ("dyn", "2.2", "Requires-Dist: attrs\nDynamic: Requires-Dist\n"),
        ("old", "2.1", "Requires-Dist: attrs\n"),
    ] {
        let sdist = sdist_with_pkg_info(name, version, headers);
        index.publish_raw_sdist(&PackageSpec::new(name, "1.0").sdist(), &format!("{name}-1.0.zip"), sdist);
    }
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\nbuild-sdists = \"never\"\n\n[function.api]\narchitecture = \"arm64\"\nrequirements = [\"stat\", \"dyn\", \"old\"]\n",
    );
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    let target = "python3.12-arm64";
    let stat = lock.pin("stat", target).unwrap();
    assert_eq!((stat.gap.as_deref(), stat.dependencies.as_slice()), (Some("only-sdist"), &["six>=1".to_string()][..]));
    assert_eq!(lock.version("six", target), "1.16.0");
    assert!(lock.pin("dyn", target).unwrap().dependencies.is_empty());
    assert!(lock.pin("old", target).unwrap().dependencies.is_empty());
    assert!(lock.pin("attrs", target).is_none(), "neither a dynamic nor a pre-2.2 PKG-INFO is believed");
    workspace.run(&["build", "--allow-gaps"]).ok();
    let zip = workspace.path().join("target/lambda/api.zip");
    let zip = if zip.exists() {
        zip
    } else {
        crate::support::files_under(&workspace.path().join("target/lambda"))
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "zip"))
            .expect("a zip")
    };
    assert!(crate::support::zip_packages(&zip).contains("six"), "{:?}", crate::support::zip_packages(&zip));
}

/// A static `PKG-INFO`'s `Requires-Python` counts, as a wheel's METADATA does on an index that
/// publishes none: the newest version, for Python 3.13 only, is passed over for one that fits.
#[test]
fn a_gaps_static_requires_python_passes_over_a_version_for_another_python() {
    let scenario = Scenario::from_packages([PackageSpec::new("six", "1.16.0"), PackageSpec::new("attrs", "23.2.0")]);
    let index = FakeIndex::start(&scenario, IndexOptions::default());
    for (version, headers) in [
        ("2.0", "Requires-Python: >=3.13\nRequires-Dist: attrs\n"),
        ("1.0", "Requires-Python: >=3.8\nRequires-Dist: six\n"),
    ] {
        let sdist = sdist_with_pkg_info_version("newpy", version, "2.2", headers);
        index.publish_raw_sdist(&PackageSpec::new("newpy", version).sdist(), &format!("newpy-{version}.zip"), sdist);
    }
    let workspace = Workspace::new(
        &index,
        Api::Simple,
        "[workspace]\nindex-url = \"{index}\"\nruntime = \"python3.12\"\nbuild-sdists = \"never\"\n\n[function.api]\narchitecture = \"arm64\"\nrequirements = [\"newpy\"]\n",
    );
    workspace.run(&["lock"]).ok();
    let lock = workspace.lock();
    let target = "python3.12-arm64";
    assert_eq!(lock.version("newpy", target), "1.0");
    assert_eq!(lock.version("six", target), "1.16.0");
    assert!(lock.pin("attrs", target).is_none());
}
