//! Which files of a function's or layer's `source` directories go into its zip, and why the
//! others do not. Each directory is selected on its own (the rules below, `include` and
//! `exclude` relative to it), then [`merge_sources`] merges them into one tree: no two
//! directories may give one path.
//!
//! The walk uses the `ignore` crate's sorted walker with lbuild's own filter, so that every
//! file left out has a reason `lbuild build --list-files -v` can show, and whole directories
//! (`node_modules/`, `.git/`, an output directory) are left out without being read. In the
//! order they are checked:
//!
//! 1. never taken, whatever `include` says: an lbuild output directory (the configured one, or
//!    any directory holding `.lbuild-state.json` or `.lbuild-lock`), a cache directory (the
//!    current lbuild cache, or any directory holding `CACHEDIR.TAG`), a virtual environment
//!    (a directory holding `pyvenv.cfg`), the workspace's `lambda.toml` and `lambda.lock`,
//!    [`ALWAYS_LEFT_OUT_DIRS`] and [`ALWAYS_LEFT_OUT_FILES`];
//! 2. the function's `exclude` globs;
//! 3. `.gitignore` and `.ignore` files (`.ignore` wins), inside the source directory and in its
//!    parents up to the git repository's root (or the workspace root outside a repository),
//!    whether or not the tree is a git checkout. Git's global excludes and `.git/info/exclude`
//!    are not read: they differ between machines, and the same checkout must give the same zip;
//! 4. dotfiles and dot-directories, unless an `include` glob names a dot component
//!    (`.well-known/**`, `**/.htaccess`) and matches;
//! 5. with `include` globs, files that match none.
//!
//! A symbolic link to a directory is skipped with a warning. A symbolic link to a file is taken
//! as the file it points to only when that file is itself taken (inside the source directory and
//! not left out); any other link to a file, or a broken link, is an error that names it: lbuild
//! never follows a link out of the source directory, so a checkout cannot smuggle
//! `~/.aws/credentials` or a left-out `.env` into a zip under another name.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::GlobSet;
use ignore::Match;
use ignore::gitignore::Gitignore;

use super::{AssembleError, glob_set, io_error};
use crate::output::warn_user;
use crate::zipio::entry_name_problem;

/// Directory names never copied from a source tree, at any depth.
pub(crate) const ALWAYS_LEFT_OUT_DIRS: &[&str] = &[
    "__pycache__",
    "node_modules",
    ".git",
    ".hg",
    ".svn",
    ".venv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
];

/// File globs (matched against the file name) never copied from a source tree.
pub(crate) const ALWAYS_LEFT_OUT_FILES: &[&str] = &["*.pyc", "*.pyo", ".DS_Store", ".lbuild-tmp-*"];

/// Files whose presence marks a directory lbuild never copies from, and why.
const MARKERS: &[(&str, Reason)] = &[
    (".lbuild-state.json", Reason::OutputDirectory),
    (".lbuild-lock", Reason::OutputDirectory),
    ("CACHEDIR.TAG", Reason::Cache),
    ("pyvenv.cfg", Reason::VirtualEnvironment),
];

/// One source directory of a function or layer.
#[derive(Debug, Clone)]
pub(crate) struct SourceInput {
    pub root: PathBuf,
    /// As written in `lambda.toml` (`functions/api`), for messages and listings.
    pub shown: String,
    /// The line of `lambda.toml` that names it.
    pub line: usize,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// The workspace root: `.gitignore` files between it and `root` apply too (outside a git
    /// repository).
    pub workspace_root: PathBuf,
    /// Directories (the output directory, the cache) and files (`lambda.toml`, `lambda.lock`)
    /// never taken, with the reason shown for them.
    pub never: Vec<(PathBuf, Reason)>,
}

/// One file of a source tree, as it will appear in the zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFile {
    /// Path in the zip (without any prefix): `vendor/` is merged into the root.
    pub name: String,
    /// Path relative to the source directory, with `/` (`vendor/x.py` for a vendored file).
    pub relative: String,
    /// The source directory as written in `lambda.toml`.
    pub dir: String,
    pub path: PathBuf,
    pub size: u64,
    pub executable: bool,
    /// Modification time in nanoseconds, for change detection only (never written).
    pub modified: u128,
}

