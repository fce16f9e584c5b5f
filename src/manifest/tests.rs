use std::path::Path;

use super::*;
use crate::model::MAX_MEMBER_NAME;

fn load(text: &str) -> miette::Result<Workspace> {
    Workspace::from_str_at(text, Path::new("/nonexistent/lambda.toml"))
}

#[test]
fn the_committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/lambda.schema.json");
    let generated = schema_json();
    if std::env::var_os("LBUILD_UPDATE_SCHEMA").is_some() {
        fs_err::write(&path, &generated).unwrap();
    }
    let committed = fs_err::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/lambda.schema.json is stale; run `LBUILD_UPDATE_SCHEMA=1 cargo test` and commit it"
    );
}

#[test]
fn the_schema_refuses_what_the_manifest_refuses_in_source() {
    // Editors validate with the schema: `source = []` and `source = ""` are errors there too.
    let schema: serde_json::Value = serde_json::from_str(&schema_json()).unwrap();
    let paths = &schema["$defs"]["SourcePaths"]["anyOf"];
    assert_eq!(paths[0]["minLength"], 1, "{paths}");
    assert_eq!(paths[1]["minItems"], 1, "{paths}");
    assert_eq!(paths[1]["items"]["minLength"], 1, "{paths}");
}

#[test]
fn defaults_lock_both_architectures_of_python312_on_pypi() {
    let workspace = load("[function.f]\nrequirements = [\"requests\"]\n").unwrap();
    assert_eq!(workspace.runtime.name, "python3.12");
    assert_eq!(workspace.architectures, [Architecture::X86_64, Architecture::Arm64]);
    assert_eq!(workspace.index_url, DEFAULT_INDEX_URL);
    assert_eq!(workspace.prerelease, PrereleaseMode::IfNecessaryOrExplicit);
    let names: Vec<_> = workspace.targets().iter().map(|(target, _)| target.name()).collect();
    assert_eq!(names, ["python3.12-arm64", "python3.12-x86_64"]);
}

#[test]
fn layers_follow_the_functions_that_use_them() {
    let workspace = load(
        "[workspace]\nruntime = \"python3.11\"\npython-full-version = \"3.11.9\"\n\
         [layer.shared]\nrequirements = [\"six\"]\n\
         [layer.unused]\n\
         [function.a]\nlayers = [\"shared\"]\narchitecture = \"arm64\"\n\
         [function.b]\nlayers = [\"shared\"]\nruntime = \"python3.13\"\narchitecture = \"x86_64\"\n",
    )
    .unwrap();
    let targets: Vec<(String, String, Vec<String>)> = workspace
        .targets()
        .iter()
        .map(|(target, members)| {
            (target.name(), target.python_full_version.to_string(), members.iter().map(MemberId::key).collect())
        })
        .collect();
    assert_eq!(
        targets,
        [
            (
                "python3.11-arm64".into(),
                "3.11.9".into(),
                vec!["function.a".into(), "layer.shared".into(), "layer.unused".into()]
            ),
            ("python3.11-x86_64".into(), "3.11.9".into(), vec!["layer.unused".into()]),
            ("python3.13-x86_64".into(), "3.13.9".into(), vec!["function.b".into(), "layer.shared".into()]),
        ]
    );
}

#[test]
fn bad_values_are_errors_with_hints() {
    let cases = [
        ("[workspace]\narchitectures = [\"aarch64\"]\n", "Lambda calls this architecture `arm64`"),
        ("[workspace]\narchitectures = []\n", "`workspace.architectures` is empty"),
        ("[workspace]\nprerelease = \"sometimes\"\n", "unknown pre-release mode `sometimes`"),
        ("[workspace]\npython-full-version = \"3.11.2\"\n", "must be a 3.12.Z version"),
        ("[workspace]\nindex-url = \"not a url\"\n", "is not a URL"),
        ("[function.x]\n[layer.x]\n", "`x` is both a function and a layer"),
        ("[function.\"bad name\"]\n", "`bad name` is not a valid function name"),
        ("[function.f]\nrequirements = [\"pkg @ https://example.com/pkg.whl\"]\n", "direct URL requirement"),
        ("[function.f]\nrequirements = \"requests\"\n", "is not valid"),
    ];
    for (text, expected) in cases {
        let report = load(text).expect_err(text);
        let rendered = format!("{report:?} {}", report.help().map(|h| h.to_string()).unwrap_or_default());
        assert!(rendered.contains(expected), "{text}: {rendered}");
    }
}

