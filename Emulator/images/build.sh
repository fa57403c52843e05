#!/usr/bin/env bash
# Builds a guest image (kernel + initramfs) from Debian packages, without
# installing any of them on the host:
#   - the Debian cloud kernel (the concrete linux-image-*-cloud-* that the
#     linux-image-cloud-* metapackage depends on) and the modules listed in
#     `modules`, with their dependencies, `depmod -b` run on the copy;
#   - the programs listed in `packages`, plus the shared libraries and the
#     dynamic loader they need, found by following ELF NEEDED entries through
#     the extracted library packages;
#   - `init` as /init.
#
#   Emulator/images/build.sh [--out DIR] [--arch x86_64|aarch64]
#
# The image is cached under .cache/images/<recipe hash>/ (or DIR) and rebuilt
# only when the recipe (this script, `packages`, `modules`, `init`) changes.
# Progress goes to stderr; the image directory is printed on stdout. It holds
# `vmlinuz`, `initrd.cpio`, one `initrd-<add-on>.cpio` per add-on named in
# `packages`, and `manifest` (kernel and package versions).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arch=x86_64
out=""

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --arch) arch="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

case "$arch" in
  x86_64) debarch=amd64; triplet=x86_64-linux-gnu ;;
  aarch64) debarch=arm64; triplet=aarch64-linux-gnu ;;
  *) echo "build.sh: --arch must be x86_64 or aarch64, not '$arch'" >&2; exit 2 ;;
esac

started=$(date +%s.%N)
say() { echo "image: $*" >&2; }

# The recipe hash names the image: any change to what goes in rebuilds it.
recipe_hash=$( (echo "$arch"; cat "$here/build.sh" "$here/packages" "$here/modules" "$here/init") \
  | sha256sum | cut -c1-16)
cache="$repo/.cache/images"
image="${out:-$cache/$recipe_hash-$arch}"

if [ -f "$image/recipe-hash" ] && [ "$(cat "$image/recipe-hash")" = "$recipe_hash" ]; then
  say "up to date ($image)"
  echo "$image"
  exit 0
fi

for tool in apt-get apt-cache dpkg-deb depmod modprobe readelf cpio; do
  command -v "$tool" >/dev/null || { echo "build.sh: '$tool' is missing (run scripts/setup.sh)" >&2; exit 1; }
done