/// Why a source file or directory is not in the zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reason {
    OutputDirectory,
    Cache,
    VirtualEnvironment,
    WorkspaceFile,
    AlwaysLeftOut,
    Exclude,
    Ignored,
    Dotfile,
    NotIncluded,
    Shadowed,
    DirectoryLink,
}

impl Reason {
    /// A stable name for JSON.
    pub fn code(self) -> &'static str {
        match self {
            Reason::OutputDirectory => "output-directory",
            Reason::Cache => "cache",
            Reason::VirtualEnvironment => "virtual-environment",
            Reason::WorkspaceFile => "workspace-file",
            Reason::AlwaysLeftOut => "always-left-out",
            Reason::Exclude => "exclude",
            Reason::Ignored => "ignore-file",
            Reason::Dotfile => "dotfile",
            Reason::NotIncluded => "not-included",
            Reason::Shadowed => "shadowed",
            Reason::DirectoryLink => "directory-link",
        }
    }
}

/// A file or directory of the source tree that is not in the zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// The source directory as written in `lambda.toml`.
    pub dir: String,
    /// Relative to the source directory, with `/`; directories end with `/`.
    pub path: String,
    pub reason: Reason,
    /// What decided it, for people: the glob, the ignore file, the marker file.
    pub detail: String,
}

/// What the source tree gives a zip.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceSelection {
    /// Sorted by name in the zip.
    pub files: Vec<SourceFile>,
    /// Sorted by path.
    pub left_out: Vec<LeftOut>,
}

/// The files of a function's source directory that go into its zip, and those left out.
pub(crate) fn source_files(source: &SourceInput) -> Result<SourceSelection, AssembleError> {
    let root = fs_err::canonicalize(&source.root).map_err(|err| io_error("reading the source tree", err))?;
    let rules = Arc::new(Rules::new(source, &root));
    let left_out = Arc::new(Mutex::new(Vec::<LeftOut>::new()));
    let mut builder = ignore::WalkBuilder::new(&root);
    builder.standard_filters(false).follow_links(false).sort_by_file_name(|a, b| a.cmp(b));
    {
        let rules = rules.clone();
        let left_out = left_out.clone();
        builder.filter_entry(move |entry| match rules.judge(entry) {
            None => true,
            Some(left) => {
                left_out.lock().unwrap_or_else(|err| err.into_inner()).push(left);
                false
            }
        });
    }
    let mut taken: Vec<(String, PathBuf, bool)> = Vec::new();
    for entry in builder.build() {
        let entry = entry.map_err(|err| io_error("reading the source tree", err))?;
        if entry.depth() == 0 || entry.file_type().is_some_and(|kind| kind.is_dir()) {
            continue;
        }
        if !entry.path_is_symlink() && !entry.file_type().is_some_and(|kind| kind.is_file()) {
            // A FIFO, socket or device: reading it could block or never end.
            let shown = escaped(&entry.path().display().to_string());
            warn_user!("skipping `{shown}`: it is not a regular file");
            let path = entry.path().strip_prefix(&root).unwrap_or(entry.path()).to_string_lossy().into_owned();
            left_out.lock().unwrap_or_else(|err| err.into_inner()).push(LeftOut {
                dir: source.shown.clone(),
                path,
                reason: Reason::AlwaysLeftOut,
                detail: "not a regular file".to_string(),
            });
            continue;
        }
        let relative = relative_name(&root, entry.path())?;
        taken.push((relative, entry.path().to_path_buf(), entry.path_is_symlink()));
    }
    let mut left_out = std::mem::take(&mut *left_out.lock().unwrap_or_else(|err| err.into_inner()));

    // Links are resolved once every real file is known: a link is taken only as a file that is.
    let real: BTreeSet<PathBuf> = taken.iter().filter(|(_, _, link)| !link).map(|(_, path, _)| path.clone()).collect();
    for (relative, path, link) in &taken {
        if !link {
            continue;
        }
        let hint = format!(
            "copy the file into the source directory, or leave the link out with `exclude = [\"{}\"]`",
            glob_for(relative)
        );
        let target = fs_err::canonicalize(path).map_err(|_| AssembleError::Source {
            message: format!("the source file `{}` is a broken symbolic link", escaped(&path.display().to_string())),
            help: hint.clone(),
        })?;
        if !real.contains(&target) {
            let why = if target.starts_with(&root) {
                "to a file that is left out of the zip"
            } else {
                "out of the source directory"
            };
            return Err(AssembleError::Source {
                message: format!(
                    "the source file `{}` is a symbolic link {why} (`{}`); lbuild does not follow it",
                    escaped(&path.display().to_string()),
                    escaped(&target.display().to_string())
                ),
                help: hint,
            });
        }
    }

    // Own files first, so they win over vendored files of the same name.
    let mut by_name: BTreeMap<String, SourceFile> = BTreeMap::new();
    let (vendored, own): (Vec<_>, Vec<_>) =
        taken.into_iter().partition(|(relative, _, _)| relative.starts_with("vendor/"));
    for (relative, path, _) in own.into_iter().chain(vendored) {
        let name = relative.strip_prefix("vendor/").unwrap_or(&relative).to_string();
        if let Some(why) = entry_name_problem(&name) {
            return Err(AssembleError::Source {
                message: format!(
                    "the source file `{}` cannot go into a zip: {why}",
                    escaped(&path.display().to_string())
                ),
                help: format!("rename it, or leave it out with `exclude = [\"{}\"]`", glob_for(&relative)),
            });
        }
        if let Some(own) = by_name.get(&name) {
            warn_user!(
                "`{}` is both your own `{}` and vendored `{}`; keeping your own",
                escaped(&name),
                own.relative,
                escaped(&relative)
            );
            left_out.push(LeftOut {
                dir: source.shown.clone(),
                path: relative,
                reason: Reason::Shadowed,
                detail: format!("by `{}`", own.relative),
            });
            continue;
        }
        let metadata = fs_err::metadata(&path).map_err(|err| io_error("reading the source tree", err))?;
        #[cfg(unix)]
        let executable = std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o111 != 0;
        #[cfg(not(unix))]
        let executable = false;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |duration| duration.as_nanos());
        let dir = source.shown.clone();
        by_name
            .insert(name.clone(), SourceFile { name, relative, dir, path, size: metadata.len(), executable, modified });
    }
    left_out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(SourceSelection { files: by_name.into_values().collect(), left_out })
}

