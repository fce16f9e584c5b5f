//! `bytecode/<sha256 of key>`: pycs compiled for a build, so that a rebuild (another zip that
//! holds the same package, or the same zip after a source edit) needs no Python for the files
//! it compiled before. The key names everything the pyc's bytes depend on: the interpreter's
//! cache tag and magic number, the file name compiled into it, and the source's sha256.

use super::{Cache, checked_body, read_entry, sha256_hex, with_check_line};
use crate::output::debug;

/// The key of the pyc of `source` compiled as `dfile` by the interpreter with `cache_tag` and
/// `magic`.
pub(crate) fn pyc_key(cache_tag: &str, magic: &str, dfile: &str, source: &[u8]) -> String {
    sha256_hex(format!("pyc-1\n{cache_tag} {magic}\n{dfile}\n{}", sha256_hex(source)).as_bytes())
}

impl Cache {
    fn pyc_path(&self, key: &str) -> std::io::Result<std::path::PathBuf> {
        super::check_key(key)?;
        Ok(self.root.join("bytecode").join(key))
    }

    /// The pyc cached for `key`: `Some(None)` when the source did not compile.
    pub fn read_pyc(&self, key: &str) -> Option<Option<Vec<u8>>> {
        let path = self.pyc_path(key).ok()?;
        let body = read_entry(&path, 64 << 20)?;
        match checked_body(key, body) {
            Some(body) if body.is_empty() => Some(None),
            Some(body) => Some(Some(body)),
            None => {
                debug!("ignoring the damaged cache entry `{}`", path.display());
                None
            }
        }
    }

    /// Remember the pyc of `key` (`None`: it does not compile).
    pub fn write_pyc(&self, key: &str, pyc: Option<&[u8]>) -> std::io::Result<()> {
        self.write_entry(&self.pyc_path(key)?, &with_check_line(key, pyc.unwrap_or_default()), false)
    }
}
