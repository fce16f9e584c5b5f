//! A small, strict reader of the tar archives inside `.tar.gz` sdists.
//!
//! It understands what sdists are written with (Python's `tarfile`, GNU tar, setuptools): ustar
//! headers with the `prefix` field, pax extended headers (`x`, for the next member's `path` and
//! `size`; global `g` headers are read and ignored) and GNU long names (`L`). It yields regular
//! files and directories only; every other member type (hard and symbolic links, devices, FIFOs)
//! is an error, as is a header whose checksum does not match or an archive cut short. Sizes are
//! octal or GNU base-256. The caller applies the path and size rules ([`super::extract`]).

use std::io::Read;

/// One member: its path (as the archive spells it, no leading `./`), whether it is a directory,
/// its executable bit, and its size in bytes (directories: 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub path: String,
    pub is_dir: bool,
    pub executable: bool,
    pub size: u64,
}

/// Why an archive cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum TarError {
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    #[error("`{path}` is a {kind}, which an sdist never needs and lbuild does not extract")]
    Refused { path: String, kind: &'static str },
    #[error("reading the archive failed: {0}")]
    Io(String),
}

/// The longest pax header or GNU long name lbuild reads.
const MAX_EXTENDED: u64 = 1 << 20;

/// Walks the members of a tar stream, one at a time.
pub(crate) struct TarReader<R: Read> {
    input: R,
    /// Bytes of the current member's data (and padding) not yet read.
    pending: u64,
    done: bool,
}

impl<R: Read> TarReader<R> {
    pub fn new(input: R) -> Self {
        TarReader { input, pending: 0, done: false }
    }

    /// The next member, or `None` at the end of the archive. The member's data must be read with
    /// [`TarReader::read_data`] (or it is skipped) before the next call.
    pub fn next_member(&mut self) -> Result<Option<Member>, TarError> {
        self.skip_pending()?;
        if self.done {
            return Ok(None);
        }
        let mut long_name: Option<String> = None;
        let mut pax_path: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            let mut block = [0u8; 512];
            if !self.read_block(&mut block)? {
                // No end-of-archive blocks: tolerated only between members, as tarfile does.
                self.done = true;
                return if long_name.is_some() || pax_path.is_some() {
                    Err(TarError::Damaged("the archive ends after an extended header".into()))
                } else {
                    Ok(None)
                };
            }
            if block.iter().all(|&b| b == 0) {
                self.done = true;
                return Ok(None);
            }
            check_checksum(&block)?;
            let header_size = parse_number(&block[124..136])
                .ok_or_else(|| TarError::Damaged("a header has an invalid size field".into()))?;
            let size = pax_size.unwrap_or(header_size);
            let typeflag = block[156];
            match typeflag {
                b'x' | b'g' | b'L' | b'K' => {
                    if size > MAX_EXTENDED {
                        return Err(TarError::Damaged(format!("an extended header of {size} bytes")));
                    }
                    let mut data = vec![0u8; size as usize];
                    self.read_exact(&mut data)?;
                    self.skip_bytes(padding(size))?;
                    match typeflag {
                        b'x' => {
                            for (key, value) in parse_pax(&data)? {
                                match key.as_str() {
                                    "path" => pax_path = Some(value),
                                    "size" => {
                                        pax_size = Some(value.parse().map_err(|_| {
                                            TarError::Damaged(format!("a pax header has an invalid size `{value}`"))
                                        })?)
                                    }
                                    _ => {}
                                }
                            }
                        }
                        b'L' => {
                            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                            long_name = Some(utf8(&data[..end])?);
                        }
                        // Global headers and GNU long link names carry nothing lbuild keeps (a link
                        // itself is refused below).
                        _ => {}
                    }
                    continue;
                }
                _ => {}
            }
            let path = match pax_path.take().or(long_name.take()) {
                Some(path) => path,
                None => {
                    let name = cstr(&block[0..100]);
                    let ustar = &block[257..262] == b"ustar";
                    let prefix = if ustar { cstr(&block[345..500]) } else { &[][..] };
                    if prefix.is_empty() { utf8(name)? } else { format!("{}/{}", utf8(prefix)?, utf8(name)?) }
                }
            };
            let mode = parse_number(&block[100..108]).unwrap_or(0o644);
            let path = path.strip_prefix("./").unwrap_or(&path).to_string();
            let kind = match typeflag {
                b'0' | b'\0' | b'7' => None,
                b'5' => {
                    // Data no one reads, skipped uncounted: a gzip bomb's way past the size cap.
                    if size != 0 {
                        return Err(TarError::Damaged(format!(
                            "the directory `{}` declares {size} bytes of data",
                            path.escape_debug()
                        )));
                    }
                    return Ok(Some(Member { path, is_dir: true, executable: false, size: 0 }));
                }
                b'1' => Some("hard link"),
                b'2' => Some("symbolic link"),
                b'3' => Some("character device"),
                b'4' => Some("block device"),
                b'6' => Some("FIFO"),
                _ => Some("member of an unknown type"),
            };
            if let Some(kind) = kind {
                return Err(TarError::Refused { path, kind });
            }
            self.pending = size + padding(size);
            return Ok(Some(Member { path, is_dir: false, executable: mode & 0o111 != 0, size }));
        }
    }

    /// Read the current member's data (exactly `member.size` bytes) into `out`.
    pub fn read_data(&mut self, size: u64, out: &mut impl std::io::Write) -> Result<(), TarError> {
        let mut limited = (&mut self.input).take(size);
        let copied = std::io::copy(&mut limited, out).map_err(|err| TarError::Io(err.to_string()))?;
        if copied != size {
            return Err(TarError::Damaged("the archive ends inside a member".into()));
        }
        self.pending = padding(size);
        Ok(())
    }

    fn skip_pending(&mut self) -> Result<(), TarError> {
        let pending = std::mem::take(&mut self.pending);
        self.skip_bytes(pending)
    }

    fn skip_bytes(&mut self, count: u64) -> Result<(), TarError> {
        let skipped = std::io::copy(&mut (&mut self.input).take(count), &mut std::io::sink())
            .map_err(|err| TarError::Io(err.to_string()))?;
        if skipped != count {
            return Err(TarError::Damaged("the archive ends inside a member".into()));
        }
        Ok(())
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), TarError> {
        self.input.read_exact(buf).map_err(|err| match err.kind() {
            std::io::ErrorKind::UnexpectedEof => TarError::Damaged("the archive ends inside a member".into()),
            _ => TarError::Io(err.to_string()),
        })
    }

    /// A whole block, `false` at a clean end of input; a partial block is damage.
    fn read_block(&mut self, block: &mut [u8; 512]) -> Result<bool, TarError> {
        let mut filled = 0;
        while filled < 512 {
            match self.input.read(&mut block[filled..]) {
                Ok(0) if filled == 0 => return Ok(false),
                Ok(0) => return Err(TarError::Damaged("the archive ends inside a header".into())),
                Ok(read) => filled += read,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(TarError::Io(err.to_string())),
            }
        }
        Ok(true)
    }
}

