#!/usr/bin/env bash
# Sets up a fresh machine (setup.sh), builds the release CLI, and runs the main job on the bundled default:
# `harsanyi extract` on a trained LeNet-style CNN (Tests/Fixtures/onnx/lenet_digits.onnx, scikit-learn digits,
# 8x8 images) and its first test sample, with the image split into 3 x 4 cells (n = 12 players): 4096 masked
# forward passes, v(empty) subtracted, the certified AND-OR decomposition (null players removed, exact LP optimum),
# and the top primitives. Results go to out/lenet_digits/.
# Extra arguments are passed on (e.g. --optimizer sgd for the reference optimiser, --backend cpu).
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh
swift build -c release --product harsanyi 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
mkdir -p out
.build/release/harsanyi devices
echo
.build/release/harsanyi extract --model Tests/Fixtures/onnx/lenet_digits.onnx --input Tests/Fixtures/onnx/lenet_digits.inputs.npy \
    --index 0 --players grid:3x4 --baseline zero --labels Tests/Fixtures/onnx/lenet_digits.labels.npy \
    --out out/lenet_digits --force "$@"
