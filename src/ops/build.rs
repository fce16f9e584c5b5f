//! `lbuild build`: turn `lambda.lock` into function and layer zips and a build manifest. The
//! build plan (`plan`) says which zips exist and which packages each holds; this executes it.
//!
//! The order matters for "nothing half-written": the lock is brought up to date, every wheel
//! is fetched and verified, every zip is planned, and gaps and size limits are checked, all
//! before the first byte of output is written. Zips are then written in parallel, each to a
//! temporary file renamed into place, and `manifest.json` last. A zip whose fingerprint is
//! unchanged is not written at all, so an unchanged build only reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::assemble::handler::HandlerCheck;
use crate::assemble::{
    LocalInput, Origin, Plan, Reason, SourceFile, SourceInput, SourceSelection, WheelInput, Written, case_clashes,
    escaped, merge_sources, shown_path, source_files,
};
use crate::cache::hex;
use crate::fsutil::absolute_normalized;
use crate::lockfile::Lock;
use crate::manifest::{MemberId, MemberKind, Workspace};
use crate::outdir::{BuildState, MANIFEST_NAME, OutDir, STATE_NAME, Staged, StateEntry};
use crate::output::{Progress, count, debug, megabytes, status, warn_user};
use crate::plan::gaps::{collect as collect_gaps, summary_line};
use crate::plan::{BuildPlan, ZipPlan, find_member};
use crate::platform::Architecture;
use crate::session::{GlobalOptions, fetch_files, lock_path};

pub use crate::platform::{DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT};

/// Options of `lbuild build`.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub global: GlobalOptions,
    /// `-p NAME`: only these functions or layers.
    pub packages: Vec<String>,
    /// `--arch`: only this architecture.
    pub arch: Option<Architecture>,
    /// `--out-dir`: default `target/lambda` under the workspace root.
    pub out_dir: Option<PathBuf>,
    /// `--allow-gaps`: build without packages that have no usable wheel.
    pub allow_gaps: bool,
}

pub use crate::outdir::{Artifact, BuildManifest, MANIFEST_VERSION};

/// What `build` did.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub out_dir: PathBuf,
    pub artifacts: Vec<Artifact>,
    /// How many zips were written (the rest were already up to date).
    pub written: usize,
}

/// One zip of the plan to build, with its member's source directories ready to select from.
struct Job<'a> {
    zip: &'a ZipPlan,
    sources: Vec<SourceInput>,
}

