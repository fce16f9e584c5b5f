//! The output directory of `lbuild build` (`target/lambda`): its lock, its staged zips, and
//! `manifest.json`, which must describe exactly the zips beside it.
//!
//! ```text
//! target/lambda/
//!   functions/<name>-<target>.zip, layers/<name>-<target>.zip
//!   manifest.json          what the last build wrote (owned here: [`BuildManifest`])
//!   .lbuild-state.json     fingerprints that let an unchanged build skip work ([`BuildState`])
//!   .lbuild-lock           held for the whole build, so two builds never interleave
//!   .lbuild-publish.json   present only while a build is publishing (see below)
//! ```
//!
//! A zip cannot be replaced together with the manifest in one rename, so publishing is a
//! journal, rolled forward by whoever holds the lock next:
//!
//! 1. every new zip is written in full to a `.lbuild-stage-*` file beside its final path and
//!    flushed to disk;
//! 2. the journal (which staged file goes where, and the new `manifest.json` and state) is
//!    written atomically: from here on the build is committed;
//! 3. the old `manifest.json` is rewritten without the artifacts about to be replaced;
//! 4. the staged files are renamed over their final paths, then the new manifest and state are
//!    written, then the journal is removed.
//!
//! A build killed before step 2 leaves the old state (its staged files are removed next time);
//! one killed after it is completed by the next lbuild that opens the directory. At every moment
//! each artifact `manifest.json` lists has exactly the sha256 it gives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::{file_identity, write_atomic, write_if_changed};
use crate::output::{status, warn_user};

/// The build manifest's format version.
pub const MANIFEST_VERSION: u32 = 1;
/// The build manifest's file name in the output directory.
pub const MANIFEST_NAME: &str = "manifest.json";
/// The build state's file name ([`BuildState`]).
pub const STATE_NAME: &str = ".lbuild-state.json";
const LOCK_NAME: &str = ".lbuild-lock";
const JOURNAL_NAME: &str = ".lbuild-publish.json";
const STAGE_PREFIX: &str = ".lbuild-stage-";
/// Temporary files of lbuild versions before staging, and of `write_atomic`.
const TEMP_PREFIX: &str = ".lbuild-tmp-";

/// One zip, as listed in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    /// `function` or `layer`.
    pub kind: String,
    pub runtime: String,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Relative to the output directory, with `/`.
    pub path: String,
    pub sha256: String,
    /// base64 of the raw sha256: Lambda's CodeSha256 and Terraform's `source_code_hash`.
    pub base64_sha256: String,
    pub size: u64,
    pub unzipped_size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    /// The version ARNs of the function's layers that lbuild does not build, deployed after
    /// `layers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_layers: Vec<String>,
    /// Where `lbuild publish` put this zip (kept by later builds while the zip is unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildManifest {
    pub version: u32,
    pub artifacts: Vec<Artifact>,
}

impl BuildManifest {
    /// The canonical text: pretty JSON, artifacts sorted by path, a final newline.
    pub fn to_text(&self) -> String {
        let mut manifest = self.clone();
        manifest.artifacts.sort_by(|a, b| a.path.cmp(&b.path));
        let mut text = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
        text.push('\n');
        text
    }

    /// Check that every zip the manifest lists is on disk with the sha256 it records: what hands
    /// the zips to deployment (`export`, `publish`) hands over exactly what was built.
    pub fn check_zips(&self, out_dir: &Path) -> miette::Result<()> {
        for artifact in &self.artifacts {
            let zip = out_dir.join(&artifact.path);
            let actual = fs_err::symlink_metadata(&zip)
                .ok()
                .filter(std::fs::Metadata::is_file)
                .and_then(|_| crate::cache::sha256_file(&zip).ok())
                .map(|(sha256, _)| sha256);
            if actual.as_deref() != Some(artifact.sha256.as_str()) {
                miette::bail!(
                    help = "run `lbuild build` (with the same `--out-dir`) to rebuild it",
                    "`{}` is missing or is not the zip `manifest.json` describes",
                    zip.display()
                );
            }
        }
        Ok(())
    }

