#!/usr/bin/env bash
# pypi-lock-vs-uv.sh: time `lbuild lock` against `uv pip compile` on the REAL PyPI (not a
# mirror; see lock-vs-uv.sh for the hermetic one), cold and warm, alternating the tools run by
# run, and print medians and lbuild/uv ratios, plus the requests and bytes of one cold lbuild run.
#
# usage: bench/pypi-lock-vs-uv.sh [WORKLOAD_DIR]
#   WORKLOAD_DIR   directory of *.txt requirement files (default ../shared/workloads relative to
#                  the repository root); WORKLOADS="api data" picks some of them by name
# environment:
#   LBUILD   lbuild binary (default target/release/lbuild; CARGO_TARGET_DIR=target-release
#            builds put it in target-release/release/lbuild)
#   UV       uv binary (default uv on PATH)
#   N        timed runs per command and mode (default 3; the real index is shared, be gentle)
#   MODES    "cold warm" (default)
#   CMDS     which commands to time (default "lb-default lb-simple lb-both uv")
#   LBUILD_BASE  a second lbuild binary (e.g. one built from main): adds "base-default" and
#            "base-both" (its default index, one and both architectures) to CMDS
#
# Commands, per workload (one function, runtime python3.12):
#   lb-default  lbuild with the default index, architectures = ["x86_64"]
#   lb-json     lbuild, index-url = "https://pypi.org/pypi" (the PyPI JSON API), ["x86_64"]
#   lb-simple   lbuild, index-url = "https://pypi.org/simple/", ["x86_64"]
#   lb-both     lbuild with the default index, architectures = ["x86_64", "arm64"]
#   uv          uv pip compile --only-binary :all: --python-platform x86_64-manylinux_2_34
#               --python-version 3.12 (Lambda's python3.12 runs on glibc 2.34)
# cold: a fresh empty cache per run (LBUILD_CACHE_DIR / --cache-dir). warm: one untimed run
# fills the cache, then each timed run keeps it; lambda.lock (and uv's output) are deleted
# before every run, so both tools really resolve.
set -euo pipefail

N="${N:-3}"
MODES="${MODES:-cold warm}"
CMDS="${CMDS:-lb-default lb-simple lb-both uv}"
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_uv
bench_tmp pypi-lock-vs-uv

if [ -n "${WORKLOADS:-}" ]; then
    picked=()
    for w in $WORKLOADS; do picked+=("$workdir_in/$w.txt"); done
    workloads=("${picked[@]}")
fi

echo "lbuild: $LBUILD ($("$LBUILD" --version 2>&1))"
echo "uv:     $UV ($("$UV" --version 2>&1)), interpreter: ${UV_PY:-discovered by uv}"
echo "N=$N, modes: $MODES, commands: $CMDS"
echo

if [ -n "${LBUILD_BASE:-}" ]; then CMDS="base-default base-both $CMDS"; fi
python3 - "$tmp" "$LBUILD" "${LBUILD_BASE:-}" "$UV" "$N" "$MODES" "$CMDS" "${UV_PY:-}" "${workloads[@]}" <<'PY'
import os, re, shutil, statistics, subprocess, sys, time
tmp, lbuild, lbuild_base, uv, n, modes, cmds, uv_py, *workloads = sys.argv[1:]
n, modes, wanted = int(n), modes.split(), cmds.split()

base_env = {k: v for k, v in os.environ.items()
            if not (k.startswith("LBUILD_") or k.startswith("UV_") or k in ("PIP_INDEX_URL",))}
base_env["UV_PYTHON_DOWNLOADS"] = "never"

class Lbuild:
    kind = "lbuild"
    def __init__(self, name, ws, wl, index, archs, binary=lbuild):
        self.name, self.ws, self.binary = name, ws, binary
        os.makedirs(ws, exist_ok=True)
        shutil.copy(wl, os.path.join(ws, "requirements.txt"))
        index_line = f'index-url = "{index}"\n' if index else ""
        open(os.path.join(ws, "lambda.toml"), "w").write(
            f'[workspace]\nruntime = "python3.12"\narchitectures = {archs}\n{index_line}\n'
            f'[function.f]\nrequirements-file = "requirements.txt"\n')
    def prepare(self):
        try: os.remove(os.path.join(self.ws, "lambda.lock"))
        except FileNotFoundError: pass
    def argv(self, cache, verbose=False):
        return [self.binary, "-v" if verbose else "-q", "lock", "--manifest-path", os.path.join(self.ws, "lambda.toml")]
    def env(self, cache):
        return dict(base_env, LBUILD_CACHE_DIR=cache)

class Uv:
    kind = "uv"
    def __init__(self, name, ws, wl):
        self.name, self.ws = name, ws
        os.makedirs(ws, exist_ok=True)
        shutil.copy(wl, os.path.join(ws, "requirements.txt"))
        self.out = os.path.join(ws, "out.txt")
    def prepare(self):
        try: os.remove(self.out)
        except FileNotFoundError: pass
    def argv(self, cache, verbose=False):
        return [uv, "pip", "compile", "--no-config", "-v" if verbose else "-q", "--no-header", "--no-annotate",
                "--only-binary", ":all:", "--python-platform", "x86_64-manylinux_2_34",
                "--python-version", "3.12", *(["--python", uv_py] if uv_py else []),
                "--cache-dir", cache, "-o", self.out, os.path.join(self.ws, "requirements.txt")]
    def env(self, cache): return dict(base_env)

