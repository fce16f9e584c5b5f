//! Core metadata of one wheel, from the cheapest source that gives the exact bytes of the wheel
//! that would be installed: the cache, a wheel already downloaded, the PEP 658 `.metadata`
//! file when the index offers one, else HTTP range requests that read only the wheel's central
//! directory and METADATA entry ([`super::lazy`]), else a full download (kept in the cache for
//! the build).

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use super::http::Spooled;
use super::{
    CoreMetadataOffer, DistFile, DistKind, IndexClient, IndexError, SecretUrl, check_status, file_key, header_string,
    lazy,
};
use crate::cache::sha256_hex;
use crate::output::debug;
use crate::python::metadata::{self, CoreMetadata};
use crate::python::wheel_name::normalize_name;
use crate::zipio::{ZipReadError, read_wheel_metadata};

/// How much of a wheel's tail to ask for first, at least: enough for the central directory of
/// a small wheel, and for its METADATA too, which wheel builders write near the end.
const TAIL_BYTES: u64 = 64 * 1024;

/// The first range to ask for of a wheel of `size` bytes: a fortieth of it, between
/// [`TAIL_BYTES`] and 1 MiB. A large wheel's central directory grows with its file count
/// (pandas' 12 MB wheel needs 262 KB of tail, numpy's 16 MB one 196 KB), and each range that
/// falls short costs a round trip; a fortieth covers them in one request.
fn first_tail(size: Option<u64>) -> u64 {
    size.map_or(TAIL_BYTES, |size| (size / 40).clamp(TAIL_BYTES, 1 << 20))
}

/// The largest PEP 658 `.metadata` file lbuild reads.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

impl IndexClient {
    /// The core metadata of one file (a wheel), from the cache or the cheapest remote source.
    pub async fn metadata(&self, project: &str, file: &DistFile) -> Result<Arc<CoreMetadata>, IndexError> {
        self.prefetch_older_versions(project, file);
        self.memoized_metadata(project, file).await
    }

    /// [`Self::metadata`] without prefetching.
    pub(super) async fn memoized_metadata(
        &self,
        project: &str,
        file: &DistFile,
    ) -> Result<Arc<CoreMetadata>, IndexError> {
        let key = file_key(file);
        self.metadata.get_or_init(&key.clone(), || self.fetch_metadata(project.to_string(), file.clone(), key)).await
    }

    async fn fetch_metadata(
        &self,
        project: String,
        file: DistFile,
        key: String,
    ) -> Result<Arc<CoreMetadata>, IndexError> {
        let read_key = key.clone();
        let cached = self
            .with_cache(move |cache| cache.read_metadata(&read_key))
            .await
            .and_then(|bytes| metadata::parse(&bytes).ok());
        let parsed = match cached {
            Some(parsed) => {
                debug!("{}: metadata from the cache", file.filename);
                parsed
            }
            None => {
                let bytes = self.fetch_metadata_bytes(&project, &file).await?;
                let parsed = metadata::parse(&bytes).map_err(|err| {
                    IndexError::new(format!("invalid metadata in `{}`: {err}", file.filename))
                        .with_help("the package's METADATA is broken; pin another version of it (`name!=VERSION`)")
                })?;
                let (filename, written) = (file.filename.clone(), bytes.clone());
                self.with_cache(move |cache| {
                    if let Err(err) = cache.write_metadata(&key, &written) {
                        debug!("could not cache metadata of `{filename}`: {err}");
                    }
                })
                .await;
                self.remember_hints(&normalize_name(&project), &parsed).await;
                parsed
            }
        };
        if parsed.has_newer_minor() {
            debug!("`{}` uses Metadata-Version {}, newer than lbuild knows", file.filename, parsed.metadata_version);
        }
        if normalize_name(&parsed.name) != normalize_name(&project) || parsed.version != file.version {
            return Err(IndexError::new(format!(
                "`{}` claims to be {} {}, not {} {}",
                file.filename, parsed.name, parsed.version, project, file.version
            ))
            .with_help(
                "the index serves a mislabelled file; report it to the index's owner, or exclude that version",
            ));
        }
        Ok(Arc::new(parsed))
    }

