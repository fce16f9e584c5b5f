//! What a built wheel holds: the check that it is pure Python for the project that was built,
//! the hash of its installed contents, and its canonical rewrite.
//!
//! Build backends do not write the same wheel bytes twice (setuptools' zip timestamps and
//! member order, compressor versions), so the lock records `content_sha256`: the sha256 of the
//! sorted lines `"{path}\t{x|-}\t{sha256 of the inflated bytes}\n"`, one per file member. It
//! is the same on every machine that builds the same files. The wheel lbuild caches and ships
//! is rewritten with [`crate::zipio::DeterministicZip`] (members sorted, one timestamp,
//! lbuild's own deflate), so the zips built from it stay byte-reproducible.

use std::path::Path;

use crate::cache::sha256_hex;
use crate::python::wheel_name::{WheelFilename, normalize_name};

/// The most bytes one member of a built wheel may inflate to.
const MAX_MEMBER: u64 = 256 << 20;
/// The most bytes a whole built wheel may inflate to (its members are held in memory; Lambda
/// takes 250 MB unzipped).
const MAX_TOTAL: u64 = 512 << 20;

/// The wheel's members, sorted by name: (name, executable, bytes).
pub(crate) type Members = Vec<(String, bool, Vec<u8>)>;

/// Why a built wheel cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// It holds platform-specific code: tags other than `py3-none-any`/`py2.py3-none-any`, or a
    /// compiled member.
    NativeCode { tags: String },
    /// Anything else: the wrong project or version, an unreadable zip.
    Invalid(String),
}

/// Check the wheel a backend wrote (`filename` at `path`) against the project and version that
/// were built, and read its members.
pub(crate) fn check(
    path: &Path,
    filename: &str,
    name: &str,
    version: &pep440_rs::Version,
) -> Result<Members, Rejected> {
    check_within(path, filename, name, version, MAX_TOTAL)
}

/// Check the wheel the native builder wrote for `target`: a wheel of this project and version
/// with a tag the target installs, whose compiled members are all ELF files for the target's
/// machine and glibc ([`super::elf`]). The message says what is wrong.
pub(crate) fn check_native(
    path: &Path,
    filename: &str,
    name: &str,
    version: &pep440_rs::Version,
    target: &crate::platform::Target,
) -> Result<Members, String> {
    check_kind(path, filename, name, version, MAX_TOTAL, Some(target)).map_err(|rejected| match rejected {
        Rejected::Invalid(why) => why.replace("the backend", "the native builder"),
        Rejected::NativeCode { tags } => tags,
    })
}

fn check_within(
    path: &Path,
    filename: &str,
    name: &str,
    version: &pep440_rs::Version,
    max_total: u64,
) -> Result<Members, Rejected> {
    check_kind(path, filename, name, version, max_total, None)
}