#[test]
fn the_commented_example_manifest_is_valid() {
    let root = tempfile::tempdir().unwrap();
    fs_err::create_dir_all(root.path().join("wheels")).unwrap();
    fs_err::create_dir_all(root.path().join("functions/api")).unwrap();
    let text = include_str!("../../lambda.toml.example");
    let workspace = Workspace::from_str_at(text, &root.path().join("lambda.toml")).unwrap();
    assert_eq!(workspace.extra_indexes.len(), 1);
    assert_eq!(workspace.sources.get("corp-utils").map(String::as_str), Some("internal"));
    assert_eq!(workspace.strip, ["**/tests/**", "**/*.pyi"]);
    let api = &workspace.functions[0];
    assert_eq!((api.architecture, api.runtime.map(|r| r.name)), (Some(Architecture::Arm64), Some("python3.11")));
    assert_eq!(api.exclude, ["tests/**"]);
}

#[test]
fn index_configuration_errors_point_at_the_entry() {
    let cases = [
        (
            "[[workspace.index]]\nname = \"default\"\nurl = \"https://x.example/simple/\"\n",
            "invalid index name `default`",
        ),
        (
            "[[workspace.index]]\nname = \"a\"\nurl = \"https://x.example/simple/\"\napi = \"soap\"\n",
            "unknown index API `soap`",
        ),
        ("[workspace.sources]\nfoo = { index = \"nowhere\" }\n", "pinned to index `nowhere`, which does not exist"),
    ];
    for (text, expected) in cases {
        let report = load(text).expect_err(text);
        assert!(format!("{report:?}").contains(expected), "{text}: {report:?}");
    }
}

#[test]
fn a_huge_value_is_never_echoed_whole() {
    let huge = "x".repeat(20 * 1024 * 1024);
    let text = format!("[workspace]\nruntime = \"{huge}\"\n\n[function.f]\nrequirements = [\"{huge}\"]\n");
    let report = load(&text).expect_err("unknown runtime");
    let error = report.downcast_ref::<ManifestError>().expect("a span error");
    assert!(error.message().len() < 400, "{} bytes", error.message().len());
    assert!(error.message().contains("unknown runtime `xxx") && error.message().contains('…'));
    assert!(error.snippet().len() < 400, "{} bytes", error.snippet().len());
    assert!(
        error.snippet().starts_with("\nruntime = \"xxx"),
        "the line keeps its number: {:?}",
        &error.snippet()[..20]
    );
    // A huge requirement is quoted short too.
    let text = format!("[function.f]\nrequirements = [\"{huge}!\"]\n");
    let report = load(&text).expect_err("bad requirement");
    let error = report.downcast_ref::<ManifestError>().expect("a span error");
    assert!(error.message().len() < 2000 && error.snippet().len() < 400, "{}", error.message().len());
}

#[test]
fn a_bad_requirements_file_shows_one_line_with_its_number() {
    let dir = tempfile::tempdir().unwrap();
    // Like /proc/self/environ: NUL-separated, and a secret further on.
    let environ = format!("PATH=/usr/bin\0HOME=/root\0{}\nSECRET_TOKEN=hunter2-do-not-print\n", "A=1\0".repeat(200));
    fs_err::write(dir.path().join("environ"), &environ).unwrap();
    fs_err::write(dir.path().join("second.txt"), "requests\nnot a requirement!! SECRET=hunter2-do-not-print\nsix\n")
        .unwrap();
    for (file, line) in [("environ", 1), ("second.txt", 2)] {
        let text = format!("[function.f]\nrequirements-file = \"{file}\"\n");
        let report = Workspace::from_str_at(&text, &dir.path().join("lambda.toml")).expect_err(file);
        let error = report.downcast_ref::<ManifestError>().expect("a span error");
        let rendered = format!("{report:?}");
        if file == "environ" {
            // Not text at all: refused without quoting a byte of it.
            assert!(error.message().contains("it is not a text file"), "{}", error.message());
            assert!(!rendered.contains("PATH=") && !rendered.contains("SECRET_TOKEN"), "{rendered}");
            continue;
        }
        assert!(error.message().contains(&format!("(line {line} of `")), "{}", error.message());
        assert_eq!(error.snippet().trim_start_matches('\n').lines().count(), 1, "one line: {:?}", error.snippet());
        assert!(error.snippet().len() < 400 + line, "{} bytes", error.snippet().len());
        if file == "environ" {
            assert!(!rendered.contains("SECRET_TOKEN"), "{rendered}");
        } else {
            assert!(rendered.contains(":2:"), "the snippet names line 2: {rendered}");
            assert!(!rendered.contains("requests") && !rendered.contains("six"), "{rendered}");
        }
    }
}

