#!/usr/bin/env bash
# The main job on a fresh machine: installs what is needed, builds the
# tools, and runs the two-card emulated rack (examples/two-cards.toml):
# two cards' firmware on a routed underlay, three tenant guests under QEMU
# on the cards' virtio-net functions. It shows what a user of the rack
# sees: guests of one VPC on different cards talking across the underlay
# (Geneve with the VPC's VNI on the wire), another tenant kept out and
# counted, a guest's encrypted volume taken out of it and put back, then
# takes the rack down again.
#
#   scripts/demo.sh                 the host build of the card firmware
#   scripts/demo.sh --arch aarch64  the aarch64 firmware under qemu-aarch64
set -euo pipefail
cd "$(dirname "$0")/.."
arch=native
if [ "${1:-}" = "--arch" ]; then arch="${2:?--arch native|aarch64}"; fi
scripts/setup.sh
echo "==> building dpuctl and the card firmware"
swift build --product dpuctl
swift build --product bulkhead-card
if [ "$arch" = aarch64 ]; then
  echo "==> building the card firmware for aarch64 (Embedded Swift)"
  Firmware/build.sh
fi
bin="$(swift build --show-bin-path)"
export BULKHEAD_EMU_DIR="${BULKHEAD_EMU_DIR:-/run/bulkhead/emu-demo}"
emu() { "$bin/dpuctl" emu "$@"; }
show() { echo; echo "\$ dpuctl emu $*"; emu "$@"; }
trap 'echo; echo "==> taking the rack down"; emu down' EXIT

echo "==> bringing the rack up (guest images are built from Debian packages on first use)"
emu up examples/two-cards.toml --arch "$arch"
show status
echo; echo "==> a1 (card1) and a2 (card2) share VPC acme-prod; the underlay carries Geneve, VNI 1001 (0x3e9)"
emu capture --card card1 --count 4 --seconds 20 > /tmp/bulkhead-demo-capture.txt 2>&1 &
capture=$!
sleep 2
show exec a1 -- ping -c 3 172.16.2.10
wait "$capture" || true
echo; echo "\$ dpuctl emu capture --card card1 --count 4"; cat /tmp/bulkhead-demo-capture.txt
echo; echo "==> TCP across the underlay"
emu exec a2 -- 'iperf3 -s -D -1 && sleep 1'
show exec a1 -- iperf3 -c 172.16.2.10 -t 3 -f m
echo; echo "==> g1 is tenant globex's guest on card1, in an overlapping range: it reaches no acme guest"
show exec g1 -- ping -c 2 -W 2 172.16.2.10 || echo "(no reply, as it should be)"
show counters card1
echo; echo "==> a1 boots with volume data1: an encrypted disk card1 serves over vhost-user-blk"
show exec a1 -- 'cat /sys/block/vda/size; echo hello > /tmp/h; dd if=/tmp/h of=/dev/vda bs=4096 count=1 conv=sync,fsync 2>/dev/null; dd if=/dev/vda bs=6 count=1 2>/dev/null'
echo; echo "\$ dpuctl guest detach a1 --volume data1"; "$bin/dpuctl" guest detach a1 --volume data1
show exec a1 -- ls /sys/block
echo; echo "\$ dpuctl guest attach a1 --volume data1"; "$bin/dpuctl" guest attach a1 --volume data1
show exec a1 -- 'sleep 2; dd if=/dev/vda bs=6 count=1 2>/dev/null'
