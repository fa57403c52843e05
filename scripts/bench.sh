#!/usr/bin/env bash
# Runs every benchmark program (Benchmarks/*, built -c release) one after the
# other; each prints its figures beside a peer's from the same run.
#
#   scripts/bench.sh            all
#   scripts/bench.sh crypto     only bench-crypto (names: the Benchmarks/ folder, lowercase)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d)"
names=("$@")
if [ ${#names[@]} = 0 ]; then
  shopt -s nullglob
  for d in Benchmarks/*/; do names+=("$(basename "$d" | tr 'A-Z' 'a-z')"); done
fi
# bench-hostfunctions runs the card's firmware.
swift build -c release --product bulkhead-card >/dev/null
for n in "${names[@]}"; do
  echo; echo "==> bench-$n"
  swift build -c release --product "bench-$n" >/dev/null
  ".build/release/bench-$n"
done
