// Micro-benchmark of the 8-bit convolution ck_conv_q against the same function from an older git revision
// of gemm_q.c, on the first (3-channel, 3x3 stride-2 SAME) CONV_2D of each 8-bit model plus a few 1x1
// layers of ssdlite_mobilenet_v2_person int8 (1 thread). Old and new run alternately in one process, best
// of N runs each, after reading 8 MB of other memory (so weights and input come from L3 as in the model);
// their output bytes must be identical (the old kernel is bit-exact with the reference). Build and run
// (REV: the revision to compare against, e.g. 1b55106):
//   git show REV:Sources/CKernels/gemm_q.c > /tmp/old_gemm_q.c
//   R="ck_gemm_q_depth ck_gemm_q_packed_count ck_gemm_q_row_sum_factor ck_gemm_q_padding ck_gemm_q_pack \
//      ck_gemm_q_disable_vnni ck_has_avx512_q ck_gemm_q_uses_vnni ck_conv_q_scratch_size ck_conv_q_tile_count \
//      ck_conv_q_narrow ck_conv_q ck_requantize ck_conv_q_fold_constant_channels"
//   clang -O2 -I Sources/CKernels -I Sources/CKernels/include $(for s in $R; do echo -D$s=old_$s; done) \
//      -c /tmp/old_gemm_q.c -o /tmp/old_gemm_q.o
//   clang -O2 -I Sources/CKernels/include Sources/CKernels/{cpu_features,gemm_q}.c /tmp/old_gemm_q.o \
//      benchmarks/speed/conv_q_bench.c -o /tmp/conv_q_bench && /tmp/conv_q_bench [portable|avx2|avx512|novnni] [runs] [shape index]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"

// The previous kernels (renamed at compile time, see above).
size_t old_ck_gemm_q_packed_count(int n, int k);
void old_ck_gemm_q_pack(const void *weights, int is_signed, int32_t input_offset, int32_t filter_offset,
                        const int32_t *bias, int n, int k, int8_t *packed, int32_t *column_terms);
size_t old_ck_conv_q_scratch_size(const ck_window *w);
int old_ck_conv_q_tile_count(const ck_window *w, int n);
int old_ck_conv_q_narrow(const ck_window *w, int n, const int32_t *column_terms, int32_t row_sum_factor,
                         const ck_requant *rq);
void old_ck_conv_q(const void *input, const ck_window *w, const int8_t *packed, int n, const int32_t *column_terms,
                   int32_t row_sum_factor, const ck_requant *rq, int narrow, void *out, int tile_begin, int tile_end,
                   uint8_t *scratch);
void old_ck_gemm_q_disable_vnni(int disabled);

typedef struct {
    const char *name;
    int h, w, c, oh, ow, oc, f, stride, is_signed;
    int32_t input_offset, filter_offset;  // filter offset -110: uint8 zero point 110, so row sums are needed
    int relu;  // relu6 as the models' first and expand layers (clamp from the output offset), else linear
} shape;

