use std::path::Path;

use super::*;

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
