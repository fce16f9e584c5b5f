//! `lbuild export`: the pinned requirements of one target, with hashes, for pip.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::GlobalOptions;
use super::lock::{LockOptions, lock_workspace};
use crate::platform::parse_target_name;

/// Options of `lbuild export`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub global: GlobalOptions,
    /// `--target python3.12-arm64`.
    pub target: String,
    /// `-p NAME`: only the closure of these functions or layers.
    pub packages: Vec<String>,
}

/// Produce the `requirements.txt` text (relocking first if the lock is stale).
pub fn export(options: &ExportOptions) -> miette::Result<String> {
    let workspace = options.global.workspace()?;
    if parse_target_name(&options.target).is_none() {
        miette::bail!(
            help = "targets are named `RUNTIME-ARCH`, for example `python3.12-arm64` or `python3.11-x86_64`",
            "`{}` is not a target name",
            options.target
        );
    }
    let (lock, _) =
        lock_workspace(&workspace, &LockOptions { global: options.global.clone(), ..LockOptions::default() })?;
    let target = super::find_target(&lock, &options.target)?;
    let roots = if options.packages.is_empty() {
        None
    } else {
        let mut keys = Vec::new();
        for name in &options.packages {
            let member = super::find_member(&workspace, name)?;
            if !target.members.contains_key(&member.key()) {
                miette::bail!("{member} does not deploy on `{}`", options.target);
            }
            keys.push(member.key());
            // A function's layers provide part of what it imports, so they are part of its closure.
            if let Some(function) = workspace.functions.iter().find(|f| f.name == *name) {
                keys.extend(function.layers.iter().map(|layer| format!("layer.{layer}")));
            }
        }
        Some(keys)
    };
    let closure: BTreeSet<String> = lock.closure(&options.target, roots.as_deref());
    let mut out = String::new();
    let scope =
        if options.packages.is_empty() { "the whole workspace".to_string() } else { options.packages.join(", ") };
    let _ = writeln!(out, "# Exported by lbuild from lambda.lock for {} ({scope}).", options.target);
    for package in &lock.packages {
        if !closure.contains(&package.name) {
            continue;
        }
        let Some(entry) = package.per_target.iter().find(|entry| entry.target == options.target) else { continue };
        if let Some(wheel) = &entry.wheel {
            let _ = writeln!(out, "{}=={} \\\n    --hash=sha256:{}", package.name, package.version, wheel.sha256);
        } else if let Some(gap) = &entry.gap {
            let _ = writeln!(out, "# gap ({}): {}", gap.reason, gap.detail);
            match &gap.sdist {
                Some(sdist) => {
                    let _ =
                        writeln!(out, "{}=={} \\\n    --hash=sha256:{}", package.name, package.version, sdist.sha256);
                }
                None => {
                    let _ = writeln!(out, "# {}=={} has no file for this target", package.name, package.version);
                }
            }
        }
    }
    Ok(out)
}
