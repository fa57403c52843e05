#!/usr/bin/env bash
# Formats the Swift sources with the committed .swift-format.
#
#   scripts/format.sh           rewrite files in place
#   scripts/format.sh --check   change nothing; list files that are not formatted, exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r f; do files+=("$f"); done < <(git ls-files --cached --others --exclude-standard '*.swift')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    if ! swift format format "$f" 2>/dev/null | cmp -s - "$f"; then echo "not formatted: $f"; bad=1; fi
  done
  [ $bad = 0 ] || { echo "format: run scripts/format.sh to fix" >&2; exit 1; }
  echo "format: ${#files[@]} files formatted"
else
  swift format format --in-place --parallel "${files[@]}"
fi
