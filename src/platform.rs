//! The Lambda runtime table and the targets lbuild resolves for.
//!
//! A [`Target`] is a (runtime, architecture) pair. Everything lbuild knows about it comes from
//! [`RUNTIMES`]: the Python minor version, a default full version for `python_full_version`,
//! and the glibc ceiling of the runtime's operating system (2.26 for the Amazon Linux 2 runtimes
//! python3.9 to python3.11, 2.34 for the Amazon Linux 2023 runtimes python3.12 and later).
//! From those the target derives its ordered list of compatible wheel tags (the order
//! pypa/packaging produces, checked against `fixtures/tags/`) and its PEP 508 marker
//! environment, which never depends on the machine lbuild runs on.
//!
//! See `platform.md` sections 1.1, 1.2 and 5 for the sources.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use crate::python::tags::{Arch, TagSet};

/// One Lambda Python runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Runtime {
    /// The Lambda identifier, e.g. `python3.12`.
    pub name: &'static str,
    /// `Y` in Python `3.Y`.
    pub minor: u32,
    /// The patch level used for `python_full_version` unless the workspace overrides it.
    ///
    /// AWS does not publish the CPython patch level of its managed runtimes and updates it under
    /// you; these are the newest patch releases known when this table was written.
    pub default_full_version: &'static str,
    /// `X` in glibc `2.X` of the runtime's OS.
    pub glibc_minor: u32,
    /// The runtime's operating system.
    pub os: &'static str,
    /// AWS's lifecycle dates (`YYYY-MM-DD`): deprecation (no more patches), then no new
    /// functions, then no updates. From the Lambda runtimes page as of 2026-07-31; AWS moves
    /// them, so a message quotes them with that date.
    pub deprecated: &'static str,
    pub block_create: &'static str,
    pub block_update: &'static str,
}

/// Lambda's limit on a function plus its layers, unzipped (bytes).
pub const UNZIPPED_LIMIT: u64 = 262_144_000;
/// Lambda's limit on a zip uploaded directly (bytes); larger zips must go through S3.
pub const DIRECT_UPLOAD_LIMIT: u64 = 52_428_800;

/// Every runtime lbuild can target, oldest first.
#[rustfmt::skip]
pub const RUNTIMES: &[Runtime] = &[
    Runtime { name: "python3.9", minor: 9, default_full_version: "3.9.25", glibc_minor: 26, os: "Amazon Linux 2",
        deprecated: "2025-12-15", block_create: "2027-02-01", block_update: "2027-03-03" },
    Runtime { name: "python3.10", minor: 10, default_full_version: "3.10.19", glibc_minor: 26, os: "Amazon Linux 2",
        deprecated: "2026-10-31", block_create: "2027-02-01", block_update: "2027-03-03" },
    Runtime { name: "python3.11", minor: 11, default_full_version: "3.11.14", glibc_minor: 26, os: "Amazon Linux 2",
        deprecated: "2027-06-30", block_create: "2027-07-31", block_update: "2027-08-31" },
    Runtime { name: "python3.12", minor: 12, default_full_version: "3.12.12", glibc_minor: 34, os: "Amazon Linux 2023",
        deprecated: "2028-10-31", block_create: "2028-11-30", block_update: "2029-01-10" },
    Runtime { name: "python3.13", minor: 13, default_full_version: "3.13.9", glibc_minor: 34, os: "Amazon Linux 2023",
        deprecated: "2029-06-30", block_create: "2029-07-31", block_update: "2029-08-31" },
    Runtime { name: "python3.14", minor: 14, default_full_version: "3.14.0", glibc_minor: 34, os: "Amazon Linux 2023",
        deprecated: "2029-06-30", block_create: "2029-07-31", block_update: "2029-08-31" },
];

impl Runtime {
    /// Look a runtime up by its Lambda identifier.
    pub fn from_name(name: &str) -> Option<Runtime> {
        RUNTIMES.iter().copied().find(|runtime| runtime.name == name)
    }

