//! Repositories of several functions, for `lbuild init`: an AWS SAM template's functions, a
//! Serverless Framework service's, the members of a uv workspace that define a handler, or the
//! directories under `functions/` that do. The first of these a repository has wins, in that
//! order; a repository with none of them is one function (see the parent module).

use std::path::Path;
use std::str::FromStr;

use yaml_rust2::Yaml;

use super::{detect_handler, detect_requirements, read_pyproject};
use crate::platform::{Architecture, Runtime};

/// A function found in the repository.
#[derive(Debug, Clone, Default)]
pub(super) struct Found {
    pub name: String,
    /// Relative to the repository root, `/`-separated; `.` for the root.
    pub source: String,
    pub handler: Option<String>,
    pub runtime: Option<Runtime>,
    pub architecture: Option<Architecture>,
    /// Relative to the repository root.
    pub requirements_file: Option<String>,
    pub requirements: usize,
}

/// The functions of a repository and where they were found.
#[derive(Debug)]
pub(super) struct Repository {
    /// `template.yaml`, `serverless.yml`, `pyproject.toml` (uv workspace) or `functions/`.
    pub layout: String,
    pub functions: Vec<Found>,
    /// What was seen and left out, for the user.
    pub notes: Vec<String>,
}

/// The functions of a multi-function repository, if `dir` is one.
///
/// A template whose functions are all left out gives no functions, only the notes saying why:
/// the repository is then taken as one project.
pub(super) fn detect(dir: &Path) -> miette::Result<Option<Repository>> {
    let mut notes = Vec::new();
    for file in ["template.yaml", "template.yml", "template.json"] {
        if let Some(repository) = sam(dir, file)? {
            if !repository.functions.is_empty() {
                return Ok(Some(repository));
            }
            notes.extend(repository.notes.into_iter().map(|note| format!("{note} ({file})")));
        }
    }
    for file in ["serverless.yml", "serverless.yaml"] {
        if let Some(repository) = serverless(dir, file)? {
            if !repository.functions.is_empty() {
                return Ok(Some(repository));
            }
            notes.extend(repository.notes.into_iter().map(|note| format!("{note} ({file})")));
        }
    }
    let found = match uv_workspace(dir)? {
        Some(repository) => Some(repository),
        None => functions_dir(dir)?,
    };
    Ok(match found {
        Some(mut repository) => {
            notes.append(&mut repository.notes);
            repository.notes = notes;
            Some(repository)
        }
        None => (!notes.is_empty()).then(|| Repository { layout: String::new(), functions: Vec::new(), notes }),
    })
}

/// `AWS::Serverless::Function` and `AWS::Lambda::Function` resources with a local code
/// directory, SAM's with `Globals.Function` defaults.
fn sam(dir: &Path, file: &str) -> miette::Result<Option<Repository>> {
    let Some(document) = crate::interop::sam::read(&dir.join(file))? else { return Ok(None) };
    let Some(resources) = document["Resources"].as_hash() else { return Ok(None) };
    let mut repository = Repository { layout: file.to_string(), functions: Vec::new(), notes: Vec::new() };
    for (id, resource) in resources {
        let Some(id) = id.as_str() else { continue };
        let kind = resource["Type"].as_str().unwrap_or_default();
        let serverless = kind == "AWS::Serverless::Function";
        if !serverless && kind != "AWS::Lambda::Function" {
            continue;
        }
        let properties = &resource["Properties"];
        if properties.as_hash().is_none() {
            repository.notes.push(format!("{id} left out: its `Properties` are not a mapping"));
            continue;
        }
        // Globals apply to the `AWS::Serverless::*` resources only.
        let globals = if serverless { &document["Globals"]["Function"] } else { &Yaml::BadValue };
        let value = |key: &str| match &properties[key] {
            Yaml::BadValue => &globals[key],
            value => value,
        };
        let property = |key: &str| value(key).as_str();
        if property("PackageType") == Some("Image") {
            repository.notes.push(format!("{id} left out: a container image function (lbuild builds zips)"));
            continue;
        }
        if !matches!(value("InlineCode"), Yaml::BadValue) || !matches!(properties["Code"]["ZipFile"], Yaml::BadValue) {
            repository.notes.push(format!("{id} left out: its code is inline in the template"));
            continue;
        }
        if !serverless && property("Runtime").is_none() {
            repository.notes.push(format!("{id} left out: it names no `Runtime`"));
            continue;
        }
        let Some(runtime) = runtime_of(id, property("Runtime"), &mut repository.notes) else { continue };
        // `CodeUri` of a SAM function (default: the template's directory); `Code` of a plain
        // one, when it is a local path (`aws cloudformation package` form).
        let code = match (serverless, value(if serverless { "CodeUri" } else { "Code" })) {
            (true, Yaml::BadValue) => ".",
            (_, Yaml::String(code)) => code.as_str(),
            _ => {
                repository.notes.push(format!("{id} left out: it has no local code directory"));
                continue;
            }
        };
        let Some(source) = local_dir(dir, code) else {
            repository.notes.push(format!("{id} left out: `{code}` is not a directory of this repository"));
            continue;
        };
        let architecture = value("Architectures")[0].as_str().and_then(|name| Architecture::from_str(name).ok());
        let name =
            crate::interop::sam::member_name(id.strip_suffix("Function").filter(|rest| !rest.is_empty()).unwrap_or(id));
        let handler = known(id, "Handler", property("Handler"), &mut repository.notes);
        let mut found = function_in(dir, &source, name, handler)?;
        found.runtime = runtime;
        found.architecture = architecture;
        repository.functions.push(found);
    }
    Ok(Some(repository))
}

