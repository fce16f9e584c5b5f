//! lbuild's wheel file lists checked against the real build backends: each case writes a small
//! project, asks `read_project`/`wheel_files`/`metadata` what the wheel holds, builds the wheel
//! with the backend itself (`python3 -m pip wheel --no-deps --no-build-isolation`, with the
//! `python3` on `PATH`; CI's venv pins every backend) and compares the file lists, the METADATA
//! fields (Name, Version, Requires-Dist, Requires-Python, Provides-Extra) and entry points.
//! Without `python3`, or without a backend, a case skips with a printed reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use super::read_project;
use crate::python::metadata;
use crate::zipio::WheelReader;

/// The module that must import for `backend` to build.
fn backend_module(backend: &str) -> &'static str {
    match backend {
        "uv_build" => "uv_build",
        "hatchling.build" => "hatchling.build",
        "setuptools.build_meta" => "setuptools.build_meta",
        "flit_core.buildapi" => "flit_core.buildapi",
        "pdm.backend" => "pdm.backend",
        "poetry.core.masonry.api" => "poetry.core.masonry.api",
        other => panic!("no such backend in these tests: {other}"),
    }
}

/// Why the real `backend` cannot run here, if it cannot.
fn unavailable(backend: &str) -> Option<String> {
    let run = |args: &[&str]| Command::new("python3").args(args).output();
    match run(&["-c", "import sys; print(sys.version)"]) {
        Err(err) => return Some(format!("no python3 on PATH ({err})")),
        Ok(out) if !out.status.success() => return Some("python3 does not run".into()),
        Ok(_) => {}
    }
    match run(&["-m", "pip", "--version"]) {
        Ok(out) if out.status.success() => {}
        _ => return Some("python3 has no pip".into()),
    }
    let module = backend_module(backend);
    match run(&["-c", &format!("import {module}")]) {
        Ok(out) if out.status.success() => None,
        _ => Some(format!("python3 cannot import {module} (CI installs it in target/ci-venv)")),
    }
}

/// The version of the installed distribution `dist`, for the messages.
fn installed_version(dist: &str) -> String {
    Command::new("python3")
        .args(["-c", &format!("import importlib.metadata as m; print(m.version('{dist}'))")])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}

