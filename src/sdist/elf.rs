//! The check of one compiled member of a natively built wheel: a 64-bit little-endian ELF file
//! for the target's machine whose GLIBC symbol versions are all within the runtime's glibc.
//!
//! A shared library built in the wrong image (a newer manylinux, the host's distribution) or
//! for the wrong architecture imports fine on the build machine and fails only on Lambda, at
//! the first cold start: `version 'GLIBC_2.38' not found`, or `wrong ELF class`. The `object`
//! crate reads the headers; the rules are the ones auditwheel applies to the `.gnu.version_r`
//! section (the version needs the dynamic loader checks).

use object::elf;
use object::read::elf::{FileHeader, SectionHeader};

/// The ELF machine a Lambda architecture runs (`x86_64`, `aarch64`).
fn machine_code(machine: &str) -> Option<u16> {
    match machine {
        "x86_64" => Some(elf::EM_X86_64.0),
        "aarch64" => Some(elf::EM_AARCH64.0),
        _ => None,
    }
}

fn machine_name(code: u16) -> String {
    match code {
        62 => "x86_64".to_string(),
        183 => "aarch64".to_string(),
        3 => "i386".to_string(),
        40 => "arm".to_string(),
        other => format!("machine {other}"),
    }
}

/// Check an ELF file (`bytes`, named `member` in messages) for `machine` and a glibc of
/// `2.{glibc_minor}`. Returns the highest `GLIBC_2.N` minor it needs (0 when none).
pub(crate) fn check(bytes: &[u8], member: &str, machine: &str, glibc_minor: u32) -> Result<u32, String> {
    let unreadable = |why: &dyn std::fmt::Display| format!("`{member}` is not an ELF file lbuild can read: {why}");
    let ident = bytes.get(..6).ok_or_else(|| unreadable(&"it is too short"))?;
    if ident[4] != elf::ELFCLASS64.0 || ident[5] != elf::ELFDATA2LSB.0 {
        return Err(format!(
            "`{member}` is a 32-bit or big-endian ELF file; Lambda's {machine} runs 64-bit little-endian code"
        ));
    }
    let header = elf::FileHeader64::<object::Endianness>::parse(bytes).map_err(|err| unreadable(&err))?;
    let endian = header.endian().map_err(|err| unreadable(&err))?;
    let found = header.e_machine(endian).0;
    let wanted = machine_code(machine).ok_or_else(|| format!("no ELF machine is known for `{machine}`"))?;
    if found != wanted {
        return Err(format!("`{member}` is compiled for {}, not for {machine}", machine_name(found)));
    }
    let sections = header.sections(endian, bytes).map_err(|err| unreadable(&err))?;
    let dynamic = header
        .program_headers(endian, bytes)
        .map_err(|err| unreadable(&err))?
        .iter()
        .any(|segment| object::read::elf::ProgramHeader::p_type(segment, endian) == elf::PT_DYNAMIC);
    if dynamic && sections.is_empty() {
        // The loader reads the version needs through the dynamic segment; without section
        // headers they cannot be checked here, so the file is not taken on trust.
        return Err(format!(
            "`{member}` is dynamically linked but has no section headers, so its glibc needs cannot be checked"
        ));
    }
    let mut highest = 0;
    for section in sections.iter() {
        let Some((mut needs, link)) = section.gnu_verneed(endian, bytes).map_err(|err| unreadable(&err))? else {
            continue;
        };
        let strings = sections.strings(endian, bytes, link).map_err(|err| unreadable(&err))?;
        while let Some((_, mut aux)) = needs.next().map_err(|err| unreadable(&err))? {
            while let Some(entry) = aux.next().map_err(|err| unreadable(&err))? {
                let name = entry.name(endian, strings).map_err(|err| unreadable(&err))?;
                let Some(minor) = glibc_minor_of(name) else { continue };
                if minor > glibc_minor {
                    return Err(format!(
                        "`{member}` needs GLIBC_2.{minor}, newer than the runtime's glibc 2.{glibc_minor}; build it in an older image (manylinux2014 for glibc 2.26, manylinux_2_34 for 2.34)"
                    ));
                }
                highest = highest.max(minor);
            }
        }
    }
    Ok(highest)
}

