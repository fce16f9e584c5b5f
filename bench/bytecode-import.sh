#!/usr/bin/env bash
# bytecode-import.sh: cold-import time with and without lbuild's bytecode. For each workload,
# build a python3.12 x86_64 function with `bytecode = false` and `bytecode = true` (real PyPI by
# default), and install the same requirements with `uv pip install --target` (without and with
# `--compile-bytecode`). Each tree is unzipped read-only; the median of N runs of
# `python3.12 -I -S -B -c 'import <top-level modules>'` is reported, with the bytes pycs add.
#
# usage: bench/bytecode-import.sh [WORKLOAD_DIR]      (default ../shared/workloads)
# environment: LBUILD (default target/release/lbuild), UV (uv), PY312 (a real python3.12,
#   default /root/.pyenv/versions/3.12.1/bin/python3.12), N (runs, default 15),
#   WORKLOADS (names to run, default "api"), KEEP_TMP=1.
set -euo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_uv
PY312="${PY312:-/root/.pyenv/versions/3.12.1/bin/python3.12}"
"$PY312" -c 'import sys; assert sys.version_info[:2] == (3, 12)' || { echo "$PY312 is not Python 3.12 (set PY312)" >&2; exit 2; }
N="${N:-15}"
WORKLOADS="${WORKLOADS:-api}"
bench_tmp bytecode-import

# The top-level importable names of an installed tree (packages and modules, not dist-info).
top_levels() {
    (cd "$1" && for entry in *; do
        case "$entry" in
            *.dist-info|*.data|__pycache__|bin|app.py) ;;
            *.py) echo "${entry%.py}" ;;
            *) [ -f "$entry/__init__.py" ] && echo "$entry" ;;
        esac
    done) | sort | paste -sd, -
}

# Median wall time (ms) of importing $2 from tree $1.
time_import() {
    local dir="$1" modules="$2"
    "$PY312" - "$dir" "$modules" "$N" <<'PY'
import statistics, subprocess, sys, time
tree, modules, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
code = "import sys; sys.path.insert(0, %r)\n" % tree
for name in modules.split(","):
    code += "try:\n    import %s\nexcept Exception:\n    pass\n" % name
times = []
for _ in range(n):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], check=True, cwd="/")
    times.append((time.perf_counter() - start) * 1000)
print("%.1f" % statistics.median(times))
PY
}

size_of() { du -sb "$1" | cut -f1; }

printf '%-8s %-22s %10s %12s\n' workload variant median_ms bytes
for name in $WORKLOADS; do
    reqs="$workdir_in/$name.txt"
    [ -f "$reqs" ] || { echo "no workload $reqs" >&2; exit 2; }
    declare -A trees=()
    for mode in false true; do
        ws="$tmp/$name-lbuild-$mode"
        mkdir -p "$ws/src"
        echo 'def handler(event, context): return 1' > "$ws/src/app.py"
        cp "$reqs" "$ws/requirements.txt"
        cat > "$ws/lambda.toml" <<TOML
[workspace]
runtime = "python3.12"
architectures = ["x86_64"]
bytecode = $mode

[function.fn]
source = "src"
handler = "app.handler"
requirements-file = "requirements.txt"
TOML
        (cd "$ws" && LBUILD_PYTHON="$PY312" "$LBUILD" -q build)
        mkdir -p "$ws/tree" && (cd "$ws/tree" && unzip -q ../target/lambda/functions/fn-python3.12-x86_64.zip)
        chmod -R a-w "$ws/tree"
        trees["lbuild-bytecode-$mode"]="$ws/tree"
    done
    for compile in no yes; do
        dir="$tmp/$name-uv-$compile"
        flags=()
        [ "$compile" = yes ] && flags=(--compile-bytecode)
        "$UV" pip install -q --python "$PY312" --python-platform x86_64-manylinux_2_34 --target "$dir" \
            "${flags[@]}" -r "$reqs"
        chmod -R a-w "$dir"
        trees["uv-target-compile-$compile"]="$dir"
    done
    modules="$(top_levels "${trees[lbuild-bytecode-false]}")"
    echo "# $name: importing $modules"
    for variant in lbuild-bytecode-false lbuild-bytecode-true uv-target-compile-no uv-target-compile-yes; do
        printf '%-8s %-22s %10s %12s\n' "$name" "$variant" "$(time_import "${trees[$variant]}" "$modules")" \
            "$(size_of "${trees[$variant]}")"
    done
    chmod -R u+w "$tmp"
    unset trees
done
