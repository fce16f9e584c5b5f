//! The files `lambda.toml` names: `find-links` directories, function and layer `source` directories and
//! requirements files. This is the half of validation that touches the file system; it checks
//! every path against the workspace root and reads text files with a size bound, since
//! `lambda.toml` may come from an untrusted change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use std::str::FromStr;

use super::error::{Context, ManifestError};
use super::local::{Locals, Written};
use super::requirements_file::{self, LineOrigin, RequirementsFile};
use super::translate::{Draft, PathRef};
use super::{MemberId, MemberKind, ProjectLockMode, Workspace};

/// Finish a draft: check each path it names and read each requirements file, in the order
/// `lambda.toml` names them; returns the workspace and the warnings the requirements files
/// gave.
pub(super) fn finish(draft: Draft, ctx: &Context) -> Result<(Workspace, Vec<String>), ManifestError> {
    let Draft { mut workspace, paths, warnings: _ } = draft;
    let root = workspace.root.clone();
    let mut warnings = Vec::new();
    let mut requires_python = Vec::new();
    let mut locals = Locals::new(&root, &workspace.sources);
    // Each member's source directories checked so far: (the real directory, as written).
    let mut sources: BTreeMap<MemberId, Vec<(PathBuf, String)>> = BTreeMap::new();
    for path in paths {
        match path {
            PathRef::LocalPackage(name, spanned) => {
                let at = Written { file: &ctx.name, text: &ctx.source, span: spanned.span() };
                locals.add(&root.join(spanned.get_ref()), spanned.get_ref(), Some(&name), &at)?;
            }
            PathRef::FindLinks(spanned) => workspace.find_links.push(find_links_dir(ctx, &root, &spanned)?),
            PathRef::Source(member, spanned) => {
                let before = sources.entry(member.clone()).or_default();
                let real = source_dir(ctx, &root, &member, &spanned, before)?;
                before.push((real, spanned.get_ref().clone()));
            }
            PathRef::RequirementsFile { member, file, extras, groups } => {
                let read = read_requirements_file(ctx, &root, &file, &extras, &groups, &mut locals)?;
                if workspace.project_lock != ProjectLockMode::Ignore
                    && let Some(lock) = project_lock(ctx, &root, &file)?
                {
                    workspace.project_locks.insert(member.clone(), lock);
                }
                warnings.extend(read.file.warnings);
                // `-e PATH` and bare path lines: local packages, required by their project name.
                let mut local_requirements = Vec::new();
                for local in &read.file.local_paths {
                    let shown = if local.editable { format!("-e {}", local.written) } else { local.written.clone() };
                    let at =
                        |message: String, label: &str, help: Option<String>| local.origin.error(message, label, help);
                    local_requirements.push(locals.local_requirement(
                        &local.path,
                        &shown,
                        local.name.as_deref(),
                        &local.extras,
                        &local.marker,
                        &at,
                    )?);
                }
                if let Some(specifiers) = read.requires_python {
                    requires_python.push((member.clone(), specifiers));
                }
                let (requirements, inputs) = match member.kind {
                    MemberKind::Function => workspace
                        .functions
                        .iter_mut()
                        .find(|function| function.name == member.name)
                        .map(|function| (&mut function.requirements, &mut function.file)),
                    MemberKind::Layer => workspace
                        .layers
                        .iter_mut()
                        .find(|layer| layer.name == member.name)
                        .map(|layer| (&mut layer.requirements, &mut layer.file)),
                }
                .expect("the draft names its own members");
                requirements.extend(read.file.requirements);
                requirements.extend(local_requirements);
                inputs.constraints.extend(read.file.constraints);
                inputs.hashes.extend(read.file.hashes);
            }
        }
    }
    workspace.local_packages = locals.finish();
    check_requires_python(&workspace, &requires_python)?;
    Ok((workspace, warnings))
}