fn padding(size: u64) -> u64 {
    (512 - size % 512) % 512
}

fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

fn utf8(bytes: &[u8]) -> Result<String, TarError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| TarError::Damaged("a member's name is not UTF-8".into()))
}

/// An octal field (NUL/space padded), or GNU base-256 (high bit of the first byte set).
fn parse_number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut value: u64 = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn check_checksum(block: &[u8; 512]) -> Result<(), TarError> {
    let stored = parse_number(&block[148..156])
        .ok_or_else(|| TarError::Damaged("a header has an invalid checksum field".into()))?;
    let sum: u64 =
        block.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) }).sum();
    if stored != sum {
        return Err(TarError::Damaged("a header's checksum does not match".into()));
    }
    Ok(())
}

/// `"%d key=value\n"` records.
fn parse_pax(mut data: &[u8]) -> Result<Vec<(String, String)>, TarError> {
    let bad = || TarError::Damaged("a pax extended header is malformed".into());
    let mut records = Vec::new();
    while !data.is_empty() {
        let space = data.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let length: usize = std::str::from_utf8(&data[..space]).ok().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        if length <= space + 1 || length > data.len() || data[length - 1] != b'\n' {
            return Err(bad());
        }
        let record = &data[space + 1..length - 1];
        let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
        records.push((utf8(&record[..eq])?, utf8(&record[eq + 1..])?));
        data = &data[length..];
    }
    Ok(records)
}

