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
//! - `manifest` owns `lambda.toml`: serde wire types (also the source of
//!   `schemas/lambda.schema.json`), a pure translation into the validated `Workspace` model
//!   (`manifest::translate`), the checks and reads of the files it names (`manifest::files`,
//!   requirements files in `manifest::requirements_file`: pip's format with `-r`, `-c`
//!   constraints, `--hash` and local paths, and a `pyproject.toml`'s dependencies, extras and
//!   dependency groups; local packages in `manifest::local`: `[workspace.sources]` paths, the
//!   `[tool.uv.sources]` of pyproject.toml files and requirements files' path lines, each a
//!   project directory inside the workspace), `manifest::load`, the edge that
//!   reads `lambda.toml` and the environment, and `manifest::edit`, the one writer of the
//!   requirements a member reads (`lbuild add`/`remove`: `lambda.toml` and `pyproject.toml`
//!   through `toml_edit`, requirements files line by line, layout and comments kept). Errors carry miette spans that point at the
//!   offending line.
//! - `interop` owns other tools' files: `uv.lock`, `poetry.lock` and `Pipfile.lock` read into
//!   pins (name -> versions, each with the markers it applies under, chosen per target), and the
//!   requirements of Poetry (`[tool.poetry.dependencies]`, its constraints converted to PEP 440)
//!   and Pipenv (`Pipfile`) projects. `session` makes the pins of the lock that governs a
//!   member's requirements file the resolver's preferences (`[workspace] project-lock`).
//! - `model` holds the core types the manifest translates into and the stages below it use:
//!   `MemberId`, `PrereleaseMode`, `IndexApi`, `LocalPackage` (a local project as the resolver
//!   and the lock see it: name, version, path, requirements), the member-name rule, and the
//!   resolution groups (`ResolutionMode`, `resolution_groups`: which members of a target are
//!   resolved together, the one rule the session and the lock's validation share). It depends on nothing
//!   of the manifest, so `resolve`, `index` and `lockfile` never import `manifest`.
//! - `platform` is the table of Lambda runtimes: Python version, glibc ceiling, and for each
//!   architecture the ordered compatible wheel tags and the PEP 508 marker environment. A
//!   `Target` is one (runtime, architecture) pair.
//! - `python` is the pure packaging domain (no IO): wheel filenames, tags, core metadata.
//! - `pyproject` owns the `pyproject.toml` of a local package: its static `[project]` metadata,
//!   its build backend, and from that backend's options exactly which files its wheel would
//!   hold (uv_build, hatchling, setuptools, flit-core, pdm-backend, poetry-core), with the
//!   `.dist-info` files lbuild writes for it. No Python runs; every path is checked to stay inside
//!   the project. `pyproject::uv_workspace` reads `[tool.uv.sources]` and finds the uv workspace
//!   that holds a project (`[tool.uv.workspace]` members and exclude globs).
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
//!   `cache::remote` is the team's remote cache of wheels on S3 (`cache-url`), beneath it: asked
//!   before the index for a wheel the lock names, and verified against the lock like any download.
//! - `resolve` runs PubGrub once per target with a provider that knows Python semantics (PEP 440
//!   local versions, PEP 592 yanking, `Requires-Python`) and prefers wheels; packages without a
//!   usable wheel become vendoring gaps. It reads projects and metadata through a `Registry`
//!   (the index client for `lock`, an in-memory one for the scenario tests in `tests/scenarios/`).
//!   Each package keeps its own dependency edges and, apart, the edges each of its extras brings.
//!   Local packages come in as plain data (`ResolveInput::local`): one version each, with their
//!   requirements, and the registry is never asked about their names.
//! - `lockfile` owns `lambda.lock`: the canonical writer, the reader, the validation that
//!   refuses a lock that is not a coherent resolution (names, versions, hashes, file names, wheel
//!   tags that fit their target, URLs, edges and extra edges, members and the extras their edges
//!   name, no package that no edge reaches, path packages that are exactly the local packages its
//!   inputs record, at safe paths, with no wheel; `lockfile::validate`), the staleness check that
//!   `--locked` reports (an older format is stale), what moved between two locks
//!   (`lockfile::changes`: a relock's `Updated`/`Added`/`Removed` lines), and the per-(target, group) graph whose
//!   closure follows an extra only from an edge that names it (`lockfile::Graph`).
//! - `plan` is the one owner of what goes into each zip: from the workspace and the lock, for
//!   each member and target, the closure within the member's resolution group, less what the
//!   function's layers hold, what its `external-layers` provide (with their dependencies) and
//!   what the runtime provides (`exclude-runtime-packages`), the generated `shared` layer of
//!   `shared-layer = "auto"` (what two or more function zips would hold), plus the
//!   strip rules and the member's source directories; and the vendoring gaps those zips hold,
//!   with the ways out (`plan::gaps`). `build`, its size check, `gaps`, `tree`,
//!   `export` and the lock's report all read it.
//! - `session` is what commands share below `ops`: the global flags ([`GlobalOptions`]), loading
//!   the workspace, bringing its lock up to date (resolve every target and group, write
//!   `lambda.lock` when it changed; `lbuild lock` and every command's relock-if-stale; the
//!   requirements files' `--hash` options checked against the lock in effect), and the index
//!   client and async runtime built from a workspace.
//! - `assemble` plans and writes the zips of `lbuild build`: wheel files mapped as an installer
//!   would, local packages' files and `.dist-info` (read from their project directories through
//!   `pyproject`), the member's source directories (one or several) and their `vendor/`, layers
//!   under `python/` (their own source files too), with each wheel entry's
//!   compressed bytes copied as they are and checked as they are copied (local header against
//!   central directory, inflated size and CRC-32, no encryption), and each wheel's METADATA
//!   compared with what the lock was resolved from. The plan is the one place that checks every entry name
//!   (safe, unique, no file where a directory is); `assemble::source` selects the files of
//!   each source directory of a function or layer (`.gitignore`, dotfiles, output directories and
//!   caches left out, each with its reason) and merges them into one tree (no two directories on
//!   one path). `zipio` is the one module that touches the `zip` crate and holds lbuild's own
//!   deterministic zip writer, which checks the names again.
//! - `ops` has one function per command ([`init`], [`lock`], [`add`], [`remove`], [`outdated`], [`build`], [`size`], [`run`], [`publish`], [`deploy`], [`tree`], [`gaps`],
//!   [`export`], [`fetch`], [`cache_dir`], [`cache_clean`]), each returning a value that
//!   serializes to the command's `--message-format json` document; `main.rs` only parses the
//!   command line, calls them and prints. Commands never import each other (`size` and `run`
//!   read what `build` wrote, and `main.rs` calls `build` before them). `build` executes
//!   the plan into `target/lambda/` (zips, `manifest.json`, `.lbuild-state.json`); `run`
//!   unpacks a function's zip and its layers' into a temporary directory and invokes its
//!   handler there with a host CPython of the runtime's minor (`python_host`), as Lambda would.
//!   `ops::complete` gives the values shells complete `-p` and `--target` with (the workspace's
//!   member and target names), quietly.
//! - `s3` talks to Amazon S3 and S3-compatible stores for `lbuild publish`: credentials, region
//!   and endpoint as the AWS tools find them (`s3::credentials`: environment, shared files, web
//!   identity, container, instance metadata), SigV4 signing (`s3::sigv4`), and the requests
//!   publishing needs (`HeadObject`, a conditional `PutObject` or multipart upload), with S3's
//!   errors explained; `s3::lambda` the two Lambda calls `lbuild deploy` makes.
//! - `outdir` owns the output directory: its lock (held from before the build plans until it
//!   publishes), the staged zips, `manifest.json`, the build state (`.lbuild-state.json`, what
//!   lets an unchanged zip be skipped), and the journal that publishes zips and manifest
//!   together, so the manifest always describes the zips beside it.
//! - `output` owns stderr: verbosity, colour, progress bars, and the `warning:` and status
//!   lines, with control characters from untrusted text escaped before they reach a terminal.

