#!/usr/bin/env bash
# Sets up a fresh machine (setup.sh), builds (release: the suite then checks the headline sizes, n = 24 and 26, in
# seconds; a debug build reports those tests as skipped), and runs the validation suite:
#   1. numpy cross-checks of `harsanyi transform` on both backends and of the numpy reference tools;
#   2. the Swift suite with the OpenCL platform hidden (CPU path; device tests report as skipped);
#   3. the Swift suite with OpenCL on PoCL's CPU device (or whatever device the machine has). Where an OpenCL
#      platform is installed, this run must see a device (HARSANYI_REQUIRE_OPENCL=1) and must not skip device tests.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh
swift build -c release --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
harsanyi=.build/release/harsanyi
test -x "$harsanyi"

echo "== numpy cross-checks"
.venv/bin/python Tests/Tools/bench_numpy_transform.py --selfcheck
.venv/bin/python Tests/Tools/sparsifier_reference.py --selfcheck
(cd Tests/Tools && ../../.venv/bin/python lp_oracle.py --selfcheck)
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
.venv/bin/python -c "import numpy as np; np.save('$work/v.npy', np.random.default_rng(7).standard_normal(1 << 14).astype(np.float32))"
for backend in cpu opencl; do
    for kind in and or zeta zeta-superset mobius-superset or-inverse or-transpose; do
        "$harsanyi" transform --kind "$kind" --in "$work/v.npy" --out "$work/o.npy" --backend "$backend" 2>"$work/err" \
            || { cat "$work/err"; echo "harsanyi transform --kind $kind --backend $backend failed"; exit 1; }
        .venv/bin/python Tests/Tools/bench_numpy_transform.py --verify "$work/v.npy" "$work/o.npy" --kind "$kind" >/dev/null \
            || { echo "harsanyi transform --kind $kind --backend $backend disagrees with numpy"; exit 1; }
    done
    echo "harsanyi transform agrees with numpy on the $backend backend (n = 14, 7 kinds,"\
        "each entry within depth·u·Σ|terms|)"
done

echo "== exact decomposition against scipy HiGHS on fresh seeded vectors (both backends, modes pq, p, q)"
for seed in 11 12; do
    .venv/bin/python -c "import numpy as np; r = np.random.default_rng($seed); np.save('$work/lp.npy', np.cumsum(r.standard_normal(256)) * 0.3)"
    for mode in pq p q; do
        for backend in cpu opencl; do
            "$harsanyi" interactions --values "$work/lp.npy" --mode "$mode" --optimizer exact --backend "$backend" \
                --out "$work/lp_$backend" --force >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
            (cd Tests/Tools && ../../.venv/bin/python lp_oracle.py --solve "$work/lp.npy" --mode "$mode" --json "$work/oracle.json" >/dev/null)
            .venv/bin/python - "$work/lp_$backend/summary.json" "$work/oracle.json" "$mode seed $seed $backend" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["optimality"]; oracle = json.load(open(sys.argv[2]))
err = abs(ours["loss"] - oracle["optimum"]) / max(1.0, oracle["optimum"])
if err > 1e-9 or ours["relative_gap"] > 1e-9:
    sys.exit(f"exact decomposition ({sys.argv[3]}): {ours['loss']} vs HiGHS {oracle['optimum']} (relative {err:.2e}, gap {ours['relative_gap']})")
PY
        done
    done
done
echo "harsanyi interactions --optimizer exact agrees with HiGHS to 1e-9 (n = 8, 2 seeds, 3 modes, 2 backends)"

# Prints a suite's skips and failures and its closing line; fails the script if the suite failed.
suite() {
    local log="$work/$1.log"; shift
    if "$@" >"$log" 2>&1; then status=0; else status=1; fi
    grep -E "skipped|✘|recorded an issue|error:" "$log" | grep -v "^◇" || true
    [ $status -eq 0 ] || { echo "swift test failed; last lines:"; tail -n 40 "$log"; exit 1; }
    tail -n 1 "$log"
}

echo "== Swift suite, OpenCL platform hidden (CPU path; device tests skip)"
mkdir -p "$work/no-icd"
suite hidden env OCL_ICD_VENDORS="$work/no-icd" swift test -c release --skip-build

echo "== Swift suite with OpenCL"
require=0
if ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then require=1; fi
suite opencl env HARSANYI_REQUIRE_OPENCL=$require swift test -c release --skip-build
if [ $require -eq 1 ] && grep -q 'skipped: "no OpenCL device' "$work/opencl.log"; then
    echo "an OpenCL platform is installed, yet the OpenCL run skipped device tests"; exit 1
fi
