// Depthwise 8-bit convolution (multiplier 1), vectorized across channels: per output pixel and block
// of 16 (AVX-512) or 8 (AVX2) channels, int32 accumulators of (input + input offset) * (filter +
// filter offset) over the taps inside the image (TFLite skips the others), then vector
// requantization. The taps inside the image form a rectangle computed once per pixel, so the tap
// loops have no bounds checks; for pixels whose window lies wholly inside the image (most of them)
// the input offset's share is a per-channel constant folded into the starting accumulators. With
// AVX-512, such interior pixels take 32 channels at a time and two taps per vpmaddwd (int16 inputs
// times int16 filter pairs), half the multiplies of one vpmulld per tap.
#include <stdlib.h>
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

/// 3x3 filters also get the vpdpbusd layout (see the VNNI section): 64-channel blocks, or one block
/// of two neighbouring pixels when there are exactly 32 channels. With a multiple of 16 channels the
/// last block may be partial (96 = 64 + 32, 144 = 2 x 64 + 16: the largest layers of MobileNetV2),
/// loaded and stored under a mask; its lanes past the channels compute on zeros and are never stored.
/// With VBMI that block serves only the border pixels: inside the image its channels take the tail path.
static inline int vnni_blocks(int channels) {
    return channels == 32 ? 1 : channels % 16 == 0 ? (channels + 63) / 64 : channels / 64;
}
static inline size_t vnni_start(int taps, int channels) { return pairs_start(taps, channels) + pairs_size(taps, channels) + 1; }
/// Per block: 3 columns x 4 vectors of 16 lanes of filter bytes, then 4 x 16 starting accumulators.
enum { VNNI_BLOCK_INTS = 3 * 4 * 16 + 4 * 16 };
static inline size_t vnni_size(int taps, int channels) { return taps == 9 ? (size_t)vnni_blocks(channels) * VNNI_BLOCK_INTS : 0; }

/// The channels past the last full 64-channel block when their count is a multiple of 16 (not the
/// 32-channel pairs): 16, 32 or 48. With AVX-512 VBMI their interior pixels take 16-lane vectors in channel
/// order (vnni_tail_interior) instead of the partial block, whose 64 lanes cost as much as a full one.
static inline int vnni_tail_channels(int channels) { return channels != 32 && channels % 16 == 0 ? channels % 64 : 0; }
/// Per tail vector of 16 channels: 3 columns of 16 lanes of filter bytes, then 16 starting accumulators.
enum { VNNI_TAIL_VECTOR_INTS = 4 * 16 };
static inline size_t vnni_tail_size(int taps, int channels) {
    return taps == 9 ? (size_t)vnni_tail_channels(channels) / 16 * VNNI_TAIL_VECTOR_INTS : 0;
}

/// The narrow flag's index: the last int32 of the packed filter.
static inline size_t narrow_flag(int taps, int channels) {
    return vnni_start(taps, channels) + 1 + vnni_size(taps, channels) + vnni_tail_size(taps, channels);
}

size_t ck_depthwise_q_packed_count(int taps, int channels) { return narrow_flag(taps, channels) + 1; }

int ck_depthwise_q_fold_constant_channels(const int32_t *packed, int taps, int channels, const ck_requant *rq,
                                          int32_t *significand, int32_t *shift) {
    const int stride = padded_channels(channels);
    int folded = 0;
    for (int c = 0; c < channels; c++) {
        // Border pixels start at the bias, interior ones at the bias plus the offset term; every input
        // term lies in [-255, 255].
        int64_t taps_sum = 0;
        for (int t = 0; t < taps; t++) taps_sum += llabs((int64_t)packed[(size_t)t * stride + c]);
        const int64_t plain = packed[(size_t)taps * stride + c], interior = packed[(size_t)(taps + 1) * stride + c];
        folded += fold_constant_channel(rq, c, (plain < interior ? plain : interior) - 255 * taps_sum,
                                        (plain > interior ? plain : interior) + 255 * taps_sum, significand, shift);
    }
    return folded;
}

int ck_depthwise_q_mark_narrow(int32_t *packed, int taps, int channels, const ck_requant *rq) {
    const int stride = padded_channels(channels);
    int narrow = narrow_clamp_fits(rq);
    for (int c = 0; c < channels && narrow; c++) {
        // Every input term (x + offset at border pixels, x alone inside) lies in [-255, 255].
        int64_t taps_sum = 0;
        for (int t = 0; t < taps; t++) taps_sum += llabs((int64_t)packed[(size_t)t * stride + c]);
        int64_t plain = llabs((int64_t)packed[(size_t)taps * stride + c]);
        int64_t interior = llabs((int64_t)packed[(size_t)(taps + 1) * stride + c]);
        narrow = narrow_channel_fits(rq, c, (plain > interior ? plain : interior) + 255 * taps_sum);  // bound >= |acc|
    }
    packed[narrow_flag(taps, channels)] = narrow;
    return narrow;
}

/// Channel of lane `lane` (0..15) of vector k (0..3) of VNNI block `block`: byte interleaving (see
/// vnni_column) leaves channel 16 * (128-bit lane) + 4k + (lane within it) there; with 32 channels the
/// block's upper 32 lanes are the next pixel's same channels.
static inline int vnni_channel(int block, int k, int lane, int channels) {
    return (64 * block + 16 * (lane / 4) + 4 * k + lane % 4) % channels;
}

/// Channel of 32-bit lane `lane` (0..31) of a 32-channel block after _mm512_unpacklo/hi_epi16 of two
/// rows of 32 int16 channels: the unpacks work within 128-bit lanes, so lanes 0..15 (lo) hold channels
/// 0-3, 8-11, 16-19, 24-27 and lanes 16..31 (hi) the same plus 4.
static inline int unpacked_channel(int lane) {
    int half = lane / 16, j = lane % 16;
    return 8 * (j / 4) + j % 4 + 4 * half;
}

/// Channel c's taps of rows 0, 1, 2 of filter column fx as the bytes of one int32 lane for vpdpbusd; the
/// fourth byte (multiplying a repeated input row) is 0. Needs the 3x3 int32 rows of the packed filter.
static inline int32_t vnni_filter_column(const int32_t *packed, int stride, int c, int fx) {
    uint32_t bytes = 0;
    for (int fy = 0; fy < 3; fy++) bytes |= (uint32_t)(uint8_t)packed[(size_t)(fy * 3 + fx) * stride + c] << (8 * fy);
    return (int32_t)bytes;
}

