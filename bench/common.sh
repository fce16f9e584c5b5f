# common.sh: what the benchmark scripts share. Sourced (not run) after `set -euo pipefail`, with
# the script's arguments; it sets `root`, `workdir_in`, `workloads`, `LBUILD`, `UV`, `UV_PY` /
# `uv_py_args`, and defines the helpers below.
#
# Helpers:
#   bench_tmp NAME        a temporary directory in `tmp`, removed at exit (KEEP_TMP=1 keeps it);
#                         background processes whose pids are added to `pids` are killed at exit
#   free_port             a free TCP port on 127.0.0.1
#   wait_for URL          wait up to 10 s for a server to answer
#   mirror_python         set MIRROR_PYTHON to a Python with dumb-pypi and packaging
#   build_mirror PORT     pin every workload with uv (python3.12 x86_64) and build the static
#                         mirror for PORT in MIRROR_DIR with ../shared/bench/mirror_build.py

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workdir_in="${1:-$root/../shared/workloads}"
LBUILD="${LBUILD:-$root/target/release/lbuild}"
UV="${UV:-uv}"
MIRROR_DIR="${MIRROR_DIR:-/tmp/lbuild-bench-mirror}"
BENCH_SHARED="${BENCH_SHARED:-$root/../shared/bench}"
SERVE_FLAGS="${SERVE_FLAGS:-}"

command -v "$LBUILD" >/dev/null || { echo "lbuild not found: $LBUILD (set LBUILD)" >&2; exit 2; }
LBUILD="$(command -v "$LBUILD")"

shopt -s nullglob
workloads=("$workdir_in"/*.txt)
shopt -u nullglob
[ "${#workloads[@]}" -gt 0 ] || { echo "no *.txt workloads in $workdir_in" >&2; exit 2; }

require_uv() {
    command -v "$UV" >/dev/null || { echo "uv not found: $UV (set UV)" >&2; exit 2; }
    UV="$(command -v "$UV")"
    # uv pip compile/install want an interpreter even with --python-version. A pyenv shim for a
    # version that is not selected fails slowly, and uv then tries to download a managed
    # Python; give it a real one.
    export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"
    if [ -z "${UV_PY:-}" ]; then
        for cand in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
            if real="$("$cand" -c 'import sys; print(sys.executable)' 2>/dev/null)" && [ -n "$real" ]; then
                UV_PY="$real"; break
            fi
        done
    fi
    uv_py_args=()
    if [ -n "${UV_PY:-}" ]; then uv_py_args=(--python "$UV_PY"); fi
}

bench_tmp() {
    tmp="$(mktemp -d "/tmp/$1.XXXXXX")"
    pids=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for() {
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server at $1 did not answer" >&2; return 1
}

mirror_python() {
    [ -f "$BENCH_SHARED/mirror_build.py" ] && [ -f "$BENCH_SHARED/serve_mirror.py" ] \
        || { echo "mirror_build.py / serve_mirror.py not found in $BENCH_SHARED" >&2; exit 2; }
    if [ -z "${MIRROR_PYTHON:-}" ]; then
        MIRROR_PYTHON=/tmp/lbuild-bench-venv/bin/python
        if ! "$MIRROR_PYTHON" -c 'import packaging, dumb_pypi' 2>/dev/null; then
            echo "creating /tmp/lbuild-bench-venv (dumb-pypi, packaging)" >&2
            python3 -m venv /tmp/lbuild-bench-venv
            /tmp/lbuild-bench-venv/bin/pip install -q dumb-pypi packaging
        fi
    fi
}

build_mirror() {
    # 1. Pins: uv against the configured upstream index (the real PyPI by default).
    mkdir -p "$MIRROR_DIR/pins"
    rm -f "$MIRROR_DIR"/pins/*.txt
    for wl in "${workloads[@]}"; do
        w="$(basename "$wl" .txt)"
        "$UV" pip compile --no-config -q --no-header --no-annotate --only-binary :all: \
            --python-platform x86_64-manylinux_2_34 --python-version 3.12 "${uv_py_args[@]}" \
            "$wl" >"$MIRROR_DIR/pins/$w-python3.12-x86_64.txt"
    done
    # 2. The mirror (existing good wheels are kept; the pages are regenerated for this port).
    rm -rf "$MIRROR_DIR/www"
    "$MIRROR_PYTHON" "$BENCH_SHARED/mirror_build.py" "$MIRROR_DIR" "$1" "$MIRROR_DIR"/pins/*.txt \
        >"$tmp/mirror_build.log" 2>&1 || { cat "$tmp/mirror_build.log" >&2; exit 1; }
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("mirror: %d projects, %d pins, %d wheels, %.0f MB; coverage problems: %s" % (s["projects"], s["pins"], s["wheels"], s["wheel_bytes"]/1e6, s["coverage_problems"] or "none"))' "$MIRROR_DIR/summary.json"
}
