#!/usr/bin/env bash
# build-vs-uv.sh: time building a Lambda zip of each workload for one target (python3.12, x86_64)
# with `lbuild build` and with `uv pip install --target` + `zip`, against a local static mirror of
# real wheels, alternating the tools run by run (A B A B ...), and print medians and ratios.
#
# usage: bench/build-vs-uv.sh [WORKLOAD_DIR]
#   WORKLOAD_DIR   directory of *.txt requirement files (default ../shared/workloads relative to
#                  the repository root)
# environment:
#   LBUILD        lbuild binary (default target/release/lbuild under the repository root)
#   UV            uv binary (default uv on PATH)
#   UV_PY         Python interpreter uv is given with --python (default: the first real python3.12
#                 found, not a pyenv shim)
#   N             timed runs per command and mode (default 5)
#   MODES         any of "cold warm noop" (default all three)
#   UV_PINNED=0   leave out the extra uv-pinned command (see below)
#   MIRROR_DIR    where the mirror is built and kept between runs (default /tmp/lbuild-bench-mirror)
#   MIRROR_PYTHON a Python with dumb-pypi and packaging (default: a venv created at
#                 /tmp/lbuild-bench-venv with `pip install dumb-pypi packaging`)
#   SERVE_FLAGS   extra serve_mirror.py flags, e.g. --pypi-cache-headers
#   BENCH_SHARED  directory holding mirror_build.py and serve_mirror.py (default ../shared/bench)
#   KEEP_TMP=1    keep the temporary workspaces, caches and zips
#
# The mirror is built as in lock-vs-uv.sh: pins from `uv pip compile` against the real PyPI
# (python3.12, x86_64-manylinux_2_34), then mirror_build.py downloads those versions' wheels and
# serve_mirror.py serves them on 127.0.0.1 (index-url = http://127.0.0.1:PORT/simple/).
#
# Commands, per workload:
#   lbuild     `lbuild build --arch x86_64` of a workspace with [workspace] runtime = "python3.12",
#              architectures = ["x86_64"], index-url = the mirror, and one function with the
#              workload as requirements-file and no source: the function zip holds every package.
#              A workload whose function lbuild refuses for Lambda's 250 MB unzipped limit (data:
#              pyarrow alone is 161 MB) is built with STRIP (default: tests, pyarrow's headers and
#              its Flight library, which Lambda functions rarely need), and uv's side deletes the
#              same files before zipping (timed), so both ship the same files.
#   STRIP      space-separated globs for such workloads (default below)
#   uv         `uv pip install --no-config -q --target DIR --only-binary :all:
#              --python-platform x86_64-manylinux_2_34 --python-version 3.12 --python UV_PY
#              --index-url MIRROR/simple/ --cache-dir C -r workload.txt` (uv resolves; no bytecode
#              compilation, uv's default; uv 0.13 has no --no-installer-metadata, so its INSTALLER
#              files stay), then `cd DIR && zip -qrX ../uv.zip .`. Timed: both together.
#   uv-pinned  (extra, UV_PINNED=0 to leave out) the same with the pins of lbuild's lock as
#              requirements and --no-deps: uv's time without resolution, the closest thing to
#              lbuild building from lambda.lock.
# Modes:
#   cold   fresh empty caches (LBUILD_CACHE_DIR / --cache-dir), no lambda.lock, no output: lock +
#          download + zip.
#   warm   caches filled by one untimed run per command; lambda.lock present; lbuild's output dir
#          deleted before each lbuild run (it must write the zip), uv's DIR and zip deleted before
#          each uv run.
#   noop   lbuild only: `lbuild build` again with everything in place (target: < 50 ms).
set -euo pipefail

N="${N:-5}"
MODES="${MODES:-cold warm noop}"
UV_PINNED="${UV_PINNED:-1}"
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_uv
[ -n "${UV_PY:-}" ] || { echo "no python3.12 found for uv (set UV_PY)" >&2; exit 2; }
mirror_python
if ! command -v zip >/dev/null; then
    echo "installing zip" >&2
    apt-get install -y -q zip >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q zip >/dev/null; } \
        || { echo "zip is needed (apt-get install zip)" >&2; exit 2; }
fi
ZIP="$(command -v zip)"

bench_tmp build-vs-uv
PORT="$(free_port)"

echo "lbuild: $LBUILD ($("$LBUILD" --version 2>&1))"
echo "uv:     $UV ($("$UV" --version 2>&1)), interpreter: $UV_PY"
echo "zip:    $ZIP ($("$ZIP" -v | sed -n 2p | sed 's/^ *//'))"
echo "N=$N, modes: $MODES, uv-pinned: $UV_PINNED, mirror: $MIRROR_DIR, port $PORT, serve flags: ${SERVE_FLAGS:-none}"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# 1-2. Pins and the mirror.
build_mirror "$PORT"

