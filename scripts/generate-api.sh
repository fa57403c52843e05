#!/usr/bin/env bash
# Regenerates the provider API's Swift code from Proto/bulkhead/v1/*.proto
# into Sources/ProviderAPI/Generated/. The generated files are committed:
# CI and ordinary builds never run this.
#
#   scripts/generate-api.sh
#
# Needs protoc (Debian's protobuf-compiler, scripts/setup.sh) and the two
# Swift plugins, which are built once from the package's own dependencies
# (a release build of each, several minutes on two cores) into
# .build-protoc-plugins/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "generate-api: protoc is missing: run scripts/setup.sh" >&2; exit 1; }

plugins=".build-protoc-plugins"
mkdir -p "$plugins"
# A scratch package that depends on the same generator packages as the
# manifest, so the plugins match the runtime libraries we link.
cat > "$plugins/Package.swift" <<'MANIFEST'
// swift-tools-version:6.1
import PackageDescription
let package = Package(
  name: "ProtocPlugins",
  dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
  ],
  targets: []
)
MANIFEST
bin="$plugins/.build/release"
if [ ! -x "$bin/protoc-gen-swift" ] || [ ! -x "$bin/protoc-gen-grpc-swift-2" ]; then
  echo "generate-api: building protoc-gen-swift and protoc-gen-grpc-swift-2 (once)"
  (cd "$plugins" && swift build -c release --product protoc-gen-swift \
    && swift build -c release --product protoc-gen-grpc-swift-2)
fi
# The well-known types (FieldMask, Timestamp) ship with swift-protobuf.
wkt="$(ls -d "$plugins"/.build/checkouts/swift-protobuf/Protos/Sources/SwiftProtobuf)"

out="Sources/ProviderAPI/Generated"
rm -rf "$out"; mkdir -p "$out"
protos=(Proto/bulkhead/v1/*.proto)
protoc -I Proto -I "$wkt" \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" \
  --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
  --grpc-swift_out="$out" \
  --grpc-swift_opt=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores \
  "${protos[@]#Proto/}"
# Generated code follows its generator's layout, not ours.
for f in "$out"/*.swift; do
  { echo "// swift-format-ignore-file"; cat "$f"; } > "$f.tmp" && mv "$f.tmp" "$f"
done
echo "generate-api: $(ls "$out" | wc -l) files in $out"
