//! `lbuild cache dir` and `lbuild cache clean`.

use crate::cache::{CACHE_ENTRIES, CACHEDIR_SIGNATURE, CACHEDIR_TAG, Cache};
use crate::output::status;

/// The cache directory in effect.
pub fn cache_dir() -> std::path::PathBuf {
    Cache::from_env().root().to_path_buf()
}

/// Remove the whole cache. Returns the number of files removed.
///
/// Only a directory that is an lbuild cache is removed: one with a `CACHEDIR.TAG`, one that holds
/// nothing but what lbuild keeps there, or an empty one. `LBUILD_CACHE_DIR=$HOME` must not
/// delete a home directory.
///
/// The directory is first renamed aside, so a concurrent lbuild sees either the whole cache or
/// none of it, never a cache being emptied under it.
pub fn cache_clean() -> miette::Result<u64> {
    let root = cache_dir();
    if !root.exists() {
        status!("Removed", "nothing: `{}` does not exist", root.display());
        return Ok(0);
    }
    check_is_cache(&root)?;
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

/// Refuse a directory that does not look like an lbuild cache.
fn check_is_cache(root: &std::path::Path) -> miette::Result<()> {
    if !root.is_dir() {
        miette::bail!(
            help = "`LBUILD_CACHE_DIR` must name a directory lbuild created; see `lbuild cache dir`",
            "refusing to clean `{}`: it is not a directory",
            root.display()
        );
    }
    let tagged = fs_err::read_to_string(root.join(CACHEDIR_TAG))
        .is_ok_and(|text| text.lines().next().is_some_and(|line| line.trim_end() == CACHEDIR_SIGNATURE));
    if tagged {
        return Ok(());
    }
    let entries = fs_err::read_dir(root).map_err(|err| miette::miette!("cannot read the cache directory: {err}"))?;
    let foreign: Vec<String> = entries
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !CACHE_ENTRIES.contains(&name.as_str()))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    let mut shown: Vec<String> = foreign.iter().take(5).map(|name| format!("`{}`", name.escape_debug())).collect();
    if foreign.len() > shown.len() {
        shown.push(format!("and {} more", foreign.len() - shown.len()));
    }
    miette::bail!(
        help = "`LBUILD_CACHE_DIR` (or `XDG_CACHE_HOME`) names the cache directory: point it at the directory lbuild \
                created, or delete this one yourself if you are sure",
        "refusing to clean `{}`: it has no `{CACHEDIR_TAG}` and holds files lbuild did not write ({})",
        root.display(),
        shown.join(", ")
    )
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
