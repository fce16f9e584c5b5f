#!/usr/bin/env bash
# check-imports.sh: build every workload with lbuild against the configured index (the real PyPI
# by default) for python3.11 on x86_64 and arm64, then check that the zips work:
#
#   1. x86_64 function zip: unzip it and import every top-level module it holds with this
#      machine's own Python 3.11 (`python3.11 -I -S -B`: sys.path = the unzipped dir + the
#      stdlib; -S because a .pth in site-packages may import modules, e.g. certifi, before the
#      test runs), one subprocess per module; a module found outside the unzipped dir fails; check importlib.metadata.version() for every
#      .dist-info; check every file each .dist-info/RECORD lists is in the zip with its hash
#      (NAME.data/purelib|platlib|data mapped to the root, scripts/headers expected absent).
#   2. every zip (both architectures): every .so / .so.N is an ELF of the zip's architecture
#      (e_machine 183 = aarch64 for arm64, 62 = x86_64), CPython extension tags are cp311, and no
#      .so needs a GLIBC_ symbol version newer than the runtime's glibc (2.26 on python3.9-3.11,
#      2.34 on python3.12+; `readelf -V`), which this machine's newer glibc would not catch.
#   3. every zip: every entry dated 1980-01-01 00:00:00, modes 0100644/0100755 for files and
#      040755 for directories, CRCs good, no duplicates, entries sorted, manifest.json's sha256 and
#      size match the file.
#   4. no-op rebuild: `lbuild build` again on one workload, NOOP_N times, wall time of each, and
#      the zips and manifest must not be rewritten.
#
# usage: bench/check-imports.sh [WORKLOAD_DIR]
#   WORKLOAD_DIR   directory of *.txt requirement files (default ../shared/workloads relative to
#                  the repository root)
# environment:
#   LBUILD         lbuild binary (default target/release/lbuild under the repository root)
#   PY311          Python 3.11 used for the imports (default: the real interpreter behind
#                  `python3.11`, resolved through sys.executable so a pyenv shim is not timed)
#   NOOP_WORKLOAD  workload whose no-op rebuild is timed (default data)
#   NOOP_N         timed no-op rebuilds (default 10)
#   STRIP_IF_OVERSIZE  a glob for `[workspace] strip` used to rebuild a workload whose build fails
#                  Lambda's 250 MB unzipped limit (default `**/tests/**`; empty: no retry). The
#                  RECORD check then expects the files it matches to be absent.
#   LBUILD_CACHE_DIR, LBUILD_INDEX_URL are passed through to lbuild.
#   KEEP_TMP=1     keep the temporary workspaces and unzipped trees (the path is printed)
#
# Exit status: 0 when every check passed, 1 when any failed (the failures are listed), 2 when the
# script could not run.
set -euo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
NOOP_WORKLOAD="${NOOP_WORKLOAD:-data}"
NOOP_N="${NOOP_N:-10}"
STRIP_IF_OVERSIZE="${STRIP_IF_OVERSIZE-**/tests/**}"

if [ -z "${PY311:-}" ]; then
    PY311="$(python3.11 -c 'import sys; print(sys.executable)' 2>/dev/null)" \
        || { echo "python3.11 not found (set PY311)" >&2; exit 2; }
fi
"$PY311" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || { echo "$PY311 is not Python 3.11" >&2; exit 2; }
python3 -c 'import tomllib' 2>/dev/null || { echo "python3 (>= 3.11, for tomllib) is needed" >&2; exit 2; }
command -v unzip >/dev/null || { echo "unzip is needed (apt-get install unzip)" >&2; exit 2; }

bench_tmp check-imports

echo "lbuild: $LBUILD ($("$LBUILD" --version 2>&1))"
echo "python: $PY311 ($("$PY311" -c 'import sys, platform; print(sys.version.split()[0], platform.machine(), "glibc", platform.libc_ver()[1])'))"
echo "index:  ${LBUILD_INDEX_URL:-default of lambda.toml (https://pypi.org/pypi)}, cache: ${LBUILD_CACHE_DIR:-lbuild default}"
echo "workloads: ${workloads[*]}"
echo

