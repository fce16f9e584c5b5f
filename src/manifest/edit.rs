//! The edits `lbuild add` and `lbuild remove` make to the requirements a member reads: its
//! `requirements` array in `lambda.toml`, its `requirements-file` (a `requirements.txt`, or a
//! `pyproject.toml`'s `[project].dependencies`). TOML is edited with `toml_edit`, so comments,
//! order and layout stay as the user wrote them; a requirements file is edited line by line.
//!
//! Nothing here writes: an edit is the new bytes of each file, which the caller writes (and can
//! put back when the relock that follows fails).
//!
//! Where a requirement goes: where the member already lists the package with the same markers
//! (it is replaced there), else into its requirements file when it has one, else into its
//! `requirements` array (created when missing).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::Requirement;
use toml_edit::{Array, DocumentMut, Item, TableLike, Value};

use crate::model::MemberId;
use crate::output::shorten;
use crate::python::wheel_name::normalize_name;

/// The new contents of one file.
#[derive(Debug, Clone)]
pub struct FileEdit {
    pub path: PathBuf,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

/// What happened to one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EditAction {
    Added,
    Replaced,
    Removed,
}

/// One requirement added, replaced or removed, and in which file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequirementChange {
    /// The file, relative to the workspace root (`lambda.toml`, `requirements.txt`).
    pub file: String,
    pub action: EditAction,
    /// The requirement as written now (for a removal, as it was written).
    pub requirement: String,
    /// The requirement it replaced.
    pub previous: Option<String>,
}

/// The edits of one `add` or `remove`.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// Only files whose bytes change.
    pub files: Vec<FileEdit>,
    pub changes: Vec<RequirementChange>,
}

/// A requirement to add: the text as it will be written, and what it means.
#[derive(Debug, Clone)]
pub struct NewRequirement {
    pub text: String,
    pub requirement: Requirement,
}

impl NewRequirement {
    /// Parse a requirement from the command line.
    pub fn parse(text: &str) -> miette::Result<NewRequirement> {
        let text = text.trim();
        let requirement = Requirement::from_str(text).map_err(|err| {
            miette::miette!(
                help = "write a PEP 508 requirement such as `requests`, `requests>=2.31` or `requests[socks]`; \
                        a local package goes in `[workspace.sources]`",
                "`{}` is not a valid requirement: {}",
                shorten(text),
                err.message
            )
        })?;
        Ok(NewRequirement { text: text.to_string(), requirement })
    }

    /// Whether it names no version and no URL (`requests`, `requests[socks]; python_version < "4"`).
    pub fn is_bare(&self) -> bool {
        match &self.requirement.version_or_url {
            None => true,
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) => specifiers.is_empty(),
            Some(pep508_rs::VersionOrUrl::Url(_)) => false,
        }
    }

    /// The same requirement with a lower bound: `requests>=2.32.3`, extras and markers kept as
    /// written.
    pub fn with_lower_bound(&self, version: &str) -> NewRequirement {
        let (head, marker) = match self.text.split_once(';') {
            Some((head, marker)) => (head.trim_end(), Some(marker.trim())),
            None => (self.text.as_str(), None),
        };
        let text = match marker {
            Some(marker) => format!("{head}>={version}; {marker}"),
            None => format!("{head}>={version}"),
        };
        match Requirement::from_str(&text) {
            Ok(requirement) => NewRequirement { text, requirement },
            // A version the bound cannot be written with is left out.
            Err(_) => self.clone(),
        }
    }
}

/// Where a member's requirements file points and what it is.
enum FileKind {
    Txt,
    PyProject,
}

/// The member's table in `lambda.toml`, and what it reads from.
struct Member<'a> {
    id: &'a MemberId,
    doc: DocumentMut,
    manifest_before: Vec<u8>,
    manifest_path: PathBuf,
    root: PathBuf,
    /// `requirements-file`, as written.
    file: Option<String>,
}

