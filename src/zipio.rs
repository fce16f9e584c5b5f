//! Everything lbuild does with the `zip` crate goes through this module, so an update of that
//! fast-moving crate touches one file.

use std::io::{Read, Seek};

use crate::python::wheel_name::normalize_name;

/// Why the metadata could not be read from an archive.
#[derive(Debug)]
pub(crate) enum ZipReadError {
    /// The archive is not a valid zip file.
    Invalid(String),
    /// The archive has no `*.dist-info/METADATA` for the project.
    NoMetadata,
}

/// Read `{name}-{version}.dist-info/METADATA` of the project `project` from a wheel.
pub(crate) fn read_wheel_metadata<R: Read + Seek>(reader: R, project: &str) -> Result<Vec<u8>, ZipReadError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.map(|name| name.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    let candidates: Vec<String> = names
        .iter()
        .filter(|name| {
            let mut parts = name.split('/');
            matches!((parts.next(), parts.next(), parts.next()), (Some(dir), Some("METADATA"), None) if dir.ends_with(".dist-info"))
        })
        .cloned()
        .collect();
    let wanted = normalize_name(project);
    let chosen = candidates
        .iter()
        .find(|path| {
            let dir = path.split('/').next().unwrap_or_default();
            let stem = dir.trim_end_matches(".dist-info");
            let name = stem.rsplit_once('-').map(|(name, _)| name).unwrap_or(stem);
            normalize_name(name) == wanted
        })
        .or(if candidates.len() == 1 { candidates.first() } else { None })
        .ok_or(ZipReadError::NoMetadata)?
        .clone();
    let mut file = archive.by_name(&chosen).map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|err| ZipReadError::Invalid(err.to_string()))?;
    Ok(bytes)
}