/// The Serverless Framework's `functions:`, with `provider.runtime` and `provider.architecture`
/// defaults; serverless-python-requirements' per-function `module` is the function's directory.
fn serverless(dir: &Path, file: &str) -> miette::Result<Option<Repository>> {
    let Some(document) = crate::interop::sam::read(&dir.join(file))? else { return Ok(None) };
    let provider = &document["provider"];
    let Some(functions) = document["functions"].as_hash() else { return Ok(None) };
    let mut repository = Repository { layout: file.to_string(), functions: Vec::new(), notes: Vec::new() };
    for (name, function) in functions {
        let Some(name) = name.as_str() else { continue };
        if function.as_hash().is_none() {
            repository.notes.push(format!("{name} left out: not a mapping"));
            continue;
        }
        if !matches!(function["image"], Yaml::BadValue) {
            repository.notes.push(format!("{name} left out: a container image function (lbuild builds zips)"));
            continue;
        }
        let property = |key: &str| function[key].as_str().or_else(|| provider[key].as_str());
        let Some(runtime) = runtime_of(name, property("runtime"), &mut repository.notes) else { continue };
        let source = match function["module"].as_str() {
            Some(module) if module.contains("${") => {
                repository.notes.push(format!("{name} left out: its module `{module}` is a variable"));
                continue;
            }
            Some(module) => match local_dir(dir, module) {
                Some(source) => source,
                None => {
                    repository
                        .notes
                        .push(format!("{name} left out: module `{module}` is not a directory of this repository"));
                    continue;
                }
            },
            None => ".".to_string(),
        };
        let handler = known(name, "handler", function["handler"].as_str(), &mut repository.notes);
        let mut found = function_in(dir, &source, crate::interop::sam::member_name(name), handler)?;
        found.runtime = runtime;
        found.architecture = property("architecture").and_then(|name| Architecture::from_str(name).ok());
        repository.functions.push(found);
    }
    Ok(Some(repository))
}

/// Where a function's handler comes from.
enum Handler<'a> {
    /// As the template gives it.
    Given(&'a str),
    /// Found in its code, as for a single-function project.
    Detect,
    /// Left for the user to set.
    Unknown,
}

/// The handler a template gives, unless it is a variable only the deploy tool resolves
/// (`${Env}`, `${self:custom.x}`), which is said and left for the user.
fn known<'a>(id: &str, key: &str, value: Option<&'a str>, notes: &mut Vec<String>) -> Handler<'a> {
    match value {
        Some(value) if value.contains("${") => {
            notes.push(format!("{id}: its {key} `{value}` is a variable, left for you to set"));
            Handler::Unknown
        }
        Some(value) => Handler::Given(value),
        None => Handler::Detect,
    }
}

/// The members of the uv workspace rooted here that define a handler; the others are libraries
/// the functions use (as local packages, through `[tool.uv.sources]`).
fn uv_workspace(dir: &Path) -> miette::Result<Option<Repository>> {
    let Ok(Some(workspace)) = crate::pyproject::uv_workspace::containing(dir, dir) else { return Ok(None) };
    let root = crate::fsutil::absolute_normalized(dir);
    let mut repository = Repository { layout: "pyproject.toml".into(), functions: Vec::new(), notes: Vec::new() };
    for (name, member) in &workspace.members {
        let Ok(relative) = member.strip_prefix(&root) else { continue };
        let relative = slashed(relative);
        if relative == "." {
            continue;
        }
        let found = function_in(dir, &relative, crate::interop::sam::member_name(name), Handler::Detect)?;
        if found.handler.is_some() {
            repository.functions.push(found);
        } else {
            repository.notes.push(format!(
                "uv workspace member `{name}` left out: it defines no handler, so it is taken as a library"
            ));
        }
    }
    Ok(Some(repository).filter(|repository| !repository.functions.is_empty()))
}

/// Each directory `functions/NAME/` that defines a handler.
fn functions_dir(dir: &Path) -> miette::Result<Option<Repository>> {
    let Ok(entries) = fs_err::read_dir(dir.join("functions")) else { return Ok(None) };
    let mut dirs: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
        .filter(|name| !name.starts_with(['.', '_']))
        .collect();
    dirs.sort_by_key(|name| (name.to_lowercase(), name.clone()));
    let mut repository = Repository { layout: "functions/".into(), functions: Vec::new(), notes: Vec::new() };
    for name in dirs {
        if name.contains('\\') {
            // lambda.toml paths use `/` on every system; this one could not be written.
            repository.notes.push(format!("functions/{name}/ left out: its name has a backslash"));
            continue;
        }
        let found =
            function_in(dir, &format!("functions/{name}"), crate::interop::sam::member_name(&name), Handler::Detect)?;
        if found.handler.is_some() {
            repository.functions.push(found);
        } else {
            repository.notes.push(format!("functions/{name}/ left out: it defines no handler"));
        }
    }
    Ok(Some(repository).filter(|repository| !repository.functions.is_empty()))
}

