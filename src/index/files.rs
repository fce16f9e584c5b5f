//! The files a project offers, read from any of the index shapes lbuild speaks:
//! the PyPI JSON API (`/pypi/<name>/json`), the PEP 691 JSON simple API, the PEP 503 HTML
//! simple API, and local find-links directories.
//!
//! Every shape is reduced to the same [`DistFile`] list. Index data is untrusted: file names
//! that do not parse, belong to another project, or carry an unparseable `Requires-Python` are
//! skipped (with a note under `-v`), never guessed at. Missing optional fields are tolerated.
//! Links are candidates only where [`origin::file_url_allowed`] allows them (http(s) on the
//! index's origin, the page's, or a known file host): a page cannot point lbuild at
//! `file:///etc/passwd`, a `javascript:` URL or another company's host.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use url::Url;

use super::origin;
use crate::output::{debug, shorten};
use crate::python::wheel_name::{WheelFilename, normalize_name, parse_sdist_filename};

/// What a file is.
#[derive(Debug, Clone)]
pub(crate) enum DistKind {
    Wheel(WheelFilename),
    Sdist,
}

/// Whether the index serves the wheel's core metadata on its own (PEP 658/714).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CoreMetadataOffer {
    None,
    /// Available, with the sha256 of the metadata file when the index gives one.
    Available(Option<String>),
}

/// One downloadable file of a project.
#[derive(Debug, Clone)]
pub(crate) struct DistFile {
    pub filename: String,
    /// Absolute URL (`file://` for find-links).
    pub url: Url,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub requires_python: Option<VersionSpecifiers>,
    /// `Some(reason)` when yanked; the reason may be empty.
    pub yanked: Option<String>,
    pub core_metadata: CoreMetadataOffer,
    pub version: Version,
    pub kind: DistKind,
}

/// The raw facts about one file, before validation.
struct RawFile<'a> {
    filename: &'a str,
    url: &'a str,
    sha256: Option<&'a str>,
    size: Option<u64>,
    requires_python: Option<&'a str>,
    yanked: Option<String>,
    core_metadata: CoreMetadataOffer,
}

/// Where a page came from: the index it belongs to and the URL that answered (after
/// redirects). Links from a page must satisfy [`origin::file_url_allowed`] with these.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageOrigin<'a> {
    pub index: &'a Url,
    pub page: &'a Url,
}

/// Validate a raw file entry for `project` (normalized), resolving its URL against `base`.
/// `origin` is `None` only for find-links files, which are local by construction.
fn to_dist_file(project: &str, base: &Url, origin: Option<PageOrigin<'_>>, raw: RawFile<'_>) -> Option<DistFile> {
    // What a page says may be huge; `-v` notes quote it short.
    let shown = shorten(raw.filename);
    let mut url = match base.join(raw.url) {
        Ok(url) => url,
        Err(err) => {
            debug!(
                "skipping `{shown}`: bad URL `{}`: {err}",
                shorten(&super::http::SecretUrl::new(raw.url).to_string())
            );
            return None;
        }
    };
    if let Some(PageOrigin { index, page }) = origin
        && !origin::file_url_allowed(index, Some(page), &url)
    {
        debug!(
            "skipping `{shown}`: its link `{}` is not http(s) on the index's or the page's host",
            shorten(&super::http::SecretUrl::from(&url).to_string())
        );
        return None;
    }
    // A `#sha256=` fragment (PEP 503) carries the hash; other fragments are dropped.
    let mut sha256 = raw.sha256.map(str::to_ascii_lowercase);
    if let Some(fragment) = url.fragment()
        && let Some(hex) = fragment.strip_prefix("sha256=")
    {
        sha256.get_or_insert_with(|| hex.to_ascii_lowercase());
    }
    url.set_fragment(None);
    if sha256.as_deref().is_some_and(|hex| hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit())) {
        debug!("skipping `{shown}`: malformed sha256");
        return None;
    }
    let filename = raw.filename;
    if filename.contains('/') || filename.contains('\\') {
        debug!("skipping `{shown}`: not a plain file name");
        return None;
    }
    let (version, kind) = if filename.ends_with(".whl") {
        match WheelFilename::parse(filename) {
            Ok(wheel) if wheel.name == project => (wheel.version.clone(), DistKind::Wheel(wheel)),
            Ok(_) => {
                debug!("skipping `{shown}`: it belongs to another project than `{project}`");
                return None;
            }
            Err(err) => {
                debug!("skipping `{shown}`: {}", shorten(&err.to_string()));
                return None;
            }
        }
    } else if filename.ends_with(".tar.gz") || filename.ends_with(".zip") {
        match parse_sdist_filename(filename, project) {
            Some(version) => (version, DistKind::Sdist),
            None => {
                debug!("skipping `{shown}`: not an sdist of `{project}`");
                return None;
            }
        }
    } else {
        return None;
    };
    let requires_python = match raw.requires_python.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => match VersionSpecifiers::from_str(text) {
            Ok(specifiers) => Some(specifiers),
            Err(err) => {
                debug!("skipping `{shown}`: invalid Requires-Python `{}`: {err}", shorten(text));
                return None;
            }
        },
        None => None,
    };
    Some(DistFile {
        filename: filename.to_string(),
        url,
        sha256,
        size: raw.size,
        requires_python,
        yanked: raw.yanked,
        core_metadata: raw.core_metadata,
        version,
        kind,
    })
}

