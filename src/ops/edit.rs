//! `lbuild add` and `lbuild remove`: change the requirements of one function or layer (the edit
//! is `manifest::edit`), then relock (`session`). When the edited workspace does not load or does
//! not lock, every file is put back as it was, so a failed `add` changes nothing.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::fsutil::{rewrite, write_atomic};
use crate::manifest::edit::{self, Edit, EditAction, FileEdit, NewRequirement, RequirementChange};
use crate::manifest::{MemberId, Workspace};
use crate::output::{quietly, status};
use crate::python::wheel_name::normalize_name;
use crate::session::{GlobalOptions, LockOutcome, Relock, lock_path, lock_workspace_reporting};

/// Options of `lbuild add`.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    pub global: GlobalOptions,
    /// `-p NAME`: the function or layer (default: the only one there is).
    pub member: Option<String>,
    /// The requirements, as PEP 508 strings.
    pub requirements: Vec<String>,
    /// `--no-lock`: edit only.
    pub no_lock: bool,
    /// `--raw`: write a bare name as it is, without the lower bound of the locked version.
    pub raw: bool,
}

/// Options of `lbuild remove`.
#[derive(Debug, Clone, Default)]
pub struct RemoveOptions {
    pub global: GlobalOptions,
    pub member: Option<String>,
    /// Package names.
    pub packages: Vec<String>,
    pub no_lock: bool,
}

/// What `add` or `remove` did.
#[derive(Debug, Clone)]
pub struct EditReport {
    pub member: MemberId,
    pub edits: Vec<RequirementChange>,
    /// The path of the lock.
    pub lockfile: PathBuf,
    /// How the relock went (`None` with `--no-lock`).
    pub lock: Option<LockOutcome>,
}

/// Run `lbuild add`.
pub fn add(options: &AddOptions) -> miette::Result<EditReport> {
    refuse_locked(&options.global, "add")?;
    let workspace = quietly(|| options.global.workspace())?;
    let member = choose_member(&workspace, options.member.as_deref(), "add requirements to")?;
    let requirements =
        options.requirements.iter().map(|text| NewRequirement::parse(text)).collect::<miette::Result<Vec<_>>>()?;
    let edit = edit::add(&workspace.manifest_path, &member, &requirements)?;
    // The bare names this command added (not those it kept) get a lower bound once locked.
    let added_bare: Vec<&NewRequirement> = requirements
        .iter()
        .filter(|new| new.is_bare())
        .filter(|new| {
            edit.changes.iter().any(|change| change.action == EditAction::Added && change.requirement == new.text)
        })
        .collect();
    let mut undo = Undo::new(&workspace);
    let outcome = undo.run(&edit, |undo| {
        let workspace = options.global.workspace()?;
        if options.no_lock {
            return Ok(None);
        }
        let (lock, outcome, _) = lock_workspace_reporting(&workspace, &relock(&options.global))?;
        if options.raw {
            return Ok(Some((outcome, Vec::new())));
        }
        // A bare name gets the lower bound of what was locked, as `uv add` writes it.
        let bounded: Vec<NewRequirement> = added_bare
            .iter()
            .filter_map(|new| {
                let name = normalize_name(new.requirement.name.as_ref());
                let lowest = lock
                    .packages
                    .iter()
                    .filter(|package| normalize_name(&package.name) == name)
                    .filter_map(|package| pep440_rs::Version::from_str(&package.version).ok())
                    .min()?;
                Some(new.with_lower_bound(&lowest))
            })
            .filter(|bounded| !bounded.is_bare())
            .collect();
        if bounded.is_empty() {
            return Ok(Some((outcome, bounded)));
        }
        let second = edit::add(&workspace.manifest_path, &member, &bounded)?;
        undo.apply(&second)?;
        // The pins stay as they are, so loading and resolving again says nothing new.
        quietly(|| {
            let workspace = options.global.workspace()?;
            lock_workspace_reporting(&workspace, &relock(&options.global))
        })?;
        Ok(Some((outcome, bounded)))
    })?;
    let (lock, bounded) = match outcome {
        Some((outcome, bounded)) => (Some(outcome), bounded),
        None => (None, Vec::new()),
    };
    let mut edits = edit.changes;
    for change in &mut edits {
        if change.action != EditAction::Added {
            continue;
        }
        if let Ok(written) = NewRequirement::parse(&change.requirement)
            && let Some(bound) = bounded.iter().find(|bound| bound.same_slot(&written.requirement))
        {
            change.requirement = bound.text.clone();
        }
    }
    report(&member, &edits);
    Ok(EditReport { member, edits, lockfile: lock_path(&workspace), lock })
}

/// Run `lbuild remove`.
pub fn remove(options: &RemoveOptions) -> miette::Result<EditReport> {
    refuse_locked(&options.global, "remove")?;
    let workspace = quietly(|| options.global.workspace())?;
    let member = choose_member(&workspace, options.member.as_deref(), "remove requirements from")?;
    let edit = edit::remove(&workspace.manifest_path, &member, &options.packages)?;
    let mut undo = Undo::new(&workspace);
    let lock = undo.run(&edit, |_| {
        let workspace = options.global.workspace()?;
        if options.no_lock {
            return Ok(None);
        }
        Ok(Some(lock_workspace_reporting(&workspace, &relock(&options.global))?.1))
    })?;
    report(&member, &edit.changes);
    Ok(EditReport { member, edits: edit.changes, lockfile: lock_path(&workspace), lock })
}

