//! The native builder: `[workspace] native-builder`, the user's own command (typically a
//! `docker run` of a manylinux image) that builds a platform wheel from an sdist for one target.
//!
//! lbuild runs the command without a shell, with the placeholders filled in, then trusts nothing
//! it wrote: the one wheel in the output directory must be of the project and version that was
//! built, have a tag the target installs, and every compiled member must be an ELF file for
//! the target's machine within the runtime's glibc ([`super::elf`]). The wheel is then
//! rewritten canonically, cached under the sdist's sha256 (one record per target and command)
//! and locked like a pure built wheel, with `builder = "native"`.
//!
//! The command comes from `lambda.toml` only, never from `lambda.lock`: a lock (a pull
//! request's, say) can name what was built, not what runs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::{BuildSettings, BuiltWheel, NotBuilt, Sdist, SdistOutcome, content};
use crate::cache::{BuiltRecord, Cache};
use crate::platform::Target;

/// The placeholders of a template, with what they become.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("sdist", "the sdist's absolute path (inside {in})"),
    ("sdist-name", "the sdist's file name"),
    ("in", "a directory holding only the sdist"),
    ("out", "the empty directory the wheel must be written to"),
    ("image", "the target's manylinux image, e.g. quay.io/pypa/manylinux_2_34_aarch64"),
    ("python", "the runtime's Python, e.g. 3.12"),
    ("cp", "its CPython tag, e.g. cp312"),
    ("machine", "x86_64 or aarch64"),
    ("docker-platform", "linux/amd64 or linux/arm64"),
    ("glibc", "the runtime's glibc, e.g. 2.34"),
    ("target", "the target's name, e.g. python3.12-arm64"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(&'static str),
}

/// A parsed `native-builder` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeBuilder {
    /// As written in `lambda.toml`.
    pub template: String,
    words: Vec<Vec<Piece>>,
}

impl NativeBuilder {
    /// Parse a template: words split at whitespace, `'...'` taken literally, `"..."` with `\"`
    /// and `\\` escapes, `{name}` placeholders anywhere (`{{` and `}}` for braces). There is no
    /// other shell syntax: to use pipes or `&&`, run a shell (`sh -c "..."`), in the container
    /// for instance.
    pub fn parse(template: &str) -> Result<NativeBuilder, String> {
        let mut words: Vec<Vec<Piece>> = Vec::new();
        let mut word: Option<Vec<Piece>> = None;
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        let mut quote: Option<char> = None;
        let flush = |text: &mut String, word: &mut Option<Vec<Piece>>| {
            let pieces = word.get_or_insert_with(Vec::new);
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(text)));
            }
        };
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => {
                    if word.is_some() || !text.is_empty() {
                        flush(&mut text, &mut word);
                        words.push(word.take().unwrap_or_default());
                    }
                }
                (None, '\'' | '"') => {
                    word.get_or_insert_with(Vec::new);
                    quote = Some(c);
                }
                (Some(q), c) if c == q => quote = None,
                (Some('"'), '\\') if matches!(chars.peek(), Some('"' | '\\')) => {
                    text.push(chars.next().expect("peeked"));
                }
                (_, '{') if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                (_, '}') if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                (_, '{') => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("`{{{name}` is not closed with `}}`")),
                        }
                    }
                    let Some((known, _)) = PLACEHOLDERS.iter().find(|(known, _)| *known == name) else {
                        return Err(format!("unknown placeholder `{{{name}}}`; the placeholders are {}", names()));
                    };
                    flush(&mut text, &mut word);
                    word.get_or_insert_with(Vec::new).push(Piece::Var(known));
                }
                (_, '}') => return Err("a `}` without its `{` (write `}}` for a brace)".to_string()),
                (_, c) => text.push(c),
            }
        }
        if let Some(q) = quote {
            return Err(format!("a {q} quote is not closed"));
        }
        if word.is_some() || !text.is_empty() {
            flush(&mut text, &mut word);
            words.push(word.take().unwrap_or_default());
        }
        let uses = |name: &str| words.iter().flatten().any(|piece| matches!(piece, Piece::Var(var) if *var == name));
        if words.is_empty() {
            return Err("the command is empty".to_string());
        }
        if !uses("out") {
            return Err("the command never names `{out}`, the directory the wheel must be written to".to_string());
        }
        if !uses("sdist") && !uses("in") && !uses("sdist-name") {
            return Err("the command never names the sdist: use `{sdist}`, or `{in}` and `{sdist-name}`".to_string());
        }
        Ok(NativeBuilder { template: template.to_string(), words })
    }

    /// The command line for one build.
    fn argv(&self, vars: &Vars) -> Vec<OsString> {
        self.words
            .iter()
            .map(|word| {
                let mut arg = OsString::new();
                for piece in word {
                    match piece {
                        Piece::Text(text) => arg.push(text),
                        Piece::Var(name) => arg.push(vars.value(name)),
                    }
                }
                arg
            })
            .collect()
    }

    /// The part of a cache record's key that names this command: a command edited in
    /// `lambda.toml` builds again.
    fn key(&self) -> String {
        crate::cache::sha256_hex(self.template.as_bytes())[..16].to_string()
    }
}

