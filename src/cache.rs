//! The on-disk cache: `$LBUILD_CACHE_DIR`, else `$XDG_CACHE_HOME/lbuild`, else `~/.cache/lbuild`.
//!
//! ```text
//! CACHEDIR.TAG                    marks the directory as a cache (backup and search tools skip it)
//! pages/<sha256 of URL>           index pages: a check line, a JSON header line (URL, ETag,
//!                                 Last-Modified, fetch time, max-age, content type), then the body
//! metadata/<sha256 of wheel>      core metadata (METADATA) of one wheel file, after a check line
//! sizes/<sha256 of wheel>         the size of a wheel whose index does not publish it
//! hints/<sha256 of project>       the projects its metadata required when last read, after a
//!                                 check line: fetched together on the next run (prefetch)
//! wheels/<sha256>/<filename>      whole wheel files, content-addressed
//! checked/<sha256 of wheel>       the local header offsets of the entries whose data a build
//!                                 inflated and found as declared, after a check line
//! tmp/                            entries being written, downloads streaming in
//! built/<sha256 of sdist>         the wheels lbuild built from that sdist (`cache::built`)
//! bytecode/<sha256 of key>        one compiled pyc (or an empty body: the source does not
//!                                 compile), after a check line; see `cache/bytecode.rs`
//! pushed/<sha256 of URL and key>  empty: this cache put that object in that remote cache
//! ```
//!
//! Beneath it, a team may share a remote cache of wheels on S3 (`cache/remote.rs`).
//!
//! Every entry is written to a temporary file in `tmp/` and renamed into place, so a reader sees
//! a whole entry or none, and two lbuild processes can fill the same cache at once (the last
//! rename wins, and both wrote the same bytes). Temporary files an interrupted run left behind
//! are removed once they are a few minutes old.
//!
//! Nothing read from the cache is trusted: it may be shared, damaged or edited. Keys are checked
//! to be sha256 hex and filenames to be bare names before they become paths. A wheel is used
//! only after its sha256 is verified again (the caller evicts a damaged one). Pages, metadata and
//! sizes (and hints) start with a check line that names their key and the sha256 of the rest, so a damaged
//! or swapped entry reads as a miss and is fetched again. Pages, metadata and sizes are not
//! flushed to disk before the rename (they are cheap to fetch again); wheels are.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fsutil::file_identity;
use crate::lockfile::is_sha256;
use crate::output::debug;

mod built;
pub(crate) use built::BuiltRecord;
mod bytecode;
pub(crate) use bytecode::pyc_key;
pub(crate) mod remote;

/// The name and first line of the standard cache directory tag (<https://bford.info/cachedir/>).
pub(crate) const CACHEDIR_TAG: &str = "CACHEDIR.TAG";
pub(crate) const CACHEDIR_SIGNATURE: &str = "Signature: 8a477f597d28d172789f06886806bc55";

/// What an lbuild cache root may hold, to recognise one written before the tag existed.
pub(crate) const CACHE_ENTRIES: &[&str] = &[
    CACHEDIR_TAG,
    "pages",
    "metadata",
    "sizes",
    "hints",
    "wheels",
    "checked",
    "tmp",
    SWEEP_MARKER,
    "built",
    "bytecode",
    "pushed",
];

/// Touched after each sweep of the whole cache for leftover temporary files.
const SWEEP_MARKER: &str = ".lbuild-sweep";

/// How old a temporary file must be before it counts as left behind: no lbuild leaves one
/// untouched this long before renaming it (entries are in memory before their file is created,
/// and a download streaming into one writes it at least every `LBUILD_HTTP_TIMEOUT` seconds).
const STALE_TEMPORARY: Duration = Duration::from_secs(10 * 60);

/// How often the whole cache (not only `tmp/`) is swept for leftover temporary files, which
/// lbuild versions that wrote them beside their entries left.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// The roots this process has prepared (tagged and swept).
static PREPARED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// The first line of page, metadata and size entries: the format, the key, and the sha256 of
/// everything after the line.
const CHECK_PREFIX: &str = "lbuild-cache-1";

