// A/B micro-benchmark of the float convolution kernels: a committed version (HEAD, any git revision, or
// a directory of .c files) against the working tree, alternating the two on each layer shape of
// ssdlite_mobilenet_v2_person in ONE process, so load from other processes hits both alike. Reports per
// shape the ratio new/old of the minimum times and the median of the ratios of each round's adjacent pair
// of runs, and the totals weighted by how often each shape occurs in the model. Build and run from the
// repository root with benchmarks/speed/conv_f32_ab.sh [REV|DIR] [portable|avx2|avx512] [rounds]
// [conv|dw|first|band] (it compiles the old kernel sources with old_prefix.h, which renames their public
// symbols); CONV_BENCH_WARM=1 leaves each layer's data in cache between runs (person_f32_layers.h).
// `band` times each depthwise shape as a fused chain runs it: one band of output rows (300 pixels or more,
// FusedChain.defaultBandPixels) from the middle of the image, 20 times in a row, its input left in L2.
// Compiled with clang like the package: gcc ignores the `#pragma clang loop unroll` the kernels rely on.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"
#include "person_f32_layers.h"

// The committed kernels, compiled with old_prefix.h.
size_t old_ck_packed_f32_count(int n, int k);
void old_ck_pack_f32(const float *weights, const float *bias, int n, int k, float *packed);
int old_ck_gemm_f32_unit_count(int m, int n);
void old_ck_gemm_f32(const float *a, ptrdiff_t lda, int m, int k, const float *packed, int n, float *c,
                     ptrdiff_t ldc, float lo, float hi, int unit_begin, int unit_end, ck_isa isa);
size_t old_ck_conv_f32_scratch_count(const ck_window *w);
void old_ck_conv_f32(const float *input, const ck_window *w, const float *packed, int n, float *c, float lo,
                     float hi, int unit_begin, int unit_end, float *scratch, ck_isa isa);
void old_ck_depthwise_f32(const float *input, const ck_window *w, const float *filter, const float *bias,
                          float *output, float lo, float hi, int row_begin, int row_end, ck_isa isa);


// Depthwise output rows [band_begin, band_end) of a shape: all of them, or in `band` mode one band.
static int band_mode, band_begin, band_end;
enum { band_repeats = 20 };