/// A `pyproject.toml` for `backend` with the shared metadata, then `rest`.
pub(super) fn pyproject(name: &str, backend: &str, requires: &str, rest: &str) -> String {
    format!(
        r#"[build-system]
requires = ["{requires}"]
build-backend = "{backend}"

[project]
name = "{name}"
version = "1.2.0"
description = "A test project"
requires-python = ">=3.9"
dependencies = ["requests>=2,<3", "tomli; python_version < '3.11'"]

[project.optional-dependencies]
cli = ["click>=8"]
Fancy_Extra = ["rich[jupyter]>=13; sys_platform != 'win32'"]

[project.scripts]
demo = "demo_cli:main"

[project.entry-points."demo.plugins"]
one = "demo_cli.plugins:one"

{rest}
"#
    )
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Build `files` as a project with the real `backend` and compare with lbuild's view.
pub(super) fn compare(backend: &str, dist: &str, files: &[(&str, &str)]) {
    if let Some(why) = unavailable(backend) {
        println!("skipped: {why}");
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("project");
    write(&root, files);
    let project = read_project(&root).unwrap_or_else(|err| panic!("lbuild cannot read the project: {err:?}"));
    let ours: Vec<String> = project
        .wheel_files()
        .unwrap_or_else(|err| panic!("lbuild cannot decide the files: {err:?}"))
        .into_iter()
        .map(|file| file.archive_path)
        .collect();
    let our_metadata = metadata::parse(project.metadata().as_bytes()).expect("lbuild's METADATA parses");
    let wheel_files = project.wheel_files().unwrap();
    let our_dist_info = project.dist_info_files(&wheel_files).unwrap();

    let out = temp.path().join("out");
    let built = Command::new("python3")
        .args(["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", "--no-index", "-q", "-w"])
        .arg(&out)
        .arg(&root)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{backend} {} failed to build the wheel:\n{}{}",
        installed_version(dist),
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
    let wheel = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .expect("pip wrote a wheel");
    let mut reader = WheelReader::open(&wheel, "built").unwrap();
    let mut theirs = Vec::new();
    for entry in reader.entries().unwrap() {
        let top = entry.name.split('/').next().unwrap_or_default();
        if !top.ends_with(".dist-info") {
            theirs.push(entry.name.clone());
        }
    }
    theirs.sort();
    println!("{backend} {}: {theirs:?}", installed_version(dist));
    assert_eq!(ours, theirs, "lbuild's file list (left) differs from {backend}'s wheel (right)");

    let dist_info = reader.dist_info(&project.name).unwrap();
    assert_eq!(dist_info, project.dist_info_dir().trim_end_matches(".dist-info").to_string() + ".dist-info");
    let their_metadata = metadata::parse(&reader.read_member(&format!("{dist_info}/METADATA")).unwrap()).unwrap();
    assert_eq!(our_metadata.name, their_metadata.name);
    assert_eq!(our_metadata.version, their_metadata.version);
    let requirements = |meta: &metadata::CoreMetadata| -> BTreeSet<String> {
        meta.requires_dist
            .iter()
            .map(|req| {
                pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(&req.to_string()).unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(requirements(&our_metadata), requirements(&their_metadata), "Requires-Dist");
    assert_eq!(our_metadata.requires_python, their_metadata.requires_python, "Requires-Python");
    let extras = |meta: &metadata::CoreMetadata| meta.provides_extra.iter().cloned().collect::<BTreeSet<_>>();
    assert_eq!(extras(&our_metadata), extras(&their_metadata), "Provides-Extra");

    let entry_points = |text: &str| -> BTreeMap<String, BTreeMap<String, String>> {
        let mut groups: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut group = String::new();
        for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
            if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
                group = name.to_string();
            } else if let Some((key, value)) = line.split_once('=') {
                groups.entry(group.clone()).or_default().insert(key.trim().into(), value.trim().into());
            }
        }
        groups
    };
    let ours_entry_points = our_dist_info
        .iter()
        .find(|(path, _)| path.ends_with("/entry_points.txt"))
        .map(|(_, bytes)| entry_points(&String::from_utf8_lossy(bytes)))
        .unwrap_or_default();
    let theirs_entry_points = reader
        .read_member(&format!("{dist_info}/entry_points.txt"))
        .map(|bytes| entry_points(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default();
    assert_eq!(ours_entry_points, theirs_entry_points, "entry_points.txt");
}

macro_rules! case {
    ($test:ident, $backend:literal, $dist:literal, $files:expr) => {
        #[test]
        fn $test() {
            compare($backend, $dist, $files);
        }
    };
}

const INIT: &str = "\"\"\"A package.\"\"\"\n";

fn uv(rest: &str) -> String {
    pyproject("demo-pkg", "uv_build", "uv_build", rest)
}

case!(
    uv_build_src_layout,
    "uv_build",
    "uv-build",
    &[
        ("pyproject.toml", &uv("")),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/core.py", ""),
        ("src/demo_pkg/data/table.json", "{}"),
        ("src/demo_pkg/sub/__init__.py", ""),
        ("src/demo_pkg/py.typed", ""),
        ("src/demo_pkg/__pycache__/core.cpython-311.pyc", "x"),
        ("src/demo_pkg/stale.pyc", "x"),
        ("src/other/__init__.py", ""),
        ("tests/test_core.py", ""),
        ("README.md", "readme"),
    ]
);

case!(
    uv_build_flat_layout,
    "uv_build",
    "uv-build",
    &[
        ("pyproject.toml", &uv("[tool.uv.build-backend]\nmodule-root = \"\"\n")),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/mod.py", ""),
        ("tests/test_mod.py", ""),
    ]
);

case!(
    uv_build_module_name_and_excludes,
    "uv_build",
    "uv-build",
    &[
        (
            "pyproject.toml",
            &uv(r#"[tool.uv.build-backend]
module-name = "renamed"
module-root = "lib"
wheel-exclude = ["tests", "/lib/renamed/fixtures/big.bin"]
source-exclude = ["*.bak"]
"#),
        ),
        ("lib/renamed/__init__.py", INIT),
        ("lib/renamed/tests/test_a.py", ""),
        ("lib/renamed/fixtures/big.bin", "x"),
        ("lib/renamed/fixtures/small.bin", "x"),
        ("lib/renamed/old.py.bak", ""),
    ]
);

case!(
    uv_build_namespace,
    "uv_build",
    "uv-build",
    &[
        ("pyproject.toml", &uv("[tool.uv.build-backend]\nmodule-name = \"corp.demo\"\n")),
        ("src/corp/demo/__init__.py", INIT),
        ("src/corp/demo/x.py", ""),
        ("src/corp/unrelated.py", ""),
    ]
);

case!(
    uv_build_namespace_whole,
    "uv_build",
    "uv-build",
    &[
        ("pyproject.toml", &uv("[tool.uv.build-backend]\nmodule-name = \"corp\"\nnamespace = true\n")),
        ("src/corp/a/__init__.py", INIT),
        ("src/corp/b/m.py", ""),
    ]
);

case!(
    uv_build_several_modules,
    "uv_build",
    "uv-build",
    &[
        ("pyproject.toml", &uv("[tool.uv.build-backend]\nmodule-name = [\"alpha\", \"beta\"]\n")),
        ("src/alpha/__init__.py", INIT),
        ("src/beta/__init__.py", INIT),
        ("src/gamma/__init__.py", INIT),
    ]
);

fn hatch(rest: &str) -> String {
    pyproject("Demo.Pkg", "hatchling.build", "hatchling", rest)
}

case!(
    hatchling_src_layout,
    "hatchling.build",
    "hatchling",
    &[
        ("pyproject.toml", &hatch("")),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/core.py", ""),
        ("src/demo_pkg/data/table.json", "{}"),
        ("src/demo_pkg/__pycache__/core.cpython-311.pyc", "x"),
        ("src/demo_pkg/.DS_Store", "x"),
        ("tests/test_core.py", ""),
    ]
);

case!(
    hatchling_flat_layout_name_as_written,
    "hatchling.build",
    "hatchling",
    &[
        ("pyproject.toml", &hatch("")),
        ("Demo.Pkg/__init__.py", INIT),
        ("Demo.Pkg/m.py", ""),
        ("demo_pkg/__init__.py", INIT),
    ]
);

case!(
    hatchling_single_module,
    "hatchling.build",
    "hatchling",
    &[("pyproject.toml", &hatch("")), ("demo_pkg.py", INIT), ("other.py", ""), ("tests/test_x.py", ""),]
);

case!(
    hatchling_namespace_default,
    "hatchling.build",
    "hatchling",
    &[
        ("pyproject.toml", &hatch("")),
        ("corp/demo_pkg/__init__.py", INIT),
        ("corp/demo_pkg/x.py", ""),
        ("corp/other/__init__.py", ""),
    ]
);

case!(
    hatchling_gitignore_and_exclude,
    "hatchling.build",
    "hatchling",
    &[
        ("pyproject.toml", &hatch("[tool.hatch.build.targets.wheel]\nexclude = [\"*.log\", \"demo_pkg/tests/\"]\n")),
        (".gitignore", "generated/\n*.tmp\n"),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/run.log", ""),
        ("demo_pkg/scratch.tmp", ""),
        ("demo_pkg/generated/out.py", ""),
        ("demo_pkg/tests/test_a.py", ""),
        ("demo_pkg/keep.txt", ""),
    ]
);

case!(
    hatchling_packages_and_sources,
    "hatchling.build",
    "hatchling",
    &[
        ("pyproject.toml", &hatch("[tool.hatch.build.targets.wheel]\npackages = [\"lib/first\", \"second\"]\n"),),
        ("lib/first/__init__.py", INIT),
        ("lib/first/data.csv", ""),
        ("second/__init__.py", INIT),
        ("third/__init__.py", INIT),
    ]
);

case!(
    hatchling_only_include_with_sources_table,
    "hatchling.build",
    "hatchling",
    &[
        (
            "pyproject.toml",
            &hatch(
                "[tool.hatch.build.targets.wheel]\nonly-include = [\"code/pkg\", \"tool.py\"]\n\n\
             [tool.hatch.build.targets.wheel.sources]\n\"code/pkg\" = \"renamed\"\n",
            ),
        ),
        ("code/pkg/__init__.py", INIT),
        ("code/pkg/inner/mod.py", ""),
        ("tool.py", ""),
        ("other.py", ""),
    ]
);

case!(
    hatchling_include_patterns,
    "hatchling.build",
    "hatchling",
    &[
        (
            "pyproject.toml",
            &hatch("[tool.hatch.build]\ninclude = [\"/demo_pkg\", \"*.cfg\"]\nexclude = [\"demo_pkg/skip.py\"]\n"),
        ),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/skip.py", ""),
        ("setup.cfg", ""),
        ("sub/extra.cfg", ""),
        ("other.py", ""),
    ]
);

case!(
    hatchling_only_packages_and_artifacts,
    "hatchling.build",
    "hatchling",
    &[
        (
            "pyproject.toml",
            &hatch(
                "[tool.hatch.build.targets.wheel]\npackages = [\"src/demo_pkg\"]\nonly-packages = true\n\
             artifacts = [\"*.so\"]\n",
            ),
        ),
        (".gitignore", "*.so\n"),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/_native.so", "x"),
        ("src/demo_pkg/assets/logo.txt", ""),
        ("src/demo_pkg/sub/__init__.py", ""),
        ("src/demo_pkg/sub/d.txt", ""),
    ]
);

fn setuptools(rest: &str) -> String {
    pyproject("demo-pkg", "setuptools.build_meta", "setuptools", rest)
}

case!(
    setuptools_src_layout_discovery,
    "setuptools.build_meta",
    "setuptools",
    &[
        ("pyproject.toml", &setuptools("")),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/core.py", ""),
        ("src/demo_pkg/py.typed", ""),
        ("src/demo_pkg/core.pyi", ""),
        ("src/demo_pkg/data/table.json", "{}"),
        ("src/demo_pkg/data/helper.py", ""),
        ("src/demo_pkg/sub/__init__.py", ""),
        ("src/demo_pkg/.hidden.py", ""),
        ("src/toplevel.py", ""),
        ("tests/test_core.py", ""),
        ("README.md", "readme"),
    ]
);

case!(
    setuptools_flat_layout_discovery,
    "setuptools.build_meta",
    "setuptools",
    &[
        ("pyproject.toml", &setuptools("")),
        ("setup.py", "from setuptools import setup\n\nsetup()\n"),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/util.py", ""),
        ("demo_pkg/assets/logo.svg", ""),
        ("tests/__init__.py", ""),
        ("tests/test_util.py", ""),
        ("docs/conf.py", ""),
        ("examples/ex.py", ""),
        ("_private/__init__.py", ""),
        ("conftest.py", ""),
    ]
);

case!(
    setuptools_flat_single_module,
    "setuptools.build_meta",
    "setuptools",
    &[
        ("pyproject.toml", &setuptools("")),
        ("demo_mod.py", INIT),
        ("conftest.py", ""),
        ("noxfile.py", ""),
        ("tests/test_mod.py", ""),
    ]
);

case!(
    setuptools_explicit_packages_and_package_dir,
    "setuptools.build_meta",
    "setuptools",
    &[
        (
            "pyproject.toml",
            &setuptools("[tool.setuptools]\npackages = [\"alpha\", \"alpha.beta\"]\npackage-dir = {\"\" = \"lib\"}\n"),
        ),
        ("lib/alpha/__init__.py", INIT),
        ("lib/alpha/beta/__init__.py", ""),
        ("lib/alpha/beta/x.py", ""),
        ("lib/alpha/gamma/__init__.py", ""),
        ("lib/other/__init__.py", ""),
    ]
);

case!(
    setuptools_find_regular_packages_excluding_tests,
    "setuptools.build_meta",
    "setuptools",
    &[
        (
            "pyproject.toml",
            &setuptools(
                "[tool.setuptools.packages.find]\nwhere = [\"src\"]\nexclude = [\"*.tests\", \"*.tests.*\"]\n\
             namespaces = false\n",
            ),
        ),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/tests/__init__.py", ""),
        ("src/demo_pkg/tests/test_x.py", ""),
        ("src/demo_pkg/nsdir/mod.py", ""),
        ("src/demo_pkg/real/__init__.py", ""),
    ]
);

case!(
    setuptools_find_namespace_with_include,
    "setuptools.build_meta",
    "setuptools",
    &[
        ("pyproject.toml", &setuptools("[tool.setuptools.packages.find]\nwhere = [\"src\"]\ninclude = [\"corp*\"]\n"),),
        ("src/corp/demo/__init__.py", INIT),
        ("src/corp/demo/x.py", ""),
        ("src/corp/loose.py", ""),
        ("src/unrelated/__init__.py", ""),
    ]
);

case!(
    setuptools_find_in_root_finds_every_directory,
    "setuptools.build_meta",
    "setuptools",
    &[
        ("pyproject.toml", &setuptools("[tool.setuptools.packages.find]\n")),
        ("demo_pkg/__init__.py", INIT),
        ("tests/test_x.py", ""),
        ("scripts/run.py", ""),
    ]
);

case!(
    setuptools_package_data,
    "setuptools.build_meta",
    "setuptools",
    &[
        (
            "pyproject.toml",
            &setuptools(
                "[tool.setuptools]\ninclude-package-data = false\n\n[tool.setuptools.package-data]\n\
             demo_pkg = [\"data/*.json\", \"templates/**/*.html\"]\n\"*\" = [\"*.txt\"]\n\n\
             [tool.setuptools.exclude-package-data]\ndemo_pkg = [\"data/skip.json\"]\n",
            ),
        ),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/notes.txt", ""),
        ("src/demo_pkg/data/a.json", ""),
        ("src/demo_pkg/data/skip.json", ""),
        ("src/demo_pkg/data/b.csv", ""),
        ("src/demo_pkg/templates/base.html", ""),
        ("src/demo_pkg/templates/mail/welcome.html", ""),
        ("src/demo_pkg/templates/mail/.draft.html", ""),
        ("src/demo_pkg/sub/__init__.py", ""),
        ("src/demo_pkg/sub/readme.txt", ""),
    ]
);

case!(
    setuptools_py_modules,
    "setuptools.build_meta",
    "setuptools",
    &[
        (
            "pyproject.toml",
            &setuptools("[tool.setuptools]\npy-modules = [\"solo\", \"helpers\"]\npackage-dir = {\"\" = \"lib\"}\n")
        ),
        ("lib/solo.py", INIT),
        ("lib/helpers.py", ""),
        ("lib/other.py", ""),
    ]
);

fn flit(rest: &str) -> String {
    pyproject("demo-pkg", "flit_core.buildapi", "flit_core", rest)
}

case!(
    flit_package_flat,
    "flit_core.buildapi",
    "flit-core",
    &[
        ("pyproject.toml", &flit("")),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/data/table.json", "{}"),
        ("demo_pkg/.config", ""),
        ("demo_pkg/__pycache__/x.cpython-311.pyc", "x"),
        ("tests/test_x.py", ""),
    ]
);

case!(
    flit_module_in_src,
    "flit_core.buildapi",
    "flit-core",
    &[("pyproject.toml", &flit("")), ("src/demo_pkg.py", INIT), ("src/other.py", ""),]
);

case!(
    flit_module_name_namespace,
    "flit_core.buildapi",
    "flit-core",
    &[
        ("pyproject.toml", &flit("[tool.flit.module]\nname = \"corp.demo\"\n")),
        ("corp/demo/__init__.py", INIT),
        ("corp/demo/x.py", ""),
        ("corp/unrelated.py", ""),
    ]
);

fn pdm(rest: &str) -> String {
    pyproject("demo-pkg", "pdm.backend", "pdm-backend", rest)
}

case!(
    pdm_src_layout,
    "pdm.backend",
    "pdm-backend",
    &[
        ("pyproject.toml", &pdm("")),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/data/table.json", "{}"),
        ("src/demo_pkg/.hidden", ""),
        ("src/not_a_package/mod.py", ""),
        ("tests/test_x.py", ""),
    ]
);

case!(
    pdm_flat_layout,
    "pdm.backend",
    "pdm-backend",
    &[
        ("pyproject.toml", &pdm("")),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/util.py", ""),
        ("second/__init__.py", ""),
        ("tests/__init__.py", ""),
        ("tests/test_x.py", ""),
        ("loose.py", ""),
    ]
);

case!(
    pdm_flat_modules,
    "pdm.backend",
    "pdm-backend",
    &[("pyproject.toml", &pdm("")), ("demo_pkg.py", INIT), ("conftest.py", ""), ("tests/test_x.py", ""),]
);

case!(
    pdm_includes_and_excludes,
    "pdm.backend",
    "pdm-backend",
    &[
        (
            "pyproject.toml",
            &pdm("[tool.pdm.build]\nincludes = [\"src/demo_pkg\", \"extra/*.txt\"]\nexcludes = [\"**/fixtures\", \
             \"src/demo_pkg/secret.py\"]\nsource-includes = [\"scripts\"]\n",),
        ),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/secret.py", ""),
        ("src/demo_pkg/fixtures/a.json", ""),
        ("src/demo_pkg/tests/test_x.py", ""),
        ("extra/notes.txt", ""),
        ("extra/.hidden.txt", ""),
        ("scripts/run.py", ""),
    ]
);

case!(
    pdm_package_dir,
    "pdm.backend",
    "pdm-backend",
    &[
        ("pyproject.toml", &pdm("[tool.pdm.build]\npackage-dir = \"lib\"\n")),
        ("lib/demo_pkg/__init__.py", INIT),
        ("lib/demo_pkg/x.py", ""),
        ("src/ignored/__init__.py", ""),
    ]
);

fn poetry(rest: &str) -> String {
    pyproject("demo-pkg", "poetry.core.masonry.api", "poetry-core", rest)
}

case!(
    poetry_flat_default,
    "poetry.core.masonry.api",
    "poetry-core",
    &[
        ("pyproject.toml", &poetry("")),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/data/table.json", "{}"),
        ("demo_pkg/.hidden", ""),
        ("tests/test_x.py", ""),
    ]
);

case!(
    poetry_src_module_default,
    "poetry.core.masonry.api",
    "poetry-core",
    &[("pyproject.toml", &poetry("")), ("src/demo_pkg.py", INIT), ("src/other.py", ""),]
);

case!(
    poetry_packages_from_to,
    "poetry.core.masonry.api",
    "poetry-core",
    &[
        (
            "pyproject.toml",
            &poetry(
                "[tool.poetry]\npackages = [\n  { include = \"alpha\", from = \"lib\" },\n  { include = \"beta/**/*.py\" },\n  \
             { include = \"gamma\", to = \"vendor\" },\n  { include = \"delta\", format = \"sdist\" },\n]\n",
            ),
        ),
        ("lib/alpha/__init__.py", INIT),
        ("lib/alpha/data.txt", ""),
        ("beta/__init__.py", ""),
        ("beta/sub/m.py", ""),
        ("beta/sub/notes.txt", ""),
        ("gamma/__init__.py", ""),
        ("delta/__init__.py", ""),
    ]
);

case!(
    poetry_include_and_exclude,
    "poetry.core.masonry.api",
    "poetry-core",
    &[
        (
            "pyproject.toml",
            &poetry(
                "[tool.poetry]\ninclude = [{ path = \"extra/*.json\", format = [\"sdist\", \"wheel\"] }, \
             \"CHANGELOG.md\"]\nexclude = [\"demo_pkg/secret.txt\", \"demo_pkg/tests\"]\n",
            ),
        ),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/secret.txt", ""),
        ("demo_pkg/tests/test_x.py", ""),
        ("demo_pkg/keep.txt", ""),
        ("extra/a.json", ""),
        ("CHANGELOG.md", ""),
    ]
);

case!(
    setuptools_manifest_in,
    "setuptools.build_meta",
    "setuptools",
    &[
        ("pyproject.toml", &setuptools("")),
        (
            "MANIFEST.in",
            "include README.md\ninclude src/demo_pkg/data/*.json\nrecursive-include src/demo_pkg/templates *.html *.txt\n\
         graft src/demo_pkg/static\nprune src/demo_pkg/static/dev\nglobal-exclude *.log  # no logs\n\
         exclude src/demo_pkg/data/skip.json\nglobal-include *.cfg\nrecursive-exclude src/demo_pkg/templates \\\n  \
         draft*\n",
        ),
        ("README.md", "readme"),
        ("src/demo_pkg/__init__.py", INIT),
        ("src/demo_pkg/data/a.json", ""),
        ("src/demo_pkg/data/skip.json", ""),
        ("src/demo_pkg/data/b.csv", ""),
        ("src/demo_pkg/templates/base.html", ""),
        ("src/demo_pkg/templates/draft_x.html", ""),
        ("src/demo_pkg/templates/mail/welcome.txt", ""),
        ("src/demo_pkg/templates/mail/run.log", ""),
        ("src/demo_pkg/static/app.css", ""),
        ("src/demo_pkg/static/.keep", ""),
        ("src/demo_pkg/static/dev/debug.css", ""),
        ("src/demo_pkg/static/helper.py", ""),
        ("src/demo_pkg/settings.cfg", ""),
        ("src/demo_pkg/not-a-module.py", ""),
        ("tests/data/fixture.json", ""),
    ]
);

case!(
    hatchling_ignore_vcs_and_skip_excluded_dirs,
    "hatchling.build",
    "hatchling",
    &[
        (
            "pyproject.toml",
            &hatch(
                "[tool.hatch.build]\nignore-vcs = true\ninclude = [\"/demo_pkg\", \"/tools\"]\nexclude = [\"tools/big/\"]\n\
             skip-excluded-dirs = true\n",
            ),
        ),
        (".gitignore", "*.generated\n"),
        ("demo_pkg/__init__.py", INIT),
        ("demo_pkg/table.generated", ""),
        ("tools/t.py", ""),
        ("tools/big/blob.bin", ""),
        ("other/x.py", ""),
    ]
);

case!(
    uv_build_stub_package,
    "uv_build",
    "uv-build",
    &[
        ("pyproject.toml", &pyproject("demo-stubs", "uv_build", "uv_build", "")),
        ("src/demo-stubs/__init__.pyi", ""),
        ("src/demo-stubs/sub.pyi", ""),
    ]
);

case!(
    setuptools_find_in_several_wheres,
    "setuptools.build_meta",
    "setuptools",
    &[
        (
            "pyproject.toml",
            &setuptools("[tool.setuptools.packages.find]\nwhere = [\"lib\", \"plugins\"]\nnamespaces = false\n")
        ),
        ("lib/demo_pkg/__init__.py", INIT),
        ("lib/demo_pkg/sub/__init__.py", ""),
        ("plugins/demo_plugin/__init__.py", ""),
        ("plugins/loose/mod.py", ""),
    ]
);
