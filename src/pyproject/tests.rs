//! Unit tests without Python: metadata, the `.dist-info` files, the errors, and hostile
//! projects (paths out of the project, symlinks, names a wheel cannot hold).

use std::path::Path;

use super::*;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn project_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<LocalProject, ProjectError>) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("project");
    std::fs::create_dir_all(&root).unwrap();
    write(&root, files);
    let project = read_project(&root);
    (temp, project)
}

fn archive_paths(project: &LocalProject) -> Vec<String> {
    project.wheel_files().unwrap().into_iter().map(|file| file.archive_path).collect()
}

fn pyproject(backend: &str, rest: &str) -> String {
    format!(
        "[build-system]\nrequires = [\"x\"]\nbuild-backend = \"{backend}\"\n\n[project]\nname = \"Demo.Pkg\"\n\
         version = \"1.2.0\"\n{rest}"
    )
}

const UV: &str = "uv_build";
const HATCH: &str = "hatchling.build";

#[test]
fn reads_static_metadata() {
    let text = pyproject(
        UV,
        "description = \"A  demo\\nproject\"\nrequires-python = \">=3.9\"\n\
         dependencies = [\"requests>=2\", \"tomli; python_version < '3.11'\"]\n\
         [project.optional-dependencies]\nFancy_Extra = [\"rich>=13; sys_platform != 'win32'\"]\ncli = [\"click\"]\n\
         [project.scripts]\ndemo = \"demo_pkg:main\"\n",
    );
    let (_temp, project) = project_with(&[("pyproject.toml", &text), ("src/demo_pkg/__init__.py", "")]);
    let project = project.unwrap();
    assert_eq!(project.name, "Demo.Pkg");
    assert_eq!(project.normalized_name, "demo-pkg");
    assert_eq!(project.version.to_string(), "1.2.0");
    assert_eq!(project.backend, Backend::UvBuild);
    assert_eq!(project.dependencies.len(), 2);
    assert_eq!(project.optional_dependencies.keys().collect::<Vec<_>>(), ["cli", "fancy-extra"]);
    assert_eq!(project.requires_python.as_ref().unwrap().to_string(), ">=3.9");
    assert_eq!(project.dist_info_dir(), "demo_pkg-1.2.0.dist-info");

    let metadata = project.metadata();
    let parsed = crate::python::metadata::parse(metadata.as_bytes()).unwrap();
    assert_eq!(parsed.name, "Demo.Pkg");
    assert_eq!(parsed.provides_extra, ["cli", "fancy-extra"]);
    let requires: Vec<String> = parsed.requires_dist.iter().map(ToString::to_string).collect();
    assert!(requires.contains(&"click ; extra == 'cli'".to_string()), "{requires:?}");
    assert!(
        requires.iter().any(|r| r.starts_with("rich>=13")
            && r.contains("sys_platform != 'win32'")
            && r.contains("extra == 'fancy-extra'")),
        "{requires:?}"
    );
    assert!(metadata.starts_with("Metadata-Version: 2.3\nName: Demo.Pkg\nVersion: 1.2.0\nSummary: A demo project\n"));
}

#[test]
fn dist_info_files_are_deterministic_and_record_every_file() {
    let text = pyproject(
        UV,
        "[project.scripts]\ndemo = \"demo_pkg:main\"\n[project.entry-points.\"a.b\"]\nx = \"demo_pkg:x\"\n",
    );
    let (_temp, project) = project_with(&[
        ("pyproject.toml", &text),
        ("src/demo_pkg/__init__.py", "print('hi')\n"),
        ("src/demo_pkg/a,b.txt", "comma"),
    ]);
    let project = project.unwrap();
    let files = project.wheel_files().unwrap();
    let first = project.dist_info_files(&files).unwrap();
    let second = project.dist_info_files(&files).unwrap();
    assert_eq!(first, second);
    let names: Vec<&str> = first.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "demo_pkg-1.2.0.dist-info/METADATA",
            "demo_pkg-1.2.0.dist-info/WHEEL",
            "demo_pkg-1.2.0.dist-info/entry_points.txt",
            "demo_pkg-1.2.0.dist-info/RECORD"
        ]
    );
    let entry_points = String::from_utf8(first[2].1.clone()).unwrap();
    assert_eq!(entry_points, "[a.b]\nx = demo_pkg:x\n\n[console_scripts]\ndemo = demo_pkg:main\n");
    let wheel = String::from_utf8(first[1].1.clone()).unwrap();
    assert!(wheel.contains("Root-Is-Purelib: true\nTag: py3-none-any\n"), "{wheel}");
    let record = String::from_utf8(first[3].1.clone()).unwrap();
    let lines: Vec<&str> = record.lines().collect();
    // sha256 of "print('hi')\n", urlsafe base64 without padding.
    let digest = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        <sha2::Sha256 as sha2::Digest>::digest(b"print('hi')\n"),
    );
    assert_eq!(lines[0], format!("demo_pkg/__init__.py,sha256={digest},12"));
    assert_eq!(lines[1], "\"demo_pkg/a,b.txt\",sha256=".to_string() + &first_digest(b"comma") + ",5");
    assert_eq!(lines.last().unwrap(), &"demo_pkg-1.2.0.dist-info/RECORD,,");
    assert_eq!(lines.len(), 2 + 3 + 1);
}