/// [`check`] (`native: None`) or [`check_native`].
fn check_kind(
    path: &Path,
    filename: &str,
    name: &str,
    version: &pep440_rs::Version,
    max_total: u64,
    native: Option<&crate::platform::Target>,
) -> Result<Members, Rejected> {
    let parsed = WheelFilename::parse(filename)
        .map_err(|err| Rejected::Invalid(format!("the backend wrote `{filename}`, not a valid wheel name: {err}")))?;
    if normalize_name(&parsed.name) != normalize_name(name) || &parsed.version != version {
        return Err(Rejected::Invalid(format!(
            "the backend built `{filename}`, which is not {name} {version}: the sdist's name or version does not match its metadata"
        )));
    }
    let tags: Vec<String> = parsed.tags().map(|(py, abi, plat)| format!("{py}-{abi}-{plat}")).collect();
    match native {
        None => {
            if !tags.iter().all(|tag| tag == "py3-none-any" || tag == "py2-none-any") {
                return Err(Rejected::NativeCode { tags: tags.join(", ") });
            }
            if !tags.iter().any(|tag| tag == "py3-none-any") {
                return Err(Rejected::Invalid(format!("the backend built `{filename}`, a wheel for Python 2 only")));
            }
        }
        Some(target) if target.tags.wheel_priority(&parsed).is_none() => {
            return Err(Rejected::Invalid(format!(
                "the backend built `{filename}`, whose tags ({}) {} does not install; build it in the {} image (`{{image}}`), \
                 and repair it with `auditwheel repair` for a manylinux tag",
                tags.join(", "),
                target.name(),
                crate::platform::manylinux_image(target.runtime.glibc_minor, target.architecture.machine())
            )));
        }
        Some(_) => {}
    }
    let mut members: Members = Vec::new();
    let mut compiled: Option<String> = None;
    let mut total: u64 = 0;
    crate::zipio::for_each_inflated(path, filename, MAX_MEMBER, |member, executable, bytes| {
        total = total.saturating_add(bytes.len() as u64);
        if total > max_total {
            return Err(format!("{filename} inflates to more than {} MiB", max_total >> 20));
        }
        let lower = member.to_ascii_lowercase();
        let is_compiled = lower.ends_with(".so")
            || lower.contains(".so.")
            || lower.ends_with(".pyd")
            || lower.ends_with(".dll")
            || lower.ends_with(".dylib")
            || bytes.starts_with(b"\x7fELF");
        if let Some(target) = native {
            let shown = member.escape_debug().to_string();
            if bytes.starts_with(b"\x7fELF") {
                let (machine, glibc) = (target.architecture.machine(), target.runtime.glibc_minor);
                super::elf::check(bytes, &shown, machine, glibc).map_err(|why| format!("{filename}: {why}"))?;
            } else if is_compiled || bytes.starts_with(&[0xcf, 0xfa, 0xed, 0xfe]) {
                return Err(format!("{filename}: `{shown}` is compiled code that is not a Linux ELF file"));
            }
        } else if is_compiled && compiled.is_none() {
            // Named in messages and the lock's gap detail: the backend chose it.
            compiled = Some(member.escape_debug().to_string());
        }
        members.push((member.to_string(), executable, bytes.to_vec()));
        Ok(())
    })
    .map_err(Rejected::Invalid)?;
    if let Some(member) = compiled {
        return Err(Rejected::NativeCode { tags: format!("{} with compiled member `{member}`", tags.join(", ")) });
    }
    let dist_info = format!("{}-{}.dist-info/", parsed.name, parsed.version);
    let ours = |stem: &str| {
        let (n, v) = stem.rsplit_once('-').unwrap_or((stem, ""));
        normalize_name(n) == normalize_name(name) && v.parse::<pep440_rs::Version>().ok().as_ref() == Some(version)
    };
    // One `.dist-info` directory, this project's: another's would claim to install a project
    // that is not there (and its METADATA could be read for this one's).
    let mut dirs: Vec<&str> = members
        .iter()
        .filter_map(|(member, _, _)| member.split_once('/').map(|(first, _)| first))
        .filter(|first| first.ends_with(".dist-info"))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    if let Some(other) = dirs.iter().find(|dir| !dir.strip_suffix(".dist-info").is_some_and(ours)) {
        return Err(Rejected::Invalid(format!(
            "`{filename}` holds `{}/`, which is not {name} {version}'s `.dist-info`",
            other.escape_debug()
        )));
    }
    if dirs.len() > 1 {
        return Err(Rejected::Invalid(format!("`{filename}` holds more than one `.dist-info` directory")));
    }
    let has_metadata = members.iter().any(|(member, _, _)| {
        member.strip_suffix("METADATA").and_then(|dir| dir.strip_suffix(".dist-info/")).is_some_and(ours)
    });
    if !has_metadata {
        return Err(Rejected::Invalid(format!("`{filename}` has no `{dist_info}METADATA`")));
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(members)
}

/// The content hash of sorted members (see the module documentation).
pub(crate) fn content_sha256(members: &Members) -> String {
    let mut lines: Vec<String> = members
        .iter()
        .map(|(name, executable, bytes)| {
            format!("{name}\t{}\t{}\n", if *executable { "x" } else { "-" }, sha256_hex(bytes))
        })
        .collect();
    lines.sort();
    sha256_hex(lines.concat().as_bytes())
}

/// The content hash of the wheel file at `path`.
#[cfg(test)]
pub(crate) fn content_sha256_of(path: &Path, label: &str) -> Result<String, String> {
    let mut members: Members = Vec::new();
    crate::zipio::for_each_inflated(path, label, MAX_MEMBER, |name, executable, bytes| {
        members.push((name.to_string(), executable, bytes.to_vec()));
        Ok(())
    })?;
    Ok(content_sha256(&members))
}

/// The canonical bytes of a wheel with these (sorted) members.
pub(crate) fn canonical_wheel(members: &Members) -> std::io::Result<Vec<u8>> {
    let mut zip = crate::zipio::DeterministicZip::new(Vec::new(), super::SOURCE_DATE_EPOCH);
    for (name, executable, bytes) in members {
        let (header, data) = crate::zipio::deflate(bytes, *executable);
        zip.add_raw(name, &header, |out: &mut Vec<u8>| {
            out.extend_from_slice(&data);
            Ok(data.len() as u64)
        })?;
    }
    zip.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A wheel zip with these members (lbuild's own writer makes a valid zip).
    pub fn wheel_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut members: Members = members.iter().map(|(n, b)| (n.to_string(), false, b.to_vec())).collect();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        canonical_wheel(&members).unwrap()
    }

    fn write(dir: &Path, filename: &str, members: &[(&str, &[u8])]) -> std::path::PathBuf {
        let path = dir.join(filename);
        fs_err::write(&path, wheel_bytes(members)).unwrap();
        path
    }

    const META: &[u8] = b"Metadata-Version: 2.1\nName: p\nVersion: 1.0\n";

    #[test]
    fn accepts_a_pure_wheel_and_hashes_its_contents_not_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let version: pep440_rs::Version = "1.0".parse().unwrap();
        let filename = "p-1.0-py3-none-any.whl";
        let path = write(dir.path(), filename, &[("p/__init__.py", b"x = 1\n"), ("p-1.0.dist-info/METADATA", META)]);
        let members = check(&path, filename, "p", &version).unwrap();
        assert_eq!(members[0].0, "p-1.0.dist-info/METADATA");
        let hash = content_sha256(&members);
        // The same files listed in another order hash the same.
        let mut other = members.clone();
        other.reverse();
        assert_eq!(content_sha256(&other), hash);
        // Different contents, or a different exec bit, hash differently.
        let mut changed = members.clone();
        changed[1].2 = b"x = 2\n".to_vec();
        assert_ne!(content_sha256(&changed), hash);
        let mut exec = members.clone();
        exec[1].1 = true;
        assert_ne!(content_sha256(&exec), hash);
        // The canonical rewrite is stable and keeps the contents.
        let canonical = canonical_wheel(&members).unwrap();
        assert_eq!(canonical, canonical_wheel(&members).unwrap());
        let again = dir.path().join("again.whl");
        fs_err::write(&again, &canonical).unwrap();
        assert_eq!(content_sha256_of(&again, "again").unwrap(), hash);
    }

    #[test]
    fn refuses_platform_tags_compiled_members_and_the_wrong_project() {
        let dir = tempfile::tempdir().unwrap();
        let version: pep440_rs::Version = "1.0".parse().unwrap();
        let native = "p-1.0-cp311-cp311-linux_x86_64.whl";
        let path = write(dir.path(), native, &[("p-1.0.dist-info/METADATA", META)]);
        assert_eq!(
            check(&path, native, "p", &version),
            Err(Rejected::NativeCode { tags: "cp311-cp311-linux_x86_64".into() })
        );
        let pure = "p-1.0-py3-none-any.whl";
        let path = write(dir.path(), pure, &[("p/_speed.so", b"\x7fELF\x02\x01"), ("p-1.0.dist-info/METADATA", META)]);
        assert!(
            matches!(check(&path, pure, "p", &version), Err(Rejected::NativeCode { tags }) if tags.contains("p/_speed.so"))
        );
        let path = write(dir.path(), pure, &[("p/blob", b"\x7fELFxx"), ("p-1.0.dist-info/METADATA", META)]);
        assert!(matches!(check(&path, pure, "p", &version), Err(Rejected::NativeCode { .. })));
        let path = write(dir.path(), pure, &[("p-1.0.dist-info/METADATA", META)]);
        assert!(matches!(check(&path, pure, "q", &version), Err(Rejected::Invalid(m)) if m.contains("not q 1.0")));
        let py2 = "p-1.0-py2-none-any.whl";
        let path = write(dir.path(), py2, &[("p-1.0.dist-info/METADATA", META)]);
        assert!(matches!(check(&path, py2, "p", &version), Err(Rejected::Invalid(m)) if m.contains("Python 2 only")));
        let both = "p-1.0-py2.py3-none-any.whl";
        let path = write(dir.path(), both, &[("p-1.0.dist-info/METADATA", META)]);
        assert!(check(&path, both, "p", &version).is_ok());
        let path = write(dir.path(), pure, &[("p/__init__.py", b"")]);
        assert!(matches!(check(&path, pure, "p", &version), Err(Rejected::Invalid(m)) if m.contains("METADATA")));
    }

    #[test]
    fn refuses_another_projects_dist_info() {
        let dir = tempfile::tempdir().unwrap();
        let version: pep440_rs::Version = "1.0".parse().unwrap();
        let pure = "p-1.0-py3-none-any.whl";
        // `a-…` sorts first: its METADATA would be the one read for p's dependencies.
        let other: &[u8] = b"Metadata-Version: 2.1\nName: a\nVersion: 9\nRequires-Dist: evil\n";
        let path = write(
            dir.path(),
            pure,
            &[("a-9.dist-info/METADATA", other), ("p-1.0.dist-info/METADATA", META), ("p/__init__.py", b"")],
        );
        assert!(
            matches!(check(&path, pure, "p", &version), Err(Rejected::Invalid(m)) if m.contains("`a-9.dist-info/`")),
            "{:?}",
            check(&path, pure, "p", &version)
        );
        // Two spellings of this project's own are one too many.
        let path = write(dir.path(), pure, &[("p-1.0.0.dist-info/METADATA", META), ("p-1.0.dist-info/METADATA", META)]);
        assert!(matches!(check(&path, pure, "p", &version), Err(Rejected::Invalid(m)) if m.contains("more than one")));
    }

    #[test]
    fn refuses_a_wheel_that_inflates_past_the_total_cap() {
        let dir = tempfile::tempdir().unwrap();
        let version: pep440_rs::Version = "1.0".parse().unwrap();
        let pure = "p-1.0-py3-none-any.whl";
        let big = vec![0u8; 3 << 20];
        let path = write(dir.path(), pure, &[("p-1.0.dist-info/METADATA", META), ("p/a.bin", &big), ("p/b.bin", &big)]);
        assert!(check(&path, pure, "p", &version).is_ok());
        let got = check_within(&path, pure, "p", &version, 4 << 20);
        assert!(matches!(&got, Err(Rejected::Invalid(m)) if m.contains("more than 4 MiB")), "{got:?}");
    }
}
