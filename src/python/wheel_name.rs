//! Wheel and sdist filenames, and PEP 503 project-name normalization.
//!
//! A wheel filename is `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`
//! ([binary distribution format]). The name is found by splitting the basename
//! from the right: the last three `-` fields are the tags, and a name with six
//! fields carries a build tag, which must start with a digit. Each tag field may
//! be a compressed set joined by `.` (for example
//! `manylinux_2_17_x86_64.manylinux2014_x86_64`); real files do not keep the set
//! sorted, so any order is accepted. A wheel matches the Cartesian product of
//! its three sets ([platform compatibility tags]).
//!
//! Project names are compared after [name normalization]: lowercase, and each
//! run of `-`, `_` and `.` becomes one `-`. A valid name matches
//! `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`, ignoring case.
//!
//! See the project's `platform.md` sections 3.2 and 4.1.
//!
//! [binary distribution format]: https://packaging.python.org/en/latest/specifications/binary-distribution-format/
//! [platform compatibility tags]: https://packaging.python.org/en/latest/specifications/platform-compatibility-tags/
//! [name normalization]: https://packaging.python.org/en/latest/specifications/name-normalization/

use std::str::FromStr;

use pep440_rs::Version;

/// A parsed wheel filename.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    /// The project name, PEP 503-normalized (`-` separated, lowercase).
    pub name: String,
    pub version: Version,
    /// The optional build tag; `None` sorts below any build tag.
    pub build: Option<BuildTag>,
    /// Python tags (`cp312`, `py3`, ...), lowercased, in filename order.
    pub python_tags: Vec<String>,
    /// ABI tags (`cp312`, `abi3`, `none`, ...), lowercased, in filename order.
    pub abi_tags: Vec<String>,
    /// Platform tags (`manylinux_2_17_x86_64`, `any`, ...), lowercased, in filename order.
    pub platform_tags: Vec<String>,
}

/// A wheel build tag: its leading decimal digits and whatever follows them.
///
/// Ordering compares the number first and then the suffix as a string, which is
/// how installers break ties between otherwise identical wheels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BuildTag {
    pub number: u64,
    pub suffix: String,
}

/// A wheel filename that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid wheel filename `{filename}`: {reason}")]
pub struct WheelFilenameError {
    /// The filename as given.
    pub filename: String,
    /// What is wrong with it.
    pub reason: WheelFilenameReason,
}