/// Channel c's starting accumulator for interior pixels on the vpdpbusd path: the bias plus the input
/// offset's share, with signed inputs flipped to x + 128 (so the offset less 128 times the taps' sum).
static inline int32_t vnni_start_accumulator(const int32_t *packed, int stride, int c, int32_t input_offset, int is_signed) {
    uint32_t filter_sum = 0;
    for (int t = 0; t < 9; t++) filter_sum += (uint32_t)packed[(size_t)t * stride + c];
    const uint32_t offset = (uint32_t)input_offset - (is_signed ? 128u : 0u);
    return (int32_t)((uint32_t)packed[(size_t)9 * stride + c] + offset * filter_sum);
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

    // vpdpbusd multiplies unsigned input bytes by signed filter bytes: usable when every tap fits int8.
    // Signed inputs are flipped to x + 128, so the starting accumulators take (offset - 128) * sum of taps.
    int32_t *vnni = packed + vnni_start(taps, channels);
    int fits8 = taps == 9 && vnni_blocks(channels) > 0;
    for (int t = 0; t < taps; t++)
        for (int c = 0; c < channels; c++) fits8 &= packed[(size_t)t * stride + c] >= INT8_MIN && packed[(size_t)t * stride + c] <= INT8_MAX;
    vnni[0] = fits8;
    if (taps != 9) return;
    int32_t *block_data = vnni + 1;
    for (int block = 0; block < vnni_blocks(channels); block++, block_data += VNNI_BLOCK_INTS) {
        for (int fx = 0; fx < 3; fx++)
            for (int k = 0; k < 4; k++)
                for (int lane = 0; lane < 16; lane++)
                    block_data[(fx * 4 + k) * 16 + lane] = vnni_filter_column(packed, stride, vnni_channel(block, k, lane, channels), fx);
        for (int k = 0; k < 4; k++)
            for (int lane = 0; lane < 16; lane++)
                block_data[12 * 16 + k * 16 + lane] = vnni_start_accumulator(packed, stride, vnni_channel(block, k, lane, channels),
                                                                             input_offset, is_signed);
    }
    const int tail = vnni_tail_channels(channels);
    for (int v = 0; v < tail / 16; v++, block_data += VNNI_TAIL_VECTOR_INTS)
        for (int lane = 0; lane < 16; lane++) {
            const int c = channels - tail + 16 * v + lane;
            for (int fx = 0; fx < 3; fx++) block_data[16 * fx + lane] = vnni_filter_column(packed, stride, c, fx);
            block_data[48 + lane] = vnni_start_accumulator(packed, stride, c, input_offset, is_signed);
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

/// Input offset of each tap from the window's first, for interior pixels.
static inline void interior_tap_offsets(const ck_window *w, dw_steps s, size_t *tap_offset) {
    for (int t = 0; t < w->filter_height * w->filter_width; t++)
        tap_offset[t] = (t / w->filter_width) * s.input_row + (t % w->filter_width) * s.input_column;
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

/// The largest filter (in taps) whose int16 pairs row_block32_avx512 keeps in registers; larger ones take
/// the 16-channel path.
#define MAX_PAIR_TAPS 25

/// One output row for a full block of 32 channels [c, c + 32): interior pixels through
/// interior32_avx512, border pixels as two 16-channel blocks.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void row_block32_avx512(const ck_window *w, const int32_t *filter, const pixel_taps *row_taps,
                                      const size_t *tap_offset, const int taps, dw_steps s, int c,
                                      __m512i input_offset, const ck_requant *rq, char *out_row, const int is_signed) {
    const int all_taps = w->filter_height * w->filter_width;
    const int32_t *pairs = filter + pairs_start(all_taps, s.channels) + (size_t)(c / 32) * pair_count(all_taps) * 32;
    // A fixed-size array: clang at -O0 misaligns variable-length arrays of 64-byte vectors (a debug build
    // crashed on the aligned spill), so callers send filters of at most MAX_PAIR_TAPS taps here.
    __m512i filter_pairs[2 * pair_count(MAX_PAIR_TAPS)];
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

/// The output columns [begin, end) whose windows lie inside the image horizontally.
static inline void interior_columns(const ck_window *w, int *begin, int *end) {
    int b = 0, e;
    while (b < w->output_width && b * w->stride_width - w->pad_left < 0) b++;
    e = b;
    while (e < w->output_width && e * w->stride_width - w->pad_left + (w->filter_width - 1) * w->dilation_width < w->input_width)
        e++;
    *begin = b;
    *end = e;
}

/// Channels [0, channels) of the pixels whose windows leave the image, 16 at a time (the VNNI path
/// did the others).
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void border_pixels_avx512(const void *input, const ck_window *w, const int32_t *filter,
                                        const ck_requant *rq, void *output, int row_begin, int row_end, int channels,
                                        const int is_signed) {
    const dw_steps s = steps_for(w);
    const __m512i input_offset = _mm512_set1_epi32(rq->input_offset);
    int ox_begin, ox_end;
    interior_columns(w, &ox_begin, &ox_end);
    for (int oy = row_begin; oy < row_end; oy++) {
        const int iy = oy * w->stride_height - w->pad_top;
        const int row_inside = iy >= 0 && iy + (w->filter_height - 1) * w->dilation_height < w->input_height;
        for (int ox = 0; ox < w->output_width; ox++) {
            if (row_inside && ox == ox_begin && ox_end > ox_begin) ox = ox_end;
            if (ox >= w->output_width) break;
            const pixel_taps t = taps_for(input, w, filter, oy, ox);
            const int32_t *start = start_row(w, filter, &t);
            void *out = (char *)output + ((size_t)oy * w->output_width + ox) * s.channels;
            for (int c = 0; c < channels; c += 16) {
                const requant16_channels constants = requant16_prepare(rq, c);
                pixel_avx512(&t, t.rows, t.columns, start, s, c, 0xFFFF, 16, input_offset, &constants, rq, out, 1,
                             is_signed);
            }
        }
    }
}

/// Channel blocks outside, pixels of the output row inside, so each block's requantization constants
/// are prepared once per row.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void depthwise_q_avx512_rows(const void *input, const ck_window *w, const int32_t *filter,
                                           const ck_requant *rq, void *output, int row_begin, int row_end,
                                           int vnni_channels, int vnni_all_pixels, pixel_taps *row_taps,
                                           size_t *tap_offset, const int is_signed) {
    const dw_steps s = steps_for(w);
    const __m512i input_offset = _mm512_set1_epi32(rq->input_offset);
    const int three = w->filter_height == 3 && w->filter_width == 3;
    const int taps = w->filter_height * w->filter_width;
    const int use_pairs = filter[pairs_start(taps, s.channels) + pairs_size(taps, s.channels)];
    interior_tap_offsets(w, s, tap_offset);
    if (vnni_channels > 0 && !vnni_all_pixels) border_pixels_avx512(input, w, filter, rq, output, row_begin, row_end, vnni_channels, is_signed);
    if (vnni_channels == s.channels) return;
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++) row_taps[ox] = taps_for(input, w, filter, oy, ox);
        char *out_row = (char *)output + (size_t)oy * w->output_width * s.channels;
        int c = vnni_channels;
        if (use_pairs && taps <= MAX_PAIR_TAPS)
            for (; c + 32 <= s.channels; c += 32) {
                if (three)
                    row_block32_avx512(w, filter, row_taps, tap_offset, 9, s, c, input_offset, rq, out_row,
                                       is_signed);
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

// MARK: AVX-512 VNNI interior pixels of 3x3 filters
// vpdpbusd adds four byte products per 32-bit lane. Per input column and 64-byte block, the bytes of
// input rows 0, 1, 2 are interleaved per channel (vnni_column), so one vpdpbusd applies a whole filter
// column; output pixels next to each other share the interleaved columns (two of three at stride 1, one
// at stride 2). With exactly 32 channels a 64-byte block holds two neighbouring pixels, which then share
// every load and are computed together. Taps outside the image never occur here (interior pixels
// only), so the input offset's share is a constant in the starting accumulators.

#define CK_AVX512_VNNI_Q CK_AVX512_Q ",avx512vnni"
enum { VNNI_MIN_PIXELS = 16 };

/// Requantization constants of the 64 lanes of a block, in the lane order of the accumulators. Same
/// arithmetic as requantize16 but on 64-bit lanes at once: floor((floor((P + 2^30) / 2^31) + h - n) / 2^r)
/// with P = (acc << left) * significand, h = 2^(r - 1) and n = [P < 0] (both 0 when r = 0) is, as nested
/// floors of integer divisions compose, floor((P + 2^30 + (h - n) 2^31) / 2^(31 + r)); n may test P < 0
/// instead of the reference's high part < 0, as both give 0 for P in [-2^30, 0). Requires significands
/// other than INT32_MIN (no saturation) and shifts in [-31, 31].
typedef struct {
    __m512i left[4], significand_even[4], significand_odd[4], round_even[4], round_odd[4], negative_even[4],
        negative_odd[4], shift_even[4], shift_odd[4];
    int any_left;  // some channel shifts left (multiplier above 1); usually none, saving the shift
    // When the layer's accumulators and multipliers allow it (ck_depthwise_q_mark_narrow), the GEMM's
    // cheaper 32-bit-lane requantization (requantize_q.h, narrow16) replaces the 64-bit-lane one above.
    int narrow;
    int ties_clamped;  // narrow, skipping the negative-value correction (requantize_q.h, narrow_ties_clamped)
    narrow16_channels narrow_lanes[4];
} vnni_requant;

static inline int vnni_requant_supported(const ck_requant *rq, int channels) {
    for (int c = 0; c < channels; c++)
        if (rq->significand[c] == INT32_MIN || rq->shift[c] < -31 || rq->shift[c] > 31) return 0;
    return 1;
}

/// Vector k of a block's lane order from its four channel-ordered 16-lane rows: 128-bit chunk k of
/// each row (a 4 x 4 transpose of chunks).
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline void vnni_lane_order(const int32_t *values, int block, int channels, __m512i out[4]) {
    __m512i rows[4];
    for (int m = 0; m < 4; m++) rows[m] = _mm512_loadu_si512(values + (64 * block + 16 * m) % channels);
    const __m512i low01 = _mm512_shuffle_i32x4(rows[0], rows[1], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i low23 = _mm512_shuffle_i32x4(rows[2], rows[3], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i high01 = _mm512_shuffle_i32x4(rows[0], rows[1], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512i high23 = _mm512_shuffle_i32x4(rows[2], rows[3], _MM_SHUFFLE(3, 2, 3, 2));
    out[0] = _mm512_shuffle_i32x4(low01, low23, _MM_SHUFFLE(2, 0, 2, 0));
    out[1] = _mm512_shuffle_i32x4(low01, low23, _MM_SHUFFLE(3, 1, 3, 1));
    out[2] = _mm512_shuffle_i32x4(high01, high23, _MM_SHUFFLE(2, 0, 2, 0));
    out[3] = _mm512_shuffle_i32x4(high01, high23, _MM_SHUFFLE(3, 1, 3, 1));
}

/// The 64-bit-lane constants of one half (even or odd 32-bit lanes) for right shifts `right`.
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline void vnni_requant_half(__m512i right, __m512i *round, __m512i *negative, __m512i *shift) {
    const __mmask8 shifts = _mm512_cmpgt_epi64_mask(right, _mm512_setzero_si512());
    const __m512i half = _mm512_sllv_epi64(_mm512_set1_epi64(1LL << 31), _mm512_sub_epi64(right, _mm512_set1_epi64(1)));
    *round = _mm512_add_epi64(_mm512_set1_epi64(1LL << 30), _mm512_maskz_mov_epi64(shifts, half));  // 2^30 + h 2^31
    *negative = _mm512_maskz_mov_epi64(shifts, _mm512_set1_epi64(1LL << 31));
    *shift = _mm512_add_epi64(right, _mm512_set1_epi64(31));
}

__attribute__((target(CK_AVX512_VNNI_Q), noinline))  // inlined, it worsens the row loops' code
static void vnni_requant_prepare(const ck_requant *rq, int block, int channels, int narrow, vnni_requant *out) {
    __m512i significand[4], shift[4];
    vnni_lane_order(rq->significand, block, channels, significand);
    vnni_lane_order(rq->shift, block, channels, shift);
    const __m512i zero = _mm512_setzero_si512();
    out->narrow = narrow;
    if (narrow) {  // the 64-bit-lane constants below would go unused
        for (int k = 0; k < 4; k++) out->narrow_lanes[k] = narrow16_lanes(significand[k], shift[k], rq);
        return;
    }
    out->any_left = 0;
    for (int k = 0; k < 4; k++) {
        out->any_left |= _mm512_cmpgt_epi32_mask(shift[k], zero) != 0;
        out->left[k] = _mm512_max_epi32(shift[k], zero);
        const __m512i right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift[k]), zero);
        // mul_epi32 reads the low 32 bits of each 64-bit lane: the even lanes as they are, the odd moved down.
        out->significand_even[k] = significand[k];
        out->significand_odd[k] = _mm512_srli_epi64(significand[k], 32);
        vnni_requant_half(_mm512_and_si512(right, _mm512_set1_epi64(0xFFFFFFFF)), &out->round_even[k],
                          &out->negative_even[k], &out->shift_even[k]);
        vnni_requant_half(_mm512_srli_epi64(right, 32), &out->round_odd[k], &out->negative_odd[k], &out->shift_odd[k]);
    }
}

/// Requantized (not yet offset or clamped) 32-bit values of accumulator vector k.
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline __m512i vnni_requantize(__m512i acc, const vnni_requant *c, int k) {
    const __m512i zero = _mm512_setzero_si512();
    // Wraps, as the reference's int32 multiply by 2^left.
    const __m512i x = c->any_left ? _mm512_sllv_epi32(acc, c->left[k]) : acc;
    __m512i even = _mm512_mul_epi32(x, c->significand_even[k]);
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), c->significand_odd[k]);
    __m512i sum_even = _mm512_add_epi64(even, c->round_even[k]), sum_odd = _mm512_add_epi64(odd, c->round_odd[k]);
    sum_even = _mm512_mask_sub_epi64(sum_even, _mm512_cmplt_epi64_mask(even, zero), sum_even, c->negative_even[k]);
    sum_odd = _mm512_mask_sub_epi64(sum_odd, _mm512_cmplt_epi64_mask(odd, zero), sum_odd, c->negative_odd[k]);
    even = _mm512_srav_epi64(sum_even, c->shift_even[k]);
    odd = _mm512_srav_epi64(sum_odd, c->shift_odd[k]);
    // The odd lanes' results (low halves of the odd products' lanes) into the odd 32-bit positions.
    return _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CCAA);
}

/// The four interleaved vectors of one input column: lane (l, j) of vector k (l the 128-bit lane) holds
/// rows 0, 1, 2 (and row 2 again, times a zero filter byte) of channel 16 l + 4 k + j. `masked`: load only
/// the bytes in `lanes` (the last, unpaired pixel of a 32-channel row).
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline void vnni_interleave(__m512i r0, __m512i r1, __m512i r2, __m512i q[4], const int is_signed) {
    if (is_signed) {  // x + 128 as an unsigned byte
        const __m512i flip = _mm512_set1_epi8((char)0x80);
        r0 = _mm512_xor_si512(r0, flip);
        r1 = _mm512_xor_si512(r1, flip);
        r2 = _mm512_xor_si512(r2, flip);
    }
    const __m512i low01 = _mm512_unpacklo_epi8(r0, r1), high01 = _mm512_unpackhi_epi8(r0, r1);
    const __m512i low22 = _mm512_unpacklo_epi8(r2, r2), high22 = _mm512_unpackhi_epi8(r2, r2);
    q[0] = _mm512_unpacklo_epi16(low01, low22);
    q[1] = _mm512_unpackhi_epi16(low01, low22);
    q[2] = _mm512_unpacklo_epi16(high01, high22);
    q[3] = _mm512_unpackhi_epi16(high01, high22);
}

__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline void vnni_column(const uint8_t *p, size_t input_row, __m512i q[4], const int is_signed,
                               const int masked, __mmask64 lanes) {
    __m512i r0 = masked ? _mm512_maskz_loadu_epi8(lanes, p) : _mm512_loadu_si512(p);
    __m512i r1 = masked ? _mm512_maskz_loadu_epi8(lanes, p + input_row) : _mm512_loadu_si512(p + input_row);
    __m512i r2 = masked ? _mm512_maskz_loadu_epi8(lanes, p + 2 * input_row) : _mm512_loadu_si512(p + 2 * input_row);
    vnni_interleave(r0, r1, r2, q, is_signed);
}

/// One output block from its three columns: accumulate, requantize, offset, clamp, store 64 bytes.
/// The saturating packs restore channel order (lane l of the result holds channels 16 l .. 16 l + 15)
/// and clamp to the type's range, so only the activation bounds remain, applied to bytes.
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline void vnni_output(const __m512i *q0, const __m512i *q1, const __m512i *q2, const int32_t *block_data,
                               const vnni_requant *c, const ck_requant *rq, void *out, const int is_signed,
                               const int masked, __mmask64 lanes) {
    const __m512i *filter = (const __m512i *)block_data;  // [column][k], read unaligned
    __m512i value[4];
#pragma clang loop unroll(full)
    for (int k = 0; k < 4; k++) {
        __m512i acc = _mm512_loadu_si512(block_data + 12 * 16 + 16 * k);
        acc = _mm512_dpbusd_epi32(acc, q0[k], _mm512_loadu_si512(filter + k));
        acc = _mm512_dpbusd_epi32(acc, q1[k], _mm512_loadu_si512(filter + 4 + k));
        acc = _mm512_dpbusd_epi32(acc, q2[k], _mm512_loadu_si512(filter + 8 + k));
        value[k] = c->narrow ? narrow16(acc, &c->narrow_lanes[k], c->ties_clamped)
                             : _mm512_add_epi32(vnni_requantize(acc, c, k), _mm512_set1_epi32(rq->output_offset));
    }
    const __m512i bytes = pack_words_clamped(_mm512_packs_epi32(value[0], value[1]),
                                             _mm512_packs_epi32(value[2], value[3]), rq, is_signed);
    if (masked) _mm512_mask_storeu_epi8(out, lanes, bytes);
    else _mm512_storeu_si512(out, bytes);
}

/// One block of a pixel whose window leaves the image: taps outside hold the input zero point `pad`,
/// whose products exactly cancel their share of the offset term in the starting accumulators, so the
/// result equals the reference's, which skips those taps.
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline void vnni_border_pixel(const uint8_t *input, const ck_window *w, int oy, int ox, int block,
                                     const int32_t *block_data, const vnni_requant *c, const ck_requant *rq,
                                     uint8_t *output, __m512i pad, const int is_signed, const int masked,
                                     __mmask64 lanes) {
    const int iy = oy * w->stride_height - w->pad_top, ix = ox * w->stride_width - w->pad_left;
    __m512i q[3][4];
    for (int fx = 0; fx < 3; fx++) {
        __m512i r[3];
        for (int fy = 0; fy < 3; fy++) {
            const int y = iy + fy, x = ix + fx;
            const uint8_t *p = input + ((size_t)y * w->input_width + x) * w->channels + 64 * block;
            r[fy] = y >= 0 && y < w->input_height && x >= 0 && x < w->input_width
                ? (masked ? _mm512_maskz_loadu_epi8(lanes, p) : _mm512_loadu_si512(p))
                : pad;
        }
        vnni_interleave(r[0], r[1], r[2], q[fx], is_signed);
    }
    vnni_output(q[0], q[1], q[2], block_data, c, rq, output + ((size_t)oy * w->output_width + ox) * w->channels + 64 * block,
                is_signed, masked, lanes);
}

/// Moves a row loop's three interleaved columns (`vectors` vectors each) on by one output pixel: at stride 1
/// (`share` 2) columns 1 and 2 become 0 and 1, at stride 2 column 2 becomes 0.
__attribute__((target(CK_AVX512_Q), always_inline))
static inline void slide_columns(__m512i *q0, __m512i *q1, const __m512i *q2, const int vectors, const int share) {
#pragma clang loop unroll(full)
    for (int v = 0; v < vectors; v++) {
        if (share == 2) {
            q0[v] = q1[v];
            q1[v] = q2[v];
        } else {
            q0[v] = q2[v];
        }
    }
}

/// `count` output blocks along a row: block n's window starts at in + n * step, its columns `column`
/// bytes apart; it is written to out + n * out_step. `share`: how many columns a block shares with the
/// next (2 when step == column, 1 when step == 2 * column). `masked`: only the bytes in `lanes` (a
/// partial last block) are loaded and stored.
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline void vnni_row(const uint8_t *in, size_t input_row, size_t step, size_t column, int count,
                            const int32_t *block_data, const vnni_requant *c, const ck_requant *rq, uint8_t *out,
                            size_t out_step, const int share, const int is_signed, const int masked, __mmask64 lanes) {
    __m512i q0[4], q1[4], q2[4];
    if (count <= 0) return;
    vnni_column(in, input_row, q0, is_signed, masked, lanes);
    if (share == 2) vnni_column(in + column, input_row, q1, is_signed, masked, lanes);
    for (int n = 0; n < count; n++) {
        const uint8_t *window = in + (size_t)n * step;
        if (share != 2) vnni_column(window + column, input_row, q1, is_signed, masked, lanes);
        vnni_column(window + 2 * column, input_row, q2, is_signed, masked, lanes);
        vnni_output(q0, q1, q2, block_data, c, rq, out + (size_t)n * out_step, is_signed, masked, lanes);
        slide_columns(q0, q1, q2, 4, share);
    }
}

// The tail (vnni_tail_channels): 16-lane vectors in channel order. One vpermt2b per vector gathers the
// three input rows' bytes of its channels into the vpdpbusd layout; chunks of two vectors share the loads.
#define CK_AVX512_VNNI_VBMI_Q CK_AVX512_VNNI_Q ",avx512vbmi"

/// A chunk's constants: up to two vectors' filter columns, starting accumulators, byte picks and
/// requantization constants (narrow16 or requantize16, both in channel order).
typedef struct {
    __m512i filter[3][2], start[2], pick[2];
    narrow16_channels narrow[2];
    requant16_channels wide[2];
} vnni_tail;

__attribute__((target(CK_AVX512_VNNI_VBMI_Q), always_inline))
static inline vnni_tail vnni_tail_prepare(const int32_t *tail_data, const ck_requant *rq, int first, const int vectors,
                                          const int narrow) {
    vnni_tail t;
    for (int v = 0; v < vectors; v++) {
        for (int fx = 0; fx < 3; fx++) t.filter[fx][v] = _mm512_loadu_si512(tail_data + v * VNNI_TAIL_VECTOR_INTS + 16 * fx);
        t.start[v] = _mm512_loadu_si512(tail_data + v * VNNI_TAIL_VECTOR_INTS + 48);
        // Lane i's bytes: rows 0 and 1 of channel 16 v + i (bytes 16 v + i and 32 + 16 v + i of the first
        // source), row 2 twice (64 + 16 v + i: the second source).
        const __m512i channel = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                 _mm512_set1_epi32(16 * v));
        t.pick[v] = _mm512_add_epi32(_mm512_mullo_epi32(channel, _mm512_set1_epi32(0x01010101)), _mm512_set1_epi32(0x40402000));
        if (narrow) t.narrow[v] = narrow16_prepare(rq, first + 16 * v);
        else t.wide[v] = requant16_prepare(rq, first + 16 * v);
    }
    return t;
}

