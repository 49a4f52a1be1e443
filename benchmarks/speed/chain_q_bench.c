// Micro-benchmark of the fused 8-bit chains (chain_q.c) against the same layers run one by one
// (ck_conv_q, ck_depthwise_q, ck_conv_q through full intermediate tensors), on the chain shapes of
// ssdlite_mobilenet_v2_person_int8, 1 thread, random int8 weights. Fused and unfused runs alternate in
// one process (noise from other processes hits both); each prints the median of many runs and the
// ratio fused / unfused, for several band heights (or row counts from byte budgets; FusedQuantizedChain.swift's bandBytes is the default).
// Before each run it reads 8 MB of other memory, so the weights and the chain's input come from L3 as
// in the model. Build with clang as the package is, then run:
//   clang -O2 -I Sources/CKernels/include Sources/CKernels/{cpu_features,gemm_q,depthwise_q,chain_q}.c \
//      benchmarks/speed/chain_q_bench.c -o /tmp/chain_q_bench && /tmp/chain_q_bench [runs]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"

// count in the model, h, w of the depthwise input, input channels (0: no expand), expanded channels,
// depthwise stride, project channels (0: no project)
typedef struct { int count, h, w, in, mid, stride, out; } chain_shape;

static const chain_shape shapes[] = {
    {1, 150, 150, 0, 32, 1, 16},  {1, 150, 150, 16, 96, 2, 24}, {1, 75, 75, 24, 144, 1, 24},
    {1, 75, 75, 24, 144, 2, 32},  {2, 38, 38, 32, 192, 1, 32},  {1, 38, 38, 32, 192, 2, 64},
    {3, 19, 19, 64, 384, 1, 64},  {1, 19, 19, 64, 384, 1, 96},  {2, 19, 19, 96, 576, 1, 96},
    {1, 19, 19, 96, 576, 2, 160}, {2, 10, 10, 160, 960, 1, 160}, {1, 10, 10, 160, 960, 1, 320},
    {2, 19, 19, 0, 576, 1, 12},   {2, 10, 10, 0, 1280, 1, 12},  {1, 5, 5, 0, 512, 1, 12},
    {1, 2, 2, 0, 256, 1, 12},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned char flush_buffer[8 << 20];
static void flush_caches(void) {
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < sizeof flush_buffer; i += 64) sink ^= flush_buffer[i];
    (void)sink;
}

static void fill(void *p, size_t n) {
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(rand() >> 7);
}

typedef struct {
    ck_pointwise_q layer;
    ck_requant rq;
    int32_t significand[4096], shift[4096];
} pointwise_setup;

static void requant_setup(ck_requant *rq, int32_t *significand, int32_t *shift, int channels) {
    for (int c = 0; c < (channels + 15) / 16 * 16; c++) {
        significand[c] = (1 << 30) + rand() % (1 << 29);
        shift[c] = -7 - rand() % 3;
    }
    *rq = (ck_requant){.input_offset = 128 - rand() % 256, .output_offset = rand() % 256 - 128, .activation_min = -128,
                       .activation_max = 127, .significand = significand, .shift = shift, .is_signed = 1};
}

static void pointwise_make(pointwise_setup *p, int h, int w, int in, int out) {
    int8_t *weights = malloc((size_t)in * out);
    int32_t *bias = malloc(sizeof(int32_t) * out);
    fill(weights, (size_t)in * out);
    for (int i = 0; i < out; i++) bias[i] = rand() % 4000 - 2000;
    requant_setup(&p->rq, p->significand, p->shift, out);
    int8_t *packed = aligned_alloc(64, (ck_gemm_q_packed_count(out, in) + 63) / 64 * 64);
    int32_t *terms = aligned_alloc(64, ((out + 15) / 16 * 16 * 4 + 63) / 64 * 64);
    ck_gemm_q_pack(weights, 1, p->rq.input_offset, 0, bias, out, in, packed, terms);
    p->layer = (ck_pointwise_q){.window = {h, w, in, h, w, 1, 1, 1, 1, 1, 1, 0, 0}, .packed = packed, .n = out,
                                .column_terms = terms, .row_sum_factor = ck_gemm_q_row_sum_factor(1, 0), .rq = &p->rq};
    // As the Swift kernel does once per layer.
    ck_conv_q_fold_constant_channels(&p->layer.window, out, terms, p->layer.row_sum_factor, &p->rq, p->significand, p->shift);
    p->layer.narrow = ck_conv_q_narrow(&p->layer.window, out, terms, p->layer.row_sum_factor, &p->rq);
    free(weights);
    free(bias);
}

static void pointwise_run(const ck_pointwise_q *p, const void *in, void *out, uint8_t *scratch) {
    ck_conv_q(in, &p->window, p->packed, p->n, p->column_terms, p->row_sum_factor, p->rq, p->narrow, out, 0,
              ck_conv_q_tile_count(&p->window, p->n), scratch);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, compare_doubles);
    return v[n / 2];
}

