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
FIRMWARE_PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross libssl-dev:arm64"
# Host build and test oracles.
# protobuf-compiler: protoc, only for scripts/generate-api.sh (generated code is committed).
# socat: QEMU's user network hands each connection of the emulated ARM card
# to the controller on the loopback through it (one process per connection).
HOST_PACKAGES="libssl-dev openssl make file tshark tcpdump python3 python3-scapy python3-cryptography libelf-dev protobuf-compiler socat"
# Emulator and peers (guests, underlay, DPDK and storage peers; dpdk-dev
# carries dpdk-testpmd, the per-packet peer of bench-dataplane).
EMULATOR_PACKAGES="dpdk dpdk-dev iproute2 busybox-static cpio kmod binutils iperf3 cryptsetup-bin nbdkit"
# QEMU comes from bookworm-backports (QEMU 10): bookworm's 7.2 crashes under
# TCG when a vhost-user-net device uses MSI-X (Docs/decisions/qemu-version.md).
# qemu-user (qemu-aarch64 for the card's firmware) must match the others.
QEMU_PACKAGES="qemu-system-x86 qemu-system-arm qemu-utils qemu-block-extra qemu-user"
BACKPORTS_SOURCE=/etc/apt/sources.list.d/bookworm-backports.sources

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

if [ ! -f "$BACKPORTS_SOURCE" ]; then
  # The same mirror the machine already uses for bookworm itself.
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/debian.sources | grep -v security | awk '{print $2}' | head -n 1)
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | grep -v security | awk '{print $2}' | head -n 1)
  if [ -z "$mirror" ]; then
    echo "setup: no Debian mirror found in /etc/apt/sources.list*: add bookworm-backports by hand" >&2
    exit 1
  fi
  echo "setup: adding Debian's bookworm-backports suite (for QEMU 10) from $mirror"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" | $SUDO tee "$BACKPORTS_SOURCE" >/dev/null
  force_update=1
fi

# A QEMU package counts as present only in its backports version.
qemu_missing=""
for p in $QEMU_PACKAGES; do
  if ! dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null | grep -q "install ok installed .*~bpo"; then
    qemu_missing="$qemu_missing $p"
  fi
done

if [ -n "$missing" ] || [ -n "$qemu_missing" ] || [ -n "${force_update:-}" ]; then
  $SUDO apt-get update -q
  if [ -n "$missing" ]; then
    echo "setup: installing:$missing"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
  fi
  if [ -n "$qemu_missing" ]; then
    echo "setup: installing from bookworm-backports:$qemu_missing"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
      -t bookworm-backports $QEMU_PACKAGES
  fi
else
  echo "setup: all Debian packages present"
fi