/// `[project].requires-python` of a member's pyproject.toml holds on each target the member
/// deploys on (the target's full Python version): a function whose project refuses its runtime
/// would fail at import, or lock packages for a Python the project never runs on.
fn check_requires_python(
    workspace: &Workspace,
    checks: &[(MemberId, (pep440_rs::VersionSpecifiers, LineOrigin))],
) -> Result<(), ManifestError> {
    if checks.is_empty() {
        return Ok(());
    }
    let targets = workspace.targets();
    for (member, (specifiers, origin)) in checks {
        for (target, members) in &targets {
            if !members.contains(member) || specifiers.contains(&target.python_full_version) {
                continue;
            }
            let fitting: Vec<String> = crate::platform::RUNTIMES
                .iter()
                .filter(|runtime| {
                    pep440_rs::Version::from_str(runtime.default_full_version).is_ok_and(|v| specifiers.contains(&v))
                })
                .map(|runtime| format!("`{}`", runtime.name))
                .collect();
            let way_out = match (member.kind, fitting.is_empty()) {
                (_, true) => "no Lambda runtime satisfies it; widen `requires-python`".to_string(),
                (MemberKind::Function, false) => format!(
                    "set `runtime` of the function to one it allows ({}), or widen `requires-python`",
                    fitting.join(", ")
                ),
                (MemberKind::Layer, false) => format!(
                    "deploy the functions that use the layer on a runtime it allows ({}), or widen `requires-python`",
                    fitting.join(", ")
                ),
            };
            return Err(origin.error(
                format!(
                    "`requires-python = \"{specifiers}\"` of {member}'s project excludes its runtime {} (Python {})",
                    target.runtime.name, target.python_full_version
                ),
                "requires-python",
                Some(way_out),
            ));
        }
    }
    Ok(())
}

/// A member's source directory: inside the workspace (links included), an existing directory,
/// and neither one of the member's earlier sources nor inside or around one (its files would be
/// zipped twice). Returns the directory with its links resolved.
fn source_dir(
    ctx: &Context,
    root: &Path,
    member: &MemberId,
    value: &Spanned<String>,
    before: &[(PathBuf, String)],
) -> Result<PathBuf, ManifestError> {
    let path = root.join(value.get_ref());
    if !is_inside(root, &path) {
        let message = format!("the source directory `{}` of {member} is outside the workspace", value.get_ref());
        return Err(outside(ctx, root, value, message));
    }
    let hint = Some(format!("paths are relative to `{}`", root.display()));
    let real = match fs_err::canonicalize(&path) {
        Ok(real) if real.is_dir() => real,
        Ok(_) => {
            return Err(ctx.error(
                format!("the source directory `{}` of {member} is not a directory", value.get_ref()),
                value.span(),
                "not a directory",
                Some("`source` names directories; their files go into the zip".into()),
            ));
        }
        Err(_) => {
            return Err(ctx.error(
                format!("the source directory `{}` of {member} does not exist", value.get_ref()),
                value.span(),
                "no such directory",
                hint,
            ));
        }
    };
    for (other, shown) in before {
        let relation = if *other == real {
            "is the same directory as"
        } else if real.starts_with(other) {
            "is inside"
        } else if other.starts_with(&real) {
            "holds"
        } else {
            continue;
        };
        return Err(ctx.error(
            format!("the source directory `{}` of {member} {relation} its source `{shown}`", value.get_ref()),
            value.span(),
            "overlaps another source",
            Some(
                "each source directory's files go to the zip root, so overlapping ones would zip the same files \
                 twice; list directories that do not contain each other"
                    .into(),
            ),
        ));
    }
    Ok(real)
}