// One run of the old (new = 0) or new version on a shape.
static void run_version(int new, const shape *sh, const ck_window *w, const float *input, const float *filter,
                        const float *bias, const float *packed, float *scratch, float *out, ck_isa isa) {
    int m = sh->oh * sh->ow, k = sh->f * sh->f * sh->c;
    if (sh->depthwise) {
        for (int repeat = 0; repeat < (band_mode ? band_repeats : 1); repeat++) {
            if (new) ck_depthwise_f32(input, w, filter, bias, out, 0.0f, 6.0f, band_begin, band_end, isa);
            else old_ck_depthwise_f32(input, w, filter, bias, out, 0.0f, 6.0f, band_begin, band_end, isa);
        }
    } else if (sh->f != 1) {
        if (new) ck_conv_f32(input, w, packed, sh->oc, out, 0.0f, 6.0f, 0, ck_gemm_f32_unit_count(m, sh->oc), scratch, isa);
        else old_ck_conv_f32(input, w, packed, sh->oc, out, 0.0f, 6.0f, 0, old_ck_gemm_f32_unit_count(m, sh->oc),
                             scratch, isa);
    } else {
        if (new) ck_gemm_f32(input, k, m, k, packed, sh->oc, out, sh->oc, 0.0f, 6.0f, 0,
                             ck_gemm_f32_unit_count(m, sh->oc), isa);
        else old_ck_gemm_f32(input, k, m, k, packed, sh->oc, out, sh->oc, 0.0f, 6.0f, 0,
                             old_ck_gemm_f32_unit_count(m, sh->oc), isa);
    }
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    ck_isa isa = CK_ISA_AVX512;
    if (argc > 1) isa = !strcmp(argv[1], "portable") ? CK_ISA_PORTABLE : !strcmp(argv[1], "avx2") ? CK_ISA_AVX2_FMA
                                                                                                 : CK_ISA_AVX512;
    if (isa > ck_detected_isa()) isa = ck_detected_isa();
    int rounds = argc > 2 ? atoi(argv[2]) : 15;
    const char *only = argc > 3 ? argv[3] : "";
    band_mode = !strcmp(only, "band");
    printf("isa %s, min of %d alternating rounds; ratio new/old%s\n", ck_isa_name(isa), rounds,
           band_mode ? "; depthwise bands as the fused chains run them, times per band" : "");
    double total_old[2] = {0, 0}, total_new[2] = {0, 0};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const shape *sh = &shapes[s];
        if ((!strcmp(only, "conv") && sh->depthwise) || ((!strcmp(only, "dw") || band_mode) && !sh->depthwise)
            || (!strcmp(only, "first") && s != 0))
            continue;
        band_begin = 0, band_end = sh->oh;
        if (band_mode) {
            int rows = (300 + sh->ow - 1) / sh->ow;
            band_begin = rows < sh->oh ? (sh->oh - rows) / 2 : 0;
            band_end = rows < sh->oh ? band_begin + rows : sh->oh;
        }
        ck_window w = layer_window(sh);
        int m = sh->oh * sh->ow, k = sh->f * sh->f * sh->c;
        size_t out_count = (size_t)m * sh->oc;
        float *input = random_floats((size_t)sh->h * sh->w * sh->c);
        float *out_old = random_floats(out_count), *out_new = random_floats(out_count);
        float *filter = random_floats((size_t)sh->oc * k), *bias = random_floats((size_t)sh->oc);
        float *packed_old = NULL, *packed_new = NULL, *scratch_old = NULL, *scratch_new = NULL;
        if (!sh->depthwise) {
            packed_old = random_floats(old_ck_packed_f32_count(sh->oc, k));
            old_ck_pack_f32(filter, bias, sh->oc, k, packed_old);
            packed_new = random_floats(ck_packed_f32_count(sh->oc, k));
            ck_pack_f32(filter, bias, sh->oc, k, packed_new);
            if (sh->f != 1) {
                scratch_old = random_floats(old_ck_conv_f32_scratch_count(&w));
                scratch_new = random_floats(ck_conv_f32_scratch_count(&w));
            }
        }
        double best[2] = {1e9, 1e9}, previous = 0;
        double *paired = malloc(sizeof(double) * (size_t)rounds);
        for (int r = 0; r < 2 * rounds; r++) {
            // Which version goes first alternates between rounds, so neither always follows the other.
            int new = (r & 1) ^ ((r >> 1) & 1);
            if (!band_mode) evict_caches();
            double t0 = now();
            run_version(new, sh, &w, input, filter, bias, new ? packed_new : packed_old,
                        new ? scratch_new : scratch_old, out_new, isa);
            double t = now() - t0;
            if (band_mode) t /= band_repeats;
            if (t < best[new]) best[new] = t;
            if (r & 1) paired[r / 2] = new ? t / previous : previous / t;
            previous = t;
        }
        qsort(paired, (size_t)rounds, sizeof(double), compare_doubles);
        double median_ratio = paired[rounds / 2];
        free(paired);
        // Both write the same output buffer while timed (so both see the same addresses); for this check the
        // old version writes its own.
        run_version(0, sh, &w, input, filter, bias, packed_old, scratch_old, out_old, isa);
        run_version(1, sh, &w, input, filter, bias, packed_new, scratch_new, out_new, isa);
        // A sanity check, not the test (that is OptimizedFloatKernelTests): both versions agree closely.
        double worst = 0;
        for (size_t i = (size_t)band_begin * sh->ow * sh->oc; i < (size_t)band_end * sh->ow * sh->oc && i < out_count; i++) {
            double d = out_new[i] - out_old[i];
            if (d < 0) d = -d;
            if (d > worst) worst = d;
        }
        printf("%s %3dx%-3d %4d->%-4d f%d s%d x%d", sh->depthwise ? "dw  " : "conv", sh->h, sh->w, sh->c, sh->oc,
               sh->f, sh->stride, sh->count);
        if (band_mode) printf(" rows %d-%d", band_begin, band_end);
        printf(": old %7.3f ms new %7.3f ms  new/old min %.3f median %.3f  max|diff| %.2g\n", best[0] * 1e3,
               best[1] * 1e3, best[1] / best[0], median_ratio, worst);
        total_old[sh->depthwise] += best[0] * sh->count;
        total_new[sh->depthwise] += best[1] * sh->count;
        free(input); free(out_old); free(out_new); free(filter); free(bias);
        free(packed_old); free(packed_new); free(scratch_old); free(scratch_new);
    }
    for (int d = 0; d < 2; d++)
        if (total_old[d] > 0)
            printf("total %s: old %.3f ms new %.3f ms new/old %.3f\n", d ? "depthwise" : "conv", total_old[d] * 1e3,
                   total_new[d] * 1e3, total_new[d] / total_old[d]);
    return 0;
}
