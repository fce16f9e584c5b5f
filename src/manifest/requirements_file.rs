//! Requirements read from a `requirements.txt` or a `pyproject.toml`.
//!
//! `requirements.txt` support follows pip's file format where it bears on a lock: one PEP 508
//! requirement per line, `#` comments, `\` continuations, `-r FILE` includes and `-c FILE`
//! constraints (both relative to the file that names them), `--hash` on a requirement line
//! (checked against the lock's files, see `session::lock`), and local projects (`-e PATH` and
//! bare paths such as `./libs/common`), returned apart for the caller to turn into local
//! packages. Every other pip option is ignored with a warning that says why: the indexes come
//! from `lambda.toml`, lbuild installs wheels only, and every file is pinned by sha256 in
//! `lambda.lock`.
//!
//! `pyproject.toml` support reads `[project].dependencies`, the extras of
//! `[project.optional-dependencies]` and the PEP 735 groups of `[dependency-groups]` a member
//! selects, and `[project].requires-python`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::{ExtraName, MarkerTree, Requirement};

use super::ManifestError;
use crate::output::shorten;
use crate::python::wheel_name::normalize_name;

/// What a requirements file (with what it includes) asks for.
#[derive(Debug, Clone, Default)]
pub struct RequirementsFile {
    /// The requirements, in the order written (includes in place).
    pub requirements: Vec<Requirement>,
    /// The `-c` constraints: they restrict the versions of a package the resolution holds for
    /// another reason, and never add one.
    pub constraints: Vec<Constraint>,
    /// The `--hash` options of requirement and constraint lines.
    pub hashes: Vec<HashPin>,
    /// Local projects: `-e PATH`, bare paths (`./libs/common`) and `name @ file:...` lines.
    pub local_paths: Vec<LocalPath>,
    /// Warnings for the options lbuild ignores, each naming the file and line, to show once.
    pub warnings: Vec<String>,
}

/// A line of a requirements file, for messages and span errors that point at it.
#[derive(Clone)]
pub struct LineOrigin {
    /// The file, as lbuild opened it.
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// The byte range of the line in the file's text.
    pub span: Range<usize>,
    text: Arc<String>,
}

impl fmt::Debug for LineOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

impl fmt::Display for LineOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} of `{}`", self.line, crate::fsutil::absolute_normalized(&self.file).display())
    }
}

impl LineOrigin {
    /// The line of `text` (read from `file`) that holds `span`, for a file other than a
    /// requirements file that names a local path (a Poetry or Pipenv path dependency).
    pub(crate) fn at(file: &Path, text: &Arc<String>, span: Range<usize>) -> LineOrigin {
        LineOrigin { file: file.to_path_buf(), line: super::error::line_of(text, span.start), span, text: text.clone() }
    }

    /// `line N of `FILE``, the file relative to `root` (the workspace) when it is inside.
    pub fn describe_in(&self, root: &Path) -> String {
        let file = crate::fsutil::absolute_normalized(&self.file);
        format!("line {} of `{}`", self.line, crate::fsutil::relative(&crate::fsutil::absolute_normalized(root), &file))
    }

    /// An error pointing at this line; the message gets `(line N of `FILE`)`.
    pub fn error(&self, message: String, label: &str, help: Option<String>) -> ManifestError {
        ManifestError::at(
            &self.file.display().to_string(),
            &self.text,
            self.span.clone(),
            format!("{message} ({self})"),
            label,
            help,
        )
    }
}

/// A `-c` constraint line.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub requirement: Requirement,
    pub origin: LineOrigin,
}

/// The `--hash` options of one line: the file locked for the package must have one of them.
#[derive(Debug, Clone)]
pub struct HashPin {
    /// The requirement of the line (its name and markers say where the check applies).
    pub requirement: Requirement,
    /// Lower-case sha256 hex digests.
    pub sha256: Vec<String>,
    /// A constraint line's hash applies only when the package is in the resolution.
    pub constraint: bool,
    pub origin: LineOrigin,
}

/// A local project a requirements file names.
#[derive(Debug, Clone)]
pub struct LocalPath {
    /// The path as written (after `-e` and `file:`).
    pub written: String,
    /// `written` joined to the directory of the requirements file (inside the workspace, and
    /// existing, when the parser returns it; not canonicalized).
    pub path: PathBuf,
    /// `-e PATH` / `--editable PATH` (lbuild installs a copy either way: a zip cannot link).
    pub editable: bool,
    /// The name a `name @ file:...` line gives, normalized.
    pub name: Option<String>,
    /// `./libs/common[aws]`
    pub extras: Vec<ExtraName>,
    /// `./libs/common ; python_version >= "3.11"`
    pub marker: MarkerTree,
    pub origin: LineOrigin,
}

/// Parse requirements-file text read from `path`; includes must stay inside the directory
/// that holds it.
pub(crate) fn parse_requirements_txt(text: &str, path: &Path) -> Result<RequirementsFile, ManifestError> {
    parse_requirements_txt_in(text, path, path.parent().unwrap_or(Path::new(".")))
}

/// Parse requirements-file text read from `path`; `-r`/`-c` includes and local paths must stay
/// inside `root` (the workspace), links included, since the file may come from an untrusted
/// change.
pub(crate) fn parse_requirements_txt_in(
    text: &str,
    path: &Path,
    root: &Path,
) -> Result<RequirementsFile, ManifestError> {
    let mut parser =
        Parser { root, files: MAX_INCLUDED_FILES, warned: 0, unwarned: 0, out: RequirementsFile::default() };
    parser.parse(text, path, 0, Mode::Requirements)?;
    if parser.unwarned > 0 {
        parser.out.warnings.push(format!(
            "ignored {} more option lines in `{}` and the files it includes",
            parser.unwarned,
            path.display()
        ));
    }
    Ok(parser.out)
}

/// How many files one requirements file may pull in with `-r` and `-c`, counting repeats: real
/// ones include a handful; a few kilobytes of includes that fan out must not take minutes.
const MAX_INCLUDED_FILES: usize = 256;

/// How many ignored options are warned about one by one; the rest are counted, so a file that
/// is not a requirements file is not echoed line after line.
const MAX_OPTION_WARNINGS: usize = 8;

