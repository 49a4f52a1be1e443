#!/bin/sh
# Builds and runs conv_f32_ab.c: the float kernels at git revision REV (default HEAD) against the working
# tree, alternating in one process. Usage: benchmarks/speed/conv_f32_ab.sh [REV|DIR] [isa] [rounds] [conv|dw|first|band]
set -e
cd "$(dirname "$0")/../.."
rev=${1:-HEAD}; shift || true
old=$(mktemp -d)
for f in gemm_f32 im2col_f32 depthwise_f32; do
    # REV may also be a directory holding the old .c files (variants not yet committed).
    if [ -d "$rev" ]; then cp "$rev/$f.c" "$old/$f.c"; else git show "$rev:Sources/CKernels/$f.c" > "$old/$f.c"; fi
done
for f in gemm_f32 im2col_f32 depthwise_f32; do
    clang -O2 -I Sources/CKernels/include -include benchmarks/speed/old_prefix.h -c "$old/$f.c" -o "$old/$f.o"
done
clang -O2 -I Sources/CKernels/include Sources/CKernels/cpu_features.c Sources/CKernels/gemm_f32.c \
   Sources/CKernels/im2col_f32.c Sources/CKernels/depthwise_f32.c "$old"/*.o benchmarks/speed/conv_f32_ab.c \
   -o "$old/conv_f32_ab"
"$old/conv_f32_ab" "$@"
rm -rf "$old"