    async fn fetch_metadata_bytes(&self, project: &str, file: &DistFile) -> Result<Vec<u8>, IndexError> {
        if file.url.scheme() == "file" {
            let path = file.url.to_file_path().map_err(|()| IndexError::new(format!("bad file URL `{}`", file.url)))?;
            return metadata_from_path(project, file, path).await;
        }
        // A wheel we already downloaded whole.
        if let Some(sha256) = &file.sha256
            && let Some(path) = {
                let (sha256, filename) = (sha256.clone(), file.filename.clone());
                self.with_cache(move |cache| cache.wheel_verified(&sha256, &filename)).await
            }
        {
            return metadata_from_path(project, file, path).await;
        }
        if self.offline {
            return Err(IndexError::new(format!(
                "the metadata of `{}` is not in the cache, and `--offline` forbids fetching it",
                file.filename
            ))
            .with_help("run `lbuild fetch` or the same command once without `--offline` to fill the cache"));
        }
        if let CoreMetadataOffer::Available(hash) = &file.core_metadata {
            let url = Url::parse(&format!("{}.metadata", file.url)).expect("a URL with a suffix is a URL");
            let response = self.get_file_limited(&url, HeaderMap::new(), MAX_METADATA_BYTES).await?;
            if response.status.is_success() {
                let body = response.body;
                if let Some(expected) = hash
                    && sha256_hex(&body) != expected.to_ascii_lowercase()
                {
                    return Err(IndexError::new(format!(
                        "the metadata file of `{}` does not match its sha256 (expected {expected}, got {})",
                        file.filename,
                        sha256_hex(&body)
                    ))
                    .with_help(
                        "the index's metadata file is corrupt or stale; nothing was cached, so a retry starts clean",
                    ));
                }
                return Ok(body);
            }
            debug!("{} answered {}; reading the wheel instead", SecretUrl::from(&url), response.status);
        }
        match self.probe_and_range_metadata(project, file).await? {
            Some(bytes) => Ok(bytes),
            None => {
                let downloaded = self.download(file).await?;
                metadata_from_path(project, file, downloaded.path.clone()).await
            }
        }
    }

    /// Range requests for METADATA, raced against the PEP 658 file of a wheel whose page does
    /// not advertise one: some mirrors serve `<wheel URL>.metadata` without saying so (for some
    /// wheels or all), and one request beats the two to four range requests that read METADATA
    /// out of the wheel. Whichever answers first wins; the loser is dropped.
    async fn probe_and_range_metadata(&self, project: &str, file: &DistFile) -> Result<Option<Vec<u8>>, IndexError> {
        let probe = self.unadvertised_metadata(project, file);
        let ranges = self.range_metadata(project, file);
        tokio::pin!(probe, ranges);
        tokio::select! {
            found = &mut probe => match found {
                Some(bytes) => Ok(Some(bytes)),
                None => ranges.await,
            },
            read = &mut ranges => match read {
                Ok(None) => Ok(probe.await),
                read => read,
            },
        }
    }