/// Whether lines are requirements or (in a `-c` file and what it includes) constraints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Requirements,
    Constraints,
}

struct Parser<'a> {
    root: &'a Path,
    /// Files that may still be included.
    files: usize,
    warned: usize,
    unwarned: usize,
    out: RequirementsFile,
}

/// The logical lines of a requirements file (continuations joined), each with its start.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    let mut pending: Option<(usize, String)> = None;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let (start, mut accumulated) = pending.take().unwrap_or((offset, String::new()));
        if let Some(stripped) = line.strip_suffix('\\') {
            accumulated.push_str(stripped);
            pending = Some((start, accumulated));
        } else {
            accumulated.push_str(line);
            logical.push((start, accumulated));
        }
        offset += raw.len();
    }
    if let Some(rest) = pending {
        logical.push(rest);
    }
    logical
}

/// A line without its comment: `#` at the start or after whitespace, as pip reads it.
pub(crate) fn strip_comment(line: &str) -> &str {
    let mut previous_space = true;
    for (at, c) in line.char_indices() {
        if c == '#' && previous_space {
            return &line[..at];
        }
        previous_space = c.is_whitespace();
    }
    line
}

/// An option line's name and value: `--name=value`, `--name value`, `-xvalue`, `-x value`.
fn split_option(content: &str) -> (&str, &str) {
    if content.starts_with("--") {
        let end = content.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(content.len());
        let rest = &content[end..];
        let value = rest.strip_prefix('=').unwrap_or(rest).trim();
        (&content[..end], value)
    } else {
        let end = content.char_indices().nth(2).map_or(content.len(), |(at, _)| at);
        (&content[..end], content[end..].trim_start_matches('=').trim())
    }
}

/// Why lbuild ignores a pip option, or `None` for one it does not know.
fn ignored_because(option: &str) -> Option<&'static str> {
    Some(match option {
        "-i" | "--index-url" | "--extra-index-url" | "--no-index" => {
            "lbuild takes its indexes from lambda.toml (`[workspace] index-url`, `[[workspace.index]]`) or \
             `LBUILD_INDEX_URL`, so that every function locks from the same ones"
        }
        "-f" | "--find-links" => {
            "lbuild takes directories of wheels from `[workspace] find-links` in lambda.toml (relative to lambda.toml)"
        }
        "--trusted-host" => {
            "lbuild takes its indexes, and so their hosts, from lambda.toml, and never turns certificate checks off"
        }
        "--no-binary" => {
            "lbuild installs wheels only and never builds from source: a package without a usable wheel is \
             locked as a gap (see `lbuild gaps`), so `--no-binary` cannot be honoured"
        }
        "--only-binary" => {
            "lbuild installs wheels only already (a package without one is a gap), so this changes nothing"
        }
        "--prefer-binary" => {
            "lbuild prefers wheels already: it locks the newest version that has a wheel for the target"
        }
        "--pre" => "lbuild takes the pre-release mode from `prerelease` in `[workspace]` of lambda.toml",
        "--require-hashes" => {
            "lbuild checks every `--hash` given against the lock, and lambda.lock pins every file it installs by \
             sha256, but lines without a hash are not refused"
        }
        "--use-feature" | "--use-deprecated" => "pip's feature switches mean nothing to lbuild",
        "--global-option" | "--config-settings" | "-C" | "--install-option" | "--no-build-isolation" => {
            "lbuild builds nothing from source, so build options have no effect"
        }
        "--no-deps" => "lbuild always resolves and installs dependencies (a zip needs them)",
        "--hash" => {
            "a hash belongs on the line of the requirement it checks (`NAME==VERSION --hash=sha256:...`), so this \
             one checks nothing"
        }
        _ => return None,
    })
}

/// Whether a pip option takes a value (`--no-binary :all:`), as opposed to a flag (`--pre`).
fn takes_value(option: &str) -> bool {
    matches!(
        option,
        "-i" | "--index-url"
            | "--extra-index-url"
            | "-f"
            | "--find-links"
            | "--trusted-host"
            | "--no-binary"
            | "--only-binary"
            | "--use-feature"
            | "--use-deprecated"
            | "--global-option"
            | "--config-settings"
            | "-C"
            | "--install-option"
    )
}

/// Whether a requirement line names a path rather than a PEP 508 requirement, as pip tells
/// them apart: a `file:` URL, `.`/`..`, something with a path separator and no `@`, or an
/// archive name.
fn looks_like_path(text: &str) -> bool {
    if text.starts_with("file:") {
        return true;
    }
    let head = text.split(';').next().unwrap_or(text).trim();
    let head = match head.rfind('[') {
        Some(at) if head.ends_with(']') => &head[..at],
        _ => head,
    };
    if head.contains('@') {
        return false;
    }
    head == "."
        || head == ".."
        || head.contains('/')
        || head.contains('\\')
        || [".whl", ".tar.gz", ".zip"].iter().any(|suffix| head.ends_with(suffix))
}

/// The path a `file:` URL names (`file:///abs`, `file://localhost/abs`, `file:relative`).
fn file_url_path(text: &str) -> Result<String, String> {
    let Some(rest) = text.strip_prefix("file:") else { return Ok(text.to_string()) };
    if rest.starts_with("//") {
        let url = url::Url::parse(text).map_err(|err| format!("`{}` is not a file URL: {err}", shorten(text)))?;
        let path = url.to_file_path().map_err(|()| format!("`{}` is not a local file URL", shorten(text)))?;
        return Ok(path.display().to_string());
    }
    Ok(rest.to_string())
}