# Apt must know the target architecture's packages for a foreign build.
qualify() { if [ "$debarch" = "$(dpkg --print-architecture)" ]; then echo "$1"; else echo "$1:$debarch"; fi; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
debs="$cache/debs/$debarch"
mkdir -p "$debs"
root="$work/root"   # the image tree
tree="$work/tree"   # every downloaded package, extracted
mkdir -p "$root" "$tree"

# --- which packages -----------------------------------------------------------
meta=$(qualify "linux-image-cloud-$debarch")
kernel_pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$kernel_pkg" ]; then
  echo "build.sh: cannot resolve $meta (run 'apt-get update'; for aarch64 also 'dpkg --add-architecture arm64')" >&2
  exit 1
fi
kernel_pkg=${kernel_pkg%%:*}
kver=${kernel_pkg#linux-image-}

programs=$(grep -v '^\s*#' "$here/packages" | awk 'NF {print $2}')
# Library packages the programs depend on, recursively (Depends only): the
# NEEDED closure below picks the files that are actually used.
libraries=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances $(for p in $programs; do qualify "$p"; done) 2>/dev/null \
  | grep -v '^ ' | sed 's/:.*//' | grep -E '^(lib|zlib1g)' | grep -vE -- '-(dev|bin|common|data|doc|perl)$' | sort -u)
wanted=$(printf '%s\n' "$kernel_pkg" $programs $libraries | sort -u)
count=$(echo "$wanted" | wc -l)

# --- download ------------------------------------------------------------------
missing=""
for p in $wanted; do
  compgen -G "$debs/${p}_*_$debarch.deb" >/dev/null || compgen -G "$debs/${p}_*_all.deb" >/dev/null \
    || missing="$missing $(qualify "$p")"
done
if [ -n "$missing" ]; then
  say "downloading $(echo $missing | wc -w) of $count packages"
  # One package apt cannot select fails the whole batch: then go one by one,
  # so that only that package is missing (the checks below name it).
  # (apt warns that it downloads as root, unsandboxed: the folder is root's.)
  if ! (cd "$debs" && apt-get download -q $missing >/dev/null 2>"$work/apt.log"); then
    for p in $missing; do
      (cd "$debs" && apt-get download -q "$p" >/dev/null 2>>"$work/apt.log") || say "apt cannot download $p"
    done
  fi
else
  say "all $count packages already downloaded"
fi

# --- extract -------------------------------------------------------------------
say "extracting $count packages"
: > "$work/manifest"
for p in $wanted; do
  deb=$(ls -t "$debs/${p}_"*"_$debarch.deb" "$debs/${p}_"*"_all.deb" 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    # A library package may be one nothing needs; the NEEDED closure
    # fails by name if it was needed after all.
    case " $libraries " in *" $p "*) continue ;; esac
    echo "build.sh: package $p did not download:" >&2
    cat "$work/apt.log" >&2 2>/dev/null || true
    exit 1
  fi
  dpkg-deb -x "$deb" "$tree"
  echo "$p $(dpkg-deb -f "$deb" Version)" >> "$work/manifest"
done

# Follows symbolic links inside the extracted tree (absolute links point into
# the tree, not at the host).
resolve() {
  local path="$1" target n=0
  while [ -L "$tree$path" ] && [ $n -lt 20 ]; do
    target=$(readlink "$tree$path")
    case "$target" in /*) path="$target" ;; *) path="$(dirname "$path")/$target" ;; esac
    n=$((n + 1))
  done
  realpath -m -s "$path"
}

lib_dirs="/lib/$triplet /usr/lib/$triplet /lib /usr/lib"
find_library() {  # NAME [RUNPATH dirs...]
  local d name="$1"; shift
  for d in "$@" $lib_dirs; do
    if [ -e "$tree$d/$name" ]; then echo "$d/$name"; return 0; fi
  done
  return 1
}

# --- programs and their libraries ---------------------------------------------
# copy_programs IMAGE DEST: copies the programs of IMAGE (first column of
# `packages`) into the tree DEST, then the breadth-first closure over their
# DT_NEEDED entries. Libraries land in DEST/lib, which the dynamic loader
# searches by default; the loader goes where PT_INTERP says. A library that
# the base tree already has is not copied again.
copy_programs() {
  local image="$1" dest="$2" queue="" next f real interp dynamic runpath lib src
  local -A seen=()
  mkdir -p "$dest/lib" "$dest/etc/bulkhead"
  # An add-on's archive is unpacked over the base: its list must hold both.
  [ "$dest" = "$root" ] || cp "$root/etc/bulkhead/programs" "$dest/etc/bulkhead/programs"
  while read -r _ pkg files; do
    for f in $files; do
      real=$(resolve "$f")
      [ -f "$tree$real" ] || { echo "build.sh: $pkg has no $f" >&2; exit 1; }
      mkdir -p "$dest$(dirname "$f")"
      cp "$tree$real" "$dest$f"
      echo "$f" >> "$dest/etc/bulkhead/programs"
      queue="$queue $f"
    done
  done < <(grep -v '^\s*#' "$here/packages" | awk -v i="$image" 'NF && $1 == i')
  while [ -n "${queue// /}" ]; do
    next=""
    for f in $queue; do
      interp=$(readelf -lW "$dest$f" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
      if [ -n "$interp" ] && [ -z "${seen[$interp]:-}" ] && [ ! -e "$root$interp" ]; then
        seen[$interp]=1
        mkdir -p "$dest$(dirname "$interp")"
        cp "$tree$(resolve "$interp")" "$dest$interp"
      fi
      dynamic=$(readelf -dW "$dest$f" 2>/dev/null || true)
      # RUNPATH entries name folders of the original install (e.g. a private
      # library folder); $ORIGIN is not used by the packages we take.
      runpath=$(echo "$dynamic" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p' | tr ':' ' ')
      for lib in $(echo "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ -z "${seen[$lib]:-}" ] || continue
        seen[$lib]=1
        [ "$dest" = "$root" ] || [ ! -e "$root/lib/$lib" ] || continue
        src=$(find_library "$lib" $runpath) || { echo "build.sh: no package provides $lib (needed by $f)" >&2; exit 1; }
        cp "$tree$(resolve "$src")" "$dest/lib/$lib"
        next="$next /lib/$lib"
      done
    done
    queue="$next"
  done
}

say "copying programs and their shared libraries"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,proc,sys,dev,tmp,run,etc/bulkhead,mnt}
copy_programs base "$root"
addons=$(grep -v '^\s*#' "$here/packages" | awk 'NF && $1 != "base" {print $1}' | sort -u)
for a in $addons; do
  say "add-on $a"
  copy_programs "$a" "$work/addon-$a"
done
ln -sf busybox "$root/bin/sh"

# --- kernel and modules --------------------------------------------------------
say "kernel $kver: resolving modules"
depmod -b "$tree" "$kver"
# Lines of `modules` for this architecture: "when module [arch]".
module_lines() { grep -v '^\s*#' "$here/modules" | awk -v a="$arch" 'NF && (NF < 3 || $3 == a)'; }
mods=$(module_lines | awk '{print $2}')
for m in $mods; do
  deps=$(modprobe -d "$tree" -S "$kver" --show-depends "$m" 2>/dev/null) \
    || { echo "build.sh: kernel $kver has no module '$m'" >&2; exit 1; }
  echo "$deps" | awk '$1 == "insmod" {print $2}' | while read -r ko; do
    rel=${ko#"$tree"}
    mkdir -p "$root$(dirname "$rel")"
    cp "$ko" "$root$rel"
  done
done
cp "$tree/lib/modules/$kver/modules.order" "$tree/lib/modules/$kver/modules.builtin"* "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"
module_lines | awk '$1 == "boot" {print $2}' > "$root/etc/bulkhead/modules-boot"
say "$(find "$root/lib/modules" -name "*.ko*" | wc -l) modules"

install -m 0755 "$here/init" "$root/init"
echo "$kver" > "$root/etc/bulkhead/kernel"
echo "$recipe_hash" > "$root/etc/bulkhead/recipe"

# --- archive -------------------------------------------------------------------
say "writing the initramfs"
mkdir -p "$image.partial"
cp "$tree/boot/vmlinuz-$kver" "$image.partial/vmlinuz" 2>/dev/null \
  || cp "$tree/boot/vmlinux-$kver" "$image.partial/vmlinuz"
# Uncompressed: QEMU loads it as is, and a TCG guest decompresses slowly.
archive() { (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0); }
archive "$root" > "$image.partial/initrd.cpio"
for a in $addons; do
  { cat "$image.partial/initrd.cpio"; archive "$work/addon-$a"; } > "$image.partial/initrd-$a.cpio"
done
{ echo "arch $arch"; echo "recipe $recipe_hash"; echo "kernel $kver"; cat "$work/manifest"; } > "$image.partial/manifest"
echo "$recipe_hash" > "$image.partial/recipe-hash"
rm -rf "$image"
mv "$image.partial" "$image"
# Older recipes' images are dead weight (about 100 MB each).
if [ -z "$out" ]; then
  for old in "$cache"/*-"$arch"; do
    [ "$old" = "$image" ] || rm -rf "$old"
  done
fi

sizes=$(cd "$image" && for f in initrd*.cpio; do printf ' %s %s KiB' "$f" "$(du -k "$f" | cut -f1)"; done)
say "done in $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $started}") s:$sizes ($image)"
echo "$image"