/// Run `lbuild build`.
pub fn build(options: &BuildOptions) -> miette::Result<BuildOutcome> {
    let (workspace, lock) = options.global.locked_workspace()?;
    let started = std::time::Instant::now();
    let out_dir = crate::outdir::location(&workspace.root, options.out_dir.as_deref());
    let plan = BuildPlan::new(&workspace, &lock)?;
    let selected = select_zips(&workspace, &plan, options)?;
    let owned_jobs = jobs(&workspace, &plan, &selected)?;
    let all_jobs: Vec<(&Job, bool)> = owned_jobs.iter().map(|(job, selected)| (job, *selected)).collect();
    check_gaps(&plan, &lock, &owned_jobs, options.allow_gaps)?;

    // One build at a time per output directory, held from before the state is read until the
    // manifest is published: a second build waits, then plans against what the first wrote.
    if options.out_dir.is_none() {
        crate::outdir::check_default_location(&workspace.root)?;
    }
    let mut out = OutDir::open(&out_dir)?;

    // Which zips are already up to date, decided from the inputs alone: an unchanged build
    // neither downloads nor opens a wheel.
    let state = BuildState::read(&out_dir);
    let timestamp = source_date_epoch();
    let settings = format!(
        "lbuild-zip-1;{};ts={timestamp};strip={:?};exclude-runtime={}",
        env!("CARGO_PKG_VERSION"),
        workspace.strip,
        workspace.exclude_runtime_packages
    );
    // Local packages are read from their directories on every build (their files are the
    // zips' inputs, like a function's source).
    let locals = local_inputs(&workspace, &lock, all_jobs.iter().map(|(job, _)| job.zip))?;
    let mut selections = Vec::with_capacity(all_jobs.len());
    for (job, _) in &all_jobs {
        selections.push(select_sources(&workspace, &out_dir, job)?);
    }
    let mut prepared = Vec::with_capacity(all_jobs.len());
    // Said once per function, not once per target.
    let (mut handler_warnings, mut handler_errors) = (BTreeSet::new(), BTreeSet::new());
    for ((job, selected), (selection, empty)) in all_jobs.iter().zip(&selections) {
        let source = selection.files.clone();
        let inputs = inputs_fingerprint(job, &lock, &locals, &source, &zip_settings(&workspace, job.zip, &settings));
        let previous = state.artifacts.get(&job.zip.path).filter(|entry| entry.inputs == inputs);
        // A zip only needed for its size is up to date when its inputs are; one to build must
        // also still be on disk as lbuild left it.
        let fresh = previous.filter(|entry| !selected || entry.describes(&out_dir.join(&job.zip.path))).cloned();
        // Said when the zip is written, not again on every no-op build.
        if *selected && fresh.is_none() {
            for dir in empty {
                // Every file left out (say a `.gitignore` of `*` above the workspace) would
                // otherwise be noticed only when Lambda cannot import the handler.
                warn_user!(
                    "{} takes no files from its source directory `{}`: ignore files, `exclude` or the dotfile \
                     rule leave out everything in it; `lbuild build --list-files -v -p {}` shows why",
                    job.zip.member,
                    escaped(dir),
                    job.zip.member.name
                );
            }
            warn_about_layout(job, &source);
        }
        // The handler is checked on every build: an unchanged zip can still hold a handler
        // that does not import.
        if *selected
            && !job.sources.is_empty()
            && !source.is_empty()
            && let Some(handler) = &job.zip.handler
        {
            // A module the function's layers carry imports too (their `python/` is on
            // `sys.path`); the jobs hold the layers of every function they build.
            let layers = all_jobs.iter().zip(&selections).filter(|((other, _), _)| {
                other.zip.member.kind == MemberKind::Layer
                    && other.zip.target == job.zip.target
                    && job.zip.layers.contains(&other.zip.member.name)
            });
            let visible: Vec<&SourceFile> =
                source.iter().chain(layers.flat_map(|(_, (selection, _))| &selection.files)).collect();
            let dirs: Vec<String> =
                job.zip.sources.iter().map(|dir| dir.shown.to_string_lossy().replace('\\', "/")).collect();
            match handler_problem(&job.zip.member.name, handler, &visible, &dirs) {
                Some(Ok(warning)) => handler_warnings.insert(warning),
                Some(Err(error)) => handler_errors.insert(error),
                None => false,
            };
        }
        prepared.push(Prepared { source, inputs, fresh });
    }

    for warning in &handler_warnings {
        warn_user!("{warning}");
    }
    warn_about_unneeded_provides(&workspace, &all_jobs);
    if let Some(error) = handler_errors.first() {
        miette::bail!(help = error.1.clone(), "{}", error.0);
    }

    let stale: Vec<(&Job, bool)> =
        all_jobs.iter().zip(&prepared).filter(|(_, prep)| prep.fresh.is_none()).map(|(job, _)| *job).collect();
    let wheels = fetch(&workspace, &lock, &stale, options)?;
    let strip = plan.strip.clone();
    let mut plans: Vec<Option<Plan>> = all_jobs
        .par_iter()
        .zip(prepared.par_iter())
        .map(|((job, _), prep)| {
            if prep.fresh.is_some() {
                return Ok(None);
            }
            zip_plan(job, &wheels, &locals, &prep.source, &strip).map(Some)
        })
        .collect::<Result<_, _>>()?;
    let bytecode = compile_bytecode(&workspace, &all_jobs, &mut plans)?;
    let summaries: Vec<(u64, Vec<(String, u64)>)> = prepared
        .iter()
        .zip(&plans)
        .map(|(prep, plan)| match (&prep.fresh, plan) {
            (Some(entry), _) => (entry.unzipped_size, entry.sizes.clone()),
            (None, Some(plan)) => (plan.unzipped_size(), plan.sizes_by_package()),
            (None, None) => unreachable!("every stale job has a plan"),
        })
        .collect();
    check_sizes(&all_jobs, &summaries)?;

    let to_write = all_jobs.iter().zip(&plans).filter(|((_, selected), plan)| *selected && plan.is_some()).count();
    let progress = (to_write > 0).then(|| Progress::bar("Zipping", to_write as u64, false));
    let results: Vec<(Artifact, StateEntry, Option<Staged>)> = all_jobs
        .par_iter()
        .zip(prepared.par_iter().zip(plans.par_iter()))
        .filter(|((_, selected), _)| *selected)
        .map(|((job, _), (prep, plan))| {
            let result = write_job(job, prep, plan.as_ref(), &out, timestamp);
            if let (Some(progress), Some(_)) = (&progress, plan) {
                progress.inc(1);
            }
            result
        })
        .collect::<Result<_, _>>()?;
    drop(progress);

    let mut new_state = BuildState::next(&state);
    for ((job, selected), (prep, plan)) in all_jobs.iter().zip(prepared.iter().zip(&plans)) {
        // Remember the sizes of layers planned only for the size check, so the next build
        // need not fetch them again.
        if !selected && let Some(plan) = plan {
            let entry = StateEntry {
                inputs: prep.inputs.clone(),
                sha256: String::new(),
                size: 0,
                identity: String::new(),
                unzipped_size: plan.unzipped_size(),
                sizes: plan.sizes_by_package(),
            };
            new_state.artifacts.entry(job.zip.path.clone()).or_insert(entry);
        }
    }
    let mut artifacts = Vec::new();
    let mut staged = Vec::new();
    for (artifact, entry, zip) in results {
        staged.extend(zip);
        if artifact.size > DIRECT_UPLOAD_LIMIT {
            warn_user!(
                "`{}` is {}, over the 50 MB limit of a direct upload; deploy it through S3. Largest packages: {}",
                artifact.path,
                megabytes(artifact.size),
                largest(&entry.sizes)
            );
        }
        new_state.artifacts.insert(artifact.path.clone(), entry);
        artifacts.push(artifact);
    }
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    // A partial build (`-p`, `--arch`) keeps the entries of the other zips that are still up to
    // date, so `manifest.json` (and `export --format sam`) still describes them.
    let built: BTreeSet<String> = artifacts.iter().map(|artifact| artifact.path.clone()).collect();
    let mut described = artifacts.clone();
    // The last manifest, read once: for the entries a partial build keeps, and where `lbuild
    // publish` put the zips.
    let previous = BuildManifest::read(&out_dir).ok().flatten();
    let others =
        previous.iter().flat_map(|manifest| &manifest.artifacts).filter(|artifact| !built.contains(&artifact.path));
    described.extend(kept_artifacts(&workspace, &lock, &plan, &out_dir, others, &new_state, &settings)?);
    // A function is listed only with every layer it deploys with (a kept function whose layer
    // went out of date goes too).
    let listed: Vec<(String, String, String)> = described
        .iter()
        .filter(|artifact| artifact.kind == "layer")
        .map(|artifact| (artifact.name.clone(), artifact.runtime.clone(), artifact.architecture.clone()))
        .collect();
    described.retain(|artifact| {
        artifact
            .layers
            .iter()
            .flatten()
            .all(|layer| listed.contains(&(layer.clone(), artifact.runtime.clone(), artifact.architecture.clone())))
    });
    described.sort_by(|a, b| a.path.cmp(&b.path));
    // Where `lbuild publish` put a zip stays true while the zip is the same bytes.
    if let Some(previous) = &previous {
        for artifact in &mut described {
            if let Some(published) = previous
                .artifacts
                .iter()
                .find(|old| old.path == artifact.path && old.sha256 == artifact.sha256 && old.s3_key.is_some())
            {
                artifact.s3_bucket = published.s3_bucket.clone();
                artifact.s3_key = published.s3_key.clone();
                artifact.s3_uri = published.s3_uri.clone();
            }
        }
    }
    let manifest = BuildManifest { version: MANIFEST_VERSION, artifacts: described };
    let state_text = new_state.to_bytes();
    let written = staged.len();
    let written_paths: BTreeSet<String> = staged.iter().map(|zip| zip.path.clone()).collect();
    // The zips, the manifest that describes them and the state, published together.
    out.publish(staged, &[(MANIFEST_NAME, manifest.to_text().as_bytes()), (STATE_NAME, &state_text)])?;
    // Only now, with the zips in place, are their identities known (a rename changes a file's
    // ctime). Until this is written, the state's empty identities make the next build rebuild.
    if new_state.learn_identities(&out_dir, artifacts.iter().map(|artifact| artifact.path.as_str()))
        && let Err(err) = out.rewrite(STATE_NAME, &new_state.to_bytes())
    {
        debug!("could not record the zips' identities: {err}");
    }
    for artifact in artifacts.iter().filter(|artifact| written_paths.contains(&artifact.path)) {
        status!(
            "Built",
            "{} ({}, {} unzipped)",
            artifact.path,
            megabytes(artifact.size),
            megabytes(artifact.unzipped_size)
        );
    }
    if let Some(report) = bytecode.filter(|report| report.compiled + report.cached > 0) {
        let runtimes: Vec<&str> = report.runtimes.iter().copied().collect();
        status!(
            "Compiled",
            "{} for {} (+{} unzipped; {} cached, {} skipped)",
            count(report.compiled + report.cached, ".py file"),
            runtimes.join(", "),
            megabytes(report.added_bytes),
            report.cached,
            report.skipped.len()
        );
        for skipped in &report.skipped {
            debug!("  not compiled: {}", crate::output::escape_controls(skipped));
        }
    }
    status!(
        "Finished",
        "{} in `{}` ({written} written, {} up to date) in {:.2}s",
        count(artifacts.len(), "zip"),
        out_dir.display(),
        artifacts.len() - written,
        started.elapsed().as_secs_f64()
    );
    Ok(BuildOutcome { out_dir, artifacts, written })
}