fn first_digest(bytes: &[u8]) -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        <sha2::Sha256 as sha2::Digest>::digest(bytes),
    )
}

#[test]
fn dynamic_metadata_is_refused_with_the_way_out() {
    for field in ["version", "dependencies", "optional-dependencies"] {
        let text = format!(
            "[build-system]\nbuild-backend = \"hatchling.build\"\n[project]\nname = \"demo\"\nversion = \"1\"\ndynamic = [\"{field}\"]\n"
        );
        let (_temp, project) = project_with(&[("pyproject.toml", &text)]);
        let err = project.unwrap_err();
        assert!(err.message().contains(&format!("`[project].{field}` is dynamic")), "{}", err.message());
        assert_eq!(err.spanned_text().as_deref(), Some(&*format!("\"{field}\"")));
        let help = err.help_text().unwrap();
        assert!(help.contains("lbuild reads static metadata") && help.contains("with a host Python"), "{help}");
    }
}

#[test]
fn a_missing_version_is_refused() {
    let (_temp, project) = project_with(&[("pyproject.toml", "[project]\nname = \"demo\"\n")]);
    assert!(project.unwrap_err().message().contains("has no `version`"));
}

#[test]
fn an_unknown_backend_is_named_and_the_supported_ones_listed() {
    let (_temp, project) = project_with(&[(
        "pyproject.toml",
        "[build-system]\nbuild-backend = \"maturin\"\n[project]\nname = \"demo\"\nversion = \"1\"\n",
    )]);
    let err = project.unwrap_err();
    assert!(err.message().contains("`maturin`"), "{}", err.message());
    assert_eq!(err.spanned_text().as_deref(), Some("\"maturin\""));
    let help = err.help_text().unwrap();
    for backend in [
        "uv_build",
        "hatchling.build",
        "setuptools.build_meta",
        "flit_core.buildapi",
        "pdm.backend",
        "poetry.core.masonry.api",
    ] {
        assert!(help.contains(backend), "{help}");
    }
}

#[test]
fn an_in_tree_backend_is_refused() {
    let (_temp, project) = project_with(&[(
        "pyproject.toml",
        "[build-system]\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n[project]\nname = \"demo\"\nversion = \"1\"\n",
    )]);
    assert!(project.unwrap_err().message().contains("backend-path"));
}

#[test]
fn a_legacy_poetry_project_is_refused_for_now() {
    let (_temp, project) = project_with(&[(
        "pyproject.toml",
        "[build-system]\nbuild-backend = \"poetry.core.masonry.api\"\n[tool.poetry]\nname = \"demo\"\nversion = \"1\"\n",
    )]);
    let err = project.unwrap_err();
    assert!(err.message().contains("without a `[project]` table"), "{}", err.message());
    assert!(err.help_text().unwrap().contains("[project]"));
}

#[test]
fn invalid_requirements_point_at_their_line() {
    let (_temp, project) = project_with(&[(
        "pyproject.toml",
        "[project]\nname = \"demo\"\nversion = \"1\"\ndependencies = [\"requests>=\", \"ok\"]\n",
    )]);
    let err = project.unwrap_err();
    assert!(err.message().contains("is not a PEP 508 requirement"), "{}", err.message());
    assert_eq!(err.spanned_text().as_deref(), Some("\"requests>=\""));
}

