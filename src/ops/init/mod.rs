//! `lbuild init`: write a `lambda.toml` for an existing Python project.
//!
//! It looks at the directory the way a person would: the dependencies in `requirements.txt`, in
//! `pyproject.toml` (`[project.dependencies]`, or a Poetry project's
//! `[tool.poetry.dependencies]`) or in a Pipenv `Pipfile`, and a file that defines a Lambda handler
//! (`lambda_handler` or `handler`, defined or assigned; a Mangum or Chalice app; any
//! `def NAME(event, context)`), at the top, under `src/`, or in a package under `src/`.
//! The manifest refers to the requirements file instead of copying it, so the two never drift.
//! An existing `lambda.toml` is never replaced: the new file is created with `O_EXCL`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use serde::Serialize;

use crate::manifest::is_valid_member_name;
use crate::manifest::requirements_file::{parse_pipfile, parse_pyproject, parse_requirements_txt};
use crate::platform::{Architecture, RUNTIMES, Runtime};

mod repo;

/// Options of `lbuild init`.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// The project directory (`lambda.toml` is written there).
    pub dir: PathBuf,
    /// `--runtime`: default `python3.12`, or the newest runtime the project's `requires-python`
    /// allows when it excludes python3.12.
    pub runtime: Option<String>,
    /// `--arch`: the one architecture to deploy on (default: both).
    pub arch: Option<Architecture>,
    /// `--name`: the function's name (default: the project's name, else the directory's).
    pub name: Option<String>,
}

/// What `init` wrote and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct InitOutcome {
    pub path: PathBuf,
    pub function: String,
    pub runtime: String,
    /// `app.lambda_handler`, when a handler was found.
    pub handler: Option<String>,
    /// The source directory, relative to the project (`.` or `src`).
    pub source: String,
    /// `requirements.txt`, `pyproject.toml` or `Pipfile`, when one was imported.
    pub requirements_file: Option<String>,
    /// How many requirements that file has.
    pub requirements: usize,
    /// Where the functions were found in a repository of several: `template.yaml`,
    /// `serverless.yml`, `pyproject.toml` (a uv workspace) or `functions/`; `None` for a project
    /// that is one function.
    pub layout: Option<String>,
    /// Every function written, the one above first.
    pub functions: Vec<InitFunction>,
    /// What was seen in the repository and left out (a Node.js function, a container image).
    pub notes: Vec<String>,
}

/// A function `init` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct InitFunction {
    pub name: String,
    pub runtime: String,
    /// Its own architecture, when the template gives one.
    pub architecture: Option<String>,
    pub handler: Option<String>,
    pub source: String,
    pub requirements_file: Option<String>,
    pub requirements: usize,
}

/// Handler files in the order they are tried, and the function names that make a handler.
const HANDLER_FILES: &[&str] = &["lambda_function.py", "handler.py", "app.py", "main.py", "index.py"];
const HANDLER_FUNCTIONS: &[&str] = &["lambda_handler", "handler"];

