#!/usr/bin/env bash
# Sets up a fresh machine (setup.sh), builds the release CLI, and runs the main job on the bundled default:
# the AND-OR interactions of a real network's output (a scikit-learn MLP on the digits images, 12 image cells
# as players, Tests/Fixtures/rewards/digits_mlp_n12_s312.json says how v was made), written to out/digits_n12.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh
swift build -c release --product harsanyi 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
mkdir -p out
.build/release/harsanyi devices
echo
.build/release/harsanyi interactions --values Tests/Fixtures/rewards/digits_mlp_n12_s312.npy --out out/digits_n12 --force \
    --optimizer adam "$@"
