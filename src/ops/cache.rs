//! `lbuild cache dir` and `lbuild cache clean`.

use crate::cache::Cache;
use crate::output::status;

/// The cache directory in effect.
pub fn cache_dir() -> std::path::PathBuf {
    Cache::from_env().root().to_path_buf()
}

/// Remove the whole cache. Returns the number of files removed.
///
/// The directory is first renamed aside, so a concurrent lbuild sees either the whole cache or
/// none of it, never a cache being emptied under it.
pub fn cache_clean() -> miette::Result<u64> {
    let root = cache_dir();
    if !root.exists() {
        status!("Removed", "nothing: `{}` does not exist", root.display());
        return Ok(0);
    }
    let aside = root.with_file_name(format!(
        ".{}-removing-{}",
        root.file_name().and_then(|name| name.to_str()).unwrap_or("lbuild"),
        std::process::id()
    ));
    fs_err::rename(&root, &aside).map_err(|err| miette::miette!("cannot clean the cache: {err}"))?;
    let (files, bytes) = count(&aside);
    fs_err::remove_dir_all(&aside).map_err(|err| miette::miette!("cannot clean the cache: {err}"))?;
    status!("Removed", "{files} files ({:.1} MB) from `{}`", bytes as f64 / 1_048_576.0, root.display());
    Ok(files)
}

fn count(dir: &std::path::Path) -> (u64, u64) {
    let mut totals = (0, 0);
    for entry in fs_err::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            let (files, bytes) = count(&entry.path());
            totals = (totals.0 + files, totals.1 + bytes);
        } else {
            totals = (totals.0 + 1, totals.1 + meta.len());
        }
    }
    totals
}