#[test]
fn an_unparsable_index_url_never_shows_its_password() {
    let cases = [
        "[workspace]\nindex-url = \"https://me:s3cret@pypi corp/simple/\"\n",
        "[[workspace.index]]\nname = \"corp\"\nurl = \"https://me:s3cret@pypi corp/simple/\"\n",
    ];
    for text in cases {
        let report = load(text).expect_err(text);
        let rendered = format!("{report:?} {report}");
        assert!(!rendered.contains("s3cret"), "{rendered}");
        assert!(rendered.contains("****@pypi corp"), "{rendered}");
    }
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// TOML-ish text: lambda.toml's own keys and tables, values of every type, and noise.
    fn tomlish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("[workspace]\n".to_string()),
            Just("[function.f]\n".to_string()),
            Just("[layer.l]\n".to_string()),
            Just("[[workspace.index]]\n".to_string()),
            Just("[workspace.sources]\n".to_string()),
            prop::sample::select(vec![
                "runtime",
                "architectures",
                "index-url",
                "requirements",
                "requirements-file",
                "layers",
                "handler",
                "source",
                "include",
                "exclude",
                "name",
                "url",
                "api",
                "find-links",
                "prerelease",
                "python-full-version",
                "architecture",
                "strip",
                "explicit",
                "index",
            ])
            .prop_flat_map(|key| {
                prop_oneof![
                    "\"[^\"\\\\\n]{0,20}\"".prop_map(|v| v.to_string()),
                    "\\[(\"[a-z0-9 =<>.!@:/_-]{0,12}\", ?){0,3}\\]",
                    "-?[0-9]{1,5}",
                    Just("true".to_string()),
                    Just("{ index = \"default\" }".to_string()),
                ]
                .prop_map(move |value| format!("{key} = {value}\n"))
            }),
            "[ -~\t\n\u{0}-\u{1f}é\u{7f}]{0,20}",
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any text gives a workspace or an error, never a panic; errors never quote more than
        /// a line.
        #[test]
        fn the_manifest_loader_never_panics(text in tomlish()) {
            if let Err(report) = load(&text) {
                let rendered = format!("{report:?}");
                prop_assert!(rendered.len() < 4000, "{rendered}");
            }
        }
    }
}

#[test]
fn member_names_longer_than_lambda_allows_are_refused() {
    let longest = "f".repeat(MAX_MEMBER_NAME);
    load(&format!("[function.{longest}]\nrequirements = []\n")).unwrap();
    let err = load(&format!("[function.{longest}x]\nrequirements = []\n")).unwrap_err();
    assert!(err.to_string().contains("is not a valid function name"), "{err}");
    let help = err.help().map(|help| help.to_string()).unwrap_or_default();
    assert!(help.contains("at most 140 characters"), "{help}");
}

#[test]
fn paths_outside_the_workspace_are_refused_links_included() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    fs_err::create_dir_all(root.join("src")).unwrap();
    fs_err::write(dir.path().join("secret.txt"), "requests\n").unwrap();
    fs_err::write(root.join("requirements.txt"), "requests\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
    let load_at = |body: &str| Workspace::from_str_at(body, &root.join("lambda.toml"));
    load_at("[function.f]\nsource = \"src\"\nrequirements-file = \"requirements.txt\"\n").unwrap();
    let mut refused = vec![
        "[function.f]\nsource = \"..\"\n".to_string(),
        "[function.f]\nsource = \"src/../..\"\n".to_string(),
        format!("[function.f]\nsource = \"{}\"\n", dir.path().display()),
        "[function.f]\nrequirements-file = \"../secret.txt\"\n".to_string(),
        "[function.f]\nrequirements-file = \"/etc/hostname\"\n".to_string(),
    ];
    if cfg!(unix) {
        refused.push("[function.f]\nrequirements-file = \"link.txt\"\n".to_string());
    }
    for body in refused {
        let err = load_at(&body).expect_err(&body);
        assert!(err.to_string().contains("is outside the workspace"), "{body}: {err}");
    }
    // `-r` includes too.
    fs_err::write(root.join("src/more.txt"), "six\n").unwrap();
    fs_err::write(root.join("top.txt"), "-r src/more.txt\n").unwrap();
    let workspace = load_at("[function.f]\nrequirements-file = \"top.txt\"\n").unwrap();
    assert_eq!(workspace.functions[0].requirements.len(), 1);
    fs_err::write(root.join("top.txt"), "-r ../secret.txt\n").unwrap();
    let err = load_at("[function.f]\nrequirements-file = \"top.txt\"\n").unwrap_err();
    assert!(err.to_string().contains("is outside the workspace"), "{err}");
}

