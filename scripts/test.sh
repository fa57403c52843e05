#!/usr/bin/env bash
# Runs every Bulkhead test on this machine: installs what is missing, then
#   1. format check (scripts/format.sh --check, the committed .swift-format)
#   2. the aarch64 firmware, cross-built with Embedded Swift, whose self-test
#      runs under qemu-aarch64 (the guest tests run its bulkhead-card too)
#   3. unit, oracle and integration tests (swift test), then the controller
#      integration test again against the aarch64 bulkhead-card
#   4. the fuzz targets in Fuzz/ for a bounded time each
#
#   scripts/test.sh                 everything
#   FUZZ_SECONDS=10 scripts/test.sh shorter fuzz runs (default 60 s a target)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${FUZZ_SECONDS:-60}"
passed=0; failed=0; failures=()
step() {
  local name="$1"; shift
  echo; echo "==> $name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "==> $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "==> $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

scripts/setup.sh

step "format" scripts/format.sh --check
# The aarch64 firmware first: the guest tests also run it under qemu-aarch64.
step "aarch64 firmware self-test" scripts/firmware-selftest.sh
step "swift test" swift test
# The aarch64 bulkhead-card (built by the self-test step) against a real
# controller: enrol, apply slices, survive restarts, and carry tenant
# traffic sealed with the controller's rotating ESP keys, and serve the volumes
# the controller attaches, under qemu-aarch64.
step "aarch64 card against the controller" env \
  BULKHEAD_CARD_COMMAND="qemu-aarch64 $PWD/.build-aarch64/release/bulkhead-card" \
  swift test --skip-build --filter "CardFirmwareAgainstControllerTests|UnderlayKeysBetweenCardsTests|VolumesThroughControllerTests"
step "fuzz" scripts/fuzz.sh "$fuzz_seconds"

echo
if [ "$failed" != 0 ]; then echo "failed steps: ${failures[*]}"; fi
echo "steps: $passed passed, $failed failed"
[ "$failed" = 0 ]
