//! The on-disk cache: `$LBUILD_CACHE_DIR`, else `$XDG_CACHE_HOME/lbuild`, else `~/.cache/lbuild`.
//!
//! ```text
//! pages/<sha256 of URL>           index pages: a JSON header line (URL, ETag, Last-Modified,
//!                                 fetch time, max-age, content type), then the body
//! metadata/<sha256 of wheel>      core metadata (METADATA) of one wheel file
//! sizes/<sha256 of wheel>         the size of a wheel whose index does not publish it
//! wheels/<sha256>/<filename>      whole wheel files, content-addressed
//! ```
//!
//! Every entry is written to a temporary file beside it and renamed into place, so a reader
//! sees a whole entry or none, and two lbuild processes can fill the same cache at once (the
//! last rename wins, and both wrote the same bytes). Entries keyed by sha256 are verified
//! before they are written, so a corrupt download never enters the cache. Pages, metadata and
//! sizes are not flushed to disk before the rename (they are cheap to fetch again, and a
//! damaged one fails to parse and is fetched again); wheels are.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fsutil::{write_atomic, write_atomic_unsynced};

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

    pub fn is_fresh(&self) -> bool {
        now().saturating_sub(self.fetched_at) < self.max_age
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
        let bytes = fs_err::read(self.page_path(url)).ok()?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let mut page: CachedPage = serde_json::from_slice(&bytes[..newline]).ok()?;
        if page.url != url {
            return None;
        }
        page.body = bytes[newline + 1..].to_vec();
        Some(page)
    }

    pub fn write_page(&self, page: &CachedPage) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(page).expect("page header serializes");
        bytes.push(b'\n');
        bytes.extend_from_slice(&page.body);
        write_atomic_unsynced(&self.page_path(&page.url), &bytes)
    }

    fn metadata_path(&self, key: &str) -> PathBuf {
        self.root.join("metadata").join(key)
    }

    pub fn read_metadata(&self, key: &str) -> Option<Vec<u8>> {
        fs_err::read(self.metadata_path(key)).ok()
    }

    pub fn write_metadata(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        write_atomic_unsynced(&self.metadata_path(key), bytes)
    }

    /// The size of a file, learnt once (from `Content-Range`, `Content-Length` or a download).
    pub fn read_size(&self, key: &str) -> Option<u64> {
        fs_err::read_to_string(self.root.join("sizes").join(key)).ok()?.trim().parse().ok()
    }

    pub fn write_size(&self, key: &str, size: u64) -> std::io::Result<()> {
        write_atomic_unsynced(&self.root.join("sizes").join(key), size.to_string().as_bytes())
    }

    pub fn wheel_path(&self, sha256: &str, filename: &str) -> PathBuf {
        self.root.join("wheels").join(sha256).join(filename)
    }

    /// Store a downloaded file after checking its hash.
    pub fn write_wheel(&self, sha256: &str, filename: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.wheel_path(sha256, filename);
        if !path.is_file() {
            write_atomic(&path, bytes)?;
        }
        Ok(path)
    }
}
