// Depthwise 8-bit convolution (multiplier 1), vectorized across channels: per output pixel and block
// of 16 (AVX-512) or 8 (AVX2) channels, int32 accumulators of (input + input offset) * (filter +
// filter offset) over the taps inside the image (TFLite skips the others), then vector
// requantization. The taps inside the image form a rectangle computed once per pixel, so the tap
// loops have no bounds checks.
#include <string.h>
#include "CKernels.h"
#include "requantize_q.h"

static inline int padded_channels(int channels) { return (channels + 15) / 16 * 16; }

size_t ck_depthwise_q_packed_count(int taps, int channels) { return (size_t)taps * padded_channels(channels); }

void ck_depthwise_q_pack(const void *filter, int is_signed, int32_t filter_offset, int taps, int channels,
                         int32_t *packed) {
    int stride = padded_channels(channels);
    memset(packed, 0, ck_depthwise_q_packed_count(taps, channels) * sizeof(int32_t));
    for (int t = 0; t < taps; t++)
        for (int c = 0; c < channels; c++) {
            size_t index = (size_t)t * channels + c;
            int32_t value = is_signed ? ((const int8_t *)filter)[index] : ((const uint8_t *)filter)[index];
            packed[(size_t)t * stride + c] = (int32_t)((uint32_t)value + (uint32_t)filter_offset);
        }
}

/// Filter taps [begin, end) whose input coordinate origin + tap * dilation lies in [0, size).
static inline void tap_range(int origin, int size, int taps, int dilation, int *begin, int *end) {
    int b = 0, e = taps;
    while (b < taps && origin + b * dilation < 0) b++;
    while (e > b && origin + (e - 1) * dilation >= size) e--;
    *begin = b;
    *end = e;
}

typedef struct {
    const uint8_t *first_row;  // input at (iy of the first valid tap row, ix of the first valid tap column)
    const int32_t *first_tap;  // packed filter at that tap
    int rows, columns;         // valid taps
} pixel_taps;

static inline pixel_taps taps_for(const void *input, const ck_window *w, const int32_t *filter, int oy, int ox) {
    int origin_y = oy * w->stride_height - w->pad_top, origin_x = ox * w->stride_width - w->pad_left;
    int fy0, fy1, fx0, fx1;
    tap_range(origin_y, w->input_height, w->filter_height, w->dilation_height, &fy0, &fy1);
    tap_range(origin_x, w->input_width, w->filter_width, w->dilation_width, &fx0, &fx1);
    pixel_taps t;
    size_t pixel = (size_t)(origin_y + fy0 * w->dilation_height) * w->input_width + (origin_x + fx0 * w->dilation_width);
    t.first_row = (const uint8_t *)input + pixel * w->channels;
    t.first_tap = filter + (size_t)(fy0 * w->filter_width + fx0) * padded_channels(w->channels);
    t.rows = fy1 - fy0;
    t.columns = fx1 - fx0;
    return t;
}

static void depthwise_q_portable(const void *input, const ck_window *w, const int32_t *filter, const int32_t *bias,
                                 const ck_requant *rq, void *output, int row_begin, int row_end) {
    const int channels = w->channels, stride = padded_channels(channels);
    const size_t input_row = (size_t)w->input_width * channels * w->dilation_height;
    const size_t input_column = (size_t)channels * w->dilation_width;
    const size_t filter_row = (size_t)w->filter_width * stride;
    for (int oy = row_begin; oy < row_end; oy++)
        for (int ox = 0; ox < w->output_width; ox++) {
            pixel_taps t = taps_for(input, w, filter, oy, ox);
            void *out = (char *)output + ((size_t)oy * w->output_width + ox) * channels;
            for (int c = 0; c < channels; c++) {
                int32_t acc = bias[c];
                for (int fy = 0; fy < t.rows; fy++)
                    for (int fx = 0; fx < t.columns; fx++) {
                        const uint8_t *x = t.first_row + fy * input_row + fx * input_column + c;
                        int32_t value = rq->is_signed ? *(const int8_t *)x : *x;
                        uint32_t product = (uint32_t)(value + rq->input_offset) * (uint32_t)t.first_tap[fy * filter_row + fx * stride + c];
                        acc = (int32_t)((uint32_t)acc + product);  // wraps as the reference
                    }
                requantize_store_scalar(&acc, rq, out, c, 1);
            }
        }
}

