#!/usr/bin/env bash
# lock-vs-uv.sh: time a single-target lock (python3.12, x86_64) with lbuild and with
# `uv pip compile` against a local static mirror of real wheels, cold and warm, alternating the
# tools run by run (A B C ... A B C ...), and print medians and lbuild/uv ratios.
#
# usage: bench/lock-vs-uv.sh [WORKLOAD_DIR]
#   WORKLOAD_DIR   directory of *.txt requirement files (default ../shared/workloads relative to
#                  the repository root)
# environment:
#   LBUILD        lbuild binary (default target/release/lbuild under the repository root)
#   UV            uv binary (default uv on PATH)
#   UV_PY         Python interpreter uv is given with --python (uv pip compile needs one even
#                 with --python-version). Default: the first real python3.12 found (not a pyenv
#                 shim); when none is found uv discovers one itself (with downloads disabled),
#                 which adds its discovery time to every uv run.
#   N             timed runs per command and mode (default 5)
#   MODES         "cold warm" (default)
#   MIRROR_DIR    where the mirror is built and kept between runs (default /tmp/lbuild-bench-mirror)
#   MIRROR_PYTHON a Python with dumb-pypi and packaging (default: a venv created at
#                 /tmp/lbuild-bench-venv with `pip install dumb-pypi packaging`)
#   SERVE_FLAGS   extra serve_mirror.py flags for both servers, e.g. --pypi-cache-headers
#   BENCH_SHARED  directory holding mirror_build.py and serve_mirror.py (default
#                 ../shared/bench relative to the repository root)
#   KEEP_TMP=1    keep the temporary workspaces and caches
#
# What is timed, per workload (one lbuild function, runtime python3.12, architectures [x86_64]):
#   lb-simple   lbuild, index-url = http://127.0.0.1:PORT/simple/   (PEP 503 HTML + .metadata)
#   lb-json     lbuild, index-url = http://127.0.0.1:PORT/pypi       (PyPI JSON API, no core-metadata:
#               metadata comes from range requests on the wheels)
#   uv-simple   uv pip compile --only-binary :all: --python-platform x86_64-manylinux_2_34
#               --python-version 3.12 --index-url http://127.0.0.1:PORT/simple/
#   lb-nometa   lbuild against a copy of the simple index with no .metadata files and no
#               data-core-metadata attributes, served on a second port (range requests only)
#   uv-nometa   uv against the same copy
# cold: every run gets a fresh empty cache dir (LBUILD_CACHE_DIR / --cache-dir) and lbuild's
#       lambda.lock is deleted first. warm: one untimed run per command fills its own cache, then
#       every timed run keeps the cache (lambda.lock is still deleted before each lbuild run, so
#       lbuild really resolves).
# Finally "fresh": lbuild lock run twice in a row on an unchanged workspace (lb-simple, warm
# cache); the second run is timed (N times).
set -euo pipefail

N="${N:-5}"
MODES="${MODES:-cold warm}"
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_uv
mirror_python
bench_tmp lock-vs-uv

PORT="$(free_port)"
PORT2="$(free_port)"
while [ "$PORT2" = "$PORT" ]; do PORT2="$(free_port)"; done

echo "lbuild: $LBUILD ($("$LBUILD" --version 2>&1))"
echo "uv:     $UV ($("$UV" --version 2>&1)), interpreter: ${UV_PY:-discovered by uv}"
echo "N=$N, modes: $MODES, mirror: $MIRROR_DIR, ports $PORT (full) / $PORT2 (no .metadata), serve flags: ${SERVE_FLAGS:-none}"
echo

# 1-2. Pins and the mirror.
build_mirror "$PORT"

