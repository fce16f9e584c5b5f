//! Killing lbuild at random moments: `lock`, `fetch` and `build` are each interrupted with
//! SIGKILL or SIGINT at 24 moments spread over how long they take. After every interruption,
//! `lambda.lock` is the old or the complete new lock, every cache entry is whole (a wheel's
//! bytes hash to the name of its directory), `manifest.json` lists only zips whose bytes have
//! the sha256 it gives, and the next run succeeds and reaches the new state.
//!
//! The moments come from a seeded generator; the seed is printed, and `LBUILD_KILL_SEED`
//! replays a run.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario, files_under};
use crate::{Api, Workspace};

const MOMENTS: usize = 24;

/// A small deterministic generator (xorshift64*), so a failing run can be replayed.
struct Moments(u64);

impl Moments {
    fn new() -> Moments {
        let seed = std::env::var("LBUILD_KILL_SEED").ok().and_then(|seed| seed.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
        eprintln!("kill test seed: {seed} (LBUILD_KILL_SEED={seed} replays it)");
        Moments(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A moment in `0..=span`.
    fn within(&mut self, span: Duration) -> Duration {
        Duration::from_micros(self.next() % (span.as_micros() as u64 + 1))
    }
}

/// Text that deflate cannot shrink much, so zipping and hashing it take measurable time.
fn noise(seed: u64, len: usize) -> String {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (b' ' + (state % 94) as u8) as char
        })
        .collect()
}

fn scenario() -> Scenario {
    let mut packages = vec![PackageSpec::new("app-deps", "1.0").dep("big-a").dep("big-b").dep("big-c").dep("small")];
    for (index, name) in ["big-a", "big-b", "big-c"].into_iter().enumerate() {
        packages.push(
            PackageSpec::new(name, "1.0")
                .file(&format!("{}/blob.txt", name.replace('-', "_")), &noise(index as u64 + 7, 3_000_000)),
        );
    }
    packages.push(PackageSpec::new("small", "1.0"));
    packages.push(PackageSpec::new("small", "2.0"));
    Scenario::from_packages(packages)
}

fn manifest(small: &str) -> String {
    format!(
        "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\", \"arm64\"]\n\n\
         [layer.deps]\nrequirements = [\"big-a\", \"big-b\"]\n\n\
         [function.api]\nsource = \"src\"\nhandler = \"app.handler\"\nrequirements = [\"app-deps\", \"small{small}\"]\nlayers = [\"deps\"]\n"
    )
}

fn write_source(root: &Path, generation: u64) {
    let src = root.join("src");
    fs_err::create_dir_all(&src).unwrap();
    fs_err::write(src.join("app.py"), format!("def handler(event, context):\n    return {generation}\n")).unwrap();
    fs_err::write(src.join("data.txt"), noise(generation, 2_000_000)).unwrap();
}

enum Signal {
    Kill,
    Interrupt,
}

/// Start lbuild, stop it after `after` with `signal`, and wait for it. Returns whether it had
/// already finished (successfully) by then.
fn interrupt(workspace: &Workspace, args: &[&str], after: Duration, signal: &Signal) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbuild"))
        .args(args)
        .current_dir(workspace.path())
        .env("LBUILD_CACHE_DIR", workspace.cache.path())
        .env_remove("LBUILD_INDEX_URL")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lbuild");
    std::thread::sleep(after);
    if let Ok(Some(status)) = child.try_wait() {
        assert!(status.success(), "lbuild {args:?} failed on its own: {status}");
        return true;
    }
    match signal {
        Signal::Kill => child.kill().expect("SIGKILL"),
        Signal::Interrupt => {
            let status = Command::new("kill").args(["-s", "INT", &child.id().to_string()]).status().expect("kill");
            assert!(status.success());
        }
    }
    let status = child.wait().expect("wait for lbuild");
    assert_ne!(status.code(), Some(101), "lbuild {args:?} panicked when interrupted");
    false
}

/// How long a command takes when left alone.
fn timed(workspace: &Workspace, args: &[&str]) -> Duration {
    let started = Instant::now();
    workspace.run(args).ok();
    started.elapsed()
}

/// Every wheel in the cache hashes to the directory it is filed under.
fn assert_cache_whole(cache: &Path) {
    let Ok(dirs) = fs_err::read_dir(cache.join("wheels")) else { return };
    for dir in dirs.flatten() {
        let sha256 = dir.file_name().to_string_lossy().into_owned();
        for file in fs_err::read_dir(dir.path()).unwrap().flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.starts_with(".lbuild-tmp-") {
                continue;
            }
            let bytes = fs_err::read(file.path()).unwrap();
            assert_eq!(crate::support::wheel::sha256_hex(&bytes), sha256, "cache entry `{name}` is not whole");
        }
    }
}