/// A JSON string, borrowed from the page unless it has escapes: a page lists thousands of
/// files, and owning every field of every file was most of the parse's allocations.
#[derive(Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Visit<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value.to_string())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(Visit(PhantomData))
    }
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hashes object (`{"sha256": "..."}`): only the sha256 is kept; every value must be a
/// string.
#[derive(Debug, Default)]
struct Hashes<'a> {
    sha256: Option<Text<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Hashes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HashesVisitor(PhantomData))
    }
}

struct HashesVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for HashesVisitor<'a> {
    type Value = Hashes<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of hashes")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut hashes = Hashes::default();
        while let Some((name, value)) = map.next_entry::<Text<'a>, Text<'a>>()? {
            if name.as_str() == "sha256" {
                hashes.sha256 = Some(value);
            }
        }
        Ok(hashes)
    }
}

/// `yanked` is a bool or a reason string (PEP 691), or absent.
#[derive(Debug)]
enum Yanked {
    Bool(bool),
    Reason(String),
}

impl<'de> Deserialize<'de> for Yanked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Yanked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bool or a reason string")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
                Ok(Yanked::Bool(value))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Yanked::Reason(value.to_string()))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

fn yanked(value: Option<Yanked>, reason: Option<String>) -> Option<String> {
    match value {
        Some(Yanked::Bool(true)) => Some(reason.unwrap_or_default()),
        Some(Yanked::Reason(reason)) => Some(reason),
        _ => None,
    }
}

/// `core-metadata` is a bool or a hashes object (PEP 691/714).
#[derive(Debug)]
enum MetadataOffer<'a> {
    Bool(bool),
    Hashes(Hashes<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for MetadataOffer<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Visit<'a> {
            type Value = MetadataOffer<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bool or an object of hashes")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
                Ok(MetadataOffer::Bool(value))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                HashesVisitor(PhantomData).visit_map(map).map(MetadataOffer::Hashes)
            }
        }
        deserializer.deserialize_any(Visit(PhantomData))
    }
}

fn metadata_offer(value: Option<MetadataOffer<'_>>) -> CoreMetadataOffer {
    match value {
        Some(MetadataOffer::Bool(true)) => CoreMetadataOffer::Available(None),
        Some(MetadataOffer::Hashes(hashes)) => {
            CoreMetadataOffer::Available(hashes.sha256.map(|hex| hex.0.into_owned()))
        }
        _ => CoreMetadataOffer::None,
    }
}