/// The files of a job's source directories, each selected and then merged into one tree (see
/// `assemble::source`), and the directories (as written) that gave no file.
fn select_sources(workspace: &Workspace, out_dir: &Path, job: &Job) -> miette::Result<(SourceSelection, Vec<String>)> {
    let mut selections = Vec::with_capacity(job.sources.len());
    let mut empty = Vec::new();
    for source in &job.sources {
        let selection = select_source(workspace, out_dir, &job.zip.member, source)?;
        if selection.files.is_empty() {
            empty.push(source.shown.clone());
        }
        selections.push(selection);
    }
    let prefix = if job.zip.member.kind == MemberKind::Layer { "python/" } else { "" };
    let merged = merge_sources(&job.zip.member.to_string(), prefix, &job.sources, selections)?;
    Ok((merged, empty))
}

/// The files of one source directory (see `assemble::source` for the rules), after checking
/// that the build's output directory is not the source directory or a parent of it: lbuild
/// would write zips into the member's own source (and, before this check, silently built a
/// function without any of its files).
fn select_source(
    workspace: &Workspace,
    out_dir: &Path,
    member: &MemberId,
    source: &SourceInput,
) -> miette::Result<SourceSelection> {
    let root = absolute_normalized(&source.root);
    let out = absolute_normalized(out_dir);
    let canonical = |path: &Path| fs_err::canonicalize(path).ok();
    let same_or_inside = root.starts_with(&out)
        || matches!((canonical(&root), canonical(&out)), (Some(root), Some(out)) if root.starts_with(&out));
    if same_or_inside {
        let what = if root == out { "is" } else { "holds" };
        miette::bail!(
            help = "choose an output directory outside the source directory, such as the default `target/lambda` \
                    (when it lies inside `source`, lbuild leaves it out of the zip)",
            "the output directory `{}` {what} the source directory `{}` of {member}; lbuild would \
             write its zips into its own files",
            out.display(),
            root.display()
        );
    }
    let mut source = source.clone();
    source.never.push((out, Reason::OutputDirectory));
    source.never.push((crate::cache::Cache::from_env().root().to_path_buf(), Reason::Cache));
    let manifest_name = workspace.manifest_path.file_name().unwrap_or_default();
    source.never.push((workspace.root.join(manifest_name), Reason::WorkspaceFile));
    source.never.push((lock_path(workspace), Reason::WorkspaceFile));
    // The other environments' manifests and locks beside it (`lambda.toml` when building with
    // `lambda.prod.toml`) are the workspace's files too.
    if let Ok(entries) = fs_err::read_dir(&workspace.root) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stem = name.strip_suffix(".toml").or_else(|| name.strip_suffix(".lock"));
            if stem.is_some_and(|stem| stem == "lambda" || stem.starts_with("lambda.")) {
                source.never.push((workspace.root.join(name), Reason::WorkspaceFile));
            }
        }
    }
    Ok(source_files(&source)?)
}

/// Warn about source files that would not end up where they are meant to: paths that differ
/// only in case (a case-insensitive file system, macOS's or Windows', cannot unpack both), and a
/// layer source laid out as a hand-made layer, whose `python/` would go to `python/python/`.
fn warn_about_layout(job: &Job, files: &[SourceFile]) {
    for (first, second) in case_clashes(files) {
        warn_user!(
            "{}: `{}` and `{}` differ only in case; the zip holds both (Lambda's file system tells them apart), but \
             unpacked on macOS or Windows one overwrites the other: rename one",
            job.zip.member,
            escaped(&first),
            escaped(&second)
        );
    }
    if job.zip.member.kind != MemberKind::Layer {
        return;
    }
    for source in &job.sources {
        if files.iter().any(|file| file.dir == source.shown && file.relative.starts_with("python/")) {
            warn_user!(
                "{}: its source directory `{}` has a `python/` directory, whose files go to `python/python/` in the \
                 zip, where functions cannot import them; to carry what is inside it, write `source = \"{}\"`",
                job.zip.member,
                escaped(&source.shown),
                escaped(&shown_path(&source.shown, "python"))
            );
        }
    }
}

/// What is wrong with a function's handler (`files` are the merged files of its source
/// directories, then its layers'): a warning (`Ok`), since a package may provide the module, or
/// an error (`Err`: message and hint) for a handler that names its source directory, which is
/// the zip root.
fn handler_problem(
    function: &str,
    handler: &str,
    files: &[&SourceFile],
    dirs: &[String],
) -> Option<Result<String, (String, String)>> {
    let where_ = if dirs.len() > 1 { "none of its source directories has" } else { "its source has no" };
    match crate::assemble::handler::check(handler, files, dirs) {
        HandlerCheck::Fine => None,
        HandlerCheck::NoModule { module, file } => Some(Ok(format!(
            "the handler `{handler}` of function `{function}` names module `{module}`, but {where_} `{file}`; Lambda \
             fails with Runtime.ImportModuleError unless a package provides it"
        ))),
        HandlerCheck::NoName { file, name } => Some(Ok(format!(
            "the handler `{handler}` of function `{function}` names `{name}`, but `{file}` defines no `{name}` (no \
             `def {name}(`, assignment or import of it); Lambda fails with Runtime.HandlerNotFound"
        ))),
        HandlerCheck::SourceInPath { fixed, dir } => Some(Err((
            format!(
                "the handler `{handler}` of function `{function}` starts with its source directory `{dir}`, whose \
                 files are at the root of the zip"
            ),
            format!("set `handler = \"{fixed}\"` in `[function.{function}]`"),
        ))),
    }
}

/// What is known about a job before any wheel is opened.
struct Prepared {
    source: Vec<SourceFile>,
    inputs: String,
    /// The state entry of an up-to-date zip.
    fresh: Option<StateEntry>,
}