/// `GLIBC_2.28` -> 28 (`GLIBC_2.3.4` -> 3); other version names (`GLIBCXX_3.4`,
/// `GLIBC_PRIVATE`) are not glibc releases.
fn glibc_minor_of(name: &[u8]) -> Option<u32> {
    let rest = std::str::from_utf8(name).ok()?.strip_prefix("GLIBC_2.")?;
    let minor = rest.split('.').next()?;
    minor.parse().ok()
}

// The test ELF writer, shared with the integration tests (one copy of it).
#[cfg(test)]
include!("../../tests/it/support/fake_elf.rs");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_machine_and_the_highest_glibc_version() {
        let good = fake_elf(62, &["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_PRIVATE"]);
        assert_eq!(check(&good, "m.so", "x86_64", 26), Ok(17));
        let err = check(&good, "m.so", "aarch64", 26).unwrap_err();
        assert!(err.contains("`m.so` is compiled for x86_64, not for aarch64"), "{err}");
        let arm = fake_elf(183, &["GLIBC_2.34"]);
        assert_eq!(check(&arm, "m.so", "aarch64", 34), Ok(34));
        let err = check(&arm, "m.so", "aarch64", 26).unwrap_err();
        assert!(err.contains("needs GLIBC_2.34, newer than the runtime's glibc 2.26"), "{err}");
        assert_eq!(check(&fake_elf(62, &[]), "m.so", "x86_64", 26), Ok(0));
    }

    #[test]
    fn a_32_bit_or_damaged_file_is_refused() {
        let mut thirty_two = fake_elf(62, &["GLIBC_2.17"]);
        thirty_two[4] = 1;
        assert!(check(&thirty_two, "m.so", "x86_64", 26).unwrap_err().contains("32-bit"));
        let mut damaged = fake_elf(62, &["GLIBC_2.17"]);
        let len = damaged.len();
        damaged.truncate(len - 10);
        assert!(check(&damaged, "m.so", "x86_64", 26).unwrap_err().contains("not an ELF file lbuild can read"));
        assert!(check(b"\x7fELF", "m.so", "x86_64", 26).is_err());
        // Every truncation is an error or a result, never a panic.
        let good = fake_elf(62, &["GLIBC_2.17", "GLIBC_2.28"]);
        for cut in 0..good.len() {
            let _ = check(&good[..cut], "m.so", "x86_64", 26);
        }
    }

    /// A shared library the host's C compiler links against glibc, when there is one.
    #[test]
    fn reads_a_library_the_host_compiler_built() {
        let machine = std::env::consts::ARCH;
        if !cfg!(target_os = "linux") || !["x86_64", "aarch64"].contains(&machine) {
            eprintln!("skipping: not Linux on x86_64 or aarch64");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("m.c");
        fs_err::write(
            &source,
            "#include <string.h>\nvoid *copy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }\n",
        )
        .unwrap();
        let library = dir.path().join("m.so");
        let built = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-O0", "-o"])
            .arg(&library)
            .arg(&source)
            .output();
        if !built.as_ref().is_ok_and(|out| out.status.success()) {
            eprintln!("skipping: no working `cc` ({built:?})");
            return;
        }
        let bytes = fs_err::read(&library).unwrap();
        let highest = check(&bytes, "m.so", machine, 99).unwrap();
        assert!((2..99).contains(&highest), "memcpy is a versioned glibc symbol: {highest}");
        let err = check(&bytes, "m.so", machine, highest - 1).unwrap_err();
        assert!(err.contains(&format!("needs GLIBC_2.{highest}")), "{err}");
        let other = if machine == "x86_64" { "aarch64" } else { "x86_64" };
        assert!(check(&bytes, "m.so", other, 99).unwrap_err().contains(&format!("compiled for {machine}")));
    }

    #[test]
    fn glibc_version_names() {
        assert_eq!(glibc_minor_of(b"GLIBC_2.28"), Some(28));
        assert_eq!(glibc_minor_of(b"GLIBC_2.3.4"), Some(3));
        assert_eq!(glibc_minor_of(b"GLIBCXX_3.4.29"), None);
        assert_eq!(glibc_minor_of(b"GLIBC_PRIVATE"), None);
    }
}
