#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (ctest prints the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --preset default -j "$(nproc)" --timeout 300
