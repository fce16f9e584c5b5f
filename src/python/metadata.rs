//! Core metadata (`METADATA` in wheels, `PKG-INFO` in sdists) parser.
//!
//! Reads the fields a resolver needs from the RFC 822-style header block
//! described by the [core metadata specification]: `Metadata-Version`, `Name`,
//! `Version`, `Requires-Dist` (PEP 508, repeatable), `Requires-Python` and
//! `Provides-Extra` (repeatable). See the project's `platform.md` section 4.3.
//!
//! Parsing rules:
//! - Input bytes are decoded as UTF-8, replacing invalid sequences; a leading
//!   byte-order mark is ignored. Lines end in `\n` or `\r\n`.
//! - A header line is `Field-Name: value`; field names are matched ignoring
//!   ASCII case. A line starting with a space or tab continues the previous
//!   field (the line break is removed, the whitespace kept).
//! - The header block ends at the first empty line (the body, usually the long
//!   description, follows) or at the first line that is neither a header nor a
//!   continuation, as Python's `email` parser does.
//! - Single-valued fields take their first occurrence.
//! - A `Metadata-Version` with a major version above 2 is rejected. A newer
//!   minor is accepted; [`CoreMetadata::has_newer_minor`] lets callers warn.
//!
//! [core metadata specification]: https://packaging.python.org/en/latest/specifications/core-metadata/

use std::str::FromStr;

use pep440_rs::{Version, VersionParseError, VersionSpecifiers, VersionSpecifiersParseError};
use pep508_rs::{Pep508Error, Requirement};

use crate::python::wheel_name::{is_valid_name, normalize_name};

/// Newest `Metadata-Version` this parser knows about.
pub const NEWEST_METADATA_VERSION: (u32, u32) = (2, 6);

/// The resolver-relevant part of a distribution's core metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    /// The `Metadata-Version` value as written (trimmed).
    pub metadata_version: String,
    /// The project name as written; compare after [`normalize_name`].
    pub name: String,
    pub version: Version,
    /// Every `Requires-Dist`, in file order.
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    /// Declared extras, normalized like project names, first occurrence kept.
    pub provides_extra: Vec<String>,
}

impl CoreMetadata {
    /// Whether `Metadata-Version` is a 2.x newer than [`NEWEST_METADATA_VERSION`]
    /// (the specification says to warn, not fail, in that case).
    pub fn has_newer_minor(&self) -> bool {
        parse_metadata_version(&self.metadata_version)
            .is_some_and(|(major, minor)| (major, minor) > NEWEST_METADATA_VERSION)
    }
}

/// A core metadata file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("core metadata has no `{0}` field")]
    MissingField(&'static str),
    #[error("core metadata has an invalid Metadata-Version `{0}`")]
    InvalidMetadataVersion(String),
    #[error(
        "core metadata uses Metadata-Version {0}, whose major version is newer than 2, the newest this tool supports"
    )]
    UnsupportedMetadataVersion(String),
    #[error("has an invalid Wheel-Version `{0}`")]
    InvalidWheelVersion(String),
    #[error("core metadata has an invalid Name `{0}`")]
    InvalidName(String),
    #[error("core metadata has an invalid Version `{value}`: {error}")]
    InvalidVersion { value: String, error: VersionParseError },
    #[error("core metadata has an invalid Requires-Dist line `{line}`: {error}")]
    InvalidRequiresDist { line: String, error: Box<Pep508Error> },
    #[error("core metadata has an invalid Requires-Python `{value}`: {error}")]
    InvalidRequiresPython { value: String, error: VersionSpecifiersParseError },
}

/// Parse a `METADATA` or `PKG-INFO` file.
pub fn parse(bytes: &[u8]) -> Result<CoreMetadata, MetadataError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let headers = parse_headers(text);

    let first = |field: &str| {
        headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(field)).map(|(_, value)| value.as_str())
    };
    let all = |field: &'static str| {
        headers.iter().filter(move |(name, _)| name.eq_ignore_ascii_case(field)).map(|(_, value)| value.as_str())
    };

    let metadata_version =
        first("Metadata-Version").ok_or(MetadataError::MissingField("Metadata-Version"))?.to_string();
    let (major, _) = parse_metadata_version(&metadata_version)
        .ok_or_else(|| MetadataError::InvalidMetadataVersion(metadata_version.clone()))?;
    if major > 2 {
        return Err(MetadataError::UnsupportedMetadataVersion(metadata_version));
    }

    let name = first("Name").ok_or(MetadataError::MissingField("Name"))?;
    if !is_valid_name(name) {
        return Err(MetadataError::InvalidName(name.to_string()));
    }
    let name = name.to_string();

    let version = first("Version").ok_or(MetadataError::MissingField("Version"))?;
    let version = Version::from_str(version)
        .map_err(|error| MetadataError::InvalidVersion { value: version.to_string(), error })?;

    let mut requires_dist = Vec::new();
    for line in all("Requires-Dist").filter(|line| !line.is_empty()) {
        let requirement = Requirement::from_str(line)
            .map_err(|error| MetadataError::InvalidRequiresDist { line: line.to_string(), error: Box::new(error) })?;
        requires_dist.push(requirement);
    }

    let requires_python = match first("Requires-Python") {
        None | Some("") => None,
        Some(value) => Some(
            VersionSpecifiers::from_str(value)
                .map_err(|error| MetadataError::InvalidRequiresPython { value: value.to_string(), error })?,
        ),
    };

    let mut provides_extra: Vec<String> = Vec::new();
    for extra in all("Provides-Extra").filter(|extra| !extra.is_empty()) {
        let extra = normalize_name(extra);
        if !provides_extra.contains(&extra) {
            provides_extra.push(extra);
        }
    }

    Ok(CoreMetadata { metadata_version, name, version, requires_dist, requires_python, provides_extra })
}