# 1. Build each workload.
for wl in "${workloads[@]}"; do
    w="$(basename "$wl" .txt)"
    ws="$tmp/$w"
    mkdir -p "$ws/src"
    cp "$wl" "$ws/requirements.txt"
    cat >"$ws/src/app.py" <<'EOF'
def handler(event, context):
    return {"statusCode": 200, "body": "ok"}
EOF
    cat >"$ws/lambda.toml" <<EOF
[workspace]
runtime = "python3.11"
architectures = ["x86_64", "arm64"]

[function.f]
source = "src"
handler = "app.handler"
requirements-file = "requirements.txt"
EOF
    t0=$(date +%s.%N)
    if ! "$LBUILD" build --manifest-path "$ws/lambda.toml" >"$ws/build.log" 2>&1; then
        if [ -n "$STRIP_IF_OVERSIZE" ] && grep -q "over Lambda's limit" "$ws/build.log"; then
            echo "=== $w: over Lambda's size limit; rebuilding with strip = [\"$STRIP_IF_OVERSIZE\"]:"
            sed 's/^/    /' "$ws/build.log"
            sed -i "/^architectures = /a strip = [\"$STRIP_IF_OVERSIZE\"]" "$ws/lambda.toml"
            echo "$STRIP_IF_OVERSIZE" >"$ws/STRIPPED"
            t0=$(date +%s.%N)
        fi
        if [ ! -e "$ws/STRIPPED" ] || ! "$LBUILD" build --manifest-path "$ws/lambda.toml" >"$ws/build.log" 2>&1; then
            echo "=== $w: lbuild build FAILED"; sed 's/^/    /' "$ws/build.log"
            touch "$ws/FAILED"
            continue
        fi
    fi
    t1=$(date +%s.%N)
    printf '=== %s: built in %.2f s (load %s)\n' "$w" "$(echo "$t1 - $t0" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    sed 's/^/    /' "$ws/build.log"
done
echo

# 2. Check the zips.
status=0
python3 - "$tmp" "$PY311" "${workloads[@]}" <<'PY' || status=$?
import base64, csv, email.parser, hashlib, io, json, os, re, shutil, stat, struct, subprocess, sys, tomllib, zipfile
tmp, py311, *workloads = sys.argv[1:]
norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
problems = []          # (workload, text) of every failed check
summary = []

IMPORT = r'''
import sys, importlib, os, traceback
d, mod = sys.argv[1], sys.argv[2]
sys.path[:] = [d] + [p for p in sys.path if p and "site-packages" not in p and "dist-packages" not in p]
try:
    m = importlib.import_module(mod)
except BaseException as e:
    print((traceback.format_exception_only(type(e), e) or ["?"])[-1].strip())
    sys.exit(1)
where = [getattr(m, "__file__", None)] + list(getattr(m, "__path__", []) or [])
where = [os.path.realpath(w) for w in where if w]
if not any(w.startswith(os.path.realpath(d) + os.sep) for w in where):
    print(f"imported from outside the zip: {where}")
    sys.exit(1)
'''
VERSIONS = r'''
import sys, importlib.metadata as md, json
d = sys.argv[1]
sys.path[:] = [d] + [p for p in sys.path if p and "site-packages" not in p and "dist-packages" not in p]
out = {}
for name, want in json.loads(sys.argv[2]).items():
    try:
        got = md.version(name)
        out[name] = None if got == want else f"version() = {got!r}, METADATA says {want!r}"
    except BaseException as e:
        out[name] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
'''
ELF_MACHINE = {62: "x86_64", 183: "aarch64", 3: "i386", 40: "arm"}
WANT_MACHINE = {"x86_64": 62, "arm64": 183}

