//! Whether a function's handler will import: the module it names is among the zip's source
//! files (or its layers'), and the module defines the name. A text-level check of the Python
//! source, no interpreter: `def name(`, `async def name(`, `class name`, an assignment
//! (`handler = Mangum(app)`) or an import that binds the name. A module that could define names
//! in ways text cannot see (`import *`, a module `__getattr__`, compiled `.so`/`.pyc`) passes.

use std::path::Path;

use super::source::SourceFile;

/// What a handler check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HandlerCheck {
    Fine,
    /// No source file is the module (`app.py`, `app/__init__.py`): the path Lambda would import.
    NoModule {
        module: String,
        file: String,
    },
    /// The module is there but defines no such name.
    NoName {
        file: String,
        name: String,
    },
    /// `functions/api/app.handler` with `source = "functions/api"`: the source directory is the
    /// zip root, so the handler is `app.handler`.
    SourceInPath {
        fixed: String,
        dir: String,
    },
}

/// The largest module read for the name check; a bigger one passes unread.
const MAX_MODULE: u64 = 4 << 20;

/// Check `handler` (`module.name`, the module dotted or a path) against the files a function's
/// zip and layers hold; `dirs` are its source directories as written in `lambda.toml`.
pub(crate) fn check(handler: &str, files: &[&SourceFile], dirs: &[String]) -> HandlerCheck {
    let Some((module, name)) = handler.rsplit_once('.') else { return HandlerCheck::Fine };
    // Lambda's bootstrap imports `module` with `/` read as `.`.
    let path = module.replace('.', "/");
    match find_module(&path, files) {
        Some(Found::Readable(file)) => match read_small(&file.path) {
            Some(text) if !defines(&text, name) => {
                HandlerCheck::NoName { file: file.name.clone(), name: name.to_string() }
            }
            _ => HandlerCheck::Fine,
        },
        Some(Found::Opaque) => HandlerCheck::Fine,
        None => {
            for dir in dirs {
                let dir = dir.trim_start_matches("./").trim_end_matches('/');
                // `src/app.handler`, or the dotted `src.app.handler`.
                let dotted = dir.replace('/', ".");
                let rest = module
                    .strip_prefix(dir)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .or_else(|| module.strip_prefix(dotted.as_str()).and_then(|rest| rest.strip_prefix('.')));
                if let Some(rest) = rest
                    && find_module(&rest.replace('.', "/"), files).is_some()
                {
                    return HandlerCheck::SourceInPath { fixed: format!("{rest}.{name}"), dir: dir.to_string() };
                }
            }
            HandlerCheck::NoModule { module: path.replace('/', "."), file: format!("{path}.py") }
        }
    }
}

enum Found<'a> {
    Readable(&'a SourceFile),
    /// Compiled: nothing to read.
    Opaque,
}

