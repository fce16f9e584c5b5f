//! The edits `lbuild add` and `lbuild remove` make to the requirements a member reads: its
//! `requirements` array in `lambda.toml`, its `requirements-file` (a `requirements.txt`, or a
//! `pyproject.toml`'s `[project].dependencies`, with the `extras` and `groups` the member
//! selects). TOML is edited with `toml_edit`, so comments, order and layout stay as the user
//! wrote them; a requirements file is edited line by line. Line endings and a UTF-8 byte order
//! mark are kept.
//!
//! Nothing here writes: an edit is the new bytes of each file, which the caller writes (and can
//! put back when the relock that follows fails).
//!
//! Where a requirement goes: where the member already lists the package with the same markers
//! (it is replaced there; a bare name leaves what is written as it is), else into its
//! requirements file when it has one, else into its `requirements` array (created when
//! missing).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::Requirement;
use toml_edit::{Array, DocumentMut, Item, TableLike, Value};

use crate::model::MemberId;
use crate::output::{shorten, warn_user};
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
    /// A bare name for a package the member already requires: what is written stays.
    Kept,
}

/// One requirement added, replaced, removed or kept, and in which file.
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
        is_bare(&self.requirement)
    }

    /// Whether `other` is the same package under the same markers (one slot in a list).
    pub fn same_slot(&self, other: &Requirement) -> bool {
        self.requirement.name == other.name && self.requirement.marker == other.marker
    }

    /// The same requirement with a lower bound: `requests>=2.32.3`, extras and markers kept as
    /// written. A local version (`1.0+cpu`) is bounded by its public part, which `>=` takes.
    pub fn with_lower_bound(&self, version: &pep440_rs::Version) -> NewRequirement {
        let version = version.clone().without_local();
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

    /// The text to write in place of `old`: extras `old` names and this one does not are kept
    /// (`requests[socks]>=2` and `add 'requests>=3'` give `requests[socks]>=3`).
    fn replacing(&self, old: &Requirement) -> String {
        if !self.requirement.extras.is_empty() || old.extras.is_empty() {
            return self.text.clone();
        }
        let end = self
            .text
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(self.text.len());
        let extras = old.extras.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let text = format!("{}[{extras}]{}", &self.text[..end], &self.text[end..]);
        match <Requirement>::from_str(&text) {
            Ok(_) => text,
            Err(_) => self.text.clone(),
        }
    }
}

fn is_bare(requirement: &Requirement) -> bool {
    match &requirement.version_or_url {
        None => true,
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) => specifiers.is_empty(),
        Some(pep508_rs::VersionOrUrl::Url(_)) => false,
    }
}

/// Refuse two requirements for one slot in one command (`add a 'a>=2'`).
fn check_distinct(requirements: &[NewRequirement]) -> miette::Result<()> {
    for (at, new) in requirements.iter().enumerate() {
        if let Some(twice) = requirements[..at].iter().find(|earlier| earlier.same_slot(&new.requirement)) {
            miette::bail!(
                help = "give each package once (with one set of markers)",
                "`{}` and `{}` are for the same package",
                shorten(&twice.text),
                shorten(&new.text)
            );
        }
    }
    Ok(())
}

/// A file's text for editing: a UTF-8 byte order mark and `\r\n` line ends are set apart and put
/// back on the way out.
struct Text {
    bom: bool,
    crlf: bool,
}

impl Text {
    fn read(bytes: &[u8], written: &str) -> miette::Result<(Text, String)> {
        let (bom, rest) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        let text = std::str::from_utf8(rest).map_err(|_| {
            miette::miette!(
                help = "save it as UTF-8, or edit it by hand",
                "`{written}` is not UTF-8 text, so lbuild does not edit it"
            )
        })?;
        let crlf = text.contains("\r\n");
        Ok((Text { bom, crlf }, text.to_string()))
    }

    /// The bytes of TOML `text` as `toml_edit` wrote it (its new lines end in `\n`): in a
    /// `\r\n` file, every line ends in `\r\n`.
    fn toml_bytes(&self, text: &str) -> Vec<u8> {
        self.with_bom(&if self.crlf { text.replace("\r\n", "\n").replace('\n', "\r\n") } else { text.to_string() })
    }

    /// The bytes of a requirements file's text, whose new lines took the file's line ends.
    fn with_bom(&self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + 3);
        if self.bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        out.extend_from_slice(text.as_bytes());
        out
    }
}

/// The member's table in `lambda.toml`, and what it reads from.
struct Member<'a> {
    id: &'a MemberId,
    doc: DocumentMut,
    text: Text,
    manifest_before: Vec<u8>,
    manifest_path: PathBuf,
    manifest_name: String,
    root: PathBuf,
    /// `requirements-file`, as written.
    file: Option<String>,
    /// `extras` and `groups`, as written.
    extras: Vec<String>,
    groups: Vec<String>,
}

