#!/usr/bin/env bash
# compare-uv.sh: compare every pin lbuild writes to lambda.lock with what `uv pip compile` picks,
# per workload and Lambda target, against the configured index (by default the real PyPI).
#
# usage: bench/compare-uv.sh [WORKLOAD_DIR]
#   WORKLOAD_DIR   directory of *.txt requirement files (default: ../shared/workloads relative
#                  to the repository root)
# environment:
#   LBUILD         lbuild binary (default: target/release/lbuild under the repository root)
#   UV             uv binary (default: uv on PATH)
#   TARGETS        space-separated targets (default: the four below)
#   UV_PLATFORM_AL2  uv --python-platform suffix for python3.9-3.11 (glibc 2.26, Amazon Linux 2).
#                  uv offers no manylinux_2_26; the choices around it are manylinux_2_17 (what
#                  AWS's docs use, never yields a wheel AL2 cannot load) and manylinux_2_28 (too
#                  new: would accept manylinux_2_27/2_28 wheels that fail on AL2). Default:
#                  manylinux_2_17, the conservative comparison. Any difference then comes either
#                  from a manylinux_2_18..2_26 wheel that lbuild may rightly use, or from a bug.
#   UV_PLATFORM_AL2023  the same for python3.12+ (glibc 2.34; uv offers it exactly). Default
#                  manylinux_2_34.
#   KEEP_TMP=1     keep the temporary workspaces (their path is printed)
#   LBUILD_CACHE_DIR, UV_CACHE_DIR, LBUILD_INDEX_URL, UV_INDEX_URL are passed through.
#
# Output: per workload and target, the number of packages each tool pins, the number of pins that
# agree, every disagreement (name, lbuild version, uv version, lbuild's wheel or gap), and
# lbuild's vendoring gaps. A summary table ends the output. Exit status 0 even when pins differ
# (this is a report); non-zero only when the script itself fails.
set -euo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
TARGETS="${TARGETS:-python3.12-x86_64 python3.12-arm64 python3.11-x86_64 python3.11-arm64}"
UV_PLATFORM_AL2="${UV_PLATFORM_AL2:-manylinux_2_17}"
UV_PLATFORM_AL2023="${UV_PLATFORM_AL2023:-manylinux_2_34}"

# uv pip compile wants an interpreter even with --python-version; when none of that version is
# installed it would try to download one (slow, and fails offline); require_uv forbids that. uv
# then falls back to any interpreter, which does not change the resolution (--python-version and
# --python-platform decide).
require_uv
command -v python3 >/dev/null || { echo "python3 (>= 3.11, for tomllib) is needed" >&2; exit 2; }
python3 -c 'import tomllib' 2>/dev/null || { echo "python3 lacks tomllib (needs >= 3.11)" >&2; exit 2; }

bench_tmp compare-uv

echo "lbuild: $LBUILD ($("$LBUILD" --version 2>&1))"
echo "uv:     $UV ($("$UV" --version 2>&1))"
echo "uv platforms: python3.12+ -> <arch>-$UV_PLATFORM_AL2023, python3.9-3.11 -> <arch>-$UV_PLATFORM_AL2"
echo "workloads: ${workloads[*]}"
echo

# Which runtimes are needed, and which architectures for each.
declare -A archs_of=()
runtimes=()
for t in $TARGETS; do
    rt="${t%-*}"; arch="${t##*-}"
    case "$arch" in x86_64|arm64) ;; *) echo "bad target $t" >&2; exit 2;; esac
    [ -n "${archs_of[$rt]:-}" ] || runtimes+=("$rt")
    archs_of[$rt]="${archs_of[$rt]:-} $arch"
done

# Extract name/version/wheel-or-gap for one target from lambda.lock, as TSV.
extract_lock() { # LOCK TARGET
    python3 - "$1" "$2" <<'PY'
import re, sys, tomllib
lock, target = sys.argv[1], sys.argv[2]
d = tomllib.load(open(lock, "rb"))
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
for p in d.get("package", []):
    for t in p.get("target", []):
        if t.get("target") != target:
            continue
        name = norm(p["name"].split("[")[0])
        if "wheel" in t:
            what = "wheel\t" + t["wheel"]["filename"]
        elif "gap" in t:
            g = t["gap"]
            what = "gap\t%s: %s (sdist %s)" % (g.get("reason"), g.get("detail", ""), (g.get("sdist") or {}).get("filename", "none"))
        else:
            what = "?\t" + repr(t)
        print("%s\t%s\t%s" % (name, p["version"], what))
PY
}

