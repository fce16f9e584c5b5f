//! `uv_build`: the module `module-name` (default: the normalized name with `_`) in
//! `module-root` (default `src`, `""` for a flat layout), a regular package unless `namespace`,
//! less `source-exclude` and `wheel-exclude` globs and the default excludes.

use globset::GlobSet;
use serde::Deserialize;
use toml::Spanned;

use super::{Selected, module_name};
use crate::pyproject::files::{Tree, glob_set};
use crate::pyproject::{LocalProject, ProjectError};

#[derive(Deserialize, Default)]
struct File {
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
struct Tool {
    uv: Option<Uv>,
}

#[derive(Deserialize, Default)]
struct Uv {
    #[serde(rename = "build-backend")]
    build_backend: Option<Options>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Options {
    module_name: Option<Spanned<toml::Value>>,
    module_root: Option<Spanned<String>>,
    #[serde(default)]
    namespace: bool,
    #[serde(default)]
    source_exclude: Vec<Spanned<String>>,
    #[serde(default)]
    wheel_exclude: Vec<Spanned<String>>,
    data: Option<Spanned<toml::Value>>,
}

const KEY: &str = "[tool.uv.build-backend]";

pub(super) fn select(project: &LocalProject, tree: &Tree) -> Result<Selected, ProjectError> {
    let doc = &project.doc;
    let file: File = doc.parse()?;
    let options = file.tool.and_then(|tool| tool.uv).and_then(|uv| uv.build_backend).unwrap_or_default();
    if let Some(data) = &options.data {
        return Err(doc.at(
            data.span(),
            format!("`{KEY}.data` installs files outside site-packages, which a Lambda zip has no place for"),
            "wheel data",
            Some("remove `data`, or move the files into the package".into()),
        ));
    }
    let module_root = match &options.module_root {
        Some(root) => tree.option_path(doc, root, &format!("{KEY}.module-root"))?,
        None => "src".to_string(),
    };
    let names: Vec<(String, std::ops::Range<usize>)> = match &options.module_name {
        None => {
            // A stub package `foo-stubs` keeps its `-stubs` suffix.
            let name = match project.normalized_name.strip_suffix("-stubs") {
                Some(base) => format!("{}-stubs", base.replace('-', "_")),
                None => module_name(project),
            };
            vec![(name, 0..0)]
        }
        Some(value) => {
            let span = value.span();
            let bad = || {
                doc.at(
                    span.clone(),
                    format!("`{KEY}.module-name` must be a module name or a list of them"),
                    "not a module name",
                    Some("e.g. `module-name = \"my_package\"` or `module-name = \"namespace.package\"`".into()),
                )
            };
            let list = match value.get_ref() {
                toml::Value::String(name) => vec![name.clone()],
                toml::Value::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_string).ok_or_else(bad))
                    .collect::<Result<_, _>>()?,
                _ => return Err(bad()),
            };
            let mut names = Vec::new();
            for name in list {
                if name.is_empty()
                    || !name.split('.').all(|part| {
                        !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                    })
                {
                    return Err(doc.at(
                        span.clone(),
                        format!("`{name}` in `{KEY}.module-name` is not a module name"),
                        "not a module name",
                        Some("module names are identifiers joined by `.`".into()),
                    ));
                }
                names.push((name, span.clone()));
            }
            names
        }
    };
    let excludes = Excludes::new(doc, &options)?;
    let mut out = Vec::new();
    for (name, span) in names {
        let module_rel = name.replace('.', "/");
        let dir = join(&module_root, &module_rel);
        let stub = name.ends_with("-stubs");
        let init = join(&dir, if stub { "__init__.pyi" } else { "__init__.py" });
        let found = if options.namespace { tree.is_dir(&dir) } else { tree.is_file(&init) };
        if !found {
            let expected = if options.namespace { format!("the directory `{dir}`") } else { format!("`{init}`") };
            let message = format!("uv_build would find no module `{name}`: expected {expected} in the project");
            let help = "set `module-name` (and `module-root`, default `src`) in `[tool.uv.build-backend]` to where \
                        the package is"
                .to_string();
            return Err(if span.is_empty() {
                doc.error(&message, help)
            } else {
                doc.at(span, message, "this module", Some(help))
            });
        }
        if !options.namespace && name.contains('.') {
            let mut parent = module_root.clone();
            for part in name.split('.').collect::<Vec<_>>().split_last().map(|(_, parents)| parents).unwrap_or_default()
            {
                parent = join(&parent, part);
                if tree.is_file(&join(&parent, "__init__.py")) || tree.is_file(&join(&parent, "__init__.pyi")) {
                    return Err(doc.at(
                        span,
                        format!("`{name}` is a namespace module, but its parent `{parent}` holds an `__init__.py`"),
                        "namespace module",
                        Some("uv_build refuses this too: remove the parent's `__init__.py`, or name the parent as the module".into()),
                    ));
                }
            }
        }
        for found in tree.walk(&dir, &|name, parent| excludes.excluded(&join(parent, name)))? {
            if excludes.excluded(&found.rel) {
                continue;
            }
            let archive =
                found.rel.strip_prefix(&module_root).map(|rest| rest.trim_start_matches('/')).unwrap_or(&found.rel);
            out.push((archive.to_string(), found.source));
        }
    }
    Ok(out)
}