/// A digest of everything that decides a zip's bytes: the settings, its path, each package's
/// wheel (by sha256), each local package's files (by the sha256 of its RECORD, which lists every
/// file with its own sha256, and of its other `.dist-info` files), and each source file's name,
/// where it comes from (source directory and path there), size, mode and modification time
/// (cheap; a touched file that did not change rebuilds to the same bytes, and the old zip is
/// kept). A zip holds the files of its own source directories only, so an edit in one rebuilds
/// exactly the zips that hold it.
fn inputs_fingerprint(
    job: &Job,
    lock: &Lock,
    locals: &HashMap<String, LocalInput>,
    source: &[SourceFile],
    settings: &str,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{settings};{};{}\n", job.zip.path, job.zip.member.key()).as_bytes());
    for name in &job.zip.packages {
        if let Some(local) = locals.get(name) {
            let mut digest = Sha256::new();
            for (path, bytes) in &local.dist_info {
                digest.update(format!("{path} {}\n", bytes.len()).as_bytes());
                digest.update(bytes.as_slice());
            }
            hasher.update(format!("package {name} local {} {:x}\n", local.path, digest.finalize()).as_bytes());
            continue;
        }
        let entry = lock.package_on(name, &job.zip.target, job.zip.group.as_deref()).map(|(_, entry)| entry);
        let wheel = entry.and_then(|entry| entry.wheel.as_ref());
        let built = entry.and_then(|entry| entry.built.as_ref()).map(|built| built.content_sha256.as_str());
        let id = wheel.map(|wheel| wheel.sha256.as_str()).or(built).unwrap_or("gap");
        hasher.update(format!("package {name} {id}\n").as_bytes());
    }
    for file in source {
        hasher.update(
            format!(
                "file {:?} {:?} {:?} {} {} {}\n",
                file.name, file.dir, file.relative, file.size, file.executable, file.modified
            )
            .as_bytes(),
        );
    }
    format!("{:x}", hasher.finalize())
}

/// The build settings one zip's inputs include: the workspace's, and the bytecode cache tag when
/// its member compiles bytecode.
fn zip_settings(workspace: &Workspace, zip: &ZipPlan, settings: &str) -> String {
    match bytecode_runtime(workspace, zip) {
        Some(runtime) => format!("{settings};bytecode={}", crate::assemble::bytecode::cache_tag(runtime)),
        None => settings.to_string(),
    }
}

/// A name in an external layer's `provides` that the function needs on none of its targets is
/// most likely a module name (`dateutil`) where the package's (`python-dateutil`) was meant: the
/// package then stays in the zip.
fn warn_about_unneeded_provides(workspace: &Workspace, jobs: &[(&Job, bool)]) {
    for function in &workspace.functions {
        let zips: Vec<&ZipPlan> = jobs
            .iter()
            .filter(|(job, selected)| *selected && job.zip.member.kind == MemberKind::Function)
            .map(|(job, _)| job.zip)
            .filter(|zip| zip.member.name == function.name)
            .collect();
        if zips.is_empty() {
            continue;
        }
        for layer in &function.external_layers {
            for name in &layer.provides {
                let needed = zips.iter().any(|zip| zip.packages.contains(name) || zip.provided.contains_key(name));
                if !needed {
                    warn_user!(
                        "function `{}` needs no package `{name}`, which its external layer (line {}) `provides`, \
                         so nothing is left out for it: `provides` takes package names as the lock has them \
                         (`python-dateutil`, not `dateutil`), and the function's requirements should name what it \
                         imports from the layer",
                        function.name,
                        layer.line
                    );
                }
            }
        }
    }
}

/// The runtime whose bytecode a zip holds, when its member has `bytecode = true`.
fn bytecode_runtime(workspace: &Workspace, zip: &ZipPlan) -> Option<crate::platform::Runtime> {
    workspace.bytecode_for(&zip.member).then(|| crate::platform::Runtime::from_name(&zip.runtime)).flatten()
}

/// Compile the `.py` files of the planned (stale) zips whose member has `bytecode = true`.
fn compile_bytecode(
    workspace: &Workspace,
    jobs: &[(&Job, bool)],
    plans: &mut [Option<Plan>],
) -> miette::Result<Option<crate::assemble::bytecode::BytecodeReport>> {
    let mut work = Vec::new();
    for ((job, _), plan) in jobs.iter().zip(plans.iter_mut()) {
        let (Some(plan), Some(runtime)) = (plan.as_mut(), bytecode_runtime(workspace, job.zip)) else { continue };
        work.push(crate::assemble::bytecode::BytecodeJob {
            plan,
            prefix: if job.zip.member.kind == MemberKind::Layer { "python/" } else { "" },
            runtime,
            member: job.zip.member.key(),
            target: job.zip.target.clone(),
        });
    }
    if work.is_empty() {
        return Ok(None);
    }
    crate::assemble::bytecode::compile_plans(work, &crate::cache::Cache::from_env()).map(Some)
}

/// The zips of the plan this build produces: `-p` and `--arch` applied.
fn select_zips<'a>(
    workspace: &Workspace,
    plan: &'a BuildPlan,
    options: &BuildOptions,
) -> miette::Result<Vec<&'a ZipPlan>> {
    let mut selected: Option<BTreeSet<MemberId>> = None;
    if !options.packages.is_empty() {
        let mut set = BTreeSet::new();
        for name in &options.packages {
            set.insert(find_member(workspace, name)?);
        }
        selected = Some(set);
    }
    let mut zips: Vec<&ZipPlan> = plan
        .zips
        .iter()
        .filter(|zip| options.arch.is_none_or(|arch| arch == zip.architecture))
        .filter(|zip| selected.as_ref().is_none_or(|set| set.contains(&zip.member)))
        .collect();
    // A function is deployed with its layers: `-p api` builds the layers `api` uses too.
    if selected.is_some() {
        let layers: Vec<&ZipPlan> = zips.iter().flat_map(|zip| plan.layers_of(zip)).collect();
        for layer in layers {
            if !zips.iter().any(|zip| zip.path == layer.path) {
                zips.push(layer);
            }
        }
    }
    if zips.is_empty()
        && selected.as_ref().is_some_and(|set| {
            set.iter().any(|member| member.name == crate::model::SHARED_LAYER && member.kind == MemberKind::Layer)
        })
    {
        miette::bail!(
            help = "`shared-layer = \"auto\"` generates it only on targets where two or more functions share a package",
            "the generated layer `shared` is empty: no two functions share a package"
        );
    }
    if zips.is_empty() {
        let arch = options.arch.map(|arch| format!(" for `{arch}`")).unwrap_or_default();
        miette::bail!(
            help =
                "functions deploy on their `architecture` (or every workspace architecture); check `-p` and `--arch`",
            "nothing to build{arch}"
        );
    }
    Ok(zips)
}