/// The `Dynamic` fields of a core metadata file (PEP 643), lowercased, and its
/// `Metadata-Version` as (major, minor) when it parses. An sdist's `PKG-INFO` states its
/// dependencies for certain when the version is 2.2 or newer and `requires-dist` is not dynamic.
pub fn dynamic_fields(bytes: &[u8]) -> (Option<(u32, u32)>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let headers = parse_headers(text);
    let version = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("Metadata-Version"))
        .and_then(|(_, value)| parse_metadata_version(value));
    let dynamic = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Dynamic"))
        .map(|(_, value)| value.trim().to_ascii_lowercase())
        .collect();
    (version, dynamic)
}

/// The `Wheel-Version` of a wheel's `.dist-info/WHEEL` file (same header syntax as METADATA),
/// as (major, minor). Callers refuse a major they do not know.
pub fn wheel_version(bytes: &[u8]) -> Result<(u32, u32), MetadataError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let headers = parse_headers(text);
    let value = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("Wheel-Version"))
        .map(|(_, value)| value.as_str())
        .ok_or(MetadataError::MissingField("Wheel-Version"))?;
    parse_metadata_version(value).ok_or_else(|| MetadataError::InvalidWheelVersion(value.to_string()))
}

/// `major.minor` of a Metadata-Version value; every dot-separated part must be
/// decimal digits. A bare major (`"2"`) has minor 0.
fn parse_metadata_version(value: &str) -> Option<(u32, u32)> {
    let mut parts = value.split('.').map(|part| {
        let numeric = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        // Oversized components saturate; only their order matters.
        numeric.then(|| part.parse::<u32>().unwrap_or(u32::MAX))
    });
    let major = parts.next()??;
    let minor = match parts.next() {
        None => 0,
        Some(minor) => minor?,
    };
    for rest in parts {
        rest?;
    }
    Some((major, minor))
}

/// Lines ending in `\r\n`, `\n` or `\r` (as Python's `email` parser splits them).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(current)
            }
            Some(end) => {
                let skip = if current[end..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&current[end + skip..]);
                Some(&current[..end])
            }
        }
    })
}

