//! Whole files: downloads (streamed to a temporary file in the cache while they are hashed,
//! then renamed into place), the files a lock names (verified against its sha256 and size), and
//! the sha256 and size of files whose index gives neither.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use reqwest::header::{self, HeaderMap};
use url::Url;

use super::http::{Body, Purpose, Response, Spooled};
use super::{DistFile, IndexClient, IndexError, blocking, check_status, file_key, header_string, redact};
use crate::output::{Progress, debug, status, warn_user};

/// The largest file lbuild downloads when nothing declares its size: a Lambda function holds at
/// most 250 MB unzipped, so no usable wheel comes near it.
pub(super) const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// A downloaded file.
pub(super) struct Downloaded {
    pub sha256: String,
    pub size: u64,
    pub path: PathBuf,
    /// The temporary file `path` names, when the cache could not keep it (removed on drop).
    _temp: Option<tempfile::TempPath>,
}

/// One file a lock names, as [`IndexClient::fetch_locked_files`] takes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockedRef<'a> {
    pub filename: &'a str,
    /// An http(s) URL, or a find-links path relative to the workspace root.
    pub url: &'a str,
    pub sha256: &'a str,
    pub size: u64,
}

/// What [`IndexClient::fetch_locked_files`] made available.
pub(crate) struct Fetched {
    /// The path of each distinct file, by sha256.
    pub paths: HashMap<String, PathBuf>,
    /// How many of them were downloaded (the rest were in the cache or local).
    pub downloaded: usize,
}

impl IndexClient {
    /// A GET of a file (not a page), named in errors by the index whose host serves it, reading
    /// at most `limit` bytes of body into memory.
    pub(super) async fn get_file_limited(
        &self,
        url: &Url,
        headers: HeaderMap,
        limit: u64,
    ) -> Result<Response, IndexError> {
        let index = self.index_for(url);
        self.http.get(url, headers, Purpose::File, &index, limit).await
    }

    /// Download a whole file, streamed to a temporary file in the cache and hashed as it
    /// arrives, verify it against the index's sha256 and size, and keep it in the cache. A
    /// file that does not match leaves nothing behind. Returns the sha256, the size and where
    /// the file is (in the cache, or a temporary file when the cache cannot keep it).
    pub(super) async fn download(&self, file: &DistFile) -> Result<Downloaded, IndexError> {
        // A file whose size the index declares is read that far and no further.
        let limit = file.size.unwrap_or(MAX_FILE_BYTES);
        let response = self.get_file_streamed(&file.url, HeaderMap::new(), limit).await?;
        check_status(response.status, &file.url, &self.index_for(&file.url))?;
        let spooled = response.file.ok_or_else(|| IndexError::new("a streamed download kept no file"))?;
        self.keep_download(file, spooled).await
    }

    /// Verify a whole file streamed to `tmp/` against the index's sha256 and size, and keep it
    /// in the cache (see [`Self::download`]).
    pub(super) async fn keep_download(&self, file: &DistFile, spooled: Spooled) -> Result<Downloaded, IndexError> {
        if let Some(expected) = &file.sha256
            && *expected != spooled.sha256
        {
            return Err(IndexError::new(format!(
                "`{}` does not match the sha256 the index gives (expected {expected}, got {})",
                file.filename, spooled.sha256
            ))
            .with_help("the download was corrupted or the index is wrong; nothing was cached"));
        }
        if let Some(size) = file.size
            && size != spooled.size
        {
            return Err(IndexError::new(format!(
                "`{}` is {} bytes, but the index says {size}",
                file.filename, spooled.size
            ))
            .with_help(
                "the download was cut short or the index is wrong; nothing was cached, so a retry starts clean",
            ));
        }
        self.learn_size(file, spooled.size);
        let (sha256, size) = (spooled.sha256.clone(), spooled.size);
        match self.persist(&sha256, &file.filename, spooled).await {
            Ok(path) => Ok(Downloaded { sha256, size, path, _temp: None }),
            Err((err, temp)) => {
                debug!("could not cache `{}`: {err}", file.filename);
                Ok(Downloaded { sha256, size, path: temp.to_path_buf(), _temp: Some(temp) })
            }
        }
    }