/// The first line of a `checked/` entry's body; a new set of entry checks gets a new name, so
/// that entries an older lbuild checked are checked again.
const CHECKED_FORMAT: &str = "entry-checks-1";

/// The cache root.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    root: PathBuf,
}

/// A cached index page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedPage {
    pub url: String,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Seconds since the Unix epoch.
    pub fetched_at: u64,
    /// Seconds the page stays fresh without revalidation.
    pub max_age: u64,
    #[serde(default)]
    pub content_type: String,
    /// The URL that answered, when a redirect moved it (relative links resolve against it).
    #[serde(default)]
    pub redirected_to: Option<String>,
    /// The index answered 404: the project is not there.
    #[serde(default)]
    pub missing: bool,
    #[serde(skip)]
    pub body: Vec<u8>,
}

impl CachedPage {
    /// A remembered 404.
    pub fn missing(url: &str, max_age: u64) -> CachedPage {
        CachedPage {
            url: url.to_string(),
            etag: None,
            last_modified: None,
            fetched_at: now(),
            max_age,
            content_type: String::new(),
            redirected_to: None,
            missing: true,
            body: Vec::new(),
        }
    }

    /// Fetched less than `max_age` seconds ago. A page dated in the future (the clock was
    /// ahead when it was fetched, or the entry was edited) is not fresh: its age is unknown.
    pub fn is_fresh(&self) -> bool {
        now().checked_sub(self.fetched_at).is_some_and(|age| age < self.max_age)
    }