# 3. A copy without PEP 658 metadata: pages without data-core-metadata, files/ without .metadata,
#    every URL pointing at the second server.
python3 - "$MIRROR_DIR" "$PORT" "$PORT2" <<'PY'
import os, re, shutil, sys
mirror, port, port2 = sys.argv[1:]
src, dst = os.path.join(mirror, "www"), os.path.join(mirror, "www-nometa")
shutil.rmtree(dst, ignore_errors=True)
attr = re.compile(r'\s*data-(?:core|dist-info)-metadata="[^"]*"')
for top in ("simple", "pypi"):
    for d, _, fs in os.walk(os.path.join(src, top)):
        out = os.path.join(dst, os.path.relpath(d, src)); os.makedirs(out, exist_ok=True)
        for f in fs:
            text = open(os.path.join(d, f), encoding="utf-8").read()
            text = text.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{port2}/")
            if top == "simple": text = attr.sub("", text)
            open(os.path.join(out, f), "w", encoding="utf-8").write(text)
files = os.path.join(dst, "files"); os.makedirs(files)
for f in os.listdir(os.path.join(mirror, "files")):
    if f.endswith(".whl"):
        os.symlink(os.path.join("..", "..", "files", f), os.path.join(files, f))
PY
grep -rq 'core-metadata' "$MIRROR_DIR/www-nometa/simple" && { echo "www-nometa still names core metadata" >&2; exit 1; }

# 4. Serve both.
# shellcheck disable=SC2086
python3 "$BENCH_SHARED/serve_mirror.py" "$MIRROR_DIR/www" "$PORT" $SERVE_FLAGS >"$tmp/serve1.log" 2>&1 &
pids+=("$!")
# shellcheck disable=SC2086
python3 "$BENCH_SHARED/serve_mirror.py" "$MIRROR_DIR/www-nometa" "$PORT2" $SERVE_FLAGS >"$tmp/serve2.log" 2>&1 &
pids+=("$!")
wait_for "http://127.0.0.1:$PORT/simple/"
wait_for "http://127.0.0.1:$PORT2/simple/"
echo

# 5. Time it.
python3 - "$tmp" "$LBUILD" "$UV" "$N" "$MODES" "$PORT" "$PORT2" "${UV_PY:-}" "${workloads[@]}" <<'PY'
import os, re, resource, shutil, statistics, subprocess, sys, time, tomllib
tmp, lbuild, uv, n, modes, port, port2, uv_py, *workloads = sys.argv[1:]
n = int(n); modes = modes.split()
simple, pypi = f"http://127.0.0.1:{port}/simple/", f"http://127.0.0.1:{port}/pypi"
simple2 = f"http://127.0.0.1:{port2}/simple/"

base_env = {k: v for k, v in os.environ.items()
            if not (k.startswith("LBUILD_") or k.startswith("UV_") or k in ("PIP_INDEX_URL",))}
base_env["UV_PYTHON_DOWNLOADS"] = "never"
norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()

class Lbuild:
    def __init__(self, name, ws, index):
        self.name, self.ws, self.kind = name, ws, "lbuild"
        os.makedirs(ws, exist_ok=True)
        shutil.copy(wl, os.path.join(ws, "requirements.txt"))
        open(os.path.join(ws, "lambda.toml"), "w").write(
            f'[workspace]\nruntime = "python3.12"\narchitectures = ["x86_64"]\nindex-url = "{index}"\n\n'
            f'[function.f]\nrequirements-file = "requirements.txt"\n')
    def prepare(self, cache):
        try: os.remove(os.path.join(self.ws, "lambda.lock"))
        except FileNotFoundError: pass
    def argv(self, cache, verbose=False):
        return [lbuild] + (["-v"] if verbose else ["-q"]) + ["lock", "--manifest-path", os.path.join(self.ws, "lambda.toml")]
    def env(self, cache):
        return dict(base_env, LBUILD_CACHE_DIR=cache)
    def pins(self, cache):
        d = tomllib.load(open(os.path.join(self.ws, "lambda.lock"), "rb"))
        return {norm(p["name"]): p["version"] for p in d["package"]}