// Input h w c, output h w c, filter size, stride (from `ssd-energy inspect`); SAME padding.
static const shape shapes[] = {
    {"person int8 first", 300, 300, 3, 150, 150, 32, 3, 2, 1, 1, 0, 1},
    {"v1 uint8 first", 300, 300, 3, 150, 150, 32, 3, 2, 0, -128, -110, 1},
    {"ST int8 first", 256, 256, 3, 128, 128, 32, 3, 2, 1, 1, 0, 1},
    {"person 1x1", 150, 150, 32, 150, 150, 16, 1, 1, 1, 128, 0, 0},
    {"person 1x1", 150, 150, 16, 150, 150, 96, 1, 1, 1, 128, 0, 1},
    {"person 1x1", 75, 75, 24, 75, 75, 144, 1, 1, 1, 128, 0, 1},
    {"person 1x1", 75, 75, 96, 75, 75, 24, 1, 1, 1, 128, 0, 0},
    {"person 1x1", 75, 75, 144, 75, 75, 24, 1, 1, 1, 128, 0, 0},
    {"person 1x1", 19, 19, 384, 19, 19, 64, 1, 1, 1, 128, 0, 0},
    {"person 1x1", 38, 38, 32, 38, 38, 192, 1, 1, 1, 128, 0, 1},
    {"person 1x1", 19, 19, 96, 19, 19, 576, 1, 1, 1, 128, 0, 1},
    {"person 1x1", 10, 10, 160, 10, 10, 960, 1, 1, 1, 128, 0, 1},
    {"person 1x1", 10, 10, 960, 10, 10, 160, 1, 1, 1, 128, 0, 0},
    {"person 1x1", 10, 10, 320, 10, 10, 1280, 1, 1, 1, 128, 0, 1},
    {"person 1x1", 10, 10, 1280, 10, 10, 24, 1, 1, 1, 128, 0, 0},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *random_bytes(size_t n) {
    unsigned char *p = aligned_alloc(64, (n + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)rand();
    return p;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        ck_force_isa(!strcmp(argv[1], "portable") ? CK_ISA_PORTABLE : !strcmp(argv[1], "avx2") ? CK_ISA_AVX2_FMA : CK_ISA_AVX512);
        if (!strcmp(argv[1], "novnni")) { ck_gemm_q_disable_vnni(1); old_ck_gemm_q_disable_vnni(1); }
    }
    int runs = argc > 2 ? atoi(argv[2]) : 15;
    printf("isa %s%s, best of %d runs\n", ck_isa_name(ck_active_isa()), ck_gemm_q_uses_vnni() ? " vnni" : "", runs);
    const size_t evict_count = 8u << 20;
    unsigned char *evict = random_bytes(evict_count);
    volatile unsigned sink = 0;
    int mismatches = 0;
    const int only = argc > 3 ? atoi(argv[3]) : -1;  // one shape's index, for profiling
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        if (only >= 0 && (int)s != only) continue;
        const shape *sh = &shapes[s];
        // SAME padding: TFLite puts the odd padding pixel at the bottom/right.
        int pad_h = ((sh->oh - 1) * sh->stride + sh->f - sh->h) / 2, pad_w = ((sh->ow - 1) * sh->stride + sh->f - sh->w) / 2;
        ck_window w = {sh->h, sh->w, sh->c, sh->oh, sh->ow, sh->f, sh->f, sh->stride, sh->stride, 1, 1,
                       pad_h > 0 ? pad_h : 0, pad_w > 0 ? pad_w : 0};
        const int k = sh->f * sh->f * sh->c, n = sh->oc, m = sh->oh * sh->ow;
        uint8_t *input = random_bytes((size_t)sh->h * sh->w * sh->c), *weights = random_bytes((size_t)n * k);
        int padded = (n + 15) / 16 * 16;
        int32_t *bias = malloc(sizeof(int32_t) * n), *significand = calloc(padded, 4), *shift = calloc(padded, 4);
        for (int c = 0; c < n; c++) {
            bias[c] = rand() % 40000 - 20000;
            significand[c] = (1 << 30) + rand() % (1 << 30);
            shift[c] = -7 - rand() % 4;
        }
        int8_t *packed = malloc(ck_gemm_q_packed_count(n, k)), *packed_old = malloc(old_ck_gemm_q_packed_count(n, k));
        int32_t *terms = malloc(sizeof(int32_t) * padded), *terms_old = malloc(sizeof(int32_t) * padded);
        ck_gemm_q_pack(weights, sh->is_signed, sh->input_offset, sh->filter_offset, bias, n, k, packed, terms);
        old_ck_gemm_q_pack(weights, sh->is_signed, sh->input_offset, sh->filter_offset, bias, n, k, packed_old, terms_old);
        const int32_t factor = ck_gemm_q_row_sum_factor(sh->is_signed, sh->filter_offset);
        const int32_t low = sh->is_signed ? -128 : 0, high = sh->is_signed ? 127 : 255;
        const int32_t output_offset = sh->relu ? low : sh->is_signed ? -5 : 120;
        ck_requant rq = {sh->input_offset, output_offset, sh->relu ? output_offset : low, high, significand, shift,
                         sh->is_signed};
        uint8_t *scratch = malloc(ck_conv_q_scratch_size(&w)), *scratch_old = malloc(old_ck_conv_q_scratch_size(&w));
        int8_t *out_old = malloc((size_t)m * n), *out_new = malloc((size_t)m * n);
        // Once per layer, as the Swift kernel does.
        const int narrow = ck_conv_q_narrow(&w, n, terms, factor, &rq), narrow_old = old_ck_conv_q_narrow(&w, n, terms_old, factor, &rq);
        double best_old = 1e9, best_new = 1e9;
        for (int run = 0; run < runs; run++) {
            for (int variant = 0; variant < 2; variant++) {
                for (size_t i = 0; i < evict_count; i += 64) sink += evict[i];
                double t0 = now();
                if (variant == 0)
                    old_ck_conv_q(input, &w, packed_old, n, terms_old, factor, &rq, narrow_old, out_old, 0,
                                  old_ck_conv_q_tile_count(&w, n), scratch_old);
                else
                    ck_conv_q(input, &w, packed, n, terms, factor, &rq, narrow, out_new, 0, ck_conv_q_tile_count(&w, n), scratch);
                double t = now() - t0;
                if (variant == 0 && t < best_old) best_old = t;
                if (variant == 1 && t < best_new) best_new = t;
            }
        }
        int same = memcmp(out_old, out_new, (size_t)m * n) == 0;
        mismatches += !same;
        printf("%-18s %3dx%3dx%4d -> %4d f%d s%d%s: old %.3f ms  new %.3f ms  new/old %.3f%s\n", sh->name, sh->h, sh->w,
               sh->c, n, sh->f, sh->stride, sh->relu ? " relu6" : "", best_old * 1e3, best_new * 1e3, best_new / best_old,
               same ? "" : "  OUTPUTS DIFFER");
        free(input); free(weights); free(bias); free(significand); free(shift); free(packed); free(packed_old);
        free(terms); free(terms_old); free(scratch); free(scratch_old); free(out_old); free(out_new);
    }
    printf("%d shapes with different outputs\n", mismatches);
    return mismatches != 0;
}