/// Run `lbuild init`.
pub fn init(options: &InitOptions) -> miette::Result<InitOutcome> {
    let dir = &options.dir;
    if !dir.is_dir() {
        miette::bail!(
            help = "pass the project directory, or run `lbuild init` inside it",
            "`{}` is not a directory",
            dir.display()
        );
    }
    let path = dir.join("lambda.toml");
    if path.exists() {
        miette::bail!(
            help = "lbuild init never overwrites a manifest; edit it, or remove it to start over",
            "`{}` already exists",
            path.display()
        );
    }

    let (repository, left_out) = match repo::detect(dir)? {
        Some(repository) if repository.functions.is_empty() => (None, repository.notes),
        found => (found, Vec::new()),
    };
    if let (Some(repository), Some(_)) = (&repository, &options.name) {
        miette::bail!(
            help = "leave out `--name`: each function is named after the template or directory it comes from",
            "`--name` names the one function of a project, and `{}` defines {}",
            repository.layout,
            crate::output::count(repository.functions.len(), "function")
        );
    }
    let pyproject = read_pyproject(dir)?;
    let (layout, notes, mut functions) = match repository {
        Some(repository) => (Some(repository.layout), repository.notes, repository.functions),
        None => {
            let (requirements_file, requirements) = detect_requirements(dir, pyproject.as_ref())?;
            let name = match &options.name {
                Some(name) => {
                    if !is_valid_member_name(name) {
                        miette::bail!(
                            help = "use letters, digits, `-` and `_`, starting with a letter or digit",
                            "`{name}` is not a valid function name"
                        );
                    }
                    name.clone()
                }
                None => default_name(dir, pyproject.as_ref()),
            };
            let handler = detect_handler(dir);
            let source = handler.as_ref().map_or(".", |(source, _)| source.as_str()).to_string();
            let found = repo::Found {
                name,
                source,
                handler: handler.map(|(_, handler)| handler),
                requirements_file,
                requirements,
                ..repo::Found::default()
            };
            (None, left_out, vec![found])
        }
    };
    unique_names(&mut functions);
    // Functions that all deploy on one architecture make it the workspace's, so nothing locks
    // for the other.
    let mut arch = options.arch;
    let architectures: std::collections::BTreeSet<Architecture> =
        functions.iter().filter_map(|function| function.architecture).collect();
    if arch.is_none() && architectures.len() == 1 && functions.iter().all(|function| function.architecture.is_some()) {
        arch = architectures.into_iter().next();
    }
    let runtime = match (&options.runtime, most_common_runtime(&functions)) {
        (None, Some(runtime)) => runtime,
        (wanted, _) => choose_runtime(wanted.as_deref(), pyproject.as_ref())?,
    };

    let mut text = String::new();
    text.push_str("# lbuild workspace, written by `lbuild init`. Every key: lambda.toml.example.\n");
    if let Some(layout) = &layout {
        let _ = writeln!(text, "# The functions of `{layout}`.");
    }
    text.push_str("\n[workspace]\n");
    let _ = writeln!(text, "runtime = \"{}\"", runtime.name);
    match arch {
        Some(arch) => {
            let _ = writeln!(text, "architectures = [\"{arch}\"]");
        }
        None => text.push_str("architectures = [\"x86_64\", \"arm64\"]\n"),
    }
    text.push_str("# Leave out of the zips what the runtime provides (boto3, botocore and their closure).\n");
    text.push_str("exclude-runtime-packages = false\n");
    for function in &functions {
        write_function(&mut text, dir, function, runtime, arch);
    }

    write_new(&path, text.as_bytes())?;
    let described: Vec<InitFunction> = functions
        .iter()
        .map(|function| InitFunction {
            name: function.name.clone(),
            runtime: function.runtime.unwrap_or(runtime).name.to_string(),
            architecture: if arch.is_some() { None } else { function.architecture.map(|a| a.to_string()) },
            handler: function.handler.clone(),
            source: function.source.clone(),
            requirements_file: function.requirements_file.clone(),
            requirements: function.requirements,
        })
        .collect();
    let first = described[0].clone();
    Ok(InitOutcome {
        path,
        function: first.name,
        runtime: runtime.name.to_string(),
        handler: first.handler,
        source: first.source,
        requirements_file: first.requirements_file,
        requirements: first.requirements,
        layout,
        functions: described,
        notes,
    })
}