    /// Read `manifest.json` from an output directory, checked; `Ok(None)` when there is none.
    pub fn read(out_dir: &Path) -> miette::Result<Option<BuildManifest>> {
        let path = out_dir.join(MANIFEST_NAME);
        let text = match fs_err::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => miette::bail!("cannot read `{}`: {err}", path.display()),
        };
        let manifest: BuildManifest = serde_json::from_str(&text).map_err(|err| {
            miette::miette!(
                help = "run `lbuild build` to rewrite it",
                "`{}` is not a build manifest: {err}",
                path.display()
            )
        })?;
        if manifest.version != MANIFEST_VERSION {
            miette::bail!(
                help = "run `lbuild build` with this lbuild to rewrite it",
                "`{}` has version {}, this lbuild reads version {MANIFEST_VERSION}",
                path.display(),
                manifest.version
            );
        }
        // The directory may come from a checkout: its manifest names only zips lbuild writes.
        for artifact in &manifest.artifacts {
            let safe = match artifact.path.split_once('/') {
                Some(("functions" | "layers", name)) => {
                    name.ends_with(".zip")
                        && !name.starts_with('.')
                        && !name.contains(['/', '\\'])
                        && !name.chars().any(char::is_control)
                }
                _ => false,
            };
            if !safe || !crate::lockfile::is_sha256(&artifact.sha256) {
                miette::bail!(
                    help = "run `lbuild build` to rewrite it",
                    "`{}` lists `{}`, which is not a zip lbuild writes",
                    path.display(),
                    crate::output::escape_name(&crate::output::shorten(&artifact.path))
                );
            }
        }
        Ok(Some(manifest))
    }
}

/// `.lbuild-state.json`: what the output directory remembers between builds, to skip zips
/// whose inputs did not change. It is a cache: anything unreadable or implausible in it is
/// forgotten, and every zip is rebuilt.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct BuildState {
    version: u32,
    /// By zip path.
    pub artifacts: BTreeMap<String, StateEntry>,
}

/// What the state remembers of one zip.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StateEntry {
    /// Digest of everything that decides the zip's bytes (the build's inputs fingerprint).
    pub inputs: String,
    pub sha256: String,
    pub size: u64,
    /// The identity of the zip file lbuild put in place ([`file_identity`]), to notice a zip
    /// edited, replaced or restored behind its back; empty until known.
    #[serde(default)]
    pub identity: String,
    pub unzipped_size: u64,
    /// Unzipped bytes by package, largest first, for size messages.
    pub sizes: Vec<(String, u64)>,
}

impl BuildState {
    /// The state of an output directory; a missing, unreadable or inconsistent one (any junk
    /// a person or a crash left) is empty.
    pub fn read(out_dir: &Path) -> BuildState {
        let Some(state) = fs_err::read(out_dir.join(STATE_NAME))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<BuildState>(&bytes).ok())
        else {
            return BuildState::default();
        };
        let sane = state.artifacts.values().all(|entry| {
            // Sizes no zip can have (a state file edited by hand) would fail every later build.
            let plausible = |size: u64| size <= 1 << 40;
            (entry.sha256.is_empty() || crate::lockfile::is_sha256(&entry.sha256))
                && entry.inputs.is_ascii()
                && plausible(entry.unzipped_size)
                && plausible(entry.size)
                && entry.sizes.iter().all(|(_, size)| plausible(*size))
        });
        if sane { state } else { BuildState::default() }
    }

    /// The state a build starts writing: what `previous` remembers, in this format.
    pub fn next(previous: &BuildState) -> BuildState {
        BuildState { version: 1, artifacts: previous.artifacts.clone() }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("state serializes")
    }

    /// Record the identity of each zip at `paths` that has none yet; whether any was learnt.
    pub fn learn_identities<'a>(&mut self, out_dir: &Path, paths: impl IntoIterator<Item = &'a str>) -> bool {
        let mut learnt = false;
        for path in paths {
            if let Some(entry) = self.artifacts.get_mut(path)
                && entry.identity.is_empty()
                && let Ok(meta) = fs_err::symlink_metadata(out_dir.join(path))
                && meta.is_file()
            {
                entry.identity = file_identity(&meta);
                learnt = true;
            }
        }
        learnt
    }
}

