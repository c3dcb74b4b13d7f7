#!/usr/bin/env bash
# Generates the Python stubs of dkv's public API from proto/ into
# examples/python/generated (or the directory given as $1), with Debian's
# python3-grpc-tools. The output is not committed: run this after a checkout
# and after any change to proto/dkv/v0.
#
# Usage: bash examples/python/gen.sh [OUT_DIR]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT_DIR="${1:-$HERE/generated}"
# Debian's Python packages load only in Debian's own interpreter.
PYTHON="${PYTHON:-/usr/bin/python3}"

if ! "$PYTHON" -c 'import grpc_tools.protoc' 2>/dev/null; then
  echo "gen.sh: $PYTHON cannot import grpc_tools: install python3-grpc-tools (bash scripts/ci-deps.sh)" >&2
  exit 1
fi

rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
# The public API and the HTTP annotations it imports (vendored in
# proto/google/api); google/protobuf/descriptor.proto comes with grpc_tools.
cd "$ROOT/proto"
"$PYTHON" -m grpc_tools.protoc -I . \
  --python_out="$OUT_DIR" --grpc_python_out="$OUT_DIR" \
  dkv/v0/kvstore.proto dkv/v0/cluster.proto google/api/annotations.proto google/api/http.proto
echo "gen.sh: wrote $(find "$OUT_DIR" -name '*.py' | wc -l | tr -d ' ') files to $OUT_DIR"
