//! A zip writer for hostile wheels: every header field is written by hand, so an archive can
//! lie in the ways no zip library would let it (sizes, CRC-32s, names, flags and methods that
//! differ between the local header and the central directory, data descriptors, duplicates).
//!
//! [`RawEntry::stored`] and [`RawEntry::deflated`] make honest entries; change their public
//! fields to make them lie. [`wheel_entries`] gives the members of a small valid wheel.

use std::io::Write;

/// One member, as the local header and the central directory will describe it.
#[derive(Debug, Clone)]
pub struct RawEntry {
    /// The name in the central directory.
    pub name: String,
    /// The name in the local header, when it differs.
    pub local_name: Option<String>,
    /// Compression method in the central directory (0 stored, 8 deflated).
    pub method: u16,
    /// The method in the local header, when it differs.
    pub local_method: Option<u16>,
    /// General-purpose flags in the central directory.
    pub flags: u16,
    /// The flags in the local header, when they differ.
    pub local_flags: Option<u16>,
    /// The bytes stored after the local header (compressed already when deflated).
    pub data: Vec<u8>,
    /// CRC-32, compressed size and size in the central directory.
    pub crc32: u32,
    pub compressed_size: u32,
    pub size: u32,
    /// (CRC-32, compressed size, size) in the local header, when they differ.
    pub local_sizes: Option<(u32, u32, u32)>,
    /// Bytes written right after the data (a data descriptor).
    pub after_data: Vec<u8>,
    /// Unix mode in the external attributes.
    pub mode: u32,
}

impl RawEntry {
    /// An honest stored entry.
    pub fn stored(name: &str, bytes: &[u8]) -> RawEntry {
        RawEntry {
            name: name.to_string(),
            local_name: None,
            method: 0,
            local_method: None,
            flags: 0,
            local_flags: None,
            data: bytes.to_vec(),
            crc32: crc32fast::hash(bytes),
            compressed_size: bytes.len() as u32,
            size: bytes.len() as u32,
            local_sizes: None,
            after_data: Vec::new(),
            mode: 0o100644,
        }
    }

    /// An honest deflated entry.
    pub fn deflated(name: &str, bytes: &[u8]) -> RawEntry {
        let data = deflate(bytes);
        RawEntry { method: 8, compressed_size: data.len() as u32, data, ..RawEntry::stored(name, bytes) }
    }

    /// Move CRC-32 and sizes to a data descriptor (flag bit 3): the local header says zero.
    pub fn with_data_descriptor(mut self) -> RawEntry {
        self.flags |= 1 << 3;
        self.local_sizes = Some((0, 0, 0));
        let mut descriptor = 0x0807_4b50u32.to_le_bytes().to_vec();
        descriptor.extend_from_slice(&self.crc32.to_le_bytes());
        descriptor.extend_from_slice(&self.compressed_size.to_le_bytes());
        descriptor.extend_from_slice(&self.size.to_le_bytes());
        self.after_data = descriptor;
        self
    }
}

/// Raw deflate (no zlib header), as zip entries hold it.
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A raw deflate stream of `mebibytes` MiB of zero bytes, built from one compressed MiB
/// repeated (each ends with a full flush, so the copies do not refer to each other): about 1 KiB
/// of output per MiB of input, quick to make whatever the size.
pub fn zeros_bomb(mebibytes: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let zeros = vec![0u8; 1 << 20];
    let mut compress = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(64 * 1024);
    compress.compress_vec(&zeros, &mut block, FlushCompress::Full).unwrap();
    // The first block primes nothing: after a full flush every copy is self-contained.
    let mut stream = Vec::with_capacity(block.len() * mebibytes + 16);
    for _ in 0..mebibytes {
        stream.extend_from_slice(&block);
    }
    let mut last = Vec::with_capacity(64);
    let mut finish = Compress::new(Compression::best(), false);
    finish.compress_vec(&[], &mut last, FlushCompress::Finish).unwrap();
    stream.extend_from_slice(&last);
    stream
}

/// Write the archive: local headers and data in order, then the central directory and the
/// end record.
pub fn write_zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let local_name = entry.local_name.as_deref().unwrap_or(&entry.name);
        let (crc32, compressed, size) = entry.local_sizes.unwrap_or((entry.crc32, entry.compressed_size, entry.size));
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&entry.local_flags.unwrap_or(entry.flags).to_le_bytes());
        out.extend_from_slice(&entry.local_method.unwrap_or(entry.method).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // time
        out.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
        out.extend_from_slice(&crc32.to_le_bytes());
        out.extend_from_slice(&compressed.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(local_name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(local_name.as_bytes());
        out.extend_from_slice(&entry.data);
        out.extend_from_slice(&entry.after_data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&entry.flags.to_le_bytes());
        central.extend_from_slice(&entry.method.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x21u16.to_le_bytes());
        central.extend_from_slice(&entry.crc32.to_le_bytes());
        central.extend_from_slice(&entry.compressed_size.to_le_bytes());
        central.extend_from_slice(&entry.size.to_le_bytes());
        central.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(entry.mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(entry.name.as_bytes());
    }
    let central_start = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The METADATA of a test wheel.
pub fn metadata(name: &str, version: &str, requires_dist: &[&str]) -> String {
    let mut text = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for requirement in requires_dist {
        text.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    text
}

/// The members of a small valid wheel of `name` (already normalized, no `-`) `version`:
/// `{name}/__init__.py`, then `.dist-info/METADATA`, `WHEEL` and `RECORD`, all deflated.
pub fn wheel_entries(name: &str, version: &str, requires_dist: &[&str]) -> Vec<RawEntry> {
    let dist_info = format!("{name}-{version}.dist-info");
    let init = format!("__version__ = \"{version}\"\n").repeat(8);
    let members = [
        (format!("{name}/__init__.py"), init),
        (format!("{dist_info}/METADATA"), metadata(name, version, requires_dist)),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: rawzip\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_string(),
        ),
    ];
    let mut entries: Vec<RawEntry> =
        members.iter().map(|(path, text)| RawEntry::deflated(path, text.as_bytes())).collect();
    let record: String = members.iter().map(|(path, _)| format!("{path},,\n")).collect();
    entries
        .push(RawEntry::deflated(&format!("{dist_info}/RECORD"), format!("{record}{dist_info}/RECORD,,\n").as_bytes()));
    entries
}

/// The filename of the `py3-none-any` wheel of [`wheel_entries`].
pub fn wheel_filename(name: &str, version: &str) -> String {
    format!("{name}-{version}-py3-none-any.whl")
}