impl StateEntry {
    /// Whether the zip at `path` is still the file lbuild put there (not through a link).
    pub fn describes(&self, path: &Path) -> bool {
        fs_err::symlink_metadata(path).is_ok_and(|meta| {
            meta.is_file()
                && meta.len() == self.size
                && !self.identity.is_empty()
                && file_identity(&meta) == self.identity
        })
    }
}

/// The output directory: `--out-dir`, else `target/lambda` in the workspace at `root`.
pub(crate) fn location(root: &Path, chosen: Option<&Path>) -> PathBuf {
    match chosen {
        Some(dir) => crate::fsutil::absolute_normalized(dir),
        None => root.join("target").join("lambda"),
    }
}

/// Refuse a default output directory (`target/lambda`, no `--out-dir`) that a symbolic link in
/// the checkout leads out of the workspace at `root`: a pull request could otherwise point the build's
/// writes anywhere. An `--out-dir` the user names is theirs to choose.
pub(crate) fn check_default_location(root: &Path) -> miette::Result<()> {
    let real_root = fs_err::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    for step in [root.join("target"), root.join("target").join("lambda")] {
        let linked = fs_err::symlink_metadata(&step).is_ok_and(|meta| meta.file_type().is_symlink());
        if linked && !fs_err::canonicalize(&step).is_ok_and(|real| real.starts_with(&real_root)) {
            miette::bail!(
                help = "remove the link, or pass `--out-dir` to build where you mean to",
                "`{}` is a symbolic link out of the workspace; lbuild does not follow it for the default output \
                 directory",
                step.display()
            );
        }
    }
    Ok(())
}

/// The publishing journal (step 2 of the module docs).
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    version: u32,
    /// Staged file -> final path, both relative to the output directory.
    renames: Vec<(String, String)>,
    /// Files to write after the renames (`manifest.json`, the build state), by relative path.
    files: Vec<(String, String)>,
}

/// An output directory held for one build.
pub(crate) struct OutDir {
    root: PathBuf,
    lock: Option<std::fs::File>,
    /// The directories this build created, deepest first, removed again if it publishes nothing.
    created: Vec<PathBuf>,
    /// Whether this build created `.lbuild-lock`, removed again if it publishes nothing (it
    /// marks a directory as an output directory, which source selection then leaves out).
    created_lock: bool,
    published: bool,
}

/// A zip being written: a `.lbuild-stage-*` file beside its final path, removed if the build
/// fails before publishing.
pub(crate) struct Staged {
    /// Relative to the output directory.
    pub path: String,
    file: tempfile::NamedTempFile,
}

impl Staged {
    pub fn file(&self) -> &std::fs::File {
        self.file.as_file()
    }
}

impl OutDir {
    /// Create (if needed) and lock the output directory, then finish a build that was killed
    /// while publishing and remove what killed builds left behind. Waits for another lbuild
    /// that holds the directory.
    pub fn open(root: &Path) -> miette::Result<OutDir> {
        let mut created = Vec::new();
        let mut dir = root.to_path_buf();
        while !dir.exists() {
            created.push(dir.clone());
            if !dir.pop() {
                break;
            }
        }
        fs_err::create_dir_all(root)
            .map_err(|err| miette::miette!("cannot create the output directory `{}`: {err}", root.display()))?;
        refuse_links(root)?;
        refuse_foreign_manifest(root)?;
        let created_lock = !root.join(LOCK_NAME).exists();
        let lock = lock_file(&root.join(LOCK_NAME), root)?;
        let out = OutDir { root: root.to_path_buf(), lock: Some(lock), created, created_lock, published: false };
        out.recover()?;
        out.remove_leftovers();
        Ok(out)
    }

