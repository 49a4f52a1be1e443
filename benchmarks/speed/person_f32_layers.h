// The convolution layers of ssdlite_mobilenet_v2_person and the helpers the float kernel micro-benchmarks
// (conv_f32_bench.c, conv_f32_ab.c) share: one table, so both always time the same shapes.
#ifndef PERSON_F32_LAYERS_H
#define PERSON_F32_LAYERS_H
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"

typedef struct { int count, h, w, c, oh, ow, oc, f, stride, depthwise; } shape;

// count, input h w c, output h w c, filter size, stride, depthwise (from `ssd-energy inspect`).
static const shape shapes[] = {
    {1, 300, 300, 3, 150, 150, 32, 3, 2, 0},
    {1, 150, 150, 32, 150, 150, 16, 1, 1, 0}, {1, 150, 150, 16, 150, 150, 96, 1, 1, 0},
    {1, 75, 75, 96, 75, 75, 24, 1, 1, 0}, {2, 75, 75, 24, 75, 75, 144, 1, 1, 0},
    {1, 75, 75, 144, 75, 75, 24, 1, 1, 0}, {1, 38, 38, 144, 38, 38, 32, 1, 1, 0},
    {3, 38, 38, 32, 38, 38, 192, 1, 1, 0}, {2, 38, 38, 192, 38, 38, 32, 1, 1, 0},
    {1, 19, 19, 192, 19, 19, 64, 1, 1, 0}, {4, 19, 19, 64, 19, 19, 384, 1, 1, 0},
    {3, 19, 19, 384, 19, 19, 64, 1, 1, 0}, {1, 19, 19, 384, 19, 19, 96, 1, 1, 0},
    {3, 19, 19, 96, 19, 19, 576, 1, 1, 0}, {2, 19, 19, 576, 19, 19, 96, 1, 1, 0},
    {1, 19, 19, 576, 19, 19, 12, 1, 1, 0}, {1, 19, 19, 576, 19, 19, 6, 1, 1, 0},
    {1, 10, 10, 576, 10, 10, 160, 1, 1, 0}, {3, 10, 10, 160, 10, 10, 960, 1, 1, 0},
    {2, 10, 10, 960, 10, 10, 160, 1, 1, 0}, {1, 10, 10, 960, 10, 10, 320, 1, 1, 0},
    {1, 10, 10, 320, 10, 10, 1280, 1, 1, 0}, {1, 10, 10, 1280, 10, 10, 256, 1, 1, 0},
    {1, 10, 10, 1280, 10, 10, 24, 1, 1, 0}, {1, 10, 10, 1280, 10, 10, 12, 1, 1, 0},
    {1, 5, 5, 256, 5, 5, 512, 1, 1, 0}, {1, 5, 5, 512, 5, 5, 128, 1, 1, 0},
    {1, 5, 5, 512, 5, 5, 24, 1, 1, 0}, {1, 5, 5, 512, 5, 5, 12, 1, 1, 0},
    {1, 150, 150, 32, 150, 150, 32, 3, 1, 1}, {1, 150, 150, 96, 75, 75, 96, 3, 2, 1},
    {1, 75, 75, 144, 75, 75, 144, 3, 1, 1}, {1, 75, 75, 144, 38, 38, 144, 3, 2, 1},
    {2, 38, 38, 192, 38, 38, 192, 3, 1, 1}, {1, 38, 38, 192, 19, 19, 192, 3, 2, 1},
    {4, 19, 19, 384, 19, 19, 384, 3, 1, 1}, {4, 19, 19, 576, 19, 19, 576, 3, 1, 1},
    {1, 19, 19, 576, 10, 10, 576, 3, 2, 1}, {3, 10, 10, 960, 10, 10, 960, 3, 1, 1},
    {2, 10, 10, 1280, 10, 10, 1280, 3, 1, 1}, {1, 10, 10, 256, 5, 5, 256, 3, 2, 1},
    {2, 5, 5, 512, 5, 5, 512, 3, 1, 1},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *random_floats(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

// The layer's window: SAME padding, the extra row and column of a stride-2 layer at the bottom and right.
static ck_window layer_window(const shape *sh) {
    int pad = (sh->f - 1) / 2;
    if (sh->stride == 2) pad = ((sh->oh - 1) * 2 + sh->f - sh->h) / 2;
    ck_window w = {sh->h, sh->w, sh->c, sh->oh, sh->ow, sh->f, sh->f, sh->stride, sh->stride, 1, 1, pad, pad};
    return w;
}

// Reads 8 MB of other memory so that, as in the model, a layer's weights and input come from the shared
// L3 cache rather than the core's L2. With CONV_BENCH_WARM=1 in the environment it does nothing, to time
// layers whose input is already in L2 (as a layer's input is when the layer before just wrote it).
static void evict_caches(void) {
    static float *evict;
    static volatile float sink;
    const size_t count = (8u << 20) / sizeof(float);
    static int warm = -1;
    if (warm < 0) warm = getenv("CONV_BENCH_WARM") && !strcmp(getenv("CONV_BENCH_WARM"), "1");
    if (warm) return;
    if (!evict) evict = random_floats(count);
    for (size_t i = 0; i < count; i += 16) sink += evict[i];
}

#endif
