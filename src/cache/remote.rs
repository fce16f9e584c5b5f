//! The remote cache: `[workspace] cache-url = "s3://BUCKET/PREFIX"` (or `LBUILD_CACHE_URL`), a
//! layer beneath the local cache that the CI runners of a team share.
//!
//! ```text
//! PREFIX/wheels/<sha256>/<filename>                          whole wheel files, as in the local cache
//! PREFIX/built/<sdist sha256>/<content sha256>/<filename>    wheels built from an sdist
//! ```
//!
//! A wheel the lock names and the local cache lacks is asked of the remote cache before its
//! index; one downloaded from the index is put there for the next runner (`If-None-Match: *`,
//! so runners never overwrite each other). What comes back is untrusted like anything else: it
//! streams into the local cache's `tmp/`, at most the lock's size, and is used only when its
//! sha256 and size are the lock's; anything else is dropped with a warning and the index asked.
//! A wheel built from an sdist is looked up when the local cache has no build of it, and used
//! only when its contents hash to the content hash the lock records (as a local build is
//! checked); a runner that builds one puts it there.
//!
//! The remote cache is never needed: when it cannot be reached, or refuses the credentials,
//! lbuild warns once and goes on with the index alone. A read that fails ends writing too; a
//! write that fails ends only writing, so a runner allowed to read but not to write keeps reading.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::OnceCell;

use crate::output::{debug, warn_user};
use crate::s3::Bucket;

/// The largest built wheel taken from the remote cache (as the largest download from an index:
/// no usable wheel comes near it, as a function holds 250 MB unzipped at most).
const MAX_BUILT_BYTES: u64 = 512 << 20;

/// Where the remote cache is: a bucket and a key prefix (without a trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    pub bucket: String,
    pub prefix: String,
}

impl std::fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.prefix.is_empty() {
            true => write!(f, "s3://{}", self.bucket),
            false => write!(f, "s3://{}/{}", self.bucket, self.prefix),
        }
    }
}

