//! Requirements read from a `requirements.txt` or a `pyproject.toml`.
//!
//! `requirements.txt` support covers what lock inputs need: one PEP 508 requirement per line,
//! `#` comments, `\` continuations, and `-r other.txt` includes. Options that only make sense
//! to pip (`--hash`, `-i`, `--only-binary`, ...) are ignored with a warning, because the index
//! and the hashes come from `lambda.toml` and `lambda.lock`.

use pep508_rs::Requirement;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use super::ManifestError;
use crate::output::{shorten, warn_user};

/// Parse requirements-file text read from `path`; `-r` includes must stay inside the directory
/// that holds it.
pub fn parse_requirements_txt(text: &str, path: &Path) -> Result<Vec<Requirement>, ManifestError> {
    parse_requirements_txt_in(text, path, path.parent().unwrap_or(Path::new(".")))
}

/// Parse requirements-file text read from `path`; `-r` includes must stay inside `root` (the
/// workspace), links included, since the file may come from an untrusted change.
pub(crate) fn parse_requirements_txt_in(
    text: &str,
    path: &Path,
    root: &Path,
) -> Result<Vec<Requirement>, ManifestError> {
    let mut budget = Budget { files: MAX_INCLUDED_FILES, ignored_options: 0 };
    let requirements = parse_with_depth(text, path, root, 0, &mut budget)?;
    if budget.ignored_options > 1 {
        warn_user!(
            "ignored {} more option lines in `{}` and the files it includes",
            budget.ignored_options - 1,
            path.display()
        );
    }
    Ok(requirements)
}

/// The file a `-r FILE`, `-rFILE`, `--requirement FILE` or `--requirement=FILE` line includes.
fn include_target(line: &str) -> Option<&str> {
    let rest = match line.strip_prefix("--requirement") {
        Some(rest) => rest.strip_prefix('=').or_else(|| rest.strip_prefix([' ', '\t']))?,
        None => line.strip_prefix("-r")?,
    };
    let target = rest.trim();
    (!target.is_empty()).then_some(target)
}

/// How many files one requirements file may pull in with `-r`, counting repeats: real ones
/// include a handful; a few kilobytes of includes that fan out must not take minutes.
const MAX_INCLUDED_FILES: usize = 256;

/// What one requirements file (with its includes) may still do.
struct Budget {
    files: usize,
    /// Option lines ignored so far: only the first is quoted, the rest counted.
    ignored_options: usize,
}