#[test]
fn source_is_one_directory_or_several_each_checked_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    for sub in ["functions/api", "shared/py", "layers/common"] {
        fs_err::create_dir_all(root.join(sub)).unwrap();
    }
    fs_err::write(root.join("file.txt"), "x\n").unwrap();
    fs_err::create_dir_all(dir.path().join("outside")).unwrap();
    let load_at = |body: &str| Workspace::from_str_at(body, &root.join("lambda.toml"));
    let workspace = load_at(
        "[function.f]\nsource = [\n  \"functions/api\",\n  \"shared/py\",\n]\n\n\
         [layer.common]\nsource = \"layers/common\"\nexclude = [\"tests/**\"]\n",
    )
    .unwrap();
    let sources: Vec<(String, usize)> =
        workspace.functions[0].sources.iter().map(|s| (s.path.display().to_string(), s.line)).collect();
    assert_eq!(sources, [("functions/api".to_string(), 3), ("shared/py".to_string(), 4)]);
    let layer = &workspace.layers[0];
    assert_eq!((layer.sources[0].path.display().to_string(), layer.sources[0].line), ("layers/common".to_string(), 8));
    assert_eq!(layer.exclude, ["tests/**"]);
    assert!(load_at("[function.f]\nrequirements = []\n").unwrap().functions[0].sources.is_empty());

    let mut refused = vec![
        ("[function.f]\nsource = [\"functions/api\", \"../outside\"]\n", "\"../outside\"", "is outside the workspace"),
        ("[layer.l]\nsource = \"../outside\"\n", "\"../outside\"", "is outside the workspace"),
        ("[function.f]\nsource = [\"functions/api\", \"nope\"]\n", "\"nope\"", "`nope` of function `f` does not exist"),
        ("[layer.l]\nsource = [\"file.txt\"]\n", "\"file.txt\"", "is not a directory"),
        ("[function.f]\nsource = []\n", "[]", "lists no directory"),
        ("[function.f]\nsource = [\"\"]\n", "\"\"", "is empty"),
        ("[function.f]\nsource = [\"shared/py\", \"./shared/py/\"]\n", "\"./shared/py/\"", "is the same directory as"),
        ("[function.f]\nsource = [\".\", \"shared/py\"]\n", "\"shared/py\"", "is inside its source `.`"),
        ("[function.f]\nsource = [\"shared/py\", \"shared\"]\n", "\"shared\"", "holds its source `shared/py`"),
        ("[function.f]\nsource = 3\n", "3", "a directory or an array of directories"),
    ];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("out-link")).unwrap();
        refused.push((
            "[function.f]\nsource = [\"shared/py\", \"out-link\"]\n",
            "\"out-link\"",
            "is outside the workspace",
        ));
    }
    for (body, spanned, needle) in refused {
        let err = load_at(body).expect_err(body);
        let shown = format!("{err:?}");
        assert!(err.to_string().contains(needle), "{body}: {err}");
        assert!(shown.contains(spanned), "{body}: the error points at {spanned}: {shown}");
    }
    // Two members may share a directory.
    load_at("[function.a]\nsource = [\"functions/api\", \"shared/py\"]\n[layer.b]\nsource = \"shared/py\"\n").unwrap();
}

#[test]
fn a_requirements_file_that_is_a_device_or_huge_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("huge.txt"), "requests\n".repeat(600_000)).unwrap();
    let err =
        Workspace::from_str_at("[function.f]\nrequirements-file = \"huge.txt\"\n", &dir.path().join("lambda.toml"))
            .unwrap_err();
    assert!(err.to_string().contains("more than a requirements file can be"), "{err}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.txt")).unwrap();
        // A link out of the workspace is refused before it is opened.
        let err =
            Workspace::from_str_at("[function.f]\nrequirements-file = \"zero.txt\"\n", &dir.path().join("lambda.toml"))
                .unwrap_err();
        assert!(err.to_string().contains("outside the workspace"), "{err}");
        fs_err::create_dir_all(dir.path().join("dir.txt")).unwrap();
        let err =
            Workspace::from_str_at("[function.f]\nrequirements-file = \"dir.txt\"\n", &dir.path().join("lambda.toml"))
                .unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}

