#!/usr/bin/env bash
# Regenerates onnx.pb.swift (this folder) from onnx.proto of the pinned onnx wheel. Run it when the onnx or the
# swift-protobuf pin changes; the generated file is committed, so normal builds never run protoc.
# Needs: python3 with venv and pip, unzip, protoc (apt-get install -y protobuf-compiler), swift.
set -euo pipefail
ONNX_VERSION=1.23.2
SWIFT_PROTOBUF_VERSION=1.39.0
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip download -q --no-deps "onnx==$ONNX_VERSION" -d "$work/wheel"
unzip -q -o "$work"/wheel/onnx-*.whl 'onnx/onnx.proto' -d "$work/wheel"
git clone -q https://github.com/apple/swift-protobuf "$work/swift-protobuf"
git -C "$work/swift-protobuf" checkout -q "$SWIFT_PROTOBUF_VERSION"
(cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
protoc --plugin=protoc-gen-swift="$work/swift-protobuf/.build/release/protoc-gen-swift" \
       --swift_out="$here" --swift_opt=Visibility=Public \
       -I "$work/wheel/onnx" "$work/wheel/onnx/onnx.proto"
echo "wrote $here/onnx.pb.swift"