class Uv:
    def __init__(self, name, ws, index):
        self.name, self.ws, self.index, self.kind = name, ws, index, "uv"
        os.makedirs(ws, exist_ok=True)
        shutil.copy(wl, os.path.join(ws, "requirements.txt"))
        self.out = os.path.join(ws, "out.txt")
    def prepare(self, cache): pass
    def argv(self, cache, verbose=False):
        return [uv, "pip", "compile", "--no-config", "-v" if verbose else "-q", "--no-header", "--no-annotate",
                "--only-binary", ":all:", "--python-platform", "x86_64-manylinux_2_34",
                "--python-version", "3.12", *(["--python", uv_py] if uv_py else []),
                "--index-url", self.index, "--cache-dir", cache,
                "-o", self.out, os.path.join(self.ws, "requirements.txt")]
    def env(self, cache): return dict(base_env)
    def pins(self, cache):
        out = {}
        for line in open(self.out):
            line = line.split("#")[0].strip()
            if "==" in line:
                a, b = line.split("==", 1); out[norm(a.split("[")[0])] = b.strip()
        return out

cpu = {}       # (workload, mode, cmd) -> [user+sys seconds of the process and its children]
def run(cmd, cache, key=None):
    cmd.prepare(cache)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd.argv(cache), env=cmd.env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{cmd.name} failed ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
    if key is not None:
        cpu.setdefault(key, []).append(ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime)
    return dt