fn find_module<'a>(path: &str, files: &[&'a SourceFile]) -> Option<Found<'a>> {
    let (plain, package) = (format!("{path}.py"), format!("{path}/__init__.py"));
    if let Some(file) = files.iter().find(|file| file.name == plain || file.name == package) {
        return Some(Found::Readable(file));
    }
    files
        .iter()
        .any(|file| {
            file.name.starts_with(&format!("{path}.")) && (file.name.ends_with(".so") || file.name.ends_with(".pyc"))
        })
        .then_some(Found::Opaque)
}

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_MODULE {
        return None;
    }
    std::fs::read(path).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether Python `text` binds `name` at some level (a method of the same name counts too: the
/// check only keeps a warning from being wrong, so where the text is unclear it says yes).
pub(crate) fn defines(text: &str, name: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("import *")
        || text.contains(&format!("globals()[\"{name}\"]"))
        || text.contains(&format!("globals()['{name}']"))
    {
        return true;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let word = |token: &str| token.trim_matches(|c: char| !is_ident(c)) == name;
    // Logical lines: `\` continuations joined, then statements split at `;`.
    let mut logical: Vec<String> = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("");
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                logical.push(std::mem::take(&mut pending));
            }
        }
    }
    logical.push(pending);
    let mut import_tail: Option<String> = None;
    // Open brackets before the statement: inside a call or literal spanning lines, `name=1` is
    // a keyword argument or a key, not a binding.
    let mut depth = 0i32;
    for statement in logical.iter().flat_map(|line| line.split(';')) {
        let line = statement.trim();
        let inside = depth > 0;
        depth += line.matches(['(', '[', '{']).count() as i32 - line.matches([')', ']', '}']).count() as i32;
        depth = depth.max(0);
        // A parenthesized import spans lines until its `)`.
        if let Some(tail) = &mut import_tail {
            tail.push(' ');
            tail.push_str(line);
            if !line.contains(')') {
                continue;
            }
            let done = import_tail.take().expect("set");
            if imported(&done).iter().any(|bound| bound == name) {
                return true;
            }
            continue;
        }
        if line.starts_with("def __getattr__") {
            return true;
        }
        let mut tokens = line.split_whitespace();
        let first = tokens.next().unwrap_or("");
        let first = if first == "async" { tokens.next().unwrap_or("") } else { first };
        if (first == "def" || first == "class")
            && let Some(defined) = tokens.next()
            && defined.split(['(', ':']).next() == Some(name)
        {
            return true;
        }
        // `for name in`, `with x as name`, `except E as name`, `(name := ...)`.
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            if (pair[0] == "for" && word(pair[1]))
                || (pair[0] == "as" && word(pair[1]))
                || (word(pair[0]) && pair[1].starts_with(":="))
            {
                return true;
            }
        }
        if line.contains(&format!("{name}:=")) {
            return true;
        }
        // An assignment's targets: before the first `=` that is not part of `==`, `<=`, `>=`,
        // `!=`, outside brackets (so `f(name=1)` is a keyword argument, not a binding).
        if !inside
            && let Some(targets) = assignment_targets(line)
            && targets.split([',', '(', ')', '[', ']', '*', ' ', ':']).any(|token| token == name)
        {
            return true;
        }
        if line.starts_with("from ") || line.starts_with("import ") {
            if line.contains('(') && !line.contains(')') {
                import_tail = Some(line.to_string());
                continue;
            }
            if imported(line).iter().any(|bound| bound == name) {
                return true;
            }
        }
    }
    false
}

/// The text before a statement's assignment `=` (or an annotation's `:`), if it has one.
fn assignment_targets(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let mut depth = 0i32;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'\'' | b'"' => return None,
            b'=' if depth == 0 => {
                let before = at.checked_sub(1).map(|at| bytes[at]);
                let after = bytes.get(at + 1).copied();
                if after == Some(b'=') || matches!(before, Some(b'=' | b'<' | b'>' | b'!' | b':')) {
                    return None;
                }
                return Some(&line[..at]);
            }
            // `name: T = ...` or `name: T`: an annotated target.
            b':' if depth == 0 && at > 0 => {
                let head = &line[..at];
                let simple = head.trim().chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
                return simple.then_some(head);
            }
            _ => {}
        }
    }
    None
}