def glob_re(g):
    out, i = "", 0
    while i < len(g):
        if g.startswith("**/", i): out += "(?:.*/)?"; i += 3
        elif g.startswith("**", i): out += ".*"; i += 2
        elif g[i] == "*": out += "[^/]*"; i += 1
        elif g[i] == "?": out += "[^/]"; i += 1
        else: out += re.escape(g[i]); i += 1
    return re.compile(out + "$")

def record_path(p, distinfo_names):
    """Where an installer puts a RECORD path in the zip root, or None if it is dropped."""
    m = re.match(r"^([^/]+\.data)/([^/]+)/(.*)$", p)
    if m:
        kind, rest = m.group(2), m.group(3)
        return rest if kind in ("purelib", "platlib", "data") else None
    return p

def check_zip_format(w, zpath, arch, manifest_entry):
    """Timestamps, modes, CRCs, ordering, duplicates, ELF machines, ABI tags."""
    out = {"entries": 0, "bad_time": [], "bad_mode": [], "so": 0, "so_wrong": [], "abi_wrong": [], "glibc_max": (0, 0),
           "glibc_wrong": []}
    glibc_limit = (2, 26) if manifest_entry and manifest_entry["runtime"] in ("python3.9", "python3.10", "python3.11") else (2, 34)
    data = open(zpath, "rb").read()
    if manifest_entry:
        if hashlib.sha256(data).hexdigest() != manifest_entry["sha256"]:
            problems.append((w, f"{os.path.basename(zpath)}: sha256 differs from manifest.json"))
        if len(data) != manifest_entry["size"]:
            problems.append((w, f"{os.path.basename(zpath)}: size differs from manifest.json"))
        if base64.b64encode(hashlib.sha256(data).digest()).decode() != manifest_entry["base64_sha256"]:
            problems.append((w, f"{os.path.basename(zpath)}: base64_sha256 differs from manifest.json"))
    z = zipfile.ZipFile(io.BytesIO(data))
    infos = z.infolist()
    names = [i.filename for i in infos]
    out["entries"] = len(infos)
    if len(set(names)) != len(names):
        problems.append((w, f"{os.path.basename(zpath)}: duplicate entries"))
    if names != sorted(names):
        problems.append((w, f"{os.path.basename(zpath)}: entries not sorted"))
    unz = 0
    for i in infos:
        unz += i.file_size
        if i.date_time != (1980, 1, 1, 0, 0, 0):
            out["bad_time"].append(f"{i.filename} {i.date_time}")
        mode = i.external_attr >> 16
        ok = mode == 0o40755 if i.is_dir() else mode in (0o100644, 0o100755)
        if not ok:
            out["bad_mode"].append(f"{i.filename} {oct(mode)}")
        if i.extra or i.comment or (i.flag_bits & 0x08):
            problems.append((w, f"{os.path.basename(zpath)}: {i.filename} has extra field/comment/data descriptor"))
        base = i.filename.rsplit("/", 1)[-1]
        if not i.is_dir() and re.search(r"\.so(\.|$)", base):
            out["so"] += 1
            head = z.open(i).read(20)
            if head[:4] != b"\x7fELF":
                out["so_wrong"].append(f"{i.filename}: not an ELF file")
            else:
                machine = struct.unpack("<H" if head[5] == 1 else ">H", head[18:20])[0]
                if machine != WANT_MACHINE[arch]:
                    out["so_wrong"].append(f"{i.filename}: e_machine {machine} ({ELF_MACHINE.get(machine, '?')})")
            if head[:4] == b"\x7fELF":
                with open(os.path.join(tmp, "elf.tmp"), "wb") as fh:
                    fh.write(z.read(i))
                rv = subprocess.run(["readelf", "-V", "-W", os.path.join(tmp, "elf.tmp")], capture_output=True, text=True).stdout
                need = [tuple(map(int, v.split("."))) for v in re.findall(r"Name: GLIBC_(\d+\.\d+(?:\.\d+)?)", rv)]
                need = [v[:2] for v in need]
                if need:
                    mx = max(need)
                    out["glibc_max"] = max(out["glibc_max"], mx)
                    if mx > glibc_limit:
                        out["glibc_wrong"].append(f"{i.filename} needs GLIBC_{mx[0]}.{mx[1]} > {glibc_limit[0]}.{glibc_limit[1]}")
            m = re.search(r"\.cpython-(\d+)-([a-z0-9_]+)-linux-gnu\.so$", base)
            if m and (m.group(1) != "311" or m.group(2) != {"x86_64": "x86_64", "arm64": "aarch64"}[arch]):
                out["abi_wrong"].append(i.filename)
    if manifest_entry and unz != manifest_entry["unzipped_size"]:
        problems.append((w, f"{os.path.basename(zpath)}: unzipped_size {manifest_entry['unzipped_size']} != {unz}"))
    bad = z.testzip()
    if bad:
        problems.append((w, f"{os.path.basename(zpath)}: bad CRC in {bad}"))
    # every parent directory has its own entry
    dirs = {n for n in names if n.endswith("/")}
    missing_dirs = set()
    for n in names:
        parts = n.rstrip("/").split("/")[:-1]
        for k in range(1, len(parts) + 1):
            dd = "/".join(parts[:k]) + "/"
            if dd not in dirs:
                missing_dirs.add(dd)
    if missing_dirs:
        problems.append((w, f"{os.path.basename(zpath)}: {len(missing_dirs)} directories without an entry, e.g. {sorted(missing_dirs)[:3]}"))
    out["glibc_limit"] = glibc_limit
    for k, label in (("bad_time", "timestamp"), ("bad_mode", "mode"), ("so_wrong", "ELF machine"), ("abi_wrong", "CPython ABI tag"),
                     ("glibc_wrong", "glibc symbol version")):
        for x in out[k]:
            problems.append((w, f"{os.path.basename(zpath)}: wrong {label}: {x}"))
    return out, z