/// One `[function.NAME]` table.
fn write_function(text: &mut String, dir: &Path, function: &repo::Found, runtime: Runtime, arch: Option<Architecture>) {
    let _ = writeln!(text, "\n[function.{}]", function.name);
    let _ = writeln!(text, "source = \"{}\"", toml_escape(&function.source));
    match &function.handler {
        Some(handler) => {
            let _ = writeln!(text, "handler = \"{}\"", toml_escape(handler));
        }
        None => text.push_str("# No handler found; set it to `module.function`.\n# handler = \"app.handler\"\n"),
    }
    if let Some(own) = function.runtime.filter(|own| *own != runtime) {
        let _ = writeln!(text, "runtime = \"{}\"", own.name);
    }
    if let (None, Some(architecture)) = (arch, function.architecture) {
        let _ = writeln!(text, "architecture = \"{architecture}\"");
    }
    // The build output, the lock and the project's tooling are not the function's code.
    let mut exclude = vec!["tests/**"];
    let code = if function.source == "." { dir.to_path_buf() } else { dir.join(&function.source) };
    if function.source == "." {
        exclude.extend(["target/**", "lambda.toml", "lambda.lock"]);
        // The project tool's own files, when there are any.
        for file in ["Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock", "samconfig.toml"] {
            if dir.join(file).is_file() {
                exclude.push(file);
            }
        }
        // Deploy tools' files are not code, whether or not their functions were taken.
        for file in ["template.yaml", "template.yml", "template.json", "serverless.yml", "serverless.yaml"] {
            if dir.join(file).is_file() {
                exclude.push(file);
            }
        }
    }
    if function.source == "." || code.join("requirements.txt").is_file() {
        exclude.push("requirements*.txt");
    }
    if function.source == "." || code.join("pyproject.toml").is_file() {
        exclude.push("pyproject.toml");
    }
    let exclude: Vec<String> = exclude.iter().map(|pattern| format!("\"{pattern}\"")).collect();
    let _ = writeln!(text, "exclude = [{}]", exclude.join(", "));
    match &function.requirements_file {
        Some(file) => {
            let _ = writeln!(text, "requirements-file = \"{}\"", toml_escape(file));
        }
        None => text.push_str("requirements = []\n"),
    }
}

/// A string's characters as a TOML basic string (`"..."`) holds them: paths and handlers come
/// from the repository's files. JSON's escapes are TOML's, but for DEL, which TOML escapes too.
fn toml_escape(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("strings serialize").replace('\u{7f}', "\\u007F");
    quoted[1..quoted.len() - 1].to_string()
}

/// Two functions found under one name get `-2`, `-3`... Names that differ only in case or in
/// `-` and `_` count as one: their zips would clash on macOS and Windows, and their
/// CloudFormation IDs everywhere.
fn unique_names(functions: &mut [repo::Found]) {
    let key = |name: &str| name.to_ascii_lowercase().replace('_', "-");
    let mut seen = std::collections::BTreeSet::new();
    for function in functions.iter_mut() {
        let base = function.name.clone();
        let mut n = 2;
        while !seen.insert(key(&function.name)) {
            function.name = format!("{base}-{n}");
            n += 1;
        }
    }
}

/// The runtime most of the found functions name (the first of them on a tie).
fn most_common_runtime(functions: &[repo::Found]) -> Option<Runtime> {
    let named: Vec<Runtime> = functions.iter().filter_map(|function| function.runtime).collect();
    let count = |runtime: &Runtime| named.iter().filter(|other| *other == runtime).count();
    let mut best: Option<Runtime> = None;
    for runtime in &named {
        if best.is_none_or(|best| count(runtime) > count(&best)) {
            best = Some(*runtime);
        }
    }
    best
}

/// Create `path` with `bytes`, failing if it exists, never leaving half a file.
fn write_new(path: &Path, bytes: &[u8]) -> miette::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".lambda.toml.")
        .tempfile_in(dir)
        .map_err(|err| miette::miette!("cannot write in `{}`: {err}", dir.display()))?;
    let written = temp.write_all(bytes).and_then(|()| temp.as_file().sync_all()).and_then(|()| {
        // A manifest is an ordinary project file, not a secret: 0644, not tempfile's 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        Ok(())
    });
    written.map_err(|err| miette::miette!("cannot write `{}`: {err}", path.display()))?;
    temp.persist_noclobber(path).map_err(|err| {
        miette::miette!(
            help = "lbuild init never overwrites a manifest",
            "cannot create `{}`: {}",
            path.display(),
            err.error
        )
    })?;
    Ok(())
}

struct PyProject {
    text: String,
    name: Option<String>,
    requires_python: Option<String>,
    has_dependencies: bool,
}

