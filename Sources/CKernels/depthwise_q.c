// Depthwise 8-bit convolution (multiplier 1), vectorized across channels: per output pixel and block
// of 16 (AVX-512) or 8 (AVX2) channels, int32 accumulators of (input + input offset) * (filter +
// filter offset) over the taps inside the image (TFLite skips the others), then vector
// requantization. The taps inside the image form a rectangle computed once per pixel, so the tap
// loops have no bounds checks; for pixels whose window lies wholly inside the image (most of them)
// the input offset's share is a per-channel constant folded into the starting accumulators. With
// AVX-512, such interior pixels take 32 channels at a time and two taps per vpmaddwd (int16 inputs
// times int16 filter pairs), half the multiplies of one vpmulld per tap.
#include <string.h>
#include "CKernels.h"
#include "requantize_q.h"

static inline int padded_channels(int channels) { return (channels + 15) / 16 * 16; }

static inline int pair_count(int taps) { return (taps + 1) / 2; }
static inline int blocks32(int channels) { return (channels + 31) / 32; }

/// The int32 rows, then the int16 tap pairs for vpmaddwd (pairs x 32-channel blocks x 32 lanes),
/// then one flag: whether every tap fits int16 (only then may the pairs be used).
static inline size_t pairs_start(int taps, int channels) { return (size_t)(taps + 2) * padded_channels(channels); }
static inline size_t pairs_size(int taps, int channels) { return (size_t)pair_count(taps) * blocks32(channels) * 32; }

size_t ck_depthwise_q_packed_count(int taps, int channels) {
    return pairs_start(taps, channels) + pairs_size(taps, channels) + 1;
}

/// Channel of 32-bit lane `lane` (0..31) of a 32-channel block after _mm512_unpacklo/hi_epi16 of two
/// rows of 32 int16 channels: the unpacks work within 128-bit lanes, so lanes 0..15 (lo) hold channels
/// 0-3, 8-11, 16-19, 24-27 and lanes 16..31 (hi) the same plus 4.
static inline int unpacked_channel(int lane) {
    int half = lane / 16, j = lane % 16;
    return 8 * (j / 4) + j % 4 + 4 * half;
}