impl<'a> Member<'a> {
    fn open(manifest_path: &Path, id: &'a MemberId) -> miette::Result<Member<'a>> {
        let manifest_name =
            manifest_path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let before = fs_err::read(manifest_path).map_err(|err| miette::miette!("cannot read: {err}"))?;
        let (text, source) = Text::read(&before, &manifest_name)?;
        let doc: DocumentMut =
            source.parse().map_err(|err| miette::miette!("`{manifest_name}` is not valid TOML: {err}"))?;
        let mut member = Member {
            id,
            doc,
            text,
            manifest_before: before,
            manifest_path: manifest_path.to_path_buf(),
            manifest_name,
            root: manifest_path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            file: None,
            extras: Vec::new(),
            groups: Vec::new(),
        };
        let table = member.table()?;
        let strings_of =
            |key: &str| -> Vec<String> { table.get(key).and_then(Item::as_array).map(strings).unwrap_or_default() };
        let (extras, groups) = (strings_of("extras"), strings_of("groups"));
        let file = table.get("requirements-file").and_then(Item::as_str).map(str::to_string);
        member.extras = extras;
        member.groups = groups;
        member.file = file;
        Ok(member)
    }

    fn table(&mut self) -> miette::Result<&mut dyn TableLike> {
        let (kind, name) = (self.id.kind_str(), self.id.name.clone());
        let manifest = self.manifest_name.clone();
        self.doc
            .get_mut(kind)
            .and_then(|kind| kind.get_mut(&name))
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| miette::miette!("`[{kind}.{name}]` is not a table in `{manifest}`"))
    }

    /// The `requirements` array, created when `create`.
    fn inline(&mut self, create: bool) -> miette::Result<Option<&mut Array>> {
        let (key, manifest) = (self.id.key(), self.manifest_name.clone());
        let table = self.table()?;
        if table.get("requirements").is_none() {
            if !create {
                return Ok(None);
            }
            table.insert("requirements", Item::Value(Value::Array(Array::new())));
        }
        match table.get_mut("requirements").and_then(Item::as_array_mut) {
            Some(array) => Ok(Some(array)),
            None => miette::bail!("`requirements` of `[{key}]` in `{manifest}` is not an array"),
        }
    }

    /// The member's requirements file, opened for editing.
    fn open_file(&self) -> miette::Result<Option<RequirementsFile>> {
        let Some(written) = &self.file else { return Ok(None) };
        let path = self.root.join(written);
        let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same(&path, &self.manifest_path) {
            miette::bail!(
                help = "edit the requirements by hand, or keep lbuild's settings and the project's dependencies in two files",
                "the `requirements-file` of {} is `{}` itself, which lbuild does not edit as both",
                self.id,
                self.manifest_name
            );
        }
        RequirementsFile::open(&path, written, &self.extras, &self.groups).map(Some)
    }

    fn manifest_edit(&self) -> Option<FileEdit> {
        let after = self.text.toml_bytes(&self.doc.to_string());
        (after != self.manifest_before).then(|| FileEdit {
            path: self.manifest_path.clone(),
            before: self.manifest_before.clone(),
            after,
        })
    }
}

/// What a requirements file is.
enum FileKind {
    /// A `requirements.txt`: its text.
    Txt(String),
    /// A `pyproject.toml`, with the key paths of the arrays the member reads: `[project]`
    /// `dependencies` first, then the extras and groups it selects.
    PyProject { doc: DocumentMut, arrays: Vec<Vec<String>> },
}

/// The requirements file a member reads, open for editing.
struct RequirementsFile {
    display: String,
    path: PathBuf,
    before: Vec<u8>,
    text: Text,
    kind: FileKind,
}

impl RequirementsFile {
    fn open(path: &Path, written: &str, extras: &[String], groups: &[String]) -> miette::Result<RequirementsFile> {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if name == "Pipfile" {
            miette::bail!(
                help = "run `pipenv install <package>` (or `pipenv uninstall`), then `lbuild lock`",
                "`{written}` is a Pipfile, which Pipenv owns; lbuild does not edit it"
            );
        }
        let before = fs_err::read(path).map_err(|err| miette::miette!("cannot read `{written}`: {err}"))?;
        let (text, source) = Text::read(&before, written)?;
        let kind = if name == "pyproject.toml" {
            let doc: DocumentMut =
                source.parse().map_err(|err| miette::miette!("`{written}` is not valid TOML: {err}"))?;
            let arrays = pyproject_arrays(&doc, written, extras, groups)?;
            FileKind::PyProject { doc, arrays }
        } else {
            let lines = lines(&source);
            if lines.iter().any(|line| line.content.split_whitespace().any(|word| word.starts_with("--hash"))) {
                miette::bail!(
                    help = "it was compiled (pip-compile, `uv pip compile`): change its source (`requirements.in`, \
                            `pyproject.toml`) and compile it again, then `lbuild lock`",
                    "`{written}` pins its packages with `--hash`, so lbuild does not edit it"
                );
            }
            FileKind::Txt(source)
        };
        Ok(RequirementsFile { display: written.to_string(), path: path.to_path_buf(), before, text, kind })
    }