    /// Lock an output directory that exists, to read it after any interrupted publish is
    /// finished; `Ok(None)` when there is no such directory.
    pub fn open_existing(root: &Path) -> miette::Result<Option<OutDir>> {
        if !root.is_dir() {
            return Ok(None);
        }
        Self::open(root).map(Some)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A new staged file for the zip at `path` (relative, `/`-separated).
    pub fn stage(&self, path: &str) -> miette::Result<Staged> {
        let full = self.root.join(path);
        let dir = full.parent().expect("artifact paths have a directory");
        fs_err::create_dir_all(dir).map_err(|err| miette::miette!("{err}"))?;
        let file = tempfile::Builder::new()
            .prefix(STAGE_PREFIX)
            .tempfile_in(dir)
            .map_err(|err| miette::miette!("cannot create a file in `{}`: {err}", dir.display()))?;
        Ok(Staged { path: path.to_string(), file })
    }

    /// Publish staged zips together with the files that describe them (`manifest.json` and
    /// the build state), as the module docs describe. `files` are relative paths and contents.
    pub fn publish(&mut self, staged: Vec<Staged>, files: &[(&str, &[u8])]) -> miette::Result<()> {
        let mut renames = Vec::with_capacity(staged.len());
        for Staged { path, file } in staged {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))
                    .map_err(|err| miette::miette!("cannot set the mode of a staged zip: {err}"))?;
            }
            file.as_file().sync_all().map_err(|err| miette::miette!("cannot flush `{path}` to disk: {err}"))?;
            let kept =
                file.into_temp_path().keep().map_err(|err| miette::miette!("cannot keep a staged zip: {err}"))?;
            let staged_rel = crate::fsutil::relative(&self.root, &kept);
            renames.push((staged_rel, path));
        }
        let journal = Journal {
            version: 1,
            renames,
            files: files
                .iter()
                .map(|(path, bytes)| (path.to_string(), String::from_utf8_lossy(bytes).into_owned()))
                .collect(),
        };
        if !journal.renames.is_empty() {
            let text = serde_json::to_vec(&journal).expect("journal serializes");
            write_atomic(&self.root.join(JOURNAL_NAME), &text)
                .map_err(|err| miette::miette!("cannot write `{JOURNAL_NAME}`: {err}"))?;
            self.retract(&journal)?;
        }
        self.apply(&journal)?;
        self.published = true;
        Ok(())
    }

    /// Replace one of the directory's own files after publishing (the state, once the zips'
    /// identities are known). Atomic; only the names the journal may name.
    pub fn rewrite(&self, name: &str, contents: &[u8]) -> miette::Result<()> {
        let path = self.inside(name)?;
        write_if_changed(&path, contents).map_err(|err| miette::miette!("cannot write `{}`: {err}", path.display()))?;
        Ok(())
    }

    /// Rewrite `manifest.json` without the artifacts the journal is about to replace, so that
    /// it never lists a zip whose bytes are changing.
    fn retract(&self, journal: &Journal) -> miette::Result<()> {
        let Ok(Some(mut manifest)) = BuildManifest::read(&self.root) else { return Ok(()) };
        let before = manifest.artifacts.len();
        manifest.artifacts.retain(|artifact| !journal.renames.iter().any(|(_, path)| *path == artifact.path));
        if manifest.artifacts.len() != before {
            write_atomic(&self.root.join(MANIFEST_NAME), manifest.to_text().as_bytes())
                .map_err(|err| miette::miette!("cannot write the build manifest: {err}"))?;
        }
        Ok(())
    }

    /// Step 4: rename what is staged, write the files, drop the journal. Idempotent, so an
    /// interrupted run can be completed by the next one.
    fn apply(&self, journal: &Journal) -> miette::Result<()> {
        for (staged, path) in &journal.renames {
            let (from, to) = (self.inside(staged)?, self.inside(path)?);
            match fs_err::rename(&from, &to) {
                Ok(()) => {}
                // Renamed already by the run that was interrupted.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && to.is_file() => {}
                Err(err) => miette::bail!("cannot move a built zip into place: {err}"),
            }
        }
        for (path, contents) in &journal.files {
            write_if_changed(&self.inside(path)?, contents.as_bytes())
                .map_err(|err| miette::miette!("cannot write `{path}` in the output directory: {err}"))?;
        }
        match fs_err::remove_file(self.root.join(JOURNAL_NAME)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => miette::bail!("cannot remove `{JOURNAL_NAME}`: {err}"),
        }
    }

    /// Finish a publish that a killed build committed but did not complete.
    fn recover(&self) -> miette::Result<()> {
        let path = self.root.join(JOURNAL_NAME);
        let bytes = match fs_err::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => miette::bail!("cannot read `{}`: {err}", path.display()),
        };
        match serde_json::from_slice::<Journal>(&bytes) {
            Ok(journal) if journal.version == 1 => {
                status!("Recovering", "an interrupted build in `{}`", self.root.display());
                if let Err(err) = self.apply(&journal) {
                    // Someone removed what the journal needs: describe nothing rather than
                    // something wrong. The next build rewrites the zips and the manifest.
                    warn_user!(
                        "cannot finish the interrupted build in `{}` ({err}); removing its manifest.json, \
                         the next build rewrites it",
                        self.root.display()
                    );
                    let _ = fs_err::remove_file(self.root.join(MANIFEST_NAME));
                    let _ = fs_err::remove_file(&path);
                }
                Ok(())
            }
            _ => {
                // Not one lbuild wrote (it is written atomically): the manifest was retracted
                // at most, so dropping the journal leaves a manifest that matches its zips.
                warn_user!("ignoring a damaged `{}`; the next build rewrites what it described", path.display());
                let _ = fs_err::remove_file(&path);
                Ok(())
            }
        }
    }

    /// Remove the staged and temporary files of builds that were killed before committing.
    fn remove_leftovers(&self) {
        for dir in [self.root.clone(), self.root.join("functions"), self.root.join("layers")] {
            let Ok(entries) = fs_err::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(STAGE_PREFIX) || name.starts_with(TEMP_PREFIX) {
                    let _ = fs_err::remove_file(entry.path());
                }
            }
        }
    }

    /// A path the journal names, refused unless it has a shape lbuild writes: `manifest.json`,
    /// the state file, or a zip or staged zip directly in `functions/` or `layers/` (neither of
    /// which is a link: see [`refuse_links`]). The journal is lbuild's, but the directory may
    /// come from a checkout, so nothing in it may lead anywhere else.
    fn inside(&self, relative: &str) -> miette::Result<PathBuf> {
        let safe = match relative.split('/').collect::<Vec<_>>().as_slice() {
            [name] => *name == MANIFEST_NAME || *name == STATE_NAME,
            [kind, name] => {
                matches!(*kind, "functions" | "layers")
                    && (name.starts_with(STAGE_PREFIX) || (name.ends_with(".zip") && !name.starts_with('.')))
                    && !name.contains(['\\', '\0'])
                    && *name != ".."
            }
            _ => false,
        };
        if !safe {
            miette::bail!(
                "`{JOURNAL_NAME}` in `{}` names `{}`, which is not a file lbuild writes there",
                self.root.display(),
                crate::output::escape_name(&crate::output::shorten(relative))
            );
        }
        Ok(self.root.join(relative))
    }
}

