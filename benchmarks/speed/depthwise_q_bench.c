// Micro-benchmark of the 8-bit depthwise kernel (Sources/CKernels/depthwise_q.c) on the depthwise shapes
// of ssdlite_mobilenet_v2_person int8, ssd_mobilenet_v1 uint8 and the ST fpnlite int8 model, alternating
// a baseline build of the kernel (an older depthwise_q.c, its symbols renamed with old_) and the current
// one in ONE process, so the noise of other processes hits both alike; prints per-shape best-of-N times
// and their ratio, and checks that both give identical bytes. Build and run (1 thread):
//   git show HEAD:Sources/CKernels/depthwise_q.c > /tmp/dw_old.c   (or any older commit)
//   R="-Dck_depthwise_q=old_depthwise_q -Dck_depthwise_q_pack=old_depthwise_q_pack"
//   R="$R -Dck_depthwise_q_packed_count=old_depthwise_q_packed_count -Dck_depthwise_q_mark_narrow=old_depthwise_q_mark_narrow"
//   R="$R -Dck_depthwise_q_fold_constant_channels=old_depthwise_q_fold_constant_channels"
//   clang -O2 -I Sources/CKernels/include -I Sources/CKernels $R -c /tmp/dw_old.c -o /tmp/dw_old.o
//   clang -O2 -I Sources/CKernels/include Sources/CKernels/{cpu_features,gemm_q,depthwise_q}.c /tmp/dw_old.o \
//      benchmarks/speed/depthwise_q_bench.c -o /tmp/depthwise_q_bench
//   /tmp/depthwise_q_bench [portable|avx2|avx512|avx512-novnni] [runs]
// Before each run the bench reads 8 MB of other memory, as the model's other layers would (NO_EVICT=1
// skips that). Random data: uint8 filters rarely fit int8, so the v1 shapes show the non-VNNI path.
// KEEP_GOING=1 goes on past a shape whose outputs differ (for timing-only ablations of the new kernel).
// LINEAR=1 gives every layer no activation instead of relu6.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"

size_t old_depthwise_q_packed_count(int taps, int channels);
int old_depthwise_q_mark_narrow(int32_t *packed, int taps, int channels, const ck_requant *rq);
void old_depthwise_q_pack(const void *filter, int is_signed, int32_t filter_offset, int32_t input_offset,
                          const int32_t *bias, int taps, int channels, int32_t *packed);
void old_depthwise_q(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq, void *output,
                     int row_begin, int row_end);

typedef struct { const char *model; int count, h, w, c, oh, stride, pad, is_signed; } shape;

// Input h w c, output size, stride, top/left padding (`ssd-energy inspect`; the ST model pads explicitly).
static const shape shapes[] = {
    {"person", 1, 150, 150, 32, 150, 1, 1, 1}, {"person", 1, 150, 150, 96, 75, 2, 0, 1},
    {"person", 1, 75, 75, 144, 75, 1, 1, 1}, {"person", 1, 75, 75, 144, 38, 2, 0, 1},
    {"person", 2, 38, 38, 192, 38, 1, 1, 1}, {"person", 1, 38, 38, 192, 19, 2, 0, 1},
    {"person", 4, 19, 19, 384, 19, 1, 1, 1}, {"person", 4, 19, 19, 576, 19, 1, 1, 1},
    {"person", 1, 19, 19, 576, 10, 2, 0, 1}, {"person", 3, 10, 10, 960, 10, 1, 1, 1},
    {"person", 2, 10, 10, 1280, 10, 1, 1, 1}, {"person", 1, 10, 10, 256, 5, 2, 0, 1},
    {"person", 2, 5, 5, 512, 5, 1, 1, 1},
    {"v1", 1, 150, 150, 24, 150, 1, 1, 0}, {"v1", 1, 150, 150, 48, 75, 2, 0, 0},
    {"v1", 1, 75, 75, 96, 75, 1, 1, 0}, {"v1", 1, 75, 75, 96, 38, 2, 0, 0},
    {"v1", 1, 38, 38, 192, 38, 1, 1, 0}, {"v1", 5, 19, 19, 384, 19, 1, 1, 0},
    {"st", 1, 128, 128, 32, 128, 1, 1, 1}, {"st", 1, 129, 129, 96, 64, 2, 0, 1},
    {"st", 1, 64, 64, 144, 64, 1, 1, 1}, {"st", 7, 32, 32, 128, 32, 1, 1, 1},
    {"st", 2, 32, 32, 192, 32, 1, 1, 1}, {"st", 4, 16, 16, 384, 16, 1, 1, 1},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned long long state = 88172645463325252ULL;
static uint32_t next(void) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (uint32_t)state;
}

static char evict[8 << 20];
static volatile int sink;
static void evict_caches(void) {
    if (getenv("NO_EVICT")) return;
    int s = 0;
    for (size_t i = 0; i < sizeof evict; i += 64) s += evict[i]++;
    sink = s;
}