    fn edit(&self) -> Option<FileEdit> {
        let after = match &self.kind {
            FileKind::PyProject { doc, .. } => self.text.toml_bytes(&doc.to_string()),
            FileKind::Txt(text) => self.text.with_bom(text),
        };
        (after != self.before).then(|| FileEdit { path: self.path.clone(), before: self.before.clone(), after })
    }

    /// Replace what names `new`'s slot; returns what it said.
    fn replace(&mut self, new: &NewRequirement) -> Option<Slot> {
        match &mut self.kind {
            FileKind::Txt(text) => replace_in_txt(text, new),
            FileKind::PyProject { doc, arrays } => {
                arrays.iter().find_map(|keys| array_at(doc, keys, false).and_then(|array| replace_in_array(array, new)))
            }
        }
    }

    /// Add `new` (to `[project].dependencies` in a pyproject.toml).
    fn append(&mut self, new: &NewRequirement) -> miette::Result<()> {
        match &mut self.kind {
            FileKind::Txt(text) => append_to_txt(text, &new.text, &self.display),
            FileKind::PyProject { doc, arrays } => {
                let array = array_at(doc, &arrays[0], true)
                    .ok_or_else(|| miette::miette!("`[project].dependencies` of `{}` is not an array", self.display))?;
                push_like(array, &new.text);
                Ok(())
            }
        }
    }

    fn remove(&mut self, name: &str) -> Vec<String> {
        match &mut self.kind {
            FileKind::Txt(text) => remove_from_txt(text, name),
            FileKind::PyProject { doc, arrays } => arrays
                .iter()
                .flat_map(|keys| {
                    array_at(doc, keys, false).map(|array| remove_from_array(array, name)).unwrap_or_default()
                })
                .collect(),
        }
    }

    /// The requirements the file lists directly (not through `-r`), as written.
    fn listed(&mut self) -> Vec<String> {
        match &mut self.kind {
            FileKind::Txt(text) => {
                lines(text).into_iter().filter(|line| line.requirement().is_some()).map(|line| line.text).collect()
            }
            FileKind::PyProject { doc, arrays } => arrays
                .iter()
                .flat_map(|keys| array_at(doc, keys, false).map(|array| strings(array)).unwrap_or_default())
                .collect(),
        }
    }

    /// Whether a requirements file names others with `-r`.
    fn includes(&self) -> bool {
        matches!(&self.kind, FileKind::Txt(text) if lines(text).iter().any(|line| line.content.starts_with("-r") || line.content.starts_with("--requirement")))
    }
}

/// The key paths of the arrays a member reads from a pyproject.toml, after checking that lbuild
/// may edit them.
fn pyproject_arrays(
    doc: &DocumentMut,
    written: &str,
    extras: &[String],
    groups: &[String],
) -> miette::Result<Vec<Vec<String>>> {
    let project = doc.get("project").and_then(Item::as_table_like);
    let dynamic = project
        .and_then(|project| project.get("dynamic"))
        .and_then(Item::as_array)
        .is_some_and(|dynamic| dynamic.iter().any(|item| item.as_str() == Some("dependencies")));
    if dynamic {
        miette::bail!(
            help = "its build backend computes them; add the package where the backend reads it, then `lbuild lock`",
            "the dependencies of `{written}` are dynamic, so lbuild does not edit them"
        );
    }
    let poetry =
        doc.get("tool").and_then(|tool| tool.get("poetry")).and_then(|poetry| poetry.get("dependencies")).is_some();
    if project.is_none_or(|project| project.get("dependencies").is_none()) && poetry {
        miette::bail!(
            help = "run `poetry add <package>` (or `poetry remove`), then `lbuild lock`",
            "`{written}` lists its dependencies in `[tool.poetry.dependencies]`, which Poetry owns; lbuild does not \
             edit them"
        );
    }
    let Some(project) = project else {
        miette::bail!(
            help = "add a `[project]` table (PEP 621) with `dependencies`",
            "`{written}` has no `[project]` table"
        );
    };
    let mut arrays = vec![vec!["project".to_string(), "dependencies".to_string()]];
    // Keys as written, matched normalized (as the manifest's `extras` and `groups` are).
    let keys_of = |table: Option<&dyn TableLike>, wanted: &[String]| -> Vec<String> {
        let Some(table) = table else { return Vec::new() };
        let wanted: Vec<String> = wanted.iter().map(|name| normalize_name(name)).collect();
        table.iter().map(|(key, _)| key.to_string()).filter(|key| wanted.contains(&normalize_name(key))).collect()
    };
    let optional = project.get("optional-dependencies").and_then(Item::as_table_like);
    for key in keys_of(optional, extras) {
        arrays.push(vec!["project".into(), "optional-dependencies".into(), key]);
    }
    let dependency_groups = doc.get("dependency-groups").and_then(Item::as_table_like);
    for key in keys_of(dependency_groups, groups) {
        arrays.push(vec!["dependency-groups".into(), key]);
    }
    Ok(arrays)
}

