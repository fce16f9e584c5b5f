//! `built/<sha256 of sdist>`: the wheels lbuild built from one sdist.
//!
//! Each record names the built wheel (kept in `wheels/` like a downloaded one), its content
//! hash, the interpreter's cache tag and the build environment's wheels. A lookup needs no
//! Python: the caller picks the record whose build environment the lock pins, else the newest.

use serde::{Deserialize, Serialize};

use super::{Cache, check_key, checked_body, read_entry, sha256_hex, with_check_line};

/// One wheel built from an sdist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BuiltRecord {
    pub filename: String,
    pub sha256: String,
    pub size: u64,
    pub content_sha256: String,
    pub cache_tag: String,
    /// `(filename, sha256)` of each wheel the backend ran with, sorted.
    pub build_env: Vec<(String, String)>,
}

const BUILT_FORMAT: &str = "built-1";

impl Cache {
    /// A cache at `root` (tests).
    #[cfg(test)]
    pub fn at_for_tests(root: std::path::PathBuf) -> Cache {
        Cache { root }
    }

    fn built_path(&self, sdist_sha256: &str) -> std::io::Result<std::path::PathBuf> {
        check_key(sdist_sha256)?;
        Ok(self.root.join("built").join(sdist_sha256))
    }

    /// The records of wheels built from the sdist with this sha256, oldest first; empty when
    /// there are none or the entry is damaged.
    pub fn read_built(&self, sdist_sha256: &str) -> Vec<BuiltRecord> {
        let Some(bytes) = self.built_path(sdist_sha256).ok().and_then(|path| read_entry(&path, 1 << 20)) else {
            return Vec::new();
        };
        let Some(body) = checked_body(sdist_sha256, bytes) else { return Vec::new() };
        let text = String::from_utf8_lossy(&body);
        let mut lines = text.lines();
        if lines.next() != Some(BUILT_FORMAT) {
            return Vec::new();
        }
        lines.filter_map(|line| serde_json::from_str(line).ok()).collect()
    }

    /// Add a record (replacing one with the same cache tag and build environment). The read,
    /// change and write hold `built/<sha256>.lock`, so two builds from one sdist finishing at
    /// once (two targets, or two lbuilds) both keep their record.
    pub fn add_built(&self, sdist_sha256: &str, record: &BuiltRecord) -> std::io::Result<()> {
        let path = self.built_path(sdist_sha256)?;
        self.entry_dirs(&path)?;
        let lock =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path.with_extension("lock"))?;
        // A file system without locks (some network shares) still takes the record, unlocked:
        // losing a record to a race costs a rebuild, failing a finished build costs more.
        if let Err(err) = lock.lock() {
            crate::output::debug!("cannot lock {}: {err}; recording the build without the lock", path.display());
        }
        let mut records = self.read_built(sdist_sha256);
        records.retain(|old| (&old.cache_tag, &old.build_env) != (&record.cache_tag, &record.build_env));
        records.push(record.clone());
        let mut body = format!("{BUILT_FORMAT}\n");
        for record in records.iter().rev().take(16).rev() {
            body.push_str(&serde_json::to_string(record).expect("records serialize"));
            body.push('\n');
        }
        self.write_entry(&path, &with_check_line(sdist_sha256, body.as_bytes()), false)
    }

    /// Store wheel bytes lbuild made (a built wheel) under their sha256; returns it and the path.
    pub fn store_wheel(&self, filename: &str, bytes: &[u8]) -> std::io::Result<(String, std::path::PathBuf)> {
        let sha256 = sha256_hex(bytes);
        let path = self.wheel_path(&sha256, filename)?;
        self.write_entry(&path, bytes, true)?;
        Ok((sha256, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_damaged_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache { root: dir.path().to_path_buf() };
        let sdist = "a".repeat(64);
        assert!(cache.read_built(&sdist).is_empty());
        let (sha256, path) = cache.store_wheel("p-1.0-py3-none-any.whl", b"bytes").unwrap();
        assert_eq!(cache.wheel_verified(&sha256, "p-1.0-py3-none-any.whl"), Some(path));
        let record = BuiltRecord {
            filename: "p-1.0-py3-none-any.whl".into(),
            sha256,
            size: 5,
            content_sha256: "b".repeat(64),
            cache_tag: "cpython-311".into(),
            build_env: vec![],
        };
        cache.add_built(&sdist, &record).unwrap();
        cache.add_built(&sdist, &record).unwrap();
        assert_eq!(cache.read_built(&sdist), vec![record]);
        let entry = dir.path().join("built").join(&sdist);
        let mut bytes = fs_err::read(&entry).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        fs_err::write(&entry, bytes).unwrap();
        assert!(cache.read_built(&sdist).is_empty());
    }

    #[test]
    fn records_added_at_once_from_many_threads_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let sdist = "c".repeat(64);
        let record = |i: usize| BuiltRecord {
            filename: format!("p-1.0-cp312-cp312-manylinux_2_17_x86_64.whl{i}"),
            sha256: "d".repeat(64),
            size: 1,
            content_sha256: "e".repeat(64),
            cache_tag: format!("native;target-{i}"),
            build_env: vec![],
        };
        std::thread::scope(|scope| {
            for i in 0..8 {
                let cache = Cache { root: dir.path().to_path_buf() };
                scope.spawn(move || cache.add_built(&"c".repeat(64), &record(i)).unwrap());
            }
        });
        let cache = Cache { root: dir.path().to_path_buf() };
        let mut tags: Vec<String> = cache.read_built(&sdist).into_iter().map(|r| r.cache_tag).collect();
        tags.sort();
        assert_eq!(tags, (0..8).map(|i| format!("native;target-{i}")).collect::<Vec<_>>());
    }
}
