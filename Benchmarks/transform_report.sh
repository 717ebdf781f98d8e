#!/usr/bin/env bash
# AND transform report: harsanyi (CPU backend, and the OpenCL backend when `harsanyi devices` lists a
# device) against the NumPy butterfly of Tests/Tools/bench_numpy_transform.py, all measured in one run, printed
# as a Markdown table on stdout (progress goes to stderr).
#
#   Benchmarks/transform_report.sh                 # from anywhere; works in the repository root
#   Benchmarks/transform_report.sh > report.md
#
# Steps:
#   1. swift build -c release --product harsanyi   (at the repository root)
#   2. .venv at the repository root with numpy      (created or reused; nothing else is installed)
#   3. in memory, n = N (float32): `harsanyi bench transform --json --repeat REPEAT` per backend (medians of
#      kernel time, a device-to-device copy of the same buffer, upload + transform + download), and the NumPy
#      script at --n N --file-n 0 (butterfly and np.copyto, medians of 5);
#      file to file, n = FILE_N: `harsanyi transform --kind and --in IN --out OUT --timings` per backend and the
#      NumPy script's file mode (--n 0 --file-n FILE_N: np.load + butterfly + np.save, median of 3 inside),
#      after one untimed harsanyi run per backend, ROUNDS rounds run alternately, median over rounds. Outputs
#      go to a temporary folder (the NumPy script's too, through TMPDIR); before every harsanyi run its output
#      file is deleted and `sync` flushes dirty pages (untimed), because disk write-back otherwise makes single
#      runs very noisy.
#   4. the Markdown table with the ratios.
#
# Settings (environment): N (24), FILE_N (26), REPEAT (11), ROUNDS (5), HARSANYI_REPORT_SKIP_BUILD=1 to use
# the existing release binary as is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${N:-24}"; FILE_N="${FILE_N:-26}"; REPEAT="${REPEAT:-11}"; ROUNDS="${ROUNDS:-5}"

if [ "${HARSANYI_REPORT_SKIP_BUILD:-0}" != 1 ]; then
    echo "== swift build -c release --product harsanyi" >&2
    swift build -c release --product harsanyi >&2
fi
BIN="$(swift build -c release --show-bin-path)/harsanyi"
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    echo "== python3 -m venv .venv" >&2
    python3 -m venv .venv
fi
.venv/bin/python -c "import numpy" 2>/dev/null || {
    echo "== pip install numpy (into .venv)" >&2
    .venv/bin/python -m pip install -q numpy >&2
}

HAVE_OPENCL=0
if "$BIN" devices 2>/dev/null | grep -Eq '^[0-9]+:[0-9]+ '; then HAVE_OPENCL=1; fi
echo "== OpenCL device: $([ "$HAVE_OPENCL" = 1 ] && echo yes || echo none, CPU backend only)" >&2

WORK="$(mktemp -d "${TMPDIR:-/tmp}/harsanyi-report.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

N="$N" FILE_N="$FILE_N" REPEAT="$REPEAT" ROUNDS="$ROUNDS" \
    .venv/bin/python - "$BIN" "$WORK" "$HAVE_OPENCL" <<'PY'
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BIN, WORK, HAVE_OPENCL = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
N, FILE_N, REPEAT, ROUNDS = (int(os.environ[k]) for k in ("N", "FILE_N", "REPEAT", "ROUNDS"))
NUMPY_SCRIPT = str(Path("Tests/Tools/bench_numpy_transform.py").resolve())
BACKENDS = ["cpu"] + (["opencl"] if HAVE_OPENCL else [])
ENV = dict(os.environ, TMPDIR=str(WORK))  # the NumPy script's temporary files land in WORK too


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(cmd):
    """Runs cmd (stdin closed: this program itself comes from stdin); exits with its stderr if it fails."""
    p = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=ENV)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stderr}")
    return p


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ---- in memory, n = N -------------------------------------------------------------------------------
bench = {}
for b in BACKENDS:
    log(f"== harsanyi bench transform --n {N} --backend {b} --repeat {REPEAT}")
    bench[b] = last_json(run([BIN, "bench", "transform", "--n", N, "--backend", b, "--repeat", REPEAT, "--json"]).stdout)
log(f"== numpy butterfly n={N}")
np_mem = last_json(run([sys.executable, NUMPY_SCRIPT, "--n", N, "--file-n", 0, "--json"]).stdout)

