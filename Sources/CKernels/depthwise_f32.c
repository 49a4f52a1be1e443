// Depthwise convolution (multiplier 1). Portable and AVX2: each output pixel accumulates its taps
// channel-wise into the output row, a loop the compiler vectorizes across channels. AVX-512: explicit
// 16-channel vectors with the 3x3 taps unrolled. The best path for the CPU is picked at run time.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif


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

// AVX-512: 16 channels per vector (the last block masked). Pixels whose window lies inside the image take
// unrolled 3x3 paths without bounds checks, four at a time where they can (neighbouring windows share
// input columns, loaded once); border pixels take the general tap loop.

static inline __mmask16 channel_mask(int remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
}

// Four horizontally adjacent interior pixels, `stride` (1 or 2) a compile-time constant at each call.
__attribute__((target("avx512f,prfchw"), always_inline))
static inline void quad_3x3(const float *x, ptrdiff_t line, ptrdiff_t pixel, int stride, int pixel_order,
                            __mmask16 m, const __m512 *f, __m512 b, __m512 low, __m512 high, float *out) {
    __m512 acc[4] = {b, b, b, b};
    // The input rows a later output row adds and the next four outputs are fetched ahead: the large layers
    // exceed L2, and in channel-block order the strided per-pixel lines defeat the hardware prefetcher.
    // Channel-block order: the next output row's new rows, into L1. Pixel order prefetches whole rows
    // (all channel blocks), too much for L1 (75 pixels of 144 channels are 43 KB): the rows two output
    // rows ahead, into L2.
    #pragma clang loop unroll(full)
    for (int i = 0; i < 4 * stride; i++) {
        #pragma clang loop unroll(full)
        for (int fy = 3; fy < 3 + stride; fy++) {
            if (pixel_order) _mm_prefetch((const char *)(x + (fy + stride) * line + i * pixel), _MM_HINT_T1);
            else _mm_prefetch((const char *)(x + fy * line + i * pixel), _MM_HINT_T0);
        }
    }
    #pragma clang loop unroll(full)
    for (int p = 4; p < 8; p++) __builtin_prefetch(out + p * pixel, 1, 3);
    #pragma clang loop unroll(full)
    for (int fy = 0; fy < 3; fy++) {
        __m512 column[9];
        #pragma clang loop unroll(full)
        for (int i = 0; i < 3 * stride + 3; i++) column[i] = _mm512_maskz_loadu_ps(m, x + fy * line + i * pixel);
        #pragma clang loop unroll(full)
        for (int p = 0; p < 4; p++) {
            #pragma clang loop unroll(full)
            for (int fx = 0; fx < 3; fx++) acc[p] = _mm512_fmadd_ps(column[p * stride + fx], f[fy * 3 + fx], acc[p]);
        }
    }
    #pragma clang loop unroll(full)
    for (int p = 0; p < 4; p++)
        _mm512_mask_storeu_ps(out + p * pixel, m, _mm512_min_ps(_mm512_max_ps(acc[p], low), high));
}

// One output pixel's 16-channel block: unrolled 3x3 when its window lies inside the image (`inside`),
// otherwise the general tap loop with bounds checks. `filter` and `x0` point at channel c0.
__attribute__((target("avx512f,prfchw"), always_inline))
static inline __m512 pixel_block(const float *input, const ck_window *w, const float *filter, int iy0, int ix0,
                                 int c0, int inside, __mmask16 m, __m512 acc) {
    const int channels = w->channels;
    const ptrdiff_t pixel = channels, line = (ptrdiff_t)w->input_width * channels;
    if (inside) {
        const float *x = input + (ptrdiff_t)iy0 * line + ix0 * pixel + c0;
        for (int t = 0; t < 9; t++)
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + (t / 3) * line + (t % 3) * pixel),
                                  _mm512_maskz_loadu_ps(m, filter + (size_t)t * channels + c0), acc);
        return acc;
    }
    for (int fy = 0; fy < w->filter_height; fy++) {
        int iy = iy0 + fy * w->dilation_height;
        if (iy < 0 || iy >= w->input_height) continue;
        for (int fx = 0; fx < w->filter_width; fx++) {
            int ix = ix0 + fx * w->dilation_width;
            if (ix < 0 || ix >= w->input_width) continue;
            __m512 x = _mm512_maskz_loadu_ps(m, input + (ptrdiff_t)iy * line + (ptrdiff_t)ix * pixel + c0);
            __m512 k = _mm512_maskz_loadu_ps(m, filter + ((size_t)fy * w->filter_width + fx) * channels + c0);
            acc = _mm512_fmadd_ps(x, k, acc);
        }
    }
    return acc;
}