impl<'a> Member<'a> {
    fn open(manifest_path: &Path, id: &'a MemberId) -> miette::Result<Member<'a>> {
        let before = fs_err::read(manifest_path).map_err(|err| miette::miette!("cannot read: {err}"))?;
        let text = std::str::from_utf8(&before)
            .map_err(|_| miette::miette!("`{}` is not UTF-8 text", manifest_path.display()))?;
        let doc: DocumentMut =
            text.parse().map_err(|err| miette::miette!("`{}` is not valid TOML: {err}", manifest_path.display()))?;
        let mut member = Member {
            id,
            doc,
            manifest_before: before,
            manifest_path: manifest_path.to_path_buf(),
            root: manifest_path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            file: None,
        };
        let table = member.table()?;
        member.file = table.get("requirements-file").and_then(Item::as_str).map(str::to_string);
        Ok(member)
    }

    fn table(&mut self) -> miette::Result<&mut dyn TableLike> {
        let (kind, name) = (self.id.kind_str(), self.id.name.clone());
        self.doc
            .get_mut(kind)
            .and_then(|kind| kind.get_mut(&name))
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| miette::miette!("`[{kind}.{name}]` is not a table in `lambda.toml`"))
    }

    /// The `requirements` array, created when `create`.
    fn inline(&mut self, create: bool) -> miette::Result<Option<&mut Array>> {
        let id = self.id.clone();
        let table = self.table()?;
        if table.get("requirements").is_none() {
            if !create {
                return Ok(None);
            }
            table.insert("requirements", Item::Value(Value::Array(Array::new())));
        }
        match table.get_mut("requirements").and_then(Item::as_array_mut) {
            Some(array) => Ok(Some(array)),
            None => miette::bail!("`requirements` of `[{}]` in `lambda.toml` is not an array", id.key()),
        }
    }

    fn manifest_edit(&self) -> Option<FileEdit> {
        let after = self.doc.to_string().into_bytes();
        (after != self.manifest_before).then(|| FileEdit {
            path: self.manifest_path.clone(),
            before: self.manifest_before.clone(),
            after,
        })
    }