/// `manifest.json`'s artifacts by path -> sha256, when there is one.
fn listed(out: &Path) -> Option<BTreeMap<String, String>> {
    let text = fs_err::read_to_string(out.join("manifest.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is whole JSON");
    Some(
        manifest["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|artifact| {
                (artifact["path"].as_str().unwrap().to_string(), artifact["sha256"].as_str().unwrap().to_string())
            })
            .collect(),
    )
}

/// Each artifact `manifest.json` lists is on disk with the sha256 it gives, and is one of the
/// old or new build's.
fn assert_manifest_matches_zips(out: &Path, old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) {
    let Some(listed) = listed(out) else { return };
    for (path, sha256) in &listed {
        let bytes = fs_err::read(out.join(path)).unwrap_or_else(|err| panic!("manifest lists `{path}`: {err}"));
        assert_eq!(
            &crate::support::wheel::sha256_hex(&bytes),
            sha256,
            "`{path}` does not have the sha256 manifest.json gives"
        );
        assert!(old.get(path) == Some(sha256) || new.get(path) == Some(sha256), "`{path}` is neither old nor new");
    }
}

fn signal_for(round: usize) -> Signal {
    if round % 3 == 2 { Signal::Interrupt } else { Signal::Kill }
}

#[test]
fn lock_fetch_and_build_survive_being_killed_at_random_moments() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, &manifest("==1.0"));
    let mut moments = Moments::new();
    let out = workspace.path().join("target/lambda");

    // lock: from the old lock (small 1.0) to the new one (small 2.0).
    write_source(workspace.path(), 1);
    workspace.run(&["lock"]).ok();
    let old_lock = workspace.lock_text();
    workspace.write_manifest(&manifest(">=2"));
    let _ = fs_err::remove_dir_all(workspace.cache.path());
    let lock_time = timed(&workspace, &["lock"]);
    let new_lock = workspace.lock_text();
    assert_ne!(old_lock, new_lock);
    let mut finished = 0;
    for round in 0..MOMENTS {
        fs_err::write(workspace.lock_path(), &old_lock).unwrap();
        // A cold cache for half the rounds, so that page and metadata writes are interrupted too.
        if round % 2 == 0 {
            let _ = fs_err::remove_dir_all(workspace.cache.path());
        }
        let at = moments.within(lock_time.mul_f64(1.3));
        finished += usize::from(interrupt(&workspace, &["lock"], at, &signal_for(round)));
        let text = fs_err::read_to_string(workspace.lock_path()).unwrap();
        assert!(text == old_lock || text == new_lock, "round {round}: lambda.lock is neither old nor new:\n{text}");
        assert_cache_whole(workspace.cache.path());
        workspace.run(&["lock"]).ok();
        assert_eq!(workspace.lock_text(), new_lock, "round {round}");
    }
    eprintln!("lock: {MOMENTS} interruptions over {lock_time:?}, {finished} after it had finished");

    // fetch: from an empty cache to a full one.
    let _ = fs_err::remove_dir_all(workspace.cache.path());
    let fetch_time = timed(&workspace, &["fetch"]);
    let mut finished = 0;
    for round in 0..MOMENTS {
        let _ = fs_err::remove_dir_all(workspace.cache.path());
        let at = moments.within(fetch_time.mul_f64(1.1));
        finished += usize::from(interrupt(&workspace, &["fetch"], at, &signal_for(round)));
        assert_cache_whole(workspace.cache.path());
        assert_eq!(workspace.lock_text(), new_lock, "round {round}: fetch must not touch the lock");
        workspace.run(&["fetch"]).ok();
        assert_cache_whole(workspace.cache.path());
        workspace.run(&["build", "--frozen", "-q"]).ok();
    }
    eprintln!("fetch: {MOMENTS} interruptions over {fetch_time:?}, {finished} after it had finished");

    // build: between the zips of source generations 1 and 2.
    write_source(workspace.path(), 1);
    workspace.run(&["build"]).ok();
    let old = listed(&out).unwrap();
    write_source(workspace.path(), 2);
    let build_time = timed(&workspace, &["build"]);
    let new = listed(&out).unwrap();
    assert_ne!(old, new);
    write_source(workspace.path(), 1);
    workspace.run(&["build", "-q"]).ok();
    let mut finished = 0;
    for round in 0..MOMENTS {
        // Even rounds go from generation 1 to 2, odd ones back.
        let (from, to, generation) = if round % 2 == 0 { (&old, &new, 2) } else { (&new, &old, 1) };
        assert_eq!(&listed(&out).unwrap(), from);
        write_source(workspace.path(), generation);
        let at = moments.within(build_time.mul_f64(1.1));
        finished += usize::from(interrupt(&workspace, &["build", "--frozen"], at, &signal_for(round)));
        assert_manifest_matches_zips(&out, from, to);
        workspace.run(&["build", "--frozen", "-q"]).ok();
        assert_eq!(&listed(&out).unwrap(), to, "round {round}: the next build reaches the new state");
        assert_manifest_matches_zips(&out, to, to);
        let leftovers: Vec<_> = files_under(&out)
            .into_iter()
            .map(|path| path.display().to_string())
            .filter(|name| {
                name.contains(".lbuild-stage-") || name.contains(".lbuild-tmp-") || name.contains(".lbuild-publish")
            })
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
    }
    eprintln!("build: {MOMENTS} interruptions over {build_time:?}, {finished} after it had finished");
}