#[test]
fn includes_in_every_spelling_are_followed_and_fan_out_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [("a.txt", "six\n"), ("b.txt", "idna\n"), ("c.txt", "attrs\n"), ("d.txt", "-i https://x\n-v\n")]
    {
        fs_err::write(dir.path().join(name), body).unwrap();
    }
    fs_err::write(dir.path().join("top.txt"), "-r a.txt\n-rb.txt\n--requirement=c.txt\n--requirement d.txt\n").unwrap();
    let load = |file: &str| {
        Workspace::from_str_at(
            &format!("[function.f]\nrequirements-file = \"{file}\"\n"),
            &dir.path().join("lambda.toml"),
        )
    };
    let names: Vec<String> =
        load("top.txt").unwrap().functions[0].requirements.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, ["six", "idna", "attrs"]);
    // Three levels of 300 includes each would read 27 million files.
    let fan = |to: &str| format!("-r {to}\n").repeat(300);
    fs_err::write(dir.path().join("f1.txt"), fan("f2.txt")).unwrap();
    fs_err::write(dir.path().join("f2.txt"), fan("f3.txt")).unwrap();
    fs_err::write(dir.path().join("f3.txt"), "six\n").unwrap();
    let err = load("f1.txt").unwrap_err();
    assert!(err.to_string().contains("include more than 256 files in all"), "{err}");
}

/// The pure translation (`translate`): no file or environment is read, so these need no
/// directory and set no variable.
mod translation {
    use super::*;
    use crate::manifest::translate::{Draft, PathRef, translate};

    fn translate_text(text: &str, env: &Environment) -> Result<Draft, ManifestError> {
        let manifest_path = Path::new("/nonexistent/ws/lambda.toml");
        let ctx = error::Context { source: std::sync::Arc::new(text.to_string()), name: "lambda.toml".into() };
        let parsed = load::parse(&ctx)?;
        translate(parsed.manifest, &ctx, Path::new("/nonexistent/ws"), manifest_path, env)
    }

    fn error(text: &str) -> ManifestError {
        match translate_text(text, &Environment::default()) {
            Ok(_) => panic!("translated: {text}"),
            Err(err) => err,
        }
    }

    #[test]
    fn the_index_url_from_the_environment_replaces_the_default_index_and_sets_its_api() {
        let text = "[workspace]\nindex-url = \"https://corp.example/simple/\"\n";
        let plain = translate_text(text, &Environment::default()).unwrap().workspace;
        assert_eq!(plain.indexes()[0].url, "https://corp.example/simple/");
        assert_eq!(plain.indexes()[0].api, IndexApi::Simple);
        let env = Environment::from_lookup(|name| {
            (name == "LBUILD_INDEX_URL").then(|| " https://mirror.example/pypi \n".to_string())
        });
        let workspace = translate_text(text, &env).unwrap().workspace;
        let default = workspace.indexes().pop().unwrap();
        assert_eq!((default.name.as_str(), default.url.as_str()), ("default", "https://mirror.example/pypi"));
        assert_eq!(default.api, IndexApi::PypiJson, "the API follows the URL in effect");
        // lambda.toml's own value is kept as written.
        assert_eq!(workspace.index_url, "https://corp.example/simple/");
        // A blank variable is no override.
        let blank = Environment::from_lookup(|_| Some("  ".to_string()));
        assert_eq!(blank, Environment::default());
    }

    #[test]
    fn paths_are_collected_in_order_and_not_looked_at() {
        let text = "[workspace]\nfind-links = [\"wheels\", \"more\"]\n\
                    [layer.l]\nrequirements = [\"six\"]\nrequirements-file = \"l/requirements.txt\"\n\
                    [function.f]\nsource = \"../elsewhere\"\nrequirements-file = \"f/pyproject.toml\"\n";
        let draft = translate_text(text, &Environment::default()).expect("nothing on disk is needed");
        let paths: Vec<String> = draft
            .paths
            .iter()
            .map(|path| match path {
                PathRef::FindLinks(dir) => format!("find-links {}", dir.get_ref()),
                PathRef::RequirementsFile { member, file, .. } => format!("{} {}", member.key(), file.get_ref()),
                PathRef::Source(member, dir) => format!("source {} {}", member.key(), dir.get_ref()),
                PathRef::LocalPackage(name, dir) => format!("local {name} {}", dir.get_ref()),
            })
            .collect();
        assert_eq!(
            paths,
            [
                "find-links wheels",
                "find-links more",
                "layer.l l/requirements.txt",
                "function.f f/pyproject.toml",
                "source function.f ../elsewhere",
            ]
        );
        assert!(draft.workspace.find_links.is_empty());
        assert_eq!(draft.workspace.layers[0].requirements.len(), 1, "the inline requirements only");
    }

