//! find-links directories: every wheel and sdist in them, hashed once per run and grouped by
//! project; their files join the index's.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::{DistFile, IndexClient, IndexError, files};
use crate::cache::sha256_hex;

impl IndexClient {
    /// Scan the find-links directories once.
    pub(super) async fn find_links_files(&self) -> Result<Arc<HashMap<String, Vec<DistFile>>>, IndexError> {
        let dirs = self.find_links.clone();
        self.find_links_files
            .get_or_try_init(|| async move { super::blocking(move || scan_find_links(&dirs)).await.map(Arc::new) })
            .await
            .cloned()
    }
}

/// Hash every wheel and sdist in the find-links directories, grouped by project.
fn scan_find_links(dirs: &[PathBuf]) -> Result<HashMap<String, Vec<DistFile>>, IndexError> {
    let mut by_project: HashMap<String, Vec<DistFile>> = HashMap::new();
    for dir in dirs {
        let entries = fs_err::read_dir(dir).map_err(|err| IndexError::new(err.to_string()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|entry| entry.path()).collect();
        paths.sort();
        for path in paths {
            let Some(filename) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            let Some(project) = files::find_links_project(filename) else {
                continue;
            };
            if !path.is_file() {
                continue;
            }
            let bytes = fs_err::read(&path).map_err(|err| IndexError::new(err.to_string()))?;
            let path = std::path::absolute(&path).unwrap_or(path);
            if let Some(file) = files::find_links_file(&project, &path, sha256_hex(&bytes), bytes.len() as u64) {
                by_project.entry(project).or_default().push(file);
            }
        }
    }
    Ok(by_project)
}
