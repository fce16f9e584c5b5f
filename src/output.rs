//! Messages for people: warnings and progress go to stderr, data goes to stdout.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much lbuild says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

pub fn set_verbosity(verbosity: Verbosity) {
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
}

pub(crate) fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// A warning: shown unless `-q`.
macro_rules! warn_user {
    ($($arg:tt)*) => {
        if $crate::output::verbosity() >= $crate::output::Verbosity::Normal {
            eprintln!("warning: {}", format_args!($($arg)*));
        }
    };
}

/// A status line such as `Locked 12 packages`: shown unless `-q`.
macro_rules! status {
    ($verb:expr, $($arg:tt)*) => {
        if $crate::output::verbosity() >= $crate::output::Verbosity::Normal {
            eprintln!("{:>12} {}", $verb, format_args!($($arg)*));
        }
    };
}

/// Detail for `-v`.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::output::verbosity() >= $crate::output::Verbosity::Verbose {
            eprintln!("{}", format_args!($($arg)*));
        }
    };
}

pub(crate) use {debug, status, warn_user};
