//! lbuild packages Python code for AWS Lambda without Python, pip or Docker.
//!
//! # A tour of the pipeline
//!
//! Data flows one way through the modules, and each file lbuild reads or writes has one owner:
//!
//! ```text
//! lambda.toml ──manifest──▶ Workspace ──resolve (per target)──▶ Resolution ──lockfile──▶ lambda.lock
//!                               │                 ▲                                          │
//!                            platform          index ◀── cache (~/.cache/lbuild) ◀── fetch ───┤
//!                                                                                            ▼
//!                                                   target/lambda/*.zip, manifest.json ◀── assemble
//! ```
//!
//! - [`manifest`] owns `lambda.toml`: serde wire types (also the source of
//!   `schemas/lambda.schema.json`) and the validated [`Workspace`] model, with miette spans that
//!   point at the offending line.
//! - [`platform`] is the table of Lambda runtimes: Python version, glibc ceiling, and for each
//!   architecture the ordered compatible wheel tags and the PEP 508 marker environment. A
//!   [`Target`] is one (runtime, architecture) pair.
//! - `python` is the pure packaging domain (no IO): wheel filenames, tags, core metadata.
//! - `index` talks to package indexes (PEP 691 JSON and PEP 503 HTML simple APIs, PyPI's
//!   JSON API, find-links directories), one project from one index (no dependency confusion).
//!   `IndexClient` (`index/mod.rs`) is the facade; one module per concern below it:
//!   `index::pages` (project pages and their HTTP cache policy), `index::metadata` (the metadata
//!   of the exact wheel a target would install: PEP 658 `.metadata`, else HTTP range requests
//!   into the wheel, else a full download), `index::download` (files streamed to the cache while
//!   hashed, and the verified fetch of every file a lock names), `index::find_links`,
//!   `index::files` (each API's shape read into `DistFile`s). Index data is untrusted:
//!   `index::origin` is the one rule for where an index's files may live (http(s) on its own
//!   origins, never `file://`). `index::http` owns retries, timeouts, the per-request deadline,
//!   body size limits (enforced as bodies stream in, to memory or to a file), credentials
//!   (netrc, and a `SecretUrl` that never displays a password) and redirect rules.
//! - `cache` owns the on-disk cache: index pages (revalidated), metadata, prefetch hints and
//!   wheels (keyed by sha256), tagged with `CACHEDIR.TAG`. Every entry is written to a
//!   temporary file in `tmp/` and renamed into place, so concurrent lbuild processes never see
//!   half an entry, and is verified when read (a wheel by its sha256, other entries by a
//!   checksum line): a damaged entry is a miss.
//! - `resolve` runs PubGrub once per target with a provider that knows Python semantics and
//!   prefers wheels; packages without a usable wheel become vendoring gaps.
//! - [`lockfile`] owns `lambda.lock`: the canonical writer, the reader, the validation that
//!   refuses a lock that is not a coherent resolution (names, versions, hashes, file names, URLs,
//!   edges, members; `lockfile::validate`), and the staleness check that `--locked` reports.
//! - `assemble` plans and writes the zips of `lbuild build`: wheel files mapped as an installer
//!   would, function sources and `vendor/`, layers under `python/`, with each wheel entry's
//!   compressed bytes copied as they are and checked as they are copied (local header against
//!   central directory, inflated size and CRC-32, no encryption), and each wheel's METADATA
//!   compared with what the lock was resolved from. The plan is the one place that checks every entry name
//!   (safe, unique, no file where a directory is); `assemble::source` selects a function's
//!   source files (`.gitignore`, dotfiles, output directories and caches left out, each with its
//!   reason). `zipio` is the one module that touches the `zip` crate and holds lbuild's own
//!   deterministic zip writer, which checks the names again.
//! - [`ops`] has one function per command ([`init`], [`lock`], [`build`], [`tree`], [`gaps`],
//!   [`export`], [`fetch`], [`cache_dir`], [`cache_clean`]), each returning a value that
//!   serializes to the command's `--message-format json` document; `main.rs` only parses the
//!   command line, calls them and prints. `build` writes `target/lambda/` (zips,
//!   `manifest.json`, `.lbuild-state.json`).
//! - `outdir` owns the output directory: its lock (held from before the build plans until it
//!   publishes), the staged zips, `manifest.json`, and the journal that publishes zips and
//!   manifest together, so the manifest always describes the zips beside it.
//! - `output` owns stderr: verbosity, colour, progress bars, and the `warning:` and status
//!   lines, with control characters from untrusted text escaped before they reach a terminal.

mod assemble;
mod cache;
mod fsutil;
mod index;
pub mod lockfile;
pub mod manifest;
pub mod ops;
mod outdir;
mod output;
pub mod platform;
mod python;
mod resolve;
mod zipio;

pub use manifest::Workspace;
pub use ops::GlobalOptions;
pub use ops::build::{Artifact, BuildManifest, BuildOptions, BuildOutcome, FileListing, build, list_files};
pub use ops::cache::{cache_clean, cache_dir};
pub use ops::export::{ExportOptions, export};
pub use ops::fetch::{FetchOutcome, fetch};
pub use ops::gaps::{Gap, GapsOptions, GapsReport, gaps};
pub use ops::init::{InitOptions, InitOutcome, init};
pub use ops::lock::{LockOptions, LockOutcome, LockReport, lock};
pub use ops::tree::{TreeOptions, TreeReport, tree};
pub use output::{ColorChoice, Verbosity, configure, escape_controls, mask_controls, set_verbosity};
pub use platform::{Architecture, Runtime, Target};

#[doc(hidden)]
pub fn manifest_schema() -> String {
    manifest::schema_json()
}
