//! `bytecode = true`: a pyc beside every `.py` file of a zip, compiled by a host CPython of the
//! runtime's minor (`python_host`). The pycs are PEP 552 unchecked-hash pycs
//! (`__pycache__/<stem>.cpython-3Y.pyc`): Lambda's interpreter trusts them without reading the
//! source, which suits a zip nobody edits, and skips compiling each module on a cold start.
//!
//! Every pyc is looked up in the cache first (`cache/bytecode.rs`), so a rebuild finds a Python
//! only for sources it has not compiled before. The misses of all zips of one minor go to one
//! worker process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::Plan;
use crate::cache::{Cache, pyc_key};
use crate::platform::Runtime;
use crate::python_host::{Compiler, Want, find, released_magic};

/// A `.py` entry of a zip and where its pyc goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PySource {
    /// The entry's path in the zip.
    pub entry: String,
    /// `pkg/__pycache__/m.cpython-312.pyc` (under `python/` in a layer).
    pub pyc_entry: String,
    /// The file name compiled into the pyc: the entry without a layer's `python/`.
    pub dfile: String,
}

/// One zip to compile.
pub(crate) struct BytecodeJob<'a> {
    pub plan: &'a mut Plan,
    /// `python/` for a layer.
    pub prefix: &'static str,
    pub runtime: Runtime,
    /// `function.api`, for messages.
    pub member: String,
    /// `python3.12-x86_64`.
    pub target: String,
}

/// What compiling did, over every zip.
#[derive(Debug, Default)]
pub(crate) struct BytecodeReport {
    /// Sources compiled now and found in the cache (each counted once however many zips hold it).
    pub compiled: usize,
    pub cached: usize,
    /// `function.api: pkg/old.py (SyntaxError: ...)`: sources that do not compile, left without a pyc.
    pub skipped: Vec<String>,
    /// Bytes of pycs added, over every zip.
    pub added_bytes: u64,
    /// The runtimes compiled for, `python3.12`.
    pub runtimes: BTreeSet<&'static str>,
}

/// Sources to compile: key -> (dfile, source).
type Misses = BTreeMap<String, (String, Vec<u8>)>;

/// The cache tag of CPython `3.minor`.
pub(crate) fn cache_tag(runtime: Runtime) -> String {
    format!("cpython-3{}", runtime.minor)
}

/// Compile the `.py` entries of every job and add the pycs to its plan. Nothing is written but
/// cache entries; a missing interpreter is an error naming the first zip that needs it.
pub(crate) fn compile_plans(jobs: Vec<BytecodeJob>, cache: &Cache) -> miette::Result<BytecodeReport> {
    let mut report = BytecodeReport::default();
    // Per job: its sources and their keys.
    let mut planned: Vec<Vec<(PySource, String)>> = Vec::with_capacity(jobs.len());
    let mut found: HashMap<String, Option<Arc<Vec<u8>>>> = HashMap::new();
    // Per minor: the sources the cache lacks (key -> dfile, source) and the first job needing it.
    let mut misses: BTreeMap<u32, (Misses, usize)> = BTreeMap::new();
    for (index, job) in jobs.iter().enumerate() {
        let runtime = job.runtime;
        let Some(magic) = released_magic(runtime.minor) else {
            miette::bail!("lbuild does not know the bytecode format of {}; set `bytecode = false`", runtime.name);
        };
        let tag = cache_tag(runtime);
        report.runtimes.insert(runtime.name);
        let sources = job.plan.python_sources(job.prefix, &tag);
        let names: Vec<&str> = sources.iter().map(|source| source.entry.as_str()).collect();
        let bytes = job.plan.read_sources(&names)?;
        let mut keyed = Vec::with_capacity(sources.len());
        for (source, bytes) in sources.into_iter().zip(bytes) {
            let key = pyc_key(&tag, magic, &source.dfile, &bytes);
            if !found.contains_key(&key) {
                match cache.read_pyc(&key) {
                    Some(pyc) => {
                        report.cached += 1;
                        found.insert(key.clone(), pyc.map(Arc::new));
                    }
                    None => {
                        let (wanted, _) = misses.entry(runtime.minor).or_insert_with(|| (BTreeMap::new(), index));
                        wanted.entry(key.clone()).or_insert_with(|| (source.dfile.clone(), bytes));
                    }
                }
            }
            keyed.push((source, key));
        }
        planned.push(keyed);
    }
    let mut reasons: HashMap<String, String> = HashMap::new();
    for (minor, (wanted, first)) in misses {
        let job = &jobs[first];
        let python = find(&Want::Minor(minor)).map_err(|err| {
            miette::miette!(
                help = format!("{}, or set `bytecode = false`", err.help()),
                "`{}` on {} has `bytecode = true`, which needs CPython 3.{minor} to compile {} .py file(s); {err}; \
                 nothing was written",
                job.member,
                job.target,
                wanted.len()
            )
        })?;
        if Some(python.magic.as_str()) != released_magic(minor) {
            miette::bail!(
                help = "use a released CPython of the runtime's minor (`LBUILD_PYTHON` chooses one), or set \
                        `bytecode = false`",
                "`{}` (CPython {}) writes bytecode with magic number {}, not the {} of released CPython 3.{minor}: \
                 is it a pre-release? The runtime would not load its pycs",
                python.path.display(),
                python.version,
                python.magic,
                released_magic(minor).unwrap_or("?")
            );
        }
        let mut compiler = Compiler::start(&python).map_err(|err| miette::miette!("{err}"))?;
        for (key, (dfile, source)) in wanted {
            let pyc = match compiler.compile(&dfile, &source) {
                Ok(Ok(pyc)) => Some(pyc),
                Ok(Err(reason)) => {
                    reasons.insert(key.clone(), reason);
                    None
                }
                Err(err) => miette::bail!("{err} while compiling `{}`; nothing was written", dfile),
            };
            if let Err(err) = cache.write_pyc(&key, pyc.as_deref()) {
                crate::output::debug!("could not cache a pyc: {err}");
            }
            report.compiled += 1;
            found.insert(key, pyc.map(Arc::new));
        }
    }
    let mut skipped = BTreeSet::new();
    for (job, keyed) in jobs.into_iter().zip(planned) {
        let mut pycs = Vec::with_capacity(keyed.len());
        for (source, key) in keyed {
            match found.get(&key).cloned().flatten() {
                Some(pyc) => pycs.push((source, pyc)),
                None => {
                    let why = reasons.get(&key).map_or("does not compile", String::as_str);
                    skipped.insert(format!("{}: {} ({why})", job.member, source.entry));
                }
            }
        }
        report.added_bytes += job.plan.add_bytecode(pycs)?;
    }
    report.skipped = skipped.into_iter().collect();
    Ok(report)
}