fn names() -> String {
    PLACEHOLDERS.iter().map(|(name, _)| format!("{{{name}}}")).collect::<Vec<_>>().join(", ")
}

/// What the placeholders of one build stand for.
struct Vars<'a> {
    sdist: &'a Path,
    sdist_name: &'a str,
    input: &'a Path,
    out: &'a Path,
    target: &'a Target,
}

impl Vars<'_> {
    fn value(&self, name: &str) -> OsString {
        let runtime = self.target.runtime;
        let machine = self.target.architecture.machine();
        match name {
            "sdist" => self.sdist.as_os_str().to_owned(),
            "sdist-name" => self.sdist_name.into(),
            "in" => self.input.as_os_str().to_owned(),
            "out" => self.out.as_os_str().to_owned(),
            "image" => crate::platform::manylinux_image(runtime.glibc_minor, machine).into(),
            "python" => format!("3.{}", runtime.minor).into(),
            "cp" => format!("cp3{}", runtime.minor).into(),
            "machine" => machine.into(),
            "docker-platform" => if machine == "x86_64" { "linux/amd64" } else { "linux/arm64" }.into(),
            "glibc" => format!("2.{}", runtime.glibc_minor).into(),
            "target" => self.target.name().into(),
            _ => OsString::new(),
        }
    }
}

/// The cache tag of a native build record: the target and the command.
fn cache_tag(builder: &NativeBuilder, target: &Target) -> String {
    format!("native;{};{}", target.name(), builder.key())
}

/// Whether a cache record is of a native build (pure lookups skip them).
pub(crate) fn is_native_tag(cache_tag: &str) -> bool {
    cache_tag.starts_with("native;")
}

/// A wheel for `target` built from `sdist` by the native builder: from the cache when the same
/// command built one before (the record whose contents the lock names first), else built now.
pub(crate) fn build(
    cache: &Cache,
    sdist: &Sdist,
    builder: &NativeBuilder,
    target: &Target,
    settings: &BuildSettings,
    preferred_content: Option<&str>,
) -> SdistOutcome {
    if let Some(built) = from_cache(cache, sdist, builder, target, preferred_content) {
        return SdistOutcome::Built(built);
    }
    if !settings.enabled {
        return SdistOutcome::NotBuilt(NotBuilt::Disabled);
    }
    crate::output::status!(
        "Building",
        "{} {} for {} with the native builder",
        sdist.name,
        sdist.version,
        target.name()
    );
    match build_now(cache, sdist, builder, target, settings) {
        Ok(built) => {
            super::report_built(&built);
            SdistOutcome::Built(built)
        }
        Err(message) => SdistOutcome::NotBuilt(NotBuilt::Failed { message }),
    }
}

fn from_cache(
    cache: &Cache,
    sdist: &Sdist,
    builder: &NativeBuilder,
    target: &Target,
    preferred_content: Option<&str>,
) -> Option<Arc<BuiltWheel>> {
    let tag = cache_tag(builder, target);
    let mut records: Vec<BuiltRecord> =
        cache.read_built(sdist.sha256).into_iter().filter(|record| record.cache_tag == tag).collect();
    records.reverse();
    if let Some(preferred) = preferred_content {
        records.sort_by_key(|record| record.content_sha256 != preferred);
    }
    records.into_iter().find_map(|mut record| {
        record.build_env.clear();
        super::wheel_of_record(cache, record, sdist, "native", |path, filename| {
            content::check_native(path, filename, sdist.name, sdist.version, target).ok()
        })
    })
}

