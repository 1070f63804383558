#!/usr/bin/env bash
# Installs everything runbook needs to build and test, from Debian 12 packages.
# Idempotent; run as root (or through sudo) on a fresh machine.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev
  libyaml-dev libcli11-dev libspdlog-dev libfmt-dev doctest-dev
  libsqlite3-dev libssl-dev libhowardhinnant-date-dev tzdata openssl
  # used by the tests: process inspection, a pty, Graphviz for `graph --format dot`
  procps util-linux tmux graphviz python3 python3-yaml python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
