#!/usr/bin/env bash
# The main job on a fresh machine: installs what is needed, builds everything
# (host tools and the aarch64 firmware), and runs the card's firmware on an
# emulated ARM core.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> building host tools and tests"
swift build
echo "==> building the card firmware for aarch64 (Embedded Swift) and running its self-test"
scripts/firmware-selftest.sh