/// Split the header block into `(field name, unfolded, trimmed value)` pairs.
fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines(text) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some((_, value)) => value.push_str(line),
                // A continuation with nothing to continue: not a header block.
                None => break,
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            break;
        };
        // Field names are printable ASCII other than space and colon.
        if name.is_empty() || !name.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            break;
        }
        headers.push((name.to_string(), value.to_string()));
    }
    for (_, value) in &mut headers {
        let trimmed = value.trim();
        if trimmed.len() != value.len() {
            *value = trimmed.to_string();
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::{PackageName, VersionOrUrl};

    fn version(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    const PYDANTIC_CORE: &str = "\
Metadata-Version: 2.4
Name: pydantic_core
Version: 2.33.2
Classifier: Programming Language :: Python :: 3
Requires-Dist: typing-extensions>=4.6.0,!=4.7.0
Summary: Core functionality for Pydantic validation and serialization
Home-Page: https://github.com/pydantic/pydantic-core
Requires-Python: >=3.9
Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM

# pydantic-core
Requires-Dist: this-is-body-text
";

    #[test]
    fn parses_typical_wheel_metadata() {
        let m = parse(PYDANTIC_CORE.as_bytes()).unwrap();
        assert_eq!(m.metadata_version, "2.4");
        assert_eq!(m.name, "pydantic_core");
        assert_eq!(m.version, version("2.33.2"));
        assert_eq!(m.requires_dist.len(), 1);
        assert_eq!(m.requires_dist[0].name, PackageName::from_str("typing-extensions").unwrap());
        assert_eq!(m.requires_python, Some(VersionSpecifiers::from_str(">=3.9").unwrap()));
        assert!(m.provides_extra.is_empty());
        assert!(!m.has_newer_minor());
    }

    #[test]
    fn parses_extras_and_markers() {
        let text = "\
Metadata-Version: 2.1
Name: requests
Version: 2.32.3
Requires-Python: >=3.8
Requires-Dist: charset-normalizer<4,>=2
Requires-Dist: idna<4,>=2.5
Provides-Extra: socks
Requires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"
Provides-Extra: use_chardet_on_py3
Provides-Extra: Use.Chardet-On-Py3
Requires-Dist: chardet<6,>=3.0.2; extra == \"use-chardet-on-py3\"
";
        let m = parse(text.as_bytes()).unwrap();
        assert_eq!(m.requires_dist.len(), 4);
        assert_eq!(m.provides_extra, ["socks", "use-chardet-on-py3"]);
        assert!(!m.requires_dist[2].marker.is_true());
    }

    #[test]
    fn legacy_parenthesised_specifiers_parse() {
        let text = "Metadata-Version: 1.2\nName: Old\nVersion: 1.0\nRequires-Dist: foo (>=1.0)\nRequires-Dist: bar (>=2,<3) ; python_version < \"3\"\n";
        let m = parse(text.as_bytes()).unwrap();
        let Some(VersionOrUrl::VersionSpecifier(spec)) = &m.requires_dist[0].version_or_url else {
            panic!("no specifier: {:?}", m.requires_dist[0]);
        };
        assert_eq!(spec, &VersionSpecifiers::from_str(">=1.0").unwrap());
        let Some(VersionOrUrl::VersionSpecifier(spec)) = &m.requires_dist[1].version_or_url else {
            panic!("no specifier: {:?}", m.requires_dist[1]);
        };
        assert_eq!(spec, &VersionSpecifiers::from_str(">=2,<3").unwrap());
    }

    #[test]
    fn handles_crlf_continuations_case_and_non_utf8() {
        let mut bytes = b"\xef\xbb\xbfmetadata-version: 2.1\r\n".to_vec();
        bytes.extend_from_slice(b"NAME:   Foo.Bar  \r\n");
        bytes.extend_from_slice(b"version:2.0\r\n");
        bytes.extend_from_slice(b"Author: Jos\xe9 \xff\r\n");
        bytes.extend_from_slice(b"Requires-Dist: baz;\r\n  python_version >= '3.8'\r\n");
        bytes.extend_from_slice(b"Description: line one\r\n\tline two\r\n        |\r\n");
        bytes.extend_from_slice(b"requires-python: >=3.8\r\n\r\nRequires-Dist: not-a-header\r\n");
        let m = parse(&bytes).unwrap();
        assert_eq!(m.metadata_version, "2.1");
        assert_eq!(m.name, "Foo.Bar");
        assert_eq!(m.version, version("2.0"));
        assert_eq!(m.requires_dist.len(), 1);
        assert!(!m.requires_dist[0].marker.is_true());
        assert!(m.requires_python.is_some());
    }

    #[test]
    fn first_single_value_wins_and_body_is_ignored() {
        let text = "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nVersion: 2.0\n\nName: b\n";
        let m = parse(text.as_bytes()).unwrap();
        assert_eq!((m.name.as_str(), m.version), ("a", version("1.0")));
    }

    #[test]
    fn header_block_ends_at_a_non_header_line() {
        let text = "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nthis is not a header\nRequires-Dist: x\n";
        let m = parse(text.as_bytes()).unwrap();
        assert!(m.requires_dist.is_empty());
    }

    #[test]
    fn metadata_versions() {
        let with = |v: &str| format!("Metadata-Version: {v}\nName: a\nVersion: 1\n");
        for ok in ["1.0", "1.1", "1.2", "2.1", "2.5", "2.6", "2"] {
            parse(with(ok).as_bytes()).unwrap();
        }
        assert!(parse(with("2.7").as_bytes()).unwrap().has_newer_minor());
        let err = parse(with("3.0").as_bytes()).unwrap_err();
        assert!(matches!(err, MetadataError::UnsupportedMetadataVersion(_)));
        assert!(err.to_string().contains("3.0"), "{err}");
        assert!(matches!(
            parse(with("99999999999999999999.1").as_bytes()).unwrap_err(),
            MetadataError::UnsupportedMetadataVersion(_)
        ));
        for bad in ["", "two", "2.x", "2..1", ".1", "-1"] {
            assert!(
                matches!(
                    parse(with(bad).as_bytes()),
                    Err(MetadataError::InvalidMetadataVersion(_) | MetadataError::MissingField(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn missing_and_invalid_fields() {
        let err = |text: &str| parse(text.as_bytes()).unwrap_err();
        assert!(matches!(err("Name: a\nVersion: 1\n"), MetadataError::MissingField("Metadata-Version")));
        assert!(matches!(err("Metadata-Version: 2.1\nVersion: 1\n"), MetadataError::MissingField("Name")));
        assert!(matches!(err("Metadata-Version: 2.1\nName: a\n"), MetadataError::MissingField("Version")));
        assert!(matches!(
            err("Metadata-Version: 2.1\nName: a\n\nVersion: 1\n"),
            MetadataError::MissingField("Version")
        ));
        assert!(matches!(err("Metadata-Version: 2.1\nName: -a\nVersion: 1\n"), MetadataError::InvalidName(_)));
        let e = err("Metadata-Version: 2.1\nName: a\nVersion: one\n");
        assert!(matches!(e, MetadataError::InvalidVersion { .. }));
        assert!(e.to_string().contains("`one`"), "{e}");
        let e = err("Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Python: >=3.x\n");
        assert!(matches!(e, MetadataError::InvalidRequiresPython { .. }));
    }

    #[test]
    fn bad_requires_dist_quotes_the_line() {
        let text = "Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: foo >=< 1\n";
        let e = parse(text.as_bytes()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, MetadataError::InvalidRequiresDist { .. }));
        assert!(msg.contains("`foo >=< 1`"), "{msg}");
        // The pep508_rs diagnostic (with its caret underline) is included.
        assert!(msg.contains('^'), "{msg}");
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            b"\n\n\n".to_vec(),
            b"\r\n".to_vec(),
            b"   continuation first\n".to_vec(),
            b":\n".to_vec(),
            b": value\nName: a\n".to_vec(),
            vec![0xff; 1000],
            b"Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: \xff\xfe\n".to_vec(),
            b"Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: x @ \n".to_vec(),
            b"Metadata-Version: 2.1\x00\nName: a\nVersion: 1\n".to_vec(),
            "Metadata-Version: 2.1\nName: ä\nVersion: 1\n".as_bytes().to_vec(),
            format!("Metadata-Version: 2.1\nName: a\nVersion: 1\nSummary: {}\n", "x".repeat(1 << 20)).into_bytes(),
        ];
        for input in inputs {
            let _ = parse(&input);
        }
        // Old Mac line endings split lines too.
        let m = parse(b"Metadata-Version: 2.1\rName: a\rVersion: 1\r\rName: b").unwrap();
        assert_eq!(m.name, "a");
        // Empty repeated fields are skipped rather than rejected.
        let m =
            parse(b"Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist:\nProvides-Extra:  \nRequires-Python:\n")
                .unwrap();
        assert!(m.requires_dist.is_empty() && m.provides_extra.is_empty());
        assert!(m.requires_python.is_none());
    }

    #[test]
    fn wheel_versions() {
        assert_eq!(wheel_version(b"Wheel-Version: 1.0\nGenerator: x\n").unwrap(), (1, 0));
        assert_eq!(wheel_version(b"generator: x\r\nwheel-version:  2.1 \r\n").unwrap(), (2, 1));
        assert!(matches!(wheel_version(b"Generator: x\n"), Err(MetadataError::MissingField("Wheel-Version"))));
        assert!(matches!(wheel_version(b"Wheel-Version: one\n"), Err(MetadataError::InvalidWheelVersion(_))));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse(&bytes);
            let _ = wheel_version(&bytes);
        }

        #[test]
        fn header_like_lines_never_panic(
            lines in proptest::collection::vec("[A-Za-z-]{0,16}:? ?[ -~\t]{0,40}", 0..12),
            crlf in proptest::prelude::any::<bool>(),
        ) {
            let mut text = String::from("Metadata-Version: 2.1\nName: a\nVersion: 1\n");
            text.push_str(&lines.join(if crlf { "\r\n" } else { "\n" }));
            let _ = parse(text.as_bytes());
        }

        #[test]
        fn valid_metadata_round_trips(
            name in "[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?",
            version in (0u32..100, 0u32..100, 0u32..100),
            dependencies in proptest::collection::vec("[a-z][a-z0-9]{0,6}", 0..5),
            minor in 0u32..7,
        ) {
            let version = format!("{}.{}.{}", version.0, version.1, version.2);
            let mut text = format!("Metadata-Version: 2.{minor}\nName: {name}\nVersion: {version}\n");
            for dependency in &dependencies {
                text.push_str(&format!("Requires-Dist: {dependency}>=1; python_version >= \"3.8\"\n"));
            }
            text.push_str("\nRequires-Dist: body-text\n");
            let parsed = parse(text.as_bytes()).unwrap();
            proptest::prop_assert_eq!(&parsed.name, &name);
            proptest::prop_assert_eq!(parsed.version, Version::from_str(&version).unwrap());
            let names: Vec<String> = parsed.requires_dist.iter().map(|r| r.name.to_string()).collect();
            proptest::prop_assert_eq!(names, dependencies);
        }
    }
}
