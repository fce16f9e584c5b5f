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

/// A minimal ELF64 file for tests: a header, and a `.gnu.version_r` section needing the given
/// GLIBC versions from `libc.so.6`, with its string table. No program headers.
#[cfg(test)]
pub(crate) fn fake_elf(machine: u16, glibc: &[&str]) -> Vec<u8> {
    let mut strtab = vec![0u8];
    let offset_of = |text: &str, strtab: &mut Vec<u8>| {
        let at = strtab.len() as u32;
        strtab.extend_from_slice(text.as_bytes());
        strtab.push(0);
        at
    };
    let libc = offset_of("libc.so.6", &mut strtab);
    let names: Vec<u32> = glibc.iter().map(|name| offset_of(name, &mut strtab)).collect();
    let shstrtab = b"\0.dynstr\0.gnu.version_r\0.shstrtab\0".to_vec();
    let mut verneed = Vec::new();
    // Verneed: version 1, count, file, aux offset 16, next 0.
    verneed.extend_from_slice(&1u16.to_le_bytes());
    verneed.extend_from_slice(&(names.len() as u16).to_le_bytes());
    verneed.extend_from_slice(&libc.to_le_bytes());
    verneed.extend_from_slice(&16u32.to_le_bytes());
    verneed.extend_from_slice(&0u32.to_le_bytes());
    for (i, name) in names.iter().enumerate() {
        // Vernaux: hash, flags, other, name, next.
        verneed.extend_from_slice(&0u32.to_le_bytes());
        verneed.extend_from_slice(&0u16.to_le_bytes());
        verneed.extend_from_slice(&(i as u16 + 2).to_le_bytes());
        verneed.extend_from_slice(&name.to_le_bytes());
        let next: u32 = if i + 1 < names.len() { 16 } else { 0 };
        verneed.extend_from_slice(&next.to_le_bytes());
    }
    let mut out = vec![0u8; 64];
    let strtab_at = out.len();
    out.extend_from_slice(&strtab);
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    let verneed_at = out.len();
    out.extend_from_slice(&verneed);
    let shstrtab_at = out.len();
    out.extend_from_slice(&shstrtab);
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    let shoff = out.len();
    let section = |out: &mut Vec<u8>, name: u32, kind: u32, offset: usize, size: usize, link: u32, info: u32| {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // flags
        out.extend_from_slice(&0u64.to_le_bytes()); // addr
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        out.extend_from_slice(&(size as u64).to_le_bytes());
        out.extend_from_slice(&link.to_le_bytes());
        out.extend_from_slice(&info.to_le_bytes());
        out.extend_from_slice(&1u64.to_le_bytes()); // align
        out.extend_from_slice(&0u64.to_le_bytes()); // entsize
    };
    section(&mut out, 0, 0, 0, 0, 0, 0);
    section(&mut out, 1, 3, strtab_at, strtab.len(), 0, 0);
    section(&mut out, 9, 0x6fff_fffe, verneed_at, verneed.len(), 1, 1);
    section(&mut out, 24, 3, shstrtab_at, shstrtab.len(), 0, 0);
    let mut header = Vec::new();
    header.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    header.extend_from_slice(&[0u8; 8]);
    header.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
    header.extend_from_slice(&machine.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    header.extend_from_slice(&0u64.to_le_bytes()); // entry
    header.extend_from_slice(&0u64.to_le_bytes()); // phoff
    header.extend_from_slice(&(shoff as u64).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // flags
    header.extend_from_slice(&64u16.to_le_bytes()); // ehsize
    header.extend_from_slice(&56u16.to_le_bytes()); // phentsize
    header.extend_from_slice(&0u16.to_le_bytes()); // phnum
    header.extend_from_slice(&64u16.to_le_bytes()); // shentsize
    header.extend_from_slice(&4u16.to_le_bytes()); // shnum
    header.extend_from_slice(&3u16.to_le_bytes()); // shstrndx
    out[..64].copy_from_slice(&header);
    out
}

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

    #[test]
    fn glibc_version_names() {
        assert_eq!(glibc_minor_of(b"GLIBC_2.28"), Some(28));
        assert_eq!(glibc_minor_of(b"GLIBC_2.3.4"), Some(3));
        assert_eq!(glibc_minor_of(b"GLIBCXX_3.4.29"), None);
        assert_eq!(glibc_minor_of(b"GLIBC_PRIVATE"), None);
    }
}