#if defined(__x86_64__)
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void depthwise_q_avx512_rows(const void *input, const ck_window *w, const int32_t *filter,
                                           const int32_t *bias, const ck_requant *rq, void *output, int row_begin,
                                           int row_end, const int is_signed) {
    const int channels = w->channels, stride = padded_channels(channels);
    const size_t input_row = (size_t)w->input_width * channels * w->dilation_height;
    const size_t input_column = (size_t)channels * w->dilation_width;
    const size_t filter_row = (size_t)w->filter_width * stride;
    const __m512i input_offset = _mm512_set1_epi32(rq->input_offset);
    for (int oy = row_begin; oy < row_end; oy++)
        for (int ox = 0; ox < w->output_width; ox++) {
            pixel_taps t = taps_for(input, w, filter, oy, ox);
            void *out = (char *)output + ((size_t)oy * w->output_width + ox) * channels;
            for (int c = 0; c < channels; c += 16) {
                int count = channels - c < 16 ? channels - c : 16;
                __mmask16 lanes = (__mmask16)((1u << count) - 1);
                __m512i acc = _mm512_loadu_si512(bias + c);
                for (int fy = 0; fy < t.rows; fy++) {
                    const uint8_t *row = t.first_row + fy * input_row + c;
                    const int32_t *taps = t.first_tap + fy * filter_row + c;
                    for (int fx = 0; fx < t.columns; fx++) {
                        __m128i bytes = _mm_maskz_loadu_epi8(lanes, row + fx * input_column);
                        __m512i x = is_signed ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
                        __m512i f = _mm512_loadu_si512(taps + fx * stride);
                        acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(_mm512_add_epi32(x, input_offset), f));
                    }
                }
                requantize_store16(acc, rq, out, c, count);
            }
        }
}

__attribute__((target(CK_AVX512_Q)))
static void depthwise_q_avx512(const void *input, const ck_window *w, const int32_t *filter, const int32_t *bias,
                               const ck_requant *rq, void *output, int row_begin, int row_end) {
    if (rq->is_signed) depthwise_q_avx512_rows(input, w, filter, bias, rq, output, row_begin, row_end, 1);
    else depthwise_q_avx512_rows(input, w, filter, bias, rq, output, row_begin, row_end, 0);
}

__attribute__((target("avx2"), always_inline))
static inline void depthwise_q_avx2_rows(const void *input, const ck_window *w, const int32_t *filter,
                                         const int32_t *bias, const ck_requant *rq, void *output, int row_begin,
                                         int row_end, const int is_signed) {
    const int channels = w->channels, stride = padded_channels(channels);
    const size_t input_row = (size_t)w->input_width * channels * w->dilation_height;
    const size_t input_column = (size_t)channels * w->dilation_width;
    const size_t filter_row = (size_t)w->filter_width * stride;
    const __m256i input_offset = _mm256_set1_epi32(rq->input_offset);
    for (int oy = row_begin; oy < row_end; oy++)
        for (int ox = 0; ox < w->output_width; ox++) {
            pixel_taps t = taps_for(input, w, filter, oy, ox);
            void *out = (char *)output + ((size_t)oy * w->output_width + ox) * channels;
            for (int c = 0; c < channels; c += 8) {
                int count = channels - c < 8 ? channels - c : 8;
                __m256i acc = _mm256_loadu_si256((const __m256i *)(bias + c));
                for (int fy = 0; fy < t.rows; fy++) {
                    const uint8_t *row = t.first_row + fy * input_row + c;
                    const int32_t *taps = t.first_tap + fy * filter_row + c;
                    for (int fx = 0; fx < t.columns; fx++) {
                        uint64_t eight = 0;  // a partial last block must not read past the input
                        memcpy(&eight, row + fx * input_column, (size_t)count);
                        __m128i bytes = _mm_cvtsi64_si128((long long)eight);
                        __m256i x = is_signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
                        __m256i f = _mm256_loadu_si256((const __m256i *)(taps + fx * stride));
                        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_add_epi32(x, input_offset), f));
                    }
                }
                requantize_store8(acc, rq, out, c, count);
            }
        }
}

__attribute__((target("avx2")))
static void depthwise_q_avx2(const void *input, const ck_window *w, const int32_t *filter, const int32_t *bias,
                             const ck_requant *rq, void *output, int row_begin, int row_end) {
    if (rq->is_signed) depthwise_q_avx2_rows(input, w, filter, bias, rq, output, row_begin, row_end, 1);
    else depthwise_q_avx2_rows(input, w, filter, bias, rq, output, row_begin, row_end, 0);
}
#endif

void ck_depthwise_q(const void *input, const ck_window *w, const int32_t *filter, const int32_t *bias,
                    const ck_requant *rq, void *output, int row_begin, int row_end) {
#if defined(__x86_64__)
    if (ck_has_avx512_q()) {
        depthwise_q_avx512(input, w, filter, bias, rq, output, row_begin, row_end);
        return;
    }
    if (ck_active_isa() >= CK_ISA_AVX2_FMA) {
        depthwise_q_avx2(input, w, filter, bias, rq, output, row_begin, row_end);
        return;
    }
#endif
    depthwise_q_portable(input, w, filter, bias, rq, output, row_begin, row_end);
}
