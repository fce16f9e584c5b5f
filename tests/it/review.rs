//! Found in review of the build plan and lock format 3: a lock's extras decide what each zip
//! holds, so a tampered extra must be refused, never followed into a zip; and extras whose
//! edges depend on the target keep every reader in agreement on each target.

use crate::support::files_under;
use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

fn scenario() -> Scenario {
    Scenario::from_packages([
        PackageSpec::new("web", "2.0").extra("speed").dep("core>=1").dep("turbo<4 ; extra == 'speed'"),
        PackageSpec::new("core", "1.5"),
        PackageSpec::new("turbo", "3.1"),
        PackageSpec::new("other", "1.0"),
    ])
}

const MANIFEST: &str = r#"[workspace]
index-url = "{index}"
architectures = ["x86_64"]

[function.plain]
requirements = ["web"]

[function.fast]
requirements = ["web[speed]"]

[function.more]
requirements = ["other"]
"#;

/// The 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap_or_else(|| panic!("`{needle}` is not in:\n{text}"))].matches('\n').count() + 1
}

#[test]
fn a_member_edge_with_an_extra_its_requirement_does_not_ask_for_is_refused() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Json, MANIFEST);
    workspace.run(&["lock"]).ok();
    let text = workspace.lock_text();
    let edge = "\"function.plain\" = [\"web\"]";
    let line = line_of(&text, edge);
    // `plain` requires plain `web`; the tampered edge would put `turbo` into its zip.
    fs_err::write(workspace.lock_path(), text.replacen(edge, "\"function.plain\" = [\"web[speed]\"]", 1)).unwrap();
    for args in [
        &["build"][..],
        &["export", "--target", "python3.12-x86_64", "-p", "plain"],
        &["tree", "-p", "plain"],
        &["gaps"],
    ] {
        let run = workspace.run(args).failed();
        assert!(run.stdout.is_empty(), "{args:?} printed:\n{}", run.stdout);
        let stderr = run.stderr.replace('\n', " ");
        for expected in [
            format!("line {line}:"),
            "`function.plain` on python3.12-x86_64 depends on `web[speed]`, but its requirements ask for `web` without extras"
                .to_string(),
            "run `lbuild lock` to regenerate it".to_string(),
        ] {
            assert!(stderr.contains(&expected), "{args:?}: `{expected}` is not in:\n{}", run.stderr);
        }
    }
    assert!(files_under(&workspace.path().join("target")).is_empty(), "nothing was built");
    // `lbuild lock` replaces it with what the requirements ask for.
    let run = workspace.run(&["lock"]).ok();
    assert!(run.stderr.contains("resolving again"), "{}", run.stderr);
    assert_eq!(workspace.lock_text(), text);
}
