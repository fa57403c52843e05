#!/usr/bin/env bash
# The firmware image's whole path through dpuctl, on the emulated ARM card:
# keygen, build (cross-compile + package), sign, inspect, card-init, flash,
# boot (qemu-system-aarch64 -M virt -cpu cortex-a72), status.
#
#   scripts/firmware-card.sh [WORKDIR]     (default: a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-firmware.XXXXXX")}"
mkdir -p "$work"
swift build --product dpuctl
dpuctl() { .build/debug/dpuctl "$@"; }
export BULKHEAD_STATE_DIR="$work/state" SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"

dpuctl firmware keygen --out "$work/release.key"
dpuctl firmware build --board qemu-virt-a72 --firmware-version 1.0.0 --security-version 1 --out "$work/fw.img"
dpuctl firmware sign "$work/fw.img" --key "$work/release.key"
dpuctl firmware inspect "$work/fw.img" --trusted-key "$work/release.key.pub"
dpuctl firmware card-init --card card0 --trusted-key "$work/release.key.pub"
dpuctl firmware flash "$work/fw.img" --card card0
dpuctl firmware boot --card card0
dpuctl firmware status --card card0 --output json
echo "firmware-card: ok ($work)"
