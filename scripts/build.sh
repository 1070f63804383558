#!/usr/bin/env bash
# Configures and builds runbook into build/ (the "default" CMake preset).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)"