def run(cmd, cache, verbose=False):
    cmd.prepare()
    t0 = time.perf_counter()
    r = subprocess.run(cmd.argv(cache, verbose), env=cmd.env(cache), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{cmd.name} failed ({r.returncode}):\n{r.stderr}")
    return dt, r.stderr

results, counts = {}, {}
for wl in workloads:
    w = os.path.splitext(os.path.basename(wl))[0]
    wdir = os.path.join(tmp, w)
    every = {
        "lb-default": Lbuild("lb-default", os.path.join(wdir, "lb-default"), wl, None, '["x86_64"]'),
        "lb-json": Lbuild("lb-json", os.path.join(wdir, "lb-json"), wl, "https://pypi.org/pypi", '["x86_64"]'),
        "lb-simple": Lbuild("lb-simple", os.path.join(wdir, "lb-simple"), wl, "https://pypi.org/simple/", '["x86_64"]'),
        "lb-both": Lbuild("lb-both", os.path.join(wdir, "lb-both"), wl, None, '["x86_64", "arm64"]'),
        "uv": Uv("uv", os.path.join(wdir, "uv"), wl),
    }
    if lbuild_base:
        every["base-default"] = Lbuild("base-default", os.path.join(wdir, "base-default"), wl, None, '["x86_64"]', lbuild_base)
        every["base-both"] = Lbuild("base-both", os.path.join(wdir, "base-both"), wl, None, '["x86_64", "arm64"]', lbuild_base)
    cmds = [every[name] for name in wanted]
    for mode in modes:
        caches = {}
        if mode == "warm":
            for c in cmds:
                caches[c.name] = os.path.join(wdir, "cache-warm-" + c.name)
                shutil.rmtree(caches[c.name], ignore_errors=True); os.makedirs(caches[c.name])
                run(c, caches[c.name])
        for _ in range(n):
            for c in cmds:
                if mode == "cold":
                    cache = os.path.join(wdir, "cache-cold-" + c.name)
                    shutil.rmtree(cache, ignore_errors=True); os.makedirs(cache)
                else:
                    cache = caches[c.name]
                results.setdefault((w, mode, c.name), []).append(run(c, cache)[0])
    # One more run of each lbuild command with -v, cold then warm, to count requests and bytes.
    for c in cmds:
        if c.kind != "lbuild" or c.name.startswith("base"): continue
        cache = os.path.join(wdir, "cache-count-" + c.name)
        shutil.rmtree(cache, ignore_errors=True); os.makedirs(cache)
        for mode in ("cold", "warm"):
            _, log = run(c, cache, verbose=True)
            kinds = {"page": [0, 0], "metadata": [0, 0], "wheel": [0, 0], "revalidated": [0, 0]}
            for line in log.splitlines():
                m = re.search(r"^HTTP (\d+) (\S+): (\d+) bytes", line)
                if not m: continue
                status, url, size = int(m.group(1)), m.group(2), int(m.group(3))
                kind = "revalidated" if status == 304 else "metadata" if url.endswith(".metadata") \
                    else "wheel" if url.endswith(".whl") else "page"
                kinds[kind][0] += 1; kinds[kind][1] += size
            counts[(w, mode, c.name)] = kinds
    print(f"{w}: done", file=sys.stderr)

med = lambda xs: statistics.median(xs)
cell = lambda xs: f"{med(xs):5.2f} [{min(xs):.2f}-{max(xs):.2f}]"
print(f"medians in seconds over N={n} runs (min-max); ratio = lbuild / uv, both = lb-both / lb-default")
names = [c for c in wanted]
print(f"{'workload':8} {'mode':5} " + " ".join(f"{c:>18}" for c in names) + "  ratios")
for mode in modes:
    for wl in workloads:
        w = os.path.splitext(os.path.basename(wl))[0]
        r = {c: results[(w, mode, c)] for c in names}
        ratios = []
        if "uv" in r:
            ratios += [f"{c}/uv {med(r[c]) / med(r['uv']):.2f}" for c in names if c != "uv"]
        if "lb-both" in r and "lb-default" in r:
            ratios.append(f"both {med(r['lb-both']) / med(r['lb-default']):.2f}")
        if "base-both" in r and "base-default" in r:
            ratios.append(f"base both {med(r['base-both']) / med(r['base-default']):.2f}")
        print(f"{w:8} {mode:5} " + " ".join(f"{cell(r[c]):>18}" for c in names) + "  " + ", ".join(ratios))
print()
print("requests and bytes of one lbuild run with -v (count / MB), cold then warm on the same cache:")
for (w, mode, name), k in counts.items():
    print(f"  {w:8} {mode:5} {name:11} " + "  ".join(f"{kind} {c}/{b / 1e6:.2f}" for kind, (c, b) in k.items()))
PY
