#!/usr/bin/env bash
# Generates the TypeScript for every .proto under proto/ into src/gen (or into
# the directory given as $1, which check-gen.sh uses to compare against the
# committed output). The output directory is wiped first, so a removed .proto
# leaves no stale file behind.
#
# Usage: bash scripts/gen.sh [OUT_DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

OUT_DIR="${1:-src/gen}"

# ts-proto options (see node_modules/ts-proto/README.markdown):
# - outputServices=grpc-js: grpc-js service definitions, servers and clients.
# - env=node: `bytes` fields are Buffers.
# - forceLong=string: uint64/int64 are decimal strings in TS and in JSON, so
#   no index or revision is ever silently rounded.
# - emitDefaultValues=json-methods: toJSON emits zero values (0, "", false,
#   empty bytes), as grpc-gateway v2 does.
# - esModuleInterop=true, importSuffix=.js: ESM imports that resolve under
#   module/moduleResolution NodeNext.
# - useExactTypes=false: fromPartial/create take plain DeepPartial objects.
# Left at their defaults on purpose: snakeToCamel (keys_json: camelCase keys),
# protoJsonFormat=true (toJSON writes lowerCamelCase, fromJSON accepts both
# the lowerCamelCase and the proto name), outputJsonMethods=true,
# useOptionals=none, oneof=properties.
TS_PROTO_OPTS="outputServices=grpc-js,env=node,forceLong=string,emitDefaultValues=json-methods"
TS_PROTO_OPTS+=",esModuleInterop=true,importSuffix=.js,useExactTypes=false"

PROTOC="$ROOT/node_modules/.bin/protoc"
PLUGIN="$ROOT/node_modules/.bin/protoc-gen-ts_proto"
for tool in "$PROTOC" "$PLUGIN"; do
  if [[ ! -x "$tool" ]]; then
    echo "gen: $tool not found; run npm ci first" >&2
    exit 1
  fi
done

# Our own protos (dkv/) and the vendored standard gRPC health service (grpc/);
# google/api is vendored only as an import of dkv/v0 and generated as such.
# Sorted, so the order protoc sees (and so its output) does not depend on the
# file system; a read loop rather than mapfile, which macOS's bash 3.2 lacks.
# ts-proto also emits the files these import: google/api/* (from proto/) and
# google/protobuf/descriptor.proto, which protoc finds in the include
# directory that the protoc npm package ships next to its binary.
PROTOS=()
while IFS= read -r proto; do
  PROTOS+=("$proto")
done < <(cd proto && find dkv grpc -name '*.proto' | LC_ALL=C sort)
if [[ ${#PROTOS[@]} -eq 0 ]]; then
  echo "gen: no .proto files under proto/dkv or proto/grpc" >&2
  exit 1
fi

rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"

"$PROTOC" \
  -I proto \
  --plugin=protoc-gen-ts_proto="$PLUGIN" \
  --ts_proto_out="$OUT_DIR" \
  --ts_proto_opt="$TS_PROTO_OPTS" \
  "${PROTOS[@]}"

echo "gen: wrote $(find "$OUT_DIR" -name '*.ts' | wc -l | tr -d ' ') files to $OUT_DIR"