/// Why a wheel filename was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WheelFilenameReason {
    #[error("it does not end in `.whl`")]
    NotAWheel,
    #[error("it contains a path separator")]
    PathSeparator,
    #[error("expected 5 or 6 `-`-separated fields, found {0}")]
    FieldCount(usize),
    #[error("the {0} field is empty")]
    EmptyField(&'static str),
    #[error("`{0}` is not a valid project name")]
    InvalidName(String),
    #[error("`{version}` is not a valid version: {message}")]
    InvalidVersion { version: String, message: String },
    #[error("build tag `{0}` does not start with a digit")]
    BuildTagNotNumeric(String),
    #[error("build tag `{0}` has a number too large to represent")]
    BuildTagTooLarge(String),
    #[error("the {field} tag set `{tags}` has an empty or malformed entry")]
    InvalidTag { field: &'static str, tags: String },
}

impl WheelFilename {
    /// Parse a wheel filename such as `numpy-2.2.6-cp312-cp312-manylinux_2_17_x86_64.whl`.
    ///
    /// The filename must be a bare basename: anything containing `/` or `\` is
    /// rejected rather than silently stripped.
    pub fn parse(filename: &str) -> Result<Self, WheelFilenameError> {
        let fail = |reason| WheelFilenameError { filename: filename.to_string(), reason };

        if filename.contains(['/', '\\']) {
            return Err(fail(WheelFilenameReason::PathSeparator));
        }
        let stem = filename.strip_suffix(".whl").ok_or_else(|| fail(WheelFilenameReason::NotAWheel))?;

        let fields: Vec<&str> = stem.split('-').collect();
        let (name, version, build, python, abi, platform) = match fields.as_slice() {
            [n, v, py, abi, plat] => (*n, *v, None, *py, *abi, *plat),
            [n, v, b, py, abi, plat] => (*n, *v, Some(*b), *py, *abi, *plat),
            _ => return Err(fail(WheelFilenameReason::FieldCount(fields.len()))),
        };

        for (label, value) in
            [("name", name), ("version", version), ("python tag", python), ("ABI tag", abi), ("platform tag", platform)]
        {
            if value.is_empty() {
                return Err(fail(WheelFilenameReason::EmptyField(label)));
            }
        }
        if build == Some("") {
            return Err(fail(WheelFilenameReason::EmptyField("build tag")));
        }

        if !is_valid_name(name) {
            return Err(fail(WheelFilenameReason::InvalidName(name.to_string())));
        }
        let parsed_version = Version::from_str(version).map_err(|err| {
            fail(WheelFilenameReason::InvalidVersion { version: version.to_string(), message: err.to_string() })
        })?;
        let build = build.map(parse_build_tag).transpose().map_err(fail)?;

        let python_tags = split_tag_set(python, "python").map_err(fail)?;
        let abi_tags = split_tag_set(abi, "ABI").map_err(fail)?;
        let platform_tags = split_tag_set(platform, "platform").map_err(fail)?;

        Ok(WheelFilename {
            name: normalize_name(name),
            version: parsed_version,
            build,
            python_tags,
            abi_tags,
            platform_tags,
        })
    }

    /// Every `(python, abi, platform)` triple this wheel declares: the Cartesian
    /// product of its three tag sets, python varying slowest and platform fastest.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str, &str)> + '_ {
        self.python_tags.iter().flat_map(move |python| {
            self.abi_tags.iter().flat_map(move |abi| {
                self.platform_tags.iter().map(move |platform| (python.as_str(), abi.as_str(), platform.as_str()))
            })
        })
    }
}

fn parse_build_tag(build: &str) -> Result<BuildTag, WheelFilenameReason> {
    let digits = build.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(WheelFilenameReason::BuildTagNotNumeric(build.to_string()));
    }
    let number =
        build[..digits].parse::<u64>().map_err(|_| WheelFilenameReason::BuildTagTooLarge(build.to_string()))?;
    Ok(BuildTag { number, suffix: build[digits..].to_string() })
}

/// Split a compressed tag set (`a.b.c`) into lowercase tags. Tags consist of
/// ASCII letters, digits and `_`; an empty entry (`a..b`, `.a`) is an error.
fn split_tag_set(field: &str, label: &'static str) -> Result<Vec<String>, WheelFilenameReason> {
    let mut tags = Vec::new();
    for tag in field.split('.') {
        let well_formed = !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !well_formed {
            return Err(WheelFilenameReason::InvalidTag { field: label, tags: field.to_string() });
        }
        let tag = tag.to_ascii_lowercase();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// PEP 503 normalization: lowercase, and collapse each run of `-`, `_` and `.`
/// into a single `-`.
///
/// This does not validate; use [`is_valid_name`] for that.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator_run = false;
        }
    }
    out
}

/// Whether `name` is a valid project name: ASCII letters, digits, `.`, `_` and
/// `-`, starting and ending with a letter or digit.
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }
        _ => false,
    }
}

/// Parse an sdist filename (`.tar.gz` or `.zip`) for a project whose normalized name is `name`; the filename's name part may use '_', '.', uppercase. Returns the version or None.
///
/// The stem is `{name}-{version}`. Legacy sdists keep `-` inside the name
/// (`python-dateutil-2.9.0.tar.gz`), so each `-` is tried as the split point,
/// left to right, and the first one whose left side normalizes to `name` and
/// whose right side is a valid PEP 440 version wins. `name` is normalized again
/// here, so passing an unnormalized name also works. The extension is matched
/// ignoring ASCII case; paths (`/`, `\`) are rejected.
pub fn parse_sdist_filename(filename: &str, name: &str) -> Option<Version> {
    if filename.contains(['/', '\\']) {
        return None;
    }
    let stem = strip_suffix_ignore_ascii_case(filename, ".tar.gz")
        .or_else(|| strip_suffix_ignore_ascii_case(filename, ".zip"))?;
    let wanted = normalize_name(name);
    if wanted.is_empty() {
        return None;
    }
    for (index, _) in stem.match_indices('-') {
        let (candidate, version) = (&stem[..index], &stem[index + 1..]);
        if version.is_empty() || !is_valid_name(candidate) {
            continue;
        }
        if normalize_name(candidate) != wanted {
            continue;
        }
        if let Ok(version) = Version::from_str(version) {
            return Some(version);
        }
    }
    None
}