/// The other tool's lock that governs the requirements file `file` (see
/// `interop::find_project_lock`), refused when a link takes it outside the workspace.
fn project_lock(ctx: &Context, root: &Path, file: &Spanned<String>) -> Result<Option<PathBuf>, ManifestError> {
    let Some(lock) = crate::interop::find_project_lock(&root.join(file.get_ref()), root) else { return Ok(None) };
    if !is_inside(root, &lock) {
        return Err(ctx.error(
            format!(
                "`{}`, the project lock of the requirements file `{}`, is outside the workspace",
                lock.display(),
                file.get_ref()
            ),
            file.span(),
            "the requirements file",
            Some("replace the link with the file, or set `project-lock = \"ignore\"` in `[workspace]`".into()),
        ));
    }
    Ok(Some(lock))
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

/// What a member's requirements file gave.
struct Read {
    file: RequirementsFile,
    /// A pyproject's `requires-python`, to check against the member's runtimes.
    requires_python: Option<(pep440_rs::VersionSpecifiers, LineOrigin)>,
}

/// The requirements of a `requirements.txt` (with its `-r` and `-c` includes) or a
/// `pyproject.toml` (with the extras and dependency groups the member selects; its
/// `[tool.uv.sources]` add local packages to `locals`).
fn read_requirements_file(
    ctx: &Context,
    root: &Path,
    file: &Spanned<String>,
    extras: &[Spanned<String>],
    groups: &[Spanned<String>],
    locals: &mut Locals,
) -> Result<Read, ManifestError> {
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
    if file_name != "pyproject.toml" {
        if let Some((key, value)) =
            extras.first().map(|extra| ("extras", extra)).or(groups.first().map(|group| ("groups", group)))
        {
            return Err(ctx.error(
                format!("`{key}` selects from a `pyproject.toml`, but `{}` is not one", file.get_ref()),
                value.span(),
                "not a pyproject.toml",
                Some(format!(
                    "point `requirements-file` at the project's `pyproject.toml`, or write the packages of `{}` into \
                     the requirements file",
                    value.get_ref()
                )),
            ));
        }
        let file = if file_name == "Pipfile" {
            requirements_file::parse_pipfile(&text, &path)?
        } else {
            requirements_file::parse_requirements_txt_in(&text, &path, root)?
        };
        return Ok(Read { file, requires_python: None });
    }
    locals.add_sources(&path, &text)?;
    let unknown = |key: &str, table: &str, value: &Spanned<String>, known: Vec<&str>| {
        let wanted = crate::python::wheel_name::normalize_name(value.get_ref());
        let closest = known
            .iter()
            .map(|name| (strsim::jaro_winkler(&wanted, name), *name))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, name)| format!("; did you mean `{name}`?"))
            .unwrap_or_default();
        let listed = if known.is_empty() {
            format!("`{}` has no `{table}`", file.get_ref())
        } else {
            format!(
                "the {key}s of `{}` are: {}",
                file.get_ref(),
                known.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            )
        };
        ctx.error(
            format!("`{}` has no {key} `{}` in `{table}`", file.get_ref(), value.get_ref()),
            value.span(),
            &format!("unknown {key}"),
            Some(format!("{listed}{closest}")),
        )
    };
    // A Poetry project without `[project].dependencies`: its extras are `[tool.poetry.extras]`,
    // and its groups (`[tool.poetry.group.NAME]`) are development tools, never deployed.
    let poetry_extras = crate::interop::poetry::pyproject_extras(&text);
    let mut selected = Vec::new();
    for extra in extras {
        let wanted = crate::python::wheel_name::normalize_name(extra.get_ref());
        match poetry_extras.iter().find(|name| crate::python::wheel_name::normalize_name(name) == wanted) {
            Some(name) => selected.push(name.clone()),
            None => selected.push(extra.get_ref().clone()),
        }
    }
    if let Some(poetry) = crate::interop::poetry::pyproject_requirements(&text, &path, &selected)? {
        if let Some(extra) =
            extras.iter().zip(&selected).find(|(_, name)| !poetry_extras.contains(name)).map(|(extra, _)| extra)
        {
            return Err(unknown(
                "extra",
                "[tool.poetry.extras]",
                extra,
                poetry_extras.iter().map(String::as_str).collect(),
            ));
        }
        if let Some(group) = groups.first() {
            return Err(ctx.error(
                format!(
                    "`groups` selects PEP 735 `[dependency-groups]`, but `{}` is a Poetry project whose requirements are `[tool.poetry.dependencies]`",
                    file.get_ref()
                ),
                group.span(),
                "not deployed",
                Some(format!(
                    "Poetry's groups (`[tool.poetry.group.{}]`) hold development tools, which lbuild does not deploy: \
                     move the packages a function needs into `[tool.poetry.dependencies]`, or list them in `requirements`",
                    group.get_ref()
                )),
            ));
        }
        return Ok(Read { file: poetry, requires_python: None });
    }
    let pyproject = requirements_file::read_pyproject(&text, &path)?;
    let mut requirements = pyproject.dependencies().to_vec();
    for extra in extras {
        match pyproject.extra(extra.get_ref()) {
            Some(more) => requirements.extend(more),
            None => {
                return Err(unknown(
                    "extra",
                    "[project.optional-dependencies]",
                    extra,
                    pyproject.extra_names().collect(),
                ));
            }
        }
    }
    for group in groups {
        match pyproject.group(group.get_ref())? {
            Some(more) => requirements.extend(more),
            None => return Err(unknown("group", "[dependency-groups]", group, pyproject.group_names().collect())),
        }
    }
    Ok(Read {
        file: RequirementsFile { requirements, ..RequirementsFile::default() },
        requires_python: pyproject.requires_python,
    })
}

/// `root` joined with the path `value` names, refused unless it stays inside the workspace root,
/// also after following symbolic links: `lambda.toml` may come from a pull request, and must not
/// be able to make lbuild read (and quote) or package files elsewhere on the machine.
fn inside_workspace(ctx: &Context, root: &Path, value: &Spanned<String>, what: &str) -> Result<PathBuf, ManifestError> {
    let path = root.join(value.get_ref());
    if is_inside(root, &path) {
        return Ok(path);
    }
    Err(outside(ctx, root, value, format!("the {what} `{}` is outside the workspace", value.get_ref())))
}