impl Drop for OutDir {
    /// A build that published nothing leaves no output directory it created.
    fn drop(&mut self) {
        if self.published || (self.created.is_empty() && !self.created_lock) {
            return;
        }
        let _ = std::fs::remove_file(self.root.join(LOCK_NAME));
        if self.created.is_empty() {
            return;
        }
        drop(self.lock.take());
        for kind in ["functions", "layers"] {
            let _ = std::fs::remove_dir(self.root.join(kind));
        }
        for dir in &self.created {
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// Refuse an output directory whose own files or zip directories are symbolic links: a
/// checkout could otherwise make a build write, rename or delete files anywhere.
fn refuse_links(root: &Path) -> miette::Result<()> {
    for name in [LOCK_NAME, JOURNAL_NAME, MANIFEST_NAME, STATE_NAME, "functions", "layers"] {
        let path = root.join(name);
        let Ok(meta) = fs_err::symlink_metadata(&path) else { continue };
        if meta.file_type().is_symlink() {
            miette::bail!(
                help =
                    "delete the link (lbuild writes a real file or directory there), or build with another `--out-dir`",
                "`{}` in the output directory is a symbolic link; lbuild does not write through links",
                path.display()
            );
        }
        // A FIFO or device where lbuild keeps one of its files would hang the build.
        let directory = matches!(name, "functions" | "layers");
        if (directory && !meta.is_dir()) || (!directory && !meta.is_file()) {
            miette::bail!(
                help = "delete it (lbuild writes it), or build with another `--out-dir`",
                "`{}` in the output directory is not the {} lbuild writes there",
                path.display(),
                if directory { "directory" } else { "file" }
            );
        }
    }
    Ok(())
}

/// Refuse a directory whose `manifest.json` lbuild did not write (a web app's, an extension's):
/// the build would replace it. One lbuild wrote has `version` and `artifacts`.
fn refuse_foreign_manifest(root: &Path) -> miette::Result<()> {
    #[derive(Deserialize)]
    struct Shape {
        #[allow(dead_code)]
        version: u32,
        #[allow(dead_code)]
        artifacts: Vec<serde_json::Value>,
    }
    let path = root.join(MANIFEST_NAME);
    let Ok(bytes) = fs_err::read(&path) else { return Ok(()) };
    if serde_json::from_slice::<Shape>(&bytes).is_ok() {
        return Ok(());
    }
    miette::bail!(
        help = "build into another `--out-dir` (lbuild writes `manifest.json` there), or remove the file if it is an \
                old build's",
        "`{}` is not a build manifest lbuild wrote, and a build would replace it",
        path.display()
    )
}

/// Take an exclusive lock on `path`, waiting if another lbuild holds it. A lock file another
/// lbuild removed while this one waited (see [`OutDir`]'s `Drop`) is opened again.
fn lock_file(path: &Path, root: &Path) -> miette::Result<std::fs::File> {
    loop {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|err| miette::miette!("cannot open `{}`: {err}", path.display()))?;
        if file.try_lock().is_err() {
            status!("Blocking", "waiting for another lbuild to finish with `{}`", root.display());
            file.lock().map_err(|err| miette::miette!("cannot lock `{}`: {err}", path.display()))?;
        }
        if same_file(&file, path) {
            return Ok(file);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(now)) => held.dev() == now.dev() && held.ino() == now.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &std::fs::File, path: &Path) -> bool {
    // Windows does not let a file that another process holds open be removed.
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(path: &str, sha256: &str) -> Artifact {
        Artifact {
            name: "f".into(),
            kind: "function".into(),
            runtime: "python3.12".into(),
            architecture: "x86_64".into(),
            path: path.into(),
            sha256: crate::cache::sha256_hex(sha256.as_bytes()),
            base64_sha256: String::new(),
            size: 1,
            unzipped_size: 1,
            handler: None,
            layers: None,
            external_layers: Vec::new(),
            s3_bucket: None,
            s3_key: None,
            s3_uri: None,
        }
    }

    fn manifest(artifacts: Vec<Artifact>) -> Vec<u8> {
        BuildManifest { version: MANIFEST_VERSION, artifacts }.to_text().into_bytes()
    }

    #[test]
    fn a_committed_publish_that_was_interrupted_is_completed_by_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        fs_err::create_dir_all(root.join("functions")).unwrap();
        fs_err::write(root.join("functions/a.zip"), b"old a").unwrap();
        fs_err::write(root.join("functions/b.zip"), b"old b").unwrap();
        fs_err::write(
            root.join(MANIFEST_NAME),
            manifest(vec![artifact("functions/a.zip", "A0"), artifact("functions/b.zip", "B0")]),
        )
        .unwrap();
        // Killed after committing the journal and renaming one of two staged zips.
        fs_err::write(root.join("functions/a.zip"), b"new a").unwrap();
        fs_err::write(root.join("functions/.lbuild-stage-b"), b"new b").unwrap();
        let new_manifest = manifest(vec![artifact("functions/a.zip", "A1"), artifact("functions/b.zip", "B1")]);
        let journal = Journal {
            version: 1,
            renames: vec![
                ("functions/.lbuild-stage-a".into(), "functions/a.zip".into()),
                ("functions/.lbuild-stage-b".into(), "functions/b.zip".into()),
            ],
            files: vec![(MANIFEST_NAME.into(), String::from_utf8(new_manifest.clone()).unwrap())],
        };
        fs_err::write(root.join(JOURNAL_NAME), serde_json::to_vec(&journal).unwrap()).unwrap();
        fs_err::write(root.join("functions/.lbuild-stage-orphan"), b"from a build killed before committing").unwrap();

        let out = OutDir::open(&root).unwrap();
        assert_eq!(fs_err::read(root.join("functions/a.zip")).unwrap(), b"new a");
        assert_eq!(fs_err::read(root.join("functions/b.zip")).unwrap(), b"new b");
        assert_eq!(fs_err::read(root.join(MANIFEST_NAME)).unwrap(), new_manifest);
        assert!(!root.join(JOURNAL_NAME).exists());
        assert!(!root.join("functions/.lbuild-stage-orphan").exists());
        drop(out);
        assert!(root.join(MANIFEST_NAME).exists(), "a directory that existed is kept");
    }

    #[test]
    fn publishing_retracts_replaced_artifacts_before_moving_zips() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let mut out = OutDir::open(&root).unwrap();
        let staged = out.stage("functions/a.zip").unwrap();
        std::io::Write::write_all(&mut staged.file(), b"zip a").unwrap();
        out.publish(vec![staged], &[(MANIFEST_NAME, &manifest(vec![artifact("functions/a.zip", "A1")]))]).unwrap();
        drop(out);
        assert_eq!(fs_err::read(root.join("functions/a.zip")).unwrap(), b"zip a");

        // The journal of the next publish, replayed by hand up to the retraction.
        let out = OutDir::open(&root).unwrap();
        let journal = Journal {
            version: 1,
            renames: vec![("functions/.lbuild-stage-x".into(), "functions/a.zip".into())],
            files: Vec::new(),
        };
        out.retract(&journal).unwrap();
        let retracted = BuildManifest::read(&root).unwrap().unwrap();
        assert!(retracted.artifacts.is_empty(), "a zip about to change is not listed: {retracted:?}");
    }

    #[test]
    fn a_failed_build_removes_the_output_directory_it_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("target/lambda");
        let out = OutDir::open(&root).unwrap();
        let staged = out.stage("functions/a.zip").unwrap();
        drop(staged);
        drop(out);
        assert!(!dir.path().join("target").exists());
    }