impl Parser<'_> {
    fn parse(&mut self, text: &str, path: &Path, depth: usize, mode: Mode) -> Result<(), ManifestError> {
        let source = Arc::new(text.to_string());
        for (start, line) in logical_lines(text) {
            let content = strip_comment(&line).trim();
            if content.is_empty() {
                continue;
            }
            let origin = LineOrigin {
                file: path.to_path_buf(),
                line: super::error::line_of(text, start),
                span: start..start + line.trim_end().len(),
                text: source.clone(),
            };
            if content.starts_with('-') {
                self.option_line(content, path, depth, mode, origin)?;
            } else {
                self.requirement_line(content, mode, origin)?;
            }
        }
        Ok(())
    }

    fn warn(&mut self, warning: String) {
        if self.warned < MAX_OPTION_WARNINGS {
            self.warned += 1;
            self.out.warnings.push(warning);
        } else {
            self.unwarned += 1;
        }
    }

    fn option_line(
        &mut self,
        content: &str,
        path: &Path,
        depth: usize,
        mode: Mode,
        origin: LineOrigin,
    ) -> Result<(), ManifestError> {
        let (option, value) = split_option(content);
        match option {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                let what = if matches!(option, "-r" | "--requirement") { "requirements" } else { "constraints" };
                if value.is_empty() {
                    return Err(origin.error(
                        format!("`{option}` names no file"),
                        "here",
                        Some(format!("write `{option} FILE`, relative to this file")),
                    ));
                }
                let nested = if what == "constraints" { Mode::Constraints } else { mode };
                self.include(value, what, path, depth, nested, &origin)
            }
            "-e" | "--editable" => {
                if mode == Mode::Constraints {
                    return Err(origin.error(
                        format!("a constraints file cannot hold the editable requirement `{}`", shorten(content)),
                        "editable",
                        Some("constraints only restrict versions; move the line to a requirements file".into()),
                    ));
                }
                if value.is_empty() {
                    return Err(origin.error(
                        format!("`{option}` names no path"),
                        "here",
                        Some("write `-e ./path/to/project`".into()),
                    ));
                }
                let vcs = ["git+", "hg+", "svn+", "bzr+"].iter().any(|scheme| value.starts_with(scheme));
                if vcs || value.contains("://") && !value.starts_with("file:") {
                    return Err(origin.error(
                        format!("the editable requirement `{}` is not a local path", shorten(value)),
                        "a URL",
                        Some(
                            "lbuild installs local projects and packages from indexes; clone the repository into the \
                             workspace and name its path, or publish the package"
                                .into(),
                        ),
                    ));
                }
                self.local_path(value, true, None, origin)
            }
            _ => {
                let reason = ignored_because(option).unwrap_or("it is not a requirements-file option lbuild knows");
                let warning = format!("ignoring `{}` ({origin}): {reason}", shorten(content));
                self.warn(warning);
                Ok(())
            }
        }
    }

    /// Read the file a `-r` or `-c` line names, relative to the file holding the line.
    fn include(
        &mut self,
        target: &str,
        what: &str,
        path: &Path,
        depth: usize,
        mode: Mode,
        origin: &LineOrigin,
    ) -> Result<(), ManifestError> {
        if depth > 8 {
            return Err(origin.error("requirements files include each other too deeply".into(), "here", None));
        }
        if self.files == 0 {
            return Err(origin.error(
                format!("requirements files include more than {MAX_INCLUDED_FILES} files in all"),
                "here",
                Some("include each file once".into()),
            ));
        }
        self.files -= 1;
        let included = path.parent().unwrap_or(Path::new(".")).join(target);
        if !super::files::is_inside(self.root, &included) {
            return Err(origin.error(
                format!("the included {what} file `{}` is outside the workspace", shorten(target)),
                "included here",
                Some(format!("includes stay inside `{}` (links included)", self.root.display())),
            ));
        }
        let text = super::files::read_text_file(&included).map_err(|problem| {
            origin.error(
                format!("cannot read included {what} file `{}`: {problem}", shorten(target)),
                "included here",
                Some("paths are relative to the file that includes them".into()),
            )
        })?;
        self.parse(&text, &included, depth + 1, mode)
    }

    fn requirement_line(&mut self, content: &str, mode: Mode, origin: LineOrigin) -> Result<(), ManifestError> {
        // Per-requirement options (`--hash=...`) follow the requirement after whitespace.
        let split = content
            .char_indices()
            .zip(content.chars().skip(1))
            .find(|((_, c), next)| c.is_whitespace() && *next == '-')
            .map(|((at, _), _)| at)
            .filter(|at| content[*at..].trim_start().starts_with("--"));
        let (requirement_text, options) = match split {
            Some(at) => (content[..at].trim(), content[at..].trim()),
            None => (content, ""),
        };
        let hashes = self.line_options(options, &origin)?;
        if self.local_requirement(requirement_text, mode, &origin)? {
            if hashes.is_some() {
                self.warn(format!(
                    "ignoring the `--hash` of the local project on {origin}: lbuild reads the project's files, and \
                     the lock pins no archive of it"
                ));
            }
            return Ok(());
        }
        let requirement = Requirement::from_str(requirement_text).map_err(|err| {
            origin.error(
                format!("invalid requirement `{}`", shorten(requirement_text)),
                "not a PEP 508 requirement",
                Some(err.message.to_string()),
            )
        })?;
        if matches!(requirement.version_or_url, Some(pep508_rs::VersionOrUrl::Url(_))) {
            return Err(origin.error(
                format!("direct URL requirement `{}` is not supported", shorten(requirement_text)),
                "URL requirement",
                Some("put the wheel in a `find-links` directory and require it by name".into()),
            ));
        }
        if mode == Mode::Constraints && !requirement.extras.is_empty() {
            return Err(origin.error(
                format!("the constraint `{}` names extras", shorten(requirement_text)),
                "extras",
                Some(format!(
                    "a constraint restricts versions only (as in pip); write `{}` and require the extras in a \
                     requirements file",
                    requirement.name
                )),
            ));
        }
        if let Some(sha256) = hashes {
            self.out.hashes.push(HashPin {
                requirement: requirement.clone(),
                sha256,
                constraint: mode == Mode::Constraints,
                origin: origin.clone(),
            });
        }
        match mode {
            Mode::Requirements => self.out.requirements.push(requirement),
            Mode::Constraints => self.out.constraints.push(Constraint { requirement, origin }),
        }
        Ok(())
    }

    /// The options after a requirement: the sha256 digests of its `--hash` options (`None`
    /// without any), warnings for the others.
    fn line_options(&mut self, options: &str, origin: &LineOrigin) -> Result<Option<Vec<String>>, ManifestError> {
        let mut sha256: Option<Vec<String>> = None;
        let mut other_algorithms = Vec::new();
        let mut tokens = options.split_whitespace();
        while let Some(token) = tokens.next() {
            let (name, inline) = match token.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (token, None),
            };
            if name == "--hash" {
                let Some(value) = inline.map(str::to_string).or_else(|| tokens.next().map(str::to_string)) else {
                    return Err(origin.error(
                        "`--hash` gives no hash".into(),
                        "here",
                        Some("write `--hash=sha256:HEX`".into()),
                    ));
                };
                let Some((algorithm, digest)) = value.split_once(':') else {
                    return Err(origin.error(
                        format!("`--hash={}` is not `ALGORITHM:HEX`", shorten(&value)),
                        "here",
                        Some("write `--hash=sha256:HEX` (`pip hash FILE` prints it)".into()),
                    ));
                };
                let digest = digest.to_ascii_lowercase();
                match algorithm {
                    "sha256" if crate::lockfile::is_sha256(&digest) => sha256.get_or_insert_default().push(digest),
                    "sha256" => {
                        return Err(origin.error(
                            format!("`--hash=sha256:{}` is not a sha256 digest", shorten(&digest)),
                            "here",
                            Some("a sha256 digest is 64 hexadecimal digits".into()),
                        ));
                    }
                    "sha384" | "sha512" | "sha224" | "sha1" | "md5" => other_algorithms.push(algorithm.to_string()),
                    _ => {
                        return Err(origin.error(
                            format!("`--hash` names the unknown algorithm `{}`", shorten(algorithm)),
                            "here",
                            Some("write `--hash=sha256:HEX`".into()),
                        ));
                    }
                }
                continue;
            }
            let reason = match ignored_because(name) {
                Some(reason) => {
                    // The value of an option that takes one is not an option of its own.
                    if inline.is_none()
                        && takes_value(name)
                        && tokens.clone().next().is_some_and(|next| !next.starts_with('-'))
                    {
                        tokens.next();
                    }
                    reason
                }
                None => "it is not an option lbuild knows on a requirement line",
            };
            self.warn(format!("ignoring `{}` on {origin}: {reason}", shorten(token)));
        }
        if !other_algorithms.is_empty() {
            let unchecked = if sha256.is_none() { "so this line's file is not checked" } else { "so they are skipped" };
            self.warn(format!(
                "ignoring the {} hash(es) on {origin}: lambda.lock records the sha256 of each file, {unchecked}; add \
                 `--hash=sha256:...` (`pip hash FILE` prints it)",
                other_algorithms.join(", ")
            ));
        }
        Ok(sha256)
    }

    /// Whether the line is a bare path or `name @ file:...` (then recorded as a local path).
    fn local_requirement(&mut self, text: &str, mode: Mode, origin: &LineOrigin) -> Result<bool, ManifestError> {
        if text.contains("://") && !text.contains("file:") && !text.contains('@') {
            return Err(origin.error(
                format!("direct URL requirement `{}` is not supported", shorten(text)),
                "URL requirement",
                Some("put the wheel in a `find-links` directory and require it by name".into()),
            ));
        }
        let named = text.split_once('@').filter(|(_, url)| url.trim_start().starts_with("file:"));
        if named.is_none() && !looks_like_path(text) {
            return Ok(false);
        }
        if mode == Mode::Constraints {
            return Err(origin.error(
                format!("a constraints file cannot hold the local path `{}`", shorten(text)),
                "a path",
                Some(
                    "constraints only restrict versions of named packages; move the line to a requirements file".into(),
                ),
            ));
        }
        match named {
            Some((name, url)) => {
                let requirement: Requirement = Requirement::from_str(name.trim()).map_err(|err| {
                    origin.error(
                        format!("invalid package name in `{}`", shorten(text)),
                        "not `NAME @ file:PATH`",
                        Some(err.message.to_string()),
                    )
                })?;
                let mut local = url.trim().to_string();
                if !requirement.extras.is_empty() {
                    let extras: Vec<String> = requirement.extras.iter().map(ToString::to_string).collect();
                    local = format!("{local}[{}]", extras.join(","));
                }
                self.local_path(&local, false, Some(normalize_name(requirement.name.as_ref())), origin.clone())?;
            }
            None => self.local_path(text, false, None, origin.clone())?,
        }
        Ok(true)
    }

    /// Record a local path `text` (`PATH[extras] ; markers`, `PATH` possibly a `file:` URL).
    fn local_path(
        &mut self,
        text: &str,
        editable: bool,
        name: Option<String>,
        origin: LineOrigin,
    ) -> Result<(), ManifestError> {
        let (head, marker) = match text.split_once(';') {
            Some((head, marker)) => (head.trim(), Some(marker.trim())),
            None => (text.trim(), None),
        };
        let (written, extras) = match head.rfind('[') {
            Some(at) if head.ends_with(']') => (head[..at].trim(), Some(&head[at..])),
            _ => (head, None),
        };
        // Extras and markers are read as a requirement's would be.
        let probe = format!("local{}{}", extras.unwrap_or(""), marker.map(|m| format!(" ; {m}")).unwrap_or_default());
        let probe: Requirement = Requirement::from_str(&probe).map_err(|err| {
            origin.error(
                format!("invalid extras or markers in `{}`", shorten(text)),
                "here",
                Some(err.message.to_string()),
            )
        })?;
        let written = file_url_path(written).map_err(|problem| origin.error(problem, "here", None))?;
        let path = origin.file.parent().unwrap_or(Path::new(".")).join(&written);
        if !super::files::is_inside(self.root, &path) {
            return Err(origin.error(
                format!("the local path `{}` is outside the workspace", shorten(&written)),
                "a path",
                Some(format!(
                    "local projects stay inside `{}` (links included); paths are relative to the requirements file",
                    self.root.display()
                )),
            ));
        }
        if !path.exists() {
            return Err(origin.error(
                format!("the local path `{}` does not exist", shorten(&written)),
                "no such file or directory",
                Some(format!("paths are relative to the requirements file's directory, `{}`", {
                    origin.file.parent().unwrap_or(Path::new(".")).display()
                })),
            ));
        }
        self.out.local_paths.push(LocalPath {
            written,
            path,
            editable,
            name,
            extras: probe.extras,
            marker: probe.marker,
            origin,
        });
        Ok(())
    }
}

