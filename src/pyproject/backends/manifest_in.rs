//! `MANIFEST.in`, as setuptools reads it for `include-package-data`: the sdist file list its
//! commands build (`include`, `exclude`, `recursive-include`, `recursive-exclude`,
//! `global-include`, `global-exclude`, `graft`, `prune`), then pruned of the build tree and VCS
//! directories. Only what this list adds inside package directories matters to a wheel; the
//! defaults setuptools starts the list with (modules, package data, README, ...) are shipped,
//! or not, by other rules, so the list starts empty here.

use globset::{GlobBuilder, GlobMatcher};

use crate::pyproject::files::{GlobStyle, Tree};
use crate::pyproject::{Doc, ProjectError};

/// The files `MANIFEST.in` adds to the sdist list, relative to the root.
pub(super) fn files(doc: &Doc, tree: &Tree) -> Result<Vec<String>, ProjectError> {
    let text = crate::manifest::read_text_file(&tree.path("MANIFEST.in"))
        .map_err(|why| doc.error(&format!("cannot read MANIFEST.in: {why}"), "fix or remove MANIFEST.in".into()))?;
    let mut list: Vec<String> = Vec::new();
    let mut all: Option<Vec<String>> = None;
    for (number, line) in logical_lines(&text) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = |why: String| {
            doc.error(
                &format!("MANIFEST.in line {number}: {why}"),
                "lbuild reads MANIFEST.in as setuptools does; fix the line, or list the data files in \
                 `[tool.setuptools.package-data]` and set `include-package-data = false`"
                    .into(),
            )
        };
        let (action, args) = words.split_first().ok_or_else(|| bad("empty command".into()))?;
        let need = |count: usize| {
            if args.len() < count { Err(bad(format!("`{action}` needs more arguments"))) } else { Ok(()) }
        };
        for arg in args {
            if arg.starts_with('/') || arg.split('/').any(|part| part == "..") || arg.contains('\\') {
                return Err(bad(format!("`{arg}` is not a relative path inside the project")));
            }
        }
        match *action {
            "include" => {
                need(1)?;
                for pattern in args {
                    // Without `recursive=True`, `**` is a plain wildcard.
                    let pattern = pattern.replace("**", "*");
                    list.extend(only_files(tree, tree.glob("", &pattern, GlobStyle::Module).map_err(&bad)?));
                }
            }
            "recursive-include" => {
                need(2)?;
                for pattern in &args[1..] {
                    let full = format!("{}/**/{pattern}", args[0]);
                    list.extend(only_files(tree, tree.glob("", &full, GlobStyle::Module).map_err(&bad)?));
                }
            }
            "global-include" => {
                need(1)?;
                let all = match &mut all {
                    Some(all) => all,
                    None => all.insert(tree.walk("", &|_, _| false)?.into_iter().map(|found| found.rel).collect()),
                };
                for pattern in args {
                    let matcher = translate(&format!("**/{pattern}")).map_err(&bad)?;
                    list.extend(all.iter().filter(|file| matcher.is_match(file.as_str())).cloned());
                }
            }
            "graft" => {
                if args.len() != 1 {
                    return Err(bad("`graft` takes one directory".into()));
                }
                for dir in tree.glob("", &args[0].replace("**", "*"), GlobStyle::Module).map_err(&bad)? {
                    if tree.is_dir(&dir) {
                        list.extend(tree.walk(&dir, &|_, _| false)?.into_iter().map(|found| found.rel));
                    }
                }
            }
            "exclude" | "global-exclude" | "recursive-exclude" | "prune" => {
                let patterns: Vec<String> = match *action {
                    "exclude" => {
                        need(1)?;
                        args.iter().map(|p| p.to_string()).collect()
                    }
                    "global-exclude" => {
                        need(1)?;
                        args.iter().map(|p| format!("**/{p}")).collect()
                    }
                    "recursive-exclude" => {
                        need(2)?;
                        args[1..].iter().map(|p| format!("{}/**/{p}", args[0])).collect()
                    }
                    _ => {
                        if args.len() != 1 {
                            return Err(bad("`prune` takes one directory".into()));
                        }
                        vec![format!("{}/**", args[0])]
                    }
                };
                for pattern in patterns {
                    let matcher = translate(&pattern).map_err(&bad)?;
                    list.retain(|file| !matcher.is_match(file.as_str()));
                }
            }
            other => return Err(bad(format!("`{other}` is not a MANIFEST.in command"))),
        }
    }
    // setuptools prunes the build tree and VCS directories from the list.
    list.retain(|file| {
        !file.starts_with("build/")
            && !file
                .split('/')
                .rev()
                .skip(1)
                .any(|dir| matches!(dir, "RCS" | "CVS" | ".svn" | ".hg" | ".git" | ".bzr" | "_darcs"))
    });
    list.sort();
    list.dedup();
    Ok(list)
}

fn only_files(tree: &Tree, paths: Vec<String>) -> Vec<String> {
    paths.into_iter().filter(|path| !tree.is_dir(path)).collect()
}

/// The lines setuptools' template reader yields, with their first line number: `#` comments
/// stripped (`\#` is a literal `#`), a trailing `\` joining the next line, whitespace trimmed,
/// blank lines skipped.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let mut line = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' && chars.peek() == Some(&'#') {
                line.push('#');
                chars.next();
            } else if c == '#' {
                break;
            } else {
                line.push(c);
            }
        }
        let line = line.trim().to_string();
        let (start, mut joined) = match pending.take() {
            Some((start, before)) => (start, before + &line),
            None => (index + 1, line),
        };
        if joined.ends_with('\\') {
            joined.pop();
            pending = Some((start, joined));
            continue;
        }
        if !joined.trim().is_empty() {
            out.push((start, joined.trim().to_string()));
        }
    }
    if let Some((start, joined)) = pending
        && !joined.trim().is_empty()
    {
        out.push((start, joined.trim().to_string()));
    }
    out
}

/// setuptools' `translate_pattern`: `*` and `?` within one component, `**` a whole component
/// standing for any number of directories (at the end: anything), matched against the whole path.
fn translate(pattern: &str) -> Result<GlobMatcher, String> {
    let pattern = pattern.split('/').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("/");
    GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|err| format!("`{pattern}` is not a valid pattern: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_lines_are_read_as_setuptools_reads_them() {
        let text = "# comment\ninclude a.txt # trailing\n\n  recursive-include src \\\n   *.json\ninclude \\#odd\n";
        assert_eq!(
            logical_lines(text),
            [
                (2, "include a.txt".to_string()),
                (4, "recursive-include src *.json".to_string()),
                (6, "include #odd".to_string())
            ]
        );
    }

    #[test]
    fn translated_patterns_keep_wildcards_inside_components() {
        assert!(translate("src/*.txt").unwrap().is_match("src/a.txt"));
        assert!(!translate("src/*.txt").unwrap().is_match("src/d/a.txt"));
        assert!(translate("**/*.log").unwrap().is_match("a/b/c.log"));
        assert!(translate("**/*.log").unwrap().is_match("c.log"));
        assert!(translate("pkg/static/dev/**").unwrap().is_match("pkg/static/dev/x/y.css"));
    }
}
