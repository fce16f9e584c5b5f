//! The files `lambda.toml` names: `find-links` directories, function `source` directories and
//! requirements files. This is the half of validation that touches the file system; it checks
//! every path against the workspace root and reads text files with a size bound, since
//! `lambda.toml` may come from an untrusted change.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{Context, ManifestError};
use super::requirements_file;
use super::translate::{Draft, PathRef};
use super::{MemberKind, Workspace};

/// Finish a draft: check each path it names and read each requirements file, in the order
/// `lambda.toml` names them.
pub(super) fn finish(draft: Draft, ctx: &Context) -> Result<Workspace, ManifestError> {
    let Draft { mut workspace, paths, warnings: _ } = draft;
    let root = workspace.root.clone();
    for path in paths {
        match path {
            PathRef::FindLinks(spanned) => workspace.find_links.push(find_links_dir(ctx, &root, &spanned)?),
            PathRef::Source(spanned) => {
                inside_workspace(ctx, &root, &spanned, "source directory")?;
            }
            PathRef::RequirementsFile(member, file) => {
                let read = read_requirements_file(ctx, &root, &file)?;
                let requirements = match member.kind {
                    MemberKind::Function => workspace
                        .functions
                        .iter_mut()
                        .find(|function| function.name == member.name)
                        .map(|function| &mut function.requirements),
                    MemberKind::Layer => workspace
                        .layers
                        .iter_mut()
                        .find(|layer| layer.name == member.name)
                        .map(|layer| &mut layer.requirements),
                };
                requirements.expect("the draft names its own members").extend(read);
            }
        }
    }
    Ok(workspace)
}

fn find_links_dir(ctx: &Context, root: &Path, spanned: &Spanned<String>) -> Result<PathBuf, ManifestError> {
    let path = root.join(spanned.get_ref());
    if !path.is_dir() {
        return Err(ctx.error(
            format!("find-links directory `{}` does not exist", spanned.get_ref()),
            spanned.span(),
            "no such directory",
            Some(format!("paths are relative to `{}`", root.display())),
        ));
    }
    Ok(path)
}

/// The requirements of a `requirements.txt` (with its `-r` includes) or a `pyproject.toml`.
fn read_requirements_file(
    ctx: &Context,
    root: &Path,
    file: &Spanned<String>,
) -> Result<Vec<pep508_rs::Requirement>, ManifestError> {
    let path = inside_workspace(ctx, root, file, "requirements file")?;
    let text = read_text_file(&path).map_err(|problem| {
        ctx.error(
            format!("cannot read requirements file `{}`: {problem}", file.get_ref()),
            file.span(),
            "this file",
            Some(format!("paths are relative to `{}`", root.display())),
        )
    })?;
    let file_name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    if file_name == "pyproject.toml" {
        requirements_file::parse_pyproject(&text, &path)
    } else {
        requirements_file::parse_requirements_txt_in(&text, &path, root)
    }
}

/// `root` joined with the path `value` names, refused unless it stays inside the workspace root,
/// also after following symbolic links: `lambda.toml` may come from a pull request, and must not
/// be able to make lbuild read (and quote) or package files elsewhere on the machine.
fn inside_workspace(ctx: &Context, root: &Path, value: &Spanned<String>, what: &str) -> Result<PathBuf, ManifestError> {
    let path = root.join(value.get_ref());
    if is_inside(root, &path) {
        return Ok(path);
    }
    let normalized_root = crate::fsutil::absolute_normalized(root);
    Err(ctx.error(
        format!("the {what} `{}` is outside the workspace", value.get_ref()),
        value.span(),
        "outside the workspace",
        Some(format!(
            "paths in lambda.toml stay inside `{}` (links included); put lambda.toml at the root of the \
             project that holds everything it packages",
            normalized_root.display()
        )),
    ))
}

/// Whether `path` is inside `root`, by name and, when both exist, after following links.
pub(crate) fn is_inside(root: &Path, path: &Path) -> bool {
    let inside = crate::fsutil::absolute_normalized(path).starts_with(crate::fsutil::absolute_normalized(root));
    match (fs_err::canonicalize(root), fs_err::canonicalize(path)) {
        (Ok(real_root), Ok(real)) => inside && real.starts_with(real_root),
        _ => inside,
    }
}

/// The largest requirements file lbuild reads; real ones are a few kilobytes.
const MAX_TEXT_FILE: u64 = 4 << 20;

/// The text of a small regular file, or why it is not one (without quoting any of it).
pub(crate) fn read_text_file(path: &Path) -> Result<String, String> {
    let meta = fs_err::metadata(path).map_err(|err| err.kind().to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > MAX_TEXT_FILE {
        return Err(format!("it is {} bytes, more than a requirements file can be ({MAX_TEXT_FILE})", meta.len()));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(fs_err::File::open(path).map_err(|err| err.kind().to_string())?, MAX_TEXT_FILE + 1),
        &mut bytes,
    )
    .map_err(|err| err.kind().to_string())?;
    if bytes.len() as u64 > MAX_TEXT_FILE {
        return Err(format!("it is more than {MAX_TEXT_FILE} bytes"));
    }
    if bytes.contains(&0) {
        return Err("it is not a text file (it holds NUL bytes)".into());
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".into())
}