# 3. Serve it.
# shellcheck disable=SC2086
python3 "$BENCH_SHARED/serve_mirror.py" "$MIRROR_DIR/www" "$PORT" $SERVE_FLAGS >"$tmp/serve.log" 2>&1 &
pids+=("$!")
wait_for "http://127.0.0.1:$PORT/simple/"
echo

# 4. Time it.
python3 - "$tmp" "$LBUILD" "$UV" "$UV_PY" "$ZIP" "$N" "$MODES" "$UV_PINNED" "$PORT" "${workloads[@]}" <<'PY'
import json, os, re, resource, shutil, statistics, subprocess, sys, time, tomllib, zipfile
strip_globs = os.environ.get("STRIP", "**/tests/** pyarrow/include/** pyarrow/libarrow_flight.so*").split()
tmp, lbuild, uv, uv_py, zipbin, n, modes, uv_pinned, port, *workloads = sys.argv[1:]
n = int(n); modes = modes.split(); uv_pinned = uv_pinned == "1"
index = f"http://127.0.0.1:{port}/simple/"
base_env = {k: v for k, v in os.environ.items()
            if not (k.startswith("LBUILD_") or k.startswith("UV_") or k in ("PIP_INDEX_URL", "SOURCE_DATE_EPOCH"))}
base_env["UV_PYTHON_DOWNLOADS"] = "never"
norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()

def run(argv, env, cwd=None):
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r, dt, ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime

class Lbuild:
    name = "lbuild"
    def __init__(self, ws, wl, kind):
        self.ws, self.kind = ws, kind
        shutil.rmtree(ws, ignore_errors=True); os.makedirs(ws)
        shutil.copy(wl, os.path.join(ws, "requirements.txt"))
        strip = f'strip = {json.dumps(strip_globs)}\n' if kind == "stripped" else ""
        open(os.path.join(ws, "lambda.toml"), "w").write(
            f'[workspace]\nruntime = "python3.12"\narchitectures = ["x86_64"]\nindex-url = "{index}"\n{strip}\n'
            f'[function.f]\nrequirements-file = "requirements.txt"\n')
        self.out = os.path.join(ws, "target")
        self.zip = os.path.join(ws, "target", "lambda", "functions", "f-python3.12-x86_64.zip")
    def argv(self):
        return [lbuild, "-q", "build", "--arch", "x86_64", "--manifest-path", os.path.join(self.ws, "lambda.toml")]
    def prepare(self, mode):
        if mode in ("cold", "warm"):
            shutil.rmtree(self.out, ignore_errors=True)
        if mode == "cold":
            try: os.remove(os.path.join(self.ws, "lambda.lock"))
            except FileNotFoundError: pass
    def go(self, cache, mode):
        self.prepare(mode)
        r, dt, cpu = run(self.argv(), dict(base_env, LBUILD_CACHE_DIR=cache))
        if r.returncode != 0:
            raise RuntimeError(f"lbuild failed ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
        return dt, cpu, {}
    def pins(self):
        d = tomllib.load(open(os.path.join(self.ws, "lambda.lock"), "rb"))
        return {norm(p["name"]): p["version"] for p in d["package"]}

class Uv:
    def __init__(self, name, ws, reqs, kind, no_deps=False):
        self.name, self.ws, self.kind, self.no_deps = name, ws, kind, no_deps
        shutil.rmtree(ws, ignore_errors=True); os.makedirs(ws)
        self.reqs = os.path.join(ws, "requirements.txt")
        if reqs: shutil.copy(reqs, self.reqs)
        self.dir = os.path.join(ws, "out")
        self.zip = os.path.join(ws, "uv.zip")
    def set_pins(self, pins):
        open(self.reqs, "w").write("".join(f"{k}=={v}\n" for k, v in sorted(pins.items())))
    def go(self, cache, mode):
        shutil.rmtree(self.dir, ignore_errors=True)
        try: os.remove(self.zip)
        except FileNotFoundError: pass
        target = self.dir
        argv = [uv, "pip", "install", "--no-config", "-q", "--target", target, "--only-binary", ":all:",
                "--python-platform", "x86_64-manylinux_2_34", "--python-version", "3.12", "--python", uv_py,
                "--index-url", index, "--cache-dir", cache, *(["--no-deps"] if self.no_deps else []),
                "-r", self.reqs]
        r1, dt1, cpu1 = run(argv, dict(base_env))
        if r1.returncode != 0:
            raise RuntimeError(f"{self.name} failed ({r1.returncode}):\n{r1.stderr.decode(errors='replace')}")
        if self.kind == "stripped":
            # The same files lbuild strips (its globs: `**/` any directories, `*` within a name).
            t0 = time.perf_counter()
            pats = [re.compile("^" + re.escape(g).replace(r"\*\*/", "(?:.*/)?").replace(r"/\*\*", "/.*")
                               .replace(r"\*", "[^/]*") + "$") for g in strip_globs]
            for root, _, files in os.walk(self.dir):
                for f in files:
                    rel = os.path.relpath(os.path.join(root, f), self.dir)
                    if ".dist-info/" not in rel and any(p.match(rel) for p in pats):
                        os.remove(os.path.join(root, f))
            dt1 += time.perf_counter() - t0
        r2, dt2, cpu2 = run([zipbin, "-qrX", self.zip, "."], dict(base_env), cwd=self.dir)
        if r2.returncode != 0:
            raise RuntimeError(f"zip failed:\n{r2.stderr.decode(errors='replace')}")
        return dt1 + dt2, cpu1 + cpu2, {"install": dt1, "zip": dt2}

results, cpu, parts, sizes, kinds, notes = {}, {}, {}, {}, {}, []
load_at = {}
for wl in workloads:
    w = os.path.splitext(os.path.basename(wl))[0]
    wdir = os.path.join(tmp, w)
    # Probe: does lbuild accept the workload as one function (Lambda's 250 MB limit)?
    kind = "function"
    probe = Lbuild(os.path.join(wdir, "probe"), wl, kind)
    r, _, _ = run(probe.argv(), dict(base_env, LBUILD_CACHE_DIR=os.path.join(wdir, "probe-cache")))
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace")
        if "over Lambda's limit" not in err:
            sys.exit(f"lbuild failed on {w}:\n{err}")
        kind = "stripped"
        msg = [l.strip() for l in err.splitlines() if "over Lambda's limit" in l][0]
        notes.append(f"{w}: as is, lbuild refuses it ({msg.lstrip('× ')}); built with strip = {strip_globs}, "
                     f"and uv's side deletes the same files before zipping")
        probe = Lbuild(os.path.join(wdir, "probe"), wl, kind)
        r, _, _ = run(probe.argv(), dict(base_env, LBUILD_CACHE_DIR=os.path.join(wdir, "probe-cache")))
        if r.returncode != 0:
            sys.exit(f"lbuild failed on {w} even with tests stripped:\n{r.stderr.decode(errors='replace')}")
    kinds[w] = kind
    pins = probe.pins()
    shutil.rmtree(os.path.join(wdir, "probe"), ignore_errors=True)
    shutil.rmtree(os.path.join(wdir, "probe-cache"), ignore_errors=True)
    cmds = [Lbuild(os.path.join(wdir, "lbuild"), wl, kind), Uv("uv", os.path.join(wdir, "uv"), wl, kind)]
    if uv_pinned:
        c = Uv("uv-pinned", os.path.join(wdir, "uv-pinned"), None, kind, no_deps=True); c.set_pins(pins); cmds.append(c)
    load_at[w] = [os.getloadavg()]
    for mode in modes:
        if mode == "noop":
            c = cmds[0]
            cache = os.path.join(wdir, "cache-warm-lbuild")
            c.go(cache, "noop")        # make sure everything is in place
            before = os.stat(c.zip).st_mtime_ns
            for i in range(n):
                dt, cp, _ = c.go(cache, "noop")
                results.setdefault((w, mode, c.name), []).append(dt)
                cpu.setdefault((w, mode, c.name), []).append(cp)
            assert os.stat(c.zip).st_mtime_ns == before, "the no-op rewrote the zip"
            continue
        caches = {}
        if mode == "warm":
            for c in cmds:
                caches[c.name] = os.path.join(wdir, "cache-warm-" + c.name)
                shutil.rmtree(caches[c.name], ignore_errors=True); os.makedirs(caches[c.name])
                c.go(caches[c.name], "cold")   # untimed fill (writes lambda.lock for lbuild)
        for i in range(n):
            for c in cmds:                     # alternate: A B C, A B C, ...
                if mode == "cold":
                    cache = os.path.join(wdir, "cache-cold-" + c.name)
                    shutil.rmtree(cache, ignore_errors=True); os.makedirs(cache)
                else:
                    cache = caches[c.name]
                dt, cp, pr = c.go(cache, mode)
                results.setdefault((w, mode, c.name), []).append(dt)
                cpu.setdefault((w, mode, c.name), []).append(cp)
                for k, v in pr.items():
                    parts.setdefault((w, mode, c.name, k), []).append(v)
                if i == 0:
                    z = zipfile.ZipFile(c.zip)
                    dists = sorted(norm(x.split("/")[-2].rsplit("-", 1)[0]) for x in z.namelist()
                                   if x.endswith(".dist-info/METADATA"))
                    sizes[(w, c.name)] = (os.path.getsize(c.zip), sum(i.file_size for i in z.infolist()),
                                          len(z.infolist()), dists,
                                          sum(1 for x in z.namelist() if x.split("/")[0] == "bin"),
                                          sum(1 for x in z.namelist() if x.endswith(".dist-info/INSTALLER")))
        for c in cmds:
            shutil.rmtree(os.path.join(wdir, "cache-cold-" + c.name), ignore_errors=True)
    load_at[w].append(os.getloadavg())
    print(f"{w}: done (load {' '.join(f'{x:.2f}' for x in os.getloadavg())})", file=sys.stderr)

med = lambda xs: statistics.median(xs) * 1000
cell = lambda xs: f"{med(xs):7.0f} [{min(xs)*1000:.0f}-{max(xs)*1000:.0f}]"
names = ["lbuild", "uv"] + (["uv-pinned"] if uv_pinned else [])
print()
for x in notes:
    print("note: " + x)
print()
print(f"wall time, medians in ms over N={n} runs (min-max); ratio = lbuild / uv (targets: cold <= 0.5, warm <= 0.2)")
hdr = f"{'workload':8} {'mode':5} {'lbuild':>19} {'uv':>19} {'lb/uv':>6}" + (f" {'uv-pinned':>19} {'lb/pinned':>9}" if uv_pinned else "")
print(hdr); print("-" * len(hdr))
for mode in [m for m in modes if m != "noop"]:
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        r = {c: results[(w, mode, c)] for c in names}
        line = f"{w:8} {mode:5} {cell(r['lbuild']):>19} {cell(r['uv']):>19} {med(r['lbuild'])/med(r['uv']):6.2f}"
        if uv_pinned:
            line += f" {cell(r['uv-pinned']):>19} {med(r['lbuild'])/med(r['uv-pinned']):9.2f}"
        print(line)
print()
print("uv's time split, medians in ms: install + zip")
for mode in [m for m in modes if m != "noop"]:
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        print(f"{w:8} {mode:5} " + "   ".join(
            f"{c}: {med(parts[(w, mode, c, 'install')]):.0f} + {med(parts[(w, mode, c, 'zip')]):.0f}" for c in names[1:]))
print()
print(f"CPU time (user+sys of the commands and their children), medians in ms")
print(f"{'workload':8} {'mode':5} " + " ".join(f"{c:>10}" for c in names) + f" {'lb/uv':>6}")
for mode in [m for m in modes if m != "noop"]:
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        r = {c: cpu[(w, mode, c)] for c in names}
        print(f"{w:8} {mode:5} " + " ".join(f"{med(r[c]):10.0f}" for c in names) + f" {med(r['lbuild'])/med(r['uv']):6.2f}")
if "noop" in modes:
    print()
    print(f"unchanged rebuild (`lbuild build` with everything in place), N={n}, target < 50 ms:")
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        xs = results[(w, "noop", "lbuild")]
        print(f"  {w:8} median {med(xs):.1f} ms [{min(xs)*1000:.1f}-{max(xs)*1000:.1f}], CPU {med(cpu[(w, 'noop', 'lbuild')]):.1f} ms")
if sizes:
    print()
    print("zips (first run of each command): bytes, unzipped bytes, entries, packages, bin/ files, INSTALLER files")
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        ref = None
        for c in names:
            if (w, c) not in sizes: continue
            b, u, e, d, nbin, ninst = sizes[(w, c)]
            same = "" if ref is None else ("  same packages as lbuild" if d == ref else f"  PACKAGES DIFFER: {sorted(set(d) ^ set(ref))}")
            ref = ref if ref is not None else d
            print(f"  {w:8} {kinds[w]:8} {c:10} {b:>12,} {u:>12,} {e:>6} {len(d):>4} {nbin:>4} {ninst:>4}{same}")
print()
print("load average (1, 5, 15 min) at the start and end of each workload (2 cores; anything else running adds noise):")
for w, (a, b) in load_at.items():
    print(f"  {w:8} {a[0]:.2f} {a[1]:.2f} {a[2]:.2f} -> {b[0]:.2f} {b[1]:.2f} {b[2]:.2f}")
PY
