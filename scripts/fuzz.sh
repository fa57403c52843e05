#!/usr/bin/env bash
# Builds and runs the libFuzzer targets in Fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 60 s each, all targets)
#
# Targets are built and run FUZZ_JOBS at a time (default: the number of
# cores), each run for SECONDS.
#
# A target is a folder Fuzz/NAME holding Swift files with
# `@_cdecl("LLVMFuzzerTestOneInput")`, and a file `modules` that lists the
# portable modules it needs, in dependency order, one per line (each is
# compiled from Sources/MODULE/ with -sanitize=fuzzer,address). A C shim
# module (Sources/MODULE/*.c with include/) is compiled with clang and
# given a module map; a line `-lNAME` links a system library.
# Exits non-zero on the first crash, leak or out-of-bounds access; the
# reproducer is kept under .build-fuzz/NAME/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
  shopt -s nullglob
  for d in Fuzz/*/; do targets+=("$(basename "$d")"); done
  [ ${#targets[@]} = 0 ] && { echo "fuzz: no targets in Fuzz/"; exit 0; }
fi
flags=(-O -sanitize=fuzzer,address -parse-as-library -g)
build_target() {
  local t="$1"
  out=".build-fuzz/$t"; mkdir -p "$out/lib" "$out/corpus" "$out/artifacts"
  libs=(); clibs=()
  syslibs=()
  while read -r m; do
    [ -z "$m" ] && continue
    if [[ "$m" == -l* ]]; then syslibs+=("$m"); continue; fi
    if ! compgen -G "Sources/$m/*.swift" > /dev/null; then
      # A C shim: objects into lib$m.a, a module map naming its headers.
      mkdir -p "$out/lib/$m" "$out/obj/$m"
      for c in Sources/"$m"/*.c; do
        clang -O1 -g -fsanitize=fuzzer-no-link,address -I "Sources/$m/include" -c "$c" \
          -o "$out/obj/$m/$(basename "$c" .c).o"
      done
      rm -f "$out/lib/lib$m.a"; ar rcs "$out/lib/lib$m.a" "$out/obj/$m"/*.o
      { echo "module $m {"; for h in "$PWD"/Sources/"$m"/include/*.h; do echo "  header \"$h\""; done
        echo "  export *"; echo "}"; } > "$out/lib/$m/module.modulemap"
      clibs+=(-I "$out/lib/$m"); libs+=("-l$m"); continue
    fi
    swiftc "${flags[@]}" -emit-module -emit-library -static -module-name "$m" \
      -I "$out/lib" "${clibs[@]}" -L "$out/lib" "${libs[@]}" Sources/"$m"/*.swift \
      -emit-module-path "$out/lib/$m.swiftmodule" -o "$out/lib/lib$m.a" 2>&1 | grep -v 'Cannot export local symbol' || true
    [ -f "$out/lib/lib$m.a" ] || { echo "fuzz: $m did not build" >&2; exit 1; }
    libs+=("-l$m")
  done < "Fuzz/$t/modules"
  # Static libraries link dependents first: the reverse of the build order.
  link=(); for ((i = ${#libs[@]} - 1; i >= 0; i--)); do link+=("${libs[$i]}"); done
  swiftc "${flags[@]}" -I "$out/lib" "${clibs[@]}" -L "$out/lib" "${link[@]}" "${syslibs[@]}" Fuzz/"$t"/*.swift -o "$out/fuzzer" 2>&1 \
    | grep -v 'Cannot export local symbol' || true
  [ -x "$out/fuzzer" ] || { echo "fuzz: $t did not build" >&2; exit 1; }
  [ -d "Fuzz/$t/seeds" ] && cp -n Fuzz/"$t"/seeds/* "$out/corpus/" 2>/dev/null || true
}

run_target() {
  local t="$1" out=".build-fuzz/$1"
  echo "fuzz: $t for ${seconds}s"
  "$out/fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
    "$out/corpus" > "$out/log" 2>&1 || { tail -40 "$out/log"; echo "fuzz: $t FAILED (artifacts in $out/artifacts)" >&2; exit 1; }
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$out/log" | grep -Eo '[0-9]+$' || echo "?")
  echo "fuzz: $t passed, $runs inputs, 0 crashes"
}

jobs_max="${FUZZ_JOBS:-$(nproc)}"
pids=(); names=(); failed=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 1; done
  (build_target "$t" && run_target "$t") & pids+=($!); names+=("$t")
done
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
if [ ${#failed[@]} != 0 ]; then echo "fuzz: failed: ${failed[*]}" >&2; exit 1; fi