int main(int argc, char **argv) {
    if (argc > 1) ck_force_isa(!strcmp(argv[1], "portable") ? CK_ISA_PORTABLE : !strcmp(argv[1], "avx2") ? CK_ISA_AVX2_FMA : CK_ISA_AVX512);
    if (argc > 1 && !strcmp(argv[1], "avx512-novnni")) ck_gemm_q_disable_vnni(1);
    int runs = argc > 2 ? atoi(argv[2]) : 15;
    const int linear = getenv("LINEAR") != NULL;
    printf("isa %s, best of %d\n", ck_isa_name(ck_active_isa()), runs);
    double total_old[3] = {0}, total_new[3] = {0};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const shape *p = &shapes[s];
        ck_window w = {p->h, p->w, p->c, p->oh, p->oh, 3, 3, p->stride, p->stride, 1, 1, p->pad, p->pad};
        size_t in_size = (size_t)p->h * p->w * p->c, out_size = (size_t)p->oh * p->oh * p->c;
        uint8_t *input = malloc(in_size), *filter = malloc(9 * p->c), *out_old = malloc(out_size), *out_new = malloc(out_size);
        int padded = (p->c + 15) / 16 * 16;
        int32_t *bias = malloc(p->c * 4), *significand = malloc(padded * 4), *shift = malloc(padded * 4);
        for (size_t i = 0; i < in_size; i++) input[i] = (uint8_t)next();
        for (int i = 0; i < 9 * p->c; i++) filter[i] = (uint8_t)next();
        for (int i = 0; i < padded; i++) {
            bias[i < p->c ? i : 0] = (int32_t)(next() % 40001) - 20000;
            significand[i] = (int32_t)((1u << 30) + next() % (1u << 30));
            shift[i] = -(int32_t)(next() % 12);
        }
        // relu6 by default, as every depthwise layer of person and v1 and most of ST's (the clamp starts at
        // the output offset); LINEAR=1: no activation, as ST's other depthwise layers.
        const int32_t low = p->is_signed ? -128 : 0, output_offset = linear ? (p->is_signed ? -3 : 128) : low;
        ck_requant rq = {p->is_signed ? -(int32_t)(next() % 20) + 5 : -(int32_t)(next() % 256), output_offset,
                         linear ? low : output_offset, p->is_signed ? 127 : 255, significand, shift, p->is_signed};
        int32_t filter_offset = p->is_signed ? 0 : -(int32_t)(next() % 256);
        int32_t *packed_old = malloc(old_depthwise_q_packed_count(9, p->c) * 4);
        int32_t *packed_new = malloc(ck_depthwise_q_packed_count(9, p->c) * 4);
        old_depthwise_q_pack(filter, p->is_signed, filter_offset, rq.input_offset, bias, 9, p->c, packed_old);
        ck_depthwise_q_pack(filter, p->is_signed, filter_offset, rq.input_offset, bias, 9, p->c, packed_new);
        // As the Swift kernel does after packing: whether the narrow requantization may be used.
        old_depthwise_q_mark_narrow(packed_old, 9, p->c, &rq);
        ck_depthwise_q_mark_narrow(packed_new, 9, p->c, &rq);
        double best_old = 1e9, best_new = 1e9;
        for (int r = 0; r < runs; r++) {
            evict_caches();
            double t0 = now();
            old_depthwise_q(input, &w, packed_old, &rq, out_old, 0, p->oh);
            double t1 = now();
            evict_caches();
            double t2 = now();
            ck_depthwise_q(input, &w, packed_new, &rq, out_new, 0, p->oh);
            double t3 = now();
            if (t1 - t0 < best_old) best_old = t1 - t0;
            if (t3 - t2 < best_new) best_new = t3 - t2;
        }
        int same = memcmp(out_old, out_new, out_size) == 0;
        int m = p->model[0] == 'p' ? 0 : p->model[0] == 'v' ? 1 : 2;
        total_old[m] += best_old * p->count;
        total_new[m] += best_new * p->count;
        printf("%-6s x%d %3dx%3dx%4d s%d: old %7.1f us  new %7.1f us  new/old %.3f %s\n", p->model, p->count, p->h, p->w,
               p->c, p->stride, best_old * 1e6, best_new * 1e6, best_new / best_old, same ? "" : "  OUTPUTS DIFFER");
        if (!same && !getenv("KEEP_GOING")) return 1;
        free(input); free(filter); free(out_old); free(out_new); free(bias); free(significand); free(shift);
        free(packed_old); free(packed_new);
    }
    const char *names[3] = {"person", "v1", "st"};
    for (int m = 0; m < 3; m++)
        printf("%-6s listed shapes x count: old %.3f ms  new %.3f ms  new/old %.3f\n", names[m], total_old[m] * 1e3,
               total_new[m] * 1e3, total_new[m] / total_old[m]);
    return 0;
}