/// The interleaved vectors of one input column: 16 bytes per vector of each of the three input rows.
__attribute__((target(CK_AVX512_VNNI_VBMI_Q), always_inline))
static inline void vnni_tail_column(const uint8_t *p, size_t input_row, const vnni_tail *t, const int vectors, __m512i q[2],
                                    const int is_signed) {
    const __mmask32 bytes = vectors == 2 ? 0xFFFFFFFFu : 0xFFFFu;  // never past the chunk's channels
    __m512i rows01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_maskz_loadu_epi8(bytes, p)),
                                        _mm256_maskz_loadu_epi8(bytes, p + input_row), 1);
    __m512i rows22 = _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi8(bytes, p + 2 * input_row));
    if (is_signed) {  // x + 128 as an unsigned byte
        rows01 = _mm512_xor_si512(rows01, _mm512_set1_epi8((char)0x80));
        rows22 = _mm512_xor_si512(rows22, _mm512_set1_epi8((char)0x80));
    }
    for (int v = 0; v < vectors; v++) q[v] = _mm512_permutex2var_epi8(rows01, t->pick[v], rows22);
}

/// One output pixel of the chunk from its three columns: accumulate, requantize, clamp, store.
__attribute__((target(CK_AVX512_VNNI_VBMI_Q), always_inline))
static inline void vnni_tail_output(const __m512i *q0, const __m512i *q1, const __m512i *q2, const vnni_tail *t,
                                    const int vectors, const ck_requant *rq, uint8_t *out, const int is_signed,
                                    const int narrow, const int ties_clamped) {
    __m512i value[2];
    for (int v = 0; v < vectors; v++) {
        __m512i acc = _mm512_dpbusd_epi32(t->start[v], q0[v], t->filter[0][v]);
        acc = _mm512_dpbusd_epi32(acc, q1[v], t->filter[1][v]);
        acc = _mm512_dpbusd_epi32(acc, q2[v], t->filter[2][v]);
        value[v] = narrow ? narrow16(acc, &t->narrow[v], ties_clamped) : requantize16(acc, &t->wide[v], rq);
    }
    if (vectors == 1) value[1] = value[0];
    // Per 128-bit lane L the packs leave dwords (vector 0's channels 4L...4L+3, vector 1's, again both).
    const __m512i words = _mm512_packs_epi32(value[0], value[1]);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i bytes = _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, pack_words_clamped(words, words, rq, is_signed)));
    if (vectors == 2) _mm256_storeu_si256((__m256i *)out, bytes);
    else _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(bytes));
}