/// Parse a PyPI JSON API project page (`/pypi/<name>/json`).
pub(crate) fn parse_pypi_json(project: &str, origin: PageOrigin<'_>, body: &[u8]) -> Result<Vec<DistFile>, String> {
    #[derive(Deserialize)]
    struct Page<'a> {
        #[serde(default, borrow)]
        releases: BTreeMap<Text<'a>, Vec<File<'a>>>,
        #[serde(default, borrow)]
        urls: Vec<File<'a>>,
    }
    #[derive(Deserialize)]
    struct File<'a> {
        #[serde(borrow)]
        filename: Text<'a>,
        #[serde(borrow)]
        url: Text<'a>,
        #[serde(default)]
        size: Option<u64>,
        #[serde(default, borrow)]
        digests: Hashes<'a>,
        #[serde(default, borrow)]
        requires_python: Option<Text<'a>>,
        #[serde(default)]
        yanked: Option<Yanked>,
        #[serde(default)]
        yanked_reason: Option<String>,
        #[serde(default, borrow, rename = "core-metadata")]
        core_metadata: Option<MetadataOffer<'a>>,
        #[serde(default, borrow, rename = "data-dist-info-metadata")]
        dist_info_metadata: Option<MetadataOffer<'a>>,
    }
    let page: Page = serde_json::from_slice(body).map_err(|err| format!("invalid PyPI JSON API response: {err}"))?;
    let mut seen = std::collections::HashSet::new();
    let mut files = Vec::new();
    // `releases` is deprecated and may be missing (minimal servers); `urls` lists the latest.
    for file in page.releases.into_values().flatten().chain(page.urls) {
        if !seen.insert(file.filename.as_str().to_string()) {
            continue;
        }
        let raw = RawFile {
            filename: file.filename.as_str(),
            url: file.url.as_str(),
            sha256: file.digests.sha256.as_ref().map(Text::as_str),
            size: file.size,
            requires_python: file.requires_python.as_ref().map(Text::as_str),
            yanked: yanked(file.yanked, file.yanked_reason),
            core_metadata: metadata_offer(file.core_metadata.or(file.dist_info_metadata)),
        };
        files.extend(to_dist_file(project, origin.page, Some(origin), raw));
    }
    Ok(files)
}

/// Parse a PEP 691 JSON simple page.
pub(crate) fn parse_simple_json(project: &str, origin: PageOrigin<'_>, body: &[u8]) -> Result<Vec<DistFile>, String> {
    #[derive(Deserialize)]
    struct Page<'a> {
        #[serde(default)]
        meta: Option<Meta>,
        #[serde(borrow)]
        files: Vec<File<'a>>,
    }
    #[derive(Deserialize)]
    struct Meta {
        #[serde(rename = "api-version")]
        api_version: Option<String>,
    }
    #[derive(Deserialize)]
    struct File<'a> {
        #[serde(borrow)]
        filename: Text<'a>,
        #[serde(borrow)]
        url: Text<'a>,
        #[serde(default, borrow)]
        hashes: Hashes<'a>,
        #[serde(default, borrow, rename = "requires-python")]
        requires_python: Option<Text<'a>>,
        #[serde(default)]
        size: Option<u64>,
        #[serde(default)]
        yanked: Option<Yanked>,
        #[serde(default, borrow, rename = "core-metadata")]
        core_metadata: Option<MetadataOffer<'a>>,
        #[serde(default, borrow, rename = "dist-info-metadata")]
        dist_info_metadata: Option<MetadataOffer<'a>>,
    }
    let page: Page = serde_json::from_slice(body).map_err(|err| format!("invalid PEP 691 JSON response: {err}"))?;
    if let Some(version) = page.meta.and_then(|meta| meta.api_version) {
        check_api_version(&version)?;
    }
    Ok(page
        .files
        .into_iter()
        .filter_map(|file| {
            let raw = RawFile {
                filename: file.filename.as_str(),
                url: file.url.as_str(),
                sha256: file.hashes.sha256.as_ref().map(Text::as_str),
                size: file.size,
                requires_python: file.requires_python.as_ref().map(Text::as_str),
                yanked: yanked(file.yanked, None),
                core_metadata: metadata_offer(file.core_metadata.or(file.dist_info_metadata)),
            };
            to_dist_file(project, origin.page, Some(origin), raw)
        })
        .collect())
}