    /// The URL relative links on the page resolve against.
    pub fn final_url(&self) -> String {
        self.redirected_to.clone().unwrap_or_else(|| self.url.clone())
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The sha256 (hex) and size of a file, streamed through a large buffer (sha2 uses the CPU's
/// SHA instructions when it has them).
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

/// The bytes of a cache entry: a regular file (not a link, a device or a FIFO another user of
/// the cache planted) of at most `limit` bytes; `None` otherwise, which callers treat as a miss.
fn read_entry(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let meta = fs_err::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > limit {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs_err::File::open(path).ok()?.take(limit + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= limit).then_some(bytes)
}

/// The most projects one prefetch hint record names (see [`Cache::read_hints`]).
pub(crate) const MAX_HINTS: usize = 256;

/// A PEP 503 normalized project name: ASCII letters in lower case, digits and single dashes,
/// starting and ending with a letter or digit, of a sane length.
fn is_normalized_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=200).contains(&bytes.len())
        && bytes.iter().all(|&byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
        && !name.contains("--")
}

/// Refuse a cache key that is not sha256 hex: it becomes a path.
fn check_key(key: &str) -> std::io::Result<()> {
    if is_sha256(key) {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{}` is not a sha256 and cannot name a cache entry", key.escape_debug()),
        ))
    }
}

/// Refuse a filename that is not a bare name: it becomes a path.
fn check_filename(filename: &str) -> std::io::Result<()> {
    let bare = !filename.is_empty()
        && !filename.starts_with('.')
        && !filename.contains(['/', '\\', '\0'])
        && !filename.chars().any(char::is_control);
    if bare {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{}` is not a bare file name and cannot name a cache entry", filename.escape_debug()),
        ))
    }
}

/// `CHECK_PREFIX key sha256\n` + body.
fn with_check_line(key: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("{CHECK_PREFIX} {key} {}\n", sha256_hex(body)).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The body of an entry written by [`with_check_line`], when it is whole and is the entry of `key`.
fn checked_body(key: &str, mut bytes: Vec<u8>) -> Option<Vec<u8>> {
    let newline = bytes.iter().take(256).position(|&byte| byte == b'\n')?;
    let line = std::str::from_utf8(&bytes[..newline]).ok()?;
    let mut fields = line.split(' ');
    let ok = fields.next() == Some(CHECK_PREFIX)
        && fields.next() == Some(key)
        && fields.next().is_some_and(|sha256| sha256 == sha256_hex(&bytes[newline + 1..]))
        && fields.next().is_none();
    if !ok {
        return None;
    }
    bytes.drain(..=newline);
    Some(bytes)
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Cache {
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// The cache named by the environment, or the default location.
    pub fn from_env() -> Cache {
        if let Some(dir) = std::env::var_os("LBUILD_CACHE_DIR").filter(|v| !v.is_empty()) {
            return Cache { root: PathBuf::from(dir) };
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            return Cache { root: PathBuf::from(dir).join("lbuild") };
        }
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        Cache { root: home.join(".cache").join("lbuild") }
    }

    fn page_path(&self, url: &str) -> PathBuf {
        self.root.join("pages").join(sha256_hex(url.as_bytes()))
    }

    pub fn read_page(&self, url: &str) -> Option<CachedPage> {
        let key = sha256_hex(url.as_bytes());
        let mut bytes = checked_body(&key, read_entry(&self.page_path(url), 65 << 20)?)?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let page: CachedPage = serde_json::from_slice(&bytes[..newline]).ok()?;
        if page.url != url {
            return None;
        }
        // One move of the body to the front, not a copy of it.
        bytes.drain(..=newline);
        Some(CachedPage { body: bytes, ..page })
    }

    /// The header of a cached page (its body left empty) from the start of its entry, without
    /// reading or checking the rest: enough to see that a stale page has nothing to revalidate
    /// with, so that its body need not be read at all. Whatever the header says is checked by
    /// [`Cache::read_page`] before the page is used.
    pub fn read_page_header(&self, url: &str) -> Option<CachedPage> {
        let path = self.page_path(url);
        if !fs_err::symlink_metadata(&path).ok()?.is_file() {
            return None;
        }
        let mut head = Vec::new();
        fs_err::File::open(&path).ok()?.take(64 << 10).read_to_end(&mut head).ok()?;
        let mut lines = head.split(|&byte| byte == b'\n');
        let _check = lines.next()?;
        let page: CachedPage = serde_json::from_slice(lines.next()?).ok()?;
        (page.url == url).then_some(page)
    }

    pub fn write_page(&self, page: &CachedPage) -> std::io::Result<()> {
        let mut header = serde_json::to_vec(page).expect("page header serializes");
        header.push(b'\n');
        let key = sha256_hex(page.url.as_bytes());
        let mut hasher = Sha256::new();
        hasher.update(&header);
        hasher.update(&page.body);
        let check = format!("{CHECK_PREFIX} {key} {}\n", hex(&hasher.finalize()));
        self.write_entry_parts(&self.page_path(&page.url), &[check.as_bytes(), &header, &page.body], false)
    }

    fn metadata_path(&self, key: &str) -> std::io::Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join("metadata").join(key))
    }

    /// The METADATA cached for `key`; `None` when absent, damaged or another key's.
    pub fn read_metadata(&self, key: &str) -> Option<Vec<u8>> {
        let path = self.metadata_path(key).ok()?;
        let found = checked_body(key, read_entry(&path, 17 << 20)?);
        if found.is_none() {
            debug!("ignoring the damaged cache entry `{}`", path.display());
        }
        found
    }

    pub fn write_metadata(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.write_entry(&self.metadata_path(key)?, &with_check_line(key, bytes), false)
    }

    fn hints_path(&self, project: &str) -> PathBuf {
        self.root.join("hints").join(sha256_hex(project.as_bytes()))
    }

    /// The projects that `project` (a normalized name) needed last time its metadata was read:
    /// a hint of which pages a resolution will ask for next, so they can be fetched at once.
    ///
    /// A hint becomes a request, and the cache may be shared or edited: only normalized project
    /// names count (a URL or a path, joined to the index URL, would send a request elsewhere),
    /// and at most [`MAX_HINTS`] of them. A record with anything else is ignored whole.
    pub fn read_hints(&self, project: &str) -> Vec<String> {
        let key = sha256_hex(project.as_bytes());
        let path = self.hints_path(project);
        let Some(body) = read_entry(&path, 64 << 10).and_then(|bytes| checked_body(&key, bytes)) else {
            return Vec::new();
        };
        let Ok(text) = std::str::from_utf8(&body) else {
            debug!("ignoring the damaged cache entry `{}`", path.display());
            return Vec::new();
        };
        let hints: Vec<String> = text.lines().filter(|line| !line.is_empty()).map(str::to_string).collect();
        if hints.len() > MAX_HINTS || !hints.iter().all(|name| is_normalized_name(name)) {
            debug!("ignoring the cache entry `{}`: it is not a list of project names", path.display());
            return Vec::new();
        }
        hints
    }

    pub fn write_hints(&self, project: &str, needs: &[String]) -> std::io::Result<()> {
        let key = sha256_hex(project.as_bytes());
        self.write_entry(&self.hints_path(project), &with_check_line(&key, needs.join("\n").as_bytes()), false)
    }

    fn size_path(&self, key: &str) -> std::io::Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join("sizes").join(key))
    }

    /// The size of a file, learnt once (from `Content-Range`, `Content-Length` or a download).
    pub fn read_size(&self, key: &str) -> Option<u64> {
        let bytes = checked_body(key, read_entry(&self.size_path(key).ok()?, 1 << 10)?)?;
        std::str::from_utf8(&bytes).ok()?.trim().parse().ok()
    }

    pub fn write_size(&self, key: &str, size: u64) -> std::io::Result<()> {
        self.write_entry(&self.size_path(key)?, &with_check_line(key, size.to_string().as_bytes()), false)
    }

    /// Where the wheel with this sha256 and filename is kept; an error for a key that is not
    /// sha256 hex or a filename that is not a bare name.
    pub fn wheel_path(&self, sha256: &str, filename: &str) -> std::io::Result<PathBuf> {
        check_key(sha256)?;
        check_filename(filename)?;
        Ok(self.root.join("wheels").join(sha256).join(filename))
    }

    /// The path of a cached wheel, when it is a regular file whose sha256 is `sha256`. It hashes
    /// the file: call it off the async workers.
    pub fn wheel_verified(&self, sha256: &str, filename: &str) -> Option<PathBuf> {
        let path = self.wheel_path(sha256, filename).ok()?;
        if !fs_err::symlink_metadata(&path).ok()?.is_file() {
            return None;
        }
        let (actual, _) = sha256_file(&path).ok()?;
        (actual == sha256).then_some(path)
    }

    fn checked_path(&self, sha256: &str) -> std::io::Result<PathBuf> {
        check_key(sha256)?;
        Ok(self.root.join("checked").join(sha256))
    }

    /// The local header offsets of the entries of the wheel with this sha256 whose data a build
    /// inflated and found as its headers declare (size and CRC-32), so later builds copy them
    /// without inflating them again. Keyed by the sha256 of the wheel's bytes, which every use
    /// verifies first, so it holds for exactly those bytes; empty when absent or damaged.
    ///
    /// A record holds for the one wheel file it was made for ([`file_identity`]: on Unix its
    /// inode and change time, which nobody can set), so a cache restored or copied from
    /// elsewhere, or a record planted beside a hostile wheel, checks every entry again.
    pub fn read_checked(&self, sha256: &str, wheel: &Path) -> HashSet<u64> {
        let Some(body) = self.checked_path(sha256).ok().and_then(|path| read_entry(&path, 16 << 20)) else {
            return HashSet::new();
        };
        let Some(body) = checked_body(sha256, body) else { return HashSet::new() };
        let Ok(meta) = fs_err::symlink_metadata(wheel) else { return HashSet::new() };
        let text = String::from_utf8_lossy(&body);
        let mut lines = text.lines();
        if lines.next() != Some(CHECKED_FORMAT) || lines.next() != Some(file_identity(&meta).as_str()) {
            return HashSet::new();
        }
        lines.filter_map(|line| line.parse().ok()).collect()
    }

    /// Remember more checked entries of the wheel file `wheel` (see [`Cache::read_checked`]).
    pub fn add_checked(&self, sha256: &str, wheel: &Path, offsets: &[u64]) -> std::io::Result<()> {
        let meta = fs_err::symlink_metadata(wheel)?;
        let mut all = self.read_checked(sha256, wheel);
        let before = all.len();
        all.extend(offsets);
        if all.len() == before {
            return Ok(());
        }
        let mut sorted: Vec<u64> = all.into_iter().collect();
        sorted.sort_unstable();
        let mut body = format!("{CHECKED_FORMAT}\n{}\n", file_identity(&meta));
        for offset in sorted {
            body.push_str(&offset.to_string());
            body.push('\n');
        }
        self.write_entry(&self.checked_path(sha256)?, &with_check_line(sha256, body.as_bytes()), false)
    }

    /// Store a downloaded file whose hash the caller checked, replacing a damaged copy.
    #[cfg(test)]
    pub fn write_wheel(&self, sha256: &str, filename: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.wheel_path(sha256, filename)?;
        self.write_entry(&path, bytes, true)?;
        Ok(path)
    }

    fn pushed_path(&self, remote: &str, key: &str) -> PathBuf {
        self.root.join("pushed").join(sha256_hex(format!("{remote}\n{key}").as_bytes()))
    }

    /// Whether this cache put (or found) object `key` in the remote cache `remote` already, so
    /// that each of its wheels is offered to a remote cache once, not on every build.
    pub fn pushed(&self, remote: &str, key: &str) -> bool {
        self.pushed_path(remote, key).is_file()
    }

    /// Remember that object `key` is in the remote cache `remote`.
    pub fn mark_pushed(&self, remote: &str, key: &str) -> std::io::Result<()> {
        self.write_entry(&self.pushed_path(remote, key), b"", false)
    }

    /// The directory temporary files are written in (`tmp/`), made if missing; downloads
    /// stream into a file there before [`Cache::persist_wheel`] renames it into place.
    pub fn tmp_dir(&self) -> std::io::Result<PathBuf> {
        self.prepare();
        let tmp = self.root.join("tmp");
        for _ in 0..2 {
            self.refuse_links(&tmp)?;
            fs_err::create_dir_all(&tmp)?;
        }
        Ok(tmp)
    }

    /// Rename a downloaded file in `tmp/` (written, its hash checked by the caller; synced here)
    /// into place as the wheel with this sha256. On failure the temporary file comes back.
    pub fn persist_wheel(
        &self,
        sha256: &str,
        filename: &str,
        temp: tempfile::TempPath,
    ) -> Result<PathBuf, (std::io::Error, tempfile::TempPath)> {
        let path = match self.wheel_path(sha256, filename) {
            Ok(path) => path,
            Err(err) => return Err((err, temp)),
        };
        if let Err(err) = self.entry_dirs(&path) {
            return Err((err, temp));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Err(err) = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o644)) {
                return Err((err, temp));
            }
        }
        // On disk before the rename makes it an entry.
        if let Err(err) = fs_err::File::open(&temp).and_then(|file| file.sync_all()) {
            return Err((err, temp));
        }
        temp.persist(&path).map_err(|err| {
            let message = format!("cannot rename into `{}`: {}", path.display(), err.error);
            (std::io::Error::new(err.error.kind(), message), err.path)
        })?;
        Ok(path)
    }

    /// Make `tmp/` and the directory of the entry at `path`. A shared cache may hold links
    /// planted to redirect a write elsewhere: every directory between the root and the entry,
    /// and `tmp/`, must be a real one, checked before any is created (and again after, for one
    /// planted meanwhile).
    fn entry_dirs(&self, path: &Path) -> std::io::Result<PathBuf> {
        self.prepare();
        let tmp = self.root.join("tmp");
        let dir = path.parent().expect("cache entries are in a directory");
        for _ in 0..2 {
            self.refuse_links(dir)?;
            self.refuse_links(&tmp)?;
            fs_err::create_dir_all(&tmp)?;
            fs_err::create_dir_all(dir)?;
        }
        Ok(tmp)
    }

    /// Write an entry: to a temporary file in `tmp/`, then renamed into place.
    fn write_entry(&self, path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
        self.write_entry_parts(path, &[bytes], sync)
    }

    /// [`Cache::write_entry`] of the concatenation of `parts`.
    fn write_entry_parts(&self, path: &Path, parts: &[&[u8]], sync: bool) -> std::io::Result<()> {
        let tmp = self.entry_dirs(path)?;
        let mut temp = tempfile::Builder::new().prefix(".lbuild-tmp-").tempfile_in(&tmp)?;
        for part in parts {
            temp.write_all(part)?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        if sync {
            temp.as_file().sync_all()?;
        }
        temp.persist(path).map_err(|err| {
            std::io::Error::new(err.error.kind(), format!("cannot rename into `{}`: {}", path.display(), err.error))
        })?;
        Ok(())
    }

    /// An error when a directory between the cache root and `dir` (included) is a link.
    fn refuse_links(&self, dir: &Path) -> std::io::Result<()> {
        let mut between = Some(dir);
        while let Some(step) = between.filter(|step| step.starts_with(&self.root) && *step != self.root) {
            if fs_err::symlink_metadata(step).is_ok_and(|meta| meta.file_type().is_symlink()) {
                return Err(std::io::Error::other(format!(
                    "`{}` in the cache is a symbolic link; lbuild does not write through links (`lbuild cache clean` \
                     starts a clean cache)",
                    step.display()
                )));
            }
            between = step.parent();
        }
        Ok(())
    }

    /// Once per process and root: write `CACHEDIR.TAG` if it is missing, and remove temporary
    /// files interrupted runs left (those in `tmp/` every time, those elsewhere once an hour).
    pub fn prepare(&self) {
        {
            let mut prepared = PREPARED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !prepared.get_or_insert_with(HashSet::new).insert(self.root.clone()) {
                return;
            }
        }
        let tag = self.root.join(CACHEDIR_TAG);
        if !tag.is_file() {
            let text = format!(
                "{CACHEDIR_SIGNATURE}\n# This directory is lbuild's cache; `lbuild cache clean` removes it.\n\
                 # The tag tells backup and indexing tools they may skip it (https://bford.info/cachedir/).\n"
            );
            let written = fs_err::create_dir_all(&self.root)
                .and_then(|()| crate::fsutil::write_atomic_unsynced(&tag, text.as_bytes()));
            if let Err(err) = written {
                debug!("cannot write `{}`: {err}", tag.display());
            }
        }
        remove_stale_temporaries(&self.root.join("tmp"));
        let marker = self.root.join(SWEEP_MARKER);
        let swept_recently = fs_err::metadata(&marker)
            .and_then(|meta| meta.modified())
            .is_ok_and(|time| time.elapsed().is_ok_and(|age| age < SWEEP_INTERVAL));
        if swept_recently {
            return;
        }
        for dir in ["pages", "metadata", "sizes", "hints"] {
            remove_stale_temporaries(&self.root.join(dir));
        }
        for entry in fs_err::read_dir(self.root.join("wheels")).into_iter().flatten().flatten() {
            remove_stale_temporaries(&entry.path());
        }
        let _ = fs_err::write(&marker, b"");
    }
}

