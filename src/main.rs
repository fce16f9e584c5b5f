//! The `lbuild` binary: parse the command line, call the library, print the result once.
//!
//! With `--message-format json` the result is one JSON document on stdout (its shape is in
//! docs/reference/json-output.md), failures included; everything for people goes to stderr.
//! Exit status: 0 success, 1 failure (a gap that blocks a build included), 2 bad command line.

mod cli;
mod escaped;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use lbuild::{
    BuildOptions, ColorChoice, ExportOptions, GapsOptions, GlobalOptions, InitOptions, LockOptions, LockOutcome,
    RunOptions, SamOptions, TreeOptions, Verbosity,
};
use serde_json::{Value, json};

use cli::{CacheCommand, Cli, Color, Command, ExportFormat, MessageFormat};

/// The version of every JSON document lbuild prints.
const JSON_VERSION: u32 = 1;

/// A command's result: text for people, or fields of the JSON document.
struct Done {
    /// Printed on stdout in human mode.
    text: Option<String>,
    /// The command's fields in the JSON document.
    json: Value,
    /// Whether the command reports failure (exit 1) without an error, as `gaps` does.
    failed: bool,
    /// Said on stderr after the text, in human mode.
    trailer: Option<String>,
    /// The text is a file's content (an exported template): written as it is when stdout is not
    /// a terminal, so a redirect gets exact bytes (CRLF line ends too).
    data: bool,
}

impl Done {
    fn quiet(json: Value) -> Done {
        Done { text: None, json, failed: false, trailer: None, data: false }
    }

    fn text(text: String, json: Value) -> Done {
        Done { text: Some(text), json, failed: false, trailer: None, data: false }
    }
}

fn main() -> ExitCode {
    // `COMPLETE=bash lbuild -- ...` is a shell asking for completions (see `lbuild completions`).
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let cli = Cli::parse();
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    let color = match cli.global.color {
        Color::Auto => ColorChoice::Auto,
        Color::Always => ColorChoice::Always,
        Color::Never => ColorChoice::Never,
    };
    let colored = lbuild::configure(verbosity, color);
    // Wrapped lines help a person at a terminal; in CI logs and pipes they break searching.
    let wrap = std::io::stderr().is_terminal();
    let handler = move || miette::MietteHandlerOpts::new().wrap_lines(wrap).color(colored).build();
    let _ = miette::set_hook(Box::new(move |_| Box::new(handler())));
    let global = GlobalOptions {
        manifest_path: cli.global.manifest_path,
        locked: cli.global.locked,
        offline: cli.global.offline,
        frozen: cli.global.frozen,
        no_build: cli.global.no_build,
    };
    let (name, format) = match &cli.command {
        Command::Init(args) => ("init", args.format.message_format),
        Command::Lock(args) => ("lock", args.format.message_format),
        Command::Add(args) => ("add", args.format.message_format),
        Command::Remove(args) => ("remove", args.format.message_format),
        Command::Outdated(args) => ("outdated", args.format.message_format),
        Command::Size(args) => ("size", args.format.message_format),
        Command::Publish(args) => ("publish", args.format.message_format),
        Command::Deploy(args) => ("deploy", args.format.message_format),
        Command::Run(args) => ("run", args.format.message_format),
        Command::Fetch(args) => ("fetch", args.format.message_format),
        Command::Export(args) => ("export", args.message_format),
        Command::Cache(CacheCommand::Dir(format)) => ("cache dir", format.message_format),
        Command::Cache(CacheCommand::Clean(format)) => ("cache clean", format.message_format),
        Command::Build(args) => ("build", args.format.message_format),
        Command::Tree(args) => ("tree", args.format.message_format),
        Command::Gaps(args) => ("gaps", args.format.message_format),
        _ => ("other", MessageFormat::Human),
    };
    let result = run(cli.command, global, cli.global.quiet, cli.global.verbose > 0);
    let code = match &result {
        Ok(done) if !done.failed => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    };
    match (result, format) {
        (Ok(done), MessageFormat::Human) => {
            if let Some(text) = done.text {
                if done.data && !std::io::stdout().is_terminal() {
                    print_raw(&text);
                } else {
                    print(&text);
                }
            }
            if let Some(trailer) = done.trailer {
                eprintln!("{}", lbuild::escape_controls(&trailer));
            }
        }
        (Ok(done), MessageFormat::Json) => {
            let mut document = json!({ "version": JSON_VERSION, "command": name, "success": !done.failed });
            if let (Value::Object(fields), Value::Object(document)) = (done.json, &mut document) {
                document.extend(fields);
                document.insert("warnings".into(), json!(lbuild::take_warnings()));
            }
            print_json(&document);
        }
        (Err(report), format) => {
            // Escape what the error quotes before miette adds its colours; without colour the
            // whole rendering can be escaped as well.
            let safe = escaped::Escaped::of(report.as_ref());
            let rendered = hint_lines(&escaped::render(&handler(), &safe));
            match colored {
                true => eprintln!("{rendered}"),
                false => eprintln!("{}", lbuild::escape_controls(&rendered)),
            }
            if format == MessageFormat::Json {
                // serde_json escapes control characters itself.
                let hint = report.help().map(|help| help.to_string());
                print_json(&json!({
                    "version": JSON_VERSION,
                    "command": name,
                    "success": false,
                    "error": { "message": report.to_string(), "hint": hint },
                    "warnings": lbuild::take_warnings(),
                }));
            }
        }
    }
    code
}

