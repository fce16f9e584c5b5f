//! The `.dist-info` files lbuild writes for a local project, byte for byte deterministic:
//! METADATA (core metadata 2.3), WHEEL, entry_points.txt and RECORD (sha256 of every file).

use std::fmt::Write as _;
use std::io::Read as _;
use std::str::FromStr;

use base64::Engine as _;
use pep508_rs::{MarkerTree, Requirement};
use sha2::{Digest, Sha256};

use super::{LocalProject, ProjectError, WheelFile};

impl LocalProject {
    /// Core metadata (Metadata-Version 2.3): Name, Version, Summary, Requires-Python,
    /// Requires-Dist (each extra's with an `extra == "x"` marker) and Provides-Extra.
    pub fn metadata(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Metadata-Version: 2.3");
        let _ = writeln!(out, "Name: {}", self.name);
        let _ = writeln!(out, "Version: {}", self.version);
        if let Some(summary) = &self.summary {
            let _ = writeln!(out, "Summary: {summary}");
        }
        if let Some(requires_python) = &self.requires_python {
            let _ = writeln!(out, "Requires-Python: {requires_python}");
        }
        for requirement in &self.dependencies {
            let _ = writeln!(out, "Requires-Dist: {requirement}");
        }
        for (extra, requirements) in &self.optional_dependencies {
            let _ = writeln!(out, "Provides-Extra: {extra}");
            for requirement in requirements {
                let _ = writeln!(out, "Requires-Dist: {}", with_extra(requirement, extra));
            }
        }
        out
    }

    /// The `.dist-info` directory name: `{name}-{version}.dist-info`, the name normalized with
    /// `_` as a wheel file name spells it.
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.normalized_name.replace('-', "_"), self.version)
    }

    /// Every `.dist-info` file as (archive path, bytes): METADATA, WHEEL, entry_points.txt when
    /// the project defines entry points, and RECORD, which lists every file of the wheel (`files`
    /// and these) with its sha256 and size.
    pub fn dist_info_files(&self, files: &[WheelFile]) -> Result<Vec<(String, Vec<u8>)>, ProjectError> {
        let dir = self.dist_info_dir();
        let mut out = vec![
            (format!("{dir}/METADATA"), self.metadata().into_bytes()),
            (
                format!("{dir}/WHEEL"),
                format!(
                    "Wheel-Version: 1.0\nGenerator: lbuild {}\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
                    env!("CARGO_PKG_VERSION")
                )
                .into_bytes(),
            ),
        ];
        if !self.entry_points.is_empty() {
            let mut text = String::new();
            for (index, (group, entries)) in self.entry_points.iter().enumerate() {
                if index > 0 {
                    text.push('\n');
                }
                let _ = writeln!(text, "[{group}]");
                for (name, value) in entries {
                    let _ = writeln!(text, "{name} = {value}");
                }
            }
            out.push((format!("{dir}/entry_points.txt"), text.into_bytes()));
        }
        let mut record = String::new();
        for file in files {
            let (digest, size) = hash_file(file)?;
            let _ = writeln!(record, "{},sha256={digest},{size}", csv_field(&file.archive_path));
        }
        for (path, bytes) in &out {
            let _ = writeln!(record, "{},sha256={},{}", csv_field(path), digest(bytes), bytes.len());
        }
        let _ = writeln!(record, "{},,", csv_field(&format!("{dir}/RECORD")));
        out.push((format!("{dir}/RECORD"), record.into_bytes()));
        Ok(out)
    }
}

/// `requirement` for the extra `extra`: its marker, if any, and `extra == "..."`.
pub(super) fn with_extra(requirement: &Requirement, extra: &str) -> Requirement {
    let mut requirement = requirement.clone();
    let extra_marker =
        MarkerTree::from_str(&format!("extra == \"{extra}\"")).expect("a normalized extra name is a marker value");
    requirement.marker.and(extra_marker);
    requirement
}

fn digest(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

fn hash_file(file: &WheelFile) -> Result<(String, u64), ProjectError> {
    let read_error = |err: std::io::Error| {
        ProjectError::project(format!("cannot read `{}` for the wheel's RECORD: {err}", file.source.display()), None)
    };
    let mut reader = fs_err::File::open(&file.source).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 << 10];
    let mut size = 0u64;
    loop {
        let read = reader.read(&mut buffer).map_err(read_error)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize()), size))
}

/// A RECORD field, quoted as CSV when it holds a comma or a quote.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}