    fn manifest_name(&self) -> String {
        self.manifest_path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

/// The requirements file a member reads, open for editing.
struct RequirementsFile {
    display: String,
    path: PathBuf,
    before: Vec<u8>,
    kind: FileKind,
    /// A `requirements.txt`: its text (a UTF-8 byte order mark is kept apart).
    text: String,
    bom: bool,
    /// A `pyproject.toml`.
    doc: Option<DocumentMut>,
}

impl RequirementsFile {
    fn open(root: &Path, written: &str) -> miette::Result<RequirementsFile> {
        let path = root.join(written);
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if name == "Pipfile" {
            miette::bail!(
                help = "run `pipenv install <package>` (or `pipenv uninstall`), then `lbuild lock`",
                "`{written}` is a Pipfile, which Pipenv owns; lbuild does not edit it"
            );
        }
        let before = fs_err::read(&path).map_err(|err| miette::miette!("cannot read `{written}`: {err}"))?;
        let (bom, rest) = match before.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (true, rest),
            None => (false, &before[..]),
        };
        let text = std::str::from_utf8(rest)
            .map_err(|_| {
                miette::miette!(
                    help = "save it as UTF-8, or edit it by hand",
                    "`{written}` is not UTF-8 text, so lbuild does not edit it"
                )
            })?
            .to_string();
        if name == "pyproject.toml" {
            let doc: DocumentMut =
                text.parse().map_err(|err| miette::miette!("`{written}` is not valid TOML: {err}"))?;
            let project = doc.get("project").and_then(Item::as_table_like);
            let dynamic = project
                .and_then(|project| project.get("dynamic"))
                .and_then(Item::as_array)
                .is_some_and(|dynamic| dynamic.iter().any(|item| item.as_str() == Some("dependencies")));
            if dynamic {
                miette::bail!(
                    help = "its build backend computes them; add the package where the backend reads it, then \
                            `lbuild lock`",
                    "the dependencies of `{written}` are dynamic, so lbuild does not edit them"
                );
            }
            let poetry = doc
                .get("tool")
                .and_then(|tool| tool.get("poetry"))
                .and_then(|poetry| poetry.get("dependencies"))
                .is_some();
            if project.is_none_or(|project| project.get("dependencies").is_none()) && poetry {
                miette::bail!(
                    help = "run `poetry add <package>` (or `poetry remove`), then `lbuild lock`",
                    "`{written}` lists its dependencies in `[tool.poetry.dependencies]`, which Poetry owns; lbuild \
                     does not edit them"
                );
            }
            if project.is_none() {
                miette::bail!(
                    help = "add a `[project]` table (PEP 621) with `dependencies`",
                    "`{written}` has no `[project]` table"
                );
            }
            return Ok(RequirementsFile {
                display: written.to_string(),
                path,
                before,
                kind: FileKind::PyProject,
                text: String::new(),
                bom,
                doc: Some(doc),
            });
        }
        if lines(&text).iter().any(|line| line.content.split_whitespace().any(|word| word.starts_with("--hash"))) {
            miette::bail!(
                help = "it was compiled (pip-compile, `uv pip compile`): change its source (`requirements.in`, \
                        `pyproject.toml`) and compile it again, then `lbuild lock`",
                "`{written}` pins its packages with `--hash`, so lbuild does not edit it"
            );
        }
        Ok(RequirementsFile { display: written.to_string(), path, before, kind: FileKind::Txt, text, bom, doc: None })
    }

    /// `[project].dependencies`, created when missing.
    fn dependencies(&mut self) -> miette::Result<&mut Array> {
        let display = self.display.clone();
        let project = self
            .doc
            .as_mut()
            .and_then(|doc| doc.get_mut("project"))
            .and_then(Item::as_table_like_mut)
            .expect("checked when opened");
        if project.get("dependencies").is_none() {
            project.insert("dependencies", Item::Value(Value::Array(Array::new())));
        }
        project
            .get_mut("dependencies")
            .and_then(Item::as_array_mut)
            .ok_or_else(|| miette::miette!("`[project].dependencies` of `{display}` is not an array"))
    }

    fn edit(&self) -> Option<FileEdit> {
        let mut after = Vec::new();
        if self.bom {
            after.extend_from_slice(b"\xEF\xBB\xBF");
        }
        match &self.doc {
            Some(doc) => after.extend_from_slice(doc.to_string().as_bytes()),
            None => after.extend_from_slice(self.text.as_bytes()),
        }
        (after != self.before).then(|| FileEdit { path: self.path.clone(), before: self.before.clone(), after })
    }

    /// The requirements the file lists directly (not through `-r`), as written.
    fn listed(&mut self) -> miette::Result<Vec<String>> {
        Ok(match self.kind {
            FileKind::PyProject => strings(self.dependencies()?),
            FileKind::Txt => {
                lines(&self.text).into_iter().filter_map(|line| line.requirement().map(|_| line.content)).collect()
            }
        })
    }
}

/// The string items of an array.
fn strings(array: &Array) -> Vec<String> {
    array.iter().filter_map(|item| item.as_str().map(str::to_string)).collect()
}

/// Whether `written` names the same package as `new`, with the same markers.
fn same_slot(written: &str, new: &Requirement) -> bool {
    <Requirement>::from_str(written).is_ok_and(|old| old.name == new.name && old.marker == new.marker)
}

/// Whether `written` names the package `name` (normalized).
fn names(written: &str, name: &str) -> bool {
    <Requirement>::from_str(written).is_ok_and(|old| normalize_name(old.name.as_ref()) == name)
}

/// Add `requirements` to `member`, in `lambda.toml` at `manifest_path` or the file it reads.
pub fn add(manifest_path: &Path, member: &MemberId, requirements: &[NewRequirement]) -> miette::Result<Edit> {
    let mut target = Member::open(manifest_path, member)?;
    let manifest_name = target.manifest_name();
    let mut file = match target.file.clone() {
        Some(written) => Some(RequirementsFile::open(&target.root, &written)?),
        None => None,
    };
    let mut changes = Vec::new();
    for new in requirements {
        // Replaced where the member lists it already, with the same markers.
        if let Some(array) = target.inline(false)?
            && let Some(previous) = replace_in_array(array, new)
        {
            changes.push(RequirementChange {
                file: manifest_name.clone(),
                action: EditAction::Replaced,
                requirement: new.text.clone(),
                previous: Some(previous),
            });
            continue;
        }
        if let Some(file) = &mut file {
            let (action, previous) = match file.kind {
                FileKind::PyProject => {
                    let array = file.dependencies()?;
                    match replace_in_array(array, new) {
                        Some(previous) => (EditAction::Replaced, Some(previous)),
                        None => {
                            push_like(array, &new.text);
                            (EditAction::Added, None)
                        }
                    }
                }
                FileKind::Txt => match replace_in_txt(&mut file.text, new) {
                    Some(previous) => (EditAction::Replaced, Some(previous)),
                    None => {
                        append_to_txt(&mut file.text, &new.text);
                        (EditAction::Added, None)
                    }
                },
            };
            changes.push(RequirementChange {
                file: file.display.clone(),
                action,
                requirement: new.text.clone(),
                previous,
            });
            continue;
        }
        let array = target.inline(true)?.expect("created");
        push_like(array, &new.text);
        changes.push(RequirementChange {
            file: manifest_name.clone(),
            action: EditAction::Added,
            requirement: new.text.clone(),
            previous: None,
        });
    }
    let mut files: Vec<FileEdit> = target.manifest_edit().into_iter().collect();
    files.extend(file.as_ref().and_then(RequirementsFile::edit));
    Ok(Edit { files, changes })
}

/// Remove every requirement of the packages `names` from `member`, wherever it lists them.
pub fn remove(manifest_path: &Path, member: &MemberId, packages: &[String]) -> miette::Result<Edit> {
    let mut target = Member::open(manifest_path, member)?;
    let manifest_name = target.manifest_name();
    let mut file = match target.file.clone() {
        Some(written) => Some(RequirementsFile::open(&target.root, &written)?),
        None => None,
    };
    let mut changes = Vec::new();
    for package in packages {
        let name = normalize_name(package);
        let mut found = false;
        if let Some(array) = target.inline(false)? {
            for removed in remove_from_array(array, &name) {
                found = true;
                changes.push(RequirementChange {
                    file: manifest_name.clone(),
                    action: EditAction::Removed,
                    requirement: removed,
                    previous: None,
                });
            }
        }
        if let Some(file) = &mut file {
            let removed = match file.kind {
                FileKind::PyProject => remove_from_array(file.dependencies()?, &name),
                FileKind::Txt => remove_from_txt(&mut file.text, &name),
            };
            for removed in removed {
                found = true;
                changes.push(RequirementChange {
                    file: file.display.clone(),
                    action: EditAction::Removed,
                    requirement: removed,
                    previous: None,
                });
            }
        }
        if !found {
            let mut listed: Vec<String> = target.inline(false)?.map(|array| strings(array)).unwrap_or_default();
            let mut places = vec![format!("`{manifest_name}`")];
            if let Some(file) = &mut file {
                listed.extend(file.listed()?);
                places.push(format!("`{}`", file.display));
            }
            let listed_names: Vec<String> = listed
                .iter()
                .filter_map(|written| <Requirement>::from_str(written).ok())
                .map(|requirement| normalize_name(requirement.name.as_ref()))
                .collect();
            let closest = listed_names
                .iter()
                .map(|known| (strsim::jaro_winkler(&name, known), known))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, known)| format!("did you mean `{known}`? "))
                .unwrap_or_default();
            let list = if listed_names.is_empty() {
                "it lists no requirements".to_string()
            } else {
                format!("it requires {}", listed_names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
            };
            let included = file.as_ref().is_some_and(|file| {
                matches!(file.kind, FileKind::Txt)
                    && lines(&file.text)
                        .iter()
                        .any(|line| line.content.starts_with("-r") || line.content.starts_with("--requirement"))
            });
            miette::bail!(
                help = format!(
                    "{closest}{list}{}",
                    if included {
                        "; a package from a file it includes with `-r` is removed from that file"
                    } else {
                        ""
                    }
                ),
                "{member} does not require `{}` in {}",
                shorten(package),
                places.join(" or ")
            );
        }
    }
    let mut files: Vec<FileEdit> = target.manifest_edit().into_iter().collect();
    files.extend(file.as_ref().and_then(RequirementsFile::edit));
    Ok(Edit { files, changes })
}