fn strip_suffix_ignore_ascii_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let split = s.len().checked_sub(suffix.len())?;
    if !s.is_char_boundary(split) {
        return None;
    }
    let (head, tail) = s.split_at(split);
    tail.eq_ignore_ascii_case(suffix).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    fn reason(filename: &str) -> WheelFilenameReason {
        WheelFilename::parse(filename).unwrap_err().reason
    }

    #[test]
    fn parses_plain_wheel() {
        let w = WheelFilename::parse("pydantic_core-2.33.2-cp312-cp312-manylinux_2_17_x86_64.whl").unwrap();
        assert_eq!(w.name, "pydantic-core");
        assert_eq!(w.version, v("2.33.2"));
        assert_eq!(w.build, None);
        assert_eq!(w.python_tags, ["cp312"]);
        assert_eq!(w.abi_tags, ["cp312"]);
        assert_eq!(w.platform_tags, ["manylinux_2_17_x86_64"]);
    }

    #[test]
    fn parses_compressed_sets_in_any_order() {
        let w =
            WheelFilename::parse("numpy-2.3.5-cp313-cp313-manylinux_2_28_x86_64.manylinux_2_27_x86_64.whl").unwrap();
        assert_eq!(w.platform_tags, ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64"]);
        let w = WheelFilename::parse("six-1.17.0-py2.py3-none-any.whl").unwrap();
        let tags: Vec<_> = w.tags().collect();
        assert_eq!(tags, [("py2", "none", "any"), ("py3", "none", "any")]);
    }

    #[test]
    fn tags_are_a_cartesian_product() {
        let w = WheelFilename::parse("x-1-cp315-abi3.abi3t-linux_x86_64.linux_aarch64.whl").unwrap();
        let tags: Vec<_> = w.tags().collect();
        assert_eq!(
            tags,
            [
                ("cp315", "abi3", "linux_x86_64"),
                ("cp315", "abi3", "linux_aarch64"),
                ("cp315", "abi3t", "linux_x86_64"),
                ("cp315", "abi3t", "linux_aarch64"),
            ]
        );
    }

    #[test]
    fn parses_build_tag() {
        let w = WheelFilename::parse("Foo.Bar-1.0-12abc-py3-none-any.whl").unwrap();
        assert_eq!(w.name, "foo-bar");
        assert_eq!(w.build, Some(BuildTag { number: 12, suffix: "abc".into() }));
        let w = WheelFilename::parse("foo-1.0-007-py3-none-any.whl").unwrap();
        assert_eq!(w.build.unwrap().number, 7);
    }

    #[test]
    fn build_tag_ordering() {
        let a = BuildTag { number: 2, suffix: String::new() };
        let b = BuildTag { number: 10, suffix: String::new() };
        let c = BuildTag { number: 10, suffix: "a".into() };
        assert!(a < b && b < c);
        assert!(None < Some(a));
    }

    #[test]
    fn lowercases_tags_and_keeps_local_versions() {
        let w = WheelFilename::parse("torch-2.5.1+cpu-CP312-CP312-Linux_X86_64.whl").unwrap();
        assert_eq!(w.version, v("2.5.1+cpu"));
        assert_eq!(w.python_tags, ["cp312"]);
        assert_eq!(w.platform_tags, ["linux_x86_64"]);
    }

    #[test]
    fn rejects_bad_filenames() {
        assert_eq!(reason("foo-1.0-py3-none-any.zip"), WheelFilenameReason::NotAWheel);
        assert_eq!(reason("foo-1.0-py3-none-any.WHL"), WheelFilenameReason::NotAWheel);
        assert_eq!(reason("foo-1.0-py3-none.whl"), WheelFilenameReason::FieldCount(4));
        assert_eq!(reason("foo-bar-1.0-1-py3-none-any.whl"), WheelFilenameReason::FieldCount(7));
        assert_eq!(reason(".whl"), WheelFilenameReason::FieldCount(1));
        assert_eq!(reason("-1.0-py3-none-any.whl"), WheelFilenameReason::EmptyField("name"));
        assert_eq!(reason("foo--py3-none-any.whl"), WheelFilenameReason::EmptyField("version"));
        assert_eq!(reason("foo-1.0--py3-none-any.whl"), WheelFilenameReason::EmptyField("build tag"));
        assert_eq!(reason("foo-1.0-py3--any.whl"), WheelFilenameReason::EmptyField("ABI tag"));
        assert_eq!(reason("foo-1.0-abc-py3-none-any.whl"), WheelFilenameReason::BuildTagNotNumeric("abc".into()));
        assert!(matches!(
            reason("foo-1.0-99999999999999999999999-py3-none-any.whl"),
            WheelFilenameReason::BuildTagTooLarge(_)
        ));
        assert!(matches!(reason("foo-not.a.version-py3-none-any.whl"), WheelFilenameReason::InvalidVersion { .. }));
        assert!(matches!(reason("_foo-1.0-py3-none-any.whl"), WheelFilenameReason::InvalidName(_)));
        assert!(matches!(
            reason("foo-1.0-py3..py2-none-any.whl"),
            WheelFilenameReason::InvalidTag { field: "python", .. }
        ));
        assert!(matches!(
            reason("foo-1.0-py3-none-any..whl"),
            WheelFilenameReason::InvalidTag { field: "platform", .. }
        ));
        assert!(matches!(reason("foo-1.0-py3-none-an y.whl"), WheelFilenameReason::InvalidTag { .. }));
    }

    #[test]
    fn rejects_paths_and_hostile_input() {
        for bad in [
            "../foo-1.0-py3-none-any.whl",
            "dir/foo-1.0-py3-none-any.whl",
            "dir\\foo-1.0-py3-none-any.whl",
            "",
            "-",
            "-----.whl",
            "foo-1.0-py3-none-\u{0}any.whl",
            "föö-1.0-py3-none-any.whl",
            "foo-1.0-py3-none-ány.whl",
            "foo-1.0-py3-none-any.whl\n",
        ] {
            assert!(WheelFilename::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}-1.0-py3-none-any.whl", "a".repeat(100_000));
        assert!(WheelFilename::parse(&long).is_ok());
    }

    #[test]
    fn error_message_names_file_and_problem() {
        let err = WheelFilename::parse("foo-1.0-py3-none.whl").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("foo-1.0-py3-none.whl"), "{msg}");
        assert!(msg.contains("found 4"), "{msg}");
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize_name("FRIENDLY.__-BARD"), "friendly-bard");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("a"), "a");
        assert_eq!(normalize_name(""), "");
    }

    #[test]
    fn validates_names() {
        for ok in ["a", "A1", "zope.interface", "pydantic_core", "a-b_c.d", "9"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "_", ".a", "a b", "a/b", "ä", "a@b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn parses_sdists() {
        assert_eq!(
            parse_sdist_filename("python-dateutil-2.9.0.post0.tar.gz", "python-dateutil"),
            Some(v("2.9.0.post0"))
        );
        assert_eq!(parse_sdist_filename("python_dateutil-2.9.0.tar.gz", "python-dateutil"), Some(v("2.9.0")));
        assert_eq!(parse_sdist_filename("Zope.Interface-7.2.zip", "zope-interface"), Some(v("7.2")));
        assert_eq!(parse_sdist_filename("PyYAML-6.0.2.TAR.GZ", "pyyaml"), Some(v("6.0.2")));
        // A legacy `-` inside the version (post release) still parses.
        assert_eq!(parse_sdist_filename("foo-1.0-1.tar.gz", "foo"), Some(v("1.0.post1")));
        // A project whose name ends in a number is not confused with a version.
        assert_eq!(parse_sdist_filename("foo-1-2.0.tar.gz", "foo-1"), Some(v("2.0")));
        assert_eq!(parse_sdist_filename("foo-1-2.0.tar.gz", "foo"), None);
    }

    #[test]
    fn rejects_bad_sdists() {
        assert_eq!(parse_sdist_filename("foo-1.0.tar.bz2", "foo"), None);
        assert_eq!(parse_sdist_filename("foo-1.0-py3-none-any.whl", "foo"), None);
        assert_eq!(parse_sdist_filename("bar-1.0.tar.gz", "foo"), None);
        assert_eq!(parse_sdist_filename("foobar-1.0.tar.gz", "foo"), None);
        assert_eq!(parse_sdist_filename("foo-.tar.gz", "foo"), None);
        assert_eq!(parse_sdist_filename("foo.tar.gz", "foo"), None);
        assert_eq!(parse_sdist_filename("foo-bogus.tar.gz", "foo"), None);
        assert_eq!(parse_sdist_filename("../foo-1.0.tar.gz", "foo"), None);
        assert_eq!(parse_sdist_filename("", "foo"), None);
        assert_eq!(parse_sdist_filename(".tar.gz", ""), None);
        assert_eq!(parse_sdist_filename("é.zip", "foo"), None);
        assert_eq!(parse_sdist_filename("-1.0.tar.gz", ""), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_filenames_never_panic(
            any in proptest::prelude::any::<String>(),
            shaped in "[-a-zA-Z0-9._/\\\\éß]{0,40}(\\.whl|\\.tar\\.gz|\\.zip)?",
        ) {
            for filename in [&any, &shaped] {
                let _ = WheelFilename::parse(filename);
                let _ = parse_sdist_filename(filename, "a-b");
                let _ = parse_sdist_filename(filename, filename);
                let _ = is_valid_name(filename);
                let _ = normalize_name(filename);
            }
        }

        #[test]
        fn valid_wheel_filenames_round_trip(
            name in "[A-Za-z0-9]([A-Za-z0-9._]{0,10}[A-Za-z0-9])?",
            version in (0u32..1000, 0u32..1000, proptest::option::of(0u32..1000)),
            build in proptest::option::of((0u64..100_000, "([a-z_][a-z0-9_]{0,3})?")),
            tags in proptest::collection::vec(proptest::collection::vec("[A-Za-z0-9_]{1,8}", 1..4), 3),
        ) {
            let version = match version.2 {
                Some(patch) => format!("{}.{}.{patch}", version.0, version.1),
                None => format!("{}.{}", version.0, version.1),
            };
            let build_text = build.as_ref().map(|(number, suffix)| format!("{number}{suffix}"));
            let sets: Vec<String> = tags.iter().map(|set| set.join(".")).collect();
            let filename = match &build_text {
                Some(build) => format!("{name}-{version}-{build}-{}-{}-{}.whl", sets[0], sets[1], sets[2]),
                None => format!("{name}-{version}-{}-{}-{}.whl", sets[0], sets[1], sets[2]),
            };
            let parsed = WheelFilename::parse(&filename).unwrap();
            proptest::prop_assert_eq!(&parsed.name, &normalize_name(&name));
            proptest::prop_assert_eq!(&parsed.version, &v(&version));
            proptest::prop_assert_eq!(
                parsed.build.clone(),
                build.map(|(number, suffix)| BuildTag { number, suffix })
            );
            let expected = |set: &Vec<String>| {
                let mut out: Vec<String> = Vec::new();
                for tag in set.iter().map(|tag| tag.to_ascii_lowercase()) {
                    if !out.contains(&tag) {
                        out.push(tag);
                    }
                }
                out
            };
            proptest::prop_assert_eq!(&parsed.python_tags, &expected(&tags[0]));
            proptest::prop_assert_eq!(&parsed.abi_tags, &expected(&tags[1]));
            proptest::prop_assert_eq!(&parsed.platform_tags, &expected(&tags[2]));
            proptest::prop_assert_eq!(parsed.tags().count(), parsed.python_tags.len() * parsed.abi_tags.len() * parsed.platform_tags.len());
        }
    }
}