    #[test]
    fn errors_point_at_the_value_with_a_label_and_a_fix() {
        let err = error("[workspace]\nprerelease = \"sometimes\"\n");
        assert_eq!(err.message(), "unknown pre-release mode `sometimes`");
        assert_eq!((err.spanned_text(), err.label()), ("\"sometimes\"", "unknown mode"));
        assert_eq!(err.help_text(), Some("use `allow`, `disallow` or `if-necessary-or-explicit` (the default)"));

        let err = error("[[workspace.index]]\nname = \"a\"\nurl = \"https://x.example/simple/\"\napi = \"soap\"\n");
        assert_eq!((err.message(), err.spanned_text()), ("unknown index API `soap`", "\"soap\""));

        let err = error("[layer.common]\n[function.f]\nlayers = [\"common\", \"comon\"]\n");
        assert_eq!(err.message(), "function `f` uses layer `comon`, which does not exist");
        assert_eq!((err.spanned_text(), err.help_text()), ("\"comon\"", Some("the layers are: `common`")));

        let err = error("[layer.common]\n[function.f]\nlayers = [\"common\", \"common\"]\n");
        assert_eq!(err.message(), "function `f` uses layer `common` twice");
        assert_eq!((err.spanned_text(), err.label()), ("\"common\"", "again here"));
        let at = miette::Diagnostic::labels(&err).unwrap().next().unwrap().offset();
        assert_eq!(&err.snippet()[at..], "\"common\"]", "the second one");

        let err = error("[function.f]\nhandler = \"app.\"\n");
        assert_eq!((err.message(), err.label()), ("`app.` is not a Lambda handler", "not `module.function`"));

        let err = error("[workspace]\nruntime = \"python3.11\"\npython-full-version = \"3.12.1\"\n");
        assert_eq!(err.message(), "`python-full-version` must be a 3.11.Z version for runtime `python3.11`");
        assert_eq!(err.spanned_text(), "\"3.12.1\"");

        let err = error("[workspace]\nstrip = [\"**/tests/**\", \"a[\"]\n");
        assert_eq!((err.message(), err.spanned_text()), ("invalid glob `a[`", "\"a[\""));
    }

    #[test]
    fn resolution_modes_and_isolated_functions() {
        let err = error("[workspace]\nresolution = \"per-target\"\n");
        assert_eq!((err.message(), err.spanned_text()), ("unknown resolution mode `per-target`", "\"per-target\""));
        assert!(err.help_text().unwrap().contains("`per-function`"));

        let text = "[workspace]\nresolution = \"per-function\"\n[layer.own]\n[function.f]\nisolated = true\nlayers = [\"own\"]\n[function.g]\n";
        let draft = translate_text(text, &Environment::default()).unwrap();
        assert_eq!(draft.workspace.resolution, ResolutionMode::PerFunction);
        assert!(draft.workspace.functions[0].isolated && !draft.workspace.functions[1].isolated);
        assert_eq!(translate_text("", &Environment::default()).unwrap().workspace.resolution, ResolutionMode::Unified);

        // An isolated function's layers are its own: the error names both functions and the layer.
        let err = error(
            "[layer.base]\n[function.a]\nlayers = [\"base\"]\nisolated = true\n[function.b]\nlayers = [\"base\"]\n",
        );
        assert_eq!(err.message(), "function `a` is `isolated`, but shares layer `base` with function `b`");
        assert_eq!((err.spanned_text(), err.label()), ("true", "isolated here"));
        assert!(err.help_text().unwrap().contains("resolution = \"per-function\""), "{:?}", err.help_text());
        // `isolated = false` shares layers as any function does.
        let shared =
            "[layer.base]\n[function.a]\nlayers = [\"base\"]\nisolated = false\n[function.b]\nlayers = [\"base\"]\n";
        translate_text(shared, &Environment::default()).unwrap();
    }

