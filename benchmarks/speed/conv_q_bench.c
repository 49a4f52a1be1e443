// Micro-benchmark of the fused 8-bit convolution ck_conv_q against the previous two-pass kernel
// (ck_gemm_q_rows then ck_gemm_q, from git revision 499efe9) on the CONV_2D shapes of
// ssdlite_mobilenet_v2_person int8 (1 thread). Old and new run alternately in one process, best of N runs
// each, after reading 8 MB of other memory (so weights and input come from L3 as in the model); their
// output bytes must be identical (the old kernel is bit-exact with the reference). Build and run:
//   git show 499efe9:Sources/CKernels/gemm_q.c > /tmp/old_gemm_q.c
//   R="ck_gemm_q_depth ck_gemm_q_packed_count ck_gemm_q_row_sum_factor ck_gemm_q_padding ck_gemm_q_pack \
//      ck_gemm_q_rows ck_gemm_q_row_sums ck_gemm_q_disable_vnni ck_has_avx512_q ck_gemm_q_uses_vnni \
//      ck_gemm_q_tile_count ck_gemm_q ck_requantize"
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
void old_ck_gemm_q_rows(const void *input, int is_signed, int32_t input_offset, const ck_window *w, int row_begin,
                        int row_end, int row_length, uint8_t *rows, int32_t *row_sums);
int old_ck_gemm_q_tile_count(int m, int n);
void old_ck_gemm_q(const uint8_t *a, ptrdiff_t lda, const int32_t *row_sums, int32_t row_sum_factor, int m, int k,
                   const int8_t *packed, int n, const int32_t *column_terms, const ck_requant *rq, void *out,
                   ptrdiff_t ldc, int tile_begin, int tile_end);
void old_ck_gemm_q_disable_vnni(int disabled);

typedef struct { int count, h, w, c, oh, ow, oc, f, stride; } shape;

