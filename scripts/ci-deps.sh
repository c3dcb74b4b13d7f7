#!/usr/bin/env bash
# Installs, from Debian, the tools some tests need beyond Node: docker-compose
# (v1, validates docker-compose.yml), python3-grpcio and python3-grpc-tools
# (the Python client example and its stub generation). Quick and silent when
# everything is present; runs `apt-get update` only when something is missing.
# Those tests fail under CI=true when a tool is missing and skip otherwise,
# naming this script.
#
# Usage: bash scripts/ci-deps.sh   (as root, or with sudo available)
set -euo pipefail

missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# Debian's Python packages load only in Debian's interpreter, /usr/bin/python3.
py_has() { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
py_has grpc || missing+=(python3-grpcio)
py_has grpc_tools || missing+=(python3-grpc-tools)

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ci-deps: missing ${missing[*]} and no apt-get here; install them by hand" >&2
  exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "ci-deps: missing ${missing[*]}; run as root (apt-get install) or install sudo" >&2
    exit 1
  fi
fi

echo "ci-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci-deps: done"