/// The files of a member's source directories merged into one tree, `selections[i]` being what
/// `source_files(&inputs[i])` selected. Every directory's own files go to the root, then every
/// directory's `vendor/`: an own file shadows a vendored file of the same name (with a warning,
/// as within one directory), and two own files, or two vendored files, of different directories
/// on one path are an error that names both and the lines of `lambda.toml` that list them.
/// `member` is the member in words (`function `api``).
pub(crate) fn merge_sources(
    member: &str,
    inputs: &[SourceInput],
    selections: Vec<SourceSelection>,
) -> Result<SourceSelection, AssembleError> {
    let mut left_out: Vec<LeftOut> = Vec::new();
    let mut files: Vec<SourceFile> = Vec::new();
    for selection in selections {
        files.extend(selection.files);
        left_out.extend(selection.left_out);
    }
    let line_of = |dir: &str| inputs.iter().find(|input| input.shown == dir).map_or(0, |input| input.line);
    let (vendored, own): (Vec<_>, Vec<_>) = files.into_iter().partition(|file| file.relative.starts_with("vendor/"));
    let mut by_name: BTreeMap<String, SourceFile> = BTreeMap::new();
    for file in own.into_iter().chain(vendored) {
        let Some(existing) = by_name.get(&file.name) else {
            by_name.insert(file.name.clone(), file);
            continue;
        };
        let existing_vendored = existing.relative.starts_with("vendor/");
        if !existing_vendored && file.relative.starts_with("vendor/") {
            warn_user!(
                "`{}` is both your own `{}` and vendored `{}`; keeping your own",
                escaped(&file.name),
                escaped(&shown_path(&existing.dir, &existing.relative)),
                escaped(&shown_path(&file.dir, &file.relative))
            );
            left_out.push(LeftOut {
                dir: file.dir.clone(),
                path: file.relative.clone(),
                reason: Reason::Shadowed,
                detail: format!("by `{}`", shown_path(&existing.dir, &existing.relative)),
            });
            continue;
        }
        let (first, second) = (line_of(&existing.dir), line_of(&file.dir));
        let lines = if first == second {
            format!("line {first} of lambda.toml lists both directories")
        } else {
            format!("lines {first} and {second} of lambda.toml list the directories")
        };
        return Err(AssembleError::Source {
            message: format!(
                "{member}: `{}` and `{}` both go to `{}` in the zip",
                escaped(&shown_path(&existing.dir, &existing.relative)),
                escaped(&shown_path(&file.dir, &file.relative)),
                escaped(&file.name)
            ),
            help: format!(
                "every source directory's files go to the zip root ({lines}): rename or remove one of the files, \
                 or leave one out with a `.ignore` file in its directory (`include` and `exclude` apply to every \
                 source directory alike)"
            ),
        });
    }
    Ok(SourceSelection { files: by_name.into_values().collect(), left_out })
}