summary="$tmp/summary.tsv"
: >"$summary"

for wl in "${workloads[@]}"; do
    wname="$(basename "$wl" .txt)"
    for rt in "${runtimes[@]}"; do
        ws="$tmp/$wname-$rt"
        mkdir -p "$ws"
        cp "$wl" "$ws/requirements.txt"
        arch_list=""
        for a in ${archs_of[$rt]}; do arch_list="$arch_list${arch_list:+, }\"$a\""; done
        cat >"$ws/lambda.toml" <<EOF
[workspace]
runtime = "$rt"
architectures = [$arch_list]

[function.$wname]
requirements-file = "requirements.txt"
EOF
        lock_ok=1
        if ! "$LBUILD" -q lock --manifest-path "$ws/lambda.toml" >"$ws/lbuild.out" 2>&1; then
            lock_ok=0
        fi
        for a in ${archs_of[$rt]}; do
            target="$rt-$a"
            pyver="${rt#python}"
            case "$pyver" in 3.9|3.10|3.11) plat="$UV_PLATFORM_AL2" ;; *) plat="$UV_PLATFORM_AL2023" ;; esac
            uvarch="$a"; [ "$a" = arm64 ] && uvarch=aarch64
            uvplat="$uvarch-$plat"

            if [ "$lock_ok" = 1 ]; then
                extract_lock "$ws/lambda.lock" "$target" >"$ws/lbuild-$target.tsv"
            else
                : >"$ws/lbuild-$target.tsv"
            fi
            uv_ok=1
            if ! "$UV" pip compile --no-config -q --no-header --no-annotate --only-binary :all: \
                    --python-platform "$uvplat" --python-version "$pyver" \
                    "$ws/requirements.txt" >"$ws/uv-$target.txt" 2>"$ws/uv-$target.err"; then
                uv_ok=0
            fi

            echo "=== $wname / $target (uv --python-platform $uvplat --python-version $pyver)"
            [ "$lock_ok" = 1 ] || { echo "  lbuild lock FAILED:"; sed 's/^/    /' "$ws/lbuild.out"; }
            [ "$uv_ok" = 1 ] || { echo "  uv pip compile FAILED:"; sed 's/^/    /' "$ws/uv-$target.err"; }
            python3 - "$ws/lbuild-$target.tsv" "$ws/uv-$target.txt" "$wname" "$target" "$summary" <<'PY'
import re, sys
lb_path, uv_path, wname, target, summary = sys.argv[1:]
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
lb = {}
for line in open(lb_path):
    name, ver, kind, what = line.rstrip("\n").split("\t", 3)
    lb[name] = (ver, kind, what)
uv = {}
for line in open(uv_path):
    line = line.split("#")[0].strip()
    if "==" not in line or line.startswith("-"):
        continue
    name, ver = line.split("==", 1)
    uv[norm(name.split("[")[0].strip())] = ver.split(";")[0].strip()
names = sorted(set(lb) | set(uv))
agree = [n for n in names if n in lb and n in uv and lb[n][0] == uv[n]]
diff = [n for n in names if n not in agree]
gaps = [n for n in sorted(lb) if lb[n][1] == "gap"]
print(f"  packages: lbuild {len(lb)}, uv {len(uv)}, union {len(names)}; agree {len(agree)}; disagree {len(diff)}")
for n in diff:
    lv = lb[n][0] if n in lb else "-"
    uvv = uv.get(n, "-")
    extra = f"   [lbuild {lb[n][1]}: {lb[n][2]}]" if n in lb else ""
    print(f"  DIFF {n}: lbuild {lv}  uv {uvv}{extra}")
for n in gaps:
    print(f"  GAP  {n} {lb[n][0]}: {lb[n][2]}")
with open(summary, "a") as f:
    f.write(f"{wname}\t{target}\t{len(lb)}\t{len(uv)}\t{len(agree)}\t{len(diff)}\t{len(gaps)}\n")
PY
        done
    done
done

echo
echo "=== summary"
printf '%-8s %-18s %7s %4s %6s %9s %5s\n' workload target lbuild uv agree disagree gaps
sort "$summary" | while IFS=$'\t' read -r w t l u a d g; do
    printf '%-8s %-18s %7s %4s %6s %9s %5s\n' "$w" "$t" "$l" "$u" "$a" "$d" "$g"
done