void ck_depthwise_q_pack(const void *filter, int is_signed, int32_t filter_offset, int32_t input_offset,
                         const int32_t *bias, int taps, int channels, int32_t *packed) {
    int stride = padded_channels(channels);
    memset(packed, 0, ck_depthwise_q_packed_count(taps, channels) * sizeof(int32_t));
    for (int c = 0; c < channels; c++) {
        uint32_t filter_sum = 0;
        for (int t = 0; t < taps; t++) {
            size_t index = (size_t)t * channels + c;
            int32_t value = is_signed ? ((const int8_t *)filter)[index] : ((const uint8_t *)filter)[index];
            uint32_t tap = (uint32_t)value + (uint32_t)filter_offset;
            packed[(size_t)t * stride + c] = (int32_t)tap;
            filter_sum += tap;
        }
        uint32_t b = bias ? (uint32_t)bias[c] : 0;
        packed[(size_t)taps * stride + c] = (int32_t)b;
        // Interior pixels use every tap: the input offset's share, offset * sum of taps, is a constant.
        packed[(size_t)(taps + 1) * stride + c] = (int32_t)(b + (uint32_t)input_offset * filter_sum);
    }
    int32_t *pairs = packed + pairs_start(taps, channels);
    int fits = 1;
    for (size_t i = 0; i < (size_t)taps * stride; i++) fits &= packed[i] >= INT16_MIN && packed[i] <= INT16_MAX;
    for (int block = 0; block < blocks32(channels); block++)
        for (int p = 0; p < pair_count(taps); p++)
            for (int lane = 0; lane < 32; lane++) {
                int c = block * 32 + unpacked_channel(lane);
                int t0 = 2 * p, t1 = 2 * p + 1;
                uint16_t f0 = c < channels ? (uint16_t)packed[(size_t)t0 * stride + c] : 0;
                uint16_t f1 = c < channels && t1 < taps ? (uint16_t)packed[(size_t)t1 * stride + c] : 0;
                pairs[((size_t)block * pair_count(taps) + p) * 32 + lane] = (int32_t)((uint32_t)f0 | (uint32_t)f1 << 16);
            }
    packed[pairs_start(taps, channels) + pairs_size(taps, channels)] = fits;
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

static inline int is_interior(const ck_window *w, const pixel_taps *t) {
    return t->rows == w->filter_height && t->columns == w->filter_width;
}

/// The packed filter row holding the starting accumulators: the plain bias, or for pixels whose whole
/// window lies inside the image, the bias plus the input offset's constant share.
static inline const int32_t *start_row(const ck_window *w, const int32_t *filter, const pixel_taps *t) {
    int taps = w->filter_height * w->filter_width;
    return filter + (size_t)(taps + is_interior(w, t)) * padded_channels(w->channels);
}

static void depthwise_q_portable(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq,
                                 void *output, int row_begin, int row_end) {
    const int channels = w->channels, stride = padded_channels(channels);
    const size_t input_row = (size_t)w->input_width * channels * w->dilation_height;
    const size_t input_column = (size_t)channels * w->dilation_width;
    const size_t filter_row = (size_t)w->filter_width * stride;
    for (int oy = row_begin; oy < row_end; oy++)
        for (int ox = 0; ox < w->output_width; ox++) {
            pixel_taps t = taps_for(input, w, filter, oy, ox);
            const int32_t *start = start_row(w, filter, &t);
            const int32_t offset = is_interior(w, &t) ? 0 : rq->input_offset;
            void *out = (char *)output + ((size_t)oy * w->output_width + ox) * channels;
            for (int c = 0; c < channels; c++) {
                uint32_t acc = (uint32_t)start[c];  // wraps as the reference
                for (int fy = 0; fy < t.rows; fy++)
                    for (int fx = 0; fx < t.columns; fx++) {
                        const uint8_t *x = t.first_row + fy * input_row + fx * input_column + c;
                        int32_t value = rq->is_signed ? *(const int8_t *)x : *x;
                        acc += (uint32_t)(value + offset) * (uint32_t)t.first_tap[fy * filter_row + fx * stride + c];
                    }
                int32_t result = (int32_t)acc;
                requantize_store_scalar(&result, rq, out, c, 1);
            }
        }
}

#if defined(__x86_64__)
/// Geometry of one pixel's taps in the packed filter and the input, for the vector loops.
typedef struct {
    size_t input_row, input_column, filter_row;
    int stride, channels;
} dw_steps;

static inline dw_steps steps_for(const ck_window *w) {
    dw_steps s;
    s.stride = padded_channels(w->channels);
    s.channels = w->channels;
    s.input_row = (size_t)w->input_width * w->channels * w->dilation_height;
    s.input_column = (size_t)w->channels * w->dilation_width;
    s.filter_row = (size_t)w->filter_width * s.stride;
    return s;
}

/// One block of <= 16 channels of one output pixel; `rows`/`columns` are constants in the 3x3 interior
/// call, so the tap loops unroll; `add_offset` is 0 there (the offset is in the starting accumulators).
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void pixel_avx512(const pixel_taps *t, int rows, int columns, const int32_t *start, dw_steps s, int c,
                                __mmask16 lanes, int count, __m512i input_offset, const requant16_channels *channels,
                                const ck_requant *rq, void *out, const int add_offset, const int is_signed) {
    __m512i acc = _mm512_loadu_si512(start + c);
    for (int fy = 0; fy < rows; fy++) {
        const uint8_t *row = t->first_row + fy * s.input_row + c;
        const int32_t *taps = t->first_tap + fy * s.filter_row + c;
        for (int fx = 0; fx < columns; fx++) {
            __m128i bytes = _mm_maskz_loadu_epi8(lanes, row + fx * s.input_column);
            __m512i x = is_signed ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
            if (add_offset) x = _mm512_add_epi32(x, input_offset);
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(x, _mm512_loadu_si512(taps + fx * s.stride)));
        }
    }
    requantize_store16(acc, channels, rq, out, c, count);
}

__attribute__((target(CK_AVX512_Q), always_inline))
static inline __m512i widen32(const uint8_t *p, const int is_signed) {
    __m256i bytes = _mm256_loadu_si256((const __m256i *)p);
    return is_signed ? _mm512_cvtepi8_epi16(bytes) : _mm512_cvtepu8_epi16(bytes);
}

