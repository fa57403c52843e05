#!/usr/bin/env bash
# Cross-builds the firmware for aarch64 and runs its self-test under
# qemu-aarch64 (user-mode emulation of the card's ARM cores).
set -euo pipefail
cd "$(dirname "$0")/.."
Firmware/build.sh release
bin=.build-aarch64/release/firmware-selftest
file "$bin" | grep -q 'ARM aarch64' || { echo "firmware: $bin is not an aarch64 executable" >&2; exit 1; }
file "$bin" | grep -q 'statically linked' || { echo "firmware: $bin is not static" >&2; exit 1; }
echo "firmware: $(file -b "$bin" | cut -d, -f1-2)"
qemu-aarch64 "$bin"