# ---- file to file, n = FILE_N -----------------------------------------------------------------------
inp = WORK / "in.npy"
np.save(inp, np.random.default_rng(0).standard_normal(1 << FILE_N, dtype=np.float32))
PHASE = re.compile(r"^harsanyi: (.+): ([0-9.]+) ms$")
file_runs = {b: [] for b in BACKENDS}  # (process wall ms, {phase: ms})
np_file = []
for r in range(-1, ROUNDS):  # round -1: one untimed warm-up run per backend (page cache, PoCL kernel cache)
    for b in BACKENDS:
        out = WORK / f"out-{b}.npy"
        for p in (out, out.with_suffix(".json")):
            p.unlink(missing_ok=True)
        os.sync()
        t0 = time.perf_counter()
        p = run([BIN, "transform", "--kind", "and", "--in", inp, "--out", out, "--backend", b, "--timings"])
        wall = 1e3 * (time.perf_counter() - t0)
        phases = {m.group(1): float(m.group(2)) for m in map(PHASE.match, p.stderr.splitlines()) if m}
        if r < 0:
            log(f"   warm-up harsanyi {b}: {wall:.0f} ms (not counted)")
            continue
        file_runs[b].append((wall, phases))
        log(f"   round {r + 1}/{ROUNDS} harsanyi {b}: {wall:.0f} ms ({', '.join(f'{k} {v:.0f}' for k, v in phases.items())})")
    if r < 0:
        continue
    os.sync()
    res = last_json(run([sys.executable, NUMPY_SCRIPT, "--n", 0, "--file-n", FILE_N, "--json"]).stdout)
    np_file.append(res)
    log(f"   round {r + 1}/{ROUNDS} numpy: {res['file_to_file_ms']:.0f} ms (median of 3 inside)")
for p in WORK.glob("out-*"):
    p.unlink()

# ---- report -----------------------------------------------------------------------------------------
med = statistics.median


def f(x, digits=2):
    return "–" if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    return "–" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


np_ms, np_copy = np_mem["butterfly_ms"], np_mem["copy_ms"]
mib = (4 << N) / 2**20
print(f"### AND transform, float32, n = {N} ({mib:.0f} MiB), in memory\n")
print(f"Machine: {os.cpu_count()} CPU(s), {cpu_model()}; numpy {np.__version__}; "
      f"harsanyi medians of {REPEAT} runs after one warm-up, numpy medians of 5.\n")
print("| implementation | device | transform ms | copy ms | transform / copy | end-to-end ms | first run ms "
      "| numpy / transform | numpy / end-to-end |")
print("|---|---|--:|--:|--:|--:|--:|--:|--:|")
print(f"| numpy butterfly | host | {f(np_ms)} | {f(np_copy)} | {ratio(np_ms, np_copy)} | – | – | 1.00× | – |")
for b in BACKENDS:
    j = bench[b]
    print(f"| harsanyi `{b}` | {j['device']} | {f(j['kernel_ms'])} | {f(j['copy_ms'])} | {j['kernel_over_copy']:.2f}× "
          f"| {f(j['end_to_end_ms'])} | {f(j['first_run_ms'], 1)} | {ratio(np_ms, j['kernel_ms'])} "
          f"| {ratio(np_ms, j['end_to_end_ms'])} |")
print()
print("transform: harsanyi kernel time (OpenCL event profiling; wall time on the CPU path), numpy in-place "
      "butterfly. copy: device-to-device copy of the same buffer (clEnqueueCopyBuffer / parallel memcpy; "
      "np.copyto for numpy). end-to-end: upload + transform + download. "
      f"GB/s (harsanyi, 2 × {mib:.0f} MiB per pass): "
      + ", ".join(f"`{b}` transform {bench[b]['kernel_gb_per_s']:.1f}, copy {bench[b]['copy_gb_per_s']:.1f}" for b in BACKENDS)
      + ".\n")

fmib = (4 << FILE_N) / 2**20
np_total = med(r["file_to_file_ms"] for r in np_file)
print(f"### File to file, AND, float32, n = {FILE_N} ({fmib:.0f} MiB .npy in and out)\n")
print(f"Median of {ROUNDS} rounds run alternately (the numpy figure of each round is itself the script's median of 3).\n")
print("| implementation | process wall ms | in-process ms | read / load ms | transform ms | write / save ms "
      "| numpy / process wall | numpy / in-process |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
print(f"| numpy script file mode | – | {f(np_total, 1)} | {f(med(r['file_load_ms'] for r in np_file), 1)} "
      f"| {f(med(r['file_transform_ms'] for r in np_file), 1)} | {f(med(r['file_save_ms'] for r in np_file), 1)} "
      f"| – | 1.00× |")
for b in BACKENDS:
    runs = file_runs[b]
    wall = med(w for w, _ in runs)
    inproc = med(sum(ph.values()) for _, ph in runs)

    def phase(name):
        values = [ph[name] for _, ph in runs if name in ph]
        return med(values) if values else None

    print(f"| harsanyi `{b}` | {f(wall, 1)} | {f(inproc, 1)} | {f(phase('read'), 1)} | {f(phase('transform'), 1)} "
          f"| {f(phase('write'), 1)} | {ratio(np_total, wall)} | {ratio(np_total, inproc)} |")
print()
print("process wall: the whole `harsanyi transform` process (start-up, backend selection and, for OpenCL, context "
      "and program build, reading, the finite check, the transform with upload and download, writing OUT and "
      "its .json). in-process: the sum of the phases it prints with --timings (without process start-up and "
      "exit). numpy: np.load + butterfly + np.save inside one Python process (without interpreter start-up or "
      "import). Ratios above 1× mean harsanyi is faster.")
PY