/// `count` interior pixels along a row, as vnni_row.
__attribute__((target(CK_AVX512_VNNI_VBMI_Q), always_inline))
static inline void vnni_tail_row(const uint8_t *in, size_t input_row, size_t step, size_t column, int count,
                                 const vnni_tail *t, const int vectors, const ck_requant *rq, uint8_t *out,
                                 size_t out_step, const int share, const int is_signed, const int narrow,
                                 const int ties_clamped) {
    __m512i q0[2], q1[2], q2[2];
    vnni_tail_column(in, input_row, t, vectors, q0, is_signed);
    if (share == 2) vnni_tail_column(in + column, input_row, t, vectors, q1, is_signed);
    for (int n = 0; n < count; n++) {
        const uint8_t *window = in + (size_t)n * step;
        if (share != 2) vnni_tail_column(window + column, input_row, t, vectors, q1, is_signed);
        vnni_tail_column(window + 2 * column, input_row, t, vectors, q2, is_signed);
        vnni_tail_output(q0, q1, q2, t, vectors, rq, out + (size_t)n * out_step, is_signed, narrow, ties_clamped);
        slide_columns(q0, q1, q2, vectors, share);
    }
}

/// Interior pixels of rows [row_begin, row_end), tail channels [first, first + 16 vectors).
__attribute__((target(CK_AVX512_VNNI_VBMI_Q), always_inline))
static inline void vnni_tail_chunk(const void *input, const ck_window *w, const int32_t *tail_data, const ck_requant *rq,
                                   void *output, int row_begin, int row_end, int first, const int vectors,
                                   const int is_signed, const int narrow, const int ties_clamped) {
    const vnni_tail t = vnni_tail_prepare(tail_data, rq, first, vectors, narrow);
    const int channels = w->channels;
    const size_t input_row = (size_t)w->input_width * channels;
    int ox_begin, ox_end;
    interior_columns(w, &ox_begin, &ox_end);
    if (ox_end <= ox_begin) return;
    const int ix = ox_begin * w->stride_width - w->pad_left, count = ox_end - ox_begin;
    for (int oy = row_begin; oy < row_end; oy++) {
        const int iy = oy * w->stride_height - w->pad_top;
        if (iy < 0 || iy + 2 >= w->input_height) continue;
        const uint8_t *in = (const uint8_t *)input + ((size_t)iy * w->input_width + ix) * channels + first;
        uint8_t *out = (uint8_t *)output + ((size_t)oy * w->output_width + ox_begin) * channels + first;
        if (w->stride_width == 1)
            vnni_tail_row(in, input_row, channels, channels, count, &t, vectors, rq, out, channels, 2, is_signed, narrow,
                          ties_clamped);
        else
            vnni_tail_row(in, input_row, 2 * (size_t)channels, channels, count, &t, vectors, rq, out, channels, 1,
                          is_signed, narrow, ties_clamped);
    }
}