/// A source file's path for people: its directory as written joined with its path there
/// (`shared/py/util.py`), or the path alone for the workspace root (`.`).
pub(crate) fn shown_path(dir: &str, relative: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." { relative.to_string() } else { format!("{dir}/{relative}") }
}

/// A name for messages: control characters (terminal escapes) shown escaped.
pub(crate) fn escaped(name: &str) -> String {
    crate::output::escape_name(name)
}

/// A glob that matches `path`, for hints, written so it can be pasted into a TOML string: each
/// character a glob or TOML would read specially (or a terminal would obey) becomes `?`.
fn glob_for(path: &str) -> String {
    path.chars()
        .map(|c| if c.is_control() || matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '"') { '?' } else { c })
        .collect()
}

/// The path of `path` relative to `root`, `/`-separated, or an error for a name that is not
/// UTF-8 (a zip entry name must be).
fn relative_name(root: &Path, path: &Path) -> Result<String, AssembleError> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut parts = Vec::new();
    for component in relative.components() {
        let Some(part) = component.as_os_str().to_str() else {
            return Err(AssembleError::Source {
                message: format!("the source file `{}` has a name that is not UTF-8", path.display()),
                help: "a zip entry name must be UTF-8: rename it, or leave it out with `exclude`".to_string(),
            });
        };
        parts.push(part);
    }
    Ok(parts.join("/"))
}

/// The selection rules of one source tree.
struct Rules {
    root: PathBuf,
    /// The directory as written, for what is left out.
    shown: String,
    never: Vec<(PathBuf, Reason)>,
    always_files: GlobSet,
    exclude: GlobSet,
    exclude_patterns: Vec<String>,
    include: Option<GlobSet>,
    /// The `include` globs that name a dot component: they take dotfiles back.
    dot_include: Option<GlobSet>,
    /// The ignore files of the directories above the source root that apply, deepest last.
    parents: Vec<PathBuf>,
    /// The `.ignore` and `.gitignore` matchers of each directory, built once.
    matchers: Mutex<HashMap<PathBuf, Arc<(Gitignore, Gitignore)>>>,
}

impl Rules {
    fn new(source: &SourceInput, root: &Path) -> Rules {
        let never = source
            .never
            .iter()
            .filter_map(|(path, reason)| std::fs::canonicalize(path).ok().map(|path| (path, *reason)))
            .collect();
        let names_dot =
            |pattern: &&String| pattern.split('/').any(|part| part.starts_with('.') && part != "." && part != "..");
        let dot_include: Vec<String> = source.include.iter().filter(names_dot).cloned().collect();
        let always: Vec<String> = ALWAYS_LEFT_OUT_FILES.iter().map(|s| s.to_string()).collect();
        Rules {
            root: root.to_path_buf(),
            shown: source.shown.clone(),
            never,
            always_files: glob_set(&always),
            exclude: glob_set(&source.exclude),
            exclude_patterns: source.exclude.clone(),
            include: (!source.include.is_empty()).then(|| glob_set(&source.include)),
            dot_include: (!dot_include.is_empty()).then(|| glob_set(&dot_include)),
            parents: parent_dirs(root, &source.workspace_root),
            matchers: Mutex::new(HashMap::new()),
        }
    }