    #[test]
    fn a_journal_path_outside_the_directory_is_refused_and_nothing_wrong_is_described() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        fs_err::create_dir_all(&root).unwrap();
        fs_err::write(dir.path().join("victim"), b"keep me").unwrap();
        let journal = Journal { version: 1, renames: vec![("../victim".into(), "x.zip".into())], files: Vec::new() };
        fs_err::write(root.join(JOURNAL_NAME), serde_json::to_vec(&journal).unwrap()).unwrap();
        fs_err::write(root.join(MANIFEST_NAME), manifest(vec![artifact("x.zip", "X0")])).unwrap();
        drop(OutDir::open(&root).unwrap());
        assert_eq!(fs_err::read(dir.path().join("victim")).unwrap(), b"keep me");
        assert!(!root.join("x.zip").exists());
        assert!(!root.join(MANIFEST_NAME).exists(), "a manifest that may not match its zips is removed");
        assert!(!root.join(JOURNAL_NAME).exists());
    }
}

#[cfg(all(test, unix))]
mod link_tests {
    use super::*;

    #[test]
    fn links_in_the_output_directory_are_refused_and_the_journal_writes_only_lbuild_files() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs_err::create_dir_all(&victim).unwrap();
        let root = dir.path().join("out");
        fs_err::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(&victim, root.join("functions")).unwrap();
        let err = OutDir::open(&root).err().expect("a linked `functions` is refused");
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        fs_err::remove_file(root.join("functions")).unwrap();