results = {}   # (workload, mode, cmd) -> [seconds]
load0 = os.getloadavg()
fresh = {}
requests = {}
pin_check = {}
for wl in workloads:
    w = os.path.splitext(os.path.basename(wl))[0]
    wdir = os.path.join(tmp, w)
    cmds = [Lbuild("lb-simple", os.path.join(wdir, "lb-simple"), simple),
            Uv("uv-simple", os.path.join(wdir, "uv-simple"), simple),
            Lbuild("lb-json", os.path.join(wdir, "lb-json"), pypi),
            Lbuild("lb-nometa", os.path.join(wdir, "lb-nometa"), simple2),
            Uv("uv-nometa", os.path.join(wdir, "uv-nometa"), simple2)]
    for mode in modes:
        caches = {}
        if mode == "warm":
            for c in cmds:
                caches[c.name] = os.path.join(wdir, "cache-warm-" + c.name)
                shutil.rmtree(caches[c.name], ignore_errors=True); os.makedirs(caches[c.name])
                run(c, caches[c.name])  # untimed fill
        for i in range(n):
            for c in cmds:  # alternate: A B C D E, A B C D E, ...
                if mode == "cold":
                    cache = os.path.join(wdir, f"cache-cold-{c.name}")
                    shutil.rmtree(cache, ignore_errors=True); os.makedirs(cache)
                else:
                    cache = caches[c.name]
                results.setdefault((w, mode, c.name), []).append(run(c, cache, key=(w, mode, c.name)))
                if mode == "cold" and i == 0:
                    pin_check[(w, c.name)] = c.pins(cache)
    # fresh lock: lbuild lock twice in a row on an unchanged workspace; time the second.
    c = cmds[0]
    cache = os.path.join(wdir, "cache-warm-lb-simple")
    os.makedirs(cache, exist_ok=True)
    for i in range(n):
        run(c, cache)                      # first: resolves and writes lambda.lock
        lock = os.path.join(c.ws, "lambda.lock"); m0 = os.stat(lock).st_mtime_ns
        t0 = time.perf_counter()
        r = subprocess.run(c.argv(cache), env=c.env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        fresh.setdefault(w, []).append(time.perf_counter() - t0)
        assert r.returncode == 0, r.stderr
        assert os.stat(lock).st_mtime_ns == m0, "the fresh lock was rewritten"
    # one more cold run of each lbuild variant with -v, to count its requests by kind.
    for c in cmds:
        if c.kind != "lbuild": continue
        cache = os.path.join(wdir, f"cache-cold-{c.name}")
        shutil.rmtree(cache, ignore_errors=True); os.makedirs(cache)
        c.prepare(cache)
        r = subprocess.run(c.argv(cache, verbose=True), env=c.env(cache), capture_output=True, text=True)
        gets = [l.split()[1] for l in r.stderr.splitlines() if l.startswith("GET ")]
        kinds = {"page": 0, "metadata": 0, "wheel": 0}
        for u in gets:
            kinds["metadata" if u.endswith(".metadata") else "wheel" if u.endswith(".whl") else "page"] += 1
        requests[(w, c.name)] = kinds
    print(f"{w}: done", file=sys.stderr)

med = lambda xs: statistics.median(xs) * 1000
print(f"pins (first cold run of each command) compared with uv-simple:")
for wl in workloads:
    w = os.path.splitext(os.path.basename(wl))[0]
    ref = pin_check.get((w, "uv-simple"), {})
    line = []
    for name in ("lb-simple", "lb-json", "lb-nometa", "uv-nometa"):
        p = pin_check.get((w, name), {})
        diff = sorted(k for k in set(p) | set(ref) if p.get(k) != ref.get(k))
        line.append(f"{name} {'same' if not diff else 'DIFFERS: ' + ', '.join(f'{k} {p.get(k)} vs {ref.get(k)}' for k in diff)}")
    print(f"  {w} ({len(ref)} packages): " + "; ".join(line))
print()
print(f"medians in ms over N={n} runs per cell (min-max in brackets); ratio = lbuild / uv on the same index")
hdr = f"{'workload':8} {'mode':5} {'lb-simple':>17} {'lb-json':>17} {'uv-simple':>17} {'simple':>6} {'json':>6} {'lb-nometa':>17} {'uv-nometa':>17} {'nometa':>6}"
print(hdr); print("-" * len(hdr))
cell = lambda xs: f"{med(xs):6.1f} [{min(xs)*1000:.0f}-{max(xs)*1000:.0f}]"
for mode in modes:
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        r = {c: results[(w, mode, c)] for c in ("lb-simple", "lb-json", "uv-simple", "lb-nometa", "uv-nometa")}
        print(f"{w:8} {mode:5} {cell(r['lb-simple']):>17} {cell(r['lb-json']):>17} {cell(r['uv-simple']):>17} "
              f"{med(r['lb-simple'])/med(r['uv-simple']):6.2f} {med(r['lb-json'])/med(r['uv-simple']):6.2f} "
              f"{cell(r['lb-nometa']):>17} {cell(r['uv-nometa']):>17} {med(r['lb-nometa'])/med(r['uv-nometa']):6.2f}")
print()
print(f"CPU time (user+sys of the tool and its children), medians in ms over N={n}; ratio = lbuild / uv")
print(f"{'workload':8} {'mode':5} {'lb-simple':>9} {'lb-json':>9} {'uv-simple':>9} {'simple':>6} {'json':>6} {'lb-nometa':>9} {'uv-nometa':>9} {'nometa':>6}")
for mode in modes:
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        r = {c: cpu[(w, mode, c)] for c in ("lb-simple", "lb-json", "uv-simple", "lb-nometa", "uv-nometa")}
        print(f"{w:8} {mode:5} {med(r['lb-simple']):9.1f} {med(r['lb-json']):9.1f} {med(r['uv-simple']):9.1f} "
              f"{med(r['lb-simple'])/med(r['uv-simple']):6.2f} {med(r['lb-json'])/med(r['uv-simple']):6.2f} "
              f"{med(r['lb-nometa']):9.1f} {med(r['uv-nometa']):9.1f} {med(r['lb-nometa'])/med(r['uv-nometa']):6.2f}")
print()
print("load average (1, 5, 15 min) before timing: %.2f %.2f %.2f, after: %.2f %.2f %.2f (2 cores; anything else running adds noise)" % (*load0, *os.getloadavg()))
print()
print("requests of one cold lbuild run (lbuild -v GET lines: index pages, .metadata files, wheel URLs = range or whole):")
for (w, name), k in requests.items():
    print(f"  {w:8} {name:10} pages {k['page']:3}  .metadata {k['metadata']:3}  wheel {k['wheel']:3}")
print()
print(f"fresh lock (second `lbuild lock` in a row, unchanged workspace, lb-simple), N={n}:")
for w, xs in fresh.items():
    print(f"  {w:8} median {med(xs):.1f} ms [{min(xs)*1000:.1f}-{max(xs)*1000:.1f}]")
PY
