#!/usr/bin/env bash
# Fails if src/gen differs from what `npm run gen` would write now: regenerates
# into a temporary directory with the same script (so the same protoc, plugin
# and options) and compares the two trees.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

bash scripts/gen.sh "$TMP/gen" >/dev/null

if [[ ! -d src/gen ]] || ! diff -r src/gen "$TMP/gen"; then
  echo "src/gen is stale: run npm run gen and commit" >&2
  exit 1
fi
echo "check-gen: src/gen is up to date"
