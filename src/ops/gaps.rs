//! `lbuild gaps`: every vendoring gap, per target, with its reason and the ways out (the gaps
//! and the advice come from `plan::gaps`, which `lbuild build` uses when a gap stops it).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

pub use crate::plan::gaps::Gap;
use crate::plan::{BuildPlan, gaps::collect, selection};
use crate::session::GlobalOptions;

/// Options of `lbuild gaps`.
#[derive(Debug, Clone, Default)]
pub struct GapsOptions {
    pub global: GlobalOptions,
    /// `-p NAME`: only gaps these functions or layers need.
    pub packages: Vec<String>,
    /// `--target`: only this target.
    pub target: Option<String>,
}

/// Every gap of a workspace.
#[derive(Debug, Clone, Serialize)]
pub struct GapsReport {
    pub gaps: Vec<Gap>,
}

impl GapsReport {
    /// Whether a gap stops `lbuild build` (without `--allow-gaps`).
    pub fn blocking(&self) -> bool {
        !self.gaps.is_empty()
    }
}

/// Run `lbuild gaps`.
pub fn gaps(options: &GapsOptions) -> miette::Result<GapsReport> {
    let (workspace, lock) = options.global.locked_workspace()?;
    let mut members = selection(&workspace, &lock, &options.packages, options.target.as_deref())?;
    // A function needs what its layers hold.
    let layers: BTreeSet<String> = workspace
        .functions
        .iter()
        .filter(|function| members.contains(&format!("function.{}", function.name)))
        .flat_map(|function| function.layers.iter().map(|layer| format!("layer.{layer}")))
        .collect();
    members.extend(layers);
    let plan = BuildPlan::new(&workspace, &lock)?;
    let mut gaps = collect(&plan, &lock);
    gaps.retain(|gap| {
        options.target.as_ref().is_none_or(|target| *target == gap.target)
            && (members.is_empty() || gap.needed_by.iter().any(|member| members.contains(member)))
    });
    Ok(GapsReport { gaps })
}

/// A reason code as a short phrase.
fn reason_phrase(reason: &str) -> &'static str {
    match reason {
        "only-sdist" => "only a source distribution is published",
        "other-architecture" => "wheels exist only for the other architecture",
        "glibc-too-new" => "the wheels need a newer glibc than the runtime has",
        "no-wheel-for-python" => "no wheel for this Python version",
        "no-linux-wheel" => "no Linux wheel",
        "native-code" => "only a source distribution, which builds a wheel with native code",
        "build-failed" => "only a source distribution, whose build failed",
        _ => "no usable wheel",
    }
}

/// The report for people.
pub fn render(report: &GapsReport) -> String {
    let mut out = String::new();
    if report.gaps.is_empty() {
        out.push_str("No gaps: every package has a usable wheel on every target.\n");
        return out;
    }
    let mut by_target: BTreeMap<&str, Vec<&Gap>> = BTreeMap::new();
    for gap in &report.gaps {
        by_target.entry(&gap.target).or_default().push(gap);
    }
    for (target, gaps) in by_target {
        let _ = writeln!(out, "{target}: {} gap{}", gaps.len(), if gaps.len() == 1 { "" } else { "s" });
        for gap in gaps {
            let phrase = reason_phrase(&gap.reason);
            let _ = writeln!(out, "  {} {} ({}): {phrase}", gap.package, gap.version, gap.reason);
            // The detail comes from the lock (a pull request may have written it) and, for a
            // build, from the sdist's backend: printed to a terminal, control characters escaped.
            let _ = writeln!(out, "    why:       {}", crate::output::escape_controls(&gap.detail));
            let _ = writeln!(out, "    needed by: {}", gap.needed_by.join(", "));
            for (index, way) in gap.ways_out.iter().enumerate() {
                let label = if index == 0 { "ways out:" } else { "" };
                let _ = writeln!(out, "    {label:<10} - {way}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_detail_with_terminal_escapes_is_printed_escaped() {
        let gap = Gap {
            target: "python3.12-x86_64".into(),
            package: "demo".into(),
            version: "1.0".into(),
            reason: "build-failed".into(),
            detail: "ok\u{1b}]0;pwned\u{7}\u{1b}[2J".into(),
            older_with_wheel: None,
            newer_with_wheel: None,
            sdist: None,
            needed_by: vec!["function.api".into()],
            ways_out: vec![],
            runtimes_with_wheels: vec![],
        };
        let text = render(&GapsReport { gaps: vec![gap] });
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
        assert!(text.contains("why:       ok"), "{text}");
    }
}
