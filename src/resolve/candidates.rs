//! Which file of each version a target would install, and why a version has none.
//!
//! pip and uv pick the version first and then the best-tagged file of that version. lbuild
//! does the same, but wheel-first: a version is a candidate for a target only when one of its
//! wheels is compatible (lowest tag priority wins, a higher build tag breaks ties), so the
//! resolver moves to an older version when the newest has no wheel for the target (numpy 2.3
//! on python3.11). When no version has a wheel, the package is a vendoring gap, and
//! [`classify_gap`] says why in terms a user can act on.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;

use pep440_rs::{Version, VersionSpecifiers};

use crate::index::{DistFile, DistKind, Project};
use crate::platform::Target;

/// One version of a project, as seen from one target. The files are the project's own,
/// shared: building a target's list copies no file.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub version: Version,
    /// The best compatible wheel, if any.
    pub wheel: Option<Arc<DistFile>>,
    /// The preferred sdist, if any.
    pub sdist: Option<Arc<DistFile>>,
    /// Every file of this version (for explaining gaps).
    pub files: Vec<Arc<DistFile>>,
    /// All files of the version are yanked.
    pub yanked: bool,
    /// The version's `Requires-Python` excludes the target.
    pub python_incompatible: Option<VersionSpecifiers>,
}

impl Candidate {
    pub fn has_files(&self) -> bool {
        !self.files.is_empty()
    }
}

/// The candidates of a project for a target, newest first.
pub(crate) fn candidates(project: &Project, target: &Target) -> Vec<Candidate> {
    let mut by_version: BTreeMap<&Version, Vec<&Arc<DistFile>>> = BTreeMap::new();
    for file in &project.files {
        by_version.entry(&file.version).or_default().push(file);
    }
    // Versions share their `Requires-Python` text: decide each distinct one once.
    let mut python_fits: Vec<(&VersionSpecifiers, bool)> = Vec::new();
    by_version
        .into_iter()
        .rev()
        .map(|(version, files)| {
            let yanked = files.iter().all(|file| file.yanked.is_some());
            // Yanked files only count when the whole version is yanked (PyPI yanks releases).
            let usable = || files.iter().copied().filter(|file| yanked || file.yanked.is_none());
            let wheel = usable()
                .filter_map(|file| {
                    let DistKind::Wheel(name) = &file.kind else { return None };
                    let priority = target.tags.wheel_priority(name)?;
                    Some((priority, Reverse(&name.build), file))
                })
                .min_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)))
                .map(|(_, _, file)| file);
            let sdist = usable()
                .filter(|file| matches!(file.kind, DistKind::Sdist))
                .min_by_key(|file| !file.filename.ends_with(".tar.gz"));
            let chosen = wheel.or(sdist);
            let requires_python = chosen
                .and_then(|file| file.requires_python.as_ref())
                .or_else(|| files.iter().find_map(|file| file.requires_python.as_ref()));
            let python_incompatible = requires_python.and_then(|specifiers| {
                let fits = match python_fits.iter().find(|(seen, _)| *seen == specifiers) {
                    Some((_, fits)) => *fits,
                    None => {
                        let fits = specifiers.contains(&target.python_full_version);
                        python_fits.push((specifiers, fits));
                        fits
                    }
                };
                (!fits).then(|| specifiers.clone())
            });
            Candidate {
                version: version.clone(),
                wheel: wheel.cloned(),
                sdist: sdist.cloned(),
                files: files.into_iter().cloned().collect(),
                yanked,
                python_incompatible,
            }
        })
        .collect()
}

/// Why a package has no usable wheel for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GapReason {
    /// Only a source distribution is published.
    OnlySdist,
    /// Wheels exist, but only for the other architecture.
    OtherArchitecture,
    /// Linux wheels for this architecture need a newer glibc than the runtime has.
    GlibcTooNew,
    /// Linux wheels for this architecture exist, but none for this Python (or ABI).
    NoWheelForPython,
    /// Wheels exist, but none for manylinux (macOS, Windows, musllinux only).
    NoLinuxWheel,
    /// Only an sdist, and the wheel lbuild built from it holds native code.
    NativeCode,
    /// Only an sdist, and building it failed.
    BuildFailed,
}