/// Of the last `manifest.json`'s entries for zips this build did not select (`others`), those
/// that are still what a build would write: still in the plan, with the inputs (lock, sources,
/// settings) the state recorded for them, and on disk as lbuild left them.
fn kept_artifacts<'a>(
    workspace: &Workspace,
    lock: &Lock,
    plan: &BuildPlan,
    out_dir: &Path,
    others: impl Iterator<Item = &'a Artifact>,
    state: &BuildState,
    settings: &str,
) -> miette::Result<Vec<Artifact>> {
    let candidates: Vec<(&ZipPlan, Artifact)> = others
        .filter_map(|artifact| {
            plan.zips.iter().find(|zip| zip.path == artifact.path).map(|zip| (zip, artifact.clone()))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let locals = local_inputs(workspace, lock, candidates.iter().map(|(zip, _)| *zip))?;
    let mut kept = Vec::new();
    for (zip, artifact) in candidates {
        // A source directory gone since is simply not up to date.
        let Ok(job) = job(workspace, zip) else { continue };
        let Ok((selection, _)) = select_sources(workspace, out_dir, &job) else { continue };
        let inputs = inputs_fingerprint(&job, lock, &locals, &selection.files, &zip_settings(workspace, zip, settings));
        let current = state.artifacts.get(&artifact.path).is_some_and(|entry| {
            entry.inputs == inputs && entry.sha256 == artifact.sha256 && entry.describes(&out_dir.join(&artifact.path))
        });
        if current {
            // The zip is current; what deploys it (handler, layers) is the manifest's of now.
            let mut artifact = artifact;
            artifact.handler = zip.handler.clone();
            artifact.layers = (zip.member.kind == MemberKind::Function).then(|| zip.layers.clone());
            artifact.external_layers = zip.external_layers.clone();
            kept.push(artifact);
        } else {
            debug!("`{}` is not up to date, so manifest.json no longer lists it", artifact.path);
        }
    }
    Ok(kept)
}

/// A planned zip, with its member's source directories checked to exist (the manifest checked
/// them when it was read; this catches one removed since).
fn job<'a>(workspace: &Workspace, zip: &'a ZipPlan) -> miette::Result<Job<'a>> {
    let mut sources = Vec::with_capacity(zip.sources.len());
    for dir in &zip.sources {
        if !dir.root.is_dir() {
            miette::bail!(
                help = format!("paths are relative to `{}`", workspace.root.display()),
                "the source directory `{}` of {} does not exist",
                dir.shown.display(),
                zip.member
            );
        }
        sources.push(SourceInput {
            root: dir.root.clone(),
            shown: dir.shown.to_string_lossy().into_owned(),
            line: dir.line,
            include: dir.include.clone(),
            exclude: dir.exclude.clone(),
            workspace_root: workspace.root.clone(),
            never: Vec::new(),
        });
    }
    Ok(Job { zip, sources })
}

/// The selected zips as jobs, then the zips of their functions' layers that are not selected
/// (they count against the size limit even when not built), marked `false`.
fn jobs<'a>(
    workspace: &Workspace,
    plan: &'a BuildPlan,
    selected: &[&'a ZipPlan],
) -> miette::Result<Vec<(Job<'a>, bool)>> {
    let mut jobs = Vec::new();
    for zip in selected {
        jobs.push((job(workspace, zip)?, true));
    }
    let chosen: BTreeSet<&str> = selected.iter().map(|zip| zip.path.as_str()).collect();
    let mut layers: BTreeMap<&str, &'a ZipPlan> = BTreeMap::new();
    for zip in selected {
        for layer in plan.layers_of(zip) {
            if !chosen.contains(layer.path.as_str()) {
                layers.insert(&layer.path, layer);
            }
        }
    }
    for layer in layers.into_values() {
        jobs.push((job(workspace, layer)?, false));
    }
    Ok(jobs)
}

/// Stop before writing anything when a zip the build plans needs a package that has no
/// usable wheel.
fn check_gaps(plan: &BuildPlan, lock: &Lock, jobs: &[(Job, bool)], allow_gaps: bool) -> miette::Result<()> {
    let building: BTreeSet<(String, String)> =
        jobs.iter().map(|(job, _)| (job.zip.member.key(), job.zip.target.clone())).collect();
    let gaps: Vec<_> = collect_gaps(plan, lock)
        .into_iter()
        .filter(|gap| gap.needed_by.iter().any(|member| building.contains(&(member.clone(), gap.target.clone()))))
        .collect();
    if gaps.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = gaps.iter().map(summary_line).collect();
    if allow_gaps {
        warn_user!("building without packages that have no usable wheel (`--allow-gaps`):\n{}", lines.join("\n"));
        return Ok(());
    }
    miette::bail!(
        help = "`lbuild gaps` explains each and the ways out: put a wheel you built for the target in a \
                `find-links` directory, pin an older version that has wheels, or pass `--allow-gaps` to build \
                without it",
        "{} package(s) have no usable wheel for their target; nothing was written:\n{}",
        gaps.len(),
        lines.join("\n")
    );
}

/// A package of a target's resolution group: (name, target, group).
type WheelKey = (String, String, Option<String>);

/// The entries of one zip: its plan's packages (wheels fetched for its target, local packages
/// read from their directories) and its sources.
fn zip_plan(
    job: &Job,
    wheels: &HashMap<WheelKey, WheelInput>,
    locals: &HashMap<String, LocalInput>,
    source: &[SourceFile],
    strip: &[String],
) -> Result<Plan, crate::assemble::AssembleError> {
    let inputs: Vec<WheelInput> = job
        .zip
        .packages
        .iter()
        .filter_map(|name| wheels.get(&(name.clone(), job.zip.target.clone(), job.zip.group.clone())).cloned())
        .collect();
    let local: Vec<LocalInput> = job.zip.packages.iter().filter_map(|name| locals.get(name).cloned()).collect();
    let prefix = if job.zip.member.kind == MemberKind::Layer { "python/" } else { "" };
    Plan::with_locals(prefix, source, inputs, local, strip)
}

/// Every local package the zips hold, read from its directory as a wheel of it would hold it:
/// the files its build backend would put in the wheel and the `.dist-info` lbuild writes for
/// it. The lock's path packages must be the workspace's own, at the locked version.
fn local_inputs<'a>(
    workspace: &Workspace,
    lock: &Lock,
    zips: impl Iterator<Item = &'a ZipPlan>,
) -> miette::Result<HashMap<String, LocalInput>> {
    let mut locals = HashMap::new();
    for zip in zips {
        for name in &zip.packages {
            if locals.contains_key(name) {
                continue;
            }
            let Some((package, _)) = lock.package_on(name, &zip.target, zip.group.as_deref()) else { continue };
            if package.source != crate::model::PATH_SOURCE {
                continue;
            }
            let declared = workspace.local_packages.get(name);
            let Some(local) = declared.filter(|local| package.path.as_deref() == Some(local.path.as_str())) else {
                miette::bail!(
                    help = "run `lbuild lock` to lock the workspace's own local packages",
                    "the lock installs `{name}` from the directory `{}`, which is not a local package of lambda.toml",
                    package.path.as_deref().map(crate::output::shorten).unwrap_or_default()
                );
            };
            let dir = workspace.root.join(&local.path);
            let project = crate::pyproject::read_project(&dir).map_err(|err| {
                miette::Report::new(err).wrap_err(format!("local package `{name}` (`{}`)", local.path))
            })?;
            if project.version.to_string() != package.version {
                miette::bail!(
                    help = "run `lbuild lock` to lock its new version",
                    "local package `{name}` (`{}`) has version {}, but the lock has {}",
                    local.path,
                    project.version,
                    package.version
                );
            }
            let files = project.wheel_files().map_err(|err| {
                miette::Report::new(err).wrap_err(format!("local package `{name}` (`{}`)", local.path))
            })?;
            let dist_info = project.dist_info_files(&files).map_err(|err| {
                miette::Report::new(err).wrap_err(format!("local package `{name}` (`{}`)", local.path))
            })?;
            let mut listed = Vec::with_capacity(files.len());
            for file in files {
                let size = fs_err::metadata(&file.source)
                    .map_err(|err| miette::miette!("local package `{name}`: {err}"))?
                    .len();
                listed.push((file.archive_path, file.source, size));
            }
            let input = LocalInput {
                package: name.clone(),
                version: package.version.clone(),
                path: local.path.clone(),
                files: listed,
                dist_info: dist_info.into_iter().map(|(path, bytes)| (path, std::sync::Arc::new(bytes))).collect(),
            };
            locals.insert(name.clone(), input);
        }
    }
    Ok(locals)
}