/// miette labels the way out `help:`; lbuild calls it `hint:`, as uv does.
fn hint_lines(rendered: &str) -> String {
    rendered
        .lines()
        .map(|line| {
            // The label may follow indentation and a colour code.
            let start = line.len()
                - line
                    .trim_start_matches([' ', '\x1b', '[', ';', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'm'])
                    .len();
            match line[start..].strip_prefix("help:") {
                Some(rest) => format!("{}hint:{rest}", &line[..start]),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Human text for stdout (a tree, gaps, an export): it quotes names from indexes, so control
/// characters are escaped.
fn print(text: &str) {
    print_raw(&lbuild::escape_controls(text));
}

fn print_raw(text: &str) {
    // A closed pipe (`lbuild tree | head`) is not an error.
    let _ = std::io::stdout().write_all(text.as_bytes());
}

fn print_json(document: &Value) {
    // serde_json writes control characters as `\u001b`, so JSON is safe as it is.
    let mut text = serde_json::to_string_pretty(document).expect("JSON values serialize");
    text.push('\n');
    print_raw(&text);
}

fn run(command: Command, global: GlobalOptions, quiet: bool, verbose: bool) -> miette::Result<Done> {
    Ok(match command {
        Command::Init(args) => {
            let outcome = lbuild::init(&InitOptions {
                dir: args.path,
                runtime: args.runtime,
                arch: args.arch.map(|arch| arch.parse().expect("clap checked the value")),
                name: args.name,
            })?;
            if args.format.message_format == MessageFormat::Human && !quiet {
                eprintln!("{}", lbuild::escape_controls(&describe_init(&outcome)));
            }
            Done::quiet(serde_json::to_value(&outcome).expect("serializes"))
        }
        Command::Lock(args) => {
            let report =
                lbuild::lock(&LockOptions { global, upgrade: args.upgrade, upgrade_packages: args.upgrade_package })?;
            let (status, changes) = lock_status(Some(&report.outcome));
            Done::quiet(json!({
                "lockfile": report.path,
                "status": status,
                "targets": report.targets,
                "packages": report.packages,
                "gaps": report.gaps,
                "project_lock_differences": report.project_lock_differences,
                "changes": changes,
            }))
        }
        Command::Add(args) => {
            let report = lbuild::add(&lbuild::AddOptions {
                global,
                member: args.package,
                requirements: args.requirements,
                no_lock: args.no_lock,
                raw: args.raw,
            })?;
            Done::quiet(edit_json(&report))
        }
        Command::Remove(args) => {
            let report = lbuild::remove(&lbuild::RemoveOptions {
                global,
                member: args.package,
                packages: args.packages,
                no_lock: args.no_lock,
            })?;
            Done::quiet(edit_json(&report))
        }
        Command::Publish(args) => {
            let report = lbuild::publish(&lbuild::PublishOptions {
                global,
                bucket: args.bucket,
                prefix: args.prefix,
                packages: args.packages,
                out_dir: args.out_dir,
                endpoint_url: args.endpoint_url,
                dry_run: args.dry_run,
            })?;
            Done::quiet(json!({ "artifacts": report.artifacts, "dry_run": report.dry_run }))
        }
        Command::Deploy(args) => {
            let report = lbuild::deploy(&lbuild::DeployOptions {
                global,
                package: args.package,
                function_name: args.function_name,
                arch: args.arch.map(|arch| arch.parse().expect("clap checked the value")),
                out_dir: args.out_dir,
                endpoint_url: args.endpoint_url,
                dry_run: args.dry_run,
            })?;
            Done::quiet(serde_json::to_value(&report).expect("serializes"))
        }
        Command::Size(args) => {
            // Measured after an up-to-date build of what is asked for (a no-op when nothing changed).
            let arch = match &args.target {
                Some(target) => match target.rsplit_once('-').map(|(_, arch)| arch.parse()) {
                    Some(Ok(arch)) => Some(arch),
                    _ => miette::bail!(
                        help = "a target is a runtime and an architecture, e.g. `python3.12-arm64`",
                        "`{target}` is not a target"
                    ),
                },
                None => None,
            };
            lbuild::build(&BuildOptions {
                global: global.clone(),
                packages: args.packages.clone(),
                arch,
                out_dir: args.out_dir.clone(),
                allow_gaps: args.allow_gaps,
            })?;
            let report = lbuild::size(&lbuild::SizeOptions {
                global,
                packages: args.packages,
                target: args.target,
                out_dir: args.out_dir,
            })?;
            Done::text(
                lbuild::render_size(&report, verbose),
                json!({
                    "zips": report.zips,
                    "unzipped_limit": report.unzipped_limit,
                    "direct_upload_limit": report.direct_upload_limit,
                }),
            )
        }
        Command::Run(args) => {
            // The event is checked before anything is built, and what is run is built first,
            // exactly as `lbuild build -p NAME --arch ARCH` would (a no-op when nothing changed).
            let event = lbuild::read_event(args.event.as_deref())?;
            let options = RunOptions {
                global: global.clone(),
                package: args.package,
                arch: args.arch.map(|arch| arch.parse().expect("clap checked the value")),
                out_dir: args.out_dir,
                event,
                timeout_secs: args.timeout,
                env: args.env,
            };
            let (function, arch) = lbuild::run_target(&options)?;
            lbuild::build(&BuildOptions {
                global,
                packages: vec![function],
                arch: Some(arch),
                out_dir: options.out_dir.clone(),
                allow_gaps: args.allow_gaps,
            })?;
            let report = lbuild::run(&options)?;
            let text = match (&report.result_text, &report.error) {
                (Some(text), _) => format!("{text}\n"),
                (None, error) => format!("{}\n", serde_json::to_string(error).expect("serializes")),
            };
            let trailer = report.error.as_ref().map(|error| {
                format!(
                    "error: `{}` of `{}` failed: {}",
                    report.handler,
                    report.function,
                    error["errorType"].as_str().unwrap_or("an error")
                )
            });
            let mut json = json!({
                "function": report.function,
                "target": report.target,
                "python": report.python,
                "interpreter": report.interpreter,
                "handler": report.handler,
                "request_id": report.request_id,
                "duration_ms": report.duration_ms,
            });
            match (&report.result, &report.error) {
                (_, Some(error)) => json["error"] = error.clone(),
                (result, None) => json["result"] = result.clone().unwrap_or(Value::Null),
            }
            Done { text: Some(text), json, failed: report.error.is_some(), trailer, data: false }
        }
        Command::Outdated(args) => {
            let report = lbuild::outdated(&lbuild::OutdatedOptions { global, target: args.target })?;
            let trailer =
                report.packages.is_empty().then(|| "every locked package is at its newest version".to_string());
            Done {
                text: Some(lbuild::render_outdated(&report)),
                json: json!({ "packages": report.packages, "targets": report.targets }),
                failed: false,
                trailer: trailer.filter(|_| !quiet),
                data: false,
            }
        }
        Command::Build(args) => {
            let options = BuildOptions {
                global,
                packages: args.packages,
                arch: args.arch.map(|arch| arch.parse().expect("clap checked the value")),
                out_dir: args.out_dir,
                allow_gaps: args.allow_gaps,
            };
            if args.list_files {
                let listing = lbuild::list_files(&options)?;
                return Ok(Done::text(
                    lbuild::render_listing(&listing, verbose),
                    json!({ "list_files": true, "zips": listing.zips }),
                ));
            }
            let outcome = lbuild::build(&options)?;
            Done::quiet(json!({
                "out_dir": outcome.out_dir,
                "manifest": outcome.out_dir.join("manifest.json"),
                "written": outcome.written,
                "up_to_date": outcome.artifacts.len() - outcome.written,
                "artifacts": outcome.artifacts,
            }))
        }
        Command::Tree(args) => {
            let inverted = args.invert.is_some();
            let report = lbuild::tree(&TreeOptions {
                global,
                packages: args.packages,
                target: args.target,
                invert: args.invert,
            })?;
            Done::text(
                lbuild::render_tree(&report, inverted),
                json!({ "inverted": inverted, "targets": report.targets }),
            )
        }
        Command::Gaps(args) => {
            let report = lbuild::gaps(&GapsOptions { global, packages: args.packages, target: args.target })?;
            let blocking = report.blocking();
            let trailer = blocking.then(|| {
                format!(
                    "error: {} gap(s) stop `lbuild build`; take one of the ways out above, or build with `--allow-gaps`",
                    report.gaps.len()
                )
            });
            Done {
                text: Some(lbuild::render_gaps(&report)),
                json: json!({ "blocking": blocking, "gaps": report.gaps }),
                failed: blocking,
                trailer,
                data: false,
            }
        }
        Command::Fetch(_) => {
            let outcome = lbuild::fetch(&global)?;
            Done::quiet(json!({ "files": outcome.files, "downloaded": outcome.downloaded }))
        }
        Command::Cache(CacheCommand::Dir(_)) => {
            let dir = lbuild::cache_dir();
            Done::text(format!("{}\n", dir.display()), json!({ "dir": dir }))
        }
        Command::Cache(CacheCommand::Clean(_)) => {
            let removed = lbuild::cache_clean()?;
            Done::quiet(json!({ "dir": lbuild::cache_dir(), "removed_files": removed }))
        }
        Command::Export(args) => {
            let format = args.format.unwrap_or(ExportFormat::Requirements);
            let text = match format {
                ExportFormat::Requirements => {
                    let target = args.target.expect("clap requires --target for requirements");
                    lbuild::export(&ExportOptions { global, target, packages: args.packages })?
                }
                ExportFormat::Sam | ExportFormat::Cfn => {
                    if args.target.is_some() || !args.packages.is_empty() {
                        miette::bail!(
                            help = "the template lists every zip of the last build; choose them with `lbuild build -p`",
                            "`--target` and `-p` do not apply to `--format sam`"
                        );
                    }
                    lbuild::sam_template(&SamOptions {
                        global,
                        out_dir: args.out_dir,
                        template: args.template,
                        plain_cloudformation: format == ExportFormat::Cfn,
                    })?
                }
                ExportFormat::Terraform => {
                    if args.target.is_some() || !args.packages.is_empty() || args.template.is_some() {
                        miette::bail!(
                            help = "the file lists every zip of the last build; choose them with `lbuild build -p`",
                            "`--target`, `-p` and `--template` do not apply to `--format terraform`"
                        );
                    }
                    lbuild::terraform_json(&SamOptions { global, out_dir: args.out_dir, ..SamOptions::default() })?
                }
            };
            let format = match format {
                ExportFormat::Requirements => "requirements",
                ExportFormat::Sam => "sam",
                ExportFormat::Cfn => "cfn",
                ExportFormat::Terraform => "terraform",
            };
            Done { data: true, ..Done::text(text.clone(), json!({ "format": format, "text": text })) }
        }
        Command::Completions { shell } => {
            // The registration script calls back into lbuild as the user types, so `-p` and
            // `--target` complete the workspace's own names.
            let mut script = Vec::new();
            let shells = clap_complete::env::Shells::builtins();
            let completer = shells
                .completer(&shell.to_string())
                .ok_or_else(|| miette::miette!("no completion support for `{shell}`"))?;
            completer
                .write_registration("COMPLETE", "lbuild", "lbuild", "lbuild", &mut script)
                .map_err(|err| miette::miette!("cannot write the completion script: {err}"))?;
            Done::text(String::from_utf8_lossy(&script).into_owned(), Value::Null)
        }
    })
}

/// The lock's `status` in JSON, and what moved (`None`: not locked, with `--no-lock`).
fn lock_status(outcome: Option<&LockOutcome>) -> (&'static str, &[lbuild::PinChange]) {
    match outcome {
        None => ("not-locked", &[]),
        Some(LockOutcome::Fresh) => ("fresh", &[]),
        Some(LockOutcome::Resolved { written: true, changes, .. }) => ("written", changes),
        Some(LockOutcome::Resolved { written: false, changes, .. }) => ("unchanged", changes),
    }
}

/// The fields of `add` and `remove`.
fn edit_json(report: &lbuild::EditReport) -> Value {
    let (status, changes) = lock_status(report.lock.as_ref());
    json!({
        "member": report.member.key(),
        "edits": report.edits,
        "lockfile": report.lockfile,
        "status": status,
        "changes": changes,
    })
}

fn describe_init(outcome: &lbuild::InitOutcome) -> String {
    let mut lines = Vec::new();
    if let Some(layout) = &outcome.layout {
        lines.push(format!(
            "     Created `{}` with {} from `{layout}`, runtime {}",
            outcome.path.display(),
            match outcome.functions.len() {
                1 => "1 function".to_string(),
                n => format!("{n} functions"),
            },
            outcome.runtime
        ));
        for function in &outcome.functions {
            let handler =
                function.handler.as_deref().map_or("no handler found".to_string(), |h| format!("handler `{h}`"));
            let requirements = function.requirements_file.as_deref().map_or("no requirements".to_string(), |file| {
                format!("{} requirements from `{file}`", function.requirements)
            });
            lines.push(format!(
                "             `{}`: source `{}`, {handler}, {requirements}",
                function.name, function.source
            ));
        }
    } else {
        lines.push(format!("     Created `{}` with function `{}`", outcome.path.display(), outcome.function));
        lines.push(format!("             runtime {}, source `{}`", outcome.runtime, outcome.source));
        match &outcome.handler {
            Some(handler) => lines.push(format!("             handler `{handler}`")),
            None => lines.push("             no handler found: set `handler` in lambda.toml".to_string()),
        }
        match &outcome.requirements_file {
            Some(file) => lines.push(format!("             {} requirements from `{file}`", outcome.requirements)),
            None => lines.push("             no requirements.txt or pyproject.toml dependencies found".to_string()),
        }
    }
    for note in &outcome.notes {
        lines.push(format!("        Note {note}"));
    }
    lines.push("        Next `lbuild lock`, then `lbuild build`".to_string());
    lines.join("\n")
}