#[test]
fn reserved_entry_point_groups_are_refused() {
    let (_temp, project) = project_with(&[(
        "pyproject.toml",
        "[project]\nname = \"demo\"\nversion = \"1\"\n[project.entry-points.console_scripts]\nx = \"a:b\"\n",
    )]);
    assert!(project.unwrap_err().message().contains("is not allowed"));
}

#[test]
fn no_pyproject_is_a_clear_error() {
    let temp = tempfile::tempdir().unwrap();
    let err = read_project(temp.path()).unwrap_err();
    assert!(err.message().contains("pyproject.toml"), "{}", err.message());
}

#[test]
fn a_module_root_outside_the_project_is_refused() {
    for root in ["../elsewhere", "/tmp", "src/../../x", "~/code"] {
        let text = pyproject(UV, &format!("[tool.uv.build-backend]\nmodule-root = \"{root}\"\n"));
        let (_temp, project) = project_with(&[("pyproject.toml", &text)]);
        let err = project.unwrap().wheel_files().unwrap_err();
        assert!(err.message().contains("module-root"), "{root}: {}", err.message());
        assert_eq!(err.spanned_text().as_deref(), Some(&*format!("\"{root}\"")));
    }
}

#[cfg(unix)]
#[test]
fn a_module_root_that_is_a_symlink_out_of_the_project_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), &[("demo_pkg/__init__.py", "secret")]);
    let text = pyproject(UV, "[tool.uv.build-backend]\nmodule-root = \"lib\"\n");
    let (temp, project) = project_with(&[("pyproject.toml", &text)]);
    std::os::unix::fs::symlink(outside.path(), temp.path().join("project/lib")).unwrap();
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("outside the project"), "{}", err.message());
}

#[test]
fn dotdot_in_setuptools_package_dir_is_refused() {
    let text = pyproject("setuptools.build_meta", "[tool.setuptools]\npackage-dir = {\"\" = \"../src\"}\n");
    let (_temp, project) = project_with(&[("pyproject.toml", &text)]);
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("leaves the project directory"), "{}", err.message());
    assert_eq!(err.spanned_text().as_deref(), Some("\"../src\""));
}

#[test]
fn dotdot_in_other_backends_paths_is_refused() {
    let cases = [
        (HATCH, "[tool.hatch.build.targets.wheel]\npackages = [\"../outside\"]\n"),
        (HATCH, "[tool.hatch.build.targets.wheel]\nonly-include = [\"src/../../x\"]\n"),
        (HATCH, "[tool.hatch.build.targets.wheel]\npackages = [\"src/demo_pkg\"]\nsources = {\"src\" = \"../up\"}\n"),
        ("pdm.backend", "[tool.pdm.build]\npackage-dir = \"../lib\"\n"),
        ("pdm.backend", "[tool.pdm.build]\nincludes = [\"../*\"]\n"),
        ("poetry.core.masonry.api", "[tool.poetry]\npackages = [{ include = \"demo_pkg\", from = \"..\" }]\n"),
        ("poetry.core.masonry.api", "[tool.poetry]\npackages = [{ include = \"demo_pkg\", to = \"../x\" }]\n"),
        ("poetry.core.masonry.api", "[tool.poetry]\npackages = [{ include = \"../demo_pkg\" }]\n"),
        ("setuptools.build_meta", "[tool.setuptools.packages.find]\nwhere = [\"..\"]\n"),
        ("setuptools.build_meta", "[tool.setuptools.package-data]\ndemo_pkg = [\"../../*\"]\n"),
    ];
    for (backend, options) in cases {
        let (_temp, project) = project_with(&[
            ("pyproject.toml", &pyproject(backend, options)),
            ("demo_pkg/__init__.py", ""),
            ("src/demo_pkg/__init__.py", ""),
        ]);
        let err = project.unwrap().wheel_files().unwrap_err();
        assert!(err.message().contains(".."), "{backend} {options}: {}", err.message());
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_project_is_refused_when_selected_and_ignored_otherwise() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), &[("secret.txt", "secret"), ("dir/x.py", "")]);
    for (backend, options) in [
        (UV, ""),
        (HATCH, ""),
        ("flit_core.buildapi", "[tool.flit.module]\nname = \"demo_pkg\"\n"),
        ("pdm.backend", ""),
        ("poetry.core.masonry.api", ""),
        ("setuptools.build_meta", "[tool.setuptools.package-data]\n\"*\" = [\"*.txt\"]\n"),
    ] {
        let (temp, project) =
            project_with(&[("pyproject.toml", &pyproject(backend, options)), ("src/demo_pkg/__init__.py", "")]);
        let root = temp.path().join("project");
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("src/demo_pkg/leak.txt")).unwrap();
        let err = project.unwrap().wheel_files().unwrap_err();
        assert!(
            err.message().contains("leak.txt") && err.message().contains("outside the project"),
            "{backend}: {}",
            err.message()
        );
    }
    // A symlinked directory out of the project, in the package, is refused too.
    let (temp, project) = project_with(&[("pyproject.toml", &pyproject(HATCH, "")), ("src/demo_pkg/__init__.py", "")]);
    std::os::unix::fs::symlink(outside.path().join("dir"), temp.path().join("project/src/demo_pkg/linked")).unwrap();
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("linked") && err.message().contains("outside the project"), "{}", err.message());
    // Outside what the backend selects, such a link is no concern (a venv's `bin/python`).
    let (temp, project) = project_with(&[("pyproject.toml", &pyproject(HATCH, "")), ("src/demo_pkg/__init__.py", "")]);
    std::fs::create_dir_all(temp.path().join("project/venv/bin")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), temp.path().join("project/venv/bin/python")).unwrap();
    assert_eq!(archive_paths(&project.unwrap()), ["demo_pkg/__init__.py"]);
}