__attribute__((target(CK_AVX512_VNNI_VBMI_Q), always_inline))
static inline void vnni_tail_chunks(const void *input, const ck_window *w, const int32_t *tail_data,
                                    const ck_requant *rq, void *output, int row_begin, int row_end,
                                    const int is_signed, const int narrow, const int ties_clamped) {
    const int tail = vnni_tail_channels(w->channels);
    for (int v = 0; v < tail / 16; v += 2) {
        const int first = w->channels - tail + 16 * v;
        const int32_t *data = tail_data + (size_t)v * VNNI_TAIL_VECTOR_INTS;
        if (tail / 16 - v >= 2)
            vnni_tail_chunk(input, w, data, rq, output, row_begin, row_end, first, 2, is_signed, narrow, ties_clamped);
        else
            vnni_tail_chunk(input, w, data, rq, output, row_begin, row_end, first, 1, is_signed, narrow, ties_clamped);
    }
}

/// The tail channels' interior pixels (the caller checked the VNNI path's other conditions).
__attribute__((target(CK_AVX512_VNNI_VBMI_Q)))
static void vnni_tail_interior(const void *input, const ck_window *window, const int32_t *tail_data,
                               const ck_requant *requant, void *output, int row_begin, int row_end, int narrow,
                               int ties_clamped) {
    const ck_window w = *window;  // copies that no byte store can change (depthwise_q_avx512)
    const ck_requant rq = *requant;
    if (rq.is_signed)
        ties_clamped ? vnni_tail_chunks(input, &w, tail_data, &rq, output, row_begin, row_end, 1, 1, 1)
        : narrow     ? vnni_tail_chunks(input, &w, tail_data, &rq, output, row_begin, row_end, 1, 1, 0)
                     : vnni_tail_chunks(input, &w, tail_data, &rq, output, row_begin, row_end, 1, 0, 0);
    else
        ties_clamped ? vnni_tail_chunks(input, &w, tail_data, &rq, output, row_begin, row_end, 0, 1, 1)
        : narrow     ? vnni_tail_chunks(input, &w, tail_data, &rq, output, row_begin, row_end, 0, 1, 0)
                     : vnni_tail_chunks(input, &w, tail_data, &rq, output, row_begin, row_end, 0, 0, 0);
}

