//! Small, valid, byte-for-byte deterministic wheels and sdists built in memory.
//!
//! A wheel holds `<import_name>/__init__.py`, any extra members of the spec, and the
//! `.dist-info` files METADATA, WHEEL and RECORD. Every member has the same fixed timestamp
//! and mode, so one spec always gives the same bytes and the same sha256.

use std::io::{Cursor, Write};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

/// What goes into one wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelSpec {
    /// Project name as written in METADATA (any spelling; the filename uses the normalized one).
    pub name: String,
    pub version: String,
    /// Compressed tag set, e.g. `"py3-none-any"` or
    /// `"cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"`.
    pub tag: String,
    /// Optional build tag (must start with a digit), e.g. `"1"` or `"2local"`.
    pub build: Option<String>,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub provides_extra: Vec<String>,
    /// Extra archive members, e.g. `("pkg-1.0.data/purelib/x.py", b"...")`. A member named like
    /// the default `<import_name>/__init__.py` replaces it.
    pub files: Vec<(String, Vec<u8>)>,
}

impl WheelSpec {
    /// A pure-Python `py3-none-any` wheel with no dependencies.
    pub fn new(name: &str, version: &str) -> WheelSpec {
        WheelSpec {
            name: name.to_string(),
            version: version.to_string(),
            tag: "py3-none-any".to_string(),
            build: None,
            requires_dist: Vec::new(),
            requires_python: None,
            provides_extra: Vec::new(),
            files: Vec::new(),
        }
    }

    /// The wheel's filename, without building it.
    pub fn filename(&self) -> String {
        wheel_filename(&self.name, &self.version, self.build.as_deref(), &self.tag)
    }

    /// `<dist>-<version>.dist-info`.
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", escape_name(&self.name), self.version)
    }
}

/// PEP 503 normalization: lowercase, each run of `-`, `_`, `.` becomes one `-`.
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

/// The normalized name with `-` replaced by `_`, as used in filenames and `.dist-info`.
pub fn escape_name(name: &str) -> String {
    normalize_name(name).replace('-', "_")
}

/// `{name}-{version}(-{build})?-{tag}.whl` with the escaped name.
pub fn wheel_filename(name: &str, version: &str, build: Option<&str>, tag: &str) -> String {
    match build {
        Some(build) => format!("{}-{version}-{build}-{tag}.whl", escape_name(name)),
        None => format!("{}-{version}-{tag}.whl", escape_name(name)),
    }
}

/// The filename of the sdist [`build_sdist`] makes: `{escaped name}-{version}.zip`.
pub fn sdist_filename(name: &str, version: &str) -> String {
    format!("{}-{version}.zip", escape_name(name))
}

/// Expands a compressed tag set (`py2.py3-none-any`) into its single tags, in
/// python × abi × platform order.
pub fn expand_tag(tag: &str) -> Vec<String> {
    let parts: Vec<&str> = tag.split('-').collect();
    let [python, abi, platform] = parts[..] else {
        panic!("wheel tag {tag:?} must have exactly three '-' separated parts");
    };
    let mut tags = Vec::new();
    for py in python.split('.') {
        for abi in abi.split('.') {
            for plat in platform.split('.') {
                tags.push(format!("{py}-{abi}-{plat}"));
            }
        }
    }
    tags
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A RECORD hash: `sha256=` plus the URL-safe base64 digest without padding.
pub fn record_hash(bytes: &[u8]) -> String {
    format!("sha256={}", base64_urlsafe_nopad(&Sha256::digest(bytes)))
}

fn base64_urlsafe_nopad(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        // n input bytes give n + 1 output characters when no padding is written.
        for i in 0..=chunk.len() {
            let index = (group >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

/// The METADATA file of `spec` (Metadata-Version 2.1). A `.metadata` file served by the
/// fake index is exactly these bytes.
pub fn metadata_text(spec: &WheelSpec) -> String {
    let mut text = String::from("Metadata-Version: 2.1\n");
    text.push_str(&format!("Name: {}\n", spec.name));
    text.push_str(&format!("Version: {}\n", spec.version));
    text.push_str(&format!("Summary: Test package {}\n", spec.name));
    if let Some(requires_python) = &spec.requires_python {
        text.push_str(&format!("Requires-Python: {requires_python}\n"));
    }
    for extra in &spec.provides_extra {
        text.push_str(&format!("Provides-Extra: {extra}\n"));
    }
    for requirement in &spec.requires_dist {
        text.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    text
}

fn wheel_text(spec: &WheelSpec) -> String {
    let tags = expand_tag(&spec.tag);
    let purelib = tags.iter().all(|t| t.ends_with("-none-any"));
    let mut text = String::from("Wheel-Version: 1.0\nGenerator: lbuild-test-support\n");
    text.push_str(&format!("Root-Is-Purelib: {purelib}\n"));
    for tag in &tags {
        text.push_str(&format!("Tag: {tag}\n"));
    }
    if let Some(build) = &spec.build {
        text.push_str(&format!("Build: {build}\n"));
    }
    text
}

/// Quotes a RECORD (CSV) field when it needs it.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn member_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::DEFAULT)
        .system(System::Unix)
        .unix_permissions(0o644)
}

/// Writes `members` in order into a zip archive with fixed timestamps and modes.
fn zip_members(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (path, data) in members {
        zip.start_file(path.as_str(), member_options()).unwrap_or_else(|e| panic!("zip member {path}: {e}"));
        zip.write_all(data).expect("write to an in-memory zip");
    }
    zip.finish().expect("finish an in-memory zip").into_inner()
}

/// Builds the wheel described by `spec`; returns its filename and bytes.
pub fn build_wheel(spec: &WheelSpec) -> (String, Vec<u8>) {
    let import_name = escape_name(&spec.name);
    let dist_info = spec.dist_info_dir();
    let record_path = format!("{dist_info}/RECORD");

    let default_init = format!("{import_name}/__init__.py");
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    if !spec.files.iter().any(|(path, _)| *path == default_init) {
        let init = format!("__version__ = \"{}\"\n", spec.version);
        members.push((default_init, init.into_bytes()));
    }
    members.extend(spec.files.iter().cloned());
    members.push((format!("{dist_info}/METADATA"), metadata_text(spec).into_bytes()));
    members.push((format!("{dist_info}/WHEEL"), wheel_text(spec).into_bytes()));

    let mut record = String::new();
    for (path, data) in &members {
        record.push_str(&format!("{},{},{}\n", csv_field(path), record_hash(data), data.len()));
    }
    record.push_str(&format!("{},,\n", csv_field(&record_path)));
    members.push((record_path, record.into_bytes()));

    (spec.filename(), zip_members(&members))
}

/// Builds a minimal source distribution `{escaped name}-{version}.zip` holding
/// `{escaped name}-{version}/PKG-INFO` and a package `__init__.py`.
pub fn build_sdist(name: &str, version: &str) -> (String, Vec<u8>) {
    let root = format!("{}-{version}", escape_name(name));
    let pkg_info = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: Test package {name}\n");
    let members = vec![
        (format!("{root}/PKG-INFO"), pkg_info.into_bytes()),
        (format!("{root}/{}/__init__.py", escape_name(name)), format!("__version__ = \"{version}\"\n").into_bytes()),
    ];
    (sdist_filename(name, version), zip_members(&members))
}