fn read_pyproject(dir: &Path) -> miette::Result<Option<PyProject>> {
    let path = dir.join("pyproject.toml");
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => miette::bail!("{err}"),
    };
    let value: toml::Table = toml::from_str(&text).map_err(|err| {
        miette::miette!(
            help = "fix the file, or remove it",
            "`{}` is not valid TOML: {}",
            path.display(),
            err.message()
        )
    })?;
    let project = value.get("project").and_then(toml::Value::as_table);
    // A Poetry 1 project names itself and its Python in `[tool.poetry]`.
    let poetry = value.get("tool").and_then(|tool| tool.get("poetry")).and_then(toml::Value::as_table);
    let poetry_python = poetry
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.get("python"))
        .and_then(toml::Value::as_str)
        .and_then(|python| crate::interop::poetry::to_specifiers(python).ok());
    Ok(Some(PyProject {
        name: project
            .and_then(|p| p.get("name"))
            .or_else(|| poetry.and_then(|p| p.get("name")))
            .and_then(toml::Value::as_str)
            .map(str::to_string),
        requires_python: project
            .and_then(|p| p.get("requires-python"))
            .and_then(toml::Value::as_str)
            .map(str::to_string)
            .or(poetry_python),
        // Poetry keeps them in `[tool.poetry.dependencies]` when `[project]` has none.
        has_dependencies: project.is_some_and(|p| p.contains_key("dependencies"))
            || value
                .get("tool")
                .and_then(|tool| tool.get("poetry"))
                .and_then(|poetry| poetry.get("dependencies"))
                .is_some(),
        text,
    }))
}

/// `requirements.txt` wins over `pyproject.toml`, which wins over a `Pipfile`; each is parsed
/// now, so a mistake shows at `init` and not at the first lock.
fn detect_requirements(dir: &Path, pyproject: Option<&PyProject>) -> miette::Result<(Option<String>, usize)> {
    let txt = dir.join("requirements.txt");
    if txt.is_file() {
        let text = crate::manifest::read_text_file(&txt)
            .map_err(|problem| miette::miette!("cannot read `{}`: {problem}", txt.display()))?;
        let file = parse_requirements_txt(&text, &txt)?;
        for warning in &file.warnings {
            crate::output::warn_user!("{warning}");
        }
        // Path lines are local packages, which `lbuild lock` installs from their pyproject.toml:
        // a directory without one is refused there, so say so now.
        for local in &file.local_paths {
            if !local.path.join("pyproject.toml").is_file() {
                crate::output::warn_user!(
                    "`{}` ({}) is a local project without a pyproject.toml, which lbuild cannot install; \
                     `lbuild lock` will stop there (give it a pyproject.toml with a `[project]` table, \
                     or remove the line)",
                    crate::output::shorten(&local.written),
                    local.origin
                );
            }
        }
        return Ok((Some("requirements.txt".into()), file.requirements.len() + file.local_paths.len()));
    }
    if let Some(pyproject) = pyproject.filter(|pyproject| pyproject.has_dependencies) {
        let file = parse_pyproject(&pyproject.text, &dir.join("pyproject.toml"))?;
        return Ok((Some("pyproject.toml".into()), file.requirements.len() + file.local_paths.len()));
    }
    let pipfile = dir.join("Pipfile");
    if pipfile.is_file() {
        let text = crate::manifest::read_text_file(&pipfile)
            .map_err(|problem| miette::miette!("cannot read `{}`: {problem}", pipfile.display()))?;
        let file = parse_pipfile(&text, &pipfile)?;
        return Ok((Some("Pipfile".into()), file.requirements.len() + file.local_paths.len()));
    }
    Ok((None, 0))
}