    /// `<wheel URL>.metadata`, when no page advertised it. It counts only when it parses as the
    /// metadata of this very project and version. An origin whose first answer is anything
    /// else is not asked again this run, so an index without such files costs one request;
    /// one that served such a file is asked for every wheel.
    async fn unadvertised_metadata(&self, project: &str, file: &DistFile) -> Option<Vec<u8>> {
        if !matches!(file.kind, DistKind::Wheel(_)) {
            return None;
        }
        let origin = file.url.origin().ascii_serialization();
        if self.unadvertised_metadata.lock().expect("lock").get(&origin) == Some(&false) {
            return None;
        }
        let url = Url::parse(&format!("{}.metadata", file.url)).ok()?;
        let body = match self.get_file_limited(&url, HeaderMap::new(), MAX_METADATA_BYTES).await {
            Ok(response) if response.status.is_success() => Some(response.body),
            _ => None,
        };
        let fits = body.as_deref().and_then(|bytes| metadata::parse(bytes).ok()).is_some_and(|parsed| {
            normalize_name(&parsed.name) == normalize_name(project) && parsed.version == file.version
        });
        let mut origins = self.unadvertised_metadata.lock().expect("lock");
        if fits {
            debug!("{}: metadata from the unadvertised `.metadata` file", file.filename);
            origins.insert(origin, true);
            return body;
        }
        if !origins.get(&origin).copied().unwrap_or(false) {
            debug!("`{origin}` serves no unadvertised `.metadata` files (asked for `{}`)", SecretUrl::from(&url));
            origins.insert(origin, false);
        }
        None
    }

    /// Read METADATA with range requests. `Ok(None)` when the server does not do ranges.
    async fn range_metadata(&self, project: &str, file: &DistFile) -> Result<Option<Vec<u8>>, IndexError> {
        let wanted = first_tail(file.size);
        let (total, tail) = match self.get_range(file, format!("bytes=-{wanted}"), wanted).await? {
            RangeAnswer::Partial { start, total, bytes } => (total, (start, bytes)),
            RangeAnswer::Whole(spooled) => {
                // The server ignored the range: the whole file streamed to disk; keep it.
                let downloaded = self.keep_download(file, spooled).await?;
                return metadata_from_path(project, file, downloaded.path.clone()).await.map(Some);
            }
            RangeAnswer::Unsupported => return Ok(None),
        };
        self.learn_size(file, total);
        let mut sparse = lazy::SparseFile::new(total);
        sparse.insert(tail.0, tail.1);
        for _ in 0..8 {
            match read_wheel_metadata(&mut sparse, project) {
                Ok(bytes) => {
                    debug!("{}: metadata read with {} of {} bytes", file.filename, sparse.fetched(), sparse.len());
                    return Ok(Some(bytes));
                }
                Err(err) => {
                    // A METADATA that claims to be huge is refused before any of it is fetched.
                    let Some(start) = sparse.missing.filter(|_| !matches!(err, ZipReadError::TooLarge { .. })) else {
                        return Err(zip_error(file, err));
                    };
                    let end = start.saturating_add(TAIL_BYTES).min(total).saturating_sub(1);
                    if start > end {
                        return Err(zip_error(file, err));
                    }
                    match self.get_range(file, format!("bytes={start}-{end}"), end - start + 1).await? {
                        RangeAnswer::Partial { start, bytes, .. } => sparse.insert(start, bytes),
                        RangeAnswer::Whole(spooled) => {
                            let downloaded = self.keep_download(file, spooled).await?;
                            return metadata_from_path(project, file, downloaded.path.clone()).await.map(Some);
                        }
                        RangeAnswer::Unsupported => return Ok(None),
                    }
                }
            }
        }
        Ok(None)
    }