/// Replace the item that names `new`'s package with the same markers, keeping its layout;
/// returns what it said.
fn replace_in_array(array: &mut Array, new: &NewRequirement) -> Option<String> {
    let index =
        array.iter().position(|item| item.as_str().is_some_and(|written| same_slot(written, &new.requirement)))?;
    let previous = array.get(index)?.as_str()?.to_string();
    let decor = array.get(index)?.decor().clone();
    let mut value = Value::from(new.text.as_str());
    *value.decor_mut() = decor;
    array.replace_formatted(index, value);
    Some(previous)
}

/// Remove every item that names `name`; returns them.
fn remove_from_array(array: &mut Array, name: &str) -> Vec<String> {
    let mut removed = Vec::new();
    let mut index = 0;
    while index < array.len() {
        let written = array.get(index).and_then(Value::as_str).map(str::to_string);
        let Some(written) = written.filter(|written| names(written, name)) else {
            index += 1;
            continue;
        };
        let decor = array.get(index).map(|item| item.decor().clone()).unwrap_or_default();
        array.remove(index);
        let last = index == array.len();
        // The first item's prefix and the last one's suffix hold the array's own layout (`[`
        // and the line break before `]`): the items that take their places keep it.
        if index == 0
            && let Some(first) = array.get_mut(0)
        {
            let prefix = decor.prefix().cloned();
            if let Some(prefix) = prefix {
                first.decor_mut().set_prefix(prefix);
            }
        }
        if last
            && index > 0
            && let Some(suffix) = decor.suffix().cloned()
            && let Some(previous) = array.get_mut(index - 1)
        {
            previous.decor_mut().set_suffix(suffix);
        }
        removed.push(written);
    }
    removed
}