/// What lbuild reads of a `pyproject.toml` (PEP 621 `[project]`, PEP 735 `[dependency-groups]`).
#[derive(Debug)]
pub(crate) struct PyProject {
    /// `[project].name`, normalized.
    name: Option<String>,
    dependencies: Vec<Requirement>,
    /// Normalized extra name -> its requirements.
    optional: BTreeMap<String, Vec<Requirement>>,
    /// Normalized group name -> its items, and where the group is written.
    groups: BTreeMap<String, (Vec<GroupItem>, Range<usize>)>,
    /// `[project].requires-python`, where it is written.
    pub requires_python: Option<(pep440_rs::VersionSpecifiers, LineOrigin)>,
    path: PathBuf,
    text: Arc<String>,
}

#[derive(Debug)]
enum GroupItem {
    Requirement(Requirement),
    Include(String, Range<usize>),
}

/// The `[packages]` of a Pipenv `Pipfile` (read by `interop::pipfile`): requirements, and its
/// `path` packages as local paths.
pub(crate) fn parse_pipfile(text: &str, path: &Path) -> Result<RequirementsFile, ManifestError> {
    crate::interop::pipfile::requirements(text, path)
}

/// The `[project].dependencies` of a `pyproject.toml`, or of a Poetry project that has none its
/// `[tool.poetry.dependencies]` (read by `interop::poetry`, whose path dependencies are local
/// paths).
pub(crate) fn parse_pyproject(text: &str, path: &Path) -> Result<RequirementsFile, ManifestError> {
    if let Some(file) = crate::interop::poetry::pyproject_requirements(text, path, &[])? {
        return Ok(file);
    }
    read_pyproject(text, path)
        .map(|pyproject| RequirementsFile { requirements: pyproject.dependencies, ..RequirementsFile::default() })
}

