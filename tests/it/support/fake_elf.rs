// A minimal ELF64 file, for the tests of lbuild's ELF checks: `src/sdist/elf.rs` includes this
// file in its unit tests, and `tests/it` uses it as `support::fake_elf`.

/// A minimal ELF64 file for tests: a header, and a `.gnu.version_r` section needing the given
/// GLIBC versions from `libc.so.6`, with its string table. No program headers.
pub fn fake_elf(machine: u16, glibc: &[&str]) -> Vec<u8> {
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
