#!/usr/bin/env bash
# rebuild.sh: what the checks on cached files cost. For each workload, lock and fill the cache
# once, then time `lbuild build --frozen` with the output directory deleted before each run (every
# zip is written from cached wheels, which are hashed and whose entries are checked), and a no-op
# build, for one or two lbuild binaries, alternating them run by run, and print medians.
#
# usage: bench/rebuild.sh [WORKLOAD_DIR]
#   WORKLOAD_DIR   directory of *.txt requirement files (default ../shared/workloads)
# environment:
#   LBUILD         lbuild binary (default target/release/lbuild)
#   LBUILD_BASE    a second binary to compare with (e.g. one built from an earlier commit)
#   INDEX_URL      the index (default https://pypi.org/pypi, the real PyPI)
#   N              timed runs per binary and mode (default 7)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workloads_dir="${1:-$root/../shared/workloads}"
LBUILD="${LBUILD:-$root/target/release/lbuild}"
INDEX_URL="${INDEX_URL:-https://pypi.org/pypi}"
N="${N:-7}"
binaries=("$LBUILD")
[ -n "${LBUILD_BASE:-}" ] && binaries+=("$LBUILD_BASE")
tmp="$(mktemp -d /tmp/lbuild-rebuild.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
# BENCH_CACHE keeps the cache between runs (the first run downloads every wheel).
export LBUILD_CACHE_DIR="${BENCH_CACHE:-$tmp/cache}"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); N=$N; index $INDEX_URL"
for bin in "${binaries[@]}"; do echo "binary: $bin ($("$bin" --version))"; done

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for workload in "$workloads_dir"/*.txt; do
    name="$(basename "$workload" .txt)"
    # One workspace per binary: each locks in its own lock format, and reads only its own lock.
    declare -A ws=() full=() noop=()
    i=0
    for bin in "${binaries[@]}"; do
        i=$((i + 1))
        ws[$bin]="$tmp/$name-$i"
        mkdir -p "${ws[$bin]}"
        cp "$workload" "${ws[$bin]}/requirements.txt"
        # The same strip rules as build-vs-uv.sh, so that the data workload fits Lambda's 250 MB.
        printf '[workspace]\nruntime = "python3.12"\narchitectures = ["x86_64"]\nindex-url = "%s"\nstrip = ["**/tests/**", "pyarrow/include/**", "pyarrow/libarrow_flight.so*"]\n\n[function.f]\nrequirements-file = "requirements.txt"\n' \
            "$INDEX_URL" >"${ws[$bin]}/lambda.toml"
        "$bin" build -q --manifest-path "${ws[$bin]}/lambda.toml" >/dev/null
    done
    size="$(du -sh "$LBUILD_CACHE_DIR/wheels" | cut -f1)"
    for _ in $(seq "$N"); do
        for bin in "${binaries[@]}"; do
            rm -rf "${ws[$bin]}/target"
            start="$(now)"
            "$bin" build -q --frozen --manifest-path "${ws[$bin]}/lambda.toml"
            full[$bin]+="$(echo "$(now) - $start" | bc) "
            start="$(now)"
            "$bin" build -q --frozen --manifest-path "${ws[$bin]}/lambda.toml"
            noop[$bin]+="$(echo "$(now) - $start" | bc) "
        done
    done
    for bin in "${binaries[@]}"; do
        f="$(tr ' ' '\n' <<<"${full[$bin]}" | grep . | median)"
        o="$(tr ' ' '\n' <<<"${noop[$bin]}" | grep . | median)"
        zip_mb="$(du -m "${ws[$bin]}/target/lambda/functions/"*.zip | cut -f1)"
        printf '%-5s %s\n      rebuild %6.3f s   no-op %6.3f s   (zip %s MB, cache %s)\n' "$name" "$bin" "$f" "$o" "$zip_mb" "$size"
    done
    unset ws full noop
done