/// The array at `keys`; the last key is created (as an empty array) when `create` and missing.
fn array_at<'d>(doc: &'d mut DocumentMut, keys: &[String], create: bool) -> Option<&'d mut Array> {
    let (last, parents) = keys.split_last()?;
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for key in parents {
        table = table.get_mut(key)?.as_table_like_mut()?;
    }
    if create && table.get(last).is_none() {
        table.insert(last, Item::Value(Value::Array(Array::new())));
    }
    table.get_mut(last)?.as_array_mut()
}

/// The string items of an array.
fn strings(array: &Array) -> Vec<String> {
    array.iter().filter_map(|item| item.as_str().map(str::to_string)).collect()
}

fn parse(written: &str) -> Option<Requirement> {
    Requirement::from_str(written).ok()
}

/// A slot replaced: what it said before, and what it says now.
struct Slot {
    previous: String,
    now: String,
}

/// Add `requirements` to `member`, in the manifest at `manifest_path` or the file it reads.
pub fn add(manifest_path: &Path, member: &MemberId, requirements: &[NewRequirement]) -> miette::Result<Edit> {
    check_distinct(requirements)?;
    let mut target = Member::open(manifest_path, member)?;
    let manifest_name = target.manifest_name.clone();
    let mut file: Option<RequirementsFile> = None;
    let mut opened = false;
    let mut changes = Vec::new();
    for new in requirements {
        let mut record = |file: &str, slot: Option<Slot>| {
            let (action, requirement, previous) = match slot {
                Some(slot) if slot.previous == slot.now => (EditAction::Kept, slot.now, None),
                Some(slot) => (EditAction::Replaced, slot.now, Some(slot.previous)),
                None => (EditAction::Added, new.text.clone(), None),
            };
            changes.push(RequirementChange { file: file.to_string(), action, requirement, previous });
        };
        // Replaced where the member lists it already, with the same markers.
        if let Some(array) = target.inline(false)?
            && let Some(slot) = replace_in_array(array, new)
        {
            record(&manifest_name, Some(slot));
            continue;
        }
        if !opened {
            file = target.open_file()?;
            opened = true;
        }
        if let Some(file) = &mut file {
            let slot = file.replace(new);
            if slot.is_none() {
                file.append(new)?;
            }
            record(&file.display.clone(), slot);
            continue;
        }
        let array = target.inline(true)?.expect("created");
        push_like(array, &new.text);
        record(&manifest_name, None);
    }
    let mut files: Vec<FileEdit> = target.manifest_edit().into_iter().collect();
    files.extend(file.as_ref().and_then(RequirementsFile::edit));
    Ok(Edit { files, changes })
}

/// Remove every requirement of the packages `names` from `member`, wherever it lists them.
pub fn remove(manifest_path: &Path, member: &MemberId, packages: &[String]) -> miette::Result<Edit> {
    let mut target = Member::open(manifest_path, member)?;
    let manifest_name = target.manifest_name.clone();
    let mut file: Option<RequirementsFile> = None;
    let mut opened = false;
    let mut changes = Vec::new();
    for package in packages {
        let name = normalize_name(package);
        let mut removed: Vec<(String, String)> = Vec::new();
        if let Some(array) = target.inline(false)? {
            removed.extend(remove_from_array(array, &name).into_iter().map(|text| (manifest_name.clone(), text)));
        }
        if !opened {
            opened = true;
            match target.open_file() {
                Ok(opened) => file = opened,
                // The package was where lbuild can edit; the file it cannot is left alone.
                Err(err) if !removed.is_empty() => {
                    warn_user!("{err}; it was not searched for `{}`", shorten(package))
                }
                Err(err) => return Err(err),
            }
        }
        if let Some(file) = &mut file {
            let display = file.display.clone();
            removed.extend(file.remove(&name).into_iter().map(|text| (display.clone(), text)));
        }
        if removed.is_empty() {
            return Err(not_listed(&mut target, file.as_mut(), member, package, &name));
        }
        changes.extend(removed.into_iter().map(|(file, requirement)| RequirementChange {
            file,
            action: EditAction::Removed,
            requirement,
            previous: None,
        }));
    }
    let mut files: Vec<FileEdit> = target.manifest_edit().into_iter().collect();
    files.extend(file.as_ref().and_then(RequirementsFile::edit));
    Ok(Edit { files, changes })
}