    /// Why an entry is left out, or `None` to take it (a file) or walk into it (a directory).
    fn judge(&self, entry: &ignore::DirEntry) -> Option<LeftOut> {
        if entry.depth() == 0 {
            return None;
        }
        let path = entry.path();
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        let shown = relative.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
        let name = entry.file_name().to_string_lossy();
        let link = entry.path_is_symlink();
        let is_dir = !link && entry.file_type().is_some_and(|kind| kind.is_dir());
        let left = |reason: Reason, detail: String| {
            let path =
                if is_dir || (link && reason == Reason::DirectoryLink) { format!("{shown}/") } else { shown.clone() };
            Some(LeftOut { dir: self.shown.clone(), path, reason, detail })
        };
        if let Some((_, reason)) = self.never.iter().find(|(never, _)| never == path) {
            let detail = match reason {
                Reason::OutputDirectory => "the build's output directory",
                Reason::Cache => "lbuild's cache",
                _ => "the workspace's own file",
            };
            return left(*reason, detail.to_string());
        }
        if link && std::fs::metadata(path).is_ok_and(|meta| meta.is_dir()) {
            warn_user!(
                "skipping `{}`: lbuild does not follow links to directories",
                escaped(&path.display().to_string())
            );
            return left(Reason::DirectoryLink, "a symbolic link to a directory".to_string());
        }
        if is_dir {
            for (marker, reason) in MARKERS {
                if path.join(marker).exists() {
                    return left(*reason, format!("holds `{marker}`"));
                }
            }
            if ALWAYS_LEFT_OUT_DIRS.contains(&name.as_ref()) {
                return left(Reason::AlwaysLeftOut, format!("`{name}/` is never copied"));
            }
            // A glob that names a directory (`tests`, `build/`) leaves out all of it, as in
            // `.gitignore`.
            let spellings = [shown.to_string(), format!("{shown}/"), format!("/{shown}"), format!("/{shown}/")];
            if let Some(index) = spellings.iter().find_map(|spelling| self.exclude.matches(spelling).into_iter().next())
            {
                let glob = self.exclude_patterns.get(index).map_or("", String::as_str);
                return left(Reason::Exclude, format!("`exclude` glob `{}`", escaped(glob)));
            }
        } else {
            if self.always_files.is_match(name.as_ref()) {
                return left(Reason::AlwaysLeftOut, format!("`{name}` is never copied"));
            }
            let rooted = format!("/{shown}");
            if let Some(index) = self.exclude.matches(&shown).into_iter().chain(self.exclude.matches(&rooted)).next() {
                let glob = self.exclude_patterns.get(index).map_or("", String::as_str);
                return left(Reason::Exclude, format!("`exclude` glob `{}`", escaped(glob)));
            }
        }
        if let Some(file) = self.ignored(path, is_dir) {
            return left(Reason::Ignored, format!("ignored by `{}`", escaped(&file)));
        }
        let dotted = relative.components().any(|part| part.as_os_str().to_string_lossy().starts_with('.'));
        if dotted {
            match &self.dot_include {
                // Walk into a dot-directory an `include` glob may reach into.
                Some(_) if is_dir => return None,
                Some(globs) if globs.is_match(&shown) => return None,
                _ => {
                    let what = if is_dir {
                        "a dot-directory"
                    } else if name.starts_with('.') {
                        "a dotfile"
                    } else {
                        "in a dot-directory"
                    };
                    return left(Reason::Dotfile, format!("{what}, left out unless an `include` glob names it"));
                }
            }
        }
        if !is_dir
            && let Some(include) = &self.include
            && !include.is_match(&shown)
        {
            return left(Reason::NotIncluded, "no `include` glob matches".to_string());
        }
        None
    }

    /// The ignore file that leaves `path` out, if one does: the deepest `.ignore` that matches
    /// decides, else the deepest `.gitignore`, as ripgrep does.
    fn ignored(&self, path: &Path, is_dir: bool) -> Option<String> {
        let mut dirs: Vec<PathBuf> = self.parents.clone();
        let parent = path.parent()?;
        let mut chain: Vec<&Path> = parent.ancestors().take_while(|dir| dir.starts_with(&self.root)).collect();
        chain.reverse();
        dirs.extend(chain.into_iter().map(Path::to_path_buf));
        let matchers: Vec<Arc<(Gitignore, Gitignore)>> = dirs.iter().map(|dir| self.matchers_of(dir)).collect();
        for pick in [0, 1] {
            for pair in matchers.iter().rev() {
                let matcher = if pick == 0 { &pair.0 } else { &pair.1 };
                match matcher.matched(path, is_dir) {
                    Match::None => continue,
                    Match::Whitelist(_) => return None,
                    Match::Ignore(glob) => {
                        let file = glob.from().unwrap_or(Path::new(if pick == 0 { ".ignore" } else { ".gitignore" }));
                        let file = file.strip_prefix(&self.root).unwrap_or(file);
                        return Some(file.display().to_string());
                    }
                }
            }
        }
        None
    }

