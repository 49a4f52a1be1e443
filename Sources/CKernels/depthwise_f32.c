// Depthwise convolution (multiplier 1): each output pixel accumulates its taps channel-wise into the
// output row, a loop the compiler vectorizes across channels; the same source is compiled for AVX-512,
// AVX2 and the portable baseline and the best one is picked at run time.
#include "CKernels.h"


__attribute__((always_inline))
static inline void depthwise_rows(const float *input, const ck_window *w, const float *filter,
                                  const float *bias, float *output, float lo, float hi, int row_begin,
                                  int row_end) {
    const int channels = w->channels;
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++) {
            float *restrict out = output + ((size_t)oy * w->output_width + ox) * channels;
            for (int c = 0; c < channels; c++) out[c] = 0.0f;
            for (int fy = 0; fy < w->filter_height; fy++) {
                int iy = oy * w->stride_height - w->pad_top + fy * w->dilation_height;
                if (iy < 0 || iy >= w->input_height) continue;
                for (int fx = 0; fx < w->filter_width; fx++) {
                    int ix = ox * w->stride_width - w->pad_left + fx * w->dilation_width;
                    if (ix < 0 || ix >= w->input_width) continue;
                    const float *restrict x = input + ((size_t)iy * w->input_width + ix) * channels;
                    const float *restrict f = filter + ((size_t)fy * w->filter_width + fx) * channels;
                    for (int c = 0; c < channels; c++) out[c] += x[c] * f[c];
                }
            }
            for (int c = 0; c < channels; c++) {
                float y = out[c] + bias[c];
                y = y < lo ? lo : y;
                out[c] = y > hi ? hi : y;
            }
        }
    }
}

static void depthwise_portable(const float *input, const ck_window *w, const float *filter, const float *bias,
                               float *output, float lo, float hi, int row_begin, int row_end) {
    depthwise_rows(input, w, filter, bias, output, lo, hi, row_begin, row_end);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void depthwise_avx2(const float *input, const ck_window *w, const float *filter, const float *bias,
                           float *output, float lo, float hi, int row_begin, int row_end) {
    depthwise_rows(input, w, filter, bias, output, lo, hi, row_begin, row_end);
}

__attribute__((target("avx512f,avx2,fma")))
static void depthwise_avx512(const float *input, const ck_window *w, const float *filter, const float *bias,
                             float *output, float lo, float hi, int row_begin, int row_end) {
    depthwise_rows(input, w, filter, bias, output, lo, hi, row_begin, row_end);
}
#endif

void ck_depthwise_f32(const float *input, const ck_window *w, const float *filter, const float *bias,
                      float *output, float lo, float hi, int row_begin, int row_end) {
#if defined(__x86_64__)
    switch (ck_active_isa()) {
    case CK_ISA_AVX512: depthwise_avx512(input, w, filter, bias, output, lo, hi, row_begin, row_end); return;
    case CK_ISA_AVX2_FMA: depthwise_avx2(input, w, filter, bias, output, lo, hi, row_begin, row_end); return;
    default: break;
    }
#endif
    depthwise_portable(input, w, filter, bias, output, lo, hi, row_begin, row_end);
}