        // A journal from a checkout that writes through a link it planted elsewhere.
        std::os::unix::fs::symlink(&victim, root.join("esc")).unwrap();
        let journal = Journal {
            version: 1,
            renames: vec![("esc/id_rsa".into(), "functions/stolen.zip".into())],
            files: vec![("esc/authorized_keys".into(), "attacker".into())],
        };
        fs_err::write(victim.join("id_rsa"), b"secret").unwrap();
        fs_err::write(root.join(JOURNAL_NAME), serde_json::to_vec(&journal).unwrap()).unwrap();
        drop(OutDir::open(&root).unwrap());
        assert!(!victim.join("authorized_keys").exists());
        assert!(victim.join("id_rsa").exists());
        assert!(!root.join("functions/stolen.zip").exists());
        assert!(!root.join(JOURNAL_NAME).exists());
    }

    #[test]
    fn a_build_that_publishes_nothing_leaves_no_lock_file_in_a_directory_that_existed() {
        let dir = tempfile::tempdir().unwrap();
        drop(OutDir::open(dir.path()).unwrap());
        assert!(!dir.path().join(LOCK_NAME).exists(), "it would mark the directory as an output directory");
        let mut out = OutDir::open(dir.path()).unwrap();
        out.publish(Vec::new(), &[(MANIFEST_NAME, b"{}")]).unwrap();
        drop(out);
        assert!(dir.path().join(LOCK_NAME).exists());
    }
}