    /// A range of `wanted` bytes of a file. A server that ignores the range sends the whole
    /// file: it streams to the cache's `tmp/` (never held in memory), and no more of it is read
    /// than the index says the file has. A partial answer longer than asked for is not believed.
    async fn get_range(&self, file: &DistFile, range: String, wanted: u64) -> Result<RangeAnswer, IndexError> {
        let url = &file.url;
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(&range).expect("ASCII range"));
        // Ranges over compressed transfer encodings are meaningless.
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let limit = file.size.unwrap_or(super::download::MAX_FILE_BYTES);
        let response = self.get_file_streamed(url, headers, limit).await?;
        match (response.status, response.file) {
            (StatusCode::PARTIAL_CONTENT, Some(spooled)) => {
                let content_range = header_string(&response.headers, header::CONTENT_RANGE).unwrap_or_default();
                // A range that does not fit the file it claims to be part of is not believed.
                let fits = |start: u64, total: u64| {
                    start < total && spooled.size <= total - start && spooled.size <= wanted && spooled.size > 0
                };
                match parse_content_range(&content_range) {
                    Some((start, total)) if fits(start, total) => {
                        let bytes = read_spooled(spooled).await.map_err(|err| {
                            IndexError::new(format!("cannot read back a range of `{}`: {err}", file.filename))
                                .with_help("check that the cache directory (`LBUILD_CACHE_DIR`) is readable")
                        })?;
                        Ok(RangeAnswer::Partial { start, total, bytes })
                    }
                    _ => Ok(RangeAnswer::Unsupported),
                }
            }
            (StatusCode::OK, Some(spooled)) => Ok(RangeAnswer::Whole(spooled)),
            (StatusCode::RANGE_NOT_SATISFIABLE | StatusCode::NOT_IMPLEMENTED | StatusCode::METHOD_NOT_ALLOWED, _) => {
                Ok(RangeAnswer::Unsupported)
            }
            (status, _) => {
                check_status(status, url, &self.index_for(url))?;
                Ok(RangeAnswer::Unsupported)
            }
        }
    }
}

enum RangeAnswer {
    Partial { start: u64, total: u64, bytes: Vec<u8> },
    Whole(Spooled),
    Unsupported,
}

/// The bytes of a small body streamed to a temporary file (removed after), on a blocking thread.
async fn read_spooled(spooled: Spooled) -> std::io::Result<Vec<u8>> {
    super::blocking(move || fs_err::read(&spooled.path)).await
}

/// `bytes 10-20/300` -> (10, 300).
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}

fn zip_error(file: &DistFile, err: ZipReadError) -> IndexError {
    match err {
        ZipReadError::Invalid(message) => {
            IndexError::new(format!("`{}` is not a valid wheel: {message}", file.filename))
                .with_help("lbuild refuses wheels that could write outside their place; pin another version")
        }
        ZipReadError::NoMetadata => {
            IndexError::new(format!("`{}` has no `.dist-info/METADATA` for its project", file.filename))
                .with_help("the wheel is malformed; pin another version of it")
        }
        ZipReadError::TooLarge { name, size } => IndexError::new(format!(
            "`{}` is damaged or hostile: its `{name}` is {size} bytes or more, over lbuild's limit of {} for metadata",
            file.filename,
            crate::zipio::MAX_METADATA_SIZE
        ))
        .with_help(
            "real METADATA files are well under 1 MiB; report the wheel to the package's index and pin another \
             version meanwhile; if it came from lbuild's cache, run `lbuild cache clean`",
        ),
    }
}

/// [`metadata_from_wheel`] of a wheel on disk, read on a blocking thread.
async fn metadata_from_path(project: &str, file: &DistFile, path: PathBuf) -> Result<Vec<u8>, IndexError> {
    let (project, file) = (project.to_string(), file.clone());
    super::blocking(move || {
        let reader = fs_err::File::open(&path).map_err(|err| IndexError::new(err.to_string()))?;
        metadata_from_wheel(&project, &file, std::io::BufReader::new(reader))
    })
    .await
}

fn metadata_from_wheel<R: std::io::Read + std::io::Seek>(
    project: &str,
    file: &DistFile,
    reader: R,
) -> Result<Vec<u8>, IndexError> {
    read_wheel_metadata(reader, project).map_err(|err| zip_error(file, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_range_grows_with_the_wheel_within_bounds() {
        assert_eq!(first_tail(None), TAIL_BYTES, "a wheel of unknown size");
        assert_eq!(first_tail(Some(90_000)), TAIL_BYTES, "a small wheel");
        assert_eq!(first_tail(Some(12_031_410)), 300_785, "pandas: its 262 KB of tail in one request");
        assert_eq!(first_tail(Some(55_043_763)), 1 << 20, "at most 1 MiB");
    }
}
