//! Atomic file writes: every file lbuild produces is written to a temporary file in the same
//! directory and renamed into place, so a crash or Ctrl-C never leaves half a file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `contents` to `path` atomically, creating parent directories as needed.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs_err::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".lbuild-tmp-")
        .tempfile_in(dir)
        .map_err(|err| std::io::Error::new(err.kind(), format!("{err} (in `{}`)", dir.display())))?;
    temp.write_all(contents)?;
    persist(temp, path)
}

/// Like [`write_atomic`], but without waiting for the data to reach the disk: for cache
/// entries that are verified when read and cheap to fetch again.
pub(crate) fn write_atomic_unsynced(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new().prefix(".lbuild-tmp-").tempfile_in(dir)?;
    temp.write_all(contents)?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Give a finished temporary file the mode of an ordinary file (tempfile creates 0600), flush
/// it to disk, and rename it over `path`.
pub(crate) fn persist(temp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| {
        std::io::Error::new(err.error.kind(), format!("failed to rename into `{}`: {}", path.display(), err.error))
    })?;
    Ok(())
}

/// Replace the contents of a file the user owns (`lambda.toml`, a requirements file)
/// atomically: through a symbolic link to the file it names, keeping the file's permissions.
pub(crate) fn rewrite(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let permissions = fs_err::metadata(&target)?.permissions();
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new().prefix(".lbuild-tmp-").tempfile_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().set_permissions(permissions)?;
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|err| {
        std::io::Error::new(err.error.kind(), format!("failed to rename into `{}`: {}", target.display(), err.error))
    })?;
    Ok(())
}

/// Write `contents` unless the file already holds exactly these bytes. Returns whether it wrote.
pub(crate) fn write_if_changed(path: &Path, contents: &[u8]) -> std::io::Result<bool> {
    if let Ok(existing) = fs_err::read(path)
        && existing == contents
    {
        return Ok(false);
    }
    write_atomic(path, contents)?;
    Ok(true)
}

/// `path` relative to `root`, with `/` separators, when it is inside `root`.
pub(crate) fn inside(root: &Path, path: &Path) -> Option<String> {
    path.strip_prefix(root).ok().map(|rest| rest.to_string_lossy().replace('\\', "/"))
}

/// `path` relative to `root` when it is inside it, else as it is; `/` separators.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    inside(root, path).unwrap_or_else(|| path.to_string_lossy().replace('\\', "/"))
}

/// `path` relative to the directory `base`, with `..` where it lies outside it (both absolute
/// and normalized), `/`-separated; `path` itself when they share no root (two Windows drives).
pub(crate) fn relative_from(base: &Path, path: &Path) -> String {
    let base: Vec<_> = base.components().collect();
    let target: Vec<_> = path.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.to_string_lossy().replace('\\', "/");
    }
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - common];
    parts.extend(target[common..].iter().map(|part| part.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() { ".".to_string() } else { parts.join("/") }
}

/// `path` made absolute with `.` and `..` resolved by name (no symlinks followed), so two
/// spellings of one directory compare equal: `--out-dir ../proj/out` inside `proj`.
pub(crate) fn absolute_normalized(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What tells a file lbuild put in place (a zip, a cache entry) from any other with the same bytes: on Unix
/// its device, inode, and change time (which no user can set: a zip restored by `tar`, `cp -a`
/// or a CI cache, or checked out by git, has a new one), with its modification time; elsewhere
/// its creation and modification times.
pub(crate) fn file_identity(meta: &std::fs::Metadata) -> String {
    let nanos = |time: std::io::Result<std::time::SystemTime>| {
        time.ok().and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos())
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}:{}.{}:{}", meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec(), nanos(meta.modified()))
    }
    #[cfg(not(unix))]
    {
        format!("{}:{}", nanos(meta.created()), nanos(meta.modified()))
    }
}

#[cfg(test)]
mod normalize_tests {
    use super::*;

    #[test]
    fn dots_resolve_by_name() {
        assert_eq!(absolute_normalized(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
        assert_eq!(absolute_normalized(Path::new("/a/..")), PathBuf::from("/"));
        assert!(absolute_normalized(Path::new("x/../y")).ends_with("y"));
    }
}