/// Parse a PEP 503 HTML simple page.
pub(crate) fn parse_simple_html(project: &str, origin: PageOrigin<'_>, body: &[u8]) -> Result<Vec<DistFile>, String> {
    let page_url = origin.page;
    let text = String::from_utf8_lossy(body);
    let page = super::html::parse(&text);
    if let Some(version) = &page.repository_version {
        check_api_version(version)?;
    }
    let base = match &page.base {
        Some(base) => page_url.join(base).map_err(|err| format!("invalid <base href>: {err}"))?,
        None => page_url.clone(),
    };
    Ok(page
        .anchors
        .iter()
        .filter_map(|anchor| {
            // The link text is the file name by convention; fall back to the URL's last segment.
            let from_url =
                anchor.href.split(['#', '?']).next().unwrap_or_default().rsplit('/').next().unwrap_or_default();
            let filename = if anchor.text.trim().is_empty() { from_url } else { anchor.text.trim() };
            let core_metadata = match anchor.core_metadata.as_deref() {
                None | Some("false") => CoreMetadataOffer::None,
                Some(value) => CoreMetadataOffer::Available(value.strip_prefix("sha256=").map(str::to_string)),
            };
            let raw = RawFile {
                filename,
                url: &anchor.href,
                sha256: None,
                size: None,
                requires_python: anchor.requires_python.as_deref(),
                yanked: anchor.yanked.clone(),
                core_metadata,
            };
            to_dist_file(project, &base, Some(origin), raw)
        })
        .collect())
}

/// Refuse a simple API of an unknown major version (PEP 629).
fn check_api_version(version: &str) -> Result<(), String> {
    match version.split('.').next() {
        Some("1") => Ok(()),
        _ => Err(format!("the index speaks simple API version {version}; lbuild understands 1.x")),
    }
}

/// Files of `project` in a find-links directory listing (`(file name, absolute path)` pairs).
pub(crate) fn find_links_file(project: &str, path: &std::path::Path, sha256: String, size: u64) -> Option<DistFile> {
    let filename = path.file_name()?.to_str()?;
    let url = Url::from_file_path(path).ok()?;
    let raw = RawFile {
        filename,
        url: url.as_str(),
        sha256: Some(&sha256),
        size: Some(size),
        requires_python: None,
        yanked: None,
        core_metadata: CoreMetadataOffer::None,
    };
    to_dist_file(project, &url, None, raw)
}

