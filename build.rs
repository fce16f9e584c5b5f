//! Puts the commit into `lbuild --version` when building from a git checkout.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Rebuild when HEAD moves: HEAD itself, and the branch it points to.
    let git = Path::new(".git");
    if git.join("HEAD").is_file() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(reference) = head.trim().strip_prefix("ref: ")
            && git.join(reference).is_file()
        {
            println!("cargo:rerun-if-changed=.git/{reference}");
        }
        // After `git pack-refs` the branch lives here instead.
        if git.join("packed-refs").is_file() {
            println!("cargo:rerun-if-changed=.git/packed-refs");
        }
    }
    let commit = Command::new("git")
        .args(["log", "-1", "--format=%h %cs", "--abbrev=12"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty());
    let suffix = commit.map(|commit| format!(" ({commit})")).unwrap_or_default();
    println!("cargo:rustc-env=LBUILD_COMMIT_SUFFIX={suffix}");
}