fn build_now(
    cache: &Cache,
    sdist: &Sdist,
    builder: &NativeBuilder,
    target: &Target,
    settings: &BuildSettings,
) -> Result<Arc<BuiltWheel>, String> {
    let tmp = cache.tmp_dir().map_err(|err| format!("cannot use the cache's tmp/: {err}"))?;
    let work = tempfile::Builder::new()
        .prefix(".lbuild-native-")
        .tempdir_in(&tmp)
        .map_err(|err| format!("cannot make a build directory: {err}"))?;
    // Absolute paths: the command may hand them to a container.
    let root = std::path::absolute(work.path()).map_err(|err| err.to_string())?;
    let (input, out) = (root.join("in"), root.join("out"));
    fs_err::create_dir(&input).map_err(|err| err.to_string())?;
    fs_err::create_dir(&out).map_err(|err| err.to_string())?;
    let sdist_path = input.join(sdist.filename);
    if fs_err::hard_link(sdist.path, &sdist_path).is_err() {
        fs_err::copy(sdist.path, &sdist_path).map_err(|err| format!("copying {}: {err}", sdist.filename))?;
    }
    let vars = Vars { sdist: &sdist_path, sdist_name: sdist.filename, input: &input, out: &out, target };
    let argv = builder.argv(&vars);
    let shown = argv.iter().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" ");
    crate::output::debug!("native builder: {shown}");
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).current_dir(&root).env("SOURCE_DATE_EPOCH", super::SOURCE_DATE_EPOCH.to_string());
    let ran = super::host::run_with_timeout(command, settings.timeout, settings.verbose).map_err(|err| {
        format!(
            "the native builder `{}` could not be started: {err}; check `native-builder` in `[workspace]`",
            argv[0].to_string_lossy()
        )
    })?;
    if ran.timed_out {
        return Err(format!(
            "the native builder did not finish within {} s and was stopped (LBUILD_BUILD_TIMEOUT sets the limit, in seconds)\n{}",
            settings.timeout.as_secs(),
            ran.tail
        ));
    }
    if !ran.status.is_some_and(|status| status.success()) {
        let status = ran.status.map(|status| status.to_string()).unwrap_or_default();
        return Err(format!("the native builder failed ({status}): `{shown}`\n{}", ran.tail));
    }
    let mut wheels: Vec<String> = fs_err::read_dir(&out)
        .map_err(|err| err.to_string())?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".whl"))
        .collect();
    wheels.sort();
    let filename = match wheels.as_slice() {
        [one] => one.clone(),
        [] => return Err(format!("the native builder wrote no wheel into {{out}} (`{}`)", out.display())),
        many => return Err(format!("the native builder wrote {} wheels, not one: {}", many.len(), many.join(", "))),
    };
    let path: PathBuf = out.join(&filename);
    let members = content::check_native(&path, &filename, sdist.name, sdist.version, target)?;
    let metadata = super::metadata_of(&members, &filename, sdist.name, sdist.version)?;
    let content_sha256 = content::content_sha256(&members);
    let bytes = content::canonical_wheel(&members).map_err(|err| format!("rewriting {filename}: {err}"))?;
    let (sha256, stored) = cache.store_wheel(&filename, &bytes).map_err(|err| format!("caching {filename}: {err}"))?;
    let record = BuiltRecord {
        filename: filename.clone(),
        sha256: sha256.clone(),
        size: bytes.len() as u64,
        content_sha256: content_sha256.clone(),
        cache_tag: cache_tag(builder, target),
        build_env: Vec::new(),
    };
    cache.add_built(sdist.sha256, &record).map_err(|err| format!("recording {filename} in the cache: {err}"))?;
    Ok(Arc::new(BuiltWheel {
        filename,
        path: stored,
        sha256,
        size: bytes.len() as u64,
        content_sha256,
        metadata: Arc::new(metadata),
        builder: "native",
        build_env: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Architecture, Runtime};

    fn target(runtime: &str, arch: Architecture) -> Target {
        Target::new(Runtime::from_name(runtime).unwrap(), arch, None)
    }

    #[test]
    fn templates_split_into_words_with_placeholders() {
        let builder = NativeBuilder::parse(
            "docker run --rm -v {in}:/in:ro -v '{out}:/out' --platform {docker-platform} {image} \
             sh -c \"pip wheel -w /out /in/{sdist-name} && echo \\\"{{done}}\\\"\" {python} {cp} {machine} {glibc} {target}",
        )
        .unwrap();
        let t = target("python3.12", Architecture::Arm64);
        let vars = Vars {
            sdist: Path::new("/w/in/p-1.0.tar.gz"),
            sdist_name: "p-1.0.tar.gz",
            input: Path::new("/w/in"),
            out: Path::new("/w/out"),
            target: &t,
        };
        let argv: Vec<String> = builder.argv(&vars).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(
            argv,
            [
                "docker",
                "run",
                "--rm",
                "-v",
                "/w/in:/in:ro",
                "-v",
                "/w/out:/out",
                "--platform",
                "linux/arm64",
                "quay.io/pypa/manylinux_2_34_aarch64",
                "sh",
                "-c",
                "pip wheel -w /out /in/p-1.0.tar.gz && echo \"{done}\"",
                "3.12",
                "cp312",
                "aarch64",
                "2.34",
                "python3.12-arm64",
            ]
        );
        let old = target("python3.9", Architecture::X86_64);
        let vars = Vars { target: &old, ..vars };
        let argv: Vec<String> = builder.argv(&vars).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert!(argv.contains(&"quay.io/pypa/manylinux2014_x86_64".to_string()), "{argv:?}");
        assert!(argv.contains(&"linux/amd64".to_string()) && argv.contains(&"2.26".to_string()));
        // An empty quoted word is a word.
        let empty = NativeBuilder::parse("b '' {sdist} {out}").unwrap();
        assert_eq!(empty.argv(&vars).len(), 4);
    }

    /// The docker line of the guide parses, as TOML and as a template, into what docker expects.
    #[test]
    fn the_guides_docker_line_is_a_valid_template() {
        let guide = fs_err::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/guide/gaps.md")).unwrap();
        let start = guide.find("```toml\n[workspace]\nnative-builder").expect("the guide's example") + 8;
        let block = &guide[start..start + guide[start..].find("```").unwrap()];
        let table: toml::Table = toml::from_str(block).unwrap();
        let template = table["workspace"]["native-builder"].as_str().unwrap();
        let builder = NativeBuilder::parse(template).unwrap();
        let t = target("python3.11", Architecture::X86_64);
        let vars = Vars {
            sdist: Path::new("/w/in/p-1.0.tar.gz"),
            sdist_name: "p-1.0.tar.gz",
            input: Path::new("/w/in"),
            out: Path::new("/w/out"),
            target: &t,
        };
        let argv: Vec<String> = builder.argv(&vars).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(argv[..8], ["docker", "run", "--rm", "--platform", "linux/amd64", "-v", "/w/in:/in:ro", "-v"]);
        assert_eq!(argv[8..12], ["/w/out:/out", "quay.io/pypa/manylinux2014_x86_64", "sh", "-c"]);
        assert_eq!(
            argv[12],
            "/opt/python/cp311-cp311/bin/pip wheel --no-deps -w /tmp/w /in/p-1.0.tar.gz && auditwheel repair -w /out /tmp/w/*.whl"
        );
        assert_eq!(argv.len(), 13);
        // The manifest reference shows the same line.
        let reference =
            fs_err::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference/manifest.md")).unwrap();
        assert!(reference.contains(block.trim()), "docs/reference/manifest.md shows the guide's line");
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let err = |t: &str| NativeBuilder::parse(t).unwrap_err();
        assert!(err("").contains("empty"));
        assert!(err("b {sdist}").contains("never names `{out}`"));
        assert!(err("b {out}").contains("never names the sdist"));
        let unknown = err("b {sdist} {out} {arch}");
        assert!(unknown.contains("unknown placeholder `{arch}`") && unknown.contains("{docker-platform}"), "{unknown}");
        assert!(err("b {sdist {out}").contains("unknown placeholder") || err("b {sdist").contains("not closed"));
        assert!(err("b {sdist").contains("not closed"));
        assert!(err("b 'x {sdist} {out}").contains("quote is not closed"));
        assert!(err("b } {sdist} {out}").contains("without its `{`"));
    }
}
