#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for Harsanyi: the OpenCL loader and headers, PoCL (an OpenCL
# device on the CPU, so the OpenCL path runs without a GPU), OpenBLAS, COIN-OR CLP (the exact decomposition),
# and a Python venv with numpy and scipy (scipy's HiGHS is the independent LP oracle) for the reference
# checks. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")"
packages=(ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo libopenblas-dev coinor-libclp-dev python3-venv)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c "import numpy, scipy" 2>/dev/null || .venv/bin/python -m pip install -q numpy scipy