/// Download (or find in the cache) every wheel the jobs need, verified against the lock.
fn fetch(
    workspace: &Workspace,
    lock: &Lock,
    jobs: &[(&Job, bool)],
    options: &BuildOptions,
) -> miette::Result<HashMap<WheelKey, WheelInput>> {
    let mut wanted: BTreeMap<WheelKey, (&crate::lockfile::LockedPackage, &crate::lockfile::PackageTarget)> =
        BTreeMap::new();
    for (job, _) in jobs {
        for name in &job.zip.packages {
            if let Some((package, entry)) = lock.package_on(name, &job.zip.target, job.zip.group.as_deref())
                && (entry.wheel.is_some() || entry.built.is_some())
            {
                wanted.insert((name.clone(), job.zip.target.clone(), job.zip.group.clone()), (package, entry));
            }
        }
    }
    let files = wanted.values().filter_map(|(_, entry)| entry.wheel.as_ref());
    let paths = fetch_files(workspace, files, options.global.offline_flag().is_some(), false)?.paths;
    // The metadata the lock was resolved from, to check each wheel against (keyed by the
    // wheel's sha256, or by its URL's when the index published no hash).
    let cache = crate::cache::Cache::from_env();
    let mut checked = HashMap::new();
    // Wheels built from sdists: from the cache, else rebuilt once (each is the same on every target).
    // Keyed by the whole entry's identity, not the content hash alone: two entries of a lock
    // (tampered, or of two projects) naming one content hash must not share one wheel. A native
    // build is checked against its own target's machine and glibc.
    let built_key = |package: &crate::lockfile::LockedPackage, built: &crate::lockfile::LockedBuilt, target: &str| {
        (
            package.name.clone(),
            package.version.clone(),
            built.sdist.sha256.clone(),
            built.wheel.clone(),
            built.content_sha256.clone(),
            (built.builder == "native").then(|| target.to_string()),
        )
    };
    let mut built_paths: HashMap<_, (PathBuf, String)> = HashMap::new();
    let mut built_client = None;
    let remote_cache = workspace.remote_cache()?.is_some() && options.global.offline_flag().is_none();
    for ((_, target_name, _), (package, entry)) in &wanted {
        let Some(built) = &entry.built else { continue };
        if built_paths.contains_key(&built_key(package, built, target_name)) {
            continue;
        }
        let Some((runtime, architecture)) = crate::platform::parse_target_name(target_name) else {
            return Err(miette::miette!("`lambda.lock` names an unknown target `{target_name}`"));
        };
        let target = crate::platform::Target::new(runtime, architecture, None);
        // The cached wheel, checked once (its contents are hashed); only a miss needs more.
        let found = crate::sdist::cached(&cache, built, &package.name, &package.version, &target);
        // The team's remote cache, when there is one, is asked for a miss and offered a hit.
        if let Some(found) = found.as_ref().filter(|_| !remote_cache) {
            built_paths.insert(built_key(package, built, target_name), found.clone());
            continue;
        }
        if built_client.is_none() {
            let runtime = crate::session::runtime()?;
            let client =
                std::sync::Arc::new(crate::session::index_client(workspace, options.global.offline_flag().is_some())?);
            built_client = Some((client, runtime));
        }
        let (index, runtime) = built_client.as_ref().expect("set above");
        let remote = index.remote().filter(|_| options.global.offline_flag().is_none());
        // For the next runner: a local hit (`cached`) only when the remote cache is in use anyway.
        let offer = |path: &std::path::Path, cached: bool| {
            if let Some(remote) = remote {
                let (sdist, content) = (&built.sdist.sha256, &built.content_sha256);
                runtime.block_on(remote.put_built(sdist, content, &built.wheel, path, cached));
            }
        };
        if let Some(found) = found {
            offer(&found.0, true);
            built_paths.insert(built_key(package, built, target_name), found);
            continue;
        }
        // Built by another runner: from the team's remote cache, checked as a local build is.
        if let Some(remote) = remote
            && let Some(found) = crate::session::built_from_remote(
                remote,
                runtime,
                &cache,
                built,
                &package.name,
                &package.version,
                &target,
            )?
        {
            built_paths.insert(built_key(package, built, target_name), found);
            continue;
        }
        let settings = crate::sdist::BuildSettings::from_env(
            !options.global.no_build,
            crate::output::verbosity() >= crate::output::Verbosity::Verbose,
        )
        .map_err(|message| miette::miette!("{message}"))?;
        let client = Some((index.clone(), runtime.handle().clone()));
        let how = crate::sdist::Rebuild {
            workspace_root: &workspace.root,
            client,
            settings: &settings,
            native: workspace.native_builder.as_deref(),
        };
        let found = crate::sdist::materialize(built, &package.name, &package.version, &target, how)
            .map_err(|message| miette::miette!("{message}"))?;
        offer(&found.0, false);
        built_paths.insert(built_key(package, built, target_name), found);
    }
    Ok(wanted
        .into_iter()
        .map(|((name, target, group), (package, entry))| {
            if let Some(built) = &entry.built {
                let (path, sha256) = built_paths[&built_key(package, built, &target)].clone();
                let input = WheelInput {
                    package: name.clone(),
                    version: package.version.clone(),
                    filename: built.wheel.clone(),
                    dependencies: entry.dependencies.iter().chain(entry.extras.values().flatten()).cloned().collect(),
                    resolved_metadata: None,
                    checked: checked
                        .entry(sha256.clone())
                        .or_insert_with(|| std::sync::Arc::new(cache.read_checked(&sha256, &path)))
                        .clone(),
                    path,
                    sha256,
                };
                return ((name, target, group), input);
            }
            let file = entry.wheel.as_ref().expect("only entries with a wheel or a built wheel");
            let resolved_metadata = cache
                .read_metadata(&file.sha256)
                .or_else(|| cache.read_metadata(&crate::cache::sha256_hex(file.url.as_bytes())));
            let input = WheelInput {
                package: name.clone(),
                version: package.version.clone(),
                filename: file.filename.clone(),
                path: paths[&file.sha256].clone(),
                // Its own edges and each extra's: all of them must be requirements of the wheel.
                dependencies: entry.dependencies.iter().chain(entry.extras.values().flatten()).cloned().collect(),
                resolved_metadata,
                sha256: file.sha256.clone(),
                checked: checked
                    .entry(file.sha256.clone())
                    .or_insert_with(|| std::sync::Arc::new(cache.read_checked(&file.sha256, &paths[&file.sha256])))
                    .clone(),
            };
            ((name, target, group), input)
        })
        .collect())
}