    /// A GET whose successful body is streamed to a temporary file in the cache's `tmp/`.
    pub(super) async fn get_file_streamed(
        &self,
        url: &Url,
        headers: HeaderMap,
        limit: u64,
    ) -> Result<Response, IndexError> {
        let index = self.index_for(url);
        let dir = self.with_cache(|cache| cache.tmp_dir()).await.map_err(|err| {
            IndexError::new(format!("cannot make the cache's temporary directory: {err}"))
                .with_help("check that the cache directory (`LBUILD_CACHE_DIR`) is writable")
        })?;
        self.http.get_into(url, headers, Purpose::File, &index, limit, &Body::File(dir)).await
    }

    /// Rename a verified download into the cache, on a blocking thread; on failure the
    /// temporary file comes back, so the caller can still use it this run.
    async fn persist(
        &self,
        sha256: &str,
        filename: &str,
        spooled: Spooled,
    ) -> Result<PathBuf, (std::io::Error, tempfile::TempPath)> {
        let (sha256, filename) = (sha256.to_string(), filename.to_string());
        self.with_cache(move |cache| cache.persist_wheel(&sha256, &filename, spooled.path)).await
    }

    /// Remember a file's size for this run and for later ones (the lock records it).
    pub(super) fn learn_size(&self, file: &DistFile, size: u64) {
        self.sizes.lock().expect("lock").insert(file.url.to_string(), size);
        // A small write nobody waits for, on a blocking thread (the runtime finishes it before
        // it shuts down).
        let (cache, key) = (self.cache.clone(), file_key(file));
        tokio::task::spawn_blocking(move || cache.write_size(&key, size));
    }