/// The names an import statement binds: `from m import a, b as c` binds `a` and `c`;
/// `import x.y as z` binds `z`, `import x.y` binds `x`.
fn imported(statement: &str) -> Vec<String> {
    let (names, from) = match statement.split_once(" import ") {
        Some((head, names)) if head.starts_with("from ") => (names, true),
        _ => (statement.strip_prefix("import ").unwrap_or(""), false),
    };
    names
        .trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
        .split(',')
        .filter_map(|item| {
            let item = item.trim().trim_matches(|c| c == '(' || c == ')').trim();
            let bound = match item.split_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None if from => item,
                None => item.split('.').next().unwrap_or(item),
            };
            (!bound.is_empty()).then(|| bound.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_bound_by_defs_assignments_and_imports_are_found() {
        for (text, name) in [
            ("def handler(event, context):\n    pass\n", "handler"),
            ("async def handler(event, context): ...\n", "handler"),
            ("from mangum import Mangum\napp = FastAPI()\nhandler = Mangum(app)\n", "handler"),
            ("app = Chalice(app_name='x')\n", "app"),
            ("handler: Callable = make()\n", "handler"),
            ("from .impl import handler\n", "handler"),
            ("from .impl import (\n    other,\n    real as handler,\n)\n", "handler"),
            ("import app.main as handler\n", "handler"),
            ("from .impl import *\n", "anything"),
            ("class handler:\n    pass\n", "handler"),
            ("if True:\n    def handler(e, c): pass\n", "handler"),
            ("handler, other = a, b\n", "handler"),
            ("\u{feff}def handler(e, c): pass\n", "handler"),
            ("from impl import other, \\\n    handler\n", "handler"),
            ("app, handler = 1, 2\n", "handler"),
            ("(handler, other) = make()\n", "handler"),
            ("a, *handler = make()\n", "handler"),
            ("import os; handler = os.getcwd\n", "handler"),
            ("def\thandler(e, c): pass\n", "handler"),
            ("if (handler := make()):\n    pass\n", "handler"),
            ("with open('x') as handler:\n    pass\n", "handler"),
            ("for handler in []:\n    pass\n", "handler"),
            ("globals()['handler'] = make()\n", "handler"),
            ("handler = \\\n    make()\n", "handler"),
        ] {
            assert!(defines(text, name), "{text:?} defines {name}");
        }
        for (text, name) in [
            ("def handlers(event, context): pass\n", "handler"),
            ("# def handler(event, context):\n", "handler"),
            ("x = handler\nif handler == 1: pass\n", "handler"),
            ("from x import handler_two\n", "handler"),
            ("def lambda_handler(event, context): pass\n", "handler"),
            ("x = dict(\n    handler=1,\n)\n", "handler"),
            ("call(handler=1)\n", "handler"),
            ("if x >= handler: pass\n", "handler"),
        ] {
            assert!(!defines(text, name), "{text:?} does not define {name}");
        }
    }

    fn file(dir: &Path, name: &str, text: &str) -> SourceFile {
        let path = dir.join(name.replace('/', "_"));
        std::fs::write(&path, text).unwrap();
        SourceFile {
            name: name.to_string(),
            relative: name.to_string(),
            dir: "src".into(),
            path,
            size: text.len() as u64,
            executable: false,
            modified: 0,
        }
    }

    #[test]
    fn a_handler_is_checked_against_the_files_and_a_source_directory_in_its_path_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let files =
            [file(dir.path(), "app.py", "def handler(e, c): pass\n"), file(dir.path(), "pkg/__init__.py", "x = 1\n")];
        let files: Vec<&SourceFile> = files.iter().collect();
        let dirs = vec!["functions/api".to_string()];
        assert_eq!(check("app.handler", &files, &dirs), HandlerCheck::Fine);
        assert_eq!(
            check("app.main", &files, &dirs),
            HandlerCheck::NoName { file: "app.py".into(), name: "main".into() }
        );
        assert_eq!(
            check("pkg.handler", &files, &dirs),
            HandlerCheck::NoName { file: "pkg/__init__.py".into(), name: "handler".into() }
        );
        assert_eq!(
            check("functions/api/app.handler", &files, &dirs),
            HandlerCheck::SourceInPath { fixed: "app.handler".into(), dir: "functions/api".into() }
        );
        assert_eq!(
            check("functions.api.app.handler", &files, &dirs),
            HandlerCheck::SourceInPath { fixed: "app.handler".into(), dir: "functions/api".into() }
        );
        assert_eq!(
            check("nope.handler", &files, &dirs),
            HandlerCheck::NoModule { module: "nope".into(), file: "nope.py".into() }
        );
    }
}