/// Parse `s3://BUCKET[/PREFIX]`; the error says what is wrong with it.
pub fn parse_url(text: &str) -> Result<RemoteUrl, String> {
    let Some(rest) = text.strip_prefix("s3://") else {
        return Err("a cache URL is `s3://BUCKET` or `s3://BUCKET/PREFIX`".into());
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    crate::s3::check_name(bucket).map_err(|err| err.to_string())?;
    let prefix = prefix.trim_matches('/');
    if !crate::s3::is_key_prefix(prefix) {
        return Err("the prefix is key segments such as `lbuild/cache`: no empty, `.` or `..` segments, \
                    backslashes or control characters"
            .into());
    }
    Ok(RemoteUrl { bucket: bucket.to_string(), prefix: prefix.to_string() })
}

/// The remote cache of one run: connected on first use.
pub(crate) struct RemoteCache {
    url: RemoteUrl,
    /// The local cache, which remembers what it put in the remote one (`pushed/`).
    local: super::Cache,
    bucket: OnceCell<Option<Bucket>>,
    /// Cleared, with a warning, when reading or writing failed for another reason than a miss.
    reading: AtomicBool,
    writing: AtomicBool,
    /// `lbuild fetch`: offer the local cache's wheels even when nothing else needed the remote
    /// cache this run (a build offers them only once it is connected for a miss).
    offer_cached: AtomicBool,
    /// Wheels this run took from it.
    pub hits: AtomicUsize,
}

impl RemoteCache {
    pub fn new(url: RemoteUrl, local: super::Cache) -> RemoteCache {
        RemoteCache {
            url,
            local,
            bucket: OnceCell::new(),
            reading: AtomicBool::new(true),
            writing: AtomicBool::new(true),
            offer_cached: AtomicBool::new(false),
            hits: AtomicUsize::new(0),
        }
    }

    pub fn url(&self) -> &RemoteUrl {
        &self.url
    }

    /// Offer every wheel a local cache hit finds (`lbuild fetch`), connecting for it.
    pub fn offer_cached(&self) {
        self.offer_cached.store(true, Ordering::Relaxed);
    }

    /// The bucket, with the credentials, region and endpoint of the environment (as `lbuild
    /// publish` finds them); `None`, once warned about, when they cannot be found.
    async fn bucket(&self) -> Option<&Bucket> {
        let bucket = self
            .bucket
            .get_or_init(|| async {
                match Bucket::new(&self.url.bucket, None, &crate::s3::environment()).await.and_then(Bucket::for_cache) {
                    Ok(bucket) => Some(bucket),
                    Err(err) => {
                        warn_user!(
                            "the remote cache `{}` is not used: {err}; the index serves everything \
                             (`LBUILD_CACHE_URL=none` turns the remote cache off)",
                            self.url
                        );
                        None
                    }
                }
            })
            .await;
        bucket.as_ref()
    }

    /// A key under the prefix.
    fn key(&self, path: &str) -> String {
        match self.url.prefix.is_empty() {
            true => path.to_string(),
            false => format!("{}/{path}", self.url.prefix),
        }
    }

    /// An object streamed into a temporary file in `tmp_dir` (at most `limit` bytes), with its
    /// sha256 and size; `None` on a miss, or with a warning once, when the remote cache cannot be
    /// read.
    async fn get(
        &self,
        key: &str,
        limit: u64,
        tmp_dir: &std::path::Path,
    ) -> Option<(&Bucket, tempfile::TempPath, String, u64)> {
        if !self.reading.load(Ordering::Relaxed) {
            return None;
        }
        let bucket = self.bucket().await?;
        let mut temp = tempfile::NamedTempFile::new_in(tmp_dir).ok()?;
        match bucket.get_into(key, temp.as_file_mut(), limit).await {
            Ok(Some((sha256, size))) => Some((bucket, temp.into_temp_path(), sha256, size)),
            Ok(None) => None,
            Err(err) => {
                // Writing would fail the same way: one warning, and no more requests.
                self.writing.store(false, Ordering::Relaxed);
                if self.reading.swap(false, Ordering::Relaxed) {
                    warn_user!("cannot read the remote cache `{}`: {err}; the index serves everything", self.url);
                }
                None
            }
        }
    }

    /// The wheel with this sha256 and size, streamed into a temporary file in `tmp_dir` and
    /// verified, or `None` (a miss, a mismatch, or a remote cache out of reach).
    pub async fn get_wheel(
        &self,
        sha256: &str,
        filename: &str,
        size: u64,
        tmp_dir: &std::path::Path,
    ) -> Option<tempfile::TempPath> {
        let key = self.key(&format!("wheels/{sha256}/{filename}"));
        let (bucket, temp, actual, actual_size) = self.get(&key, size, tmp_dir).await?;
        if actual == sha256 && actual_size == size {
            debug!("{filename}: from the remote cache `{}`", self.url);
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(temp);
        }
        warn_user!(
            "`{}` in the remote cache is not `{filename}` ({actual_size} bytes, sha256 {actual}; the lock says {size} \
             bytes, sha256 {sha256}); it was not used, and the index serves it (delete the object, and the next \
             runner puts a good copy)",
            bucket.uri(&key)
        );
        None
    }

    /// Put a verified wheel in the remote cache for the next runner (nothing when it is there).
    /// `cached`: it is a local cache hit, offered only when the remote cache is in use anyway.
    pub async fn put_wheel(&self, sha256: &str, filename: &str, path: &std::path::Path, cached: bool) {
        self.put(&self.key(&format!("wheels/{sha256}/{filename}")), path, cached).await;
    }

    /// Where a wheel built from an sdist is kept: by the sdist's sha256 and the content hash the
    /// lock records for the wheel (which tells apart the builds of one sdist for two targets).
    fn built_key(&self, sdist_sha256: &str, content_sha256: &str, filename: &str) -> String {
        self.key(&format!("built/{sdist_sha256}/{content_sha256}/{filename}"))
    }

    /// A wheel another runner built from the sdist with this sha256 and put here, streamed into
    /// a temporary file in `tmp_dir`, unchecked: the caller checks its contents against the
    /// lock's content hash. Its key, for messages.
    pub async fn get_built(
        &self,
        sdist_sha256: &str,
        content_sha256: &str,
        filename: &str,
        tmp_dir: &std::path::Path,
    ) -> Option<(tempfile::TempPath, String)> {
        let key = self.built_key(sdist_sha256, content_sha256, filename);
        let (bucket, temp, _, _) = self.get(&key, MAX_BUILT_BYTES, tmp_dir).await?;
        debug!("{filename}: from the remote cache `{}`", self.url);
        Some((temp, bucket.uri(&key)))
    }

    /// Put a wheel built from an sdist in the remote cache for the next runner (`cached`: as
    /// [`Self::put_wheel`]).
    pub async fn put_built(
        &self,
        sdist_sha256: &str,
        content_sha256: &str,
        filename: &str,
        path: &std::path::Path,
        cached: bool,
    ) {
        self.put(&self.built_key(sdist_sha256, content_sha256, filename), path, cached).await;
    }

    /// Put a file at `key` unless an object is there, once per local cache (`pushed/`); warns
    /// once, and stops writing, on failure. A local cache hit (`cached`) costs no request, and
    /// never a search for credentials, unless the remote cache is connected already or
    /// [`Self::offer_cached`] asked for it: a build whose wheels are all local stays local.
    async fn put(&self, key: &str, path: &std::path::Path, cached: bool) {
        if !self.writing.load(Ordering::Relaxed)
            || (cached && !self.offer_cached.load(Ordering::Relaxed) && !self.bucket.initialized())
        {
            return;
        }
        let (local, remote, marker) = (self.local.clone(), self.url.to_string(), key.to_string());
        if tokio::task::spawn_blocking(move || local.pushed(&remote, &marker)).await.unwrap_or(false) {
            return;
        }
        let Some(bucket) = self.bucket().await else { return };
        let Ok(bytes) = tokio::fs::read(path).await else { return };
        let sha256 = super::sha256_hex(&bytes);
        // A HEAD first: the object is often there (another runner put it), and a conditional
        // PUT would send the whole body to learn that.
        let put = async {
            match bucket.head(key).await? {
                crate::s3::Head::Present(..) => Ok(false),
                crate::s3::Head::Absent => bucket.put_new(key, &bytes, &sha256, &|_| {}).await,
            }
        };
        match put.await {
            Ok(_) => {
                let (local, remote, marker) = (self.local.clone(), self.url.to_string(), key.to_string());
                let _ = tokio::task::spawn_blocking(move || local.mark_pushed(&remote, &marker)).await;
            }
            Err(err) => {
                if self.writing.swap(false, Ordering::Relaxed) {
                    warn_user!("cannot write to the remote cache `{}`: {err}; this run only reads it", self.url);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_url_is_a_bucket_and_a_prefix_of_plain_segments() {
        assert_eq!(
            parse_url("s3://team-cache/lbuild/ci/").unwrap(),
            RemoteUrl { bucket: "team-cache".into(), prefix: "lbuild/ci".into() }
        );
        assert_eq!(parse_url("s3://team-cache").unwrap().to_string(), "s3://team-cache");
        assert_eq!(parse_url("s3://team-cache/a/b").unwrap().to_string(), "s3://team-cache/a/b");
        for bad in ["https://team-cache/x", "s3://Team_Cache", "s3://ok-bucket/a/../b", "s3://ok-bucket/a//b", "s3://"]
        {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
