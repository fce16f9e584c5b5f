//! The command line, as clap types only. `main.rs` turns these into library options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

/// `0.1.0 (1a2b3c4d5e6f 2026-11-22)`: the version and, in a git checkout, the commit.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("LBUILD_COMMIT_SUFFIX"));

#[derive(Debug, Parser)]
#[command(name = "lbuild", version = VERSION, about = "Lock and build Python dependencies for AWS Lambda, natively")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to `lambda.toml` (default: search the current directory and its parents)
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Fail if `lambda.lock` is missing or would change
    #[arg(long, global = true)]
    pub locked: bool,
    /// Use only the cache; never touch the network
    #[arg(long, global = true)]
    pub offline: bool,
    /// Both `--locked` and `--offline`
    #[arg(long, global = true)]
    pub frozen: bool,
    /// Say more (`-v`)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Say only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to colour the output (`NO_COLOR` turns `auto` off)
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
    /// Never build a wheel from an sdist (wheels already built still come from the cache)
    #[arg(long, global = true)]
    pub no_build: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Text for people on stdout and stderr
    Human,
    /// One JSON document on stdout (see docs/reference/json-output.md); messages stay on stderr
    Json,
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// The format of the result on stdout
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, value_name = "FMT")]
    pub message_format: MessageFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a `lambda.toml` for the project in a directory, importing its requirements
    Init(InitArgs),
    /// Resolve every function and layer for every target and write `lambda.lock`
    Lock(LockArgs),
    /// Add requirements to a function or layer, then relock
    Add(AddArgs),
    /// Remove packages from the requirements of a function or layer, then relock
    Remove(RemoveArgs),
    /// List locked packages with newer versions on the index, per target
    Outdated(OutdatedArgs),
    /// Build every function and layer zip from the lock, and `manifest.json`
    Build(BuildArgs),
    /// Build (if anything changed), then show each zip's size, package by package, against Lambda's limits
    Size(SizeArgs),
    /// Build a function (if anything changed), then invoke its handler locally with an event, as Lambda would
    Run(RunArgs),
    /// Upload the zips of the last build to S3 under content-addressed keys, and record them in manifest.json
    Publish(PublishArgs),
    /// Point a Lambda function at its published zip (UpdateFunctionCode), only when its CodeSha256 differs
    Deploy(DeployArgs),
    /// Show the resolved dependency tree of each function and layer, per target
    Tree(TreeArgs),
    /// List the packages without a usable wheel for a target, why, and the ways out
    Gaps(GapsArgs),
    /// Print the lock as pip requirements, or the last build as a SAM template fragment
    Export(ExportArgs),
    /// Download everything the lock needs, so `--offline` builds and locks work afterwards
    Fetch(FetchArgs),
    /// Manage the cache
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Print a shell completion script
    ///
    /// For example: `lbuild completions bash > ~/.local/share/bash-completion/completions/lbuild`,
    /// `lbuild completions zsh > ~/.zfunc/_lbuild`, or
    /// `lbuild completions fish > ~/.config/fish/completions/lbuild.fish`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project directory
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The Lambda runtime (default: python3.12, or the newest one `requires-python` allows)
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<String>,
    /// Deploy on this architecture only (default: both)
    #[arg(long, value_parser = ["x86_64", "arm64"])]
    pub arch: Option<String>,
    /// The function's name (default: the project's name, else the directory's)
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Only this function or layer (repeatable)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub packages: Vec<String>,
    /// Only this target, e.g. `python3.12-arm64`
    #[arg(long, add = ArgValueCandidates::new(targets))]
    pub target: Option<String>,
    /// Show what pulls this package in, up to the functions and layers
    #[arg(long, short = 'i', value_name = "PACKAGE")]
    pub invert: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct GapsArgs {
    /// Only gaps this function or layer needs (repeatable)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub packages: Vec<String>,
    /// Only this target, e.g. `python3.12-arm64`
    #[arg(long, add = ArgValueCandidates::new(targets))]
    pub target: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache directory
    Dir(FormatArgs),
    /// Remove everything in the cache
    Clean(FormatArgs),
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Only this function or layer (repeatable)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub packages: Vec<String>,
    /// Only this architecture
    #[arg(long, value_parser = ["x86_64", "arm64"])]
    pub arch: Option<String>,
    /// Where the zips and `manifest.json` go (default: `target/lambda` in the workspace)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Build without packages that have no usable wheel for the target, and say so
    #[arg(long)]
    pub allow_gaps: bool,
    /// Write nothing: print what each zip would hold and where each file comes from (with `-v`,
    /// also the source files left out and why)
    #[arg(long)]
    pub list_files: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Move every pin to the newest allowed version
    #[arg(long, short = 'U')]
    pub upgrade: bool,
    /// Move the pin of this package only (repeatable)
    #[arg(long, short = 'P', value_name = "NAME")]
    pub upgrade_package: Vec<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The S3 bucket
    #[arg(long)]
    pub bucket: String,
    /// A key prefix: objects go to `PREFIX/NAME/SHA256.zip`
    #[arg(long)]
    pub prefix: Option<String>,
    /// Only the zips of this function or layer (repeatable)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub packages: Vec<String>,
    /// Where `lbuild build` wrote its zips (default: `target/lambda` in the workspace)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// An S3-compatible endpoint instead of AWS (else `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Say what would be uploaded; upload and change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The workspace function whose published zip to deploy
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(functions))]
    pub package: String,
    /// The Lambda function: a name, or an ARN (whose region is used)
    #[arg(long, value_name = "NAME")]
    pub function_name: String,
    /// The zip's architecture, when the last build holds the function for both
    #[arg(long, value_parser = ["x86_64", "arm64"])]
    pub arch: Option<String>,
    /// Where `lbuild build` wrote its zips (default: `target/lambda` in the workspace)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Another Lambda endpoint than AWS's (else `AWS_ENDPOINT_URL_LAMBDA`, `AWS_ENDPOINT_URL`)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Compare the function's CodeSha256 with the zip's; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct SizeArgs {
    /// Only this function or layer (repeatable)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub packages: Vec<String>,
    /// Only this target, e.g. `python3.12-arm64`
    #[arg(long, add = ArgValueCandidates::new(targets))]
    pub target: Option<String>,
    /// Where the zips are (default: `target/lambda` in the workspace)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Build without packages that have no usable wheel, as `lbuild build --allow-gaps`
    #[arg(long)]
    pub allow_gaps: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The function (default: the only one)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(functions))]
    pub package: Option<String>,
    /// The event: a JSON file, or `-` for stdin [default: `{}`]
    #[arg(long, value_name = "FILE")]
    pub event: Option<PathBuf>,
    /// The zip's architecture (default: this machine's, if the function deploys on it)
    #[arg(long, value_parser = ["x86_64", "arm64"])]
    pub arch: Option<String>,
    /// Seconds the handler may run, as the function's Lambda timeout
    #[arg(long, value_name = "SECS", default_value_t = lbuild::DEFAULT_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=lbuild::MAX_TIMEOUT_SECS))]
    pub timeout: u64,
    /// Set an environment variable for the function (repeatable), as its Lambda configuration does
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Where the zips are built (default: `target/lambda` in the workspace)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Build without packages that have no usable wheel, as `lbuild build --allow-gaps`
    #[arg(long)]
    pub allow_gaps: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// `KEY=VALUE` of `--env`.
fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() && !key.contains('\0') && !value.contains('\0') => {
            Ok((key.to_string(), value.to_string()))
        }
        _ => Err(format!("`{text}` is not `KEY=VALUE`")),
    }
}

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    /// Only this target, e.g. `python3.12-arm64`
    #[arg(long, add = ArgValueCandidates::new(targets))]
    pub target: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// PEP 508 requirements, e.g. `requests`, `'httpx>=0.27'`, `'requests[socks]'`
    #[arg(required = true, value_name = "REQUIREMENT")]
    pub requirements: Vec<String>,
    /// The function or layer (default: the only one)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub package: Option<String>,
    /// Edit only; do not relock
    #[arg(long)]
    pub no_lock: bool,
    /// Write a bare name as given, without the lower bound of the version locked
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Package names
    #[arg(required = true, value_name = "PACKAGE")]
    pub packages: Vec<String>,
    /// The function or layer (default: the only one)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub package: Option<String>,
    /// Edit only; do not relock
    #[arg(long)]
    pub no_lock: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to print [default: requirements]
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// The target, e.g. `python3.12-arm64` (for `--format requirements`)
    #[arg(long, required_unless_present = "format", required_if_eq("format", "requirements"), add = ArgValueCandidates::new(targets))]
    pub target: Option<String>,
    /// Only the closure of this function or layer (repeatable; for `--format requirements`)
    #[arg(short = 'p', long = "package", value_name = "NAME", add = ArgValueCandidates::new(members))]
    pub packages: Vec<String>,
    /// Where `lbuild build` wrote its zips (for `--format sam`; default: `target/lambda`)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["target", "packages"])]
    pub out_dir: Option<PathBuf>,
    /// A SAM or CloudFormation template to print with each function's `CodeUri` and each layer's
    /// `ContentUri` pointed at its zip (for `--format sam`; default: a fragment of new resources)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "packages"], requires = "format")]
    pub template: Option<PathBuf>,
    /// The format of the result on stdout: the exported text, or a JSON document holding it
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, value_name = "FMT")]
    pub message_format: MessageFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Pinned requirements with hashes for one target, for pip
    Requirements,
    /// An AWS SAM template fragment for the zips of the last build (or `--template` rewritten)
    Sam,
    /// A plain CloudFormation fragment (`AWS::Lambda::*`, code as local paths for
    /// `aws cloudformation package`), or `--template` rewritten
    Cfn,
    /// Terraform JSON (`.tf.json`) for the zips of the last build: layer resources, and the
    /// attributes of each function's `aws_lambda_function`
    Terraform,
}

/// `-p` values for dynamic completion: the workspace's functions and layers.
fn members() -> Vec<CompletionCandidate> {
    lbuild::complete_member_names()
        .into_iter()
        .map(|(name, kind)| CompletionCandidate::new(name).help(Some(kind.into())))
        .collect()
}

/// `run -p` values for dynamic completion: the workspace's functions.
fn functions() -> Vec<CompletionCandidate> {
    members()
        .into_iter()
        .filter(|candidate| candidate.get_help().is_some_and(|help| help.to_string() == "function"))
        .collect()
}

/// `--target` values for dynamic completion.
fn targets() -> Vec<CompletionCandidate> {
    lbuild::complete_target_names().into_iter().map(CompletionCandidate::new).collect()
}