/// Test helpers: tar archives built by hand, so hostile ones can be made too.
#[cfg(test)]
pub(crate) mod build {
    /// A header block for `name` of `size` bytes with `typeflag`, its checksum filled in.
    pub fn header(name: &str, size: u64, typeflag: u8, mode: u32) -> [u8; 512] {
        let mut block = [0u8; 512];
        let bytes = name.as_bytes();
        block[..bytes.len().min(100)].copy_from_slice(&bytes[..bytes.len().min(100)]);
        block[100..107].copy_from_slice(format!("{mode:07o}").as_bytes());
        block[108..115].copy_from_slice(b"0000000");
        block[116..123].copy_from_slice(b"0000000");
        block[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        block[136..147].copy_from_slice(b"00000000000");
        block[156] = typeflag;
        block[257..263].copy_from_slice(b"ustar\0");
        block[263..265].copy_from_slice(b"00");
        block[148..156].copy_from_slice(b"        ");
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        block
    }

    /// Append a member with `data`.
    pub fn member(out: &mut Vec<u8>, name: &str, typeflag: u8, mode: u32, data: &[u8]) {
        out.extend_from_slice(&header(name, data.len() as u64, typeflag, mode));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }

    /// Append a pax `x` header setting `path`.
    pub fn pax_path(out: &mut Vec<u8>, path: &str) {
        let body = format!("path={path}\n");
        let mut length = body.len() + 2;
        loop {
            let candidate = format!("{length} {body}");
            if candidate.len() == length {
                member(out, "././@PaxHeader", b'x', 0o644, candidate.as_bytes());
                return;
            }
            length = candidate.len();
        }
    }

    pub fn finish(mut out: Vec<u8>) -> Vec<u8> {
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    fn members(bytes: &[u8]) -> Result<Vec<(Member, Vec<u8>)>, TarError> {
        let mut reader = TarReader::new(bytes);
        let mut out = Vec::new();
        while let Some(member) = reader.next_member()? {
            let mut data = Vec::new();
            reader.read_data(member.size, &mut data)?;
            out.push((member, data));
        }
        Ok(out)
    }

    #[test]
    fn reads_files_directories_prefix_and_pax_names() {
        let mut tar = Vec::new();
        member(&mut tar, "p-1.0/", b'5', 0o755, b"");
        member(&mut tar, "./p-1.0/setup.py", b'0', 0o755, b"print(1)\n");
        let long = format!("p-1.0/{}/m.py", "d".repeat(120));
        pax_path(&mut tar, &long);
        member(&mut tar, "truncated", b'0', 0o644, b"x = 1\n");
        // ustar prefix field.
        let mut header = header("name.txt", 2, b'0', 0o644);
        header[345..350].copy_from_slice(b"p-1.0");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        tar.extend_from_slice(&header);
        tar.extend_from_slice(b"hi");
        tar.resize(tar.len().div_ceil(512) * 512, 0);
        let got = members(&finish(tar)).unwrap();
        let paths: Vec<&str> = got.iter().map(|(m, _)| m.path.as_str()).collect();
        assert_eq!(paths, ["p-1.0/", "p-1.0/setup.py", long.as_str(), "p-1.0/name.txt"]);
        assert!(got[0].0.is_dir);
        assert!(got[1].0.executable);
        assert_eq!(got[1].1, b"print(1)\n");
        assert_eq!(got[2].1, b"x = 1\n");
        assert_eq!(got[3].1, b"hi");
    }

    #[test]
    fn refuses_links_devices_and_fifos() {
        for (flag, kind) in [(b'1', "hard link"), (b'2', "symbolic link"), (b'3', "character device"), (b'6', "FIFO")] {
            let mut tar = Vec::new();
            member(&mut tar, "p-1.0/evil", flag, 0o644, b"");
            let err = members(&finish(tar)).unwrap_err();
            assert_eq!(err, TarError::Refused { path: "p-1.0/evil".into(), kind });
        }
    }

    #[test]
    fn refuses_a_directory_with_data() {
        let mut tar = Vec::new();
        member(&mut tar, "p-1.0/", b'5', 0o755, b"");
        tar.extend_from_slice(&header("p-1.0/d/", 4 << 30, b'5', 0o755));
        let err = members(&finish(tar)).unwrap_err();
        assert!(matches!(&err, TarError::Damaged(m) if m.contains("`p-1.0/d/` declares 4294967296 bytes")), "{err:?}");
    }

    #[test]
    fn refuses_bad_checksums_and_truncation() {
        let mut tar = Vec::new();
        member(&mut tar, "p-1.0/a", b'0', 0o644, &[7u8; 1000]);
        let mut bad = tar.clone();
        bad[0] ^= 1;
        assert!(matches!(members(&bad), Err(TarError::Damaged(m)) if m.contains("checksum")));
        assert!(matches!(members(&tar[..700]), Err(TarError::Damaged(m)) if m.contains("ends inside")));
        assert!(matches!(members(&tar[..300]), Err(TarError::Damaged(m)) if m.contains("ends inside")));
    }
}