int main(int argc, char **argv) {
    const int runs = argc > 1 ? atoi(argv[1]) : 40;
    // > 0: rows per band; <= 0: rows from a byte budget of -value KB (0: 96 KB)
    const int bands[] = {0, -192, -384, -768, 2, 8};
    const int band_count = sizeof bands / sizeof bands[0];
    srand(1);
    fill(flush_buffer, sizeof flush_buffer);
    double total_unfused = 0, total_fused[8] = {0};
    printf("%-28s %9s", "chain (h w in>mid s out)", "unfused");
    for (int b = 0; b < band_count; b++) printf("  band %-2d", bands[b]);
    printf("   (us, median of %d; ratio fused/unfused)\n", runs);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const chain_shape c = shapes[s];
        const int pad = c.stride == 1 ? 1 : 0;  // SAME: 3x3 stride 1 pads 1; stride 2 on even sizes pads 0 on top
        const int oh = (c.h + c.stride - 1) / c.stride, ow = (c.w + c.stride - 1) / c.stride;
        const int in_channels = c.in ? c.in : c.mid;
        static pointwise_setup expand, project;
        if (c.in) pointwise_make(&expand, c.h, c.w, c.in, c.mid);
        if (c.out) pointwise_make(&project, oh, ow, c.mid, c.out);
        static int32_t dw_significand[4096], dw_shift[4096];
        ck_requant dw_rq;
        requant_setup(&dw_rq, dw_significand, dw_shift, c.mid);
        int8_t *dw_weights = malloc((size_t)9 * c.mid);
        fill(dw_weights, (size_t)9 * c.mid);
        int32_t *dw_filter = malloc(sizeof(int32_t) * ck_depthwise_q_packed_count(9, c.mid));
        ck_depthwise_q_pack(dw_weights, 1, 0, dw_rq.input_offset, NULL, 9, c.mid, dw_filter);
        ck_window dw_window = {c.h, c.w, c.mid, oh, ow, 3, 3, c.stride, c.stride, 1, 1,
                               c.stride == 1 ? pad : ((oh - 1) * 2 + 3 - c.h) / 2,
                               c.stride == 1 ? pad : ((ow - 1) * 2 + 3 - c.w) / 2};
        const size_t x_bytes = (size_t)c.h * c.w * in_channels, e_bytes = (size_t)c.h * c.w * c.mid;
        const size_t d_bytes = (size_t)oh * ow * c.mid, y_bytes = (size_t)oh * ow * (c.out ? c.out : c.mid);
        uint8_t *x = malloc(x_bytes), *e = malloc(e_bytes), *d = malloc(d_bytes), *y = malloc(y_bytes);
        uint8_t *y_fused = malloc(y_bytes);
        fill(x, x_bytes);
        uint8_t *gemm_scratch = malloc(1 << 20);
        ck_chain_q chain = {.expand = c.in ? &expand.layer : NULL,
                            .depthwise = {.window = dw_window, .filter = dw_filter, .rq = &dw_rq},
                            .project = c.out ? &project.layer : NULL};
        int band_rows[8];
        for (int b = 0; b < band_count; b++) {
            int per_band = (c.in ? c.stride * c.w * c.mid : 0) + (c.out ? ow * c.mid : 0);
            int budget = bands[b] == 0 ? 96 : -bands[b];
            int rows = bands[b] > 0 ? bands[b] : budget * 1024 / (per_band > 0 ? per_band : 1);
            band_rows[b] = rows < 1 ? 1 : rows > oh ? oh : rows;
        }
        double unfused[1000], fused[8][1000];
        for (int r = 0; r < runs && r < 1000; r++) {
            flush_caches();
            double t0 = now();
            const uint8_t *dw_in = x;
            if (c.in) { pointwise_run(&expand.layer, x, e, gemm_scratch); dw_in = e; }
            ck_depthwise_q(dw_in, &dw_window, dw_filter, &dw_rq, c.out ? d : y, 0, oh);
            if (c.out) pointwise_run(&project.layer, d, y, gemm_scratch);
            unfused[r] = now() - t0;
            for (int b = 0; b < band_count; b++) {
                chain.band_rows = band_rows[b];
                uint8_t *scratch = ck_chain_q_thread_scratch(ck_chain_q_scratch_size(&chain));
                flush_caches();
                t0 = now();
                ck_chain_q_rows(&chain, x, y_fused, 0, oh, scratch);
                fused[b][r] = now() - t0;
                if (memcmp(y, y_fused, y_bytes) != 0) {
                    printf("MISMATCH shape %zu band %d\n", s, band_rows[b]);
                    return 1;
                }
            }
        }
        char name[64];
        snprintf(name, sizeof name, "x%d %dx%d %d>%d s%d %d", c.count, c.h, c.w, c.in, c.mid, c.stride, c.out);
        double u = median(unfused, runs);
        total_unfused += c.count * u;
        printf("%-28s %9.1f", name, u * 1e6);
        for (int b = 0; b < band_count; b++) {
            double f = median(fused[b], runs);
            total_fused[b] += c.count * f;
            printf("  %3d:%.2f", band_rows[b], f / u);
        }
        printf("\n");
        free(x), free(e), free(d), free(y), free(y_fused), free(gemm_scratch), free(dw_weights), free(dw_filter);
    }
    printf("%-28s %9.1f", "weighted total", total_unfused * 1e6);
    for (int b = 0; b < band_count; b++) printf("  band %d: %.3f", bands[b], total_fused[b] / total_unfused);
    printf("\n");
    return 0;
}