fn parse_with_depth(
    text: &str,
    path: &Path,
    root: &Path,
    depth: usize,
    budget: &mut Budget,
) -> Result<Vec<Requirement>, ManifestError> {
    // Errors quote one line of the file at most (it may be anything: `/proc/self/environ`).
    let error = |message: String, span: Range<usize>, label: &str, help: Option<String>| {
        let line = super::error::line_of(text, span.start);
        let message = format!("{message} (line {line} of `{}`)", path.display());
        ManifestError::at(&path.display().to_string(), text, span, message, label, help)
    };
    let mut requirements = Vec::new();
    // Join continuation lines, remembering where each logical line starts.
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
    for (start, line) in logical {
        let content = match line.find(" #").or_else(|| if line.trim_start().starts_with('#') { Some(0) } else { None })
        {
            Some(index) => &line[..index],
            None => line.as_str(),
        };
        let content = content.trim();
        if content.is_empty() {
            continue;
        }
        let span = start..start + line.trim_end().len();
        if let Some(include) = include_target(content) {
            if depth > 8 {
                return Err(error("requirements files include each other too deeply".into(), span, "here", None));
            }
            if budget.files == 0 {
                return Err(error(
                    format!("requirements files include more than {MAX_INCLUDED_FILES} files in all"),
                    span,
                    "here",
                    Some("include each file once".into()),
                ));
            }
            budget.files -= 1;
            let included = path.parent().unwrap_or(Path::new(".")).join(include.trim());
            if !super::files::is_inside(root, &included) {
                return Err(error(
                    format!("the included requirements file `{}` is outside the workspace", shorten(include.trim())),
                    span,
                    "included here",
                    Some(format!("includes stay inside `{}` (links included)", root.display())),
                ));
            }
            let text = super::files::read_text_file(&included).map_err(|problem| {
                error(
                    format!("cannot read included requirements file `{}`: {problem}", shorten(include.trim())),
                    span.clone(),
                    "included here",
                    None,
                )
            })?;
            requirements.extend(parse_with_depth(&text, &included, root, depth + 1, budget)?);
            continue;
        }
        // An editable install brings a local project and its dependencies: dropping the line
        // would drop them silently, so it is an error until local packages are a source kind.
        if content.starts_with("-e") || content.starts_with("--editable") {
            return Err(error(
                format!("editable requirement `{}` is not supported", shorten(content)),
                span,
                "a local project",
                Some(
                    "lbuild does not install local projects from requirements files yet: list the project's own \
                     dependencies here, or build its wheel into a `find-links` directory and require it by name"
                        .into(),
                ),
            ));
        }
        if content.starts_with('-') {
            // Quoted once: a file that is not a requirements file (`.env`) must not be echoed
            // line after line.
            if budget.ignored_options == 0 {
                warn_user!(
                    "ignoring `{}` (line {}) in `{}`: lbuild takes indexes from `lambda.toml` and hashes from \
                     `lambda.lock`",
                    shorten(content),
                    super::error::line_of(text, start),
                    path.display()
                );
            }
            budget.ignored_options += 1;
            continue;
        }
        // A trailing `--hash=...` on a requirement line belongs to pip; drop it.
        let content = match content.find(" --") {
            Some(index) => content[..index].trim(),
            None => content,
        };
        let requirement = Requirement::from_str(content).map_err(|err| {
            error(
                format!("invalid requirement `{content}`"),
                span.clone(),
                "not a PEP 508 requirement",
                Some(err.message.to_string()),
            )
        })?;
        if matches!(requirement.version_or_url, Some(pep508_rs::VersionOrUrl::Url(_))) {
            return Err(error(
                format!("direct URL requirement `{content}` is not supported"),
                span,
                "URL requirement",
                Some("put the wheel in a `find-links` directory and require it by name".into()),
            ));
        }
        requirements.push(requirement);
    }
    Ok(requirements)
}

/// The `[packages]` of a Pipenv `Pipfile` (read by `interop::pipfile`).
pub(crate) fn parse_pipfile(text: &str, path: &Path) -> Result<Vec<Requirement>, ManifestError> {
    crate::interop::pipfile::requirements(text, path)
}

/// The `[project].dependencies` of a `pyproject.toml`, or of a Poetry project that has none its
/// `[tool.poetry.dependencies]` (read by `interop::poetry`).
pub(crate) fn parse_pyproject(text: &str, path: &Path) -> Result<Vec<Requirement>, ManifestError> {
    if let Some(requirements) = crate::interop::poetry::pyproject_requirements(text, path, &[])? {
        return Ok(requirements);
    }
    #[derive(serde::Deserialize)]
    struct PyProject {
        project: Option<Project>,
    }
    #[derive(serde::Deserialize)]
    struct Project {
        #[serde(default)]
        dependencies: Vec<toml::Spanned<String>>,
    }
    let error = |message: String, span: Range<usize>, help: Option<String>| {
        ManifestError::at(&path.display().to_string(), text, span, message, "here", help)
    };
    let pyproject: PyProject = toml::from_str(text).map_err(|err| {
        error(format!("`{}` is not valid TOML: {}", path.display(), err.message()), err.span().unwrap_or(0..0), None)
    })?;
    let Some(project) = pyproject.project else {
        return Err(error(
            format!("`{}` has no `[project]` table", path.display()),
            0..0,
            Some("lbuild reads `[project].dependencies` (PEP 621)".into()),
        ));
    };
    project
        .dependencies
        .into_iter()
        .map(|dependency| {
            Requirement::from_str(dependency.get_ref()).map_err(|err| {
                error(
                    format!("invalid requirement `{}`", dependency.get_ref()),
                    dependency.span(),
                    Some(err.message.to_string()),
                )
            })
        })
        .collect()
}