mod assemble;
mod cache;
mod date;
mod fsutil;
mod index;
mod interop;
pub(crate) mod lockfile;
pub(crate) mod manifest;
mod model;
pub(crate) mod ops;
mod outdir;
mod output;
mod plan;
pub(crate) mod platform;
mod pyproject;
mod python;
mod python_host;
mod resolve;
mod s3;
mod sdist;
mod session;
mod zipio;

// The binary's interface: one function per command, its options and its report, and the
// output settings. Everything else is crate-private, so the compiler reports dead code.
pub use ops::GlobalOptions;
pub use ops::build::{BuildOptions, BuildOutcome, FileListing, build, list_files, render_listing};
pub use ops::cache::{cache_clean, cache_dir};
pub use ops::complete::{member_names as complete_member_names, target_names as complete_target_names};
pub use ops::deploy::{DeployOptions, DeployReport, deploy};
pub use ops::edit::{AddOptions, EditReport, RemoveOptions, add, remove};
pub use ops::export::{ExportOptions, SamOptions, export, sam_template, terraform_json};
pub use ops::fetch::{FetchOutcome, fetch};
pub use ops::gaps::{GapsOptions, GapsReport, gaps, render as render_gaps};
pub use ops::init::{InitFunction, InitOptions, InitOutcome, init};
pub use ops::lock::{LockOptions, LockOutcome, LockReport, PinChange, lock};
pub use ops::outdated::{OutdatedOptions, OutdatedPackage, OutdatedReport, outdated, render as render_outdated};
pub use ops::publish::{PublishOptions, PublishReport, Published, publish};
pub use ops::run::{DEFAULT_TIMEOUT_SECS, MAX_TIMEOUT_SECS, RunOptions, RunReport, read_event, run, run_target};
pub use ops::size::{SizeOptions, SizeReport, ZipSize, render as render_size, size};
pub use ops::tree::{TreeOptions, TreeReport, render as render_tree, tree};
pub use output::{ColorChoice, Verbosity, configure, escape_controls, mask_controls, take_warnings};
pub use platform::Architecture;