/// Fail before writing when a function plus its layers, or a layer alone, would exceed
/// Lambda's unzipped limit.
fn check_sizes(jobs: &[(&Job, bool)], summaries: &[(u64, Vec<(String, u64)>)]) -> miette::Result<()> {
    for (index, (job, selected)) in jobs.iter().enumerate() {
        if !selected {
            continue;
        }
        let (mut total, own) = summaries[index].clone();
        let mut breakdown: BTreeMap<String, u64> = own.into_iter().collect();
        // What the generated shared layer gives this function that only other functions import.
        let mut unneeded = 0;
        for layer in &job.zip.layers {
            let Some(layer_index) = jobs.iter().position(|(other, _)| {
                other.zip.member.kind == MemberKind::Layer
                    && &other.zip.member.name == layer
                    && other.zip.target == job.zip.target
            }) else {
                continue;
            };
            total += summaries[layer_index].0;
            for (package, size) in &summaries[layer_index].1 {
                *breakdown.entry(format!("{package} (layer {layer})")).or_default() += size;
                if layer == crate::model::SHARED_LAYER && !job.zip.provided.contains_key(package) {
                    unneeded += size;
                }
            }
        }
        if total > UNZIPPED_LIMIT {
            let mut sizes: Vec<_> = breakdown.into_iter().collect();
            sizes.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
            let what = match job.zip.member.kind {
                MemberKind::Function => format!(
                    "function `{}` on {} is {} unzipped with its layers",
                    job.zip.member.name,
                    job.zip.target,
                    megabytes(total)
                ),
                MemberKind::Layer => {
                    format!("layer `{}` on {} is {} unzipped", job.zip.member.name, job.zip.target, megabytes(total))
                }
            };
            let shared = if unneeded > 0 {
                format!(
                    "; the generated `shared` layer gives it {} of packages only other functions import, so \
                     `shared-layer = \"none\"` (or a `[layer.NAME]` of your own) may bring it under",
                    megabytes(unneeded)
                )
            } else {
                String::new()
            };
            miette::bail!(
                help = format!(
                    "the limit counts the function and all its layers together, so moving packages to a layer does \
                     not help: strip files with `workspace.strip`, drop the runtime's boto3 with \
                     `workspace.exclude-runtime-packages`, drop packages the function does not need (`lbuild tree -i \
                     NAME` says why each is there; `lbuild size` lists them), or deploy a container image (10 GB){shared}"
                ),
                "{what}, over Lambda's limit of 250 MB ({UNZIPPED_LIMIT} bytes); nothing was written.\nLargest: {}",
                largest(&sizes)
            );
        }
    }
    Ok(())
}

fn largest(sizes: &[(String, u64)]) -> String {
    sizes.iter().take(8).map(|(name, size)| format!("{name} {}", megabytes(*size))).collect::<Vec<_>>().join(", ")
}

/// `SOURCE_DATE_EPOCH` if set, else 1980-01-01 (the earliest time a zip can hold).
fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|value| value.trim().parse().ok()).unwrap_or(315_532_800)
}

/// Write a stale job's zip to a staged file (kept only when its bytes changed), and describe it.
fn write_job(
    job: &Job,
    prepared: &Prepared,
    plan: Option<&Plan>,
    out: &OutDir,
    timestamp: u64,
) -> miette::Result<(Artifact, StateEntry, Option<Staged>)> {
    let path = out.root().join(&job.zip.path);
    let (entry, staged) = match (&prepared.fresh, plan) {
        (Some(entry), _) => (entry.clone(), None),
        (None, Some(plan)) => {
            let staged = out.stage(&job.zip.path)?;
            let Written { size, sha256: digest, checked } = plan.write(staged.file(), timestamp)?;
            // Remembered for later builds; a cache that cannot be written only costs time.
            let cache = crate::cache::Cache::from_env();
            for (wheel, file, offsets) in checked {
                if let Err(err) = cache.add_checked(&wheel, &file, &offsets) {
                    debug!("could not remember the checked entries of a wheel: {err}");
                }
            }
            let sha256 = hex(&digest);
            // A rebuild that comes out byte-identical keeps the old file (and its mtime).
            // Only a real file counts: a link in its place is replaced by the staged zip.
            let existing = fs_err::symlink_metadata(&path).ok().filter(std::fs::Metadata::is_file);
            let unchanged = existing.as_ref().is_some_and(|meta| meta.len() == size)
                && crate::cache::sha256_file(&path).is_ok_and(|(old, _)| old == sha256);
            let entry = StateEntry {
                inputs: prepared.inputs.clone(),
                sha256,
                size,
                identity: String::new(),
                unzipped_size: plan.unzipped_size(),
                sizes: plan.sizes_by_package(),
            };
            (entry, (!unchanged).then_some(staged))
        }
        (None, None) => unreachable!("every stale job has a plan"),
    };
    let raw = decode_hex(&entry.sha256);
    let artifact = Artifact {
        name: job.zip.member.name.clone(),
        kind: job.zip.member.kind_str().to_string(),
        runtime: job.zip.runtime.clone(),
        architecture: job.zip.architecture.as_str().to_string(),
        path: job.zip.path.clone(),
        sha256: entry.sha256.clone(),
        base64_sha256: base64::engine::general_purpose::STANDARD.encode(raw),
        size: entry.size,
        unzipped_size: entry.unzipped_size,
        handler: job.zip.handler.clone(),
        layers: (job.zip.member.kind == MemberKind::Function).then(|| job.zip.layers.clone()),
        external_layers: job.zip.external_layers.clone(),
        s3_bucket: None,
        s3_key: None,
        s3_uri: None,
    };
    Ok((artifact, entry, staged))
}

/// Bytes of a hex string; empty when it is not hex.
fn decode_hex(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Vec::new();
    }
    let digit = |byte: u8| (byte as char).to_digit(16);
    bytes
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_default()
}

/// What `lbuild build --list-files` found: for each zip the build would write, its entries
/// and the source files left out.
#[derive(Debug, Clone, Serialize)]
pub struct FileListing {
    pub zips: Vec<ZipListing>,
}

/// The files of one zip.
#[derive(Debug, Clone, Serialize)]
pub struct ZipListing {
    pub name: String,
    /// `function` or `layer`.
    pub kind: String,
    pub target: String,
    /// Relative to the output directory, as in `manifest.json`.
    pub path: String,
    /// Sorted by path.
    pub entries: Vec<ListedEntry>,
    /// Files and directories of the source directories not in the zip, by directory (in the
    /// order `lambda.toml` lists them), then by path.
    pub left_out: Vec<LeftOutEntry>,
}