/// 32 channels of one interior pixel with vpmaddwd: two taps per multiply, the int16 inputs of taps
/// 2p and 2p + 1 interleaved per channel against the packed int16 filter pairs. Exact (every product
/// and pair sum fits int32), so the wrapped int32 sums equal the reference's. `taps` is a constant in
/// the 3x3 call, so the loop unrolls and the filter pairs stay in registers.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void interior32_avx512(const uint8_t *first, const size_t *tap_offset, const int taps,
                                     const __m512i *filter_pairs, const int32_t *start, int c,
                                     const requant16_channels *low, const requant16_channels *high,
                                     const ck_requant *rq, void *out, const int is_signed) {
    __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    for (int p = 0; p < (taps + 1) / 2; p++) {
        __m512i a = widen32(first + tap_offset[2 * p], is_signed);
        __m512i b = 2 * p + 1 < taps ? widen32(first + tap_offset[2 * p + 1], is_signed) : _mm512_setzero_si512();
        lo = _mm512_add_epi32(lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(a, b), filter_pairs[2 * p]));
        hi = _mm512_add_epi32(hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(a, b), filter_pairs[2 * p + 1]));
    }
    // Back to channel order (see unpacked_channel), then the starting accumulators (wrapping sums commute).
    const __m512i first_half = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i second_half = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    __m512i acc0 = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, first_half, hi), _mm512_loadu_si512(start + c));
    __m512i acc1 = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, second_half, hi), _mm512_loadu_si512(start + c + 16));
    requantize_store16(acc0, low, rq, out, c, 16);
    requantize_store16(acc1, high, rq, out, c + 16, 16);
}

/// One output row for a full block of 32 channels [c, c + 32): interior pixels through
/// interior32_avx512, border pixels as two 16-channel blocks.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void row_block32_avx512(const ck_window *w, const int32_t *filter, const pixel_taps *row_taps,
                                      const size_t *tap_offset, const int taps, dw_steps s, int c,
                                      __m512i input_offset, const ck_requant *rq, char *out_row, const int is_signed) {
    const int all_taps = w->filter_height * w->filter_width;
    const int32_t *pairs = filter + pairs_start(all_taps, s.channels) + (size_t)(c / 32) * pair_count(all_taps) * 32;
    __m512i filter_pairs[2 * pair_count(taps)];
    for (int i = 0; i < 2 * pair_count(taps); i++) filter_pairs[i] = _mm512_loadu_si512(pairs + 16 * i);
    const requant16_channels low = requant16_prepare(rq, c), high = requant16_prepare(rq, c + 16);
    for (int ox = 0; ox < w->output_width; ox++) {
        const pixel_taps *t = &row_taps[ox];
        const int32_t *start = start_row(w, filter, t);
        void *out = out_row + (size_t)ox * s.channels;
        if (is_interior(w, t)) {
            interior32_avx512(t->first_row + c, tap_offset, taps, filter_pairs, start, c, &low, &high, rq, out,
                              is_signed);
        } else {
            pixel_avx512(t, t->rows, t->columns, start, s, c, 0xFFFF, 16, input_offset, &low, rq, out, 1, is_signed);
            pixel_avx512(t, t->rows, t->columns, start, s, c + 16, 0xFFFF, 16, input_offset, &high, rq, out, 1,
                         is_signed);
        }
    }
}