    #[test]
    fn a_url_that_does_not_parse_is_shown_redacted_in_the_snippet_too() {
        let err = error("[workspace]\nindex-url = \"https://me:s3cret@pypi corp/simple/\"\n");
        assert_eq!(err.message(), "`workspace.index-url` is not a URL: `https://****@pypi corp/simple/`");
        assert_eq!(err.spanned_text(), "\"https://****@pypi corp/simple/\"");
        assert!(!err.snippet().contains("s3cret"), "{}", err.snippet());
    }

    #[test]
    fn more_than_five_layers_is_a_warning_not_an_error() {
        let layers: String = (1..=6).map(|n| format!("[layer.l{n}]\n")).collect();
        let text = format!("{layers}[function.f]\nlayers = [\"l1\", \"l2\", \"l3\", \"l4\", \"l5\", \"l6\"]\n");
        let draft = translate_text(&text, &Environment::default()).unwrap();
        assert_eq!(draft.warnings, ["function `f` uses 6 layers; Lambda allows at most 5"]);
        assert_eq!(draft.workspace.functions[0].layers.len(), 6);
        let five = text.replace(", \"l6\"", "");
        assert!(translate_text(&five, &Environment::default()).unwrap().warnings.is_empty());
    }
    #[test]
    fn project_lock_takes_three_modes_under_two_names() {
        use crate::model::ProjectLockMode;
        let mode = |text: &str| translate_text(text, &Environment::default()).unwrap().workspace.project_lock;
        assert_eq!(mode("[workspace]\n"), ProjectLockMode::Prefer);
        assert_eq!(mode("[workspace]\nproject-lock = \"require\"\n"), ProjectLockMode::Require);
        assert_eq!(mode("[workspace]\nuv-lock = \"ignore\"\n"), ProjectLockMode::Ignore);
        let err = error("[workspace]\nproject-lock = \"always\"\n");
        assert_eq!((err.message(), err.spanned_text()), ("unknown project-lock mode `always`", "\"always\""));
    }

    #[test]
    fn external_layers_take_one_arn_or_one_per_architecture_with_the_packages_they_provide() {
        const ARN: &str =
            "arn:aws:lambda:${AWS::Region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7";
        let text = format!(
            "[workspace]\narchitectures = [\"x86_64\", \"arm64\"]\n[function.f]\n\
             external-layers = [\n  {{ arn = {{ x86_64 = \"{ARN}\", arm64 = \"{}\" }}, provides = [\"AWS_Lambda_Powertools\"] }},\n  \
             {{ arn = \"arn:aws:lambda:us-east-1:123456789012:layer:x:1\", provides = [\"numpy\"] }},\n]\n",
            ARN.replace("x86_64", "arm64")
        );
        let draft = translate_text(&text, &Environment::default()).unwrap();
        let layers = &draft.workspace.functions[0].external_layers;
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[0].arns[&Architecture::X86_64], ARN);
        assert_eq!(layers[0].arns[&Architecture::Arm64], ARN.replace("x86_64", "arm64"));
        assert_eq!(layers[0].provides, ["aws-lambda-powertools"]);
        assert_eq!((layers[0].line, layers[1].line), (5, 6));
        assert_eq!(layers[1].arns.len(), 2, "one ARN serves every architecture");
        assert_eq!(ExternalLayer::short_name(ARN), "AWSLambdaPowertoolsPythonV3-python312-x86_64");