#[cfg(unix)]
#[test]
fn a_symlink_inside_the_project_is_read_through() {
    let (temp, project) = project_with(&[
        ("pyproject.toml", &pyproject(HATCH, "")),
        ("src/demo_pkg/__init__.py", ""),
        ("shared/data.json", "{}"),
    ]);
    std::os::unix::fs::symlink(
        temp.path().join("project/shared/data.json"),
        temp.path().join("project/src/demo_pkg/data.json"),
    )
    .unwrap();
    let project = project.unwrap();
    let files = project.wheel_files().unwrap();
    assert_eq!(
        files.iter().map(|f| f.archive_path.as_str()).collect::<Vec<_>>(),
        ["demo_pkg/__init__.py", "demo_pkg/data.json"]
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_terminates() {
    let (temp, project) = project_with(&[("pyproject.toml", &pyproject(HATCH, "")), ("src/demo_pkg/__init__.py", "")]);
    std::os::unix::fs::symlink(
        temp.path().join("project/src/demo_pkg"),
        temp.path().join("project/src/demo_pkg/again"),
    )
    .unwrap();
    assert_eq!(archive_paths(&project.unwrap()), ["demo_pkg/__init__.py"]);
}

#[test]
fn names_a_wheel_cannot_hold_are_refused() {
    let (_temp, project) = project_with(&[
        ("pyproject.toml", &pyproject(HATCH, "")),
        ("src/demo_pkg/__init__.py", ""),
        ("src/demo_pkg/back\\slash.py", ""),
    ]);
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("backslash"), "{}", err.message());
}

#[test]
fn a_package_posing_as_metadata_is_refused() {
    let (_temp, project) = project_with(&[
        (
            "pyproject.toml",
            &pyproject(HATCH, "[tool.hatch.build.targets.wheel]\npackages = [\"evil-1.0.dist-info\"]\n"),
        ),
        ("evil-1.0.dist-info/RECORD", ""),
    ]);
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("its own metadata"), "{}", err.message());
}

#[test]
fn two_sources_for_one_entry_are_refused() {
    let (_temp, project) = project_with(&[
        (
            "pyproject.toml",
            &pyproject(
                "poetry.core.masonry.api",
                "[tool.poetry]\npackages = [{ include = \"demo_pkg\" }, { include = \"demo_pkg\", from = \"src\" }]\n",
            ),
        ),
        ("demo_pkg/__init__.py", "a"),
        ("src/demo_pkg/__init__.py", "b"),
    ]);
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("two files would be `demo_pkg/__init__.py`"), "{}", err.message());
}