    /// Make every given locked file available on disk, verified ([`Self::fetch_locked`]),
    /// downloading in parallel what the cache lacks: one download per distinct file, however
    /// many targets share it. `root` is the workspace root that find-links paths are relative
    /// to. Shows a progress bar, and a summary line when something was downloaded.
    pub async fn fetch_locked_files(
        &self,
        files: impl IntoIterator<Item = LockedRef<'_>>,
        root: &Path,
    ) -> Result<Fetched, IndexError> {
        let mut unique: BTreeMap<&str, LockedRef<'_>> = BTreeMap::new();
        for file in files {
            unique.entry(file.sha256).or_insert(file);
        }
        if unique.is_empty() {
            return Ok(Fetched { paths: HashMap::new(), downloaded: 0 });
        }
        // Tag the cache and sweep what interrupted runs left, even when nothing is written.
        self.with_cache(|cache| cache.prepare()).await;
        let started = std::time::Instant::now();
        let progress = Progress::bar("Fetching", unique.values().map(|file| file.size).sum(), true);
        let fetches = unique.values().map(|file| {
            let progress = &progress;
            async move {
                let fetched = self.fetch_locked(file.filename, file.url, file.sha256, file.size, root).await;
                progress.inc(file.size);
                fetched.map(|(path, downloaded)| (file, path, downloaded))
            }
        });
        let results = futures::future::join_all(fetches).await.into_iter().collect::<Result<Vec<_>, _>>()?;
        drop(progress);
        let (missing, missing_bytes) = results
            .iter()
            .filter(|(_, _, downloaded)| *downloaded)
            .fold((0, 0), |(count, bytes), (file, _, _)| (count + 1, bytes + file.size));
        let paths = results.into_iter().map(|(file, path, _)| (file.sha256.to_string(), path)).collect();
        if missing > 0 {
            let remote = match &self.remote {
                Some(remote) => match remote.hits.load(std::sync::atomic::Ordering::Relaxed) {
                    0 => String::new(),
                    hits => format!(", {hits} of them from the remote cache `{}`", remote.url()),
                },
                None => String::new(),
            };
            // The line a log keeps when there is no progress bar to watch.
            status!(
                "Downloaded",
                "{missing} file{} ({:.1} MB) in {:.2}s{remote}",
                if missing == 1 { "" } else { "s" },
                missing_bytes as f64 / 1_048_576.0,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(Fetched { paths, downloaded: missing })
    }

    /// Make a file the lock names available on disk, verified against the lock's sha256 and size:
    /// from the cache, from a find-links directory (`url` relative to `root`), or downloaded.
    /// Returns the path and whether it was downloaded. A cached copy is hashed again before it
    /// is used; a damaged one is evicted and downloaded again (an error when offline). A
    /// mismatch is an error naming the file and both hashes, and nothing enters the cache.
    pub async fn fetch_locked(
        &self,
        filename: &str,
        url: &str,
        sha256: &str,
        size: u64,
        root: &Path,
    ) -> Result<(PathBuf, bool), IndexError> {
        let mismatch = |actual: &str, from: &str| {
            IndexError::new(format!(
                "`{filename}` from `{from}` does not match `lambda.lock`: expected sha256 {sha256}, got {actual}"
            ))
            .with_help("the file changed after it was locked; run `lbuild lock --upgrade-package NAME` if the change is expected, else find out who changed it")
        };
        let cached = self.cache.wheel_path(sha256, filename).map_err(|err| {
            IndexError::new(format!("the lock names a file lbuild cannot keep: {err}"))
                .with_help("the lock may have been edited by hand; run `lbuild lock` to regenerate it")
        })?;
        let stat = cached.clone();
        let found = blocking(move || fs_err::symlink_metadata(&stat)).await;
        if let Ok(meta) = found {
            let damage = if !meta.is_file() {
                "it is not a regular file".to_string()
            } else if meta.len() != size {
                format!("it is {} bytes, the lock says {size}", meta.len())
            } else {
                match hash_file(cached.clone()).await {
                    Ok((actual, _)) if actual == sha256 => {
                        debug!("{filename}: from the cache (sha256 verified)");
                        // Offered to the remote cache once, if this cache never did (it may
                        // have been filled before the remote cache was set up).
                        if let Some(remote) = self.remote.as_ref().filter(|_| !self.offline) {
                            remote.put_wheel(sha256, filename, &cached, true).await;
                        }
                        return Ok((cached, false));
                    }
                    Ok((actual, _)) => format!("its sha256 is {actual}, the lock says {sha256}"),
                    Err(err) => format!("it cannot be read: {err}"),
                }
            };
            // The cache was at fault, not the index or the lock: evict the copy and fetch again.
            let evict = cached.clone();
            let evicted = blocking(move || fs_err::remove_file(&evict).is_ok()).await;
            if self.offline {
                return Err(IndexError::new(format!(
                    "the cached copy of `{filename}` (`{}`) is damaged: {damage}{}",
                    cached.display(),
                    if evicted { "; it was removed" } else { "" }
                ))
                .with_help("run `lbuild fetch` without `--offline` to download it again, or `lbuild cache clean` to start the cache afresh"));
            }
            warn_user!(
                "the cached copy of `{filename}` (`{}`) was damaged ({damage}); the cache was at fault, so lbuild removed it and downloads it again",
                cached.display()
            );
        }
        match Url::parse(url) {
            Ok(parsed) if parsed.scheme() == "http" || parsed.scheme() == "https" => {
                if self.offline {
                    return Err(IndexError::new(format!(
                        "`{filename}` is not in the cache, and `--offline` forbids downloading it from `{}`",
                        redact(url)
                    ))
                    .with_help("run `lbuild fetch` (or build once) without `--offline` to fill the cache"));
                }
                // The team's remote cache first: what it holds is used only once verified.
                if let Some(remote) = &self.remote
                    && let Ok(tmp) = self.with_cache(|cache| cache.tmp_dir()).await
                    && let Some(temp) = remote.get_wheel(sha256, filename, size, &tmp).await
                {
                    let spooled = Spooled { path: temp, sha256: sha256.to_string(), size };
                    let path = self.persist(sha256, filename, spooled).await.map_err(|(err, _)| {
                        IndexError::new(format!("cannot write `{filename}` to the cache: {err}"))
                            .with_help("check that the cache directory (`LBUILD_CACHE_DIR`) is writable and has space")
                    })?;
                    return Ok((path, true));
                }
                // Read no more than a little over the lock's size: enough to hash a file that
                // changed a little (and name both hashes), never what a hostile server streams.
                let limit = size.saturating_mul(2).saturating_add(1 << 20);
                let response = self.get_file_streamed(&parsed, HeaderMap::new(), limit).await?;
                check_status(response.status, &parsed, &self.index_for(&parsed))?;
                let spooled = response.file.ok_or_else(|| IndexError::new("a streamed download kept no file"))?;
                if spooled.sha256 != sha256 || spooled.size != size {
                    // Dropping `spooled` removes its temporary file.
                    let mut error = mismatch(&spooled.sha256, &redact(url));
                    error
                        .message
                        .push_str(&format!(" ({} bytes; the lock says {size}); nothing was cached", spooled.size));
                    return Err(error);
                }
                let path = self.persist(sha256, filename, spooled).await.map_err(|(err, _)| {
                    IndexError::new(format!("cannot write `{filename}` to the cache: {err}"))
                        .with_help("check that the cache directory (`LBUILD_CACHE_DIR`) is writable and has space")
                })?;
                if let Some(remote) = &self.remote {
                    remote.put_wheel(sha256, filename, &path, false).await;
                }
                Ok((path, true))
            }
            Ok(parsed) => Err(IndexError::new(format!(
                "`{filename}` has the URL scheme `{}`, which lbuild does not fetch from",
                parsed.scheme()
            ))
            .with_help("the lock may have been edited by hand; run `lbuild lock` to regenerate it")),
            Err(_) => {
                // A find-links file, relative to the workspace root (the lock's validation
                // made sure it is one its inputs list).
                let path = root.join(url);
                let (actual, _) = hash_file(path.clone()).await.map_err(|err| {
                    IndexError::new(format!("cannot read `{}`: {err}", path.display()))
                        .with_help("the lock names a find-links file that is gone; run `lbuild lock`")
                })?;
                if actual != sha256 {
                    return Err(mismatch(&actual, &path.display().to_string()));
                }
                Ok((path, false))
            }
        }
    }

    /// Fill in a file's sha256 and size when the index did not give them (the lock records
    /// both for every file): from this run, from the cache, from a HEAD request, or by
    /// downloading the file.
    pub async fn complete(&self, file: &DistFile) -> Result<(String, u64), IndexError> {
        let known_size = file.size.or_else(|| self.sizes.lock().expect("lock").get(file.url.as_str()).copied());
        let known_size = match known_size {
            Some(size) => Some(size),
            None => {
                let key = file_key(file);
                self.with_cache(move |cache| cache.read_size(&key)).await
            }
        };
        match (&file.sha256, known_size) {
            (Some(sha256), Some(size)) => Ok((sha256.clone(), size)),
            (Some(sha256), None) => {
                // A cached copy gives the size once its hash is checked.
                let (wanted, filename) = (sha256.clone(), file.filename.clone());
                let cached = self
                    .with_cache(move |cache| {
                        let path = cache.wheel_path(&wanted, &filename).ok()?;
                        if !fs_err::symlink_metadata(&path).ok()?.is_file() {
                            return None;
                        }
                        let (actual, size) = crate::cache::sha256_file(&path).ok()?;
                        (actual == wanted).then_some(size)
                    })
                    .await;
                if let Some(size) = cached {
                    return Ok((sha256.clone(), size));
                }
                if file.url.scheme() == "file" {
                    let path =
                        file.url.to_file_path().map_err(|()| IndexError::new(format!("bad URL `{}`", file.url)))?;
                    let meta = blocking(move || fs_err::metadata(path))
                        .await
                        .map_err(|err| IndexError::new(err.to_string()))?;
                    return Ok((sha256.clone(), meta.len()));
                }
                if self.offline {
                    return Err(IndexError::new(format!(
                        "the size of `{}` is not in the cache, and `--offline` forbids asking the index",
                        file.filename
                    ))
                    .with_help("run `lbuild fetch` or the same command once without `--offline` to fill the cache"));
                }
                let size = match self.head_size(&file.url).await? {
                    Some(size) => size,
                    None => self.download(file).await?.size,
                };
                self.learn_size(file, size);
                Ok((sha256.clone(), size))
            }
            (None, _) => {
                if self.offline {
                    return Err(IndexError::new(format!(
                        "the index gives no sha256 for `{}`, and `--offline` forbids downloading it to compute one",
                        file.filename
                    ))
                    .with_help("run the same command once without `--offline`"));
                }
                let downloaded = self.download(file).await?;
                Ok((downloaded.sha256, downloaded.size))
            }
        }
    }

    /// The `Content-Length` a HEAD request reports, if any.
    async fn head_size(&self, url: &Url) -> Result<Option<u64>, IndexError> {
        let index = self.index_for(url);
        let response = self.http.head(url, &index).await?;
        if !response.status.is_success() {
            return Ok(None);
        }
        Ok(header_string(&response.headers, header::CONTENT_LENGTH).and_then(|value| value.parse().ok()))
    }
}

/// The sha256 and size of a file, hashed on a blocking thread so that several files hash in
/// parallel.
async fn hash_file(path: PathBuf) -> std::io::Result<(String, u64)> {
    blocking(move || crate::cache::sha256_file(&path)).await
}
