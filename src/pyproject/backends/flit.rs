//! `flit_core.buildapi`: one module, `[tool.flit.module] name` or the project name with `-`
//! replaced by `_`, found as `<name>/`, `<name>.py`, `src/<name>/` or `src/<name>.py` (dots in
//! the name are directories, a namespace package); more than one of them, or none, is refused as
//! flit refuses it. A package ships every file below its directory.

use serde::Deserialize;
use toml::Spanned;

use super::Selected;
use crate::pyproject::files::{Tree, join};
use crate::pyproject::{LocalProject, ProjectError};

#[derive(Deserialize, Default)]
struct File {
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
struct Tool {
    flit: Option<Flit>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Flit {
    module: Option<Module>,
    external_data: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize, Default)]
struct Module {
    name: Option<Spanned<String>>,
}

pub(super) fn select(project: &LocalProject, tree: &Tree) -> Result<Selected, ProjectError> {
    let doc = &project.doc;
    let file: File = doc.parse()?;
    let flit = file.tool.and_then(|tool| tool.flit).unwrap_or_default();
    if let Some(data) = &flit.external_data {
        return Err(doc.at(
            data.span(),
            "`[tool.flit.external-data]` installs files outside site-packages, which a Lambda zip has no place for"
                .into(),
            "external data",
            Some("remove it, or move the files into the package".into()),
        ));
    }
    let configured = flit.module.and_then(|module| module.name);
    let name = match &configured {
        Some(name) => {
            if !name.get_ref().split('.').all(is_identifier) {
                return Err(doc.at(
                    name.span(),
                    format!("`{}` is not a module name", name.get_ref()),
                    "not a module name",
                    Some("flit needs identifiers joined by `.`".into()),
                ));
            }
            name.get_ref().clone()
        }
        None => project.name.replace('-', "_"),
    };
    let as_path = name.replace('.', "/");
    let candidates = [
        (as_path.clone(), true, ""),
        (format!("{as_path}.py"), false, ""),
        (join("src", &as_path), true, "src"),
        (join("src", &format!("{as_path}.py")), false, "src"),
    ];
    let existing: Vec<&(String, bool, &str)> = candidates
        .iter()
        .filter(|(path, is_dir, _)| if *is_dir { tree.is_dir(path) } else { tree.is_file(path) })
        .collect();
    let (path, _, prefix) = match existing.as_slice() {
        [one] => *one,
        [] => {
            return Err(doc.error(
                &format!("flit would find no module `{name}`: none of `{as_path}/`, `{as_path}.py`, `src/{as_path}/`, `src/{as_path}.py` exists"),
                "set `[tool.flit.module] name` to the module's name".into(),
            ));
        }
        several => {
            let found: Vec<&str> = several.iter().map(|(path, _, _)| path.as_str()).collect();
            return Err(doc.error(
                &format!(
                    "flit would refuse to build: several files or folders could be the module `{name}`: {}",
                    found.join(", ")
                ),
                "remove all but one".into(),
            ));
        }
    };
    let mut out = Vec::new();
    for found in tree.walk(path, &|_, _| false)? {
        let archive = if prefix.is_empty() { found.rel.clone() } else { found.rel[prefix.len() + 1..].to_string() };
        out.push((archive, found.source));
    }
    Ok(out)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}