/// The error for a package the member does not list: where lbuild looked, what it found, and the
/// near name.
fn not_listed(
    target: &mut Member,
    mut file: Option<&mut RequirementsFile>,
    member: &MemberId,
    package: &str,
    name: &str,
) -> miette::Report {
    let mut listed: Vec<String> = target.inline(false).ok().flatten().map(|array| strings(array)).unwrap_or_default();
    let mut places = vec![format!("`{}`", target.manifest_name)];
    if let Some(file) = file.as_deref_mut() {
        listed.extend(file.listed());
        places.push(format!("`{}`", file.display));
    }
    let listed_names: Vec<String> = listed
        .iter()
        .filter_map(|written| parse(written))
        .map(|requirement| normalize_name(requirement.name.as_ref()))
        .collect();
    let closest = listed_names
        .iter()
        .map(|known| (strsim::jaro_winkler(name, known), known))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, known)| format!("did you mean `{known}`? "))
        .unwrap_or_default();
    let list = if listed_names.is_empty() {
        "it lists no requirements".to_string()
    } else {
        format!("it requires {}", listed_names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
    };
    let included = file.is_some_and(|file| file.includes());
    miette::miette!(
        help = format!(
            "{closest}{list}{}",
            if included { "; a package from a file it includes with `-r` is removed from that file" } else { "" }
        ),
        "{member} does not require `{}` in {}",
        shorten(package),
        places.join(" or ")
    )
}

/// The text before the first line break (with it), and the rest. Array decor is read this way:
/// the first line of an item's prefix is the comment after the comma before it; the rest is the
/// item's own leading comment lines and indentation.
fn split_line(text: &str) -> (&str, &str) {
    match text.find('\n') {
        Some(at) => (&text[..=at], &text[at + 1..]),
        None => ("", text),
    }
}

fn prefix(value: &Value) -> String {
    value.decor().prefix().and_then(|prefix| prefix.as_str()).unwrap_or("").to_string()
}

fn suffix(value: &Value) -> String {
    value.decor().suffix().and_then(|suffix| suffix.as_str()).unwrap_or("").to_string()
}

/// Replace the items that name `new`'s slot (the first keeps its place and layout; any others
/// go); a bare name leaves an item that says more as it is.
fn replace_in_array(array: &mut Array, new: &NewRequirement) -> Option<Slot> {
    let matching: Vec<usize> = (0..array.len())
        .filter(|&at| array.get(at).and_then(Value::as_str).and_then(parse).is_some_and(|old| new.same_slot(&old)))
        .collect();
    let (&first, rest) = matching.split_first()?;
    let previous = array.get(first)?.as_str()?.to_string();
    let old = parse(&previous)?;
    if new.is_bare() && !is_bare(&old) {
        return Some(Slot { now: previous.clone(), previous });
    }
    let now = new.replacing(&old);
    let decor = array.get(first)?.decor().clone();
    let mut value = Value::from(now.as_str());
    *value.decor_mut() = decor;
    array.replace_formatted(first, value);
    for &at in rest.iter().rev() {
        remove_at(array, at);
    }
    Some(Slot { previous, now })
}

/// Remove every item that names `name`; returns them.
fn remove_from_array(array: &mut Array, name: &str) -> Vec<String> {
    let mut removed = Vec::new();
    let mut at = 0;
    while at < array.len() {
        match array
            .get(at)
            .and_then(Value::as_str)
            .filter(|written| parse(written).is_some_and(|old| normalize_name(old.name.as_ref()) == name))
        {
            Some(written) => {
                removed.push(written.to_string());
                remove_at(array, at);
            }
            None => at += 1,
        }
    }
    removed
}

/// Remove one item, keeping each comment with the item it belongs to: the comment after the
/// item's comma goes with it, the comment after the previous item's comma stays.
fn remove_at(array: &mut Array, at: usize) {
    let count = array.len();
    let Some(item) = array.get(at) else { return };
    let (own_prefix, own_suffix) = (prefix(item), suffix(item));
    // What the item's prefix starts with: the comment that follows the item before it.
    let before = split_line(&own_prefix).0.to_string();
    let multiline = own_prefix.contains('\n');
    array.remove(at);
    if count == 1 {
        array.set_trailing("");
        array.set_trailing_comma(false);
        return;
    }
    if at + 1 < count {
        // The next item's prefix starts with this item's comment, which goes.
        let next = array.get_mut(at).expect("there was a next item");
        let next_prefix = prefix(next);
        let new = if !next_prefix.contains('\n') {
            own_prefix
        } else if multiline {
            format!("{before}{}", split_line(&next_prefix).1)
        } else {
            next_prefix
        };
        next.decor_mut().set_prefix(new);
    } else if array.trailing_comma() {
        // The last item's comment is the start of the array's trailing text.
        let trailing = array.trailing().as_str().unwrap_or("").to_string();
        if multiline {
            array.set_trailing(format!("{before}{}", split_line(&trailing).1));
        }
    } else {
        // Without a trailing comma, what follows the last item is its suffix; the item before
        // takes it (and its own comment, which followed the comma now gone).
        let new = if multiline { format!("{before}{}", split_line(&own_suffix).1) } else { own_suffix };
        if let Some(previous) = array.get_mut(at - 1) {
            previous.decor_mut().set_suffix(new);
        }
    }
}