/// Interior pixels of the rows, channels [0, returned count), through vpdpbusd; returns 0 when this path
/// does not apply (then the caller computes everything).
__attribute__((target(CK_AVX512_VNNI_Q), always_inline))
static inline int depthwise_q_vnni_rows(const void *input, const ck_window *w, const int32_t *filter,
                                        const ck_requant *rq, void *output, int row_begin, int row_end,
                                        int *all_pixels, const int is_signed, const int narrow,
                                        const int ties_clamped) {
    const int channels = w->channels, taps = w->filter_height * w->filter_width;
    const int pairs = channels == 32;
    if (!ck_gemm_q_uses_vnni() || w->filter_height != 3 || w->filter_width != 3 || w->dilation_height != 1
        || w->dilation_width != 1 || w->stride_width > 2 || (pairs && w->stride_width != 1))
        return 0;
    if (!filter[vnni_start(taps, channels)] || !vnni_requant_supported(rq, channels)) return 0;
    // Interior output columns: the window's three input columns inside the image.
    int ox_begin, ox_end, interior_rows = 0;
    interior_columns(w, &ox_begin, &ox_end);
    for (int oy = row_begin; oy < row_end; oy++) {
        const int iy = oy * w->stride_height - w->pad_top;
        interior_rows += iy >= 0 && iy + 2 < w->input_height;
    }
    // Preparing a block's constants costs about as much as a dozen pixels.
    if ((ox_end - ox_begin) * interior_rows < VNNI_MIN_PIXELS) return 0;
    // Border pixels too (not with 32-channel pairs), when the input zero point is a byte of the type.
    const int32_t zero_point = -rq->input_offset;
    *all_pixels = !pairs && (is_signed ? zero_point >= INT8_MIN && zero_point <= INT8_MAX : zero_point >= 0 && zero_point <= UINT8_MAX);
    const __m512i pad = _mm512_set1_epi8((char)zero_point);
    const size_t input_row = (size_t)w->input_width * channels;
    const int32_t *block_data = filter + vnni_start(taps, channels) + 1;
    const int blocks = vnni_blocks(channels);
    const int tail_interior = vnni_tail_channels(channels) && __builtin_cpu_supports("avx512vbmi");
    if (tail_interior)
        vnni_tail_interior(input, w, block_data + (size_t)blocks * VNNI_BLOCK_INTS, rq, output, row_begin, row_end, narrow,
                           ties_clamped);
    for (int block = 0; block < blocks; block++, block_data += VNNI_BLOCK_INTS) {
        vnni_requant c;
        vnni_requant_prepare(rq, block, channels, narrow, &c);
        c.narrow = narrow;  // constants again for the inlined row loops (c went through a call)
        c.ties_clamped = ties_clamped;
        // A copy whose address never escapes: `c`'s went to the preparing call, so every byte store to the
        // output could have changed it, and the row loops reloaded its flags and constants after each one
        // (branches on narrow/ties_clamped per vector, twice the loads; depthwise_q_bench: 0.77x the time).
        const vnni_requant rc = c;
        // A partial last block: its channels' bytes only.
        const int partial = !pairs && 64 * (block + 1) > channels;
        const __mmask64 lanes = partial ? ((1ull << (channels - 64 * block)) - 1) : ~0ull;
        for (int oy = row_begin; oy < row_end; oy++) {
            const int iy = oy * w->stride_height - w->pad_top;
            const int row_inside = iy >= 0 && iy + 2 < w->input_height;
            if (*all_pixels)
                for (int ox = 0; ox < w->output_width; ox++) {
                    if (row_inside && ox == ox_begin) ox = ox_end;
                    if (ox >= w->output_width) break;
                    vnni_border_pixel(input, w, oy, ox, block, block_data, &rc, rq, output, pad, is_signed, partial,
                                      lanes);
                }
            if (!row_inside || ox_end <= ox_begin) continue;
            const int ix = ox_begin * w->stride_width - w->pad_left, count = ox_end - ox_begin;
            const uint8_t *in = (const uint8_t *)input + ((size_t)iy * w->input_width + ix) * channels + 64 * block;
            uint8_t *out = (uint8_t *)output + ((size_t)oy * w->output_width + ox_begin) * channels + 64 * block;
            if (pairs) {
                vnni_row(in, input_row, 64, 32, count / 2, block_data, &rc, rq, out, 64, 1, is_signed, 0, 0);
                if (count % 2) {  // the last pixel alone: its neighbour's bytes may lie past the input
                    const uint8_t *last = in + (size_t)(count - 1) * 32;
                    const __mmask64 low = 0xFFFFFFFFull;
                    __m512i q0[4], q1[4], q2[4];
                    vnni_column(last, input_row, q0, is_signed, 1, low);
                    vnni_column(last + 32, input_row, q1, is_signed, 1, low);
                    vnni_column(last + 64, input_row, q2, is_signed, 1, low);
                    vnni_output(q0, q1, q2, block_data, &rc, rq, out + (size_t)(count - 1) * 32, is_signed, 1, low);
                }
            } else if (partial && tail_interior) {
                continue;  // vnni_tail_interior below
            } else if (partial) {  // constant mask flags, so each call inlines its own loop
                if (w->stride_width == 1)
                    vnni_row(in, input_row, channels, channels, count, block_data, &rc, rq, out, channels, 2, is_signed,
                             1, lanes);
                else
                    vnni_row(in, input_row, 2 * (size_t)channels, channels, count, block_data, &rc, rq, out, channels, 1,
                             is_signed, 1, lanes);
            } else if (w->stride_width == 1) {
                vnni_row(in, input_row, channels, channels, count, block_data, &rc, rq, out, channels, 2, is_signed, 0, 0);
            } else {
                vnni_row(in, input_row, 2 * (size_t)channels, channels, count, block_data, &rc, rq, out, channels, 1,
                         is_signed, 0, 0);
            }
        }
    }
    return pairs ? 32 : 64 * blocks < channels ? 64 * blocks : channels;
}

