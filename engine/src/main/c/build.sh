#!/bin/sh
# Compiles msts_bf16.c into OUTDIR/libmsts_bf16.so (called by engine/pom.xml on Linux x86-64).
# The kernels carry gcc target attributes, so any x86-64 gcc >= 10 builds them whatever this CPU is;
# whether the CPU runs them is decided at run time (msts_bf16_supported). Without a C compiler the
# build goes on without the library and msts computes --compute bf16 with the Vector API fallback.
set -eu
out="$1"
src="$(dirname "$0")/msts_bf16.c"
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "[msts] WARNING: no C compiler ($cc): libmsts_bf16.so not built; --compute bf16 will use the Vector API fallback" >&2
  exit 0
fi
mkdir -p "$out"
"$cc" -O3 -std=gnu11 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -o "$out/libmsts_bf16.so" "$src"