/// Append an item laid out like the others: on its own line in a multi-line array.
fn push_like(array: &mut Array, text: &str) {
    let mut value = Value::from(text);
    let count = array.len();
    if let Some(last) = array.get_mut(count.wrapping_sub(1)) {
        let prefix = last.decor().prefix().and_then(|prefix| prefix.as_str()).unwrap_or("").to_string();
        let prefix = if let Some(at) = prefix.rfind('\n') {
            // The indentation of the last line only: a comment before it belongs to the item
            // above.
            prefix[at..].to_string()
        } else {
            // The first item of `["a"]` has no prefix; the next one follows `, `.
            " ".to_string()
        };
        // Without a trailing comma the line break before `]` is the last item's suffix: it
        // moves to the new last item.
        let suffix = last.decor().suffix().and_then(|suffix| suffix.as_str()).unwrap_or("").to_string();
        if suffix.contains('\n') {
            last.decor_mut().set_suffix("");
            value.decor_mut().set_suffix(suffix);
        }
        value.decor_mut().set_prefix(prefix);
    }
    // A comment after the last item's comma is the array's trailing text: it stays with that
    // item, before the new one.
    let trailing = array.trailing().as_str().unwrap_or("").to_string();
    if let Some(at) = trailing.rfind('\n')
        && array.trailing_comma()
    {
        let prefix = value.decor().prefix().and_then(|prefix| prefix.as_str()).unwrap_or("").to_string();
        value.decor_mut().set_prefix(format!("{}{prefix}", &trailing[..at]));
        array.set_trailing(&trailing[at..]);
    }
    array.push_formatted(value);
}

/// A logical line of a requirements file: its byte range (continuations and line break
/// included) and its content without the comment, trimmed.
struct Line {
    range: std::ops::Range<usize>,
    /// Several physical lines joined with `\`.
    continued: bool,
    content: String,
}

impl Line {
    fn requirement(&self) -> Option<Requirement> {
        if self.content.is_empty() || self.content.starts_with('-') {
            return None;
        }
        Requirement::from_str(&self.content).ok()
    }
}

fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut pending: Option<(usize, String)> = None;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let (start, mut joined) = pending.take().unwrap_or((offset, String::new()));
        offset += raw.len();
        if let Some(stripped) = line.strip_suffix('\\') {
            joined.push_str(stripped);
            pending = Some((start, joined));
            continue;
        }
        let continued = !joined.is_empty();
        joined.push_str(line);
        let content = super::requirements_file::strip_comment(&joined).trim().to_string();
        out.push(Line { range: start..offset, continued, content });
    }
    if let Some((start, joined)) = pending {
        let content = super::requirements_file::strip_comment(&joined).trim().to_string();
        out.push(Line { range: start..offset, continued: true, content });
    }
    out
}

/// The line break the file uses.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

fn replace_in_txt(text: &mut String, new: &NewRequirement) -> Option<String> {
    let line = lines(text).into_iter().find(|line| {
        line.requirement().is_some_and(|old| old.name == new.requirement.name && old.marker == new.requirement.marker)
    })?;
    let previous = line.content.clone();
    let original = &text[line.range.clone()];
    let replacement = if line.continued {
        format!("{}{}", new.text, newline(text))
    } else {
        // The requirement is replaced; indentation, a trailing comment and the line break stay.
        let start = original.find(previous.as_str()).unwrap_or(0);
        format!("{}{}{}", &original[..start], new.text, &original[start + previous.len()..])
    };
    text.replace_range(line.range, &replacement);
    Some(previous)
}

fn append_to_txt(text: &mut String, requirement: &str) {
    let newline = newline(text);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push_str(newline);
    }
    text.push_str(requirement);
    text.push_str(newline);
}

