#!/usr/bin/env bash
# Generates the Swift code of FashionInterop's protobuf schemas (committed; run again only when a schema changes).
#   scripts/generate-protobuf.sh [PROTOC_GEN_SWIFT]
# Needs protoc (Debian: protobuf-compiler) and swift-protobuf's plugin, built from the version Package.resolved pins
# (git clone https://github.com/apple/swift-protobuf && swift build -c release --product protoc-gen-swift).
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${1:-${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || echo /tmp/swift-protobuf/.build/release/protoc-gen-swift)}}
[ -x "$plugin" ] || { echo "generate-protobuf.sh: protoc-gen-swift not found (give its path as the first argument)" >&2; exit 1; }
schemas=Sources/FashionInterop/Schemas
protoc --plugin=protoc-gen-swift="$plugin" --proto_path=$schemas --swift_opt=Visibility=Internal --swift_out=Sources/FashionInterop/TensorBoard $schemas/tensorboard.proto