impl GapReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            GapReason::OnlySdist => "only-sdist",
            GapReason::OtherArchitecture => "other-architecture",
            GapReason::GlibcTooNew => "glibc-too-new",
            GapReason::NoWheelForPython => "no-wheel-for-python",
            GapReason::NoLinuxWheel => "no-linux-wheel",
            GapReason::NativeCode => "native-code",
            GapReason::BuildFailed => "build-failed",
        }
    }
}

/// `manylinux_2_28_x86_64` -> (28, "x86_64"); legacy aliases map to their glibc.
fn manylinux_glibc(platform: &str) -> Option<(u32, &str)> {
    for (alias, minor) in [("manylinux2014_", 17), ("manylinux2010_", 12), ("manylinux1_", 5)] {
        if let Some(arch) = platform.strip_prefix(alias) {
            return Some((minor, arch));
        }
    }
    let rest = platform.strip_prefix("manylinux_2_")?;
    let (minor, arch) = rest.split_once('_')?;
    Some((minor.parse().ok()?, arch))
}

/// Explain why `candidate` has no compatible wheel for `target`.
pub(crate) fn classify_gap(candidate: &Candidate, target: &Target) -> (GapReason, String) {
    let machine = target.architecture.machine();
    let other_machine = if machine == "x86_64" { "aarch64" } else { "x86_64" };
    let glibc = target.runtime.glibc_minor;
    // Switching architecture or runtime only helps when the wheel's Python and ABI fit.
    let fits_python = |python: &str, abi: &str| target.tags.iter().any(|(p, a, _)| p == python && a == abi);
    // Wheels for this machine whose Python or ABI does not fit, by `python-abi`.
    let mut other_python = Vec::new();
    let mut needs_glibc: Option<u32> = None;
    let mut other_arch = false;
    let mut wheels = 0;
    for file in &candidate.files {
        let DistKind::Wheel(wheel) = &file.kind else { continue };
        wheels += 1;
        for (python, abi, platform) in wheel.tags() {
            let fits = fits_python(python, abi);
            if let Some((minor, arch)) = manylinux_glibc(platform) {
                if arch == machine && !fits {
                    other_python.push(format!("{python}-{abi}"));
                } else if arch == machine && minor > glibc {
                    needs_glibc = Some(needs_glibc.map_or(minor, |current| current.min(minor)));
                } else if arch == other_machine && fits {
                    other_arch = true;
                }
            } else if platform == "any" && !fits {
                other_python.push(format!("{python}-{abi}"));
            } else if platform == format!("linux_{other_machine}") && fits {
                // Only glibc Linux wheels for the other Lambda machine count: macOS, musllinux,
                // i686 or ppc64le wheels do not make a way out by switching architecture.
                other_arch = true;
            }
        }
    }
    let version = &candidate.version;
    if wheels == 0 {
        return (GapReason::OnlySdist, format!("version {version} publishes only a source distribution"));
    }
    // A wheel for exactly this Python that only a newer glibc can load is the most precise reason.
    if let Some(minor) = needs_glibc {
        return (
            GapReason::GlibcTooNew,
            format!(
                "version {version} has {machine} wheels only for glibc 2.{minor} (manylinux_2_{minor}); {} on {} has glibc 2.{glibc}",
                target.runtime.name, target.runtime.os
            ),
        );
    }
    // A wheel that fits this Python and ABI on the other machine is the nearer way out: the
    // user can move the function, while other-Python wheels need another runtime.
    if other_arch {
        let other = if machine == "x86_64" { "arm64" } else { "x86_64" };
        return (
            GapReason::OtherArchitecture,
            format!("version {version} has Linux wheels for CPython 3.{} only for {other}", target.runtime.minor),
        );
    }
    if !other_python.is_empty() {
        sort_tags(&mut other_python);
        return (
            GapReason::NoWheelForPython,
            format!(
                "version {version} has no wheel for CPython 3.{} (it has {})",
                target.runtime.minor,
                other_python.join(", ")
            ),
        );
    }
    (GapReason::NoLinuxWheel, format!("version {version} has no manylinux wheel (only other platforms)"))
}

