//! `lbuild size`: what each zip of the last build weighs, zipped and unzipped, package by package,
//! and for a function with its layers against Lambda's limits. It reads `manifest.json` and the
//! build state (`lbuild size` on the command line runs an up-to-date `lbuild build` first, which
//! writes nothing when nothing changed).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::outdir::{BuildManifest, BuildState};
use crate::output::megabytes;
use crate::platform::{DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT};
use crate::session::GlobalOptions;

/// Options of `lbuild size`.
#[derive(Debug, Clone, Default)]
pub struct SizeOptions {
    pub global: GlobalOptions,
    /// `-p`: only these functions or layers.
    pub packages: Vec<String>,
    /// `--target`: only this target, e.g. `python3.12-arm64`.
    pub target: Option<String>,
    pub out_dir: Option<PathBuf>,
}

/// One package's (or the member's own files') share of a zip, unzipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageSize {
    pub package: String,
    pub unzipped: u64,
    /// The layer it comes from, for a function's layers' packages.
    pub layer: Option<String>,
}

/// One zip of the last build.
#[derive(Debug, Clone, Serialize)]
pub struct ZipSize {
    pub name: String,
    pub kind: String,
    pub target: String,
    pub path: String,
    pub zipped: u64,
    pub unzipped: u64,
    /// A function with all its layers, unzipped: what Lambda's 250 MB limit counts.
    pub unzipped_with_layers: u64,
    /// Its packages and its layers' packages, largest first.
    pub packages: Vec<PackageSize>,
    /// Over the 50 MB of a direct upload (deploy through S3).
    pub over_direct_upload: bool,
    /// Over the 250 MB unzipped limit.
    pub over_unzipped_limit: bool,
}

/// What `lbuild size` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SizeReport {
    pub zips: Vec<ZipSize>,
    pub unzipped_limit: u64,
    pub direct_upload_limit: u64,
}

/// Run `lbuild size` over the last build's output.
pub fn size(options: &SizeOptions) -> miette::Result<SizeReport> {
    // Its warnings were said by the build before it.
    let workspace = crate::output::quietly(|| options.global.workspace())?;
    let out_dir = crate::outdir::location(&workspace.root, options.out_dir.as_deref());
    let Some(manifest) = BuildManifest::read(&out_dir)? else {
        miette::bail!(help = "run `lbuild build` first", "there is no build in `{}` to measure", out_dir.display());
    };
    let state = BuildState::read(&out_dir);
    for name in &options.packages {
        crate::plan::find_member(&workspace, name)?;
    }
    if let Some(wanted) = &options.target
        && !manifest
            .artifacts
            .iter()
            .any(|artifact| format!("{}-{}", artifact.runtime, artifact.architecture) == *wanted)
    {
        miette::bail!(
            help = "`lbuild size` measures the zips of the last build; `lbuild tree` lists the lock's targets",
            "the last build has no zip for the target `{wanted}`"
        );
    }
    let mut zips = Vec::new();
    for artifact in &manifest.artifacts {
        let target = format!("{}-{}", artifact.runtime, artifact.architecture);
        if !options.packages.is_empty() && !options.packages.contains(&artifact.name) {
            continue;
        }
        if options.target.as_ref().is_some_and(|wanted| *wanted != target) {
            continue;
        }
        let Some(entry) = state.artifacts.get(&artifact.path) else { continue };
        let mut packages: Vec<PackageSize> = entry
            .sizes
            .iter()
            .map(|(package, unzipped)| PackageSize { package: package.clone(), unzipped: *unzipped, layer: None })
            .collect();
        let mut with_layers = entry.unzipped_size;
        for layer in artifact.layers.iter().flatten() {
            let Some(layer_entry) = manifest
                .artifacts
                .iter()
                .find(|other| {
                    other.kind == "layer"
                        && other.name == *layer
                        && other.runtime == artifact.runtime
                        && other.architecture == artifact.architecture
                })
                .and_then(|other| state.artifacts.get(&other.path))
            else {
                continue;
            };
            with_layers += layer_entry.unzipped_size;
            packages.extend(layer_entry.sizes.iter().map(|(package, unzipped)| PackageSize {
                package: package.clone(),
                unzipped: *unzipped,
                layer: Some(layer.clone()),
            }));
        }
        packages.sort_by(|a, b| b.unzipped.cmp(&a.unzipped).then_with(|| a.package.cmp(&b.package)));
        zips.push(ZipSize {
            name: artifact.name.clone(),
            kind: artifact.kind.clone(),
            target,
            path: artifact.path.clone(),
            zipped: artifact.size,
            unzipped: artifact.unzipped_size,
            unzipped_with_layers: with_layers,
            packages,
            over_direct_upload: artifact.size > DIRECT_UPLOAD_LIMIT,
            over_unzipped_limit: with_layers > UNZIPPED_LIMIT,
        });
    }
    // Heaviest first: what a size budget is spent on.
    zips.sort_by(|a, b| b.unzipped_with_layers.cmp(&a.unzipped_with_layers).then_with(|| a.path.cmp(&b.path)));
    Ok(SizeReport { zips, unzipped_limit: UNZIPPED_LIMIT, direct_upload_limit: DIRECT_UPLOAD_LIMIT })
}

/// The report for people: each zip, then its packages with their share.
pub fn render(report: &SizeReport, verbose: bool) -> String {
    let mut out = String::new();
    for zip in &report.zips {
        let _ = write!(
            out,
            "{} `{}` on {}: {} zipped, {} unzipped",
            zip.kind,
            zip.name,
            zip.target,
            megabytes(zip.zipped),
            megabytes(zip.unzipped)
        );
        if zip.kind == "function" {
            let share = zip.unzipped_with_layers as f64 * 100.0 / report.unzipped_limit as f64;
            let _ = write!(
                out,
                ", {} with its layers ({share:.0}% of Lambda's 250 MB)",
                megabytes(zip.unzipped_with_layers)
            );
        }
        if zip.over_direct_upload {
            out.push_str("; over 50 MB zipped: deploy through S3");
        }
        if zip.over_unzipped_limit {
            out.push_str("; OVER the 250 MB unzipped limit");
        }
        out.push('\n');
        // The ten largest unless `-v`.
        let shown = if verbose { zip.packages.len() } else { zip.packages.len().min(10) };
        let labels: Vec<String> = zip.packages[..shown]
            .iter()
            .map(|package| match &package.layer {
                Some(layer) => format!("{} (layer {layer})", package.package),
                None => package.package.clone(),
            })
            .collect();
        let width = labels.iter().map(String::len).max().unwrap_or(0);
        for (label, package) in labels.iter().zip(&zip.packages) {
            let _ = writeln!(out, "  {label:width$}  {:>9}", megabytes(package.unzipped));
        }
        if shown < zip.packages.len() {
            let _ = writeln!(out, "  … {} more (`-v` lists them all)", zip.packages.len() - shown);
        }
    }
    out
}
