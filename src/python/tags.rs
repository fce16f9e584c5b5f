//! Compatible wheel tags for AWS Lambda Python runtimes.
//!
//! A Lambda runtime is a GIL build of CPython 3.Y on a glibc-based Amazon Linux
//! (AL2: glibc 2.26; AL2023: glibc 2.34) for x86_64 or aarch64. Its compatible
//! tags, best first, are exactly what pypa/packaging's `cpython_tags` followed by
//! `compatible_tags` yield for that interpreter, with the platform list
//! built by [`manylinux_platforms`]:
//!
//! 1. `cp3Y-cp3Y-{P}`, `cp3Y-abi3-{P}`, `cp3Y-none-{P}`
//! 2. `cp3K-abi3-{P}` for K = Y-1 down to 2
//! 3. `py3Y-none-{P}`, `py3-none-{P}`, `py3(Y-1)-none-{P}` ... `py30-none-{P}`
//! 4. `cp3Y-none-any`, then `py3Y-none-any`, `py3-none-any`, ... `py30-none-any`
//!
//! with the platform varying fastest inside each group. Free-threaded ABIs
//! (`cp3Yt`, `abi3t`), musllinux, `linux_*` and newer-glibc manylinux tags are
//! never produced. See the project's `platform.md` section 1.2 and the
//! [platform compatibility tags] specification; `fixtures/tags/` holds reference
//! lists generated with the real pypa/packaging.
//!
//! [platform compatibility tags]: https://packaging.python.org/en/latest/specifications/platform-compatibility-tags/

use std::collections::HashMap;

use crate::python::wheel_name::WheelFilename;

/// A Lambda CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    X86_64,
    /// Lambda's `arm64` (Graviton); wheels and `platform.machine()` call it `aarch64`.
    Aarch64,
}

impl Arch {
    /// The architecture suffix used in wheel platform tags.
    pub fn wheel_suffix(&self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// Lowest glibc minor with a manylinux tag on this architecture.
    fn manylinux_floor(self) -> u32 {
        match self {
            Arch::X86_64 => 5,
            Arch::Aarch64 => 17,
        }
    }

    /// The legacy manylinux alias for glibc `2.minor` on this architecture, if any.
    fn legacy_alias(self, minor: u32) -> Option<&'static str> {
        match (minor, self) {
            (17, _) => Some("manylinux2014"),
            (12, Arch::X86_64) => Some("manylinux2010"),
            (5, Arch::X86_64) => Some("manylinux1"),
            _ => None,
        }
    }
}

/// The manylinux platform tags for a glibc `2.glibc_minor` system, best first.
///
/// Perennial `manylinux_2_X_<arch>` tags count down from `glibc_minor` to 2.5
/// (x86_64) or 2.17 (aarch64); each legacy alias (`manylinux2014` = 2.17,
/// `manylinux2010` = 2.12, `manylinux1` = 2.5, the last two x86_64 only) comes
/// right after its perennial equivalent. Empty when `glibc_minor` is below the
/// architecture's floor.
pub fn manylinux_platforms(glibc_minor: u32, arch: Arch) -> Vec<String> {
    let suffix = arch.wheel_suffix();
    let floor = arch.manylinux_floor();
    let mut platforms = Vec::new();
    for minor in (floor..=glibc_minor).rev() {
        platforms.push(format!("manylinux_2_{minor}_{suffix}"));
        if let Some(alias) = arch.legacy_alias(minor) {
            platforms.push(format!("{alias}_{suffix}"));
        }
    }
    platforms
}

/// An ordered set of compatible `(python, abi, platform)` tags.
#[derive(Debug, Clone, Default)]
pub struct TagSet {
    /// All tags, best first.
    tags: Vec<(String, String, String)>,
    /// python -> abi -> platform -> priority, so lookups need no allocation.
    index: HashMap<String, HashMap<String, HashMap<String, usize>>>,
}

impl TagSet {
    /// The compatible tags for Lambda runtime `python3.<python_minor>` on a
    /// glibc `2.<glibc_minor>` OS and the given architecture.
    pub fn lambda(python_minor: u32, glibc_minor: u32, arch: Arch) -> TagSet {
        let platforms = manylinux_platforms(glibc_minor, arch);
        let interpreter = format!("cp3{python_minor}");
        // abi3 exists from Python 3.2 on (PEP 384).
        let use_abi3 = python_minor >= 2;
        let mut set = TagSet::default();

        let push_all = |set: &mut TagSet, python: &str, abi: &str| {
            for platform in &platforms {
                set.push(python, abi, platform);
            }
        };

        // cpython_tags
        push_all(&mut set, &interpreter, &interpreter);
        if use_abi3 {
            push_all(&mut set, &interpreter, "abi3");
        }
        push_all(&mut set, &interpreter, "none");
        if use_abi3 {
            for older in (2..python_minor).rev() {
                push_all(&mut set, &format!("cp3{older}"), "abi3");
            }
        }

        // compatible_tags
        let py_range = py_interpreter_range(python_minor);
        for python in &py_range {
            push_all(&mut set, python, "none");
        }
        set.push(&interpreter, "none", "any");
        for python in &py_range {
            set.push(python, "none", "any");
        }
        set
    }