/// Sort `python-abi` tags by Python version (`py3` < `cp38` < `cp39` < `cp310`), then ABI, and
/// drop duplicates, so that a message lists every one in an order a reader expects.
fn sort_tags(tags: &mut Vec<String>) {
    fn key(tag: &str) -> (u32, Option<u32>, String, String) {
        let (python, abi) = tag.split_once('-').unwrap_or((tag, ""));
        let digits_at = python.find(|c: char| c.is_ascii_digit()).unwrap_or(python.len());
        let (implementation, digits) = python.split_at(digits_at);
        let major = digits.get(..1).and_then(|d| d.parse().ok()).unwrap_or(u32::MAX);
        let minor = digits.get(1..).filter(|rest| !rest.is_empty()).and_then(|rest| rest.parse().ok());
        (major, minor, implementation.to_string(), abi.to_string())
    }
    tags.sort_by_cached_key(|tag| key(tag));
    tags.dedup();
}

/// The Lambda runtimes on `target`'s architecture on which some wheel of `candidate` installs
/// (by tags and `Requires-Python`), oldest first: the runtimes a user could move to.
pub(crate) fn runtimes_with_wheels(candidate: &Candidate, target: &Target) -> Vec<String> {
    crate::platform::RUNTIMES
        .iter()
        .filter(|runtime| runtime.name != target.runtime.name)
        .filter(|runtime| {
            let other = Target::new(**runtime, target.architecture, None);
            candidate.files.iter().any(|file| {
                let DistKind::Wheel(name) = &file.kind else { return false };
                other.tags.wheel_priority(name).is_some()
                    && file.requires_python.as_ref().is_none_or(|rp| rp.contains(&other.python_full_version))
            })
        })
        .map(|runtime| runtime.name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::CoreMetadataOffer;
    use crate::platform::{Architecture, Runtime};
    use crate::python::wheel_name::WheelFilename;
    use std::str::FromStr;

    fn project(wheels: &[&str]) -> Project {
        let version = Version::from_str("1.0").unwrap();
        let files = wheels
            .iter()
            .map(|tags| {
                let filename = format!("pkg-1.0-{tags}.whl");
                Arc::new(DistFile {
                    url: url::Url::parse(&format!("https://files.example/{filename}")).unwrap(),
                    kind: DistKind::Wheel(WheelFilename::parse(&filename).unwrap()),
                    filename,
                    sha256: None,
                    size: None,
                    requires_python: None,
                    yanked: None,
                    core_metadata: CoreMetadataOffer::Available(None),
                    version: version.clone(),
                })
            })
            .collect();
        Project { files, index: None }
    }

    fn target(runtime: &str, architecture: Architecture) -> Target {
        Target::new(Runtime::from_name(runtime).unwrap(), architecture, None)
    }

    #[test]
    fn a_wheel_for_this_python_on_the_other_machine_beats_other_python_wheels() {
        let project = project(&["cp312-cp312-manylinux2014_x86_64", "cp39-cp39-manylinux2014_aarch64"]);
        let arm = target("python3.12", Architecture::Arm64);
        let candidate = &candidates(&project, &arm)[0];
        let (reason, detail) = classify_gap(candidate, &arm);
        assert_eq!(reason, GapReason::OtherArchitecture);
        assert_eq!(detail, "version 1.0 has Linux wheels for CPython 3.12 only for x86_64");
        assert_eq!(runtimes_with_wheels(candidate, &arm), ["python3.9"]);
    }

    #[test]
    fn other_python_tags_are_sorted_by_version_and_complete() {
        let project = project(&[
            "cp310-cp310-manylinux2014_x86_64",
            "cp38-cp38-manylinux2014_x86_64",
            "cp36-cp36m-manylinux2014_x86_64",
            "cp39-cp39-manylinux2014_x86_64",
            "cp37-cp37m-manylinux2014_x86_64",
            "cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64",
            "py2-none-any",
        ]);
        let x86 = target("python3.12", Architecture::X86_64);
        let candidate = &candidates(&project, &x86)[0];
        let (reason, detail) = classify_gap(candidate, &x86);
        assert_eq!(reason, GapReason::NoWheelForPython);
        assert_eq!(
            detail,
            "version 1.0 has no wheel for CPython 3.12 (it has py2-none, cp36-cp36m, cp37-cp37m, cp38-cp38, cp39-cp39, \
             cp310-cp310)"
        );
        assert_eq!(runtimes_with_wheels(candidate, &x86), ["python3.9", "python3.10"]);
    }

    #[test]
    fn no_runtime_has_wheels_when_only_old_pythons_do() {
        let project = project(&["cp38-cp38-manylinux2014_x86_64"]);
        let x86 = target("python3.12", Architecture::X86_64);
        assert!(runtimes_with_wheels(&candidates(&project, &x86)[0], &x86).is_empty());
    }
}