    /// The warning for a runtime AWS has deprecated by `today` (`YYYY-MM-DD`).
    pub fn deprecation_warning(&self, today: &str) -> Option<String> {
        if today < self.deprecated {
            return None;
        }
        let blocked = if today >= self.block_update {
            format!("Lambda refuses updates of its functions since {}", self.block_update)
        } else if today >= self.block_create {
            format!(
                "Lambda refuses new functions on it since {} and updates from {}",
                self.block_create, self.block_update
            )
        } else {
            format!(
                "Lambda refuses new functions on it from {} and updates from {}",
                self.block_create, self.block_update
            )
        };
        let newest = RUNTIMES.last().expect("the table is not empty").name;
        Some(format!(
            "`{}` is deprecated by AWS since {} (no more security patches); {blocked} (AWS's dates as of \
             2026-07-31): move to a newer runtime such as `{newest}`",
            self.name, self.deprecated
        ))
    }

    /// Why a Lambda runtime older than the table is not one lbuild targets, e.g. `python3.8`.
    pub fn retired(name: &str) -> Option<String> {
        let deprecated = match name {
            "python3.8" => "2024-10-14",
            "python3.7" => "2023-12-04",
            "python3.6" => "2022-07-18",
            "python2.7" => "2021-07-15",
            _ => return None,
        };
        Some(format!("`{name}` is no longer supported by Lambda (deprecated by AWS on {deprecated})"))
    }

    /// The names of all runtimes, for error messages.
    pub fn known_names() -> String {
        RUNTIMES.iter().map(|runtime| runtime.name).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A Lambda instruction set architecture, named as Lambda names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Architecture {
    X86_64,
    Arm64,
}

impl Architecture {
    pub const ALL: [Architecture; 2] = [Architecture::X86_64, Architecture::Arm64];

    /// The Lambda name: `x86_64` or `arm64`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// What Linux calls it (`platform.machine()` and wheel tags): `x86_64` or `aarch64`.
    pub fn machine(&self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "aarch64",
        }
    }

    pub(crate) fn arch(&self) -> Arch {
        match self {
            Architecture::X86_64 => Arch::X86_64,
            Architecture::Arm64 => Arch::Aarch64,
        }
    }
}

impl FromStr for Architecture {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "x86_64" => Ok(Architecture::X86_64),
            "arm64" => Ok(Architecture::Arm64),
            "aarch64" => Err("Lambda calls this architecture `arm64`".to_string()),
            "amd64" | "x64" => Err("Lambda calls this architecture `x86_64`".to_string()),
            _ => Err("the architectures are `x86_64` and `arm64`".to_string()),
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One (runtime, architecture) pair with everything needed to pick wheels for it.
#[derive(Clone)]
pub struct Target {
    pub runtime: Runtime,
    pub architecture: Architecture,
    /// `python_full_version` for markers and `Requires-Python`.
    pub python_full_version: Version,
    pub(crate) tags: Arc<TagSet>,
    pub(crate) markers: MarkerEnvironment,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({} {})", self.name(), self.python_full_version)
    }
}

impl Target {
    /// Build a target; `python_full_version` defaults to the runtime's.
    pub fn new(runtime: Runtime, architecture: Architecture, python_full_version: Option<Version>) -> Target {
        let python_full_version = python_full_version.unwrap_or_else(|| {
            Version::from_str(runtime.default_full_version).expect("valid version in the runtime table")
        });
        let markers = marker_environment(runtime, architecture, &python_full_version);
        let tags = Arc::new(TagSet::lambda(runtime.minor, runtime.glibc_minor, architecture.arch()));
        debug_assert!(!tags.is_empty());
        Target { runtime, architecture, python_full_version, tags, markers }
    }

    /// `python3.12-arm64`: the name used in `lambda.lock` and on the command line.
    pub fn name(&self) -> String {
        target_name(self.runtime, self.architecture)
    }

    /// The number of compatible wheel tags.
    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }

    /// The compatible tags, best first, as `py-abi-platform` strings.
    pub fn tag_strings(&self) -> Vec<String> {
        self.tags.iter().map(|(py, abi, plat)| format!("{py}-{abi}-{plat}")).collect()
    }
}