def import_checks(w, z, zname, lock_count):
    root = os.path.join(tmp, w, "unzipped")
    shutil.rmtree(root, ignore_errors=True)
    z.extractall(root)
    # Executable bits as in the zip (zipfile.extractall drops them; imports do not need them).
    tops = sorted(os.listdir(root))
    modules, skipped, other = [], [], []
    for t in tops:
        p = os.path.join(root, t)
        if os.path.isdir(p):
            if t.endswith(".dist-info"):
                continue  # checked below
            if t.endswith(".data"):
                skipped.append((t, "a .data directory left in the zip: an installer maps it away (PACKAGING BUG)"))
                problems.append((w, f"{zname}: {t}/ present"))
                continue
            if t == "__pycache__":
                skipped.append((t, "bytecode cache")); continue
            if t == "bin":
                skipped.append((t, "console scripts, not modules")); continue
            if os.path.exists(os.path.join(p, "__init__.py")) or any(
                    f.startswith("__init__.") and f.endswith(".so") for f in os.listdir(p)):
                if t.isidentifier():
                    modules.append((t, "package"))
                else:
                    skipped.append((t, "package dir whose name is not an identifier"))
                continue
            if t.endswith(".libs") and not any(f.endswith(".py") for _, _, fs in os.walk(p) for f in fs):
                skipped.append((t, "auditwheel's bundled shared libraries (" + ", ".join(sorted(os.listdir(p))[:4])
                                   + (", ..." if len(os.listdir(p)) > 4 else "") + "), not a module"))
                continue
            has_py = any(f.endswith((".py", ".so")) for _, _, fs in os.walk(p) for f in fs)
            if not has_py:
                kinds = sorted({os.path.splitext(f)[1] or f for _, _, fs in os.walk(p) for f in fs})[:6]
                skipped.append((t, f"no .py/.so inside (files: {', '.join(kinds) or 'none'}); "
                                   + ("auditwheel's bundled shared libraries" if t.endswith(".libs") else "not a module")))
                continue
            if not t.isidentifier():
                skipped.append((t, "dir with Python files whose name is not an identifier")); continue
            modules.append((t, "namespace"))
            for c in sorted(os.listdir(p)):
                cp = os.path.join(p, c)
                if os.path.isdir(cp) and c.isidentifier() and c != "__pycache__":
                    modules.append((f"{t}.{c}", "namespace child"))
                elif c.endswith(".py") and c[:-3].isidentifier():
                    modules.append((f"{t}.{c[:-3]}", "namespace child"))
        else:
            if t.endswith(".py"):
                modules.append((t[:-3], "module"))
            elif re.search(r"\.so$", t):
                name = t.split(".")[0]
                if name not in [m for m, _ in modules]:
                    modules.append((name, "extension"))
            else:
                other.append(t)
    # dedupe (foo.py + foo.cpython-311-x86_64-linux-gnu.so)
    seen, uniq = set(), []
    for m, k in modules:
        if m not in seen:
            seen.add(m); uniq.append((m, k))
    modules = uniq

    ok, failed = [], []
    for m, kind in modules:
        try:
            r = subprocess.run([py311, "-I", "-S", "-B", "-c", IMPORT, root, m], capture_output=True, text=True,
                               timeout=180, cwd=os.path.join(tmp, w, "empty"))
            msg = (r.stdout.strip().splitlines() or r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
            rc = r.returncode
        except subprocess.TimeoutExpired:
            rc, msg = 1, "timeout after 180 s"
        if rc == 0:
            ok.append(m)
        else:
            failed.append((m, kind, msg))

    # dist-info: versions and RECORD
    dists = {}
    record_problems = []
    claimed = set()
    stripf = os.path.join(tmp, w, "STRIPPED")
    strip_re = glob_re(open(stripf).read().strip()) if os.path.exists(stripf) else None
    stripped = 0
    for t in tops:
        if not t.endswith(".dist-info"):
            continue
        meta = os.path.join(root, t, "METADATA")
        if not os.path.exists(meta):
            record_problems.append(f"{t}: no METADATA"); continue
        msg = email.parser.Parser().parse(open(meta, encoding="utf-8", errors="replace"), headersonly=True)
        dists[msg["Name"]] = msg["Version"]
        rec = os.path.join(root, t, "RECORD")
        if not os.path.exists(rec):
            record_problems.append(f"{t}: no RECORD"); continue
        for row in csv.reader(open(rec, encoding="utf-8", newline="")):
            if not row or not row[0]:
                continue
            path, h = row[0], (row[1] if len(row) > 1 else "")
            dest = record_path(path, None)
            if dest is None:
                if os.path.exists(os.path.join(root, path.split("/", 1)[0])):
                    record_problems.append(f"{t}: {path}: .data scripts/headers dir present")
                continue
            if dest.startswith("../") or dest.startswith("/"):
                record_problems.append(f"{t}: {path}: outside the install root"); continue
            claimed.add(dest)
            fp = os.path.join(root, dest)
            if strip_re and strip_re.match(dest) and not dest.split("/")[0].endswith(".dist-info"):
                stripped += 1
                if os.path.exists(fp):
                    record_problems.append(f"{t}: {dest}: matches the strip glob but is in the zip")
                continue
            if not os.path.isfile(fp):
                if path.endswith(".pyc"):
                    continue  # compiled at install time by some installers; never in a wheel
                record_problems.append(f"{t}: {path} -> {dest}: MISSING from the zip"); continue
            if h.startswith("sha256="):
                digest = base64.urlsafe_b64encode(hashlib.sha256(open(fp, "rb").read()).digest()).rstrip(b"=").decode()
                if digest != h[7:]:
                    record_problems.append(f"{t}: {dest}: content hash differs from RECORD")
    # files in the zip no RECORD claims (besides the function's own app.py)
    unclaimed = []
    for d, _, fs in os.walk(root):
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel not in claimed and rel != "app.py":
                unclaimed.append(rel)
    r = subprocess.run([py311, "-I", "-S", "-B", "-c", VERSIONS, root, json.dumps(dists)], capture_output=True, text=True,
                       cwd=os.path.join(tmp, w, "empty"))
    vres = json.loads(r.stdout) if r.returncode == 0 else {n: r.stderr.strip().splitlines()[-1] for n in dists}
    vbad = {n: e for n, e in vres.items() if e}
    return dict(tops=tops, modules=modules, ok=ok, failed=failed, skipped=skipped, other=other,
                dists=dists, vbad=vbad, record_problems=record_problems, unclaimed=unclaimed,
                stripped=stripped, strip=strip_re.pattern if strip_re else None)

for wl in workloads:
    w = os.path.splitext(os.path.basename(wl))[0]
    ws = os.path.join(tmp, w)
    os.makedirs(os.path.join(ws, "empty"), exist_ok=True)
    print(f"=================== {w}")
    if os.path.exists(os.path.join(ws, "FAILED")):
        problems.append((w, "lbuild build failed"))
        summary.append((w, "-", "build failed", "", "", "", "", "", ""))
        continue
    out = os.path.join(ws, "target", "lambda")
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    lock = tomllib.load(open(os.path.join(ws, "lambda.lock"), "rb"))
    per_target = {}
    for p in lock["package"]:
        for t in p.get("target", []):
            per_target.setdefault(t["target"], []).append((p["name"], p["version"], "wheel" in t))
    arm = {"so": 0, "wrong": 0}
    fmt_lines = []
    x86 = None
    for a in manifest["artifacts"]:
        zpath = os.path.join(out, a["path"])
        f, z = check_zip_format(w, zpath, a["architecture"], a)
        fmt_lines.append(f"  {a['path']}: {f['entries']} entries, {a['size']:,} B ({a['unzipped_size']:,} B unzipped); "
                         f"timestamps not 1980-01-01: {len(f['bad_time'])}; modes not 0644/0755/040755: {len(f['bad_mode'])}; "
                         f".so files {f['so']}, wrong machine {len(f['so_wrong'])}, wrong cpython tag {len(f['abi_wrong'])}; "
                         f"newest GLIBC_ symbol needed {f['glibc_max'][0]}.{f['glibc_max'][1]} (target glibc "
                         f"{f['glibc_limit'][0]}.{f['glibc_limit'][1]}), over it: {len(f['glibc_wrong'])}")
        for k in ("bad_time", "bad_mode", "so_wrong", "abi_wrong", "glibc_wrong"):
            for x in f[k][:20]:
                fmt_lines.append(f"      {k}: {x}")
        if a["architecture"] == "arm64":
            arm["so"] += f["so"]; arm["wrong"] += len(f["so_wrong"])
        if a["kind"] == "function" and a["architecture"] == "x86_64" and a["runtime"] == "python3.11":
            x86 = (z, a["path"])
    print("zips:")
    print("\n".join(fmt_lines))
    gaps = [n for n, v, has in per_target.get("python3.11-x86_64", []) if not has]
    npk = len(per_target.get("python3.11-x86_64", []))
    if x86 is None:
        problems.append((w, "no python3.11 x86_64 function zip in manifest.json"))
        continue
    r = import_checks(w, x86[0], x86[1], npk)
    print(f"python3.11-x86_64: {npk} packages in lambda.lock ({len(gaps)} gaps{': ' + ', '.join(gaps) if gaps else ''}), "
          f"{len(r['dists'])} .dist-info dirs in the zip")
    if len(r["dists"]) != npk - len(gaps):
        problems.append((w, f"{len(r['dists'])} .dist-info dirs but {npk - len(gaps)} packages locked with wheels"))
        locked = {norm(n) for n, v, has in per_target["python3.11-x86_64"] if has}
        print("  locked but no .dist-info:", sorted(locked - {norm(n) for n in r["dists"]}))
    print(f"modules ({len(r['modules'])}): " + ", ".join(m if k != "namespace" else m + " (namespace)" for m, k in r["modules"]))
    for m, why in r["skipped"]:
        print(f"  skipped {m}: {why}")
    if r["other"]:
        print(f"  top-level files that are not modules: {', '.join(r['other'])}")
    print(f"imports: {len(r['ok'])} ok, {len(r['failed'])} failed")
    for m, kind, msg in r["failed"]:
        print(f"  FAIL import {m} ({kind}): {msg}")
        problems.append((w, f"import {m}: {msg}"))
    print(f"importlib.metadata.version(): {len(r['dists']) - len(r['vbad'])}/{len(r['dists'])} ok")
    for n, e in r["vbad"].items():
        print(f"  FAIL version({n!r}): {e}")
        problems.append((w, f"version({n}): {e}"))
    print(f"RECORD check: {len(r['record_problems'])} problems; files in the zip no RECORD lists: {len(r['unclaimed'])}"
          + (f"; {r['stripped']} RECORD files absent as expected (strip regex {r['strip']})" if r["strip"] else ""))
    for x in r["record_problems"][:40]:
        print(f"  {x}")
        problems.append((w, "RECORD: " + x))
    for x in r["unclaimed"][:20]:
        print(f"  unlisted: {x}")
    summary.append((w, npk, len(r["ok"]), len(r["failed"]), len(r["dists"]) - len(r["vbad"]), len(r["dists"]),
                    arm["so"], arm["wrong"], f"strip {r['strip']}" if r["strip"] else ""))
    print()

print("=================== summary (python3.11; imports and versions from the x86_64 function zip, .so check over the arm64 zips)")
print(f"{'workload':9} {'packages':>8} {'imports ok':>10} {'failed':>6} {'versions ok':>11} {'arm64 .so':>9} {'wrong':>5}")
for w, npk, ok, fail, vok, vtot, so, wrong, note in summary:
    if ok == "build failed":
        print(f"{w:9} build failed"); continue
    print(f"{w:9} {npk:>8} {ok:>10} {fail:>6} {f'{vok}/{vtot}':>11} {so:>9} {wrong:>5}  {note}")
print()
if problems:
    print(f"{len(problems)} problem(s):")
    for w, x in problems:
        print(f"  {w}: {x}")
    sys.exit(1)
print("no problems")
PY

# 3. No-op rebuild.
ws="$tmp/$NOOP_WORKLOAD"
if [ -f "$ws/lambda.toml" ] && [ ! -e "$ws/FAILED" ]; then
    echo
    python3 - "$LBUILD" "$ws" "$NOOP_N" <<'PY' || status=1
import os, statistics, subprocess, sys, time, glob
lbuild, ws, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = os.path.join(ws, "target", "lambda")
files = sorted(glob.glob(os.path.join(out, "**", "*.zip"), recursive=True)) + [os.path.join(out, "manifest.json"),
                                                                              os.path.join(ws, "lambda.lock")]
argv = [lbuild, "build", "--manifest-path", os.path.join(ws, "lambda.toml")]
subprocess.run(argv, check=True, capture_output=True)       # the second run of the workspace
before = {f: os.stat(f).st_mtime_ns for f in files}
load0 = os.getloadavg()
times = []
for _ in range(n):
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True)
    times.append((time.perf_counter() - t0) * 1000)
    assert r.returncode == 0, r.stderr
last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
rewritten = [os.path.relpath(f, ws) for f in files if os.stat(f).st_mtime_ns != before[f]]
print(f"no-op rebuild of {os.path.basename(ws)} (`lbuild build`, unchanged workspace), N={n}: "
      f"median {statistics.median(times):.1f} ms, min {min(times):.1f}, max {max(times):.1f} ms")
print(f"  runs (ms): {' '.join(f'{t:.1f}' for t in times)}")
print(f"  load average before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
print(f"  last run said: {last}")
print(f"  files rewritten by the no-op runs: {rewritten or 'none'}")
if rewritten:
    sys.exit(1)
PY
fi
exit "$status"
