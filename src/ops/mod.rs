//! One module per command, each a short function over the modules that do the work. Commands
//! never import each other: what they share lives below them (`session` for the workspace and
//! its lock, `plan` for what goes into each zip).

pub mod build;
pub mod cache;
pub mod complete;
pub mod deploy;
pub mod edit;
pub mod export;
pub mod fetch;
pub mod gaps;
pub mod init;
pub mod lock;
pub mod outdated;
pub mod publish;
pub mod run;
pub mod size;
pub mod tree;

pub use crate::session::GlobalOptions;