/// The function whose code is `source` (relative to `root`): its handler as a template gives
/// it, else found as for a single-function project (`source` may then be its `src/`), and its
/// requirements file, else the repository's.
fn function_in(root: &Path, source: &str, name: String, handler: Handler) -> miette::Result<Found> {
    let dir = root.join(source);
    let detected = if matches!(handler, Handler::Detect) { detect_handler(&dir) } else { None };
    let (mut source, handler) = match (handler, detected) {
        (Handler::Given(handler), _) => (source.to_string(), Some(handler.to_string())),
        (_, Some((inner, handler))) => (join(source, &inner), Some(handler)),
        (_, None) => (source.to_string(), None),
    };
    if source.is_empty() {
        source = ".".into();
    }
    let code_dir = root.join(if source == "." { "" } else { &source });
    let mut requirements = (None, 0);
    // The function's own directory, its code directory (a `src/` below it), then the root.
    for place in [dir.clone(), code_dir, root.to_path_buf()] {
        let pyproject = read_pyproject(&place)?;
        let (file, count) = detect_requirements(&place, pyproject.as_ref())?;
        if let Some(file) = file {
            let relative = place.strip_prefix(root).map(slashed).unwrap_or_else(|_| ".".into());
            requirements = (Some(join(&relative, &file)), count);
            break;
        }
    }
    Ok(Found {
        name,
        source,
        handler,
        requirements_file: requirements.0,
        requirements: requirements.1,
        ..Found::default()
    })
}

/// `Some(runtime)` of a Python function (`None` inside: the workspace's), or `None` for a
/// function to leave out, said in `notes`.
fn runtime_of(id: &str, runtime: Option<&str>, notes: &mut Vec<String>) -> Option<Option<Runtime>> {
    let Some(name) = runtime else { return Some(None) };
    if let Some(runtime) = Runtime::from_name(name) {
        return Some(Some(runtime));
    }
    if !name.starts_with("python") {
        const OTHER_LANGUAGES: [&str; 6] = ["nodejs", "java", "dotnet", "ruby", "go", "provided"];
        if OTHER_LANGUAGES.iter().any(|language| name.starts_with(language)) {
            notes.push(format!("{id} left out: it runs on `{name}`, not Python"));
            return None;
        }
        // `${self:provider.runtime}`, a `!Ref` (read as the parameter's name) and the like: the
        // workspace's runtime.
        notes.push(format!("{id}: its runtime `{name}` is a variable or reference; it gets the workspace runtime"));
        return Some(None);
    }
    let message = Runtime::retired(name).unwrap_or_else(|| format!("`{name}` is not a runtime lbuild knows"));
    notes.push(format!("{id}: {message}; it gets the workspace runtime"));
    Some(None)
}

/// A directory of the repository named by a template (`hello_world/`, `./src`): relative,
/// inside, existing; `/`-separated, `.` for the root.
fn local_dir(root: &Path, written: &str) -> Option<String> {
    if written.contains("://") || written.ends_with(".zip") || written.contains("${") {
        return None;
    }
    let parts: Vec<&str> = written.split(['/', '\\']).filter(|part| !part.is_empty() && *part != ".").collect();
    if written.starts_with(['/', '\\']) || parts.iter().any(|part| *part == ".." || part.contains(':')) {
        return None;
    }
    let relative = if parts.is_empty() { ".".to_string() } else { parts.join("/") };
    let path = root.join(&relative);
    // A link out of the repository is not its code; the manifest would refuse it anyway.
    let inside = match (fs_err::canonicalize(&path), fs_err::canonicalize(root)) {
        (Ok(path), Ok(root)) => path.starts_with(root),
        _ => false,
    };
    (path.is_dir() && inside).then_some(relative)
}

fn join(base: &str, rest: &str) -> String {
    match (base, rest) {
        (".", rest) => rest.to_string(),
        (base, ".") => base.to_string(),
        (base, rest) => format!("{base}/{rest}"),
    }
}

fn slashed(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    if text.is_empty() { ".".to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_directories_stay_inside_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("hello_world")).unwrap();
        assert_eq!(local_dir(dir.path(), "hello_world/").as_deref(), Some("hello_world"));
        assert_eq!(local_dir(dir.path(), "./hello_world").as_deref(), Some("hello_world"));
        assert_eq!(local_dir(dir.path(), ".").as_deref(), Some("."));
        for bad in ["../x", "/etc", "s3://bucket/key", "dist/app.zip", "missing", "${Code}", "C:\\x"] {
            assert_eq!(local_dir(dir.path(), bad), None, "{bad}");
        }
    }
}
