#!/usr/bin/env bash
# The firmware image's whole path through dpuctl, on the emulated ARM card,
# up to its registration with a controller: PKI and controller (the
# provider's side), keygen, build (cross-compile bulkhead-card + package),
# sign, inspect, card-init, flash, boot linked to the controller
# (qemu-system-aarch64 -M virt -cpu cortex-a72), the controller's view of
# the card, and the card's slots.
#
#   scripts/firmware-card.sh [WORKDIR]     (default: a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-firmware.XXXXXX")}"
mkdir -p "$work"
swift build --product dpuctl
swift build --product bulkhead-controller
dpuctl() { .build/debug/dpuctl "$@"; }
export BULKHEAD_STATE_DIR="$work/state" SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"

# The provider's side: a CA, the controller's and the card's certificates,
# a controller with its management channel on the loopback.
dpuctl pki init --dir "$work/pki"
dpuctl pki issue-controller --dir "$work/pki"
dpuctl pki issue-card card0 --dir "$work/pki"
printf '{ "tokens": [ { "token": "admin-token", "role": "provider-admin" } ] }\n' > "$work/tokens.json"
rm -f "$work/controller.sock"
.build/debug/bulkhead-controller --database "$work/controller.sqlite" --tokens "$work/tokens.json" \
  --unix "$work/controller.sock" --vni-range 100-200 --pki "$work/pki" \
  --management-listen 127.0.0.1:0 > "$work/controller.log" 2>&1 &
controller_pid=$!
trap 'kill "$controller_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$work/controller.log" && break; sleep 0.1; done
port=$(sed -n 's/.*management channel on port \([0-9]*\).*/\1/p' "$work/controller.log" | head -n 1)
[ -n "$port" ] || { echo "firmware-card: the controller did not start; see $work/controller.log" >&2; exit 1; }
export BULKHEAD_CONTROLLER="unix:$work/controller.sock" BULKHEAD_TOKEN=admin-token
dpuctl cards register card0 --underlay-ip 192.0.2.7

# The image, and the card.
dpuctl firmware keygen --out "$work/release.key"
dpuctl firmware build --board qemu-virt-a72 --product bulkhead-card --firmware-version 1.0.0 \
  --security-version 1 --out "$work/fw.img"
dpuctl firmware sign "$work/fw.img" --key "$work/release.key"
dpuctl firmware inspect "$work/fw.img" --trusted-key "$work/release.key.pub"
dpuctl firmware card-init --card card0 --trusted-key "$work/release.key.pub"
dpuctl firmware flash "$work/fw.img" --card card0

# Boot linked to the controller; the card registers while it serves.
dpuctl firmware boot --card card0 --controller "$port" --pki-dir "$work/pki" --underlay-ip 192.0.2.7 \
  --serve-seconds 30 > "$work/boot.txt" &
boot_pid=$!
registered=no
for _ in $(seq 1 180); do
  if dpuctl cards show card0 -o json | grep -q CARD_HEALTH_HEALTHY; then registered=yes; break; fi
  kill -0 "$boot_pid" 2>/dev/null || break
  sleep 1
done
dpuctl cards show card0
wait "$boot_pid"
cat "$work/boot.txt"
dpuctl firmware status --card card0 --output json
[ "$registered" = yes ] || { echo "firmware-card: card0 did not register; see $work/state/cards/card0" >&2; exit 1; }
echo "firmware-card: ok, card0 registered with the controller ($work)"