__attribute__((target(CK_AVX512_VNNI_Q)))
static int depthwise_q_vnni(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq,
                            void *output, int row_begin, int row_end, int *all_pixels) {
    *all_pixels = 0;
    // Each combination inlines its own row loops.
    const int narrow = filter[narrow_flag(w->filter_height * w->filter_width, w->channels)];
    const int clamped = narrow && narrow_ties_clamped(rq);
    if (rq->is_signed)
        return clamped ? depthwise_q_vnni_rows(input, w, filter, rq, output, row_begin, row_end, all_pixels, 1, 1, 1)
             : narrow  ? depthwise_q_vnni_rows(input, w, filter, rq, output, row_begin, row_end, all_pixels, 1, 1, 0)
                       : depthwise_q_vnni_rows(input, w, filter, rq, output, row_begin, row_end, all_pixels, 1, 0, 0);
    return clamped ? depthwise_q_vnni_rows(input, w, filter, rq, output, row_begin, row_end, all_pixels, 0, 1, 1)
         : narrow  ? depthwise_q_vnni_rows(input, w, filter, rq, output, row_begin, row_end, all_pixels, 0, 1, 0)
                   : depthwise_q_vnni_rows(input, w, filter, rq, output, row_begin, row_end, all_pixels, 0, 0, 0);
}

__attribute__((target(CK_AVX512_Q)))
static void depthwise_q_avx512(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq,
                               void *output, int row_begin, int row_end, pixel_taps *row_taps, size_t *tap_offset) {
    // Interior pixels of the channels the VNNI path covers first, then everything else.
    int all_pixels = 0;
    int vnni_channels = ck_has_avx512_vnni() ? depthwise_q_vnni(input, w, filter, rq, output, row_begin, row_end, &all_pixels) : 0;
    // The row loops read copies whose addresses never escape: as far as the compiler knows, each byte store
    // of an output could change *w or *rq, whose fields it then reloads (depthwise_q_bench: v1 0.95x).
    const ck_window window = *w;
    const ck_requant requant = *rq;
    if (rq->is_signed)
        depthwise_q_avx512_rows(input, &window, filter, &requant, output, row_begin, row_end, vnni_channels, all_pixels,
                                row_taps, tap_offset, 1);
    else
        depthwise_q_avx512_rows(input, &window, filter, &requant, output, row_begin, row_end, vnni_channels, all_pixels,
                                row_taps, tap_offset, 0);
}

// AVX2: 8 channels per 32-bit vector. Interior pixels take 16 channels at a time with vpmaddwd on int16
// tap pairs, the AVX-512 path's pairs read half a 32-channel block at a time (256-bit unpacks interleave
// within 128-bit lanes as the 512-bit ones do, so the lanes of half h of a block are lanes 8h...8h + 7
// of each of its two pair vectors); border pixels and leftover channels go tap by tap in int32.

/// One block of <= 8 channels of one output pixel, tap by tap; `offset` is the input offset for border
/// pixels, 0 for interior ones (their share is in the starting accumulators).
__attribute__((target("avx2"), always_inline))
static inline void pixel8_avx2(const pixel_taps *t, const int32_t *start, dw_steps s, int c, int count, __m256i offset,
                               const requant8_channels *channels, const narrow8_channels *narrow_constants,
                               const int narrow, const ck_requant *rq, void *out, const int is_signed) {
    __m256i acc = _mm256_loadu_si256((const __m256i *)(start + c));
    for (int fy = 0; fy < t->rows; fy++) {
        const uint8_t *row = t->first_row + fy * s.input_row + c;
        const int32_t *taps = t->first_tap + fy * s.filter_row + c;
        for (int fx = 0; fx < t->columns; fx++) {
            uint64_t eight = 0;  // a partial last block must not read past the input
            memcpy(&eight, row + fx * s.input_column, (size_t)count);
            __m128i bytes = _mm_cvtsi64_si128((long long)eight);
            __m256i x = is_signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
            __m256i f = _mm256_loadu_si256((const __m256i *)(taps + fx * s.stride));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_add_epi32(x, offset), f));
        }
    }
    if (narrow) {
        const __m256i v = narrow8(acc, narrow_constants, 0);  // these row loops are not specialized on ties_clamped
        store16_narrow(v, v, rq, out, c, count);
    } else {
        requantize_store8(acc, channels, rq, out, c, count);
    }
}

__attribute__((target("avx2"), always_inline))
static inline __m256i widen16(const uint8_t *p, const int is_signed) {
    __m128i bytes = _mm_loadu_si128((const __m128i *)p);
    return is_signed ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
}