fn choose_runtime(wanted: Option<&str>, pyproject: Option<&PyProject>) -> miette::Result<Runtime> {
    if let Some(name) = wanted {
        return Runtime::from_name(name).ok_or_else(|| {
            let message = Runtime::retired(name).unwrap_or_else(|| format!("unknown runtime `{name}`"));
            miette::miette!(
                help = format!("the Lambda Python runtimes lbuild targets are: {}", Runtime::known_names()),
                "{message}"
            )
        });
    }
    let default = Runtime::from_name("python3.12").expect("in the table");
    let Some(requires) = pyproject.and_then(|pyproject| pyproject.requires_python.as_deref()) else {
        return Ok(default);
    };
    let Ok(specifiers) = VersionSpecifiers::from_str(requires) else { return Ok(default) };
    let allows = |runtime: &Runtime| {
        pep440_rs::Version::from_str(runtime.default_full_version).is_ok_and(|version| specifiers.contains(&version))
    };
    if allows(&default) {
        return Ok(default);
    }
    RUNTIMES.iter().rev().copied().find(allows).ok_or_else(|| {
        miette::miette!(
            help = "pass `--runtime` to choose one anyway",
            "no Lambda Python runtime satisfies `requires-python = \"{requires}\"` of pyproject.toml"
        )
    })
}

/// The project's name, else the directory's, made a valid function name.
fn default_name(dir: &Path, pyproject: Option<&PyProject>) -> String {
    let raw = pyproject
        .and_then(|pyproject| pyproject.name.clone())
        .or_else(|| std::path::absolute(dir).ok()?.file_name()?.to_str().map(str::to_string))
        .unwrap_or_default();
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '-' || c == '_').to_string();
    if is_valid_member_name(&cleaned) { cleaned } else { "app".to_string() }
}

/// `(source directory, handler)` of the first file that defines a handler: in the project root,
/// `src/`, or a package under `src/` (`src/<pkg>/handler.py` gives `pkg.handler.NAME` with
/// `source = "src"`).
fn detect_handler(dir: &Path) -> Option<(String, String)> {
    let mut places: Vec<(&str, String, PathBuf)> = vec![(".", String::new(), dir.to_path_buf())];
    places.push(("src", String::new(), dir.join("src")));
    if let Ok(entries) = fs_err::read_dir(dir.join("src")) {
        let mut packages: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.join("__init__.py").is_file())
            .collect();
        packages.sort();
        for package in packages {
            let Some(name) = package.file_name().and_then(|name| name.to_str()).map(str::to_string) else { continue };
            places.push(("src", format!("{name}."), package));
        }
    }
    for (source, prefix, place) in &places {
        for file in HANDLER_FILES {
            let Ok(text) = fs_err::read_to_string(place.join(file)) else { continue };
            if let Some(name) = handler_in(&text) {
                let module = file.trim_end_matches(".py");
                return Some((source.to_string(), format!("{prefix}{module}.{name}")));
            }
        }
    }
    None
}

/// The handler a module defines, best first: `lambda_handler` or `handler` (a `def` or an
/// assignment such as `handler = Mangum(app)`), a Mangum adapter under another name, Chalice's
/// `app = Chalice(...)` (whose handler is `app`), then any `def NAME(event, context)`.
fn handler_in(text: &str) -> Option<String> {
    if let Some(name) = HANDLER_FUNCTIONS.iter().find(|name| crate::assemble::handler::defines(text, name)) {
        return Some(name.to_string());
    }
    let assigned = |call: &str| {
        text.lines().find_map(|line| {
            let (target, value) = line.split_once('=')?;
            let target = target.trim();
            let valid = !target.is_empty() && target.chars().all(|c| c.is_alphanumeric() || c == '_');
            (valid && !line.starts_with([' ', '\t']) && value.trim_start().starts_with(call))
                .then(|| target.to_string())
        })
    };
    if let Some(name) = assigned("Mangum(").or_else(|| assigned("Chalice(")) {
        return Some(name);
    }
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("def ").or_else(|| line.strip_prefix("async def "))?;
        let (name, params) = rest.split_once('(')?;
        let params: Vec<&str> =
            params.split(')').next()?.split(',').map(|param| param.split(':').next().unwrap_or("").trim()).collect();
        let lambda_like = params.len() == 2 && params[0].starts_with("event") && params[1].starts_with("context");
        lambda_like.then(|| name.trim().to_string())
    })
}