fn join(base: &str, rel: &str) -> String {
    if base.is_empty() { rel.to_string() } else { format!("{base}/{rel}") }
}

/// uv's exclude globs: a pattern without a leading `/` matches at any depth, one with it only
/// from the project root; a match excludes everything below it. Both lists are matched against
/// the path from the project root (uv_build applies `source-exclude` to wheels as well).
struct Excludes {
    source: (GlobSet, GlobSet),
    wheel: (GlobSet, GlobSet),
}

impl Excludes {
    fn new(doc: &crate::pyproject::Doc, options: &Options) -> Result<Excludes, ProjectError> {
        let compile = |patterns: &[Spanned<String>], key: &str| -> Result<(GlobSet, GlobSet), ProjectError> {
            let mut anywhere = Vec::new();
            let mut anchored = Vec::new();
            for pattern in patterns {
                let text = pattern.get_ref().trim_end_matches('/');
                if text.contains("..") || text.contains('\\') {
                    return Err(doc.at(
                        pattern.span(),
                        format!("`{}` in `{KEY}.{key}` is not a portable glob", pattern.get_ref()),
                        "invalid glob",
                        None,
                    ));
                }
                match text.strip_prefix('/') {
                    Some(rooted) => anchored.push(rooted.to_string()),
                    None => anywhere.push(format!("**/{text}")),
                }
            }
            let build = |list: &[String]| {
                glob_set(list).map_err(|why| {
                    doc.at(
                        patterns.first().map(|p| p.span()).unwrap_or(0..0),
                        format!("`{KEY}.{key}` has an invalid glob: {why}"),
                        "invalid glob",
                        None,
                    )
                })
            };
            Ok((build(&anywhere)?, build(&anchored)?))
        };
        Ok(Excludes {
            source: compile(&options.source_exclude, "source-exclude")?,
            wheel: compile(&options.wheel_exclude, "wheel-exclude")?,
        })
    }

    fn excluded(&self, rel: &str) -> bool {
        matches_or_parent(&self.source, rel) || matches_or_parent(&self.wheel, rel)
    }
}

fn matches_or_parent((anywhere, anchored): &(GlobSet, GlobSet), path: &str) -> bool {
    let mut prefix = path;
    loop {
        if anywhere.is_match(prefix) || anchored.is_match(prefix) {
            return true;
        }
        match prefix.rfind('/') {
            Some(at) => prefix = &prefix[..at],
            None => return false,
        }
    }
}
