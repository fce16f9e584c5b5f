//! The Python packaging domain, with no IO: wheel filenames and names (PEP 427, PEP 503),
//! compatibility tags (PEP 425, PEP 600), and core metadata (METADATA / PKG-INFO).

pub(crate) mod metadata;
pub(crate) mod tags;
pub(crate) mod wheel_name;
