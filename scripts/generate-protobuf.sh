#!/bin/sh
# Generates the Swift code of the Protocol Buffers schemas under Protos/ (committed; run again after editing a
# schema): ONNX's messages for export and import, TensorBoard's for event files. Needs protoc (Debian:
# protobuf-compiler) and swift-protobuf's plugin, protoc-gen-swift, of the version Package.swift names:
# `swift build -c release --product protoc-gen-swift` in a checkout of apple/swift-protobuf, then
# PROTOC_GEN_SWIFT=/that/checkout/.build/release/protoc-gen-swift.
set -eu
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
[ -x "$plugin" ] || { echo "generate-protobuf.sh: protoc-gen-swift not found (set PROTOC_GEN_SWIFT)" >&2; exit 1; }

protoc --plugin=protoc-gen-swift="$plugin" --proto_path=Protos --swift_out=Sources/FashionInterop/ONNX onnx.proto
protoc --plugin=protoc-gen-swift="$plugin" --proto_path=Protos --swift_opt=Visibility=Internal --swift_out=Sources/FashionInterop/TensorBoard tensorboard.proto
