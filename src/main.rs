//! The `lbuild` binary: parse the command line, call the library, print errors once.

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use lbuild::{BuildOptions, ExportOptions, GlobalOptions, LockOptions, Verbosity};

use cli::{CacheCommand, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Wrapped lines help a person at a terminal; in CI logs and pipes they break searching.
    let wrap = std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| Box::new(miette::MietteHandlerOpts::new().wrap_lines(wrap).build())));
    lbuild::set_verbosity(match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    });
    let global = GlobalOptions {
        manifest_path: cli.global.manifest_path,
        locked: cli.global.locked,
        offline: cli.global.offline,
        frozen: cli.global.frozen,
    };
    let result = match cli.command {
        Command::Lock(args) => {
            lbuild::lock(&LockOptions { global, upgrade: args.upgrade, upgrade_packages: args.upgrade_package })
                .map(|_| ())
        }
        Command::Build(args) => lbuild::build(&BuildOptions {
            global,
            packages: args.packages,
            arch: args.arch.map(|arch| arch.parse().expect("clap checked the value")),
            out_dir: args.out_dir,
            allow_gaps: args.allow_gaps,
        })
        .map(|_| ()),
        Command::Fetch => lbuild::fetch(&global).map(|_| ()),
        Command::Cache(CacheCommand::Dir) => {
            println!("{}", lbuild::cache_dir().display());
            Ok(())
        }
        Command::Cache(CacheCommand::Clean) => lbuild::cache_clean().map(|_| ()),
        Command::Export(args) => {
            lbuild::export(&ExportOptions { global, target: args.target, packages: args.packages }).map(|text| {
                // A closed pipe (`lbuild export | head`) is not an error.
                let _ = std::io::stdout().write_all(text.as_bytes());
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
