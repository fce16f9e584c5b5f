//! The command line, as clap types only. `main.rs` turns these into library options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "lbuild", version, about = "Lock and build Python dependencies for AWS Lambda, natively")]
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve every function and layer for every target and write `lambda.lock`
    Lock(LockArgs),
    /// Build every function and layer zip from the lock, and `manifest.json`
    Build(BuildArgs),
    /// Print the pinned requirements of one target, with hashes, for pip
    Export(ExportArgs),
    /// Download everything the lock needs, so `--offline` builds and locks work afterwards
    Fetch,
    /// Manage the cache
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache directory
    Dir,
    /// Remove everything in the cache
    Clean,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Only this function or layer (repeatable)
    #[arg(short = 'p', long = "package", value_name = "NAME")]
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
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Move every pin to the newest allowed version
    #[arg(long, short = 'U')]
    pub upgrade: bool,
    /// Move the pin of this package only (repeatable)
    #[arg(long, short = 'P', value_name = "NAME")]
    pub upgrade_package: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The target, e.g. `python3.12-arm64`
    #[arg(long)]
    pub target: String,
    /// Only the closure of this function or layer (repeatable)
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
}