/// Read a `pyproject.toml`: `[project]` must be there; every requirement must parse.
pub(crate) fn read_pyproject(text: &str, path: &Path) -> Result<PyProject, ManifestError> {
    use toml::Spanned;
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    struct Wire {
        project: Option<Project>,
        #[serde(default)]
        dependency_groups: BTreeMap<Spanned<String>, Vec<Spanned<WireItem>>>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    struct Project {
        name: Option<String>,
        #[serde(default)]
        dependencies: Vec<Spanned<String>>,
        #[serde(default)]
        optional_dependencies: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
        requires_python: Option<Spanned<String>>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum WireItem {
        Requirement(String),
        Table {
            #[serde(rename = "include-group")]
            include_group: String,
        },
    }
    let name = path.display().to_string();
    let error = |message: String, span: Range<usize>, help: Option<String>| {
        let line = super::error::line_of(text, span.start);
        ManifestError::at(&name, text, span, format!("{message} (line {line} of `{name}`)"), "here", help)
    };
    let wire: Wire = toml::from_str(text).map_err(|err| {
        error(format!("`{name}` is not valid TOML: {}", err.message()), err.span().unwrap_or(0..0), None)
    })?;
    let Some(project) = wire.project else {
        return Err(error(
            format!("`{name}` has no `[project]` table"),
            0..0,
            Some("lbuild reads `[project].dependencies` (PEP 621)".into()),
        ));
    };
    let requirement = |item: &Spanned<String>| {
        Requirement::from_str(item.get_ref()).map_err(|err| {
            error(
                format!("invalid requirement `{}`", shorten(item.get_ref())),
                item.span(),
                Some(err.message.to_string()),
            )
        })
    };
    let dependencies = project.dependencies.iter().map(requirement).collect::<Result<Vec<_>, _>>()?;
    let mut optional = BTreeMap::new();
    for (extra, items) in &project.optional_dependencies {
        let normalized = normalize_name(extra.get_ref());
        let requirements = items.iter().map(requirement).collect::<Result<Vec<_>, _>>()?;
        if optional.insert(normalized.clone(), requirements).is_some() {
            return Err(error(
                format!("the extra `{}` is defined twice (names are compared normalized)", shorten(extra.get_ref())),
                extra.span(),
                Some(format!("merge the extras that normalize to `{normalized}`")),
            ));
        }
    }
    let mut groups = BTreeMap::new();
    for (group, items) in &wire.dependency_groups {
        let normalized = normalize_name(group.get_ref());
        let mut parsed = Vec::new();
        for item in items {
            parsed.push(match item.get_ref() {
                WireItem::Requirement(text) => {
                    GroupItem::Requirement(requirement(&Spanned::new(item.span(), text.clone()))?)
                }
                WireItem::Table { include_group } => GroupItem::Include(normalize_name(include_group), item.span()),
            });
        }
        if groups.insert(normalized.clone(), (parsed, group.span())).is_some() {
            return Err(error(
                format!(
                    "the dependency group `{}` is defined twice (PEP 735 compares names normalized)",
                    shorten(group.get_ref())
                ),
                group.span(),
                Some(format!("merge the groups that normalize to `{normalized}`")),
            ));
        }
    }
    let source = Arc::new(text.to_string());
    let requires_python = match &project.requires_python {
        None => None,
        Some(spanned) => {
            let specifiers = pep440_rs::VersionSpecifiers::from_str(spanned.get_ref()).map_err(|err| {
                error(
                    format!("`requires-python = \"{}\"` is not a version specifier", shorten(spanned.get_ref())),
                    spanned.span(),
                    Some(err.to_string()),
                )
            })?;
            let origin = LineOrigin {
                file: path.to_path_buf(),
                line: super::error::line_of(text, spanned.span().start),
                span: spanned.span(),
                text: source.clone(),
            };
            Some((specifiers, origin))
        }
    };
    Ok(PyProject {
        name: project.name.as_deref().map(normalize_name),
        dependencies,
        optional,
        groups,
        requires_python,
        path: path.to_path_buf(),
        text: source,
    })
}

impl PyProject {
    pub fn dependencies(&self) -> &[Requirement] {
        &self.dependencies
    }

    /// The normalized names of the extras and of the groups.
    pub fn extra_names(&self) -> impl Iterator<Item = &str> {
        self.optional.keys().map(String::as_str)
    }

    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// Whether the project's name is `name` (a requirement on it is on the project itself).
    fn is_self(&self, requirement: &Requirement) -> bool {
        self.name.as_deref() == Some(normalize_name(requirement.name.as_ref()).as_str())
    }

    /// The requirements of an extra (`None`: no such extra). A requirement on the project
    /// itself (`all = ["me[aws,db]"]`) is its extras', never a package from an index.
    pub fn extra(&self, name: &str) -> Option<Vec<Requirement>> {
        self.optional.get(&normalize_name(name))?;
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        self.expand_extra(&normalize_name(name), MarkerTree::TRUE, &mut seen, &mut out);
        Some(out)
    }

    fn expand_extra(&self, name: &str, marker: MarkerTree, seen: &mut BTreeSet<String>, out: &mut Vec<Requirement>) {
        if !seen.insert(name.to_string()) {
            return;
        }
        for requirement in self.optional.get(name).into_iter().flatten() {
            self.push_expanded(requirement, &marker, seen, out);
        }
    }

    /// `requirement` (with `marker` and-ed in), or, on the project itself, its extras'.
    fn push_expanded(
        &self,
        requirement: &Requirement,
        marker: &MarkerTree,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<Requirement>,
    ) {
        let mut requirement = requirement.clone();
        requirement.marker.and(marker.clone());
        if self.is_self(&requirement) {
            for extra in &requirement.extras {
                self.expand_extra(&normalize_name(extra.as_ref()), requirement.marker.clone(), seen, out);
            }
        } else {
            out.push(requirement);
        }
    }

    /// The requirements of a dependency group with the groups it includes (`Ok(None)`: no such
    /// group); an include of an unknown group or a cycle is an error at the pyproject line.
    pub fn group(&self, name: &str) -> Result<Option<Vec<Requirement>>, ManifestError> {
        let name = normalize_name(name);
        if !self.groups.contains_key(&name) {
            return Ok(None);
        }
        let mut out = Vec::new();
        self.expand_group(&name, &mut Vec::new(), &mut BTreeSet::new(), &mut out)?;
        Ok(Some(out))
    }

    /// Expand `name` into `out`, once: a group included again adds nothing new, and expanding
    /// it again would let a few kilobytes of includes that fan out grow without bound.
    fn expand_group(
        &self,
        name: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        out: &mut Vec<Requirement>,
    ) -> Result<(), ManifestError> {
        let (items, _) = &self.groups[name];
        stack.push(name.to_string());
        for item in items {
            match item {
                GroupItem::Requirement(requirement) => {
                    let mut seen = BTreeSet::new();
                    self.push_expanded(requirement, &MarkerTree::TRUE, &mut seen, out);
                }
                GroupItem::Include(included, span) => {
                    let at = |message: String, help: String| {
                        let line = super::error::line_of(&self.text, span.start);
                        let file = self.path.display().to_string();
                        ManifestError::at(
                            &file,
                            &self.text,
                            span.clone(),
                            format!("{message} (line {line} of `{file}`)"),
                            "include-group",
                            Some(help),
                        )
                    };
                    if stack.contains(included) {
                        let mut cycle = stack.clone();
                        cycle.push(included.clone());
                        return Err(at(
                            format!("the dependency groups include each other in a cycle: {}", cycle.join(" -> ")),
                            "PEP 735 forbids cycles; remove one of the `include-group` entries".into(),
                        ));
                    }
                    if !self.groups.contains_key(included) {
                        return Err(at(
                            format!(
                                "the dependency group `{}` includes `{included}`, which does not exist",
                                stack.last().map_or("", String::as_str)
                            ),
                            format!(
                                "the groups are: {}",
                                self.groups.keys().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                    if done.contains(included) {
                        continue;
                    }
                    self.expand_group(included, stack, done, out)?;
                }
            }
        }
        stack.pop();
        done.insert(name.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace directory with `files` written into it.
    fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        }
        dir
    }

    fn parse(dir: &tempfile::TempDir, name: &str) -> Result<RequirementsFile, ManifestError> {
        let path = dir.path().join(name);
        let text = fs_err::read_to_string(&path).unwrap();
        parse_requirements_txt_in(&text, &path, dir.path())
    }

    fn names(requirements: &[Requirement]) -> Vec<String> {
        requirements.iter().map(|requirement| requirement.to_string()).collect()
    }

    const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SHA_B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    #[test]
    fn constraints_are_read_relative_to_their_file_and_nested_ones_stay_constraints() {
        let dir = workspace(&[
            ("f/requirements.txt", "requests\n-c ../shared/constraints.txt\n--constraint=local.txt\n"),
            ("f/local.txt", "idna<4\n"),
            ("shared/constraints.txt", "urllib3<2 ; python_version >= '3'\n-r more.txt\n-c again.txt\n"),
            ("shared/more.txt", "certifi==2024.1.1\n"),
            ("shared/again.txt", "charset-normalizer<4\n"),
        ]);
        let file = parse(&dir, "f/requirements.txt").unwrap();
        assert_eq!(names(&file.requirements), ["requests"], "a constraints file adds no requirement");
        let constraints: Vec<_> = file.constraints.iter().map(|c| c.requirement.name.to_string()).collect();
        assert_eq!(constraints, ["urllib3", "certifi", "charset-normalizer", "idna"]);
        let origin = &file.constraints[1].origin;
        assert!(origin.file.ends_with("shared/more.txt") && origin.line == 1, "{origin:?}");
        assert!(origin.to_string().starts_with("line 1 of `"), "{origin}");
    }

    #[test]
    fn constraints_files_stay_inside_the_workspace() {
        let outside = tempfile::tempdir().unwrap();
        fs_err::write(outside.path().join("c.txt"), "six<2\n").unwrap();
        for line in ["-c ../c.txt".to_string(), format!("--constraint={}", outside.path().join("c.txt").display())] {
            let dir = workspace(&[("r.txt", &format!("{line}\n"))]);
            let err = parse(&dir, "r.txt").unwrap_err();
            assert!(
                err.message().contains("constraints file") && err.message().contains("outside the workspace"),
                "{}",
                err.message()
            );
        }
    }

    #[test]
    fn constraints_refuse_what_pip_refuses() {
        for (line, expected) in [
            ("requests[socks]<3", "names extras"),
            ("-e ./lib", "cannot hold the editable requirement"),
            ("./lib", "cannot hold the local path"),
            ("six @ https://example.com/six.whl", "direct URL requirement"),
        ] {
            let dir = workspace(&[("r.txt", "-c c.txt\n"), ("c.txt", &format!("{line}\n")), ("lib/x", "")]);
            let err = parse(&dir, "r.txt").unwrap_err();
            assert!(err.message().contains(expected), "{line}: {}", err.message());
            assert!(err.message().contains("line 1 of `"), "{}", err.message());
        }
    }

    #[test]
    fn hashes_are_read_from_requirement_and_constraint_lines() {
        let text = format!("six==1.16.0 --hash=sha256:{SHA_A} \\\n    --hash sha256:{SHA_B}\nidna\n-c c.txt\n");
        let dir = workspace(&[("r.txt", &text), ("c.txt", &format!("idna==3.7 --hash=sha256:{SHA_A}\n"))]);
        let file = parse(&dir, "r.txt").unwrap();
        assert_eq!(names(&file.requirements), ["six==1.16.0", "idna"]);
        assert_eq!(file.hashes.len(), 2);
        assert_eq!(file.hashes[0].requirement.name.as_ref(), "six");
        assert_eq!(file.hashes[0].sha256, [SHA_A.to_string(), SHA_B.to_ascii_lowercase()]);
        assert!(!file.hashes[0].constraint && file.hashes[0].origin.line == 1);
        assert!(file.hashes[1].constraint && file.hashes[1].origin.file.ends_with("c.txt"));
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
    }

    #[test]
    fn hashes_other_than_sha256_are_warned_about_and_bad_ones_refused() {
        let dir = workspace(&[("r.txt", &format!("six --hash=sha512:{SHA_A}{SHA_A}\n"))]);
        let file = parse(&dir, "r.txt").unwrap();
        assert!(file.hashes.is_empty());
        assert!(file.warnings[0].contains("sha512") && file.warnings[0].contains("not checked"), "{:?}", file.warnings);
        assert!(file.warnings[0].contains("line 1 of `"), "{:?}", file.warnings);
        for (line, expected) in [
            ("six --hash=sha256:abc", "is not a sha256 digest"),
            ("six --hash=deadbeef", "is not `ALGORITHM:HEX`"),
            ("six --hash=crc32:1234", "unknown algorithm"),
            ("six --hash", "gives no hash"),
        ] {
            let dir = workspace(&[("r.txt", &format!("{line}\n"))]);
            let err = parse(&dir, "r.txt").unwrap_err();
            assert!(err.message().contains(expected), "{line}: {}", err.message());
        }
    }

    #[test]
    fn every_ignored_option_is_warned_about_with_its_reason_file_and_line() {
        let cases = [
            ("--index-url https://example.com/simple", "[[workspace.index]]"),
            ("-i https://example.com/simple", "index-url"),
            ("--extra-index-url=https://example.com/simple", "lambda.toml"),
            ("--no-index", "lambda.toml"),
            ("-f ./wheels", "find-links"),
            ("--find-links ./wheels", "find-links"),
            ("--trusted-host example.com", "certificate checks"),
            ("--no-binary :all:", "never builds from source"),
            ("--only-binary :all:", "changes nothing"),
            ("--prefer-binary", "prefers wheels already"),
            ("--pre", "`prerelease`"),
            ("--require-hashes", "sha256"),
            ("--use-feature=truststore", "feature switches"),
            ("--config-settings=x=y", "builds nothing from source"),
            ("--frobnicate", "not a requirements-file option lbuild knows"),
            ("--hash=sha256:abc", "belongs on the line of the requirement"),
        ];
        for (line, reason) in cases {
            let dir = workspace(&[("r.txt", &format!("six\n{line}\n"))]);
            let file = parse(&dir, "r.txt").unwrap();
            assert_eq!(names(&file.requirements), ["six"]);
            assert_eq!(file.warnings.len(), 1, "{line}: {:?}", file.warnings);
            let warning = &file.warnings[0];
            assert!(warning.contains(reason), "{line}: {warning}");
            assert!(warning.contains("(line 2 of `") && warning.contains("r.txt`)"), "{line}: {warning}");
        }
        // Options after a requirement, too; a flag does not take the next option as its value.
        let text =
            format!("six --global-option=--x --config-settings y=z --pre --hash=sha256:{SHA_A} --no-binary six\n");
        let dir = workspace(&[("r.txt", &text)]);
        let file = parse(&dir, "r.txt").unwrap();
        assert_eq!(names(&file.requirements), ["six"]);
        assert_eq!(file.hashes.len(), 1, "the hash after `--pre` is read");
        assert_eq!(file.warnings.len(), 4, "{:?}", file.warnings);
        assert!(file.warnings[..2].iter().all(|w| w.contains("builds nothing from source")), "{:?}", file.warnings);
        assert!(file.warnings[3].contains("`--no-binary` on line 1 of `"), "{:?}", file.warnings);
        assert!(file.warnings[3].contains("never builds from source"), "{:?}", file.warnings);
        // A file of options is not echoed line after line.
        let dir = workspace(&[("r.txt", &"--pre\n".repeat(50))]);
        let file = parse(&dir, "r.txt").unwrap();
        assert_eq!(file.warnings.len(), MAX_OPTION_WARNINGS + 1);
        assert!(file.warnings.last().unwrap().contains("ignored 42 more option lines"), "{:?}", file.warnings);
    }

    #[test]
    fn local_paths_are_returned_with_their_line_resolved_against_the_file() {
        let dir = workspace(&[
            (
                "fn/requirements.txt",
                "-e ../libs/common\n--editable=../libs/common[aws]\n../shared ; python_version >= '3.9'\n\
                 ./vendored\nvendored\nfile:../libs/common\nacme-tools @ file:../tools\nsix\n.\n",
            ),
            ("libs/common/pyproject.toml", ""),
            ("shared/setup.py", ""),
            ("fn/vendored/pyproject.toml", ""),
            ("tools/pyproject.toml", ""),
        ]);
        let file = parse(&dir, "fn/requirements.txt").unwrap();
        assert_eq!(names(&file.requirements), ["vendored", "six"], "a bare name is a requirement, as in pip");
        let locals: Vec<_> = file
            .local_paths
            .iter()
            .map(|local| (local.written.as_str(), local.editable, local.name.as_deref(), local.origin.line))
            .collect();
        assert_eq!(
            locals,
            [
                ("../libs/common", true, None, 1),
                ("../libs/common", true, None, 2),
                ("../shared", false, None, 3),
                ("./vendored", false, None, 4),
                ("../libs/common", false, None, 6),
                ("../tools", false, Some("acme-tools"), 7),
                (".", false, None, 9),
            ]
        );
        let base = dir.path().join("fn");
        assert_eq!(file.local_paths[0].path, base.join("../libs/common"));
        assert_eq!(file.local_paths[1].extras.iter().map(ToString::to_string).collect::<Vec<_>>(), ["aws"]);
        assert!(!file.local_paths[2].marker.is_true(), "the marker is kept");
        assert_eq!(file.local_paths[6].path, base.join("."));
        let absolute = format!("file://{}\n", dir.path().join("shared").display());
        fs_err::write(dir.path().join("fn/abs.txt"), absolute).unwrap();
        let file = parse(&dir, "fn/abs.txt").unwrap();
        assert_eq!(file.local_paths[0].path, dir.path().join("shared"));
    }

    #[test]
    fn local_paths_outside_the_workspace_or_missing_or_remote_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        for (line, expected) in [
            ("-e ../..".to_string(), "outside the workspace"),
            (format!("{}", outside.path().display()), "outside the workspace"),
            (format!("file://{}", outside.path().display()), "outside the workspace"),
            ("./missing".to_string(), "does not exist"),
            ("-e git+https://github.com/org/repo#egg=repo".to_string(), "is not a local path"),
            ("-e".to_string(), "names no path"),
            ("https://example.com/six-1.0-py3-none-any.whl".to_string(), "direct URL requirement"),
            ("./lib[not an extra]".to_string(), "invalid extras or markers"),
        ] {
            let dir = workspace(&[("r.txt", &format!("{line}\n")), ("lib/x", "")]);
            let err = parse(&dir, "r.txt").unwrap_err();
            assert!(err.message().contains(expected), "{line}: {}", err.message());
            assert!(err.message().contains("line 1 of `"), "{line}: {}", err.message());
        }
        #[cfg(unix)]
        {
            let dir = workspace(&[("r.txt", "./link\n")]);
            std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
            let err = parse(&dir, "r.txt").unwrap_err();
            assert!(err.message().contains("outside the workspace"), "{}", err.message());
        }
    }

    #[test]
    fn comments_need_whitespace_before_the_hash() {
        let dir = workspace(&[("r.txt", "six # pinned\n# whole line\nidna\t# tab\n")]);
        assert_eq!(names(&parse(&dir, "r.txt").unwrap().requirements), ["six", "idna"]);
    }

    fn pyproject(text: &str) -> PyProject {
        read_pyproject(text, Path::new("pyproject.toml")).unwrap()
    }

    #[test]
    fn extras_expand_and_a_reference_to_the_project_itself_is_its_extras() {
        let project = pyproject(
            "[project]\nname = \"My_App\"\ndependencies = [\"requests\"]\n\n[project.optional-dependencies]\n\
             AWS = [\"boto3\"]\ndb = [\"psycopg\"]\nall = [\"my-app[aws,db]\", \"my.app[all]\"]\n",
        );
        assert_eq!(names(project.dependencies()), ["requests"]);
        assert_eq!(names(&project.extra("aws").unwrap()), ["boto3"]);
        assert_eq!(names(&project.extra("ALL").unwrap()), ["boto3", "psycopg"], "never `my-app` from an index");
        assert!(project.extra("nope").is_none());
        assert_eq!(project.extra_names().collect::<Vec<_>>(), ["all", "aws", "db"]);
    }

    #[test]
    fn dependency_groups_include_each_other_and_cycles_are_errors() {
        let project = pyproject(
            "[project]\nname = \"app\"\n\n[dependency-groups]\nTest = [\"pytest\", {include-group = \"lint\"}]\n\
             lint = [\"ruff\"]\nloop-a = [{include-group = \"loop_b\"}]\nloop-b = [\"six\", {include-group = \"Loop.A\"}]\n\
             broken = [{include-group = \"missing\"}]\n",
        );
        assert_eq!(names(&project.group("test").unwrap().unwrap()), ["pytest", "ruff"]);
        assert!(project.group("nope").unwrap().is_none());
        let err = project.group("loop-a").unwrap_err();
        assert!(err.message().contains("cycle: loop-a -> loop-b -> loop-a"), "{}", err.message());
        assert!(err.message().contains("line 8 of `pyproject.toml`"), "{}", err.message());
        // Includes that fan out are expanded once each (2^40 requirements otherwise).
        let mut text = String::from("[project]\n[dependency-groups]\ng40 = [\"six\"]\n");
        for n in 0..40 {
            text.push_str(&format!("g{n} = [{{include-group = \"g{m}\"}}, {{include-group = \"g{m}\"}}]\n", m = n + 1));
        }
        assert_eq!(names(&pyproject(&text).group("g0").unwrap().unwrap()), ["six"]);
        let err = project.group("broken").unwrap_err();
        assert!(err.message().contains("includes `missing`, which does not exist"), "{}", err.message());
    }

    #[test]
    fn bad_pyprojects_are_errors_at_their_line() {
        for (text, expected) in [
            ("[project]\nrequires-python = \"3.12\"\n", "is not a version specifier"),
            ("[project]\n[project.optional-dependencies]\nA = []\na = []\n", "defined twice"),
            ("[project]\n[dependency-groups]\nA = []\na = []\n", "defined twice"),
            ("[project]\n[dependency-groups]\nt = [\"bad name!\"]\n", "invalid requirement"),
            ("[tool.x]\n", "has no `[project]` table"),
        ] {
            let err = read_pyproject(text, Path::new("pyproject.toml")).unwrap_err();
            assert!(err.message().contains(expected), "{text}: {}", err.message());
        }
        let project = pyproject("[project]\nname = \"x\"\n\nrequires-python = \">=3.13\"\n");
        let (specifiers, origin) = project.requires_python.unwrap();
        assert_eq!(specifiers.to_string(), ">=3.13");
        assert_eq!(origin.line, 4);
    }
}