// count, input h w c, output h w c, filter size, stride (from `ssd-energy inspect`).
static const shape shapes[] = {
    {1, 300, 300, 3, 150, 150, 32, 3, 2},
    {1, 150, 150, 32, 150, 150, 16, 1, 1}, {1, 150, 150, 16, 150, 150, 96, 1, 1},
    {1, 75, 75, 96, 75, 75, 24, 1, 1}, {2, 75, 75, 24, 75, 75, 144, 1, 1},
    {1, 75, 75, 144, 75, 75, 24, 1, 1}, {1, 38, 38, 144, 38, 38, 32, 1, 1},
    {3, 38, 38, 32, 38, 38, 192, 1, 1}, {2, 38, 38, 192, 38, 38, 32, 1, 1},
    {1, 19, 19, 192, 19, 19, 64, 1, 1}, {4, 19, 19, 64, 19, 19, 384, 1, 1},
    {3, 19, 19, 384, 19, 19, 64, 1, 1}, {1, 19, 19, 384, 19, 19, 96, 1, 1},
    {3, 19, 19, 96, 19, 19, 576, 1, 1}, {2, 19, 19, 576, 19, 19, 96, 1, 1},
    {1, 19, 19, 576, 19, 19, 12, 1, 1}, {1, 19, 19, 576, 19, 19, 6, 1, 1},
    {1, 10, 10, 576, 10, 10, 160, 1, 1}, {3, 10, 10, 160, 10, 10, 960, 1, 1},
    {2, 10, 10, 960, 10, 10, 160, 1, 1}, {1, 10, 10, 960, 10, 10, 320, 1, 1},
    {1, 10, 10, 320, 10, 10, 1280, 1, 1}, {1, 10, 10, 1280, 10, 10, 256, 1, 1},
    {1, 10, 10, 1280, 10, 10, 24, 1, 1}, {1, 10, 10, 1280, 10, 10, 12, 1, 1},
    {1, 5, 5, 256, 5, 5, 512, 1, 1}, {1, 5, 5, 512, 5, 5, 128, 1, 1},
    {1, 5, 5, 512, 5, 5, 24, 1, 1}, {1, 5, 5, 512, 5, 5, 12, 1, 1},
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
    double total_old = 0, total_new = 0;
    int mismatches = 0;
    const int only = argc > 3 ? atoi(argv[3]) : -1;  // one shape's index, for profiling
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        if (only >= 0 && (int)s != only) continue;
        const shape *sh = &shapes[s];
        ck_window w = {sh->h, sh->w, sh->c, sh->oh, sh->ow, sh->f, sh->f, sh->stride, sh->stride, 1, 1,
                       sh->f == 3 ? 0 : 0, sh->f == 3 ? 0 : 0};
        const int k = sh->f * sh->f * sh->c, n = sh->oc, m = sh->oh * sh->ow, depth = ck_gemm_q_depth(k);
        int8_t *input = random_bytes((size_t)sh->h * sh->w * sh->c), *weights = random_bytes((size_t)n * k);
        int padded = (n + 15) / 16 * 16;
        int32_t *bias = malloc(sizeof(int32_t) * n), *significand = calloc(padded, 4), *shift = calloc(padded, 4);
        for (int c = 0; c < n; c++) {
            bias[c] = rand() % 40000 - 20000;
            significand[c] = (1 << 30) + rand() % (1 << 30);
            shift[c] = -7 - rand() % 4;
        }
        int8_t *packed = malloc(ck_gemm_q_packed_count(n, k));
        int32_t *terms = malloc(sizeof(int32_t) * padded);
        const int32_t input_offset = 128;  // input zero point -128, as after the model's QUANTIZE
        ck_gemm_q_pack(weights, 1, input_offset, 0, bias, n, k, packed, terms);
        ck_requant rq = {input_offset, -5, -128, 127, significand, shift, 1};
        uint8_t *rows = malloc((size_t)m * depth), *scratch = malloc(ck_conv_q_scratch_size(&w));
        int8_t *out_old = malloc((size_t)m * n), *out_new = malloc((size_t)m * n);
        const int narrow = ck_conv_q_narrow(&w, n, terms, 0, &rq);  // once per layer, as the Swift kernel does
        double best_old = 1e9, best_new = 1e9;
        for (int run = 0; run < runs; run++) {
            for (int variant = 0; variant < 2; variant++) {
                for (size_t i = 0; i < evict_count; i += 64) sink += evict[i];
                double t0 = now();
                if (variant == 0) {
                    old_ck_gemm_q_rows(input, 1, input_offset, &w, 0, sh->oh, depth, rows, NULL);
                    old_ck_gemm_q(rows, depth, NULL, 0, m, k, packed, n, terms, &rq, out_old, n, 0,
                                  old_ck_gemm_q_tile_count(m, n));
                } else {
                    ck_conv_q(input, &w, packed, n, terms, 0, &rq, narrow, out_new, 0, ck_conv_q_tile_count(&w, n), scratch);
                }
                double t = now() - t0;
                if (variant == 0 && t < best_old) best_old = t;
                if (variant == 1 && t < best_new) best_new = t;
            }
        }
        int same = memcmp(out_old, out_new, (size_t)m * n) == 0;
        mismatches += !same;
        total_old += best_old * sh->count;
        total_new += best_new * sh->count;
        printf("%dx %3dx%3dx%4d -> %4d f%d s%d: old %.3f ms  new %.3f ms  new/old %.2f%s\n", sh->count, sh->h, sh->w,
               sh->c, n, sh->f, sh->stride, best_old * 1e3, best_new * 1e3, best_new / best_old,
               same ? "" : "  OUTPUTS DIFFER");
        free(input); free(weights); free(bias); free(significand); free(shift); free(packed); free(terms);
        free(rows); free(scratch); free(out_old); free(out_new);
    }
    printf("total: old %.3f ms  new %.3f ms  new/old %.2f, %d shapes with different outputs\n", total_old * 1e3,
           total_new * 1e3, total_new / total_old, mismatches);
    return mismatches != 0;
}
