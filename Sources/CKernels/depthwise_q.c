// Depthwise 8-bit convolution (multiplier 1): int32 accumulators per channel, vectorized across
// channels by the compiler (one source compiled per instruction set), then TFLite's requantization.
#include "CKernels.h"

__attribute__((always_inline))
static inline void depthwise_q_rows(const void *input, const ck_window *w, const void *filter,
                                    int32_t filter_offset, const int32_t *bias, const ck_requant *rq,
                                    void *output, int row_begin, int row_end) {
    const int channels = w->channels;
    const int is_signed = rq->is_signed;
    int32_t acc[channels];
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++) {
            for (int c = 0; c < channels; c++) acc[c] = 0;
            for (int fy = 0; fy < w->filter_height; fy++) {
                int iy = oy * w->stride_height - w->pad_top + fy * w->dilation_height;
                if (iy < 0 || iy >= w->input_height) continue;
                for (int fx = 0; fx < w->filter_width; fx++) {
                    int ix = ox * w->stride_width - w->pad_left + fx * w->dilation_width;
                    if (ix < 0 || ix >= w->input_width) continue;
                    size_t in_base = ((size_t)iy * w->input_width + ix) * channels;
                    size_t f_base = ((size_t)fy * w->filter_width + fx) * channels;
                    if (is_signed) {
                        const int8_t *restrict x = (const int8_t *)input + in_base;
                        const int8_t *restrict f = (const int8_t *)filter + f_base;
                        for (int c = 0; c < channels; c++)
                            acc[c] += ((int32_t)x[c] + rq->input_offset) * ((int32_t)f[c] + filter_offset);
                    } else {
                        const uint8_t *restrict x = (const uint8_t *)input + in_base;
                        const uint8_t *restrict f = (const uint8_t *)filter + f_base;
                        for (int c = 0; c < channels; c++)
                            acc[c] += ((int32_t)x[c] + rq->input_offset) * ((int32_t)f[c] + filter_offset);
                    }
                }
            }
            size_t out_base = ((size_t)oy * w->output_width + ox) * channels;
            for (int c = 0; c < channels; c++) {
                int32_t value = (int32_t)((uint32_t)acc[c] + (uint32_t)(bias ? bias[c] : 0));  // wraps as the reference
                value = ck_requantize(value, rq->significand[c], rq->shift[c]) + rq->output_offset;
                value = value < rq->activation_min ? rq->activation_min : value;
                value = value > rq->activation_max ? rq->activation_max : value;
                if (is_signed) ((int8_t *)output)[out_base + c] = (int8_t)value;
                else ((uint8_t *)output)[out_base + c] = (uint8_t)value;
            }
        }
    }
}

static void depthwise_q_portable(const void *input, const ck_window *w, const void *filter, int32_t filter_offset,
                                 const int32_t *bias, const ck_requant *rq, void *output, int row_begin, int row_end) {
    depthwise_q_rows(input, w, filter, filter_offset, bias, rq, output, row_begin, row_end);
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static void depthwise_q_avx2(const void *input, const ck_window *w, const void *filter, int32_t filter_offset,
                             const int32_t *bias, const ck_requant *rq, void *output, int row_begin, int row_end) {
    depthwise_q_rows(input, w, filter, filter_offset, bias, rq, output, row_begin, row_end);
}

__attribute__((target("avx512f,avx512bw,avx2")))
static void depthwise_q_avx512(const void *input, const ck_window *w, const void *filter, int32_t filter_offset,
                               const int32_t *bias, const ck_requant *rq, void *output, int row_begin, int row_end) {
    depthwise_q_rows(input, w, filter, filter_offset, bias, rq, output, row_begin, row_end);
}
#endif

void ck_depthwise_q(const void *input, const ck_window *w, const void *filter, int32_t filter_offset,
                    const int32_t *bias, const ck_requant *rq, void *output, int row_begin, int row_end) {
#if defined(__x86_64__)
    if (ck_has_avx512_vnni()) {  // implies AVX-512 BW on every CPU that has VNNI
        depthwise_q_avx512(input, w, filter, filter_offset, bias, rq, output, row_begin, row_end);
        return;
    }
    if (ck_active_isa() >= CK_ISA_AVX2_FMA) {
        depthwise_q_avx2(input, w, filter, filter_offset, bias, rq, output, row_begin, row_end);
        return;
    }
#endif
    depthwise_q_portable(input, w, filter, filter_offset, bias, rq, output, row_begin, row_end);
}