/// The normalized project name a find-links file belongs to, from its file name.
pub(crate) fn find_links_project(filename: &str) -> Option<String> {
    if filename.ends_with(".whl") {
        return WheelFilename::parse(filename).ok().map(|wheel| wheel.name);
    }
    let stem = filename.strip_suffix(".tar.gz").or_else(|| filename.strip_suffix(".zip"))?;
    let (name, _) = stem.rsplit_once('-')?;
    Some(normalize_name(name))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    const WHEEL: &str = "six-1.0-py3-none-any.whl";

    #[test]
    fn links_off_the_index_are_skipped_on_every_page_shape() {
        let index = url("https://pypi.corp.example/simple/");
        let page = url("https://pypi.corp.example/simple/six/");
        let origin = PageOrigin { index: &index, page: &page };
        let hrefs = [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:application/zip;base64,AAAA",
            "ftp://pypi.corp.example/six-1.0-py3-none-any.whl",
            "https://evil.example/six-1.0-py3-none-any.whl",
            "//evil.example/six-1.0-py3-none-any.whl",
            "../../files/six-1.0-py3-none-any.whl",
        ];
        let html: String = hrefs.iter().map(|href| format!("<a href=\"{href}\">{WHEEL}</a>\n")).collect();
        let files = parse_simple_html("six", origin, html.as_bytes()).unwrap();
        let urls: Vec<&str> = files.iter().map(|file| file.url.as_str()).collect();
        assert_eq!(urls, ["https://pypi.corp.example/files/six-1.0-py3-none-any.whl"]);

        let entries: Vec<serde_json::Value> =
            hrefs.iter().map(|href| serde_json::json!({ "filename": WHEEL, "url": href })).collect();
        let json = serde_json::to_vec(&serde_json::json!({ "files": entries })).unwrap();
        let files = parse_simple_json("six", origin, &json).unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        let json = serde_json::to_vec(&serde_json::json!({ "urls": entries })).unwrap();
        assert_eq!(parse_pypi_json("six", origin, &json).unwrap().len(), 0, "one file name, listed once");

        // A `<base>` elsewhere does not move the files elsewhere.
        let based = format!("<base href=\"https://evil.example/\"><a href=\"{WHEEL}\">{WHEEL}</a>");
        assert!(parse_simple_html("six", origin, based.as_bytes()).unwrap().is_empty());
    }

    #[test]
    fn json_fields_read_in_place_or_unescaped_and_their_shapes_are_checked() {
        let index = url("https://pypi.org/simple/");
        let page = url("https://pypi.org/simple/six/");
        let origin = PageOrigin { index: &index, page: &page };
        let hash = "ab".repeat(32);
        // Escaped strings cannot be borrowed from the page; they must read the same.
        let body = format!(
            r#"{{"files": [
                {{"filename": "six-1.0-py3-none-any.whl", "url": "https:\/\/pypi.org\/f\/six-1.0-py3-none-any.whl",
                  "hashes": {{"md5": "x", "sha256": "{hash}"}}, "requires-python": ">=3.8",
                  "core-metadata": {{"sha256": "\u0061b"}}, "yanked": "broken \"wheel\""}},
                {{"filename": "six-1.0.tar.gz", "url": "https://pypi.org/f/six-1.0.tar.gz",
                  "dist-info-metadata": true, "yanked": true}},
                {{"filename": "six-2.0.tar.gz", "url": "https://pypi.org/f/six-2.0.tar.gz",
                  "core-metadata": false, "yanked": false}}
            ]}}"#
        );
        let files = parse_simple_json("six", origin, body.as_bytes()).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].url.as_str(), "https://pypi.org/f/six-1.0-py3-none-any.whl");
        assert_eq!(files[0].sha256.as_deref(), Some(hash.as_str()));
        assert_eq!(files[0].core_metadata, CoreMetadataOffer::Available(Some("ab".to_string())));
        assert_eq!(files[0].yanked.as_deref(), Some("broken \"wheel\""));
        assert_eq!(files[0].requires_python.as_ref().map(ToString::to_string).as_deref(), Some(">=3.8"));
        assert_eq!(files[1].core_metadata, CoreMetadataOffer::Available(None));
        assert_eq!(files[1].yanked.as_deref(), Some(""));
        assert_eq!((&files[2].core_metadata, &files[2].yanked), (&CoreMetadataOffer::None, &None));
        // Shapes the PEPs do not allow make the page unreadable, as before.
        for bad in
            [r#""yanked": 1"#, r#""core-metadata": {"sha256": 1}"#, r#""hashes": null"#, r#""core-metadata": "x""#]
        {
            let body = format!(
                r#"{{"files": [{{"filename": "six-1.0.tar.gz", "url": "https://pypi.org/f/six-1.0.tar.gz", {bad}}}]}}"#
            );
            assert!(parse_simple_json("six", origin, body.as_bytes()).is_err(), "{bad}");
        }
        // The PyPI JSON API's `digests` object gives the sha256 the same way.
        let body = format!(
            r#"{{"releases": {{"1.0": [{{"filename": "six-1.0.tar.gz", "url": "https://pypi.org/f/six-1.0.tar.gz",
                "digests": {{"blake2b_256": "x", "sha256": "{hash}"}}, "yanked": true, "yanked_reason": "bad"}}]}}}}"#
        );
        let files = parse_pypi_json("six", origin, body.as_bytes()).unwrap();
        assert_eq!(files[0].sha256.as_deref(), Some(hash.as_str()));
        assert_eq!(files[0].yanked.as_deref(), Some("bad"));
    }

    /// Text that looks like index pages: the anchors and keys the parsers look for, hostile
    /// URLs and noise.
    fn pagey() -> impl Strategy<Value = String> {
        let href = prop_oneof![
            Just("file:///etc/passwd".to_string()),
            Just("javascript:x".to_string()),
            Just("https://evil.example/six-1.0-py3-none-any.whl".to_string()),
            Just("../../files/six-1.0-py3-none-any.whl#sha256=".to_string()),
            Just("https://files.pythonhosted.org/six-1.0.tar.gz".to_string()),
            "[ -~]{0,30}",
        ];
        let piece = prop_oneof![
            href.clone().prop_map(|href| format!("<a href=\"{href}\" data-yanked data-core-metadata=\"sha256=zz\">")),
            href.prop_map(|href| format!("{{\"filename\": \"six-1.0-py3-none-any.whl\", \"url\": \"{href}\"}},")),
            Just("six-1.0-py3-none-any.whl</a>".to_string()),
            Just("{\"files\": [".to_string()),
            Just("]}".to_string()),
            Just("<base href=\"/\">".to_string()),
            Just("<meta name=\"pypi:repository-version\" content=\"1.0\">".to_string()),
            "[ -~\u{0}\u{1b}é&;<>\"'#]{0,20}",
        ];
        prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
    }

    /// Well-formed JSON pages (PEP 691 and PyPI JSON) whose entries are arbitrary.
    fn json_pages() -> impl Strategy<Value = Vec<u8>> {
        let text = prop_oneof![
            "[ -~\u{0}\u{1b}é]{0,30}",
            Just(WHEEL.to_string()),
            Just("six-1.0.tar.gz".to_string()),
            Just("file:///etc/passwd".to_string()),
            Just("javascript:x".to_string()),
            Just("https://evil.example/six-1.0-py3-none-any.whl".to_string()),
            Just("../../x/six-1.0-py3-none-any.whl#sha256=0".to_string()),
        ];
        let value = prop_oneof![
            text.clone().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            Just(serde_json::json!({ "sha256": "00" })),
            Just(serde_json::Value::Null),
        ];
        let keys = prop::sample::select(vec![
            "filename",
            "url",
            "hashes",
            "digests",
            "size",
            "yanked",
            "requires-python",
            "requires_python",
            "core-metadata",
            "data-dist-info-metadata",
            "dist-info-metadata",
        ]);
        let entry = prop::collection::btree_map(keys, value, 0..8)
            .prop_map(|map| serde_json::Value::Object(map.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
        (prop::collection::vec(entry, 0..6), any::<bool>()).prop_map(|(entries, pypi)| {
            let page = if pypi {
                serde_json::json!({ "urls": entries.clone(), "releases": { "1.0": entries } })
            } else {
                serde_json::json!({ "meta": { "api-version": "1.1" }, "files": entries })
            };
            serde_json::to_vec(&page).unwrap()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn json_pages_never_panic_and_only_yield_allowed_files(body in json_pages()) {
            let index = url("https://pypi.org/pypi/");
            let page = url("https://pypi.org/pypi/six/json");
            let origin = PageOrigin { index: &index, page: &page };
            for parsed in [parse_simple_json("six", origin, &body), parse_pypi_json("six", origin, &body)] {
                for file in parsed.unwrap_or_default() {
                    prop_assert!(origin::file_url_allowed(&index, Some(&page), &file.url), "{}", file.url);
                }
            }
        }

        /// Whatever a page holds, the parsers return (files or an error) without panicking, and
        /// every file they return is one lbuild may download.
        #[test]
        fn page_parsers_never_panic_and_only_yield_allowed_files(body in pagey()) {
            let index = url("https://pypi.org/simple/");
            let page = url("https://pypi.org/simple/six/");
            let origin = PageOrigin { index: &index, page: &page };
            for parsed in [
                parse_simple_html("six", origin, body.as_bytes()),
                parse_simple_json("six", origin, body.as_bytes()),
                parse_pypi_json("six", origin, body.as_bytes()),
            ] {
                for file in parsed.unwrap_or_default() {
                    prop_assert!(origin::file_url_allowed(&index, Some(&page), &file.url), "{}", file.url);
                }
            }
        }
    }
}