fn remove_from_txt(text: &mut String, name: &str) -> Vec<String> {
    let mut removed = Vec::new();
    for line in lines(text).into_iter().rev() {
        if line.requirement().is_some_and(|requirement| normalize_name(requirement.name.as_ref()) == name) {
            removed.push(line.content.clone());
            text.replace_range(line.range, "");
        }
    }
    removed.reverse();
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(text: &str) -> NewRequirement {
        NewRequirement::parse(text).unwrap()
    }

    fn array_after(text: &str, edit: impl FnOnce(&mut Array)) -> String {
        let mut doc: DocumentMut = text.parse().unwrap();
        edit(doc["requirements"].as_array_mut().unwrap());
        doc.to_string()
    }

    #[test]
    fn items_are_appended_in_the_layout_of_the_array() {
        let push = |array: &mut Array| push_like(array, "c");
        assert_eq!(array_after("requirements = []\n", push), "requirements = [\"c\"]\n");
        assert_eq!(array_after("requirements = [\"a\"]\n", push), "requirements = [\"a\", \"c\"]\n");
        assert_eq!(array_after("requirements = [\"a\", \"b\"]\n", push), "requirements = [\"a\", \"b\", \"c\"]\n");
        assert_eq!(
            array_after("requirements = [\n    \"a\",  # why\n    \"b\",\n]\n", push),
            "requirements = [\n    \"a\",  # why\n    \"b\",\n    \"c\",\n]\n"
        );
        assert_eq!(
            array_after("requirements = [\n    \"a\",\n    \"b\"\n]\n", push),
            "requirements = [\n    \"a\",\n    \"b\",\n    \"c\"\n]\n"
        );
    }

    #[test]
    fn items_are_removed_and_replaced_keeping_the_layout() {
        let remove = |name: &'static str| move |array: &mut Array| assert_eq!(remove_from_array(array, name).len(), 1);
        assert_eq!(array_after("requirements = [\"a\", \"b\"]\n", remove("a")), "requirements = [\"b\"]\n");
        assert_eq!(array_after("requirements = [\"a\", \"b\"]\n", remove("b")), "requirements = [\"a\"]\n");
        assert_eq!(
            array_after("requirements = [\n    \"a\",\n    \"b\"\n]\n", remove("b")),
            "requirements = [\n    \"a\"\n]\n"
        );
        assert_eq!(
            array_after("requirements = [\n    \"A_b>=1\",\n    \"c\",\n]\n", remove("a-b")),
            "requirements = [\n    \"c\",\n]\n"
        );
        let replace = |array: &mut Array| assert_eq!(replace_in_array(array, &new("a>=2")).as_deref(), Some("a<2"));
        assert_eq!(
            array_after("requirements = [\n    \"a<2\",  # pinned\n    \"b\",\n]\n", replace),
            "requirements = [\n    \"a>=2\",  # pinned\n    \"b\",\n]\n"
        );
        // Another marker is another slot.
        let mut doc: DocumentMut = "requirements = [\"a; python_version < '3.12'\"]\n".parse().unwrap();
        assert!(replace_in_array(doc["requirements"].as_array_mut().unwrap(), &new("a>=2")).is_none());
    }

    #[test]
    fn requirements_txt_lines_are_edited_in_place() {
        let mut text = "# top\nrequests==2.0  # keep\r\n-r base.txt\nboto3\\\n  >=1\nlast".to_string();
        assert_eq!(replace_in_txt(&mut text, &new("requests>=2.31")).as_deref(), Some("requests==2.0"));
        assert_eq!(text, "# top\nrequests>=2.31  # keep\r\n-r base.txt\nboto3\\\n  >=1\nlast");
        append_to_txt(&mut text, "httpx");
        assert_eq!(text, "# top\nrequests>=2.31  # keep\r\n-r base.txt\nboto3\\\n  >=1\nlast\r\nhttpx\r\n");
        assert_eq!(remove_from_txt(&mut text, "boto3"), vec!["boto3  >=1".to_string()]);
        assert_eq!(text, "# top\nrequests>=2.31  # keep\r\n-r base.txt\nlast\r\nhttpx\r\n");
        assert!(remove_from_txt(&mut text, "base-txt").is_empty());
    }

    #[test]
    fn a_bare_requirement_takes_a_lower_bound_with_its_extras_and_markers() {
        assert!(new("requests").is_bare());
        assert!(new("requests[socks] ; python_version < '4'").is_bare());
        assert!(!new("requests>=2").is_bare());
        assert!(!new("pkg @ https://example.com/pkg-1.0.tar.gz").is_bare());
        assert_eq!(new("requests").with_lower_bound("2.32.3").text, "requests>=2.32.3");
        assert_eq!(
            new("requests[socks] ; python_version < '4'").with_lower_bound("2.32.3").text,
            "requests[socks]>=2.32.3; python_version < '4'"
        );
        assert!(NewRequirement::parse("requests>>2").is_err());
    }
}