/// Two builds of one output directory with different inputs: the second waits for the first
/// before it reads what the directory holds, so the manifest describes the zips either way.
#[test]
fn concurrent_builds_of_one_output_directory_leave_a_manifest_that_matches_its_zips() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let first = Workspace::new(&index, Api::Simple, &manifest("==1.0"));
    let second = Workspace::new(&index, Api::Simple, &manifest("==1.0"));
    let shared = tempfile::tempdir().unwrap();
    let out = shared.path().join("out");
    let out_arg = out.display().to_string();
    write_source(first.path(), 1);
    write_source(second.path(), 2);
    // The second workspace's zips are in the directory, and its state says they are fresh.
    second.run(&["build", "--out-dir", &out_arg]).ok();
    first.run(&["lock"]).ok();
    let build_time = timed(&first, &["build", "--out-dir", &shared.path().join("probe").display().to_string()]);
    for round in 0..4 {
        let spawn = |workspace: &Workspace| {
            Command::new(env!("CARGO_BIN_EXE_lbuild"))
                .args(["build", "-q", "--out-dir", &out_arg])
                .current_dir(workspace.path())
                .env("LBUILD_CACHE_DIR", workspace.cache.path())
                .env("NO_COLOR", "1")
                .stderr(Stdio::piped())
                .spawn()
                .expect("start lbuild")
        };
        let (a, b) = if round % 2 == 0 { (&first, &second) } else { (&second, &first) };
        let running = spawn(a);
        std::thread::sleep(build_time / 3);
        let waiting = spawn(b);
        for child in [running, waiting] {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        }
        let listed = listed(&out).unwrap();
        assert_manifest_matches_zips(&out, &listed, &listed);
    }
}

/// A zip replaced behind lbuild's back with one of the same size and modification time (as a
/// restored CI cache or `tar` would leave it), or with a link to one, is rebuilt, never taken as
/// up to date with a manifest that describes other bytes.
#[test]
fn a_zip_restored_with_its_size_and_mtime_or_linked_is_rebuilt() {
    let index = FakeIndex::start(&scenario(), IndexOptions::default());
    let workspace = Workspace::new(&index, Api::Simple, &manifest("==1.0"));
    write_source(workspace.path(), 1);
    workspace.run(&["build"]).ok();
    let out = workspace.path().join("target/lambda");
    let built = listed(&out).unwrap();
    let (path, _) = built.iter().find(|(path, _)| path.starts_with("functions/")).unwrap();
    let zip = out.join(path);
    // A link to an exact copy too: it would keep pointing wherever it points.
    for (link, tamper) in [(false, true), (true, true), (true, false)] {
        let mut bytes = fs_err::read(&zip).unwrap();
        let middle = bytes.len() / 2;
        if tamper {
            bytes[middle] ^= 0xff;
        }
        let forged = workspace.path().join(format!("forged-{link}-{tamper}.zip"));
        fs_err::write(&forged, &bytes).unwrap();
        let touched = Command::new("touch").arg("-r").arg(&zip).arg(&forged).status().unwrap();
        assert!(touched.success());
        if link {
            fs_err::remove_file(&zip).unwrap();
            std::os::unix::fs::symlink(&forged, &zip).unwrap();
        } else {
            fs_err::rename(&forged, &zip).unwrap();
        }
        workspace.run(&["build", "--frozen", "-q"]).ok();
        assert!(!fs_err::symlink_metadata(&zip).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_manifest_matches_zips(&out, &built, &built);
        assert_eq!(listed(&out).unwrap(), built);
    }
}