/// Append an item laid out like the others: on its own line in a multi-line array, after the
/// comment of the item before it.
fn push_like(array: &mut Array, text: &str) {
    let mut value = Value::from(text);
    let count = array.len();
    if count == 0 {
        // Comments in an empty array: the item goes after them, on a line of its own.
        let trailing = array.trailing().as_str().unwrap_or("").to_string();
        if let Some(at) = trailing.rfind('\n') {
            value.decor_mut().set_prefix(format!("{}\n    ", &trailing[..at]));
            array.set_trailing("\n");
            array.set_trailing_comma(true);
        }
        array.push_formatted(value);
        return;
    }
    let trailing_comma = array.trailing_comma();
    let trailing = array.trailing().as_str().unwrap_or("").to_string();
    let last = array.get_mut(count - 1).expect("not empty");
    let last_prefix = prefix(last);
    // The indentation of the last item's line; `, ` in a one-line array.
    let indent = match last_prefix.rfind('\n') {
        Some(at) => last_prefix[at..].to_string(),
        None => " ".to_string(),
    };
    let strip = |line: &str| line.trim_end_matches(['\n', '\r']).to_string();
    if trailing_comma {
        if trailing.contains('\n') {
            let (comment, rest) = split_line(&trailing);
            value.decor_mut().set_prefix(format!("{}{indent}", strip(comment)));
            array.set_trailing(format!("\n{rest}"));
        } else {
            value.decor_mut().set_prefix(indent);
        }
    } else {
        let last_suffix = suffix(last);
        last.decor_mut().set_suffix("");
        if last_suffix.contains('\n') {
            let (comment, rest) = split_line(&last_suffix);
            value.decor_mut().set_prefix(format!("{}{indent}", strip(comment)));
            value.decor_mut().set_suffix(format!("\n{rest}"));
        } else {
            // `[ "a" ]`: the space before `]` follows the new last item.
            value.decor_mut().set_prefix(indent);
            value.decor_mut().set_suffix(last_suffix);
        }
    }
    array.push_formatted(value);
}

/// A logical line of a requirements file: its byte range (continuations and line break
/// included), its content without the comment, trimmed, and the requirement in it without the
/// per-requirement options after it (`--config-settings`, `--global-option`).
struct Line {
    range: std::ops::Range<usize>,
    /// Several physical lines joined with `\`.
    continued: bool,
    content: String,
    /// The requirement part of `content`.
    text: String,
}

impl Line {
    fn requirement(&self) -> Option<Requirement> {
        if self.text.is_empty() || self.text.starts_with('-') {
            return None;
        }
        parse(&self.text)
    }
}

fn line(range: std::ops::Range<usize>, continued: bool, joined: &str) -> Line {
    let content = super::requirements_file::strip_comment(joined).trim().to_string();
    // Options follow the requirement after whitespace.
    let text = content
        .char_indices()
        .find(|&(at, c)| c.is_whitespace() && content[at..].trim_start().starts_with("--"))
        .map_or(content.as_str(), |(at, _)| &content[..at])
        .trim()
        .to_string();
    Line { range, continued, content, text }
}

fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut pending: Option<(usize, String)> = None;
    for raw in text.split_inclusive('\n') {
        let physical = raw.trim_end_matches(['\n', '\r']);
        let (start, mut joined) = pending.take().unwrap_or((offset, String::new()));
        offset += raw.len();
        if let Some(stripped) = physical.strip_suffix('\\') {
            joined.push_str(stripped);
            pending = Some((start, joined));
            continue;
        }
        let continued = start != offset - raw.len();
        joined.push_str(physical);
        out.push(line(start..offset, continued, &joined));
    }
    if let Some((start, joined)) = pending {
        out.push(line(start..offset, true, &joined));
    }
    out
}

/// The line break the file uses.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

fn replace_in_txt(text: &mut String, new: &NewRequirement) -> Option<Slot> {
    let all = lines(text);
    let matching: Vec<(&Line, Requirement)> = all
        .iter()
        .filter_map(|line| line.requirement().filter(|old| new.same_slot(old)).map(|old| (line, old)))
        .collect();
    let ((first, old), rest) = matching.split_first()?;
    let previous = first.text.clone();
    if new.is_bare() && !is_bare(old) {
        return Some(Slot { now: previous.clone(), previous });
    }
    let now = new.replacing(old);
    let original = &text[first.range.clone()];
    let replacement = if first.continued {
        let options = first.content[first.text.len()..].trim();
        let options = if options.is_empty() { String::new() } else { format!(" {options}") };
        format!("{now}{options}{}", newline(text))
    } else {
        // The requirement is replaced; indentation, options, a comment and the line break stay.
        let start = original.find(previous.as_str()).unwrap_or(0);
        format!("{}{now}{}", &original[..start], &original[start + previous.len()..])
    };
    // Later duplicates go first, so the ranges before them stay right.
    let ranges: Vec<std::ops::Range<usize>> = rest.iter().map(|(line, _)| line.range.clone()).collect();
    let first_range = first.range.clone();
    for range in ranges.into_iter().rev() {
        text.replace_range(range, "");
    }
    text.replace_range(first_range, &replacement);
    Some(Slot { previous, now })
}