// Channel blocks outside the pixel loop, so a 3x3 filter and the bias stay in registers for a whole
// output row: the faster order when the input sits in L2 (the 19x19 and smaller maps at stride 1).
__attribute__((target("avx512f,prfchw")))
static void rows_channel_major(const float *input, const ck_window *w, const float *filter, const float *bias,
                               float *output, float lo, float hi, int row_begin, int row_end) {
    const int channels = w->channels;
    const ptrdiff_t pixel = channels, line = (ptrdiff_t)w->input_width * channels;
    const int unrolled3x3 = w->filter_height == 3 && w->filter_width == 3 && w->dilation_height == 1
        && w->dilation_width == 1;
    const int sw = w->stride_width;
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int oy = row_begin; oy < row_end; oy++) {
        const int iy0 = oy * w->stride_height - w->pad_top;
        const int rows_inside = unrolled3x3 && iy0 >= 0 && iy0 + 2 < w->input_height;
        float *out_row = output + (size_t)oy * w->output_width * channels;
        for (int c0 = 0; c0 < channels; c0 += 16) {
            const __mmask16 m = channel_mask(channels - c0);
            const __m512 b = _mm512_maskz_loadu_ps(m, bias + c0);
            __m512 f[9];
            for (int t = 0; t < 9; t++)
                f[t] = unrolled3x3 ? _mm512_maskz_loadu_ps(m, filter + (size_t)t * channels + c0) : _mm512_setzero_ps();
            const float *row = input + (ptrdiff_t)iy0 * line + c0;
            for (int ox = 0; ox < w->output_width;) {
                const int ix0 = ox * sw - w->pad_left;
                float *out = out_row + (size_t)ox * channels + c0;
                const int inside = rows_inside && ix0 >= 0 && ix0 + 2 < w->input_width;
                if (inside && ox + 3 < w->output_width && ix0 + 3 * sw + 2 < w->input_width && sw <= 2) {
                    if (sw == 1) quad_3x3(row + ix0 * pixel, line, pixel, 1, 0, m, f, b, low, high, out);
                    else quad_3x3(row + ix0 * pixel, line, pixel, 2, 0, m, f, b, low, high, out);
                    ox += 4;
                    continue;
                }
                __m512 acc = b;
                if (inside) {
                    const float *x = row + ix0 * pixel;
                    for (int t = 0; t < 9; t++)
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + (t / 3) * line + (t % 3) * pixel), f[t], acc);
                } else {
                    acc = pixel_block(input, w, filter, iy0, ix0, c0, 0, m, acc);
                }
                _mm512_mask_storeu_ps(out, m, _mm512_min_ps(_mm512_max_ps(acc, low), high));
                ox++;
            }
        }
    }
}