/// One entry of a zip and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct ListedEntry {
    pub path: String,
    /// `source`, `vendor` or `package`.
    pub origin: String,
    /// For `source` and `vendor`: the source directory, as written in `lambda.toml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_dir: Option<String>,
    /// For `source` and `vendor`: the path in the source directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel: Option<String>,
}

/// A source file or directory (ending in `/`) that is not in the zip, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOutEntry {
    /// The source directory it is in, as written in `lambda.toml`.
    pub source_dir: String,
    /// Relative to the source directory.
    pub path: String,
    /// `output-directory`, `cache`, `virtual-environment`, `workspace-file`, `always-left-out`,
    /// `exclude`, `ignore-file`, `dotfile`, `not-included`, `shadowed` or `directory-link`.
    pub reason: String,
    pub detail: String,
}

/// Run `lbuild build --list-files`: select and plan every zip as `build` does (bringing the
/// lock up to date and fetching wheels into the cache, so `--locked`, `--offline` and `--frozen`
/// mean what they mean for `build`), then report instead of writing: no zip, manifest or state
/// file is written, and the output directory is not touched.
pub fn list_files(options: &BuildOptions) -> miette::Result<FileListing> {
    let (workspace, lock) = options.global.locked_workspace()?;
    let out_dir = crate::outdir::location(&workspace.root, options.out_dir.as_deref());
    let plan = BuildPlan::new(&workspace, &lock)?;
    let selected = select_zips(&workspace, &plan, options)?;
    let jobs: Vec<Job> = selected.iter().map(|zip| job(&workspace, zip)).collect::<Result<_, _>>()?;
    let with_layers = self::jobs(&workspace, &plan, &selected)?;
    check_gaps(&plan, &lock, &with_layers, options.allow_gaps)?;
    let mut selections = Vec::with_capacity(jobs.len());
    for job in &jobs {
        selections.push(select_sources(&workspace, &out_dir, job)?.0);
    }
    let all: Vec<(&Job, bool)> = jobs.iter().map(|job| (job, true)).collect();
    let wheels = fetch(&workspace, &lock, &all, options)?;
    let locals = local_inputs(&workspace, &lock, jobs.iter().map(|job| job.zip))?;
    let strip = plan.strip.clone();
    let mut zips = Vec::with_capacity(jobs.len());
    for (job, selection) in jobs.iter().zip(selections) {
        let plan = zip_plan(job, &wheels, &locals, &selection.files, &strip)?;
        let entries = plan
            .listing()
            .into_iter()
            .map(|(path, origin)| {
                let mut entry = ListedEntry {
                    path,
                    origin: String::new(),
                    source_dir: None,
                    source_path: None,
                    package: None,
                    version: None,
                    wheel: None,
                };
                match origin {
                    Origin::Source { dir, path } => {
                        entry.origin = "source".to_string();
                        entry.source_dir = Some(dir);
                        entry.source_path = Some(path);
                    }
                    Origin::Vendor { dir, path } => {
                        entry.origin = "vendor".to_string();
                        entry.source_dir = Some(dir);
                        entry.source_path = Some(path);
                    }
                    Origin::Package(index) => {
                        let wheel = plan.wheel(index);
                        entry.origin = "package".to_string();
                        entry.version = lock
                            .package_on(&wheel.package, &job.zip.target, job.zip.group.as_deref())
                            .map(|(package, _)| package.version.clone());
                        entry.package = Some(wheel.package.clone());
                        entry.wheel = Some(wheel.filename.clone());
                    }
                    Origin::Local(index) => {
                        let local = plan.local(index);
                        entry.origin = "local".to_string();
                        entry.version = Some(local.version.clone());
                        entry.package = Some(local.package.clone());
                        entry.source_path = Some(local.path.clone());
                    }
                }
                entry
            })
            .collect();
        let left_out = selection
            .left_out
            .into_iter()
            .map(|left| LeftOutEntry {
                source_dir: left.dir,
                path: left.path,
                reason: left.reason.code().to_string(),
                detail: left.detail,
            })
            .collect();
        zips.push(ZipListing {
            name: job.zip.member.name.clone(),
            kind: job.zip.member.kind_str().to_string(),
            target: job.zip.target.clone(),
            path: job.zip.path.clone(),
            entries,
            left_out,
        });
    }
    zips.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(FileListing { zips })
}

/// `--list-files` for people: each zip, its entries with their origin, and (with `verbose`) the
/// source files left out and why; otherwise how many were. Names are shown with control
/// characters escaped.
pub fn render_listing(listing: &FileListing, verbose: bool) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    for (index, zip) in listing.zips.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        let _ = writeln!(text, "{} ({} `{}`, {})", zip.path, zip.kind, zip.name, count(zip.entries.len(), "file"));
        let width = zip.entries.iter().map(|entry| entry.path.chars().count()).max().unwrap_or(0).min(60);
        for entry in &zip.entries {
            let origin = match entry.origin.as_str() {
                "package" => format!(
                    "package {} {} ({})",
                    entry.package.as_deref().unwrap_or_default(),
                    entry.version.as_deref().unwrap_or("?"),
                    escaped(entry.wheel.as_deref().unwrap_or_default())
                ),
                "vendor" => format!("vendor/ ({})", escaped(&from_source(entry))),
                "source" => format!("source ({})", escaped(&from_source(entry))),
                "local" => format!(
                    "local package {} {} ({})",
                    entry.package.as_deref().unwrap_or_default(),
                    entry.version.as_deref().unwrap_or("?"),
                    escaped(entry.source_path.as_deref().unwrap_or_default())
                ),
                other => other.to_string(),
            };
            let _ = writeln!(text, "  {:<width$}  {origin}", escaped(&entry.path));
        }
        if zip.left_out.is_empty() {
            continue;
        }
        if verbose {
            let _ = writeln!(text, "  left out of the source:");
            let width = zip
                .left_out
                .iter()
                .map(|left| shown_path(&left.source_dir, &left.path).chars().count())
                .max()
                .unwrap_or(0)
                .min(60);
            for left in &zip.left_out {
                let path = shown_path(&left.source_dir, &left.path);
                let _ = writeln!(text, "  - {:<width$}  {}: {}", escaped(&path), left.reason, escaped(&left.detail));
            }
        } else {
            let _ = writeln!(
                text,
                "  ({} of the source left out; `-v` says which and why)",
                count(zip.left_out.len(), "path")
            );
        }
    }
    text
}

/// A listed source or vendored file's path in the workspace (`shared/py/util.py`).
fn from_source(entry: &ListedEntry) -> String {
    shown_path(entry.source_dir.as_deref().unwrap_or_default(), entry.source_path.as_deref().unwrap_or_default())
}