/// The error for a path that leaves the workspace root.
fn outside(ctx: &Context, root: &Path, value: &Spanned<String>, message: String) -> ManifestError {
    let normalized_root = crate::fsutil::absolute_normalized(root);
    ctx.error(
        message,
        value.span(),
        "outside the workspace",
        Some(format!(
            "paths in lambda.toml stay inside `{}` (links included); put lambda.toml at the root of the \
             project that holds everything it packages",
            normalized_root.display()
        )),
    )
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
    decode_text(bytes)
}

/// The text of a requirements file, decoded as pip decodes one: by its byte order mark (UTF-8,
/// UTF-16 or UTF-32, as Windows editors and PowerShell's `>` write them), else as UTF-8. The
/// mark itself is not part of the text.
pub(crate) fn decode_text(bytes: Vec<u8>) -> Result<String, String> {
    let units = |bytes: &[u8], width: usize| -> Result<Vec<u32>, String> {
        if !bytes.len().is_multiple_of(width) {
            return Err(format!("it is cut off: UTF-{} text ends in half a character", width * 8));
        }
        Ok(bytes
            .chunks(width)
            .map(|chunk| chunk.iter().rev().fold(0u32, |value, byte| (value << 8) | u32::from(*byte)))
            .collect())
    };
    let swap = |values: Vec<u32>, width: usize| -> Vec<u32> {
        values
            .into_iter()
            .map(|value| if width == 2 { (value as u16).swap_bytes() as u32 } else { value.swap_bytes() })
            .collect()
    };
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8(rest.to_vec())
            .map_err(|_| "it is not UTF-8 text (after its UTF-8 byte order mark)".to_string())?
    } else if let Some(rest) =
        bytes.strip_prefix(&[0xFF, 0xFE, 0, 0]).or_else(|| bytes.strip_prefix(&[0, 0, 0xFE, 0xFF]))
    {
        let mut values = units(rest, 4)?;
        if bytes[0] == 0 {
            values = swap(values, 4);
        }
        values
            .into_iter()
            .map(|value| char::from_u32(value).ok_or_else(|| "it is not valid UTF-32 text".to_string()))
            .collect::<Result<String, _>>()?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]).or_else(|| bytes.strip_prefix(&[0xFE, 0xFF])) {
        let mut values = units(rest, 2)?;
        if bytes[0] == 0xFE {
            values = swap(values, 2);
        }
        let values: Vec<u16> = values.into_iter().map(|value| value as u16).collect();
        String::from_utf16(&values).map_err(|_| "it is not valid UTF-16 text".to_string())?
    } else {
        if bytes.contains(&0) {
            return Err("it is not a text file (it holds NUL bytes)".into());
        }
        String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?
    };
    if text.contains('\0') {
        return Err("it is not a text file (it holds NUL characters)".into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::decode_text;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    }

    #[test]
    fn requirements_files_are_decoded_by_their_byte_order_mark() {
        let text = "requests>=2 # café\nboto3\n";
        assert_eq!(decode_text(text.as_bytes().to_vec()).unwrap(), text);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend(text.as_bytes());
        assert_eq!(decode_text(bom).unwrap(), text);
        assert_eq!(decode_text(utf16(text, false)).unwrap(), text);
        assert_eq!(decode_text(utf16(text, true)).unwrap(), text);
        let mut utf32 = vec![0xFF, 0xFE, 0, 0];
        utf32.extend(text.chars().flat_map(|c| (c as u32).to_le_bytes()));
        assert_eq!(decode_text(utf32).unwrap(), text);
        let mut utf32be = vec![0, 0, 0xFE, 0xFF];
        utf32be.extend(text.chars().flat_map(|c| (c as u32).to_be_bytes()));
        assert_eq!(decode_text(utf32be).unwrap(), text);
    }

    #[test]
    fn text_that_is_not_text_is_refused() {
        assert!(decode_text(b"a\0b".to_vec()).unwrap_err().contains("NUL"));
        assert!(decode_text(vec![0xFF, 0xFE, b'a']).unwrap_err().contains("half a character"));
        assert!(decode_text(vec![0xFF, 0xFE, b'a', 0, 0, 0]).unwrap_err().contains("NUL"));
        // An unpaired surrogate.
        assert!(decode_text(vec![0xFF, 0xFE, 0x00, 0xD8]).unwrap_err().contains("UTF-16"));
        assert!(decode_text(vec![0xC3, 0x28]).unwrap_err().contains("not UTF-8"));
    }
}
