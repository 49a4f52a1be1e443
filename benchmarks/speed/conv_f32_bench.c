// Micro-benchmark of the float convolution kernels of Sources/CKernels on the convolution shapes of
// ssdlite_mobilenet_v2_person (1 thread, best of N runs per shape, so noise from other processes only
// ever makes a shape look slower). Before each run the bench reads 8 MB of other memory, so that, as in
// the model, a layer's weights and input come from the shared L3 cache rather than the core's L2 (not with
// CONV_BENCH_WARM=1: see person_f32_layers.h). Build with
// clang, as the package is (gcc ignores the kernels' `#pragma clang loop unroll` and runs them at half
// speed), and run; to compare two versions of the kernels use conv_f32_ab.sh instead:
//   clang -O2 -I Sources/CKernels/include Sources/CKernels/{cpu_features,gemm_f32,im2col_f32,depthwise_f32}.c \
//      benchmarks/speed/conv_f32_bench.c -o /tmp/conv_f32_bench && /tmp/conv_f32_bench [portable|avx2|avx512]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"
#include "person_f32_layers.h"

int main(int argc, char **argv) {
    if (argc > 1) ck_force_isa(!strcmp(argv[1], "portable") ? CK_ISA_PORTABLE
                               : !strcmp(argv[1], "avx2") ? CK_ISA_AVX2_FMA : CK_ISA_AVX512);
    int runs = argc > 2 ? atoi(argv[2]) : 15;
    printf("isa %s, best of %d runs\n", ck_isa_name(ck_active_isa()), runs);
    double total_conv = 0, total_depthwise = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const shape *sh = &shapes[s];
        ck_window w = layer_window(sh);
        int m = sh->oh * sh->ow, k = sh->f * sh->f * sh->c;
        float *input = random_floats((size_t)sh->h * sh->w * sh->c);
        float *output = random_floats((size_t)m * sh->oc);
        float *filter = random_floats((size_t)sh->oc * k), *bias = random_floats((size_t)sh->oc);
        float *packed = NULL, *columns = NULL;
        if (!sh->depthwise) {
            packed = random_floats(ck_packed_f32_count(sh->oc, k));
            ck_pack_f32(filter, bias, sh->oc, k, packed);
            if (sh->f != 1) columns = random_floats(ck_conv_f32_scratch_count(&w));
        }
        double best = 1e9;
        for (int r = 0; r < runs; r++) {
            evict_caches();
            double t0 = now();
            if (sh->depthwise) {
                ck_depthwise_f32(input, &w, filter, bias, output, 0.0f, 6.0f, 0, sh->oh, ck_active_isa());
            } else {
                int units = ck_gemm_f32_unit_count(m, sh->oc);
                if (columns) ck_conv_f32(input, &w, packed, sh->oc, output, 0.0f, 6.0f, 0, units, columns, ck_active_isa());
                else ck_gemm_f32(input, k, m, k, packed, sh->oc, output, sh->oc, 0.0f, 6.0f, 0, units, ck_active_isa());
            }
            double t = now() - t0;
            if (t < best) best = t;
        }
        double macs = (double)m * sh->oc * (sh->depthwise ? sh->f * sh->f : k);
        printf("%s %3dx%-3d %4d->%-4d f%d s%d x%d: %7.3f ms  %6.1f GFLOP/s\n", sh->depthwise ? "dw  " : "conv",
               sh->h, sh->w, sh->c, sh->oc, sh->f, sh->stride, sh->count, best * 1e3, 2 * macs / best * 1e-9);
        *(sh->depthwise ? &total_depthwise : &total_conv) += best * sh->count;
        free(input); free(output); free(filter); free(bias); free(packed); free(columns);
    }
    printf("total: conv %.3f ms, depthwise %.3f ms\n", total_conv * 1e3, total_depthwise * 1e3);
    return 0;
}