#[cfg(test)]
mod foreign_tests {
    use super::*;

    #[test]
    fn a_manifest_lbuild_did_not_write_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = br#"{"manifest_version": 3, "name": "my extension"}"#;
        fs_err::write(dir.path().join(MANIFEST_NAME), theirs).unwrap();
        let err = OutDir::open(dir.path()).err().expect("refused");
        assert!(err.to_string().contains("is not a build manifest lbuild wrote"), "{err}");
        assert_eq!(fs_err::read(dir.path().join(MANIFEST_NAME)).unwrap(), theirs);
        assert!(!dir.path().join(LOCK_NAME).exists());
        // One lbuild wrote, even of another version, is its to replace.
        fs_err::write(dir.path().join(MANIFEST_NAME), br#"{"version": 2, "artifacts": []}"#).unwrap();
        drop(OutDir::open(dir.path()).unwrap());
    }
}

#[cfg(all(test, unix))]
mod kind_tests {
    use super::*;

    #[test]
    fn a_fifo_or_directory_where_lbuild_keeps_a_file_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join(JOURNAL_NAME);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let err = OutDir::open(dir.path()).err().expect("refused");
        assert!(err.to_string().contains("is not the file lbuild writes there"), "{err}");
        fs_err::remove_file(&fifo).unwrap();
        fs_err::create_dir_all(dir.path().join(MANIFEST_NAME)).unwrap();
        assert!(OutDir::open(dir.path()).is_err());
    }
}