#[test]
fn bytecode_is_never_shipped() {
    let (_temp, project) = project_with(&[
        ("pyproject.toml", &pyproject("flit_core.buildapi", "[tool.flit.module]\nname = \"demo_pkg\"\n")),
        ("demo_pkg/__init__.py", ""),
        ("demo_pkg/__pycache__/__init__.cpython-312.pyc", "x"),
        ("demo_pkg/__pycache__/notes.txt", "x"),
        ("demo_pkg/old.pyc", "x"),
        ("demo_pkg/old.pyo", "x"),
    ]);
    assert_eq!(archive_paths(&project.unwrap()), ["demo_pkg/__init__.py"]);
}

#[test]
fn options_that_run_code_or_add_outside_files_are_refused() {
    let cases = [
        (HATCH, "[tool.hatch.build.targets.wheel.hooks.custom]\npath = \"hook.py\"\n", "hooks"),
        (
            HATCH,
            "[tool.hatch.build.targets.wheel.force-include]\n\"/etc/passwd\" = \"demo_pkg/passwd\"\n",
            "force-include",
        ),
        (HATCH, "[tool.hatch.build.targets.wheel.shared-data]\n\"data\" = \"share/data\"\n", "shared-data"),
        (UV, "[tool.uv.build-backend.data]\nscripts = \"scripts\"\n", "data"),
        (
            "setuptools.build_meta",
            "[tool.setuptools]\next-modules = [{name = \"x\", sources = [\"x.c\"]}]\n",
            "ext-modules",
        ),
        ("setuptools.build_meta", "[tool.setuptools.cmdclass]\nbuild_py = \"x.Build\"\n", "cmdclass"),
        ("flit_core.buildapi", "[tool.flit.external-data]\ndirectory = \"data\"\n", "external-data"),
        ("pdm.backend", "[tool.pdm.build]\nrun-setuptools = true\n", "run-setuptools"),
        ("poetry.core.masonry.api", "[tool.poetry.build]\nscript = \"build.py\"\n", "build"),
    ];
    for (backend, options, key) in cases {
        let (_temp, project) =
            project_with(&[("pyproject.toml", &pyproject(backend, options)), ("src/demo_pkg/__init__.py", "")]);
        let err = project.unwrap().wheel_files().unwrap_err();
        assert!(err.message().contains(key), "{backend} {key}: {}", err.message());
    }
}

#[test]
fn setuptools_configuration_lbuild_cannot_see_is_refused() {
    let st = "setuptools.build_meta";
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("MANIFEST.in", "include src/demo_pkg/*.txt\nrecursive-include ../outside *\n")], "MANIFEST.in line 2"),
        (&[("setup.py", "from setuptools import setup\nsetup(packages=['x'])\n")], "setup.py"),
        (&[("setup.cfg", "[options]\npackages = find:\n")], "setup.cfg"),
        (&[], "setuptools-scm"),
    ];
    for (extra, key) in cases {
        let requires = if key == "setuptools-scm" { "\"setuptools\", \"setuptools-scm>=8\"" } else { "\"setuptools\"" };
        let text = format!(
            "[build-system]\nrequires = [{requires}]\nbuild-backend = \"{st}\"\n[project]\nname = \"demo-pkg\"\nversion = \"1\"\n"
        );
        let mut files = vec![("pyproject.toml", text.as_str()), ("src/demo_pkg/__init__.py", "")];
        files.extend_from_slice(extra);
        let (_temp, project) = project_with(&files);
        let err = project.unwrap().wheel_files().unwrap_err();
        assert!(err.message().contains(key), "{key}: {}", err.message());
    }
    // The no-op shim and tool-only setup.cfg sections are fine; include-package-data = false
    // makes MANIFEST.in irrelevant.
    let text = format!(
        "[build-system]\nbuild-backend = \"{st}\"\n[project]\nname = \"demo-pkg\"\nversion = \"1\"\n\
         [tool.setuptools]\ninclude-package-data = false\n"
    );
    let (_temp, project) = project_with(&[
        ("pyproject.toml", &text),
        ("setup.py", "# shim\nfrom setuptools import setup\n\nsetup()\n"),
        ("setup.cfg", "[flake8]\nmax-line-length = 100\n"),
        ("MANIFEST.in", "include README.md\n"),
        ("src/demo_pkg/__init__.py", ""),
    ]);
    assert_eq!(archive_paths(&project.unwrap()), ["demo_pkg/__init__.py"]);
}