    fn matchers_of(&self, dir: &Path) -> Arc<(Gitignore, Gitignore)> {
        let mut cache = self.matchers.lock().unwrap_or_else(|err| err.into_inner());
        cache
            .entry(dir.to_path_buf())
            .or_insert_with(|| {
                let read = |name: &str| {
                    let file = dir.join(name);
                    if file.is_file() { Gitignore::new(&file).0 } else { Gitignore::empty() }
                };
                Arc::new((read(".ignore"), read(".gitignore")))
            })
            .clone()
    }
}

/// The directories above `root` whose ignore files apply to it, outermost first: up to the
/// git repository's root when `root` is in one, else up to the workspace root.
fn parent_dirs(root: &Path, workspace_root: &Path) -> Vec<PathBuf> {
    let top = root
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
        .or_else(|| std::fs::canonicalize(workspace_root).ok().filter(|top| root.starts_with(top)));
    let Some(top) = top else { return Vec::new() };
    let mut dirs: Vec<PathBuf> =
        root.ancestors().skip(1).take_while(|dir| dir.starts_with(&top)).map(Path::to_path_buf).collect();
    dirs.reverse();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(root: &Path, shown: &str, line: usize) -> SourceInput {
        SourceInput {
            root: root.join(shown),
            shown: shown.to_string(),
            line,
            include: Vec::new(),
            exclude: Vec::new(),
            workspace_root: root.to_path_buf(),
            never: Vec::new(),
        }
    }

    fn write(root: &Path, files: &[&str]) {
        for file in files {
            let path = root.join(file);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, file.as_bytes()).unwrap();
        }
    }

    fn merge(root: &Path, dirs: &[(&str, usize)]) -> Result<SourceSelection, AssembleError> {
        let inputs: Vec<SourceInput> = dirs.iter().map(|(dir, line)| input(root, dir, *line)).collect();
        let selections = inputs.iter().map(|input| source_files(input).unwrap()).collect();
        merge_sources("function `api`", &inputs, selections)
    }

    #[test]
    fn several_directories_merge_own_files_first_and_refuse_a_path_given_twice() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, &["a/app.py", "a/vendor/v.py", "b/lib/x.py", "b/vendor/app.py", "b/.env"]);
        let merged = merge(root, &[("a", 3), ("b", 4)]).unwrap();
        let files: Vec<(String, String, String)> =
            merged.files.iter().map(|file| (file.name.clone(), file.dir.clone(), file.relative.clone())).collect();
        let triple = |name: &str, dir: &str, relative: &str| (name.to_string(), dir.to_string(), relative.to_string());
        assert_eq!(
            files,
            [triple("app.py", "a", "app.py"), triple("lib/x.py", "b", "lib/x.py"), triple("v.py", "a", "vendor/v.py")]
        );
        let left: Vec<(String, String, Reason)> =
            merged.left_out.iter().map(|left| (left.dir.clone(), left.path.clone(), left.reason)).collect();
        assert!(left.contains(&("b".to_string(), ".env".to_string(), Reason::Dotfile)), "{left:?}");
        assert!(left.contains(&("b".to_string(), "vendor/app.py".to_string(), Reason::Shadowed)), "{left:?}");

        // Own files on one path, then vendored ones.
        write(root, &["b/app.py"]);
        let err = merge(root, &[("a", 3), ("b", 4)]).unwrap_err();
        let text = format!("{err} {}", miette::Diagnostic::help(&err).unwrap());
        assert!(text.contains("function `api`: `a/app.py` and `b/app.py` both go to `app.py`"), "{text}");
        assert!(text.contains("lines 3 and 4 of lambda.toml"), "{text}");
        fs_err::remove_file(root.join("b/app.py")).unwrap();
        write(root, &["b/vendor/v.py"]);
        let err = merge(root, &[("a", 7), ("b", 7)]).unwrap_err();
        let text = format!("{err} {}", miette::Diagnostic::help(&err).unwrap());
        assert!(text.contains("`a/vendor/v.py` and `b/vendor/v.py` both go to `v.py`"), "{text}");
        assert!(text.contains("line 7 of lambda.toml lists both"), "{text}");
        // The workspace root is shown without a `./` prefix.
        assert_eq!(shown_path(".", "app.py"), "app.py");
        assert_eq!(shown_path("shared/py/", "x.py"), "shared/py/x.py");
    }
}
