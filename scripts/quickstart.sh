#!/usr/bin/env bash
# Quick start: installs the dependencies, builds, and runs an example runbook.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo
echo "== build/bin/runbook run examples/hello.yaml"
build/bin/runbook run examples/hello.yaml