/// Remove the `.lbuild-tmp-*` files in `dir` that are older than [`STALE_TEMPORARY`].
fn remove_stale_temporaries(dir: &Path) {
    // Never through a link another user of the cache planted.
    if !std::fs::symlink_metadata(dir).is_ok_and(|meta| meta.is_dir()) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(".lbuild-tmp-") {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|time| time.elapsed().is_ok_and(|age| age > STALE_TEMPORARY));
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            debug!("removed `{}`, left by an interrupted run", entry.path().display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache { root: dir.path().join("cache") };
        (dir, cache)
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn other_key() -> String {
        KEY.replace('1', "e")
    }

    #[cfg(unix)]
    #[test]
    fn entries_are_never_written_through_a_linked_directory() {
        let (dir, cache) = cache();
        let elsewhere = dir.path().join("elsewhere");
        fs_err::create_dir_all(&elsewhere).unwrap();
        fs_err::create_dir_all(cache.root.join("wheels")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, cache.root.join("wheels").join(KEY)).unwrap();
        let err = cache.write_wheel(KEY, "a-1-py3-none-any.whl", b"wheel").unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert!(fs_err::read_dir(&elsewhere).unwrap().next().is_none(), "nothing was written there");
        cache.write_metadata(KEY, b"Name: a\n").unwrap();
        // A linked `wheels/`: refused before anything is created at the far end.
        fs_err::remove_dir_all(cache.root.join("wheels")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, cache.root.join("wheels")).unwrap();
        assert!(cache.write_wheel(KEY, "a-1-py3-none-any.whl", b"wheel").is_err());
        assert!(fs_err::read_dir(&elsewhere).unwrap().next().is_none(), "no directory was made there");
        // Entries that are links or devices read as misses, without reading them.
        std::os::unix::fs::symlink("/dev/zero", cache.metadata_path(KEY).unwrap().with_file_name(other_key())).unwrap();
        assert!(cache.read_metadata(&other_key()).is_none());
    }

    #[test]
    fn checked_entries_are_remembered_per_wheel_file_and_a_damaged_or_foreign_record_checks_again() {
        let (_dir, cache) = cache();
        let wheel = cache.write_wheel(KEY, "a-1-py3-none-any.whl", b"wheel bytes").unwrap();
        assert!(cache.read_checked(KEY, &wheel).is_empty());
        cache.add_checked(KEY, &wheel, &[30, 0]).unwrap();
        cache.add_checked(KEY, &wheel, &[512, 30]).unwrap();
        assert_eq!(cache.read_checked(KEY, &wheel), HashSet::from([0, 30, 512]));
        let other = KEY.replace('0', "f");
        assert!(cache.read_checked(&other, &wheel).is_empty(), "another wheel's bytes are checked on their own");
        // A damaged record (its body changed, its checksum line not) counts as no record.
        let path = cache.checked_path(KEY).unwrap();
        let good = fs_err::read_to_string(&path).unwrap();
        fs_err::write(&path, good.replace("\n512\n", "\n512\n1024\n")).unwrap();
        assert!(cache.read_checked(KEY, &wheel).is_empty());
        // The same bytes in another file (a cache restored or copied from elsewhere, or a
        // record planted beside a wheel) are checked again.
        fs_err::write(&path, &good).unwrap();
        assert!(!cache.read_checked(KEY, &wheel).is_empty());
        let copy = wheel.with_extension("copy");
        fs_err::copy(&wheel, &copy).unwrap();
        fs_err::rename(&copy, &wheel).unwrap();
        assert!(cache.read_checked(KEY, &wheel).is_empty());
        assert!(cache.add_checked("../x", &wheel, &[1]).is_err());
    }

    #[test]
    fn keys_and_filenames_that_are_not_bare_never_become_paths() {
        let (_dir, cache) = cache();
        for key in ["../../outside", "", "0123", &KEY.to_uppercase(), &format!("{}/x", &KEY[..62])] {
            assert!(cache.wheel_path(key, "a-1-py3-none-any.whl").is_err(), "{key}");
            assert!(cache.write_metadata(key, b"x").is_err(), "{key}");
            assert!(cache.write_size(key, 1).is_err(), "{key}");
            assert!(cache.read_metadata(key).is_none());
        }
        for filename in ["../../../x", "a/b.whl", "a\\b.whl", "..", ".", "", "a\0b", ".lbuild-tmp-x"] {
            assert!(cache.wheel_path(KEY, filename).is_err(), "{filename}");
            assert!(cache.write_wheel(KEY, filename, b"x").is_err(), "{filename}");
        }
        assert!(!cache.root.join("..").join("x").exists());
        assert!(cache.wheel_path(KEY, "a-1-py3-none-any.whl").is_ok());
    }

    #[test]
    fn damaged_or_swapped_entries_read_as_misses() {
        let (_dir, cache) = cache();
        let other = "f".repeat(64);
        cache.write_metadata(KEY, b"Name: a\n").unwrap();
        cache.write_metadata(&other, b"Name: b\n").unwrap();
        assert_eq!(cache.read_metadata(KEY).unwrap(), b"Name: a\n");
        let path = cache.metadata_path(KEY).unwrap();
        let mut bytes = fs_err::read(&path).unwrap();
        *bytes.last_mut().unwrap() = b'X';
        fs_err::write(&path, &bytes).unwrap();
        assert_eq!(cache.read_metadata(KEY), None, "a damaged entry is a miss");
        fs_err::copy(cache.metadata_path(&other).unwrap(), &path).unwrap();
        assert_eq!(cache.read_metadata(KEY), None, "another key's entry is a miss");
        fs_err::write(&path, b"Name: a\n").unwrap();
        assert_eq!(cache.read_metadata(KEY), None, "an entry without its check line is a miss");

        cache.write_size(KEY, 42).unwrap();
        assert_eq!(cache.read_size(KEY), Some(42));
        fs_err::copy(cache.size_path(KEY).unwrap(), cache.size_path(&other).unwrap()).unwrap();
        assert_eq!(cache.read_size(&other), None);

        let page = CachedPage::missing("https://example.org/simple/a/", 60);
        cache.write_page(&page).unwrap();
        assert!(cache.read_page(&page.url).is_some());
        let path = cache.page_path(&page.url);
        let mut bytes = fs_err::read(&path).unwrap();
        bytes.push(b' ');
        fs_err::write(&path, &bytes).unwrap();
        assert!(cache.read_page(&page.url).is_none());
    }

    #[test]
    fn a_page_is_fresh_for_max_age_seconds_from_a_fetch_in_the_past() {
        let mut page = CachedPage::missing("https://example.org/simple/c/", 600);
        assert!(page.is_fresh());
        page.fetched_at = now() - 601;
        assert!(!page.is_fresh());
        // Fetched while the clock was a year ahead: without this, fresh for a year and ten minutes.
        page.fetched_at = now() + 365 * 24 * 3600;
        assert!(!page.is_fresh(), "a page from the future has no known age");
    }

    #[test]
    fn a_page_reads_back_whole_and_its_header_alone() {
        let (_dir, cache) = cache();
        let mut page = CachedPage::missing("https://example.org/simple/b/", 60);
        page.missing = false;
        page.etag = Some("\"v1\"".into());
        page.body = b"{\"files\": []}\nsecond line".to_vec();
        cache.write_page(&page).unwrap();
        let read = cache.read_page(&page.url).unwrap();
        assert_eq!((read.body, read.etag.as_deref()), (page.body.clone(), Some("\"v1\"")));
        let header = cache.read_page_header(&page.url).unwrap();
        assert_eq!((header.etag.as_deref(), header.body.len()), (Some("\"v1\""), 0));
        assert!(cache.read_page_header("https://example.org/simple/other/").is_none());
        // The header is read unchecked; the whole page still is checked.
        let path = cache.page_path(&page.url);
        let mut bytes = fs_err::read(&path).unwrap();
        *bytes.last_mut().unwrap() = b'X';
        fs_err::write(&path, &bytes).unwrap();
        assert!(cache.read_page_header(&page.url).is_some());
        assert!(cache.read_page(&page.url).is_none());
    }

    #[test]
    fn the_cache_is_tagged_and_old_temporaries_are_swept() {
        let (_dir, cache) = cache();
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        let mut leftovers = Vec::new();
        for dir in ["tmp", "pages", &format!("wheels/{KEY}")] {
            let dir = cache.root.join(dir);
            fs_err::create_dir_all(&dir).unwrap();
            let (stale, fresh) = (dir.join(".lbuild-tmp-stale"), dir.join(".lbuild-tmp-fresh"));
            fs_err::write(&stale, b"x").unwrap();
            fs_err::File::options().write(true).open(&stale).unwrap().set_modified(old).unwrap();
            fs_err::write(&fresh, b"x").unwrap();
            leftovers.push((stale, fresh));
        }
        cache.write_size(KEY, 1).unwrap();
        for (stale, fresh) in leftovers {
            assert!(!stale.exists(), "{}", stale.display());
            assert!(fresh.exists(), "a temporary another process may be writing stays: {}", fresh.display());
        }
        let tag = fs_err::read_to_string(cache.root.join(CACHEDIR_TAG)).unwrap();
        assert_eq!(tag.lines().next(), Some(CACHEDIR_SIGNATURE));
    }

    #[test]
    fn streamed_hashes_match() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        fs_err::write(&path, &bytes).unwrap();
        assert_eq!(sha256_file(&path).unwrap(), (sha256_hex(&bytes), bytes.len() as u64));
    }
}