// All channel blocks of a pixel (or four) before the next, reloading the filter from L1. The input rows
// are then read in address order, which the hardware prefetcher follows, where channel-block order
// touches one line in every `channels / 16`. Measured with benchmarks/speed/conv_f32_ab.sh: 0.65-0.75x
// the time of channel-block order on the 150x150x32 and 38x38x192 stride-1 layers and the 150x150x96 and
// 19x19x576 stride-2 ones, 1.03-1.1x on inputs that fit in L2 at stride 1.
__attribute__((target("avx512f,prfchw")))
static void rows_pixel_major(const float *input, const ck_window *w, const float *filter, const float *bias,
                             float *output, float lo, float hi, int row_begin, int row_end) {
    const int channels = w->channels;
    const ptrdiff_t pixel = channels, line = (ptrdiff_t)w->input_width * channels;
    const int unrolled3x3 = w->filter_height == 3 && w->filter_width == 3 && w->dilation_height == 1
        && w->dilation_width == 1;
    const int sw = w->stride_width;
    const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int oy = row_begin; oy < row_end; oy++) {
        const int iy0 = oy * w->stride_height - w->pad_top;
        const int rows_inside = unrolled3x3 && iy0 >= 0 && iy0 + 2 < w->input_height;
        float *out_row = output + (size_t)oy * w->output_width * channels;
        const float *row = input + (ptrdiff_t)iy0 * line;
        for (int ox = 0; ox < w->output_width;) {
            const int ix0 = ox * sw - w->pad_left;
            const int inside = rows_inside && ix0 >= 0 && ix0 + 2 < w->input_width;
            const int quad = inside && ox + 3 < w->output_width && ix0 + 3 * sw + 2 < w->input_width && sw <= 2;
            for (int c0 = 0; c0 < channels; c0 += 16) {
                const __mmask16 m = channel_mask(channels - c0);
                const __m512 b = _mm512_maskz_loadu_ps(m, bias + c0);
                float *out = out_row + (size_t)ox * channels + c0;
                if (quad) {
                    __m512 f[9];
                    for (int t = 0; t < 9; t++) f[t] = _mm512_maskz_loadu_ps(m, filter + (size_t)t * channels + c0);
                    if (sw == 1) quad_3x3(row + ix0 * pixel + c0, line, pixel, 1, 1, m, f, b, low, high, out);
                    else quad_3x3(row + ix0 * pixel + c0, line, pixel, 2, 1, m, f, b, low, high, out);
                    continue;
                }
                __m512 acc = pixel_block(input, w, filter, iy0, ix0, c0, inside, m, b);
                _mm512_mask_storeu_ps(out, m, _mm512_min_ps(_mm512_max_ps(acc, low), high));
            }
            ox += quad ? 4 : 1;
        }
    }
}

// Inputs at least this large (beyond what stays in the 2 MB L2 next to the output) take pixel order.
#define PIXEL_ORDER_BYTES (1u << 20)

__attribute__((target("avx512f,prfchw")))
static void depthwise_avx512(const float *input, const ck_window *w, const float *filter, const float *bias,
                             float *output, float lo, float hi, int row_begin, int row_end) {
    const size_t input_bytes = (size_t)w->input_height * w->input_width * w->channels * sizeof(float);
    if (w->stride_width == 2 || input_bytes >= PIXEL_ORDER_BYTES)
        rows_pixel_major(input, w, filter, bias, output, lo, hi, row_begin, row_end);
    else
        rows_channel_major(input, w, filter, bias, output, lo, hi, row_begin, row_end);
}
#endif

void ck_depthwise_f32(const float *input, const ck_window *w, const float *filter, const float *bias,
                      float *output, float lo, float hi, int row_begin, int row_end, ck_isa isa) {
#if defined(__x86_64__)
    switch (isa > ck_detected_isa() ? ck_detected_isa() : isa) {
    case CK_ISA_AVX512: depthwise_avx512(input, w, filter, bias, output, lo, hi, row_begin, row_end); return;
    case CK_ISA_AVX2_FMA: depthwise_avx2(input, w, filter, bias, output, lo, hi, row_begin, row_end); return;
    default: break;
    }
#endif
    depthwise_portable(input, w, filter, bias, output, lo, hi, row_begin, row_end);
}