/// The PEP 508 marker environment of a target (cheap, unlike its table of wheel tags).
pub(crate) fn marker_environment(
    runtime: Runtime,
    architecture: Architecture,
    python_full_version: &Version,
) -> MarkerEnvironment {
    let full = python_full_version.to_string();
    let short = format!("3.{}", runtime.minor);
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: &full,
        os_name: "posix",
        platform_machine: architecture.machine(),
        platform_python_implementation: "CPython",
        // The Firecracker guest kernel is not documented; like uv for cross targets, leave
        // these empty rather than guess.
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version: &full,
        python_version: &short,
        sys_platform: "linux",
    })
    .expect("valid marker environment")
}

/// The canonical name of a target.
pub fn target_name(runtime: Runtime, architecture: Architecture) -> String {
    format!("{}-{}", runtime.name, architecture.as_str())
}

/// Parse `python3.12-arm64`.
pub fn parse_target_name(name: &str) -> Option<(Runtime, Architecture)> {
    let (runtime, arch) = name.rsplit_once('-')?;
    Some((Runtime::from_name(runtime)?, arch.parse().ok()?))
}

/// Today's date in UTC as `YYYY-MM-DD`, for the runtime lifecycle.
pub(crate) fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| (elapsed.as_secs() / 86_400) as i64)
        .unwrap_or(0);
    let (year, month, day) = crate::date::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The manylinux build image whose glibc matches a runtime's: `manylinux2014` (glibc 2.17, which
/// Amazon Linux 2's 2.26 loads) or `manylinux_2_34` (Amazon Linux 2023).
pub(crate) fn manylinux_image(glibc_minor: u32, machine: &str) -> String {
    if glibc_minor >= 34 {
        format!("quay.io/pypa/manylinux_2_34_{machine}")
    } else {
        format!("quay.io/pypa/manylinux2014_{machine}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_come_from_days_since_the_epoch() {
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn deprecated_runtimes_are_warned_about_with_aws_dates() {
        let py39 = Runtime::from_name("python3.9").unwrap();
        assert_eq!(py39.deprecation_warning("2025-12-14"), None);
        let warning = py39.deprecation_warning("2026-12-03").unwrap();
        assert!(warning.contains("deprecated by AWS since 2025-12-15"), "{warning}");
        assert!(
            warning.contains("refuses new functions on it from 2027-02-01 and updates from 2027-03-03"),
            "{warning}"
        );
        assert!(py39.deprecation_warning("2027-03-03").unwrap().contains("refuses updates of its functions since"));
        assert_eq!(Runtime::from_name("python3.12").unwrap().deprecation_warning("2026-12-03"), None);
        assert!(Runtime::retired("python3.8").unwrap().contains("no longer supported by Lambda"));
        assert_eq!(Runtime::retired("python3.99"), None);
    }

    use super::*;

    #[test]
    fn tag_counts_match_platform_reference() {
        // platform.md 1.2: counts verified by running pypa/packaging with the same lists.
        let expected = [
            ("python3.9", 537, 243),
            ("python3.10", 588, 266),
            ("python3.11", 639, 289),
            ("python3.12", 906, 528),
            ("python3.13", 973, 567),
            ("python3.14", 1040, 606),
        ];
        for (name, x86, arm) in expected {
            let runtime = Runtime::from_name(name).unwrap();
            assert_eq!(Target::new(runtime, Architecture::X86_64, None).tag_count(), x86, "{name} x86_64");
            assert_eq!(Target::new(runtime, Architecture::Arm64, None).tag_count(), arm, "{name} arm64");
        }
    }

    #[test]
    fn markers_are_for_the_target_not_the_host() {
        let target = Target::new(Runtime::from_name("python3.11").unwrap(), Architecture::Arm64, None);
        let requirement: pep508_rs::Requirement =
            "a ; platform_machine == 'aarch64' and python_version == '3.11' and sys_platform == 'linux'"
                .parse()
                .unwrap();
        assert!(requirement.evaluate_markers(&target.markers, &[]));
        let requirement: pep508_rs::Requirement = "a ; platform_machine == 'x86_64'".parse().unwrap();
        assert!(!requirement.evaluate_markers(&target.markers, &[]));
    }

    #[test]
    fn target_names_round_trip() {
        let (runtime, arch) = parse_target_name("python3.12-arm64").unwrap();
        assert_eq!(target_name(runtime, arch), "python3.12-arm64");
        assert!(parse_target_name("python3.12-aarch64").is_none());
        assert!(parse_target_name("python2.7-x86_64").is_none());
    }
}
