#!/usr/bin/env bash
# Installs the Debian packages Bulkhead needs on a fresh Debian 12 machine
# that already has the Swift toolchain. Idempotent: a second run only checks.
#
#   scripts/setup.sh            everything (build, tests, emulator)
#
# Run as root (or with sudo available).
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# The card's ARM cores: cross compiler, arm64 OpenSSL (multiarch), user-mode QEMU.
FIRMWARE_PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libssl-dev:arm64"
# Host build and test oracles.
# protobuf-compiler: protoc, only for scripts/generate-api.sh (generated code is committed).
HOST_PACKAGES="libssl-dev openssl make file tshark python3 python3-scapy python3-cryptography libelf-dev protobuf-compiler"
# Emulator and peers (guests, underlay, DPDK and storage peers; dpdk-dev
# carries dpdk-testpmd, the per-packet peer of bench-dataplane).
EMULATOR_PACKAGES="qemu-system-x86 qemu-system-arm qemu-utils dpdk dpdk-dev iproute2 busybox-static cpio kmod iperf3 cryptsetup-bin nbdkit qemu-block-extra"

wanted="$FIRMWARE_PACKAGES $HOST_PACKAGES $EMULATOR_PACKAGES"

missing=""
for p in $wanted; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "setup: adding the arm64 architecture (multiarch) for the card's libraries"
  $SUDO dpkg --add-architecture arm64
  missing="$missing"
  force_update=1
fi

if [ -n "$missing" ] || [ -n "${force_update:-}" ]; then
  echo "setup: installing:$missing"
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
else
  echo "setup: all Debian packages present"
fi
