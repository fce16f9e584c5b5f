//! What moved between two locks: the `Updated`/`Added`/`Removed` lines a relock prints. One
//! change per package and versions, with the targets it happened on.

use std::collections::{BTreeMap, BTreeSet};

use super::Lock;

/// Whether a package's version moved, came or went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Updated,
    Added,
    Removed,
}

/// One package's change between two locks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PinChange {
    /// `updated`, `added` or `removed` in JSON.
    pub change: ChangeKind,
    #[serde(rename = "package")]
    pub name: String,
    /// The version before (`None`: added).
    pub from: Option<String>,
    /// The version after (`None`: removed).
    pub to: Option<String>,
    /// The targets it changed on, sorted.
    pub targets: Vec<String>,
}

impl PinChange {
    /// `Updated`, `Added` or `Removed`.
    pub fn verb(&self) -> &'static str {
        match self.change {
            ChangeKind::Updated => "Updated",
            ChangeKind::Added => "Added",
            ChangeKind::Removed => "Removed",
        }
    }

    /// `fastapi v0.110.0 -> v0.115.0`, with ` on python3.12-arm64` when it is not every target
    /// (`all` is the number of targets of the new lock).
    pub fn describe(&self, all: usize) -> String {
        let what = match (&self.from, &self.to) {
            (Some(from), Some(to)) => format!("{} v{from} -> v{to}", self.name),
            (None, Some(version)) | (Some(version), None) => format!("{} v{version}", self.name),
            (None, None) => self.name.clone(),
        };
        if self.targets.len() == all { what } else { format!("{what} on {}", self.targets.join(", ")) }
    }
}

/// Per target, each package's versions (several when per-function groups differ).
fn versions(lock: &Lock) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for package in &lock.packages {
        for entry in &package.per_target {
            out.entry((package.name.clone(), entry.target.clone())).or_default().insert(package.version.clone());
        }
    }
    out
}

/// What moved from `old` to `new`, sorted by name. A package with one version before and one
/// after on a target is updated; otherwise each version that went is removed and each that came
/// is added.
pub fn changes(old: &Lock, new: &Lock) -> Vec<PinChange> {
    let (before, after) = (versions(old), versions(new));
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    let empty = BTreeSet::new();
    // (name, from, to) -> targets
    let mut found: BTreeMap<(String, Option<String>, Option<String>), Vec<String>> = BTreeMap::new();
    for key in keys {
        let (name, target) = key;
        let (was, is) = (before.get(key).unwrap_or(&empty), after.get(key).unwrap_or(&empty));
        if was == is {
            continue;
        }
        let gone: Vec<&String> = was.difference(is).collect();
        let came: Vec<&String> = is.difference(was).collect();
        let mut add = |from: Option<&String>, to: Option<&String>| {
            found.entry((name.clone(), from.cloned(), to.cloned())).or_default().push(target.clone());
        };
        if let ([from], [to]) = (gone.as_slice(), came.as_slice()) {
            add(Some(from), Some(to));
        } else {
            gone.iter().for_each(|from| add(Some(from), None));
            came.iter().for_each(|to| add(None, Some(to)));
        }
    }
    found
        .into_iter()
        .map(|((name, from, to), mut targets)| {
            targets.sort();
            let change = match (&from, &to) {
                (Some(_), Some(_)) => ChangeKind::Updated,
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Removed,
            };
            PinChange { change, name, from, to, targets }
        })
        .collect()
}