/// Channel blocks outside, pixels of the output row inside, so each block's requantization constants
/// are prepared once per row.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void depthwise_q_avx512_rows(const void *input, const ck_window *w, const int32_t *filter,
                                           const ck_requant *rq, void *output, int row_begin, int row_end,
                                           const int is_signed) {
    const dw_steps s = steps_for(w);
    const __m512i input_offset = _mm512_set1_epi32(rq->input_offset);
    const int three = w->filter_height == 3 && w->filter_width == 3;
    pixel_taps row_taps[w->output_width];
    const int taps = w->filter_height * w->filter_width;
    const int use_pairs = filter[pairs_start(taps, s.channels) + pairs_size(taps, s.channels)];
    size_t tap_offset[taps];  // input offset of each tap from the window's first, for interior pixels
    for (int t = 0; t < taps; t++)
        tap_offset[t] = (t / w->filter_width) * s.input_row + (t % w->filter_width) * s.input_column;
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++) row_taps[ox] = taps_for(input, w, filter, oy, ox);
        char *out_row = (char *)output + (size_t)oy * w->output_width * s.channels;
        int c = 0;
        if (use_pairs)
            for (; c + 32 <= s.channels; c += 32) {
                if (three)
                    row_block32_avx512(w, filter, row_taps, tap_offset, 9, s, c, input_offset, rq, out_row, is_signed);
                else
                    row_block32_avx512(w, filter, row_taps, tap_offset, taps, s, c, input_offset, rq, out_row,
                                       is_signed);
            }
        for (; c < s.channels; c += 16) {
            int count = s.channels - c < 16 ? s.channels - c : 16;
            __mmask16 lanes = (__mmask16)((1u << count) - 1);
            const requant16_channels channels = requant16_prepare(rq, c);
            for (int ox = 0; ox < w->output_width; ox++) {
                const pixel_taps *t = &row_taps[ox];
                const int32_t *start = start_row(w, filter, t);
                void *out = out_row + (size_t)ox * s.channels;
                if (!is_interior(w, t))
                    pixel_avx512(t, t->rows, t->columns, start, s, c, lanes, count, input_offset, &channels, rq, out, 1,
                                 is_signed);
                else if (three)
                    pixel_avx512(t, 3, 3, start, s, c, lanes, count, input_offset, &channels, rq, out, 0, is_signed);
                else
                    pixel_avx512(t, t->rows, t->columns, start, s, c, lanes, count, input_offset, &channels, rq, out, 0,
                                 is_signed);
            }
        }
    }
}

__attribute__((target(CK_AVX512_Q)))
static void depthwise_q_avx512(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq,
                               void *output, int row_begin, int row_end) {
    if (rq->is_signed) depthwise_q_avx512_rows(input, w, filter, rq, output, row_begin, row_end, 1);
    else depthwise_q_avx512_rows(input, w, filter, rq, output, row_begin, row_end, 0);
}

__attribute__((target("avx2"), always_inline))
static inline void depthwise_q_avx2_rows(const void *input, const ck_window *w, const int32_t *filter,
                                         const ck_requant *rq, void *output, int row_begin, int row_end,
                                         const int is_signed) {
    const dw_steps s = steps_for(w);
    for (int oy = row_begin; oy < row_end; oy++)
        for (int ox = 0; ox < w->output_width; ox++) {
            pixel_taps t = taps_for(input, w, filter, oy, ox);
            const int32_t *start = start_row(w, filter, &t);
            const __m256i offset = _mm256_set1_epi32(is_interior(w, &t) ? 0 : rq->input_offset);
            void *out = (char *)output + ((size_t)oy * w->output_width + ox) * s.channels;
            for (int c = 0; c < s.channels; c += 8) {
                int count = s.channels - c < 8 ? s.channels - c : 8;
                const requant8_channels channels = requant8_prepare(rq, c);
                __m256i acc = _mm256_loadu_si256((const __m256i *)(start + c));
                for (int fy = 0; fy < t.rows; fy++) {
                    const uint8_t *row = t.first_row + fy * s.input_row + c;
                    const int32_t *taps = t.first_tap + fy * s.filter_row + c;
                    for (int fx = 0; fx < t.columns; fx++) {
                        uint64_t eight = 0;  // a partial last block must not read past the input
                        memcpy(&eight, row + fx * s.input_column, (size_t)count);
                        __m128i bytes = _mm_cvtsi64_si128((long long)eight);
                        __m256i x = is_signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
                        __m256i f = _mm256_loadu_si256((const __m256i *)(taps + fx * s.stride));
                        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_add_epi32(x, offset), f));
                    }
                }
                requantize_store8(acc, &channels, rq, out, c, count);
            }
        }
}

__attribute__((target("avx2")))
static void depthwise_q_avx2(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq,
                             void *output, int row_begin, int row_end) {
    if (rq->is_signed) depthwise_q_avx2_rows(input, w, filter, rq, output, row_begin, row_end, 1);
    else depthwise_q_avx2_rows(input, w, filter, rq, output, row_begin, row_end, 0);
}
#endif

void ck_depthwise_q(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq, void *output,
                    int row_begin, int row_end) {
#if defined(__x86_64__)
    if (ck_has_avx512_q()) {
        depthwise_q_avx512(input, w, filter, rq, output, row_begin, row_end);
        return;
    }
    if (ck_active_isa() >= CK_ISA_AVX2_FMA) {
        depthwise_q_avx2(input, w, filter, rq, output, row_begin, row_end);
        return;
    }
#endif
    depthwise_q_portable(input, w, filter, rq, output, row_begin, row_end);
}