        let err = error(&text.replace(":layer:x:1", ":function:x:1"));
        assert_eq!(err.spanned_text(), "\"arn:aws:lambda:us-east-1:123456789012:function:x:1\"");
        assert!(err.message().contains("is not a layer version ARN"), "{}", err.message());
        let err = error(&text.replace(":layer:x:1", ":layer:x"));
        assert!(err.message().contains("is not a layer version ARN"), "{}", err.message());
        // Deploying on arm64 needs an arm64 ARN.
        let err = error(&text.replace(&format!(", arm64 = \"{}\"", ARN.replace("x86_64", "arm64")), ""));
        assert_eq!(err.message(), "an external layer of function `f` has no ARN for `arm64`");
        let only_x86 = text
            .replace(&format!(", arm64 = \"{}\"", ARN.replace("x86_64", "arm64")), "")
            .replace("[function.f]\n", "[function.f]\narchitecture = \"x86_64\"\n");
        translate_text(&only_x86, &Environment::default()).unwrap();
        let err = error(&text.replace("arm64 = ", "aarch64 = "));
        assert!(err.message().starts_with("`aarch64` is not an architecture"), "{}", err.message());
        let err = error(&text.replace("[\"numpy\"]", "[\"numpy>=2\"]"));
        assert_eq!(err.message(), "`numpy>=2` is not a package name, in `provides` of function `f`");
        let err = error(&text.replace("[\"numpy\"]", "[]"));
        assert_eq!(err.message(), "an external layer of function `f` provides no package");
        // Lambda takes each layer once, at one version: the same ARN through a per-architecture
        // table, or another version of it, is refused.
        let twice = text.replace(
            "arn:aws:lambda:us-east-1:123456789012:layer:x:1",
            &ARN.replace(":7", ":8").replace("${AWS::Region}", "eu-west-1"),
        );
        translate_text(&twice, &Environment::default()).unwrap();
        let twice = text.replace("arn:aws:lambda:us-east-1:123456789012:layer:x:1", &ARN.replace(":7", ":8"));
        let err = error(&twice);
        assert_eq!(err.message(), "function `f` lists two versions of one layer twice on x86_64 (line 5 and here)");
        let err = error(&text.replace("arn:aws:lambda:us-east-1:123456789012:layer:x:1", ARN));
        assert_eq!(err.message(), "function `f` lists the same external layer twice on x86_64 (line 5 and here)");
        for bad in [
            ":layer:x:0",
            ":layer:x\\u001b[31m:1",
            ":layer:x y:1",
            ":layer:x:99999999999999999999",
            "us-east-1:123:layer:x:1",
            "us-east-1:#23456789012:layer:x:1",
            "${AWS::Region:123456789012:layer:x:1",
            "${AWS::Region}x:123456789012:layer:x:1",
            "US-EAST-1:123456789012:layer:x:1",
        ] {
            // A whole `REGION:ACCOUNT:layer:NAME:VERSION`, or the tail from `:layer`.
            let text = match bad.strip_prefix(':') {
                Some(_) => text.replace(":layer:x:1", bad),
                None => text.replace("us-east-1:123456789012:layer:x:1", bad),
            };
            let err = error(&text);
            assert!(err.message().contains("is not a layer version ARN"), "{bad}: {}", err.message());
        }
        for good in ["${AWS::Region}:${AWS::AccountId}", "eu-west-1:${Account}", "${AWS::Region}:017000801446"] {
            translate_text(&text.replace("us-east-1:123456789012", good), &Environment::default()).unwrap();
        }
        // Layers and external layers count together against Lambda's five.
        let many: String = (1..=4).map(|n| format!("[layer.l{n}]\n")).collect();
        let draft = translate_text(
            &format!(
                "{many}{}",
                text.replace("[function.f]\n", "[function.f]\nlayers = [\"l1\", \"l2\", \"l3\", \"l4\"]\n")
            ),
            &Environment::default(),
        )
        .unwrap();
        assert_eq!(draft.warnings, ["function `f` uses 6 layers; Lambda allows at most 5"]);
    }

    #[test]
    fn shared_layer_is_auto_or_none_needs_unified_resolution_and_its_name() {
        let shared = |text: &str| translate_text(text, &Environment::default()).unwrap().workspace.shared_layer;
        assert!(!shared("[workspace]\n"));
        assert!(!shared("[workspace]\nshared-layer = \"none\"\n"));
        assert!(shared("[workspace]\nshared-layer = \"auto\"\n"));
        let err = error("[workspace]\nshared-layer = \"yes\"\n");
        assert_eq!((err.message(), err.spanned_text()), ("unknown shared-layer mode `yes`", "\"yes\""));
        let err = error("[workspace]\nshared-layer = \"auto\"\nresolution = \"per-function\"\n");
        assert_eq!(err.message(), "`shared-layer = \"auto\"` needs `resolution = \"unified\"`");
        let err = error("[workspace]\nshared-layer = \"auto\"\n[layer.shared]\n");
        assert!(err.message().contains("`[layer.shared]` exists"), "{}", err.message());
        let err = error("[workspace]\nshared-layer = \"auto\"\n[function.shared]\n");
        assert!(err.message().contains("and a function has that name"), "{}", err.message());
        let err = error("[workspace]\nshared-layer = \"auto\"\n[layer.Shared]\n");
        assert_eq!(err.message(), "the generated layer `shared` and layer `Shared` differ only in case");
        let err = error("[layer.Common]\n[function.common]\n");
        assert_eq!(err.message(), "layer `Common` and function `common` differ only in case");
    }
}