#[test]
fn layouts_the_backend_would_refuse_are_refused() {
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 6] = [
        (UV, "", &[("demo_pkg/__init__.py", "")], "src/demo_pkg/__init__.py"),
        (HATCH, "", &[("other/__init__.py", "")], "no `Demo.Pkg or demo_pkg` package"),
        (
            "setuptools.build_meta",
            "",
            &[("alpha/__init__.py", ""), ("beta/__init__.py", "")],
            "several top-level packages",
        ),
        (
            "flit_core.buildapi",
            "",
            &[("Demo/Pkg.py", ""), ("src/Demo/Pkg/__init__.py", "")],
            "several files or folders",
        ),
        ("poetry.core.masonry.api", "", &[("demo_pkg/__init__.py", ""), ("demo_pkg.py", "")], "both"),
        (
            UV,
            "[tool.uv.build-backend]\nmodule-name = \"ns.sub\"\n",
            &[("src/ns/__init__.py", ""), ("src/ns/sub/__init__.py", "")],
            "namespace",
        ),
    ];
    for (backend, options, files, expected) in cases {
        let text = pyproject(backend, options);
        let mut all = vec![("pyproject.toml", text.as_str())];
        all.extend_from_slice(files);
        let (_temp, project) = project_with(&all);
        let err = project.unwrap().wheel_files().unwrap_err();
        assert!(err.message().contains(expected), "{backend}: {}", err.message());
    }
}

#[test]
fn a_bad_option_type_points_at_the_key() {
    let (_temp, project) = project_with(&[
        ("pyproject.toml", &pyproject(HATCH, "[tool.hatch.build.targets.wheel]\npackages = \"src/demo_pkg\"\n")),
        ("src/demo_pkg/__init__.py", ""),
    ]);
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("cannot read"), "{}", err.message());
    assert!(err.spanned_text().is_some());
}

#[test]
fn the_glob_helper_follows_python_rules() {
    let temp = tempfile::tempdir().unwrap();
    write(temp.path(), &[("a/x.txt", ""), ("a/.h.txt", ""), ("a/b/y.txt", ""), ("a/.d/z.txt", "")]);
    let tree = files::Tree::new(temp.path()).unwrap();
    let module = tree.glob("", "a/**/*.txt", files::GlobStyle::Module).unwrap();
    assert_eq!(module, ["a/b/y.txt", "a/x.txt"]);
    let pathlib = tree.glob("", "a/**/*.txt", files::GlobStyle::Pathlib).unwrap();
    assert_eq!(pathlib, ["a/.d/z.txt", "a/.h.txt", "a/b/y.txt", "a/x.txt"]);
    assert_eq!(tree.glob("", "a/.*", files::GlobStyle::Module).unwrap(), ["a/.d", "a/.h.txt"]);
    assert!(tree.glob("", "../a", files::GlobStyle::Module).is_err());
}

#[cfg(unix)]
#[test]
fn directory_links_the_backend_refuses_are_refused() {
    for (backend, expected) in [(UV, "uv_build refuses"), ("poetry.core.masonry.api", "symlink")] {
        let (temp, project) = project_with(&[
            ("pyproject.toml", &pyproject(backend, "")),
            ("src/demo_pkg/__init__.py", ""),
            ("shared/x.py", ""),
        ]);
        std::os::unix::fs::symlink("../../shared", temp.path().join("project/src/demo_pkg/linked")).unwrap();
        let err = project.unwrap().wheel_files().unwrap_err();
        assert!(err.message().contains(expected), "{backend}: {}", err.message());
    }
    // poetry ships a linked file under the path it resolves to: refused too.
    let (temp, project) = project_with(&[
        ("pyproject.toml", &pyproject("poetry.core.masonry.api", "")),
        ("src/demo_pkg/__init__.py", ""),
        ("src/shared/g.txt", ""),
    ]);
    std::os::unix::fs::symlink("../shared/g.txt", temp.path().join("project/src/demo_pkg/g.txt")).unwrap();
    let err = project.unwrap().wheel_files().unwrap_err();
    assert!(err.message().contains("symlink"), "{}", err.message());
}