    fn push(&mut self, python: &str, abi: &str, platform: &str) {
        let priority = self.tags.len();
        let slot = self.index.entry(python.to_string()).or_default().entry(abi.to_string()).or_default();
        if slot.contains_key(platform) {
            return;
        }
        slot.insert(platform.to_string(), priority);
        self.tags.push((python.to_string(), abi.to_string(), platform.to_string()));
    }

    /// Number of tags in the set.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Whether the set holds no tags.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// The tags, best first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.tags.iter().map(|(python, abi, platform)| (python.as_str(), abi.as_str(), platform.as_str()))
    }

    /// The rank of a tag (0 = best), or `None` if it is not compatible.
    /// Matching is exact; tags are lowercase.
    pub fn priority(&self, python: &str, abi: &str, platform: &str) -> Option<usize> {
        self.index.get(python)?.get(abi)?.get(platform).copied()
    }

    /// The best rank over all tags a wheel declares, or `None` if none of them
    /// is compatible.
    pub fn wheel_priority(&self, wheel: &WheelFilename) -> Option<usize> {
        wheel.tags().filter_map(|(python, abi, platform)| self.priority(python, abi, platform)).min()
    }
}

/// `py3Y`, `py3`, then `py3(Y-1)` down to `py30`.
fn py_interpreter_range(python_minor: u32) -> Vec<String> {
    let mut out = vec![format!("py3{python_minor}"), "py3".to_string()];
    out.extend((0..python_minor).rev().map(|minor| format!("py3{minor}")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(python minor, glibc minor, arch, fixture text, expected count)` for a
    /// list in `fixtures/tags/`, generated by `fixtures/tags/generate.py`.
    macro_rules! fixture {
        ($py:literal, $glibc:literal, $arch:ident, $suffix:literal, $count:literal) => {
            (
                $py,
                $glibc,
                Arch::$arch,
                include_str!(concat!("../../fixtures/tags/python3.", $py, "-", $suffix, ".txt")),
                $count,
            )
        };
    }

    const FIXTURES: &[(u32, u32, Arch, &str, usize)] = &[
        fixture!(9, 26, X86_64, "x86_64", 537),
        fixture!(9, 26, Aarch64, "aarch64", 243),
        fixture!(10, 26, X86_64, "x86_64", 588),
        fixture!(10, 26, Aarch64, "aarch64", 266),
        fixture!(11, 26, X86_64, "x86_64", 639),
        fixture!(11, 26, Aarch64, "aarch64", 289),
        fixture!(12, 34, X86_64, "x86_64", 906),
        fixture!(12, 34, Aarch64, "aarch64", 528),
        fixture!(13, 34, X86_64, "x86_64", 973),
        fixture!(13, 34, Aarch64, "aarch64", 567),
        fixture!(14, 34, X86_64, "x86_64", 1040),
        fixture!(14, 34, Aarch64, "aarch64", 606),
    ];

    fn wheel(filename: &str) -> WheelFilename {
        WheelFilename::parse(filename).unwrap()
    }

    #[test]
    fn matches_pypa_packaging_fixtures() {
        for &(py, glibc, arch, fixture, count) in FIXTURES {
            let set = TagSet::lambda(py, glibc, arch);
            let expected: Vec<&str> = fixture.lines().collect();
            assert_eq!(expected.len(), count, "fixture 3.{py} {arch:?}");
            assert_eq!(set.len(), count, "TagSet 3.{py} {arch:?}");
            for (i, ((python, abi, platform), want)) in set.iter().zip(&expected).enumerate() {
                let got = format!("{python}-{abi}-{platform}");
                assert_eq!(&got, want, "3.{py} {arch:?} line {}", i + 1);
                assert_eq!(set.priority(python, abi, platform), Some(i));
            }
        }
    }

    #[test]
    fn platform_lists_match_platform_doc() {
        let al2_x86 = manylinux_platforms(26, Arch::X86_64);
        assert_eq!(al2_x86.len(), 25);
        assert_eq!(al2_x86[0], "manylinux_2_26_x86_64");
        let pos = |list: &[String], tag: &str| list.iter().position(|t| t == tag).unwrap();
        assert_eq!(pos(&al2_x86, "manylinux2014_x86_64"), pos(&al2_x86, "manylinux_2_17_x86_64") + 1);
        assert_eq!(pos(&al2_x86, "manylinux2010_x86_64"), pos(&al2_x86, "manylinux_2_12_x86_64") + 1);
        assert_eq!(al2_x86.last().unwrap(), "manylinux1_x86_64");
        assert_eq!(manylinux_platforms(26, Arch::Aarch64).len(), 11);
        assert_eq!(manylinux_platforms(34, Arch::X86_64).len(), 33);
        let al2023_arm = manylinux_platforms(34, Arch::Aarch64);
        assert_eq!(al2023_arm.len(), 19);
        assert_eq!(al2023_arm.last().unwrap(), "manylinux2014_aarch64");
        assert!(manylinux_platforms(16, Arch::Aarch64).is_empty());
        assert!(manylinux_platforms(0, Arch::X86_64).is_empty());
    }

    #[test]
    fn newer_stable_abi_is_incompatible() {
        let set = TagSet::lambda(12, 34, Arch::X86_64);
        assert_eq!(set.priority("cp313", "abi3", "manylinux_2_17_x86_64"), None);
        assert!(set.priority("cp312", "abi3", "manylinux_2_17_x86_64").is_some());
        assert!(set.priority("cp311", "abi3", "manylinux_2_17_x86_64").is_some());
        assert!(set.priority("cp32", "abi3", "manylinux_2_17_x86_64").is_some());
        assert_eq!(set.wheel_priority(&wheel("x-1-cp313-abi3-manylinux_2_17_x86_64.whl")), None);
    }

    #[test]
    fn free_threaded_is_never_compatible() {
        for &(py, glibc, arch, _, _) in FIXTURES {
            let set = TagSet::lambda(py, glibc, arch);
            let plat = format!("manylinux_2_17_{}", arch.wheel_suffix());
            let cp = format!("cp3{py}");
            assert_eq!(set.priority(&cp, &format!("cp3{py}t"), &plat), None);
            assert_eq!(set.priority(&cp, "abi3t", &plat), None);
            assert!(set.iter().all(|(_, abi, _)| !abi.ends_with('t')));
        }
        let set = TagSet::lambda(12, 34, Arch::X86_64);
        assert_eq!(set.wheel_priority(&wheel("x-1-cp312-cp312t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")), None);
    }

    #[test]
    fn glibc_ceiling_is_respected() {
        let al2 = TagSet::lambda(11, 26, Arch::X86_64);
        assert_eq!(
            al2.wheel_priority(&wheel("numpy-2.3.5-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl")),
            None
        );
        assert_eq!(al2.priority("cp311", "cp311", "manylinux_2_28_x86_64"), None);
        assert!(al2.priority("cp311", "cp311", "manylinux_2_26_x86_64").is_some());
        let al2023 = TagSet::lambda(12, 34, Arch::X86_64);
        assert!(
            al2023
                .wheel_priority(&wheel("numpy-2.3.5-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"))
                .is_some()
        );
        assert_eq!(al2023.priority("cp312", "cp312", "manylinux_2_35_x86_64"), None);
    }

    #[test]
    fn musllinux_and_foreign_platforms_never_match() {
        for &(py, glibc, arch, _, _) in FIXTURES {
            let set = TagSet::lambda(py, glibc, arch);
            let cp = format!("cp3{py}");
            let s = arch.wheel_suffix();
            for platform in [
                format!("musllinux_1_1_{s}"),
                format!("musllinux_1_2_{s}"),
                format!("linux_{s}"),
                "macosx_11_0_arm64".to_string(),
                "win_amd64".to_string(),
            ] {
                assert_eq!(set.priority(&cp, &cp, &platform), None, "{platform}");
                assert_eq!(set.priority("py3", "none", &platform), None, "{platform}");
            }
            assert!(set.iter().all(|(_, _, p)| !p.starts_with("musllinux")));
        }
        let x86 = TagSet::lambda(12, 34, Arch::X86_64);
        assert_eq!(x86.priority("cp312", "cp312", "manylinux_2_17_aarch64"), None);
        let arm = TagSet::lambda(12, 34, Arch::Aarch64);
        assert_eq!(arm.priority("cp312", "cp312", "manylinux2010_aarch64"), None);
        assert_eq!(arm.priority("cp312", "cp312", "manylinux_2_16_aarch64"), None);
        assert_eq!(x86.priority("pp310", "pypy310_pp73", "manylinux_2_17_x86_64"), None);
    }

    #[test]
    fn wheel_priority_takes_the_best_expanded_tag() {
        let set = TagSet::lambda(12, 34, Arch::X86_64);
        let crypto = wheel("cryptography-46.0.3-cp311-abi3-manylinux_2_34_x86_64.whl");
        let p = set.wheel_priority(&crypto).unwrap();
        assert_eq!(set.iter().nth(p).unwrap(), ("cp311", "abi3", "manylinux_2_34_x86_64"));

        let both = wheel("x-1-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl");
        let p = set.wheel_priority(&both).unwrap();
        assert_eq!(set.iter().nth(p).unwrap().2, "manylinux_2_17_x86_64");

        let pure = wheel("six-1.17.0-py2.py3-none-any.whl");
        assert_eq!(set.wheel_priority(&pure), set.priority("py3", "none", "any"));
        assert_eq!(set.priority("py30", "none", "any"), Some(set.len() - 1));
        assert_eq!(set.priority("py2", "none", "any"), None);
        assert_eq!(set.priority("", "", ""), None);
        assert_eq!(set.priority("CP312", "cp312", "manylinux_2_17_x86_64"), None);
    }
}