/// 16 channels [c, c + 16) of one interior pixel: two taps per vpmaddwd, exact as in interior32_avx512.
/// `taps` is a constant in the 3x3 call, so the loop unrolls.
__attribute__((target("avx2"), always_inline))
static inline void interior16_avx2(const uint8_t *first, const size_t *tap_offset, const int taps,
                                   const __m256i *low_pairs, const __m256i *high_pairs, const int32_t *start, int c,
                                   const requant8_channels *low, const requant8_channels *high,
                                   const narrow8_channels *narrow_low, const narrow8_channels *narrow_high,
                                   const int narrow, const ck_requant *rq, void *out, const int is_signed) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (int p = 0; p < (taps + 1) / 2; p++) {
        __m256i a = widen16(first + tap_offset[2 * p], is_signed);
        __m256i b = 2 * p + 1 < taps ? widen16(first + tap_offset[2 * p + 1], is_signed) : _mm256_setzero_si256();
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), low_pairs[p]));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), high_pairs[p]));
    }
    // lo holds channels 0-3 and 8-11, hi 4-7 and 12-15: back to channel order, plus the starting sums.
    __m256i acc0 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_loadu_si256((const __m256i *)(start + c)));
    __m256i acc1 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x31), _mm256_loadu_si256((const __m256i *)(start + c + 8)));
    if (narrow) {
        store16_narrow(narrow8(acc0, narrow_low, 0), narrow8(acc1, narrow_high, 0), rq, out, c, 16);
    } else {
        requantize_store8(acc0, low, rq, out, c, 8);
        requantize_store8(acc1, high, rq, out, c + 8, 8);
    }
}

/// Channel blocks outside, the pixels of an output row inside, so each block's requantization constants
/// and filter pairs are set up once per row.
__attribute__((target("avx2"), always_inline))
static inline void depthwise_q_avx2_rows(const void *input, const ck_window *w, const int32_t *filter,
                                         const ck_requant *rq, void *output, int row_begin, int row_end,
                                         pixel_taps *row_taps, size_t *tap_offset, const int is_signed) {
    const dw_steps s = steps_for(w);
    const int taps = w->filter_height * w->filter_width;
    const int three = w->filter_height == 3 && w->filter_width == 3;
    const int use_pairs = filter[pairs_start(taps, s.channels) + pairs_size(taps, s.channels)] && taps <= MAX_PAIR_TAPS;
    const int narrow = filter[narrow_flag(taps, s.channels)];
    const __m256i input_offset = _mm256_set1_epi32(rq->input_offset), zero = _mm256_setzero_si256();
    interior_tap_offsets(w, s, tap_offset);
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < w->output_width; ox++) row_taps[ox] = taps_for(input, w, filter, oy, ox);
        char *out_row = (char *)output + (size_t)oy * w->output_width * s.channels;
        int c = 0;
        if (use_pairs)
            for (; c + 16 <= s.channels; c += 16) {
                const int32_t *pairs = filter + pairs_start(taps, s.channels) + (size_t)(c / 32) * pair_count(taps) * 32
                    + 8 * ((c / 16) % 2);
                __m256i low_pairs[(MAX_PAIR_TAPS + 1) / 2], high_pairs[(MAX_PAIR_TAPS + 1) / 2];  // constant sizes (-O0)
                for (int p = 0; p < pair_count(taps); p++) {
                    low_pairs[p] = _mm256_loadu_si256((const __m256i *)(pairs + 32 * p));
                    high_pairs[p] = _mm256_loadu_si256((const __m256i *)(pairs + 32 * p + 16));
                }
                const requant8_channels low = requant8_prepare(rq, c), high = requant8_prepare(rq, c + 8);
                const narrow8_channels narrow_low = narrow8_prepare(rq, c), narrow_high = narrow8_prepare(rq, c + 8);
                for (int ox = 0; ox < w->output_width; ox++) {
                    const pixel_taps *t = &row_taps[ox];
                    const int32_t *start = start_row(w, filter, t);
                    void *out = out_row + (size_t)ox * s.channels;
                    if (!is_interior(w, t)) {
                        pixel8_avx2(t, start, s, c, 8, input_offset, &low, &narrow_low, narrow, rq, out, is_signed);
                        pixel8_avx2(t, start, s, c + 8, 8, input_offset, &high, &narrow_high, narrow, rq, out, is_signed);
                    } else if (three) {
                        interior16_avx2(t->first_row + c, tap_offset, 9, low_pairs, high_pairs, start, c, &low, &high,
                                        &narrow_low, &narrow_high, narrow, rq, out, is_signed);
                    } else {
                        interior16_avx2(t->first_row + c, tap_offset, taps, low_pairs, high_pairs, start, c, &low,
                                        &high, &narrow_low, &narrow_high, narrow, rq, out, is_signed);
                    }
                }
            }
        for (; c < s.channels; c += 8) {
            const int count = s.channels - c < 8 ? s.channels - c : 8;
            const requant8_channels channels = requant8_prepare(rq, c);
            const narrow8_channels narrow_channels = narrow8_prepare(rq, c);
            for (int ox = 0; ox < w->output_width; ox++) {
                const pixel_taps *t = &row_taps[ox];
                pixel8_avx2(t, start_row(w, filter, t), s, c, count, is_interior(w, t) ? zero : input_offset,
                            &channels, &narrow_channels, narrow, rq, out_row + (size_t)ox * s.channels, is_signed);
            }
        }
    }
}

__attribute__((target("avx2")))
static void depthwise_q_avx2(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq,
                             void *output, int row_begin, int row_end, pixel_taps *row_taps, size_t *tap_offset) {
    const ck_window window = *w;  // copies that no byte store can change (depthwise_q_avx512)
    const ck_requant requant = *rq;
    if (rq->is_signed)
        depthwise_q_avx2_rows(input, &window, filter, &requant, output, row_begin, row_end, row_taps, tap_offset, 1);
    else
        depthwise_q_avx2_rows(input, &window, filter, &requant, output, row_begin, row_end, row_taps, tap_offset, 0);
}
#endif

void ck_depthwise_q(const void *input, const ck_window *w, const int32_t *filter, const ck_requant *rq, void *output,
                    int row_begin, int row_end) {
#if defined(__x86_64__)
    if (ck_active_isa() >= CK_ISA_AVX2_FMA) {
        // The per-row scratch is allocated here, outside the vector code: clang at -O0 passes 64-byte
        // vector arguments on a stack that a variable-length array has left misaligned (a debug build
        // crashed on the aligned store).
        pixel_taps row_taps[w->output_width];
        size_t tap_offset[w->filter_height * w->filter_width];
        if (ck_has_avx512_q()) depthwise_q_avx512(input, w, filter, rq, output, row_begin, row_end, row_taps, tap_offset);
        else depthwise_q_avx2(input, w, filter, rq, output, row_begin, row_end, row_taps, tap_offset);
        return;
    }
#endif
    depthwise_q_portable(input, w, filter, rq, output, row_begin, row_end);
}
