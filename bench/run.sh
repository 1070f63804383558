#!/usr/bin/env bash
# Benchmarks runbook against ninja, Ansible and wrk's view of the server.
#
#   ./bench/run.sh                           # every workload, 5 rounds
#   ./bench/run.sh --quick                   # small sizes, 2 rounds (for development)
#   ./bench/run.sh --markdown bench/RESULTS.md
#   ./bench/run.sh --rounds 9 --only wide,chain
#
# Run from anywhere in the repository, as root (or with sudo) on Debian 12. It
# installs the peers it compares with when one is missing, builds runbook when
# build/bin/runbook is missing, then hands over to bench/bench.py (see
# bench/README.md for the workloads and how to read the table).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# The peers, GNU time for anyone who wants to check a figure by hand, and
# eatmydata (fsync made a no-op) to measure what the durable audit log costs.
peers=(ninja-build ansible-core hyperfine wrk time eatmydata python3)
missing=()
for p in "${peers[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ ! -x build/bin/runbook ]; then
  echo "bench: build/bin/runbook is missing; building it"
  ./scripts/install-deps.sh
  ./scripts/build.sh
fi

# Debian's python3, not one that a version manager may have put first on PATH.
python=python3
if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; fi
exec "$python" -B bench/bench.py "$@"