fn append_to_txt(text: &mut String, requirement: &str, display: &str) -> miette::Result<()> {
    if text.trim_end_matches(['\n', '\r']).ends_with('\\') {
        miette::bail!(
            help = "remove the `\\` at the end of its last line (pip would join the next line to it)",
            "`{display}` ends in a line continuation, so a line added after it would join it"
        );
    }
    let newline = newline(text);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push_str(newline);
    }
    text.push_str(requirement);
    text.push_str(newline);
    Ok(())
}

fn remove_from_txt(text: &mut String, name: &str) -> Vec<String> {
    let mut removed = Vec::new();
    for line in lines(text).into_iter().rev() {
        if line.requirement().is_some_and(|requirement| normalize_name(requirement.name.as_ref()) == name) {
            removed.push(line.text.clone());
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

    fn push(text: &str) -> String {
        array_after(text, |array| push_like(array, "c"))
    }

    fn removed(text: &str, name: &str) -> String {
        array_after(text, |array| assert_eq!(remove_from_array(array, name).len(), 1, "{text}"))
    }

    #[test]
    fn items_are_appended_in_the_layout_of_the_array() {
        assert_eq!(push("requirements = []\n"), "requirements = [\"c\"]\n");
        assert_eq!(push("requirements = [\"a\"]\n"), "requirements = [\"a\", \"c\"]\n");
        assert_eq!(push("requirements = [\"a\", \"b\"]\n"), "requirements = [\"a\", \"b\", \"c\"]\n");
        assert_eq!(push("requirements = [ \"a\" ]\n"), "requirements = [ \"a\", \"c\" ]\n");
        assert_eq!(
            push("requirements = [\n    \"a\",  # why\n    \"b\",  # b too\n]\n"),
            "requirements = [\n    \"a\",  # why\n    \"b\",  # b too\n    \"c\",\n]\n"
        );
        assert_eq!(
            push("requirements = [\n    \"a\",\n    \"b\"  # b\n    # last\n]\n"),
            "requirements = [\n    \"a\",\n    \"b\",  # b\n    \"c\"\n    # last\n]\n"
        );
        assert_eq!(
            push("requirements = [\n    \"a\",  # a\n    # last\n]\n"),
            "requirements = [\n    \"a\",  # a\n    \"c\",\n    # last\n]\n"
        );
        assert_eq!(
            push("requirements = [\n  # nothing yet\n]\n"),
            "requirements = [\n  # nothing yet\n    \"c\",\n]\n"
        );
    }

    #[test]
    fn a_removed_item_takes_its_own_comments_and_leaves_the_others() {
        assert_eq!(removed("requirements = [\"a\", \"b\"]\n", "a"), "requirements = [\"b\"]\n");
        assert_eq!(removed("requirements = [\"a\", \"b\"]\n", "b"), "requirements = [\"a\"]\n");
        assert_eq!(removed("requirements = [\"a\", \"b\", \"c\"]\n", "b"), "requirements = [\"a\", \"c\"]\n");
        let commented = "requirements = [\n    \"six==1.16\",     # pinned\n    \"attrs\",         # remove me\n    \"requests\",      # http\n]\n";
        assert_eq!(
            removed(commented, "attrs"),
            "requirements = [\n    \"six==1.16\",     # pinned\n    \"requests\",      # http\n]\n"
        );
        assert_eq!(
            removed(commented, "requests"),
            "requirements = [\n    \"six==1.16\",     # pinned\n    \"attrs\",         # remove me\n]\n"
        );
        assert_eq!(
            removed(commented, "six"),
            "requirements = [\n    \"attrs\",         # remove me\n    \"requests\",      # http\n]\n"
        );
        let no_trailing_comma = "requirements = [\n    # leading\n    \"six\",  # six\n    # before attrs\n    \"attrs\"  # attrs\n    # trailing\n]\n";
        assert_eq!(
            removed(no_trailing_comma, "six"),
            "requirements = [\n    # before attrs\n    \"attrs\"  # attrs\n    # trailing\n]\n"
        );
        assert_eq!(
            removed(no_trailing_comma, "attrs"),
            "requirements = [\n    # leading\n    \"six\"  # six\n    # trailing\n]\n"
        );
        assert_eq!(
            removed("requirements = [\n    \"a\",\n    \"A_b>=1\",\n]\n", "a-b"),
            "requirements = [\n    \"a\",\n]\n"
        );
        assert_eq!(removed("requirements = [\n    \"a\",  # a\n]\n", "a"), "requirements = []\n");
    }

    #[test]
    fn a_replaced_item_keeps_its_place_layout_and_extras() {
        let replace = |with: &'static str, was: &'static str| {
            move |array: &mut Array| {
                let slot = replace_in_array(array, &new(with)).unwrap();
                assert_eq!(slot.previous, was);
            }
        };
        assert_eq!(
            array_after("requirements = [\n    \"a<2\",  # pinned\n    \"b\",\n]\n", replace("a>=2", "a<2")),
            "requirements = [\n    \"a>=2\",  # pinned\n    \"b\",\n]\n"
        );
        assert_eq!(
            array_after(
                "requirements = [\"requests[socks]>=2\", \"b\"]\n",
                replace("requests>=3", "requests[socks]>=2")
            ),
            "requirements = [\"requests[socks]>=3\", \"b\"]\n"
        );
        // A bare name does not loosen what is written; a duplicate of the slot goes.
        let mut doc: DocumentMut = "requirements = [\"a>=2\", \"b\", \"a\"]\n".parse().unwrap();
        let slot = replace_in_array(doc["requirements"].as_array_mut().unwrap(), &new("a")).unwrap();
        assert_eq!((slot.previous.as_str(), slot.now.as_str()), ("a>=2", "a>=2"));
        let slot = replace_in_array(doc["requirements"].as_array_mut().unwrap(), &new("a>=3")).unwrap();
        assert_eq!(slot.now, "a>=3");
        assert_eq!(doc.to_string(), "requirements = [\"a>=3\", \"b\"]\n");
        // Another marker is another slot.
        let mut doc: DocumentMut = "requirements = [\"a; python_version < '3.12'\"]\n".parse().unwrap();
        assert!(replace_in_array(doc["requirements"].as_array_mut().unwrap(), &new("a>=2")).is_none());
    }

    #[test]
    fn requirements_txt_lines_are_edited_in_place() {
        let mut text = "# top\nrequests==2.0  # keep\r\n-r base.txt\nboto3\\\n  >=1\nlast".to_string();
        let slot = replace_in_txt(&mut text, &new("requests>=2.31")).unwrap();
        assert_eq!(slot.previous, "requests==2.0");
        assert_eq!(text, "# top\nrequests>=2.31  # keep\r\n-r base.txt\nboto3\\\n  >=1\nlast");
        append_to_txt(&mut text, "httpx", "requirements.txt").unwrap();
        assert_eq!(text, "# top\nrequests>=2.31  # keep\r\n-r base.txt\nboto3\\\n  >=1\nlast\r\nhttpx\r\n");
        assert_eq!(remove_from_txt(&mut text, "boto3"), vec!["boto3  >=1".to_string()]);
        assert_eq!(text, "# top\nrequests>=2.31  # keep\r\n-r base.txt\nlast\r\nhttpx\r\n");
        assert!(remove_from_txt(&mut text, "base-txt").is_empty());

        // Options after a requirement stay with it.
        let mut text = "six==1.16 --config-settings=a=b\nattrs ; python_version >= '3' --global-option=x\n".to_string();
        replace_in_txt(&mut text, &new("six>=1.17")).unwrap();
        assert_eq!(text, "six>=1.17 --config-settings=a=b\nattrs ; python_version >= '3' --global-option=x\n");
        assert_eq!(remove_from_txt(&mut text, "attrs"), vec!["attrs ; python_version >= '3'".to_string()]);
        // Duplicates of a slot become one line.
        let mut text = "six>=1.10\nother\nsix==1.12\n".to_string();
        replace_in_txt(&mut text, &new("six>=1.16")).unwrap();
        assert_eq!(text, "six>=1.16\nother\n");
        // A dangling continuation would swallow an appended line.
        let mut text = "six>=1 \\\n".to_string();
        assert!(append_to_txt(&mut text, "attrs", "requirements.txt").is_err());
    }

    #[test]
    fn crlf_and_a_byte_order_mark_are_put_back() {
        let (text, source) = Text::read(b"\xEF\xBB\xBFa = 1\r\nb = 2\r\n", "x.toml").unwrap();
        assert_eq!(text.toml_bytes(&format!("{source}c = 3\n")), b"\xEF\xBB\xBFa = 1\r\nb = 2\r\nc = 3\r\n");
        assert!(Text::read(b"\xFF\xFEa", "x.txt").is_err());
    }

    #[test]
    fn a_bare_requirement_takes_a_lower_bound_with_its_extras_and_markers() {
        assert!(new("requests").is_bare());
        assert!(new("requests[socks] ; python_version < '4'").is_bare());
        assert!(!new("requests>=2").is_bare());
        assert!(!new("pkg @ https://example.com/pkg-1.0.tar.gz").is_bare());
        let version = |text: &str| pep440_rs::Version::from_str(text).unwrap();
        assert_eq!(new("requests").with_lower_bound(&version("2.32.3")).text, "requests>=2.32.3");
        assert_eq!(
            new("requests[socks] ; python_version < '4'").with_lower_bound(&version("2.32.3")).text,
            "requests[socks]>=2.32.3; python_version < '4'"
        );
        assert_eq!(new("torch").with_lower_bound(&version("2.5.1+cpu")).text, "torch>=2.5.1");
        assert!(NewRequirement::parse("requests>>2").is_err());
        assert!(check_distinct(&[new("a"), new("A>=2")]).is_err());
        assert!(check_distinct(&[new("a"), new("a; python_version < '3.12'")]).is_ok());
    }
}