fn relock(global: &GlobalOptions) -> Relock {
    Relock { global: global.clone(), upgrade: false, upgrade_packages: Vec::new(), regenerate: true }
}

fn refuse_locked(global: &GlobalOptions, command: &str) -> miette::Result<()> {
    if let Some(flag) = global.locked_flag() {
        miette::bail!(
            help = format!(
                "drop `{flag}`: `lbuild {command}` relocks, and `lbuild {command} --no-lock` edits without locking"
            ),
            "`lbuild {command}` changes what the lock must hold, which `{flag}` forbids"
        );
    }
    Ok(())
}

/// The member `-p` names, or the only one the workspace has (`what`: "add requirements to").
fn choose_member(workspace: &Workspace, name: Option<&str>, what: &str) -> miette::Result<MemberId> {
    if let Some(name) = name {
        return crate::plan::find_member(workspace, name);
    }
    let mut names: Vec<&str> = workspace.functions.iter().map(|function| function.name.as_str()).collect();
    names.extend(workspace.layers.iter().map(|layer| layer.name.as_str()));
    match names.as_slice() {
        [only] => Ok(workspace.member(only).expect("listed")),
        [] => miette::bail!(
            help = "add a `[function.NAME]` table to lambda.toml, or run `lbuild init`",
            "the workspace has no function or layer to {what}"
        ),
        [first, ..] => miette::bail!(
            help = format!(
                "say which with `-p`, e.g. `lbuild {} -p {first} ...`; the workspace has {}",
                what.split(' ').next().unwrap_or_default(),
                names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
            ),
            "the workspace has {} functions and layers: which one?",
            names.len()
        ),
    }
}

fn report(member: &MemberId, edits: &[RequirementChange]) {
    for change in edits {
        match (&change.action, &change.previous) {
            (EditAction::Replaced, Some(previous)) => {
                status!("Edited", "{}: `{previous}` is now `{}` in {member}", change.file, change.requirement)
            }
            (EditAction::Removed, _) => {
                status!("Edited", "{}: removed `{}` from {member}", change.file, change.requirement)
            }
            (EditAction::Kept, _) => status!(
                "Kept",
                "`{}` in {}: {member} requires it already (give a version to change it)",
                change.requirement,
                change.file
            ),
            _ => status!("Edited", "{}: added `{}` to {member}", change.file, change.requirement),
        }
    }
}

/// The files an edit changed and the lock, with their bytes from before, put back when a step
/// after the edit fails.
struct Undo {
    saved: Vec<(PathBuf, Option<Vec<u8>>)>,
    lock: PathBuf,
}

impl Undo {
    fn new(workspace: &Workspace) -> Undo {
        let lock = lock_path(workspace);
        let before = fs_err::read(&lock).ok();
        Undo { saved: vec![(lock.clone(), before)], lock }
    }

    /// Write an edit's files, remembering what they held first. A file lbuild may not write is
    /// refused before any is written.
    fn apply(&mut self, edit: &Edit) -> miette::Result<()> {
        for FileEdit { path, .. } in &edit.files {
            if fs_err::metadata(path).is_ok_and(|meta| meta.permissions().readonly()) {
                miette::bail!(
                    help = "make it writable, or edit it by hand",
                    "`{}` is read-only, so lbuild does not change it",
                    path.display()
                );
            }
        }
        for FileEdit { path, before, after } in &edit.files {
            if !self.saved.iter().any(|(saved, _)| saved == path) {
                self.saved.push((path.clone(), Some(before.clone())));
            }
            rewrite(path, after).map_err(|err| miette::miette!("cannot write `{}`: {err}", path.display()))?;
        }
        Ok(())
    }

    /// Apply `edit`, then run `then`; when either fails, put every file back.
    fn run<T>(&mut self, edit: &Edit, then: impl FnOnce(&mut Undo) -> miette::Result<T>) -> miette::Result<T> {
        let result = self.apply(edit).and_then(|()| then(self));
        match result {
            Ok(value) => Ok(value),
            Err(err) => {
                let names = self.restore();
                Err(err.wrap_err(format!("nothing was changed: {names}")))
            }
        }
    }

    /// Put every saved file back; returns their names for the message (the lock last).
    fn restore(&self) -> String {
        let mut names = Vec::new();
        for (path, before) in self.saved.iter().rev() {
            let restored = match before {
                Some(bytes) if *path == self.lock => write_atomic(path, bytes),
                Some(bytes) => rewrite(path, bytes),
                None => match fs_err::remove_file(path) {
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    other => other,
                },
            };
            if let Err(err) = restored {
                crate::output::warn_user!("could not put `{}` back: {err}", path.display());
            }
            if *path != self.lock {
                names.insert(0, format!("`{}`", file_name(path)));
            }
        }
        if self.saved.iter().any(|(path, before)| *path == self.lock && before.is_some()) {
            names.push(format!("`{}`", file_name(&self.lock)));
        }
        let verb = if names.len() == 1 { "is as it was" } else { "are as they were" };
        format!("{} {verb}", names.join(" and "))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}
